#!/usr/bin/env bash
# Everything that needs a GPU, in one call (< 8 min on one GPU): the @pytest.mark.gpu tests, then the
# GPU benchmarks. Record the printed numbers in the method READMEs.
#   bash benchmarks/gpu_suite.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export RAY_AUTH_MODE=disabled RAY_USAGE_STATS_ENABLED=0
python -c "import torch; assert torch.cuda.is_available(), 'no CUDA device'; print(torch.cuda.get_device_name(0))"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
python -m pytest -q -m gpu --durations=10 -p no:cacheprovider
# s2o: training images/s, AT vs AT+S2O (< 5 % overhead), TRADES vs TRADES+S2O, AT+SAM (PreActResNet-18)
python benchmarks/s2o_throughput.py --arch preact_resnet18 --device cuda --n-train 5120 --epochs 2 --threads 4
# mri_gs: brick renderer forward+backward per step (64^3, 128^3) vs the dense reference and vs SIREN at
# equal PSNR; memory per Gaussian
python benchmarks/mri_render.py --device cuda --sizes 64 128 --full-brain
# abaw: training / inference frames/s at the default width and at the affwild2 width (256)
python benchmarks/abaw_throughput.py --device cuda --width 32
python benchmarks/abaw_throughput.py --device cuda --width 256

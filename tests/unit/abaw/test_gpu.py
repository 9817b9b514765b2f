"""The ABAW model and loop on CUDA: the same code as on CPU (skipped without CUDA)."""

import pytest
import torch

from raylab.data_parallel import run_local
from raylab.methods.abaw.config import ModelConfig
from raylab.methods.abaw.model import AVTransformer, focal_loss
from raylab.methods.abaw.train import make_windows, train_loop

from .test_train import CFG, data  # noqa: F401 - the module fixture

pytestmark = pytest.mark.gpu


def test_forward_and_gradients_on_cuda_equal_cpu_under_missing_modalities():
    torch.manual_seed(0)
    model = AVTransformer(6, 5, ModelConfig(width=16, heads=4, window=12, dropout=0.0)).double()
    visual, audio = torch.randn(2, 12, 6, dtype=torch.float64), torch.randn(2, 12, 5, dtype=torch.float64)
    vis_valid = torch.ones(2, 12, dtype=torch.bool)
    vis_valid[0] = False  # one window without any face
    aud_valid = torch.rand(2, 12) > 0.3
    labels = torch.randint(-1, 8, (2, 12))
    results = []
    for device in ("cpu", "cuda"):
        model.to(device).zero_grad()
        inputs = [t.to(device) for t in (visual, vis_valid, audio, aud_valid)]
        logits = model(*inputs)
        focal_loss(logits, labels.to(device), 2.0).backward()
        results.append([logits.cpu()] + [p.grad.cpu() for p in model.parameters() if p.grad is not None])
    for cpu, cuda in zip(*results):
        torch.testing.assert_close(cuda, cpu, atol=1e-9, rtol=1e-7)


def test_the_training_loop_runs_on_cuda(data):  # noqa: F811
    train, _ = data
    state = run_local(
        train_loop,
        {"cfg": CFG, "seed": 0, "windows": make_windows(train, 32)},
        workers=1,
        device=torch.device("cuda"),
    )
    assert state["epoch"] == CFG.train.epochs
    assert all(torch.isfinite(v).all() for v in state["model"].values() if v.is_floating_point())

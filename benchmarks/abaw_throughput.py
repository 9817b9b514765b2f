"""ABAW training and inference frames/s, against the named baselines in the same run.

    python benchmarks/abaw_throughput.py [--device cpu|cuda] [--width 32] [--ray]

1. In-process, one worker (the baseline): training frames/s (labelled frames per second of an epoch,
   after a warm-up epoch) and inference frames/s (overlapping windows, every frame) on the synthetic
   set (30 train / 12 validation videos), at the given model width.
2. With --ray: the same training through Ray Train with 1 and with 2 data-parallel CPU workers on a
   local 2-CPU Ray (abaw/pipeline, 4 epochs): wall seconds including Ray Train's start-up, and the
   workers' frames/s.
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
import time
from pathlib import Path

from raylab.context import limit_threads
from raylab.data_parallel import run_local
from raylab.devices import pick_device
from raylab.methods.abaw import layout, synthetic
from raylab.methods.abaw.config import AbawConfig
from raylab.methods.abaw.train import build_model, make_windows, predict, train_loop


def in_process(cfg: AbawConfig, device) -> None:
    with tempfile.TemporaryDirectory() as folder:
        synthetic.generate(Path(folder), 0, cfg.data.synthetic, cfg.data.fps, cfg.data.audio_hz)
        train = layout.load_split(Path(folder), "train", cfg.data.fps, cfg.data.audio_hz)
        val = layout.load_split(Path(folder), "val", cfg.data.fps, cfg.data.audio_hz)
    job = {
        "cfg": dataclasses.replace(cfg, train=dataclasses.replace(cfg.train, epochs=3)),
        "seed": 0,
        "windows": make_windows(train, cfg.model.window),
    }
    state = run_local(train_loop, job, workers=1, device=device)
    rates = [row["time/frames_per_s"] for row in state["history"][1:]]
    model = build_model(cfg, val[0].visual.shape[1], val[0].audio.shape[1], 0).to(device)
    model.load_state_dict(state["model"])
    predict(model, val[:2], cfg.model.window, device)  # warm-up
    started = time.perf_counter()
    predict(model, val, cfg.model.window, device)
    inference = sum(v.frames for v in val) / (time.perf_counter() - started)
    print(
        f"width {cfg.model.width}, {device}: training {sum(rates) / len(rates):,.0f} frames/s, "
        f"inference {inference:,.0f} frames/s (one worker, in process)"
    )


def through_ray_train(width: int) -> None:
    from raylab.registry import get_spec
    from raylab.runner import load_run_config, run_experiment
    from raylab.runtime.cluster import ray_session
    from raylab.runtime.parallel import RayMapper

    spec = get_spec("abaw/pipeline")
    with ray_session(None), tempfile.TemporaryDirectory() as folder:
        for workers in (1, 2):
            cfg = load_run_config(
                spec, overrides=[f"train.workers={workers}", "train.epochs=4", f"model.width={width}"]
            )
            started = time.perf_counter()
            record = run_experiment(
                spec,
                cfg,
                Path(folder) / str(workers),
                mapper=RayMapper(num_cpus=1, num_gpus=0, progress=False),
            )
            wall = time.perf_counter() - started
            print(
                f"Ray Train, {workers} CPU worker(s): {wall:.1f} s wall for 4 epochs + validation, "
                f"{record.metrics['time/frames_per_s']:,.0f} training frames/s, "
                f"val F1 {record.metrics['val/f1']:.3f}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--width", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1, help="torch threads in process")
    parser.add_argument("--ray", action="store_true", help="also 1 vs 2 Ray Train workers")
    args = parser.parse_args()
    cfg = AbawConfig()
    cfg = dataclasses.replace(cfg, model=dataclasses.replace(cfg.model, width=args.width))
    with limit_threads(args.threads):
        in_process(cfg, pick_device(args.device))
    if args.ray:
        through_ray_train(args.width)


if __name__ == "__main__":
    main()

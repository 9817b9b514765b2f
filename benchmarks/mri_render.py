"""mri_gs renderer speed: forward+backward seconds per Adam step of the brick rasterizer on cubic grids
(x2 along z: one Gaussian per low-res voxel), against the dense reference (every Gaussian x every voxel,
timed on a sub-block and scaled) and the SIREN baseline's step; bytes per Gaussian; and the time each
method needs on the 32 x 32 x 64 MNI152 crop to reach the SIREN's final PSNR; with --full-brain, one
step on the whole 1 mm brain at x4 (peak memory against the 16 GiB target).

    python benchmarks/mri_render.py [--device cpu|cuda] [--sizes 32 64] [--threads 2]
"""

from __future__ import annotations

import argparse
import resource
import time

import torch

from raylab.context import default_data_roots
from raylab.methods.mri_gs import baselines
from raylab.methods.mri_gs.config import MriConfig
from raylab.methods.mri_gs.experiment import prepare, super_resolve
from raylab.methods.mri_gs.fit import Problem, initial_gaussians, predict_slices
from raylab.methods.mri_gs.gaussians import init_from_lowres
from raylab.methods.mri_gs.render import Grid, brick_splat, dense_splat, normalized


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def timed(fn, device, repeats=3) -> float:
    fn()
    sync(device)
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    sync(device)
    return (time.perf_counter() - start) / repeats


def renderer_row(size: int, device: torch.device, brick: int) -> dict:
    lowres = torch.rand(size, size, size // 2, device=device)
    g = init_from_lowres(lowres, 2)
    grid, ones = Grid((size, size, size)), torch.ones(g.count, device=device)

    def brick_step():
        g.means.grad = None
        normalized(
            *brick_splat(g.means, g.whitening(), g.tissue[:, 0], ones, grid, brick), 1e-8
        ).sum().backward()

    block = Grid((8, 8, 8), (size / 2, size / 2, size / 2))

    def dense_block():
        with torch.no_grad():
            dense_splat(g.means, g.whitening(), g.tissue[:, 0], ones, block)

    matrix = torch.eye(size, device=device)[::2]
    net = baselines.Siren(64).to(device)
    axes = [torch.linspace(-1, 1, size, device=device)] * 3
    coords = torch.stack(torch.meshgrid(*axes, indexing="ij"), -1).reshape(-1, 3)

    def inr_step():
        net.zero_grad()
        (net(coords).reshape(size, size, size) @ matrix.T).square().mean().backward()

    return {
        "grid": f"{size}^3",
        "gaussians": g.count,
        "brick_s": timed(brick_step, device),
        "dense_forward_s(est)": timed(dense_block, device, 1) * size**3 / 512,
        "siren_s": timed(inr_step, device),
        "bytes_per_gaussian": 4 * g.floats_per_gaussian * 3,  # value + Adam's two moments
    }


def full_brain_step(device: torch.device, brick: int, factor: int = 4) -> None:
    """One forward+backward step on the whole 1 mm MNI152 brain at x`factor`: peak memory and time."""
    cfg = MriConfig(input="mni152", scale=factor, device=device.type)
    cfg.render.brick = brick
    case = prepare(cfg, cfg.input, device, default_data_roots())
    problem = Problem(case.lowres, factor)
    g = initial_gaussians(problem, cfg)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    predicted, _ = predict_slices(g, problem, cfg, problem.matrix(cfg.profile))
    torch.mean((predicted - problem.lowres) ** 2).backward()
    sync(device)
    seconds = time.perf_counter() - start
    peak = (
        torch.cuda.max_memory_allocated() / 2**30
        if device.type == "cuda"
        else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    )
    print(
        f"full brain {tuple(case.truth.shape)} x{factor}: {g.count} Gaussians, one step {seconds:.1f} s, "
        f"peak {'GPU' if device.type == 'cuda' else 'process'} memory {peak:.2f} GiB (target: 16 GiB)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--sizes", type=int, nargs="*", default=[32, 64])
    parser.add_argument("--brick", type=int, default=0, help="0: 4 on CPU, 8 on CUDA")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--full-brain", action="store_true", help="also one step on the whole brain at x4")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    brick = args.brick or (8 if device.type == "cuda" else 4)
    print(f"device {device}, brick {brick}, {args.threads} CPU threads")
    for size in args.sizes:
        row = renderer_row(size, device, brick)
        print("  ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()))
    if args.full_brain:
        full_brain_step(device, brick)
    cfg = MriConfig(
        input="mni152", scale=2, crop_centre=[98, 112, 102], crop_size=[32, 32, 64], device=args.device
    )
    cfg.render.brick, cfg.baselines.inr_iterations = brick, 1000
    metrics, _, _ = super_resolve(prepare(cfg, cfg.input, device, default_data_roots()), cfg)
    reach = metrics.get("time/gs_to_inr_psnr_s", float("nan"))
    print(f"MNI152 32x32x64 x2: ours {metrics['psnr/ours']:.2f} dB in {metrics['time/fit_s']:.1f} s")
    print(f"  SIREN {metrics['inr/final_psnr']:.2f} dB after {metrics['time/inr_s']:.1f} s (1000 steps)")
    print(
        f"  ours reached the SIREN's PSNR after {reach:.2f} s; cubic B-spline {metrics['psnr/cubic']:.2f} dB"
    )


if __name__ == "__main__":
    main()

"""Windows, the data-parallel training loop (focal loss + modality dropout), and inference with
overlapping windows. The loop follows `raylab.data_parallel`: the same code runs in this process or
on Ray Train workers, and every random draw comes from a stream named by (seed, epoch, ...), so a
resumed run, and 1 vs N workers, see the same batches and the same dropout masks.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import numpy as np
import torch

from raylab.data_parallel import shard
from raylab.methods.abaw import layout, metrics
from raylab.methods.abaw.config import AbawConfig
from raylab.methods.abaw.layout import NUM_CLASSES, Video
from raylab.methods.abaw.model import AVTransformer, class_weights, focal_loss, modality_dropout
from raylab.seeding import derive_seed


@dataclasses.dataclass
class Windows:
    """Fixed-length windows over videos (stride = half a window), padded frames invalid and label -1."""

    visual: np.ndarray  # (N, T, Dv)
    vis_valid: np.ndarray  # (N, T)
    audio: np.ndarray  # (N, T, Da)
    aud_valid: np.ndarray  # (N, T)
    labels: np.ndarray  # (N, T)
    video: np.ndarray  # (N,) index of the video each window comes from
    start: np.ndarray  # (N,) first frame of each window


def make_windows(videos: list[Video], length: int) -> Windows:
    stride = max(1, length // 2)
    parts: dict[str, list[Any]] = {
        key: [] for key in ("visual", "vis_valid", "audio", "aud_valid", "labels", "video", "start")
    }
    for index, video in enumerate(videos):
        starts = list(range(0, max(1, video.frames - length + stride), stride))
        for start in starts:
            stop = min(start + length, video.frames)
            pad = length - (stop - start)
            for key, fill in (
                ("visual", 0.0),
                ("vis_valid", False),
                ("audio", 0.0),
                ("aud_valid", False),
                ("labels", -1),
            ):
                array = getattr(video, key)[start:stop]
                widths = ((0, pad),) + ((0, 0),) * (array.ndim - 1)
                parts[key].append(np.pad(array, widths, constant_values=fill))
            parts["video"].append(index)
            parts["start"].append(start)
    return Windows(
        **{
            key: np.stack(value) if key not in ("video", "start") else np.array(value)
            for key, value in parts.items()
        }
    )


def build_model(cfg: AbawConfig, visual_dim: int, audio_dim: int, seed: int) -> AVTransformer:
    torch.manual_seed(derive_seed(seed, "abaw", "init"))
    return AVTransformer(visual_dim, audio_dim, cfg.model)


def _batch(windows: Windows, rows, keep_visual: np.ndarray, keep_audio: np.ndarray, device) -> tuple:
    """Tensors of windows `rows`; the keep masks (N, T) remove frames (modality dropout)."""

    def tensor(array, dtype=torch.float32):
        return torch.as_tensor(array, dtype=dtype, device=device)

    vis_valid = tensor(windows.vis_valid[rows] & keep_visual[rows], torch.bool)
    aud_valid = tensor(windows.aud_valid[rows] & keep_audio[rows], torch.bool)
    visual = tensor(windows.visual[rows]) * vis_valid[..., None]
    audio = tensor(windows.audio[rows]) * aud_valid[..., None]
    return visual, vis_valid, audio, aud_valid, tensor(windows.labels[rows], torch.int64)


def train_epoch(
    model, optimizer, windows: Windows, cfg: AbawConfig, alpha, epoch: int, seed: int, session
) -> dict:
    """One pass over the windows in global batches of `batch_size`, each split across the workers; the
    loss is normalised by the batch's global labelled-frame count, so the DDP average over workers
    equals the one-worker gradient."""
    t, started = cfg.train, time.perf_counter()
    torch.manual_seed(derive_seed(seed, "abaw", "dropout-layers", epoch, session.rank))
    rng = np.random.default_rng(derive_seed(seed, "abaw", "epoch", epoch))
    order = rng.permutation(len(windows.labels))
    keep_visual, keep_audio = modality_dropout(
        rng, len(order), t.visual_dropout, t.audio_dropout, t.frame_mask, windows.labels.shape[1]
    )
    model.train()
    total, frames = 0.0, 0  # this worker's loss sum and labelled frames
    for step in range(len(order) // t.batch_size):
        rows = order[step * t.batch_size : (step + 1) * t.batch_size]
        labelled = max(int((windows.labels[rows] >= 0).sum()), 1)
        mine = shard(rows, session.rank, session.world_size)
        visual, vis_valid, audio, aud_valid, labels = _batch(
            windows, mine, keep_visual, keep_audio, session.device
        )
        loss = focal_loss(
            model(visual, vis_valid, audio, aud_valid),
            labels,
            t.focal_gamma,
            alpha,
            normaliser=labelled / session.world_size,
        )
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += loss.item() * labelled / session.world_size
        frames += int((labels >= 0).sum())
    total, frames = session.all_sum([total, frames])
    seconds = time.perf_counter() - started
    return {
        "train/loss": total / max(frames, 1),
        "train/epoch": epoch + 1,
        "time/epoch_s": seconds,
        "time/frames_per_s": frames / max(seconds, 1e-9),
    }


def job_data(job: dict) -> tuple[Windows, list[Video] | None]:
    """The training windows, and the validation videos when the job names the data folders. A job
    carries either `windows` (the ablation's in-process models) or `root` and `features`: then every
    worker reads the files itself (on a multi-node cluster, from storage every node mounts) instead
    of the driver shipping the whole training set through Ray."""
    if "windows" in job:
        return job["windows"], None
    cfg = job["cfg"]

    def load(split: str) -> list[Video]:
        return layout.load_split(job["root"], split, cfg.data.fps, cfg.data.audio_hz, job["features"])

    return make_windows(load("train"), cfg.model.window), load("val")


def validation_metrics(model, videos: list[Video], cfg: AbawConfig, device) -> dict:
    """Macro-F1, accuracy and flips of the raw and soft-voted labels (streamed each epoch, so that Tune
    can compare and stop trials on validation F1)."""
    probabilities = predict(unwrap(model), videos, cfg.model.window, device)
    truth = [v.labels for v in videos]
    raw = [p.argmax(axis=1) for p in probabilities]
    voted = [metrics.soft_vote(p, cfg.vote_window).argmax(axis=1) for p in probabilities]
    return metrics.summary(truth, raw, "val") | metrics.summary(truth, voted, "val_voted")


def train_loop(job: dict, session) -> None:
    """The training loop of one model (a `raylab.data_parallel` loop). `job`: cfg, seed, and windows
    or the data folders (`job_data`); with folders, rank 0 validates after every epoch."""
    cfg, seed = job["cfg"], job["seed"]
    windows, val = job_data(job)
    model = session.prepare_model(build_model(cfg, windows.visual.shape[2], windows.audio.shape[2], seed))
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.train.lr, weight_decay=cfg.train.weight_decay)
    weights = class_weights(windows.labels.ravel()) if cfg.train.focal_alpha == "inverse_frequency" else None
    alpha = None if weights is None else torch.as_tensor(weights, dtype=torch.float32, device=session.device)
    history, start = [], 0
    resumed = session.latest()
    if resumed is not None:
        unwrap(model).load_state_dict(resumed["model"])
        optimizer.load_state_dict(resumed["optimizer"])
        history, start = resumed["history"], resumed["epoch"]
    for epoch in range(start, cfg.train.epochs):
        epoch_metrics = train_epoch(model, optimizer, windows, cfg, alpha, epoch, seed, session)
        if val is not None and session.rank == 0:
            epoch_metrics |= validation_metrics(model, val, cfg, session.device)
        history.append(epoch_metrics)
        state = {
            "model": {k: v.detach().cpu() for k, v in unwrap(model).state_dict().items()},
            "optimizer": optimizer.state_dict(),
            "epoch": epoch + 1,
            "history": history,
        }
        session.report(epoch_metrics, state)


def unwrap(model):
    return getattr(model, "module", model)  # DistributedDataParallel keeps the model in .module


@torch.no_grad()
def predict(model, videos: list[Video], length: int, device, drop_visual: bool = False) -> list[np.ndarray]:
    """Frame probabilities (T, 8) per video: windows with 50 % overlap, averaged where they overlap.
    drop_visual: every face removed (the "visual stream removed at test time" condition)."""
    model.eval()
    windows = make_windows(videos, length)
    keep_visual, keep_audio = (
        np.full(windows.labels.shape, not drop_visual),
        np.ones(windows.labels.shape, bool),
    )
    sums = [np.zeros((v.frames, NUM_CLASSES)) for v in videos]
    counts = [np.zeros(v.frames) for v in videos]
    for rows in np.array_split(np.arange(len(windows.labels)), max(1, len(windows.labels) // 32)):
        visual, vis_valid, audio, aud_valid, _ = _batch(windows, rows, keep_visual, keep_audio, device)
        probabilities = model(visual, vis_valid, audio, aud_valid).softmax(dim=-1).cpu().numpy()
        for row, p in zip(rows, probabilities):
            video, start = windows.video[row], windows.start[row]
            stop = min(start + length, videos[video].frames)
            sums[video][start:stop] += p[: stop - start]
            counts[video][start:stop] += 1
    return [s / c[:, None] for s, c in zip(sums, counts)]

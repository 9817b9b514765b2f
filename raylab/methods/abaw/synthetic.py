"""A feature-level stand-in for Aff-Wild2, written in the challenge layout (layout.py).

Aff-Wild2 is licence-gated and the BEiT / WavLM weights cannot be fetched offline, so every test and
smoke run uses this generator. Labels follow a semi-Markov chain over a long-tailed class prior;
visual frames carry the class prototype, a per-video identity offset and noise; audio carries a weaker,
smoother copy. Every video draws from its own named seed stream, so a variant (impulsive corruptions
on) shows the same videos with only the corrupted frames changed.
"""

# DEVIATION: [R] the whole generator is our calibrated reconstruction, not the paper's data.

from __future__ import annotations

from pathlib import Path

import numpy as np

from raylab.methods.abaw import layout
from raylab.methods.abaw.config import SyntheticConfig
from raylab.seeding import derive_seed

# DEVIATION: [R] generator defaults shaped like Aff-Wild2's imbalance, not measured counts.
CLASS_PRIOR = np.array([0.30, 0.03, 0.02, 0.015, 0.16, 0.14, 0.05, 0.285])


def prototypes(seed: int, cfg: SyntheticConfig) -> tuple[np.ndarray, np.ndarray]:
    """One visual and one audio prototype per class, unit variance per dimension."""
    rng = np.random.default_rng(derive_seed(seed, "abaw-synthetic", "prototypes"))
    return (
        rng.standard_normal((layout.NUM_CLASSES, cfg.visual_dim)),
        rng.standard_normal((layout.NUM_CLASSES, cfg.audio_dim)),
    )


def segment_labels(rng: np.random.Generator, frames: int, cfg: SyntheticConfig) -> np.ndarray:
    """Semi-Markov labels: segments of Gamma(shape, scale) + min_segment frames, classes from the prior."""
    labels = np.empty(frames, dtype=np.int64)
    start = 0
    while start < frames:
        length = int(rng.gamma(cfg.segment_shape, cfg.segment_scale)) + cfg.min_segment
        labels[start : start + length] = rng.choice(layout.NUM_CLASSES, p=CLASS_PRIOR)
        start += length
    return labels


def runs(rng: np.random.Generator, frames: int, count: int, shortest: int, longest: int) -> np.ndarray:
    """A mask of `count` random runs of shortest..longest frames."""
    mask = np.zeros(frames, dtype=bool)
    for _ in range(count):
        length = int(rng.integers(shortest, longest + 1))
        start = int(rng.integers(0, max(1, frames - length)))
        mask[start : start + length] = True
    return mask


def box_smooth(x: np.ndarray, width: int) -> np.ndarray:
    """Centred moving average along time with edge replication."""
    padded = np.pad(x, ((width // 2, width - 1 - width // 2), (0, 0)), mode="edge")
    cumulative = np.cumsum(np.vstack([np.zeros((1, x.shape[1])), padded]), axis=0)
    return (cumulative[width:] - cumulative[:-width]) / width


def visual_frames(rng, truth, proto_v, cfg: SyntheticConfig) -> np.ndarray:
    """0.6 proto[y] + identity offset + noise; with impulsive_rate > 0 some frames show a wrong class."""
    shown = truth.copy()
    impulse_rng = np.random.default_rng(rng.integers(2**63))  # its own stream: other draws stay the same
    impulses = impulse_rng.random(len(truth)) < cfg.impulsive_rate
    wrong = impulse_rng.integers(1, layout.NUM_CLASSES, impulses.sum())
    shown[impulses] = (truth[impulses] + wrong) % layout.NUM_CLASSES
    identity = cfg.identity_std * rng.standard_normal(proto_v.shape[1])
    noise = rng.standard_normal((len(truth), proto_v.shape[1]))
    return cfg.visual_signal * proto_v[shown] + identity + noise


def audio_frames(rng, truth, proto_a, cfg: SyntheticConfig) -> np.ndarray:
    """(0.42 proto[y] + 0.6 offset + noise), box-smoothed over 9 frames, times 2."""
    offset = cfg.audio_identity * rng.standard_normal(proto_a.shape[1])
    noise = rng.standard_normal((len(truth), proto_a.shape[1]))
    return 2.0 * box_smooth(cfg.audio_signal * proto_a[truth] + offset + noise, cfg.audio_smooth)


def to_audio_rate(frame_audio: np.ndarray, fps: float, audio_hz: float) -> np.ndarray:
    """Frame-rate audio written at `audio_hz` rows/s (each row holds the frame its centre falls in)."""
    rows = int(len(frame_audio) / fps * audio_hz)
    frame_of_row = np.minimum(
        np.floor((np.arange(rows) + 0.5) / audio_hz * fps).astype(int), len(frame_audio) - 1
    )
    return frame_audio[frame_of_row]


def _video_names(split: str, count: int, pair_fraction: float, rng) -> list[list[str]]:
    """Names grouped by shared audio: a pair is [<name>_left, <name>_right], a single video [<name>]."""
    groups: list[list[str]] = []
    index = 0
    while sum(len(g) for g in groups) < count:
        base = f"{split}_{index:03d}"
        paired = count - sum(len(g) for g in groups) >= 2 and rng.random() < pair_fraction
        groups.append([f"{base}_left", f"{base}_right"] if paired else [base])
        index += 1
    return groups


def write_split(root: Path, split: str, seed: int, cfg: SyntheticConfig, fps: float, audio_hz: float) -> int:
    """Write one split's annotations and features; returns the number of frames written."""
    proto_v, proto_a = prototypes(seed, cfg)
    count = cfg.train_videos if split == "train" else cfg.val_videos
    names_rng = np.random.default_rng(derive_seed(seed, "abaw-synthetic", split, "names"))
    frames_written = 0
    features = Path(root) / "features"
    (features / "visual").mkdir(parents=True, exist_ok=True)
    (features / "audio").mkdir(parents=True, exist_ok=True)
    for group in _video_names(split, count, cfg.pair_fraction, names_rng):
        rng = np.random.default_rng(derive_seed(seed, "abaw-synthetic", split, group[0]))
        frames = int(rng.integers(cfg.min_frames, cfg.max_frames + 1))
        speaker = None
        for name in group:  # the first person of a pair is the one the shared audio track hears
            truth = segment_labels(rng, frames, cfg)
            speaker = truth if speaker is None else speaker
            visual = visual_frames(rng, truth, proto_v, cfg).astype(np.float32)
            missing_runs = cfg.face_missing_runs if split != "train" or cfg.face_missing_in_train else 0
            visual[runs(rng, frames, missing_runs, 10, 80)] = np.nan
            annotated = truth.copy()
            annotated[runs(rng, frames, int(rng.integers(0, 2)), 5, 40)] = layout.IGNORE
            layout.write_annotation(layout.annotation_dir(root, split) / f"{name}.txt", annotated)
            np.save(features / "visual" / f"{name}.npy", visual)
            frames_written += frames
        audio = audio_frames(rng, speaker, proto_a, cfg)
        np.save(
            features / "audio" / f"{layout.audio_name(group[0])}.npy",
            to_audio_rate(audio, fps, audio_hz).astype(np.float32),
        )
    return frames_written


def generate(
    root: Path,
    seed: int,
    cfg: SyntheticConfig,
    fps: float,
    audio_hz: float,
    splits: tuple[str, ...] = ("train", "val"),
) -> dict[str, int]:
    """Write the synthetic challenge folders under `root`; frames written per split."""
    return {split: write_split(Path(root), split, seed, cfg, fps, audio_hz) for split in splits}

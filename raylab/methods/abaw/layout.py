"""The ABAW Expression (EXPR) track's files and the feature folders raylab reads beside them.

<root>/EXPR_Recognition_Challenge/{Train_Set,Validation_Set}/<video>.txt
    line 1: Neutral,Anger,Disgust,Fear,Happiness,Sadness,Surprise,Other
    line i+1: the label (0-7, or -1 = ignore) of frame i, matching cropped_aligned/<video>/%05d.jpg
<root>/cropped_aligned/<video>/%05d.jpg      (optional: where present, a missing jpg = no face)
<root>/features/visual/<video>.npy           per-frame visual features (T, D); NaN rows = no face
<root>/features/audio/<audio>.npy            audio features at `audio_hz` rows/s; <audio> is the
                                             video name without _left / _right (shared track)
submission: image_location,<classes>  then  <video>/00001.jpg,<label>  for every frame
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import numpy as np

from raylab import DataMissing

log = logging.getLogger("raylab")

CLASSES = ("Neutral", "Anger", "Disgust", "Fear", "Happiness", "Sadness", "Surprise", "Other")
NUM_CLASSES = len(CLASSES)
IGNORE = -1
HEADER = ",".join(CLASSES)
SUBMISSION_HEADER = "image_location," + HEADER
CHALLENGE = "EXPR_Recognition_Challenge"
SPLITS = {"train": "Train_Set", "val": "Validation_Set"}


class FormatError(ValueError):
    """A challenge file does not follow the EXPR format; the message names the file and line."""


@dataclasses.dataclass
class Video:
    """One annotated (or test) video on the frame grid: features, validity masks and labels."""

    name: str
    visual: np.ndarray  # (T, Dv) float32, zero where no face
    vis_valid: np.ndarray  # (T,) bool: a face was detected
    audio: np.ndarray  # (T, Da) float32, averaged to the frame rate, zero where missing
    aud_valid: np.ndarray  # (T,) bool
    labels: np.ndarray  # (T,) int64 in -1..7 (all -1 for a test video)

    @property
    def frames(self) -> int:
        return len(self.labels)


def audio_name(video: str) -> str:
    """Two-person videos `<name>_left` / `<name>_right` share the audio of `<name>`."""
    for suffix in ("_left", "_right"):
        if video.endswith(suffix):
            return video[: -len(suffix)]
    return video


def write_annotation(path: Path, labels: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEADER + "\n" + "".join(f"{int(y)}\n" for y in labels))


def read_annotation(path: Path) -> np.ndarray:
    """Labels of frames 1..T; a wrong header, a non-integer or an out-of-range label is a FormatError."""
    lines = Path(path).read_text().splitlines()
    if not lines or lines[0].strip() != HEADER:
        raise FormatError(f"{path}: line 1 must be exactly '{HEADER}'")
    labels = np.empty(len(lines) - 1, dtype=np.int64)
    for i, line in enumerate(lines[1:]):
        try:
            labels[i] = int(line.strip())
        except ValueError:
            raise FormatError(f"{path}: line {i + 2} is '{line}', not an integer label") from None
        if not IGNORE <= labels[i] < NUM_CLASSES:
            raise FormatError(f"{path}: line {i + 2} has label {labels[i]} (valid: -1 and 0-7)")
    return labels


def write_submission(path: Path, predictions: dict[str, np.ndarray]) -> None:
    """One row per frame of every video, frames numbered from 1 as the cropped_aligned jpgs are."""
    rows = [SUBMISSION_HEADER]
    for video, labels in predictions.items():
        rows += [f"{video}/{i + 1:05d}.jpg,{int(y)}" for i, y in enumerate(labels)]
    path.write_text("\n".join(rows) + "\n")


def read_submission(path: Path) -> dict[str, np.ndarray]:
    """The submission's labels per video, checked: exact header, labels 0-7, frames 1..T in order."""
    lines = Path(path).read_text().splitlines()
    if not lines or lines[0] != SUBMISSION_HEADER:
        raise FormatError(f"{path}: line 1 must be exactly '{SUBMISSION_HEADER}'")
    videos: dict[str, list[int]] = {}
    for number, line in enumerate(lines[1:], start=2):
        location, _, label = line.partition(",")
        video, _, frame = location.rpartition("/")
        labels = videos.setdefault(video, [])
        if frame != f"{len(labels) + 1:05d}.jpg" or not label.isdigit() or int(label) >= NUM_CLASSES:
            raise FormatError(
                f"{path}: line {number} '{line}' is not '<video>/{len(labels) + 1:05d}.jpg,<0-7>'"
            )
        labels.append(int(label))
    return {video: np.array(labels, dtype=np.int64) for video, labels in videos.items()}


def annotation_dir(root: Path, split: str) -> Path:
    return Path(root) / CHALLENGE / SPLITS[split]


def _fit_length(array: np.ndarray, frames: int, what: str) -> np.ndarray:
    """Features with more rows than annotated frames are cut, fewer are padded with NaN (= missing)."""
    if len(array) != frames:
        log.warning(
            "%s has %d rows for %d annotated frames: %s",
            what,
            len(array),
            frames,
            "cut" if len(array) > frames else "the rest marked missing",
        )
    out = np.full((frames, array.shape[1]), np.nan, dtype=np.float32)
    out[: min(frames, len(array))] = array[:frames]
    return out


def frame_rate_audio(audio: np.ndarray, frames: int, fps: float, audio_hz: float) -> np.ndarray:
    """Audio rows averaged over each video-frame interval [i/fps, (i+1)/fps) (NaN where none falls)."""
    times = (np.arange(len(audio)) + 0.5) / audio_hz
    frame_of_row = np.floor(times * fps).astype(np.int64)
    keep = (frame_of_row < frames) & np.isfinite(audio).all(axis=1)
    sums = np.zeros((frames, audio.shape[1]))
    np.add.at(sums, frame_of_row[keep], audio[keep])
    counts = np.bincount(frame_of_row[keep], minlength=frames)[:frames]
    with np.errstate(invalid="ignore", divide="ignore"):
        return (sums / counts[:, None]).astype(np.float32)


def _load_features(path: Path) -> np.ndarray:
    if not path.exists():
        raise DataMissing(f"feature file {path} is missing (expected one .npy per video: see layout.py)")
    array = np.load(path)
    if array.ndim != 2:
        raise FormatError(f"{path}: features must be a (frames, dim) array, not shape {array.shape}")
    return array.astype(np.float32)


def load_video(
    root: Path, name: str, labels: np.ndarray, fps: float, audio_hz: float, features: Path
) -> Video:
    frames = len(labels)
    visual = _fit_length(_load_features(features / "visual" / f"{name}.npy"), frames, f"visual {name}")
    vis_valid = np.isfinite(visual).all(axis=1)
    jpgs = Path(root) / "cropped_aligned" / name
    if jpgs.is_dir():
        vis_valid &= np.array([(jpgs / f"{i + 1:05d}.jpg").exists() for i in range(frames)])
    audio = frame_rate_audio(
        _load_features(features / "audio" / f"{audio_name(name)}.npy"), frames, fps, audio_hz
    )
    aud_valid = np.isfinite(audio).all(axis=1)
    visual[~vis_valid], audio[~aud_valid] = 0.0, 0.0
    return Video(name, visual, vis_valid, audio, aud_valid, labels)


def load_split(
    root: Path, split: str, fps: float, audio_hz: float, features: Path | None = None
) -> list[Video]:
    """Every annotated video of `split` (train | val), sorted by name; features from `features`
    (default <root>/features)."""
    features = Path(features) if features else Path(root) / "features"
    folder = annotation_dir(root, split)
    if not folder.is_dir():
        raise DataMissing(
            f"annotation folder {folder} is missing (Aff-Wild2 is licence-gated: "
            "point data.root at your copy, or use abaw/synthetic)"
        )
    paths = sorted(folder.glob("*.txt"))
    if not paths:
        raise DataMissing(f"annotation folder {folder} holds no <video>.txt files")
    return [load_video(root, p.stem, read_annotation(p), fps, audio_hz, features) for p in paths]


def load_test(
    root: Path, names_file: Path, fps: float, audio_hz: float, features: Path | None = None
) -> list[Video]:
    """Unannotated videos named in `names_file`; the frame count is the visual feature file's."""
    features, videos = Path(features) if features else Path(root) / "features", []
    for name in Path(names_file).read_text().split():
        rows = len(_load_features(features / "visual" / f"{name}.npy"))
        videos.append(load_video(root, name, np.full(rows, IGNORE, dtype=np.int64), fps, audio_hz, features))
    return videos

"""Per-frame features from backbone weights you hold locally (the paper's: BEiT-large on
the faces, WavLM-large on the audio). Nothing is fetched from a hub: a weights folder is a local
`save_pretrained` copy (config.json, the weights, the processor's config), loaded with
`local_files_only`; an absent folder is a DataMissing naming it.

Inputs, beside the layout of layout.py:
    <root>/cropped_aligned/<video>/%05d.jpg   faces (a missing jpg: no face in that frame)
    <root>/audio/<audio>.wav                  the soundtrack, any rate (resampled to the processor's),
                                              e.g. `ffmpeg -i <audio>.mp4 -ac 1 -ar 16000 audio/<audio>.wav`
Outputs, in the run folder (raylab writes nowhere else): <out>/features/visual/<video>.npy (NaN rows
where no face), <out>/features/audio/<audio>.npy (the backbone's frame rate, 50 Hz for WavLM: set
data.audio_hz to it). Existing files are kept, so running the same --out again extracts nothing.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

import numpy as np
import torch
from scipy.io import wavfile
from scipy.signal import resample_poly

from raylab import DataMissing, RaylabError
from raylab.methods.abaw import layout

log = logging.getLogger("raylab")


def _transformers():
    try:
        import transformers
    except ImportError:
        raise RaylabError(
            "feature extraction needs the transformers package: pip install -e '.[abaw]'"
        ) from None
    return transformers


def load_backbone(path: str, kind: str, device) -> tuple:
    """(model, processor) from a local weights folder; `kind` is "visual" or "audio"."""
    folder = Path(path).expanduser()
    if not (folder / "config.json").exists():
        raise DataMissing(
            f"{kind} backbone folder {folder} has no config.json: raylab never downloads weights; "
            "save a local copy there (e.g. save_pretrained of BEiT-large / WavLM-large)"
        )
    transformers = _transformers()
    model = transformers.AutoModel.from_pretrained(folder, local_files_only=True).to(device).eval()
    processor_cls = transformers.AutoImageProcessor if kind == "visual" else transformers.AutoFeatureExtractor
    return model, processor_cls.from_pretrained(folder, local_files_only=True)


@torch.no_grad()
def visual_features(model, processor, faces: Path, frames: int, device, batch: int = 64) -> np.ndarray:
    """(frames, D): the pooled output (mean of patch tokens for BEiT) per face; NaN where no jpg."""
    from PIL import Image

    present = [i for i in range(frames) if (faces / f"{i + 1:05d}.jpg").exists()]
    rows: dict[int, np.ndarray] = {}
    for start in range(0, len(present), batch):
        chunk = present[start : start + batch]
        images = [Image.open(faces / f"{i + 1:05d}.jpg").convert("RGB") for i in chunk]
        inputs = processor(images=images, return_tensors="pt").to(device)
        output = model(**inputs)
        pooled = getattr(output, "pooler_output", None)
        pooled = output.last_hidden_state.mean(dim=1) if pooled is None else pooled
        rows.update(zip(chunk, pooled.float().cpu().numpy()))
    width = next(iter(rows.values())).shape[0] if rows else 1
    features = np.full((frames, width), np.nan, dtype=np.float32)
    for i, row in rows.items():
        features[i] = row
    return features


def read_wav(path: Path, rate: int) -> np.ndarray:
    """Mono float samples at `rate` Hz."""
    source_rate, raw = wavfile.read(path)
    samples = raw.astype(np.float64)
    if np.issubdtype(raw.dtype, np.integer):
        samples /= np.iinfo(raw.dtype).max
    if samples.ndim == 2:
        samples = samples.mean(axis=1)
    if source_rate != rate:
        common = math.gcd(int(source_rate), int(rate))
        samples = resample_poly(samples, rate // common, source_rate // common)
    return samples.astype(np.float32)


@torch.no_grad()
def audio_features(model, processor, wav: Path, device, chunk_s: float = 30.0) -> np.ndarray:
    """(rows, D) at the backbone's frame rate: the mean of all hidden layers [R: a common practice is a
    learnt layer-weighted sum; the mean needs no training], in chunks of `chunk_s` seconds."""
    rate = processor.sampling_rate
    samples = read_wav(wav, rate)
    parts = []
    for start in range(0, len(samples), int(chunk_s * rate)):
        inputs = processor(
            samples[start : start + int(chunk_s * rate)], sampling_rate=rate, return_tensors="pt"
        )
        hidden = model(**inputs.to(device), output_hidden_states=True).hidden_states
        parts.append(torch.stack(hidden).mean(dim=0)[0].float().cpu().numpy())
    return np.concatenate(parts)


def frames_of(root: Path, video: str) -> int:
    """Frames of a video: its annotation's lines, else its highest jpg number."""
    for split in layout.SPLITS:
        path = layout.annotation_dir(root, split) / f"{video}.txt"
        if path.exists():
            return len(layout.read_annotation(path))
    return max(int(p.stem) for p in (Path(root) / "cropped_aligned" / video).glob("*.jpg"))


def extract_missing(
    root: Path, features: Path, videos: list[str], visual_weights: str, audio_weights: str, device
) -> int:
    """Write the feature files of `videos` that do not exist yet under `features`; returns how many."""
    root, features, written = Path(root), Path(features), 0
    if visual_weights:
        todo = [v for v in videos if not (features / "visual" / f"{v}.npy").exists()]
        if todo:
            model, processor = load_backbone(visual_weights, "visual", device)
            (features / "visual").mkdir(parents=True, exist_ok=True)
            for video in todo:
                faces = root / "cropped_aligned" / video
                if not faces.is_dir():
                    raise DataMissing(f"face folder {faces} is missing (cropped_aligned/<video>/%05d.jpg)")
                np.save(
                    features / "visual" / f"{video}.npy",
                    visual_features(model, processor, faces, frames_of(root, video), device),
                )
                written += 1
    if audio_weights:
        todo = sorted(
            {layout.audio_name(v) for v in videos} - {p.stem for p in (features / "audio").glob("*.npy")}
        )
        if todo:
            model, processor = load_backbone(audio_weights, "audio", device)
            (features / "audio").mkdir(parents=True, exist_ok=True)
            for name in todo:
                wav = root / "audio" / f"{name}.wav"
                if not wav.exists():
                    raise DataMissing(
                        f"soundtrack {wav} is missing (ffmpeg -i <video> -ac 1 -ar 16000 {wav})"
                    )
                np.save(features / "audio" / f"{name}.npy", audio_features(model, processor, wav, device))
                written += 1
    log.info("extracted %d feature files under %s", written, features)
    return written

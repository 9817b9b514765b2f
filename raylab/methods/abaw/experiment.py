"""`abaw/affwild2` and `abaw/pipeline`: train one audio-visual model data-parallel (Ray Train),
validate it, soft-vote, and write the challenge submission.

affwild2 reads the user's challenge folders (data.root); pipeline runs the identical code on the
synthetic set written in the same layout, so every step is exercised without the licence-gated data.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from raylab import DataMissing
from raylab.context import RunContext
from raylab.devices import pick_device
from raylab.methods.abaw import claims, extract, layout, metrics, plots, synthetic
from raylab.methods.abaw.config import AbawConfig
from raylab.methods.abaw.evaluate import score
from raylab.methods.abaw.train import build_model, train_loop
from raylab.records import ResultRecord

SYNTHETIC = "synthetic"


def data_root(cfg: AbawConfig, out_dir: Path) -> Path:
    """The challenge folder: the user's (checked), or a synthetic one written into the run folder."""
    if cfg.data.root == SYNTHETIC:
        root = out_dir / "data"
        synthetic.generate(root, cfg.seed, cfg.data.synthetic, cfg.data.fps, cfg.data.audio_hz)
        return root
    if not cfg.data.root:
        raise DataMissing(
            "abaw/affwild2 needs data.root: the folder holding "
            f"{layout.CHALLENGE}/ and features/ (see raylab/methods/abaw/layout.py); "
            "Aff-Wild2 is licence-gated, so raylab never downloads it"
        )
    root = Path(cfg.data.root).expanduser()
    if not root.is_dir():
        raise DataMissing(f"data.root {root} is not a folder")
    return root


def features_dir(cfg: AbawConfig, root: Path, out_dir: Path, device) -> Path:
    """Where this run reads features: <out>/features when it extracts them from local backbone
    weights (missing files only: the same --out again extracts nothing), else data.features or
    <root>/features."""
    if not (cfg.data.visual_weights or cfg.data.audio_weights):
        return Path(cfg.data.features).expanduser() if cfg.data.features else root / "features"
    videos = [p.stem for split in layout.SPLITS for p in layout.annotation_dir(root, split).glob("*.txt")]
    if cfg.data.test_list:
        videos += Path(cfg.data.test_list).read_text().split()
    features = out_dir / "features"
    extract.extract_missing(root, features, videos, cfg.data.visual_weights, cfg.data.audio_weights, device)
    return features


def load_model(cfg: AbawConfig, state: dict, videos: list[layout.Video], device):
    model = build_model(cfg, videos[0].visual.shape[1], videos[0].audio.shape[1], cfg.seed)
    model.load_state_dict(state["model"])
    return model.to(device)


def test_predictions(model, cfg: AbawConfig, root: Path, features: Path, device) -> dict[str, np.ndarray]:
    """Soft-voted labels of the unannotated videos named in data.test_list (none when unset)."""
    if not cfg.data.test_list:
        return {}
    videos = layout.load_test(root, Path(cfg.data.test_list), cfg.data.fps, cfg.data.audio_hz, features)
    _, _, voted = score(model, videos, cfg, device, prefix="test")
    return {video.name: labels for video, labels in zip(videos, voted)}


def run(cfg: AbawConfig, ctx: RunContext) -> ResultRecord:
    device = pick_device(cfg.device)
    root = data_root(cfg, ctx.out_dir)
    features = features_dir(cfg, root, ctx.out_dir, device)
    val = layout.load_split(root, "val", cfg.data.fps, cfg.data.audio_hz, features)
    ctx.expect_steps(cfg.train.epochs)
    job = {"cfg": cfg, "seed": cfg.seed, "root": root.resolve(), "features": features.resolve()}
    state = ctx.data_parallel(
        train_loop, job, workers=cfg.train.workers, device=device, placement=cfg.train.placement
    )
    model = load_model(cfg, state, val, device)
    result, raw, voted = score(model, val, cfg, device)
    history = state["history"]
    result |= {
        "train/loss": history[-1]["train/loss"],
        "time/frames_per_s": float(np.mean([row["time/frames_per_s"] for row in history])),
        "train/workers": cfg.train.workers,
    }
    submission = ctx.artifact("submission.csv")
    layout.write_submission(
        submission,
        {v.name: p for v, p in zip(val, voted)} | test_predictions(model, cfg, root, features, device),
    )
    plots.confusion_matrix(
        metrics.confusion(np.concatenate([v.labels for v in val]), np.concatenate(voted)),
        ctx.artifact("confusion.png"),
        f"{ctx.experiment}: validation, soft-voted",
    )
    record_claims = claims.format_invariants(val, submission) + [claims.metric_invariant(val, raw)]
    record_claims += claims.voting_claims(
        [result["val/flips_per_100"]],
        [result["val_voted/flips_per_100"]],
        [result["val/f1"]],
        [result["val_voted/f1"]],
    )
    ctx.report({k: v for k, v in result.items() if "/f1" in k and "_voted/f1_" not in k})
    return ctx.result(result, record_claims)

"""The ABAW checks as tables, evaluated on each run's own data.

Format round-trips and the metric's agreement with scikit-learn hold by construction: invariants,
checked on the run's files and predictions. Soft voting and modality dropout are claims,
with the thresholds of the README's Claims table.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
from sklearn.metrics import f1_score

from raylab.methods.abaw import layout, metrics
from raylab.methods.abaw.experiments import DROPOUT_FALLBACK, DROPOUT_MARGIN, VOTING_KEEPS_F1
from raylab.records import INVARIANT, Claim, ClaimRow, claim_table, judge_table

C = ClaimRow

# fmt: off
FORMAT = claim_table(
    C("format_roundtrip", "videos that differ", "<=", 0,
      "EXPR annotation files written and read back are identical "
      "(exact header, -1 kept, frames = lines - 1): videos that differ", kind=INVARIANT),
    C("submission_complete", "frames missing or extra", "<=", 0,
      "the submission predicts every frame of every video, "
      "face-missing frames included: frames missing or extra", kind=INVARIANT),
    # the metric and scikit-learn count the same frames, in other arithmetic
    C("metric_matches_sklearn", "difference from scikit-learn", "<=", 1e-9,
      "macro-F1 over all 8 classes equals scikit-learn's: absolute difference", kind=INVARIANT),
)

# B7: soft voting (w = 9); the impulses row is judged by `impulsive_claim`
VOTING = claim_table(
    C("vote_cuts_flips", "flip cuts", ">=", 0.5,
      "soft voting cuts frame-label flips per 100 frames by >= 50% (worst model)"),
    C(VOTING_KEEPS_F1, "mean F1 change", ">=", -0.01,
      "soft voting changes macro-F1 by >= -0.01 (mean over models)"),
    C("vote_gains_under_impulses", "mean F1 gain under impulses", ">", 0.0,
      "with impulsive visual corruptions, soft voting strictly improves macro-F1 (mean gain over seeds)"),
)

# B5 and B6: the visual stream removed at test time
DROPOUT = claim_table(
    C(DROPOUT_MARGIN, "margin", ">=", 0.02,
      "visual removed at test time: the modality-dropout model's mean "
      "F1 drop is >= 0.02 smaller than the no-dropout model's (margin)"),
    C(DROPOUT_FALLBACK, "share kept over no dropout", ">", 0.0,
      "visual removed: the dropout model keeps a larger share of the audio-only model's F1 than the "
      "no-dropout model does (mean over seeds of the paired difference of shares)"),
)
# fmt: on


def format_invariants(videos: list[layout.Video], submission: Path) -> list[Claim]:
    """Annotations written and read back are identical; the submission has every frame of every video."""
    with tempfile.TemporaryDirectory() as folder:
        mismatched = 0
        for video in videos:
            path = Path(folder) / f"{video.name}.txt"
            layout.write_annotation(path, video.labels)
            mismatched += int(not np.array_equal(layout.read_annotation(path), video.labels))
    written = layout.read_submission(submission)
    missing = sum(abs(len(written.get(v.name, ())) - v.frames) for v in videos)
    return judge_table(FORMAT, {"videos that differ": mismatched, "frames missing or extra": missing})


def metric_invariant(videos: list[layout.Video], predictions: list[np.ndarray]) -> Claim:
    """P_EXPR equals scikit-learn's macro-F1 over labels 0-7 on frames with y != -1."""
    y, p = np.concatenate([v.labels for v in videos]), np.concatenate(predictions)
    valid = y >= 0
    reference = f1_score(y[valid], p[valid], average="macro", labels=list(range(8)), zero_division=0)
    (claim,) = judge_table(FORMAT, {"difference from scikit-learn": abs(metrics.macro_f1(y, p) - reference)})
    return claim


def voting_claims(raw_flips, voted_flips, raw_f1, voted_f1) -> list[Claim]:
    """Per seed lists (one entry per trained model): the worst flip cut, the mean F1 change."""
    cuts = [1 - v / r if r > 0 else float("nan") for r, v in zip(raw_flips, voted_flips)]
    change = float(np.mean(np.subtract(voted_f1, raw_f1)))
    return judge_table(VOTING, {"flip cuts": cuts, "mean F1 change": change})


def impulsive_claim(raw_f1, voted_f1) -> Claim:
    gain = float(np.mean(np.subtract(voted_f1, raw_f1)))
    (claim,) = judge_table(VOTING, {"mean F1 gain under impulses": gain})
    return claim


def dropout_claims(per_arm: dict[str, list[dict]]) -> list[Claim]:
    """B5: smaller F1 drop with the visual stream removed. B6: audio fallback, judged against the
    no-dropout control (which reaches the absolute 0.8 bound too): with the visual stream removed, the
    dropout model keeps a larger share of the audio-only model's F1 than the no-dropout model does
    (paired by seed, mean over seeds)."""

    def drops(arm):
        return [r["val/f1"] - r["val_no_visual/f1"] for r in per_arm[arm]]

    def kept(arm):
        return np.array(
            [
                m["val_no_visual/f1"] / a["val_no_visual/f1"]
                for m, a in zip(per_arm[arm], per_arm["audio_only"], strict=True)
            ]
        )

    return judge_table(
        DROPOUT,
        {
            "margin": float(np.mean(drops("no_dropout")) - np.mean(drops("dropout"))),
            "share kept over no dropout": float(np.mean(kept("dropout") - kept("no_dropout"))),
        },
    )

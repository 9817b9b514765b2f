"""The ABAW checks, evaluated on each run's own data.

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
from raylab.records import Claim

FLIP_CUT = 0.5  # soft voting (w = 9) removes at least half of the frame-label flips (B7)
VOTE_F1_LOSS = -0.01  # ... and changes macro-F1 by no worse than this (B7)
DROP_MARGIN = 0.02  # visual removed: the dropout model's F1 drop is this much smaller than without (B5)
EXACT = 1e-9  # the metric vs scikit-learn (same counts, other arithmetic)


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
    return [
        Claim.invariant(
            "format_roundtrip",
            "EXPR annotation files written and read back are identical "
            "(exact header, -1 kept, frames = lines - 1): videos that differ",
            mismatched,
            "<=",
            0,
        ),
        Claim.invariant(
            "submission_complete",
            "the submission predicts every frame of every video, "
            "face-missing frames included: frames missing or extra",
            missing,
            "<=",
            0,
        ),
    ]


def metric_invariant(videos: list[layout.Video], predictions: list[np.ndarray]) -> Claim:
    """P_EXPR equals scikit-learn's macro-F1 over labels 0-7 on frames with y != -1."""
    y, p = np.concatenate([v.labels for v in videos]), np.concatenate(predictions)
    valid = y >= 0
    reference = f1_score(y[valid], p[valid], average="macro", labels=list(range(8)), zero_division=0)
    return Claim.invariant(
        "metric_matches_sklearn",
        "macro-F1 over all 8 classes equals scikit-learn's: absolute difference",
        abs(metrics.macro_f1(y, p) - reference),
        "<=",
        EXACT,
    )


def voting_claims(raw_flips, voted_flips, raw_f1, voted_f1, prefix: str = "") -> list[Claim]:
    """Per seed lists (one entry per trained model): the worst flip cut, the mean F1 change."""
    cuts = [1 - v / r if r > 0 else float("nan") for r, v in zip(raw_flips, voted_flips)]
    change = float(np.mean(np.subtract(voted_f1, raw_f1)))
    return [
        Claim.worst_case(
            f"{prefix}vote_cuts_flips",
            f"soft voting cuts frame-label flips per 100 frames by >= {FLIP_CUT:.0%} (worst model)",
            cuts,
            ">=",
            FLIP_CUT,
        ),
        Claim.check(
            f"{prefix}vote_keeps_f1",
            f"soft voting changes macro-F1 by >= {VOTE_F1_LOSS} (mean over models)",
            change,
            ">=",
            VOTE_F1_LOSS,
        ),
    ]


def impulsive_claim(raw_f1, voted_f1) -> Claim:
    gain = float(np.mean(np.subtract(voted_f1, raw_f1)))
    return Claim.check(
        "vote_gains_under_impulses",
        "with impulsive visual corruptions, soft voting strictly improves macro-F1 (mean gain over seeds)",
        gain,
        ">",
        0.0,
    )


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

    margin = float(np.mean(drops("no_dropout")) - np.mean(drops("dropout")))
    return [
        Claim.check(
            "dropout_smaller_drop",
            f"visual removed at test time: the modality-dropout model's mean "
            f"F1 drop is >= {DROP_MARGIN} smaller than the no-dropout model's (margin)",
            margin,
            ">=",
            DROP_MARGIN,
        ),
        Claim.check(
            "dropout_audio_fallback",
            "visual removed: the dropout model keeps a larger share of the audio-only model's F1 than the "
            "no-dropout model does (mean over seeds of the paired difference of shares)",
            float(np.mean(kept("dropout") - kept("no_dropout"))),
            ">",
            0.0,
        ),
    ]

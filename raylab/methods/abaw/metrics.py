"""The official EXPR metric (macro-F1 over all 8 classes, frames labelled -1 excluded),
accuracy, per-class F1, label flips, and sliding-window soft voting."""

from __future__ import annotations

import numpy as np

from raylab.methods.abaw.layout import NUM_CLASSES


def confusion(labels: np.ndarray, predictions: np.ndarray, classes: int = NUM_CLASSES) -> np.ndarray:
    """Counts [true, predicted] over frames whose label is not -1."""
    valid = labels >= 0
    return np.bincount(labels[valid] * classes + predictions[valid], minlength=classes**2).reshape(
        classes, classes
    )


def per_class_f1(matrix: np.ndarray) -> np.ndarray:
    """F1 of each class; a class with no true and no predicted frame scores 0 (the 8-class mean)."""
    hits = np.diag(matrix).astype(float)
    denominator = matrix.sum(axis=0) + matrix.sum(axis=1)
    return np.divide(2 * hits, denominator, out=np.zeros_like(hits), where=denominator > 0)


def macro_f1(labels: np.ndarray, predictions: np.ndarray) -> float:
    """P_EXPR: the unweighted mean of the 8 per-class F1 scores."""
    return float(per_class_f1(confusion(labels, predictions)).mean())


def accuracy(labels: np.ndarray, predictions: np.ndarray) -> float:
    valid = labels >= 0
    return float((labels[valid] == predictions[valid]).mean()) if valid.any() else float("nan")


def flips_per_100(predictions: list[np.ndarray]) -> float:
    """Frame-to-frame label changes per 100 frames, within videos."""
    changes = sum(int((p[1:] != p[:-1]).sum()) for p in predictions)
    return 100.0 * changes / max(1, sum(len(p) for p in predictions))


def soft_vote(probabilities: np.ndarray, window: int) -> np.ndarray:
    """Frame probabilities (T, C) averaged over a centred window of `window` frames (edges replicated)."""
    if window <= 1:
        return probabilities
    half = window // 2
    padded = np.pad(probabilities, ((half, half), (0, 0)), mode="edge")
    cumulative = np.cumsum(np.vstack([np.zeros((1, probabilities.shape[1])), padded]), axis=0)
    return (cumulative[window:] - cumulative[:-window]) / window


def summary(labels: list[np.ndarray], predictions: list[np.ndarray], prefix: str) -> dict[str, float]:
    """Macro-F1, accuracy and flips over a split (frames of all videos pooled, as the challenge does)."""
    y, p = np.concatenate(labels), np.concatenate(predictions)
    return {
        f"{prefix}/f1": macro_f1(y, p),
        f"{prefix}/accuracy": accuracy(y, p),
        f"{prefix}/flips_per_100": flips_per_100(predictions),
    }

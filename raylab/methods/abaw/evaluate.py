"""Scoring a trained model on a split: raw and soft-voted frame labels, with and without the visual
stream, the official metric and the flip rate."""

from __future__ import annotations

import numpy as np

from raylab.methods.abaw import metrics
from raylab.methods.abaw.layout import CLASSES, Video
from raylab.methods.abaw.train import predict

CLASS_KEYS = tuple(name.lower() for name in CLASSES)  # metric-name suffixes of the per-class F1
RAREST = 3  # the check on the long tail looks at the 3 rarest classes of the training labels


def labels_of(probabilities: list[np.ndarray], window: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Raw argmax labels and soft-voted labels per video."""
    raw = [p.argmax(axis=1) for p in probabilities]
    voted = [metrics.soft_vote(p, window).argmax(axis=1) for p in probabilities]
    return raw, voted


def score(model, videos: list[Video], cfg, device, prefix: str = "val") -> tuple[dict, list, list]:
    """Metrics of `model` on `videos`, its raw labels and its soft-voted labels (what a submission
    holds), per video."""
    truth = [v.labels for v in videos]
    raw, voted = labels_of(predict(model, videos, cfg.model.window, device), cfg.vote_window)
    no_visual, _ = labels_of(
        predict(model, videos, cfg.model.window, device, drop_visual=True), cfg.vote_window
    )
    result = metrics.summary(truth, raw, prefix) | metrics.summary(truth, voted, f"{prefix}_voted")
    result[f"{prefix}_no_visual/f1"] = metrics.macro_f1(np.concatenate(truth), np.concatenate(no_visual))
    matrix = metrics.confusion(np.concatenate(truth), np.concatenate(voted))
    for name, f1 in zip(CLASS_KEYS, metrics.per_class_f1(matrix)):
        result[f"{prefix}_voted/f1_{name}"] = float(f1)
    return result, raw, voted


def rare_recall(model, videos: list[Video], cfg, device, rare: np.ndarray) -> float:
    """Mean recall over the `rare` classes (raw labels)."""
    truth = np.concatenate([v.labels for v in videos])
    raw, _ = labels_of(predict(model, videos, cfg.model.window, device), cfg.vote_window)
    matrix = metrics.confusion(truth, np.concatenate(raw))
    support = matrix.sum(axis=1)[rare]
    return float(np.mean(np.diag(matrix)[rare] / np.maximum(support, 1)))


def rarest_classes(labels: np.ndarray, count: int = RAREST) -> np.ndarray:
    return np.argsort(np.bincount(labels[labels >= 0], minlength=8), kind="stable")[:count]

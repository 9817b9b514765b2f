"""The confusion-matrix figure and the ablation table."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from raylab.methods.abaw.layout import CLASSES  # noqa: E402
from raylab.reporting.plots import save_figure  # noqa: E402


def confusion_matrix(matrix: np.ndarray, path: Path, title: str) -> Path:
    """Rows: true class; columns: predicted; each row normalised to 1 (counts in the cells)."""
    rates = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(6.4, 5.6))
    ax.imshow(rates, cmap="Blues", vmin=0, vmax=1)
    for (i, j), count in np.ndenumerate(matrix):
        ax.text(
            j,
            i,
            str(count),
            ha="center",
            va="center",
            fontsize=7,
            color="white" if rates[i, j] > 0.5 else "black",
        )
    ax.set_xticks(range(len(CLASSES)), CLASSES, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(len(CLASSES)), CLASSES, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title, fontsize=9)
    return save_figure(fig, path)


def ablation_table(per_arm: dict[str, list[dict]]) -> str:
    """Markdown: one row per arm and seed (validation macro-F1, no-visual F1, voting, impulses)."""
    rows = [
        "| arm | seed | F1 | F1 no visual | drop | flips raw -> voted | F1 voted | F1 impulses raw -> voted |",  # noqa: E501
        "|---|---|---|---|---|---|---|---|",
    ]
    for arm, results in per_arm.items():
        for seed, r in enumerate(results):
            rows.append(
                f"| {arm} | {seed} | {r['val/f1']:.3f} | {r['val_no_visual/f1']:.3f} "
                f"| {r['val/f1'] - r['val_no_visual/f1']:.3f} | {r['val/flips_per_100']:.2f} -> "
                f"{r['val_voted/flips_per_100']:.2f} | {r['val_voted/f1']:.3f} "
                f"| {r['impulses/f1']:.3f} -> {r['impulses_voted/f1']:.3f} |"
            )
    return "\n".join(rows) + "\n"

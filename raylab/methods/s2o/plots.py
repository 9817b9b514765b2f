"""Training curves of the S2O cells and the per-variant results table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from raylab.reporting.plots import new_figure, save_figure

# The official README's CIFAR-10 numbers (l_inf 8/255), in accuracy units.
PAPER_CIFAR10: dict[str, dict[str, Any]] = {
    "at_s2o": {"arch": "PreActResNet-18", "clean": 0.8365, "pgd20": 0.5511, "aa": 0.483},
    "trades_s2o": {"arch": "WRN-34-10", "clean": 0.8567, "pgd20": 0.5834, "aa": 0.541},
}
COLUMNS = (("clean", "clean"), ("pgd20", "PGD-20"), ("cw20", "CW-20"), ("aa", "AutoAttack"))


def plot_curves(curves: dict[str, list[list[dict]]], path: Path) -> Path:
    """Per variant (mean over replicates): training loss, clean and PGD-20 test accuracy by epoch."""
    fig, axes = new_figure(cols=3, panel_size=(4.0, 3.2))
    for variant, replicates in curves.items():
        epochs = [row["epoch"] + 1 for row in replicates[0]]
        for ax, key in zip(axes[0], ("loss", "clean", "pgd20")):
            values = np.mean([[row[key] for row in rows] for rows in replicates], axis=0)
            ax.plot(epochs, values, marker="o", ms=3, label=variant)
    for ax, title in zip(axes[0], ("training loss", "clean test accuracy", "PGD-20 test accuracy")):
        ax.set(xlabel="epoch", title=title)
    axes[0][0].legend(fontsize=7)
    return save_figure(fig, path)


def results_table(finals: dict[str, list[dict]], dataset: str, paper: bool = True) -> str:
    """Markdown: mean +- sd over replicates per variant; the paper's numbers beside ours on CIFAR-10
    (unless `paper` is False)."""
    shown = [
        (key, label) for key, label in COLUMNS if all(key in f for rows in finals.values() for f in rows)
    ]
    paper = paper and dataset == "cifar10"
    header = (
        ["variant", "replicates"]
        + [label for _, label in shown]
        + (["paper (clean / PGD-20 / AA)"] if paper else [])
    )
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for variant, rows in finals.items():
        cells = [variant, str(len(rows))]
        for key, _ in shown:
            values = np.array([r[key] for r in rows]) * 100
            sd = f" ± {values.std(ddof=1):.1f}" if len(values) > 1 else ""
            cells.append(f"{values.mean():.1f}{sd}")
        if paper:
            ref = PAPER_CIFAR10.get(variant)
            cells.append(
                f"{ref['clean'] * 100:.2f} / {ref['pgd20'] * 100:.2f} / {ref['aa'] * 100:.1f} ({ref['arch']})"
                if ref
                else "-"
            )
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"

"""Figure-1-style plot: spike/signal ratio b/a, cosine alignment and error against the step."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from raylab.reporting.plots import new_figure, save_figure

STYLE = {"gd": "tab:red", "specgd": "tab:blue", "muon": "tab:green", "normgd": "tab:orange"}


def plot_trajectories(cells: list[tuple[Any, dict]], path: Path) -> Path:  # (experiment.Cell, trajectory)
    """One column per lam; rows b/a, cos, error (log scales); one line per optimiser."""
    lams = sorted({cell.lam for cell, _ in cells})
    fig, axes = new_figure(rows=3, cols=len(lams))
    for col, lam in enumerate(lams):
        for cell, traj in (ct for ct in cells if ct[0].lam == lam):
            for row, key in enumerate(("spike_ratio", "cos", "error")):
                axes[row][col].plot(traj[key], color=STYLE.get(cell.optimiser), label=cell.optimiser, lw=1.2)
        axes[0][col].set_title(f"lambda = {lam:g}")
        axes[0][col].set_yscale("log")
        axes[2][col].set_yscale("log")
        axes[2][col].set_xlabel("step k")
    for row, label in enumerate(("b_k / a_k", "cos(M, theta theta^T)", "||M - theta theta^T||_F")):
        axes[row][0].set_ylabel(label)
    axes[0][0].legend(fontsize=7)
    return save_figure(fig, path)

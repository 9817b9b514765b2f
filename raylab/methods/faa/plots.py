"""Figures in the spirit of the paper's: rate vs power / array size / number of Eves, shape bars,
AO convergence and the AO-vs-grid gap."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from raylab.reporting.plots import new_figure, save_figure


def plot_curves(x, curves: dict[str, list[float]], xlabel: str, path: Path, title: str = "") -> Path:
    fig, axes = new_figure(rows=1, cols=1, panel_size=(5.0, 3.4))
    for name, values in curves.items():
        axes[0][0].plot(x, values, marker="o", label=name)
    axes[0][0].set_xlabel(xlabel)
    axes[0][0].set_ylabel("mean secrecy rate (bit/s/Hz)")
    axes[0][0].set_title(title, fontsize=9)
    axes[0][0].legend(fontsize=7)
    return save_figure(fig, path)


def plot_bars(values: dict[str, float], path: Path, title: str = "") -> Path:
    fig, axes = new_figure(rows=1, cols=1, panel_size=(5.0, 3.4))
    axes[0][0].bar(list(values), list(values.values()), color="tab:blue")
    axes[0][0].set_ylabel("mean secrecy rate (bit/s/Hz)")
    axes[0][0].set_title(title, fontsize=9)
    return save_figure(fig, path)


def plot_convergence(rows: list[dict], path: Path, shown: int = 20) -> Path:
    fig, axes = new_figure(rows=1, cols=2)
    for row in rows[:shown]:
        axes[0][0].plot(row["history"], lw=0.8)
    axes[0][0].set_xlabel("AO outer iteration")
    axes[0][0].set_ylabel("R_s (bit/s/Hz), single start psi0 = 0")
    for key, label in (("single", "single start"), ("multi", "8 starts")):
        gaps = np.sort([r["grid"] - r[key] for r in rows])
        axes[0][1].plot(gaps, np.linspace(0, 1, len(gaps)), label=label)
    axes[0][1].set_xscale("symlog", linthresh=1e-3)
    axes[0][1].set_xlabel("grid optimum - AO (bit/s/Hz)")
    axes[0][1].set_ylabel("fraction of channels")
    axes[0][1].legend(fontsize=7)
    return save_figure(fig, path)

"""Norm and alignment against the step for each condition, with the phase boundaries marked."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from raylab.methods.label_noise.core import phase_boundaries
from raylab.reporting.plots import new_figure, save_figure

PANELS = (
    ("norm", "mean ||w_j|| / start"),
    ("cos", "mean |cos(w_j, beta*)|"),
    ("abs_a", "mean |a_j| (second layer)"),
    ("inv_stable_rank", "||W||_2^2 / ||W||_F^2"),
    ("test_loss", "test loss"),
)


def plot_conditions(traces: dict[str, dict], path: Path, title: str = "") -> Path:
    """One panel per indicator; one colour per condition, a thin line per seed; dashed t_N, dotted t_A."""
    fig, axes = new_figure(rows=1, cols=len(PANELS))
    colours = dict(zip(traces, ("tab:red", "tab:blue", "tab:green", "tab:orange")))
    for label, trace in traces.items():
        steps, colour = trace["step"], colours[label]
        t_norm, t_align = phase_boundaries(trace)
        for col, (key, ylabel) in enumerate(PANELS):
            ax = axes[0][col]
            values = trace[key] / trace[key][:, :1] if key == "norm" else trace[key]
            for s, row in enumerate(values):
                ax.plot(steps, row, color=colour, lw=0.9, alpha=0.8, label=label if s == 0 else None)
            for t, style in ((np.mean(t_norm), "--"), (np.mean(t_align), ":")):
                if np.isfinite(t):
                    ax.axvline(t, color=colour, ls=style, lw=0.8)
            ax.set_xlabel("step")
            ax.set_ylabel(ylabel)
    axes[0][len(PANELS) - 1].set_yscale("log")
    axes[0][0].legend(fontsize=7, title="-- t_N   : t_A", title_fontsize=7)
    if title:
        fig.suptitle(title, fontsize=9)
    return save_figure(fig, path)

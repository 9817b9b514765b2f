"""Figures of the OT-CFM experiments: the field with its gaps, error against B, normal distance
against s."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from raylab.methods.otcfm.core import brenier_weights, prox_field, simplex_qp_prox
from raylab.reporting.plots import new_figure, save_figure


def plot_discrete_field(target, t: float, grid: int, path: Path) -> Path:
    """The prox field on a grid at time t, coloured by whether the prox lands on an atom (supp mu_t)
    or on an edge / face of conv supp mu_1 (a gap region), with the atoms sized by their mass."""
    lo, hi = target.atoms.min(0) - 1.0, target.atoms.max(0) + 1.0
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], grid), np.linspace(lo[1], hi[1], grid))
    x = np.stack([gx.ravel(), gy.ravel()], axis=1)
    weights = brenier_weights(target.atoms, target.duals)
    field = prox_field(x, target.atoms, weights, t)
    landing = simplex_qp_prox(x, target.atoms, weights, t)
    on_atom = np.min(np.linalg.norm(landing[:, None] - target.atoms[None], axis=-1), axis=1) < 1e-9
    fig, axes = new_figure(panel_size=(5.0, 4.4))
    ax = axes[0][0]
    for mask, colour, label in ((on_atom, "tab:blue", "prox lands on an atom"), (~on_atom, "tab:red", "gap")):
        ax.quiver(
            x[mask, 0], x[mask, 1], field[mask, 0], field[mask, 1], color=colour, label=label, width=0.002
        )
    ax.scatter(*target.atoms.T, s=400 * target.masses, c="k", label="atoms (size: mass)", zorder=3)
    ax.set(xlabel="x_1", ylabel="x_2", title=f"population OT-CFM field at t = {t:g}")
    ax.legend(fontsize=7, loc="upper right")
    return save_figure(fig, path)


def plot_error_vs_batch(curves: dict[str, tuple[np.ndarray, np.ndarray, float]], path: Path) -> Path:
    """Log-log error against B per target, with the fitted slope in the legend."""
    fig, axes = new_figure(panel_size=(4.6, 3.4))
    ax = axes[0][0]
    for label, (sizes, errors, slope) in curves.items():
        ax.loglog(sizes, errors, "o-", label=f"{label} (slope {slope:.2f})")
    ax.set(xlabel="batch size B", ylabel="error vs the population map", title="minibatch OT-CFM coupling")
    ax.legend(fontsize=7)
    return save_figure(fig, path)


def plot_normal_distance(curves: dict[str, tuple[np.ndarray, np.ndarray]], path: Path) -> Path:
    """Median distance to the target manifold against s (log scale), with exp(-s) for reference."""
    fig, axes = new_figure(panel_size=(4.6, 3.4))
    ax = axes[0][0]
    for label, (s, distance) in curves.items():
        ax.semilogy(s, distance, label=label)
    s = next(iter(curves.values()))[0]
    ax.semilogy(s, np.exp(-s), "k:", label="exp(-s)")
    ax.set(
        xlabel="rescaled time s = -log(1 - t)", ylabel="median normal distance", title="normal contraction"
    )
    ax.legend(fontsize=7)
    return save_figure(fig, path)


def plot_training(summary: dict, batch_sizes: list[int], path: Path) -> Path:
    """L2 error against the population field (targets where it is exact) and W2 against B, one line
    per (trainer, target), mean +- sd over replicates."""
    fig, axes = new_figure(cols=2, panel_size=(4.2, 3.2))
    lines = sorted({(trainer, target) for trainer, target, _, _ in summary})
    for col, key in enumerate(("l2_error", "w2")):
        ax = axes[0][col]
        for trainer, target in lines:
            points = [
                (b, *summary[(trainer, target, b, key)])
                for b in batch_sizes
                if (trainer, target, b, key) in summary
            ]
            if points:
                b, mean, sd = map(np.array, zip(*points))
                style = "-" if trainer == "raylab" else "--"
                ax.errorbar(b, mean, yerr=sd, fmt=f"o{style}", capsize=2, label=f"{target} ({trainer})")
        ax.set(xscale="log", yscale="log", xlabel="batch size B", ylabel=key.replace("_", " "))
    axes[0][0].set_title("field error vs population")
    axes[0][1].set_title("W2 of samples to the target")
    axes[0][1].legend(fontsize=6)
    return save_figure(fig, path)

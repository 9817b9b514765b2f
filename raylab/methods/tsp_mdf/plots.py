"""Figures: gap vs K for each heuristic (plain, random-shift ablation, untrained and trained
modifier), a drawn tour (plain vs TSP-MDF), and the modifier's training curve."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from raylab.reporting.plots import new_figure, save_figure


def plot_gap_vs_k(
    k_values: list[int], curves: dict[str, dict[str, list[float]]], ylabel: str, path: Path
) -> Path:
    """curves[method][label] = gap per K."""
    fig, axes = new_figure(rows=1, cols=len(curves), panel_size=(3.8, 3.0))
    for ax, (method, lines) in zip(axes[0], curves.items()):
        for label, values in lines.items():
            ax.plot(k_values, values, marker="o", label=label)
        ax.set_xscale("log", base=2)
        ax.set_xlabel("K (samples per instance)")
        ax.set_ylabel(ylabel)
        ax.set_title(f"{method} insertion", fontsize=9)
        ax.legend(fontsize=6)
    return save_figure(fig, path)


def plot_tours(coords: np.ndarray, tours: dict[str, tuple[np.ndarray, float]], path: Path) -> Path:
    """tours[label] = (tour, length), drawn side by side on the same instance."""
    fig, axes = new_figure(rows=1, cols=len(tours), panel_size=(3.6, 3.6))
    for ax, (label, (tour, length)) in zip(axes[0], tours.items()):
        closed = np.append(tour, tour[0])
        ax.plot(coords[closed, 0], coords[closed, 1], lw=0.6, color="tab:blue")
        ax.scatter(coords[:, 0], coords[:, 1], s=2, color="black")
        ax.set_title(f"{label}: {length:.4f}", fontsize=8)
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
    return save_figure(fig, path)


def plot_training(history: list[dict], path: Path) -> Path:
    fig, axes = new_figure(rows=1, cols=2)
    steps = [h["step"] for h in history]
    for key, label in (
        ("held_out/mean_sample", "mean sample"),
        ("held_out/best_of_k", "best of K"),
        ("held_out/plain", "plain"),
    ):
        axes[0][0].plot(steps, [h[key] for h in history], marker=".", label=label)
    axes[0][0].set_xlabel("training step")
    axes[0][0].set_ylabel("held-out tour length")
    axes[0][0].legend(fontsize=7)
    axes[0][1].plot(
        steps, [h["held_out/sigma_spread"] for h in history], marker=".", label="sigma_i spread (cv)"
    )
    axes[0][1].plot(steps, [h["held_out/mean_shift"] for h in history], marker=".", label="mean |mu_i| (d_i)")
    axes[0][1].set_xlabel("training step")
    axes[0][1].legend(fontsize=7)
    return save_figure(fig, path)


def plot_family_table(
    table: dict[tuple[str, int], float], k_values: list[int], plain: float, path: Path
) -> Path:
    """table[(family, K)] = mean gap of the family's best untrained setting at K."""
    fig, axes = new_figure(rows=1, cols=1, panel_size=(4.5, 3.2))
    ax = axes[0][0]
    for name in dict.fromkeys(f for f, _ in table):
        ax.plot(k_values, [table[(name, k)] for k in k_values], marker="o", label=name)
    ax.axhline(plain, color="grey", linestyle="--", label="plain")
    ax.set_xscale("log", base=2)
    ax.set(xlabel="K (constructions per instance)", ylabel="mean gap to LKH-3 (%)")
    ax.set_title("best untrained setting per shift family", fontsize=9)
    ax.legend(fontsize=7)
    return save_figure(fig, path)

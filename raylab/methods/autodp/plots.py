"""Best gain per round and cumulative counted cost per round, accelerated vs plain search."""

from __future__ import annotations

import numpy as np

from raylab.reporting.plots import new_figure, save_figure


def _curves(result, cfg):
    best, cost, top, spent = (
        [],
        [],
        -np.inf,
        result.baseline.counters.cost(cfg.llm.call_cost, cfg.proxy.train_cost),
    )
    for index, round_ in enumerate(result.rounds):
        top = max(top, max(e.accuracy for e in round_) - result.baseline.accuracy)
        spent += result.counters(index).cost(cfg.llm.call_cost, cfg.proxy.train_cost)
        best.append(top)
        cost.append(spent)
    return best, cost


def plot_rounds(fast: list, slow: list, cfg, path) -> None:
    fig, grid = new_figure(rows=1, cols=2, panel_size=(5.0, 4.0))
    axes = grid[0]
    for results, label, colour in ((fast, "DPS + PTS + cache", "C0"), (slow, "plain", "C1")):
        for i, result in enumerate(results):
            best, cost = _curves(result, cfg)
            rounds = np.arange(1, len(best) + 1)
            axes[0].plot(rounds, best, "o-", color=colour, alpha=0.7, label=label if i == 0 else None)
            axes[1].plot(rounds, cost, "o-", color=colour, alpha=0.7, label=label if i == 0 else None)
    axes[0].set(
        xlabel="round", ylabel="best s = accuracy - raw (on the searched rows)", title="search progress"
    )
    axes[1].set(xlabel="round", ylabel="counted cost (cumulative)", yscale="log", title="cost")
    for ax in axes:
        ax.legend()
    save_figure(fig, path)

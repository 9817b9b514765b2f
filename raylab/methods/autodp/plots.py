"""Best gain per round and cumulative counted cost per round, accelerated vs plain search."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


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
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
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
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)

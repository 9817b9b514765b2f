"""Comparison plot across a sweep: the sweep metric against the step, one line per trial."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from raylab.records import METRICS_FILE
from raylab.reporting.plots import new_figure, save_figure


def trial_curve(run_dir: str | Path, metric: str) -> tuple[list[int], list[float]]:
    """(steps, values) of `metric` from a run's metrics.jsonl (rows without a step are skipped)."""
    path = Path(run_dir) / METRICS_FILE
    steps, values = [], []
    if path.exists():
        for line in path.read_text().splitlines():
            row = json.loads(line)
            if row.get("step") is not None and isinstance(row.get(metric), (int, float)):
                steps.append(row["step"])
                values.append(row[metric])
    return steps, values


def plot_sweep(trials: list[dict[str, Any]], metric: str, path: str | Path) -> Path | None:
    """One line per trial (labelled by its swept values); None when no trial streamed `metric`."""
    fig, axes = new_figure(rows=1, cols=1, panel_size=(6.0, 3.6))
    drawn = 0
    for trial in trials:
        steps, values = trial_curve(trial["record"], metric)
        if steps:
            label = ", ".join(f"{k.split('.')[-1]}={v}" for k, v in trial["config"].items())
            axes[0][0].plot(steps, values, lw=1, label=label)
            drawn += 1
    if not drawn:
        return None
    axes[0][0].set_xlabel("step")
    axes[0][0].set_ylabel(metric)
    if drawn <= 12:
        axes[0][0].legend(fontsize=6)
    return save_figure(fig, path)

"""Live progress in the Ray dashboard: a metric sink that exports what a run reports through
`ray.util.metrics`. Each node's metrics agent serves them to Prometheus (`/metrics` on the node's
metrics export port) and so to the dashboard's Metrics view and Grafana, as
`ray_raylab_metric{experiment, run_id, metric}` (the latest value of every reported metric),
`ray_raylab_step` and `ray_raylab_progress` (steps done / expected, when the run knows its length)."""

from __future__ import annotations

import math
from typing import Any

from ray.util.metrics import Gauge

TAGS = ("experiment", "run_id")


class DashboardMetrics:
    """A Reporter sink `(metrics, step)`; gauges are created on first use (the sink is pickled into
    the task that runs a GPU experiment's loop)."""

    def __init__(self, experiment: str, run_id: str):
        self.tags = {"experiment": experiment, "run_id": run_id}
        self.total: int | None = None
        self._gauges: dict[str, Gauge] | None = None

    def gauges(self) -> dict[str, Gauge]:
        if self._gauges is None:
            self._gauges = {
                "metric": Gauge(
                    "raylab_metric",
                    "latest value of a metric a raylab run reported",
                    tag_keys=(*TAGS, "metric"),
                ),
                "step": Gauge("raylab_step", "steps a raylab run has reported", tag_keys=TAGS),
                "progress": Gauge(
                    "raylab_progress", "fraction of a raylab run's expected steps done", tag_keys=TAGS
                ),
            }
        return self._gauges

    def expect_steps(self, total: int) -> None:
        self.total = total

    def __call__(self, metrics: dict[str, Any], step: int | None) -> None:
        gauges = self.gauges()
        for name, value in metrics.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
                gauges["metric"].set(float(value), tags={**self.tags, "metric": name})
        if step is not None:
            gauges["step"].set(float(step), tags=self.tags)
            if self.total:
                gauges["progress"].set(min(1.0, step / self.total), tags=self.tags)

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_gauges": None}

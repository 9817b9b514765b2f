"""Shared matplotlib set-up: headless backend, consistent figure sizes, atomic PNG writes."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib

from raylab.records import writing

if TYPE_CHECKING:
    import numpy as np
    from matplotlib.figure import Figure

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def new_figure(
    rows: int = 1, cols: int = 1, panel_size: tuple[float, float] = (3.6, 2.6)
) -> tuple[Figure, np.ndarray[Any, Any]]:
    """A figure and a 2-D list of axes (always indexable as axes[row][col])."""
    fig, axes = plt.subplots(rows, cols, figsize=(panel_size[0] * cols, panel_size[1] * rows), squeeze=False)
    return fig, axes


def save_figure(fig: Figure, path: str | Path) -> Path:
    path = Path(path)
    fig.tight_layout()
    tmp = path.with_name(f".{path.name}.tmp.png")
    try:
        with writing(path, "figure"):
            path.parent.mkdir(parents=True, exist_ok=True)
            fig.savefig(tmp, dpi=110)
            tmp.replace(path)
    finally:
        plt.close(fig)
        tmp.unlink(missing_ok=True)
    return path

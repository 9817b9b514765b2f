"""The metric names of the TSP-MDF experiments, in one place: `experiment.py` writes them, `claims.py`
and the plots read them. Gap statistics are "length", "gap" (mean per-instance gap, %) and
"gap_of_means" (%, against the literature mean)."""

from __future__ import annotations

# Relative change of the held-out mean sampled length from training step 0 to the last step.
HELD_OUT_CHANGE = "train/held_out_mean_sample_change"


def plain(h: str, stat: str) -> str:
    """Plain heuristic `h` on the run's instances."""
    return f"{h}/plain/{stat}"


def plain_all(h: str) -> str:
    """Plain heuristic `h`: mean length over every instance of the .npy file."""
    return f"{h}/plain_all/length"


def at_k(h: str, arm: str, k: int, stat: str) -> str:
    """Best of K samples of `arm` (mdf | untrained | ablation | ablation_<sigma>)."""
    return f"{h}/{arm}/K{k}/{stat}"


def arm(h: str, name: str, stat: str) -> str:
    """A per-arm statistic that is not a gap (wins, best sigma, excess over plain)."""
    return f"{h}/{name}/{stat}"


def large_sigma(stat: str) -> str:
    """FI, best of K samples shifted with the too-large sigma (without the plain sample)."""
    return f"farthest/large_sigma/{stat}"


def two_opt(arm_name: str) -> str:
    """FI + 2-opt gap: `plain` tour or the best `mdf` tour."""
    return f"farthest/two_opt/{arm_name}"

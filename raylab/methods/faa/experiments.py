"""Flexible-antenna-array secrecy experiments (torch-free: `raylab list` imports this module only)."""

from raylab.registry import ExperimentSpec

PAPER = (
    "Joint Optimization of Flexible Antenna Array Shape and Beamforming for Secure "
    "Communication (flexible-antenna-array secrecy; arXiv 2602.23769)"
)


def _faa(experiment: str, summary: str) -> ExperimentSpec:
    return ExperimentSpec(
        resources={"cpu": 1},  # one thread: per-channel numpy / cvxpy
        name=f"faa/{experiment}",
        summary=summary,
        config_cls="raylab.methods.faa.config:FAAConfig",
        entry="raylab.methods.faa.experiment:run",
    )


EXPERIMENTS = [
    _faa(
        "secrecy_vs_power",
        "joint shape + beamforming vs BF-only, shape-only, MRT, random over transmit power (A5, A6)",
    ),
    _faa(
        "restricted_rotation",
        "the power study with rotation limited to |psi| <= 20 deg: the gain that remains when the array "
        "cannot turn to face Bob (A5, restricted)",
    ),
    _faa("secrecy_vs_antennas", "joint optimum vs array size 2x2 / 3x3 / 4x4 (A6)"),
    _faa("secrecy_vs_eves", "K = 1..4 eavesdroppers: grid + SDR inner solver, branch and bound (A6)"),
    _faa("shapes", "rigid UPA vs rotation / bend / fold under joint optimisation (A5)"),
    _faa("convergence", "GRQ / SDR / gradient checks, AO monotone convergence, multi-start vs grid (A1-A4)"),
]

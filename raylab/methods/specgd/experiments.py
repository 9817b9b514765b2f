"""SpecGD's experiments (torch-free: `raylab list` imports this module only)."""

from raylab.registry import ExperimentSpec

PAPER = (
    "Spectral Gradient Descent Mitigates Anisotropy-Driven Misalignment: A Case Study in "
    "Phase Retrieval (Braun et al., arXiv 2601.22652)"
)


def _specgd(experiment: str, summary: str, reproduce: bool = True) -> ExperimentSpec:
    return ExperimentSpec(
        resources={"cpu": 1},  # one thread: small numpy cells, bit-identical serially and on Ray
        name=f"specgd/{experiment}",
        summary=summary,
        config_cls="raylab.methods.specgd.config:SpecGDConfig",
        entry="raylab.methods.specgd.experiment:run",
        reproduce=reproduce,
    )


EXPERIMENTS = [
    _specgd(
        "misalignment",
        "GD vs SpecGD vs Muon vs normalised GD over lambda in {1,3,5,20}: "
        "spike amplification, threshold, escape time, noise contraction (checks S3-a..g)",
    ),
    _specgd("finite_sample", "the same comparison on n=4000 samples at lambda=20 (check S3-h)"),
    _specgd("trajectory", "one optimiser at one lambda, for sweeps of lr / lambda", reproduce=False),
]

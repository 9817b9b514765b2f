"""Label-noise SGD's experiments (torch-free: `raylab list` imports this module only)."""

from raylab.registry import ExperimentSpec

PAPER = (
    "On the Learning Dynamics of Two-layer Linear Networks with Label Noise SGD "
    "(Zhang et al., AAAI 2026, arXiv 2603.10397)"
)
# readme_scale: the smoke run stops at 20k steps, before Phase II (t_A ~ 270k steps at this step size)
README_SCALE_PHASES = ("R-b.order", "R-c.cos", "R-c.rank")


def _label_noise(
    experiment: str,
    summary: str,
    reproduce: bool = True,
    config_cls: str = "config:LabelNoiseConfig",
    entry: str = "experiment:run",
    size_dependent: tuple[str, ...] = (),
) -> ExperimentSpec:
    package = "raylab.methods.label_noise"
    return ExperimentSpec(
        resources={"cpu": 1},  # one thread: vectorised numpy over seeds
        name=f"label_noise/{experiment}",
        summary=summary,
        config_cls=f"{package}.{config_cls}",
        entry=f"{package}.{entry}",
        reproduce=reproduce,
        size_dependent=size_dependent,
    )


EXPERIMENTS = [
    _label_noise(
        "two_phase",
        "label-noise SGD vs its delta=0 control: norms shrink, then alignment (checks P1-a..d, P1-g)",
    ),
    _label_noise("periodic", "noise on/off every 2,000 steps: norms fall only while noise is on (P1-e)"),
    _label_noise("sam", "SAM on clean labels vs plain SGD: SAM alone drives both phases (P1-f)"),
    _label_noise(
        "sam_noise",
        "SAM with label noise (the repository's SAM run) beside label-noise SGD alone: both phases (SN-a..c)",
    ),
    _label_noise(
        "forced",
        "clean labels, full-batch GD, the second layer kicked directly: both phases without label noise; "
        "unkicked GD control (F-a..d)",
    ),
    _label_noise(
        "forced_periodic", "the kicks on/off every 5,000 steps: the norm falls only while they are on (F-e)"
    ),
    _label_noise("generalisation", "n < d sparse teacher: test loss of noisy vs clean SGD"),
    _label_noise(
        "readme_scale",
        "the repository's m=1000, lr 1e-3 setting, 10^6 steps: both phases in order (R-b, R-c); ~8 min",
        reproduce=False,
        size_dependent=README_SCALE_PHASES,
    ),
    _label_noise(
        "digits",
        "real data (sklearn digits, erf MLP): first-layer neuron norms with and without random-label noise",
        config_cls="config:DigitsConfig",
        entry="digits:run",
    ),
    _label_noise(
        "single", "one streamed run, the unit `raylab tune` sweeps (delta, rho, m, batch)", reproduce=False
    ),
]

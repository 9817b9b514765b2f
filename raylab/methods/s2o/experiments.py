"""S2O experiments (torch-free: `raylab list` imports this module only)."""

from raylab.registry import ExperimentSpec

PAPER = (
    "Enhancing Adversarial Training with Second-Order Statistics of Weights (S2O; Jin et al., "
    "CVPR 2022, arXiv 2203.06020; TPAMI 2025)"
)

# ids of the non-inferiority claims (claims.py) of a baseline and its S2O twin
NONINFERIOR_CLEAN, NONINFERIOR_PGD20 = "noninferior.clean@{base}", "noninferior.pgd20@{base}"


def non_inferiority_claims(pair: str) -> tuple[str, ...]:
    """The smoke run attacks 100 test images (1 image = 1 point) with one replicate: a 1.5-point
    non-inferiority bound is below its resolution (README), so these are judged at full size."""
    return (NONINFERIOR_CLEAN.format(base=pair), NONINFERIOR_PGD20.format(base=pair))


def _s2o(experiment: str, summary: str, gpu: bool = False, pair: str = "at") -> ExperimentSpec:
    return ExperimentSpec(
        # one torch thread per cell on CPU (small MLPs; cells fan out); a GPU per run / trial for CIFAR
        resources={"cpu": 1, "gpu": 1} if gpu else {"cpu": 1},
        name=f"s2o/{experiment}",
        summary=summary,
        config_cls="raylab.methods.s2o.config:S2OConfig",
        entry="raylab.methods.s2o.experiment:run",
        reproduce=not gpu,
        user_data=f"raylab run s2o/{experiment} --set data.root=<your cifar-10-batches-py folder>"
        if gpu
        else "",
        size_dependent=non_inferiority_claims(pair),
    )


EXPERIMENTS = [
    _s2o(
        "mnist_at",
        "PGD-AT vs AT+S2O on MNIST-5k (MLP, eps 0.1), 2 replicates: clean / PGD-20 / CW-20 / AutoAttack, "
        "logit and last-layer correlations (S2O-d, S2O-e, non-inferiority)",
    ),
    _s2o(
        "mnist_trades",
        "TRADES vs TRADES+S2O (beta 6) on MNIST-5k: PGD-20 >= 0.4 at eps 0.1 (S2O-g), mechanism, attacks",
        pair="trades",
    ),
    _s2o(
        "cifar10_at",
        "AT+S2O, PreActResNet-18, CIFAR-10 from a local folder, the official 200-epoch protocol (best of "
        "epochs 100-109 and the final model, 10,000 test images, AutoAttack standard), one GPU, "
        "checkpointed per epoch; AT / TRADES / SAM beside it: the variants sweep, one GPU per trial",
        gpu=True,
    ),
    _s2o(
        "cifar10_trades_wrn",
        "TRADES+S2O (beta 6), WRN-34-10, CIFAR-10 from a local folder, the official 200-epoch protocol "
        "(best of epochs 100-109 and the final model, 10,000 test images, AutoAttack standard), one GPU",
        gpu=True,
        pair="trades",
    ),
]

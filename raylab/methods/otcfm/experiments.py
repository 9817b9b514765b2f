"""OT-CFM-as-proximal-operators experiments (torch-free: `raylab list` imports this module only)."""

from raylab.registry import ExperimentSpec

PAPER = (
    "Flow Matching from the Viewpoint of Proximal Operators (OT-CFM: extended Brenier "
    "potential, minibatch convergence, terminal normal hyperbolicity)"
)
B4_L2_DECREASING, B4_W2 = "B4.l2_decreasing", "B4.w2"
B4_VS_TORCHCFM, B4_VS_NOREPLACE = "B4.vs_torchcfm", "B4.vs_torchcfm_noreplace"
# train2d: the smoke run trains 200 steps instead of 3000, a different model (README)
TRAINED_FIELD_CLAIMS = (B4_L2_DECREASING, B4_W2, B4_VS_TORCHCFM, B4_VS_NOREPLACE)


def _otcfm(
    experiment: str,
    summary: str,
    config_cls: str,
    entry: str,
    size_dependent: tuple[str, ...] = (),
    reproduce: bool = True,
) -> ExperimentSpec:
    return ExperimentSpec(
        resources={"cpu": 1},  # one thread: numpy / scipy assignment and a small MLP per item
        name=f"otcfm/{experiment}",
        summary=summary,
        config_cls=f"raylab.methods.otcfm.config:{config_cls}",
        entry=f"raylab.methods.otcfm.{entry}:run",
        size_dependent=size_dependent,
        reproduce=reproduce,
    )


EXPERIMENTS = [
    _otcfm(
        "proximal_field",
        "discrete target: time-t power diagram, exact simplex-QP prox, field = x1 - x0; sphere prox "
        "expression vs the analytic field (B1, B2; identities that hold for any duals: invariants only)",
        "ProximalFieldConfig",
        "proximal",
        reproduce=False,
    ),
    _otcfm(
        "minibatch_convergence",
        "B x B exact couplings vs the population map, B = 16..2048: log-log slopes (B3)",
        "MinibatchConfig",
        "minibatch",
    ),
    _otcfm(
        "normal_hyperbolicity",
        "rate-1 normal contraction in s = -log(1-t), tangential neutrality, gap disk (B2, B5, B6)",
        "HyperbolicityConfig",
        "hyperbolicity",
    ),
    _otcfm(
        "train2d",
        "MLP field trained with exact-OT CFM on 2-D targets (circle, von Mises, 8 Gaussians, discrete): "
        "L2 error vs the exact field, W2 of samples, our trainer beside torchcfm (B4)",
        "Train2DConfig",
        "train2d",
        size_dependent=TRAINED_FIELD_CLAIMS,
    ),
]

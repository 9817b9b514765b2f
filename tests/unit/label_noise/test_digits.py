"""Maths checks of the digits run's lazy-regime reference: the linearisation and the empirical NTK."""

import numpy as np
import torch

from raylab.methods.label_noise.claims import digits_claims
from raylab.methods.label_noise.digits import (
    empirical_ntk,
    init_params,
    linearisation,
    network,
)


def tiny(seed: int = 0, n: int = 6, d: int = 4, hidden: int = 5):
    generator = torch.Generator().manual_seed(seed)
    params = init_params(d, hidden, generator)
    params[1] = torch.randn(hidden, generator=generator, dtype=torch.float64)  # nonzero biases test b1
    return params, torch.randn(n, d, generator=generator, dtype=torch.float64)


def jacobian(params, inputs) -> torch.Tensor:
    """d f(inputs) / d θ by autograd, rows (image, class), columns all parameters flattened."""
    columns = torch.func.jacrev(lambda *ps: network(list(ps), inputs), argnums=(0, 1, 2, 3))(*params)
    return torch.cat([c.reshape(len(inputs) * 10, -1) for c in columns], dim=1)


def test_empirical_ntk_is_the_jacobian_gram_matrix():
    params, inputs = tiny()
    j = jacobian(params, inputs)
    assert torch.allclose(empirical_ntk(params, inputs), j @ j.T, rtol=0, atol=1e-12)


def test_linearisation_is_the_first_order_taylor_model():
    params, inputs = tiny()
    forward = linearisation(params, inputs)
    rows = torch.arange(len(inputs))
    assert torch.allclose(forward(params, rows), network(params, inputs), atol=1e-14)
    direction = [torch.randn_like(p, generator=torch.Generator().manual_seed(1)) for p in params]
    delta = torch.cat([d.flatten() for d in direction])
    predicted = network(params, inputs).flatten() + jacobian(params, inputs) @ delta
    moved = [p + d for p, d in zip(params, direction)]
    # linear in θ by construction: exactly f(θ0) + J (θ − θ0), for any step
    assert torch.allclose(forward(moved, rows).flatten(), predicted, atol=1e-12)
    # the network is linear in the second layer, so moving only (w2, b2) leaves no Taylor remainder
    second_only = params[:2] + [p + d for p, d in zip(params[2:], direction[2:])]
    assert torch.allclose(forward(second_only, rows), network(second_only, inputs), atol=1e-12)
    # and the remainder along the first layer is second order: halving the step quarters it
    errors = []
    for eps in (1e-3, 5e-4):  # third-order term: ratio 4 (1 + O(eps))
        shifted = [params[0] + eps * direction[0], params[1] + eps * direction[1], *params[2:]]
        errors.append((forward(shifted, rows) - network(shifted, inputs)).norm().item())
    assert abs(errors[0] / errors[1] - 4.0) < 0.1


def trace(norm_end: float, kernel_end: float, sharpness_end: float) -> dict[str, np.ndarray]:
    return {
        "norm_mean": np.array([1.0, norm_end]),
        "kernel_change": np.array([0.0, kernel_end]),
        "sharpness": np.array([10.0, sharpness_end]),
    }


def test_digits_claims_pass_on_the_mechanism_and_fail_on_lazy_training():
    clean = [trace(1.0, 0.15, 10.0)] * 2
    passed = {c.id: c.passed for c in digits_claims(clean, [trace(0.8, 0.8, 2.0)] * 2)}
    assert all(passed.values())
    lazy = {c.id: c.passed for c in digits_claims(clean, [trace(0.8, 0.2, 6.0), trace(0.8, 0.8, 2.0)])}
    assert lazy == {"digits.shrink": True, "digits.leaves_lazy": False, "digits.flattens": False}
    assert not next(
        c for c in digits_claims(clean, [trace(0.96, 0.8, 2.0)] * 2) if c.id == "digits.shrink"
    ).passed

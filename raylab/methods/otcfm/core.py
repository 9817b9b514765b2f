"""The population OT-CFM field as a proximal operator (Flow Matching from the Viewpoint of Proximal
Operators; the derivation is in this method's README). Pure numpy: no Ray, no I/O.

Source mu_0 = N(0, I_d), sigma = 0. With Brenier potential phi and g = phi* - |.|^2 / 2:
    x_1(x, t) = prox_{(1-t) g}(x),    v_t(x) = (x_1(x, t) - x) / (1 - t)          (prox form)
and in rescaled time s = -log(1 - t):  dx/ds = x_1(x, t) - x.
Discrete targets: phi(x) = max_j <x, y_j> - w_j with w_j = (|y_j|^2 - v_j) / 2 (v: semi-discrete duals
for the cost |x - y|^2). Circle / sphere targets: phi = |.|, phi* = indicator of the unit ball.
"""

from __future__ import annotations

import itertools

import numpy as np


def time_of(s: np.ndarray | float) -> np.ndarray | float:
    """t = 1 - exp(-s): the inverse of the rescaled time s = -log(1 - t)."""
    return -np.expm1(-np.asarray(s, dtype=float))


# --- circle / sphere targets (uniform on the unit sphere S^{d-1}) ---------------------------------


def sphere_prox(x: np.ndarray, t: float) -> np.ndarray:
    """x_1 = prox_{((1-t)/t) phi*}(x / t) = Proj_{unit ball}(x / t)  (t > 0): the prox expression."""
    if not 0 < t < 1:
        raise ValueError(f"the prox expression needs 0 < t < 1, got {t}")
    y = x / t
    norm = np.linalg.norm(y, axis=-1, keepdims=True)
    return np.where(norm > 1.0, y / np.maximum(norm, 1e-300), y)


def sphere_field(x: np.ndarray, t: float) -> np.ndarray:
    """The analytic field: (x/|x|)(1 - |x|)/(1 - t) for |x| > t; x / t inside the gap ball |x| <= t."""
    r = np.linalg.norm(x, axis=-1, keepdims=True)
    outside = (x / np.maximum(r, 1e-300)) * (1.0 - r) / (1.0 - t)
    return np.where(r > t, outside, x / max(t, 1e-300))


def sphere_endpoint(x: np.ndarray, t: float) -> np.ndarray:
    """x_1(x, t) for every t in [0, 1): x/|x| outside radius t (the Brenier map at t = 0), x/t inside."""
    r = np.linalg.norm(x, axis=-1, keepdims=True)
    return np.where(r > t, x / np.maximum(r, 1e-300), x / max(t, 1e-300))


def integrate_rescaled(x: np.ndarray, endpoint, s0: float, s1: float, ds: float, record_every: int = 1):
    """RK4 on dx/ds = endpoint(x, t(s)) - x from s0 to s1 in ceil((s1 - s0)/ds) equal steps; returns
    (s grid, states [len(grid), *x.shape]) every `record_every` steps and at s1."""
    steps = int(np.ceil((s1 - s0) / ds - 1e-9))
    if steps < 1:
        raise ValueError(f"need s1 > s0, got s0 = {s0}, s1 = {s1}")
    h = (s1 - s0) / steps

    def f(s, y):
        return endpoint(y, float(time_of(s))) - y

    grid, states, s = [s0], [x.copy()], s0
    for k in range(1, steps + 1):
        k1 = f(s, x)
        k2 = f(s + h / 2, x + h / 2 * k1)
        k3 = f(s + h / 2, x + h / 2 * k2)
        k4 = f(s + h, x + h * k3)
        x = x + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        s = s0 + k * h
        if k % record_every == 0 or k == steps:
            grid.append(s)
            states.append(x.copy())
    return np.array(grid), np.stack(states)


# --- discrete targets ------------------------------------------------------------------------------


def power_scores(x: np.ndarray, atoms: np.ndarray, duals: np.ndarray, t: float) -> np.ndarray:
    """|x - y_k|^2 - (1 - t) v_k for every atom k: [n, m]. t = 0 scores the source Laguerre cells."""
    sq = (x**2).sum(-1)[:, None] - 2.0 * x @ atoms.T + (atoms**2).sum(-1)[None, :]
    return sq - (1.0 - t) * duals[None, :]


def power_index(x: np.ndarray, atoms: np.ndarray, duals: np.ndarray, t: float = 0.0) -> np.ndarray:
    """j*(x, t) = argmin_k |x - y_k|^2 - (1 - t) v_k: the time-t power diagram (t = 0: Laguerre cells)."""
    return power_scores(x, atoms, duals, t).argmin(axis=1)


def discrete_field(x: np.ndarray, atoms: np.ndarray, duals: np.ndarray, t: float) -> np.ndarray:
    """v_t(x) = (y_{j*(x,t)} - x) / (1 - t) on supp mu_t (the power-diagram form)."""
    return (atoms[power_index(x, atoms, duals, t)] - x) / (1.0 - t)


def brenier_weights(atoms: np.ndarray, duals: np.ndarray) -> np.ndarray:
    """w_j = (|y_j|^2 - v_j) / 2, so that phi(x) = max_j <x, y_j> - w_j."""
    return 0.5 * ((atoms**2).sum(-1) - duals)


def _face_qp(x, atoms, weights, t, face):
    """The simplex QP restricted to the affine hull of the atoms in `face` (KKT system, exact):
    returns (lambda on the face [n, k], objective [n])."""
    ys, ws, k = atoms[list(face)], weights[list(face)], len(face)
    kkt = np.zeros((k + 1, k + 1))
    kkt[:k, :k], kkt[:k, k], kkt[k, :k] = t * ys @ ys.T, 1.0, 1.0
    rhs = np.concatenate([x @ ys.T - (1.0 - t) * ws[None, :], np.ones((len(x), 1))], axis=1)
    lam = np.linalg.solve(kkt, rhs.T).T[:, :k]
    z = lam @ ys
    objective = (1.0 - t) * lam @ ws + 0.5 * t * (z**2).sum(-1) - (x * z).sum(-1)
    return lam, objective


def simplex_qp_prox(x: np.ndarray, atoms: np.ndarray, weights: np.ndarray, t: float) -> np.ndarray:
    """The full prox x_1 = Y lambda*, lambda* = argmin_{lambda in simplex} (1-t)<lambda, w> + t|Y lambda|^2/2
    - <x, Y lambda>; it covers the gaps of supp mu_t too (faces of conv supp mu_1).

    Exact, by enumeration: the objective depends on lambda only through <lambda, w> and Y lambda
    (d + 1 numbers with the sum constraint), so a minimiser with at most d + 1 = 3 atoms exists
    (a basic solution of the LP in lambda at the optimal Y lambda). Each face of <= 3 affinely
    independent atoms is solved exactly and the best feasible one kept. Needs d = 2."""
    if atoms.shape[1] != 2:
        raise ValueError("simplex_qp_prox enumerates faces of <= 3 atoms: it needs 2-D atoms")
    best = np.full(len(x), np.inf)
    result = np.zeros_like(x)
    for face in _faces(len(atoms), atoms):
        lam, objective = _face_qp(x, atoms, weights, t, face)
        better = (lam >= -1e-12).all(axis=1) & (objective < best)
        best = np.where(better, objective, best)
        result[better] = lam[better] @ atoms[list(face)]
    return result


def _faces(m: int, atoms: np.ndarray):
    """Index tuples of 1, 2 and 3 affinely independent atoms."""
    for k in (1, 2, 3):
        for face in itertools.combinations(range(m), k):
            edges = atoms[list(face[1:])] - atoms[face[0]]
            if k == 1 or np.linalg.matrix_rank(edges, tol=1e-12) == k - 1:
                yield face


def prox_field(x: np.ndarray, atoms: np.ndarray, weights: np.ndarray, t: float) -> np.ndarray:
    """v_t(x) = (prox_{(1-t) g}(x) - x) / (1 - t), defined everywhere (gaps included)."""
    return (simplex_qp_prox(x, atoms, weights, t) - x) / (1.0 - t)


def straight_paths(x0: np.ndarray, endpoints: np.ndarray, s: np.ndarray) -> np.ndarray:
    """x(s) = y + exp(-s)(x0 - y): the exact OT-CFM paths in rescaled time, [len(s), n, d]."""
    decay = np.exp(-np.asarray(s, dtype=float))[:, None, None]
    return endpoints[None] + decay * (x0 - endpoints)[None]


def loglog_slope(x: np.ndarray, y: np.ndarray) -> float:
    """Least-squares slope of log y against log x (a rate: y ~ x^slope)."""
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])


def log_slope(s: np.ndarray, y: np.ndarray) -> float:
    """Least-squares slope of log y against s (an exponential rate: y ~ exp(slope s))."""
    return float(np.polyfit(s, np.log(y), 1)[0])

"""Two-layer linear network f(x) = a^T W x trained by label-noise SGD or SAM, vectorised over seeds.

Model and update (our reconstruction where the paper text was unavailable):
  r_i = a^T W x_i - (y_i + xi_t),  xi_t fresh every step (Gaussian N(0, delta^2) or +-delta),
  a <- a - eta mean_i r_i W x_i,   w_j <- w_j - eta mean_i r_i a_j x_i      (loss 1/2 r^2).
SAM (Foret et al.): eps = rho g / ||g||, theta <- theta - eta grad L(theta + eps) on the same batch.
Every array carries a leading seed axis S, so S independent runs cost one Python loop.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np


@dataclasses.dataclass
class Task:
    """Regression data per seed: x (S, n, d), clean labels y (S, n), teacher beta (S, d), test set."""

    x: np.ndarray
    y: np.ndarray
    beta: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def make_task(
    rngs: list[np.random.Generator], d: int, n: int, n_test: int, sparsity: int = 0, teacher_norm: float = 1.0
) -> Task:
    """x ~ N(0, I_d), y = beta*^T x with a teacher of norm `teacher_norm` (dense, or `sparsity`
    non-zeros)."""
    xs, betas, tests = [], [], []
    for rng in rngs:
        # DEVIATION: [R] teacher: a unit-norm Gaussian direction, isotropic Gaussian inputs.
        beta = rng.standard_normal(d)
        if sparsity:
            beta[rng.permutation(d)[sparsity:]] = 0.0
        betas.append(teacher_norm * beta / np.linalg.norm(beta))
        xs.append(rng.standard_normal((n, d)))
        tests.append(rng.standard_normal((n_test, d)))
    x, beta, x_test = np.stack(xs), np.stack(betas), np.stack(tests)
    return Task(x, np.einsum("snd,sd->sn", x, beta), beta, x_test, np.einsum("snd,sd->sn", x_test, beta))


def init_params(
    rngs: list[np.random.Generator], m: int, d: int, scale: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """a_j ~ N(0, scale^2/m), w_j ~ N(0, scale^2 I/d) (scale 1: our reading of arXiv 2603.10397)."""
    # DEVIATION: [R] the initialisation scales are our reading of the paper, not its code.
    a = np.stack([scale * rng.standard_normal(m) / np.sqrt(m) for rng in rngs])
    w = np.stack([scale * rng.standard_normal((m, d)) / np.sqrt(d) for rng in rngs])
    return a, w


def gradients(a: np.ndarray, w: np.ndarray, xb: np.ndarray, targets: np.ndarray):
    """Gradients of 1/(2B) sum_b (a^T W x_b - t_b)^2 for every seed: (S, m) and (S, m, d)."""
    # DEVIATION: [R] loss scaling 1/2 per sample, averaged over the batch (the drift ~ lr delta^2 / B).
    # batched matmuls, not einsum: 9x faster at B = 200 (the full-batch runs), equal to 1e-13
    hidden = xb @ w.transpose(0, 2, 1)  # (S, B, m)
    residual = (hidden @ a[:, :, None])[:, :, 0] - targets  # (S, B)
    batch = xb.shape[1]
    grad_a = (hidden.transpose(0, 2, 1) @ residual[:, :, None])[:, :, 0] / batch
    grad_w = a[:, :, None] * ((residual[:, None, :] @ xb)[:, 0, :] / batch)[:, None, :]
    return grad_a, grad_w


def sgd_step(a, w, xb, targets, lr: float):
    grad_a, grad_w = gradients(a, w, xb, targets)
    return a - lr * grad_a, w - lr * grad_w


def sam_step(a, w, xb, targets, lr: float, rho: float):
    """Ascend by rho along the normalised batch gradient, then descend with the gradient there."""
    # DEVIATION: [R] SAM normalises the joint (a, W) gradient, per seed (Foret et al.'s form).
    grad_a, grad_w = gradients(a, w, xb, targets)
    norm = np.sqrt(np.sum(grad_a**2, axis=1) + np.sum(grad_w**2, axis=(1, 2)))
    scale = rho / np.maximum(norm, 1e-12)
    grad_a, grad_w = gradients(a + scale[:, None] * grad_a, w + scale[:, None, None] * grad_w, xb, targets)
    return a - lr * grad_a, w - lr * grad_w


def metrics(a: np.ndarray, w: np.ndarray, task: Task) -> dict[str, np.ndarray]:
    """Per-seed phase indicators: neuron norms, |a|, |cos(w_j, beta*)|, inverse stable rank, losses."""
    norms = np.linalg.norm(w, axis=2)
    unit_teacher = task.beta / np.linalg.norm(task.beta, axis=1, keepdims=True)
    cos = np.abs(np.einsum("smd,sd->sm", w, unit_teacher)) / np.maximum(norms, 1e-300)
    spectral = np.linalg.norm(w, ord=2, axis=(1, 2)) ** 2
    frobenius = np.sum(w**2, axis=(1, 2))
    effective = np.einsum("sm,smd->sd", a, w)  # the linear map a^T W
    train = 0.5 * np.mean((np.einsum("snd,sd->sn", task.x, effective) - task.y) ** 2, axis=1)
    test = 0.5 * np.mean((np.einsum("snd,sd->sn", task.x_test, effective) - task.y_test) ** 2, axis=1)
    return {
        "norm": norms.mean(axis=1),
        "abs_a": np.abs(a).mean(axis=1),
        "cos": cos.mean(axis=1),
        "inv_stable_rank": spectral / frobenius,
        "train_loss": train,
        "test_loss": test,
    }


@dataclasses.dataclass
class Schedule:
    """Noise level per step: `delta` while on; periodic on/off windows; noise-free finishing steps."""

    delta: float
    steps: int
    period: int = 0  # 0: always on; else on for `period` steps, off for `period`, ...
    finish_steps: int = 0  # extra noise-free steps after `steps`

    @property
    def total(self) -> int:
        return self.steps + self.finish_steps

    def on(self, step: int) -> bool:
        """Whether the noise (or the forcing) is on at this step."""
        return step < self.steps and not (self.period and (step // self.period) % 2 == 1)

    def level(self, step: int) -> float:
        return self.delta if self.on(step) else 0.0


def train(
    a,
    w,
    task: Task,
    schedule: Schedule,
    lr: float,
    batch: int,
    rng: np.random.Generator,
    log_every: int,
    noise: str = "gaussian",
    sam_rho: float = 0.0,
    fresh_noise: bool = True,
    oscillate: float = 0.0,
    on_log: Callable[[int, dict], None] | None = None,
) -> dict[str, np.ndarray]:
    """Run the schedule; metrics (one row per seed) every `log_every` steps and at the end.

    `fresh_noise=False` is the ablation "noise drawn once per sample" (a fixed corrupted data set).
    `oscillate` > 0 forces the second layer directly while the schedule is on: each step is taken at
    a + oscillate * xi_t (xi_t ~ N(0, I_m) fresh), and the kick is removed again afterwards.
    """
    seeds, n = task.y.shape
    fixed = _draw_noise(rng, noise, (seeds, n)) if not fresh_noise else None
    rows, steps = [], []
    for step in range(schedule.total + 1):
        if step % log_every == 0 or step == schedule.total:
            if not (np.isfinite(a).all() and np.isfinite(w).all()):
                raise FloatingPointError(
                    f"training diverged by step {step} (non-finite weights): lower train.lr, "
                    "train.init_scale, data.teacher_norm or train.delta"
                )
            row = metrics(a, w, task)
            rows.append(row)
            steps.append(step)
            if on_log is not None:
                on_log(step, row)
        if step == schedule.total:
            break
        idx = rng.integers(0, n, size=(seeds, batch))
        xb = np.take_along_axis(task.x, idx[:, :, None], axis=1)
        targets = np.take_along_axis(task.y, idx, axis=1)
        level = schedule.level(step)
        if level:
            unit = (
                _draw_noise(rng, noise, idx.shape) if fresh_noise else np.take_along_axis(fixed, idx, axis=1)
            )
            targets = targets + level * unit
        # DEVIATION: [R] the repository's oscillation notebooks were not readable; this forcing is the
        # mechanism of the paper's Phase I (a jitters, so E_xi of the W-step adds -lr oscillate^2 w_j).
        kick = oscillate * rng.standard_normal(a.shape) if oscillate and schedule.on(step) else 0.0
        step_at = a + kick
        a, w = (
            sam_step(step_at, w, xb, targets, lr, sam_rho)
            if sam_rho
            else sgd_step(step_at, w, xb, targets, lr)
        )
        a = a - kick
    out = {key: np.stack([r[key] for r in rows], axis=1) for key in rows[0]}  # (S, T)
    out["step"] = np.array(steps)
    return out


def _draw_noise(rng: np.random.Generator, kind: str, shape) -> np.ndarray:
    # DEVIATION: [R] the noise form: additive on the label, Gaussian N(0, 1) or Rademacher, times delta.
    if kind == "gaussian":
        return rng.standard_normal(shape)
    if kind == "sign":
        return rng.choice([-1.0, 1.0], size=shape)
    raise ValueError(f"unknown label noise '{kind}' (gaussian or sign)")


def first_step(steps: np.ndarray, condition: np.ndarray) -> float:
    """First logged step where `condition` holds, or inf."""
    hits = np.nonzero(condition)[0]
    return float(steps[hits[0]]) if hits.size else float("inf")


def phase_boundaries(
    trace: dict[str, np.ndarray], norm_factor: float = 0.7, align_rise: float = 0.15
) -> tuple[np.ndarray, np.ndarray]:
    """Per seed: t_N (norm < 0.7 x start) and t_A (mean |cos| > start + 0.15)."""
    steps = trace["step"]
    t_norm = np.array([first_step(steps, row < norm_factor * row[0]) for row in trace["norm"]])
    t_align = np.array([first_step(steps, row > row[0] + align_rise) for row in trace["cos"]])
    return t_norm, t_align

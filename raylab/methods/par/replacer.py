"""Proximal action replacement (PAR), framework-agnostic over torch tensors.

As released (NeuroDong/OfflineRL-PAR `agents/TD3_BC.py`): on a gated actor step the
batch states and their TARGET-actor actions join a FIFO pool (2000 rows); the k = int(B p) rows of
the batch with the lowest ranking key (the Bellman target y) are dropped and replaced by k pool rows
drawn uniformly with replacement. p grows linearly from p_min at t_start to p_max at t_total. The
critic never sees the mixed batch.

Gate (`gate`):
  "lifetime_mean" (released, default): open iff beta * Lbar > L_t, with the clipped lifetime mean
                   Lbar <- Lbar t/(t+1) + min(L_t/(t+1), 1.5 Lbar)  (Lbar = L_0 at the first step);
  "off":           always open after t_start (beta = infinity);
  "window":        NON-PAPER: open iff beta * EMA_w(L) > L_t, an exponential mean over ~`window` steps,
                   so that a critic loss that rises during training does not close the gate for good.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import torch

GATES = ("lifetime_mean", "off", "window")


@dataclasses.dataclass
class MixInfo:
    gate_open: bool
    k: int  # rows replaced
    p: float  # scheduled ratio at this step


class ProximalActionReplacer:
    def __init__(
        self,
        t_start: int,
        t_total: int,
        p_min: float = 0.0,
        p_max: float = 0.5,
        beta: float = 1.5,
        pool_size: int = 2000,
        gate: str = "lifetime_mean",
        window: int = 1000,
        rank: bool = True,
    ):
        if gate not in GATES:
            raise ValueError(f"gate must be one of {', '.join(GATES)}, not '{gate}'")
        if not 0 <= p_min <= p_max <= 1 or not 0 <= t_start < t_total or pool_size < 1:
            raise ValueError("PAR needs 0 <= p_min <= p_max <= 1, 0 <= t_start < t_total and pool_size >= 1")
        self.t_start, self.t_total, self.p_min, self.p_max = t_start, t_total, p_min, p_max
        self.beta, self.pool_size, self.gate, self.window, self.rank = beta, pool_size, gate, window, rank
        self.pool_states: torch.Tensor | None = None
        self.pool_actions: torch.Tensor | None = None
        self.loss_mean: float | None = None  # Lbar (lifetime) or the EMA (window)
        self.observed = 0  # critic losses seen (t in the Lbar update)

    def ratio(self, step: int) -> float:
        """p(t): 0 before t_start, then linear from p_min (t_start) to p_max (t_total)."""
        if step < self.t_start:
            return 0.0
        frac = min(1.0, (step - self.t_start) / (self.t_total - self.t_start))
        return self.p_min + frac * (self.p_max - self.p_min)

    def gate_open(self, step: int, critic_loss: float) -> bool:
        if step < self.t_start:
            return False
        if self.gate == "off":
            return True
        return self.loss_mean is not None and self.beta * self.loss_mean > critic_loss

    def observe_critic_loss(self, loss: float) -> None:
        """Update the running critic loss after the step's gate decision (as released)."""
        t = self.observed
        if self.loss_mean is None:
            self.loss_mean = loss
        elif self.gate == "window":
            self.loss_mean += (loss - self.loss_mean) / min(t + 1, self.window)
        else:
            self.loss_mean = self.loss_mean * t / (t + 1) + min(loss / (t + 1), 1.5 * self.loss_mean)
        self.observed += 1

    def mix(
        self,
        states: torch.Tensor,
        actions: torch.Tensor,
        rank_key: torch.Tensor,
        step: int,
        critic_loss: float,
        propose: Callable[[torch.Tensor], torch.Tensor],
        generator: torch.Generator | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor, MixInfo]:
        """The actor's batch for this step: (S~, A~) and what happened. With the gate closed or k = 0
        the input tensors are returned as they are."""
        p = self.ratio(step)
        if not self.gate_open(step, critic_loss):
            return states, actions, MixInfo(False, 0, p)
        with torch.no_grad():
            self._push(states, propose(states))
        assert self.pool_states is not None and self.pool_actions is not None  # just pushed
        batch = len(states)
        k = min(int(batch * p), len(self.pool_states))
        if k == 0:
            return states, actions, MixInfo(True, 0, p)
        keep = (
            torch.topk(rank_key.reshape(-1), batch - k).indices
            if self.rank
            else torch.randperm(batch, generator=generator)[: batch - k]
        )
        drawn = torch.randint(len(self.pool_states), (k,), generator=generator)
        return (
            torch.cat([states[keep], self.pool_states[drawn]]),
            torch.cat([actions[keep], self.pool_actions[drawn]]),
            MixInfo(True, k, p),
        )

    def _push(self, states: torch.Tensor, proposed: torch.Tensor) -> None:
        states, proposed = states.detach(), proposed.detach()
        if self.pool_states is not None and self.pool_actions is not None:  # (set together)
            states, proposed = torch.cat([self.pool_states, states]), torch.cat([self.pool_actions, proposed])
        self.pool_states, self.pool_actions = states[-self.pool_size :], proposed[-self.pool_size :]

    def state_dict(self) -> dict:
        return {
            "pool_states": self.pool_states,
            "pool_actions": self.pool_actions,
            "loss_mean": self.loss_mean,
            "observed": self.observed,
        }

    def load_state_dict(self, state: dict) -> None:
        self.pool_states, self.pool_actions = state["pool_states"], state["pool_actions"]
        self.loss_mean, self.observed = state["loss_mean"], state["observed"]

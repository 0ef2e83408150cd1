"""GFlowNet training losses as objects: one small interface, one class per method.

A loss is a :class:`GFNLoss`: called on a :class:`LossBatch` (the trained trajectories'
log-flows and rewards) it returns the scalar tensor one optimizer step minimizes. The
``mogfn`` solver uses :class:`TrajectoryBalance` unless given another loss (``loss=``),
``op-gfn`` uses :class:`OrderPreserving`; the training loop calls whichever it was given.

- :class:`TrajectoryBalance` — the MOGFN-PC loss of Jain et al., "Multi-Objective
  GFlowNets" (ICML 2023): trajectory balance (Malkin et al., NeurIPS 2022) with a
  log-partition conditioned on the preference ω and the reward exponent β,
  ``mean_i (log Z(ω_i, β_i) + Σ_t log P_F - β_i log R(x_i | ω_i) - Σ_t log P_B)²``.
- :class:`OrderPreserving` — the OP-GFN loss of Chen & Mauch, "Order-Preserving
  GFlowNets" (ICLR 2024): the cross-entropy between the softmax over the batch of the
  learned log-reward ``log R̂(x) = log Z + Σ_t log P_F - Σ_t log P_B`` and the uniform
  distribution over the batch's non-dominated samples. No scalarization.

Example:
    >>> import numpy as np, torch
    >>> batch = LossBatch(log_z=torch.tensor([1.0, 1.0]), log_pf=torch.tensor([-1.0, -2.0]),
    ...                   log_pb=torch.tensor([0.0, 0.0]),
    ...                   rewards=np.array([[1.0, 0.0], [0.0, 1.0]]),
    ...                   log_reward=np.array([0.0, -0.5]), beta=np.array([1.0, 2.0]))
    >>> float(TrajectoryBalance()(batch))  # ((1 - 1 - 0)² + (1 - 2 + 1)²) / 2
    0.0
    >>> round(float(OrderPreserving()(batch)), 4)  # both non-dominated: -Σ ½ log softmax
    0.8133
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import torch

from moalign.indicators import nondominated_ranks


@dataclass(frozen=True)
class LossBatch:
    """The `n` trajectories a training step learns from (failed evaluations left out).

    Attributes:
        log_z: `n` log-partition ``log Z(ω_i, β_i)`` (differentiable).
        log_pf: `n` summed forward log-probabilities ``Σ_t log P_F`` (differentiable).
        log_pb: `n` summed backward log-probabilities ``Σ_t log P_B`` (fixed policy).
        rewards: `n x m` objective values as rewards (maximized, non-negative for the
            convex scalarization).
        log_reward: `n` scalarized log-rewards ``log R(x_i | ω_i)`` (float64; the run's
            scalarization, ``convex`` or ``logconvex``).
        beta: `n` reward exponents β_i.
    """

    log_z: torch.Tensor
    log_pf: torch.Tensor
    log_pb: torch.Tensor
    rewards: np.ndarray
    log_reward: np.ndarray
    beta: np.ndarray

    @property
    def log_rhat(self) -> torch.Tensor:
        """`n` learned log-rewards ``log Z + Σ_t log P_F - Σ_t log P_B``."""
        return self.log_z + self.log_pf - self.log_pb


class GFNLoss(ABC):
    """A GFlowNet training loss: ``loss(batch) -> scalar tensor`` to minimize.

    Attributes:
        conditional: whether the loss depends on the conditioning (ω, β). When it does not,
            the policy and log Z are given a constant conditioning, so the learned sampler
            ignores the preference.
    """

    conditional: ClassVar[bool] = True

    @abstractmethod
    def __call__(self, batch: LossBatch) -> torch.Tensor:
        """The scalar (0-d) loss of ``batch``."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class TrajectoryBalance(GFNLoss):
    """MOGFN-PC trajectory balance with a conditional log-partition (Jain et al., ICML 2023).

    ``L = mean_i (log Z(ω_i, β_i) + Σ_t log P_F - β_i log R(x_i | ω_i) - Σ_t log P_B)²``;
    the target ``β_i log R(x_i | ω_i)`` is formed in float64 and cast to float32.
    """

    conditional: ClassVar[bool] = True

    def __call__(self, batch: LossBatch) -> torch.Tensor:
        target = torch.from_numpy(batch.beta * batch.log_reward).float()
        return ((batch.log_rhat - target) ** 2).mean()


class OrderPreserving(GFNLoss):
    """OP-GFN order-preserving loss for Pareto fronts (Chen & Mauch, ICLR 2024).

    ``L = -Σ_i t_i log softmax_batch(log R̂)_i`` with ``t_i = 1[x_i non-dominated] /
    #non-dominated`` among the batch's reward vectors (``log Z`` cancels in the softmax).
    Unconditional: the policy ignores (ω, β).
    """

    conditional: ClassVar[bool] = False

    def __call__(self, batch: LossBatch) -> torch.Tensor:
        best = nondominated_ranks(batch.rewards, maximize=True) == 0
        target = torch.from_numpy(best / max(int(best.sum()), 1)).float()
        return -(target * torch.log_softmax(batch.log_rhat, dim=0)).sum()

"""Training distributions of the conditioning (ω, β) of a GFlowNet policy.

MOGFN-PC (Jain et al., "Multi-Objective GFlowNets", ICML 2023) draws, for every trajectory
of a training step, a preference ``ω ~ Dirichlet(α)`` (or a fixed ω) and a reward exponent
β (fixed, or ``Gamma(k, θ)`` clipped to ``[1e-3, beta_max]``): :class:`PreferencePrior`.
OP-GFN (Chen & Mauch, ICLR 2024) has no conditioning: :class:`Unconditioned` gives the
uniform ω and β = 1 and draws nothing.

Example:
    >>> import numpy as np
    >>> prior = PreferencePrior(n_obj=2, beta=4.0, eval_beta=4.0)
    >>> pref, beta = prior.sample(np.random.default_rng(0), 3)
    >>> pref.shape, beta.tolist()
    ((3, 2), [4.0, 4.0, 4.0])
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, replace

import numpy as np


class ConditionPrior(ABC):
    """Where the (ω, β) of the training trajectories come from.

    Attributes:
        eval_beta: the β a trained sampler is conditioned on by default (evaluation,
            ``sample``).
    """

    eval_beta: float

    @abstractmethod
    def sample(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        """`n x m` preferences and `n` exponents for one training step."""


@dataclass(frozen=True)
class PreferencePrior(ConditionPrior):
    """MOGFN-PC: ``ω ~ Dirichlet(α)`` or fixed, ``β`` fixed or ``~ Gamma(shape, scale)``.

    Args:
        n_obj: number of objectives `m`.
        alpha: Dirichlet concentration.
        beta: fixed exponent, or None to sample ``Gamma(beta_shape, beta_scale)``.
        beta_shape: Gamma shape.
        beta_scale: Gamma scale.
        beta_max: sampled exponents are clipped to ``[1e-3, beta_max]``.
        preference: fixed `m` weights, or None to sample them.
        eval_beta: the default β of the trained sampler.
        shared: one (ω, β) draw per training step, given to every trajectory of the batch
            (the N-grams reference code's choice); False: one draw per trajectory.

    Raises:
        ValueError: if ``preference`` does not have `m` weights.
    """

    n_obj: int
    alpha: float = 1.5
    beta: float | None = None
    beta_shape: float = 2.0
    beta_scale: float = 1.0
    beta_max: float = 32.0
    preference: tuple[float, ...] | None = None
    eval_beta: float = 2.0
    shared: bool = False

    def __post_init__(self) -> None:
        if self.preference is not None and len(self.preference) != self.n_obj:
            raise ValueError(f"preference has {len(self.preference)} weights, the problem "
                             f"has {self.n_obj} objectives")

    def sample(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        if self.shared and n > 1:
            pref, beta = replace(self, shared=False).sample(rng, 1)
            return np.repeat(pref, n, axis=0), np.repeat(beta, n)
        if self.preference is not None:
            pref = np.tile(np.asarray(self.preference, dtype=np.float64), (n, 1))
        else:
            pref = rng.dirichlet(np.full(self.n_obj, self.alpha), size=n)
        if self.beta is not None:
            return pref, np.full(n, self.beta)
        beta = rng.gamma(self.beta_shape, self.beta_scale, size=n)
        return pref, np.clip(beta, 1e-3, self.beta_max)


@dataclass(frozen=True)
class Unconditioned(ConditionPrior):
    """No conditioning: the uniform preference and β = 1 for every trajectory (no draws).

    Args:
        n_obj: number of objectives `m`.
    """

    n_obj: int
    eval_beta: float = 1.0

    def sample(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        return np.full((n, self.n_obj), 1.0 / self.n_obj), np.ones(n)

"""PSL: Pareto set learning for expensive multi-objective optimization.

Xi Lin, Zhiyuan Yang, Xiaoyuan Zhang, Qingfu Zhang. *Pareto Set Learning for Expensive
Multi-Objective Optimization.* NeurIPS 2022 (reference code: Xi-L/PSL-MOBO).

Each round (see :mod:`moalign.solvers.psl._loop` for the loop) trains a fresh
:class:`~moalign.solvers.psl._model.SetNetwork` ``x = h_theta(lambda)`` for `n_steps` Adam
steps (lr 1e-3). A step samples `n_pref_update` preferences ``lambda ~ Dirichlet(1) + 1e-4``
and evaluates the GP lower confidence bound ``y_hat = mu(x) - c * sigma(x)`` (c = 0.1;
minimization, so the bound is optimistic). The scalarization is the *inverse* (dividing)
Tchebycheff with the reference code's small augmentation,

    g(x | lambda) = max_i (y_hat_i(x) - z_i) / lambda_i + rho * sum_i y_hat_i(x),  rho = 0.01,

whose minimizer for preference lambda lies on the ray ``z + t * lambda``. Its gradient with
respect to each `x` is normalized to unit length (as the reference code does) and
back-propagated through the network: ``theta <- Adam(theta, sum_k J_k^T u_k / |u_k|)``.

Proposal: `n_candidates` solutions ``h_theta(lambda)`` for random preferences, plus (with
``n_local = 1``) one step of Tchebycheff gradient descent from each
(``x <- clip(x - 0.01 * grad g, 0, 1)``), all scored by the LCB; the batch is chosen greedily
by hypervolume improvement (:func:`~moalign.solvers.psl._loop.greedy_hv_batch`), by default
with the run's reference point, and one pick per round redraws the coordinates stuck at a
bound across all candidates (:class:`PSLConfig` says why these defaults differ from the
reference code).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
import torch

from moalign.scalarize import inverse_weighted_tchebycheff
from moalign.solvers.base import Result, Solver, register_solver
from moalign.solvers.psl._config import ExpensivePSLConfig
from moalign.solvers.psl._loop import RoundData, run_rounds, sample_preferences
from moalign.solvers.psl._model import SetNetwork

if TYPE_CHECKING:
    from moalign.core.problem import Problem
    from moalign.solvers.context import RunContext

AUGMENT = 0.01  # the reference code's augmentation weight rho


@dataclass(frozen=True)
class PSLConfig(ExpensivePSLConfig):
    """Options of :class:`PSL`; the shared ones are documented in
    :class:`~moalign.solvers.psl._config.ExpensivePSLConfig`.

    Defaults: the published setting except three choices of the batch selection, which
    measured better together on 7 benchmark problems (5 seeds, 110 evaluations: median
    normalized HV +0.08 to +0.22 on ZDT1-3 and DTLZ2, unchanged on VLMOP2, RE21, RE37):
    ``selection_ref="run"`` (the reference code: ``"candidates"``), ``ideal="round"``
    (``"observed"``) and ``explore_slots=1`` (0). ``selection_ref="candidates",
    ideal="observed", explore_slots=0`` restores the reference code's loop.

    Attributes:
        n_local: Tchebycheff gradient steps added per candidate (0 or more).
    """

    n_local: int = 1
    selection_ref: Literal["candidates", "front", "run"] = "run"
    ideal: Literal["observed", "predicted", "round"] = "round"
    explore_slots: int = 1

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.n_local < 0:
            raise ValueError(f"n_local must be >= 0, got {self.n_local}")


def tch_direction(gp_lcb: torch.Tensor, x: torch.Tensor, pref: torch.Tensor, z: torch.Tensor
                  ) -> torch.Tensor:
    """`k x n` gradient of the augmented inverse Tchebycheff of the LCB w.r.t. each row of
    `x` (rows are independent, so one backward pass gives all of them)."""
    g = inverse_weighted_tchebycheff(gp_lcb, pref, z) + AUGMENT * gp_lcb.sum(-1)
    (grad,) = torch.autograd.grad(g.sum(), x)
    return grad


def train_psl(cfg: PSLConfig, data: RoundData) -> tuple[SetNetwork, dict[str, float]]:
    """Train a fresh set network on the GP's LCB (the update rule of the module docstring)."""
    m = data.gp.n_obj
    net = SetNetwork(m, data.n_var, hidden=cfg.hidden, generator=data.gen)
    opt = torch.optim.Adam(net.parameters(), lr=cfg.lr)
    loss = torch.zeros(())
    for _ in range(cfg.n_steps):
        pref = sample_preferences(data.prng, cfg.n_pref_update, m)
        x = net(pref)
        xl = x.detach().requires_grad_(True)
        lcb = data.gp.lcb(xl, cfg.lcb_coef)
        data.update_ideal(lcb)
        u = tch_direction(lcb, xl, pref, data.z)
        u = u / u.norm(dim=1, keepdim=True).clamp_min(1e-12)
        opt.zero_grad()
        x.backward(u)
        opt.step()
        loss = inverse_weighted_tchebycheff(lcb.detach(), pref, data.z).mean()
        data.phase.advance()
    return net, {"tch_lcb": float(loss)}


def propose_psl(cfg: PSLConfig, net: SetNetwork, data: RoundData
                ) -> tuple[np.ndarray, np.ndarray]:
    """Candidates ``h(lambda)`` (+ local Tchebycheff steps) and their LCB values."""
    pref = sample_preferences(data.prng, cfg.n_candidates, data.gp.n_obj)
    with torch.no_grad():
        x = net(pref)
    xs = [x]
    xt = x
    for _ in range(cfg.n_local):
        xl = xt.detach().requires_grad_(True)
        u = tch_direction(data.gp.lcb(xl, cfg.lcb_coef), xl, pref, data.z)
        xt = (xt - 0.01 * u).clamp(0.0, 1.0)
    if cfg.n_local:
        xs.append(xt.detach())
    x_all = torch.cat(xs)
    with torch.no_grad():
        y = data.gp.lcb(x_all, cfg.lcb_coef)
    return x_all.numpy(), y.numpy()


@register_solver("psl")
class PSL(Solver[PSLConfig]):
    """Pareto set learning with GP surrogates (Lin et al., NeurIPS 2022).

    ``Result.model`` is a :class:`~moalign.solvers.psl._model.ParetoSetModel`: the network
    kept by step 3 of :mod:`moalign.solvers.psl._loop` (the last round's unless an earlier
    one's set scores a larger hypervolume under the last GP) with the last round's GP
    (fitted before the last batch was evaluated).

    Example:
        >>> from moalign.testing import toy_zdt1
        >>> from moalign.solvers import Budget, RunContext
        >>> p = toy_zdt1()
        >>> ctx = RunContext(p, Budget(evaluations=8), seed=0)
        >>> res = PSL(n_initial=4, batch_size=2, n_steps=5, n_candidates=20).solve(p, ctx)
        >>> res.archive.n_evals, res.model([[0.5, 0.5]]).shape
        (8, (1, 3))
    """

    Config = PSLConfig

    def solve(self, problem: Problem, ctx: RunContext) -> Result:
        cfg = self.config
        model = run_rounds(problem, ctx, cfg, lambda d: train_psl(cfg, d),
                           lambda net, d: propose_psl(cfg, net, d))
        return Result(ctx.archive, model=model)

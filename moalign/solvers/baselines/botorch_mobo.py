"""Bayesian optimization baselines through BoTorch: ``qnehvi`` and ``qparego``.

Both follow BoTorch's multi-objective tutorial ("Parallel, Multi-Objective BO in BoTorch
with qNEHVI, qNParEGO"):

1. Initial design: ``n_initial`` scrambled Sobol points in the box (one recorded step).
2. Each iteration (one recorded step of ``q = batch_size`` points): fit one
   ``SingleTaskGP`` per objective (``ModelListGP``, inputs mapped to the unit cube, outcomes
   standardized, exact marginal likelihood maximized with ``fit_gpytorch_mll``; the shared
   :func:`moalign.solvers.gp.fit_gp`) on the
   *maximization* view ``Y = -objectives.to_min(F)`` of every successful evaluation (failed,
   NaN points are left out of the training data), then optimize the acquisition function
   with ``optimize_acqf`` (multi-start L-BFGS-B from ``raw_samples`` quasi-random points,
   ``num_restarts`` starts) and evaluate the batch.

Acquisition functions:

- ``qnehvi``: ``qLogNoisyExpectedHypervolumeImprovement`` (Daulton, Balandat & Bakshy,
  "Parallel Bayesian optimization of multiple noisy objectives with expected hypervolume
  improvement", NeurIPS 2021; log form of Ament et al., NeurIPS 2023), with the
  sequential-greedy batch: ``x_j = argmax E[HVI(f(x_j) | f(X_1..j-1), f(X_obs))]``; the
  reference point is the run's (the problem's, or else the worst values of the first batch),
  negated into the maximization view.
- ``qparego``: ``qLogNParEGO`` (Knowles, "ParEGO", IEEE TEVC 2006; the parallel noisy
  variant of Daulton et al., NeurIPS 2020): for each of the ``q`` points a weight vector
  ``w ~ U(simplex)`` and the augmented Chebyshev scalarization (maximized)
  ``s_w(y) = -(max_i w_i z_i + 0.05 sum_i w_i z_i)``, where ``z`` is the minimization view
  scaled to ``[0, 1]`` by the range of the posterior means at the observed points; its noisy
  expected improvement is maximized, with the batch's earlier points pending.

Randomness: all torch draws happen inside :func:`~moalign.core.seeding.seeded_torch`
with ``s = ctx.spawn_seed()`` drawn once per step (BoTorch's
``optimize_acqf`` and ``sample_simplex`` draw from torch's global generator); ``fork_rng``
restores the global state afterwards, so the caller's RNG is left as it was.

Checkpoint: the model is refit from the archive at every step and the seed comes from
``ctx.rng``, so the only state is the iteration counter; a resumed run (archive and
``ctx.rng`` restored by the runner) repeats the uninterrupted run exactly.

Metrics per step: ``bo_iteration`` and ``bo_sobol_fallback`` (1 when the step used Sobol
points because the model could not be fitted or optimized; see :func:`_propose`).

Constraints are not modelled: constrained problems are optimized on the objectives alone
(infeasible points stay in the archive, marked infeasible).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from moalign.core.seeding import seeded_torch
from moalign.core.space import Box
from moalign.solvers.base import Result, Solver, register_solver
from moalign.solvers.gp import fit_gp

if TYPE_CHECKING:
    import torch
    from botorch.models import ModelListGP

    from moalign.core.problem import Problem
    from moalign.solvers.context import RunContext


@dataclass(frozen=True)
class BoTorchMOBOConfig:
    """Options of :class:`QNEHVI` and :class:`QParEGO`.

    Attributes:
        n_initial: Sobol points of the initial design (first step).
        batch_size: points per BO iteration (``q``).
        num_restarts: starts of the multi-start acquisition optimization.
        raw_samples: quasi-random points from which the starts are chosen.
        mc_samples: quasi-MC samples of the posterior for the acquisition value.
        maxiter: L-BFGS-B iterations per start.
        ref_point: the acquisition's hypervolume reference point (qNEHVI): ``"run"`` (the
            run's, the one it is scored with) or ``"inferred"`` (BoTorch's
            ``infer_reference_point`` on the observed Pareto front each iteration: its
            nadir minus 10% of its range, what a user without a reference point gets).
    """

    n_initial: int = 10
    batch_size: int = 5
    num_restarts: int = 10
    raw_samples: int = 256
    mc_samples: int = 128
    maxiter: int = 200
    ref_point: Literal["run", "inferred"] = "run"

    def __post_init__(self) -> None:
        if self.ref_point not in ("run", "inferred"):
            raise ValueError(f"ref_point must be 'run' or 'inferred', got {self.ref_point!r}")
        for name in ("n_initial", "batch_size", "num_restarts", "raw_samples", "mc_samples",
                     "maxiter"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.raw_samples < self.num_restarts:
            raise ValueError("raw_samples must be >= num_restarts")


Proposer = Callable[["ModelListGP", "torch.Tensor", "torch.Tensor", "torch.Tensor",
                     BoTorchMOBOConfig, int], "torch.Tensor"]


def _unit_bounds(d: int) -> torch.Tensor:
    import torch

    return torch.stack([torch.zeros(d, dtype=torch.float64), torch.ones(d, dtype=torch.float64)])


def _options(cfg: BoTorchMOBOConfig) -> dict[str, Any]:
    return {"batch_limit": 5, "maxiter": cfg.maxiter}


def propose_qnehvi(model: ModelListGP, U: torch.Tensor, Y: torch.Tensor, ref_max: torch.Tensor,
                   cfg: BoTorchMOBOConfig, q: int) -> torch.Tensor:
    """`q x d` unit-cube candidates maximizing qLogNEHVI (sequential greedy)."""
    import torch
    from botorch.acquisition.multi_objective.logei import (
        qLogNoisyExpectedHypervolumeImprovement,
    )
    from botorch.optim import optimize_acqf
    from botorch.sampling import SobolQMCNormalSampler

    sampler = SobolQMCNormalSampler(sample_shape=torch.Size([cfg.mc_samples]))
    acqf = qLogNoisyExpectedHypervolumeImprovement(
        model=model, ref_point=ref_max.tolist(), X_baseline=U, sampler=sampler,
        prune_baseline=True,
    )
    cand, _ = optimize_acqf(
        acqf, bounds=_unit_bounds(U.shape[1]), q=q, num_restarts=cfg.num_restarts,
        raw_samples=cfg.raw_samples, options=_options(cfg), sequential=True,
    )
    return cand.detach()


def propose_qparego(model: ModelListGP, U: torch.Tensor, Y: torch.Tensor, ref_max: torch.Tensor,
                    cfg: BoTorchMOBOConfig, q: int) -> torch.Tensor:
    """`q x d` unit-cube candidates: qLogNParEGO with one random simplex weight per point."""
    import torch
    from botorch.acquisition import AcquisitionFunction
    from botorch.acquisition.multi_objective.parego import qLogNParEGO
    from botorch.optim.optimize import optimize_acqf_list
    from botorch.sampling import SobolQMCNormalSampler
    from botorch.utils.sampling import sample_simplex

    acqfs: list[AcquisitionFunction] = []
    for _ in range(q):
        weights = sample_simplex(Y.shape[1], dtype=torch.float64).view(-1)
        sampler = SobolQMCNormalSampler(sample_shape=torch.Size([cfg.mc_samples]))
        acqfs.append(qLogNParEGO(model=model, X_baseline=U, scalarization_weights=weights,
                                 sampler=sampler, prune_baseline=True))
    cand, _ = optimize_acqf_list(
        acqfs, bounds=_unit_bounds(U.shape[1]), num_restarts=cfg.num_restarts,
        raw_samples=cfg.raw_samples, options=_options(cfg),
    )
    return cand.detach()


def _sobol_unit(n: int, d: int, seed: int) -> np.ndarray:
    from botorch.utils.sampling import draw_sobol_samples

    return draw_sobol_samples(_unit_bounds(d), n=n, q=1, seed=seed).squeeze(1).numpy()


def _training_data(problem: Problem, ctx: RunContext) -> tuple[np.ndarray, np.ndarray]:
    """Unit-cube inputs and maximization-view outcomes of every successful evaluation."""
    space: Box = problem.space  # type: ignore[assignment]
    a = ctx.archive
    F = np.asarray(a.F, dtype=np.float64)
    ok = ~a.failed & np.all(np.isfinite(F), axis=1)
    U = space.to_unit(np.asarray(a.X, dtype=np.float64)[ok])
    return U, -problem.objectives.to_min(F[ok])


def inferred_reference(Y: np.ndarray) -> np.ndarray:
    """BoTorch's ``infer_reference_point`` on the non-dominated rows of ``Y`` (maximization
    view): the front's nadir minus 10% of its range."""
    import torch
    from botorch.utils.multi_objective.hypervolume import infer_reference_point
    from botorch.utils.multi_objective.pareto import is_non_dominated

    Yt = torch.as_tensor(Y, dtype=torch.float64)
    return np.asarray(infer_reference_point(Yt[is_non_dominated(Yt)]).numpy())


def _propose(problem: Problem, ctx: RunContext, cfg: BoTorchMOBOConfig, q: int,
             propose: Proposer, seed: int) -> tuple[np.ndarray, bool]:
    """One BO step's `q x d` unit-cube batch, and whether it fell back to Sobol points.

    Falls back to a Sobol batch while fewer than two evaluations succeeded, and when the GP
    fit or the acquisition optimization fails numerically (``ModelFittingError``,
    ``NotPSDError``, ``CandidateGenerationError``) so that one bad step does not end a run.
    """
    import torch
    from botorch.exceptions.errors import CandidateGenerationError, ModelFittingError
    from linear_operator.utils.errors import NotPSDError

    U, Y = _training_data(problem, ctx)
    d = problem.space.dim  # type: ignore[attr-defined]
    ref = ctx.archive.ref_point
    if len(U) < 2 or ref is None:
        return _sobol_unit(q, d, seed), True
    ref_max = -problem.objectives.to_min(np.asarray(ref)[None, :])[0]
    if cfg.ref_point == "inferred":
        ref_max = inferred_reference(Y)
    step = f"step {ctx.step + 1}"
    with seeded_torch(seed):
        Ut = torch.as_tensor(U, dtype=torch.float64)
        Yt = torch.as_tensor(Y, dtype=torch.float64)
        try:
            with ctx.phase(f"{step}: fit GP on {len(U)} points"):
                model = fit_gp(Ut, Yt)
            with ctx.phase(f"{step}: optimize the acquisition (q={q})"):
                cand = propose(model, Ut, Yt, torch.as_tensor(ref_max, dtype=torch.float64),
                               cfg, q)
        except (ModelFittingError, NotPSDError, CandidateGenerationError):
            return _sobol_unit(q, d, seed), True
    return np.clip(cand.numpy().astype(np.float64), 0.0, 1.0), False


def bo_loop(problem: Problem, ctx: RunContext, cfg: BoTorchMOBOConfig, propose: Proposer
            ) -> Result:
    """The shared loop of :class:`QNEHVI` and :class:`QParEGO` (see the module docstring)."""
    if not isinstance(problem.space, Box):
        raise TypeError(f"BoTorch solvers need a Box space, got {type(problem.space).__name__}")
    space = problem.space
    state = ctx.load_state() or {"iteration": 0}
    it = int(state["iteration"])
    while not ctx.should_stop():
        seed = ctx.spawn_seed()
        fallback = False
        if it == 0:
            U = _sobol_unit(ctx.batch_size(cfg.n_initial), space.dim, seed)
        else:
            U, fallback = _propose(problem, ctx, cfg, ctx.batch_size(cfg.batch_size), propose,
                                   seed)
        ctx.evaluate(space.from_unit(U),
                     metrics={"bo_iteration": float(it), "bo_sobol_fallback": float(fallback)})
        it += 1
        ctx.save_state({"iteration": it})
    return Result(ctx.archive, info={"iterations": it})


@register_solver("qnehvi")
class QNEHVI(Solver[BoTorchMOBOConfig]):
    """Batch Bayesian optimization with qLogNEHVI (BoTorch) on a ``Box`` space.

    Example:
        >>> from moalign.testing import toy_zdt1
        >>> from moalign.solvers import Budget, RunContext
        >>> p = toy_zdt1()
        >>> ctx = RunContext(p, Budget(evaluations=8), seed=0)
        >>> cfg = dict(n_initial=6, batch_size=2, num_restarts=2, raw_samples=16,
        ...            mc_samples=16, maxiter=10)
        >>> QNEHVI(cfg).solve(p, ctx).archive.n_evals
        8
    """

    Config = BoTorchMOBOConfig

    def solve(self, problem: Problem, ctx: RunContext) -> Result:
        return bo_loop(problem, ctx, self.config, propose_qnehvi)


@register_solver("qparego")
class QParEGO(Solver[BoTorchMOBOConfig]):
    """Batch Bayesian optimization with qLogNParEGO (BoTorch) on a ``Box`` space."""

    Config = BoTorchMOBOConfig

    def solve(self, problem: Problem, ctx: RunContext) -> Result:
        return bo_loop(problem, ctx, self.config, propose_qparego)

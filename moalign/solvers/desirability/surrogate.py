"""The ``surrogate`` method (expensive responses): GPs per response and the expected
improvement of the overall desirability D (Derringer & Suich 1980).

After ``n_initial`` random points in the region, every step fits one BoTorch
``SingleTaskGP`` per response (unit-cube inputs, standardized outcomes; the shared
:func:`moalign.solvers.gp.fit_gp`) and evaluates the maximizer of the Monte-Carlo
**expected improvement of D**,

    a(x) = E[max(D(Y(x)) - D*, 0)],

with ``Y(x)`` drawn from the independent GP posteriors (``mc_samples`` Sobol QMC samples)
and ``D*`` the best D observed, in BoTorch's numerically robust log form
``qLogExpectedImprovement`` (Ament et al., "Unexpected improvements to expected
improvement for Bayesian optimization", NeurIPS 2023, which smooths the ``max(., 0)`` so
that zero-improvement regions keep a usable ranking). D is computed on the samples with the
torch desirabilities, so posterior uncertainty counts: a point whose mean response has
``D = 0`` still scores where some samples reach ``D > D*``. ``a`` is maximized by scoring
``n_candidates`` random region points and refining the best ``n_restarts`` by
``local_rounds`` rounds of batched Gaussian perturbations (one acquisition call per round;
BoTorch's per-call overhead makes point-by-point optimizers slow here).

Failed evaluations (NaN responses) are left out of the training data. The GPs are refit
from the archive every step, so the only state is whether the initial design is done.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypedDict, cast

import numpy as np

from moalign.core.seeding import seeded_torch
from moalign.solvers.gp import fit_gp

if TYPE_CHECKING:
    import torch
    from botorch.acquisition import qLogExpectedImprovement

    from moalign.solvers.desirability.config import DesirabilityConfig
    from moalign.solvers.desirability.evaluator import Evaluator


class SurrogateState(TypedDict):
    """The checkpointed state of :class:`ExpectedImprovementOfD`."""

    initial_done: bool


class ExpectedImprovementOfD:
    """GP per response + Monte-Carlo expected improvement of D (see the module docstring).

    Args:
        cfg: uses ``n_initial``, ``n_candidates``, ``n_restarts``, ``local_rounds`` and
            ``mc_samples``.
    """

    def __init__(self, cfg: DesirabilityConfig) -> None:
        self.cfg = cfg

    def run(self, ev: Evaluator, state: object) -> dict[str, object]:
        """Initial design, then one proposed point per step until the budget is spent,
        resuming from ``state`` (None: a new run). Returns no extra info."""
        ctx = ev.ctx
        st = cast(SurrogateState, state) if state is not None else SurrogateState(
            initial_done=False)
        if not st["initial_done"]:
            n0 = self.cfg.n_initial or 2 * (ev.box.dim + 1)
            ev.evaluate(ev.sample_region(ctx.batch_size(n0)))
            st["initial_done"] = True
            ctx.save_state(st)
        while not ctx.should_stop():
            ev.evaluate(self.propose(ev)[None, :])
            ctx.save_state(st)
        return {}

    def propose(self, ev: Evaluator) -> np.ndarray:
        """The next point (`d`), in the problem's coordinates."""
        import torch

        a = ev.ctx.archive
        ok = np.all(np.isfinite(a.F), axis=1)
        seed = ev.ctx.spawn_seed()
        cand = ev.sample_region(self.cfg.n_candidates)
        if ok.sum() < 2:
            return cand[0]
        U = ev.box.to_unit(np.asarray(a.X[ok], dtype=np.float64))
        with seeded_torch(seed):
            acq = self.acquisition(ev, U, a.F[ok], seed)
            with torch.no_grad():
                best = self._maximize(
                    ev, lambda V: acq(torch.as_tensor(V).unsqueeze(1)).numpy(),
                    ev.box.to_unit(cand))
        return np.asarray(ev.box.from_unit(best))

    def _maximize(self, ev: Evaluator, acq: Callable[[np.ndarray], np.ndarray],
                  Uc: np.ndarray) -> np.ndarray:
        """Maximize the acquisition over unit-cube points: score the candidates ``Uc``,
        then ``local_rounds`` rounds of 64 Gaussian perturbations (from ``ctx.rng``) around
        each of the ``n_restarts`` best points, step 0.1 halved every round; points outside
        the region are dropped. Each round is one batched acquisition call."""
        k = self.cfg.n_restarts
        pts, vals = Uc, acq(Uc)
        sigma = 0.1
        for _ in range(self.cfg.local_rounds):
            top = np.argsort(-vals, kind="stable")[:k]
            pts, vals = pts[top], vals[top]
            P = pts[:, None, :] + sigma * ev.ctx.rng.standard_normal((len(pts), 64, pts.shape[1]))
            P = np.clip(P.reshape(-1, pts.shape[1]), 0.0, 1.0)
            P = P[ev.violation(ev.box.from_unit(P)) <= 0]
            if len(P):
                pts, vals = np.concatenate([pts, P]), np.concatenate([vals, acq(P)])
            sigma /= 2
        return np.asarray(pts[int(np.argmax(vals))])

    def acquisition(self, ev: Evaluator, U: np.ndarray, F: np.ndarray, seed: int
                    ) -> qLogExpectedImprovement:
        """``qLogExpectedImprovement`` of D over ``ev.best`` on GPs fitted to ``(U, F)``.

        Args:
            ev: the evaluator (its overall desirability and best D).
            U: `n x d` unit-cube inputs of the successful evaluations.
            F: `n x m` their responses (user orientation; D maps them).
            seed: seed of the Sobol QMC sampler.
        """
        import torch
        from botorch.acquisition import qLogExpectedImprovement
        from botorch.acquisition.objective import GenericMCObjective
        from botorch.sampling import SobolQMCNormalSampler

        from moalign.scalarize.desirability_torch import from_numpy

        model = fit_gp(torch.as_tensor(U, dtype=torch.float64),
                       torch.as_tensor(F, dtype=torch.float64))
        d_torch = from_numpy(ev.overall)

        def objective(Y: torch.Tensor, X: torch.Tensor | None = None) -> torch.Tensor:
            return d_torch(Y)

        sampler = SobolQMCNormalSampler(torch.Size([self.cfg.mc_samples]), seed=seed)
        return qLogExpectedImprovement(
            model, best_f=ev.best, sampler=sampler, objective=GenericMCObjective(objective))

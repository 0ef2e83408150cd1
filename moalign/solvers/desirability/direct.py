"""The direct methods: multi-start local search on the merit, as the R vignette of Kuhn's
``desirability`` package does with ``optim`` (Derringer & Suich 1980 maximize D directly).

:class:`MultiStart` is the strategy: each round draws ``n_starts`` points from ``ctx.rng``
in the region, evaluates them as one batch, then runs its injected :class:`LocalSearch`
from each start, best start first, in unit-cube coordinates
``u = (x - lower) / (upper - lower)``, until the budget is spent. The merit minimized is
the evaluator's (:mod:`moalign.solvers.desirability.evaluator`). The local searches:

* :class:`NelderMead` (``method: nelder-mead``): Nelder–Mead with bounds
  (``scipy.optimize.minimize``) from a simplex of edge ``initial_step``;
* :class:`Bounded` (``method: bounded``): L-BFGS-B, or SLSQP with the region's constraints
  ``g(x) <= 0`` when the problem has any, on a forward-difference gradient computed from one
  batch of ``d + 1`` points (backward at the upper bound and at the region's boundary).

Checkpoint/resume: the state (round, starts, index of the current start, the look-up table
of evaluated merits) is saved after every record; a resumed run re-runs the interrupted
local search from its start, and because scipy's optimizers are deterministic it asks for
the same points, which the look-up table answers without new evaluations, so the resumed
archive equals the uninterrupted one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, TypedDict, cast

import numpy as np

from moalign.solvers.desirability.evaluator import BudgetSpent, Evaluator

if TYPE_CHECKING:
    from moalign.solvers.desirability.config import DesirabilityConfig

Save = Callable[[], None]


class LocalResult(TypedDict):
    """The end of one local search: point (unit cube), merit, function evaluations."""

    u: np.ndarray
    merit: float
    nfev: int


class SearchRecord(LocalResult):
    """A finished local search, as kept in the state: its round and start index too."""

    round: int
    start: int


class MultiStartState(TypedDict):
    """The checkpointed state of :class:`MultiStart`."""

    round: int
    starts: np.ndarray | None
    next: int
    runs: list[SearchRecord]
    cache: dict[bytes, float]


class LocalSearch(Protocol):
    """One local minimization of the merit from a unit-cube start point."""

    def search(self, u0: np.ndarray, ev: Evaluator, save: Save) -> LocalResult:
        """Minimize ``ev.merits`` from ``u0``; raises ``BudgetSpent`` through."""
        ...


def initial_simplex(u0: np.ndarray, step: float) -> np.ndarray:
    """`(d + 1) x d` simplex at ``u0``: edges of length ``step`` along each axis, pointing
    inward at the upper bound."""
    d = len(u0)
    sim = np.tile(u0, (d + 1, 1))
    for i in range(d):
        sim[i + 1, i] = u0[i] + step if u0[i] + step <= 1.0 else u0[i] - step
    return sim


class NelderMead:
    """Bounded Nelder–Mead (scipy) on the unit cube, one recorded point per evaluation.

    Args:
        cfg: uses ``max_iter`` (``maxfev = 2 max_iter``), ``xatol``, ``fatol`` and
            ``initial_step``.
    """

    def __init__(self, cfg: DesirabilityConfig) -> None:
        self.cfg = cfg

    def search(self, u0: np.ndarray, ev: Evaluator, save: Save) -> LocalResult:
        from scipy.optimize import minimize

        cfg = self.cfg
        res = minimize(
            lambda u: float(ev.merits(u[None, :], save)[0]), u0,
            method="Nelder-Mead", bounds=[(0.0, 1.0)] * len(u0),
            options={"initial_simplex": initial_simplex(u0, cfg.initial_step),
                     "maxiter": cfg.max_iter, "maxfev": 2 * cfg.max_iter,
                     "xatol": cfg.xatol, "fatol": cfg.fatol})
        return {"u": np.asarray(res.x), "merit": float(res.fun), "nfev": int(res.nfev)}


class Bounded:
    """L-BFGS-B on the unit cube, or SLSQP with the region's constraints as they are
    (cheap, known), on a batched finite-difference gradient.

    Args:
        cfg: uses ``max_iter``, ``fatol`` (scipy's ``ftol``) and ``fd_step``.
    """

    def __init__(self, cfg: DesirabilityConfig) -> None:
        self.cfg = cfg

    def search(self, u0: np.ndarray, ev: Evaluator, save: Save) -> LocalResult:
        from scipy.optimize import minimize

        cfg = self.cfg
        res = minimize(lambda u: self._value_and_grad(u, ev, save), u0, jac=True,
                       bounds=[(0.0, 1.0)] * len(u0),
                       options={"maxiter": cfg.max_iter, "ftol": cfg.fatol},
                       **self._scipy_method(ev))
        return {"u": np.asarray(res.x), "merit": float(res.fun), "nfev": int(res.nfev)}

    @staticmethod
    def _scipy_method(ev: Evaluator) -> dict[str, Any]:
        """``minimize``'s method: L-BFGS-B in a plain box, SLSQP with ``-g(x) >= 0`` in a
        constrained region."""
        g = ev.problem.constraints
        if g is None:
            return {"method": "L-BFGS-B"}
        box = ev.box

        def inside(u: np.ndarray) -> np.ndarray:
            X = box.from_unit(np.clip(u, 0.0, 1.0))[None, :]
            return -np.asarray(g(X), dtype=np.float64).reshape(-1)

        return {"method": "SLSQP", "constraints": [{"type": "ineq", "fun": inside}]}

    def _value_and_grad(self, u: np.ndarray, ev: Evaluator, save: Save
                        ) -> tuple[float, np.ndarray]:
        """Merit and its finite-difference gradient from one batch of ``d + 1`` points:
        forward steps, backward where the forward point leaves the box or the region (so
        that the gradient is D's, not the penalty's, at the region's boundary)."""
        h = self.cfg.fd_step
        d = len(u)
        steps = np.where(u + h <= 1.0, h, -h)
        if ev.problem.constraints is not None:
            fwd = np.clip(u + np.diag(steps), 0.0, 1.0)
            out = ev.violation(ev.box.from_unit(fwd)) > 0
            steps = np.where(out & (u - h >= 0.0), -steps, steps)
        U = np.tile(u, (d + 1, 1))
        U[1:] += np.diag(steps)
        m = ev.merits(U, save)
        return float(m[0]), (m[1:] - m[0]) / steps


class MultiStart:
    """Rounds of ``n_starts`` random starts, each refined by the injected local search.

    Args:
        local: the local search run from every start.
        n_starts: start points per round (one evaluated batch).
    """

    def __init__(self, local: LocalSearch, n_starts: int) -> None:
        self.local, self.n_starts = local, n_starts

    @classmethod
    def nelder_mead(cls, cfg: DesirabilityConfig) -> MultiStart:
        """The ``nelder-mead`` method: multi-start :class:`NelderMead`."""
        return cls(NelderMead(cfg), cfg.n_starts)

    @classmethod
    def bounded(cls, cfg: DesirabilityConfig) -> MultiStart:
        """The ``bounded`` method: multi-start :class:`Bounded`."""
        return cls(Bounded(cfg), cfg.n_starts)

    def run(self, ev: Evaluator, state: object) -> dict[str, object]:
        """Search until the budget is spent, resuming from ``state`` (None: a new run).

        Returns:
            ``{"n_local_searches": ...}``, the number of finished local searches.
        """
        ctx = ev.ctx
        st = cast(MultiStartState, state) if state is not None else MultiStartState(
            round=0, starts=None, next=0, runs=[], cache={})
        ev.cache = st["cache"]

        def save() -> None:
            ctx.save_state(st)

        while not ctx.should_stop():
            starts = st["starts"]
            if starts is None:
                n = ctx.batch_size(self.n_starts)
                U0 = ev.box.to_unit(ev.sample_region(n))
                X0 = ev.box.from_unit(U0)  # the exact points the local search asks for
                merit = ev.evaluate(X0)
                order = np.argsort(merit, kind="stable")
                starts = U0[: len(merit)][order]
                st["starts"], st["next"] = starts, 0
                save()
            while st["next"] < len(starts) and not ctx.should_stop():
                try:
                    res = self.local.search(starts[st["next"]], ev, save)
                except BudgetSpent:
                    return {"n_local_searches": len(st["runs"])}
                st["runs"].append(SearchRecord(round=st["round"], start=st["next"], **res))
                st["next"] += 1
            if st["next"] >= len(starts):
                st["starts"], st["round"] = None, st["round"] + 1
        return {"n_local_searches": len(st["runs"])}

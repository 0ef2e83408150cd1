"""Evaluation and scoring of points by their overall desirability, shared by all methods.

:class:`Evaluator` sends points to the problem through the run context, scores the
responses by the overall desirability ``D`` (Derringer & Suich 1980) and turns them into
the lexicographic *merit* the direct methods minimize:

* ``-D`` (in ``[-1, 0)``) where ``D > 0``;
* ``s / (1 + s)`` (in ``[0, 1)``) on the ``D = 0`` plateau, with ``s`` the responses' summed
  distance to the set where every ``d_r > 0``, in ramp widths (``DOverall.shortfall``), so
  that a local search started there walks toward acceptable responses (the two pieces meet
  continuously at 0);
* 1 for a failed evaluation (NaN responses);
* ``1 + penalty * sum(max(g, 0))`` outside the *known design region* ``g(x) <= 0``: the
  constraints are computed directly (assumed cheap) and a point outside is never sent to the
  objectives.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from moalign.core.space import Box

if TYPE_CHECKING:
    from moalign.core.problem import Problem
    from moalign.scalarize.desirability import DOverall
    from moalign.solvers.context import RunContext


class BudgetSpent(Exception):
    """Raised from :meth:`Evaluator.merits` (inside an optimizer's objective) when the
    budget is spent, to leave the optimizer."""


class Evaluator:
    """Evaluates points through the run context and scores them by D.

    Keeps the best D (feasible, not failed) and the look-up table ``cache``: the bytes of a
    point -> its merit (:meth:`merit_of`).

    Args:
        problem: a problem on a :class:`~moalign.core.space.Box`.
        ctx: the run context (its archive may hold a resumed run's evaluations).
        overall: the overall desirability of the objectives.
        penalty: merit per unit of constraint violation outside the region.

    Raises:
        TypeError: the problem's space is not a ``Box``.
    """

    def __init__(self, problem: Problem, ctx: RunContext, overall: DOverall,
                 penalty: float) -> None:
        if not isinstance(problem.space, Box):
            raise TypeError(f"desirability: needs a Box space, {problem.name} has "
                            f"{type(problem.space).__name__}")
        self.problem, self.ctx, self.overall = problem, ctx, overall
        self.box: Box = problem.space
        self.penalty = penalty
        self.cache: dict[bytes, float] = {}
        a = ctx.archive
        self.best = 0.0
        self.best_metrics: dict[str, float] = {}
        if a.n_evals:
            self._update_best(np.asarray(a.X), a.F, self.scores(a.F, a.feasible & ~a.failed))

    def scores(self, F: np.ndarray, ok: np.ndarray) -> np.ndarray:
        """`n` overall desirabilities of `n x m` responses; 0 where not ``ok``."""
        D = np.zeros(len(F))
        if ok.any():
            D[ok] = self.overall(F[ok])
        return D

    def violation(self, X: np.ndarray) -> np.ndarray:
        """`n` total constraint violation ``sum(max(g, 0))`` (inf where g is NaN)."""
        if self.problem.constraints is None:
            return np.zeros(len(X))
        G = np.asarray(self.problem.constraints(X), dtype=np.float64).reshape(len(X), -1)
        return np.where(np.isnan(G), np.inf, np.maximum(G, 0.0)).sum(axis=1)

    def sample_region(self, n: int) -> np.ndarray:
        """`n x d` points from ``ctx.rng``, inside the region where possible (rejection);
        tops up with the least violating draws after ``100 n`` tries."""
        kept: list[np.ndarray] = []
        pool: list[np.ndarray] = []
        for _ in range(100):
            X = self.box.sample(self.ctx.rng, n)
            ok = self.violation(X) <= 0
            kept.extend(X[ok])
            pool.extend(X[~ok])
            if len(kept) >= n:
                return np.asarray(kept[:n])
        pool_arr = np.asarray(pool)
        order = np.argsort(self.violation(pool_arr), kind="stable")[: n - len(kept)]
        return np.asarray(kept + list(pool_arr[order]))

    def evaluate(self, X: np.ndarray) -> np.ndarray:
        """Evaluate and record `X` (one step); returns the merits (:meth:`merit_of`) of the
        evaluated rows (fewer than `X` when the budget runs out)."""
        ctx = self.ctx
        X = X[: ctx.batch_size(len(X))]
        if len(X) == 0:
            return np.empty(0)
        ev = self.problem.evaluate(X)
        D = self.scores(ev.F, ev.feasible & ~ev.failed)
        self._update_best(X, ev.F, D)
        merit = self.merit_of(X, ev.F, D, ev.failed)
        for x, mv in zip(X, merit, strict=True):
            self.cache[x.tobytes()] = float(mv)
        ctx.record(X, ev.F, feasible=ev.feasible, failed=ev.failed, metrics={
            "desirability/best": self.best, "desirability/step_best": float(D.max()),
            **self.best_metrics})
        return merit

    def merit_of(self, X: np.ndarray, F: np.ndarray, D: np.ndarray, failed: np.ndarray
                 ) -> np.ndarray:
        """The lexicographic merit of the module docstring (lower is better)."""
        ok = ~failed
        s = np.zeros(len(F))
        if ok.any():
            s[ok] = np.nan_to_num(self.overall.shortfall(F[ok]), nan=0.0)
        merit = np.where(D > 0, -D, np.where(ok, s / (1.0 + s), 1.0))
        viol = self.violation(X)
        return np.where(viol > 0, 1.0 + self.penalty * viol, merit)

    def _update_best(self, X: np.ndarray, F: np.ndarray, D: np.ndarray) -> None:
        """Keep the best D and, as metrics, its point's coordinates (up to 10) and
        responses, so that the tracker logs the optimum found so far at every step."""
        i = int(np.argmax(D))
        if D[i] <= self.best and self.best_metrics:
            return
        self.best = max(self.best, float(D[i]))
        names = self.ctx.archive.names
        m = {f"desirability/best_{n}": float(v) for n, v in zip(names, F[i], strict=True)
             if np.isfinite(v)}
        if X.shape[1] <= 10:
            m.update({f"desirability/best_x{j}": float(v) for j, v in enumerate(X[i])})
        self.best_metrics = m

    def merits(self, U: np.ndarray, save: Callable[[], None]) -> np.ndarray:
        """Merits of `k x d` unit-cube points: look-up, penalty outside the region, or new
        evaluations (one record, then ``save()``).

        Raises:
            BudgetSpent: new points are needed and the budget is spent (or runs out).
        """
        X = self.box.from_unit(np.clip(U, 0.0, 1.0))
        viol = self.violation(X)
        out = np.where(viol > 0, 1.0 + self.penalty * viol, np.nan)
        need: dict[bytes, list[int]] = {}
        for i, x in enumerate(X):
            if viol[i] > 0:
                continue
            key = x.tobytes()
            if key in self.cache:
                out[i] = self.cache[key]
            else:
                need.setdefault(key, []).append(i)
        if need:
            if self.ctx.should_stop():
                raise BudgetSpent
            rows = [idx[0] for idx in need.values()]
            vals = self.evaluate(X[rows])
            save()
            if len(vals) < len(rows):
                raise BudgetSpent
            for idx, v in zip(need.values(), vals, strict=True):
                out[idx] = v
        return out

    def best_info(self) -> dict[str, Any]:
        """Best point of the archive: D, x, responses and individual desirabilities."""
        a = self.ctx.archive
        info: dict[str, Any] = {"best_desirability": 0.0}
        if a.n_evals == 0:
            return info
        ok = a.feasible & ~a.failed
        D = self.scores(a.F, ok)
        if not ok.any():
            return info
        i = int(np.argmax(np.where(ok, D, -1.0)))
        ind = self.overall.individual(a.F[i : i + 1])[0]
        names = a.names
        info.update(
            best_desirability=float(D[i]),
            best_x=[float(v) for v in np.asarray(a.X[i]).reshape(-1)],
            best_responses={n: float(v) for n, v in zip(names, a.F[i], strict=True)},
            best_individual={n: float(v) for n, v in zip(names, ind, strict=True)},
        )
        return info

"""Problem: a decision space, an objective set, constraints and a reference-point policy."""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from moalign.core.objective import Objective, ObjectiveSet
from moalign.core.space import Space

RefPolicy = str  # "auto" | "nadir" | "initial"
_REF_POLICIES = ("auto", "nadir", "initial")
REFERENCE_SOURCES = ("explicit", "objectives", "nadir", "initial")
"""Where :meth:`Problem.reference_point` takes its values from (:meth:`reference_source`)."""


@dataclass(frozen=True)
class Evaluation:
    """The outcome of evaluating a batch of `n` points on `m` objectives and `k` constraints.

    Attributes:
        F: `n x m` objective values in user orientation (NaN where evaluation failed).
        G: `n x k` constraint values (``g <= 0`` is feasible), or ``None``.
        feasible: `n` bool, True where every constraint holds and nothing failed.
        failed: `n` bool, True where some objective or constraint could not be evaluated.
    """

    F: np.ndarray
    G: np.ndarray | None
    feasible: np.ndarray
    failed: np.ndarray


class BatchEvaluator(Protocol):
    """Evaluates a problem's batches somewhere else (:mod:`moalign.core.parallel`)."""

    def evaluate(self, problem: Problem, X: Any, **kwargs: Any) -> Evaluation:
        """Evaluate the batch `X` of ``problem``, in the order of `X`."""
        ...


class PendingEvaluation(Protocol):
    """A batch being evaluated (:meth:`Problem.submit`)."""

    def result(self) -> Evaluation:
        """Wait for the batch; its evaluation, in order."""
        ...

    def cancel(self) -> None:
        """Drop the batch (tasks not started are cancelled)."""
        ...


class _Done:
    """A batch evaluated already (:meth:`Problem.submit` without a parallel evaluator)."""

    def __init__(self, ev: Evaluation) -> None:
        self._ev = ev

    def result(self) -> Evaluation:
        return self._ev

    def cancel(self) -> None:
        pass


def assemble_evaluation(F: np.ndarray, G: Any) -> Evaluation:
    """The :class:`Evaluation` of `n x m` objective values `F` and constraint values `G`
    (anything shaped `n x k`, or None): failed where some value is not finite, feasible
    where nothing failed and every ``g <= 0``."""
    F = np.asarray(F, dtype=np.float64)
    failed = ~np.all(np.isfinite(F), axis=1)
    feasible = ~failed
    if G is not None:
        G = np.asarray(G, dtype=np.float64).reshape(len(F), -1)
        failed = failed | ~np.all(np.isfinite(G), axis=1)
        feasible = ~failed & np.all(np.nan_to_num(G, nan=np.inf) <= 0, axis=1)
    return Evaluation(F=F, G=G, feasible=feasible, failed=failed)


class Problem:
    """A multi-objective problem.

    Args:
        space: The decision space (``Box``, ``Sequence``, ``Discrete``, ``Text``).
        objectives: Objectives (or plain batched callables, minimized).
        constraints: Optional batched ``g(X) -> n x k``; ``g <= 0`` is feasible.
        ref_point: Hypervolume reference point in user orientation, or a policy:
            ``"nadir"`` (nadir + 10% of the ideal-nadir range, needs ``nadir``),
            ``"initial"`` (the worst values of the first recorded batch, as alignment runs
            use the initial policy), or ``"auto"`` (objectives' own ``ref`` values, else
            ``"nadir"`` when a nadir is known, else ``"initial"``).
        ideal: Optional ideal point (user orientation).
        nadir: Optional nadir point (user orientation).
        pareto_front: Optional ``f(n) -> n x m`` sampler of the true front.
        name: Display name.

    Batches are evaluated in this process, or by an evaluator attached with
    :meth:`with_evaluator` (parallel workers, :mod:`moalign.core.parallel`).

    Example:
        >>> import numpy as np
        >>> from moalign.core import Box
        >>> p = Problem(Box([0], [1]), [lambda x: x[:, 0], lambda x: 1 - x[:, 0]])
        >>> p.evaluate(np.array([[0.25]])).F.tolist()
        [[0.25, 0.75]]
    """

    _evaluator: BatchEvaluator | None = None

    def __init__(
        self,
        space: Space,
        objectives: ObjectiveSet | Sequence[Objective | Callable[..., Any]],
        *,
        constraints: Callable[[Any], Any] | None = None,
        ref_point: Sequence[float] | np.ndarray | RefPolicy = "auto",
        ideal: Sequence[float] | np.ndarray | None = None,
        nadir: Sequence[float] | np.ndarray | None = None,
        pareto_front: Callable[[int], np.ndarray] | None = None,
        name: str | None = None,
    ) -> None:
        self.space = space
        self.objectives = (
            objectives if isinstance(objectives, ObjectiveSet) else ObjectiveSet(objectives)
        )
        self.constraints = constraints
        m = len(self.objectives)
        ideal_arr = None if ideal is None else np.asarray(ideal, dtype=np.float64)
        nadir_arr = None if nadir is None else np.asarray(nadir, dtype=np.float64)
        for label, pt in (("ideal", ideal_arr), ("nadir", nadir_arr)):
            if pt is not None and pt.shape != (m,):
                raise ValueError(f"{label} must have {m} values, got shape {pt.shape}")
        self.ideal = ideal_arr
        self.nadir = nadir_arr
        self._pareto_front = pareto_front
        self.name = name or type(self).__name__
        self._ref: np.ndarray | str = self._checked_ref(ref_point)

    def _checked_ref(self, ref_point: Sequence[float] | np.ndarray | RefPolicy
                     ) -> np.ndarray | str:
        m = len(self.objectives)
        if isinstance(ref_point, str):
            if ref_point not in _REF_POLICIES:
                raise ValueError(f"ref_point: unknown policy {ref_point!r}; use one of "
                                 f"{list(_REF_POLICIES)} or an explicit point")
            if ref_point == "nadir" and self.nadir is None:
                raise ValueError("ref_point='nadir' needs the problem's nadir point")
            return ref_point
        ref = np.asarray(ref_point, dtype=np.float64)
        if ref.shape != (m,):
            raise ValueError(f"ref_point must have {m} values, got shape {ref.shape}")
        if not np.all(np.isfinite(ref)):
            raise ValueError(f"ref_point must be finite, got {ref.tolist()}")
        return ref

    @property
    def n_obj(self) -> int:
        return len(self.objectives)

    def evaluate(self, X: Any, **kwargs: Any) -> Evaluation:
        """Evaluate a batch. Failed points get NaN and ``failed=True``; nothing raises.

        With an evaluator attached (:meth:`with_evaluator`), the evaluator does it (on its
        workers, :mod:`moalign.core.parallel`); otherwise :meth:`evaluate_here`."""
        if self._evaluator is not None:
            return self._evaluator.evaluate(self, X, **kwargs)
        return self.evaluate_here(X, **kwargs)

    def submit(self, X: Any, **kwargs: Any) -> PendingEvaluation:
        """Start evaluating a batch; ``.result()`` gives what :meth:`evaluate` would. With
        a parallel evaluator the batch goes to its workers and this returns at once;
        otherwise the batch is evaluated here, now."""
        submit = getattr(self._evaluator, "submit", None)
        if submit is not None:
            pending: PendingEvaluation = submit(self, X, **kwargs)
            return pending
        return _Done(self.evaluate(X, **kwargs))

    def evaluate_here(self, X: Any, **kwargs: Any) -> Evaluation:
        """Evaluate a batch in this process (what :meth:`evaluate` does without an
        evaluator)."""
        F = self.objectives(X, **kwargs)
        G = None if self.constraints is None else self.constraints(X)
        return assemble_evaluation(F, G)

    def with_evaluator(self, evaluator: BatchEvaluator | None) -> Problem:
        """A shallow copy of this problem whose :meth:`evaluate` goes through
        ``evaluator`` (e.g. a :class:`~moalign.core.parallel.ParallelEvaluator`; None:
        in this process). This problem is left unchanged; the evaluator is not pickled
        with the problem."""
        other = copy.copy(self)
        other._evaluator = evaluator
        return other

    def __copy__(self) -> Problem:
        other = object.__new__(type(self))
        other.__dict__.update(self.__dict__)
        return other

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_evaluator", None)  # executors and connections stay with their run
        return state

    def pareto_front(self, n: int = 1000) -> np.ndarray | None:
        """`n x m` points of the true front (user orientation), or None when unknown."""
        return None if self._pareto_front is None else np.asarray(self._pareto_front(n))

    def reference_point(self) -> np.ndarray | None:
        """Reference point in user orientation, or None when it comes from the first batch."""
        source = self.reference_source()
        if source == "explicit":
            assert isinstance(self._ref, np.ndarray)
            return self._ref.copy()
        if source == "objectives":
            return self.objectives.ref_point()
        if source == "nadir":
            assert self.nadir is not None
            s = self.objectives.signs
            nadir = self.nadir * s
            ideal = self.ideal
            span = nadir - ideal * s if ideal is not None else np.abs(nadir)
            span = np.where(span > 0, span, 1.0)
            return (nadir + 0.1 * span) * s
        return None

    def reference_source(self) -> str:
        """Where :meth:`reference_point` comes from: ``"explicit"`` (a point given as
        ``ref_point``), ``"objectives"`` (every objective's own ``ref``), ``"nadir"``
        (nadir + 10% of the ideal-nadir range) or ``"initial"`` (not known before the
        first recorded batch)."""
        if isinstance(self._ref, np.ndarray):
            return "explicit"
        if self._ref == "auto" and self.objectives.ref_point() is not None:
            return "objectives"
        if self._ref in ("auto", "nadir") and self.nadir is not None:
            return "nadir"
        return "initial"

    def with_reference_point(self, ref_point: Sequence[float] | np.ndarray | RefPolicy
                             ) -> Problem:
        """A shallow copy of this problem with another ``ref_point`` (a point or a policy,
        as in the constructor); this problem is left unchanged.

        Example:
            >>> from moalign.core import Box
            >>> p = Problem(Box([0], [1]), [lambda x: x[:, 0], lambda x: 1 - x[:, 0]])
            >>> p.with_reference_point([2, 2]).reference_point().tolist(), p.reference_source()
            ([2.0, 2.0], 'initial')
        """
        other = copy.copy(self)
        other._ref = other._checked_ref(ref_point)
        return other

    def __repr__(self) -> str:
        return f"{self.name}(n_obj={self.n_obj}, space={type(self.space).__name__})"

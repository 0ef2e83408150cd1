"""Evaluate each distinct design once: a memo of every design a run has recorded.

For deterministic objectives a repeated design needs no new objective call. Samplers that
revisit designs (GFlowNets on a small space, evolutionary search) then spend their
evaluation budget on new designs only, and learn from the remembered values of the old
ones. The memo is rebuilt from the run's archive, so a resumed run remembers its first half.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from moalign.core.problem import Evaluation

if TYPE_CHECKING:
    from moalign.core.archive import Archive
    from moalign.core.problem import Problem


def design_key(x: Any) -> Any:
    """A hashable key of one design (a row of `X`)."""
    if isinstance(x, np.ndarray) and x.dtype != object:
        return (x.dtype.str, x.shape, np.ascontiguousarray(x).tobytes())
    if isinstance(x, np.ndarray):
        return tuple(design_key(v) for v in x)
    return x if isinstance(x, (str, int, float, bytes, tuple)) else repr(x)


def take(X: Any, idx: np.ndarray) -> Any:
    """Rows ``idx`` of `X`, an array or a list (e.g. of strings), keeping its kind."""
    return X[idx] if isinstance(X, np.ndarray) else [X[int(i)] for i in idx]


class EvaluationMemo:
    """Objective values of every design seen so far, keyed by :func:`design_key`.

    Example:
        >>> from moalign.testing import toy_zdt1
        >>> p = toy_zdt1()
        >>> memo = EvaluationMemo()
        >>> X = np.array([[0.1, 0.0, 0.0], [0.1, 0.0, 0.0], [0.5, 0.0, 0.0]])
        >>> ev, new = memo.evaluate(p, X)
        >>> new.tolist(), bool(np.allclose(ev.F[0], ev.F[1]))
        ([0, 2], True)
        >>> memo.evaluate(p, X)[1].tolist()   # all known now: no objective call
        []
    """

    def __init__(self, archive: Archive | None = None) -> None:
        self._rows: dict[Any, tuple[np.ndarray, bool, bool]] = {}
        if archive is not None and archive.n_evals:
            for x, f, ok, bad in zip(archive.X, archive.F, archive.feasible, archive.failed,
                                     strict=True):
                self._rows[design_key(x)] = (np.asarray(f, dtype=np.float64), bool(ok),
                                             bool(bad))

    def __len__(self) -> int:
        return len(self._rows)

    def evaluate(self, problem: Problem, X: Any, limit: int | None = None
                 ) -> tuple[Evaluation, np.ndarray]:
        """Values for every row of `X`, calling the objectives only for unseen designs.

        Args:
            problem: the problem whose objectives are called.
            X: `n` designs.
            limit: at most this many new designs are evaluated (the remaining budget);
                the others get NaN and ``failed=True`` so that nobody learns from them.

        Returns:
            ``(evaluation of all n rows, indices of the rows evaluated now)`` — the second
            holds one row per new distinct design, to be recorded in the archive.
        """
        keys = [design_key(x) for x in X]
        new: list[int] = []
        seen_now: set[Any] = set()
        for i, k in enumerate(keys):
            if k not in self._rows and k not in seen_now:
                seen_now.add(k)
                new.append(i)
        if limit is not None:
            new = new[: max(limit, 0)]
        new_idx = np.asarray(new, dtype=np.int64)
        if len(new_idx):
            ev = problem.evaluate(take(X, new_idx))
            for j, i in enumerate(new_idx):
                self._rows[keys[i]] = (ev.F[j], bool(ev.feasible[j]), bool(ev.failed[j]))
        m = problem.n_obj
        F = np.full((len(keys), m), np.nan)
        feasible = np.zeros(len(keys), dtype=bool)
        failed = np.ones(len(keys), dtype=bool)
        for i, k in enumerate(keys):
            if k in self._rows:
                F[i], feasible[i], failed[i] = self._rows[k]
        return Evaluation(F=F, G=None, feasible=feasible, failed=failed), new_idx

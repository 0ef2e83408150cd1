"""Shared plumbing for the built-in problems: one evaluation feeds all `m` objectives."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from moalign.core import Box, Direction, Objective, Problem
from moalign.scalarize import dirichlet, simplex_grid


class LastBatch:
    """Memoize ``fn(X)`` for the most recent batch.

    An :class:`~moalign.core.ObjectiveSet` calls each objective on the same batch in turn;
    with this cache the underlying `n x m` function runs once per batch, not `m` times.
    The batch is compared by value (a copy is kept), so in-place edits of `X` are safe.
    """

    def __init__(self, fn: Callable[[np.ndarray], Any]) -> None:
        self.fn = fn
        self._x: np.ndarray | None = None
        self._out: Any = None

    def __call__(self, X: Any) -> Any:
        X = np.asarray(X, dtype=np.float64)
        if (
            self._x is not None
            and self._x.shape == X.shape
            and np.array_equal(self._x, X, equal_nan=True)
        ):
            return self._out
        out = self.fn(X)
        self._x, self._out = X.copy(), out
        return out


class Column:
    """Objective ``i`` of an `n x m` function: ``X -> F[:, i]`` (picklable)."""

    def __init__(self, source: Callable[[Any], Any], index: int, key: str | None = None) -> None:
        self.source = source
        self.index = index
        self.key = key

    def __call__(self, X: Any) -> np.ndarray:
        out = self.source(X)
        if self.key is not None:
            out = out[self.key]
        return np.asarray(out, dtype=np.float64)[:, self.index]


def check_batch(X: Any, dim: int, name: str) -> np.ndarray:
    """`n x dim` float64 view of `X`, or a ValueError naming the problem."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim == 1 and X.shape[0] == dim:
        X = X[None, :]
    if X.ndim != 2 or X.shape[1] != dim:
        raise ValueError(f"{name}: expected an `n x {dim}` array, got shape {X.shape}")
    return X


def box_problem(
    name: str,
    lower: Sequence[float] | np.ndarray,
    upper: Sequence[float] | np.ndarray,
    F: Callable[[np.ndarray], np.ndarray],
    names: Sequence[str],
    *,
    directions: Sequence[Direction] | None = None,
    ideal: Sequence[float] | np.ndarray | None = None,
    nadir: Sequence[float] | np.ndarray | None = None,
    pareto_front: Callable[[int], np.ndarray] | None = None,
    constraints: Callable[[Any], Any] | None = None,
    ref_point: Sequence[float] | np.ndarray | str = "auto",
) -> Problem:
    """A :class:`Problem` on a Box whose objectives are the columns of one `n x m` function
    (reference point: ``ref_point``, by default nadir + 10% of the ideal-nadir range)."""
    cache = LastBatch(F)
    dirs: Sequence[Direction] = directions or ["minimize"] * len(names)
    objectives = [
        Objective(nm, Column(cache, i), direction=d)
        for i, (nm, d) in enumerate(zip(names, dirs, strict=True))
    ]
    return Problem(
        Box(lower, upper),
        objectives,
        constraints=constraints,
        ref_point=ref_point,
        ideal=ideal,
        nadir=nadir,
        pareto_front=pareto_front,
        name=name,
    )


def simplex_points(n: int, m: int) -> np.ndarray:
    """Exactly `n` points of the unit simplex (`n x m`), deterministic.

    The densest Das–Dennis lattice with at most `n` points, topped up with Dirichlet(1)
    samples from a fixed seed (0) when the lattice size does not hit `n` exactly.
    """
    if n < 1:
        raise ValueError("pareto_front: n must be >= 1")
    if m == 1:
        return np.ones((n, 1))
    if m == 2:
        t = np.linspace(0.0, 1.0, n)
        return np.column_stack([t, 1.0 - t])
    p = 1
    while _lattice_size(m, p + 1) <= n:
        p += 1
    W = simplex_grid(m, p) if _lattice_size(m, p) <= n else np.empty((0, m))
    rest = n - W.shape[0]
    if rest > 0:
        W = np.vstack([W, dirichlet(np.random.default_rng(0), rest, m)])
    return W


def _lattice_size(m: int, p: int) -> int:
    from math import comb

    return comb(p + m - 1, m - 1)

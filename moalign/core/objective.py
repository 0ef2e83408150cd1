"""Objectives: a name, a direction and a batched function.

An :class:`Objective` wraps a batched callable ``fn(batch) -> n`` values. For text, ``fn``
has TRL's reward signature ``fn(prompts, completions, **kw) -> list[float | None]``; the
wrapper passes whatever arguments it is called with straight through, so the same object
serves both worlds.

Failures are data, not crashes: ``None``/NaN values stay NaN, and a batch that raises is
re-evaluated point by point so that only the offending points become NaN.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, overload

import numpy as np

Direction = Literal["minimize", "maximize"]
_DIRECTIONS = ("minimize", "maximize")


class ObjectiveError(ValueError):
    """An objective returned something that is not one value per point of the batch."""


@dataclass
class FailureLog:
    """An objective's failed points: how many raised, and the first error, for reports."""

    count: int = 0
    first_error: str | None = None

    def note(self, exc: Exception) -> None:
        self.count += 1
        if self.first_error is None:
            lines = str(exc).strip().splitlines()
            text = f"raised {type(exc).__name__}" + (f": {lines[0][:200]}" if lines else "")
            self.first_error = text


@dataclass(frozen=True)
class Objective:
    """One objective of a problem.

    Args:
        name: Unique name, used as the metric and column name.
        fn: Batched function. For arrays: `n x d` -> `n`. For text: TRL's reward signature.
        direction: ``"minimize"`` or ``"maximize"``.
        ref: Optional reference value (worst acceptable value) for hypervolume.
        bounds: Optional ``(low, high)`` range of the values, used for normalization.

    Example:
        >>> import numpy as np
        >>> f = Objective("sum", lambda x: x.sum(axis=1))
        >>> f(np.ones((2, 3))).tolist()
        [3.0, 3.0]
    """

    name: str
    fn: Callable[..., Any]
    direction: Direction = "minimize"
    ref: float | None = None
    bounds: tuple[float, float] | None = None
    failures: FailureLog = field(default_factory=FailureLog, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError("Objective.name must be a non-empty string")
        if self.direction not in _DIRECTIONS:
            raise ValueError(
                f"Objective {self.name!r}: direction must be 'minimize' or 'maximize', "
                f"got {self.direction!r}"
            )
        if not callable(self.fn):
            raise TypeError(f"Objective {self.name!r}: fn must be callable")
        if self.bounds is not None and not self.bounds[0] < self.bounds[1]:
            raise ValueError(f"Objective {self.name!r}: bounds must satisfy low < high")

    @property
    def sign(self) -> float:
        """+1 for minimization, -1 for maximization (multiply to get the minimization view)."""
        return 1.0 if self.direction == "minimize" else -1.0

    @property
    def __name__(self) -> str:  # TRL logs reward functions by __name__
        return self.name

    def __call__(self, *args: Any, **kwargs: Any) -> np.ndarray:
        """Evaluate a batch; returns a float array with NaN where evaluation failed.

        Raises:
            ObjectiveError: ``fn`` returned a number of values other than the batch size.
        """
        n = _batch_len(args, kwargs)
        try:
            values = _as_float_array(self.fn(*args, **kwargs))
        except Exception:
            if n is None:
                raise
            return self._pointwise(n, args, kwargs)
        if n is not None and len(values) != n:
            raise ObjectiveError(
                f"objective {self.name!r} returned {len(values)} values for a batch of {n} "
                "points; it must return one value per point"
            )
        return values

    def _pointwise(self, n: int, args: tuple[Any, ...], kwargs: dict[str, Any]) -> np.ndarray:
        """Evaluate one point at a time so that one failing point does not sink the batch."""
        out = np.full(n, np.nan)
        for i in range(n):
            a = tuple(_take(v, i) for v in args)
            kw = {k: _take(v, i) for k, v in kwargs.items()}
            try:
                out[i] = _as_float_array(self.fn(*a, **kw))[0]
            except Exception as exc:
                self.failures.note(exc)
                out[i] = np.nan
        return out


def _as_float_array(values: Any) -> np.ndarray:
    if hasattr(values, "detach"):  # torch tensor
        values = values.detach().cpu().numpy()
    if isinstance(values, np.ndarray) and values.dtype != object:
        return np.asarray(values, dtype=np.float64).reshape(-1)
    seq = values if isinstance(values, list | tuple | np.ndarray) else [values]
    return np.array(
        [np.nan if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)
         for v in seq],
        dtype=np.float64,
    )


def _callable_name(fn: Callable[..., Any], i: int) -> str:
    name = getattr(fn, "__name__", "")
    return name if name and name.isidentifier() else f"f{i}"


def _batch_len(args: tuple[Any, ...], kwargs: dict[str, Any]) -> int | None:
    for v in (*args, *kwargs.values()):
        if isinstance(v, np.ndarray | list | tuple):
            return len(v)
    return None


def _take(v: Any, i: int) -> Any:
    if isinstance(v, np.ndarray):
        return v[i : i + 1]
    if isinstance(v, list | tuple):
        return type(v)([v[i]]) if isinstance(v, list) else (v[i],)
    return v


@overload
def objective(fn: Callable[..., Any]) -> Objective: ...
@overload
def objective(
    fn: None = None,
    *,
    name: str | None = None,
    direction: Direction = "minimize",
    ref: float | None = None,
    bounds: tuple[float, float] | None = None,
) -> Callable[[Callable[..., Any]], Objective]: ...


def objective(
    fn: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    direction: Direction = "minimize",
    ref: float | None = None,
    bounds: tuple[float, float] | None = None,
) -> Objective | Callable[[Callable[..., Any]], Objective]:
    """Decorator that turns a batched function into an :class:`Objective`.

    Example:
        >>> @objective(direction="maximize")
        ... def accuracy(x):
        ...     return 1 - x[:, 0]
        >>> accuracy.direction
        'maximize'
    """

    def wrap(f: Callable[..., Any]) -> Objective:
        return Objective(
            name=name or f.__name__, fn=f, direction=direction, ref=ref, bounds=bounds
        )

    return wrap(fn) if fn is not None else wrap


@dataclass(frozen=True)
class ObjectiveSet:
    """An ordered, named stack of objectives: ``objs(batch) -> n x m`` array.

    Values are in the user's orientation; :meth:`to_min` gives the canonical minimization
    view that all indicators use internally.
    """

    objectives: tuple[Objective, ...]
    _signs: np.ndarray = field(init=False, repr=False, compare=False)

    def __init__(self, objectives: Sequence[Objective | Callable[..., Any]]) -> None:
        objs = tuple(
            o if isinstance(o, Objective) else Objective(_callable_name(o, i), o)
            for i, o in enumerate(objectives)
        )
        if not objs:
            raise ValueError("ObjectiveSet needs at least one objective")
        names = [o.name for o in objs]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"objective names must be unique; repeated: {dup}")
        object.__setattr__(self, "objectives", objs)
        object.__setattr__(self, "_signs", np.array([o.sign for o in objs]))

    def __len__(self) -> int:
        return len(self.objectives)

    def __iter__(self) -> Iterator[Objective]:
        return iter(self.objectives)

    def __getitem__(self, i: int) -> Objective:
        return self.objectives[i]

    @property
    def names(self) -> list[str]:
        return [o.name for o in self.objectives]

    @property
    def directions(self) -> list[Direction]:
        return [o.direction for o in self.objectives]

    @property
    def maximize(self) -> np.ndarray:
        """`m` bool array, True where the objective is maximized."""
        return self._signs < 0

    @property
    def signs(self) -> np.ndarray:
        return self._signs.copy()

    def __call__(self, *args: Any, **kwargs: Any) -> np.ndarray:
        """Evaluate every objective on a batch: returns an `n x m` float array (NaN = failed)."""
        cols = [o(*args, **kwargs) for o in self.objectives]
        n = max(len(c) for c in cols)
        for o, c in zip(self.objectives, cols, strict=True):
            if len(c) != n:
                raise ObjectiveError(
                    f"objective {o.name!r} returned {len(c)} values for a batch of {n}"
                )
        return np.stack(cols, axis=1) if cols else np.empty((0, 0))

    def to_min(self, F: np.ndarray) -> np.ndarray:
        """`n x m` values in user orientation -> minimization view (maximized negated)."""
        return np.asarray(F, dtype=np.float64) * self._signs

    def from_min(self, F: np.ndarray) -> np.ndarray:
        """Inverse of :meth:`to_min`."""
        return np.asarray(F, dtype=np.float64) * self._signs

    def ref_point(self) -> np.ndarray | None:
        """The objectives' own reference values (user orientation), if every one has one."""
        refs = [o.ref for o in self.objectives]
        if any(r is None for r in refs):
            return None
        return np.array(refs, dtype=np.float64)

"""Desirability functions (Derringer & Suich 1980), with the semantics of Max Kuhn's R
package ``desirability`` (and its Python port ``spotdesirability``).

Each response ``y`` is mapped to a desirability ``d`` in ``[0, 1]``; the overall
desirability is the geometric mean ``D = (prod_r d_r)^(1/R)`` (Derringer, G. & Suich, R.,
"Simultaneous Optimization of Several Response Variables", J. Quality Technology 12(4),
1980). With ``A = low``, ``B = high``, ``t = target`` and scales ``s``:

* ``DMax(A, B, s)``: 0 for ``y < A``; ``((y - A) / (B - A))^s`` on ``[A, B]``; 1 for ``y > B``.
* ``DMin(A, B, s)``: 1 for ``y < A``; ``((y - B) / (A - B))^s`` on ``[A, B]``; 0 for ``y > B``.
* ``DTarget(A, t, B, s1, s2)``: ``((y - A) / (t - A))^s1`` on ``[A, t]``,
  ``((y - B) / (t - B))^s2`` on ``[t, B]``, 0 outside ``[A, B]``.
* ``DBox(A, B)``: 1 on ``[A, B]``, 0 outside.
* ``DArb(x, d)``: linear interpolation through the points ``(x_i, d_i)`` (sorted by x),
  constant ``d_1`` left of the first and ``d_k`` right of the last point.
* ``DCategorical(mapping)``: look-up of a level's desirability; an unknown level is an error.

Missing responses (NaN/None) get the *non-informative* value ``missing``, which defaults to
the mean of ``d`` over 100 evenly spaced points of ``[low, high]`` (R:
``mean(predict(object, seq(low, high, length = 100)))``; the mean of the values for
``DCategorical``). Then, if ``tol`` is set, every ``d == 0`` is replaced by ``tol`` so that
one zero does not force ``D = 0``. As in spotdesirability, the default ``missing`` is
computed with ``tol`` already in effect (R 1.x computes it before ``tol``; the two differ
by at most ``tol / 100``).

Example:
    >>> import numpy as np
    >>> d = DOverall(DMax(80, 97), DTarget(55, 57.5, 60))
    >>> float(np.round(d([[81.09, 59.85]])[0], 4))
    0.062
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from moalign.core.registry import Registry

__all__ = [
    "DArb",
    "DBox",
    "DCategorical",
    "DMax",
    "DMin",
    "DOverall",
    "DTarget",
    "Desirability",
    "desirability_from_dict",
]


def _check_unit(value: float | None, name: str, cls: str) -> None:
    if value is not None and not 0.0 <= float(value) <= 1.0:
        raise ValueError(f"{cls}: {name} must lie in [0, 1], got {value}")


def _check_low_high(low: float, high: float, cls: str) -> None:
    if not float(low) < float(high):
        raise ValueError(f"{cls}: low ({low}) must be below high ({high}); swap or widen them")


def _check_scale(value: float, name: str, cls: str) -> None:
    if not float(value) > 0.0:
        raise ValueError(f"{cls}: {name} must be > 0, got {value} (1 gives a linear ramp)")


class Desirability(ABC):
    """Base class: ``d(y) -> desirabilities`` of the same shape as ``y``.

    Subclasses implement :meth:`_raw` (NaN where ``y`` is missing); the base class imputes
    ``missing`` and applies ``tol``.

    Args:
        tol: if set, replaces every ``d == 0`` (after imputation) by this value in ``[0, 1]``.
        missing: desirability of a missing response; default: the non-informative value.
    """

    def __init__(self, *, tol: float | None = None, missing: float | None = None) -> None:
        name = type(self).__name__
        _check_unit(tol, "tol", name)
        _check_unit(missing, "missing", name)
        self.tol = None if tol is None else float(tol)
        self.missing = float("nan")
        self.missing = self._non_informative() if missing is None else float(missing)

    @abstractmethod
    def _raw(self, y: np.ndarray) -> np.ndarray:
        """Desirabilities of the float array ``y``, NaN where ``y`` is NaN."""

    def _grid(self) -> np.ndarray:
        """The 100 points whose mean desirability is the non-informative value."""
        return np.linspace(self.low, self.high, 100)  # type: ignore[attr-defined]

    def _non_informative(self) -> float:
        return float(np.mean(self(self._grid())))

    def _to_float(self, y: Any) -> np.ndarray:
        if isinstance(y, np.ndarray) and y.dtype != object:
            return np.asarray(y, dtype=np.float64)
        arr = np.asarray(y, dtype=object)
        flat = [np.nan if v is None else float(v) for v in arr.reshape(-1)]
        return np.asarray(flat, dtype=np.float64).reshape(arr.shape)

    def __call__(self, y: Any) -> np.ndarray:
        """Desirabilities of the responses ``y`` (any shape; NaN/None = missing).

        Returns:
            float64 array of the shape of ``y``, values in ``[0, 1]``.
        """
        out = np.array(self._raw(self._to_float(y)), dtype=np.float64)
        out[np.isnan(out)] = self.missing
        if self.tol is not None:
            out[out == 0.0] = self.tol
        return out

    def predict(self, y: Any) -> np.ndarray:
        """Alias of ``__call__`` (the R and spotdesirability name)."""
        return self(y)

    def shortfall(self, y: Any) -> np.ndarray:
        """How far each response is from the set where ``d > 0``, in units of the ramp
        width (0 where ``d > 0``; NaN for missing). A search signal on the ``d = 0``
        plateau, where ``d`` itself is flat. This base version gives 0 everywhere."""
        y = self._to_float(y)
        return np.where(np.isnan(y), np.nan, 0.0)

    def __repr__(self) -> str:
        keys = [k for k in vars(self) if not k.startswith("_")]
        args = ", ".join(f"{k}={getattr(self, k)!r}" for k in keys)
        return f"{type(self).__name__}({args})"


DESIRABILITIES: Registry[type[Desirability]] = Registry(
    "desirability type", "moalign.desirabilities")
register_desirability = DESIRABILITIES.register


@register_desirability("dmax")
class DMax(Desirability):
    """Larger is better: ``d = ((y - low) / (high - low))^scale`` clipped to ``[0, 1]``.

    Args:
        low: below this, ``d = 0``.
        high: above this, ``d = 1``.
        scale: ramp exponent ``s > 0`` (``s > 1``: harder to satisfy, ``s < 1``: easier).
        tol: see :class:`Desirability`.
        missing: see :class:`Desirability`.

    Example:
        >>> DMax(0, 10)([-1, 5, 20]).tolist()
        [0.0, 0.5, 1.0]
    """

    def __init__(self, low: float, high: float, scale: float = 1.0, *,
                 tol: float | None = None, missing: float | None = None) -> None:
        _check_low_high(low, high, "DMax")
        _check_scale(scale, "scale", "DMax")
        self.low, self.high, self.scale = float(low), float(high), float(scale)
        super().__init__(tol=tol, missing=missing)

    def shortfall(self, y: Any) -> np.ndarray:
        """``max(low - y, 0) / (high - low)`` (see the base class)."""
        y = self._to_float(y)
        return np.maximum(self.low - y, 0.0) / (self.high - self.low)

    def _raw(self, y: np.ndarray) -> np.ndarray:
        t = np.clip((y - self.low) / (self.high - self.low), 0.0, 1.0)
        return t**self.scale


@register_desirability("dmin")
class DMin(Desirability):
    """Smaller is better: ``d = ((y - high) / (low - high))^scale`` clipped to ``[0, 1]``.

    Args:
        low: below this, ``d = 1``.
        high: above this, ``d = 0``.
        scale: ramp exponent ``s > 0``.
        tol: see :class:`Desirability`.
        missing: see :class:`Desirability`.

    Example:
        >>> DMin(0, 10)([-1, 5, 20]).tolist()
        [1.0, 0.5, 0.0]
    """

    def __init__(self, low: float, high: float, scale: float = 1.0, *,
                 tol: float | None = None, missing: float | None = None) -> None:
        _check_low_high(low, high, "DMin")
        _check_scale(scale, "scale", "DMin")
        self.low, self.high, self.scale = float(low), float(high), float(scale)
        super().__init__(tol=tol, missing=missing)

    def shortfall(self, y: Any) -> np.ndarray:
        """``max(y - high, 0) / (high - low)`` (see the base class)."""
        y = self._to_float(y)
        return np.maximum(y - self.high, 0.0) / (self.high - self.low)

    def _raw(self, y: np.ndarray) -> np.ndarray:
        t = np.clip((y - self.high) / (self.low - self.high), 0.0, 1.0)
        return t**self.scale


@register_desirability("dtarget")
class DTarget(Desirability):
    """A target is best: rises from ``low`` to ``target``, falls to ``high``, 0 outside.

    ``d = ((y - low) / (target - low))^low_scale`` on ``[low, target]`` and
    ``((y - high) / (target - high))^high_scale`` on ``[target, high]``. Equivalently, the
    product of the two ramps, each clipped to ``[0, 1]`` (the form the torch version uses).

    Args:
        low: lower limit (``d = 0`` below).
        target: the value with ``d = 1``; must satisfy ``low < target < high``.
        high: upper limit (``d = 0`` above).
        low_scale: exponent of the rising ramp (> 0).
        high_scale: exponent of the falling ramp (> 0).
        tol: see :class:`Desirability`.
        missing: see :class:`Desirability`.

    Example:
        >>> DTarget(0, 5, 10)([2.5, 5, 7.5, 11]).tolist()
        [0.5, 1.0, 0.5, 0.0]
    """

    def __init__(self, low: float, target: float, high: float, low_scale: float = 1.0,
                 high_scale: float = 1.0, *, tol: float | None = None,
                 missing: float | None = None) -> None:
        _check_low_high(low, high, "DTarget")
        if not float(low) < float(target) < float(high):
            raise ValueError(f"DTarget: target ({target}) must lie strictly between low "
                             f"({low}) and high ({high}); move target inside (low, high)")
        _check_scale(low_scale, "low_scale", "DTarget")
        _check_scale(high_scale, "high_scale", "DTarget")
        self.low, self.target, self.high = float(low), float(target), float(high)
        self.low_scale, self.high_scale = float(low_scale), float(high_scale)
        super().__init__(tol=tol, missing=missing)

    def shortfall(self, y: Any) -> np.ndarray:
        """Distance of ``y`` to ``[low, high]`` over ``high - low`` (see the base class)."""
        y = self._to_float(y)
        return (np.maximum(self.low - y, 0) + np.maximum(y - self.high, 0)) / (
            self.high - self.low)

    def _raw(self, y: np.ndarray) -> np.ndarray:
        rise = np.clip((y - self.low) / (self.target - self.low), 0.0, 1.0)
        fall = np.clip((y - self.high) / (self.target - self.high), 0.0, 1.0)
        return rise**self.low_scale * fall**self.high_scale


@register_desirability("dbox")
class DBox(Desirability):
    """``d = 1`` on ``[low, high]``, 0 outside.

    Example:
        >>> DBox(0, 1)([-0.5, 0, 0.5, 1, 1.5]).tolist()
        [0.0, 1.0, 1.0, 1.0, 0.0]
    """

    def __init__(self, low: float, high: float, *, tol: float | None = None,
                 missing: float | None = None) -> None:
        _check_low_high(low, high, "DBox")
        self.low, self.high = float(low), float(high)
        super().__init__(tol=tol, missing=missing)

    def shortfall(self, y: Any) -> np.ndarray:
        """Distance of ``y`` to ``[low, high]`` over ``high - low`` (see the base class)."""
        y = self._to_float(y)
        return (np.maximum(self.low - y, 0) + np.maximum(y - self.high, 0)) / (
            self.high - self.low)

    def _raw(self, y: np.ndarray) -> np.ndarray:
        out = ((y >= self.low) & (y <= self.high)).astype(np.float64)
        out[np.isnan(y)] = np.nan
        return out


@register_desirability("darb")
class DArb(Desirability):
    """An arbitrary piecewise-linear desirability through the points ``(x_i, d_i)``.

    The points are sorted by ``x`` (as R does); outside ``[min x, max x]`` the end values
    hold. The non-informative value is the mean over 100 points of ``[min x, max x]``.

    Args:
        x: at least two distinct response values.
        d: their desirabilities, each in ``[0, 1]``.
        tol: see :class:`Desirability`.
        missing: see :class:`Desirability`.

    Example:
        >>> DArb([0, 1, 2], [0, 1, 0.5])([-1, 0.5, 1.5, 3]).tolist()
        [0.0, 0.5, 0.75, 0.5]
    """

    def __init__(self, x: Sequence[float] | np.ndarray, d: Sequence[float] | np.ndarray, *,
                 tol: float | None = None, missing: float | None = None) -> None:
        xs = np.atleast_1d(np.asarray(x, dtype=np.float64))
        ds = np.atleast_1d(np.asarray(d, dtype=np.float64))
        if xs.shape != ds.shape or xs.ndim != 1:
            raise ValueError(f"DArb: x and d must be 1-d of equal length, got {xs.shape} "
                             f"and {ds.shape}")
        if len(xs) < 2:
            raise ValueError("DArb: give at least two (x, d) points")
        if np.any(~np.isfinite(xs)) or np.any((ds < 0) | (ds > 1) | np.isnan(ds)):
            raise ValueError(f"DArb: every d must lie in [0, 1] and every x be finite; "
                             f"got d={ds.tolist()}")
        order = np.argsort(xs, kind="stable")
        xs, ds = xs[order], ds[order]
        if np.any(np.diff(xs) == 0):
            raise ValueError(f"DArb: x values must be distinct, got {xs.tolist()}")
        self.x, self.d = xs, ds
        super().__init__(tol=tol, missing=missing)

    def _grid(self) -> np.ndarray:
        return np.linspace(self.x[0], self.x[-1], 100)

    def shortfall(self, y: Any) -> np.ndarray:
        """Distance of ``y`` to the nearest point ``x_i`` with ``d_i > 0`` (0 where
        ``d(y) > 0``), over ``max x - min x`` (see the base class)."""
        y = self._to_float(y)
        good = self.x[self.d > 0]
        if len(good) == 0:
            return np.where(np.isnan(y), np.nan, 0.0)
        dist = np.abs(y[..., None] - good).min(axis=-1) / (self.x[-1] - self.x[0])
        return np.where(self._raw(y) > 0, 0.0, dist)

    def _raw(self, y: np.ndarray) -> np.ndarray:
        out = np.interp(y, self.x, self.d)  # constant d_1 / d_k outside, as R
        out[np.isnan(y)] = np.nan
        return np.asarray(out, dtype=np.float64)


@register_desirability("dcategorical")
class DCategorical(Desirability):
    """Desirability of categorical levels by look-up.

    Args:
        mapping: level -> desirability in ``[0, 1]``; at least two levels.
        tol: see :class:`Desirability`.
        missing: desirability of a missing level (None/NaN); default the mean of the values.

    Raises:
        ValueError: at call time, for a level that is not in ``mapping``.

    Example:
        >>> DCategorical({"a": 1.0, "b": 0.2})(["b", "a", None]).tolist()
        [0.2, 1.0, 0.6]
    """

    def __init__(self, mapping: Mapping[Any, float], *, tol: float | None = None,
                 missing: float | None = None) -> None:
        if not isinstance(mapping, Mapping) or len(mapping) < 2:
            raise ValueError("DCategorical: mapping must be a dict of at least two "
                             "levels -> desirability")
        bad = {k: v for k, v in mapping.items() if not 0.0 <= float(v) <= 1.0}
        if bad:
            raise ValueError(f"DCategorical: desirabilities must lie in [0, 1]; fix {bad}")
        self.mapping = {k: float(v) for k, v in mapping.items()}
        super().__init__(tol=tol, missing=missing)

    def _non_informative(self) -> float:
        return float(np.mean(list(self.mapping.values())))  # R and spotdesirability: no tol

    @staticmethod
    def _is_missing(v: Any) -> bool:
        return v is None or (isinstance(v, float | np.floating) and np.isnan(v))

    def _to_float(self, y: Any) -> np.ndarray:
        arr = np.asarray(y, dtype=object)
        out = np.empty(arr.size, dtype=np.float64)
        for i, v in enumerate(arr.reshape(-1)):
            if self._is_missing(v):
                out[i] = np.nan
                continue
            key = v.item() if isinstance(v, np.generic) else v
            if key not in self.mapping:
                raise ValueError(f"DCategorical: unknown level {key!r}; known levels are "
                                 f"{list(self.mapping)}")
            out[i] = self.mapping[key]
        return out.reshape(arr.shape)

    def _raw(self, y: np.ndarray) -> np.ndarray:
        return y  # _to_float already looked the levels up


class DOverall:
    """Overall desirability: the (weighted) geometric mean of individual desirabilities.

    ``D = (prod_r d_r)^(1/R)``, or with weights ``w``: ``D = prod_r d_r^(w_r / sum(w))``.

    Args:
        *ds: one :class:`Desirability` per response column.
        weights: optional positive weight per response.

    Example:
        >>> D = DOverall(DMax(0, 1), DMin(0, 1))
        >>> D([[0.5, 0.5], [1.0, 0.0], [1.0, 2.0]]).tolist()
        [0.5, 1.0, 0.0]
    """

    def __init__(self, *ds: Desirability,
                 weights: Sequence[float] | np.ndarray | None = None) -> None:
        if not ds:
            raise ValueError("DOverall: give at least one desirability function")
        for i, d in enumerate(ds):
            if not isinstance(d, Desirability):
                raise TypeError(f"DOverall: argument {i} is a {type(d).__name__}, not a "
                                f"desirability (DMax, DMin, DTarget, DBox, DArb, DCategorical)")
        self.ds = tuple(ds)
        self.weights: np.ndarray | None = None
        if weights is not None:
            w = np.asarray(weights, dtype=np.float64).reshape(-1)
            if w.shape != (len(ds),) or not np.all(np.isfinite(w)) or np.any(w <= 0):
                raise ValueError(f"DOverall: weights must be {len(ds)} positive numbers, "
                                 f"got {np.asarray(weights).tolist()}")
            self.weights = w

    def __len__(self) -> int:
        return len(self.ds)

    def _columns(self, Y: Any) -> list[Any]:
        if hasattr(Y, "iloc"):  # pandas DataFrame: columns in order
            Y = Y.to_numpy(dtype=object)
        arr = np.asarray(Y, dtype=object) if not isinstance(Y, np.ndarray) else Y
        if arr.ndim == 1:
            arr = arr.reshape(1, -1)
        if arr.ndim != 2 or arr.shape[1] != len(self.ds):
            raise ValueError(f"DOverall: expected an n x {len(self.ds)} array of responses, "
                             f"got shape {arr.shape}")
        return [arr[:, r] for r in range(arr.shape[1])]

    def individual(self, Y: Any) -> np.ndarray:
        """`n x R` individual desirabilities of the `n x R` responses ``Y``."""
        cols = self._columns(Y)
        return np.stack([d(c) for d, c in zip(self.ds, cols, strict=True)], axis=1)

    def combine(self, dvals: np.ndarray) -> np.ndarray:
        """`... x R` individual desirabilities -> `...` overall desirabilities."""
        dvals = np.asarray(dvals, dtype=np.float64)
        if self.weights is None:
            return np.asarray(np.prod(dvals, axis=-1) ** (1.0 / dvals.shape[-1]))
        w = self.weights / self.weights.sum()
        return np.asarray(np.prod(dvals**w, axis=-1))

    def __call__(self, Y: Any) -> np.ndarray:
        """`n x R` responses (a 1-d array is one row) -> `n` overall desirabilities."""
        return self.combine(self.individual(Y))

    def shortfall(self, Y: Any) -> np.ndarray:
        """`n` summed shortfalls (each response's distance to ``d_r > 0`` in ramp widths;
        see :meth:`Desirability.shortfall`): 0 where ``D > 0``, growing with the distance
        to that set elsewhere. A search direction on the ``D = 0`` plateau."""
        cols = self._columns(Y)
        return np.sum([d.shortfall(c) for d, c in zip(self.ds, cols, strict=True)], axis=0)

    def predict(self, Y: Any, all: bool = False) -> Any:  # noqa: A002 - R's name
        """R-style: overall values, or ``(individual, overall)`` when ``all=True``."""
        ind = self.individual(Y)
        return (ind, self.combine(ind)) if all else self.combine(ind)

    def __repr__(self) -> str:
        w = "" if self.weights is None else f", weights={self.weights.tolist()}"
        return f"DOverall({', '.join(map(repr, self.ds))}{w})"


def desirability_from_dict(spec: Mapping[str, Any]) -> Desirability:
    """Build a desirability from a mapping, as written in recipes.

    Args:
        spec: ``{"type": "dmax" | "dmin" | "dtarget" | "dbox" | "darb" | "dcategorical",
            **constructor arguments}``, e.g. ``{"type": "dtarget", "low": 55,
            "target": 57.5, "high": 60}``.

    Raises:
        ValueError: unknown type or bad arguments (the message names them).

    Example:
        >>> desirability_from_dict({"type": "dmax", "low": 80, "high": 97})
        DMax(low=80.0, high=97.0, scale=1.0, tol=None, missing=0.5)
    """
    kwargs = dict(spec)
    kind = str(kwargs.pop("type", "")).lower().replace("_", "")
    cls = DESIRABILITIES.get(kind)
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise ValueError(f"{cls.__name__}: bad arguments {sorted(kwargs)} ({exc})") from None

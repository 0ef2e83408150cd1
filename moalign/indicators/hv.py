"""Exact hypervolume and per-point contributions (moocore's implementations)."""

from __future__ import annotations

from collections.abc import Sequence

import moocore
import numpy as np

from moalign.indicators.pareto import Maximize, to_min


def _ref_min(ref: Sequence[float] | np.ndarray, maximize: Maximize, m: int) -> np.ndarray:
    r = np.asarray(ref, dtype=np.float64).reshape(-1)
    if r.shape[0] != m:
        raise ValueError(f"hypervolume: ref has {r.shape[0]} values, points have {m} objectives")
    return r if maximize is False else to_min(r[None, :], maximize)[0]


def hypervolume(
    F: np.ndarray | Sequence[Sequence[float]],
    ref: Sequence[float] | np.ndarray,
    maximize: Maximize = False,
) -> float:
    """Exact hypervolume of the region dominated by `F` and bounded by `ref`.

    For minimization the region is ``{y : f <= y <= ref for some f in F}``; for maximized
    objectives both points and reference are negated first. Points that do not strictly
    dominate the reference contribute nothing; an empty set has hypervolume 0.

    Args:
        F: `n x m` objective values (any `m`), user orientation.
        ref: `m` reference point, user orientation.
        maximize: bool or `m` bools.

    Returns:
        The hypervolume (float).

    Example:
        >>> hypervolume([[1, 2], [2, 1]], ref=[3, 3])
        3.0
        >>> hypervolume([[1, 2], [2, 1]], ref=[0, 0], maximize=True)
        3.0
    """
    if maximize is False:  # fast path: no orientation, no copy
        Fm = np.asarray(F, dtype=np.float64)
        if Fm.ndim != 2:
            Fm = Fm.reshape(-1, np.asarray(ref).size)
    else:
        Fm = to_min(F, maximize)
    r = _ref_min(ref, maximize, Fm.shape[1])
    # moocore ignores points that do not strictly dominate the reference point
    return float(moocore.hypervolume(Fm, ref=r)) if Fm.shape[0] else 0.0


def hv_contributions(
    F: np.ndarray | Sequence[Sequence[float]],
    ref: Sequence[float] | np.ndarray,
    maximize: Maximize = False,
) -> np.ndarray:
    """`n` exclusive hypervolume contributions: ``HV(F) - HV(F without point i)``.

    Dominated points and duplicates contribute 0.

    Example:
        >>> hv_contributions([[1, 2], [2, 1]], ref=[3, 3]).tolist()
        [1.0, 1.0]
    """
    Fm = to_min(F, maximize)
    r = _ref_min(ref, maximize, Fm.shape[1])
    out = np.zeros(Fm.shape[0])
    inside = np.all(Fm < r, axis=1)
    if inside.any():
        out[inside] = moocore.hv_contributions(Fm[inside], ref=r)
    return out


NORMALIZED_REF = 1.1
"""Reference of :func:`normalized_hypervolume` in every objective of the normalized space."""


def normalized_hypervolume(
    F: np.ndarray | Sequence[Sequence[float]],
    ideal: Sequence[float] | np.ndarray,
    nadir: Sequence[float] | np.ndarray,
    maximize: Maximize = False,
    ref: float = NORMALIZED_REF,
) -> float:
    """Hypervolume of `F` with each objective scaled so that the ideal is 0 and the nadir 1,
    at the reference ``ref`` (1.1) in every objective.

    ``u = (f - ideal) / (nadir - ideal)`` on the minimization view; the value is
    ``hypervolume(u, [ref] * m)``, the normalized hypervolume of the RE suite (R. Tanabe,
    H. Ishibuchi, "An easy-to-use real-world multi-objective optimization problem suite",
    Applied Soft Computing 89, 2020). It does not depend on the objectives' units, so it
    can be compared across problems and reference points; the best attainable value is
    below ``ref ** m`` (a front at the ideal point). When the reference point of the run
    is nadir + 10% of the range it equals the plain hypervolume divided by the product of
    the ranges ``nadir - ideal``.

    Args:
        F: `n x m` objective values, user orientation.
        ideal: `m` best values, user orientation.
        nadir: `m` worst values of the Pareto front, user orientation.
        maximize: bool or `m` bools.
        ref: the reference in every normalized objective.

    Raises:
        ValueError: the nadir is not worse than the ideal in some objective.

    Example:
        >>> round(normalized_hypervolume([[0, 10], [5, 0]], ideal=[0, 0], nadir=[5, 10]), 6)
        0.21
    """
    Fm = to_min(F, maximize)
    m = Fm.shape[1] if Fm.ndim == 2 else np.asarray(ideal).size
    lo = _ref_min(ideal, maximize, m)
    hi = _ref_min(nadir, maximize, m)
    span = hi - lo
    if not np.all(span > 0):
        raise ValueError(f"normalized_hypervolume: the nadir {np.asarray(nadir).tolist()} "
                         f"must be worse than the ideal {np.asarray(ideal).tolist()} in "
                         "every objective")
    U = (Fm.reshape(-1, m) - lo) / span
    return hypervolume(U, np.full(m, float(ref)))

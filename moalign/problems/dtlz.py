"""DTLZ1–7 for any number of objectives (Deb, Thiele, Laumanns & Zitzler 2005).

K. Deb, L. Thiele, M. Laumanns, E. Zitzler. Scalable test problems for evolutionary
multiobjective optimization. In Evolutionary Multiobjective Optimization, Springer,
pp. 105–145, 2005.

All objectives are minimized over ``[0,1]^n``; ``x = (x_P, x_M)`` with ``m - 1`` position
variables and ``k = n - m + 1`` distance variables. With ``c_j = cos(pi/2 y_j)`` and
``s_j = sin(pi/2 y_j)`` the spherical map is
``f_1 = (1+g) c_1 ... c_{m-1}``, ``f_i = (1+g) c_1 ... c_{m-i} s_{m-i+1}``, ``f_m = (1+g) s_1``:

- DTLZ1: ``g = 100 (k + sum (x_j-0.5)^2 - cos(20 pi (x_j-0.5)))``, linear map
  ``f_i = 0.5 (1+g) x_1 ... x_{m-i} (1 - x_{m-i+1})``; front ``sum f = 0.5``.
- DTLZ2: ``g = sum (x_j-0.5)^2``, ``y = x_P``; front: unit sphere.
- DTLZ3: DTLZ1's ``g`` with the spherical map; DTLZ4: ``y = x_P^alpha`` (alpha = 100).
- DTLZ5 / DTLZ6: ``y_1 = x_1``, ``y_i = (1 + 2 g x_i) / (2 (1+g))``; ``g`` of DTLZ2 /
  ``g = sum x_j^0.1``; the front is a curve for ``m <= 3``.
- DTLZ7: ``f_i = x_i`` (i < m), ``g = 1 + 9/k sum x_M``,
  ``f_m = (1+g) (m - sum_i f_i/(1+g) (1 + sin(3 pi f_i)))``; ``2^(m-1)`` disconnected pieces.

Defaults follow pymoo (``n_var = n_obj - 1 + k`` with ``k = 5`` for DTLZ1 and ``k = 8``
otherwise, i.e. pymoo's 7 and 10 variables at ``n_obj = 3``), so both give the same numbers.
DTLZ5/6 for ``m >= 4`` have no known closed-form front (Ishibuchi et al. 2016 showed points
off the curve are Pareto optimal); ``pareto_front`` and the nadir are then left ``None``.

Hypervolume reference point: nadir + 10% of the ideal-nadir range (``[1.1] * m`` for
DTLZ2-4, ``[0.55] * m`` for DTLZ1); ``[1.1] * m`` for DTLZ5/6 with ``m >= 4``, whose front
lies in ``[0, 1]^m`` (every objective is a product of cosines and sines at ``g = 0``).

Example:
    >>> import numpy as np
    >>> p = dtlz2(n_obj=2, n_var=3)
    >>> np.round(p.evaluate(np.array([[0.0, 0.5, 0.5]])).F, 12).tolist()
    [[1.0, 0.0]]
"""

from __future__ import annotations

from functools import partial

import numpy as np

from moalign.core import Problem
from moalign.problems._common import box_problem, check_batch, simplex_points
from moalign.problems.registry import register_problem

#: Pieces ``[0, a1] U [b2, a2]`` of each of ``f_1..f_{m-1}`` on the DTLZ7 front: where
#: ``phi(t) = t (1 + sin(3 pi t))`` exceeds its maximum over all smaller ``t``.
DTLZ7_PIECES = ((0.0, 0.2514118360889171), (0.6316265307000614, 0.859400856644724))

_DEFAULT_K = {1: 5, 2: 8, 3: 8, 4: 8, 5: 8, 6: 8, 7: 8}


def _g1(XM: np.ndarray) -> np.ndarray:
    k = XM.shape[1]
    return 100.0 * (k + ((XM - 0.5) ** 2 - np.cos(20.0 * np.pi * (XM - 0.5))).sum(axis=1))


def _g2(XM: np.ndarray) -> np.ndarray:
    return ((XM - 0.5) ** 2).sum(axis=1)


def _sphere(Y: np.ndarray, radius: np.ndarray) -> np.ndarray:
    """`n x m` spherical map of `n x (m-1)` angles in ``[0, 1]`` (units of pi/2)."""
    m = Y.shape[1] + 1
    c, s = np.cos(0.5 * np.pi * Y), np.sin(0.5 * np.pi * Y)
    F = np.empty((Y.shape[0], m))
    for i in range(m):
        f = radius * np.prod(c[:, : m - 1 - i], axis=1)
        if i > 0:
            f = f * s[:, m - 1 - i]
        F[:, i] = f
    return F


def _linear(Y: np.ndarray, half_radius: np.ndarray) -> np.ndarray:
    """DTLZ1's linear map: `n x m`."""
    m = Y.shape[1] + 1
    F = np.empty((Y.shape[0], m))
    for i in range(m):
        f = half_radius * np.prod(Y[:, : m - 1 - i], axis=1)
        if i > 0:
            f = f * (1.0 - Y[:, m - 1 - i])
        F[:, i] = f
    return F


def _dtlz_F(X: np.ndarray, kind: int, m: int, dim: int, alpha: float) -> np.ndarray:
    """`n x m` objective values of DTLZ``kind``."""
    X = check_batch(X, dim, f"dtlz{kind}")
    XP, XM = X[:, : m - 1], X[:, m - 1 :]
    if kind == 1:
        return _linear(XP, 0.5 * (1.0 + _g1(XM)))
    if kind == 7:
        g = 1.0 + 9.0 / XM.shape[1] * XM.sum(axis=1)
        h = m - (XP / (1.0 + g[:, None]) * (1.0 + np.sin(3.0 * np.pi * XP))).sum(axis=1)
        return np.column_stack([XP, (1.0 + g) * h])
    if kind in (2, 4, 5):
        g = _g2(XM)
    elif kind == 3:
        g = _g1(XM)
    else:
        g = (XM**0.1).sum(axis=1)
    if kind == 4:
        Y = XP**alpha
    elif kind in (5, 6):
        Y = (1.0 + 2.0 * g[:, None] * XP) / (2.0 * (1.0 + g[:, None]))
        Y[:, 0] = XP[:, 0]
    else:
        Y = XP
    return _sphere(Y, 1.0 + g)


def _curve(t: np.ndarray, m: int) -> np.ndarray:
    """DTLZ5/6 front for ``m <= 3``: ``y_1 = t``, other angles pi/4, radius 1."""
    Y = np.column_stack([t] + [np.full_like(t, 0.5)] * (m - 2))
    return _sphere(Y, np.ones_like(t))


def _dtlz7_phi(t: np.ndarray) -> np.ndarray:
    return t * (1.0 + np.sin(3.0 * np.pi * t))


def _dtlz7_positions(u: np.ndarray) -> np.ndarray:
    """Map ``u in [0, 1]`` onto the two DTLZ7 pieces, uniformly along their total length."""
    (a0, a1), (b0, b1) = DTLZ7_PIECES
    L1, L2 = a1 - a0, b1 - b0
    s = u * (L1 + L2)
    return np.where(s <= L1, a0 + s, b0 + (s - L1))


def _front(n: int, kind: int, m: int) -> np.ndarray:
    """`n x m` points of the true front of DTLZ``kind``."""
    if n < 1:
        raise ValueError("pareto_front: n must be >= 1")
    if kind == 1:
        return 0.5 * simplex_points(n, m)
    if kind in (2, 3, 4):
        W = simplex_points(n, m)
        return W / np.linalg.norm(W, axis=1, keepdims=True)
    if kind in (5, 6):
        return _curve(np.linspace(0.0, 1.0, n), m)
    # DTLZ7: product of the 1-d pieces (dominance is separable in f_1..f_{m-1})
    if m == 2:
        U = np.linspace(0.0, 1.0, n)[:, None]
    else:
        U = np.random.default_rng(0).random((n, m - 1))
    P = _dtlz7_positions(U)
    return np.column_stack([P, 2.0 * m - _dtlz7_phi(P).sum(axis=1)])


def _ideal_nadir(kind: int, m: int) -> tuple[np.ndarray, np.ndarray | None]:
    if kind == 1:
        return np.zeros(m), np.full(m, 0.5)
    if kind in (2, 3, 4):
        return np.zeros(m), np.ones(m)
    if kind in (5, 6):
        if m > 3:
            return np.zeros(m), None
        return np.zeros(m), _curve(np.array([0.0, 1.0]), m).max(axis=0)
    a1 = DTLZ7_PIECES[1][1]
    ideal = np.append(np.zeros(m - 1), 2.0 * m - (m - 1) * _dtlz7_phi(np.array(a1)))
    nadir = np.append(np.full(m - 1, a1), 2.0 * m)
    return ideal, nadir


def _make(kind: int, n_obj: int, n_var: int | None, k: int | None, alpha: float) -> Problem:
    name = f"dtlz{kind}"
    if int(n_obj) != n_obj or n_obj < 2:
        raise ValueError(f"{name}: n_obj must be an integer >= 2, got {n_obj}")
    m = int(n_obj)
    if n_var is None:
        n_var = m - 1 + (_DEFAULT_K[kind] if k is None else int(k))
    elif k is not None and n_var != m - 1 + k:
        raise ValueError(f"{name}: give n_var or k, not both (n_var = n_obj - 1 + k)")
    if int(n_var) != n_var or n_var < m:
        raise ValueError(f"{name}: n_var must be an integer >= n_obj = {m}, got {n_var}")
    dim = int(n_var)
    ideal, nadir = _ideal_nadir(kind, m)
    front = None if kind in (5, 6) and m > 3 else partial(_front, kind=kind, m=m)
    return box_problem(
        name,
        np.zeros(dim),
        np.ones(dim),
        partial(_dtlz_F, kind=kind, m=m, dim=dim, alpha=alpha),
        [f"f{i + 1}" for i in range(m)],
        ideal=ideal,
        nadir=nadir,
        pareto_front=front,
        ref_point="auto" if nadir is not None else np.full(m, 1.1),
    )


@register_problem("dtlz1")
def dtlz1(n_obj: int = 3, n_var: int | None = None, k: int | None = None) -> Problem:
    """DTLZ1: linear front ``sum f_i = 0.5``, 11^k - 1 local fronts."""
    return _make(1, n_obj, n_var, k, 1.0)


@register_problem("dtlz2")
def dtlz2(n_obj: int = 3, n_var: int | None = None, k: int | None = None) -> Problem:
    """DTLZ2: spherical front ``sum f_i^2 = 1``."""
    return _make(2, n_obj, n_var, k, 1.0)


@register_problem("dtlz3")
def dtlz3(n_obj: int = 3, n_var: int | None = None, k: int | None = None) -> Problem:
    """DTLZ3: DTLZ2's front behind DTLZ1's multimodal ``g``."""
    return _make(3, n_obj, n_var, k, 1.0)


@register_problem("dtlz4")
def dtlz4(
    n_obj: int = 3, n_var: int | None = None, k: int | None = None, alpha: float = 100.0
) -> Problem:
    """DTLZ4: DTLZ2 with biased density ``y = x^alpha``."""
    return _make(4, n_obj, n_var, k, alpha)


@register_problem("dtlz5")
def dtlz5(n_obj: int = 3, n_var: int | None = None, k: int | None = None) -> Problem:
    """DTLZ5: degenerate (curve) front for ``n_obj <= 3``."""
    return _make(5, n_obj, n_var, k, 1.0)


@register_problem("dtlz6")
def dtlz6(n_obj: int = 3, n_var: int | None = None, k: int | None = None) -> Problem:
    """DTLZ6: DTLZ5 with the harder ``g = sum x^0.1``."""
    return _make(6, n_obj, n_var, k, 1.0)


@register_problem("dtlz7")
def dtlz7(n_obj: int = 3, n_var: int | None = None, k: int | None = None) -> Problem:
    """DTLZ7: ``2^(n_obj-1)`` disconnected front pieces."""
    return _make(7, n_obj, n_var, k, 1.0)

"""Scalarization functions: `... x m` objective values (minimization view) -> `...` scalars.

Every function accepts numpy arrays or torch tensors and returns the same kind, so one
implementation serves analysis (numpy) and training (torch autograd). Lower is better.
``weights`` broadcast against ``F`` (`m` or `n x m`); ``ideal`` is the ideal point z.

The two published Tchebycheff conventions are kept apart by name:

* :func:`weighted_tchebycheff` multiplies: ``max_i w_i (f_i - z_i)`` (SVH-PSL, MOEA/D).
* :func:`inverse_weighted_tchebycheff` divides: ``max_i (f_i - z_i) / w_i``
  (PSL, Lin et al. 2022). Its optimum for weight w lies on the ray of direction w.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from moalign.core.registry import Registry

Array = Any  # np.ndarray or torch.Tensor
Scalarizer = Callable[..., Array]  # (F, weights, ideal=None, ...) -> values

SCALARIZERS: Registry[Scalarizer] = Registry("scalarizer", "moalign.scalarizers")
register_scalarizer = SCALARIZERS.register


def _is_torch(x: Any) -> bool:
    return type(x).__module__.startswith("torch")


def _amax(x: Array) -> Array:
    return x.amax(dim=-1) if _is_torch(x) else np.max(x, axis=-1)


def _sum(x: Array) -> Array:
    return x.sum(dim=-1) if _is_torch(x) else np.sum(x, axis=-1)


def _like(v: Any, ref: Array) -> Array:
    if _is_torch(ref):
        import torch

        return torch.as_tensor(v, dtype=ref.dtype, device=ref.device)
    return np.asarray(v, dtype=np.float64)


def _zero_ideal(F: Array, ideal: Any) -> Array:
    return _like(0.0 if ideal is None else ideal, F)


@register_scalarizer("linear")
def linear(F: Array, weights: Any) -> Array:
    """Weighted sum ``sum_i w_i f_i``.

    Example:
        >>> float(linear(np.array([1.0, 3.0]), [0.5, 0.5]))
        2.0
    """
    return _sum(F * _like(weights, F))


@register_scalarizer("tchebycheff")
def weighted_tchebycheff(F: Array, weights: Any, ideal: Any = None) -> Array:
    """``max_i w_i (f_i - z_i)`` (weight multiplies)."""
    return _amax(_like(weights, F) * (F - _zero_ideal(F, ideal)))


@register_scalarizer("inverse_tchebycheff")
def inverse_weighted_tchebycheff(F: Array, weights: Any, ideal: Any = None, eps: float = 1e-12
                                 ) -> Array:
    """``max_i (f_i - z_i) / w_i`` (weight divides; PSL, Lin et al., NeurIPS 2022)."""
    return _amax((F - _zero_ideal(F, ideal)) / (_like(weights, F) + eps))


@register_scalarizer("augmented_tchebycheff")
def augmented_tchebycheff(F: Array, weights: Any, ideal: Any = None, rho: float = 1e-3
                          ) -> Array:
    """``max_i w_i (f_i - z_i) + rho * sum_i w_i (f_i - z_i)``: no weakly Pareto optima."""
    d = _like(weights, F) * (F - _zero_ideal(F, ideal))
    return _amax(d) + rho * _sum(d)


@register_scalarizer("smooth_tchebycheff")
def smooth_tchebycheff(F: Array, weights: Any, ideal: Any = None, mu: float = 0.1) -> Array:
    """``mu * log sum_i exp(w_i (f_i - z_i) / mu)`` (Lin et al., ICML 2024).

    A smooth upper bound of :func:`weighted_tchebycheff` within ``mu * log m``.
    """
    d = _like(weights, F) * (F - _zero_ideal(F, ideal)) / mu
    if _is_torch(d):
        import torch

        return mu * torch.logsumexp(d, dim=-1)
    from scipy.special import logsumexp

    return mu * logsumexp(d, axis=-1)


@register_scalarizer("pbi")
def pbi(F: Array, weights: Any, ideal: Any = None, theta: float = 5.0) -> Array:
    """Penalty boundary intersection (Zhang & Li, MOEA/D 2007): ``d1 + theta * d2`` with
    ``d1 = (f - z)·w/||w||`` and ``d2 = ||f - z - d1 w/||w||||``."""
    w = _like(weights, F)
    diff = F - _zero_ideal(F, ideal)
    norm = (w * w).sum(-1, keepdims=True) ** 0.5 if _is_torch(w) else np.linalg.norm(
        w, axis=-1, keepdims=True)
    u = w / norm
    d1 = _sum(diff * u)
    rest = diff - d1[..., None] * u
    d2 = _sum(rest * rest) ** 0.5
    return d1 + theta * d2


def worst_case(F: Array, ideal: Any = None) -> Array:
    """Worst case over the simplex: ``max_{w in simplex} w·(f - z) = max_i (f_i - z_i)``."""
    return _amax(F - _zero_ideal(F, ideal))


def get_scalarizer(name: str) -> Scalarizer:
    """Look a scalarizer up by name (or ``module:function``); the error lists the valid
    names."""
    return SCALARIZERS.get(name)

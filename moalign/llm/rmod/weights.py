"""Worst-case weights of robust multi-objective decoding (Son et al., 2025).

Son, S., Bankes, W., Yoon, S., Ramesh, S. S., Tang, X. & Bogunovic, I. (2025). *Robust
Multi-Objective Controlled Decoding of Large Language Models.* For one block, the K
candidate continuations have values ``V`` (`K x G`, higher is better). The best response to
weights ``w`` on the simplex is ``π_w(k) ∝ exp(λ w·V_k)`` (uniform reference over the
sampled candidates), and the worst-case weights solve the convex problem::

    w* = argmin_{w ∈ Δ_G} f(w),   f(w) = log (1/K) Σ_k exp(λ w·V_k)

``∇f(w) = λ E_{π_w}[V]``, so at ``w*`` every objective with ``w*_g > 0`` has the same
expected value under ``π_{w*}`` and the others have a larger one (the KKT conditions).

:func:`worst_case_weights` is the practical solver of the reference code: a few gradient
steps on softmax logits ``w = softmax(θ)``, ``θ ← θ − η_t ∇_θ f`` with ``η_t = 1/√(t+1)``
and the gradient clipped. :func:`exact_worst_case_weights` solves the same problem to
high accuracy (for tests and small G).
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize
from scipy.special import logsumexp, softmax


def objective(w: np.ndarray, V: np.ndarray, lam: float) -> float:
    """``f(w) = log mean_k exp(λ w·V_k)``."""
    z = lam * (np.asarray(V, dtype=np.float64) @ np.asarray(w, dtype=np.float64))
    return float(logsumexp(z) - np.log(len(z)))


def tilted(w: np.ndarray, V: np.ndarray, lam: float) -> np.ndarray:
    """``π_w(k) ∝ exp(λ w·V_k)`` over the K candidates."""
    return np.asarray(softmax(lam * (np.asarray(V, dtype=np.float64) @ w)))


def worst_case_weights(V: np.ndarray, lam: float = 1.0, *, steps: int = 10,
                       clip: float = 1.0) -> np.ndarray:
    """The reference code's solver: gradient descent on softmax logits from uniform.

    Args:
        V: `K x G` candidate values (higher is better; normalize per objective first).
        lam: λ, the strength of the tilt toward high values.
        steps: gradient steps; step ``t`` (from 0) has size ``1/√(t+1)``.
        clip: the logits' gradient is rescaled to at most this norm.

    Returns:
        `G` weights on the simplex. With ``lam → 0`` the gradient vanishes and the weights
        stay uniform.

    Example:
        >>> V = np.array([[1.0, 0.0], [0.0, 1.0]])
        >>> worst_case_weights(V).round(3).tolist()   # symmetric: equal weights
        [0.5, 0.5]
    """
    V = np.asarray(V, dtype=np.float64)
    theta = np.zeros(V.shape[1])
    for t in range(steps):
        w = softmax(theta)
        g_w = lam * (tilted(w, V, lam) @ V)          # ∇_w f
        g_theta = w * (g_w - w @ g_w)                # chain rule through the softmax
        norm = float(np.linalg.norm(g_theta))
        if norm > clip:
            g_theta *= clip / norm
        theta -= g_theta / np.sqrt(t + 1)
    return np.asarray(softmax(theta))


def exact_worst_case_weights(V: np.ndarray, lam: float = 1.0) -> np.ndarray:
    """``argmin_{w ∈ Δ} f(w)`` to high accuracy (SLSQP on the simplex, from the best of the
    uniform point and the vertices).

    Example:
        >>> V = np.array([[2.0, 0.0], [0.0, 1.0]])
        >>> w = exact_worst_case_weights(V, lam=1.0)
        >>> p = tilted(w, V, 1.0)
        >>> bool(abs(p @ V[:, 0] - p @ V[:, 1]) < 1e-6)   # active objectives tie
        True
    """
    V = np.asarray(V, dtype=np.float64)
    G = V.shape[1]
    starts = [np.full(G, 1.0 / G), *np.eye(G)]
    x0 = min(starts, key=lambda w: objective(w, V, lam))
    res = minimize(lambda w: objective(w, V, lam), x0,
                   jac=lambda w: lam * (tilted(w, V, lam) @ V),
                   bounds=[(0.0, 1.0)] * G,
                   constraints=[{"type": "eq", "fun": lambda w: w.sum() - 1.0,
                                 "jac": lambda w: np.ones_like(w)}],
                   method="SLSQP", options={"ftol": 1e-15, "maxiter": 1000})
    w = np.clip(res.x, 0.0, None)
    return w / w.sum()

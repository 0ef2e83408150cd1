"""Evaluation protocol of Jain et al., "Multi-Objective GFlowNets" (ICML 2023).

For each preference ω of a simplex grid, draw `n_samples` candidates and keep the best
under ω (the scalarized reward); Pareto-filter the kept candidates and report hypervolume
(reference 0, maximizing), R2 (utopia = the problem's ideal point, else 1) and the diversity
of the kept candidates. On an enumerable environment (HyperGrid) also report the exact L1
distance between the learned terminal distribution (dynamic programming over the DAG) and
the target ``∝ R(x | ω)^β``, averaged over the grid of preferences, and the fraction of the
true Pareto set (Pareto filter over all terminal objects) among the candidates.

These functions call the problem's objectives directly: they are diagnostics, outside the
run's evaluation budget. On expensive objectives, turn periodic evaluation off.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from moalign.core.compositional import CompositionalEnv
from moalign.core.problem import Problem
from moalign.indicators import diversity, hypervolume, nondominated_ranks, pareto_mask, r2
from moalign.scalarize import simplex_grid


def reward_view(problem: Problem, F: np.ndarray) -> np.ndarray:
    """`n x m` objective values turned into rewards to maximize (minimized ones negated)."""
    return -problem.objectives.to_min(F)


def log_scalarized_reward(R: np.ndarray, pref: np.ndarray, reward_type: str) -> np.ndarray:
    """``log R(x | ω)``: convex ``log max(ω·R, 1e-80)`` or logconvex ``Σ ω_i log R_i``.

    Args:
        R: `n x m` rewards (maximized, non-negative).
        pref: `n x m` (or `m`) preferences.
        reward_type: ``"convex"`` or ``"logconvex"``.

    Returns:
        `n` log rewards.
    """
    if reward_type == "convex":
        return np.asarray(np.log(np.maximum((R * pref).sum(axis=-1), 1e-80)))
    if reward_type == "logconvex":
        return np.asarray((pref * np.log(np.maximum(R, 1e-80))).sum(axis=-1))
    raise ValueError(f"reward_type must be 'convex' or 'logconvex', got {reward_type!r}")


def candidate_metrics(problem: Problem, X: Any, F: np.ndarray, prefs: np.ndarray
                      ) -> dict[str, float]:
    """HV, R2, diversity (and Pareto-set recall when exact) of a candidate set.

    Args:
        problem: the problem (all objectives maximized in reward view).
        X: `k` candidates.
        F: `k x m` their objective values (NaN rows are ignored).
        prefs: `p x m` weight vectors for R2.
    """
    ok = np.all(np.isfinite(F), axis=1)
    R = reward_view(problem, F[ok])
    Xok = [x for x, good in zip(X, ok, strict=True) if good]
    m = problem.n_obj
    ref = problem.reference_point()
    ref_r = -problem.objectives.to_min(ref[None])[0] if ref is not None else np.zeros(m)
    ideal = problem.ideal
    utopia = -problem.objectives.to_min(ideal[None])[0] if ideal is not None else np.ones(m)
    front = R[pareto_mask(R, maximize=True)] if len(R) else R
    uniq = _unique(Xok)
    out = {
        "hv": hypervolume(front, ref_r, maximize=True) if len(front) else 0.0,
        "r2": r2(front, prefs, utopia, maximize=True) if len(front) else float("inf"),
        "diversity": diversity(uniq),
        "n_unique": float(len(uniq)),
    }
    truth = true_pareto_set(problem)
    if truth is not None:
        out["pareto_recall"] = pareto_recall(Xok, truth)
    return out


def evaluate_sampler(
    problem: Problem,
    sample: Callable[[np.ndarray, int], Any],
    *,
    n_partitions: int = 10,
    n_samples: int = 128,
    reward_type: str = "convex",
) -> dict[str, float]:
    """Best-of-`n_samples` per preference of a simplex grid, then :func:`candidate_metrics`.

    Args:
        problem: the problem.
        sample: ``sample(prefs, n)``: for `k x m` preferences, `k * n` objects, the `n` of
            preference `i` at rows ``i * n .. (i + 1) * n - 1``.
        n_partitions: simplex-grid resolution (``C(p + m - 1, m - 1)`` preferences).
        n_samples: candidates drawn per preference.
        reward_type: scalarization that picks the best candidate.
    """
    prefs = simplex_grid(problem.n_obj, n_partitions)
    X = sample(prefs, n_samples)
    F = problem.evaluate(X).F
    w = np.repeat(prefs, n_samples, axis=0)
    score = log_scalarized_reward(reward_view(problem, F), w, reward_type)
    score = np.where(np.isfinite(score), score, -np.inf).reshape(len(prefs), n_samples)
    best = np.arange(len(prefs)) * n_samples + np.argmax(score, axis=1)
    return candidate_metrics(problem, [X[j] for j in best], F[best], prefs)


def true_pareto_set(problem: Problem) -> list[Any] | None:
    """All Pareto-optimal terminal objects of an enumerable environment (ties included),
    or None when the space cannot be enumerated."""
    env = getattr(problem.space, "env", None)
    if not isinstance(env, CompositionalEnv):
        return None
    cache = getattr(problem, "_mogfn_true_pareto", None)
    if cache is not None:
        return cache
    states = env.all_states()
    if states is None:
        return None
    X = env.to_objects(states[env.can_stop(states)])
    R = reward_view(problem, problem.evaluate(X).F)
    ok = np.all(np.isfinite(R), axis=1)
    ranks = np.full(len(R), 1)
    ranks[ok] = nondominated_ranks(R[ok], maximize=True)
    truth = [x for x, r in zip(X, ranks, strict=True) if r == 0]
    problem._mogfn_true_pareto = truth  # type: ignore[attr-defined]
    return truth


def pareto_recall(X: Any, truth: list[Any]) -> float:
    """Fraction of the objects ``truth`` found among ``X``."""
    found = {_key(x) for x in X}
    return sum(_key(t) in found for t in truth) / max(len(truth), 1)


def exact_l1(problem: Problem, sampler: Any, prefs: np.ndarray, beta: float,
             reward_type: str = "convex") -> float:
    """Mean over ``prefs`` of ``Σ_x |P_T(x | ω, β) - R(x | ω)^β / Z(ω, β)|`` (exact)."""
    states, P = sampler.terminal_distribution(prefs, beta)
    env = sampler.env
    term = env.can_stop(states)
    X = env.to_objects(states)
    R = reward_view(problem, problem.evaluate(X).F)
    l1 = []
    for i, w in enumerate(np.asarray(prefs)):
        logr = beta * log_scalarized_reward(R, w, reward_type)
        logr = np.where(term & np.isfinite(logr), logr, -np.inf)
        target = np.exp(logr - logr.max())
        target /= target.sum()
        l1.append(np.abs(P[i] - target).sum())
    return float(np.mean(l1))


def _key(x: Any) -> Any:
    return x if isinstance(x, str) else tuple(np.asarray(x).reshape(-1).tolist())


def _unique(X: list[Any]) -> list[Any]:
    seen: dict[Any, Any] = {}
    for x in X:
        seen.setdefault(_key(x), x)
    return [v if isinstance(v, str) else np.asarray(v) for v in seen.values()]

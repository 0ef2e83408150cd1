"""CGPO's reward and selection rules as pure numpy functions (Xu et al., 2024, "The Perfect
Blend: Redefining RLHF with Mixture of Judges", Sections 3-4).

Verdicts ``J`` come from judges (:mod:`moalign.llm.judges`): 1 pass, 0 violate, -1 could not
judge; everywhere here only ``J == 1`` counts as a pass. Shapes: a prompt's `k` samples are a
1-d array; a batch of prompts is `p x k` (or a list of 1-d arrays when `k` varies).

* calibrated reward ``sigma(r(s, a) - r(s, a_base))`` (:func:`calibrated_reward`);
* CRPG reward ``J * sigma(r - r_base) * max(0, 1 - KL / KL_max)``, centred per prompt
  (:func:`crpg_reward`, :func:`center_by_prompt`);
* CODPO pairs (:func:`codpo_pairs`) and its loss (:func:`codpo_loss_terms`);
* CRRAFT selection (:func:`crraft_select`);
* multi-task stratification (:func:`mix_tasks`).

Example:
    >>> import numpy as np
    >>> crpg_reward([1, 0, -1], [2.0, 5.0, 5.0], 0.0, kl=[0.0, 0.0, 0.0], kl_max=1.0).round(3)
    array([0.881, 0.   , 0.   ])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np

ArrayLike = Any


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))  # stable for large |x|


def passes(J: ArrayLike) -> np.ndarray:
    """``J == 1`` as a bool array (0 and -1 are not passes).

    Raises:
        ValueError: a verdict other than -1, 0, 1.
    """
    J = np.asarray(J)
    if J.size and not np.all(np.isin(J, (-1, 0, 1))):
        raise ValueError(f"judge verdicts must be -1, 0 or 1, got {np.unique(J).tolist()}")
    return J == 1


def calibrated_reward(r: ArrayLike, r_base: ArrayLike) -> np.ndarray:
    """Calibrated reward ``sigma(r - r_base)`` (CGPO eq. 4): the reward model's probability
    that the sample beats the prompt's baseline response ``a_base``.

    Args:
        r: rewards of the samples (any shape).
        r_base: rewards of the baseline responses (broadcast against ``r``).

    Example:
        >>> calibrated_reward([0.0, 1e4, -1e4], 0.0).tolist()
        [0.5, 1.0, 0.0]
    """
    return _sigmoid(np.asarray(r, dtype=np.float64) - np.asarray(r_base, dtype=np.float64))


def crpg_reward(J: ArrayLike, r: ArrayLike, r_base: ArrayLike, kl: ArrayLike,
                kl_max: float) -> np.ndarray:
    """CRPG reward ``R = 1[J == 1] * sigma(r - r_base) * max(0, 1 - KL / KL_max)``.

    Args:
        J: judge verdicts (-1 counts as 0).
        r, r_base: sample and baseline rewards (broadcast).
        kl: the samples' KL divergence from the reference policy.
        kl_max: the KL budget (> 0).

    Returns:
        ``R`` in [0, 1], the broadcast shape.
    """
    if not kl_max > 0:
        raise ValueError(f"kl_max must be > 0, got {kl_max}")
    budget = np.maximum(0.0, 1.0 - np.asarray(kl, dtype=np.float64) / kl_max)
    return np.where(passes(J), calibrated_reward(r, r_base) * budget, 0.0)


def center_by_prompt(R: ArrayLike, groups: ArrayLike | None = None) -> np.ndarray:
    """``R - mean R`` over each prompt's samples (CRPG's advantage; its loss is
    ``-sum log pi(a|s) * (R - mean R)``).

    Args:
        R: a `p x k` array (one row per prompt), or a 1-d array with ``groups``.
        groups: for a 1-d ``R``, each sample's prompt id.

    Example:
        >>> center_by_prompt([[1.0, 0.0], [0.5, 0.5]]).tolist()
        [[0.5, -0.5], [0.0, 0.0]]
        >>> center_by_prompt([1.0, 2.0, 3.0], groups=[0, 1, 0]).tolist()
        [-1.0, 0.0, 1.0]
    """
    R = np.asarray(R, dtype=np.float64)
    if groups is None:
        if R.ndim != 2:
            raise ValueError("center_by_prompt: give a `p x k` array or groups=")
        return R - R.mean(axis=1, keepdims=True)
    g = np.asarray(groups)
    if R.ndim != 1 or g.shape != R.shape:
        raise ValueError(f"center_by_prompt: R {R.shape} and groups {g.shape} must be 1-d "
                         "and of one length")
    _, inv = np.unique(g, return_inverse=True)
    means = np.bincount(inv, weights=R) / np.bincount(inv)
    return R - means[inv]


def _rows(X: ArrayLike) -> list[np.ndarray]:
    if isinstance(X, np.ndarray) and X.ndim == 2:
        return list(X)
    return [np.asarray(x).reshape(-1) for x in X]


def codpo_pair(J: ArrayLike, r: ArrayLike) -> tuple[int, int] | None:
    """One prompt's CODPO pair ``(chosen, rejected)`` of sample indices, or None.

    chosen: the passing sample (``J == 1``) with the highest reward. rejected: the
    failing sample (``J != 1``, so -1 too) with the lowest reward if there is one, else
    the passing sample other than ``chosen`` with the lowest reward. None when no sample
    passes, or only one sample passes and none fails. Samples with a non-finite reward are
    left out; ties go to the lower index.

    The selection compares rewards within the passing (failing) set, so it holds for
    rewards of any sign; ``argmax(J * r)`` / ``argmin((1 - J) * r)`` (TRL PR #2190) does
    not: with negative rewards ``J * r`` prefers a failing sample (0) to every passing one.

    Example:
        >>> codpo_pair([1, 1, 0], [-3.0, -1.0, -2.0])
        (1, 2)
    """
    ok = passes(J).reshape(-1)
    rr = np.asarray(r, dtype=np.float64).reshape(-1)
    if ok.shape != rr.shape:
        raise ValueError(f"codpo: {ok.size} verdicts for {rr.size} rewards")
    idx = np.arange(rr.size)
    finite = np.isfinite(rr)
    good, bad = idx[ok & finite], idx[~ok & finite]
    if good.size == 0:
        return None
    chosen = int(good[np.argmax(rr[good])])
    if bad.size:
        return chosen, int(bad[np.argmin(rr[bad])])
    rest = good[good != chosen]
    if rest.size == 0:
        return None
    return chosen, int(rest[np.argmin(rr[rest])])


def codpo_pairs(J: ArrayLike, r: ArrayLike) -> list[tuple[int, int] | None]:
    """CODPO pairs for a batch: :func:`codpo_pair` per prompt.

    Args:
        J: `p x k` verdicts (or a list of 1-d arrays).
        r: `p x k` rewards (or a list of 1-d arrays).

    Returns:
        Per prompt ``(chosen, rejected)`` sample indices, or None (skipped).
    """
    Js, rs = _rows(J), _rows(r)
    if len(Js) != len(rs):
        raise ValueError(f"codpo: verdicts for {len(Js)} prompts, rewards for {len(rs)}")
    return [codpo_pair(j, x) for j, x in zip(Js, rs, strict=True)]


def codpo_loss_terms(logp_chosen: ArrayLike, logp_rejected: ArrayLike,
                     ref_chosen: ArrayLike, ref_rejected: ArrayLike,
                     chosen_lengths: ArrayLike, *, beta: float = 0.1, lam: float = 5.0
                     ) -> dict[str, np.ndarray]:
    """CODPO's loss per pair (numpy; a trainer computes the same formula in torch):

    ``dpo = -log sigma(beta * ((logp_c - ref_c) - (logp_r - ref_r)))``,
    ``nll = -logp_c / |a+|`` (the chosen response's per-token negative log-likelihood) and
    ``loss = dpo + lam * nll``.

    Args:
        logp_chosen, logp_rejected: summed token log-probs of the responses under the policy.
        ref_chosen, ref_rejected: the same under the reference policy.
        chosen_lengths: ``|a+|``, tokens in each chosen response (> 0).
        beta: DPO temperature.
        lam: weight of the chosen response's likelihood term.

    Returns:
        ``{"dpo", "nll", "loss"}``, one value per pair.

    Example:
        >>> t = codpo_loss_terms([-2.0], [-4.0], [-3.0], [-3.0], [2])
        >>> round(float(t["dpo"][0]), 4), float(t["nll"][0]), round(float(t["loss"][0]), 4)
        (0.5981, 1.0, 5.5981)
    """
    lc, lr, rc, rr = (np.asarray(a, dtype=np.float64)
                      for a in (logp_chosen, logp_rejected, ref_chosen, ref_rejected))
    n = np.asarray(chosen_lengths, dtype=np.float64)
    if np.any(n <= 0):
        raise ValueError("codpo: chosen_lengths must be > 0")
    margin = beta * ((lc - rc) - (lr - rr))
    dpo = np.logaddexp(0.0, -margin)  # -log sigma(margin), stable
    nll = -lc / n
    return {"dpo": dpo, "nll": nll, "loss": dpo + lam * nll}


def crraft_select(J: ArrayLike, r: ArrayLike, kl: ArrayLike, kl_max: float,
                  baseline_pass: bool | int, r_base: float | None = None
                  ) -> tuple[int | Literal["baseline"] | None, float]:
    """CRRAFT's choice for one prompt: the sample that maximizes
    ``1[KL <= KL_max] * 1[J == 1] * sigma(r - r_base)``.

    Keeps the passing sample with the highest reward among those with ``KL <= kl_max``,
    at weight ``sigma(r - r_base)`` (1.0 when ``r_base`` is None). When no sample
    qualifies, falls back to the prompt's baseline response at weight 1/2 (its calibrated
    reward against itself, ``sigma(0)``) if the baseline passes the judges; else nothing.

    Args:
        J: the `k` samples' verdicts.
        r: their rewards.
        kl: their KL divergence from the reference policy.
        kl_max: the KL budget.
        baseline_pass: whether the baseline response passes (True / verdict 1).
        r_base: the baseline response's reward (for the weight).

    Returns:
        ``(index, weight)``, ``("baseline", 0.5)`` or ``(None, 0.0)``.

    Example:
        >>> crraft_select([1, 1, 0], [1.0, 3.0, 9.0], [0.1, 2.0, 0.1], kl_max=1.0,
        ...               baseline_pass=True)
        (0, 1.0)
        >>> crraft_select([0, -1], [1.0, 2.0], [0.0, 0.0], 1.0, baseline_pass=1)
        ('baseline', 0.5)
    """
    ok = passes(J).reshape(-1)
    rr = np.asarray(r, dtype=np.float64).reshape(-1)
    kk = np.asarray(kl, dtype=np.float64).reshape(-1)
    if not (ok.shape == rr.shape == kk.shape):
        raise ValueError(f"crraft: {ok.size} verdicts, {rr.size} rewards, {kk.size} KLs")
    if not kl_max > 0:
        raise ValueError(f"kl_max must be > 0, got {kl_max}")
    idx = np.flatnonzero(ok & np.isfinite(rr) & (kk <= kl_max))
    if idx.size:
        best = int(idx[np.argmax(rr[idx])])
        w = 1.0 if r_base is None else float(calibrated_reward(rr[best], r_base))
        return best, w
    if baseline_pass is True or (not isinstance(baseline_pass, bool) and baseline_pass == 1):
        return "baseline", 0.5
    return None, 0.0


def task_weights(weights: Mapping[str, float]) -> dict[str, float]:
    """Multi-task mixture weights normalized to sum 1.

    Raises:
        ValueError: a negative or non-finite weight, or all zero.
    """
    w = {k: float(v) for k, v in weights.items()}
    bad = {k: v for k, v in w.items() if not np.isfinite(v) or v < 0}
    if bad:
        raise ValueError(f"task weights must be finite and >= 0, got {bad}")
    total = sum(w.values())
    if total <= 0:
        raise ValueError("task weights: at least one must be > 0")
    return {k: v / total for k, v in w.items()}


def mix_tasks(updates: Mapping[str, Any] | Sequence[Any],
              weights: Mapping[str, float] | Sequence[float]) -> Any:
    """CGPO's multi-task stratification: combine per-task losses or updates
    ``sum_t w_t * u_t`` with the mixture weights normalized to sum 1.

    ``updates`` are numbers, numpy arrays or torch tensors (anything with ``*`` and ``+``);
    tasks with weight 0 are left out.

    Args:
        updates: per task (a mapping by task name, or a sequence).
        weights: the tasks' mixture weights (the same keys, or the same length).

    Raises:
        ValueError: negative, non-finite or all-zero weights; tasks that do not match.

    Example:
        >>> mix_tasks({"math": 1.0, "chat": 3.0}, {"math": 3, "chat": 1})
        1.5
    """
    if isinstance(updates, Mapping) != isinstance(weights, Mapping):
        raise ValueError("mix_tasks: give updates and weights both as mappings or both as "
                         "sequences")
    if isinstance(updates, Mapping):
        assert isinstance(weights, Mapping)
        if set(updates) != set(weights):
            raise ValueError(f"mix_tasks: tasks {sorted(updates)} and weights "
                             f"{sorted(weights)} differ")
        w = task_weights(weights)
        items = [(w[k], updates[k]) for k in updates]
    else:
        assert not isinstance(weights, Mapping)
        ws = [float(v) for v in weights]
        us = list(updates)
        if len(ws) != len(us):
            raise ValueError(f"mix_tasks: {len(us)} updates, {len(ws)} weights")
        wn = task_weights({str(i): v for i, v in enumerate(ws)})
        items = [(wn[str(i)], u) for i, u in enumerate(us)]
    out: Any = None
    for wt, u in items:
        if wt == 0:
            continue
        term = u * wt
        out = term if out is None else out + term
    return out

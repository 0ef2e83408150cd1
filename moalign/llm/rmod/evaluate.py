"""Decode held-out prompts with every method in one harness and score what they wrote.

A method is a chooser plus (K, B) for :func:`~moalign.llm.rmod.decode.blockwise_decode`
(see :func:`methods`); every method decodes the same prompts with the same per-prompt
seeds. The finished completions are scored with the problem's objectives, oriented so that
higher is better, and summarized per method: each objective's mean, the worst-case
objective ``min_g E[r_g]``, the wall time, tokens sampled per second and the cost relative
to plain sampling and to best-of-K.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from moalign.llm.rmod.decode import (
    Chooser,
    Decoded,
    ValueFn,
    blockwise_decode,
    rmod_chooser,
    weighted_chooser,
)

METHOD_NAMES = ("plain", "best_of_k", "fixed", "per_objective", "rmod", "rewarded_soup")
"""The methods :func:`methods` knows; ``per_objective`` expands to one per objective;
``rewarded_soup`` samples from the interpolated per-objective policies."""


@dataclass(frozen=True)
class Method:
    """One decoding method.

    Attributes:
        name: shown in tables and metric names (``per_objective:<objective>`` for each).
        chooser: picks a candidate per block.
        K, B: candidates per block, tokens per block (best-of-K: one block of the whole
            length).
        on_objectives: the candidates are scored by the objectives themselves (best-of-K
            scores finished completions) instead of the value function.
        policy: ``"reference"`` or ``"soup"`` (the rewarded-soup policy).
    """

    name: str
    chooser: Chooser
    K: int
    B: int
    on_objectives: bool = False
    policy: str = "reference"


def methods(names: Sequence[str], objective_names: Sequence[str], *, K: int, B: int,
            lam: float, steps: int, max_new_tokens: int,
            weights: Sequence[float] | None = None) -> list[Method]:
    """The methods called ``names`` (from :data:`METHOD_NAMES`), in that order.

    ``weights`` (default equal) are the user weights of ``fixed`` and ``best_of_k``.
    """
    G = len(objective_names)
    w = list(weights) if weights is not None else [1.0] * G
    out = []
    for name in names:
        if name == "plain":
            out.append(Method("plain", weighted_chooser(w), 1, max_new_tokens))
        elif name == "best_of_k":
            out.append(Method("best_of_k", weighted_chooser(w), K, max_new_tokens, True))
        elif name == "fixed":
            out.append(Method("fixed", weighted_chooser(w), K, B))
        elif name == "rmod":
            out.append(Method("rmod", rmod_chooser(lam, steps), K, B))
        elif name == "rewarded_soup":
            out.append(Method("rewarded_soup", weighted_chooser(w), 1, max_new_tokens,
                              policy="soup"))
        elif name == "per_objective":
            out += [Method(f"per_objective:{o}", weighted_chooser(np.eye(G)[g]), K, B)
                    for g, o in enumerate(objective_names)]
        else:
            raise ValueError(f"rmod: unknown method {name!r}; use {list(METHOD_NAMES)}")
    return out


def decode_all(method: Method, model: Any, tokenizer: Any, prompt_ids: Sequence[Sequence[int]],
               value_fn: ValueFn, objective_fn: ValueFn, *, max_new_tokens: int,
               temperature: float, seeds: Sequence[int]) -> list[Decoded]:
    """Decode every prompt with ``method`` (prompt ``i`` with seed ``seeds[i]``)."""
    scorer = objective_fn if method.on_objectives else value_fn
    return [blockwise_decode(model, tokenizer, ids, scorer, method.chooser, K=method.K,
                             B=method.B, max_new_tokens=max_new_tokens,
                             temperature=temperature, seed=seed)
            for ids, seed in zip(prompt_ids, seeds, strict=True)]


def summarize(R: np.ndarray, decoded: Sequence[Decoded], names: Sequence[str]
              ) -> dict[str, float]:
    """Per-method metrics from the `n x G` oriented rewards ``R`` of its completions."""
    means = np.nanmean(R, axis=0)
    seconds = float(sum(d.seconds for d in decoded))
    tokens = float(sum(d.sampled_tokens for d in decoded))
    out = {f"mean/{name}": float(m) for name, m in zip(names, means, strict=True)}
    out.update({"worst": float(np.min(means)), "seconds": seconds,
                "tokens_per_s": tokens / seconds if seconds > 0 else float("nan"),
                "completion_tokens": float(np.mean([len(d.ids) for d in decoded]))})
    return out

"""Blockwise controlled decoding from token ids, with one chooser per method.

Per block, K candidates continue the chosen prefix by B sampled tokens (one batched forward
per token over the K rows, the KV cache of the prefix reused); a value function scores the
K candidate prefixes (`K x G`), a chooser picks one, and all K rows continue from it (the
cache rows are re-indexed, nothing is re-tokenized). The methods differ only in the
chooser and in (K, B):

============================  ======================================================
RMOD                          ``w* = worst_case_weights(V̂)``, ``argmax_k w*·V̂_k``
blockwise fixed weights       ``argmax_k w·V̂_k`` with the user's ``w``
per-objective decoding        one-hot ``w``
best-of-K                     one block of the whole length, scored by the objectives
plain sampling                ``K = 1``
============================  ======================================================

``V̂`` is ``V`` standardized per objective over the K candidates (a column that does not
vary is 0), so the weights compare objectives on a common scale.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from moalign.llm.rmod.weights import worst_case_weights

ValueFn = Callable[[Sequence[Sequence[int]], Sequence[Sequence[int]]], np.ndarray]
"""``value_fn(prompt_ids, prefix_ids) -> n x G`` (higher is better), see
:class:`moalign.llm.values.ValueFunction`."""
Chooser = Callable[[np.ndarray], tuple[int, np.ndarray]]
"""``chooser(V̂) -> (k, w)``: the candidate taken and the weights that chose it."""


def standardize(V: np.ndarray) -> np.ndarray:
    """Each column minus its mean over the K rows, over its standard deviation (0 where the
    column does not vary; NaN entries count as the column's worst value)."""
    V = np.array(V, dtype=np.float64)
    for g in range(V.shape[1]):
        col = V[:, g]
        bad = ~np.isfinite(col)
        col[bad] = np.min(col[~bad]) if (~bad).any() else 0.0
    sd = V.std(axis=0)
    return np.where(sd > 1e-12, (V - V.mean(axis=0)) / np.where(sd > 1e-12, sd, 1.0), 0.0)


def rmod_chooser(lam: float = 1.0, steps: int = 10) -> Chooser:
    """RMOD: the best response to the worst-case weights of the block."""
    def choose(V: np.ndarray) -> tuple[int, np.ndarray]:
        w = worst_case_weights(V, lam, steps=steps)
        return int(np.argmax(V @ w)), w
    return choose


def weighted_chooser(weights: Sequence[float]) -> Chooser:
    """Fixed weights (one-hot weights: per-objective decoding)."""
    w = np.asarray(weights, dtype=np.float64)
    w = w / w.sum()

    def choose(V: np.ndarray) -> tuple[int, np.ndarray]:
        return int(np.argmax(V @ w)), w
    return choose


@dataclass
class Decoded:
    """One decoded completion.

    Attributes:
        ids: completion token ids (without EOS).
        text: decoded completion.
        weights: `blocks x G` weights the chooser used per block.
        sampled_tokens: tokens sampled over all K rows (the decoding work).
        seconds: wall time.
    """

    ids: list[int]
    text: str
    weights: np.ndarray
    sampled_tokens: int
    seconds: float
    values: list[np.ndarray] = field(default_factory=list)


def blockwise_decode(
    model: Any, tokenizer: Any, prompt_ids: Sequence[int], value_fn: ValueFn | None,
    chooser: Chooser, *, K: int = 8, B: int = 8, max_new_tokens: int = 32,
    temperature: float = 1.0, seed: int = 0,
) -> Decoded:
    """Decode one prompt block by block (see the module docstring).

    Args:
        model: a causal LM with a KV cache (``past_key_values``).
        tokenizer: its tokenizer (EOS id, decoding the result).
        prompt_ids: the prompt's token ids.
        value_fn: scores the K candidate prefixes; None only with ``K = 1``.
        chooser: picks a candidate from the standardized values.
        K, B: candidates per block and tokens per block.
        max_new_tokens: completion length limit.
        temperature: sampling temperature (0: greedy).
        seed: the sampling seed (a private generator; the global RNG is untouched).

    Returns:
        :class:`Decoded`.
    """
    import torch

    t0 = time.perf_counter()
    gen = torch.Generator(device="cpu").manual_seed(int(seed))
    eos = tokenizer.eos_token_id
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    prefix: list[int] = []
    chosen_w: list[np.ndarray] = []
    values: list[np.ndarray] = []
    sampled = 0
    try:
        with torch.no_grad():
            out = model(input_ids=torch.tensor([list(prompt_ids)], device=device), use_cache=True)
            cache, logits = out.past_key_values, out.logits[:, -1].float()
            if K > 1:
                cache.batch_repeat_interleave(K)
                logits = logits.expand(K, -1)
            while len(prefix) < max_new_tokens:
                b = min(B, max_new_tokens - len(prefix))
                block, cache, logits = _sample_block(model, cache, logits, b, temperature, gen,
                                                     eos)
                sampled += int(block.numel())
                cands, finished = _trim(block.tolist(), eos)
                if K == 1 or value_fn is None:
                    k, w = 0, np.ones(0)
                else:
                    V = np.asarray(value_fn([list(prompt_ids)] * K, [prefix + c for c in cands]))
                    k, w = chooser(standardize(V))
                    values.append(V)
                chosen_w.append(w)
                prefix += cands[k]
                if finished[k]:
                    break
                if K > 1:
                    idx = torch.full((K,), k, dtype=torch.long, device=device)
                    cache.reorder_cache(idx)
                    logits = logits[idx]
    finally:
        model.train(was_training)
    return Decoded(prefix, tokenizer.decode(prefix, skip_special_tokens=True),
                   np.asarray(chosen_w), sampled, time.perf_counter() - t0, values)


def generate(model: Any, tokenizer: Any, prompts: Sequence[Any], value_fn: ValueFn, *,
             lam: float = 1.0, steps: int = 10, K: int = 8, B: int = 8,
             max_new_tokens: int = 64, temperature: float = 1.0, seed: int = 0) -> list[str]:
    """RMOD completions of ``prompts`` (strings or chat messages), outside a run.

    Prompt ``i`` is decoded with seed ``seed + i``; see :func:`blockwise_decode`.

    Example:
        >>> texts = generate(model, tokenizer, ["S: 5 1 7\\nA:"], value_fn)  # doctest: +SKIP
    """
    from moalign.llm.generation import encode_prompts

    chooser = rmod_chooser(lam, steps)
    return [blockwise_decode(model, tokenizer, ids, value_fn, chooser, K=K, B=B,
                             max_new_tokens=max_new_tokens, temperature=temperature,
                             seed=seed + i).text
            for i, ids in enumerate(encode_prompts(tokenizer, prompts))]


def _sample_block(model: Any, cache: Any, logits: Any, n: int, temperature: float, gen: Any,
                  eos: int | None) -> tuple[Any, Any, Any]:
    """Sample ``n`` tokens on every row; rows that emitted EOS keep emitting it."""
    import torch

    rows = logits.shape[0]
    done = torch.zeros(rows, dtype=torch.bool, device=logits.device)
    tokens = []
    for _ in range(n):
        if temperature <= 0:
            tok = logits.argmax(-1)
        else:
            probs = torch.softmax(logits / temperature, dim=-1).cpu()
            tok = torch.multinomial(probs, 1, generator=gen).squeeze(1).to(logits.device)
        if eos is not None:
            tok = torch.where(done, torch.full_like(tok, eos), tok)
            done |= tok == eos
        tokens.append(tok)
        out = model(input_ids=tok[:, None], past_key_values=cache, use_cache=True)
        cache, logits = out.past_key_values, out.logits[:, -1].float()
    return torch.stack(tokens, dim=1), cache, logits


def _trim(rows: list[list[int]], eos: int | None) -> tuple[list[list[int]], list[bool]]:
    """Each row up to (without) its first EOS, and whether it had one."""
    out, finished = [], []
    for r in rows:
        if eos is not None and eos in r:
            out.append(r[: r.index(eos)])
            finished.append(True)
        else:
            out.append(r)
            finished.append(False)
    return out, finished

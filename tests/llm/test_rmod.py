"""RMOD's worst-case weights against their optimality conditions and a brute-force search,
and the blockwise decoder's choosers: one-hot weights are per-objective decoding, λ → 0 is
uniform-weight decoding, the same seed gives the same text."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from moalign.llm.rmod import (
    blockwise_decode,
    exact_worst_case_weights,
    rmod_chooser,
    standardize,
    weighted_chooser,
    worst_case_weights,
)
from moalign.llm.rmod.weights import objective, tilted

V_HAND = np.array([[2.0, 0.1, 0.3], [0.2, 1.5, 0.4], [0.9, 0.8, 0.2], [0.1, 0.2, 1.9],
                   [1.2, 1.1, 0.9]])


def simplex_grid(G: int, n: int) -> np.ndarray:
    pts = [np.array(c) / n for c in itertools.product(range(n + 1), repeat=G) if sum(c) == n]
    return np.array(pts)


@pytest.mark.parametrize("lam", [0.5, 1.0, 3.0])
def test_exact_weights_equalize_the_active_objectives(lam):
    w = exact_worst_case_weights(V_HAND, lam)
    p = tilted(w, V_HAND, lam)
    expected = p @ V_HAND                     # E_{π_w*}[V_g]
    active = w > 1e-6
    assert active.sum() >= 2
    np.testing.assert_allclose(expected[active], expected[active].mean(), atol=1e-6)
    assert np.all(expected[~active] >= expected[active].mean() - 1e-6)  # KKT for the rest


@pytest.mark.parametrize("lam", [0.5, 1.0, 3.0])
def test_exact_weights_match_a_brute_force_simplex_search(lam):
    grid = simplex_grid(3, 200)
    best = grid[np.argmin([objective(w, V_HAND, lam) for w in grid])]
    w = exact_worst_case_weights(V_HAND, lam)
    assert objective(w, V_HAND, lam) <= objective(best, V_HAND, lam) + 1e-9
    np.testing.assert_allclose(w, best, atol=0.01)


def test_practical_solver_moves_toward_the_worst_case():
    V = standardize(V_HAND)
    w10 = worst_case_weights(V, 1.0, steps=10)
    w_star = exact_worst_case_weights(V, 1.0)
    uniform = np.full(3, 1 / 3)
    f = [objective(w, V, 1.0) for w in (uniform, w10, w_star)]
    assert f[0] > f[1] >= f[2] - 1e-12          # ten steps descend from uniform
    assert np.linalg.norm(w10 - w_star) < np.linalg.norm(uniform - w_star)


def test_lambda_to_zero_keeps_uniform_weights():
    np.testing.assert_allclose(worst_case_weights(standardize(V_HAND), 1e-9), 1 / 3, atol=1e-8)


def test_standardize_is_per_objective_and_zero_for_constant_columns():
    V = np.array([[1.0, 5.0, np.nan], [3.0, 5.0, 2.0]])
    Z = standardize(V)
    np.testing.assert_allclose(Z[:, 0], [-1, 1])
    np.testing.assert_allclose(Z[:, 1], [0, 0])
    np.testing.assert_allclose(Z[:, 2], [0, 0])   # NaN counts as the worst value: a tie


# -- the decoder on the digits tiny model ----------------------------------------------------


@pytest.fixture(scope="module")
def digits_lm():
    pytest.importorskip("transformers")
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from moalign.llm.tiny import build_tiny_model, tiny_config

    path = build_tiny_model(config=tiny_config("digits"))
    return AutoModelForCausalLM.from_pretrained(path), AutoTokenizer.from_pretrained(path)


def digit_values(tokenizer):
    from moalign.llm.digits import near_len, sevens, threes

    objs = [sevens(), threes(), near_len(target=8)]

    def values(prompt_ids, prefix_ids):
        texts = [tokenizer.decode(ids, skip_special_tokens=True) for ids in prefix_ids]
        return np.stack([np.asarray(o.fn(prompts=None, completions=texts), dtype=float)
                         for o in objs], axis=1)
    return values


PROMPT = "S: 5 1 7\nA:"


@pytest.mark.llm
def test_same_seed_same_text_and_other_seed_other_text(digits_lm):
    model, tok = digits_lm
    ids = tok(PROMPT)["input_ids"]
    run = [blockwise_decode(model, tok, ids, digit_values(tok), rmod_chooser(), K=4, B=4,
                            max_new_tokens=12, seed=s).text for s in (3, 3, 4)]
    assert run[0] == run[1] and run[0] != run[2]


@pytest.mark.llm
def test_one_hot_weights_decode_for_one_objective(digits_lm):
    model, tok = digits_lm
    values = digit_values(tok)
    fractions = []
    for weights in ([1, 0, 0], [0, 1, 0]):
        texts = [blockwise_decode(model, tok, tok(PROMPT)["input_ids"], values,
                                  weighted_chooser(weights), K=8, B=4, max_new_tokens=12,
                                  seed=s).text for s in range(6)]
        F = values(None, [tok(t, add_special_tokens=False)["input_ids"] for t in texts])
        fractions.append(F.mean(axis=0))
    sevens_run, threes_run = fractions
    assert sevens_run[0] > threes_run[0] + 0.2     # decoding for sevens makes sevens
    assert threes_run[1] > sevens_run[1] + 0.2


@pytest.mark.llm
def test_lambda_to_zero_decodes_like_uniform_weights(digits_lm):
    model, tok = digits_lm
    ids = tok(PROMPT)["input_ids"]
    values = digit_values(tok)
    a = blockwise_decode(model, tok, ids, values, rmod_chooser(lam=1e-9), K=6, B=4,
                         max_new_tokens=12, seed=1)
    b = blockwise_decode(model, tok, ids, values, weighted_chooser([1, 1, 1]), K=6, B=4,
                         max_new_tokens=12, seed=1)
    assert a.ids == b.ids
    np.testing.assert_allclose(a.weights, 1 / 3, atol=1e-6)


@pytest.mark.llm
def test_decoding_with_a_cache_equals_decoding_without(digits_lm):
    """The cached block loop samples the same tokens as recomputing every step from the
    full token ids (greedy, K = 1)."""
    import torch

    model, tok = digits_lm
    ids = tok(PROMPT)["input_ids"]
    fast = blockwise_decode(model, tok, ids, None, weighted_chooser([1]), K=1, B=3,
                            max_new_tokens=10, temperature=0.0)
    seq = list(ids)
    with torch.no_grad():
        for _ in range(10):
            nxt = int(model(input_ids=torch.tensor([seq])).logits[0, -1].argmax())
            if nxt == tok.eos_token_id:
                break
            seq.append(nxt)
    assert fast.ids == seq[len(ids):]


@pytest.mark.llm
def test_generate_decodes_prompt_texts_like_the_block_loop(digits_lm):
    from moalign.llm.rmod import generate

    model, tok = digits_lm
    values = digit_values(tok)
    texts = generate(model, tok, [PROMPT, "S: 3 3 1\nA:"], values, K=4, B=4,
                     max_new_tokens=12, seed=5)
    one = blockwise_decode(model, tok, tok(PROMPT)["input_ids"], values, rmod_chooser(),
                           K=4, B=4, max_new_tokens=12, seed=5)
    assert texts[0] == one.text and len(texts) == 2

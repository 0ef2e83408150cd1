"""Tiny tokenizer, generation helpers and the per-objective gradient Gram matrix."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from moalign.llm.drw.callback import gradient_gram, group_advantages, select_parameters
from moalign.llm.generation import completion_logprobs, sample_completions
from moalign.llm.tiny import CHARS, TinyModelConfig, build_char_tokenizer, synthetic_corpus


@pytest.mark.llm  # needs the llm extra
def test_char_tokenizer_round_trip():
    tok = build_char_tokenizer()
    text = "Q: 12+7=?\nA: 12 plus 7 makes 19. #### 19"
    ids = tok(text)["input_ids"]
    assert ids[0] == tok.bos_token_id and len(ids) == len(text) + 1
    assert tok.decode(ids, skip_special_tokens=True) == text
    assert len(tok) == len(CHARS) + 4
    assert all(set(t) <= set(CHARS) for t in synthetic_corpus(50))


def test_config_key_changes_with_config():
    assert TinyModelConfig().key() == TinyModelConfig().key()
    assert TinyModelConfig(steps=10).key() != TinyModelConfig().key()


def test_group_advantages_closed_form():
    R = np.array([[1.0, 0.0], [3.0, np.nan], [0.0, 5.0], [0.0, 5.0]])
    A = group_advantages(R, num_generations=2)
    s = np.std([1.0, 3.0], ddof=1)
    np.testing.assert_allclose(A[:2, 0], [-1 / (s + 1e-4), 1 / (s + 1e-4)])
    assert A[1, 1] == 0.0 and A[0, 1] == 0.0  # NaN row and single-valued group
    np.testing.assert_allclose(A[2:], 0.0)


def _manual_logprob(model, tok, prompt, comp_ids):
    ids = tok(prompt)["input_ids"] + list(comp_ids)
    logits = model(input_ids=torch.tensor([ids])).logits[0].float()
    lp = torch.log_softmax(logits[:-1], -1).gather(-1, torch.tensor(ids[1:])[:, None])[:, 0]
    return lp[-len(comp_ids):].mean()


@pytest.mark.llm  # needs the llm extra
def test_completion_logprobs_match_unpadded(random_tiny_llama):
    model, tok = random_tiny_llama
    prompts = ["Q: 1+1=?\nA:", "Q: 10-3=?\nA:"]
    comps = [tok(" 2", add_special_tokens=False)["input_ids"] + [tok.eos_token_id],
             tok(" 7 is it", add_special_tokens=False)["input_ids"]]
    got = completion_logprobs(model, tok, prompts, comps)
    want = torch.stack([_manual_logprob(model, tok, p, c)
                        for p, c in zip(prompts, comps, strict=True)])
    torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)


@pytest.mark.llm  # needs the llm extra
def test_gradient_gram_equals_separate_backward_passes(random_tiny_llama):
    model, tok = random_tiny_llama
    prompts = ["Q: 1+1=?\nA:"] * 2 + ["Q: 4-2=?\nA:"] * 2
    comps = [tok(c, add_special_tokens=False)["input_ids"] for c in [" 2", " #### 2", " 3", " 2."]]
    R = np.array([[1.0, 0.0, 1.0], [1.0, 1.0, 0.0], [0.0, 0.5, 1.0], [1.0, 1.5, 0.0]])
    params = select_parameters(model, "last_layer")
    assert params and all(p.requires_grad for p in params)
    G = gradient_gram(model, tok, prompts, comps, R, 2, params)
    A = group_advantages(R, 2)
    flat = []
    for k in range(3):
        obj = sum(A[i, k] * _manual_logprob(model, tok, prompts[i], comps[i])
                  for i in range(4)) / 4
        grads = torch.autograd.grad(obj, params, allow_unused=True)
        flat.append(torch.cat([(g if g is not None else torch.zeros_like(p)).reshape(-1)
                               for g, p in zip(grads, params, strict=True)]).double())
    want = torch.stack(flat) @ torch.stack(flat).T
    np.testing.assert_allclose(G, want.numpy(), rtol=1e-4, atol=1e-10)
    assert np.allclose(G, G.T) and np.all(np.linalg.eigvalsh(G) > -1e-9)
    with pytest.raises(ValueError):
        select_parameters(model, "no_such_param")


@pytest.mark.llm  # needs the llm extra
def test_sample_completions_reproducible_and_keeps_global_rng(random_tiny_llama):
    model, tok = random_tiny_llama
    state = torch.random.get_rng_state().clone()
    a = sample_completions(model, tok, ["Q: 1+1=?\nA:"], num_samples=3, max_new_tokens=5, seed=3)
    b = sample_completions(model, tok, ["Q: 1+1=?\nA:"], num_samples=3, max_new_tokens=5, seed=3)
    assert a == b and len(a[0]) == 3
    assert torch.equal(state, torch.random.get_rng_state())
    c = sample_completions(model, tok, ["Q: 1+1=?\nA:"], num_samples=3, max_new_tokens=5, seed=4)
    assert c != a

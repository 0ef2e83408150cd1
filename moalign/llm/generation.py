"""Generation and scoring helpers shared by the LLM solvers.

``sample_completions`` draws completions reproducibly without disturbing the caller's
random stream (the global torch RNG is forked, seeded and restored, because
``transformers.generate`` samples from it). ``sequence_logprobs`` gives each
completion's summed token log-probability and ``completion_logprobs`` its mean, with
gradients, for policy-gradient estimates.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from moalign.llm.objectives import prompt_text


def encode_prompts(tokenizer: Any, prompts: Sequence[Any]) -> list[list[int]]:
    """Token ids of each prompt as TRL builds them (chat template for message lists)."""
    if prompts and not isinstance(prompts[0], str):
        return [
            list(tokenizer.apply_chat_template(p, add_generation_prompt=True, tokenize=True,
                                               return_dict=True)["input_ids"])
            for p in prompts
        ]
    return [list(ids) for ids in tokenizer(text=[prompt_text(p) for p in prompts])["input_ids"]]


def _left_pad(rows: list[list[int]], pad: int) -> tuple[Any, Any]:
    import torch

    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, width - len(r):] = torch.tensor(r, dtype=torch.long)
        mask[i, width - len(r):] = 1
    return ids, mask


def sample_completions(
    model: Any,
    tokenizer: Any,
    prompts: Sequence[Any],
    *,
    num_samples: int = 1,
    max_new_tokens: int = 32,
    temperature: float = 1.0,
    top_p: float = 1.0,
    seed: int = 0,
    batch_size: int = 64,
) -> tuple[list[str], list[list[int]]]:
    """Sample ``num_samples`` completions per prompt (prompt-major order).

    Args:
        model: a causal LM (eval mode is set during the call and restored).
        tokenizer: its tokenizer.
        prompts: `n` prompts (strings or chat messages).
        num_samples: completions per prompt; the outputs have `n * num_samples` rows.
        max_new_tokens: completion length limit.
        temperature: 0 means greedy.
        top_p: nucleus sampling.
        seed: seed of this call's sampling (the global stream is restored afterwards).
        batch_size: rows per ``generate`` call.

    Returns:
        ``(texts, ids)``: completion texts and their token ids (up to and including EOS).
    """
    import torch

    rows = [r for r in encode_prompts(tokenizer, prompts) for _ in range(num_samples)]
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    eos = tokenizer.eos_token_id
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    texts: list[str] = []
    out_ids: list[list[int]] = []
    devices = [device] if device.type == "cuda" else []
    try:
        with torch.random.fork_rng(devices=devices), torch.no_grad():
            torch.manual_seed(seed)  # forked: the caller's stream is restored on exit
            for i in range(0, len(rows), batch_size):
                ids, mask = _left_pad(rows[i : i + batch_size], pad)
                kwargs: dict[str, Any] = {"max_new_tokens": max_new_tokens,
                                          "pad_token_id": pad, "eos_token_id": eos}
                if temperature > 0:
                    kwargs.update(do_sample=True, temperature=temperature, top_p=top_p,
                                  top_k=0)
                else:
                    kwargs.update(do_sample=False)
                gen = model.generate(input_ids=ids.to(device), attention_mask=mask.to(device),
                                     **kwargs)[:, ids.shape[1]:].cpu().tolist()
                for g in gen:
                    cut = g.index(eos) + 1 if eos in g else len(g)
                    g = [t for t in g[:cut] if t != pad]
                    out_ids.append(g)
                    texts.append(tokenizer.decode(g, skip_special_tokens=True))
    finally:
        model.train(was_training)
    return texts, out_ids


def sequence_logprobs(model: Any, prompt_ids: Sequence[Sequence[int]],
                      completion_ids: Sequence[Sequence[int]], pad_id: int) -> tuple[Any, Any]:
    """Summed log-probability of each completion given its prompt, and its token count.

    One right-padded forward pass over ``prompt + completion``; TRL's
    ``selective_log_softmax`` gathers the token log-probabilities. Gradients flow when the
    caller has them enabled.

    Returns:
        ``(logp, n)``: two `rows` float tensors (an empty completion gives 0 and 0).
    """
    import torch
    from trl.trainer.utils import selective_log_softmax

    full = [list(p) + list(c) for p, c in zip(prompt_ids, completion_ids, strict=True)]
    width = max(len(r) for r in full)
    device = next(model.parameters()).device
    ids = torch.full((len(full), width), pad_id, dtype=torch.long)
    mask = torch.zeros_like(ids)
    target = torch.zeros_like(ids, dtype=torch.bool)
    for i, (p, r) in enumerate(zip(prompt_ids, full, strict=True)):
        ids[i, :len(r)] = torch.tensor(r, dtype=torch.long)
        mask[i, :len(r)] = 1
        target[i, len(p):len(r)] = True
    ids, mask, target = ids.to(device), mask.to(device), target.to(device)
    logits = model(input_ids=ids, attention_mask=mask).logits[:, :-1].float()
    token_logp = selective_log_softmax(logits, ids[:, 1:])
    tmask = target[:, 1:].float()
    return (token_logp * tmask).sum(1), tmask.sum(1)


def completion_logprobs(
    model: Any, tokenizer: Any, prompts: Sequence[Any], completion_ids: Sequence[Sequence[int]]
) -> Any:
    """Mean token log-probability of each completion given its prompt (with gradients).

    Returns:
        `n` float tensor; rows with an empty completion get 0.
    """
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    logp, n = sequence_logprobs(model, encode_prompts(tokenizer, prompts), completion_ids, pad)
    return logp / n.clamp(min=1.0)

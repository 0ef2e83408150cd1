"""CGPO's three losses in torch, on summed token log-probabilities.

``logp`` below is ``log pi(a|s)``, the sum of the completion's token log-probabilities under
the policy (with gradients), ``ref`` the same under the frozen reference policy, ``n`` the
completion's token count. Each loss is a mean over its samples (or pairs):

* CRPG: ``-(R - mean_prompt R) * logp`` with ``R`` from :func:`~moalign.llm.cgpo.rules.crpg_reward`;
* CODPO: ``-log sigma(beta ((logp_c - ref_c) - (logp_r - ref_r))) + lam * (-logp_c / n_c)``,
  TRL's DPO ``sigmoid`` loss plus the chosen response's per-token NLL;
* CRRAFT: ``w * (-logp / n)``, reward-weighted fine-tuning on the selected responses.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch


def sequence_logprobs(model: Any, prompt_ids: Sequence[Sequence[int]],
                      completion_ids: Sequence[Sequence[int]], pad_id: int
                      ) -> tuple[torch.Tensor, torch.Tensor]:
    """Summed log-probability of each completion given its prompt, and its token count.

    One right-padded forward pass over ``prompt + completion``; TRL's
    ``selective_log_softmax`` gathers the token log-probabilities. Gradients flow when the
    caller has them enabled.

    Returns:
        ``(logp, n)``: two `rows` tensors (``n`` float; an empty completion gives 0, 0).
    """
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


def crpg_loss(logp: torch.Tensor, advantages: torch.Tensor) -> torch.Tensor:
    """CRPG's policy-gradient loss ``mean(-A * logp)`` with ``A = R - mean_prompt R``."""
    return -(advantages.to(logp) * logp).mean()


def codpo_loss(logp_c: torch.Tensor, logp_r: torch.Tensor, ref_c: torch.Tensor,
               ref_r: torch.Tensor, n_c: torch.Tensor, *, beta: float, lam: float
               ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """CODPO's loss over pairs: ``(loss, dpo, nll)``, each a mean over the pairs.

    ``dpo = -log sigma(beta * ((logp_c - ref_c) - (logp_r - ref_r)))`` (TRL's DPO
    ``sigmoid`` loss), ``nll = -logp_c / n_c``, ``loss = dpo + lam * nll``.
    """
    margin = beta * ((logp_c - ref_c.to(logp_c)) - (logp_r - ref_r.to(logp_r)))
    dpo = -torch.nn.functional.logsigmoid(margin)
    nll = -logp_c / n_c.to(logp_c).clamp(min=1.0)
    return (dpo + lam * nll).mean(), dpo.mean(), nll.mean()


def crraft_loss(logp: torch.Tensor, n: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """CRRAFT's weighted fine-tuning loss ``mean(w * (-logp / n))`` over the kept responses."""
    return (weights.to(logp) * (-logp / n.to(logp).clamp(min=1.0))).mean()

"""CGPO's three losses in torch, on summed token log-probabilities.

``logp`` below is ``log pi(a|s)``, the sum of the completion's token log-probabilities under
the policy (with gradients; :func:`moalign.llm.generation.sequence_logprobs`), ``ref`` the
same under the frozen reference policy, ``n`` the completion's token count. Each loss is a
mean over its samples (or pairs):

* CRPG: ``-(R - mean_prompt R) * logp`` with ``R`` from :func:`~moalign.llm.cgpo.rules.crpg_reward`;
* CODPO: ``-log sigma(beta ((logp_c - ref_c) - (logp_r - ref_r))) + lam * (-logp_c / n_c)``,
  TRL's DPO ``sigmoid`` loss plus the chosen response's per-token NLL;
* CRRAFT: ``w * (-logp / n)``, reward-weighted fine-tuning on the selected responses.
"""

from __future__ import annotations

import torch


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

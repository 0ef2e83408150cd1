"""CGPO (Xu et al., 2024): constrained RLHF with a mixture of judges. For now the rules of
its three optimizers (CRPG, CODPO, CRRAFT) as pure numpy functions; the ``cgpo`` solver
is not built yet."""

from moalign.llm.cgpo.rules import (
    calibrated_reward,
    center_by_prompt,
    codpo_loss_terms,
    codpo_pair,
    codpo_pairs,
    crpg_reward,
    crraft_select,
    mix_tasks,
    passes,
    task_weights,
)

__all__ = [
    "calibrated_reward",
    "center_by_prompt",
    "codpo_loss_terms",
    "codpo_pair",
    "codpo_pairs",
    "crpg_reward",
    "crraft_select",
    "mix_tasks",
    "passes",
    "task_weights",
]

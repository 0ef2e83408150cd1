"""LLM alignment: text objectives on TRL's reward signature, a tiny local model, and the
``drw`` solver. Importing this package does not import transformers or TRL; the modules
that need them import them when used."""

from moalign.llm.digits import near_len, sevens, threes
from moalign.llm.objectives import (
    TEXT_OBJECTIVES,
    RewardFunc,
    as_reward_func,
    exact_answer,
    keywords,
    length,
    normalized,
    regex,
    register_text_objective,
    repetition,
    reward_model,
)

__all__ = [
    "TEXT_OBJECTIVES",
    "RewardFunc",
    "as_reward_func",
    "exact_answer",
    "keywords",
    "length",
    "near_len",
    "normalized",
    "regex",
    "register_text_objective",
    "repetition",
    "reward_model",
    "sevens",
    "threes",
]

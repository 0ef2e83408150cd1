"""Value functions for robust multi-objective decoding (RMOD, Son et al., 2025).

- :class:`ValueFunction`: the contract a decoder calls, ``vf(prompt_ids, prefix_ids)`` ->
  `n x G`, higher is better, an estimate of each objective on the finished completion.
- :class:`ObjectiveValues`: the fallback, the objectives on the decoded partial text.
- :class:`ValueHeads`: a frozen reference policy + `G` linear heads on its last hidden
  state, trained by :func:`train_value_heads` or the solver ``value-heads``
  (Monte-Carlo regression of every prefix onto its completion's final reward).

Importing this package registers the solver ``value-heads``; it does not import
transformers (the functions that need it import it when called).
"""

from moalign.llm.values.base import ObjectiveValues, ValueFunction
from moalign.llm.values.heads import HeadNet, ValueHeads
from moalign.llm.values.solver import ValueHeadsConfig, ValueHeadsSolver
from moalign.llm.values.training import (
    PrefixData,
    Rollouts,
    ValueTrainer,
    ValueTrainingReport,
    prefix_features,
    sample_rollouts,
    train_value_heads,
)

__all__ = [
    "HeadNet",
    "ObjectiveValues",
    "PrefixData",
    "Rollouts",
    "ValueFunction",
    "ValueHeads",
    "ValueHeadsConfig",
    "ValueHeadsSolver",
    "ValueTrainer",
    "ValueTrainingReport",
    "prefix_features",
    "sample_rollouts",
    "train_value_heads",
]

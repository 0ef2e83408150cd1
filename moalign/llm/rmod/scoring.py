"""Score completion token ids with a text problem's objectives, per prompt.

:class:`ObjectiveScorer` has the value-function signature ``(prompt_ids, prefix_ids) ->
n x G`` (higher is better): it finds each row's prompt by its token ids, decodes the prefix
and calls the objectives with that prompt's dataset columns. It scores finished
completions (the evaluation, best-of-K) and, on partial text, is the fallback value
function of RMOD.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from moalign.core.objective import ObjectiveSet
from moalign.llm.objectives import frozen_stats


class ObjectiveScorer:
    """The objectives as a value function over token ids (see the module docstring).

    Args:
        objectives: the problem's objectives.
        tokenizer: decodes the completion ids.
        prompt_ids: each prompt's token ids (how rows are matched to prompts).
        prompts: the prompts, in the same order.
        extras: per-prompt dataset columns passed to the objectives.
    """

    def __init__(self, objectives: ObjectiveSet, tokenizer: Any,
                 prompt_ids: Sequence[Sequence[int]], prompts: Sequence[Any],
                 extras: Mapping[str, Sequence[Any]] | None = None) -> None:
        self.objectives, self.tokenizer = objectives, tokenizer
        self.names = tuple(objectives.names)
        self.prompts = list(prompts)
        self.extras = {k: list(v) for k, v in (extras or {}).items()}
        self.index = {tuple(ids): i for i, ids in enumerate(prompt_ids)}
        self.signs = np.array([1.0 if m else -1.0 for m in objectives.maximize])

    def __call__(self, prompt_ids: Sequence[Sequence[int]],
                 prefix_ids: Sequence[Sequence[int]]) -> np.ndarray:
        rows = [self.index[tuple(p)] for p in prompt_ids]
        texts = [self.tokenizer.decode(list(ids), skip_special_tokens=True)
                 for ids in prefix_ids]
        cols = {k: [v[r] for r in rows] for k, v in self.extras.items()}
        with frozen_stats(self.objectives):  # scoring must not move running statistics
            F = self.objectives(prompts=[self.prompts[r] for r in rows], completions=texts,
                                completion_ids=[list(ids) for ids in prefix_ids], **cols)
        return np.asarray(F, dtype=np.float64) * self.signs

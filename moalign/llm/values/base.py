"""The value-function contract of robust multi-objective decoding, and its fallback.

Son, S. et al. (2025). *Robust Multi-Objective Controlled Decoding of Large Language
Models.* RMOD scores each candidate continuation ``z`` of a prompt with per-objective value
functions ``V_g(prompt, prefix + z)``, estimates of the reward ``r_g`` of the finished
completion under the reference policy, ``V_g(x, y_{<t}) ≈ E_{y ~ π_ref}[r_g(x, y) | y_{<t}]``.

:class:`ValueFunction` is that contract; :class:`ObjectiveValues` is the fallback that
scores the partial text itself with the problem's text objectives (no training, but a
partial text is not a finished completion: it is a biased estimate of ``r_g``); trained
heads are :class:`moalign.llm.values.ValueHeads`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

from moalign.core.objective import Objective, ObjectiveSet
from moalign.llm.objectives import frozen_stats


@runtime_checkable
class ValueFunction(Protocol):
    """Per-objective value estimates of prefixes.

    Attributes:
        names: the `G` objectives, in the problem's order.

    Calling it with `n` prompts (token ids) and `n` prefixes (completion token ids so far,
    possibly empty) returns an `n x G` float64 array: row ``i`` scores prefix ``i`` after
    prompt ``i``, each column oriented so that higher is better (minimized objectives
    negated), an estimate of that objective's value of the finished completion.
    """

    names: tuple[str, ...]

    def __call__(self, prompt_ids: Sequence[Sequence[int]],
                 prefix_ids: Sequence[Sequence[int]]) -> np.ndarray: ...


def as_objective_set(objectives: ObjectiveSet | Sequence[Objective]) -> ObjectiveSet:
    """``objectives`` as an :class:`ObjectiveSet` (a problem's ``objectives`` already is)."""
    return objectives if isinstance(objectives, ObjectiveSet) else ObjectiveSet(objectives)


def higher_is_better(objectives: ObjectiveSet, F: np.ndarray) -> np.ndarray:
    """`n x G` values in user orientation -> higher is better (minimized ones negated)."""
    return 0.0 - objectives.to_min(F)  # 0.0 - x: no -0.0


def fill_worst(V: np.ndarray) -> np.ndarray:
    """NaN (or infinite) entries of each column -> the column's worst (lowest) finite value,
    or 0 where the column has none. `V` is higher-is-better; returns a copy."""
    V = np.array(V, dtype=np.float64)
    for g in range(V.shape[1]):
        bad = ~np.isfinite(V[:, g])
        if bad.any():
            V[bad, g] = V[~bad, g].min() if (~bad).any() else 0.0
    return V


def row_columns(extras: Mapping[str, Sequence[Any]] | None, n: int) -> dict[str, list[Any]]:
    """Per-row columns for `n` rows; a column of length 1 is repeated `n` times.

    Raises:
        ValueError: a column has neither 1 nor `n` entries.
    """
    out: dict[str, list[Any]] = {}
    for key, col in (extras or {}).items():
        col = list(col)
        if len(col) == 1:
            col = col * n
        if len(col) != n:
            raise ValueError(f"extras[{key!r}] has {len(col)} rows for {n} prefixes "
                             f"(give one value per row, or one for all)")
        out[key] = col
    return out


class ObjectiveValues:
    """The fallback value function: the problem's text objectives on the partial text.

    Each prefix is decoded (``tokenizer.decode(ids, skip_special_tokens=True)``) and scored
    with the objectives as if it were the finished completion,
    ``objectives(prompts=..., completions=..., completion_ids=..., **extras)``, the call the
    ``drw`` solver makes on validation samples. Running statistics of the objectives are
    read, never updated (:func:`~moalign.llm.objectives.frozen_stats`). Minimized objectives
    are negated; a NaN (failed) value becomes its column's worst finite value in the batch,
    or 0 when the whole column failed.

    This is the fallback of Son et al. (2025): no training, but the reward of a partial text
    is a biased estimate of the finished completion's (a prefix of 3 digits is far from a
    length target that the finished text may reach). Prefer trained
    :class:`~moalign.llm.values.ValueHeads`.

    Args:
        objectives: the problem's objectives (an ``ObjectiveSet`` or a list).
        tokenizer: the policy's tokenizer (decodes prompts and prefixes).

    Example:
        >>> from moalign.llm import length, sevens
        >>> class Chars:                                  # a stand-in tokenizer
        ...     def decode(self, ids, skip_special_tokens=True):
        ...         return "".join(chr(i) for i in ids)
        >>> vf = ObjectiveValues([sevens(), length()], Chars())
        >>> vf([[65], [65]], [[ord(c) for c in " 77"], []]).tolist()
        [[1.0, -3.0], [0.0, 0.0]]
    """

    def __init__(self, objectives: ObjectiveSet | Sequence[Objective], tokenizer: Any) -> None:
        self.objectives = as_objective_set(objectives)
        self.tokenizer = tokenizer
        self.names: tuple[str, ...] = tuple(self.objectives.names)

    def __call__(
        self,
        prompt_ids: Sequence[Sequence[int]],
        prefix_ids: Sequence[Sequence[int]],
        *,
        prompts: Sequence[Any] | None = None,
        extras: Mapping[str, Sequence[Any]] | None = None,
    ) -> np.ndarray:
        """Score each prefix as a completion of its prompt.

        Args:
            prompt_ids: `n` prompts, token ids.
            prefix_ids: `n` prefixes (completion token ids so far; may be empty).
            prompts: the `n` prompts as the objectives expect them (default: the decoded
                ``prompt_ids``; pass the original chat messages where they matter).
            extras: dataset columns the objectives read (``answer=...``), one value per
                row or a single value for every row.

        Returns:
            `n x G` float64 array, higher is better, no NaN.
        """
        n = len(prefix_ids)
        if len(prompt_ids) != n:
            raise ValueError(f"ObjectiveValues: {len(prompt_ids)} prompts for {n} prefixes")
        if n == 0:
            return np.zeros((0, len(self.names)))
        decode = self.tokenizer.decode
        texts = [decode(list(ids), skip_special_tokens=True) for ids in prefix_ids]
        if prompts is None:
            prompts = [decode(list(ids), skip_special_tokens=True) for ids in prompt_ids]
        with frozen_stats(self.objectives):
            F = self.objectives(prompts=list(prompts), completions=texts,
                                completion_ids=[list(ids) for ids in prefix_ids],
                                **row_columns(extras, n))
        return fill_worst(higher_is_better(self.objectives, F))

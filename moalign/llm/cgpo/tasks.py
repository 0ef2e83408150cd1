"""CGPO's tasks at run time: each task's prompts, reward, judges and baseline responses.

A :class:`Task` is built from a resolved :class:`~moalign.llm.cgpo.config.TaskConfig` and
the text problem (:func:`build_tasks`). It answers what a training step needs: the step's
prompts (:meth:`Task.batch`, a fixed order per epoch so a resumed run draws the same
prompts), the scalar reward of completions (:meth:`Task.reward`), the judges' verdicts
(:meth:`Task.verdicts`) and each prompt's baseline response with its reward and verdict,
computed once and cached (:meth:`Task.baselines`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from moalign.core.objective import Objective
from moalign.core.space import Text
from moalign.llm.cgpo.config import TaskConfig
from moalign.llm.judges.base import PASS, MixtureOfJudges, build_judges
from moalign.llm.problem import TextProblem, build_objective, load_prompts


@dataclass
class Baseline:
    """A prompt's baseline response ``a_base``: its text, token ids, reward and verdict."""

    text: str
    ids: list[int]
    reward: float
    verdict: int


@dataclass
class Task:
    """One task of a CGPO run (see the module docstring).

    Attributes:
        config: the resolved task options.
        prompts: the task's prompts and their dataset columns.
        terms: the reward's objectives; ``signs * weights`` turn their values into the
            (maximized) reward ``sum_i w_i s_i f_i``.
        weights: one weight per term.
        signs: +1 for a maximized objective, -1 for a minimized one.
        judges: the task's judges, or None (every sample passes).
        seed: the run's seed (the prompt order of each epoch derives from it).
        index: the task's position in the run (so tasks draw different orders).
        cache: prompt index -> its :class:`Baseline`.
    """

    config: TaskConfig
    prompts: Text
    terms: list[Objective]
    weights: np.ndarray
    signs: np.ndarray
    judges: MixtureOfJudges | None
    seed: int = 0
    index: int = 0
    cache: dict[int, Baseline] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def judge_names(self) -> list[str]:
        return self.judges.names if self.judges is not None else []

    def batch(self, step: int) -> list[int]:
        """The prompt indices of training step ``step`` (1-based): ``prompts_per_step``
        consecutive positions of a permutation drawn per epoch from ``(seed, index,
        epoch)``, so the same step always gets the same prompts."""
        n, b = len(self.prompts.prompts), int(self.config.prompts_per_step or 1)
        start = (step - 1) * b
        out = []
        for pos in range(start, start + b):
            epoch, i = divmod(pos, n)
            order = np.random.default_rng([self.seed, self.index, epoch]).permutation(n)
            out.append(int(order[i]))
        return out

    def columns(self, indices: Sequence[int], repeat: int = 1) -> dict[str, list[Any]]:
        """The dataset columns of prompts ``indices``, each row repeated ``repeat`` times."""
        return {k: [col[i] for i in indices for _ in range(repeat)]
                for k, col in self.prompts.extras.items()}

    def reward(self, prompts: Sequence[Any], texts: Sequence[str], ids: Sequence[Sequence[int]],
               columns: Mapping[str, Sequence[Any]]) -> np.ndarray:
        """``sum_i w_i s_i f_i`` per completion; NaN where a term failed."""
        F = np.column_stack([
            np.asarray(t(prompts=list(prompts), completions=list(texts),
                         completion_ids=[list(i) for i in ids], **columns), dtype=float)
            for t in self.terms])
        return np.asarray(F @ (self.weights * self.signs), dtype=float)

    def verdicts(self, prompts: Sequence[Any], texts: Sequence[str],
                 columns: Mapping[str, Sequence[Any]]) -> tuple[np.ndarray, np.ndarray]:
        """``(J, V)``: the mixture verdict per completion and the `n x k` verdicts of the
        ``k`` judges (all 1 without judges)."""
        if self.judges is None:
            return np.full(len(texts), PASS), np.empty((len(texts), 0), dtype=np.int64)
        from moalign.llm.judges.base import combine

        V = self.judges.evaluate(list(prompts), list(texts), **columns)
        return combine(V), V

    def baselines(self, indices: Sequence[int], sample: Callable[[list[int]], tuple[
                  list[str], list[list[int]]]], encode: Callable[[str], list[int]]
                  ) -> list[Baseline]:
        """The baseline responses of prompts ``indices`` (cached after the first call).

        Args:
            indices: prompt indices.
            sample: ``indices -> (texts, ids)``, one reference-policy sample per prompt
                (used when ``baseline == "reference"``).
            encode: a response text -> its token ids (used for a dataset column).
        """
        missing = [i for i in dict.fromkeys(indices) if i not in self.cache]
        if missing:
            column = self.config.baseline
            if column == "reference":
                texts, ids = sample(missing)
            else:
                if column not in self.prompts.extras:
                    raise ValueError(f"cgpo task {self.name!r}: baseline column {column!r} is "
                                     f"not in the prompts (columns: "
                                     f"{sorted(self.prompts.extras)}); use 'reference'")
                texts = [str(self.prompts.extras[column][i]) for i in missing]
                ids = [encode(t) for t in texts]
            prompts = [self.prompts.prompts[i] for i in missing]
            cols = self.columns(missing)
            r = self.reward(prompts, texts, ids, cols)
            J, _ = self.verdicts(prompts, texts, cols)
            for i, t, x, ri, j in zip(missing, texts, ids, r, J, strict=True):
                ok = np.isfinite(ri)
                self.cache[i] = Baseline(t, list(x), float(ri) if ok else 0.0,
                                         int(j) if ok else -1)
        return [self.cache[i] for i in indices]

    def state_dict(self) -> dict[str, Any]:
        return {"cache": {i: vars(b).copy() for i, b in self.cache.items()}}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.cache = {int(i): Baseline(**b) for i, b in state.get("cache", {}).items()}


def build_tasks(configs: Sequence[TaskConfig], problem: TextProblem, seed: int) -> list[Task]:
    """The run's tasks from resolved task configs and the text problem.

    Raises:
        ValueError: a reward term that is neither a problem objective nor an objective
            spec, or a task's ``prompts`` that give no prompt.
    """
    tasks = []
    by_name = {o.name: o for o in problem.objectives}
    for index, c in enumerate(configs):
        prompts = problem.train if c.prompts is None else load_prompts(
            c.prompts, c.n_prompts, problem.base_dir)
        if c.prompts is None and c.n_prompts:
            prompts = Text(prompts.prompts[:c.n_prompts],
                           {k: v[:c.n_prompts] for k, v in prompts.extras.items()})
        specs = list(c.reward) if c.reward is not None else list(by_name)
        terms = [by_name[s] if isinstance(s, str) and s in by_name
                 else build_objective(s, problem.base_dir) for s in specs]
        weights = np.ones(len(terms)) if c.reward_weights is None else np.asarray(
            c.reward_weights, dtype=float)
        signs = np.array([1.0 if t.direction == "maximize" else -1.0 for t in terms])
        judges = problem.judges if c.judges is None else (
            build_judges(list(c.judges), problem.base_dir) if c.judges else None)
        tasks.append(Task(c, prompts, terms, weights, signs, judges, seed=seed, index=index))
    return tasks

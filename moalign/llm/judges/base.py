"""The judge contract, the mixture of judges and judges as text-problem constraints.

A judge (Xu et al., 2024, "The Perfect Blend: Redefining RLHF with Mixture of Judges",
CGPO) is a callable ``judge(prompts, completions, **columns) -> list[int]`` on TRL's
reward signature, one verdict per row:

* ``1`` (:data:`PASS`): the completion satisfies the judge's constraint;
* ``0`` (:data:`VIOLATE`): it violates it;
* ``-1`` (:data:`FAILED`): the judge could not judge it (no reference answer, an exception,
  an unparsable LLM answer). A failed judgement is **never** a pass.

:class:`Judge` makes any judge safe to call: an exception for the whole batch is retried
row by row, and a row whose judgement raises (or returns anything but -1/0/1) gets -1.
:class:`MixtureOfJudges` combines judges (all must pass) and counts per-judge verdicts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from moalign.core.registry import Registry
from moalign.llm.objectives import completion_text, prompt_text

PASS, VIOLATE, FAILED = 1, 0, -1
VERDICTS = (PASS, VIOLATE, FAILED)

JUDGES: Registry[Callable[..., Judge]] = Registry("judge", "moalign.judges", builtins={
    "exact_answer": "moalign.llm.judges.rules",
    "regex": "moalign.llm.judges.rules",
    "length": "moalign.llm.judges.rules",
    "words": "moalign.llm.judges.rules",
    "unit_test": "moalign.llm.judges.sandbox",
    "llm": "moalign.llm.judges.llm",
})
"""Judge factories by name (``judge:`` in a recipe's ``judges:`` list)."""
register_judge = JUDGES.register


def _verdict(v: Any) -> int:
    """``v`` as a verdict; anything that is not exactly -1/0/1 (or a bool) is -1."""
    if isinstance(v, bool | np.bool_):
        return PASS if v else VIOLATE
    if isinstance(v, int | np.integer) and int(v) in VERDICTS:
        return int(v)
    if isinstance(v, float | np.floating) and float(v) in VERDICTS:
        return int(v)
    return FAILED


def _row(columns: Mapping[str, Any], i: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in columns.items():
        if isinstance(v, Sequence | np.ndarray) and not isinstance(v, str | bytes):
            out[k] = v[i] if i < len(v) else None
        else:
            out[k] = v
    return out


class Judge:
    """Base of judges: a ``name`` and :meth:`verdicts`; calling it never raises.

    Subclasses implement :meth:`verdicts` (a whole batch) or :meth:`judge_row` (one row;
    the default :meth:`verdicts` loops over rows).

    Args:
        name: the judge's name (unique within a mixture).
    """

    def __init__(self, name: str) -> None:
        if not name:
            raise ValueError("a judge needs a non-empty name")
        self.name = name
        self.__name__ = name

    def verdicts(self, prompts: Sequence[Any], completions: Sequence[Any], **columns: Any
                 ) -> Sequence[Any]:
        """Verdicts for a batch (may raise; :meth:`__call__` makes it safe)."""
        return [self._safe_row(p, c, _row(columns, i))
                for i, (p, c) in enumerate(zip(prompts, completions, strict=True))]

    def judge_row(self, prompt: Any, completion: Any, row: dict[str, Any]) -> Any:
        """The verdict for one row (``row``: that row's dataset columns)."""
        raise NotImplementedError(f"{type(self).__name__} implements neither verdicts "
                                  "nor judge_row")

    def _safe_row(self, prompt: Any, completion: Any, row: dict[str, Any]) -> int:
        try:
            return _verdict(self.judge_row(prompt, completion, row))
        except Exception:
            return FAILED

    def __call__(self, prompts: Sequence[Any], completions: Sequence[Any], **columns: Any
                 ) -> list[int]:
        """One verdict per completion: 1 pass, 0 violate, -1 could not judge."""
        n = len(completions)
        if prompts is None:
            prompts = [""] * n
        try:
            out = [_verdict(v) for v in self.verdicts(prompts, completions, **columns)]
            if len(out) != n:
                raise ValueError(f"{self.name}: {len(out)} verdicts for {n} completions")
            return out
        except Exception:
            pass
        out = []
        for i in range(n):  # row by row: a raising row gets -1, the others their verdict
            try:
                one = list(self.verdicts([prompts[i]], [completions[i]],
                                         **{k: [v] for k, v in _row(columns, i).items()}))
                out.append(_verdict(one[0]) if len(one) == 1 else FAILED)
            except Exception:
                out.append(FAILED)
        return out

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


class RuleJudge(Judge):
    """A judge from a per-row check ``check(prompt_text, completion_text, row)``.

    The check returns a bool, a verdict (-1/0/1) or None (could not judge); an exception
    gives -1.

    Example:
        >>> j = RuleJudge("short", lambda p, c, row: len(c) < 5)
        >>> j(["q", "q"], ["ok", "far too long"])
        [1, 0]
    """

    def __init__(self, name: str, check: Callable[[str, str, dict[str, Any]], Any]) -> None:
        super().__init__(name)
        self.check = check

    def judge_row(self, prompt: Any, completion: Any, row: dict[str, Any]) -> Any:
        return self.check(prompt_text(prompt), completion_text(completion), row)


class FunctionJudge(Judge):
    """A plain batched callable (``fn(prompts, completions, **columns) -> list``) as a
    :class:`Judge`."""

    def __init__(self, name: str, fn: Callable[..., Sequence[Any]]) -> None:
        super().__init__(name)
        self.fn = fn

    def verdicts(self, prompts: Sequence[Any], completions: Sequence[Any], **columns: Any
                 ) -> Sequence[Any]:
        return self.fn(prompts, completions, **columns)


def as_judge(judge: Judge | Callable[..., Sequence[Any]], name: str | None = None) -> Judge:
    """A :class:`Judge` from a judge or a batched callable (named ``name`` or its
    ``__name__``)."""
    if isinstance(judge, Judge):
        return judge
    if not callable(judge):
        raise TypeError(f"a judge must be callable, got {type(judge).__name__}")
    return FunctionJudge(str(name or getattr(judge, "__name__", type(judge).__name__)), judge)


class MixtureOfJudges:
    """All judges must pass: any 0 gives 0, else any -1 gives -1, else 1.

    Counts every judge's verdicts (and the mixture's, under ``"all"``) until
    :meth:`reset`. The mixture is itself a judge (same call signature).

    Args:
        judges: judges or batched callables; names must be unique (``"all"`` is taken).

    Example:
        >>> from moalign.llm.judges import regex_judge, length_judge
        >>> moj = MixtureOfJudges([regex_judge(r"^[0-9 ]+$", mode="search"),
        ...                        length_judge(max=5)])
        >>> moj(["p"] * 3, ["1 2", "1 2 3 4", "abc"])
        [1, 0, 0]
        >>> moj.pass_rates()["all"]
        0.3333333333333333
    """

    def __init__(self, judges: Sequence[Judge | Callable[..., Sequence[Any]]], *,
                 name: str = "judges") -> None:
        self.judges = [as_judge(j) for j in judges]
        if not self.judges:
            raise ValueError("MixtureOfJudges needs at least one judge")
        names = [j.name for j in self.judges]
        dup = sorted({n for n in names if names.count(n) > 1} | ({"all"} & set(names)))
        if dup:
            raise ValueError(f"MixtureOfJudges: judge names must be unique and not 'all'; "
                             f"rename {dup} (name=...)")
        self.name = name
        self.__name__ = name
        self._counts: dict[str, dict[str, int]] = {}
        self.reset()

    @property
    def names(self) -> list[str]:
        return [j.name for j in self.judges]

    def reset(self) -> None:
        """Forget the counts."""
        self._counts = {n: {"pass": 0, "violate": 0, "failed": 0}
                        for n in [*self.names, "all"]}

    def evaluate(self, prompts: Sequence[Any], completions: Sequence[Any], **columns: Any
                 ) -> np.ndarray:
        """`n x k` verdicts of the `k` judges (counted)."""
        V = np.array([j(prompts, completions, **columns) for j in self.judges],
                     dtype=np.int64).reshape(len(self.judges), len(completions)).T
        for name, col in zip([*self.names, "all"], [*V.T, combine(V)], strict=True):
            c = self._counts[name]
            c["pass"] += int(np.sum(col == PASS))
            c["violate"] += int(np.sum(col == VIOLATE))
            c["failed"] += int(np.sum(col == FAILED))
        return V

    def __call__(self, prompts: Sequence[Any], completions: Sequence[Any], **columns: Any
                 ) -> list[int]:
        return combine(self.evaluate(prompts, completions, **columns)).tolist()

    def counts(self) -> dict[str, dict[str, int]]:
        """Per judge (and ``"all"``): ``{"pass", "violate", "failed"}`` counts."""
        return {k: dict(v) for k, v in self._counts.items()}

    def pass_rates(self) -> dict[str, float]:
        """Per judge (and ``"all"``): passes / all verdicts (a failed judgement is not a
        pass); NaN before any verdict."""
        out = {}
        for k, c in self._counts.items():
            total = c["pass"] + c["violate"] + c["failed"]
            out[k] = c["pass"] / total if total else float("nan")
        return out

    def __repr__(self) -> str:
        return f"MixtureOfJudges({self.names})"


def combine(V: np.ndarray) -> np.ndarray:
    """The mixture verdict of `n x k` verdicts: 0 if any 0, else -1 if any -1, else 1."""
    V = np.asarray(V).reshape(len(V), -1)
    return np.where(np.any(V == VIOLATE, axis=1), VIOLATE,
                    np.where(np.any(V != PASS, axis=1), FAILED, PASS)).astype(np.int64)


def constraint_values(V: np.ndarray) -> np.ndarray:
    """Judge verdicts as constraint values (``g <= 0`` feasible, moalign's convention):
    pass -1, violate +1, could not judge NaN (the point counts as failed and infeasible).
    `n x k` -> `n x k` float."""
    V = np.asarray(V)
    return np.where(V == PASS, -1.0, np.where(V == VIOLATE, 1.0, np.nan))


def judge_constraints(judges: MixtureOfJudges) -> Callable[..., np.ndarray]:
    """The judges as batched constraints ``g(prompts, completions, **columns) -> n x k``
    (one column per judge; see :func:`constraint_values`)."""

    def g(prompts: Sequence[Any], completions: Sequence[Any], **columns: Any) -> np.ndarray:
        return constraint_values(judges.evaluate(prompts, completions, **columns))

    return g


def build_judge(spec: Any, base_dir: str | Path | None = None) -> Judge:
    """A judge from a spec: a :class:`Judge` or callable, a registered name
    (``"exact_answer"``), ``"module:factory"`` / ``"file.py:factory"``, or a mapping
    ``{judge: NAME, params: {...}, name: ...}``."""
    if isinstance(spec, Judge):
        return spec
    if callable(spec):
        return as_judge(spec)
    if isinstance(spec, str):
        spec = {"judge": spec}
    if not isinstance(spec, Mapping) or "judge" not in spec:
        raise ValueError(f"judge spec {spec!r}: expected a name or a mapping with 'judge'")
    unknown = set(spec) - {"judge", "params", "name"}
    if unknown:
        raise ValueError(f"judge spec: unknown keys {sorted(unknown)} (use judge, params, "
                         "name)")
    params = dict(spec.get("params") or {})
    if spec.get("name"):
        params["name"] = spec["name"]
    factory = JUDGES.get(str(spec["judge"]), base_dir)
    made = factory(**params)
    return as_judge(made, spec.get("name") or str(spec["judge"]).rpartition(":")[2])


def build_judges(specs: Sequence[Any] | MixtureOfJudges,
                 base_dir: str | Path | None = None) -> MixtureOfJudges:
    """A :class:`MixtureOfJudges` from a list of specs (see :func:`build_judge`)."""
    if isinstance(specs, MixtureOfJudges):
        return specs
    if isinstance(specs, str | Mapping) or not isinstance(specs, Sequence):
        raise ValueError("judges: expected a list of judge specs")
    return MixtureOfJudges([build_judge(s, base_dir) for s in specs])

"""The text problem: a prompt dataset, text objectives and a reference policy.

Registered as problem ``"text"``. In a recipe::

    problem:
      name: text
      params:
        prompts: tiny-math          # or digits, data/train.jsonl, a saved HF dataset dir, a list
        n_prompts: 256
        n_validation: 32            # held out from prompts unless `validation` is given
        policy: tiny                # tiny-math / tiny-digits, or any HF model name / path
        objectives:
          - {fn: exact_answer, name: accuracy}
          - {fn: length, name: conciseness, params: {below: running_mean}}
          - {fn: recipes/my_rewards.py:hash_format, name: format}
        judges:                     # optional: completions a judge rejects are infeasible
          - {judge: regex, params: {pattern: "^[0-9 ]+$", mode: search}}

An objective spec is a built-in name (see :data:`moalign.llm.objectives.TEXT_OBJECTIVES`), a
``file.py:function`` / ``module:function`` TRL reward function (taken as maximized unless
``direction`` says otherwise), or a mapping ``{fn, name, params, direction, normalize}``.
A judge spec is a registered judge name (see :data:`moalign.llm.judges.JUDGES`), a
``module:factory`` / ``file.py:factory`` string, or a mapping ``{judge, params, name}``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from moalign.core.objective import Objective
from moalign.core.problem import Evaluation, Problem
from moalign.core.registry import import_object
from moalign.core.space import Text
from moalign.llm.judges.base import MixtureOfJudges, build_judges, constraint_values
from moalign.llm.objectives import TEXT_OBJECTIVES, normalized
from moalign.problems.registry import register_problem


class TextProblem(Problem):
    """A :class:`Problem` over completions of a prompt dataset.

    Args:
        train: training prompts (and their extra columns).
        objectives: text objectives (TRL reward signature).
        policy: reference policy, a model name or path.
        validation: held-out prompts for validation vectors.
        ref_point: hypervolume reference (default ``"initial"``: the first recorded
            validation vector, i.e. the initial policy's).
        name: display name.
        judges: optional judges (CGPO's mixture of judges); a completion any judge
            rejects is infeasible, one a judge could not judge is failed (and infeasible).
        base_dir: the folder relative paths of the problem's specs were resolved against
            (the recipe's), for solvers that read further specs (CGPO's tasks).
    """

    def __init__(
        self,
        train: Text,
        objectives: Sequence[Objective],
        *,
        policy: str,
        validation: Text | None = None,
        ref_point: Any = "initial",
        name: str = "text",
        judges: MixtureOfJudges | None = None,
        base_dir: Path | None = None,
    ) -> None:
        super().__init__(train, objectives, ref_point=ref_point, name=name)
        self.judges = judges
        self.base_dir = base_dir
        self.train = train
        self.validation = validation if validation is not None else train
        self.policy = policy

    def evaluate(self, X: Any, **kwargs: Any) -> Evaluation:
        """Score completions ``X`` (a list) for ``prompts=...`` (required keyword) and
        dataset columns given as keyword lists.

        With ``judges``, ``G`` holds one column per judge (pass -1, violate +1, could not
        judge NaN; :func:`moalign.llm.judges.constraint_values`)."""
        if "prompts" not in kwargs:
            raise TypeError("TextProblem.evaluate: pass prompts=[...] with the completions")
        F = self.objectives(completions=list(X), **kwargs)
        failed = ~np.all(np.isfinite(F), axis=1)
        if self.judges is None:
            return Evaluation(F=F, G=None, feasible=~failed, failed=failed)
        G = constraint_values(self.judges.evaluate(completions=list(X), **kwargs))
        failed = failed | ~np.all(np.isfinite(G), axis=1)
        feasible = ~failed & np.all(np.nan_to_num(G, nan=np.inf) <= 0, axis=1)
        return Evaluation(F=F, G=G, feasible=feasible, failed=failed)


def as_text_problem(problem: Problem, solver: str) -> TextProblem:
    """``problem`` as a :class:`TextProblem`, for a solver that only decodes or trains on text.

    Raises:
        TypeError: it is another kind of problem.
    """
    if not isinstance(problem, TextProblem):
        raise TypeError(f"{solver} works on text problems (problem 'text'), got "
                        f"{type(problem).__name__}")
    return problem


def load_prompts(source: Any, n: int | None = None, base_dir: Path | None = None,
                 column: str = "prompt") -> Text:
    """Prompts (and their dataset columns) from any form ``text_problem`` takes for
    ``prompts``: ``"tiny-math"``, ``"digits"`` / ``"digits:<seed>"``, a file or dataset
    folder (relative to ``base_dir``, then the working directory), or a list.

    Args:
        source: the prompts.
        n: keep at most this many.
        base_dir: folder relative paths are resolved against first.
        column: the column holding the prompt.
    """
    rows = _rows(source, n, base_dir, column)
    if not rows:
        raise ValueError(f"text problem: no prompts in {source!r}")
    return _to_text(rows, column)


def _rows(source: Any, n: int | None, base_dir: Path | None, column: str) -> list[dict[str, Any]]:
    if isinstance(source, str) and source.startswith("tiny-math"):
        from moalign.llm.tiny import math_prompts

        return math_prompts(n or 256, seed=int(source.partition(":")[2] or 1))
    if isinstance(source, str) and (source == "digits" or source.startswith("digits:")):
        from moalign.llm.digits import digits_prompts

        return digits_prompts(n or 256, seed=int(source.partition(":")[2] or 1))
    if isinstance(source, str):
        rows = _load_file(_resolve(source, base_dir))
    elif isinstance(source, Sequence):
        rows = [dict(r) if isinstance(r, Mapping) else {column: r} for r in source]
    else:
        raise TypeError(f"text problem: prompts must be a path, 'tiny-math', 'digits' or a list, "
                        f"got {type(source).__name__}")
    rows = [dict(r) for r in rows]
    if rows and column not in rows[0]:
        raise ValueError(f"text problem: prompt rows have no {column!r} column "
                         f"(columns: {sorted(rows[0])}); set prompt_column")
    return rows[:n] if n else rows


def _resolve(path: str, base_dir: Path | None) -> Path:
    p = Path(path).expanduser()
    for cand in ([p] if p.is_absolute() else [*(b / p for b in [base_dir] if b), Path.cwd() / p]):
        if cand.exists():
            return cand
    raise FileNotFoundError(f"text problem: no file {path!r} (looked in "
                            f"{base_dir or ''} and {Path.cwd()})")


def _load_file(path: Path) -> list[dict[str, Any]]:
    import datasets

    if path.is_dir():
        ds = datasets.load_from_disk(str(path))
        if isinstance(ds, datasets.DatasetDict):
            ds = ds["train"]
    else:
        kind = {".jsonl": "json", ".json": "json", ".csv": "csv", ".parquet": "parquet"}.get(
            path.suffix)
        if kind is None:
            raise ValueError(f"text problem: unsupported prompt file {path.name}; "
                             f"use .jsonl, .json, .csv, .parquet or a saved dataset folder")
        ds = datasets.load_dataset(kind, data_files=str(path), split="train")
    return [dict(r) for r in ds]


def _to_text(rows: list[dict[str, Any]], column: str) -> Text:
    extras = {k: tuple(r.get(k) for r in rows) for k in rows[0] if k != column}
    return Text(tuple(r[column] for r in rows), extras)


def tiny_task(policy: str, prompts: Any) -> str | None:
    """The tiny model's task for a ``policy`` spec, or None if it is not a tiny model.

    ``"tiny-math"`` / ``"tiny-digits"`` name the task; plain ``"tiny"`` follows the prompts
    (``digits`` prompts give the digits model, anything else the math model).
    """
    if policy in ("tiny-math", "tiny-digits"):
        return policy.partition("-")[2]
    if policy != "tiny":
        return None
    is_digits = isinstance(prompts, str) and (prompts == "digits" or prompts.startswith("digits:"))
    return "digits" if is_digits else "math"


def load_callable(spec: str, base_dir: Path | None = None) -> Any:
    """``path/file.py:name`` (relative to ``base_dir``, then the working directory) or
    ``package.module:name``."""
    mod, _, attr = spec.rpartition(":")
    if mod.endswith(".py"):
        return import_object(f"{_resolve(mod, base_dir)}:{attr}")
    return import_object(spec)


def build_objective(spec: Any, base_dir: Path | None = None) -> Objective:
    """An :class:`Objective` from a spec (see the module docstring)."""
    if isinstance(spec, Objective):
        return spec
    if callable(spec):
        return Objective(getattr(spec, "__name__", "reward"), spec, direction="maximize")
    if isinstance(spec, str):
        spec = {"fn": spec}
    if not isinstance(spec, Mapping) or "fn" not in spec:
        raise ValueError(f"objective spec {spec!r}: expected a name or a mapping with 'fn'")
    unknown = set(spec) - {"fn", "name", "params", "direction", "normalize"}
    if unknown:
        raise ValueError(f"objective spec: unknown keys {sorted(unknown)}")
    fn_spec, params = spec["fn"], dict(spec.get("params") or {})
    name = spec.get("name")
    if isinstance(fn_spec, str) and ":" not in fn_spec and fn_spec in TEXT_OBJECTIVES:
        obj = TEXT_OBJECTIVES.get(fn_spec)(**params, **({"name": name} if name else {}))
        if spec.get("direction"):
            obj = Objective(obj.name, obj.fn, direction=spec["direction"], bounds=obj.bounds)
    elif isinstance(fn_spec, str) and ":" in fn_spec:
        fn = load_callable(fn_spec, base_dir)
        if isinstance(fn, Objective):
            obj = fn if not name else Objective(name, fn.fn, fn.direction, fn.ref, fn.bounds)
        else:
            if params:
                import functools

                fn = functools.partial(fn, **params)
            obj = Objective(name or fn_spec.rpartition(":")[2], fn,
                            direction=spec.get("direction") or "maximize")
    else:
        raise ValueError(f"objective {fn_spec!r}: not a built-in {TEXT_OBJECTIVES.names()} "
                         f"nor 'file.py:function' / 'module:function'")
    if spec.get("normalize"):
        obj = normalized(obj, method=spec["normalize"])
    return obj


@register_problem("text")
def text_problem(
    prompts: Any,
    objectives: Sequence[Any],
    *,
    policy: str = "tiny",
    validation: Any = None,
    n_prompts: int | None = None,
    n_validation: int = 32,
    prompt_column: str = "prompt",
    base_dir: str | None = None,
    name: str = "text",
    judges: Sequence[Any] | None = None,
) -> TextProblem:
    """Build a :class:`TextProblem` (registered as ``"text"``).

    Args:
        prompts: ``"tiny-math"`` (synthetic arithmetic with an ``answer`` column, for the
            tiny model), ``"digits"`` (the digits testbed, :mod:`moalign.llm.digits`;
            ``"digits:<seed>"`` picks the prompt seed), a local
            ``.jsonl/.json/.csv/.parquet`` file or saved HF dataset folder, or a list of
            strings / row mappings.
        objectives: objective specs (built-in names, ``file.py:function``,
            ``module:function`` or mappings).
        policy: reference policy: ``"tiny"`` (the cached local tiny model, built on first
            use: the digits model for ``digits`` prompts, else the math model),
            ``"tiny-math"`` / ``"tiny-digits"`` (that tiny model whatever the prompts) or any
            HF model name / local path.
        validation: held-out prompts (same forms); default: the last ``n_validation``
            rows of ``prompts``, removed from training.
        n_prompts: use at most this many training prompts.
        n_validation: size of the held-out split when ``validation`` is not given.
        prompt_column: the column holding the prompt.
        base_dir: folder that relative paths are resolved against (the recipe's folder),
            before the working directory.
        name: display name.
        judges: judge specs (``{judge: regex, params: {pattern: ...}}``, a registered
            name, ``module:factory``); completions a judge rejects are infeasible.
    """
    base = Path(base_dir) if base_dir else None
    if validation is None:
        n = None if n_prompts is None else n_prompts + n_validation
        rows = _rows(prompts, n, base, prompt_column)
        if len(rows) <= n_validation:
            raise ValueError(f"text problem: {len(rows)} prompts cannot hold out "
                             f"n_validation={n_validation}")
        train_rows, val_rows = rows[:-n_validation], rows[-n_validation:]
    else:
        train_rows = _rows(prompts, n_prompts, base, prompt_column)
        val_rows = _rows(validation, None, base, prompt_column)
    task = tiny_task(policy, prompts)
    if task is not None:
        from moalign.llm.tiny import build_tiny_model, tiny_config

        policy = str(build_tiny_model(config=tiny_config(task)))
    objs = [build_objective(s, base) for s in objectives]
    moj = build_judges(judges, base) if judges else None
    return TextProblem(_to_text(train_rows, prompt_column), objs, policy=policy,
                       validation=_to_text(val_rows, prompt_column), name=name, judges=moj,
                       base_dir=base)

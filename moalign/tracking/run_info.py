"""What a run records about itself besides its results: flattened params, the problem's
size, the moalign version and git commit, and the run's name.

Params are flat ``dotted.keys`` (MLflow compares and searches runs by them):
:func:`flatten` turns ``{"problem": {"params": {"n_var": 12}}}``-style nesting into
``problem.n_var``-style keys. :func:`source_tags` says which code ran: ``moalign.version``
always; ``moalign.git_commit``, ``moalign.git_dirty`` (and MLflow's own
``mlflow.source.git.commit``, which the UI shows) when the working directory is inside a
git repository -- asked of ``git`` with a short timeout, nothing when git is missing, slow
or the directory is not a repository.
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from moalign.core.problem import Problem

GIT_TIMEOUT = 2.0
"""Seconds each ``git`` call may take before the git tags are left out."""

GENERIC_PROBLEM_NAMES = frozenset({"Problem", "text", ""})
"""Problem names that say nothing (a plain ``Problem`` of objectives); run names use the
objectives' names instead."""

MAX_RUN_NAME = 250
"""MLflow's limit on a run name's length."""


def flatten(prefix: str, value: Any) -> dict[str, Any]:
    """Nested mappings as flat dotted keys under ``prefix``; other values are kept.

    Example:
        >>> flatten("solver", {"lr": 0.1, "net": {"hidden": 64}})
        {'solver.lr': 0.1, 'solver.net.hidden': 64}
    """
    if not isinstance(value, Mapping):
        return {prefix: value}
    out: dict[str, Any] = {}
    for key, item in value.items():
        out.update(flatten(f"{prefix}.{key}" if prefix else str(key), item))
    return out


def problem_params(problem: Problem) -> dict[str, Any]:
    """The problem's size as params: ``problem.n_obj``, ``problem.n_var`` (spaces with a
    dimension), ``problem.n_prompts`` (text), ``problem.space`` (the space's class)."""
    space = problem.space
    out: dict[str, Any] = {"problem.n_obj": problem.n_obj,
                           "problem.space": type(space).__name__}
    dim = getattr(space, "dim", None)
    if isinstance(dim, int):
        out["problem.n_var"] = dim
    prompts = getattr(space, "prompts", None)
    if isinstance(prompts, tuple):
        out["problem.n_prompts"] = len(prompts)
    return out


def _git(args: Sequence[str], cwd: Path) -> str | None:
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True,
                              timeout=GIT_TIMEOUT, check=False)
    except (OSError, subprocess.SubprocessError):  # no git, or too slow
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def source_tags(cwd: str | Path | None = None) -> dict[str, str]:
    """``moalign.version``, and the git commit of ``cwd`` (default: the working directory)
    with a dirty flag (tracked files changed) when it is inside a git repository."""
    from moalign import __version__

    tags = {"moalign.version": __version__}
    where = Path(cwd) if cwd is not None else Path.cwd()
    commit = _git(["rev-parse", "HEAD"], where)
    if not commit:
        return tags
    tags["moalign.git_commit"] = commit
    tags["mlflow.source.git.commit"] = commit
    status = _git(["status", "--porcelain", "--untracked-files=no"], where)
    if status is not None:
        tags["moalign.git_dirty"] = "true" if status else "false"
    return tags


def default_run_name(problem: Problem, solver_name: str) -> str:
    """``<problem>-<solver>`` (API runs without a name); a generic problem is named by its
    objectives, ``cost+quality-nsga2``.

    Example:
        >>> from moalign.problems import get_problem
        >>> default_run_name(get_problem("zdt1")(), "nsga2")
        'zdt1-nsga2'
    """
    what = problem.name
    if what in GENERIC_PROBLEM_NAMES:
        what = "+".join(problem.objectives.names)
    return f"{what}-{solver_name}"[:MAX_RUN_NAME]


def override_run_name(base: str, overrides: Sequence[str], smoke: bool = False) -> str:
    """A recipe run's name: the recipe's name, ``smoke`` with ``--smoke``, then each
    ``--set`` override as given (``name=`` overrides are the name itself, not added).

    Example:
        >>> override_run_name("drw-tiny", ["seed=3", "solver.config.mode=gradient"])
        'drw-tiny seed=3 solver.config.mode=gradient'
    """
    parts = [base, *(["smoke"] if smoke else [])]
    parts += [o.strip() for o in overrides if o.partition("=")[0].strip() != "name"]
    return " ".join(p for p in parts if p)[:MAX_RUN_NAME]

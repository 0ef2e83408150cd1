"""The problem registry (factories ``fn(**params) -> Problem``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from moalign.core.registry import Registry

PROBLEMS: Registry[Callable[..., Any]] = Registry("problem", "moalign.problems", builtins={
    **{f"zdt{i}": "moalign.problems.zdt" for i in (1, 2, 3, 4, 6)},
    **{f"dtlz{i}": "moalign.problems.dtlz" for i in range(1, 8)},
    "vlmop2": "moalign.problems.vlmop",
    **{name: "moalign.problems.re" for name in ("re21", "re33", "re37")},
    "reaction": "moalign.problems.reaction",
    "hypergrid": "moalign.problems.hypergrid",
    "ngrams": "moalign.problems.ngrams",
    "text": "moalign.llm.problem",
})
register_problem = PROBLEMS.register


def get_problem(name: str, base_dir: str | Path | None = None) -> Callable[..., Any]:
    """Problem factory by registered name, ``module:function`` or ``file.py:function``
    (relative to ``base_dir``)."""
    return PROBLEMS.get(name, base_dir)

"""Solvers and their registry. Built-ins are imported lazily, on first lookup by name."""

from moalign.solvers.base import SOLVERS, Result, Solver, get_solver, register_solver
from moalign.solvers.context import Budget, Checkpoint, RunContext

__all__ = [
    "SOLVERS",
    "Budget",
    "Checkpoint",
    "Result",
    "RunContext",
    "Solver",
    "get_solver",
    "register_solver",
]

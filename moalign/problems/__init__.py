"""Benchmark problems and the problem registry.

A registered problem is a factory ``fn(**params) -> Problem``. Recipes name one by its
registered name, ``package.module:function`` or ``path/to/file.py:function``.
"""

from moalign.problems.registry import PROBLEMS, get_problem, register_problem

__all__ = ["PROBLEMS", "get_problem", "register_problem"]

"""Random search: uniform samples from the decision space, the floor every solver must beat.

Update rule: at each step draw ``b = min(batch_size, remaining budget)`` points
``x_i ~ U(space)`` with ``space.sample(ctx.rng, b)`` and record them. Works on any space
that can be sampled (``Box``, ``Sequence``, ``Discrete``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from moalign.solvers.base import Result, Solver, register_solver

if TYPE_CHECKING:
    from moalign.core.problem import Problem
    from moalign.solvers.context import RunContext


@dataclass(frozen=True)
class RandomSearchConfig:
    """Options of :class:`RandomSearch`.

    Attributes:
        batch_size: points drawn per step (one step = one record).
    """

    batch_size: int = 10

    def __post_init__(self) -> None:
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {self.batch_size}")


@register_solver("random")
class RandomSearch(Solver[RandomSearchConfig]):
    """Uniform random sampling of the decision space.

    Stateless apart from ``ctx.rng``, which the runner checkpoints and restores, so resume
    needs no solver state.

    Example:
        >>> import numpy as np
        >>> from moalign.core import Box, Problem
        >>> from moalign.solvers import Budget, RunContext
        >>> p = Problem(Box([0], [1]), [lambda x: x[:, 0], lambda x: 1 - x[:, 0]])
        >>> ctx = RunContext(p, Budget(evaluations=7), seed=0)
        >>> RandomSearch(batch_size=3).solve(p, ctx).archive.n_evals
        7
    """

    Config = RandomSearchConfig

    def solve(self, problem: Problem, ctx: RunContext) -> Result:
        cfg = self.config
        while not ctx.should_stop():
            n = ctx.batch_size(cfg.batch_size)
            ctx.evaluate(problem.space.sample(ctx.rng, n))
            ctx.save_state({"step": ctx.step})
        return Result(ctx.archive)

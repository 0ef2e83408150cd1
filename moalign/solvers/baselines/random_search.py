"""Random search: uniform samples from the decision space, the floor every solver must beat.

Update rule: at each step draw ``b = min(batch_size, remaining budget)`` points
``x_i ~ U(space)`` with ``space.sample(ctx.rng, b)`` and record them. Works on any space
that can be sampled (``Box``, ``Sequence``, ``Discrete``).

Asynchronous batches: the points never depend on results, so with ``in_flight`` > 1 the
next batches are drawn and submitted (``ctx.submit``) before the current one is recorded;
on parallel workers (``evaluation`` in a recipe, ``executor=`` in ``optimize``) the workers
left idle by a batch's last chunks start on the next. Batches are drawn from ``ctx.rng``
and recorded in the same order as with ``in_flight: 1``, so the archive is the same.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING

from moalign.solvers.base import Result, Solver, register_solver

if TYPE_CHECKING:
    from moalign.core.problem import Problem
    from moalign.solvers.context import RunContext, Submitted


@dataclass(frozen=True)
class RandomSearchConfig:
    """Options of :class:`RandomSearch`.

    Attributes:
        batch_size: points drawn per step (one step = one record).
        in_flight: batches being evaluated at once (see the module docstring); 2 keeps
            parallel workers busy while a batch's last points finish; 1 evaluates one batch
            at a time. Same seed, same archive either way.
    """

    batch_size: int = 10
    in_flight: int = 1

    def __post_init__(self) -> None:
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {self.batch_size}")
        if self.in_flight < 1:
            raise ValueError(f"in_flight must be >= 1, got {self.in_flight}")


@register_solver("random")
class RandomSearch(Solver[RandomSearchConfig]):
    """Uniform random sampling of the decision space.

    Stateless apart from ``ctx.rng``, which the runner checkpoints and restores, and the
    batches drawn but not yet recorded (with ``in_flight`` > 1), which the checkpoint keeps
    and a resumed run submits first.

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
        state = ctx.load_state() or {}
        queue: deque[Submitted] = deque(ctx.submit(X) for X in state.get("pending", []))
        while True:
            while len(queue) < cfg.in_flight and ctx.may_submit():
                n = ctx.batch_size(cfg.batch_size)
                queue.append(ctx.submit(problem.space.sample(ctx.rng, n)))
            if not queue:
                break
            ctx.collect(queue.popleft())
            stopping = ctx.should_stop()
            if stopping:  # drawn, not recorded: kept for a resumed run
                queue.clear()
                pending = ctx.drop_in_flight()
            else:
                pending = [s.X for s in queue]
            ctx.save_state({"step": ctx.step, "pending": pending})
            if stopping:
                break
        return Result(ctx.archive)

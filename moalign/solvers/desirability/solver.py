"""The registered ``desirability`` solver: maximize the overall desirability D.

Each objective value ``f_r(x)`` is mapped to ``d_r`` by a desirability function (Derringer
& Suich, *J. Quality Technology* 12(4), 1980) and the solver maximizes
``D(x) = (prod_r d_r)^(1/R)`` (optionally weighted). How it searches is a strategy object
chosen once from ``config.method`` through :data:`STRATEGIES` (or injected):
:class:`~moalign.solvers.desirability.direct.MultiStart` with Nelder–Mead or L-BFGS-B/SLSQP
local searches, or the GP surrogate
:class:`~moalign.solvers.desirability.surrogate.ExpectedImprovementOfD`.

Example:
    >>> from moalign.problems.reaction import reaction
    >>> from moalign.solvers import Budget, RunContext
    >>> p = reaction()
    >>> cfg = {"desirabilities": [{"type": "dmax", "low": 80, "high": 97},
    ...        {"type": "dtarget", "low": 55, "target": 57.5, "high": 60}],
    ...        "method": "bounded", "n_starts": 4}
    >>> res = DesirabilitySolver(cfg).solve(p, RunContext(p, Budget(evaluations=300)))
    >>> round(res.info["best_desirability"], 2)
    0.94
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Protocol

from moalign.solvers.base import Result, Solver, register_solver
from moalign.solvers.desirability.config import DesirabilityConfig, build_overall
from moalign.solvers.desirability.direct import MultiStart
from moalign.solvers.desirability.evaluator import Evaluator
from moalign.solvers.desirability.surrogate import ExpectedImprovementOfD

if TYPE_CHECKING:
    from moalign.core.problem import Problem
    from moalign.solvers.context import RunContext


class Strategy(Protocol):
    """How the solver searches: run until the budget is spent."""

    def run(self, ev: Evaluator, state: object) -> dict[str, object]:
        """Evaluate points through ``ev`` until ``ev.ctx.should_stop()``.

        Args:
            ev: evaluates, records and scores points by D.
            state: the checkpointed state of a resumed run (``ctx.load_state()``), or None.

        Returns:
            Extra entries of ``Result.info``.
        """
        ...


#: ``config.method`` -> the strategy built from the config (the one place a method name
#: is resolved; its keys equal ``config.METHODS``).
STRATEGIES: Mapping[str, Callable[[DesirabilityConfig], Strategy]] = MappingProxyType({
    "nelder-mead": MultiStart.nelder_mead,
    "bounded": MultiStart.bounded,
    "surrogate": ExpectedImprovementOfD,
})


@register_solver("desirability")
class DesirabilitySolver(Solver[DesirabilityConfig]):
    """Maximize the overall desirability D of the problem's objectives.

    See :mod:`moalign.solvers.desirability` for the methods, the region handling and
    resume. The result's ``info`` holds ``best_desirability``, ``best_x``,
    ``best_responses`` (objective name -> value) and ``best_individual`` (objective name ->
    d) of the best evaluated point, ``method``, and the strategy's own entries
    (``n_local_searches`` for the direct methods); the archive's front is the non-dominated
    set of the responses.

    Args:
        config: a :class:`DesirabilityConfig`, a mapping, or None (keywords).
        strategy: the search strategy; None: ``STRATEGIES[config.method](config)``.
        **overrides: config fields.
    """

    Config = DesirabilityConfig

    def __init__(self, config: DesirabilityConfig | Mapping[str, Any] | None = None, /, *,
                 strategy: Strategy | None = None, **overrides: Any) -> None:
        super().__init__(config, **overrides)
        self.strategy: Strategy = strategy or STRATEGIES[self.config.method](self.config)

    def solve(self, problem: Problem, ctx: RunContext) -> Result:
        cfg = self.config
        ev = Evaluator(problem, ctx, build_overall(cfg, problem), cfg.penalty)
        extra = self.strategy.run(ev, ctx.load_state())
        info = ev.best_info()
        info["method"] = cfg.method
        info.update(extra)
        return Result(ctx.archive, info=info)

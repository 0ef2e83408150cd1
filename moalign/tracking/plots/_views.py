"""Which plots a solver gets beyond its front and hypervolume, by registered name.

The plotting code knows solvers only by name and by the metric names they log through
``ctx.record(..., metrics=...)``; it never imports them. A solver whose metrics are worth
curves adds a line to :data:`SOLVER_PLOTS`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType


@dataclass(frozen=True)
class SolverPlots:
    """What a solver's runs draw besides ``front.png`` and ``hypervolume.png``.

    Attributes:
        metrics: logged metrics drawn over steps in ``metrics.png``, one panel each; a
            name ending in ``/`` puts every metric under that prefix in one panel.
        rounds: draw ``rounds.png``, each step's points coloured by step (solvers whose
            steps are rounds of proposals).
    """

    metrics: tuple[str, ...] = ()
    rounds: bool = False


_GFN = SolverPlots(metrics=("eval/pareto_recall", "eval/l1", "eval/hv", "eval/r2",
                            "eval/diversity", "loss"))
_PSL = SolverPlots(metrics=("tch_lcb", "pred_hv", "model_round"), rounds=True)

SOLVER_PLOTS: Mapping[str, SolverPlots] = MappingProxyType({
    "mogfn": _GFN,        # eval/*: the MOGFN evaluation protocol, every eval_every steps
    "op-gfn": _GFN,
    "psl": _PSL,          # one step per round; tch_lcb / pred_hv: the round's training
    "svh-psl": _PSL,
    "psl-grad": SolverPlots(metrics=("loss",), rounds=True),
    "drw": SolverPlots(metrics=("weights/", "meta_reward", "val/pass/")),
    "cgpo": SolverPlots(metrics=("val/pass/", "val/judged/", "train/loss")),
    "desirability": SolverPlots(metrics=("desirability/best", "desirability/step_best")),
})


def solver_plots(name: str) -> SolverPlots:
    """The extra plots of the solver registered as ``name`` (none for unknown names)."""
    return SOLVER_PLOTS.get(name, SolverPlots())

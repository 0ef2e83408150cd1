"""Desirability optimization: maximize the overall desirability D of a problem's objectives.

Each objective value ``f_r(x)`` (user orientation) is mapped to ``d_r`` by a desirability
function (Derringer & Suich 1980; Kuhn's R package ``desirability``) and the solver
maximizes ``D(x) = (prod_r d_r)^(1/R)`` (optionally weighted), see
:mod:`moalign.scalarize.desirability`. One module per job:

* :mod:`~moalign.solvers.desirability.config`: the frozen config and the ``DOverall`` it
  defines for a problem;
* :mod:`~moalign.solvers.desirability.evaluator`: evaluation through the run context,
  scoring by D, the lexicographic merit (``-D`` where ``D > 0``, the summed shortfall on the
  ``D = 0`` plateau, a penalty outside the known design region ``g(x) <= 0``), the
  ``desirability/*`` metrics and the look-up of evaluated points;
* :mod:`~moalign.solvers.desirability.direct`: ``method: nelder-mead`` (default) and
  ``bounded`` (L-BFGS-B, or SLSQP with the region's constraints): multi-start local search
  in unit-cube coordinates, the local search injected into :class:`MultiStart`;
* :mod:`~moalign.solvers.desirability.surrogate`: ``method: surrogate`` (expensive
  responses): one GP per response (:func:`moalign.solvers.gp.fit_gp`, shared with
  ``qnehvi``/``qparego``) and the Monte-Carlo expected improvement of D;
* :mod:`~moalign.solvers.desirability.solver`: the registered solver, which builds its
  strategy once from ``method`` through :data:`STRATEGIES`.

Region. The decision space must be a ``Box``; the problem's constraints are a known design
region: computed directly (assumed cheap), a point outside is never sent to the objectives.
Start points and surrogate candidates are rejection-sampled inside the region.

Failed evaluations (NaN responses) get ``D = 0`` (merit 1) and are dropped from the
surrogate's training data; the archive keeps them as failed.

Checkpoint/resume: every strategy saves its state after every record; a resumed run's
archive equals the uninterrupted one's.
"""

from moalign.solvers.desirability.config import (
    METHODS,
    DesirabilityConfig,
    Method,
    build_overall,
)
from moalign.solvers.desirability.direct import Bounded, LocalSearch, MultiStart, NelderMead
from moalign.solvers.desirability.evaluator import BudgetSpent, Evaluator
from moalign.solvers.desirability.solver import STRATEGIES, DesirabilitySolver, Strategy
from moalign.solvers.desirability.surrogate import ExpectedImprovementOfD

__all__ = [
    "METHODS",
    "STRATEGIES",
    "Bounded",
    "BudgetSpent",
    "DesirabilityConfig",
    "DesirabilitySolver",
    "Evaluator",
    "ExpectedImprovementOfD",
    "LocalSearch",
    "Method",
    "MultiStart",
    "NelderMead",
    "Strategy",
    "build_overall",
]

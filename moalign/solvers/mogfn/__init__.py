"""Multi-objective GFlowNets: MOGFN-PC (``mogfn``) and OP-GFN (``op-gfn``).

Importing this package registers both solvers. See :mod:`moalign.solvers.mogfn.solver`;
the losses (:class:`TrajectoryBalance`, :class:`OrderPreserving`) are objects of
:mod:`moalign.solvers.mogfn.losses`, passed to a solver as ``loss=``.
"""

from moalign.solvers.mogfn.conditions import ConditionPrior, PreferencePrior, Unconditioned
from moalign.solvers.mogfn.evaluation import (
    candidate_metrics,
    evaluate_sampler,
    exact_l1,
    pareto_recall,
    true_pareto_set,
)
from moalign.solvers.mogfn.losses import GFNLoss, LossBatch, OrderPreserving, TrajectoryBalance
from moalign.solvers.mogfn.sampler import ConditionalSampler, Trajectories
from moalign.solvers.mogfn.solver import MOGFN, OPGFN, MOGFNConfig, OPGFNConfig

__all__ = [
    "MOGFN",
    "OPGFN",
    "ConditionPrior",
    "ConditionalSampler",
    "GFNLoss",
    "LossBatch",
    "MOGFNConfig",
    "OPGFNConfig",
    "OrderPreserving",
    "PreferencePrior",
    "Trajectories",
    "TrajectoryBalance",
    "Unconditioned",
    "candidate_metrics",
    "evaluate_sampler",
    "exact_l1",
    "pareto_recall",
    "true_pareto_set",
]

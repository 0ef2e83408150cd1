"""moalign: multi-objective optimization and preference alignment.

Define objectives in Python, run any solver on them, and see every run's Pareto front and
hypervolume in MLflow.

Example:
    >>> import numpy as np
    >>> import moalign
    >>> res = moalign.optimize([lambda x: x[:, 0], lambda x: 1 - np.sqrt(x[:, 0])],
    ...                        solver="random", bounds=[(0, 1)], budget=20, seed=0)
    >>> res.archive.n_evals
    20
"""

from moalign.core import (
    Archive,
    Box,
    Discrete,
    Front,
    Objective,
    ObjectiveSet,
    Problem,
    Sequence,
    Text,
    objective,
)
from moalign.indicators import (
    diversity,
    hv_contributions,
    hypervolume,
    igd,
    igd_plus,
    nondominated_ranks,
    normalized_hypervolume,
    pareto_mask,
    r2,
)
from moalign.recipes.runner import optimize
from moalign.solvers import Budget, Result, RunContext, Solver, get_solver, register_solver

__version__ = "0.1.0"

__all__ = [
    "Archive",
    "Box",
    "Budget",
    "Discrete",
    "Front",
    "Objective",
    "ObjectiveSet",
    "Problem",
    "Result",
    "RunContext",
    "Sequence",
    "Solver",
    "Text",
    "diversity",
    "get_solver",
    "hv_contributions",
    "hypervolume",
    "igd",
    "igd_plus",
    "nondominated_ranks",
    "normalized_hypervolume",
    "objective",
    "optimize",
    "pareto_mask",
    "r2",
    "register_solver",
]

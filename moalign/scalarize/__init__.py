"""Scalarizers (linear, Tchebycheff variants, PBI, worst case), desirability functions
(Derringer & Suich) and preference sampling."""

from moalign.scalarize.desirability import (
    DESIRABILITIES,
    DArb,
    DBox,
    DCategorical,
    Desirability,
    DMax,
    DMin,
    DOverall,
    DTarget,
    desirability_from_dict,
)
from moalign.scalarize.functions import (
    SCALARIZERS,
    augmented_tchebycheff,
    get_scalarizer,
    inverse_weighted_tchebycheff,
    linear,
    pbi,
    register_scalarizer,
    smooth_tchebycheff,
    weighted_tchebycheff,
    worst_case,
)
from moalign.scalarize.preferences import dirichlet, simplex_grid

__all__ = [
    "DESIRABILITIES",
    "SCALARIZERS",
    "DArb",
    "DBox",
    "DCategorical",
    "DMax",
    "DMin",
    "DOverall",
    "DTarget",
    "Desirability",
    "desirability_from_dict",
    "augmented_tchebycheff",
    "dirichlet",
    "get_scalarizer",
    "inverse_weighted_tchebycheff",
    "linear",
    "pbi",
    "register_scalarizer",
    "simplex_grid",
    "smooth_tchebycheff",
    "weighted_tchebycheff",
    "worst_case",
]

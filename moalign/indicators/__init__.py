"""Quality indicators of point sets: hypervolume, Pareto ranking, IGD/IGD+, R2, diversity.

All functions take `n x m` arrays in the user's orientation plus ``maximize`` (a bool or an
`m` bool sequence) and work on the minimization view internally. Hypervolume, Pareto
filtering, ranking and IGD(+) are moocore's C implementations; this module only orients.
This module depends on numpy and moocore only, so every other layer may use it.
"""

from moalign.indicators.distance import diversity, igd, igd_plus, r2
from moalign.indicators.hv import hv_contributions, hypervolume, normalized_hypervolume
from moalign.indicators.pareto import nondominated_ranks, pareto_mask, to_min

__all__ = [
    "diversity",
    "hv_contributions",
    "hypervolume",
    "igd",
    "igd_plus",
    "nondominated_ranks",
    "normalized_hypervolume",
    "pareto_mask",
    "r2",
    "to_min",
]

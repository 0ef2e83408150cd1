"""The chemical reaction of Derringer & Suich (1980) / Myers & Montgomery, in coded units.

G. Derringer, R. Suich. Simultaneous optimization of several response variables.
Journal of Quality Technology 12(4):214–219, 1980; R. H. Myers, D. C. Montgomery,
Response Surface Methodology; the worked example of Kuhn's R package ``desirability``.

Three coded factors ``x = (x1, x2, x3)`` (time, temperature, catalyst) and two fitted
quadratic responses (Myers & Montgomery; see docs/methods.md):

``conversion = 81.09 + 1.0284 x1 + 4.043 x2 + 6.2037 x3 - 1.8366 x1^2 + 2.9382 x2^2
- 5.1915 x3^2 + 2.2150 x1 x2 + 11.375 x1 x3 - 3.875 x2 x3``

``activity = 59.85 + 3.583 x1 + 0.2546 x2 + 2.2298 x3 + 0.83479 x1^2 + 0.07484 x2^2
+ 0.05716 x3^2 - 0.3875 x1 x2 - 0.375 x1 x3 + 0.3125 x2 x3``

Both are exposed as maximized objectives; the desirability workflow puts a target on
activity (``dTarget(55, 57.5, 60)``) and ``dMax(80, 97)`` on conversion.

Regions: ``"cube"`` is the box ``|x_i| <= 1.682`` (the axial distance of the rotatable
central composite design); ``"ball"`` and ``"ball2"`` are the balls ``||x|| <= 1.682`` and
``||x|| <= 2``, given as the box ``[-r, r]^3`` plus the constraint ``g(x) = ||x|| - r <= 0``.

Example:
    >>> import numpy as np
    >>> reaction().evaluate(np.zeros((1, 3))).F.tolist()
    [[81.09, 59.85]]
"""

from __future__ import annotations

from functools import partial

import numpy as np

from moalign.core import Problem
from moalign.problems._common import box_problem, check_batch
from moalign.problems.registry import register_problem

AXIAL = 1.682
_RADIUS = {"cube": AXIAL, "ball": AXIAL, "ball2": 2.0}


def _reaction_F(X: np.ndarray) -> np.ndarray:
    """`n x 2`: (conversion, activity) at coded points `X` (`n x 3`)."""
    X = check_batch(X, 3, "reaction")
    x1, x2, x3 = X.T
    conversion = (
        81.09 + 1.0284 * x1 + 4.043 * x2 + 6.2037 * x3
        - 1.8366 * x1**2 + 2.9382 * x2**2 - 5.1915 * x3**2
        + 2.2150 * x1 * x2 + 11.375 * x1 * x3 - 3.875 * x2 * x3
    )
    activity = (
        59.85 + 3.583 * x1 + 0.2546 * x2 + 2.2298 * x3
        + 0.83479 * x1**2 + 0.07484 * x2**2 + 0.05716 * x3**2
        - 0.3875 * x1 * x2 - 0.375 * x1 * x3 + 0.3125 * x2 * x3
    )
    return np.column_stack([conversion, activity])


def _ball_constraint(X: np.ndarray, radius: float) -> np.ndarray:
    """`n x 1`: ``||x|| - radius`` (feasible where <= 0)."""
    X = check_batch(X, 3, "reaction")
    return (np.linalg.norm(X, axis=1) - radius)[:, None]


@register_problem("reaction")
def reaction(region: str = "cube") -> Problem:
    """The conversion/activity reaction problem on ``region`` in {"cube", "ball", "ball2"}."""
    if region not in _RADIUS:
        raise ValueError(f"reaction: region must be one of {sorted(_RADIUS)}, got {region!r}")
    r = _RADIUS[region]
    constraints = None if region == "cube" else partial(_ball_constraint, radius=r)
    return box_problem(
        f"reaction-{region}",
        np.full(3, -r),
        np.full(3, r),
        _reaction_F,
        ["conversion", "activity"],
        directions=["maximize", "maximize"],
        constraints=constraints,
    )

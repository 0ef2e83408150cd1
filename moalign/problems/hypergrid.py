"""HyperGrid with Branin, Currin, Shubert and Beale rewards (registered as ``hypergrid``).

The multi-objective HyperGrid of Jain et al., "Multi-Objective GFlowNets" (ICML 2023), also
used by Chen & Mauch, "Order-Preserving GFlowNets" (ICLR 2024). A trajectory starts at the
cell ``(0, ..., 0)`` of an ``H^ndim`` grid; actions increment one coordinate (masked at the
edge ``H - 1``) or stop. Every cell is a terminal object; cell `s` maps to
``x = s / (H - 1) * 2 - 1`` in ``[-1, 1]^ndim``.

The rewards are the normalized 2-D test functions of the MOGFN / OP-GFN grid code (all
maximized, values in about ``[0, 1]``), with ``u = x / 2 + 0.5`` in ``[0, 1]^2``:

- ``branin = 1 - B(15 u0 - 5, 15 u1) / 308.13`` (B the Branin function, range
  ``[0.398, 308.13]`` on that square);
- ``currin = (1 - exp(-1 / (2 u1))) * (2300 u0^3 + 1900 u0^2 + 2092 u0 + 60)
  / (100 u0^3 + 500 u0^2 + 4 u0 + 20) / 13.77``;
- ``shubert = (S(-1.5 x0) S(-1.5 x1) + 186.8) / 397`` with
  ``S(t) = sum_{i=1..5} i cos((i + 1) t + i)``;
- ``beale = ((1.5 - x0 + x0 x1)^2 + (2.25 - x0 + x0 x1^2)^2 + (2.625 - x0 + x0 x1^3)^2) / 38.8``.

Difference from the reference grid code: there, reaching the edge forces termination, so
cells with two coordinates at ``H - 1`` are unreachable; here the increment is masked at
the edge and stop is always allowed, so all ``H^ndim`` cells are terminal objects (as in
torchgfn's HyperGrid). These functions are 2-D, so ``ndim`` must be 2.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from moalign.core.compositional import Compositional, CompositionalEnv
from moalign.core.objective import Objective
from moalign.core.problem import Problem
from moalign.indicators import pareto_mask
from moalign.problems.registry import register_problem


def branin(x: np.ndarray) -> np.ndarray:
    """Normalized Branin reward of `n x 2` points in ``[-1, 1]^2`` (maximized, in [0, 1])."""
    x0 = 15.0 * (x[:, 0] / 2 + 0.5) - 5.0
    x1 = 15.0 * (x[:, 1] / 2 + 0.5)
    t1 = x1 - 5.1 / (4 * np.pi**2) * x0**2 + 5 / np.pi * x0 - 6
    t2 = 10 * (1 - 1 / (8 * np.pi)) * np.cos(x0)
    return np.asarray(1.0 - (t1**2 + t2 + 10.0) / 308.13)


def currin(x: np.ndarray) -> np.ndarray:
    """Normalized Currin reward of `n x 2` points in ``[-1, 1]^2`` (maximized, in [0, 1])."""
    u0 = x[:, 0] / 2 + 0.5
    u1 = x[:, 1] / 2 + 0.5
    factor = 1.0 - np.exp(-1.0 / (2.0 * u1 + 1e-10))
    num = 2300 * u0**3 + 1900 * u0**2 + 2092 * u0 + 60
    den = 100 * u0**3 + 500 * u0**2 + 4 * u0 + 20
    return np.asarray(factor * num / den / 13.77)


def shubert(x: np.ndarray) -> np.ndarray:
    """Normalized Shubert reward of `n x 2` points in ``[-1, 1]^2`` (maximized, ~[0, 1])."""
    i = np.arange(1, 6)[None, :]
    s0 = (i * np.cos((i + 1) * (-1.5 * x[:, :1]) + i)).sum(axis=1)
    s1 = (i * np.cos((i + 1) * (-1.5 * x[:, 1:2]) + i)).sum(axis=1)
    return np.asarray((s0 * s1 + 186.8) / 397.0)


def beale(x: np.ndarray) -> np.ndarray:
    """Normalized Beale reward of `n x 2` points in ``[-1, 1]^2`` (maximized, ~[0, 1])."""
    x0, x1 = x[:, 0], x[:, 1]
    val = ((1.5 - x0 + x0 * x1) ** 2 + (2.25 - x0 + x0 * x1**2) ** 2
           + (2.625 - x0 + x0 * x1**3) ** 2)
    return np.asarray(val / 38.8)


FUNCTIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "branin": branin, "currin": currin, "shubert": shubert, "beale": beale,
}


class HyperGridEnv(CompositionalEnv):
    """An ``height^ndim`` grid: actions ``0 .. ndim-1`` increment a coordinate, ``ndim``
    stops. States and terminal objects are `n x ndim` int64 cells.

    Args:
        height: cells per dimension `H` (>= 2).
        ndim: number of dimensions.
    """

    def __init__(self, height: int = 32, ndim: int = 2) -> None:
        if height < 2 or ndim < 1:
            raise ValueError("HyperGridEnv: need height >= 2 and ndim >= 1")
        self.height = int(height)
        self.ndim = int(ndim)
        self.n_actions = self.ndim + 1
        self.state_dim = self.ndim
        self.max_steps = self.ndim * (self.height - 1) + 1

    def initial_states(self, n: int) -> np.ndarray:
        return np.zeros((n, self.ndim), dtype=np.int64)

    def forward_mask(self, states: np.ndarray) -> np.ndarray:
        mask = np.ones((len(states), self.n_actions), dtype=bool)
        mask[:, : self.ndim] = states < self.height - 1
        return mask

    def step(self, states: np.ndarray, actions: np.ndarray) -> np.ndarray:
        out = np.array(states, dtype=np.int64, copy=True)
        out[np.arange(len(out)), actions] += 1
        return out

    def parents(self, state: np.ndarray) -> list[tuple[np.ndarray, int]]:
        out = []
        for i in np.flatnonzero(state > 0):
            p = np.array(state, dtype=np.int64, copy=True)
            p[i] -= 1
            out.append((p, int(i)))
        return out

    def n_parents(self, states: np.ndarray) -> np.ndarray:
        return (np.asarray(states) > 0).sum(axis=1).astype(np.int64)

    def to_objects(self, states: np.ndarray) -> np.ndarray:
        return np.array(states, dtype=np.int64, copy=True)

    def features(self, states: np.ndarray) -> np.ndarray:
        """One-hot encoding of each coordinate: `n x (ndim * H)` float32."""
        n = len(states)
        z = np.zeros((n, self.ndim * self.height), dtype=np.float32)
        cols = np.arange(self.ndim)[None, :] * self.height + np.asarray(states)
        z[np.arange(n)[:, None], cols] = 1.0
        return z

    def all_states(self) -> np.ndarray:
        """All cells in lexicographic order (a topological order of the grid DAG)."""
        grids = np.indices((self.height,) * self.ndim).reshape(self.ndim, -1).T
        return np.ascontiguousarray(grids, dtype=np.int64)

    def sample_objects(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """`n` cells drawn uniformly from the grid."""
        return rng.integers(0, self.height, size=(n, self.ndim), dtype=np.int64)

    def cell_to_x(self, cells: np.ndarray) -> np.ndarray:
        """``x = s / (H - 1) * 2 - 1``."""
        return np.asarray(cells, dtype=np.float64) / (self.height - 1) * 2.0 - 1.0


def _grid_objective(name: str, env: HyperGridEnv) -> Objective:
    fn = FUNCTIONS[name]

    def reward(cells: np.ndarray) -> np.ndarray:
        return fn(env.cell_to_x(np.atleast_2d(cells)))

    reward.__name__ = name
    return Objective(name, reward, direction="maximize", ref=0.0)


@register_problem("hypergrid")
def hypergrid(
    height: int = 32, ndim: int = 2, objectives: Sequence[str] = ("branin", "currin")
) -> Problem:
    """The multi-objective HyperGrid problem.

    Args:
        height: cells per dimension `H`.
        ndim: dimensions (2: the reward functions are 2-D).
        objectives: any non-empty subset of ``branin, currin, shubert, beale``.

    Returns:
        A :class:`Problem` over :class:`Compositional` (``problem.space.env`` is the
        :class:`HyperGridEnv`), all objectives maximized, reference point 0, ideal and nadir
        the exact extremes over the grid, and ``pareto_front()`` the exact front.

    Example:
        >>> p = hypergrid(height=8)
        >>> p.evaluate(np.array([[0, 7]])).F.shape
        (1, 2)
    """
    names = [str(o).lower() for o in objectives]
    unknown = [o for o in names if o not in FUNCTIONS]
    if unknown or not names or len(set(names)) != len(names):
        raise ValueError(f"hypergrid: objectives must be distinct names from "
                         f"{sorted(FUNCTIONS)}, got {list(objectives)}")
    if ndim != 2:
        raise ValueError(f"hypergrid: the reward functions are 2-D; set ndim=2 (got {ndim})")
    env = HyperGridEnv(height, ndim)
    objs = [_grid_objective(n, env) for n in names]
    cells = env.all_states()
    F = np.stack([o(cells) for o in objs], axis=1)
    front = F[pareto_mask(F, maximize=True)]
    return Problem(
        Compositional(env),
        objs,
        ref_point=np.zeros(len(objs)),
        ideal=F.max(axis=0),
        nadir=front.min(axis=0),
        pareto_front=lambda n: front,
        name=f"hypergrid_{height}x{height}_{'_'.join(names)}",
    )

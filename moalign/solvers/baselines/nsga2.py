"""NSGA-II through pymoo's ask/tell interface.

Deb, Pratap, Agarwal & Meyarivan, "A fast and elitist multiobjective genetic algorithm:
NSGA-II", IEEE TEVC 6(2), 2002. pymoo's implementation (Blank & Deb 2020) does the work;
this module only routes its evaluations through the :class:`RunContext`.

Update rule (one generation): binary tournament selection by constrained dominance and
crowding distance, SBX crossover (``eta_c``, ``p_c``), polynomial mutation (``eta_m``); the
offspring are evaluated and merged with the parents, and the next population is the best
``pop_size`` by non-dominated rank, then crowding distance (infeasible points last, by
constraint violation).

Failures and constraints: pymoo sees the minimization view ``objectives.to_min(F)`` and one
aggregated constraint ``g = sum_i max(0, g_i(x))`` (pymoo's own constraint violation), plus
:data:`FAILED_VIOLATION` for a point whose evaluation failed; the objective values of a
failed point are replaced by :data:`FAILED_PENALTY`. So failed points are infeasible, ranked
behind every evaluated point by pymoo's feasibility-first survival, and never selected while
anything else is available; the archive keeps them as NaN.

Randomness: pymoo 0.6 draws everything from ``algorithm.random_state``, a
``numpy.random.Generator`` built in ``setup`` from ``seed``; we pass an integer drawn from
``ctx.rng``. pymoo 0.6.2 does not touch numpy's global RNG (the shared suite checks it).

Checkpoint: the pymoo algorithm object (population, generation counter, its Generator) is
picklable and is handed to ``ctx.save_state`` after every recorded generation; a resumed run
continues from the unpickled copy and reproduces the uninterrupted run exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from moalign.core.space import Box
from moalign.solvers.base import Result, Solver, register_solver

if TYPE_CHECKING:
    from moalign.core.problem import Evaluation, Problem
    from moalign.solvers.context import RunContext

#: objective value (minimization view) given to pymoo for a failed evaluation.
FAILED_PENALTY = 1e12
#: constraint violation given to pymoo for a failed evaluation.
FAILED_VIOLATION = 1e12


@dataclass(frozen=True)
class NSGA2Config:
    """Options of :class:`NSGA2` (pymoo's defaults).

    Attributes:
        pop_size: population size; the first step evaluates this many random points.
        n_offsprings: offspring per generation (None: ``pop_size``).
        crossover_eta: SBX distribution index.
        crossover_prob: SBX probability per mating.
        mutation_eta: polynomial mutation distribution index.
        eliminate_duplicates: drop offspring equal to an existing point.
    """

    pop_size: int = 100
    n_offsprings: int | None = None
    crossover_eta: float = 15.0
    crossover_prob: float = 0.9
    mutation_eta: float = 20.0
    eliminate_duplicates: bool = True

    def __post_init__(self) -> None:
        if self.pop_size < 2:
            raise ValueError(f"pop_size must be >= 2, got {self.pop_size}")
        if self.n_offsprings is not None and self.n_offsprings < 1:
            raise ValueError(f"n_offsprings must be >= 1, got {self.n_offsprings}")
        if not 0.0 <= self.crossover_prob <= 1.0:
            raise ValueError(f"crossover_prob must be in [0, 1], got {self.crossover_prob}")
        if self.crossover_eta <= 0 or self.mutation_eta <= 0:
            raise ValueError("crossover_eta and mutation_eta must be positive")


def _pymoo_problem(space: Box, n_obj: int) -> Any:
    """A pymoo Problem with the box bounds and one aggregated constraint; never evaluated
    by pymoo itself (values come from the RunContext)."""
    from pymoo.core.problem import Problem as PymooProblem

    return PymooProblem(
        n_var=space.dim, n_obj=n_obj, n_ieq_constr=1, xl=space.lower.copy(),
        xu=space.upper.copy(), vtype=float,
    )


def pymoo_values(problem: Problem, ev: Evaluation) -> tuple[np.ndarray, np.ndarray]:
    """The `n x m` minimization view and `n x 1` aggregated constraint pymoo is told.

    Args:
        problem: the moalign problem (for directions).
        ev: an evaluation of `n` points.

    Returns:
        ``(F, G)``: ``F = to_min(ev.F)`` with failed rows set to :data:`FAILED_PENALTY`;
        ``G = sum_i max(0, g_i)`` (0 when there are no constraints) plus
        :data:`FAILED_VIOLATION` on failed rows.
    """
    F = problem.objectives.to_min(ev.F)
    failed = np.asarray(ev.failed, dtype=bool) | ~np.all(np.isfinite(F), axis=1)
    F = np.where(failed[:, None], FAILED_PENALTY, F)
    cv = np.zeros(len(F))
    if ev.G is not None:
        G = np.nan_to_num(np.asarray(ev.G, dtype=np.float64), nan=0.0, posinf=FAILED_VIOLATION)
        cv = np.maximum(G, 0.0).sum(axis=1)
    cv = np.where(failed, cv + FAILED_VIOLATION, cv)
    return F, cv[:, None]


@register_solver("nsga2")
class NSGA2(Solver[NSGA2Config]):
    """NSGA-II (pymoo) on a ``Box`` space, one generation per recorded step.

    Example:
        >>> from moalign.testing import toy_zdt1
        >>> from moalign.solvers import Budget, RunContext
        >>> p = toy_zdt1()
        >>> ctx = RunContext(p, Budget(evaluations=60), seed=0)
        >>> NSGA2(pop_size=20).solve(p, ctx).archive.n_evals
        60
    """

    Config = NSGA2Config

    def _make_algorithm(self, problem: Problem, seed: int) -> Any:
        from pymoo.algorithms.moo.nsga2 import NSGA2 as PymooNSGA2
        from pymoo.core.termination import NoTermination
        from pymoo.operators.crossover.sbx import SBX
        from pymoo.operators.mutation.pm import PM
        from pymoo.operators.sampling.rnd import FloatRandomSampling

        cfg = self.config
        algorithm = PymooNSGA2(
            pop_size=cfg.pop_size,
            n_offsprings=cfg.n_offsprings,
            sampling=FloatRandomSampling(),
            crossover=SBX(eta=cfg.crossover_eta, prob=cfg.crossover_prob),
            mutation=PM(eta=cfg.mutation_eta),
            eliminate_duplicates=cfg.eliminate_duplicates,
        )
        algorithm.setup(
            _pymoo_problem(problem.space, problem.n_obj),  # type: ignore[arg-type]
            seed=seed, termination=NoTermination(), verbose=False,
        )
        return algorithm

    def solve(self, problem: Problem, ctx: RunContext) -> Result:
        from pymoo.problems.static import StaticProblem

        if not isinstance(problem.space, Box):
            raise TypeError(
                f"nsga2 needs a Box space, got {type(problem.space).__name__}; use 'random' "
                f"or a solver for discrete spaces"
            )
        algorithm = ctx.load_state()
        if algorithm is None:
            algorithm = self._make_algorithm(problem, int(ctx.rng.integers(0, 2**31 - 1)))
        while not ctx.should_stop():
            pop = algorithm.ask()
            if pop is None or len(pop) == 0:  # every offspring was a duplicate: give up
                break
            pop = pop[: ctx.batch_size(len(pop))]
            ev = ctx.evaluate(np.asarray(pop.get("X"), dtype=np.float64))
            F, G = pymoo_values(problem, ev)
            algorithm.evaluator.eval(StaticProblem(algorithm.problem, F=F, G=G), pop)
            algorithm.tell(infills=pop)
            ctx.save_state(algorithm)
        return Result(ctx.archive, info={"n_gen": int(algorithm.n_iter or 0)})

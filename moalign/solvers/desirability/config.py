"""The ``desirability`` solver's frozen config and the overall desirability it defines.

The desirability functions are Derringer & Suich's (*J. Quality Technology* 12(4), 1980),
with the names of Kuhn's R package ``desirability``; see
:mod:`moalign.scalarize.desirability`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, get_args

from moalign.scalarize.desirability import (
    DCategorical,
    Desirability,
    DMax,
    DMin,
    DOverall,
    desirability_from_dict,
)

if TYPE_CHECKING:
    from moalign.core.problem import Problem

Method = Literal["nelder-mead", "bounded", "surrogate"]
METHODS: tuple[str, ...] = get_args(Method)


@dataclass(frozen=True)
class DesirabilityConfig:
    """Options of :class:`~moalign.solvers.desirability.solver.DesirabilitySolver`.

    Attributes:
        desirabilities: one mapping per objective, in the problem's order, e.g.
            ``{"type": "dmax", "low": 80, "high": 97}`` (types: dmax, dmin, dtarget, dbox,
            darb; other keys are the constructor's arguments). Empty: built from each
            objective's ``bounds`` (``DMax`` if maximized, ``DMin`` if minimized).
        weights: optional positive weight per objective (weighted geometric mean).
        method: ``"nelder-mead"``, ``"bounded"`` (L-BFGS-B; SLSQP with the problem's
            constraints if it has any) or ``"surrogate"`` (GP + EI on D).
        n_starts: start points per round of the direct methods.
        max_iter: iteration limit of one local search.
        xatol: Nelder–Mead tolerance on the simplex size (unit-cube coordinates).
        fatol: Nelder–Mead tolerance on the merit; L-BFGS-B's ``ftol``.
        initial_step: Nelder–Mead's initial simplex edge, as a fraction of each box side.
        fd_step: L-BFGS-B finite-difference step (unit-cube coordinates).
        penalty: merit per unit of constraint violation outside the region.
        n_initial: surrogate: random points before the first GP (None: ``2 * (d + 1)``).
        n_candidates: surrogate: random candidates scored per step.
        n_restarts: surrogate: best candidates refined by local random search per step.
        local_rounds: surrogate: rounds of that local search (64 perturbations per point).
        mc_samples: surrogate: QMC posterior samples of the expected improvement.
    """

    desirabilities: tuple[dict[str, Any], ...] = ()
    weights: tuple[float, ...] | None = None
    method: Method = "nelder-mead"
    n_starts: int = 8
    max_iter: int = 200
    xatol: float = 1e-6
    fatol: float = 1e-9
    initial_step: float = 0.1
    fd_step: float = 1e-6
    penalty: float = 10.0
    n_initial: int | None = None
    n_candidates: int = 512
    n_restarts: int = 3
    local_rounds: int = 4
    mc_samples: int = 128

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {list(METHODS)}, got {self.method!r}")
        for name in ("n_starts", "max_iter", "n_candidates", "n_restarts", "mc_samples",
                     "local_rounds"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.n_initial is not None and self.n_initial < 2:
            raise ValueError(f"n_initial must be >= 2 (or null), got {self.n_initial}")
        for name in ("xatol", "fatol", "fd_step", "penalty"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)}")
        if not 0 < self.initial_step <= 0.5:
            raise ValueError(f"initial_step must be in (0, 0.5], got {self.initial_step}")
        for i, spec in enumerate(self.desirabilities):
            try:
                d = desirability_from_dict(spec)
            except ValueError as exc:
                raise ValueError(f"desirabilities[{i}]: {exc}") from None
            if isinstance(d, DCategorical):
                raise ValueError(f"desirabilities[{i}]: dcategorical does not apply to "
                                 f"numeric objectives; use darb or dbox")
        if self.weights is not None:
            if self.desirabilities and len(self.weights) != len(self.desirabilities):
                raise ValueError(f"weights has {len(self.weights)} values for "
                                 f"{len(self.desirabilities)} desirabilities")
            if any(not w > 0 for w in self.weights):
                raise ValueError(f"weights must be positive, got {list(self.weights)}")


def build_overall(cfg: DesirabilityConfig, problem: Problem) -> DOverall:
    """The overall desirability ``D = (prod_r d_r)^(1/R)`` (weighted: ``prod_r d_r^(w_r /
    sum w)``) of ``problem``'s objectives, from the config or else from the objectives'
    bounds (Derringer & Suich 1980).

    Raises:
        ValueError: the config's desirabilities do not match the objectives one to one, or
            an objective without bounds needs a desirability.
    """
    objs = list(problem.objectives)
    ds: list[Desirability]
    if cfg.desirabilities:
        if len(cfg.desirabilities) != len(objs):
            raise ValueError(
                f"desirability: {len(cfg.desirabilities)} desirabilities for the "
                f"{len(objs)} objectives {[o.name for o in objs]} of {problem.name}; "
                f"give one per objective, in this order")
        ds = [desirability_from_dict(s) for s in cfg.desirabilities]
    else:
        ds = []
        for o in objs:
            if o.bounds is None:
                raise ValueError(
                    f"desirability: objective {o.name!r} has no bounds; set "
                    f"solver.config.desirabilities (one per objective)")
            lo, hi = o.bounds
            ds.append(DMax(lo, hi) if o.direction == "maximize" else DMin(lo, hi))
    return DOverall(*ds, weights=cfg.weights)

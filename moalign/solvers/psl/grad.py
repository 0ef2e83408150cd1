"""Gradient PSL: Pareto set learning on cheap, differentiable problems.

The set model of Lin et al. (NeurIPS 2022, their synthetic-problem setting) trained on the
true objectives: each step samples `k` preferences ``lambda ~ Dirichlet(1) + 1e-4``, maps
them to ``x_k = h_theta(lambda_k)`` and takes an Adam step on

    L(theta) = mean_k s(f_bar(x_k), lambda_k, z),

with ``s`` any scalarizer of :mod:`moalign.scalarize` injected by name
(``inverse_tchebycheff`` = PSL's dividing convention, ``tchebycheff``,
``smooth_tchebycheff``, ``pbi``, ``augmented_tchebycheff``, ``linear``). Objectives are
taken in the minimization view and, when the problem knows its ideal and nadir points,
normalized to ``f_bar = (f - ideal) / (nadir - ideal)`` with ``z = -ideal_margin``;
otherwise ``f_bar = f`` and ``z`` is the running minimum of the values seen minus the
margin.

Where the gradient comes from (``gradient`` option; ``"auto"`` picks the first that works):

1. ``problem.torch_objectives``, if the problem has it: a callable ``X -> k x m`` tensor
   (user orientation) on a float64 tensor of designs;
2. the objectives' own functions, if they are array-API neutral (called on a torch tensor
   they return a tensor attached to the graph: ``x[:, 0]``, ``x.sum(1)``, ``** 0.5`` work;
   ``np.sqrt`` does not);
3. forward finite differences of the numpy objectives (step ``fd_step`` in unit-cube
   coordinates, backward near the upper bound): ``n + 1`` evaluations per point. Honest
   but ``n`` times dearer; points whose objectives are NaN are left out of the step.

Every ``n_steps`` training steps the solutions of a fixed even preference grid are
evaluated with ``ctx.evaluate`` (one record), so the archive holds the learned set as it
improves and the budget (evaluations or steps) counts those records; the training
evaluations themselves are reported as the metric ``train_evals``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from moalign.core.space import Box
from moalign.scalarize import SCALARIZERS, get_scalarizer, simplex_grid
from moalign.solvers.base import Result, Solver, register_solver
from moalign.solvers.psl._loop import sample_preferences
from moalign.solvers.psl._model import PREF_SHIFT, ParetoSetModel, SetNetwork

if TYPE_CHECKING:
    from moalign.core.problem import Problem
    from moalign.solvers.context import RunContext

_GRADIENTS = ("auto", "autograd", "finite_difference")


@dataclass(frozen=True)
class PSLGradConfig:
    """Options of :class:`PSLGrad`.

    Attributes:
        scalarization: name of a scalarizer in :data:`moalign.scalarize.SCALARIZERS`.
        n_steps: training steps between two records.
        n_pref_update: preferences per step.
        lr: Adam learning rate.
        n_eval: size of the preference grid evaluated at each record.
        ideal_margin: z lies this far below the ideal point (normalized units).
        hidden: width of the network's hidden layers.
        gradient: ``"auto"``, ``"autograd"`` or ``"finite_difference"``.
        fd_step: finite-difference step in unit-cube coordinates.
    """

    scalarization: str = "inverse_tchebycheff"
    n_steps: int = 100
    n_pref_update: int = 10
    lr: float = 1e-3
    n_eval: int = 50
    ideal_margin: float = 0.1
    hidden: int = 256
    gradient: str = "auto"
    fd_step: float = 1e-6

    def __post_init__(self) -> None:
        if self.scalarization not in SCALARIZERS:
            raise ValueError(f"scalarization: unknown {self.scalarization!r}; choose one of "
                             f"{SCALARIZERS.names()}")
        if self.gradient not in _GRADIENTS:
            raise ValueError(f"gradient must be one of {list(_GRADIENTS)}, got "
                             f"{self.gradient!r}")
        for name in ("n_steps", "n_pref_update", "n_eval", "hidden"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.lr <= 0 or self.ideal_margin < 0 or self.fd_step <= 0:
            raise ValueError("lr and fd_step must be > 0, ideal_margin >= 0")


def torch_objectives(problem: Problem) -> Any:
    """A differentiable ``X -> k x m`` (user orientation) for ``problem``, or None.

    Uses ``problem.torch_objectives`` if present, else the objectives' functions if a probe
    call on a torch tensor returns tensors attached to the graph.
    """
    fn = getattr(problem, "torch_objectives", None)
    if callable(fn):
        return fn
    space: Box = problem.space  # type: ignore[assignment]
    fns = [o.fn for o in problem.objectives]

    def stacked(X: torch.Tensor) -> torch.Tensor:
        return torch.stack([torch.as_tensor(f(X)).reshape(-1) for f in fns], dim=1)

    probe = torch.as_tensor(space.from_unit(np.full((2, space.dim), 0.5))).requires_grad_(True)
    try:
        out = stacked(probe)
    except Exception:  # noqa: BLE001 - numpy-only objectives: no autograd
        return None
    return stacked if out.requires_grad and out.shape == (2, problem.n_obj) else None


class _Objectives:
    """Minimization-view, normalized objective values with gradients (either source)."""

    def __init__(self, problem: Problem, cfg: PSLGradConfig) -> None:
        self.problem, self.cfg = problem, cfg
        self.space: Box = problem.space  # type: ignore[assignment]
        self.signs = torch.as_tensor(problem.objectives.signs)
        self.auto = None if cfg.gradient == "finite_difference" else torch_objectives(problem)
        if cfg.gradient == "autograd" and self.auto is None:
            raise ValueError(f"{problem.name}: objectives are not differentiable in torch; "
                             "give the problem a torch_objectives callable or use "
                             "gradient='finite_difference'")
        self.lo: torch.Tensor | None = None
        self.scale: torch.Tensor | None = None
        if problem.ideal is not None and problem.nadir is not None:
            a = problem.objectives.to_min(problem.ideal[None])[0]
            b = problem.objectives.to_min(problem.nadir[None])[0]
            self.lo = torch.as_tensor(np.minimum(a, b))
            self.scale = torch.as_tensor(np.where(np.abs(b - a) > 0, np.abs(b - a), 1.0))
        self.n_evals = 0

    def normalize(self, F: torch.Tensor) -> torch.Tensor:
        if self.lo is None or self.scale is None:
            return F
        return (F - self.lo) / self.scale

    def values_and_jacobian(self, xu: torch.Tensor) -> tuple[torch.Tensor, Any]:
        """Normalized `k x m` values at unit points `xu` (graph to `xu` for autograd;
        else detached values and a `k x m x n` finite-difference Jacobian)."""
        span = torch.as_tensor(self.space.upper - self.space.lower)
        if self.auto is not None:
            F = self.auto(torch.as_tensor(self.space.lower) + xu * span) * self.signs
            self.n_evals += len(xu)
            return self.normalize(F), None
        k, n = xu.shape
        h = self.cfg.fd_step
        base = xu.detach().numpy()
        step = np.where(base + h <= 1.0, h, -h)  # k x n
        pts = np.repeat(base[:, None, :], n + 1, axis=1)
        idx = np.arange(n)
        pts[:, idx + 1, idx] += step
        F = self.problem.objectives(self.space.from_unit(pts.reshape(-1, n)))
        F = self.problem.objectives.to_min(F).reshape(k, n + 1, -1)
        self.n_evals += k * (n + 1)
        F0 = self.normalize(torch.as_tensor(F[:, 0]))
        Fd = self.normalize(torch.as_tensor(F[:, 1:]))  # k x n x m
        jac = ((Fd - F0[:, None, :]) / torch.as_tensor(step)[:, :, None]).transpose(1, 2)
        return F0, jac


def _eval_grid(m: int, n: int) -> np.ndarray:
    parts = 1
    while math.comb(parts + m, m - 1) <= n:
        parts += 1
    return simplex_grid(m, parts)


@register_solver("psl-grad")
class PSLGrad(Solver[PSLGradConfig]):
    """Gradient-based Pareto set learning (see the module docstring).

    Example:
        >>> import numpy as np
        >>> from moalign.core import Box, Objective, Problem
        >>> from moalign.solvers import Budget, RunContext
        >>> p = Problem(Box([0, 0], [1, 1]), [Objective("a", lambda x: x[:, 0]),
        ...             Objective("b", lambda x: 1 - x[:, 0] + x[:, 1])])
        >>> ctx = RunContext(p, Budget(steps=2), seed=0)
        >>> res = PSLGrad(n_steps=5, n_eval=4).solve(p, ctx)
        >>> res.archive.n_evals
        8
    """

    Config = PSLGradConfig

    def solve(self, problem: Problem, ctx: RunContext) -> Result:
        cfg = self.config
        if not isinstance(problem.space, Box):
            raise TypeError(f"{type(problem.space).__name__} space: psl-grad needs a Box")
        objs = _Objectives(problem, cfg)
        scal = get_scalarizer(cfg.scalarization)
        m, n = problem.n_obj, problem.space.dim
        state = ctx.load_state()
        seed = ctx.spawn_seed() if state is None else state["seed"]
        net = SetNetwork(m, n, hidden=cfg.hidden, generator=torch.Generator().manual_seed(seed))
        opt = torch.optim.Adam(net.parameters(), lr=cfg.lr)
        prng = np.random.default_rng(seed)
        z = None
        if state is not None:
            net.load_state_dict(state["net"])
            opt.load_state_dict(state["opt"])
            prng.bit_generator.state = state["prng"]
            z, objs.n_evals = state["z"], state["train_evals"]
        grid = torch.as_tensor(_eval_grid(m, cfg.n_eval)) + PREF_SHIFT
        while not ctx.should_stop():
            loss = 0.0
            with ctx.phase(f"step {ctx.step + 1}: train", total=cfg.n_steps) as phase:
                for _ in range(cfg.n_steps):
                    loss, z = self._step(net, opt, objs, scal, prng, z, m)
                    phase.advance()
            with torch.no_grad():
                X = problem.space.from_unit(net(grid).numpy())
            ctx.evaluate(X[: ctx.batch_size(len(X))],
                         metrics={"loss": loss, "train_evals": float(objs.n_evals)})
            ctx.save_state({"seed": seed, "net": net.state_dict(), "opt": opt.state_dict(),
                            "prng": prng.bit_generator.state, "z": z,
                            "train_evals": objs.n_evals})
        model = ParetoSetModel(net, problem.space.lower, problem.space.upper,
                               problem.objectives.names, problem.objectives.maximize)
        return Result(ctx.archive, model=model, info={"train_evals": objs.n_evals})

    def _step(self, net: SetNetwork, opt: torch.optim.Optimizer, objs: _Objectives,
              scal: Any, prng: np.random.Generator, z: Any, m: int) -> tuple[float, Any]:
        """One Adam step on the mean scalarized loss; returns (loss, updated z)."""
        cfg = self.config
        pref = sample_preferences(prng, cfg.n_pref_update, m)
        xu = net(pref)
        F, jac = objs.values_and_jacobian(xu if objs.auto is not None else xu.detach())
        ok = torch.isfinite(F).all(dim=1)
        if objs.lo is not None:
            zt = torch.full((m,), -cfg.ideal_margin, dtype=torch.float64)
        else:
            seen = F.detach()[ok].min(dim=0).values if ok.any() else None
            cur = None if seen is None else (seen - cfg.ideal_margin).numpy()
            z = cur if z is None else (z if cur is None else np.minimum(z, cur))
            zt = torch.as_tensor(z if z is not None else np.zeros(m))
        opt.zero_grad()
        if not ok.any():
            return float("nan"), z
        if jac is None:
            loss = scal(F[ok], pref[ok], zt).mean()
            loss.backward()
        else:
            Fl = F.clone().requires_grad_(True)
            loss = scal(Fl[ok], pref[ok], zt).mean()
            (dF,) = torch.autograd.grad(loss, Fl)
            u = torch.einsum("km,kmn->kn", torch.nan_to_num(dF), torch.nan_to_num(jac))
            xu.backward(u * ok[:, None])
        opt.step()
        return float(loss.detach()), z

"""MOGFN-PC (``mogfn``) and OP-GFN (``op-gfn``): GFlowNets for multi-objective discrete
problems over a :class:`~moalign.core.compositional.Compositional` space.

Both solvers share one training loop; what differs is injected, chosen once when the
solver is built: the loss (a :class:`~moalign.solvers.mogfn.losses.GFNLoss`, ``loss=``),
the training distribution of the conditioning (ω, β) and the scalarization.

**MOGFN-PC** — Jain et al., "Multi-Objective GFlowNets", ICML 2023. Each training step
draws `n` preferences ``ω ~ Dirichlet(α)`` and exponents β (fixed, or ``Gamma(k, θ)``
clipped to ``beta_max``), samples one trajectory per (ω, β) from the conditional forward
policy with ε-uniform exploration, evaluates the terminal objects (every one is an
objective evaluation, recorded through ``ctx.record``) and takes one Adam step
(grad-norm clipped) on :class:`~moalign.solvers.mogfn.losses.TrajectoryBalance`, trajectory
balance with a conditional log-partition:

    L = mean_i (log Z(ω_i, β_i) + Σ_t log P_F(s_t+1 | s_t; ω_i, β_i)
                - β_i log R(x_i | ω_i) - Σ_t log P_B(s_t | s_t+1))²

with ``log R(x | ω) = log max(ω·R(x), 1e-80)`` (``convex``) or ``Σ_i ω_i log R_i(x)``
(``logconvex``) and ``P_B`` uniform over parents (1 for sequences).

**OP-GFN** — Chen & Mauch, "Order-Preserving GFlowNets", ICLR 2024. No scalarization: the
learned log-reward of a terminal object is the TB parameterization
``log R̂(x) = log Z + Σ log P_F - Σ log P_B`` (unconditional policy), trained with
:class:`~moalign.solvers.mogfn.losses.OrderPreserving`, the cross-entropy between
``softmax_batch(log R̂)`` and the uniform distribution over the batch's non-dominated
samples: ``L = -Σ_i t_i log softmax(log R̂)_i``, ``t_i = 1[x_i non-dominated] /
#non-dominated``. (log Z cancels in the softmax.)

Rewards are the objective values in maximization view and must be non-negative for the
convex reward; points whose evaluation failed (NaN) are recorded but left out of the loss.
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import numpy as np
import torch

from moalign.core.compositional import Compositional, CompositionalEnv
from moalign.scalarize import simplex_grid
from moalign.solvers.base import Result, Solver, register_solver
from moalign.solvers.memo import EvaluationMemo, take
from moalign.solvers.mogfn.conditions import ConditionPrior, PreferencePrior, Unconditioned
from moalign.solvers.mogfn.evaluation import (
    evaluate_sampler,
    exact_l1,
    log_scalarized_reward,
    reward_view,
)
from moalign.solvers.mogfn.losses import GFNLoss, LossBatch, OrderPreserving, TrajectoryBalance
from moalign.solvers.mogfn.sampler import ConditionalSampler, Trajectories

if TYPE_CHECKING:
    from moalign.core.problem import Problem
    from moalign.solvers.context import RunContext


@dataclass(frozen=True)
class GFNConfig:
    """Options shared by ``mogfn`` and ``op-gfn`` (defaults: HyperGrid, docs/methods.md).

    Attributes:
        batch_size: trajectories (= objective evaluations) per training step.
        epsilon: probability of a uniformly random allowed action.
        lr: Adam learning rate of the policy.
        lr_logz: Adam learning rate of log Z.
        grad_clip: gradient-norm clip.
        policy: ``auto`` (Transformer for sequences, else MLP), ``mlp`` or ``transformer``.
        n_hidden: network width.
        n_layers: layers (MLP hidden layers / Transformer blocks).
        n_heads: attention heads of the Transformer.
        n_bins: thermometer bins per conditioning value.
        beta_max: upper end of the β thermometer (sampled β are clipped to it).
        eval_every: evaluate the sampler every this many steps (0: never).
        eval_partitions: simplex-grid resolution of the evaluation.
        eval_samples: samples per preference in the evaluation.
        eval_l1_partitions: simplex-grid resolution for the exact L1 (enumerable spaces).
        reuse_evaluations: evaluate each distinct object once (deterministic objectives):
            a sampled object seen before is trained on with its remembered values and
            costs no evaluation, so the budget counts distinct objects.
        stall_steps: with ``reuse_evaluations``, stop after this many training steps in a
            row that met no new object (the sampler keeps returning known ones).
    """

    batch_size: int = 128
    epsilon: float = 0.01
    lr: float = 1e-2
    lr_logz: float = 1e-2
    grad_clip: float = 10.0
    policy: Literal["auto", "mlp", "transformer"] = "auto"
    n_hidden: int = 64
    n_layers: int = 3
    n_heads: int = 4
    n_bins: int = 50
    beta_max: float = 32.0
    eval_every: int = 0
    eval_partitions: int = 10
    eval_samples: int = 128
    eval_l1_partitions: int = 4
    reuse_evaluations: bool = False
    stall_steps: int = 1000

    def __post_init__(self) -> None:
        if self.stall_steps < 1:
            raise ValueError(f"stall_steps must be >= 1, got {self.stall_steps}")
        if self.batch_size < 1 or self.n_hidden < 1 or self.n_layers < 1 or self.n_bins < 1:
            raise ValueError("batch_size, n_hidden, n_layers and n_bins must be positive")
        if not 0 <= self.epsilon <= 1:
            raise ValueError(f"epsilon must be in [0, 1], got {self.epsilon}")
        if self.lr <= 0 or self.lr_logz <= 0 or self.grad_clip <= 0 or self.beta_max <= 0:
            raise ValueError("lr, lr_logz, grad_clip and beta_max must be positive")
        if self.eval_every < 0:
            raise ValueError("eval_every must be >= 0 (0 turns evaluation off)")


GFNConfigT = TypeVar("GFNConfigT", bound=GFNConfig)


@dataclass(frozen=True)
class MOGFNConfig(GFNConfig):
    """MOGFN-PC options (see :class:`GFNConfig` for the shared ones).

    Attributes:
        alpha: Dirichlet concentration of the training preferences (1.5 grids, 1 sequences).
        beta: fixed reward exponent, or None to sample ``Gamma(beta_shape, beta_scale)``.
        beta_shape: Gamma shape.
        beta_scale: Gamma scale.
        eval_beta: β the evaluation conditions on (default: ``beta`` or the Gamma mean).
        reward_type: ``convex`` or ``logconvex``.
        preference: fixed weights (a single-objective GFlowNet per weight), or None.
        shared_preference: draw one (ω, β) per training step for the whole batch (the
            MOGFN reference code's N-grams setting); False (default): one per trajectory.
    """

    alpha: float = 1.5
    beta: float | None = None
    beta_shape: float = 2.0
    beta_scale: float = 1.0
    eval_beta: float | None = None
    reward_type: Literal["convex", "logconvex"] = "convex"
    preference: tuple[float, ...] | None = None
    shared_preference: bool = False

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.alpha <= 0 or self.beta_shape <= 0 or self.beta_scale <= 0:
            raise ValueError("alpha, beta_shape and beta_scale must be positive")
        if self.beta is not None and self.beta <= 0:
            raise ValueError(f"beta must be positive (or null to sample it), got {self.beta}")
        if self.preference is not None and (min(self.preference) < 0
                                            or abs(sum(self.preference) - 1) > 1e-6):
            raise ValueError(f"preference must be non-negative and sum to 1, "
                             f"got {self.preference}")

    @property
    def default_beta(self) -> float:
        if self.eval_beta is not None:
            return self.eval_beta
        return self.beta if self.beta is not None else self.beta_shape * self.beta_scale


@dataclass(frozen=True)
class OPGFNConfig(GFNConfig):
    """OP-GFN options: the shared ones (:class:`GFNConfig`)."""


def _env_of(problem: Problem) -> CompositionalEnv:
    if not isinstance(problem.space, Compositional):
        raise TypeError(f"{problem.name}: GFlowNet solvers need a Compositional space "
                        f"(moalign.core.compositional), got {type(problem.space).__name__}")
    return problem.space.env


class _Trainer:
    """The training loop of both solvers; the loss, the conditioning prior and the
    scalarization are given (the solver maps its config to them)."""

    def __init__(self, cfg: GFNConfig, problem: Problem, loss: GFNLoss, prior: ConditionPrior,
                 reward_type: str) -> None:
        self.cfg, self.problem, self.loss, self.prior = cfg, problem, loss, prior
        self.env = _env_of(problem)
        self.m = problem.n_obj
        self.reward_type = reward_type
        self.spec = {k: v for k, v in asdict(cfg).items() if k in (
            "policy", "n_hidden", "n_layers", "n_heads", "n_bins", "beta_max")}
        self.spec.update(conditional=loss.conditional, reward_type=reward_type,
                         default_beta=prior.eval_beta)

    def setup(self, ctx: RunContext) -> None:
        state = ctx.load_state()
        seed = 0 if state is not None else ctx.spawn_seed()
        self.model = ConditionalSampler(self.env, self.m, self.spec, init_seed=seed)
        self.opt = torch.optim.Adam([
            {"params": list(self.model.policy.parameters()), "lr": self.cfg.lr},
            {"params": list(self.model.logz.parameters()), "lr": self.cfg.lr_logz}])
        self.gen = torch.Generator().manual_seed(seed + 1)
        self.n_steps = 0
        self.stalled = 0  # training steps in a row without a new object
        self.memo = EvaluationMemo(ctx.archive) if self.cfg.reuse_evaluations else None
        if state is not None:
            self.model.load_state_dict(state["model"])
            self.opt.load_state_dict(state["opt"])
            self.gen.set_state(state["gen"])
            self.n_steps = int(state["n_steps"])
            self.stalled = int(state.get("stalled", 0))

    def snapshot(self) -> dict[str, Any]:
        """The state to checkpoint (references: ``ctx.save_state`` pickles at once)."""
        return {"model": self.model.state_dict(), "opt": self.opt.state_dict(),
                "gen": self.gen.get_state(), "n_steps": self.n_steps, "stalled": self.stalled}

    def loss_batch(self, tr: Trajectories, cond: torch.Tensor, R: np.ndarray,
                   pref: np.ndarray, beta: np.ndarray, rows: np.ndarray) -> LossBatch:
        """The loss inputs of the trajectories ``rows`` (their evaluations succeeded).

        Args:
            tr: the `n` sampled trajectories.
            cond: `n x c` their conditioning.
            R: `n x m` rewards (maximized).
            pref: `n x m` preferences.
            beta: `n` exponents.
            rows: indices of the trajectories to learn from.
        """
        idx = torch.from_numpy(rows)
        return LossBatch(
            log_z=self.model.logz(cond)[idx],
            log_pf=self.model.log_pf(tr, cond)[idx],
            log_pb=torch.from_numpy(tr.log_pb).float()[idx],
            rewards=R[rows],
            log_reward=log_scalarized_reward(R[rows], pref[rows], self.reward_type),
            beta=beta[rows])

    def train_step(self, ctx: RunContext, n: int) -> None:
        pref, beta = self.prior.sample(ctx.rng, n)
        cond = self.model.encode(pref, beta)
        tr = self.model.rollout(cond, self.gen, self.cfg.epsilon)
        X = self.env.to_objects(tr.final)
        if self.memo is None:
            ev, new = self.problem.evaluate(X), np.arange(len(X))
        else:
            ev, new = self.memo.evaluate(self.problem, X, ctx.remaining_evaluations)
            self.stalled = 0 if len(new) else self.stalled + 1
        R = reward_view(self.problem, ev.F)
        ok = ~ev.failed
        metrics: dict[str, float] = {"n_trained": float(ok.sum())}
        if ok.any():
            loss = self.loss(self.loss_batch(tr, cond, R, pref, beta, np.flatnonzero(ok)))
            self.opt.zero_grad()
            loss.backward()
            params = [p for g in self.opt.param_groups for p in g["params"]]
            torch.nn.utils.clip_grad_norm_(params, self.cfg.grad_clip)
            self.opt.step()
            metrics["loss"] = float(loss.detach())
        self.n_steps += 1
        metrics["mean_length"] = float(np.bincount(tr.traj).mean())
        if self.cfg.eval_every and self.n_steps % self.cfg.eval_every == 0:
            with ctx.phase("evaluate the sampler"):
                metrics.update(self.evaluate(seed=self.n_steps))
        if self.memo is None:
            ctx.record(X, ev.F, feasible=ev.feasible, failed=ev.failed, metrics=metrics)
        elif len(new):  # objects met before cost nothing and are not recorded again
            metrics["n_new"] = float(len(new))
            ctx.record(take(X, new), ev.F[new], feasible=ev.feasible[new],
                       failed=ev.failed[new], metrics=metrics)
        ctx.save_state(self.snapshot())

    def evaluate(self, seed: int = 0) -> dict[str, float]:
        """The MOGFN evaluation protocol (docs/methods.md) of the current sampler, outside
        the budget."""
        cfg, model = self.cfg, self.model
        out = evaluate_sampler(
            self.problem, lambda w, n: model.sample(np.repeat(w, n, axis=0), len(w) * n,
                                                    seed=seed),
            n_partitions=cfg.eval_partitions, n_samples=cfg.eval_samples,
            reward_type=self.reward_type)
        if self.env.all_states() is not None and cfg.eval_l1_partitions > 0:
            prefs = simplex_grid(self.m, cfg.eval_l1_partitions)
            out["l1"] = exact_l1(self.problem, model, prefs, float(self.spec["default_beta"]),
                                 self.reward_type)
        return {f"eval/{k}": v for k, v in out.items()}


def _solve(trainer: _Trainer, ctx: RunContext) -> Result:
    trainer.setup(ctx)
    cfg = trainer.cfg
    while not ctx.should_stop() and trainer.stalled < cfg.stall_steps:
        # with reuse, known objects are free: keep full batches, the memo caps new ones
        n = cfg.batch_size if trainer.memo is not None else ctx.batch_size(cfg.batch_size)
        if n <= 0:
            break
        with ctx.phase(f"training step {trainer.n_steps + 1}"):
            trainer.train_step(ctx, n)
    return Result(ctx.archive, model=trainer.model, info={"train_steps": trainer.n_steps})


class _GFNSolver(Solver[GFNConfigT]):
    """What both GFlowNet solvers share: a loss object, injected or the solver's default.

    Args:
        config: a config object or a mapping of its fields (see :class:`Solver`).
        loss: the training loss (default: :meth:`default_loss`).
        **overrides: config fields.
    """

    def __init__(self, config: GFNConfigT | dict[str, Any] | None = None, /, *,
                 loss: GFNLoss | None = None, **overrides: Any) -> None:
        super().__init__(config, **overrides)
        if loss is not None and not isinstance(loss, GFNLoss):
            raise TypeError(f"{self.name}: loss must be a GFNLoss, got {type(loss).__name__}")
        self.loss: GFNLoss = self.default_loss() if loss is None else loss

    @abstractmethod
    def default_loss(self) -> GFNLoss:
        """The loss used when none is injected."""

    @abstractmethod
    def prior(self, n_obj: int) -> ConditionPrior:
        """The training distribution of (ω, β) for a problem with ``n_obj`` objectives."""

    @property
    @abstractmethod
    def reward_type(self) -> str:
        """The scalarization of ``log R(x | ω)`` (training target and evaluation)."""

    def trainer(self, problem: Problem) -> _Trainer:
        """The training loop for ``problem``."""
        return _Trainer(self.config, problem, self.loss, self.prior(problem.n_obj),
                        self.reward_type)

    def solve(self, problem: Problem, ctx: RunContext) -> Result:
        return _solve(self.trainer(problem), ctx)


@register_solver("mogfn")
class MOGFN(_GFNSolver[MOGFNConfig]):
    """Preference-conditioned GFlowNet (MOGFN-PC, Jain et al., ICML 2023).

    Trains with :class:`~moalign.solvers.mogfn.losses.TrajectoryBalance` unless given
    another ``loss``.

    Example:
        >>> from moalign.core import AutoregressiveEnv, Compositional, Objective, Problem
        >>> from moalign.solvers import Budget, RunContext
        >>> class Bits(AutoregressiveEnv):  # 0/1 strings of 1 to 3 letters, padded with -1
        ...     def to_objects(self, states):
        ...         return states[:, 1:]
        >>> ones = Objective("ones", lambda X: (X == 1).mean(axis=1), direction="maximize")
        >>> zeros = Objective("zeros", lambda X: (X == 0).mean(axis=1), direction="maximize")
        >>> problem = Problem(Compositional(Bits(2, 1, 3)), [ones, zeros], ref_point=[0, 0])
        >>> ctx = RunContext(problem, Budget(evaluations=32), seed=0)
        >>> solver = MOGFN(batch_size=16, n_hidden=16, policy="mlp", loss=TrajectoryBalance())
        >>> result = solver.solve(problem, ctx)
        >>> result.model.sample([0.5, 0.5], 4).shape
        (4, 3)
    """

    Config = MOGFNConfig

    def default_loss(self) -> GFNLoss:
        return TrajectoryBalance()

    def prior(self, n_obj: int) -> ConditionPrior:
        cfg = self.config
        return PreferencePrior(n_obj, alpha=cfg.alpha, beta=cfg.beta,
                               beta_shape=cfg.beta_shape, beta_scale=cfg.beta_scale,
                               beta_max=cfg.beta_max, preference=cfg.preference,
                               eval_beta=cfg.default_beta, shared=cfg.shared_preference)

    @property
    def reward_type(self) -> str:
        return self.config.reward_type


@register_solver("op-gfn")
class OPGFN(_GFNSolver[OPGFNConfig]):
    """Order-preserving GFlowNet for Pareto fronts (Chen & Mauch, ICLR 2024).

    Trains an unconditional sampler with
    :class:`~moalign.solvers.mogfn.losses.OrderPreserving` unless given another ``loss``;
    the evaluation scalarizes with ``convex``.
    """

    Config = OPGFNConfig

    def default_loss(self) -> GFNLoss:
        return OrderPreserving()

    def prior(self, n_obj: int) -> ConditionPrior:
        return Unconditioned(n_obj)

    @property
    def reward_type(self) -> str:
        return "convex"

"""Configuration of the ``cgpo`` solver: the solver's options and one entry per task.

A task (CGPO's multi-task stratification) has its prompts, its reward, its judges, its
optimizer and that optimizer's hyperparameters; every task option left unset (null) takes
the solver's value of the same name. Without ``tasks`` the solver trains one task, named
``main``, on the problem's training prompts, objectives and judges.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

OPTIMIZERS = ("crpg", "codpo", "crraft")
Optimizer = Literal["crpg", "codpo", "crraft"]
INHERITED = ("optimizer", "kl_max", "num_samples", "temperature", "beta", "lam",
             "prompts_per_step", "baseline")
"""Task options that default to the solver's value of the same name."""


@dataclass(frozen=True)
class TaskConfig:
    """One task of a multi-task CGPO run.

    Args:
        name: the task's name (metrics are ``train/<name>/...``).
        weight: mixture weight; the step's loss is ``sum_t w_t loss_t`` with the weights
            normalized to sum 1 (0 leaves the task out).
        prompts: the task's prompts, in the text problem's forms (``digits``,
            ``tiny-math``, ``digits:<seed>``, a ``.jsonl`` file, a list); null: the
            problem's training prompts.
        n_prompts: use at most this many of them.
        reward: the reward's terms: names of the problem's objectives or objective specs
            (as in the text problem); null: all of the problem's objectives.
        reward_weights: one weight per term (default 1 each). The reward is
            ``sum_i w_i s_i f_i`` with ``s_i = -1`` for a minimized objective.
        judges: judge specs (as in the text problem); null: the problem's judges;
            ``[]``: none (every sample passes).
        optimizer, kl_max, num_samples, temperature, beta, lam, prompts_per_step,
            baseline: as in :class:`CGPOConfig`; null takes the solver's value.
    """

    name: str
    weight: float = 1.0
    prompts: Any = None
    n_prompts: int | None = None
    reward: tuple[Any, ...] | None = None
    reward_weights: tuple[float, ...] | None = None
    judges: tuple[Any, ...] | None = None
    optimizer: Optimizer | None = None
    kl_max: float | None = None
    num_samples: int | None = None
    temperature: float | None = None
    beta: float | None = None
    lam: float | None = None
    prompts_per_step: int | None = None
    baseline: str | None = None

    def __post_init__(self) -> None:
        _check(bool(self.name) and "/" not in self.name,
               "name must be a non-empty string without '/'")
        _check(self.weight >= 0, "weight must be >= 0")
        if self.reward is not None and self.reward_weights is not None:
            _check(len(self.reward) == len(self.reward_weights),
                   f"reward_weights: {len(self.reward_weights)} weights for "
                   f"{len(self.reward)} reward terms")
        _check(self.optimizer is None or self.optimizer in OPTIMIZERS,
               f"optimizer must be one of {list(OPTIMIZERS)}")

    def resolved(self, solver: CGPOConfig) -> TaskConfig:
        """A copy with every option in :data:`INHERITED` left unset taken from ``solver``."""
        import dataclasses

        fill = {k: getattr(solver, k) for k in INHERITED if getattr(self, k) is None}
        out = dataclasses.replace(self, **fill)
        _check_optimizer_options(out, f"tasks[{self.name}]")
        return out


@dataclass(frozen=True)
class CGPOConfig:
    """Options of constrained generative policy optimization (Xu et al., 2024).

    Args:
        optimizer: ``"crpg"`` (calibrated-regularized policy gradient), ``"codpo"``
            (constrained DPO) or ``"crraft"`` (constrained reward-ranked fine-tuning).
        kl_max: the KL budget (required, > 0): a sample's KL is
            ``max(0, log pi(a|s) - log pi_ref(a|s))`` summed over its tokens.
        num_samples: samples per prompt (``k``; CGPO: 4).
        temperature: sampling temperature (CGPO: 0.9).
        beta: CODPO's DPO temperature (0.1).
        lam: CODPO's weight of the chosen response's per-token NLL (5).
        prompts_per_step: prompts per task per step.
        baseline: the baseline response ``a_base`` of the calibrated reward:
            ``"reference"`` (one sample of the reference policy per prompt, drawn once
            and cached) or the name of a dataset column holding a response.
        learning_rate: Adam step size (constant).
        max_grad_norm: gradient clipping (0: none).
        max_steps: training steps when the budget sets no ``steps``.
        max_completion_length: completion tokens.
        eval_every: validate every this many steps (and at the first and last).
        n_val_samples: samples per validation prompt.
        val_temperature: validation sampling temperature (0: greedy).
        save_every: write the policy, optimizer and caches for resume every this many
            steps (with a run checkpoint folder).
        torch_threads: ``torch.set_num_threads`` while the solver runs (restored after).
        tasks: the tasks (:class:`TaskConfig`); empty: one task ``main`` on the problem.
    """

    kl_max: float | None = None
    optimizer: Optimizer = "crpg"
    num_samples: int = 4
    temperature: float = 0.9
    beta: float = 0.1
    lam: float = 5.0
    prompts_per_step: int = 8
    baseline: str = "reference"
    learning_rate: float = 1e-5
    max_grad_norm: float = 1.0
    max_steps: int = 100
    max_completion_length: int = 64
    eval_every: int = 5
    n_val_samples: int = 2
    val_temperature: float = 1.0
    save_every: int = 5
    torch_threads: int | None = None
    tasks: tuple[TaskConfig, ...] = ()

    def __post_init__(self) -> None:
        _check(self.kl_max is not None,
               "kl_max is required: set the KL budget, e.g. solver.config.kl_max: 2.0 (nats "
               "per sample)")
        _check(self.optimizer in OPTIMIZERS, f"optimizer must be one of {list(OPTIMIZERS)}")
        _check_optimizer_options(self, "config")
        for name in ("learning_rate", "max_steps", "max_completion_length", "eval_every",
                     "n_val_samples", "save_every"):
            _check(getattr(self, name) > 0, f"{name} must be positive")
        _check(self.max_grad_norm >= 0, "max_grad_norm must be >= 0 (0: no clipping)")
        _check(self.val_temperature >= 0, "val_temperature must be >= 0")
        _check(self.torch_threads is None or self.torch_threads > 0,
               "torch_threads must be positive (or null: leave torch's setting)")
        names = [t.name for t in self.tasks]
        dup = sorted({n for n in names if names.count(n) > 1})
        _check(not dup, f"tasks: names must be unique, {dup} repeat")
        if self.tasks:
            _check(sum(t.weight for t in self.tasks) > 0,
                   "tasks: at least one weight must be > 0")
            for t in self.tasks:
                t.resolved(self)

    def task_configs(self) -> list[TaskConfig]:
        """The tasks with their options resolved (one task ``main`` without ``tasks``)."""
        return [t.resolved(self) for t in (self.tasks or (TaskConfig(name="main"),))]


def _check_optimizer_options(c: Any, where: str) -> None:
    _check(c.kl_max is not None and c.kl_max > 0, f"{where}: kl_max must be > 0")
    _check(c.num_samples >= 2, f"{where}: num_samples must be >= 2 (CGPO: 4)")
    _check(c.temperature > 0, f"{where}: temperature must be > 0 (CGPO: 0.9)")
    _check(c.beta > 0, f"{where}: beta must be > 0 (CGPO: 0.1)")
    _check(c.lam >= 0, f"{where}: lam must be >= 0 (CGPO: 5)")
    _check(c.prompts_per_step > 0, f"{where}: prompts_per_step must be positive")
    _check(bool(c.baseline), f"{where}: baseline must be 'reference' or a column name")


def _check(ok: bool, msg: str) -> None:
    if not ok:
        raise ValueError(msg)

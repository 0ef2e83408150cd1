"""Configuration of the ``drw`` solver (validated here: TRL itself fails only at step 1).

The TRL options the solver sets come from one table, :data:`GRPO_FIELDS`: for each
``GRPOConfig`` field, where its value comes from (a :class:`DRWConfig` field, the run, or a
constant). :func:`grpo_args` builds the trainer's arguments from it, and :data:`OWNED`, the
options that ``trl_args`` may not set, is its key set. :data:`TRL_DEFAULT_DIFFERENCES` says,
for every field whose value under the default config differs from TRL's own default, why.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

TRAINERS = ("grpo", "rloo")
LOSS_TYPES = ("grpo", "dr_grpo", "dapo", "bnpo", "cispo", "sapo", "luspo", "vespo")
SCALE_REWARDS = ("group", "batch", "none")
AGGREGATIONS = ("sum_then_normalize", "normalize_then_sum")
GRPO_ONLY = frozenset({"multi_objective_aggregation", "scale_rewards", "loss_type"})
"""Fields of :data:`GRPO_FIELDS` that TRL's ``RLOOConfig`` does not have (``trainer="rloo"``
leaves them out; RLOO's advantages are leave-one-out, mean-centred and not std-scaled)."""

# The two presets: every preset-dependent field left unset (None) takes its value from the
# chosen preset. "moalign" is the default; "reference" runs DRW as the authors' code does
# (yining610/dynamic-reward-weighting, verl): validation after every step, the raw
# hypervolume of unscaled validation vectors whose length coordinate is the mean length in
# tokens (minimized), and the gradient rule log w + lr_t * s / 1e-5 on a band of middle
# layers with no weight floor. docs/alignment.md says why moalign's defaults differ.
PRESETS: Mapping[str, Mapping[str, Any]] = MappingProxyType({
    "moalign": MappingProxyType({"eval_every": 5, "hv_scale": "std", "hv_length": "off",
                                 "eta": 0.5, "rho": "max", "grad_params": "last_layer",
                                 "min_weight": 0.02}),
    "reference": MappingProxyType({"eval_every": 1, "hv_scale": "none", "hv_length": "auto",
                                   "eta": "lr", "rho": 1e-5, "grad_params": "middle",
                                   "min_weight": 0.0}),
})


@dataclass(frozen=True)
class FromConfig:
    """The ``GRPOConfig`` field takes the value of the :class:`DRWConfig` field ``name``."""

    name: str


@dataclass(frozen=True)
class FromRun:
    """The ``GRPOConfig`` field takes a value the solver computes for the run (``name``)."""

    name: str


@dataclass(frozen=True)
class Fixed:
    """The ``GRPOConfig`` field always takes ``value``."""

    value: Any


Source = FromConfig | FromRun | Fixed

# GRPOConfig field -> where drw takes its value. The only list of the TRL options drw sets:
# the trainer's arguments (grpo_args) and the options trl_args may not set (OWNED) both
# come from it.
GRPO_FIELDS: Mapping[str, Source] = MappingProxyType({
    "output_dir": FromRun("output_dir"),
    "max_steps": FromRun("max_steps"),
    "seed": FromRun("seed"),
    "reward_weights": FromRun("reward_weights"),
    "learning_rate": FromConfig("learning_rate"),
    "beta": FromConfig("beta"),
    "temperature": FromConfig("temperature"),
    "num_iterations": FromConfig("num_iterations"),
    "per_device_train_batch_size": FromConfig("per_device_train_batch_size"),
    "gradient_accumulation_steps": FromConfig("gradient_accumulation_steps"),
    "num_generations": FromConfig("num_generations"),
    "max_completion_length": FromConfig("max_completion_length"),
    "multi_objective_aggregation": FromConfig("multi_objective_aggregation"),
    "scale_rewards": FromConfig("scale_rewards"),
    "loss_type": FromConfig("loss_type"),
    "use_cpu": FromConfig("use_cpu"),
    "bf16": FromConfig("bf16"),
    "lr_scheduler_type": FromConfig("lr_scheduler_type"),
    "save_steps": FromConfig("save_every"),
    "save_total_limit": FromConfig("save_total_limit"),
    "save_strategy": Fixed("steps"),   # TRL's default too; save_steps needs it
    "logging_steps": Fixed(1),
    "report_to": Fixed("none"),        # TRL's default too; moalign's tracker logs the run
    "disable_tqdm": Fixed(True),
})

OWNED: frozenset[str] = frozenset(GRPO_FIELDS)
"""``GRPOConfig`` options that drw sets itself; ``trl_args`` may not set them."""

# Why drw's value differs from GRPOConfig's default (TRL 1.16), for every field of
# GRPO_FIELDS whose value under DRWConfig() differs; tests/llm/test_drw_trl_args.py checks
# this list against the installed TRL, and docs/alignment.md repeats it.
TRL_DEFAULT_DIFFERENCES: Mapping[str, str] = MappingProxyType({
    "output_dir": "TRL: 'trainer_output' in the working directory. drw: the run's checkpoint "
                  "folder '<checkpoint dir>/trl' (so a resumed run finds TRL's checkpoint), "
                  "else a temporary folder removed when solve() ends.",
    "max_steps": "TRL: -1 (train num_train_epochs=3 epochs). drw: the budget's steps, else "
                 "max_steps=100; the budget counts training steps.",
    "seed": "TRL: 42. drw: the run's seed, like every moalign solver.",
    "reward_weights": "TRL: None (all 1). drw: the weights it learns (gradient mode: on the "
                      "simplex; hypervolume mode: user weights x m_t), written in place.",
    "learning_rate": "TRL: 1e-6. drw: 1e-5, a larger step for its short default runs "
                     "(max_steps=100); a choice, not a measurement: set it per model.",
    "max_completion_length": "TRL: 512. drw: 64, CPU-sized (the tiny model, tests); set it "
                             "for a real model (recipes/drw_hf.yaml: 256).",
    "use_cpu": "TRL: False. drw: True, so the defaults run on any machine; GPU recipes set "
               "use_cpu: false.",
    "bf16": "TRL: None, which becomes True unless fp16 is set. drw: False (float32), the "
            "CPU default; TRL's True fails without a bf16 GPU unless use_cpu is set. GPU "
            "recipes set bf16: true.",
    "lr_scheduler_type": "TRL: 'linear' (decays to 0 at the last step). drw: 'constant'; "
                         "in a short run the linear decay leaves the last steps with almost "
                         "no step size, and weighting rules then have nothing to act on.",
    "save_steps": "TRL: 500. drw: save_every=5; a TRL checkpoint every 5 steps, and the "
                  "solver state it hands the runner always points at one.",
    "save_total_limit": "TRL: None (keep all). drw: 2, bounding the disk; resume needs >= 1.",
    "logging_steps": "TRL: 10. drw: 1; TRL's training logs recorded with each validation "
                     "vector are the latest step's.",
    "disable_tqdm": "TRL: None (shown unless the log level hides it). drw: True; the runner "
                    "shows its own progress.",
})


def grpo_args(config: DRWConfig, run: Mapping[str, Any]) -> dict[str, Any]:
    """Keyword arguments for TRL's ``GRPOConfig`` (or ``RLOOConfig``, without the fields in
    :data:`GRPO_ONLY`): :data:`GRPO_FIELDS`, then ``trl_args``.

    Args:
        config: the drw config.
        run: the run's values, one per :class:`FromRun` entry (``output_dir``,
            ``max_steps``, ``seed``, ``reward_weights``).

    Returns:
        ``{GRPOConfig field: value}``; ``config.trl_args`` never overlaps the table
        (checked when the config is built).

    Raises:
        KeyError: ``run`` lacks a value the table takes from the run.
    """
    needed = {s.name for s in GRPO_FIELDS.values() if isinstance(s, FromRun)}
    missing = sorted(needed - set(run))
    if missing:
        raise KeyError(f"grpo_args: no run value for {missing}")
    args = {name: _value(source, config, run) for name, source in GRPO_FIELDS.items()
            if config.trainer == "grpo" or name not in GRPO_ONLY}
    return {**args, **config.trl_args}


def _value(source: Source, config: DRWConfig, run: Mapping[str, Any]) -> Any:
    if isinstance(source, FromConfig):
        return getattr(config, source.name)
    if isinstance(source, FromRun):
        return run[source.name]
    return source.value


@dataclass(frozen=True)
class DRWConfig:
    """Options of dynamic reward weighting over TRL's ``GRPOTrainer`` or ``RLOOTrainer``.

    Args:
        mode: ``"fixed"`` (TRL's static weights; the baseline), ``"hypervolume"``
            (meta-reward from the validation hypervolume gain) or ``"gradient"``
            (mirror descent on per-objective gradient influence).
        preset: ``"moalign"`` (default) or ``"reference"`` (the authors' code); gives the
            value of every option below marked *preset* that is left unset
            (:data:`PRESETS`).
        trainer: ``"grpo"`` (TRL's ``GRPOTrainer``) or ``"rloo"`` (``RLOOTrainer``:
            leave-one-out advantages, not std-scaled, so the meta-reward acts on them).
        weights: user weights, one per objective (default: equal). In ``gradient`` mode
            the starting point, normalized to the simplex.
        multi_objective_aggregation: TRL's ``"sum_then_normalize"`` (default) or
            ``"normalize_then_sum"`` (GDPO). GRPO only.
        scale_rewards: TRL's ``"group"``, ``"batch"`` or ``"none"``; ``"auto"`` picks
            ``"none"`` for ``hypervolume`` with ``hv_apply="reward"`` (a constant
            multiplier is cancelled by std scaling) and ``"group"`` otherwise. GRPO only.
        loss_type: TRL loss (``"dapo"``, ``"grpo"``, ``"dr_grpo"``, ...). GRPO only.
        learning_rate, beta, temperature, num_iterations: TRL options.
        lr_scheduler_type: TRL's schedule; ``"constant"`` by default (no decay).
        max_steps: training steps when the budget sets no ``steps``.
        per_device_train_batch_size, gradient_accumulation_steps, num_generations:
            batch shape; batch x accumulation must be divisible by ``num_generations``.
        max_completion_length: completion tokens.
        eval_every: validate (and record a validation vector) every this many steps
            (*preset*: 5; reference 1).
        save_every: TRL checkpoint (and solver state for resume) every this many steps.
        n_val_samples: sampled completions per validation prompt.
        val_temperature: validation sampling temperature (0: greedy).
        hv_apply: how ``hypervolume`` applies ``m_t``: ``"reward"`` multiplies the
            reward weights (the paper's rule; needs advantages without std scaling),
            ``"lr"`` multiplies the optimizer's step size for the step instead (an
            Adam-type optimizer normalizes a constant reward gain away; a step-size gain
            survives).
        hv_scale: *preset*. ``"std"`` divides each coordinate of the validation vectors by
            the per-sample standard deviation of the initial policy's validation values, so
            ΔHV is a product of effect sizes, of order 1 whatever the objectives' units;
            ``"none"`` (reference) uses the raw vectors.
        hv_length: *preset*. The validation coordinate the hypervolume rule replaces by the
            mean completion length in tokens (minimized): an objective's name, ``"auto"``
            (every running-mean conciseness objective, ``length(below="running_mean")``;
            the reference) or ``"off"``. The recorded vectors keep the objectives.
        eta: *preset*. Mirror-descent step size η (``gradient``), or ``"lr"``: the
            learning rate of the step (reference).
        rho: *preset*. Influence scale ρ (``gradient``): a number (reference 1e-5) or
            ``"max"``: ``max_k |s_k|`` (scale-free).
        grad_params: *preset*. Parameters for per-objective gradients: ``"last_layer"``,
            ``"middle"`` (the decoder layers ``round(10L/36)..round(25L/36)`` of ``L``, the
            reference's 10..25 of 36), ``"all"`` or a regular expression on names.
        min_weight: *preset*. Floor on gradient-mode weights (keeps every objective
            alive); 0 disables it (reference).
        weight_update_every: steps between gradient-mode weight updates.
        use_cpu, bf16: device options (CPU defaults).
        torch_threads: ``torch.set_num_threads`` while the solver runs; the previous count
            is restored when it ends (None: leave it).
        output_dir: TRL's output/checkpoint folder (default: ``<run checkpoint dir>/trl``,
            else a temporary folder removed when ``solve`` ends).
        save_total_limit: TRL checkpoints kept.
        trl_args: further ``GRPOConfig``/``RLOOConfig`` options (names checked against TRL;
            the options in :data:`OWNED` are set through the keys above).

    Defaults that differ from TRL's own are listed, with the reason, in
    :data:`TRL_DEFAULT_DIFFERENCES`.
    """

    mode: Literal["fixed", "hypervolume", "gradient"] = "fixed"
    preset: Literal["moalign", "reference"] = "moalign"
    trainer: Literal["grpo", "rloo"] = "grpo"
    weights: tuple[float, ...] | None = None
    multi_objective_aggregation: str = "sum_then_normalize"
    scale_rewards: str = "auto"
    loss_type: str = "dapo"
    learning_rate: float = 1e-5
    lr_scheduler_type: str = "constant"
    beta: float = 0.0
    temperature: float = 1.0
    num_iterations: int = 1
    max_steps: int = 100
    per_device_train_batch_size: int = 8
    gradient_accumulation_steps: int = 1
    num_generations: int = 8
    max_completion_length: int = 64
    eval_every: int | None = None
    save_every: int = 5
    n_val_samples: int = 2
    val_temperature: float = 1.0
    hv_apply: Literal["reward", "lr"] = "reward"
    hv_scale: Literal["std", "none"] | None = None
    hv_length: str | None = None
    eta: float | Literal["lr"] | None = None
    rho: float | Literal["max"] | None = None
    grad_params: str | None = None
    min_weight: float | None = None
    weight_update_every: int = 1
    use_cpu: bool = True
    bf16: bool = False
    torch_threads: int | None = None
    output_dir: str | None = None
    save_total_limit: int | None = 2
    trl_args: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check(self.preset in PRESETS, f"preset must be one of {list(PRESETS)}")
        for name, value in PRESETS[self.preset].items():
            if getattr(self, name) is None:
                object.__setattr__(self, name, value)
        _check(self.trainer in TRAINERS, f"trainer must be one of {list(TRAINERS)}")
        _check(self.loss_type in LOSS_TYPES, f"loss_type must be one of {list(LOSS_TYPES)}")
        _check(self.scale_rewards in (*SCALE_REWARDS, "auto"),
               f"scale_rewards must be one of {[*SCALE_REWARDS, 'auto']}")
        _check(self.multi_objective_aggregation in AGGREGATIONS,
               f"multi_objective_aggregation must be one of {list(AGGREGATIONS)}")
        on_reward = self.mode == "hypervolume" and self.hv_apply == "reward"
        if self.scale_rewards == "auto":
            object.__setattr__(self, "scale_rewards", "none" if on_reward else "group")
        if on_reward and self.trainer == "grpo":
            _check(self.scale_rewards == "none"
                   and self.multi_objective_aggregation == "sum_then_normalize",
                   "mode='hypervolume' multiplies the reward by m_t; std-normalized "
                   "advantages cancel a constant multiplier, so it needs scale_rewards='none' "
                   "and multi_objective_aggregation='sum_then_normalize' (RLOO/REINFORCE-style "
                   "mean-centred advantages), or trainer='rloo'")
        _check(self.num_generations >= 2, "num_generations must be >= 2")
        _check((self.per_device_train_batch_size * self.gradient_accumulation_steps)
               % self.num_generations == 0,
               "per_device_train_batch_size x gradient_accumulation_steps must be divisible "
               "by num_generations")
        for name in ("learning_rate", "max_steps", "eval_every", "save_every", "n_val_samples",
                     "max_completion_length", "num_iterations", "weight_update_every"):
            _check(getattr(self, name) > 0, f"{name} must be positive")
        _check(self.hv_scale in ("std", "none"), "hv_scale must be 'std' or 'none'")
        _check(self.eta == "lr" or (isinstance(self.eta, int | float) and self.eta >= 0),
               "eta must be a number >= 0 or 'lr' (the step's learning rate)")
        _check(self.rho == "max" or (isinstance(self.rho, int | float) and self.rho > 0),
               "rho must be a positive number or 'max' (max_k |s_k|, scale-free)")
        _check(isinstance(self.min_weight, int | float) and 0 <= self.min_weight < 1,
               "min_weight must be in [0, 1)")
        if self.weights is not None:
            _check(all(w >= 0 for w in self.weights) and sum(self.weights) > 0,
                   "weights must be non-negative with a positive sum")
        _check(self.torch_threads is None or self.torch_threads > 0,
               "torch_threads must be positive (or null: leave torch's setting)")
        if self.trainer == "rloo":
            changed = sorted(f for f, v in _GRPO_ONLY_DEFAULTS.items() if getattr(self, f) != v)
            _check(not changed, f"trainer='rloo': {changed} are GRPOTrainer options; RLOO's "
                                "advantages are leave-one-out, mean-centred, not std-scaled")
        bad = sorted(set(self.trl_args) & OWNED)
        _check(not bad, f"trl_args: set {bad} through the drw config keys instead")
        unknown = sorted(set(self.trl_args) - _trl_fields(self.trainer)) if self.trl_args else []
        _check(not unknown, f"trl_args: {unknown} are not {self.trainer.upper()}Config options")

    @property
    def eval_steps(self) -> int:
        """``eval_every`` as an int (the preset has filled it in)."""
        return int(self.eval_every or 1)


def _check(ok: bool, msg: str) -> None:
    if not ok:
        raise ValueError(msg)


# GRPO-only options that trainer="rloo" refuses when changed (scale_rewards is resolved
# from "auto" and ignored under RLOO)
_GRPO_ONLY_DEFAULTS = {"multi_objective_aggregation": "sum_then_normalize", "loss_type": "dapo"}


def _trl_fields(trainer: str) -> set[str]:
    import dataclasses

    from trl import GRPOConfig, RLOOConfig

    cls = RLOOConfig if trainer == "rloo" else GRPOConfig
    return {f.name for f in dataclasses.fields(cls)}

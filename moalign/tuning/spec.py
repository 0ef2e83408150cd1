"""The ``tune:`` block of a recipe: search space, target, sampler, pruner, heartbeat.

Validated into frozen dataclasses with path-named errors (unknown keys are errors), like
the rest of the recipe::

    tune:
      study_name: zdt1-random        # default: the recipe's name
      n_trials: 20
      target: hypervolume            # or {type: objectives, metrics: {...}}
                                     # or {type: desirability, metrics: {...}}
      sampler: {name: tpe, seed: 0}  # tpe | nsga2 | random | auto; other keys go to Optuna
      pruner: {name: median, n_startup_trials: 3}   # median | hyperband | successive_halving | none
      params:
        solver.config.batch_size: {type: int, low: 2, high: 20}
        solver.config.lr: {type: float, low: 1.0e-4, high: 1.0e-1, log: true}
        solver.config.scalarizer: {type: categorical, choices: [linear, tchebycheff]}

Each key of ``params`` is a dotted recipe path (as ``--set`` takes); the sampled value is
applied to the recipe with :func:`moalign.recipes.loader.apply_overrides` before the run.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from moalign.core.config import ConfigError, build_config, short_repr
from moalign.tuning.parts import PRUNERS, SAMPLERS

#: Recipe sections whose values are not run settings and cannot be tuned.
UNTUNABLE = ("tune", "smoke", "tracking", "checkpoint", "name")
TARGETS = ("hypervolume", "objectives", "desirability")
DIRECTIONS = ("maximize", "minimize")


@dataclass(frozen=True)
class ParamSpec:
    """One search-space dimension, as Optuna's ``suggest_*`` takes it.

    Attributes:
        type: ``float``, ``int`` or ``categorical``.
        low, high: inclusive bounds (numbers; integers for ``int``).
        step: discretization step (not with ``log``).
        log: sample on a log scale (``low > 0``).
        choices: the values of a ``categorical`` parameter (null, bool, int, float, str).
    """

    type: Literal["float", "int", "categorical"]
    low: float | None = None
    high: float | None = None
    step: float | None = None
    log: bool = False
    choices: list[Any] | None = None

    def __post_init__(self) -> None:
        if self.type == "categorical":
            if self.low is not None or self.high is not None or self.step is not None \
                    or self.log:
                raise ValueError("a categorical parameter takes only choices")
            if not self.choices:
                raise ValueError("choices: give at least one value")
            for c in self.choices:
                if c is not None and not isinstance(c, bool | int | float | str):
                    raise ValueError(f"choices: {c!r} is not null, bool, number or string")
            return
        if self.choices is not None:
            raise ValueError(f"choices: only for categorical parameters, this one is {self.type}")
        if self.low is None or self.high is None:
            raise ValueError(f"a {self.type} parameter needs low and high")
        if not (math.isfinite(self.low) and math.isfinite(self.high) and self.low < self.high):
            raise ValueError(f"need finite low < high, got low={self.low}, high={self.high}")
        if self.log and self.step is not None:
            raise ValueError("step: cannot be combined with log (Optuna's rule)")
        if self.log and self.low <= 0:
            raise ValueError(f"log: needs low > 0, got {self.low}")
        if self.step is not None and self.step <= 0:
            raise ValueError(f"step: must be positive, got {self.step}")
        if self.type == "int":
            for name in ("low", "high", "step"):
                v = getattr(self, name)
                if v is not None and v != int(v):
                    raise ValueError(f"{name}: an int parameter needs an integer, got {v}")

    def suggest(self, trial: Any, name: str) -> Any:
        """Draw this parameter from an ``optuna.Trial`` under ``name``."""
        if self.type == "categorical":
            return trial.suggest_categorical(name, list(self.choices or []))
        assert self.low is not None and self.high is not None
        if self.type == "int":
            return trial.suggest_int(name, int(self.low), int(self.high),
                                     step=int(self.step or 1), log=self.log)
        return trial.suggest_float(name, self.low, self.high, step=self.step, log=self.log)

    def extremes(self) -> list[Any]:
        """Values that bound what the sampler can produce (used to validate the path)."""
        if self.type == "categorical":
            return list(self.choices or [])
        assert self.low is not None and self.high is not None
        if self.type == "int":
            return [int(self.low), int(self.high)]
        return [self.low, self.high]


@dataclass(frozen=True)
class TargetSpec:
    """What a trial returns to Optuna.

    Attributes:
        type: ``hypervolume`` (maximize the run's final hypervolume), ``objectives``
            (one study objective per named run metric: a multi-objective study when
            there are several) or ``desirability`` (maximize the overall desirability D
            of named run metrics).
        metrics: for ``objectives``, ``{metric: maximize | minimize}`` (default: each
            problem objective's ``<name>/best`` in its own direction); for
            ``desirability``, ``{metric: {type: dmax | dmin | dtarget | dbox | darb |
            dcategorical, ..., weight: w}}``.
    """

    type: Literal["hypervolume", "objectives", "desirability"] = "hypervolume"
    metrics: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.type == "hypervolume" and self.metrics:
            raise ValueError("metrics: the hypervolume target takes no metrics")
        if self.type == "desirability" and not self.metrics:
            raise ValueError("metrics: name the run metrics and their desirability "
                             "functions, e.g. {accuracy/mean: {type: dmax, low: 0.8, high: 1}}")


@dataclass(frozen=True)
class ComponentSpec:
    """A sampler or pruner: its ``name`` and the keyword arguments of its Optuna class."""

    name: str
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class HeartbeatSpec:
    """What happens to a trial whose process dies (docs/tuning.md, "When a worker dies").

    Attributes:
        interval, grace_period: Optuna's heartbeat of RDB storages (seconds; default
            grace period: twice the interval): any worker fails a trial whose heartbeat
            is older than ``grace_period``.
        max_retry: how many times the parameters of such a trial, or of a local worker's
            trial when the worker dies, are queued again (every storage).
    """

    interval: int = 60
    grace_period: int | None = None
    max_retry: int = 1

    def __post_init__(self) -> None:
        if self.interval < 1:
            raise ValueError(f"interval: must be >= 1 second, got {self.interval}")
        if self.grace_period is not None and self.grace_period <= self.interval:
            raise ValueError("grace_period: must exceed interval")
        if self.max_retry < 0:
            raise ValueError("max_retry: must be >= 0")


@dataclass(frozen=True)
class TuneSpec:
    """The validated ``tune:`` block (see the module docstring)."""

    params: dict[str, ParamSpec]
    target: TargetSpec = field(default_factory=TargetSpec)
    sampler: ComponentSpec = field(default_factory=lambda: ComponentSpec("auto"))
    pruner: ComponentSpec = field(default_factory=lambda: ComponentSpec("median"))
    n_trials: int = 20
    study_name: str | None = None
    heartbeat: HeartbeatSpec = field(default_factory=HeartbeatSpec)


@dataclass(frozen=True)
class _TuneFields:
    params: dict[str, Any]
    target: Any = "hypervolume"
    sampler: Any = "auto"
    pruner: Any = "median"
    n_trials: int = 20
    study_name: str | None = None
    heartbeat: dict[str, Any] = field(default_factory=dict)


def parse_tune_spec(raw: Mapping[str, Any] | None, path: str = "tune") -> TuneSpec:
    """Validate a recipe's ``tune:`` mapping.

    Raises:
        ConfigError: naming the path of the bad key or value and the fix.

    Example:
        >>> spec = parse_tune_spec({"params": {"seed": {"type": "int", "low": 0, "high": 9}}})
        >>> spec.params["seed"].type, spec.target.type, spec.pruner.name
        ('int', 'hypervolume', 'median')
    """
    if raw is None:
        raise ConfigError(f"{path}: the recipe has no tune: block; add one with params: and "
                          "target: (see docs/tuning.md)")
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{path}: expected a mapping, got {raw!r}")
    top = build_config(_TuneFields, raw, path=path)
    if not top.params:
        raise ConfigError(f"{path}.params: give at least one parameter to tune")
    params: dict[str, ParamSpec] = {}
    for key, value in top.params.items():
        p = f"{path}.params.{key}"
        if not isinstance(key, str) or not key:
            raise ConfigError(f"{p}: parameter names are dotted recipe paths")
        if key.split(".")[0] in UNTUNABLE:
            raise ConfigError(f"{p}: {key.split('.')[0]}.* cannot be tuned; tune run settings "
                              "such as solver.config.*, problem.params.*, budget.*, seed")
        if not isinstance(value, Mapping):
            raise ConfigError(f"{p}: expected {{type: float | int | categorical, ...}}")
        params[key] = build_config(ParamSpec, value, path=p)
    if top.n_trials < 1:
        raise ConfigError(f"{path}.n_trials: must be >= 1, got {top.n_trials}")
    target = top.target
    if isinstance(target, str):
        target = {"type": target}
    if not isinstance(target, Mapping):
        raise ConfigError(f"{path}.target: expected one of {list(TARGETS)} or a mapping")
    target_spec = build_config(TargetSpec, target, path=f"{path}.target")
    _check_target_metrics(target_spec, f"{path}.target.metrics")
    return TuneSpec(
        params=params,
        target=target_spec,
        sampler=_component(top.sampler, ("auto", *SAMPLERS.names()), f"{path}.sampler"),
        pruner=_component(top.pruner, ("median", *PRUNERS.names()), f"{path}.pruner"),
        n_trials=top.n_trials,
        study_name=top.study_name,
        heartbeat=build_config(HeartbeatSpec, top.heartbeat, path=f"{path}.heartbeat"),
    )


def _check_target_metrics(spec: TargetSpec, path: str) -> None:
    if spec.type == "objectives":
        for name, direction in spec.metrics.items():
            if direction not in DIRECTIONS:
                raise ConfigError(f"{path}.{name}: expected maximize or minimize, "
                                  f"got {direction!r}")
    elif spec.type == "desirability":
        for name, d in spec.metrics.items():
            desirability_of(d, f"{path}.{name}")


def desirability_of(d: Any, path: str) -> tuple[Any, float]:
    """Build ``(desirability function, weight)`` from a recipe mapping."""
    from moalign.scalarize.desirability import desirability_from_dict

    if not isinstance(d, Mapping):
        raise ConfigError(f"{path}: expected {{type: dmax | dmin | dtarget | ..., ...}}")
    kwargs = dict(d)
    weight = kwargs.pop("weight", 1.0)
    if isinstance(weight, bool) or not isinstance(weight, int | float) or not weight > 0:
        raise ConfigError(f"{path}.weight: must be a positive number, got {weight!r}")
    try:
        return desirability_from_dict(kwargs), float(weight)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{path}: {exc}") from None


def _component(raw: Any, names: tuple[str, ...], path: str) -> ComponentSpec:
    """``names[0]`` is the default; the others are the registered names."""
    if isinstance(raw, str):
        raw = {"name": raw}
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{path}: expected a name ({', '.join(names)}) or a mapping")
    options = dict(raw)
    name = options.pop("name", names[0])
    valid = list(dict.fromkeys(names))
    if name not in valid:
        raise ConfigError(f"{path}.name: {short_repr(name)} is not one of {valid}")
    return ComponentSpec(name, options)


def check_options(cls: Any, options: Mapping[str, Any], path: str,
                  exclude: tuple[str, ...] = ()) -> None:
    """Unknown keyword arguments of an Optuna sampler or pruner class are errors."""
    sig = inspect.signature(cls.__init__)
    valid = [n for n, p in sig.parameters.items()
             if n != "self" and n not in exclude
             and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    for key in options:
        if key not in valid:
            raise ConfigError(f"{path}.{key}: not an option of {cls.__name__}; valid: {valid}")

"""The recipe schema: frozen dataclasses validated from YAML (unknown keys are errors)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from moalign.solvers.context import Budget


@dataclass(frozen=True)
class ProblemSpec:
    """``name``: registered name, ``package.module:function`` or ``path/file.py:function``
    (relative to the recipe); ``params``: keyword arguments of that factory;
    ``ref_point``: the hypervolume reference point (a list, one value per objective, user
    orientation) or a policy (``auto``, ``nadir``, ``initial``), replacing the problem's;
    None keeps the problem's (see :mod:`moalign.tracking.reference`)."""

    name: str
    params: dict[str, Any] = field(default_factory=dict)
    ref_point: list[float] | str | None = None

    def __post_init__(self) -> None:
        policies = ("auto", "nadir", "initial")
        if isinstance(self.ref_point, str) and self.ref_point not in policies:
            raise ValueError(f"ref_point must be a list of numbers or one of {list(policies)},"
                             f" got {self.ref_point!r}")


@dataclass(frozen=True)
class SolverSpec:
    """``name``: registered solver, ``package.module:Class`` or ``path/file.py:Class``
    (relative to the recipe); ``config``: that solver's ``Config``.

    In YAML ``config`` is a mapping of the Config's fields; the loader builds it into the
    solver's frozen Config dataclass once (errors name ``solver.config.<field>``), and
    that typed object is what the runner hands to the solver.
    """

    name: str
    config: object = field(default_factory=dict)


@dataclass(frozen=True)
class TrackingSpec:
    """``backend``: mlflow or none; ``uri``: MLflow tracking URI (default: MLFLOW_TRACKING_URI,
    else ``sqlite:///mlruns/mlflow.db``); ``plots``: log front and HV plots."""

    backend: Literal["mlflow", "none"] = "mlflow"
    uri: str | None = None
    experiment: str = "moalign"
    tags: dict[str, str] = field(default_factory=dict)
    plots: bool = True


@dataclass(frozen=True)
class CheckpointSpec:
    """``every``: checkpoint every this many steps; ``dir``: root folder of checkpoints
    (default ``mlruns/checkpoints``; each run writes ``<dir>/<run id>/``)."""

    every: int = 10
    dir: str | None = None

    def __post_init__(self) -> None:
        if self.every < 1:
            raise ValueError("checkpoint.every must be >= 1")


@dataclass(frozen=True)
class Recipe:
    """A runnable description of one run.

    Precedence: dataclass defaults < YAML < ``--set key.path=value``. ``smoke`` holds
    dotted overrides applied by ``--smoke`` (a cut-down size for CI); ``tune`` is the
    search space read by ``moalign tune``. ``base_dir`` (set from the recipe file's folder
    when loaded from a file) is given to problem factories that take a ``base_dir``
    argument, so paths inside ``problem.params`` may be relative to the recipe.
    """

    problem: ProblemSpec
    solver: SolverSpec
    budget: Budget
    name: str | None = None
    seed: int = 0
    tracking: TrackingSpec = field(default_factory=TrackingSpec)
    checkpoint: CheckpointSpec = field(default_factory=CheckpointSpec)
    smoke: dict[str, Any] = field(default_factory=dict)
    tune: dict[str, Any] | None = None
    base_dir: str | None = None

    def __post_init__(self) -> None:
        if self.seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {self.seed}")

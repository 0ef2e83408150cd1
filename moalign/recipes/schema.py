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
class EvaluationSpec:
    """Where batches are evaluated (:mod:`moalign.core.parallel`).

    ``backend``: ``serial`` (in the running process), ``processes`` (a local process pool),
    ``dask`` (a ``distributed.LocalCluster``, or the scheduler at ``address``) or ``ray``
    (``ray.init()`` locally, or the cluster at ``address``); ``workers``: worker processes
    started locally (default: the CPU count; with ``address``, the cluster's workers);
    ``address``: a Dask scheduler (``tcp://host:8786``) or Ray cluster (``ray://host:10001``,
    ``auto``) to use instead of starting one; ``chunk``: points per task (default: a batch
    cut into one chunk per worker). Results are the same as serial for the same seed."""

    backend: Literal["serial", "processes", "dask", "ray"] = "serial"
    workers: int | None = None
    address: str | None = None
    chunk: int | None = None

    def __post_init__(self) -> None:
        if self.workers is not None and self.workers < 1:
            raise ValueError(f"workers must be a positive integer (worker processes), got "
                             f"{self.workers}; or remove it for one per CPU")
        if self.chunk is not None and self.chunk < 1:
            raise ValueError(f"chunk must be a positive integer (points per task), got "
                             f"{self.chunk}; or remove it for one chunk per worker")
        if self.address is not None and self.backend not in ("dask", "ray"):
            raise ValueError(f"address is used by the dask and ray backends only; set "
                             f"evaluation.backend: dask or ray, or remove address "
                             f"(backend is {self.backend!r})")
        if self.address is not None and not self.address.strip():
            raise ValueError("address must be a scheduler or cluster address "
                             "(tcp://host:8786, ray://host:10001, auto); or remove it")


@dataclass(frozen=True)
class Recipe:
    """A runnable description of one run.

    Precedence: dataclass defaults < YAML < ``--set key.path=value``. ``smoke`` holds
    dotted overrides applied by ``--smoke`` (a cut-down size for CI); ``tune`` is the
    search space read by ``moalign tune``; ``evaluation`` says where batches are
    evaluated (:class:`EvaluationSpec`, default serial). ``base_dir`` (set from the
    recipe file's folder when loaded from a file) is given to problem factories that
    take a ``base_dir`` argument, so paths inside ``problem.params`` may be relative to
    the recipe.
    """

    problem: ProblemSpec
    solver: SolverSpec
    budget: Budget
    name: str | None = None
    seed: int = 0
    tracking: TrackingSpec = field(default_factory=TrackingSpec)
    checkpoint: CheckpointSpec = field(default_factory=CheckpointSpec)
    evaluation: EvaluationSpec = field(default_factory=EvaluationSpec)
    smoke: dict[str, Any] = field(default_factory=dict)
    tune: dict[str, Any] | None = None
    base_dir: str | None = None

    def __post_init__(self) -> None:
        if self.seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {self.seed}")

"""The solver contract: ``Solver``, its frozen ``Config``, ``Result`` and the registry.

A solver is a small class with one job, ``solve(problem, ctx) -> Result``. It is pure: no
I/O, no global RNG, no MLflow or Optuna; everything outside goes through the
:class:`~moalign.solvers.context.RunContext`.

A solver is generic over its config dataclass, so ``self.config`` is typed::

    @dataclass(frozen=True)
    class ExampleConfig:
        batch_size: int = 8

    class Example(Solver[ExampleConfig]):
        Config = ExampleConfig

Example:
    >>> from dataclasses import dataclass
    >>> @dataclass(frozen=True)
    ... class ExampleConfig:
    ...     batch_size: int = 8
    >>> @register_solver("doc-example")
    ... class Example(Solver[ExampleConfig]):
    ...     Config = ExampleConfig
    ...     def solve(self, problem, ctx):
    ...         while not ctx.should_stop():
    ...             ctx.evaluate(problem.space.sample(ctx.rng, self.config.batch_size))
    ...         return Result(ctx.archive)
    >>> Example(batch_size=4).config.batch_size
    4
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar, cast

from moalign.core.archive import Archive, Front
from moalign.core.config import build_config
from moalign.core.registry import Registry

if TYPE_CHECKING:
    from moalign.core.problem import Problem
    from moalign.solvers.context import RunContext


@dataclass(frozen=True)
class EmptyConfig:
    """A solver without options."""


ConfigT = TypeVar("ConfigT")


class Solver(ABC, Generic[ConfigT]):
    """Base class of all solvers, generic over their config dataclass.

    Subclasses are declared as ``class PSL(Solver[PSLConfig])``, set ``Config`` to that
    frozen dataclass (validated in ``__post_init__``) and implement :meth:`solve`.
    Construct with a config object, a mapping, or keywords; a mapping is validated with
    errors naming ``<solver>.config.<field>``.
    """

    Config: ClassVar[type] = EmptyConfig
    registered_name: ClassVar[str] = ""

    def __init__(self, config: ConfigT | Mapping[str, Any] | None = None, /,
                 **overrides: Any) -> None:
        self.config: ConfigT
        if config is None or isinstance(config, Mapping):
            values = {**(config or {}), **overrides}
            built: object = build_config(self.Config, values, path=f"{self.name}.config")
            self.config = cast(ConfigT, built)
        elif isinstance(config, self.Config):
            self.config = cast(ConfigT, replace(cast(Any, config), **overrides)
                               if overrides else config)
        else:
            raise TypeError(
                f"{type(self).__name__}: config must be a {self.Config.__name__} or a dict"
            )

    @property
    def name(self) -> str:
        return self.registered_name or type(self).__name__

    @abstractmethod
    def solve(self, problem: Problem, ctx: RunContext) -> Result:
        """Run until ``ctx.should_stop()``; record every evaluation through ``ctx``."""


@dataclass
class Result:
    """The outcome of a run.

    Attributes:
        archive: every evaluated point.
        model: the solver's learned object, if any (a Pareto-set model, a conditional
            sampler, an aligned model directory).
        run_id: the tracking run id, when tracked.
        info: solver-specific summary values.
    """

    archive: Archive
    model: Any = None
    run_id: str | None = None
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def front(self) -> Front:
        """The non-dominated feasible points found."""
        return self.archive.pareto()

    @property
    def hypervolume(self) -> float:
        """Hypervolume of the front w.r.t. the run's reference point."""
        return self.archive.hypervolume()

    @property
    def X(self) -> Any:  # pymoo's Result.X / Result.F, for familiarity
        return self.front.X

    @property
    def F(self) -> Any:
        return self.front.F


SOLVERS: Registry[type[Solver[Any]]] = Registry("solver", "moalign.solvers", builtins={
    "random": "moalign.solvers.baselines.random_search",
    "nsga2": "moalign.solvers.baselines.nsga2",
    "qnehvi": "moalign.solvers.baselines.botorch_mobo",
    "qparego": "moalign.solvers.baselines.botorch_mobo",
    "desirability": "moalign.solvers.desirability",
    "psl": "moalign.solvers.psl",
    "svh-psl": "moalign.solvers.psl",
    "psl-grad": "moalign.solvers.psl",
    "mogfn": "moalign.solvers.mogfn",
    "op-gfn": "moalign.solvers.mogfn",
    "drw": "moalign.llm.drw",
    "cgpo": "moalign.llm.cgpo.solver",
    "rmod": "moalign.llm.rmod.solver",
    "value-heads": "moalign.llm.values",
})
register_solver = SOLVERS.register


def get_solver(name: str) -> type[Solver[Any]]:
    """The solver class registered as ``name`` (or ``"module:Class"``)."""
    return SOLVERS.get(name)

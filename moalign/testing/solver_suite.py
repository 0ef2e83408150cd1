"""The shared solver test battery, in the manner of ``optuna/testing/pytest_samplers.py``.

A solver's test file subclasses :class:`SolverSuite` and gets the whole battery::

    from moalign.solvers import Budget
    from moalign.testing import SolverSuite

    class TestRandom(SolverSuite):
        solver_name = "random"
        config = {"batch_size": 8}
        budget = Budget(evaluations=40)

The battery checks the solver contract (docs/index.md, "Solvers"):

- the budget is respected (evaluations or steps);
- the same seed gives the identical archive (X, F, steps, NaN positions), another seed a
  different one, and the global numpy/torch random states are left untouched;
- NaN and raising objectives are tolerated: failed points are counted and never on a front;
- a run killed after a checkpoint and resumed from it ends with exactly the archive of an
  uninterrupted run;
- the front is non-empty with finite values;
- ``Config`` is a frozen dataclass and an unknown config key is an error naming the key.

The default problem is :func:`toy_zdt1`, a 3-variable ZDT1 defined here so that the suite
does not depend on ``moalign.problems``. Subclasses override :meth:`SolverSuite.make_problem`
for discrete or text problems; archives are compared generically (``np.array_equal`` for
numeric X, element-wise equality for object arrays).

The class is named without the ``Test`` prefix so that pytest collects it only through
subclasses.
"""

from __future__ import annotations

import dataclasses
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest

from moalign.core import Box, Objective, Problem
from moalign.core.config import ConfigError
from moalign.solvers.base import Result, get_solver
from moalign.solvers.context import Budget, RunContext, load_checkpoint

__all__ = [
    "SolverSuite",
    "archives_equal",
    "failing_problem",
    "run_solver",
    "toy_dtlz2",
    "toy_zdt1",
]


# -- problems ----------------------------------------------------------------------------
def toy_zdt1(n_var: int = 3) -> Problem:
    """ZDT1 (Zitzler, Deb & Thiele 2000) on ``[0, 1]^n_var``, both objectives minimized.

    ``f1 = x1``, ``g = 1 + 9 * mean(x2..xn)``, ``f2 = g * (1 - sqrt(f1 / g))``. The Pareto
    front is ``f2 = 1 - sqrt(f1)`` (``g = 1``); reference point ``(1.1, 1.1)``, where the true
    front's hypervolume is ``1.21 - 1/3``.

    Example:
        >>> p = toy_zdt1()
        >>> p.evaluate(np.array([[0.25, 0.0, 0.0]])).F.tolist()
        [[0.25, 0.5]]
    """
    if n_var < 2:
        raise ValueError("toy_zdt1: n_var must be at least 2")

    def g(x: np.ndarray) -> np.ndarray:
        return np.asarray(1.0 + 9.0 * x[:, 1:].mean(axis=1))

    def f1(x: np.ndarray) -> np.ndarray:
        return np.asarray(x[:, 0], dtype=np.float64)

    def f2(x: np.ndarray) -> np.ndarray:
        gx = g(x)
        return np.asarray(gx * (1.0 - np.sqrt(x[:, 0] / gx)))

    def front(n: int) -> np.ndarray:
        t = np.linspace(0.0, 1.0, n)
        return np.stack([t, 1.0 - np.sqrt(t)], axis=1)

    return Problem(
        Box(np.zeros(n_var), np.ones(n_var)),
        [Objective("f1", f1), Objective("f2", f2)],
        ref_point=[1.1, 1.1],
        ideal=[0.0, 0.0],
        nadir=[1.0, 1.0],
        pareto_front=front,
        name=f"toy_zdt1_{n_var}",
    )


def toy_dtlz2(n_var: int = 4, n_obj: int = 3) -> Problem:
    """DTLZ2 (Deb, Thiele, Laumanns & Zitzler 2002) on ``[0, 1]^n_var``, all minimized.

    ``g = sum_{i >= m} (x_i - 0.5)^2``; ``f_j = (1 + g) prod_{i < m-1-j} cos(x_i pi/2)``
    ``* sin(x_{m-1-j} pi/2)`` (no sine for ``j = 0``). The front is the positive unit
    sphere (``g = 0``); reference point ``(1.1, ..., 1.1)``.

    Example:
        >>> np.round(toy_dtlz2().evaluate(np.array([[0.0, 0.0, 0.5, 0.5]])).F, 6).tolist()
        [[1.0, 0.0, 0.0]]
    """
    if n_var < n_obj:
        raise ValueError("toy_dtlz2: n_var must be at least n_obj")

    def objective(j: int) -> Callable[[np.ndarray], np.ndarray]:
        def f(x: np.ndarray) -> np.ndarray:
            g = ((x[:, n_obj - 1:] - 0.5) ** 2).sum(axis=1)
            value = 1.0 + g
            for i in range(n_obj - 1 - j):
                value = value * np.cos(x[:, i] * np.pi / 2)
            if j > 0:
                value = value * np.sin(x[:, n_obj - 1 - j] * np.pi / 2)
            return np.asarray(value, dtype=np.float64)

        f.__name__ = f"f{j + 1}"
        return f

    return Problem(Box([0.0] * n_var, [1.0] * n_var), [objective(j) for j in range(n_obj)],
                   ref_point=[1.1] * n_obj, name="toy-dtlz2")


def _row_key(args: tuple[Any, ...], i: int) -> int:
    """A deterministic 32-bit hash of the `i`-th point of a batched call."""
    parts = []
    for a in args:
        if isinstance(a, np.ndarray) and a.dtype != object:
            parts.append(np.ascontiguousarray(a[i]).tobytes())
        elif isinstance(a, np.ndarray | list | tuple):
            parts.append(repr(a[i]).encode())
    return zlib.crc32(b"|".join(parts))


def _batch_size(args: tuple[Any, ...]) -> int:
    for a in args:
        if isinstance(a, np.ndarray | list | tuple):
            return len(a)
    raise TypeError("failing_problem: cannot find the batch among the objective's arguments")


def failing_problem(problem: Problem, *, nan_every: int = 5, raise_every: int = 7) -> Problem:
    """``problem`` with deterministic failures, for NaN-tolerance tests.

    The first objective returns NaN where ``crc32(point) % nan_every == 0`` (about 20% of
    points); the last objective raises for a whole batch that contains a point with
    ``crc32(point) % raise_every == 1``, so that the objective wrapper falls back to point by
    point evaluation, in which only those points fail.
    """
    objs = list(problem.objectives)

    def nan_wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapped(*args: Any, **kwargs: Any) -> np.ndarray:
            vals = np.array(fn(*args, **kwargs), dtype=np.float64).reshape(-1)
            bad = [_row_key(args, i) % nan_every == 0 for i in range(_batch_size(args))]
            vals[np.asarray(bad, dtype=bool)] = np.nan
            return vals

        return wrapped

    def raise_wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if any(_row_key(args, i) % raise_every == 1 for i in range(_batch_size(args))):
                raise RuntimeError("simulated objective failure")
            return fn(*args, **kwargs)

        return wrapped

    objs[0] = dataclasses.replace(objs[0], fn=nan_wrap(objs[0].fn))
    objs[-1] = dataclasses.replace(objs[-1], fn=raise_wrap(objs[-1].fn))
    ref = problem.reference_point()
    return Problem(
        problem.space,
        objs,
        constraints=problem.constraints,
        ref_point="initial" if ref is None else ref,
        ideal=problem.ideal,
        nadir=problem.nadir,
        name=f"failing_{problem.name}",
    )


# -- running -----------------------------------------------------------------------------
def run_solver(
    solver_name: str,
    config: dict[str, Any],
    problem: Problem,
    budget: Budget,
    seed: int,
    checkpoint_dir: str | Path | None = None,
    checkpoint_every: int = 1,
    resume_from: Any = None,
    on_record: Callable[[RunContext, dict[str, float]], None] | None = None,
    on_checkpoint: Callable[[RunContext], None] | None = None,
) -> tuple[Result, RunContext]:
    """Run a registered solver in a fresh :class:`RunContext` (no runner, no tracking).

    Args:
        solver_name: registered name (or ``"module:Class"``).
        config: the solver's config as a mapping.
        problem: the problem.
        budget: the budget.
        seed: the run's seed.
        checkpoint_dir: where checkpoints go (None: none).
        checkpoint_every: checkpoint period in steps.
        resume_from: a loaded :class:`~moalign.solvers.context.Checkpoint` to continue.
        on_record: optional hook called after each record.
        on_checkpoint: optional hook called as each checkpoint is written.

    Returns:
        ``(result, ctx)``.
    """
    ctx = RunContext(
        problem,
        budget,
        seed=seed,
        checkpoint_dir=checkpoint_dir,
        checkpoint_every=checkpoint_every,
        resume_from=resume_from,
        on_record=[on_record] if on_record else None,
        on_checkpoint=on_checkpoint,
    )
    solver = get_solver(solver_name)(dict(config))
    result = solver.solve(problem, ctx)
    return result, ctx


def _x_equal(a: np.ndarray, b: np.ndarray) -> bool:
    if a.dtype == object or b.dtype == object:
        return len(a) == len(b) and all(_item_equal(x, y) for x, y in zip(a, b, strict=True))
    return a.shape == b.shape and bool(np.array_equal(a, b, equal_nan=True))


def _item_equal(x: Any, y: Any) -> bool:
    if isinstance(x, np.ndarray) or isinstance(y, np.ndarray):
        return bool(np.array_equal(np.asarray(x), np.asarray(y)))
    return bool(x == y)


def archives_equal(a: Any, b: Any) -> tuple[bool, str]:
    """Compare two archives exactly: X, F (NaN positions included), steps, failed, feasible.

    Returns:
        ``(equal, reason)``; ``reason`` names the first differing field.
    """
    if a.n_evals != b.n_evals:
        return False, f"n_evals {a.n_evals} != {b.n_evals}"
    if not _x_equal(a.X, b.X):
        return False, "X differs"
    if not np.array_equal(a.F, b.F, equal_nan=True):
        return False, "F differs"
    for name in ("step", "failed", "feasible"):
        if not np.array_equal(getattr(a, name), getattr(b, name)):
            return False, f"{name} differs"
    return True, ""


def _point_key(x: Any) -> Any:
    if isinstance(x, np.ndarray) and x.dtype != object:
        return x.tobytes()
    return repr(x)


class _SimulatedKill(Exception):
    """Raised from a record hook to simulate a run killed mid-way."""


def _global_rng_states() -> tuple[Any, Any]:
    np_state = np.random.get_state()
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a core dependency
        return np_state, None
    return np_state, torch.random.get_rng_state().clone()


# -- the battery -------------------------------------------------------------------------
class SolverSuite:
    """Subclass as ``class TestX(SolverSuite)`` and set the class attributes.

    Attributes:
        solver_name: the registered solver name.
        config: the solver's config for the tests (keep runs small).
        budget: the run's budget; it must allow at least two steps (records), so that a
            run can be killed after a checkpoint and resumed.
        checkpoint_every: checkpoint period used by the resume test.
        seed_sensitive: False for a solver whose output does not depend on the seed.
        other_problems: more problems (other space kinds, other numbers of objectives) on
            which the solver must respect its budget, give the same archive for the same
            seed and record a finite front: name -> ``(factory, config overrides)``.
            Default: 3-objective DTLZ2 (:func:`toy_dtlz2`); ``{}`` where the solver
            supports no other kind.
    """

    solver_name: ClassVar[str]
    config: ClassVar[dict[str, Any]] = {}
    budget: ClassVar[Budget] = Budget(evaluations=40)
    checkpoint_every: ClassVar[int] = 1
    seed_sensitive: ClassVar[bool] = True
    other_problems: ClassVar[dict[str, tuple[Callable[[], Problem], dict[str, Any]]]] = {
        "box, 3 objectives": (toy_dtlz2, {}),
    }

    _cache: ClassVar[dict[tuple[type, int], Any]] = {}

    def make_problem(self) -> Problem:
        """The problem the battery runs on (default: :func:`toy_zdt1`)."""
        return toy_zdt1()

    def make_failing_problem(self) -> Problem:
        """The problem with ~20% failing points (default: :func:`failing_problem`)."""
        return failing_problem(self.make_problem())

    def run(self, seed: int = 0, **kwargs: Any) -> tuple[Result, RunContext]:
        """A fresh run of the solver on :meth:`make_problem`."""
        problem = kwargs.pop("problem", None) or self.make_problem()
        return run_solver(self.solver_name, self.config, problem, self.budget, seed, **kwargs)

    def reference_run(self) -> tuple[Result, RunContext]:
        """The seed-0 run, computed once per test class."""
        key = (type(self), 0)
        if key not in SolverSuite._cache:
            SolverSuite._cache[key] = self.run(0)
        return SolverSuite._cache[key]

    def other_seed_run(self) -> tuple[Result, RunContext, tuple[Any, Any], tuple[Any, Any]]:
        """The seed-1 run with the global RNG states before and after it, computed once."""
        key = (type(self), 1)
        if key not in SolverSuite._cache:
            before = _global_rng_states()
            result, ctx = self.run(1)
            SolverSuite._cache[key] = (result, ctx, before, _global_rng_states())
        return SolverSuite._cache[key]

    # (a)
    def test_budget_respected(self) -> None:
        _, ctx = self.reference_run()
        archive = ctx.archive
        assert archive.n_evals > 0, "the solver evaluated nothing"
        if self.budget.evaluations is not None:
            assert archive.n_evals <= self.budget.evaluations
        if self.budget.steps is not None:
            assert ctx.step <= self.budget.steps
            assert int(archive.step.max()) <= self.budget.steps
        assert ctx.should_stop(), "the solver returned before its budget was spent"

    # (b)
    def test_same_seed_same_archive(self) -> None:
        ref, _ = self.reference_run()
        again, _ = self.run(0)
        ok, why = archives_equal(ref.archive, again.archive)
        assert ok, f"two runs with seed 0 differ: {why}"

    def test_different_seed_different_archive(self) -> None:
        if not self.seed_sensitive:
            pytest.skip("solver declared seed-insensitive")
        ref, _ = self.reference_run()
        other = self.other_seed_run()[0]
        ok, _ = archives_equal(ref.archive, other.archive)
        assert not ok, "seeds 0 and 1 gave the same archive: is ctx.rng used?"

    def test_global_rng_untouched(self) -> None:
        _, _, before, after = self.other_seed_run()
        np_b, np_a = before[0], after[0]
        assert np_b[0] == np_a[0] and np.array_equal(np_b[1], np_a[1]) and np_b[2:] == np_a[2:], (
            "the solver changed numpy's global RNG state"
        )
        if before[1] is not None and after[1] is not None:
            assert bool((before[1] == after[1]).all()), "the solver changed torch's global RNG"

    # (c)
    def test_nan_tolerant(self) -> None:
        problem = self.make_failing_problem()
        result, ctx = self.run(0, problem=problem)
        archive = ctx.archive
        assert archive.n_failed > 0, "the failing problem produced no failure"
        assert archive.n_failed < archive.n_evals
        assert np.array_equal(archive.failed, ~np.all(np.isfinite(archive.F), axis=1))
        front = result.front
        assert len(front) > 0
        assert np.all(np.isfinite(front.F))
        failed_keys = {_point_key(x) for x in archive.X[archive.failed]}
        assert not any(_point_key(x) in failed_keys for x in front.X), (
            "a failed point is on the front"
        )

    # (d)
    def test_checkpoint_resume_equals_uninterrupted(self, tmp_path: Path) -> None:
        full, full_ctx = self.reference_run()
        n_steps = full_ctx.step
        assert n_steps >= 2, (
            f"{self.solver_name}: the suite budget gives {n_steps} step(s); set a budget "
            f"or config giving at least 2 so a run can be killed and resumed"
        )
        kill_at = n_steps // 2 + 1
        written: list[int] = []

        def on_checkpoint(ctx: RunContext) -> None:
            written.append(ctx.step)

        def on_record(ctx: RunContext, metrics: dict[str, float]) -> None:
            if ctx.step >= kill_at and written:
                raise _SimulatedKill

        with pytest.raises(_SimulatedKill):
            self.run(0, checkpoint_dir=tmp_path, checkpoint_every=self.checkpoint_every,
                     on_record=on_record, on_checkpoint=on_checkpoint)
        ckpt = load_checkpoint(tmp_path / "checkpoint.pkl")
        assert 0 < ckpt.step < n_steps, "the checkpoint should be mid-run"
        resumed, _ = self.run(0, checkpoint_dir=tmp_path / "resumed",
                              checkpoint_every=self.checkpoint_every, resume_from=ckpt)
        ok, why = archives_equal(full.archive, resumed.archive)
        assert ok, f"resumed run (from step {ckpt.step}) differs from the uninterrupted: {why}"

    # (e)
    def test_front_nonempty_and_finite(self) -> None:
        result, ctx = self.reference_run()
        front = result.front
        assert len(front) > 0
        assert np.all(np.isfinite(front.F))
        assert front.F.shape[1] == ctx.problem.n_obj
        assert result.archive is ctx.archive or result.archive.n_evals == ctx.archive.n_evals

    # (f)
    def test_config_frozen_and_unknown_key_rejected(self) -> None:
        cls = get_solver(self.solver_name)
        assert dataclasses.is_dataclass(cls.Config), "Config must be a dataclass"
        assert cls.Config.__dataclass_params__.frozen, (  # type: ignore[attr-defined]
            "Config must be frozen"
        )
        solver = cls(dict(self.config))
        fields = dataclasses.fields(solver.config)
        if fields:
            with pytest.raises(dataclasses.FrozenInstanceError):
                setattr(solver.config, fields[0].name, None)
        with pytest.raises(ConfigError, match="no_such_option"):
            cls({**self.config, "no_such_option": 1})

    # (g)
    def test_other_problems(self) -> None:
        for name, (factory, overrides) in self.other_problems.items():
            config = {**self.config, **overrides}
            runs = [run_solver(self.solver_name, config, factory(), self.budget, 0)
                    for _ in range(2)]
            (result, ctx), (again, _) = runs
            n_obj = ctx.problem.n_obj
            assert 0 < ctx.archive.n_evals, f"{name}: nothing evaluated"
            if self.budget.evaluations is not None:
                assert ctx.archive.n_evals <= self.budget.evaluations, name
            assert len(result.front) > 0 and np.all(np.isfinite(result.front.F)), name
            assert result.front.F.shape[1] == n_obj, name
            ok, why = archives_equal(result.archive, again.archive)
            assert ok, f"{name}: two runs with seed 0 differ: {why}"

"""The shared battery itself: it passes correct solvers and catches each kind of broken one.

Broken solvers are registered here under ``suite-meta-*`` names; each is run through the
one battery check it violates, which must fail.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from moalign.core import Objective, Problem, Sequence
from moalign.solvers import Budget, Result, Solver, register_solver
from moalign.testing import SolverSuite, failing_problem, run_solver, toy_zdt1


@dataclass(frozen=True)
class _Cfg:
    batch_size: int = 8


def _sequence_problem() -> Problem:
    def share_a(xs: list[str]) -> list[float]:
        return [s.count("a") / len(s) for s in xs]

    def length(xs: list[str]) -> list[float]:
        return [float(len(s)) for s in xs]

    return Problem(
        Sequence(("a", "b", "c"), 1, 6),
        [Objective("share_a", share_a, direction="maximize"), Objective("length", length)],
        ref_point=[0.0, 7.0],
    )


# -- correct: the battery passes ---------------------------------------------------------
class TestRandomOnSequences(SolverSuite):
    """Generic comparison of object-array archives (strings), NaN and raise on text."""

    solver_name = "random"
    config = {"batch_size": 6}
    budget = Budget(evaluations=36)

    def make_problem(self) -> Problem:
        return _sequence_problem()


@register_solver("suite-meta-stateful")
class _Stateful(Solver):
    """Correct solver with private state (its own Generator), restored on resume."""

    Config = _Cfg

    def solve(self, problem: Problem, ctx: Any) -> Result:
        state = ctx.load_state()
        rng = np.random.default_rng(int(ctx.rng.integers(2**31))) if state is None else state
        while not ctx.should_stop():
            ctx.evaluate(problem.space.sample(rng, ctx.batch_size(self.config.batch_size)))
            ctx.save_state(rng)
        return Result(ctx.archive)


class TestStatefulSolver(SolverSuite):
    solver_name = "suite-meta-stateful"
    budget = Budget(steps=5)


# -- broken: each must fail the check it violates -----------------------------------------
@register_solver("suite-meta-over-budget")
class _OverBudget(Solver):
    Config = _Cfg

    def solve(self, problem: Problem, ctx: Any) -> Result:
        for _ in range(6):  # ignores should_stop and records past the budget
            X = problem.space.sample(ctx.rng, 10)
            ctx.record(X, problem.evaluate(X).F)
        return Result(ctx.archive)


@register_solver("suite-meta-global-rng")
class _GlobalRNG(Solver):
    Config = _Cfg

    def solve(self, problem: Problem, ctx: Any) -> Result:
        while not ctx.should_stop():
            ctx.evaluate(np.random.random((ctx.batch_size(8), 3)))
        return Result(ctx.archive)


@register_solver("suite-meta-torch-global")
class _TorchGlobal(Solver):
    """Seeds torch's global RNG from ctx (reproducible, but it changes the caller's state)."""

    Config = _Cfg

    def solve(self, problem: Problem, ctx: Any) -> Result:
        import torch

        torch.manual_seed(ctx.spawn_seed())
        while not ctx.should_stop():
            ctx.evaluate(torch.rand(ctx.batch_size(8), 3, dtype=torch.float64).numpy())
        return Result(ctx.archive)


@register_solver("suite-meta-fixed-seed")
class _FixedSeed(Solver):
    Config = _Cfg

    def solve(self, problem: Problem, ctx: Any) -> Result:
        rng = np.random.default_rng(123)
        while not ctx.should_stop():
            ctx.evaluate(problem.space.sample(rng, ctx.batch_size(8)))
            ctx.save_state(None)
        return Result(ctx.archive)


@register_solver("suite-meta-no-resume")
class _NoResume(Solver):
    """Private Generator never handed to save_state: a resumed run draws a new one."""

    Config = _Cfg

    def solve(self, problem: Problem, ctx: Any) -> Result:
        rng = np.random.default_rng(int(ctx.rng.integers(2**31)))
        while not ctx.should_stop():
            ctx.evaluate(problem.space.sample(rng, ctx.batch_size(8)))
            ctx.save_state(None)
        return Result(ctx.archive)


@register_solver("suite-meta-nan-crash")
class _NaNCrash(Solver):
    Config = _Cfg

    def solve(self, problem: Problem, ctx: Any) -> Result:
        while not ctx.should_stop():
            ev = ctx.evaluate(problem.space.sample(ctx.rng, ctx.batch_size(8)))
            if np.isnan(ev.F).any():
                raise ValueError("cannot fit a model to NaN")
        return Result(ctx.archive)


@dataclass
class _MutableCfg:
    batch_size: int = 8


@register_solver("suite-meta-mutable-config")
class _MutableConfig(Solver):
    Config = _MutableCfg

    def solve(self, problem: Problem, ctx: Any) -> Result:
        return Result(ctx.archive)


def _suite(name: str) -> SolverSuite:
    cls = type(f"Suite_{name}", (SolverSuite,), {"solver_name": name})
    return cls()  # type: ignore[no-any-return]


def test_catches_budget_overrun() -> None:
    with pytest.raises(AssertionError):
        _suite("suite-meta-over-budget").test_budget_respected()


def test_catches_global_rng() -> None:
    suite = _suite("suite-meta-global-rng")
    with pytest.raises(AssertionError, match="seed 0 differ"):
        suite.test_same_seed_same_archive()
    with pytest.raises(AssertionError, match="numpy's global RNG"):
        suite.test_global_rng_untouched()


def test_catches_torch_global_seeding() -> None:
    suite = _suite("suite-meta-torch-global")
    suite.test_same_seed_same_archive()  # reproducible ...
    with pytest.raises(AssertionError, match="torch's global RNG"):
        suite.test_global_rng_untouched()  # ... but it reseeded the caller's torch RNG


def test_catches_seed_ignored() -> None:
    with pytest.raises(AssertionError, match="same archive"):
        _suite("suite-meta-fixed-seed").test_different_seed_different_archive()


def test_catches_missing_resume_state(tmp_path: Path) -> None:
    with pytest.raises(AssertionError, match="resumed run"):
        _suite("suite-meta-no-resume").test_checkpoint_resume_equals_uninterrupted(tmp_path)


def test_catches_nan_crash() -> None:
    with pytest.raises(ValueError, match="NaN"):
        _suite("suite-meta-nan-crash").test_nan_tolerant()


def test_catches_mutable_config() -> None:
    with pytest.raises(AssertionError, match="frozen"):
        _suite("suite-meta-mutable-config").test_config_frozen_and_unknown_key_rejected()


# -- helpers -------------------------------------------------------------------------------
def test_toy_zdt1_closed_form() -> None:
    p = toy_zdt1()
    F = p.evaluate(np.array([[0.25, 0.0, 0.0], [1.0, 1.0, 1.0], [0.0, 0.5, 0.5]])).F
    np.testing.assert_allclose(F, [[0.25, 0.5], [1.0, 10.0 * (1 - np.sqrt(0.1))], [0.0, 5.5]])
    front = p.pareto_front(5)
    assert front is not None
    np.testing.assert_allclose(front[:, 1], 1 - np.sqrt(front[:, 0]))


def test_failing_problem_fails_about_a_fifth_and_only_those() -> None:
    base = toy_zdt1()
    p = failing_problem(base)
    X = base.space.sample(np.random.default_rng(0), 2000)
    ev, ok = p.evaluate(X), base.evaluate(X)
    rate = ev.failed.mean()
    assert 0.2 < rate < 0.4  # 1/5 NaN on f1, plus ~1/7 raising on f2
    assert np.isnan(ev.F[:, 0]).mean() == pytest.approx(0.2, abs=0.03)
    assert np.isnan(ev.F[:, 1]).mean() == pytest.approx(1 / 7, abs=0.03)
    np.testing.assert_array_equal(ev.F[~ev.failed], ok.F[~ev.failed])
    np.testing.assert_array_equal(p.evaluate(X).F, ev.F)  # deterministic


def test_run_solver_spends_the_budget_in_batches() -> None:
    result, ctx = run_solver("random", {"batch_size": 6}, toy_zdt1(), Budget(evaluations=20), 3)
    assert result.archive.n_evals == 20 and ctx.step == 4
    np.testing.assert_array_equal(np.bincount(result.archive.step), [0, 6, 6, 6, 2])


def _suites_in_tests() -> dict[str, list[str]]:
    """Registered names of the solvers with a ``SolverSuite`` subclass under tests/
    (read statically, so no test module is imported)."""
    import ast
    from pathlib import Path

    found: dict[str, list[str]] = {}
    for path in Path(__file__).parents[1].rglob("test_*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.ClassDef):
                continue
            if not any(getattr(b, "id", None) == "SolverSuite" for b in node.bases):
                continue
            for stmt in node.body:
                target = getattr(stmt, "targets", [getattr(stmt, "target", None)])[0]
                value = getattr(stmt, "value", None)
                if getattr(target, "id", None) == "solver_name" and isinstance(
                        value, ast.Constant):
                    found.setdefault(value.value, []).append(f"{path.name}::{node.name}")
    return found


def test_every_registered_solver_has_a_suite():
    """Every solver a fresh ``import moalign`` registers (tests register their own fakes in
    this process, so a child process lists the real ones)."""
    import json
    import subprocess
    import sys

    code = "import json; from moalign.solvers import SOLVERS; print(json.dumps(SOLVERS.names()))"
    names = json.loads(subprocess.run([sys.executable, "-c", code], check=True,
                                      capture_output=True, text=True).stdout)
    assert "nsga2" in names and "drw" in names
    suites = _suites_in_tests()
    missing = [name for name in names if name not in suites]
    assert not missing, f"solvers without a SolverSuite subclass under tests/: {missing}"

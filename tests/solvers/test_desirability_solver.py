"""The ``desirability`` solver: the shared battery, the reaction example's known optima,
region handling, metrics and config errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np
import pytest

from moalign.core import Box, Objective, Problem
from moalign.core.config import ConfigError
from moalign.problems import get_problem
from moalign.problems.reaction import reaction
from moalign.scalarize.desirability import DMax, DOverall, DTarget
from moalign.solvers import Budget, RunContext
from moalign.solvers.desirability import DesirabilitySolver
from moalign.testing import SolverSuite, archives_equal, run_solver

REACTION_D = [
    {"type": "dmax", "low": 80, "high": 97},
    {"type": "dtarget", "low": 55, "target": 57.5, "high": 60},
]
ZDT_D = [{"type": "dmin", "low": 0, "high": 1}, {"type": "dmin", "low": 0, "high": 1.5}]


def _dtlz2() -> Problem:
    return get_problem("dtlz2")(n_var=4, n_obj=3)


# the battery's other problems need one desirability per objective
OTHER_PROBLEMS: dict[str, tuple[Callable[[], Problem], dict[str, Any]]] = {
    "box, 3 objectives": (_dtlz2, {"desirabilities": [{"type": "dmin", "low": 0, "high": 2}] * 3}),
}

# Optima of D on the three regions, from 200-start SLSQP on the closed-form responses
# (scipy.optimize.minimize with the ball as an explicit constraint), an oracle independent
# of the solver: cube 0.942509, ball(1.682) 0.858150, ball(2) 1.0 (to 2e-8).
OPTIMUM = {"cube": 0.942509, "ball": 0.858150, "ball2": 1.0}


class TestNelderMead(SolverSuite):
    solver_name = "desirability"
    config: ClassVar[dict[str, Any]] = {"desirabilities": ZDT_D, "n_starts": 3}
    budget = Budget(evaluations=40)
    other_problems = OTHER_PROBLEMS


class TestBounded(SolverSuite):
    solver_name = "desirability"
    config: ClassVar[dict[str, Any]] = {"desirabilities": ZDT_D, "n_starts": 3,
                                        "method": "bounded"}
    budget = Budget(evaluations=40)
    other_problems = OTHER_PROBLEMS


class TestBoundedBall(SolverSuite):
    """The SLSQP path (a problem with constraints), on the reaction's ball region."""

    solver_name = "desirability"
    config: ClassVar[dict[str, Any]] = {"desirabilities": REACTION_D, "n_starts": 3,
                                        "method": "bounded"}
    budget = Budget(evaluations=40)
    other_problems = OTHER_PROBLEMS

    def make_problem(self) -> Problem:
        return reaction("ball")


@pytest.mark.slow
class TestSurrogate(SolverSuite):
    solver_name = "desirability"
    config: ClassVar[dict[str, Any]] = {"desirabilities": ZDT_D, "method": "surrogate",
                                        "n_initial": 5, "n_candidates": 64, "mc_samples": 32}
    budget = Budget(evaluations=9)
    other_problems = OTHER_PROBLEMS


def _solve(region: str, method: str, evaluations: int, seed: int = 0, **cfg: Any
           ) -> tuple[dict[str, Any], RunContext]:
    p = reaction(region)
    ctx = RunContext(p, Budget(evaluations=evaluations), seed=seed)
    res = DesirabilitySolver({"desirabilities": REACTION_D, "method": method, **cfg}).solve(
        p, ctx)
    return res.info, ctx


@pytest.mark.parametrize("region", ["cube", "ball", "ball2"])
def test_nelder_mead_reaches_known_optimum(region: str) -> None:
    info, ctx = _solve(region, "nelder-mead", 1000, n_starts=8)
    assert info["best_desirability"] == pytest.approx(OPTIMUM[region], abs=2e-4)
    x = np.array(info["best_x"])
    if region == "cube":
        assert np.all(np.abs(x) <= 1.682)
        np.testing.assert_allclose(x, [-0.5119, 1.682, -0.5862], atol=0.01)
    else:
        r = 1.682 if region == "ball" else 2.0
        assert np.linalg.norm(x) <= r + 1e-12
        # the region is a known design region: nothing outside it is ever evaluated
        assert np.all(np.linalg.norm(ctx.archive.X, axis=1) <= r + 1e-12)
    # the reported responses are the archive's, and D is their overall desirability
    D = DOverall(DMax(80, 97), DTarget(55, 57.5, 60))
    F = np.array([list(info["best_responses"].values())])
    assert float(D(F)[0]) == pytest.approx(info["best_desirability"], rel=1e-12)
    assert info["best_responses"]["activity"] == pytest.approx(57.5, abs=0.05)


def test_start_on_the_zero_plateau_walks_to_positive_d() -> None:
    """D > 0 only for x in [9, 10]; the single start lies on the D = 0 plateau, where only
    the shortfall merit gives Nelder-Mead a direction."""
    p = Problem(Box([0.0], [10.0]), [Objective("y", lambda x: x[:, 0], direction="maximize")])
    ctx = RunContext(p, Budget(evaluations=40), seed=0)
    cfg = {"desirabilities": [{"type": "dtarget", "low": 9, "target": 9.5, "high": 10}],
           "n_starts": 1}
    info = DesirabilitySolver(cfg).solve(p, ctx).info
    assert ctx.archive.X[0, 0] < 9  # the start: D = 0
    assert info["best_desirability"] == pytest.approx(1.0, abs=1e-3)


@pytest.mark.parametrize("region", ["cube", "ball"])
def test_bounded_reaches_known_optimum(region: str) -> None:
    info, ctx = _solve(region, "bounded", 300, n_starts=4)
    assert info["best_desirability"] == pytest.approx(OPTIMUM[region], abs=1e-4)
    if region == "ball":  # SLSQP with the ball constraint; nothing evaluated outside
        assert np.all(np.linalg.norm(ctx.archive.X, axis=1) <= 1.682 + 1e-12)


def test_metric_best_is_recorded_and_monotone() -> None:
    seen: list[float] = []
    last: dict[str, float] = {}

    def hook(ctx: RunContext, metrics: dict[str, float]) -> None:
        seen.append(metrics["desirability/best"])
        last.update(metrics)

    p = reaction("cube")
    result, ctx = run_solver("desirability", {"desirabilities": REACTION_D, "n_starts": 2}, p,
                             Budget(evaluations=60), 0, on_record=hook)
    assert len(seen) == ctx.step and len(seen) > 2
    assert all(b >= a for a, b in zip(seen, seen[1:], strict=False))
    assert seen[-1] == pytest.approx(result.info["best_desirability"])
    # the best point's coordinates and responses are logged too
    assert [last[f"desirability/best_x{j}"] for j in range(3)] == result.info["best_x"]
    assert last["desirability/best_conversion"] == result.info["best_responses"]["conversion"]
    # center-of-design check: the first batch's best is the best of those points
    first = ctx.archive.F[ctx.archive.step == 1]
    D = DOverall(DMax(80, 97), DTarget(55, 57.5, 60))
    assert seen[0] == pytest.approx(float(D(first).max()))


def test_steps_budget_and_each_evaluation_recorded() -> None:
    p = reaction("cube")
    _, ctx = run_solver("desirability", {"desirabilities": REACTION_D, "n_starts": 3}, p,
                        Budget(steps=12), 0)
    assert ctx.step == 12
    # one batch of 3 starts, then Nelder-Mead: one new point per step
    assert ctx.archive.n_evals == 3 + 11
    assert len({x.tobytes() for x in ctx.archive.X}) == ctx.archive.n_evals  # no repeats


def test_surrogate_small_run_deterministic_and_in_region() -> None:
    cfg = {"n_initial": 5, "n_candidates": 32, "mc_samples": 16, "local_rounds": 2}
    info, ctx = _solve("ball", "surrogate", 7, **cfg)
    info2, ctx2 = _solve("ball", "surrogate", 7, **cfg)
    assert archives_equal(ctx.archive, ctx2.archive)[0]
    assert ctx.archive.n_evals == 7 and ctx.step == 1 + 2
    assert np.all(np.linalg.norm(ctx.archive.X, axis=1) <= 1.682 + 1e-12)
    assert info["best_desirability"] == info2["best_desirability"] > 0


@pytest.mark.slow
def test_surrogate_gets_close_on_cube() -> None:
    info, _ = _solve("cube", "surrogate", 20)
    assert info["best_desirability"] > 0.9


def test_defaults_from_objective_bounds() -> None:
    p = Problem(Box([0.0], [1.0]), [
        Objective("a", lambda x: x[:, 0], direction="maximize", bounds=(0.0, 1.0)),
        Objective("b", lambda x: x[:, 0], direction="minimize", bounds=(0.0, 1.0)),
    ])
    ctx = RunContext(p, Budget(evaluations=80), seed=0)
    info = DesirabilitySolver(n_starts=2).solve(p, ctx).info
    # D = sqrt(x (1 - x)) is maximal, 0.5, at x = 0.5
    assert info["best_desirability"] == pytest.approx(0.5, abs=1e-5)
    assert info["best_x"][0] == pytest.approx(0.5, abs=0.01)


def test_config_errors_name_the_fix() -> None:
    with pytest.raises(ConfigError, match=r"desirabilities\[1\]: DTarget: target"):
        DesirabilitySolver(desirabilities=[REACTION_D[0], {"type": "dtarget", "low": 0,
                                                            "target": 5, "high": 1}])
    with pytest.raises(ConfigError, match="dcategorical does not apply"):
        DesirabilitySolver(desirabilities=[{"type": "dcategorical",
                                            "mapping": {"a": 0, "b": 1}}])
    with pytest.raises(ConfigError, match="method"):
        DesirabilitySolver(method="newton")
    p = reaction()
    with pytest.raises(ValueError, match=r"1 desirabilities for the 2 objectives"):
        DesirabilitySolver(desirabilities=REACTION_D[:1]).solve(
            p, RunContext(p, Budget(evaluations=5)))
    with pytest.raises(ValueError, match="objective 'conversion' has no bounds"):
        DesirabilitySolver().solve(p, RunContext(p, Budget(evaluations=5)))


def test_unknown_method_lists_the_valid_names() -> None:
    from moalign.solvers.desirability import METHODS, STRATEGIES, DesirabilityConfig

    assert tuple(STRATEGIES) == METHODS == ("nelder-mead", "bounded", "surrogate")
    with pytest.raises(ConfigError) as err:
        DesirabilitySolver(method="newton")
    msg = str(err.value)
    assert msg.startswith("desirability.config.method: 'newton'")
    assert all(repr(name) in msg for name in METHODS)
    # the dataclass checks it too when built directly (no config layer)
    with pytest.raises(ValueError, match=r"method must be one of \['nelder-mead', 'bounded', "
                                         r"'surrogate'\], got 'newton'"):
        DesirabilityConfig(method="newton")  # type: ignore[arg-type]


@pytest.mark.parametrize("method, strategy, local", [
    ("nelder-mead", "MultiStart", "NelderMead"),
    ("bounded", "MultiStart", "Bounded"),
    ("surrogate", "ExpectedImprovementOfD", None),
])
def test_method_picks_its_strategy_once(method: str, strategy: str, local: str | None
                                        ) -> None:
    solver = DesirabilitySolver(method=method)
    assert type(solver.strategy).__name__ == strategy
    if local is not None:
        assert type(solver.strategy.local).__name__ == local  # type: ignore[attr-defined]


def test_an_injected_strategy_is_the_one_that_runs() -> None:
    from moalign.solvers.desirability import Evaluator

    class CenterOnly:
        """Evaluates the box's center once."""

        def run(self, ev: Evaluator, state: object) -> dict[str, object]:
            ev.evaluate(ev.box.from_unit(np.full((1, ev.box.dim), 0.5)))
            return {"center_only": True}

    p = reaction("cube")
    ctx = RunContext(p, Budget(evaluations=50), seed=0)
    res = DesirabilitySolver({"desirabilities": REACTION_D}, strategy=CenterOnly()).solve(
        p, ctx)
    assert ctx.archive.n_evals == 1
    np.testing.assert_array_equal(ctx.archive.X, [[0.0, 0.0, 0.0]])
    assert res.info["center_only"] is True and res.info["method"] == "nelder-mead"
    D = DOverall(DMax(80, 97), DTarget(55, 57.5, 60))
    assert res.info["best_desirability"] == pytest.approx(float(D(ctx.archive.F)[0]))

"""Parallel evaluation (moalign.core.parallel) on a real process pool: order, same results as
serial, failures that cost only their points, dead workers, shipping errors, resume."""

from __future__ import annotations

import sys
import threading
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import numpy as np
import parallel_objectives as po
import pytest

import moalign
from moalign.core.parallel import ParallelEvaluator, ShippingError, open_evaluator
from moalign.recipes.runner import RunSettings, execute
from moalign.solvers import Budget, get_solver
from moalign.solvers.context import load_checkpoint

X = np.random.default_rng(3).random((13, 4))


def test_batches_come_back_in_order(pool):
    problem = po.zdt_like(po.slow_reversed)
    ev = ParallelEvaluator(pool, chunk=2)
    got = problem.with_evaluator(ev).evaluate(X)
    want = problem.evaluate(X)
    np.testing.assert_array_equal(got.F, want.F)
    assert ev.stats.chunks == 7 and ev.stats.retried_points == 0


@pytest.mark.parametrize("solver,config", [("nsga2", {"pop_size": 8}),
                                           ("random", {"batch_size": 7})])
def test_same_seed_same_run_as_serial(pool, solver, config):
    problem = po.zdt_like()
    serial = moalign.optimize(problem, solver, config, budget=30, seed=5)
    par = moalign.optimize(problem, solver, config, budget=30, seed=5, executor=pool)
    po.same_archive(serial.archive, par.archive)
    assert par.info["evaluation"]["chunks"] >= 8


def test_thread_executor_and_recipe_style_mapping():
    problem = po.zdt_like()
    serial = moalign.optimize(problem, "random", {"batch_size": 5}, budget=12, seed=2)
    with ThreadPoolExecutor(3) as threads:
        par = moalign.optimize(problem, "random", {"batch_size": 5}, budget=12, seed=2,
                               executor=threads)
    po.same_archive(serial.archive, par.archive)
    with open_evaluator({"backend": "serial"}) as ev:
        assert ev is None
    with pytest.raises(ValueError, match="evaluation.nodes: unknown key"):
        with open_evaluator({"backend": "processes", "nodes": 2}):
            pass


def test_raising_point_costs_only_that_point(pool):
    problem = po.zdt_like(po.raises_above)
    got = problem.with_evaluator(ParallelEvaluator(pool, chunk=4)).evaluate(X)
    bad = X[:, 0] > 0.8
    assert bad.any() and not bad.all()
    assert np.isnan(got.F[bad, 1]).all() and got.failed[bad].all()
    np.testing.assert_array_equal(got.F[~bad], po.zdt_like().evaluate(X[~bad]).F)
    failures = problem.objectives[1].failures
    assert failures.count == bad.sum()
    assert failures.first_error == "raised ValueError: simulation diverged"


def test_raising_constraint_costs_only_that_point(pool):
    problem = po.zdt_like(constraints=po.constraint_raises)
    got = problem.with_evaluator(ParallelEvaluator(pool, chunk=5)).evaluate(X)
    bad = X[:, 0] > 0.8
    assert got.failed[bad].all() and not got.failed[~bad].any()
    np.testing.assert_array_equal(got.G[~bad, 0], X[~bad, 1] - 0.5)
    np.testing.assert_array_equal(got.feasible[~bad], X[~bad, 1] <= 0.5)


def test_killed_worker_loses_no_evaluation(tmp_path):
    """One worker is killed mid-batch: its points are retried on a fresh pool, the run
    finishes with every point evaluated, as the serial run."""
    serial = moalign.optimize(po.zdt_like(), "nsga2", {"pop_size": 8}, budget=24, seed=1)
    problem = po.zdt_like(po.KillOnce(po.marker_in(tmp_path)))
    par = moalign.optimize(problem, "nsga2", {"pop_size": 8}, budget=24, seed=1,
                           executor={"backend": "processes", "workers": 2})
    assert Path(po.marker_in(tmp_path)).exists()
    po.same_archive(serial.archive, par.archive)
    stats = par.info["evaluation"]
    assert stats["retried_points"] >= 1 and stats["lost_points"] == 0
    assert stats["executors_replaced"] >= 1 and par.archive.n_failed == 0


def test_point_that_always_kills_its_worker_costs_only_itself():
    X8 = X[:8].copy()
    X8[:, 0] = np.linspace(0.05, 0.6, 8)
    X8[5, 0] = 0.95  # the killer
    problem = po.zdt_like(po.KillAbove(0.9))
    with open_evaluator({"backend": "processes", "workers": 2}) as ev:
        assert ev is not None
        got = problem.with_evaluator(ev).evaluate(X8)
    assert got.failed.tolist() == [i == 5 for i in range(8)]
    ok = np.arange(8) != 5
    np.testing.assert_array_equal(got.F[ok], po.zdt_like().evaluate(X8[ok]).F)
    assert ev.stats.lost_points == 1
    assert "WorkerLost" in (problem.objectives[1].failures.first_error or "")


def test_unshippable_objective_names_it_and_the_fix():
    lock = threading.Lock()

    def guarded(x: np.ndarray) -> np.ndarray:
        with lock:
            return x[:, 0]

    problem = moalign.Problem(moalign.Box([0], [1]), [moalign.Objective("sim", guarded),
                                                       moalign.Objective("f1", po.f1)])
    with pytest.raises(ShippingError, match=r"cannot send objective 'sim' to the evaluation "
                                            r"workers \(TypeError: cannot pickle '_thread.lock"):
        moalign.optimize(problem, "random", budget=4, executor=ThreadPoolExecutor(1))


def test_objective_the_workers_cannot_import(tmp_path, monkeypatch):
    """A module on this process's path but not on the workers': a clear error."""
    (tmp_path / "only_here.py").write_text("def f(x):\n    return x[:, 0]\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import only_here

    problem = moalign.Problem(moalign.Box([0], [1]), [only_here.f, po.f1])
    with ProcessPoolExecutor(1, mp_context=get_context("spawn"), initializer=po.forget_path,
                             initargs=(str(tmp_path),)) as workers:
        with pytest.raises(ShippingError, match="workers cannot load the objectives "
                                                r"\(ModuleNotFoundError: No module named "
                                                "'only_here'\\); make their module"):
            problem.with_evaluator(ParallelEvaluator(workers)).evaluate(X[:, :1])
    monkeypatch.delitem(sys.modules, "only_here")


def test_objectives_defined_in_a_recipe_file_travel_by_value(tmp_path):
    (tmp_path / "sim.py").write_text(
        "import numpy as np\nimport moalign\n\n"
        "def cost(x):\n    return x[:, 0] ** 2\n\n"
        "def make():\n    return moalign.Problem(moalign.Box([0, 0], [1, 1]),\n"
        "        [cost, lambda x: 1 - x[:, 0] + x[:, 1]])\n")
    recipe = tmp_path / "r.yaml"
    recipe.write_text("problem: {name: sim.py:make}\nsolver: {name: random}\n"
                      "budget: {evaluations: 10}\ntracking: {backend: none}\n"
                      f"checkpoint: {{dir: '{tmp_path / 'ck'}'}}\n"
                      "evaluation: {backend: processes, workers: 2}\n")
    from moalign.recipes.loader import load_recipe
    from moalign.recipes.runner import run_recipe

    res = run_recipe(load_recipe(recipe), progress=False)
    assert res.archive.n_evals == 10 and res.archive.n_failed == 0
    assert res.info["evaluation"]["backend"] == "processes"
    np.testing.assert_allclose(res.archive.F[:, 0], np.asarray(res.archive.X)[:, 0] ** 2)


def test_interrupted_parallel_run_resumes_as_uninterrupted(pool, tmp_path):
    def run(**kw: object) -> moalign.Result:
        solver = get_solver("nsga2")({"pop_size": 6})
        settings = RunSettings(seed=4, progress=False, checkpoint_every=1, **kw)  # type: ignore[arg-type]
        return execute(po.zdt_like(), solver, Budget(evaluations=30), settings)

    full = run()

    def stop_after_two(ctx: moalign.RunContext, metrics: dict[str, float]) -> None:
        if ctx.step == 2:
            ctx.stop_requested = True

    first = run(checkpoint_dir=tmp_path, evaluation=pool, on_record=[stop_after_two])
    assert first.archive.n_evals == 12
    resumed = run(checkpoint_dir=tmp_path, evaluation=pool,
                  resume_from=load_checkpoint(tmp_path / "checkpoint.pkl"))
    po.same_archive(full.archive, resumed.archive)

"""The hypervolume reference point: known by the problems that know their scale, shared
by the runs of one MLflow experiment, logged with its numbers."""

import json

import numpy as np
import pytest
from mlflow import MlflowClient
from pymoo.problems import get_problem as pymoo_problem

from moalign.core import Box, Objective, Problem
from moalign.indicators import hypervolume, normalized_hypervolume
from moalign.problems.adapters import as_problem
from moalign.problems.registry import get_problem
from moalign.recipes import parse_recipe
from moalign.recipes.loader import RecipeError, build_problem
from moalign.recipes.runner import run_recipe
from moalign.tracking.reference import (
    EXPERIMENT_TAG,
    WARNING_TAG,
    StoredReference,
    resolve_reference,
    same_point,
)


def _recipe(mlflow_uri, tmp_path, experiment, problem, solver="random", seed=0, evals=60,
            **solver_config):
    return parse_recipe({
        "problem": problem, "solver": {"name": solver, "config": solver_config},
        "budget": {"evaluations": evals}, "seed": seed,
        "tracking": {"uri": mlflow_uri, "experiment": experiment, "plots": False},
        "checkpoint": {"dir": str(tmp_path / "ckpt")}})


def _run(mlflow_uri, tmp_path, experiment, problem, **kw):
    return run_recipe(_recipe(mlflow_uri, tmp_path, experiment, problem, **kw),
                      progress=False)


def _params(mlflow_uri, run_id):
    return MlflowClient(tracking_uri=mlflow_uri).get_run(run_id).data.params


def _ref(mlflow_uri, run_id):
    return [float(v) for v in _params(mlflow_uri, run_id)["hv_reference"].split(",")]


def _toy(ref_point="auto", **kw):
    objs = [Objective("cost", lambda x: x[:, 0]),
            Objective("quality", lambda x: 1 - x[:, 0] ** 2, direction="maximize")]
    kw.setdefault("name", "toy")
    return Problem(Box([0], [1]), objs, ref_point=ref_point, **kw)


# -- problems that know their scale ------------------------------------------------------


@pytest.mark.parametrize("name", ["zdt1", "zdt2", "zdt3", "zdt4", "zdt6"])
def test_zdt_through_the_pymoo_adapter_has_the_builtin_reference(name):
    ours, theirs = get_problem(name)(), as_problem(pymoo_problem(name))
    assert theirs.reference_source() == ours.reference_source() == "nadir"
    assert same_point(theirs.reference_point(), ours.reference_point())  # rtol 1e-9
    if name in ("zdt1", "zdt2", "zdt4"):
        assert ours.reference_point().tolist() == [1.1, 1.1]


def test_pymoo_front_is_read_when_first_needed_and_a_missing_one_leaves_it_initial():
    from pymoo.core.problem import Problem as PymooProblem

    class NoFront(PymooProblem):
        def __init__(self):
            super().__init__(n_var=2, n_obj=2, xl=0.0, xu=1.0)
            self.calls = 0

        def _evaluate(self, x, out, *args, **kwargs):
            out["F"] = np.column_stack([x[:, 0], 1 - x[:, 0]])

        def _calc_pareto_front(self, *args, **kwargs):
            self.calls += 1
            raise OSError("offline")

    raw = NoFront()
    p = as_problem(raw)
    assert raw.calls == 0  # building the problem reads no front (pymoo may download it)
    with pytest.warns(UserWarning, match="ideal and nadir unknown.*offline"):
        assert p.reference_source() == "initial"
    assert p.reference_point() is None and raw.calls == 1  # tried once


def test_dtlz_references():
    assert get_problem("dtlz2")(n_obj=3).reference_point().tolist() == [1.1] * 3
    assert get_problem("dtlz1")(n_obj=3).reference_point().tolist() == [0.55] * 3
    p = get_problem("dtlz5")(n_obj=4)  # no known nadir: the conventional point
    assert p.reference_source() == "explicit" and p.reference_point().tolist() == [1.1] * 4


def test_reference_source_and_a_copy_with_another_reference():
    p = _toy()
    assert p.reference_source() == "initial" and p.reference_point() is None
    q = p.with_reference_point([2.0, -1.0])
    assert q.reference_source() == "explicit" and q.reference_point().tolist() == [2.0, -1.0]
    assert p.reference_source() == "initial"  # unchanged
    assert _toy(ideal=[0, 1], nadir=[1, 0]).reference_source() == "nadir"
    with pytest.raises(ValueError, match="2 values"):
        p.with_reference_point([1.0])


def test_recipe_sets_the_reference(tmp_path):
    def recipe(ref):
        return parse_recipe({"problem": {"name": "zdt1", "ref_point": ref},
                             "solver": {"name": "random"}, "budget": {"evaluations": 5}})

    assert build_problem(recipe([2, 3])).reference_point().tolist() == [2.0, 3.0]
    assert build_problem(recipe("initial")).reference_source() == "initial"
    bad = r"problem.ref_point: .*2 values, got shape \(3,\).*zdt1 has 2 objectives"
    with pytest.raises(RecipeError, match=bad):
        build_problem(recipe([1, 2, 3]))
    with pytest.raises(RecipeError, match="problem.ref_point"):
        recipe("worst")


# -- resolution against the experiment's stored reference --------------------------------


def test_resolution_rules():
    p = _toy()  # reference from the first batch
    stored = StoredReference((1.0, 0.0), ("cost", "quality"), ("minimize", "maximize"),
                             "RUN0", "toy")
    res = resolve_reference(p, None)
    assert res.values is None and res.source == "initial" and res.store and not res.warning
    res = resolve_reference(p, stored, "e")
    assert res.values.tolist() == [1.0, 0.0] and res.source == "experiment" and not res.store
    res = resolve_reference(p.with_reference_point([1.0, 0.0]), stored, "e")
    assert res.source == "explicit" and res.warning is None
    res = resolve_reference(p.with_reference_point([2.0, 0.0]), stored, "e")
    assert res.values.tolist() == [2.0, 0.0] and res.source == "explicit"
    assert "[2, 0]" in res.warning and "experiment 'e', [1, 0]" in res.warning
    assert "fixed by run RUN0" in res.warning
    other = StoredReference((1.0, 0.0), ("cost", "quality"), ("minimize", "minimize"))
    res = resolve_reference(p, other, "e")
    assert res.values is None and res.source == "initial" and not res.store
    assert "quality (min)" in res.warning and "quality (max)" in res.warning
    res = resolve_reference(_toy(name="toy-2"), stored, "e")  # another problem, same names
    assert res.values is None and res.source == "initial" and not res.store
    assert "problem 'toy'" in res.warning and "'toy-2'" in res.warning
    assert StoredReference.from_json(stored.to_json()) == stored
    assert StoredReference.from_json("not json") is None


def test_two_seeds_share_the_first_runs_reference(mlflow_uri, tmp_path, capsys):
    """reaction knows no reference: seed 0 takes its first batch's, seed 1 reuses it."""
    runs = [_run(mlflow_uri, tmp_path, "ref-seeds", {"name": "reaction"}, seed=s)
            for s in (0, 1)]
    client = MlflowClient(tracking_uri=mlflow_uri)
    p0, p1 = (_params(mlflow_uri, r.run_id) for r in runs)
    assert p0["hv_reference_source"] == "initial" and p1["hv_reference_source"] == "experiment"
    assert p0["hv_reference"] == p1["hv_reference"]
    ref = np.array(_ref(mlflow_uri, runs[0].run_id))
    np.testing.assert_allclose(runs[0].archive.ref_point, ref, rtol=1e-9)
    np.testing.assert_array_equal(runs[1].archive.ref_point, runs[0].archive.ref_point)
    for r in runs:  # the logged hypervolume is at that reference
        logged = client.get_run(r.run_id).data.metrics["hypervolume"]
        assert logged == pytest.approx(hypervolume(r.front.F, ref, maximize=[True, True]))
    exp = client.get_experiment_by_name("ref-seeds")
    stored = json.loads(exp.tags[EXPERIMENT_TAG])
    assert stored["run_id"] == runs[0].run_id and stored["problem"] == "reaction-cube"
    assert stored["objectives"] == ["conversion", "activity"]
    assert "warning" not in capsys.readouterr().err


def test_a_different_reference_warns_and_shows_the_stored_one(mlflow_uri, tmp_path, capsys):
    first = _run(mlflow_uri, tmp_path, "ref-change", {"name": "reaction"})
    old = _params(mlflow_uri, first.run_id)["hv_reference"]
    capsys.readouterr()
    res = _run(mlflow_uri, tmp_path, "ref-change",
               {"name": "reaction", "ref_point": [60.0, 50.0]}, seed=1)
    err = capsys.readouterr().err
    shown = "[" + ", ".join(f"{float(v):.6g}" for v in old.split(",")) + "]"
    assert err.startswith("warning: HV reference [60, 50] (explicit) differs")
    assert shown in err and first.run_id in err
    client = MlflowClient(tracking_uri=mlflow_uri)
    run = client.get_run(res.run_id)
    assert run.data.params["hv_reference"] == "60,50"  # the run keeps its own
    assert shown in run.data.tags[WARNING_TAG]
    stored = json.loads(client.get_experiment_by_name("ref-change").tags[EXPERIMENT_TAG])
    assert stored["run_id"] == first.run_id  # the experiment's reference is unchanged


def test_other_objectives_do_not_reuse_the_stored_reference(mlflow_uri, tmp_path, capsys):
    _run(mlflow_uri, tmp_path, "ref-other", {"name": "reaction"})
    capsys.readouterr()
    res = _run(mlflow_uri, tmp_path, "ref-other", {"name": "zdt1", "params": {"n_var": 4}})
    err = capsys.readouterr().err
    assert "not shared" in err and "conversion (max)" in err and "f1 (min)" in err
    assert _params(mlflow_uri, res.run_id)["hv_reference"] == "1.1,1.1"


def test_normalized_hypervolume_is_logged_where_ideal_and_nadir_are_known(mlflow_uri,
                                                                           tmp_path):
    res = _run(mlflow_uri, tmp_path, "ref-normalized", {"name": "zdt1", "params": {"n_var": 4}},
               solver="nsga2", pop_size=10)
    client = MlflowClient(tracking_uri=mlflow_uri)
    metrics = client.get_run(res.run_id).data.metrics
    expected = normalized_hypervolume(res.front.F, [0, 0], [1, 1])
    assert metrics["normalized_hypervolume"] == pytest.approx(expected)
    # ZDT1: ideal 0, nadir 1, reference 1.1 -> the same number as the plain hypervolume
    assert metrics["normalized_hypervolume"] == pytest.approx(metrics["hypervolume"])
    steps = client.get_metric_history(res.run_id, "normalized_hypervolume")
    assert len(steps) == len(client.get_metric_history(res.run_id, "hypervolume"))
    reaction = _run(mlflow_uri, tmp_path, "ref-normalized-none", {"name": "reaction"})
    assert "normalized_hypervolume" not in client.get_run(reaction.run_id).data.metrics


def test_normalized_hypervolume_scales_by_ideal_and_nadir():
    rng = np.random.default_rng(0)
    F = rng.random((30, 3)) * [2.0, 10.0, 0.5] + [1.0, -5.0, 0.0]
    ideal, nadir = np.array([1.0, -5.0, 0.0]), np.array([3.0, 5.0, 0.5])
    ref = nadir + 0.1 * (nadir - ideal)
    expected = hypervolume(F, ref) / np.prod(nadir - ideal)
    assert normalized_hypervolume(F, ideal, nadir) == pytest.approx(expected)
    mx = [True, False, True]  # same points, two objectives maximized
    sign = np.where(mx, -1.0, 1.0)
    assert normalized_hypervolume(F * sign, ideal * sign, nadir * sign, maximize=mx) == \
        pytest.approx(expected)
    with pytest.raises(ValueError, match="worse than the ideal"):
        normalized_hypervolume(F, nadir, ideal)


def test_a_pymoo_zdt2_run_logs_the_builtin_reference(mlflow_uri, tmp_path):
    pymoo_zdt2 = {"name": "pymoo.problems.multi.zdt:ZDT2", "params": {"n_var": 5}}
    res = _run(mlflow_uri, tmp_path, "ref-pymoo", pymoo_zdt2)
    builtin = _run(mlflow_uri, tmp_path, "ref-pymoo", {"name": "zdt2", "params": {"n_var": 5}})
    for r in (res, builtin):
        params = _params(mlflow_uri, r.run_id)
        assert params["hv_reference"] == "1.1,1.1" and params["hv_reference_source"] == "nadir"

"""``moalign compare``: several runs' hypervolumes at one reference point, one plot."""

import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient

from moalign.cli import main
from moalign.indicators import hypervolume
from moalign.recipes import parse_recipe
from moalign.recipes.runner import run_recipe
from moalign.tracking.compare import compare


def _run(mlflow_uri, tmp_path, experiment, problem, solver, seed=0, **config):
    recipe = parse_recipe({
        "name": f"{solver}-{seed}", "problem": problem,
        "solver": {"name": solver, "config": config}, "budget": {"evaluations": 60},
        "seed": seed,
        "tracking": {"uri": mlflow_uri, "experiment": experiment, "plots": False},
        "checkpoint": {"dir": str(tmp_path / "ckpt")}})
    return run_recipe(recipe, progress=False)


def _front(mlflow_uri, run_id, names, tmp_path):
    """The front as the run logged it (front.csv)."""
    path = MlflowClient(tracking_uri=mlflow_uri).download_artifacts(run_id, "front.csv",
                                                                    str(tmp_path))
    return pd.read_csv(path)[list(names)].to_numpy()


def _row(out, run_id):
    return next(line for line in out.splitlines() if line.startswith(run_id)).split()


REACTION = {"name": "reaction"}


@pytest.fixture(scope="module")
def two_solvers(mlflow_uri, tmp_path_factory):
    """random and NSGA-II on reaction (no reference of its own) in one experiment."""
    tmp = tmp_path_factory.mktemp("compare")
    return [_run(mlflow_uri, tmp, "compare-solvers", REACTION, "random", seed=3),
            _run(mlflow_uri, tmp, "compare-solvers", REACTION, "nsga2", seed=3, pop_size=10)]


def test_two_solvers_log_hypervolume_at_one_reference(mlflow_uri, two_solvers):
    client = MlflowClient(tracking_uri=mlflow_uri)
    params = [client.get_run(r.run_id).data.params for r in two_solvers]
    assert params[0]["hv_reference"] == params[1]["hv_reference"]
    assert [p["hv_reference_source"] for p in params] == ["initial", "experiment"]


def test_compare_recomputes_every_run_at_the_experiments_reference(
        mlflow_uri, two_solvers, tmp_path, capsys):
    ids = [r.run_id for r in two_solvers]
    code = main(["compare", *ids, "--uri", mlflow_uri, "--out", str(tmp_path / "cmp")])
    assert code == 0
    out = capsys.readouterr().out
    first = out.splitlines()[0]
    assert "stored on experiment 'compare-solvers'" in first and ids[0] in first
    ref = two_solvers[0].archive.ref_point
    names = ["conversion", "activity"]
    for res, solver in zip(two_solvers, ["random", "nsga2"], strict=True):
        row = _row(out, res.run_id)
        assert row[1:5] == [f"{solver}-3", solver, "3", str(len(res.front))]
        hv = hypervolume(_front(mlflow_uri, res.run_id, names, tmp_path), ref,
                         maximize=[True, True])
        assert float(row[5]) == pytest.approx(hv, rel=1e-5)  # printed with 6 digits
        assert float(row[6]) == pytest.approx(hv, rel=1e-5)  # logged at the same one
    table = pd.read_csv(tmp_path / "cmp" / "compare.csv")
    assert table["run"].tolist() == ids
    np.testing.assert_allclose(table["hv"], table["hv_logged"], rtol=1e-12)
    assert (tmp_path / "cmp" / "fronts.png").stat().st_size > 10_000


def test_given_reference_and_the_fallback(mlflow_uri, two_solvers, tmp_path, capsys):
    ids = [r.run_id for r in two_solvers]
    assert compare(ids, mlflow_uri, ref="70,50", out=tmp_path / "given") == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith("common reference [70, 50] for conversion (max), "
                                          "activity (max): given (--ref)")
    table = pd.read_csv(tmp_path / "given" / "compare.csv")
    for res, hv in zip(two_solvers, table["hv"], strict=True):
        assert hv == pytest.approx(hypervolume(res.front.F, [70, 50], maximize=True))

    # a run of another experiment (its own stored reference differs): the fronts' worst
    other = _run(mlflow_uri, tmp_path, "compare-other", {"name": "reaction",
                                                         "ref_point": [60.0, 40.0]}, "random")
    runs = [*two_solvers, other]
    assert compare([r.run_id for r in runs], mlflow_uri, out=tmp_path / "worst") == 0
    out = capsys.readouterr().out
    assert "worst value of each objective over the 3 runs' fronts" in out.splitlines()[0]
    F = np.vstack([r.front.F for r in runs])
    lo, hi = F.min(axis=0), F.max(axis=0)
    ref = lo - 0.1 * (hi - lo)  # both maximized: worst is the minimum
    table = pd.read_csv(tmp_path / "worst" / "compare.csv")
    for res, hv in zip(runs, table["hv"], strict=True):
        assert hv == pytest.approx(hypervolume(res.front.F, ref, maximize=True))


def test_three_objectives_are_drawn_in_parallel_coordinates(mlflow_uri, tmp_path, capsys):
    dtlz2 = {"name": "dtlz2", "params": {"n_obj": 3, "n_var": 4}}
    runs = [_run(mlflow_uri, tmp_path, "compare-dtlz2", dtlz2, s) for s in ("random", "nsga2")]
    assert compare([r.run_id for r in runs], mlflow_uri, out=tmp_path / "m3") == 0
    assert "common reference [1.1, 1.1, 1.1]" in capsys.readouterr().out
    assert (tmp_path / "m3" / "fronts.png").exists()


def test_bad_inputs_are_one_line_errors(mlflow_uri, two_solvers, tmp_path, capsys):
    ids = [r.run_id for r in two_solvers]
    assert main(["compare", *ids, "--uri", mlflow_uri, "--ref", "1,x"]) == 2
    assert capsys.readouterr().err.startswith("error: --ref '1,x': give 2 numbers")
    assert main(["compare", ids[0], "BOGUS", "--uri", mlflow_uri]) == 2
    assert capsys.readouterr().err.startswith("error: compare BOGUS: no such run")
    zdt = _run(mlflow_uri, tmp_path, "compare-zdt", {"name": "zdt1", "params": {"n_var": 4}},
               "random")
    assert main(["compare", ids[0], zdt.run_id, "--uri", mlflow_uri]) == 2
    err = capsys.readouterr().err
    assert "has objectives f1 (min), f2 (min)" in err and "conversion (max)" in err

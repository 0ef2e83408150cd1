"""``moalign report``: the archive rebuilt from a run's own artifacts, printed and redrawn."""

import numpy as np
import pytest
from mlflow import MlflowClient

from moalign.cli import main
from moalign.core.config import ConfigError
from moalign.recipes import parse_recipe
from moalign.recipes.runner import run_recipe
from moalign.tracking.mlflow_tracker import MLflowTracker
from moalign.tracking.report import load_archive, report


def _run(mlflow_uri, tmp_path, experiment, problem):
    recipe = parse_recipe({
        "problem": problem, "solver": {"name": "nsga2", "config": {"pop_size": 10}},
        "budget": {"evaluations": 60}, "seed": 4,
        "tracking": {"uri": mlflow_uri, "experiment": experiment, "plots": False},
        "checkpoint": {"dir": str(tmp_path / "ckpt")}})
    return run_recipe(recipe, progress=False)


@pytest.mark.parametrize("problem", [
    {"name": "zdt1", "params": {"n_var": 4}},                    # minimized, known ref point
    {"name": "reaction"},                                        # maximized objectives
])
def test_archive_rebuilt_from_artifacts_equals_the_runs(mlflow_uri, tmp_path, problem):
    res = _run(mlflow_uri, tmp_path, f"report-{problem['name']}", problem)
    archive = load_archive(MLflowTracker(mlflow_uri, run_id=res.run_id))
    a = res.archive
    assert archive.names == a.names and archive.maximize.tolist() == a.maximize.tolist()
    np.testing.assert_array_equal(archive.ref_point, a.ref_point)
    np.testing.assert_array_equal(archive.F, a.F)
    np.testing.assert_array_equal(archive.X, a.X)
    for key in ("feasible", "failed", "step"):
        np.testing.assert_array_equal(getattr(archive, key), getattr(a, key))
    assert archive.hypervolume() == res.hypervolume


def test_report_prints_the_front_and_relogs_the_plots(mlflow_uri, tmp_path, capsys):
    res = _run(mlflow_uri, tmp_path, "report-cli", {"name": "zdt1", "params": {"n_var": 4}})
    assert report(res.run_id, uri=mlflow_uri, out=tmp_path / "plots", log=True) == 0
    out = capsys.readouterr().out
    assert f"front of {len(res.front)} points, hypervolume {res.hypervolume:.6g}" in out
    client = MlflowClient(tracking_uri=mlflow_uri)
    plots = {a.path for a in client.list_artifacts(res.run_id, "plots")}
    assert plots == {"plots/front.png", "plots/hypervolume.png"}


def test_report_of_an_unknown_or_unfinished_run_is_a_bad_input(mlflow_uri, capsys):
    assert main(["report", "BOGUS", "--uri", mlflow_uri]) == 2
    assert capsys.readouterr().err.startswith("error: report BOGUS: no such run")
    client = MlflowClient(tracking_uri=mlflow_uri)
    exp = client.create_experiment("report-unfinished")
    run_id = client.create_run(exp).info.run_id
    with pytest.raises(ConfigError, match="has no archive.json or evaluations.csv"):
        report(run_id, uri=mlflow_uri)

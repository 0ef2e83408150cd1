import numpy as np
import pytest
from mlflow import MlflowClient

import moalign
from moalign.recipes import parse_recipe
from moalign.recipes.runner import (
    RANK_VARIABLES,
    lone_process_warning,
    process_rank,
    run_recipe,
)


def _recipe(mlflow_uri, tmp_path, experiment, **over):
    data = {
        "name": "t",
        "problem": {"name": "zdt1", "params": {"n_var": 4}},
        "solver": {"name": "nsga2", "config": {"pop_size": 20}},
        "budget": {"evaluations": 200},
        "tracking": {"uri": mlflow_uri, "experiment": experiment},
        "checkpoint": {"every": 2, "dir": str(tmp_path / "ckpt")},
    }
    return parse_recipe(data, overrides=over)


def test_run_logs_hypervolume_per_step_front_and_plots(mlflow_uri, tmp_path):
    res = run_recipe(_recipe(mlflow_uri, tmp_path, "runner-e2e"), progress=False)
    client = MlflowClient(tracking_uri=mlflow_uri)
    exp = client.get_experiment_by_name("runner-e2e")
    runs = client.search_runs([exp.experiment_id])
    assert [r.info.run_id for r in runs] == [res.run_id]
    assert runs[0].info.status == "FINISHED"
    hv = client.get_metric_history(res.run_id, "hypervolume")
    steps = [m.step for m in hv]
    assert steps == sorted(set(steps)) == list(range(1, 11))  # one value per step
    values = [m.value for m in sorted(hv, key=lambda m: m.step)]
    assert all(b >= a for a, b in zip(values, values[1:], strict=False))
    assert values[-1] == pytest.approx(res.hypervolume)
    paths = {a.path for a in client.list_artifacts(res.run_id)}
    assert {"front.csv", "evaluations.csv", "plots", "recipe.yaml"} <= paths
    plots = {a.path for a in client.list_artifacts(res.run_id, "plots")}
    assert plots == {"plots/front.png", "plots/hypervolume.png"}
    assert runs[0].data.params["solver.pop_size"] == "20"


def test_optimize_python_api_is_deterministic():
    def f1(x):
        return x[:, 0]

    def f2(x):
        return 1 - np.sqrt(x[:, 0]) + x[:, 1:].sum(axis=1)

    kw = {"solver": "nsga2", "config": {"pop_size": 10}, "bounds": [(0, 1)] * 3,
          "budget": 60}
    a = moalign.optimize([f1, f2], seed=1, **kw)
    b = moalign.optimize([f1, f2], seed=1, **kw)
    np.testing.assert_array_equal(a.archive.F, b.archive.F)
    assert a.archive.n_evals == 60 and a.run_id is None
    with pytest.raises(ValueError, match="bounds"):
        moalign.optimize([f1, f2], solver="random")


def test_objective_failures_are_counted_and_logged(mlflow_uri, tmp_path):
    def flaky(x):
        out = x[:, 0].copy()
        out[x[:, 1] > 0.7] = np.nan
        return out

    res = moalign.optimize(
        [flaky, lambda x: 1 - x[:, 0]], solver="random", bounds=[(0, 1)] * 2, budget=40,
        tracking=mlflow_uri, experiment="runner-failures")
    assert 0 < res.archive.n_failed < 40
    assert not np.isnan(res.front.F).any()
    hist = MlflowClient(tracking_uri=mlflow_uri).get_metric_history(res.run_id, "n_failed")
    assert hist[-1].value == res.archive.n_failed


def test_only_rank_zero_tracks_and_checkpoints(mlflow_uri, tmp_path, monkeypatch):
    """Under torchrun/accelerate every rank runs the recipe; ranks > 0 must not open a
    second MLflow run or write checkpoints, but compute the same result."""
    monkeypatch.setenv("RANK", "1")
    res = run_recipe(_recipe(mlflow_uri, tmp_path, "runner-rank1"), progress=False)
    client = MlflowClient(tracking_uri=mlflow_uri)
    assert client.get_experiment_by_name("runner-rank1") is None
    assert not (tmp_path / "ckpt").exists()
    monkeypatch.setenv("RANK", "0")
    res0 = run_recipe(_recipe(mlflow_uri, tmp_path, "runner-rank0"), progress=False)
    np.testing.assert_array_equal(res.archive.F, res0.archive.F)
    assert (tmp_path / "ckpt").exists()


def test_rank_is_read_from_torchrun_and_mpi_variables(monkeypatch):
    for name in RANK_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    assert process_rank() == 0
    monkeypatch.setenv("OMPI_COMM_WORLD_RANK", "3")   # accelerate --cpu --mpirun_hostfile
    assert process_rank() == 3
    monkeypatch.setenv("RANK", "1")                   # torchrun / accelerate --multi_gpu
    assert process_rank() == 1


def test_lone_process_warning_reads_the_launcher_environment():
    """accelerate's simple launcher (--cpu, --num_processes 2) sets MASTER_PORT and starts
    one process without a rank: the run warns and says how to start two."""
    simple = {"ACCELERATE_USE_CPU": "True", "MASTER_PORT": "29500"}
    assert "--multi_gpu --num_processes N" in (lone_process_warning(simple) or "")
    assert lone_process_warning({**simple, "RANK": "0"}) is None           # torchrun
    assert lone_process_warning({**simple, "PMI_RANK": "1"}) is None       # mpirun
    assert lone_process_warning({"ACCELERATE_USE_CPU": "True"}) is None    # 1 process asked
    assert lone_process_warning({}) is None                                # no launcher

"""``tune`` end to end: workers on one storage, MLflow parent/child runs, resume, pruning."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import optuna
import pytest
from optuna.trial import TrialState
from tune_helpers import child_runs, recipe_data, start_tune, wait_until

from moalign.cli import main
from moalign.recipes.loader import parse_recipe
from moalign.tuning import tune
from moalign.tuning.components import make_storage
from moalign.tuning.pruning import HV_ATTR, hv_history
from moalign.tuning.spec import HeartbeatSpec

optuna.logging.set_verbosity(optuna.logging.WARNING)


def test_two_workers_share_one_study_then_resume(tmp_path: Path, mlflow_uri: str) -> None:
    block = {"params": {"seed": {"type": "int", "low": 0, "high": 10_000},
                        "solver.config.batch_size": {"type": "int", "low": 2, "high": 10}},
             "sampler": {"name": "random", "seed": 0}, "pruner": "none"}
    recipe = parse_recipe(recipe_data(tmp_path, block, uri=mlflow_uri, experiment="workers"))
    storage = f"sqlite:///{tmp_path / 'tune.db'}"
    res = tune(recipe, n_trials=5, storage=storage, study_name="s", n_workers=2,
               verbose=False)
    trials = res.study.get_trials()
    assert [t.number for t in trials] == [0, 1, 2, 3, 4]
    assert all(t.state == TrialState.COMPLETE for t in trials)
    assert all(0 < t.value <= 1.1 * 1.1 for t in trials)
    assert res.parent_run_id is not None
    children = child_runs(mlflow_uri, "workers", res.parent_run_id)
    assert len(children) == 5
    assert {r.data.tags["moalign.study_name"] for r in children} == {"s"}
    by_number = {int(r.data.tags["moalign.trial_number"]): r for r in children}
    assert sorted(by_number) == [0, 1, 2, 3, 4]
    for t in trials:  # the trial knows its run; the run holds the trial's value and params
        run = by_number[t.number]
        assert t.user_attrs["mlflow_run_id"] == run.info.run_id
        assert run.data.metrics["tune/hypervolume"] == pytest.approx(t.value)
        assert run.data.params["tune.seed"] == str(t.params["seed"])
        assert t.user_attrs["metrics"]["hypervolume"] == pytest.approx(t.value)
    # the same call again continues the study, its numbering and its parent run
    again = tune(recipe, n_trials=2, storage=storage, study_name="s", verbose=False)
    assert [t.number for t in again.study.get_trials()] == list(range(7))
    assert again.parent_run_id == res.parent_run_id
    assert len(child_runs(mlflow_uri, "workers", res.parent_run_id)) == 7


def enqueue(storage: str, name: str, directions: list[str], bads: list[bool]) -> None:
    study = optuna.create_study(storage=make_storage(storage, HeartbeatSpec()),
                                study_name=name, directions=directions)
    for bad in bads:
        study.enqueue_trial({"problem.params.bad": bad})


def test_optuna_pruner_prunes_the_bad_trial(tmp_path: Path, mlflow_uri: str) -> None:
    storage = str(tmp_path / "journal.log")
    enqueue(storage, "so", ["maximize"], [False, False, True])
    block = {"params": {"problem.params.bad": {"type": "categorical",
                                               "choices": [False, True]}},
             "pruner": {"name": "median", "n_startup_trials": 2}}
    recipe = parse_recipe(recipe_data(tmp_path, block, uri=mlflow_uri, experiment="prune"))
    res = tune(recipe, n_trials=3, storage=storage, study_name="so", verbose=False)
    trials = res.study.get_trials()
    assert [t.state for t in trials] == [TrialState.COMPLETE, TrialState.COMPLETE,
                                         TrialState.PRUNED]
    good, bad = trials[0], trials[2]
    assert sorted(good.intermediate_values) == [1, 2, 3, 4, 5, 6]
    assert bad.intermediate_values == {1: 0.0}  # pruned after its first step of six
    assert bad.user_attrs["metrics"]["n_evals"] == 5.0
    from mlflow import MlflowClient

    run = MlflowClient(mlflow_uri).get_run(bad.user_attrs["mlflow_run_id"])
    assert run.info.status == "KILLED"
    assert run.data.tags["moalign.trial_state"] == "PRUNED"


def test_multi_objective_study_is_pruned_by_moalign(tmp_path: Path) -> None:
    storage = f"sqlite:///{tmp_path / 'mo.db'}"
    enqueue(storage, "mo", ["minimize", "minimize"], [False, False, True, False])
    block = {"params": {"problem.params.bad": {"type": "categorical",
                                               "choices": [False, True]}},
             "target": "objectives", "pruner": {"name": "median", "n_startup_trials": 2}}
    recipe = parse_recipe(recipe_data(tmp_path, block))
    res = tune(recipe, n_trials=4, storage=storage, study_name="mo", verbose=False)
    trials = res.study.get_trials()
    assert res.target.metrics == ("f1/best", "f2/best")
    assert [t.state for t in trials] == [TrialState.COMPLETE, TrialState.COMPLETE,
                                         TrialState.PRUNED, TrialState.COMPLETE]
    assert hv_history(trials[2]) == {1: 0.0}
    assert sorted(hv_history(trials[0])) == [1, 2, 3, 4, 5, 6]
    assert trials[2].user_attrs["metrics"]["n_evals"] == 5.0
    assert HV_ATTR in trials[3].user_attrs  # a good trial after it is not pruned
    assert len(trials[0].values) == 2
    assert res.study.metric_names == ["f1/best", "f2/best"]


def test_cli_errors_are_one_line_and_success_prints_best(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import yaml

    bad = recipe_data(tmp_path, {"params": {"solver.config.batch_sze": {
        "type": "int", "low": 1, "high": 5}}})
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(bad))
    assert main(["tune", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: tune.params.solver.config.batch_sze: the recipe rejects 1")
    assert len(err.splitlines()) == 1
    assert main(["validate", str(path)]) == 2  # validate checks the tune: block too
    assert "tune.params.solver.config.batch_sze" in capsys.readouterr().err
    assert main(["tune", str(path), "--n-workers", "2", "--set",
                 "tune.params={seed: {type: int, low: 0, high: 5}}"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == ("error: --n-workers 2: parallel workers share a study through a storage; "
                   "add --storage sqlite:///tune.db (or a journal file)")
    good = recipe_data(tmp_path, {"params": {"seed": {"type": "int", "low": 0, "high": 5}},
                                  "pruner": "none"}, evaluations=10)
    path.write_text(yaml.safe_dump(good))
    assert main(["tune", str(path), "--n-trials", "2"]) == 0
    out = capsys.readouterr().out
    assert ("study 'toy' (in-memory): 2 trials (2 complete, 0 pruned, 0 failed, 0 running)"
            in out)
    assert "best trial:" in out


@pytest.mark.slow
def test_killed_worker_leaves_no_running_trial(tmp_path: Path, mlflow_uri: str) -> None:
    """A single-process session killed mid-trial: the next session's heartbeat marks its
    trial FAIL, ends its MLflow run FAILED and re-queues it, and runs it."""
    import yaml
    from mlflow import MlflowClient

    hold, pids = tmp_path / "hold", tmp_path / "pids"
    hold.touch()
    pids.mkdir()
    block = {"params": {"seed": {"type": "int", "low": 0, "high": 5}}, "pruner": "none",
             "heartbeat": {"interval": 1, "grace_period": 2, "max_retry": 1}}
    data = recipe_data(tmp_path, block, uri=mlflow_uri, experiment="heartbeat",
                       problem_params={"hold_while": str(hold), "pid_dir": str(pids)},
                       evaluations=10)
    path = tmp_path / "hb.yaml"
    path.write_text(yaml.safe_dump(data))
    storage = f"sqlite:///{tmp_path / 'hb.db'}"
    proc = start_tune(path, "--storage", storage, "--n-trials", "1")
    try:  # the trial's run is evaluating its first point when its pid shows up
        wait_until(lambda: any(pids.iterdir()), 120, "the trial to start")
    finally:
        proc.kill()
        proc.communicate()
        hold.unlink()
    time.sleep(3)  # past the grace period
    res = tune(parse_recipe(data), n_trials=1, storage=storage, verbose=False)
    states = [t.state for t in res.study.get_trials()]
    assert states == [TrialState.FAIL, TrialState.COMPLETE]
    retried = res.study.get_trials()[1]
    assert optuna.storages.RetryHeartbeatStaleTrialCallback.retried_trial_number(retried) == 0
    assert retried.params == res.study.get_trials()[0].params
    assert retried.user_attrs["moalign.retry_of"] == 0
    assert res.parent_run_id is not None
    runs = {r.data.tags.get("mlflow.runName"): r
            for r in child_runs(mlflow_uri, "heartbeat", res.parent_run_id)}
    assert runs["toy-trial-0"].info.status == "FAILED"
    assert runs["toy-trial-1"].info.status == "FINISHED"
    assert MlflowClient(mlflow_uri).get_run(res.parent_run_id).info.status == "FINISHED"


def test_same_sampler_seed_same_study(tmp_path: Path) -> None:
    block = {"params": {"seed": {"type": "int", "low": 0, "high": 1000},
                        "solver.config.batch_size": {"type": "int", "low": 2, "high": 10}},
             "sampler": {"name": "tpe", "seed": 7, "n_startup_trials": 2}, "pruner": "none"}
    recipe = parse_recipe(recipe_data(tmp_path, block, evaluations=10))
    runs = [tune(recipe, n_trials=4, verbose=False).study.get_trials() for _ in range(2)]
    assert [t.params for t in runs[0]] == [t.params for t in runs[1]]
    assert [t.value for t in runs[0]] == [t.value for t in runs[1]]
    assert len({t.params["seed"] for t in runs[0]}) > 1


@pytest.mark.parametrize("name, n_values", [("tune_desirability.yaml", 1),
                                            ("tune_nsga2_zdt1.yaml", 2)])
def test_example_recipes_run_in_smoke_size(tmp_path: Path, name: str, n_values: int) -> None:
    path = Path(__file__).parents[2] / "recipes" / name
    res = tune(path, overrides=["tracking.backend=none", f"checkpoint.dir={tmp_path}"],
               smoke=True, verbose=False)
    trials = res.study.get_trials()
    assert len(trials) == 2
    assert all(t.state in (TrialState.COMPLETE, TrialState.PRUNED) for t in trials)
    done = [t for t in trials if t.state == TrialState.COMPLETE]
    assert done and all(len(t.values) == n_values for t in done)
    if name == "tune_desirability.yaml":  # D in [0, 1] and the product of its parts
        for t in done:
            ds = list(t.user_attrs["desirabilities"].values())
            assert 0.0 <= t.value <= 1.0
            assert t.value == pytest.approx(float(np.prod(ds)) ** (1 / 3))

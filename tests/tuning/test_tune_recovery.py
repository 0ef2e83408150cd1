"""A worker that dies mid-trial: its trial is failed, its MLflow run too, and it is retried.

The kill tests run ``moalign tune`` as a real subprocess with two worker processes, wait
until both workers are inside a trial (the toy problem holds its evaluations while a file
exists and tells each waiting process's pid), SIGKILL one worker and release the other.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

import optuna
import pytest
import yaml
from optuna.exceptions import ExperimentalWarning
from optuna.storages import RetryHeartbeatStaleTrialCallback
from optuna.trial import TrialState
from tune_helpers import child_runs, recipe_data, start_tune, wait_until

from moalign.tuning.components import make_storage
from moalign.tuning.spec import HeartbeatSpec

optuna.logging.set_verbosity(optuna.logging.WARNING)
pytestmark = pytest.mark.filterwarnings("ignore", category=ExperimentalWarning)
RETRY_ATTR = "moalign.retry_of"
N_TRIALS = 3


def kill_one_worker(tmp_path: Path, storage: str, mlflow_uri: str, experiment: str
                    ) -> tuple[int, str, float]:
    """Run ``tune --n-workers 2 --n-trials 3``, SIGKILL one worker mid-trial; return the
    command's exit status, its output and its wall time."""
    hold, pids = tmp_path / "hold", tmp_path / "pids"
    hold.touch()
    pids.mkdir()
    # the heartbeat is far too slow to matter: what happens is the parent's doing
    block = {"params": {"seed": {"type": "int", "low": 0, "high": 10_000}},
             "sampler": {"name": "random", "seed": 0}, "pruner": "none",
             "heartbeat": {"interval": 60, "grace_period": 600, "max_retry": 1}}
    data = recipe_data(tmp_path, block, uri=mlflow_uri, experiment=experiment,
                       problem_params={"hold_while": str(hold), "pid_dir": str(pids)},
                       evaluations=10)
    path = tmp_path / "kill.yaml"
    path.write_text(yaml.safe_dump(data))
    t0 = time.monotonic()
    proc = start_tune(path, "--storage", storage, "--n-trials", str(N_TRIALS),
                      "--n-workers", "2")
    try:
        wait_until(lambda: len(list(pids.iterdir())) == 2, 240, "two workers in a trial")
        victim = int(sorted(p.name for p in pids.iterdir())[0])
        os.kill(victim, signal.SIGKILL)
        hold.unlink()
        out, err = proc.communicate(timeout=300)
    finally:
        hold.unlink(missing_ok=True)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc.returncode, out + err, time.monotonic() - t0


def check_killed_trial_retried(storage: str, mlflow_uri: str, experiment: str) -> None:
    study = optuna.load_study(study_name="toy", storage=make_storage(storage, HeartbeatSpec()))
    trials = study.get_trials()
    states = [t.state for t in trials]
    assert TrialState.RUNNING not in states and TrialState.WAITING not in states, states
    assert states.count(TrialState.COMPLETE) == N_TRIALS, states
    failed = [t for t in trials if t.state == TrialState.FAIL]
    assert len(failed) == 1 and len(trials) == N_TRIALS + 1, states
    killed = failed[0]
    retries = [t for t in trials if RetryHeartbeatStaleTrialCallback.retried_trial_number(t)
               == killed.number]
    assert len(retries) == 1
    retry = retries[0]
    assert retry.state == TrialState.COMPLETE
    assert retry.params == killed.params
    assert retry.user_attrs[RETRY_ATTR] == killed.number
    parent = study.user_attrs["moalign.parent_run_id"]
    runs = {int(r.data.tags["moalign.trial_number"]): r
            for r in child_runs(mlflow_uri, experiment, parent)}
    assert sorted(runs) == [t.number for t in trials]
    assert runs[killed.number].info.status == "FAILED"
    assert runs[killed.number].data.tags["moalign.trial_state"] == "FAIL"
    assert {runs[t.number].info.status for t in trials if t is not killed} == {"FINISHED"}
    from mlflow import MlflowClient

    parent_run = MlflowClient(mlflow_uri).get_run(parent)
    assert parent_run.info.status == "FINISHED"
    assert parent_run.data.metrics["n_fail"] == 1
    assert parent_run.data.metrics["n_running"] == 0
    assert parent_run.data.metrics["n_complete"] == N_TRIALS


def check_output(code: int, out: str) -> None:
    assert code == 0, out
    assert "killed by SIGKILL" in out, out
    assert (f"{N_TRIALS + 1} trials ({N_TRIALS} complete, 0 pruned, 1 failed, 0 running)"
            in out), out


def test_killed_worker_sqlite_trial_failed_and_retried(tmp_path: Path, mlflow_uri: str
                                                        ) -> None:
    storage = f"sqlite:///{tmp_path / 'tune.db'}"
    code, out, seconds = kill_one_worker(tmp_path, storage, mlflow_uri, "kill-sqlite")
    print(f"kill test (sqlite): {seconds:.1f} s")
    check_output(code, out)
    check_killed_trial_retried(storage, mlflow_uri, "kill-sqlite")


@pytest.mark.slow
def test_killed_worker_journal_trial_failed_and_retried(tmp_path: Path, mlflow_uri: str
                                                         ) -> None:
    storage = str(tmp_path / "tune.log")
    code, out, seconds = kill_one_worker(tmp_path, storage, mlflow_uri, "kill-journal")
    print(f"kill test (journal): {seconds:.1f} s")
    check_output(code, out)
    check_killed_trial_retried(storage, mlflow_uri, "kill-journal")


def study_in_every_state() -> Any:
    """Trials 0..4: COMPLETE, PRUNED, FAIL, RUNNING, WAITING."""
    from optuna.distributions import IntDistribution

    study = optuna.create_study(study_name="states")
    dist = {"x": IntDistribution(0, 9)}
    for state, value in ((TrialState.COMPLETE, 1.0), (TrialState.PRUNED, None),
                         (TrialState.FAIL, None)):
        study.add_trial(optuna.trial.create_trial(state=state, value=value, params={"x": 1},
                                                  distributions=dist))
    study.ask()  # RUNNING
    study.enqueue_trial({"x": 2})  # WAITING
    return study


def test_summary_counts_running_failed_and_waiting_trials(
        capsys: pytest.CaptureFixture[str]) -> None:
    from moalign.recipes.schema import TrackingSpec
    from moalign.tuning.output import print_summary
    from moalign.tuning.target import Target

    target = Target(kind="hypervolume", metrics=("hypervolume",), directions=("minimize",))
    print_summary(study_in_every_state(), target, n_run=5, storage=None, parent_run_id=None,
                  tracking=TrackingSpec(backend="none"))
    out = capsys.readouterr().out
    assert ("study 'states' (in-memory): 5 trials (1 complete, 1 pruned, 1 failed, "
            "1 running, 1 waiting); 5 run now") in out
    assert "still RUNNING: trial 3" in out


def one_running_trial(storage: Any = None) -> tuple[Any, int]:
    """A study with one trial left RUNNING by a process that is gone."""
    study = optuna.create_study(storage=storage, study_name="left", direction="maximize")
    trial = study.ask()
    trial.suggest_int("seed", 0, 9)
    return study, trial.number


def test_recover_trial_fails_and_requeues_up_to_max_retry() -> None:
    from moalign.tuning.recovery import recover_trial

    study, number = one_running_trial()
    rec = recover_trial(study, number, max_retry=1, runs=None)
    assert rec.failed and rec.retried
    first, retry = study.get_trials()
    assert first.state == TrialState.FAIL and retry.state == TrialState.WAITING
    assert retry.params == first.params and retry.user_attrs == {RETRY_ATTR: 0}
    assert RetryHeartbeatStaleTrialCallback.retry_history(retry) == [0]
    assert not recover_trial(study, number, max_retry=1, runs=None).failed  # not RUNNING
    # the retry dies too: FAIL, and max_retry 1 is used up
    assert study.ask().number == retry.number  # the worker pops the queued retry
    again = recover_trial(study, retry.number, max_retry=1, runs=None)
    assert again.failed and not again.retried
    assert [t.state for t in study.get_trials()] == [TrialState.FAIL, TrialState.FAIL]


def make_child_run(uri: str, experiment: str, study: Any, number: int, *, tagged: bool
                   ) -> str:
    """A tuning run and trial ``number``'s child run, RUNNING (its worker was killed);
    ``tagged=False``: killed before the trial tags were set."""
    from mlflow import MlflowClient

    client = MlflowClient(uri)
    exp = client.create_experiment(experiment)
    parent = client.create_run(exp, run_name="tune-left").info.run_id
    study.set_user_attr("moalign.parent_run_id", parent)
    client.create_run(exp, run_name="toy-trial-99", tags={"mlflow.parentRunId": parent})
    tags = {"mlflow.parentRunId": parent}
    if tagged:
        tags |= {"moalign.study_name": study.study_name, "moalign.trial_number": str(number)}
    return str(client.create_run(exp, run_name=f"toy-trial-{number}", tags=tags).info.run_id)


@pytest.mark.parametrize("tagged", [True, False])
def test_dead_trial_mlflow_run_is_failed(mlflow_uri: str, tagged: bool) -> None:
    from mlflow import MlflowClient

    from moalign.recipes.schema import TrackingSpec
    from moalign.tuning.recovery import TrialRuns, recover_trial

    study, number = one_running_trial()
    experiment = f"dead-run-{tagged}"
    run_id = make_child_run(mlflow_uri, experiment, study, number, tagged=tagged)
    runs = TrialRuns(TrackingSpec(uri=mlflow_uri, experiment=experiment), "toy")
    rec = recover_trial(study, number, max_retry=1, runs=runs)
    assert rec.runs == (run_id,)
    run = MlflowClient(mlflow_uri).get_run(run_id)
    assert run.info.status == "FAILED" and run.data.tags["moalign.trial_state"] == "FAIL"
    others = child_runs(mlflow_uri, experiment, study.user_attrs["moalign.parent_run_id"])
    assert sorted(r.info.status for r in others) == ["FAILED", "RUNNING"]  # toy-trial-99


def test_stale_trial_callback_fails_run_and_requeues(mlflow_uri: str) -> None:
    """What Optuna's heartbeat calls (after marking the stale trial FAIL)."""
    from mlflow import MlflowClient

    from moalign.recipes.schema import TrackingSpec
    from moalign.tuning.recovery import StaleTrialCallback, TrialRuns

    study, number = one_running_trial()
    run_id = make_child_run(mlflow_uri, "stale", study, number, tagged=True)
    study.tell(number, state=TrialState.FAIL)
    callback = StaleTrialCallback(1, TrialRuns(TrackingSpec(uri=mlflow_uri,
                                                            experiment="stale"), "toy"))
    callback(study, study.get_trials()[number])
    assert MlflowClient(mlflow_uri).get_run(run_id).info.status == "FAILED"
    assert study.get_trials()[-1].state == TrialState.WAITING
    assert study.get_trials()[-1].user_attrs == {RETRY_ATTR: number}


def test_rdb_storage_uses_moalign_stale_callback(tmp_path: Path) -> None:
    from moalign.tuning.recovery import StaleTrialCallback

    store = make_storage(f"sqlite:///{tmp_path / 'hb.db'}", HeartbeatSpec(interval=5))
    callback = store.get_heartbeat_stale_trial_callback()
    assert isinstance(callback, StaleTrialCallback) and callback.max_retry == 1


def test_fail_stale_option_retries_a_left_running_trial(tmp_path: Path) -> None:
    """A journal study left with a RUNNING trial (its process was killed): nothing can tell
    it is dead, unless the caller says so with ``fail_stale``."""
    from moalign.recipes.loader import parse_recipe
    from moalign.tuning import tune

    storage = str(tmp_path / "left.log")
    block = {"params": {"seed": {"type": "int", "low": 0, "high": 9}}, "pruner": "none",
             "study_name": "left"}
    recipe = parse_recipe(recipe_data(tmp_path, block, evaluations=10))
    study, number = one_running_trial(make_storage(storage, HeartbeatSpec()))
    plain = tune(recipe, n_trials=1, storage=storage, verbose=False)
    assert [t.state for t in plain.study.get_trials()] == [TrialState.RUNNING,
                                                           TrialState.COMPLETE]
    import optuna
    import yaml

    from moalign.cli import main

    path = tmp_path / "left.yaml"
    path.write_text(yaml.safe_dump(recipe_data(tmp_path, block, evaluations=10)))
    assert main(["tune", str(path), "--n-trials", "1", "--storage", storage,
                 "--fail-stale"]) == 0
    trials = optuna.load_study(study_name="left",
                               storage=make_storage(storage, HeartbeatSpec())).get_trials()
    assert [t.state for t in trials] == [TrialState.FAIL, TrialState.COMPLETE,
                                         TrialState.COMPLETE]
    assert trials[2].user_attrs[RETRY_ATTR] == number
    assert trials[2].params == trials[number].params


def test_worker_report_exit_semantics() -> None:
    from moalign.tuning.recovery import Recovery
    from moalign.tuning.workers import WorkerExit, WorkersReport

    retried = WorkerExit(0, 11, -9, 3, killed=True, recovery=Recovery(3, True, True),
                         replaced_by=2)
    idle = WorkerExit(1, 12, -15, None, killed=True, replaced_by=3)
    assert retried.ok and idle.ok
    assert WorkersReport([retried, idle, WorkerExit(2, 13, 0)]).errors() == []
    lost = WorkerExit(0, 11, -9, 3, killed=True, recovery=Recovery(3, True, False))
    assert not lost.ok
    assert WorkersReport([lost]).errors() == [
        "worker 0 (pid 11): killed by SIGKILL in trial 3; trial 3 marked FAIL, not retried "
        "(tune.heartbeat.max_retry reached)"]
    raised = WorkerExit(1, 12, 1, 4)  # its trial raised: FAIL already, not a death
    assert not raised.ok and not WorkersReport([raised]).config_error
    assert WorkersReport([WorkerExit(1, 12, 2)]).config_error
    assert WorkersReport([retried], unclaimed=2).errors() == [
        "2 trial(s) not run: no worker left (replacement limit reached)"]

"""Tuning across machines on a real PostgreSQL server (slow).

A PostgreSQL 16 server is started from the ``pgserver`` package (its binaries ship in the
wheel: no system install), listening on ``127.0.0.1`` and a free port, as a server on
another machine would be reached. ``moalign tune`` then runs against
``postgresql://postgres@127.0.0.1:PORT/postgres`` (the driver, psycopg 3, is found by
:func:`moalign.tuning.components.engine_url`):

* two ``moalign tune`` processes, as two machines run the same command: one is SIGKILLed
  mid-trial, and the survivor's Optuna heartbeat fails the dead trial, moalign's callback
  ends its MLflow run FAILED and queues its parameters again, and the survivor runs it;
* one ``moalign tune --n-workers 2``: a worker is SIGKILLed mid-trial, and the ``tune``
  process recovers its trial at once (as with SQLite and journal files).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import optuna
import pytest
import yaml
from optuna.exceptions import ExperimentalWarning
from optuna.storages import RetryHeartbeatStaleTrialCallback
from optuna.trial import TrialState
from test_tune_recovery import check_killed_trial_retried, check_output, kill_one_worker
from tune_helpers import child_runs, recipe_data, start_tune, wait_until

from moalign.tuning.components import make_storage
from moalign.tuning.spec import HeartbeatSpec

pytestmark = [pytest.mark.slow,
              pytest.mark.filterwarnings("ignore", category=ExperimentalWarning)]
RETRY_ATTR = "moalign.retry_of"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def postgres_url(tmp_path: Path) -> Iterator[str]:
    """A PostgreSQL server from the ``pgserver`` wheel on 127.0.0.1:<free port>; its URL.

    ``pgserver.get_server`` creates the data folder (``initdb``; as root, under a system
    user ``pgserver``, since PostgreSQL refuses to run as root) and starts the server on a
    Unix socket only; it is then restarted to listen on TCP, as a remote server would.
    """
    pgserver = pytest.importorskip("pgserver")
    pytest.importorskip("psycopg")
    data = tmp_path / "pgdata"
    server = pgserver.get_server(data, cleanup_mode=None)
    user = server.system_user
    pgserver.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=data, user=user, timeout=60)
    port = _free_port()
    pgserver.pg_ctl(["-w", "-t", "60", "-o", f"-h 127.0.0.1 -p {port} -k ''",
                     "-l", str(data / "tcp.log"), "start"], pgdata=data, user=user, timeout=90)
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        try:
            pgserver.pg_ctl(["-w", "-m", "immediate", "stop"], pgdata=data, user=user,
                            timeout=60)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired):  # pragma: no cover
            pass


def test_postgres_url_opens_an_optuna_study(postgres_url: str) -> None:
    """A plain ``postgresql://`` URL works with psycopg 3 alone, heartbeat included."""
    store = make_storage(postgres_url, HeartbeatSpec(interval=1))
    study = optuna.create_study(storage=store, study_name="smoke")
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=2)
    again = optuna.load_study(study_name="smoke",
                              storage=make_storage(postgres_url, HeartbeatSpec()))
    assert [t.state for t in again.get_trials()] == [TrialState.COMPLETE] * 2
    assert store.get_heartbeat_interval() == 1


def test_two_machines_killed_one_heartbeat_retries_its_trial(
        tmp_path: Path, postgres_url: str, mlflow_uri: str) -> None:
    """Two ``moalign tune`` commands on one PostgreSQL study; one is SIGKILLed in a trial.

    Machine A runs ``--n-trials 2``, machine B ``--n-trials 3``. Both hold their first
    trial until the test kills A and waits past ``grace_period``; then B finishes its
    trial, and before its next one Optuna's heartbeat fails A's trial (FAIL), moalign's
    callback ends A's MLflow run FAILED and queues its parameters, and B runs that retry
    and one new trial: 4 trials in the study (3 complete, 1 failed), none left RUNNING.
    """
    experiment = "tune-postgres-machines"
    hold, pids = tmp_path / "hold", tmp_path / "pids"
    hold.touch()
    pids.mkdir()
    block = {"study_name": "machines",
             "params": {"seed": {"type": "int", "low": 0, "high": 10_000}},
             "sampler": {"name": "random", "seed": 0}, "pruner": "none",
             "heartbeat": {"interval": 1, "grace_period": 4, "max_retry": 1}}
    data = recipe_data(tmp_path, block, uri=mlflow_uri, experiment=experiment,
                       problem_params={"hold_while": str(hold), "pid_dir": str(pids)},
                       evaluations=10)
    path = tmp_path / "machines.yaml"
    path.write_text(yaml.safe_dump(data))
    t0 = time.monotonic()
    machine_a = start_tune(path, "--storage", postgres_url, "--n-trials", "2")
    machine_b = start_tune(path, "--storage", postgres_url, "--n-trials", "3",
                           "--set", "tune.sampler.seed=1")  # a seed per machine (docs)
    try:
        in_trial = {str(machine_a.pid), str(machine_b.pid)}
        wait_until(lambda: ({p.name for p in pids.iterdir()} >= in_trial
                            or machine_a.poll() is not None or machine_b.poll() is not None),
                   240, "both machines in a trial")
        for proc in (machine_a, machine_b):
            if proc.poll() is not None:
                out, err = proc.communicate()
                raise AssertionError(f"tune ended early ({proc.returncode}): {out}{err}")
        os.kill(machine_a.pid, signal.SIGKILL)
        killed_at = time.monotonic()
        machine_a.communicate(timeout=60)
        time.sleep(4 + 2)  # past grace_period: A's heartbeat is stale
        hold.unlink()
        out, err = machine_b.communicate(timeout=300)
    finally:
        hold.unlink(missing_ok=True)
        for proc in (machine_a, machine_b):
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    print(f"two machines on PostgreSQL: {time.monotonic() - t0:.1f} s in all, "
          f"{time.monotonic() - killed_at:.1f} s after the kill")
    assert machine_a.returncode == -signal.SIGKILL
    assert machine_b.returncode == 0, out + err
    assert "4 trials (3 complete, 0 pruned, 1 failed, 0 running)" in out, out + err

    study = optuna.load_study(study_name="machines",
                              storage=make_storage(postgres_url, HeartbeatSpec()))
    trials = study.get_trials()
    states = [t.state for t in trials]
    assert len(trials) == 4 and states.count(TrialState.COMPLETE) == 3, states
    (killed,) = [t for t in trials if t.state == TrialState.FAIL]
    (retry,) = [t for t in trials
                if RetryHeartbeatStaleTrialCallback.retried_trial_number(t) == killed.number]
    assert retry.state == TrialState.COMPLETE
    assert retry.params == killed.params and retry.user_attrs[RETRY_ATTR] == killed.number

    parent = study.user_attrs["moalign.parent_run_id"]
    runs = {int(r.data.tags["moalign.trial_number"]): r
            for r in child_runs(mlflow_uri, experiment, parent)}
    assert sorted(runs) == [t.number for t in trials]
    assert runs[killed.number].info.status == "FAILED"
    assert runs[killed.number].data.tags["moalign.trial_state"] == "FAIL"
    assert {runs[t.number].info.status for t in trials if t is not killed} == {"FINISHED"}


def test_killed_local_worker_on_postgres_is_recovered(tmp_path: Path, postgres_url: str,
                                                      mlflow_uri: str) -> None:
    """``--n-workers 2`` on PostgreSQL: the ``tune`` process recovers a killed worker's
    trial at once, as with SQLite."""
    code, out, seconds = kill_one_worker(tmp_path, postgres_url, mlflow_uri, "kill-postgres")
    print(f"kill test (postgres): {seconds:.1f} s")
    check_output(code, out)
    check_killed_trial_retried(postgres_url, mlflow_uri, "kill-postgres")

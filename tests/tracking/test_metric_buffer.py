"""The metric writer that holds metrics while a tracking server is away.

The store is a real MLflow store (SQLite); :class:`FlakyClient` wraps the real client and
makes ``log_batch`` fail the way MLflow does when a server is down (an ``MlflowException``
"... Connection refused"), or write and then fail (the answer lost on the way back). The
test against a real ``mlflow server`` that is stopped and restarted is in
``test_tracking_server.py`` (slow).
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from mlflow import MlflowClient
from mlflow.entities import Metric
from mlflow.exceptions import MlflowException

from moalign.tracking import mlflow_tracker
from moalign.tracking.buffer import MetricWriter, TrackingWriteError, is_transient
from moalign.tracking.mlflow_tracker import MLflowTracker, is_server_uri, short_http_retries

REFUSED = ("API request to http://127.0.0.1:5000/api/2.0/mlflow/runs/log-batch failed with "
           "exception HTTPConnectionPool(host='127.0.0.1', port=5000): Max retries exceeded "
           "(Caused by NewConnectionError: [Errno 111] Connection refused)")


class FlakyClient:
    """The real ``MlflowClient``; ``log_batch`` fails while ``down`` is set, and writes
    then fails for the next ``lose_answers`` calls. Everything else passes through."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.down = threading.Event()
        self.lose_answers = 0
        self.attempts = 0

    def log_batch(self, run_id: str, metrics: Any = (), **kw: Any) -> Any:
        self.attempts += 1
        if self.down.is_set():
            raise MlflowException(REFUSED)
        out = self.client.log_batch(run_id, metrics=metrics, **kw)
        if self.lose_answers:
            self.lose_answers -= 1
            raise MlflowException("API request failed with exception Read timed out")
        return out

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)


def new_run(uri: str, experiment: str) -> tuple[Any, str]:
    client = MlflowClient(uri)
    exp = client.get_experiment_by_name(experiment)
    exp_id = exp.experiment_id if exp else client.create_experiment(experiment)
    return client, str(client.create_run(exp_id).info.run_id)


def history(client: Any, run_id: str, key: str) -> list[tuple[int, float]]:
    return [(m.step, m.value) for m in client.get_metric_history(run_id, key)]


def batch(steps: range, t0: int = 1_700_000_000_000) -> list[Metric]:
    return [Metric("hv", float(s) / 10, t0 + s, s) for s in steps]


def test_metrics_held_while_the_store_is_down_arrive_once(mlflow_uri: str) -> None:
    real, run_id = new_run(mlflow_uri, "buffer-outage")
    flaky = FlakyClient(real)
    w = MetricWriter(lambda b: flaky.log_batch(run_id, metrics=b), name="store",
                     retry_min=0.02, retry_max=0.1, verbose=False)
    w.submit(batch(range(0, 3)))
    w.wait(10)
    flaky.down.set()
    for k in range(3, 12, 3):  # the run goes on: three more batches while the store is away
        w.submit(batch(range(k, k + 3)))
    time.sleep(0.4)
    assert w.unreachable and history(real, run_id, "hv") == [(s, s / 10) for s in range(3)]
    assert [m.step for m in w.pending()] == list(range(3, 12))  # held, oldest first
    with pytest.raises(TrackingWriteError, match="9 metric.*not written.*Connection refused"):
        w.wait(0.2)
    flaky.down.clear()
    w.wait(10)
    assert history(real, run_id, "hv") == [(s, s / 10) for s in range(12)]
    assert w.pending() == [] and not w.unreachable
    assert w.stats.outages == 1 and w.stats.failed_writes >= 2 and w.stats.batches == 4
    assert w.stats.max_pending == 9
    w.close()


def test_a_batch_whose_answer_was_lost_is_not_stored_twice(mlflow_uri: str) -> None:
    """The write reached the store, the answer did not: the retry sends the same metrics
    (same timestamps) and the store keeps one row of each."""
    real, run_id = new_run(mlflow_uri, "buffer-lost-answer")
    flaky = FlakyClient(real)
    flaky.lose_answers = 2
    w = MetricWriter(lambda b: flaky.log_batch(run_id, metrics=b), retry_min=0.01,
                     retry_max=0.02, verbose=False)
    w.submit(batch(range(5)))
    w.wait(10)
    assert flaky.attempts == 3
    assert history(real, run_id, "hv") == [(s, s / 10) for s in range(5)]
    w.close()


def test_a_refused_batch_is_reported_and_the_next_ones_written(mlflow_uri: str) -> None:
    real, run_id = new_run(mlflow_uri, "buffer-refused")
    targets = iter(["0" * 32, run_id])  # a run the store does not have, then the real one
    w = MetricWriter(lambda b: real.log_batch(next(targets), metrics=b), name="store",
                     retry_min=0.01, verbose=False)
    w.submit(batch(range(2)))
    w.submit(batch(range(2, 4)))
    with pytest.raises(TrackingWriteError, match="store: the tracking store refused 2"):
        w.wait(10)
    assert history(real, run_id, "hv") == [(2, 0.2), (3, 0.3)]
    assert [m.step for m in w.pending()] == [0, 1]
    w.close()


def test_transient_and_permanent_errors() -> None:
    from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE, RESOURCE_DOES_NOT_EXIST

    assert is_transient(MlflowException(REFUSED))
    assert is_transient(ConnectionError("reset")) and is_transient(TimeoutError())
    assert not is_transient(MlflowException("bad", error_code=INVALID_PARAMETER_VALUE))
    assert not is_transient(MlflowException("gone", error_code=RESOURCE_DOES_NOT_EXIST))


def test_tracker_on_a_server_holds_metrics_in_checkpoints_and_ends_with_all(
        mlflow_uri: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """MLflowTracker's server path (its writer) on the real store, the store made to fail:
    ``pending()`` (what a checkpoint keeps) has the held metrics, ``end()`` writes them."""
    for key in mlflow_tracker.HTTP_DEFAULTS:
        monkeypatch.delenv(key, raising=False)
    tr = MLflowTracker(mlflow_uri, "buffer-tracker")
    tr.start("outage", {})
    tr.server = True  # as for http://: metrics go through the writer
    flaky = FlakyClient(tr.client)
    tr.client = flaky
    tr.log_metrics({"hv": 0.5, "n": 1.0}, 0)
    tr.flush()
    tr.wait()
    flaky.down.set()
    tr.log_metrics({"hv": 0.6, "n": 2.0}, 1)
    tr.flush()
    tr.log_metrics({"hv": 0.7, "n": 3.0}, 2)  # not flushed yet
    time.sleep(0.3)
    assert sorted((m.key, m.step) for m in tr.pending()) == [
        ("hv", 1), ("hv", 2), ("n", 1), ("n", 2)]
    threading.Timer(1.0, flaky.down.clear).start()  # the server is back in a second
    tr.end()
    run = flaky.client.get_run(tr.run_id)
    assert run.info.status == "FINISHED"
    assert history(flaky.client, tr._rid(), "hv") == [(0, 0.5), (1, 0.6), (2, 0.7)]
    assert history(flaky.client, tr._rid(), "n") == [(0, 1.0), (1, 2.0), (2, 3.0)]


def test_server_uris_get_short_http_retries_unless_set(monkeypatch: pytest.MonkeyPatch
                                                       ) -> None:
    import os

    assert is_server_uri("http://127.0.0.1:5000") and is_server_uri("HTTPS://mlflow.example")
    assert not is_server_uri("sqlite:///mlruns/mlflow.db") and not is_server_uri("mlruns")
    for key in mlflow_tracker.HTTP_DEFAULTS:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "300")  # the user's choice wins
    short_http_retries()
    assert os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] == "2"
    assert os.environ["MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR"] == "1"
    assert os.environ["MLFLOW_HTTP_REQUEST_TIMEOUT"] == "300"
    from mlflow.environment_variables import MLFLOW_HTTP_REQUEST_MAX_RETRIES

    assert MLFLOW_HTTP_REQUEST_MAX_RETRIES.get() == 2  # the names MLflow reads


def test_a_server_that_stays_away_fails_the_wait_then_ends_fast(
        mlflow_uri: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past ``MOALIGN_TRACKING_WAIT_SECONDS`` the wait raises, naming the store, and the
    metrics stay pending; the next wait (ending the run FAILED) is short."""
    monkeypatch.setenv("MOALIGN_TRACKING_WAIT_SECONDS", "0.5")
    monkeypatch.setattr(mlflow_tracker, "WAIT_AGAIN_SECONDS", 0.2)
    tr = MLflowTracker(mlflow_uri, "buffer-gone")
    tr.start("gone", {})
    tr.server = True
    flaky = FlakyClient(tr.client)
    tr.client = flaky
    flaky.down.set()
    tr.log_metrics({"hv": 0.5}, 0)
    tr.flush()
    t0 = time.monotonic()
    with pytest.raises(TrackingWriteError, match=r"MLflow server .*: 1 metric\(s\) not "
                                                 r"written after waiting 0.5 s"):
        tr.wait()
    assert 0.5 <= time.monotonic() - t0 < 3
    assert [(m.key, m.step) for m in tr.pending()] == [("hv", 0)]
    t1 = time.monotonic()
    with pytest.raises(TrackingWriteError, match="after waiting 0.2 s"):
        tr.end("FAILED")
    assert time.monotonic() - t1 < 2
    flaky.down.clear()  # back: the held metric is written at the writer's next try
    assert tr._writer is not None
    tr._writer.wait(10)
    tr.end("FAILED")
    assert history(flaky.client, tr._rid(), "hv") == [(0, 0.5)]
    assert flaky.client.get_run(tr._rid()).info.status == "FAILED"

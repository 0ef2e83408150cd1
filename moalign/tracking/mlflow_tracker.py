"""MLflow tracker: an explicit ``MlflowClient`` and run id, never MLflow's global state.

Default store: ``sqlite:///mlruns/mlflow.db`` (MLflow 3's recommended SQLite backend) with
artifacts under ``mlruns/artifacts``, relative to the working directory; ``MLFLOW_TRACKING_URI``
or ``tracking.uri`` override it. Metrics are buffered and written with ``log_batch`` when
:meth:`flush` is called (the runner flushes every few seconds at checkpoints and at the
end) through MLflow's asynchronous logging, so the run does not wait for the store.
Checkpoints carry the metrics not known to be written; a resumed run re-queues those the
store does not have, so each step is logged exactly once.

On an MLflow server (``http://`` or ``https://``) the metrics go through
:class:`~moalign.tracking.buffer.MetricWriter` instead: written in order from a background
thread and, while the server is unreachable, held and retried, so the run goes on and the
metrics arrive once the server is back (nothing lost, nothing written twice). MLflow's own
HTTP retries (``MLFLOW_HTTP_REQUEST_MAX_RETRIES``, 7 with a backoff factor of 2: minutes)
are shortened for such a run unless set in the environment (:data:`HTTP_DEFAULTS`), and
:meth:`MLflowTracker.wait` waits at most ``MOALIGN_TRACKING_WAIT_SECONDS`` (default
:data:`WAIT_SECONDS`) for a server that is still away when the run ends.
"""

from __future__ import annotations

import gc
import math
import os
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from moalign.tracking.buffer import MetricWriter, TrackingWriteError

if TYPE_CHECKING:
    import pandas as pd

DEFAULT_DIR = "mlruns"
_MAX_BATCH = 1000  # MLflow's log_batch limit for metrics

#: MLflow's HTTP settings for a run on a server, unless the environment sets them: one
#: request gives up after about 5 s when the server is down (MLflow's defaults: 7 retries,
#: backoff factor 2, 120 s timeout, about 4 minutes), and moalign's writer retries the
#: metrics itself without stopping the run.
HTTP_DEFAULTS = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
                 "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
                 "MLFLOW_HTTP_REQUEST_TIMEOUT": "20"}

#: Seconds :meth:`MLflowTracker.wait` waits for a server that is away
#: (``MOALIGN_TRACKING_WAIT_SECONDS`` overrides it).
WAIT_SECONDS = 300.0
#: Seconds the waits after one that ran out wait (ending the run FAILED, for one).
WAIT_AGAIN_SECONDS = 5.0


def is_server_uri(uri: str) -> bool:
    """An MLflow tracking server (``http://``, ``https://``), as opposed to a local store."""
    return uri.split("://", 1)[0].lower() in ("http", "https")


def short_http_retries() -> None:
    """Set :data:`HTTP_DEFAULTS` in ``os.environ`` where the environment does not set them
    (MLflow reads them at every request)."""
    for key, value in HTTP_DEFAULTS.items():
        os.environ.setdefault(key, value)


def wait_seconds() -> float:
    """``MOALIGN_TRACKING_WAIT_SECONDS`` if set, else :data:`WAIT_SECONDS`."""
    raw = os.environ.get("MOALIGN_TRACKING_WAIT_SECONDS")
    return float(raw) if raw else WAIT_SECONDS


def _done(op: Any) -> bool:
    futures = getattr(op, "_operation_futures", None)
    return futures is not None and all(f.done() for f in futures)


@contextmanager
def gc_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off for the block (back on after, if it was on).

    Writing metrics makes thousands of short-lived SQLAlchemy objects. In a process holding
    a large heap (torch, the solver's data), that allocation burst can set off a full
    collection of the whole heap, which took 0.25 s in the 20,000-evaluation NSGA-II
    benchmark, longer than the write itself. While the main thread only waits for the
    write, the collector is paused (the objects are freed by reference counting anyway);
    a collection that was due runs later, with the next allocations.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def default_tracking_uri() -> str:
    """``MLFLOW_TRACKING_URI`` if set, else the SQLite store under ``./mlruns``."""
    env = os.environ.get("MLFLOW_TRACKING_URI")
    if env:
        return env
    return f"sqlite:///{DEFAULT_DIR}/mlflow.db"


def open_client(uri: str | None = None) -> Any:
    """An ``MlflowClient`` for ``uri`` (default :func:`default_tracking_uri`).

    MLflow creates and migrates a SQLite store when a client first opens it, and its
    migrations are not safe to race: two commands starting on a new ``mlruns/`` at once
    would fail. For a local SQLite store the client is therefore opened under a file lock
    beside the database (``mlflow.db.lock``).
    """
    from mlflow import MlflowClient

    uri = uri or default_tracking_uri()
    if not uri.startswith("sqlite:///"):
        return MlflowClient(tracking_uri=uri)
    from filelock import FileLock

    db = Path(uri[len("sqlite:///"):])
    db.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(db) + ".lock"):
        return MlflowClient(tracking_uri=uri)


def _artifact_root_for(uri: str) -> str | None:
    """Artifact location beside a local SQLite store (None for servers: they decide)."""
    if not uri.startswith("sqlite:///"):
        return None
    db = Path(uri[len("sqlite:///"):])
    return (db.resolve().parent / "artifacts").as_uri()


class MLflowTracker:
    """Logs one run to MLflow.

    Args:
        uri: tracking URI (None: :func:`default_tracking_uri`).
        experiment: experiment name (created if missing).
        run_id: continue this existing run instead of creating one (resume).
        parent_run_id: make the new run a child of this run (tuning trials).
    """

    def __init__(
        self,
        uri: str | None = None,
        experiment: str = "moalign",
        *,
        run_id: str | None = None,
        parent_run_id: str | None = None,
    ) -> None:
        self.uri = uri or default_tracking_uri()
        self.server = is_server_uri(self.uri)
        if self.server:
            short_http_retries()
        self.client = open_client(self.uri)
        self.experiment = experiment
        self.run_id = run_id
        self.parent_run_id = parent_run_id
        self._buffer: list[Any] = []
        self._in_flight: list[tuple[Any, list[Any]]] = []
        self._writer: MetricWriter | None = None  # on a server: holds metrics while away
        self._gave_up = False  # a wait ran out: later waits are short

    def experiment_id(self) -> str:
        exp = self.client.get_experiment_by_name(self.experiment)
        if exp is not None:
            return str(exp.experiment_id)
        try:
            return str(self.client.create_experiment(
                self.experiment, artifact_location=_artifact_root_for(self.uri)))
        except Exception:  # created concurrently by another worker
            exp = self.client.get_experiment_by_name(self.experiment)
            if exp is None:
                raise
            return str(exp.experiment_id)

    def start(self, run_name: str | None, tags: Mapping[str, str]) -> str | None:
        all_tags = dict(tags)
        if self.parent_run_id:
            all_tags["mlflow.parentRunId"] = self.parent_run_id
        if self.run_id is None:
            run = self.client.create_run(self.experiment_id(), run_name=run_name, tags=all_tags)
            self.run_id = run.info.run_id
        else:
            self.client.update_run(self.run_id, status="RUNNING")
            for k, v in all_tags.items():
                self.client.set_tag(self.run_id, k, v)
        return self.run_id

    def _rid(self) -> str:
        if self.run_id is None:
            raise RuntimeError("MLflowTracker: start() was not called")
        return self.run_id

    def log_params(self, params: Mapping[str, Any]) -> None:
        from mlflow.entities import Param

        items = [Param(k, str(v)[:6000]) for k, v in params.items()]
        for i in range(0, len(items), 100):
            self.client.log_batch(self._rid(), params=items[i:i + 100])

    def log_metrics(self, metrics: Mapping[str, float], step: int) -> None:
        from mlflow.entities import Metric

        ts = int(time.time() * 1000)
        self._buffer.extend(
            Metric(k, float(v), ts, int(step)) for k, v in metrics.items()
            if v is not None and math.isfinite(float(v))
        )

    def flush(self) -> None:
        """Hand the buffered metrics to MLflow's asynchronous logging (a background
        thread writes them); :meth:`wait` blocks until everything is written."""
        self._reap()
        buf, self._buffer = self._buffer, []
        if self.server and buf:
            writer = self._metric_writer()
            for i in range(0, len(buf), _MAX_BATCH):
                writer.submit(buf[i:i + _MAX_BATCH])
            return
        for i in range(0, len(buf), _MAX_BATCH):
            chunk = buf[i:i + _MAX_BATCH]
            op = self.client.log_batch(self._rid(), metrics=chunk, synchronous=False)
            self._in_flight.append((op, chunk))

    def _metric_writer(self) -> MetricWriter:
        if self._writer is None:
            rid = self._rid()
            self._writer = MetricWriter(
                lambda batch: self.client.log_batch(rid, metrics=batch),
                name=f"MLflow server {self.uri}")
        return self._writer

    def wait(self) -> None:
        """Block until every metric handed to MLflow is written (the garbage collector
        paused meanwhile, :func:`gc_paused`). On a server that is away, wait for it at
        most :func:`wait_seconds` (:data:`WAIT_AGAIN_SECONDS` once a wait has run out).

        Raises:
            TrackingWriteError: the server stayed away, or refused metrics.
        """
        if self._writer is not None:
            timeout = WAIT_AGAIN_SECONDS if self._gave_up else wait_seconds()
            try:
                self._writer.wait(timeout)
            except TrackingWriteError:
                self._gave_up = True
                raise
        in_flight, self._in_flight = self._in_flight, []
        with gc_paused():
            for op, _ in in_flight:
                if op is not None:
                    op.wait()

    def _reap(self) -> None:
        self._in_flight = [(op, chunk) for op, chunk in self._in_flight
                           if op is not None and not _done(op)]

    def discard_buffer(self) -> None:
        self._buffer = []

    def pending(self) -> list[Any]:
        """Metrics not known to be written: the buffer and writes still in flight."""
        self._reap()
        held = self._writer.pending() if self._writer is not None else []
        return held + [m for _, chunk in self._in_flight for m in chunk] + list(self._buffer)

    def restore_pending(self, items: list[Any]) -> None:
        """Re-queue a checkpoint's pending metrics, minus those the store already has
        (a write in flight at the checkpoint may have finished before the run died)."""
        logged: dict[str, set[int]] = {}
        for key in {m.key for m in items}:
            hist = self.client.get_metric_history(self._rid(), key)
            logged[key] = {h.step for h in hist}
        fresh = [m for m in items if m.step not in logged[m.key]]
        self._buffer = fresh + self._buffer

    def log_artifact(self, path: str | Path, artifact_path: str | None = None) -> None:
        self.client.log_artifact(self._rid(), str(path), artifact_path)

    def log_artifacts(self, directory: str | Path, artifact_path: str | None = None) -> None:
        self.client.log_artifacts(self._rid(), str(directory), artifact_path)

    def log_text(self, text: str, artifact_file: str) -> None:
        self.client.log_text(self._rid(), text, artifact_file)

    def log_table(self, df: pd.DataFrame, artifact_file: str) -> None:
        """Log ``df`` as an MLflow table, replacing a table of that name (MLflow's own
        ``log_table`` appends to it, so a resumed run would log its front twice)."""
        folder, _, name = artifact_file.rpartition("/")
        logged = {f.path for f in self.client.list_artifacts(self._rid(), folder or None)}
        if artifact_file not in logged:
            self.client.log_table(self._rid(), data=df, artifact_file=artifact_file)
            return
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / name
            df.to_json(path, orient="split", index=False, date_format="iso")  # MLflow's format
            self.client.log_artifact(self._rid(), str(path), folder or None)

    def run_status(self) -> str | None:
        """The MLflow status of ``run_id`` (``RUNNING``, ``FINISHED``, ...), or None when the
        store has no such run."""
        from mlflow.exceptions import MlflowException

        try:
            return str(self.client.get_run(self._rid()).info.status)
        except MlflowException:
            return None

    def run_name(self) -> str | None:
        """The run's name in the store (None when the store has no such run)."""
        from mlflow.exceptions import MlflowException

        try:
            return str(self.client.get_run(self._rid()).info.run_name) or None
        except MlflowException:
            return None

    def log_model(self, name: str, write: Callable[[Path, Any], None], *, step: int = 0
                  ) -> str:
        """Log an MLflow model as an MLflow 3 LoggedModel ``name``, an output of the run.

        ``write(path, mlflow_model)`` writes the model directory (e.g.
        ``mlflow.pyfunc.save_model(path, mlflow_model=mlflow_model, ...)``), with the
        model's id in ``mlflow_model``; the LoggedModel gets the run's params and ends
        READY. A run that logs ``name`` again (a resumed post-run phase) replaces the
        files of its earlier model of that name instead of adding a second one, so
        ``runs:/<run id>/<name>`` names one model. Returns the model's id.
        """
        from mlflow.entities import LoggedModelOutput
        from mlflow.models import Model

        rid = self._rid()
        run = self.client.get_run(rid)
        exp_id = run.info.experiment_id
        model = self._logged_model(exp_id, rid, name)
        if model is None:
            params = {k: str(v) for k, v in run.data.params.items()}
            model = self.client.create_logged_model(exp_id, name=name, source_run_id=rid,
                                                    params=params or None)
            self.client.log_outputs(rid, [LoggedModelOutput(model.model_id, step=step)])
        meta = Model(artifact_path=model.artifact_location, run_id=rid,
                     model_id=model.model_id, model_uuid=model.model_id)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / name
            write(path, meta)
            self.client.log_model_artifacts(model.model_id, str(path))
        self.client.finalize_logged_model(model.model_id, "READY")
        return str(model.model_id)

    def _logged_model(self, experiment_id: str, run_id: str, name: str) -> Any:
        """The run's LoggedModel named ``name``, or None."""
        token = None
        while True:
            page = self.client.search_logged_models(
                experiment_ids=[experiment_id], filter_string=f"name = '{name}'",
                page_token=token)
            for model in page:
                if model.source_run_id == run_id:
                    return model
            token = page.token
            if not token:
                return None

    def set_tag(self, key: str, value: str) -> None:
        self.client.set_tag(self._rid(), key, value)

    def end(self, status: str = "FINISHED") -> None:
        """Write every metric (waiting for a server that is away, see :meth:`wait`) and
        end the run with ``status``."""
        self.flush()
        self.wait()
        self.client.set_terminated(self._rid(), status=status)
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def metric_history(self, names: Sequence[str]) -> dict[str, list[tuple[int, float]]]:
        """Written values of the metrics ``names`` as ``(step, value)`` in step order (call
        :meth:`wait` first for the buffered ones); a name ending in ``/`` stands for every
        metric under that prefix. Metrics never written are left out."""
        logged = self.client.get_run(self._rid()).data.metrics
        keys = sorted(k for k in logged
                      if any(k == n or (n.endswith("/") and k.startswith(n)) for n in names))
        return {k: sorted((int(m.step), float(m.value))
                          for m in self.client.get_metric_history(self._rid(), k))
                for k in keys}

    def artifact_uri(self) -> str:
        return str(self.client.get_run(self._rid()).info.artifact_uri)

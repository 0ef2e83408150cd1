"""The Tracker protocol and the tracker that records nothing."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import pandas as pd


class Tracker(Protocol):
    """Where a run's parameters, metrics and artifacts go.

    Metrics are buffered: :meth:`flush` writes them. A checkpoint stores the metrics not yet
    flushed (:meth:`pending`) and a resumed run restores them (:meth:`restore_pending`), so
    a run killed and resumed logs every step exactly once.
    """

    run_id: str | None

    def start(self, run_name: str | None, tags: Mapping[str, str]) -> str | None: ...
    def log_params(self, params: Mapping[str, Any]) -> None: ...
    def log_metrics(self, metrics: Mapping[str, float], step: int) -> None: ...
    def flush(self) -> None: ...
    def wait(self) -> None: ...
    def discard_buffer(self) -> None: ...
    def pending(self) -> list[Any]: ...
    def restore_pending(self, items: list[Any]) -> None: ...
    def log_artifact(self, path: str | Path, artifact_path: str | None = None) -> None: ...
    def log_artifacts(self, directory: str | Path, artifact_path: str | None = None) -> None: ...
    def log_text(self, text: str, artifact_file: str) -> None: ...
    def log_table(self, df: pd.DataFrame, artifact_file: str) -> None: ...
    def log_model(self, name: str, write: Callable[[Path, Any], None], *, step: int = 0
                  ) -> str | None:
        """Log an MLflow model directory as the run's model ``name``: ``write(path,
        mlflow_model)`` creates the directory at ``path``, filling ``mlflow_model`` (an
        ``mlflow.models.Model`` carrying the model's id). Returns the model's id."""
        ...
    def set_tag(self, key: str, value: str) -> None: ...
    def end(self, status: str = "FINISHED") -> None: ...
    def run_status(self) -> str | None: ...
    def run_name(self) -> str | None:
        """The name the store holds for the run (None: no run, or no store)."""
        ...
    def metric_history(self, names: Sequence[str]) -> dict[str, list[tuple[int, float]]]:
        """Written values of the metrics ``names`` as ``(step, value)`` in step order; a
        name ending in ``/`` stands for every metric under that prefix."""
        ...


class NullTracker:
    """Tracks nothing (``tracking: {backend: none}``)."""

    run_id: str | None = None

    def start(self, run_name: str | None, tags: Mapping[str, str]) -> str | None:
        return None

    def log_params(self, params: Mapping[str, Any]) -> None:
        pass

    def log_metrics(self, metrics: Mapping[str, float], step: int) -> None:
        pass

    def flush(self) -> None:
        pass

    def wait(self) -> None:
        pass

    def discard_buffer(self) -> None:
        pass

    def pending(self) -> list[Any]:
        return []

    def restore_pending(self, items: list[Any]) -> None:
        pass

    def log_artifact(self, path: str | Path, artifact_path: str | None = None) -> None:
        pass

    def log_artifacts(self, directory: str | Path, artifact_path: str | None = None) -> None:
        pass

    def log_text(self, text: str, artifact_file: str) -> None:
        pass

    def log_table(self, df: pd.DataFrame, artifact_file: str) -> None:
        pass

    def log_model(self, name: str, write: Callable[[Path, Any], None], *, step: int = 0
                  ) -> str | None:
        return None

    def set_tag(self, key: str, value: str) -> None:
        pass

    def end(self, status: str = "FINISHED") -> None:
        pass

    def run_status(self) -> str | None:
        return None

    def run_name(self) -> str | None:
        return None

    def metric_history(self, names: Sequence[str]) -> dict[str, list[tuple[int, float]]]:
        return {}

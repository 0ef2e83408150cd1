"""Learned models as MLflow pyfunc models.

A solver's learned object (``Result.model``) that implements ``save(directory)``,
``classmethod load(directory)``, ``artifact_name`` and ``predict(data) -> DataFrame`` is
written by :func:`save_pyfunc_model` as an MLflow pyfunc model directory: the model's own
``save`` output goes into an artifact folder together with the ``"module:Class"`` that
loads it, and the generic :class:`LearnedModelWrapper` does the loading and forwards
``predict``. The tracker logs that directory under ``model.artifact_name``, so

    mlflow.pyfunc.load_model("runs:/<run_id>/pareto_set").predict(preferences)

and ``mlflow models serve -m runs:/<run_id>/pareto_set`` answer with the design for a
trade-off. Loading needs the model's class importable (``moalign`` installed), not the
solver's training code or a tracking server.

Example (with ``result`` a run's Result whose model predicts)::

    save_pyfunc_model(result.model, Path("out/pareto_set"))
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import mlflow.pyfunc
from mlflow.pyfunc import PythonModel

from moalign.core.registry import import_object

_LOADER_FILE = "moalign_loader.json"
_ARTIFACT_KEY = "learned_model"


def class_path(obj: Any) -> str:
    """``"module:Class"`` of an object's class."""
    cls = type(obj)
    return f"{cls.__module__}:{cls.__qualname__}"


def load_learned_model(directory: str | Path) -> Any:
    """Load a model directory written by :func:`save_pyfunc_model`'s artifact step."""
    directory = Path(directory)
    spec = json.loads((directory / _LOADER_FILE).read_text())["class"]
    return import_object(spec).load(directory)


class LearnedModelWrapper(PythonModel):
    """Generic pyfunc wrapper: loads the learned model from its artifact directory and
    forwards ``predict(model_input)`` to it."""

    def load_context(self, context: Any) -> None:
        self.model = load_learned_model(context.artifacts[_ARTIFACT_KEY])

    def predict(self, context, model_input, params=None):  # type: ignore[no-untyped-def]
        # no type hints on purpose: MLflow would read them as an input schema
        return self.model.predict(model_input)


def save_pyfunc_model(model: Any, path: Path) -> None:
    """Write ``model`` as an MLflow pyfunc model directory at ``path``.

    Args:
        model: has ``save(directory)``, ``classmethod load(directory)`` and
            ``predict(data)``.
        path: the model directory to create (must not exist or be empty).

    Raises:
        TypeError: ``model`` lacks ``save``, ``load`` or ``predict``.
    """
    for attr in ("save", "load", "predict"):
        if not callable(getattr(model, attr, None)):
            raise TypeError(f"{type(model).__name__} has no {attr}(); cannot be a pyfunc model")
    path = Path(path)
    if path.exists() and any(path.iterdir()):
        raise FileExistsError(f"{path} exists and is not empty")
    if path.exists():
        path.rmdir()
    with tempfile.TemporaryDirectory() as tmp:
        art = Path(tmp) / "model"
        art.mkdir()
        model.save(art)
        (art / _LOADER_FILE).write_text(json.dumps({"class": class_path(model)}))
        mlflow.pyfunc.save_model(
            path=str(path), python_model=LearnedModelWrapper(),
            artifacts={_ARTIFACT_KEY: str(art)},
            pip_requirements=["moalign"],  # explicit: skips MLflow's slow inference
        )

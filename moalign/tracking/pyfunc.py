"""Learned models as MLflow pyfunc models.

A solver's learned object (``Result.model``) that implements ``save(directory)``,
``classmethod load(directory)``, ``artifact_name`` and ``predict(data) -> DataFrame`` is
written by :func:`save_pyfunc_model` as an MLflow pyfunc model directory: the model's own
``save`` output goes into an artifact folder together with the ``"module:Class"`` that
loads it, and the generic :class:`LearnedModelWrapper` does the loading and forwards
``predict``. A model with ``input_example()`` gets a signature inferred from that example
and its prediction (``ParetoSetModel``: a `k x m` float64 tensor of preferences in,
columns ``x0..x{n-1}`` and ``pred_<objective>`` out). The requirements pin moalign, torch,
numpy and pandas at their installed versions (:func:`pinned_requirements`).

The runner logs that directory as an MLflow 3 LoggedModel named ``model.artifact_name``,
an output of the run (:meth:`moalign.tracking.mlflow_tracker.MLflowTracker.log_model`), so

    mlflow.pyfunc.load_model("runs:/<run_id>/pareto_set").predict(preferences)

(or ``models:/<model_id>``) and ``mlflow models serve -m runs:/<run_id>/pareto_set``
answer with the design for a trade-off. Loading needs the model's class importable
(``moalign`` installed), not the solver's training code or a tracking server.

Example (with ``result`` a run's Result whose model predicts)::

    save_pyfunc_model(result.model, Path("out/pareto_set"))
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import mlflow.pyfunc
import numpy as np
from mlflow.pyfunc import PythonModel

from moalign.core.registry import import_object

_LOADER_FILE = "moalign_loader.json"
_ARTIFACT_KEY = "learned_model"
REQUIREMENTS = ("moalign", "torch", "numpy", "pandas")
"""What loading and predicting needs besides MLflow (which MLflow adds itself)."""


def pinned_requirements(packages: Sequence[str] = REQUIREMENTS) -> list[str]:
    """``name==version`` of each installed package, without a local version label
    (``torch 2.13.0+cpu`` -> ``torch==2.13.0``, which pip finds on PyPI); a package that
    is not installed is listed unpinned."""
    out = []
    for name in packages:
        try:
            out.append(f"{name}=={version(name).split('+')[0]}")
        except PackageNotFoundError:
            out.append(name)
    return out


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


def _signature(model: Any) -> tuple[Any, np.ndarray | None]:
    """The signature inferred from ``model.input_example()`` and its prediction, and that
    example (None, None for a model without an example)."""
    make_example = getattr(model, "input_example", None)
    if not callable(make_example):
        return None, None
    from mlflow.models import infer_signature

    example = np.asarray(make_example())
    return infer_signature(example, model.predict(example)), example


def save_pyfunc_model(model: Any, path: Path, *, mlflow_model: Any = None) -> None:
    """Write ``model`` as an MLflow pyfunc model directory at ``path``.

    Args:
        model: has ``save(directory)``, ``classmethod load(directory)`` and
            ``predict(data)``; optionally ``input_example()`` (for the signature) and
            ``objective_names`` (recorded in the model's metadata).
        path: the model directory to create (must not exist or be empty).
        mlflow_model: the ``mlflow.models.Model`` to fill (a LoggedModel's id and run),
            or None for a new one.

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
        signature, example = _signature(model)
        metadata: dict[str, Any] = {"moalign_class": class_path(model)}
        if getattr(model, "objective_names", None):
            metadata["objectives"] = list(model.objective_names)  # the input's columns
        mlflow.pyfunc.save_model(
            path=str(path), python_model=LearnedModelWrapper(),
            artifacts={_ARTIFACT_KEY: str(art)}, mlflow_model=mlflow_model,
            signature=signature, input_example=example, metadata=metadata,
            pip_requirements=pinned_requirements(),  # explicit: skips MLflow's slow inference
        )

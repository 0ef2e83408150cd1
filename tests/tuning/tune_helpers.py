"""Shared pieces of the tuning tests: a toy recipe, MLflow child runs, a ``tune``
subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

TOY = Path(__file__).with_name("toy_problem.py")
REPO = Path(__file__).parents[2]


def recipe_data(tmp_path: Path, tune_block: dict[str, Any], *, uri: str | None = None,
                experiment: str = "tune-test", problem_params: dict[str, Any] | None = None,
                evaluations: int = 30) -> dict[str, Any]:
    return {
        "name": "toy",
        "problem": {"name": f"{TOY}:make_problem", "params": problem_params or {}},
        "solver": {"name": "random", "config": {"batch_size": 5}},
        "budget": {"evaluations": evaluations},
        "tracking": ({"backend": "mlflow", "uri": uri, "experiment": experiment,
                      "plots": False} if uri else {"backend": "none"}),
        "checkpoint": {"dir": str(tmp_path / "ckpt")},
        "tune": tune_block,
    }


def child_runs(uri: str, experiment: str, parent: str) -> list[Any]:
    from mlflow import MlflowClient

    client = MlflowClient(uri)
    exp = client.get_experiment_by_name(experiment)
    return list(client.search_runs([exp.experiment_id],
                                   f"tags.mlflow.parentRunId = '{parent}'", max_results=100))


def start_tune(recipe: Path, *args: str) -> subprocess.Popen[str]:
    """``python -m moalign.cli tune RECIPE ARGS...`` in a subprocess (output captured)."""
    return subprocess.Popen([sys.executable, "-m", "moalign.cli", "tune", str(recipe), *args],
                            env={**os.environ, "PYTHONPATH": str(REPO)}, cwd=recipe.parent,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_until(cond: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.2)

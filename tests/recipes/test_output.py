"""Third-party noise stays out of ``moalign run``'s console output and goes to the run's
``logs/run.log``; ``--verbose`` shows it."""

import logging
import os
import warnings
from pathlib import Path

import pytest
from mlflow import MlflowClient

from moalign.cli import main
from moalign.recipes.output import QUIET_ENV, captured_output

OBJECTIVES = """\
import logging
import warnings

import moalign


def noisy(x):
    warnings.warn("a library deprecation nobody asked for", FutureWarning)
    logging.getLogger("transformers").warning("a transformers log line")
    return x[:, 0]


def make_problem():
    return moalign.Problem(moalign.Box([0, 0], [1, 1]),
                           [noisy, lambda x: 1 - x[:, 0] + x[:, 1]], name="noisy")
"""
RECIPE = """\
name: noisy
problem: {{name: noisy_objectives.py:make_problem}}
solver: {{name: random}}
budget: {{evaluations: 10}}
tracking: {{uri: '{uri}', experiment: {experiment}, plots: false}}
checkpoint: {{dir: '{ckpt}'}}
"""


def _recipe(tmp_path: Path, uri: str, experiment: str) -> Path:
    (tmp_path / "noisy_objectives.py").write_text(OBJECTIVES)
    path = tmp_path / "noisy.yaml"
    path.write_text(RECIPE.format(uri=uri, ckpt=tmp_path / "ckpt", experiment=experiment))
    return path


def _run_log(uri: str, tmp_path: Path, experiment: str) -> str:
    client = MlflowClient(tracking_uri=uri)
    run, = client.search_runs([client.get_experiment_by_name(experiment).experiment_id])
    local = client.download_artifacts(run.info.run_id, "logs/run.log", str(tmp_path))
    return Path(local).read_text()


def test_warnings_and_library_logs_go_to_the_run_log(tmp_path, monkeypatch, capsys,
                                                      mlflow_uri):
    monkeypatch.chdir(tmp_path)
    assert main(["run", str(_recipe(tmp_path, mlflow_uri, "noisy-quiet")),
                 "--no-progress"]) == 0
    out, err = capsys.readouterr()
    assert "done:" in out
    assert "logs/run.log" in out  # the summary lists the run's artifacts as logged
    assert "deprecation nobody asked for" not in out + err
    assert "a transformers log line" not in out + err
    log = _run_log(mlflow_uri, tmp_path, "noisy-quiet")
    assert "FutureWarning: a library deprecation nobody asked for" in log
    assert "transformers WARNING a transformers log line" in log


def test_verbose_shows_them_too(tmp_path, monkeypatch, capsys, mlflow_uri):
    monkeypatch.chdir(tmp_path)
    assert main(["run", str(_recipe(tmp_path, mlflow_uri, "noisy-verbose")), "--no-progress",
                 "--verbose"]) == 0
    err = capsys.readouterr().err
    assert "deprecation nobody asked for" in err
    assert "deprecation nobody asked for" in _run_log(mlflow_uri, tmp_path, "noisy-verbose")


def test_everything_is_restored_after_the_block(tmp_path):
    logger = logging.getLogger("transformers")
    handlers, propagate = list(logger.handlers), logger.propagate
    show = warnings.showwarning
    env = {k: os.environ.get(k) for k in QUIET_ENV}
    with pytest.raises(RuntimeError, match="the run failed"), \
            captured_output(tmp_path / "run.log"):
        assert os.environ["TQDM_DISABLE"] == "1"
        raise RuntimeError("the run failed")
    assert (logger.handlers, logger.propagate) == (handlers, propagate)
    assert warnings.showwarning is show
    assert {k: os.environ.get(k) for k in QUIET_ENV} == env

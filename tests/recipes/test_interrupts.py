"""Ctrl-C and SIGTERM during ``moalign run``, with real processes and signals.

A stopped run finishes its step, saves its checkpoint, ends KILLED in MLflow, exits with
128 + the signal (130, 143) and prints the command that resumes it, which works as
printed. The problem reads ``SLOW_EVAL`` (seconds per evaluation batch) and
``POST_RUN_MARKER`` (the post-run phase writes that file and sleeps), so that the recipe,
and so the resumed run, is the same in every process.
"""

import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from mlflow import MlflowClient

from moalign.cli_hints import script

PROBLEM = (Path(__file__).parent / "data" / "slow_problem.py").read_text()

RECIPE = """\
name: interrupts
seed: 3
problem: {{name: problem.py:make}}
solver: {{name: nsga2, config: {{pop_size: 10}}}}
budget: {{evaluations: 200}}
tracking: {{uri: '{uri}', experiment: {experiment}, plots: true}}
checkpoint: {{every: 3, dir: '{ckpt}'}}
"""

EXIT = {signal.SIGINT: 130, signal.SIGTERM: 143}


def _setup(tmp_path: Path, uri: str, experiment: str) -> Path:
    (tmp_path / "problem.py").write_text(PROBLEM)
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(RECIPE.format(uri=uri, experiment=experiment, ckpt=tmp_path / "ckpt"))
    return recipe


def _start(args: list[str], cwd: Path, **env: str) -> subprocess.Popen:
    return subprocess.Popen([*args, "--no-progress"], cwd=cwd, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            env={**os.environ, **env})


def _run_cli(recipe: Path, **env: str) -> subprocess.Popen:
    return _start([sys.executable, "-m", "moalign.cli", "run", str(recipe)], recipe.parent,
                  **env)


def _wait_for(predicate, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def _checkpoint(tmp_path: Path) -> Path | None:
    found = list((tmp_path / "ckpt").glob("*/checkpoint.pkl"))
    return found[0] if found else None


def _finish(proc: subprocess.Popen, timeout: float = 300) -> tuple[int, str]:
    out = proc.communicate(timeout=timeout)[0]
    return proc.returncode, out


def _resume_line(out: str) -> list[str]:
    """The printed resume command, as the shell would split it."""
    lines = [ln for ln in out.splitlines() if ln.startswith("resume it with: ")]
    assert len(lines) == 1, out
    return shlex.split(lines[0].removeprefix("resume it with: "))


def _hv_steps(client: MlflowClient, run_id: str) -> list[int]:
    return sorted(m.step for m in client.get_metric_history(run_id, "hypervolume"))


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_stops_at_a_step_end_and_the_printed_command_resumes(tmp_path, mlflow_uri,
                                                                      monkeypatch, sig):
    monkeypatch.chdir(tmp_path)  # where the command runs, and so what `script` prints
    recipe = _setup(tmp_path, mlflow_uri, f"interrupt-{sig.name}")
    client = MlflowClient(tracking_uri=mlflow_uri)
    proc = _run_cli(recipe, SLOW_EVAL="0.3")
    _wait_for(lambda: _checkpoint(tmp_path) is not None)
    os.kill(proc.pid, sig)
    code, out = _finish(proc)

    assert code == EXIT[sig], out
    assert "Traceback" not in out, out
    assert f"stopping ({sig.name}): finishing the current step" in out
    assert "\nstopped: " in out and "\ndone: " not in out, out
    ckpt = _checkpoint(tmp_path)
    assert ckpt is not None
    run_id = ckpt.parent.name
    assert client.get_run(run_id).info.status == "KILLED"
    assert not (ckpt.parent / "finished.json").exists()
    assert f"interrupted ({sig.name}): the run is marked KILLED" in out
    command = _resume_line(out)
    assert command == [script("moalign"), "run", "--resume", run_id,
                       "--checkpoint-dir", str(tmp_path / "ckpt")]
    assert Path(command[0]).name == "moalign"

    code, out = _finish(_start(command, cwd=tmp_path))  # exactly as printed
    assert code == 0, out
    assert client.get_run(run_id).info.status == "FINISHED"
    assert _hv_steps(client, run_id) == list(range(1, 21))  # every step once


def test_a_second_signal_aborts_at_once(tmp_path, mlflow_uri):
    recipe = _setup(tmp_path, mlflow_uri, "interrupt-twice")
    client = MlflowClient(tracking_uri=mlflow_uri)
    proc = _run_cli(recipe, SLOW_EVAL="3")  # 3 s per step
    _wait_for(lambda: _checkpoint(tmp_path) is not None)
    os.kill(proc.pid, signal.SIGINT)
    time.sleep(0.5)
    os.kill(proc.pid, signal.SIGINT)
    code, out = _finish(proc)
    assert code == 130, out
    assert "Traceback" not in out, out
    assert "stopping (SIGINT)" in out and "\nstopped: " not in out, out  # no step end
    run_id = _checkpoint(tmp_path).parent.name  # type: ignore[union-attr]
    assert client.get_run(run_id).info.status == "KILLED"
    assert _resume_line(out)[1:4] == ["run", "--resume", run_id]


def test_sigterm_in_the_post_run_phase_ends_the_run_killed(tmp_path, mlflow_uri):
    """Before, SIGTERM killed the process outright and left the run RUNNING."""
    recipe = _setup(tmp_path, mlflow_uri, "interrupt-post-run")
    client = MlflowClient(tracking_uri=mlflow_uri)
    marker = tmp_path / "post_run_started"
    proc = _run_cli(recipe, POST_RUN_MARKER=str(marker))
    _wait_for(marker.exists)
    os.kill(proc.pid, signal.SIGTERM)
    code, out = _finish(proc)
    assert code == 143, out
    assert "Traceback" not in out, out
    run_id = _checkpoint(tmp_path).parent.name  # type: ignore[union-attr]
    assert client.get_run(run_id).info.status == "KILLED"
    assert "interrupted (SIGTERM): the run is marked KILLED" in out
    assert _resume_line(out)[1:4] == ["run", "--resume", run_id]

"""Kills, races and concurrent commands, reproduced with real processes and signals.

Each test reproduces a way a run was seen to lose, duplicate or orphan something: a
resumed run re-logging its outputs, two commands creating one store, two resumes of one
run. The problem reads two environment variables so that the recipe (and so every logged
artifact) is the same in the killed, the resumed and the uninterrupted process:
``SLOW_EVAL`` slows every evaluation, ``POST_RUN_MARKER`` makes the post-run phase (the
true front for the plot) write a file and sleep, once; ``BAD_SHAPE`` makes an objective
return `n x 2` values, ``FRONT_RAISES`` makes the post-run phase fail.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from filelock import FileLock
from mlflow import MlflowClient

PROBLEM = (Path(__file__).parent / "data" / "slow_problem.py").read_text()

RECIPE = """\
name: hardening
seed: 7
problem: {{name: problem.py:make}}
solver: {{name: nsga2, config: {{pop_size: 10}}}}
budget: {{evaluations: 200}}
tracking: {{uri: '{uri}', experiment: {experiment}, plots: true}}
checkpoint: {{every: 3, dir: '{ckpt}'}}
"""

TIMING_KEYS = ("wall_seconds", "tracking_seconds")


def _setup(tmp_path: Path, experiment: str, uri: str | None = None) -> tuple[Path, str]:
    uri = uri or f"sqlite:///{tmp_path / 'mlflow.db'}"
    (tmp_path / "problem.py").write_text(PROBLEM)
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(RECIPE.format(uri=uri, experiment=experiment, ckpt=tmp_path / "ckpt"))
    return recipe, uri


def _cli(*args: str, cwd: Path | None = None, **env: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "moalign.cli", *args, "--no-progress"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            cwd=cwd, env={**os.environ, **env})


def _finish(proc: subprocess.Popen, timeout: float = 300) -> tuple[int, str]:
    out = proc.communicate(timeout=timeout)[0]
    return proc.returncode, out


def _wait_for(predicate, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def _new_run_dir(ckpt: Path, known: set[str]) -> Path | None:
    fresh = [p for p in ckpt.glob("*/checkpoint.pkl") if p.parent.name not in known]
    return fresh[0].parent if fresh else None


def _artifacts(client: MlflowClient, run_id: str, dst: Path) -> dict[str, bytes]:
    """Every artifact of a run (timing fields of result_info.json dropped)."""
    root = Path(client.download_artifacts(run_id, "", str(dst)))
    files = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        data = path.read_bytes()
        if path.name == "result_info.json":
            info = {k: v for k, v in json.loads(data).items() if k not in TIMING_KEYS}
            data = json.dumps(info, sort_keys=True).encode()
        files[str(path.relative_to(root))] = data
    return files


def _kill_when(proc: subprocess.Popen, ready) -> None:
    try:
        _wait_for(ready)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()


def test_resumed_runs_end_with_exactly_the_artifacts_of_an_uninterrupted_run(tmp_path):
    recipe, uri = _setup(tmp_path, "resume-artifacts")
    client = MlflowClient(tracking_uri=uri)
    ckpt = tmp_path / "ckpt"

    code, out = _finish(_cli("run", str(recipe)))
    assert code == 0, out
    full_id = next(ckpt.iterdir()).name

    # killed in the middle of the solver loop
    known = {full_id}
    mid = _cli("run", str(recipe), SLOW_EVAL="0.25")
    _kill_when(mid, lambda: _new_run_dir(ckpt, known) is not None)
    mid_id = _new_run_dir(ckpt, known).name  # type: ignore[union-attr]
    code, out = _finish(_cli("run", "--resume", mid_id, "--checkpoint-dir", str(ckpt)))
    assert code == 0, out

    # killed in the post-run phase (logging the front, the plots)
    marker = tmp_path / "post_run_started"
    known.add(mid_id)
    post = _cli("run", str(recipe), POST_RUN_MARKER=str(marker))
    _kill_when(post, marker.exists)
    post_id = _new_run_dir(ckpt, known).name  # type: ignore[union-attr]
    assert client.get_run(post_id).info.status == "RUNNING"
    code, out = _finish(_cli("run", "--resume", post_id, "--checkpoint-dir", str(ckpt),
                             POST_RUN_MARKER=str(marker)))
    assert code == 0, out

    full = _artifacts(client, full_id, tmp_path / "a")
    assert {"front.csv", "evaluations.csv", "front_table.json", "recipe.yaml",
            "result_info.json", "plots/front.png", "plots/hypervolume.png"} <= set(full)
    for run_id in (mid_id, post_id):
        assert _artifacts(client, run_id, tmp_path / run_id) == full
        assert client.get_run(run_id).info.status == "FINISHED"
        steps = [m.step for m in client.get_metric_history(run_id, "hypervolume")]
        assert sorted(steps) == list(range(1, 21))  # every step once

    # resuming a finished run says so and changes nothing
    before = _artifacts(client, post_id, tmp_path / "before")
    code, out = _finish(_cli("run", "--resume", post_id, "--checkpoint-dir", str(ckpt)))
    assert code == 0, out
    assert "already finished" in out
    assert _artifacts(client, post_id, tmp_path / "after") == before
    assert client.get_run(post_id).info.status == "FINISHED"
    assert len(client.get_metric_history(post_id, "hypervolume")) == 20


def test_commands_racing_on_a_new_store_all_succeed(tmp_path):
    """Three runs start at once in a folder with no mlruns/ (the default store)."""
    (tmp_path / "problem.py").write_text(PROBLEM)
    (tmp_path / "recipe.yaml").write_text(
        "problem: {name: problem.py:make}\nsolver: {name: random}\n"
        "budget: {evaluations: 20}\ntracking: {experiment: race, plots: false}\n")
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    procs = [subprocess.Popen([sys.executable, "-m", "moalign.cli", "run", "recipe.yaml",
                               "--no-progress"], cwd=tmp_path, env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
             for _ in range(3)]
    results = [_finish(p) for p in procs]
    assert [code for code, _ in results] == [0, 0, 0], [out for _, out in results]
    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'mlruns' / 'mlflow.db'}")
    runs = client.search_runs([client.get_experiment_by_name("race").experiment_id])
    assert sorted(r.info.status for r in runs) == ["FINISHED"] * 3


def test_one_process_at_a_time_holds_a_run(tmp_path):
    recipe, uri = _setup(tmp_path, "lock")
    client = MlflowClient(tracking_uri=uri)
    ckpt = tmp_path / "ckpt"
    first = _cli("run", str(recipe), SLOW_EVAL="0.1")
    _kill_when(first, lambda: _new_run_dir(ckpt, set()) is not None)
    run_id = _new_run_dir(ckpt, set()).name  # type: ignore[union-attr]

    # a lock held elsewhere: refused in one line, the run is left as it was
    with FileLock(str(ckpt / run_id / "run.lock")):
        code, out = _finish(_cli("run", "--resume", run_id, "--checkpoint-dir", str(ckpt)))
    assert code == 2, out
    assert out.strip().splitlines() == [
        f"error: run {run_id} is held by another moalign process "
        f"(lock {ckpt / run_id / 'run.lock'}); wait for it to end or stop it"]
    assert client.get_run(run_id).info.status == "RUNNING"  # as the kill left it

    # two resumes at once: one runs it, the other is refused or finds it finished
    procs = [_cli("run", "--resume", run_id, "--checkpoint-dir", str(ckpt), SLOW_EVAL="0.05")
             for _ in range(2)]
    results = [_finish(p) for p in procs]
    assert sorted(code for code, _ in results) in ([0, 0], [0, 2]), results
    outputs = "\n".join(out for _, out in results)
    assert "Traceback" not in outputs and "checkpoint.tmp" not in outputs
    assert "held by another moalign process" in outputs or "already finished" in outputs
    assert client.get_run(run_id).info.status == "FINISHED"
    steps = [m.step for m in client.get_metric_history(run_id, "hypervolume")]
    assert sorted(steps) == list(range(1, 21))


@pytest.mark.parametrize("stage, env, extra, want", [
    ("build", {}, ["--set", "problem.params={bogus: 1}"], 2),
    ("solve", {"BAD_SHAPE": "1"}, [], 2),
    ("post-run", {"FRONT_RAISES": "1"}, [], 1),
])
def test_a_failed_run_is_never_left_running(tmp_path, stage, env, extra, want):
    """A failure before the run opens leaves no run; one after it marks the run FAILED."""
    recipe, uri = _setup(tmp_path, f"orphans-{stage}")
    code, out = _finish(_cli("run", str(recipe), *extra, **env))
    assert code == want, out
    assert "Traceback" not in out and out.strip().splitlines()[-1].startswith("error: "), out
    client = MlflowClient(tracking_uri=uri)
    exp = client.get_experiment_by_name(f"orphans-{stage}")
    runs = client.search_runs([exp.experiment_id]) if exp is not None else []
    assert [r.info.status for r in runs] == ([] if stage == "build" else ["FAILED"]), out

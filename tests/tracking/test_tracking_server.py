"""A run tracked on a real ``mlflow server`` that goes away mid-run (slow).

``mlflow server`` runs as a subprocess (SQLite backend and artifacts in a temp folder, a
free port on 127.0.0.1). ``moalign run`` runs a recipe with
``tracking.uri: http://127.0.0.1:PORT`` whose batches take 0.5 s each (50 steps). Once
the run is solving (its start-of-run writes done), the server is stopped; the run goes on
without it for at least 12 s (a metric flush falls in that time), and the server is
started again on the same port and store. The run's 21st batch waits until the server
answers again, so the server is back while 30 steps are left: the held metrics arrive
while the run goes on. The run must end with status 0 and its metric history on the
server must equal, step for step and value for value, that of the same recipe run
without interruption (on a local SQLite store): nothing lost, nothing written twice;
metrics logged during the outage arrived after it.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml

pytestmark = pytest.mark.slow
PROBLEM = Path(__file__).with_name("held_problem.py")
REPO = Path(__file__).parents[2]
OUTAGE = 12.0  # seconds without a server; the runner flushes every 10 s
HOLD_AT = 20  # the batch that waits for the server to be back (30 are left then)
#: Metrics that measure time, not the optimization: they differ between two runs.
TIMED = ("seconds",)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as resp:
            return int(resp.status) == 200
    except OSError:
        return False


def wait_for(cond: Any, timeout: float, what: str, proc: Any = None) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if proc is not None and proc.poll() is not None:
            out, err = proc.communicate()
            raise AssertionError(f"{what}: the process ended ({proc.returncode}): {out}{err}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.2)


class MlflowServer:
    """``mlflow server`` on 127.0.0.1:``port`` with its store in ``folder``; stoppable and
    restartable on the same port and store."""

    def __init__(self, folder: Path, port: int) -> None:
        self.folder = folder
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 180) -> None:
        mlflow = Path(sys.executable).with_name("mlflow")
        log = open(self.folder / "server.log", "ab")  # noqa: SIM115 - the server keeps it
        self.proc = subprocess.Popen(
            [str(mlflow), "server", "--host", "127.0.0.1", "--port", str(self.port),
             "--workers", "1",
             "--backend-store-uri", f"sqlite:///{self.folder / 'mlflow.db'}",
             "--artifacts-destination", str(self.folder / "artifacts")],
            stdout=log, stderr=log, start_new_session=True)
        log.close()
        wait_for(lambda: healthy(self.url), timeout, "mlflow server /health", self.proc)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)
        wait_for(lambda: not healthy(self.url), 30, "the server to stop answering")


def recipe(tmp_path: Path, name: str, tracking: dict[str, Any],
           hold: Path | None = None) -> Path:
    params: dict[str, Any] = {"delay": 0.5}
    if hold is not None:
        params |= {"hold_while": str(hold), "hold_at": HOLD_AT}
    data = {
        "name": name,
        "problem": {"name": f"{PROBLEM}:make_problem", "params": params},
        "solver": {"name": "random", "config": {"batch_size": 5}},
        "budget": {"evaluations": 250},  # 50 steps of 0.5 s
        "seed": 3,
        "tracking": {"backend": "mlflow", "plots": False, **tracking},
        "checkpoint": {"dir": str(tmp_path / f"ckpt-{name}"), "every": 2},
    }
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def start_run(path: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "MOALIGN_TRACKING_WAIT_SECONDS": "120"}
    return subprocess.Popen([sys.executable, "-m", "moalign.cli", "run", str(path)],
                            env=env, cwd=path.parent, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def only_run(client: Any, experiment: str) -> Any:
    exp = client.get_experiment_by_name(experiment)
    runs = [] if exp is None else client.search_runs([exp.experiment_id])
    return runs[0] if len(runs) == 1 else None


def histories(client: Any, run: Any) -> dict[str, list[Any]]:
    return {k: client.get_metric_history(run.info.run_id, k) for k in run.data.metrics
            if not any(t in k for t in TIMED)}


def test_run_survives_a_server_outage_and_loses_no_metric(tmp_path: Path) -> None:
    from mlflow import MlflowClient

    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")  # this test's polling
    server = MlflowServer(tmp_path, free_port())
    t0 = time.monotonic()
    server.start()
    started = time.monotonic() - t0
    local = f"sqlite:///{tmp_path / 'local' / 'mlflow.db'}"
    hold = tmp_path / "hold"
    hold.touch()
    remote_run = start_run(recipe(tmp_path, "outage", {"uri": server.url,
                                                       "experiment": "outage"}, hold))
    reference_run = start_run(recipe(tmp_path, "reference", {"uri": local,
                                                             "experiment": "reference"}))
    try:
        client = MlflowClient(server.url)

        def solving() -> bool:  # recipe.yaml is the run's last write before the solver
            run = only_run(client, "outage")
            return run is not None and any(
                a.path == "recipe.yaml" for a in client.list_artifacts(run.info.run_id))

        wait_for(solving, 180, "the run's start", remote_run)
        opened = time.monotonic() - t0
        time.sleep(1.0)
        server.stop()
        down_at = time.time() * 1000
        time.sleep(OUTAGE)
        if remote_run.poll() is not None:
            out, err = remote_run.communicate()
            raise AssertionError(f"the run ended while the server was away: {out}{err}")
        t1 = time.monotonic()
        server.start()
        restarted = time.monotonic() - t1
        up_at = time.time() * 1000
        hold.unlink()  # the run's 21st batch goes on
        out, err = remote_run.communicate(timeout=300)
        ref_out, ref_err = reference_run.communicate(timeout=300)
    finally:
        hold.unlink(missing_ok=True)
        for proc in (remote_run, reference_run):
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        server.stop()
        server.start()  # read the store below with a server again
    try:
        assert remote_run.returncode == 0, out + err
        assert reference_run.returncode == 0, ref_out + ref_err
        assert "unreachable" in err and "answers again" in err, err
        assert err.index("answers again") < err.index("solver done"), err  # mid-run

        run = only_run(client, "outage")
        assert run.info.status == "FINISHED"
        ref_client = MlflowClient(local)
        ref = only_run(ref_client, "reference")
        got, want = histories(client, run), histories(ref_client, ref)
        assert sorted(got) == sorted(want) and "hypervolume" in got
        for key in want:
            steps = [m.step for m in got[key]]
            assert len(steps) == len(set(steps)), f"{key}: a step written twice"
            assert [(m.step, m.value) for m in got[key]] == \
                [(m.step, m.value) for m in want[key]], key
        during = [m for m in got["hypervolume"] if down_at < m.timestamp < up_at]
        assert during, "no metric was logged while the server was away"
        n_steps = len(got["hypervolume"])
        print(f"server start {started:.1f} s, run solving after {opened:.1f} s, restart "
              f"{restarted:.1f} s; outage "
              f"{(up_at - down_at) / 1000:.1f} s; {len(during)} of {n_steps} hypervolume "
              f"steps logged during it; {sum(len(v) for v in got.values())} metric rows, "
              f"same as the uninterrupted run; whole test {time.monotonic() - t0:.1f} s")
        print(err.strip())
    finally:
        server.stop()

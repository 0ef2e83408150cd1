"""What a run prints while it runs: plain lines with ETA when stderr is not a terminal, a
bar with the open phases on a terminal, and phases a solver opens shown inside the step."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import moalign
from moalign.core.progress import Phase, Ticker, format_duration, progress_interval
from moalign.recipes.progress import RunProgress
from moalign.solvers import Budget, Result, RunContext, Solver
from moalign.solvers.base import EmptyConfig
from moalign.testing import toy_zdt1

ROOT = Path(__file__).resolve().parents[2]

SLOW_PROBLEM = '''
import time
import moalign

def make():
    def cost(x):
        time.sleep(0.1)
        return x[:, 0]
    def quality(x):
        return 1 - x[:, 0] ** 0.5 + x[:, 1]
    return moalign.Problem(moalign.Box([0, 0], [1, 1]), [cost, quality], ref_point=[1.1, 2.1])
'''

RECIPE = """\
name: progress-log
seed: 0
problem: {name: problem.py:make}
solver: {name: random, config: {batch_size: 4}}
budget: {evaluations: 80}
tracking: {backend: none}
checkpoint: {every: 100, dir: checkpoints}
"""


def test_log_lines_with_eta_when_output_is_not_a_terminal(tmp_path: Path) -> None:
    (tmp_path / "problem.py").write_text(SLOW_PROBLEM)
    (tmp_path / "recipe.yaml").write_text(RECIPE)
    env = {**os.environ, "MOALIGN_PROGRESS_INTERVAL": "0.25"}
    env.pop("MOALIGN_PROGRESS", None)
    done = subprocess.run([sys.executable, "-m", "moalign.cli", "run", "recipe.yaml"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    lines = [ln for ln in done.stderr.splitlines() if ln.startswith("progress")]
    assert len(lines) >= 3, done.stderr  # 20 steps of 0.1 s: about 8 lines
    pattern = re.compile(r"^progress: \d+/80 evaluations \(\d+%\), step \d+, elapsed \d+s, "
                         r"ETA (-|\d+s), hypervolume (-|[0-9.e+-]+)( \| .+)?$")
    assert all(pattern.match(ln) for ln in lines[:-1]), lines
    assert any(re.search(r"ETA \d+s", ln) for ln in lines), lines
    assert lines[-1].startswith("progress (solver done): 80/80 evaluations (100%)"), lines
    assert "progress" not in done.stdout and done.stdout.startswith("done: 80 evaluations")


def test_no_progress_prints_nothing(tmp_path: Path) -> None:
    (tmp_path / "problem.py").write_text(SLOW_PROBLEM)
    (tmp_path / "recipe.yaml").write_text(RECIPE.replace("80}", "8}"))
    env = {**os.environ, "MOALIGN_PROGRESS_INTERVAL": "0.05"}
    done = subprocess.run([sys.executable, "-m", "moalign.cli", "run", "recipe.yaml",
                           "--no-progress"], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "progress" not in done.stderr


class _PhasedSolver(Solver[EmptyConfig]):
    """Two steps; the second spends ~2 s in a phase of 20 units."""

    def solve(self, problem: moalign.Problem, ctx: RunContext) -> Result:
        ctx.evaluate(np.full((2, 3), 0.5))
        with ctx.phase("fit fake GP", total=20) as p:
            for _ in range(20):
                time.sleep(0.1)
                p.advance()
        ctx.evaluate(np.full((2, 3), 0.25))
        return Result(ctx.archive)


def test_a_solver_phase_is_shown_inside_the_step(monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("MOALIGN_PROGRESS", "log")
    monkeypatch.setenv("MOALIGN_PROGRESS_INTERVAL", "0.1")
    moalign.optimize(toy_zdt1(), _PhasedSolver(), budget=Budget(evaluations=4), progress=True)
    err = capsys.readouterr().err.splitlines()
    shown = [ln for ln in err if "| fit fake GP " in ln]
    assert shown, err
    assert re.search(r"\| fit fake GP \d+/20", shown[-1]), shown
    assert all(ln.startswith("progress: 2/4 evaluations (50%), step 1,") for ln in shown)


def test_bar_shows_the_open_phase_and_eta() -> None:
    stream = io.StringIO()
    ctx = RunContext(toy_zdt1(), Budget(evaluations=6))
    progress = RunProgress(ctx.budget, mode="bar", stream=stream)
    with progress.watching(ctx):
        for _ in range(2):
            ctx.evaluate(np.full((2, 3), 0.5))
            progress.update(ctx, 0.5)
        with ctx.phase("round 3: train", total=10) as p:
            p.advance(4)
            time.sleep(0.4)  # rich redraws 10 times a second
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", stream.getvalue())
    assert "4/6 evaluations (67%)" in text and "ETA" in text, text
    assert "round 3: train 4/10" in text, text


def test_status_line_parts() -> None:
    ctx = RunContext(toy_zdt1(), Budget(steps=10, seconds=3600))
    progress = RunProgress(ctx.budget, mode="log", stream=io.StringIO())
    progress.ctx = ctx
    assert progress.status().startswith("0/10 steps (0%), elapsed 0s, ETA 1h00m, "
                                         "hypervolume -")
    ctx.evaluate(np.full((1, 3), 0.5))
    progress.update(ctx, 0.25)
    with ctx.phase("round 2"), ctx.phase("fit GP", total=3) as p:
        p.advance()
        assert progress.status().endswith(", hypervolume 0.25 | round 2 > fit GP 1/3")
    assert "|" not in progress.status()


def test_eta_from_the_recent_rate() -> None:
    ctx = RunContext(toy_zdt1(), Budget(evaluations=100))
    progress = RunProgress(ctx.budget, enabled=False)
    progress.ctx = ctx
    assert progress.eta() is None  # nothing recorded yet
    for t, n in ((0.0, 10), (10.0, 20), (20.0, 30)):  # 1 evaluation per second
        ctx.archive.append(np.full((10, 3), 0.5), np.full((10, 2), 0.5), step=1)
        progress._records.append((t, n, 1))
    assert progress.eta(now=20.0) == pytest.approx(70.0)
    assert progress.eta(now=25.0) == pytest.approx(65.0)  # the running step counts
    assert progress.eta(now=95.0) is None  # overdue: unknown, not 0


def test_phase_and_helpers() -> None:
    p = Phase("train", total=4)
    assert p.describe(now=p.started) == "train 0/4"
    p.advance(2)
    assert p.describe(now=p.started + 10) == "train 2/4 (10s, ETA 10s)"
    q = Phase("fit GP")
    assert q.describe(now=q.started) == "fit GP"
    assert q.describe(now=q.started + 65) == "fit GP (1m05s)"
    assert [format_duration(s) for s in (0.4, 59, 61, 7322)] == ["0s", "59s", "1m01s",
                                                                  "2h02m"]
    t = Ticker(0.0)
    assert t.due() and t.due()
    assert not Ticker(60.0).due()


def test_bad_interval_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOALIGN_PROGRESS_INTERVAL", "soon")
    with pytest.raises(ValueError, match="MOALIGN_PROGRESS_INTERVAL='soon'"):
        progress_interval()
    monkeypatch.setenv("MOALIGN_PROGRESS_INTERVAL", "2.5")
    assert progress_interval() == 2.5

"""What a user sees from the command line: hints that work as printed, flags anywhere,
``validate`` of several files, ``report``'s summary and plots, ``--version``, help text."""

import argparse
import logging
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from mlflow import MlflowClient

import moalign
from moalign.cli import build_parser, main
from moalign.cli_hints import resume_command, script
from moalign.recipes import parse_recipe
from moalign.recipes.runner import run_recipe

RECIPE = """\
name: polish
problem: {{name: zdt1, params: {{n_var: 4}}}}
solver: {{name: nsga2, config: {{pop_size: 20}}}}
budget: {{evaluations: {evaluations}}}
seed: 2
tracking: {{uri: '{uri}', experiment: {experiment}, plots: false}}
checkpoint: {{dir: '{ckpt}'}}
"""


def _recipe(tmp_path: Path, uri: str, experiment: str, evaluations: int = 40) -> Path:
    path = tmp_path / f"{experiment}.yaml"
    path.write_text(RECIPE.format(uri=uri, experiment=experiment, evaluations=evaluations,
                                  ckpt=tmp_path / "ckpt"))
    return path


@pytest.fixture
def venv(tmp_path, monkeypatch):
    """A fake environment ``tmp_path/.venv/bin`` with moalign and mlflow scripts, not on
    PATH, as after ``make run``."""
    bin_dir = tmp_path / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    for name in ("python", "moalign", "mlflow"):
        (bin_dir / name).write_text("#!/bin/sh\n")
        (bin_dir / name).chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(bin_dir / "python"))
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    return bin_dir


def test_scripts_are_named_as_they_can_be_called(venv, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert script("moalign") == ".venv/bin/moalign"
    assert script("no-such-tool") == "no-such-tool"  # not installed here: its plain name
    monkeypatch.chdir(venv)
    assert script("mlflow") == "./mlflow"
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    assert script("mlflow") == str(venv / "mlflow")
    monkeypatch.setenv("PATH", f"{venv}:/usr/bin:/bin")
    assert script("mlflow") == "mlflow"


def test_resume_command_names_a_checkpoint_root_only_when_not_the_default(venv, tmp_path,
                                                                          monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert resume_command("mlruns/checkpoints/abc") == ".venv/bin/moalign run --resume abc"
    assert resume_command(tmp_path / "mlruns/checkpoints/abc") == (
        ".venv/bin/moalign run --resume abc")
    assert resume_command("my ckpt/abc") == (
        ".venv/bin/moalign run --resume abc --checkpoint-dir 'my ckpt'")


def test_end_of_run_hints_work_as_printed(tmp_path, mlflow_uri, monkeypatch, capsys):
    """moalign runs from a virtual environment that is not on PATH, as after make run."""
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    assert main(["run", str(_recipe(tmp_path, mlflow_uri, "hints")), "--no-progress"]) == 0
    out = capsys.readouterr().out
    lines = {k.strip(): v for k, _, v in (ln.partition(": ") for ln in out.splitlines())}
    ui, report = shlex.split(lines["open the UI"]), shlex.split(lines["report"])
    bin_dir = Path(sys.executable).parent
    assert ui == [script("mlflow"), "ui", "--backend-store-uri", mlflow_uri]
    assert Path(ui[0]).resolve() == (bin_dir / "mlflow").resolve()
    assert Path(report[0]).resolve() == (bin_dir / "moalign").resolve()
    done = subprocess.run([*report, "--out", str(tmp_path / "plots")], text=True,
                          capture_output=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "front of" in done.stdout


def _fail_list() -> int:
    raise RuntimeError("boom")


@pytest.mark.parametrize("where", ["before", "after"])
def test_debug_and_verbose_anywhere(where, monkeypatch, capsys):
    """The error line suggests --debug; appending it (or putting it first) works."""
    monkeypatch.setattr("moalign.cli._cmd_list", _fail_list)
    assert main(["list"]) == 1
    assert capsys.readouterr().err.strip() == "error: RuntimeError: boom (--debug for details)"
    argv = ["--debug", "--verbose", "list"] if where == "before" else [
        "list", "--debug", "--verbose"]
    root = logging.getLogger()
    level = root.level
    try:
        assert main(argv) == 1
        assert root.level == logging.INFO
    finally:
        root.setLevel(level)
    err = capsys.readouterr().err
    assert "Traceback" in err and "RuntimeError: boom" in err


def test_validate_checks_every_file(tmp_path, mlflow_uri, capsys):
    good = _recipe(tmp_path, mlflow_uri, "good")
    bad = tmp_path / "bad.yaml"
    bad.write_text(good.read_text().replace("solver:", "solvr:"))
    missing = tmp_path / "missing.yaml"
    assert main(["validate", str(good), str(bad), str(missing), str(good)]) == 2
    out, err = capsys.readouterr()
    assert out.splitlines() == [f"ok: {good}", f"ok: {good}"]
    errors = err.splitlines()
    assert errors[0].startswith(f"error: {bad}: solvr: unknown key"), err
    assert errors[1].startswith("error: ") and str(missing) in errors[1], err
    assert errors[2:] == ["2 of 4 recipes failed"]
    assert main(["validate", str(good), str(good)]) == 0


@pytest.fixture(scope="module")
def finished_run(mlflow_uri, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("report")
    recipe = parse_recipe({
        "problem": {"name": "zdt1", "params": {"n_var": 4}},
        "solver": {"name": "nsga2", "config": {"pop_size": 20}},
        "budget": {"evaluations": 200}, "seed": 4,
        "tracking": {"uri": mlflow_uri, "experiment": "polish-report", "plots": False},
        "checkpoint": {"dir": str(tmp / "ckpt")}})
    result = run_recipe(recipe, progress=False)
    assert len(result.front) > 10
    return result


def test_report_prints_a_summary_and_draws_plots_locally(finished_run, mlflow_uri,
                                                         tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    res = finished_run
    assert main(["report", res.run_id, "--uri", mlflow_uri]) == 0
    out = capsys.readouterr().out
    front = res.front
    ref = ", ".join(f"{v:.6g}" for v in res.archive.ref_point)
    assert (f"front of {len(front)} points, hypervolume {res.hypervolume:.6g} "
            f"(reference [{ref}])") in out
    ideal = next(ln for ln in out.splitlines() if ln.startswith("ideal"))
    nadir = next(ln for ln in out.splitlines() if ln.startswith("nadir"))
    assert [float(v) for v in ideal.split()[1:]] == pytest.approx(front.F.min(axis=0),
                                                                  rel=1e-5)
    assert [float(v) for v in nadir.split()[1:]] == pytest.approx(front.F.max(axis=0),
                                                                  rel=1e-5)
    assert f"first 10 of {len(front)} (--all for every row)" in out
    table = out.split("(--all for every row):\n")[1].splitlines()[1:]
    assert len(table) == 11 and table[-1].startswith("plots: ")  # 10 rows, then the plots
    assert float(table[0].split()[0]) == pytest.approx(front.F[:, 0].min(), rel=1e-5)
    folder = tmp_path / f"moalign-report-{res.run_id}"
    assert {"front.png", "hypervolume.png"} <= {p.name for p in folder.iterdir()}
    client = MlflowClient(tracking_uri=mlflow_uri)
    assert client.list_artifacts(res.run_id, "plots") == []  # the run is left alone

    assert main(["report", res.run_id, "--uri", mlflow_uri, "--all",
                 "--out", str(tmp_path / "mine")]) == 0
    out = capsys.readouterr().out
    assert f"{len(front)} of" not in out
    assert (tmp_path / "mine" / "front.png").is_file()


def test_report_log_relogs_the_plots(finished_run, mlflow_uri, tmp_path, capsys):
    run_id = finished_run.run_id
    assert main(["report", run_id, "--uri", mlflow_uri, "--out", str(tmp_path), "--log"]) == 0
    assert f"plots logged under runs:/{run_id}/plots" in capsys.readouterr().out
    client = MlflowClient(tracking_uri=mlflow_uri)
    logged = {a.path for a in client.list_artifacts(run_id, "plots")}
    assert {"plots/front.png", "plots/hypervolume.png"} <= logged


def test_report_into_a_closed_pipe_ends_quietly(finished_run, mlflow_uri, tmp_path):
    """``moalign report RUN_ID | head -3``: no BrokenPipeError, and the plots are drawn."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "moalign.cli", "report", finished_run.run_id, "--all",
         "--uri", mlflow_uri, "--out", str(tmp_path / "plots")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    proc.stdout.close()  # the reader is gone before the first line
    err = proc.communicate(timeout=300)[1]
    assert proc.returncode == 0, err
    assert "BrokenPipe" not in err and "Traceback" not in err, err
    assert (tmp_path / "plots" / "front.png").is_file()


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.strip() == f"moalign {moalign.__version__}"


def _parsers(parser: argparse.ArgumentParser, path: str = "moalign"):
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _parsers(sub, f"{path} {name}")


def test_every_flag_of_every_command_has_help():
    missing = [f"{path} {action.option_strings or action.dest}"
               for path, parser in _parsers(build_parser()) for action in parser._actions
               if not action.help or action.help == argparse.SUPPRESS]
    assert missing == []
    commands = [path for path, _ in _parsers(build_parser())]
    assert commands == ["moalign", *(f"moalign {c}" for c in
                                     ("run", "validate", "list", "report", "compare",
                                      "tune"))]


def test_help_of_every_command_prints(capsys):
    for path, _ in list(_parsers(build_parser()))[1:]:
        with pytest.raises(SystemExit):
            main([*path.split()[1:], "--help"])
        assert "--debug" in capsys.readouterr().out, path

"""The example solver of docs/index.md: typed without Any (mypy --strict), run by
`moalign run` from a recipe that names it by file, and it passes the shared solver battery."""

import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from mlflow import MlflowClient

from moalign.cli import main
from moalign.solvers import Budget
from moalign.testing import SolverSuite, run_solver, toy_zdt1

DOC = Path(__file__).resolve().parents[1] / "docs" / "index.md"


def _blocks(lang: str) -> list[str]:
    text = DOC.read_text()
    section = text[text.index("### Writing a solver"):]
    return re.findall(rf"```{lang}\n(.*?)```", section, flags=re.S)


def _write_example() -> Path:
    path = Path(tempfile.mkdtemp(prefix="moalign-doc-")) / "my_solver.py"
    path.write_text(_blocks("python")[0])
    return path


EXAMPLE = _write_example()
NAME = f"{EXAMPLE}:WeightedSumClimber"


class TestExampleSolverSuite(SolverSuite):
    solver_name = NAME
    config = {"batch_size": 4}
    budget = Budget(evaluations=40)


@pytest.fixture
def example(tmp_path):
    code = _blocks("python")[0]
    assert len(code.strip().splitlines()) <= 50
    path = tmp_path / "my_solver.py"
    path.write_text(code)
    return path


def test_the_example_runs_from_a_recipe(example, tmp_path, mlflow_uri, capsys):
    recipe = tmp_path / "climb.yaml"
    recipe.write_text(_blocks("yaml")[0] + f"tracking: {{uri: '{mlflow_uri}', "
                      f"experiment: docs-example, plots: false}}\n"
                      f"checkpoint: {{dir: '{tmp_path / 'ckpt'}'}}\n")
    assert main(["run", str(recipe), "--no-progress", "--set", "solver.config.step=0.05"]) == 0
    assert "done: 400 evaluations (0 failed)" in capsys.readouterr().out
    client = MlflowClient(tracking_uri=mlflow_uri)
    run = client.search_runs([client.get_experiment_by_name("docs-example").experiment_id])[0]
    assert run.info.status == "FINISHED"
    assert run.data.params["solver.step"] == "0.05"
    assert main(["run", str(recipe), "--set", "solver.config.step=-1"]) == 2


def test_the_example_is_deterministic_and_typed(example):
    runs = [run_solver(f"{example}:WeightedSumClimber", {"batch_size": 4}, toy_zdt1(),
                       Budget(evaluations=40), 0) for _ in range(2)]
    assert (runs[0][0].archive.F == runs[1][0].archive.F).all()
    assert "Any" not in example.read_text()
    mypy = Path(sys.executable).parent / "mypy"
    out = subprocess.run([str(mypy), "--strict", "--ignore-missing-imports",
                          "--follow-imports=silent", str(example)],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stdout

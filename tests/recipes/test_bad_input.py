"""Bad input from the command line: one line naming the field, the right exit status, and
nothing left behind. ``validate`` refuses exactly what ``run`` refuses before it starts."""

import re
import time
from pathlib import Path

import numpy as np
import pytest
from mlflow import MlflowClient

import moalign
from moalign.cli import EXIT_ALL_FAILED, main
from moalign.core.objective import ObjectiveError

PROBLEM = '''
import numpy as np
import moalign

def make(height_max: float = 3.0, n_var: int = 3):
    def volume(x):
        return x.sum(axis=1)
    def spread(x):
        return (x.max(axis=1) - x.min(axis=1)) * height_max
    return moalign.Problem(moalign.Box([0] * n_var, [1] * n_var), [volume, spread],
                           ref_point=[n_var + 1.0, height_max + 1.0])

def make_raises():
    raise RuntimeError("factory broke")

def make_none():
    return None

def make_always_fails():
    def broken(x):
        raise ValueError("sensor offline")
    return moalign.Problem(moalign.Box([0, 0], [1, 1]), [broken, lambda x: x[:, 0]],
                           ref_point=[1, 1])
'''

RECIPE = """\
name: bad-input
seed: 0
problem: {{name: problem.py:make, params: {{height_max: 3.0}}}}
solver: {{name: nsga2, config: {{pop_size: 10}}}}
budget: {{evaluations: 30}}
tracking: {{uri: '{uri}', experiment: {experiment}, plots: false}}
checkpoint: {{every: 10, dir: '{ckpt}'}}
smoke: {{budget.evaluations: 20}}
"""


@pytest.fixture
def recipe(tmp_path, mlflow_uri, request):
    (tmp_path / "problem.py").write_text(PROBLEM)
    path = tmp_path / "recipe.yaml"
    experiment = "bad-input-" + re.sub(r"[^A-Za-z0-9]+", "-", request.node.name)
    path.write_text(RECIPE.format(uri=mlflow_uri, experiment=experiment,
                                  ckpt=tmp_path / "ckpt"))
    return path


def _runs(mlflow_uri: str, recipe: Path) -> list:
    client = MlflowClient(tracking_uri=mlflow_uri)
    name = next(line.split("experiment: ")[1].split(",")[0]
                for line in recipe.read_text().splitlines() if "experiment:" in line)
    exp = client.get_experiment_by_name(name)
    return [] if exp is None else client.search_runs([exp.experiment_id])


def _error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("error: ") and len(err[0]) <= 310, err
    return err[0]


# Mutations of a valid recipe: (--set, the path the error must name; None: valid).
MUTATIONS = [
    ("seed=-1", "seed"),
    ("seed=1.5", "seed"),
    ("seed=abc", "seed"),
    ("seed=3", None),
    ("problem.params.height_max=abc", "problem.params.height_max"),
    ("problem.params.height_max=.nan", "problem.params.height_max"),
    ("problem.params.height_max=[1, 2]", "problem.params.height_max"),
    ("problem.params.height_max=2", None),
    ("problem.params.n_var=2.5", "problem.params.n_var"),
    ("problem.params.bogus=1", "problem.params.bogus"),
    ("problem={name: problem.py:make_raises}", "problem.name+build"),
    ("problem={name: problem.py:make_none}", "problem.name+build"),
    ("problem.name=problem.py:nothing", "problem.name"),
    ("problem.name=no_such_problem", "problem.name"),
    ("solver.name=nsga3", "solver.name"),
    ("solver.config.pop_size=1", "solver.config.pop_size"),
    ("solver.config.pop_size=abc", "solver.config.pop_size"),
    ("solver.config.popsize=10", "solver.config.popsize"),
    ("solver.config.pop_size=12", None),
    ("budget.evaluations=0", "budget.evaluations"),
    ("budget.evaluations=.nan", "budget.evaluations"),
    ("budget.seconds=-1", "budget.seconds"),
    ("budget={}", "budget"),
    ("smoke.budget.evaluations=-1", "smoke.budget.evaluations"),
    ("smoke={solver.config.pop_size: 0}", "smoke.solver.config.pop_size"),
    ("smoke.bogus=1", "smoke.bogus"),
    ("smoke=[1]", "smoke"),
    ("checkpoint.every=0", "checkpoint.every"),
    ("tracking.backend=wandb", "tracking.backend"),
    ("tracking.plots=maybe", "tracking.plots"),
    ("tune={params: {solver.config.nope: {type: int, low: 1, high: 2}}}", "tune.params"),
]


@pytest.mark.parametrize("override, field", MUTATIONS, ids=[m[0] for m in MUTATIONS])
def test_validate_refuses_exactly_what_run_refuses(recipe, mlflow_uri, capsys, override,
                                                   field):
    """``validate --build`` refuses what ``run`` refuses; plain ``validate`` too, except a
    factory that fails when called (it calls no factory)."""
    code_plain = main(["validate", str(recipe), "--set", override])
    capsys.readouterr()
    code_validate = main(["validate", str(recipe), "--set", override, "--build"])
    validate_err = capsys.readouterr().err
    field, _, build_only = (field or "").partition("+")
    assert code_plain == (0 if build_only or not field else 2)
    code_run = main(["run", str(recipe), "--set", override, "--no-progress"])
    if not field:
        assert (code_validate, code_run) == (0, 0), validate_err
        assert [r.info.status for r in _runs(mlflow_uri, recipe)] == ["FINISHED"]
        return
    assert code_validate == 2, f"validate accepted {override}"
    assert validate_err.strip().startswith(f"error: {field}"), validate_err
    if field.startswith("tune"):
        return  # `run` ignores the tune: block; `tune` checks it like validate
    assert code_run == 2
    assert _error_line(capsys).startswith(f"error: {field}")
    assert _runs(mlflow_uri, recipe) == []  # nothing opened, nothing left RUNNING


def test_binary_recipe_is_a_bad_input(tmp_path, capsys):
    path = tmp_path / "recipe.yaml"
    path.write_bytes(bytes(range(256)) * 4)
    assert main(["validate", str(path)]) == 2
    assert _error_line(capsys) == f"error: {path}: not a text file (a recipe is UTF-8 YAML)"


def test_malformed_set_value_is_a_bad_input(recipe, capsys):
    assert main(["run", str(recipe), "--set", "solver.config.pop_size=[1, 2"]) == 2
    assert _error_line(capsys).startswith("error: --set solver.config.pop_size: invalid YAML")
    assert main(["run", str(recipe), "--set", "novalue"]) == 2
    assert _error_line(capsys).startswith("error: --set 'novalue': expected key.path=value")


def test_resume_of_an_unknown_run_is_a_bad_input(recipe, mlflow_uri, capsys):
    assert main(["run", str(recipe), "--resume", "BOGUS", "--no-progress"]) == 2
    assert _error_line(capsys) == (
        f"error: --resume BOGUS: no such run in the tracking store {mlflow_uri}")
    assert main(["run", "--resume", "BOGUS"]) == 2
    assert "--resume BOGUS: no checkpoint folder" in _error_line(capsys)


def test_alias_bomb_is_refused_at_once(tmp_path, capsys):
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    lines += ["problem: {name: zdt1}", "solver: {name: nsga2, config: {pop_size: *a8}}",
              "budget: {evaluations: 100}"]
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(lines))
    assert len(path.read_bytes()) < 700
    t0 = time.monotonic()
    assert main(["validate", str(path)]) == 2
    assert time.monotonic() - t0 < 5
    assert "expands to more than 100000 values" in _error_line(capsys)


def test_a_small_nested_bad_value_is_shortened(recipe, capsys):
    value = "[" + ", ".join(["[" + ", ".join(["x" * 50] * 20) + "]"] * 20) + "]"
    assert main(["validate", str(recipe), "--set", f"solver.config.pop_size={value}"]) == 2
    line = _error_line(capsys)
    assert line.startswith("error: solver.config.pop_size: expected an integer, got [[")
    assert len(line) < 150


def test_every_evaluation_failed_is_its_own_exit_status(recipe, mlflow_uri, capsys):
    code = main(["run", str(recipe), "--set", "problem={name: problem.py:make_always_fails}",
                 "--no-progress"])
    assert code == EXIT_ALL_FAILED == 3
    err = _error_line(capsys)
    assert err == ("error: every evaluation failed (30 of 30): objective 'broken' raised "
                   "ValueError: sensor offline; the run is marked FAILED")
    run = _runs(mlflow_uri, recipe)[0]
    assert run.info.status == "FAILED"
    assert run.data.tags["moalign.failure"].startswith("every evaluation failed")


def test_a_wrong_shape_is_blamed_on_the_objective_that_returned_it():
    def two_columns(x):
        return np.stack([x[:, 0], x[:, 0]], axis=1)

    objs = moalign.ObjectiveSet([lambda x: x[:, 0], two_columns])
    with pytest.raises(ObjectiveError, match="objective 'two_columns' returned 8 values for "
                                             "a batch of 4 points"):
        objs(np.zeros((4, 2)))

import glob
from pathlib import Path

import pytest
import yaml

from moalign.cli import main
from moalign.recipes import RecipeError, load_recipe, parse_recipe
from moalign.recipes.loader import apply_overrides, dump_recipe

ROOT = Path(__file__).resolve().parents[2]
BASE = {
    "problem": {"name": "zdt1", "params": {"n_var": 5}},
    "solver": {"name": "random", "config": {"batch_size": 10}},
    "budget": {"evaluations": 50},
}


def _mark_llm(paths: list[str]) -> list:
    """The drw recipes need the llm extra (their trl_args are checked against TRL)."""
    return [pytest.param(p, marks=pytest.mark.llm) if Path(p).stem.startswith("drw") else p
            for p in paths]


@pytest.mark.parametrize("path", _mark_llm(sorted(glob.glob(str(ROOT / "recipes" / "*.yaml")))))
def test_every_recipe_validates(path):
    load_recipe(path)
    load_recipe(path, smoke=True)


def test_precedence_defaults_yaml_set():
    r = parse_recipe(BASE, overrides=["solver.config.batch_size=7", "seed=3"])
    assert r.solver.config.batch_size == 7 and r.seed == 3
    assert r.checkpoint.every == 10 and r.tracking.backend == "mlflow"  # defaults
    again = parse_recipe(__import__("yaml").safe_load(dump_recipe(r)))
    assert again == r


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"solver.confg": {}}, r"^solver\.confg: unknown key"),
        ({"budget.evaluatons": 3}, r"^budget\.evaluatons: unknown key"),
        ({"solver.config.batch_sise": 3}, r"^solver\.config\.batch_sise: unknown key"),
        ({"solver.name": "nope"}, r"^solver\.name: unknown solver 'nope'; valid names: .*nsga2"),
        ({"problem.params.n_vars": 3}, r"^problem\.params\.n_vars: not a parameter of zdt1"),
        ({"seed": "zero"}, r"^seed: expected an integer"),
        ({"budget.evaluations": -1}, r"^budget.evaluations: must be positive"),
    ],
)
def test_invalid_recipes_name_the_path(override, message):
    with pytest.raises(RecipeError, match=message):
        parse_recipe(apply_overrides(BASE, override))


def test_cli_bad_recipe_one_line_exit_2(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("problem: {name: zdt1}\nsolver: {name: random}\nbudget: {evaluations: 5}\n"
                   "trackin: {backend: none}\n")
    assert main(["run", str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["error: trackin: unknown key; valid keys are ['base_dir', 'budget', "
                   "'checkpoint', 'evaluation', 'name', 'problem', 'seed', 'smoke', 'solver', "
                   "'tracking', 'tune']"]
    assert main(["validate", str(bad)]) == 2
    assert main(["--debug", "validate", str(bad)]) == 2
    assert "Traceback" in capsys.readouterr().err


def test_user_problem_file_relative_to_recipe(tmp_path):
    (tmp_path / "mine.py").write_text(
        "import moalign\n"
        "def make(scale=1.0):\n"
        "    return moalign.Problem(moalign.Box([0], [1]),\n"
        "        [lambda x: scale * x[:, 0], lambda x: 1 - x[:, 0] ** 0.5])\n")
    (tmp_path / "r.yaml").write_text(
        "problem: {name: mine.py:make, params: {scale: 2.0}}\n"
        "solver: {name: random}\nbudget: {evaluations: 10}\n")
    r = load_recipe(tmp_path / "r.yaml")
    assert r.problem.name == f"{tmp_path / 'mine.py'}:make"
    with pytest.raises(RecipeError, match="problem.params.scal: not a parameter"):
        load_recipe(tmp_path / "r.yaml", ["problem.params.scal=1"])


def test_the_recipe_carries_the_solvers_typed_config():
    from moalign.recipes.loader import build_solver, dump_recipe
    from moalign.solvers.baselines.nsga2 import NSGA2Config

    recipe = parse_recipe({"problem": {"name": "zdt1"}, "budget": {"evaluations": 20},
                           "solver": {"name": "nsga2", "config": {"pop_size": 12}}})
    assert isinstance(recipe.solver.config, NSGA2Config)
    assert recipe.solver.config.pop_size == 12
    assert build_solver(recipe).config is recipe.solver.config
    again = parse_recipe(yaml.safe_load(dump_recipe(recipe)))
    assert again.solver.config == recipe.solver.config

"""Every PSL recipe validates (full and smoke), names registered problems and solvers, and
keeps the published budgets."""

from __future__ import annotations

from pathlib import Path

import pytest

from moalign.recipes.loader import build_problem, build_solver, load_recipe

RECIPES = sorted((Path(__file__).resolve().parents[3] / "recipes").glob("*psl_*.yaml"))


def test_all_psl_recipes_are_found() -> None:
    names = {p.stem for p in RECIPES}
    assert {"psl_zdt1", "psl_zdt2", "psl_zdt3", "psl_dtlz2", "psl_vlmop2", "psl_re21",
            "psl_re37", "svh_psl_re21", "svh_psl_zdt1"} <= names


@pytest.mark.parametrize("path", RECIPES, ids=lambda p: p.stem)
@pytest.mark.parametrize("smoke", [False, True])
def test_recipe_validates_and_builds(path: Path, smoke: bool) -> None:
    recipe = load_recipe(path, smoke=smoke)
    solver = build_solver(recipe)
    assert solver.config is recipe.solver.config  # typed once by the loader, not rebuilt
    problem = build_problem(recipe)
    cfg = solver.config
    if not smoke:  # published budgets: PSL 10 + 20 x 5, SVH-PSL 20 + 20 x 5
        assert cfg.n_steps == 1000 and cfg.batch_size == 5
        assert recipe.budget.evaluations == cfg.n_initial + 20 * cfg.batch_size
        assert cfg.n_initial == (20 if recipe.solver.name == "svh-psl" else 10)
    else:
        assert recipe.budget.evaluations <= 30 and cfg.n_steps <= 20
    assert problem.n_obj >= 2

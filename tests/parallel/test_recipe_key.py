"""The recipe key ``evaluation``: validated with one-line errors naming the field and the
fix; a valid one runs the recipe on that backend."""

from __future__ import annotations

import pytest

from moalign.cli import main
from moalign.recipes.loader import RecipeError, parse_recipe
from moalign.recipes.schema import EvaluationSpec

BASE = {"problem": {"name": "zdt1", "params": {"n_var": 3}}, "solver": {"name": "random"},
        "budget": {"evaluations": 12}, "tracking": {"backend": "none"}}


def _parse(evaluation: object) -> EvaluationSpec:
    return parse_recipe({**BASE, "evaluation": evaluation}).evaluation


def test_default_is_serial():
    assert parse_recipe(BASE).evaluation == EvaluationSpec()
    assert _parse({"backend": "dask", "workers": 4, "address": "tcp://10.0.0.1:8786",
                   "chunk": 2}) == EvaluationSpec("dask", 4, "tcp://10.0.0.1:8786", 2)


@pytest.mark.parametrize("evaluation,message", [
    ({"backend": "mpi"},
     r"^evaluation.backend: 'mpi' is not one of \['serial', 'processes', 'dask', 'ray'\]$"),
    ({"backend": "processes", "workers": 0},
     r"^evaluation.workers: must be a positive integer \(worker processes\), got 0; or "
     r"remove it for one per CPU$"),
    ({"backend": "processes", "workers": 1.5},
     r"^evaluation.workers: 1.5 does not match"),
    ({"backend": "dask", "chunk": -1},
     r"^evaluation.chunk: must be a positive integer \(points per task\), got -1"),
    ({"backend": "processes", "address": "tcp://h:8786"},
     r"^evaluation.address: is used by the dask and ray backends only; set "
     r"evaluation.backend: dask or ray, or remove address \(backend is 'processes'\)$"),
    ({"backend": "ray", "address": " "}, r"^evaluation.address: must be a scheduler"),
    ({"backend": "ray", "nodes": 3}, r"^evaluation.nodes: unknown key; valid keys are"),
    ("processes", r"^evaluation: expected a mapping, got 'processes'$"),
])
def test_bad_evaluation_is_one_line_naming_the_field(evaluation, message):
    with pytest.raises(RecipeError, match=message):
        _parse(evaluation)


def test_cli_refuses_a_bad_key_with_exit_2(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("problem: {name: zdt1}\nsolver: {name: random}\nbudget: {evaluations: 5}\n"
                   "evaluation: {backend: processes, workers: 0}\n")
    assert main(["validate", str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: evaluation.workers: must be")


def test_set_override_runs_on_processes(tmp_path, capsys):
    recipe = tmp_path / "r.yaml"
    recipe.write_text("problem: {name: zdt1, params: {n_var: 3}}\nsolver: {name: random}\n"
                      "budget: {evaluations: 12}\ntracking: {backend: none}\n"
                      f"checkpoint: {{dir: '{tmp_path / 'ck'}'}}\n")
    assert main(["run", str(recipe), "--no-progress"]) == 0
    serial = capsys.readouterr().out
    assert main(["run", str(recipe), "--no-progress", "--set",
                 "evaluation={backend: processes, workers: 2, chunk: 3}"]) == 0
    parallel = capsys.readouterr().out
    assert "hypervolume" in serial and serial == parallel

"""What a run records about itself, through a real MLflow store (SQLite under tmp):
params (problem, solver, budget, seed), tags (version, git commit), run names (recipes
with --set, API runs), the logged recipe.yaml (no absolute paths), the learned Pareto set
as an MLflow 3 LoggedModel, and the per-step metric schedule."""

from __future__ import annotations

import subprocess
from pathlib import Path
from urllib.parse import unquote, urlparse

import mlflow
import numpy as np
import pandas as pd
import pytest
import yaml
from mlflow import MlflowClient

import moalign
from moalign.cli import main
from moalign.recipes import parse_recipe
from moalign.recipes.loader import load_recipe
from moalign.recipes.portable import portable_recipe_dict, relative_reference
from moalign.recipes.runner import API_EXPERIMENT
from moalign.solvers import Result, Solver
from moalign.testing import toy_zdt1
from moalign.tracking.mlflow_tracker import MLflowTracker
from moalign.tracking.pyfunc import pinned_requirements
from moalign.tracking.run_info import flatten, override_run_name, source_tags
from moalign.tracking.schedule import MetricSchedule

PROBLEM = """\
from moalign.testing import toy_zdt1


def make(n_var: int = 3, opts: dict | None = None):
    return toy_zdt1(n_var)
"""

RECIPE = """\
{name}problem: {{name: objs.py:make, params: {{n_var: 4, opts: {{scale: 2}}}}}}
solver: {{name: nsga2, config: {{pop_size: 10}}}}
budget: {{evaluations: 40}}
seed: 1
tracking: {{experiment: {experiment}, plots: false}}
checkpoint: {{dir: ckpt}}
"""


def _git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
                          cwd=cwd, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def _write_recipe(folder: Path, experiment: str, name: str | None = "records") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "objs.py").write_text(PROBLEM)
    path = folder / f"{experiment}.yaml"
    path.write_text(RECIPE.format(name=f"name: {name}\n" if name else "",
                                  experiment=experiment))
    return path


def _runs(client: MlflowClient, experiment: str) -> list:  # type: ignore[type-arg]
    exp = client.get_experiment_by_name(experiment)
    return list(client.search_runs([exp.experiment_id])) if exp else []


@pytest.fixture
def store(mlflow_uri: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> MlflowClient:
    """The session's store as the default one; the working directory is ``tmp_path``."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_uri)
    monkeypatch.chdir(tmp_path)
    return MlflowClient(tracking_uri=mlflow_uri)


def test_a_recipe_run_logs_problem_solver_budget_params_and_version_and_git_tags(
        store: MlflowClient, tmp_path: Path) -> None:
    (tmp_path / "README").write_text("x\n")
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", "README")
    _git(tmp_path, "commit", "-qm", "init")
    head = _git(tmp_path, "rev-parse", "HEAD")
    recipe = _write_recipe(tmp_path / "recipes", "records-params")

    assert main(["run", str(recipe), "--no-progress"]) == 0
    [run] = _runs(store, "records-params")
    params, tags = run.data.params, run.data.tags
    assert params["problem.n_var"] == "4"  # the factory's argument and the space's size
    assert params["problem.opts.scale"] == "2"  # nested arguments flattened
    assert params["problem.n_obj"] == "2" and params["problem.space"] == "Box"
    assert params["solver"] == "nsga2" and params["solver.pop_size"] == "10"
    assert params["budget.evaluations"] == "40" and params["seed"] == "1"
    assert tags["moalign.version"] == moalign.__version__
    assert tags["moalign.git_commit"] == head == tags["mlflow.source.git.commit"]
    assert tags["moalign.git_dirty"] == "false"  # untracked files do not count
    assert tags["moalign.recipe"] == "records"
    assert run.info.run_name == "records"


def test_source_tags_without_git_or_outside_a_repository(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    assert source_tags(tmp_path) == {"moalign.version": moalign.__version__}
    monkeypatch.setenv("PATH", str(tmp_path))  # no git at all
    assert source_tags(tmp_path) == {"moalign.version": moalign.__version__}


def test_a_changed_tracked_file_marks_the_commit_dirty(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("1\n")
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", "f")
    _git(tmp_path, "commit", "-qm", "init")
    (tmp_path / "f").write_text("2\n")
    assert source_tags(tmp_path)["moalign.git_dirty"] == "true"


def test_set_overrides_and_smoke_name_the_run(store: MlflowClient, tmp_path: Path) -> None:
    recipe = _write_recipe(tmp_path, "records-names")
    assert main(["run", str(recipe), "--no-progress", "--set", "seed=3",
                 "--set", "solver.config.pop_size=8"]) == 0
    unnamed = _write_recipe(tmp_path / "other", "records-names", name=None)
    assert main(["run", str(unnamed), "--no-progress", "--set", "name=ignored",
                 "--set", "seed=4"]) == 0
    names = sorted(r.info.run_name for r in _runs(store, "records-names"))
    assert names == ["ignored seed=4", "records seed=3 solver.config.pop_size=8"]
    assert override_run_name("drw-tiny", [], smoke=True) == "drw-tiny smoke"
    assert len(override_run_name("r", ["k=" + "v" * 400])) == 250


def test_an_unnamed_recipe_is_named_by_its_file(store: MlflowClient, tmp_path: Path) -> None:
    recipe = _write_recipe(tmp_path, "records-stem", name=None)
    assert main(["run", str(recipe), "--no-progress"]) == 0
    [run] = _runs(store, "records-stem")
    assert run.info.run_name == "records-stem"
    assert run.data.tags["moalign.recipe"] == "records-stem"


def test_api_runs_are_named_problem_solver_in_the_api_experiment(mlflow_uri: str) -> None:
    client = MlflowClient(tracking_uri=mlflow_uri)
    res = moalign.optimize(toy_zdt1(), "random", budget=20, tracking=mlflow_uri)
    run = client.get_run(res.run_id)
    assert run.info.run_name == "toy_zdt1_3-random"
    assert client.get_experiment(run.info.experiment_id).name == API_EXPERIMENT == "moalign-api"
    assert run.data.params["problem.n_var"] == "3"

    def cost(x: np.ndarray) -> np.ndarray:
        return np.asarray(x[:, 0])

    def quality(x: np.ndarray) -> np.ndarray:
        return np.asarray(1 - x[:, 0])

    res = moalign.optimize([cost, quality], "random", bounds=[(0, 1)], budget=10,
                           tracking=mlflow_uri, experiment="records-api")
    assert client.get_run(res.run_id).info.run_name == "cost+quality-random"
    res = moalign.optimize([cost, quality], "random", bounds=[(0, 1)], budget=10,
                           tracking=mlflow_uri, experiment="records-api", run_name="mine")
    assert client.get_run(res.run_id).info.run_name == "mine"


def test_logged_recipe_has_no_absolute_paths_and_reruns_beside_the_original(
        store: MlflowClient, tmp_path: Path) -> None:
    recipe = _write_recipe(tmp_path / "recipes", "records-yaml")
    assert main(["run", str(recipe), "--no-progress"]) == 0
    [run] = _runs(store, "records-yaml")
    text = store.download_artifacts(run.info.run_id, "recipe.yaml", str(tmp_path / "dl"))
    logged = Path(text).read_text()
    assert str(tmp_path) not in logged
    data = yaml.safe_load(logged)
    assert "base_dir" not in data
    assert data["problem"]["name"] == "objs.py:make"

    def strings(node: object) -> list[str]:
        if isinstance(node, dict):
            return [s for v in node.values() for s in strings(v)]
        if isinstance(node, list):
            return [s for v in node for s in strings(v)]
        return [node] if isinstance(node, str) else []

    assert not [s for s in strings(data) if s.startswith("/")]
    again = tmp_path / "recipes" / "again.yaml"  # the copy, put next to the original
    again.write_text(logged)
    assert load_recipe(again).problem.name == str(tmp_path / "recipes" / "objs.py") + ":make"
    # the checkpoint's copy keeps absolute references, so --resume works from anywhere
    ckpt = yaml.safe_load((tmp_path / "ckpt" / run.info.run_id / "recipe.yaml").read_text())
    assert Path(ckpt["problem"]["name"].rpartition(":")[0]).is_absolute()


def test_relative_reference_keeps_what_is_not_an_absolute_file() -> None:
    base = Path("/srv/recipes")
    assert relative_reference("/srv/recipes/sub/o.py:f", base) == "sub/o.py:f"
    assert relative_reference("/srv/lib/o.py:f", base) == "../lib/o.py:f"
    assert relative_reference("/other/o.py:f", base) == "/other/o.py:f"
    assert relative_reference("zdt1", base) == "zdt1"
    assert relative_reference("pkg.mod:make", base) == "pkg.mod:make"
    recipe = parse_recipe({"problem": {"name": "zdt1"}, "solver": {"name": "random"},
                           "budget": {"evaluations": 4}})
    assert portable_recipe_dict(recipe)["problem"]["name"] == "zdt1"


def test_flatten_nested_params() -> None:
    assert flatten("p", {"a": 1, "b": {"c": [1, 2], "d": {}}}) == {"p.a": 1, "p.b.c": [1, 2]}


# -- the learned Pareto set as a LoggedModel -----------------------------------------------

PSL_TINY = {"n_initial": 4, "batch_size": 2, "n_steps": 4, "n_candidates": 16, "hidden": 16}


def test_psl_set_is_a_logged_model_with_a_signature_and_pinned_requirements(
        mlflow_uri: str) -> None:
    from mlflow.types import TensorSpec

    res = moalign.optimize(toy_zdt1(), "psl", PSL_TINY, budget=8, tracking=mlflow_uri,
                           experiment="records-psl")
    client = MlflowClient(tracking_uri=mlflow_uri)
    exp_id = client.get_run(res.run_id).info.experiment_id
    [logged] = client.search_logged_models(experiment_ids=[exp_id])
    assert logged.name == "pareto_set" and logged.source_run_id == res.run_id
    assert str(logged.status) in ("READY", "LoggedModelStatus.READY")
    assert logged.params["solver"] == "psl"  # the run's params travel with the model
    assert "pareto_set" not in {a.path for a in client.list_artifacts(res.run_id)}

    mlflow.set_tracking_uri(mlflow_uri)  # test-only: runs:/ resolves through the global
    try:
        loaded = mlflow.pyfunc.load_model(f"runs:/{res.run_id}/pareto_set")
    finally:
        mlflow.set_tracking_uri(None)
    [spec] = loaded.metadata.get_input_schema().inputs
    assert isinstance(spec, TensorSpec) and spec.shape == (-1, 2)
    assert spec.type == np.dtype("float64")
    outputs = loaded.metadata.get_output_schema().input_names()
    assert outputs == ["x0", "x1", "x2", "pred_f1", "pred_f2"]
    assert loaded.metadata.model_id == logged.model_id
    assert loaded.metadata.metadata["objectives"] == ["f1", "f2"]

    pref = np.array([[0.3, 0.7]])
    out = loaded.predict(pref)
    assert out.shape == (1, 5)
    pd.testing.assert_frame_equal(out.reset_index(drop=True), res.model.predict(pref))
    assert np.all((out[["x0", "x1", "x2"]].to_numpy() >= 0) &
                  (out[["x0", "x1", "x2"]].to_numpy() <= 1))
    with pytest.raises(Exception, match="shape|dtype"):
        loaded.predict(np.array([[0.3, 0.3, 0.4]]))  # three weights for two objectives

    folder = Path(unquote(urlparse(logged.artifact_location).path))
    requirements = (folder / "requirements.txt").read_text().split()
    pins = dict(r.split("==") for r in requirements if "==" in r)
    assert pins["moalign"] == moalign.__version__
    assert pins["torch"] == __import__("torch").__version__.split("+")[0]
    assert {"mlflow", "numpy", "pandas"} <= set(pins)
    assert set(pinned_requirements()) <= set(requirements)


def test_the_run_summary_names_the_logged_model(store: MlflowClient, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    recipe = tmp_path / "psl.yaml"
    recipe.write_text(yaml.safe_dump({
        "name": "records-psl-cli", "problem": {"name": "zdt1", "params": {"n_var": 3}},
        "solver": {"name": "psl", "config": PSL_TINY}, "budget": {"evaluations": 8},
        "tracking": {"experiment": "records-psl-cli", "plots": False}}))
    assert main(["run", str(recipe), "--no-progress"]) == 0
    [run] = _runs(store, "records-psl-cli")
    out = capsys.readouterr().out
    assert (f"  model: pareto_set (MLflow logged model; mlflow.pyfunc.load_model("
            f"'runs:/{run.info.run_id}/pareto_set'))") in out


def test_logging_a_model_again_replaces_it(mlflow_uri: str, tmp_path: Path) -> None:
    """A resumed post-run phase logs the model again: still one model of that name."""
    tracker = MLflowTracker(mlflow_uri, "records-relog")
    tracker.start("relog", {})

    def write(value: str):  # type: ignore[no-untyped-def]
        def go(path: Path, meta: object) -> None:
            path.mkdir()
            (path / "v.txt").write_text(value)
        return go

    first = tracker.log_model("m", write("1"))
    second = tracker.log_model("m", write("2"))
    tracker.end()
    assert first == second
    client = MlflowClient(tracking_uri=mlflow_uri)
    [model] = client.search_logged_models(
        experiment_ids=[tracker.experiment_id()])
    folder = Path(unquote(urlparse(model.artifact_location).path))
    assert (folder / "v.txt").read_text() == "2"


# -- the per-step metric schedule ------------------------------------------------------------

def test_schedule_logs_dense_then_by_cost() -> None:
    now = [0.0]
    s = MetricSchedule(share=0.05, dense=2, clock=lambda: now[0])
    for _ in range(2):
        assert s.due()
        s.mark(seconds=0.004, rows=10)
    assert not s.due()  # 4 ms + 10 rows: 5 ms a logged step wants 100 ms between logs
    assert s.due(final=True)
    now[0] = 0.1
    assert s.due()
    with pytest.raises(ValueError, match="share"):
        MetricSchedule(share=0)


class _Stepper(Solver):  # type: ignore[type-arg]
    """Two random points a step, with a solver metric at every step; stops by itself
    after ``last`` steps."""

    last = 10**9

    def solve(self, problem, ctx):  # type: ignore[no-untyped-def]
        while not ctx.should_stop() and ctx.step < self.last:
            ctx.evaluate(problem.space.sample(ctx.rng, 2), metrics={"loss": float(ctx.step)})
        return Result(ctx.archive)


class _ShortStepper(_Stepper):
    last = 30


def test_fast_runs_log_the_first_steps_the_last_and_every_solver_metric(
        mlflow_uri: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import moalign.recipes.runner as runner

    class Stingy(MetricSchedule):  # tracking may take no time at all after 20 steps
        def __init__(self) -> None:
            super().__init__(share=1e-9, dense=20)

    monkeypatch.setattr(runner, "MetricSchedule", Stingy)
    res = moalign.optimize(toy_zdt1(), _Stepper(), budget=100, tracking=mlflow_uri,
                           experiment="records-schedule")
    client = MlflowClient(tracking_uri=mlflow_uri)
    hv = client.get_metric_history(res.run_id, "hypervolume")
    assert sorted(m.step for m in hv) == [*range(1, 21), 50]  # dense start, budget's end
    assert max(hv, key=lambda m: m.step).value == pytest.approx(res.hypervolume)
    loss = client.get_metric_history(res.run_id, "loss")
    assert sorted(m.step for m in loss) == list(range(1, 51))

    # a solver that stops by itself, before the budget: its last step is logged too
    res = moalign.optimize(toy_zdt1(), _ShortStepper(), budget=1000, tracking=mlflow_uri,
                           experiment="records-schedule")
    steps = sorted(m.step for m in client.get_metric_history(res.run_id, "hypervolume"))
    assert steps == [*range(1, 21), 30]

"""Every recipe runs in its smoke size (slow: all of them; default run: the quick start)."""

import glob
from pathlib import Path

import pytest
from mlflow import MlflowClient

from moalign.cli import main

ROOT = Path(__file__).resolve().parents[2]
RECIPES = sorted(glob.glob(str(ROOT / "recipes" / "*.yaml")))


def _run(path: str, uri: str, tmp_path: Path) -> int:
    return main(["run", path, "--smoke", "--no-progress",
                 "--set", f"tracking.uri={uri}",
                 "--set", f"checkpoint.dir={tmp_path / 'ckpt'}"])


def test_quickstart_smoke_through_the_cli(mlflow_uri, tmp_path, capsys):
    assert _run(str(ROOT / "recipes" / "quickstart.yaml"), mlflow_uri, tmp_path) == 0
    out = capsys.readouterr().out
    assert "front of" in out and "mlflow ui --backend-store-uri" in out
    exp = MlflowClient(tracking_uri=mlflow_uri).get_experiment_by_name("quickstart")
    run = MlflowClient(tracking_uri=mlflow_uri).search_runs([exp.experiment_id])[0]
    assert run.data.params["solver"] == "nsga2" and run.info.status == "FINISHED"


LLM_RECIPES = ("drw", "rmod", "cgpo")  # TRL, transformers: the llm extra


@pytest.mark.slow
@pytest.mark.parametrize("path", [
    pytest.param(p, id=Path(p).stem,
                 marks=[pytest.mark.llm] if Path(p).stem.startswith(LLM_RECIPES) else [])
    for p in RECIPES])
def test_every_recipe_runs_in_smoke_size(path, mlflow_uri, tmp_path):
    if Path(path).stem in ("drw_hf", "rmod_hf"):
        pytest.skip(f"{Path(path).stem} needs a real model (GPU recipe)")
    assert _run(path, mlflow_uri, tmp_path) == 0

"""`torchrun --nproc_per_node 2 -m moalign.cli run recipes/drw_tiny.yaml --smoke`: two CPU
ranks (gloo) train one model through TRL/accelerate; only rank 0 tracks, checkpoints and
reports. The same path as multi-GPU DDP, checked without a GPU."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from mlflow import MlflowClient

pytestmark = [pytest.mark.slow, pytest.mark.llm]

ROOT = Path(__file__).resolve().parents[2]


def test_two_cpu_ranks_make_one_run_and_one_checkpoint_folder(tmp_path):
    shutil.copy(ROOT / "recipes" / "drw_tiny.yaml", tmp_path / "drw_tiny.yaml")
    torchrun = Path(sys.executable).parent / "torchrun"
    cmd = [str(torchrun), "--nproc_per_node", "2", "-m", "moalign.cli", "run", "drw_tiny.yaml",
           "--smoke", "--no-progress"]
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    out = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=600)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert out.stdout.count("done: ") == 1  # rank 0 reports, rank 1 is silent
    assert "global_step: 2" in out.stdout
    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'mlruns' / 'mlflow.db'}")
    runs = client.search_runs([client.get_experiment_by_name("moalign-llm").experiment_id])
    assert [r.info.status for r in runs] == ["FINISHED"]
    folders = list((tmp_path / "mlruns" / "checkpoints").iterdir())
    assert [f.name for f in folders] == [runs[0].info.run_id]
    assert (folders[0] / "trl" / "final" / "config.json").exists()

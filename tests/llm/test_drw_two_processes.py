"""`recipes/drw_tiny.yaml --smoke` on two CPU processes (gloo), started by accelerate and by
torchrun: one MLflow run, one checkpoint folder, and the same model and reward weights on
both ranks. The same path as multi-GPU DDP, checked without a GPU."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from mlflow import MlflowClient

pytestmark = [pytest.mark.slow, pytest.mark.llm]

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
LAUNCHERS = {
    "accelerate": [str(BIN / "accelerate"), "launch", "--multi_gpu", "--num_processes", "2",
                   "--main_process_port", "29531"],
    "torchrun": [str(BIN / "torchrun"), "--nproc_per_node", "2", "--master_port", "29532"],
}


def _run(cmd: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    env["CUDA_VISIBLE_DEVICES"] = ""  # CPU ranks even on a machine with GPUs
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize("launcher", sorted(LAUNCHERS))
def test_two_cpu_ranks_train_one_model_in_one_run(tmp_path, launcher):
    shutil.copy(ROOT / "recipes" / "drw_tiny.yaml", tmp_path / "drw_tiny.yaml")
    cmd = [*LAUNCHERS[launcher], "-m", "moalign.cli", "run", "drw_tiny.yaml", "--smoke",
           "--no-progress"]
    out = _run(cmd, tmp_path)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert out.stdout.count("done: ") == 1  # rank 0 reports, rank 1 is silent
    assert "global_step: 2" in out.stdout
    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'mlruns' / 'mlflow.db'}")
    runs = client.search_runs([client.get_experiment_by_name("moalign-llm").experiment_id])
    assert [r.info.status for r in runs] == ["FINISHED"]
    folders = list((tmp_path / "mlruns" / "checkpoints").iterdir())
    assert [f.name for f in folders] == [runs[0].info.run_id]
    assert (folders[0] / "trl" / "final" / "config.json").exists()
    info_file = client.download_artifacts(runs[0].info.run_id, "result_info.json",
                                          str(tmp_path))
    ranks = json.loads(Path(info_file).read_text())["ranks"]
    assert [r["rank"] for r in ranks] == [0, 1]
    assert ranks[0]["n_params"] > 0
    # DDP keeps the replicas in step: the same parameters and reward weights on both ranks
    assert ranks[0]["param_fingerprint"] == pytest.approx(ranks[1]["param_fingerprint"],
                                                          rel=1e-9)
    assert ranks[0]["reward_weights"] == ranks[1]["reward_weights"]


def test_accelerate_cpu_flag_starts_one_process_and_the_run_says_so(tmp_path):
    """accelerate's --cpu runs several processes only through mpirun: one process trains,
    and moalign prints how to get two."""
    shutil.copy(ROOT / "recipes" / "drw_tiny.yaml", tmp_path / "drw_tiny.yaml")
    cmd = [str(BIN / "accelerate"), "launch", "--cpu", "--num_processes", "2",
           "--main_process_port", "29533", "-m", "moalign.cli", "run", "drw_tiny.yaml",
           "--smoke", "--no-progress"]
    out = _run(cmd, tmp_path)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert "accelerate started 1 process" in out.stderr
    assert "--multi_gpu --num_processes N" in out.stderr


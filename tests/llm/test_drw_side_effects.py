"""The drw solver leaves no trace in the caller's process: the global torch thread count
is restored and its temporary work folder removed, after a run and after a failure; the
aligned model's temporary folder (no checkpoint folder) goes when the process exits."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

from moalign.llm.aligned import MODEL_PREFIX
from moalign.solvers import Budget, RunContext, get_solver

pytestmark = pytest.mark.llm
STOPPED = "stand-in trainer"  # what tests/llm/conftest.py's grpo_calls trainer raises
TINY_RUN = {"per_device_train_batch_size": 4, "num_generations": 2, "max_completion_length": 8,
            "eval_every": 1, "n_val_samples": 1, "learning_rate": 1e-3}


def drw_entries(folder: Path) -> set[str]:
    """The drw work and model folders in ``folder``."""
    return {p.name for p in folder.iterdir() if p.name.startswith(("moalign-drw", MODEL_PREFIX))}


def test_solve_restores_threads_and_removes_its_temporary_folder(tiny_text_problem,
                                                                system_tmp):
    before = torch.get_num_threads()
    ctx = RunContext(tiny_text_problem, Budget(steps=1), seed=0)
    solver = get_solver("drw")({**TINY_RUN, "torch_threads": before + 1})
    result = solver.solve(tiny_text_problem, ctx)
    assert torch.get_num_threads() == before
    assert result.info["global_step"] == 1
    # the work folder (TRL checkpoints) is gone; the aligned model's folder is left until
    # the process exits (test_model_folder_is_removed_when_the_process_exits)
    assert drw_entries(system_tmp) == {result.model.path.name}
    assert result.model.path.name.startswith(MODEL_PREFIX)
    assert (result.model.path / "config.json").is_file()
    assert not list(result.model.path.glob("checkpoint-*"))


def test_model_folder_is_removed_when_the_process_exits(tmp_path):
    source = tmp_path / "final"
    source.mkdir()
    (source / "config.json").write_text("{}")
    code = ("import sys; from pathlib import Path\n"
            "from moalign.llm.aligned import AlignedModel\n"
            "model = AlignedModel.take(Path(sys.argv[1]))\n"
            "print(model.path, sorted(p.name for p in model.path.iterdir()))\n")
    proc = subprocess.run([sys.executable, "-c", code, str(source)], capture_output=True,
                          text=True, timeout=300, check=True)
    path, files = proc.stdout.split(maxsplit=1)
    assert files.strip() == "['config.json']" and Path(path).name.startswith(MODEL_PREFIX)
    assert not Path(path).exists() and not any(source.iterdir())


def test_failed_solve_restores_threads_and_removes_its_temporary_folder(
        tiny_text_problem, system_tmp, grpo_calls):
    before = torch.get_num_threads()
    ctx = RunContext(tiny_text_problem, Budget(steps=1), seed=0)
    solver = get_solver("drw")({**TINY_RUN, "torch_threads": before + 1})
    with pytest.raises(RuntimeError, match=STOPPED):
        solver.solve(tiny_text_problem, ctx)
    assert len(grpo_calls) == 1  # it failed inside training set-up, with threads set
    assert torch.get_num_threads() == before
    assert drw_entries(system_tmp) == set()


def test_work_folder_lies_under_the_checkpoint_folder(tiny_text_problem, system_tmp,
                                                     grpo_calls, tmp_path):
    ckpt = tmp_path / "ckpt"
    ctx = RunContext(tiny_text_problem, Budget(steps=1), seed=0, checkpoint_dir=ckpt)
    with pytest.raises(RuntimeError, match=STOPPED):
        get_solver("drw")(TINY_RUN).solve(tiny_text_problem, ctx)
    (kwargs, _), = grpo_calls
    assert Path(kwargs["output_dir"]).is_relative_to(ckpt)
    assert drw_entries(system_tmp) == set()

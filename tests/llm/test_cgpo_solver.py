"""The ``cgpo`` solver on the digits tiny model: its losses, selection in the training path,
multi-task mixing, tracking, determinism and resume."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest

from moalign.core import Objective
from moalign.core.config import ConfigError
from moalign.llm.cgpo.config import CGPOConfig, TaskConfig
from moalign.solvers import Budget, RunContext, get_solver
from moalign.solvers.context import load_checkpoint
from moalign.testing.solver_suite import SolverSuite

pytestmark = pytest.mark.llm
FORMAT = r" ?[0-9]{5,10}"
JUDGES = [{"judge": "regex", "params": {"pattern": r"(\d)(?:\D*\1){3}", "mode": "forbid"},
           "name": "no_runs"},
          {"judge": "regex", "params": {"pattern": FORMAT}, "name": "format"}]
FAST = {"kl_max": 8.0, "prompts_per_step": 2, "num_samples": 4, "max_completion_length": 10,
        "learning_rate": 5e-3, "eval_every": 2, "n_val_samples": 2, "save_every": 2,
        "torch_threads": 1}


def digits_problem(extra_objectives: tuple[Any, ...] = ()) -> Any:
    from moalign.problems import get_problem

    return get_problem("text")(prompts="digits", n_prompts=16, n_validation=4, policy="tiny",
                               objectives=["sevens", {"fn": "near_len",
                                                      "params": {"target": 8}},
                                           *extra_objectives],
                               judges=JUDGES)


def solve(config: dict[str, Any], steps: int = 2, seed: int = 0, problem: Any = None,
          **ctx_kw: Any) -> tuple[Any, RunContext, list[dict[str, float]]]:
    problem = problem or digits_problem()
    logged: list[dict[str, float]] = []
    ctx = RunContext(problem, Budget(steps=steps), seed=seed,
                     on_record=[lambda c, m: logged.append({**m, "step": float(c.step)})],
                     **ctx_kw)
    result = get_solver("cgpo")({**FAST, **config}).solve(problem, ctx)
    return result, ctx, logged


def _params(path: Path) -> dict[str, Any]:
    from transformers import AutoModelForCausalLM

    return {k: v.detach().clone() for k, v in
            AutoModelForCausalLM.from_pretrained(path).state_dict().items()}


# -- configuration ------------------------------------------------------------------------


def test_kl_max_is_required_with_the_fix_in_the_message():
    with pytest.raises(ValueError, match="kl_max is required"):
        CGPOConfig()
    with pytest.raises(ConfigError, match=r"cgpo.config.kl_max: is required: set the KL budget"):
        get_solver("cgpo")({"optimizer": "crpg"})
    with pytest.raises(ConfigError, match="optimizer"):
        get_solver("cgpo")({"kl_max": 1.0, "optimizer": "ppo"})


def test_task_options_default_to_the_solvers_and_to_cgpos_defaults():
    cfg = CGPOConfig(kl_max=2.0, tasks=(TaskConfig(name="a", kl_max=1.0, optimizer="codpo"),
                                        TaskConfig(name="b")))
    a, b = cfg.task_configs()
    assert (a.kl_max, a.optimizer, b.kl_max, b.optimizer) == (1.0, "codpo", 2.0, "crpg")
    assert (b.num_samples, b.temperature, b.beta, b.lam) == (4, 0.9, 0.1, 5.0)
    assert [t.name for t in CGPOConfig(kl_max=1.0).task_configs()] == ["main"]
    with pytest.raises(ValueError, match="unique"):
        CGPOConfig(kl_max=1.0, tasks=(TaskConfig(name="a"), TaskConfig(name="a")))


def test_task_batches_are_fixed_per_step_and_cover_every_prompt_each_epoch():
    from moalign.llm.cgpo.tasks import build_tasks

    cfg = CGPOConfig(kl_max=1.0, prompts_per_step=4)
    (task,) = build_tasks(cfg.task_configs(), digits_problem(), seed=3)
    epoch = [i for step in range(1, 5) for i in task.batch(step)]   # 16 prompts, 4 per step
    assert sorted(epoch) == list(range(16))
    assert task.batch(2) == task.batch(2) and task.batch(5) != task.batch(1)
    (other,) = build_tasks(cfg.task_configs(), digits_problem(), seed=4)
    assert [other.batch(s) for s in range(1, 5)] != [task.batch(s) for s in range(1, 5)]


def test_baseline_from_a_dataset_column_and_a_clear_error_for_a_missing_one():
    from moalign.llm.cgpo.tasks import build_tasks

    problem = digits_problem()
    cfg = CGPOConfig(kl_max=1.0, baseline="hints")
    (task,) = build_tasks(cfg.task_configs(), problem, seed=0)

    def no_sampling(idx: list[int]) -> Any:
        raise AssertionError("a column baseline never samples")

    base = task.baselines([0, 1], no_sampling, lambda t: [ord(c) for c in t])
    assert [b.text for b in base] == [problem.train.extras["hints"][i] for i in (0, 1)]
    assert base[0].verdict == 0  # 3 digits: the format judge rejects it
    (bad,) = build_tasks(CGPOConfig(kl_max=1.0, baseline="reply").task_configs(), problem, 0)
    with pytest.raises(ValueError, match="baseline column 'reply' is not in the prompts"):
        bad.baselines([0], no_sampling, list)


# -- losses ---------------------------------------------------------------------------------


def test_sequence_logprobs_sum_the_completion_tokens(random_tiny_llama):
    import torch

    from moalign.llm.generation import sequence_logprobs

    model, tok = random_tiny_llama
    prompts, completions = [[5, 6, 7], [8, 9]], [[10, 11], [12, 13, 14]]
    logp, n = sequence_logprobs(model, prompts, completions, tok.pad_token_id)
    logp, n = logp.detach(), n.detach()
    for i, (p, c) in enumerate(zip(prompts, completions, strict=True)):
        with torch.no_grad():
            lp = torch.log_softmax(model(input_ids=torch.tensor([p + c])).logits[0, :-1], -1)
        want = sum(float(lp[len(p) - 1 + j, t]) for j, t in enumerate(c))
        assert float(logp[i]) == pytest.approx(want, abs=1e-5) and float(n[i]) == len(c)


def test_codpo_torch_loss_equals_the_numpy_formula():
    import torch

    from moalign.llm.cgpo.losses import codpo_loss
    from moalign.llm.cgpo.rules import codpo_loss_terms

    rng = np.random.default_rng(0)
    lc, lr, rc, rr = (rng.normal(-10, 3, 6) for _ in range(4))
    n = rng.integers(1, 9, 6)
    loss, dpo, nll = codpo_loss(*(torch.tensor(x) for x in (lc, lr, rc, rr, n)),
                                beta=0.1, lam=5.0)
    terms = codpo_loss_terms(lc, lr, rc, rr, n, beta=0.1, lam=5.0)
    assert float(loss) == pytest.approx(terms["loss"].mean(), rel=1e-9)
    assert float(dpo) == pytest.approx(terms["dpo"].mean(), rel=1e-9)
    assert float(nll) == pytest.approx(terms["nll"].mean(), rel=1e-9)


def _rollout(model: Any, tok: Any, J: list[int], r: list[float], baseline_verdict: int,
             kl: float = 0.0) -> tuple[Any, Any, Any]:
    """One prompt, k = len(J) samples, hand-made verdicts and rewards."""
    import torch

    from moalign.core.space import Text
    from moalign.llm.cgpo.config import CGPOConfig
    from moalign.llm.cgpo.rollout import Models, Rollout
    from moalign.llm.cgpo.tasks import Baseline, Task
    from moalign.llm.generation import sequence_logprobs

    k = len(J)
    pids = [[5, 6, 7]] * k
    ids = [[10 + i, 11] for i in range(k)]
    logp, n = sequence_logprobs(model, pids, ids, tok.pad_token_id)
    with torch.no_grad():
        ref = logp.detach() - kl
    base = Baseline("b", [20, 21, 22], 0.0, baseline_verdict)
    cfg = CGPOConfig(kl_max=1.0, optimizer="crraft").task_configs()[0]
    task = Task(cfg, Text(("p",), {}), [], np.ones(0), np.ones(0), None)
    ro = Rollout(pids, [""] * k, ids, np.array(r, float), np.array(J), np.empty((k, 0)),
                 logp, ref, n, np.full(k, kl), [base], k)
    return task, ro, Models(model, model, tok, tok.pad_token_id, 8)


def test_crraft_in_the_training_path_keeps_the_best_passing_sample(random_tiny_llama):
    from moalign.llm.cgpo.rollout import task_loss

    model, tok = random_tiny_llama
    task, ro, m = _rollout(model, tok, J=[1, 1, 0, -1], r=[-3.0, -1.0, 9.0, 9.0],
                           baseline_verdict=1)
    loss, metrics = task_loss(task, ro, m)
    w = 1.0 / (1.0 + np.exp(-(-1.0 - 0.0)))   # sigma(r - r_base) of sample 1
    want = w * float(-ro.logp[1] / ro.n_tokens[1])
    assert float(loss) == pytest.approx(want, rel=1e-6)
    assert (metrics["n_selected"], metrics["n_baseline"]) == (1.0, 0.0)


def test_crraft_falls_back_to_a_passing_baseline_at_weight_one_half(random_tiny_llama):
    from moalign.llm.cgpo.rollout import task_loss
    from moalign.llm.generation import sequence_logprobs

    model, tok = random_tiny_llama
    # every sample fails a judge or is over the KL budget
    task, ro, m = _rollout(model, tok, J=[0, -1, 0, 0], r=[1.0, 2.0, 3.0, 4.0],
                           baseline_verdict=1)
    loss, metrics = task_loss(task, ro, m)
    lp, n = sequence_logprobs(model, [[5, 6, 7]], [[20, 21, 22]], tok.pad_token_id)
    assert float(loss) == pytest.approx(0.5 * float(-lp[0] / n[0]), rel=1e-6)
    assert metrics["n_baseline"] == 1.0
    task, ro, m = _rollout(model, tok, J=[1, 1, 1, 1], r=[1.0, 2.0, 3.0, 4.0],
                           baseline_verdict=0, kl=2.0)       # all over kl_max = 1
    loss, metrics = task_loss(task, ro, m)
    assert float(loss) == 0.0 and metrics["n_skipped"] == 1.0


def test_codpo_in_the_training_path_pairs_negative_rewards_right_and_skips(random_tiny_llama):
    from dataclasses import replace

    from moalign.llm.cgpo.losses import codpo_loss
    from moalign.llm.cgpo.rollout import task_loss

    model, tok = random_tiny_llama
    task, ro, m = _rollout(model, tok, J=[1, 1, 0, 0], r=[-3.0, -1.0, -2.0, -5.0],
                           baseline_verdict=1)
    task = replace(task, config=replace(task.config, optimizer="codpo"))
    loss, metrics = task_loss(task, ro, m)
    want, _, _ = codpo_loss(ro.logp[[1]], ro.logp[[3]], ro.ref[[1]], ro.ref[[3]],
                            ro.n_tokens[[1]], beta=0.1, lam=5.0)
    assert float(loss) == pytest.approx(float(want), rel=1e-6)
    assert (metrics["n_pairs"], metrics["n_skipped"]) == (1.0, 0.0)
    _, ro, _ = _rollout(model, tok, J=[0, -1, 0, 0], r=[1.0, 2.0, 3.0, 4.0], baseline_verdict=1)
    loss, metrics = task_loss(task, ro, m)
    assert float(loss) == 0.0 and metrics["n_skipped"] == 1.0


def test_crpg_in_the_training_path_uses_the_centred_crpg_reward(random_tiny_llama):
    from dataclasses import replace

    from moalign.llm.cgpo.rollout import task_loss
    from moalign.llm.cgpo.rules import center_by_prompt, crpg_reward

    model, tok = random_tiny_llama
    task, ro, m = _rollout(model, tok, J=[1, 0, -1, 1], r=[2.0, 5.0, 5.0, -1.0],
                           baseline_verdict=1, kl=0.25)
    task = replace(task, config=replace(task.config, optimizer="crpg"))
    loss, metrics = task_loss(task, ro, m)
    R = crpg_reward([1, 0, -1, 1], [2.0, 5.0, 5.0, -1.0], 0.0, [0.25] * 4, 1.0)
    A = center_by_prompt(R[None, :])[0]
    assert float(loss) == pytest.approx(float(-(A * ro.logp.detach().numpy()).mean()),
                                        rel=1e-5)
    assert metrics["pass/all"] == 0.5 and metrics["crpg_reward"] == pytest.approx(R.mean())


# -- end to end -----------------------------------------------------------------------------


@pytest.mark.parametrize("optimizer", ["crpg", "codpo", "crraft"])
def test_each_optimizer_trains_tracks_judges_and_kl_and_saves_the_model(optimizer,
                                                                        tiny_model_path):
    result, ctx, logged = solve({"optimizer": optimizer})
    problem = ctx.problem
    steps = [m["step"] for m in logged]
    assert steps == [0.0, 1.0, 2.0]
    for m in logged[1:]:
        for key in ("reward", "calibrated_reward", "kl", "pass/no_runs", "pass/format",
                    "pass/all", "loss"):
            assert f"train/main/{key}" in m, key
        assert m["train/main/kl"] >= 0.0
    assert {"val/pass/no_runs", "val/pass/format", "val/judged/sevens"} <= set(logged[2])
    before = _params(problem.policy)
    after = _params(result.model.path)
    assert any(not np.array_equal(before[k], after[k]) for k in before)
    # the archive holds validation generations; feasible = every judge passed
    frame = ctx.archive.to_frame()
    assert len(frame) == 2 * 2 * len(problem.validation.prompts)  # steps 0 and 2, 2 samples
    verdicts = problem.judges(["p"] * len(frame), list(frame["x"]))
    assert list(frame["feasible"]) == [v == 1 for v in verdicts]


def test_same_seed_same_numbers(tiny_model_path):
    _, _, a = solve({"optimizer": "crpg"}, seed=5)
    _, _, b = solve({"optimizer": "crpg"}, seed=5)
    assert a == b
    _, _, c = solve({"optimizer": "crpg"}, seed=6)
    assert a != c


def test_multitask_losses_are_mixed_with_normalized_weights(tiny_model_path):
    tasks = [{"name": "a", "weight": 2.0, "optimizer": "crpg", "reward": ["sevens"]},
             {"name": "b", "weight": 1.0, "optimizer": "crraft", "prompts": "digits:3",
              "n_prompts": 8, "reward": [{"fn": "near_len", "params": {"target": 8}}],
              "judges": [], "kl_max": 2.0},
             {"name": "off", "weight": 0.0}]
    result, _, logged = solve({"tasks": tasks})
    for m in logged[1:]:
        mixed = (2 * m["train/a/loss"] + m["train/b/loss"]) / 3
        assert m["train/loss"] == pytest.approx(mixed, rel=1e-5, abs=1e-7)
        assert not any(k.startswith("train/off/") for k in m)
        assert "train/b/pass/no_runs" not in m and m["train/b/pass/all"] == 1.0
    assert result.info["weights"] == pytest.approx({"a": 2 / 3, "b": 1 / 3, "off": 0.0})
    assert result.info["tasks"]["b"]["n_prompts"] == 8


def test_a_failed_reward_is_not_a_pass(tiny_model_path):
    def broken(prompts: Any, completions: Any, **kw: Any) -> list[Any]:
        return [None] * len(completions)

    problem = digits_problem((Objective("broken", broken, direction="maximize"),))
    _, _, logged = solve({"tasks": [{"name": "main", "reward": ["broken"]}]}, steps=1,
                         problem=problem)
    assert logged[1]["train/main/pass/all"] == 0.0
    assert logged[1]["train/main/loss"] == 0.0


def test_resume_continues_exactly_where_the_run_stopped(tiny_model_path, tmp_path):
    full, _, logged_full = solve({"optimizer": "codpo"}, steps=4,
                                 checkpoint_dir=tmp_path / "full", checkpoint_every=2)
    solve({"optimizer": "codpo"}, steps=2, checkpoint_dir=tmp_path / "cut",
          checkpoint_every=2)
    ckpt = load_checkpoint(tmp_path / "cut" / "checkpoint.pkl")
    assert ckpt.step == 2
    assert ckpt.solver_state["file"] == str((tmp_path / "cut" / "cgpo" / "state-2.pt").resolve())
    resumed, _, logged = solve({"optimizer": "codpo"}, steps=4, checkpoint_dir=tmp_path / "cut",
                               checkpoint_every=2, resume_from=ckpt)
    assert [m["step"] for m in logged] == [3.0, 4.0]
    assert logged == logged_full[3:]
    a, b = _params(full.model.path), _params(resumed.model.path)
    assert all(np.array_equal(a[k], b[k]) for k in a)


def _every_other_none(prompts: Any, completions: Any, **kw: Any) -> list[Any]:
    """An objective that fails on every other completion (None)."""
    return [None if i % 2 else float(len(c) % 3) for i, c in enumerate(completions)]


class TestCGPOSuite(SolverSuite):
    solver_name = "cgpo"
    config: ClassVar[dict[str, Any]] = {**FAST, "eval_every": 1, "save_every": 1,
                                        "n_val_samples": 1}
    budget = Budget(steps=3)
    other_problems: ClassVar[dict[str, Any]] = {}  # text problems only (TypeError otherwise)

    def make_problem(self) -> Any:
        return digits_problem()

    def make_failing_problem(self) -> Any:
        return digits_problem((Objective("flaky", _every_other_none, direction="maximize"),))

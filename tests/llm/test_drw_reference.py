"""DRW as the authors' code runs it (``preset: reference``) next to moalign's defaults: the
presets, the hypervolume point (length in tokens, per-objective scale), the gradient rule
``log w + lr_t * s / 1e-5`` on a middle band of layers, and the RLOO trainer."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from moalign.core.config import ConfigError
from moalign.llm.drw import callback as cb_module
from moalign.llm.drw.callback import (
    DRWCallback,
    loo_advantages,
    middle_band,
    select_parameters,
)
from moalign.llm.drw.config import PRESETS, DRWConfig
from moalign.llm.objectives import as_reward_func
from moalign.problems import get_problem
from moalign.solvers import Budget, RunContext, get_solver

pytestmark = pytest.mark.llm


def test_presets_fill_only_the_options_left_unset():
    ours, ref = DRWConfig(), DRWConfig(preset="reference")
    for name, value in PRESETS["moalign"].items():
        assert getattr(ours, name) == value
    for name, value in PRESETS["reference"].items():
        assert getattr(ref, name) == value
    assert (ref.eval_every, ref.eta, ref.rho, ref.min_weight, ref.hv_scale) == (
        1, "lr", 1e-5, 0.0, "none")
    mixed = DRWConfig(preset="reference", eval_every=3, hv_scale="std")
    assert (mixed.eval_every, mixed.hv_scale, mixed.grad_params) == (3, "std", "middle")
    assert DRWConfig().lr_scheduler_type == "constant"


@pytest.mark.parametrize("bad", [
    {"preset": "paper"}, {"eta": "step"}, {"eta": -1.0}, {"rho": 0.0}, {"rho": "min"},
    {"hv_scale": "minmax"}, {"trainer": "ppo"}, {"save_every": 0},
    {"trainer": "rloo", "loss_type": "grpo"},
    {"trainer": "rloo", "multi_objective_aggregation": "normalize_then_sum"},
    {"trainer": "rloo", "trl_args": {"top_entropy_quantile": 0.5}},   # GRPO-only option
    {"trl_args": {"normalize_advantages": True}},                     # RLOO-only option
])
def test_invalid_options_raise_at_construction(bad):
    with pytest.raises(ConfigError):
        get_solver("drw")(bad)


def test_rloo_takes_its_own_options_and_keeps_the_multiplier():
    cfg = get_solver("drw")({"trainer": "rloo", "mode": "hypervolume",
                             "trl_args": {"normalize_advantages": False}}).config
    assert cfg.trainer == "rloo"


def test_middle_band_scales_the_reference_layers_to_any_depth():
    assert list(middle_band(36)) == list(range(10, 26))    # the reference's 10..25 of 36
    assert list(middle_band(24)) == list(range(7, 18))
    assert list(middle_band(2)) == [1]
    assert list(middle_band(1)) == [0]


def test_middle_selects_the_band_of_decoder_layers(random_tiny_llama):
    model, _ = random_tiny_llama
    chosen = {id(p) for p in select_parameters(model, "middle")}
    names = [n for n, p in model.named_parameters() if id(p) in chosen]
    assert names and all(n.startswith("model.layers.1.") for n in names)
    assert {id(p) for p in select_parameters(model, "last_layer")} == chosen  # 2 layers


def test_leave_one_out_advantages_closed_form():
    R = np.array([[1.0, 0.0], [2.0, 0.0], [3.0, np.nan], [5.0, 1.0]])
    A = loo_advantages(R, num_generations=4)
    # objective 0: r_i - mean of the other three
    np.testing.assert_allclose(A[:, 0], [1 - 10 / 3, 2 - 3, 3 - 8 / 3, 5 - 2])
    # objective 1: NaN reward -> 0, the others against the two scored siblings
    np.testing.assert_allclose(A[:, 1], [0 - 0.5, 0 - 0.5, 0.0, 1 - 0.0])


# -- the callback with a stand-in trainer ---------------------------------------------------


def make(objectives, **cfg):
    problem = get_problem("text")(
        prompts=[{"prompt": f"q{i}", "answer": "1"} for i in range(6)], n_validation=2,
        policy="m", objectives=objectives)
    ctx = RunContext(problem, Budget(steps=10), seed=0)
    funcs = [as_reward_func(o) for o in problem.objectives]
    cb = DRWCallback(DRWConfig(**cfg), problem, ctx, funcs)
    opt = SimpleNamespace(param_groups=[{"lr": 2e-6}])
    acc = SimpleNamespace(unwrap_model=lambda m: m, num_processes=1)
    trainer = SimpleNamespace(reward_weights=torch.ones(len(funcs)), optimizer=opt,
                              accelerator=acc, model=None, processing_class=None)
    cb.bind(trainer)
    return cb, trainer


def scripted(*results):
    it = iter(results)
    return lambda step: next(it)


STATE = SimpleNamespace(global_step=0, max_steps=10)
TWO = [{"fn": "exact_answer", "name": "acc"}, {"fn": "regex", "name": "fmt",
                                               "params": {"pattern": "#"}}]


def test_hv_scale_std_measures_gains_in_initial_standard_deviations():
    cb, _ = make(TWO, mode="hypervolume")   # moalign preset: hv_scale="std"
    info0 = {"val/std/acc": 0.4, "val/std/fmt": 0.1}
    cb.validate = scripted((np.array([0.2, 0.5]), info0),     # type: ignore[method-assign]
                           (np.array([0.3, 0.6]), {}))
    control = SimpleNamespace(should_training_stop=False)
    cb.on_train_begin(None, STATE, control)
    np.testing.assert_allclose(cb.hv_scale, [0.4, 0.1])
    np.testing.assert_allclose(cb.v0, [0.5, 5.0])
    cb.on_step_end(None, SimpleNamespace(global_step=5, max_steps=10), control)
    gain = (0.1 / 0.4) * (0.1 / 0.1)   # the box in units of the initial deviations
    assert cb.multiplier == pytest.approx(0.5 + 1.5 * math.tanh(gain))
    # unscaled (the reference) the same step gains 0.1 * 0.1
    ref, _ = make(TWO, mode="hypervolume", hv_scale="none")
    ref.validate = scripted((np.array([0.2, 0.5]), info0),   # type: ignore[method-assign]
                            (np.array([0.3, 0.6]), {}))
    ref.on_train_begin(None, STATE, control)
    ref.on_step_end(None, SimpleNamespace(global_step=5, max_steps=10), control)
    assert ref.multiplier == pytest.approx(0.5 + 1.5 * math.tanh(0.01))


def test_reference_length_coordinate_is_mean_tokens_minimized():
    objs = [{"fn": "exact_answer", "name": "acc"},
            {"fn": "length", "name": "concise", "params": {"below": "running_mean"}}]
    cb, _ = make(objs, mode="hypervolume", preset="reference")
    assert cb.length_coordinates == [1] and cb.hv_maximize() == [True, False]
    cb.validate = scripted(                                   # type: ignore[method-assign]
        (np.array([0.2, 0.5]), {"val/mean_tokens": 30.0}),
        (np.array([0.4, 0.1]), {"val/mean_tokens": 20.0}))   # conciseness fell, tokens too
    control = SimpleNamespace(should_training_stop=False)
    cb.on_train_begin(None, STATE, control)
    np.testing.assert_allclose(cb.v0, [0.2, 30.0])
    cb.on_step_end(None, SimpleNamespace(global_step=1, max_steps=10), control)
    # the gain counts 10 fewer tokens, not the lower conciseness indicator
    assert cb.multiplier == pytest.approx(0.5 + 1.5 * math.tanh(0.2 * 10.0))
    other, _ = make(objs, hv_length="acc")
    assert other.length_coordinates == [0]
    with pytest.raises(ValueError, match="hv_length='nope' is not an objective"):
        make(objs, hv_length="nope")


def test_reference_gradient_rule_ties_eta_to_the_learning_rate(monkeypatch):
    cb, trainer = make(TWO, mode="gradient", preset="reference", weights=(0.5, 0.5))
    gram = np.array([[4.0, 1.0], [1.0, 0.0]])
    monkeypatch.setattr(cb_module, "select_parameters", lambda model, spec: [])
    monkeypatch.setattr(cb_module, "gradient_gram", lambda *a, **k: gram)
    for f in cb.funcs:
        f.last = {"values": np.zeros(4), "prompts": ["q"] * 4, "completion_ids": [[1]] * 4}
    trainer.model = SimpleNamespace(zero_grad=lambda set_to_none: None)
    info = cb._gradient_update()
    lr = 2e-6
    s = gram.sum(1)                                   # influence (5, 1)
    logits = np.log([0.5, 0.5]) + lr * s / 1e-5       # no floor, raw influence
    expected = np.exp(logits) / np.exp(logits).sum()
    np.testing.assert_allclose(cb.weights, expected)
    assert info["eta"] == lr


def test_rloo_trainer_trains_and_reads_the_weights_in_place(tmp_path):
    """RLOOTrainer reads ``reward_weights`` at every generation like GRPOTrainer: the
    hypervolume multiplier reaches it, and the advantages are not std-scaled."""
    from moalign.llm.tiny import build_tiny_model

    problem = get_problem("text")(prompts="tiny-math", n_prompts=32, n_validation=8,
                                  objectives=["exact_answer", {"fn": "length",
                                                               "params": {"target": 10}}],
                                  policy=str(build_tiny_model()))
    logged: list[dict[str, float]] = []
    ctx = RunContext(problem, Budget(steps=2), seed=0,
                     on_record=[lambda c, m: logged.append(dict(m))])
    cfg = {"trainer": "rloo", "mode": "hypervolume", "per_device_train_batch_size": 8,
           "num_generations": 4, "max_completion_length": 16, "eval_every": 1,
           "n_val_samples": 1, "learning_rate": 1e-3, "torch_threads": 1}
    result = get_solver("drw")(cfg).solve(problem, ctx)
    assert (result.info["global_step"], result.info["trainer"]) == (2, "RLOOTrainer")
    m = logged[-1]["meta_reward"]
    assert 0.5 <= m <= 2.0
    assert result.info["weights"] == {n: pytest.approx(m) for n in problem.objectives.names}

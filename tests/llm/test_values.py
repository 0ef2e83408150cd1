"""Value functions for RMOD (moalign.llm.values): the contract, the objective fallback, value
heads trained by Monte-Carlo regression on the digits testbed, persistence, the
``value-heads`` solver (shared SolverSuite) and its recipe through the CLI."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest

from moalign.core import Objective
from moalign.llm.values import (
    ObjectiveValues,
    ValueFunction,
    ValueHeads,
    prefix_features,
    train_value_heads,
)
from moalign.llm.values.heads import pad_id
from moalign.solvers import Budget, RunContext, get_solver
from moalign.testing.solver_suite import SolverSuite

pytestmark = pytest.mark.llm
ROOT = Path(__file__).resolve().parents[2]
SMALL = {"n_samples": 2, "max_new_tokens": 12, "device": "cpu", "torch_threads": 1}


@pytest.fixture(scope="module")
def digits_path() -> Path:
    from moalign.llm.tiny import build_tiny_model, tiny_config

    return build_tiny_model(config=tiny_config("digits"))


@pytest.fixture(scope="module")
def tokenizer(digits_path: Path) -> Any:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(digits_path)


def digit_objectives() -> list[Objective]:
    from moalign.llm import length, sevens, threes

    return [sevens(), threes(), length()]  # length(): raw length in characters, minimized


def prompts(n: int, seed: int = 1) -> list[str]:
    from moalign.llm.digits import digits_prompts

    return [r["prompt"] for r in digits_prompts(n, seed=seed)]


@pytest.fixture(scope="module")
def trained(digits_path: Path) -> tuple[ValueHeads, Any]:
    ps = prompts(160)
    return train_value_heads(digits_path, None, ps[:128], digit_objectives(),
                             validation=ps[128:], n_samples=4, max_new_tokens=16, epochs=15,
                             seed=0)


# -- the fallback --------------------------------------------------------------------------
def test_objective_values_scores_the_decoded_prefix(tokenizer):
    objs = digit_objectives()
    vf = ObjectiveValues(objs, tokenizer)
    assert isinstance(vf, ValueFunction) and vf.names == ("sevens", "threes", "length")
    ps = prompts(3)
    prompt_ids = [tokenizer(p)["input_ids"] for p in ps]
    texts = [" 7737", " 12", ""]
    prefix_ids = [tokenizer(t, add_special_tokens=False)["input_ids"] for t in texts]
    prefix_ids[1] = [*prefix_ids[1], tokenizer.eos_token_id]  # special tokens are skipped
    V = vf(prompt_ids, prefix_ids)
    assert V.shape == (3, 3) and V.dtype == np.float64
    for j, o in enumerate(objs):
        expected = o(prompts=ps, completions=texts)
        np.testing.assert_array_equal(V[:, j], -expected if o.direction == "minimize"
                                      else expected)
    np.testing.assert_array_equal(V[:, 2], [-5.0, -3.0, 0.0])  # minimized: negated


def test_objective_values_extras_and_failures(tokenizer):
    seen: dict[str, Any] = {}

    def answer_len(prompts, completions, answer, **kw):
        seen["answer"] = answer
        return [None if a == "x" else float(len(c) + len(a)) for c, a in zip(completions,
                                                                             answer, strict=True)]

    never = Objective("never", lambda prompts, completions, **kw: [None] * len(completions),
                      direction="maximize")
    vf = ObjectiveValues([Objective("al", answer_len, direction="minimize"), never], tokenizer)
    ids = [tokenizer("S:")["input_ids"]] * 3
    pre = [tokenizer(t, add_special_tokens=False)["input_ids"] for t in (" 1", " 123", " 1")]
    V = vf(ids, pre, extras={"answer": ["ab", "c", "x"]})
    # failed -> the column's worst finite value (-4 = -(2 + 2)); all failed -> 0
    np.testing.assert_array_equal(V, [[-4.0, 0.0], [-5.0, 0.0], [-5.0, 0.0]])
    vf(ids, pre, extras={"answer": ["z"]})  # one value for every row
    assert seen["answer"] == ["z", "z", "z"]
    with pytest.raises(ValueError, match="extras"):
        vf(ids, pre, extras={"answer": ["a", "b"]})


# -- value heads ----------------------------------------------------------------------------
def test_value_heads_contract_and_orientation(trained, tokenizer):
    heads, _ = trained
    assert isinstance(heads, ValueFunction) and heads.names == ("sevens", "threes", "length")
    ps = prompts(4, seed=9)
    prompt_ids = [tokenizer(p)["input_ids"] for p in ps]
    prefixes = [[], tokenizer(" 77", add_special_tokens=False)["input_ids"],
                tokenizer(" 3333", add_special_tokens=False)["input_ids"], []]
    V = heads(prompt_ids, prefixes)
    assert V.shape == (4, 3) and V.dtype == np.float64 and np.all(np.isfinite(V))
    assert np.all(V[:, 2] < -2)  # the minimized length comes back negated (≈ -9 characters)
    assert heads([], []).shape == (0, 3)


def test_training_lowers_heldout_mse(trained):
    _, report = trained
    names = report.names
    for n in names:
        assert report.heldout_mse[n] < report.initial_heldout_mse[n], n
        assert report.heldout_mse[n] < report.mean_heldout_mse[n], n
        assert report.train_mse[n] < report.mean_heldout_mse[n] * 1.5, n
    assert report.history[-1]["loss"] < report.history[0]["loss"]
    assert report.sizes["train_completions"] == 128 * 4
    assert report.sizes["train_prefixes"] > report.sizes["train_completions"]


@pytest.mark.parametrize("features", ["last", "last+mean"])
def test_single_forward_equals_one_forward_per_prefix(digits_path, tokenizer, features):
    heads = ValueHeads.create(digits_path, ["a", "b"], features=features, seed=3)
    ps = prompts(3, seed=5)
    prompt_ids = [tokenizer(p)["input_ids"] for p in ps]
    comps = [tokenizer(t, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
             for t in (" 7395172", " 31", " 1234567890123")]
    X, owner = prefix_features(heads.model, pad_id(tokenizer), prompt_ids, comps,
                               kind=features, batch_size=2)  # two batches, left padding
    assert len(X) == sum(len(c) + 1 for c in comps)
    single = heads.head.values(X).double().detach().numpy()
    rows = [(i, t) for i, c in enumerate(comps) for t in range(len(c) + 1)]
    assert owner.tolist() == [i for i, _ in rows]
    for k in (0, 1, 5, 9, 10, len(rows) - 1):  # empty prefix, middle, whole completion
        i, t = rows[k]
        one = heads([prompt_ids[i]], [comps[i][:t]])[0]
        np.testing.assert_allclose(one, single[k], atol=1e-5)


def test_save_load_round_trip(trained, tokenizer, tmp_path):
    heads, _ = trained
    heads.save(tmp_path / "vm")
    again = ValueHeads.load(tmp_path / "vm")
    assert (tmp_path / "vm" / "base" / "config.json").is_file()  # local base: copied
    assert again.names == heads.names and again.features == heads.features
    assert again.origin == heads.base and "training" in again.info
    ps = prompts(5, seed=11)
    prompt_ids = [tokenizer(p)["input_ids"] for p in ps]
    prefixes = [tokenizer(t, add_special_tokens=False)["input_ids"]
                for t in ("", " 7", " 733", " 12345678", " 3")]
    np.testing.assert_array_equal(again(prompt_ids, prefixes), heads(prompt_ids, prefixes))
    again.save(tmp_path / "vm2")  # a loaded model saves again (its base from memory)
    np.testing.assert_array_equal(ValueHeads.load(tmp_path / "vm2")(prompt_ids, prefixes),
                                  heads(prompt_ids, prefixes))


def test_hub_name_is_referenced_not_copied(digits_path, tmp_path):
    heads = ValueHeads.create(digits_path, ["a"], copy_base=False)
    heads.save(tmp_path / "ref")
    assert not (tmp_path / "ref" / "base").exists()
    assert ValueHeads.load(tmp_path / "ref").base == str(digits_path)


# -- the solver -----------------------------------------------------------------------------
def digits_problem(extra: list[Any] | None = None, n_prompts: int = 8) -> Any:
    from moalign.problems import get_problem

    return get_problem("text")(prompts="digits", n_prompts=n_prompts, n_validation=4,
                               policy="tiny",
                               objectives=["sevens", "threes", *(extra or [])])


def odd_digit_count(prompts, completions, **kw):
    """Fails (None) for completions with an even number of digits."""
    n = [sum(ch.isdigit() for ch in c) for c in completions]
    return [float(k) if k % 2 else None for k in n]


class TestValueHeadsSuite(SolverSuite):
    solver_name = "value-heads"
    config: ClassVar[dict[str, Any]] = dict(SMALL)
    budget = Budget(steps=3)
    other_problems: ClassVar[dict[str, Any]] = {}  # text problems only (TypeError otherwise)

    def make_problem(self) -> Any:
        return digits_problem()

    def make_failing_problem(self) -> Any:
        return digits_problem([Objective("odd", odd_digit_count, direction="maximize")])


def test_solver_records_heldout_mse_and_returns_the_model():
    problem = digits_problem(n_prompts=24)
    logged: list[dict[str, float]] = []
    ctx = RunContext(problem, Budget(steps=4), seed=0,
                     on_record=[lambda c, m: logged.append(dict(m, step=c.step))])
    result = get_solver("value-heads")(SMALL).solve(problem, ctx)
    assert [m["step"] for m in logged] == [0, 1, 2, 3, 4]
    for m in logged:
        assert {f"heldout_mse/{n}" for n in ("sevens", "threes")} <= set(m)
    assert "loss" in logged[1] and "loss" not in logged[0]
    assert ctx.archive.n_evals == 4 * 2  # the held-out samples of the reference policy
    model = result.model
    assert isinstance(model, ValueHeads) and model.artifact_name == "value_model"
    assert result.info["epochs"] == 4
    assert set(result.info["heldout_mse"]) == {"sevens", "threes"}
    with pytest.raises(TypeError, match="text problems"):
        from moalign.testing import toy_zdt1

        get_solver("value-heads")(SMALL).solve(toy_zdt1(), RunContext(toy_zdt1(), Budget(steps=1)))


def test_config_is_validated():
    with pytest.raises(Exception, match="features"):
        get_solver("value-heads")({"features": "mean"})
    with pytest.raises(Exception, match="lr"):
        get_solver("value-heads")({"lr": 0})


def test_recipe_smoke_logs_the_value_model(mlflow_uri, tmp_path):
    from mlflow import MlflowClient

    from moalign.cli import main

    recipe = ROOT / "recipes" / "rmod_values_tiny.yaml"
    code = main(["run", str(recipe), "--smoke", "--no-progress",
                 "--set", f"tracking.uri={mlflow_uri}",
                 "--set", "tracking.experiment=test-values-recipe",
                 "--set", f"checkpoint.dir={tmp_path / 'ckpt'}"])
    assert code == 0
    client = MlflowClient(tracking_uri=mlflow_uri)
    exp = client.get_experiment_by_name("test-values-recipe")
    run = client.search_runs([exp.experiment_id])[0]
    assert run.data.params["solver"] == "value-heads"
    assert "value_model" in [a.path for a in client.list_artifacts(run.info.run_id)]
    assert "heldout_mse/sevens" in run.data.metrics
    heads = ValueHeads.from_run(run.info.run_id, uri=mlflow_uri)
    assert heads.names == ("sevens", "threes", "near_len") and heads.features == "last+mean"
    V = heads([heads.tokenizer("S: 1 2 3\nA:")["input_ids"]], [[]])
    assert V.shape == (1, 3) and np.all(np.isfinite(V))
    heads.save(tmp_path / "again")  # the downloaded copy is gone: the base comes from memory
    assert (tmp_path / "again" / "base" / "model.safetensors").is_file()

"""The ``rmod`` solver end to end: every method decodes the same held-out prompts, the run
logs each method's means, worst-case objective and cost ratios, and the same seed gives the
same numbers."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest
from mlflow import MlflowClient

from moalign.cli import main
from moalign.core.config import ConfigError
from moalign.core.objective import Objective
from moalign.problems import get_problem
from moalign.solvers import Budget, RunContext, get_solver
from moalign.testing import SolverSuite

pytestmark = pytest.mark.llm
ROOT = Path(__file__).resolve().parents[2]
FAST = {"K": 4, "B": 4, "max_new_tokens": 8, "torch_threads": 1}


def digits_problem(n_validation: int = 3, extra: list[Any] | None = None):
    return get_problem("text")(prompts="digits", n_prompts=8, n_validation=n_validation,
                               policy="tiny", objectives=["sevens", "threes",
                                                          {"fn": "near_len",
                                                           "params": {"target": 8}},
                                                          *(extra or [])])


def _odd_lengths_fail() -> Objective:
    """None (a failed score) for completions of odd length."""
    def parity(prompts, completions, **kw):
        return [None if len(c) % 2 else 1.0 for c in completions]

    return Objective("parity", parity, direction="maximize")


class TestRMODSuite(SolverSuite):
    solver_name = "rmod"
    config: ClassVar[dict[str, Any]] = {**FAST, "methods": ["plain", "fixed", "rmod"]}
    budget = Budget(steps=3)          # one step per method
    other_problems: ClassVar[dict[str, Any]] = {}  # text problems only

    def make_problem(self) -> Any:
        return digits_problem(n_validation=4)

    def make_failing_problem(self) -> Any:
        return digits_problem(n_validation=4, extra=[_odd_lengths_fail()])


def solve(seed: int, **cfg):
    problem = digits_problem()
    logged: list[dict[str, float]] = []
    ctx = RunContext(problem, Budget(steps=10), seed=seed,
                     on_record=[lambda c, m: logged.append(dict(m))])
    result = get_solver("rmod")({**FAST, **cfg}).solve(problem, ctx)
    return result, logged


def test_one_point_per_method_and_the_same_seed_gives_the_same_numbers():
    a, logged = solve(0)
    b, _ = solve(0)
    c, _ = solve(1)
    names = list(a.info["methods"])
    assert names == ["plain", "best_of_k", "fixed", "per_objective:sevens",
                     "per_objective:threes", "per_objective:near_len", "rmod"]
    assert a.archive.F.shape == (7 * 3, 3)            # one point per method and prompt
    np.testing.assert_array_equal(a.archive.F, b.archive.F)
    assert not np.array_equal(a.archive.F, c.archive.F)
    last = logged[-1]
    assert {"rmod/worst", "rmod/mean/sevens", "rmod/cost_vs_plain", "rmod/hv",
            "rmod/cost_vs_best_of_k", "rmod/tokens_per_s"} <= set(last)
    means = [last[f"rmod/mean/{n}"] for n in ("sevens", "threes", "near_len")]
    assert last["rmod/worst"] == pytest.approx(min(means))
    np.testing.assert_allclose(a.archive.F[-3:].mean(axis=0), means)
    from moalign.indicators import hypervolume

    assert last["rmod/hv"] == pytest.approx(hypervolume(a.archive.F[-3:], [0, 0, 0],
                                                        maximize=True))


def test_per_objective_decoding_favours_its_objective():
    result, _ = solve(0)
    m = result.info["methods"]
    assert m["per_objective:sevens"]["mean/sevens"] > m["plain"]["mean/sevens"]
    assert m["per_objective:threes"]["mean/threes"] > m["plain"]["mean/threes"]


def test_completion_ids_round_trip_through_text():
    """The decoder keeps token ids; where the tokenizer round-trips (the character
    tokenizer), re-encoding the decoded text gives the same ids."""
    from transformers import AutoTokenizer

    from moalign.llm.rmod import blockwise_decode, rmod_chooser
    from moalign.llm.tiny import build_tiny_model, tiny_config

    path = build_tiny_model(config=tiny_config("digits"))
    tok = AutoTokenizer.from_pretrained(path)
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(path)
    ids = tok("S: 5 1 7\nA:")["input_ids"]

    def values(prompts, prefixes):
        return np.array([[float(p.count(7)), float(len(p))] for p in prefixes])

    d = blockwise_decode(model, tok, ids, values, rmod_chooser(), K=4, B=4, max_new_tokens=12)
    assert tok(d.text, add_special_tokens=False)["input_ids"] == d.ids


@pytest.mark.parametrize("bad", [{"K": 0}, {"methods": ["beam"]}, {"lam": -1.0},
                                 {"n_prompts": 0}])
def test_invalid_options_raise_at_construction(bad):
    with pytest.raises(ConfigError):
        get_solver("rmod")(bad)


def test_recipe_smoke_logs_the_comparison(tmp_path, monkeypatch, mlflow_uri, capsys):
    monkeypatch.chdir(tmp_path)
    recipe = (ROOT / "recipes" / "rmod_tiny.yaml").read_text()
    (tmp_path / "rmod_tiny.yaml").write_text(
        recipe.replace("experiment: moalign-decoding",
                       f"experiment: rmod-smoke\n  uri: '{mlflow_uri}'"))
    assert main(["run", "rmod_tiny.yaml", "--smoke", "--no-progress"]) == 0
    client = MlflowClient(tracking_uri=mlflow_uri)
    run, = client.search_runs([client.get_experiment_by_name("rmod-smoke").experiment_id])
    metrics = run.data.metrics
    for method in ("plain", "best_of_k", "fixed", "rmod"):
        assert f"{method}/worst" in metrics
    assert "rmod/cost_vs_best_of_k" in metrics
    files = {a.path for a in client.list_artifacts(run.info.run_id, "decoding")}
    assert files == {"decoding/completions.csv", "decoding/weights.json",
                     "decoding/summary.csv"}


def _saved_llama(folder: Path, seed: int) -> Path:
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    from moalign.llm.tiny import build_char_tokenizer

    tok = build_char_tokenizer()
    torch.manual_seed(seed)
    LlamaForCausalLM(LlamaConfig(
        vocab_size=len(tok), hidden_size=16, intermediate_size=32, num_hidden_layers=1,
        num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=64,
        pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id)).save_pretrained(folder)
    return folder


def test_rewarded_soup_interpolates_the_policies_weights(tmp_path):
    from transformers import AutoModelForCausalLM

    from moalign.llm.rmod.soups import soup

    a, b = _saved_llama(tmp_path / "a", 0), _saved_llama(tmp_path / "b", 1)
    pa = AutoModelForCausalLM.from_pretrained(a).state_dict()
    pb = AutoModelForCausalLM.from_pretrained(b).state_dict()
    only_a = soup([str(a), str(b)], [1.0, 0.0]).state_dict()
    mixed = soup([str(a), str(b)], [1.0, 3.0]).state_dict()   # normalized to (1/4, 3/4)
    for k in pa:
        assert np.allclose(only_a[k].numpy(), pa[k].numpy())
        assert np.allclose(mixed[k].numpy(), 0.25 * pa[k].numpy() + 0.75 * pb[k].numpy(),
                           atol=1e-6)
    with pytest.raises(FileNotFoundError, match="neither a model folder"):
        soup([str(tmp_path / "nope")], [1.0])


def test_rewarded_soup_needs_its_policies():
    with pytest.raises(ConfigError, match="soup_policies"):
        get_solver("rmod")({"methods": ["plain", "rewarded_soup"]})

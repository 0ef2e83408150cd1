"""The tune: block: validation with path-named errors, sampling, targets."""

from __future__ import annotations

import math
from typing import Any

import optuna
import pytest

from moalign.core.config import ConfigError
from moalign.recipes.loader import parse_recipe
from moalign.tuning import check_search_space, parse_tune_spec, resolve_target
from moalign.tuning.components import make_pruner, make_sampler, make_storage
from moalign.tuning.spec import HeartbeatSpec

optuna.logging.set_verbosity(optuna.logging.WARNING)

BASE: dict[str, Any] = {
    "name": "t",
    "problem": {"name": "zdt1", "params": {"n_var": 2}},
    "solver": {"name": "random", "config": {"batch_size": 5}},
    "budget": {"evaluations": 20},
    "tracking": {"backend": "none"},
}


def spec_of(**tune: Any) -> Any:
    return parse_tune_spec({"params": {"seed": {"type": "int", "low": 0, "high": 9}}, **tune})


def test_defaults_and_shorthands() -> None:
    spec = parse_tune_spec({
        "params": {"solver.config.batch_size": {"type": "int", "low": 1, "high": 8},
                   "budget.evaluations": {"type": "float", "low": 1e-3, "high": 1.0,
                                          "log": True},
                   "problem.params.n_var": {"type": "categorical", "choices": [2, 3]}},
        "target": "objectives", "sampler": "nsga2", "pruner": "none"})
    assert spec.target.type == "objectives" and spec.target.metrics == {}
    assert spec.sampler.name == "nsga2" and spec.pruner.name == "none"
    assert spec.n_trials == 20 and spec.study_name is None
    assert spec.heartbeat == HeartbeatSpec(interval=60, grace_period=None, max_retry=1)
    assert spec.params["budget.evaluations"].log is True


@pytest.mark.parametrize("tune, message", [
    ({"params": {"seed": {"type": "int", "low": 0, "high": 9}}, "trials": 3},
     "tune.trials: unknown key"),
    ({"params": {"seed": {"type": "int", "lo": 0, "high": 9}}},
     "tune.params.seed.lo: unknown key"),
    ({"params": {"seed": {"type": "int", "low": 9, "high": 0}}},
     "tune.params.seed: need finite low < high"),
    ({"params": {"seed": {"type": "int", "low": 0.5, "high": 9}}},
     "tune.params.seed.low: an int parameter needs an integer"),
    ({"params": {"x": {"type": "float", "low": 0, "high": 1, "log": True}}},
     "tune.params.x.log: needs low > 0"),
    ({"params": {"x": {"type": "float", "low": 1, "high": 2, "log": True, "step": 0.1}}},
     "tune.params.x.step: cannot be combined with log"),
    ({"params": {"x": {"type": "categorical"}}}, "tune.params.x.choices: give at least one"),
    ({"params": {"x": {"type": "categorical", "choices": [[1, 2]]}}},
     "tune.params.x.choices: [1, 2] is not null"),
    ({"params": {"x": {"type": "uniform", "low": 0, "high": 1}}},
     "tune.params.x.type: 'uniform' is not one of"),
    ({"params": {"tracking.uri": {"type": "categorical", "choices": ["a"]}}},
     "tune.params.tracking.uri: tracking.* cannot be tuned"),
    ({"params": {}}, "tune.params: give at least one parameter"),
    ({"params": {"seed": {"type": "int", "low": 0, "high": 9}}, "target": "accuracy"},
     "tune.target.type: 'accuracy' is not one of"),
    ({"params": {"seed": {"type": "int", "low": 0, "high": 9}},
      "target": {"type": "desirability"}}, "tune.target.metrics: name the run metrics"),
    ({"params": {"seed": {"type": "int", "low": 0, "high": 9}},
      "target": {"type": "desirability", "metrics": {"acc": {"type": "dmax", "low": 1,
                                                              "high": 0}}}},
     "tune.target.metrics.acc: DMax"),
    ({"params": {"seed": {"type": "int", "low": 0, "high": 9}},
      "target": {"type": "desirability", "metrics": {"acc": {"type": "dmax", "low": 0,
                                                              "high": 1, "weight": 0}}}},
     "tune.target.metrics.acc.weight: must be a positive number"),
    ({"params": {"seed": {"type": "int", "low": 0, "high": 9}},
      "target": {"type": "objectives", "metrics": {"f1/best": "min"}}},
     "tune.target.metrics.f1/best: expected maximize or minimize"),
    ({"params": {"seed": {"type": "int", "low": 0, "high": 9}}, "sampler": "cmaes"},
     "tune.sampler.name: 'cmaes' is not one of"),
    ({"params": {"seed": {"type": "int", "low": 0, "high": 9}}, "n_trials": 0},
     "tune.n_trials: must be >= 1"),
    ({"params": {"seed": {"type": "int", "low": 0, "high": 9}},
      "heartbeat": {"interval": 10, "grace_period": 5}},
     "tune.heartbeat.grace_period: must exceed interval"),
    (None, "tune: the recipe has no tune: block"),
])
def test_invalid_blocks_name_their_path(tune: Any, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_tune_spec(tune)
    assert str(err.value).startswith(message), str(err.value)


def test_unknown_sampler_and_pruner_options_are_errors() -> None:
    with pytest.raises(ConfigError, match=r"tune.sampler.population: not an option of "
                                          r"NSGAIISampler"):
        make_sampler(spec_of(sampler={"name": "nsga2", "population": 4}).sampler, True)
    with pytest.raises(ConfigError, match=r"tune.pruner.warmup: not an option of MedianPruner"):
        make_pruner(spec_of(pruner={"name": "median", "warmup": 2}).pruner)
    sampler = make_sampler(spec_of(sampler={"name": "auto", "seed": 3}).sampler, True)
    assert isinstance(sampler, optuna.samplers.NSGAIISampler)
    assert isinstance(make_sampler(spec_of().sampler, False), optuna.samplers.TPESampler)
    pruner = make_pruner(spec_of(pruner={"name": "hyperband", "reduction_factor": 2}).pruner)
    assert isinstance(pruner, optuna.pruners.HyperbandPruner)


def test_storage_kinds(tmp_path: Any) -> None:
    hb = HeartbeatSpec(interval=5)
    assert isinstance(make_storage(None, hb), optuna.storages.InMemoryStorage)
    rdb = make_storage(f"sqlite:///{tmp_path / 's.db'}", hb)
    assert isinstance(rdb, optuna.storages.RDBStorage)
    assert rdb.get_heartbeat_interval() == 5
    journal = make_storage(str(tmp_path / "s.log"), hb)
    assert isinstance(journal, optuna.storages.JournalStorage)
    with pytest.raises(ConfigError, match="--storage nosuchdb://x"):
        make_storage("nosuchdb://x", hb)


def test_search_space_paths_are_checked_against_the_recipe() -> None:
    recipe = parse_recipe(BASE)
    ok = spec_of()
    check_search_space(recipe, ok)  # seed is a recipe field
    typo = parse_tune_spec({"params": {"solver.config.batch_sze": {
        "type": "int", "low": 1, "high": 4}}})
    with pytest.raises(ConfigError, match=r"^tune.params.solver.config.batch_sze: the recipe "
                                          r"rejects 1 \(solver.config.batch_sze: unknown key"):
        check_search_space(recipe, typo)
    float_on_int = parse_tune_spec({"params": {"solver.config.batch_size": {
        "type": "float", "low": 1, "high": 4}}})
    with pytest.raises(ConfigError, match="expected an integer"):
        check_search_space(recipe, float_on_int)
    bad_param = parse_tune_spec({"params": {"problem.params.n_vars": {
        "type": "int", "low": 2, "high": 4}}})
    with pytest.raises(ConfigError, match="tune.params.problem.params.n_vars: .*not a parameter"):
        check_search_space(recipe, bad_param)
    too_low = parse_tune_spec({"params": {"solver.config.batch_size": {
        "type": "int", "low": 0, "high": 4}}})
    with pytest.raises(ConfigError, match="solver.config.batch_size: must be >= 1"):
        check_search_space(recipe, too_low)


def test_suggest_uses_optuna_distributions() -> None:
    spec = parse_tune_spec({"params": {
        "a": {"type": "float", "low": 1e-4, "high": 1e-1, "log": True},
        "b": {"type": "int", "low": 2, "high": 10, "step": 2},
        "c": {"type": "categorical", "choices": ["x", "y", None]},
        "d": {"type": "float", "low": 0, "high": 1, "step": 0.25}}})
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    trial = study.ask()
    values = {k: p.suggest(trial, k) for k, p in spec.params.items()}
    dist = trial.distributions
    assert dist["a"] == optuna.distributions.FloatDistribution(1e-4, 1e-1, log=True)
    assert dist["b"] == optuna.distributions.IntDistribution(2, 10, step=2)
    assert dist["c"] == optuna.distributions.CategoricalDistribution(["x", "y", None])
    assert dist["d"] == optuna.distributions.FloatDistribution(0, 1, step=0.25)
    assert 1e-4 <= values["a"] <= 1e-1 and values["b"] in (2, 4, 6, 8, 10)
    assert values["d"] in (0, 0.25, 0.5, 0.75, 1.0)


def test_targets() -> None:
    recipe = parse_recipe(BASE)
    hv = resolve_target(spec_of().target, recipe)
    assert hv.value({"hypervolume": 0.5}) == 0.5 and hv.directions == ("maximize",)
    objs = resolve_target(spec_of(target="objectives").target, recipe)
    assert objs.metrics == ("f1/best", "f2/best")
    assert objs.directions == ("minimize", "minimize") and objs.multi_objective
    assert objs.value({"f1/best": 0.1, "f2/best": 0.7}) == [0.1, 0.7]
    one = resolve_target(spec_of(target={"type": "objectives",
                                         "metrics": {"f1/best": "minimize"}}).target, recipe)
    assert not one.multi_objective and one.intermediate_sign() == -1.0
    # D = (dmax(0.25; 0, 1) * dmin(5; 0, 10))^(1/2) = sqrt(0.25 * 0.5)
    d = resolve_target(spec_of(target={"type": "desirability", "metrics": {
        "acc": {"type": "dmax", "low": 0, "high": 1},
        "secs": {"type": "dmin", "low": 0, "high": 10}}}).target, recipe)
    assert d.value({"acc": 0.25, "secs": 5.0}) == pytest.approx(math.sqrt(0.125))
    # weights 3:1 -> D = 0.25^(3/4) * 0.5^(1/4)
    dw = resolve_target(spec_of(target={"type": "desirability", "metrics": {
        "acc": {"type": "dmax", "low": 0, "high": 1, "weight": 3},
        "secs": {"type": "dmin", "low": 0, "high": 10}}}).target, recipe)
    assert dw.value({"acc": 0.25, "secs": 5.0}) == pytest.approx(0.25**0.75 * 0.5**0.25)
    with pytest.raises(ConfigError, match=r"tune.target.metrics.secs: the run logged no "
                                          r"metric 'secs'; it logged \['acc'\]"):
        d.value({"acc": 0.3})

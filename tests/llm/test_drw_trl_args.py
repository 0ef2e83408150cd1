"""The TRL options drw sets come from one table, ``GRPO_FIELDS`` (GRPOConfig field -> DRW
config field, run value or constant): the trainer's arguments and the options ``trl_args``
may not set are both derived from it, and every default that differs from TRL's is listed
with its reason (in the code and in docs/alignment.md)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from moalign.core.config import ConfigError
from moalign.llm.drw import config as drw_config
from moalign.solvers import Budget, RunContext, get_solver

pytestmark = pytest.mark.llm
ROOT = Path(__file__).resolve().parents[2]
STOPPED = "stand-in trainer"
TINY_RUN = {"per_device_train_batch_size": 4, "num_generations": 2, "max_completion_length": 8}


def grpo_defaults() -> dict[str, Any]:
    """Each GRPOConfig field's declared default (before ``__post_init__``)."""
    from trl import GRPOConfig

    out = {}
    for f in dataclasses.fields(GRPOConfig):
        factory = f.default_factory
        out[f.name] = factory() if factory is not dataclasses.MISSING else f.default
    return out


def test_every_option_the_solver_sets_is_refused_in_trl_args(tiny_text_problem, system_tmp,
                                                           grpo_calls):
    ctx = RunContext(tiny_text_problem, Budget(steps=1), seed=0)
    with pytest.raises(RuntimeError, match=STOPPED):
        get_solver("drw")(TINY_RUN).solve(tiny_text_problem, ctx)
    (kwargs, _), = grpo_calls
    for name, value in kwargs.items():
        with pytest.raises(ConfigError, match="drw config keys"):
            get_solver("drw")({**TINY_RUN, "trl_args": {name: value}})


def test_table_names_real_fields_and_the_owned_set_is_its_keys():
    trl_fields = grpo_defaults()
    drw_fields = {f.name for f in dataclasses.fields(drw_config.DRWConfig)}
    table = drw_config.GRPO_FIELDS
    assert set(table) <= set(trl_fields)
    for source in table.values():
        assert isinstance(source, drw_config.FromConfig | drw_config.FromRun
                          | drw_config.Fixed)
        if isinstance(source, drw_config.FromConfig):
            assert source.name in drw_fields
    assert drw_config.OWNED == frozenset(table)


def test_solver_gives_grpo_config_the_table_plus_trl_args(tiny_text_problem, system_tmp,
                                                        grpo_calls):
    ctx = RunContext(tiny_text_problem, Budget(steps=3), seed=11)
    solver = get_solver("drw")({**TINY_RUN, "weights": [2.0, 1.0], "save_every": 2,
                                "trl_args": {"max_grad_norm": 0.5}})
    with pytest.raises(RuntimeError, match=STOPPED):
        solver.solve(tiny_text_problem, ctx)
    (kwargs, args), = grpo_calls
    run = {"max_steps": 3, "seed": 11, "reward_weights": [2.0, 1.0],
           "output_dir": kwargs["output_dir"]}
    expected = {"max_grad_norm": 0.5}
    for name, source in drw_config.GRPO_FIELDS.items():
        if isinstance(source, drw_config.FromConfig):
            expected[name] = getattr(solver.config, source.name)
        elif isinstance(source, drw_config.Fixed):
            expected[name] = source.value
        else:
            expected[name] = run[name]
    assert kwargs == expected
    assert kwargs == drw_config.grpo_args(solver.config, run)
    # TRL took them (GRPOConfig normalizes some, e.g. report_to "none" -> [])
    assert (args.save_steps, args.max_grad_norm, args.seed) == (2, 0.5, 11)


def test_defaults_that_differ_from_trl_are_listed_and_documented():
    trl, cfg = grpo_defaults(), drw_config.DRWConfig()
    differ = set()
    for name, source in drw_config.GRPO_FIELDS.items():
        if isinstance(source, drw_config.FromRun):
            differ.add(name)  # the run decides: folder, steps, seed, weights
        elif isinstance(source, drw_config.FromConfig):
            if getattr(cfg, source.name) != trl[name]:
                differ.add(name)
        elif source.value != trl[name]:
            differ.add(name)
    listed = drw_config.TRL_DEFAULT_DIFFERENCES
    assert set(listed) == differ
    assert all(reason.strip() for reason in listed.values())
    docs = (ROOT / "docs" / "alignment.md").read_text()
    assert [name for name in sorted(differ) if f"`{name}`" not in docs] == []

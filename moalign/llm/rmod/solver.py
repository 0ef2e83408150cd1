"""Solver ``rmod``: robust multi-objective decoding against the decoding baselines.

Son, S., Bankes, W., Yoon, S., Ramesh, S. S., Tang, X. & Bogunovic, I. (2025). *Robust
Multi-Objective Controlled Decoding of Large Language Models.* No training: per block of B
tokens, K candidates continue the prefix, a value function scores them (`K x G`), the
worst-case weights ``w* = argmin_w log mean_k exp(λ w·V̂_k)`` are solved (10 softmax-logit
steps of size ``1/√(t+1)``) and the candidate ``argmax_k w*·V̂_k`` is kept
(:mod:`moalign.llm.rmod.decode`).

The solver decodes the problem's held-out prompts with every method in ``methods`` (plain
sampling, best-of-K by weighted sum, blockwise fixed weights, per-objective decoding, RMOD)
on the same prompts and seeds, scores the completions with the problem's objectives and
records one step per method with one point per prompt (its completion's objective vector).
Metrics per method (``<method>/...``): each objective's mean, ``worst`` (``min_g E[r_g]``,
objectives oriented higher-is-better), ``hv`` (hypervolume of its per-prompt vectors, at
the problem's reference or the objectives' worst bounds), ``seconds``, ``tokens_per_s``,
``cost_vs_plain`` and ``cost_vs_best_of_k`` (wall-time ratios). The solver state after each
method is checkpointed; a resumed run decodes only the methods not yet done.
Artifacts: ``decoding/completions.csv`` (every text with its scores),
``decoding/weights.json`` (the weights chosen per block for the first prompts) and
``decoding/summary.csv``.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from moalign.core.problem import Problem
from moalign.indicators import hypervolume
from moalign.llm.rmod.decode import blockwise_decode, weighted_chooser
from moalign.llm.rmod.evaluate import METHOD_NAMES, decode_all, methods, summarize
from moalign.llm.rmod.scoring import ObjectiveScorer
from moalign.solvers.base import Result, Solver, register_solver
from moalign.solvers.context import RunContext

if TYPE_CHECKING:
    from moalign.llm.problem import TextProblem


@dataclass(frozen=True)
class RMODConfig:
    """Options of the ``rmod`` solver (the reference code's defaults).

    Args:
        K: candidates per block (best-of-K samples K whole completions).
        B: tokens per block.
        lam: λ of the worst-case weights (0 keeps uniform weights).
        steps: gradient steps of the worst-case weights.
        temperature: sampling temperature of the reference policy.
        max_new_tokens: completion length limit.
        values: the value function: ``"objectives"`` (the fallback: the objectives scored
            on the partial text), a value-model folder, or ``"run:<run id>"`` (the
            ``value_model`` artifact of a ``value-heads`` run).
        methods: methods to compare, from ``plain``, ``best_of_k``, ``fixed``,
            ``per_objective``, ``rmod``, ``rewarded_soup`` (plain and best-of-K first: the
            cost ratios need them).
        weights: user weights of ``fixed``, ``best_of_k`` and ``rewarded_soup`` (default
            equal).
        soup_policies: for ``rewarded_soup``, one policy per objective in the problem's
            order (folders or ``run:<id>`` of drw runs trained with one-hot weights).
        n_prompts: held-out prompts to decode (default all).
        log_weights_for: prompts whose per-block weights go to ``decoding/weights.json``.
        torch_threads: torch threads while decoding (None: leave torch's setting).
        device: where the policy runs (``"cpu"``, ``"cuda"``, ``"cuda:1"``, ...).
        dtype: the policy's weights: ``"float32"`` or ``"bfloat16"`` (GPUs).
    """

    K: int = 8
    B: int = 8
    lam: float = 1.0
    steps: int = 10
    temperature: float = 1.0
    max_new_tokens: int = 32
    values: str = "objectives"
    methods: tuple[str, ...] = ("plain", "best_of_k", "fixed", "per_objective", "rmod")
    weights: tuple[float, ...] | None = None
    soup_policies: tuple[str, ...] | None = None
    n_prompts: int | None = None
    log_weights_for: int = 4
    torch_threads: int | None = None
    device: str = "cpu"
    dtype: str = "float32"

    def __post_init__(self) -> None:
        if self.dtype not in ("float32", "bfloat16", "float16"):
            raise ValueError("dtype must be float32, bfloat16 or float16")
        for name in ("K", "B", "steps", "max_new_tokens", "log_weights_for"):
            if getattr(self, name) < (0 if name == "log_weights_for" else 1):
                raise ValueError(f"{name} must be positive")
        if self.lam < 0 or self.temperature < 0:
            raise ValueError("lam and temperature must be >= 0")
        unknown = sorted(set(self.methods) - set(METHOD_NAMES))
        if unknown:
            raise ValueError(f"methods: {unknown} unknown; use {list(METHOD_NAMES)}")
        if "rewarded_soup" in self.methods and not self.soup_policies:
            raise ValueError("methods: rewarded_soup needs soup_policies (one trained "
                             "policy per objective)")
        if self.n_prompts is not None and self.n_prompts < 1:
            raise ValueError("n_prompts must be positive (or null: all held-out prompts)")


@register_solver("rmod")
class RMOD(Solver[RMODConfig]):
    """Robust multi-objective decoding and its baselines; see the module docstring."""

    Config = RMODConfig

    def solve(self, problem: Problem, ctx: RunContext) -> Result:
        """Decode the held-out prompts with every method and record one point per method.

        Raises:
            TypeError: ``problem`` is not a text problem.
        """
        from moalign.llm.problem import as_text_problem
        from moalign.llm.runtime import torch_threads

        with torch_threads(self.config.torch_threads):
            return self._solve(as_text_problem(problem, "rmod"), ctx)

    def _solve(self, problem: TextProblem, ctx: RunContext) -> Result:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        from moalign.llm.generation import encode_prompts

        cfg = self.config
        model: Any = AutoModelForCausalLM.from_pretrained(problem.policy, dtype=cfg.dtype)
        model.to(cfg.device)
        tok = AutoTokenizer.from_pretrained(problem.policy)
        val = problem.validation
        n = len(val.prompts) if cfg.n_prompts is None else min(cfg.n_prompts, len(val.prompts))
        prompts = list(val.prompts[:n])
        extras = {k: list(v[:n]) for k, v in val.extras.items()}
        prompt_ids = encode_prompts(tok, prompts)
        scorer = ObjectiveScorer(problem.objectives, tok, prompt_ids, prompts, extras)
        value_fn = scorer if cfg.values == "objectives" else load_values(cfg.values)
        names = list(problem.objectives.names)
        # resume: the finished methods, their tables and the seed base come back
        state = ctx.load_state() or {"base": ctx.spawn_seed(), "summary": {}, "rows": [],
                                     "chosen": {}}
        summary: dict[str, dict[str, float]] = state["summary"]
        seeds = [state["base"] + i for i in range(n)]
        # one untimed decode first: the first forward passes pay one-off costs (allocation,
        # kernel selection) that would otherwise be charged to the first method timed
        blockwise_decode(model, tok, prompt_ids[0], scorer, weighted_chooser([1.0] * len(
            names)), K=cfg.K, B=cfg.B, max_new_tokens=cfg.B, seed=state["base"])
        ref = hv_reference(problem)
        for i, method in enumerate(methods(cfg.methods, names, K=cfg.K, B=cfg.B, lam=cfg.lam,
                                           steps=cfg.steps, max_new_tokens=cfg.max_new_tokens,
                                           weights=cfg.weights)):
            if method.name in summary:
                continue
            if ctx.should_stop():
                break
            policy = model if method.policy == "reference" else self._soup(names)
            with ctx.phase(f"decode: {method.name}"):
                decoded = decode_all(method, policy, tok, prompt_ids, value_fn, scorer,
                                     max_new_tokens=cfg.max_new_tokens,
                                     temperature=cfg.temperature, seeds=seeds)
            R = scorer(prompt_ids, [d.ids for d in decoded])   # oriented: higher is better
            stats = summarize(R, decoded, names)
            for base in ("plain", "best_of_k"):
                if base in summary:
                    stats[f"cost_vs_{base}"] = stats["seconds"] / summary[base]["seconds"]
            F = R * scorer.signs                                # the user's orientation
            if ref is not None:
                stats["hv"] = hypervolume(F[np.all(np.isfinite(F), axis=1)], ref,
                                          maximize=problem.objectives.maximize)
            summary[method.name] = stats
            state["rows"] += [{"method": method.name, "prompt": p, "completion": d.text,
                               **dict(zip(names, r.tolist(), strict=True))}
                              for p, d, r in zip(prompts, decoded, R, strict=True)]
            if method.K > 1:
                state["chosen"][method.name] = [d.weights.tolist()
                                                for d in decoded[:cfg.log_weights_for]]
            ctx.record([[i, j] for j in range(n)], F,    # one point per prompt
                       metrics={f"{method.name}/{k}": v for k, v in stats.items()})
            ctx.save_state(state)
        _log_tables(ctx, state["rows"], state["chosen"], summary)
        return Result(ctx.archive, info={"methods": summary, "prompts": n})

    def _soup(self, names: Sequence[str]) -> Any:
        from moalign.llm.rmod.soups import soup

        cfg = self.config
        specs = list(cfg.soup_policies or ())
        if len(specs) != len(names):
            raise ValueError(f"rmod: soup_policies has {len(specs)} policies for "
                             f"{len(names)} objectives {list(names)}")
        model = soup(specs, cfg.weights or [1.0] * len(names), dtype=cfg.dtype)
        model.to(cfg.device)
        return model


def hv_reference(problem: Problem) -> np.ndarray | None:
    """The reference for per-method hypervolumes: the problem's own, else every objective's
    worst bound (user orientation), else None (no ``<method>/hv``)."""
    ref = problem.reference_point()
    if ref is not None:
        return ref
    worst = []
    for o in problem.objectives:
        if o.bounds is None:
            return None
        worst.append(o.bounds[0] if o.direction == "maximize" else o.bounds[1])
    return np.array(worst, dtype=np.float64)


def load_values(spec: str) -> Any:
    """A trained value function from a folder or ``run:<id>`` (see ``values``)."""
    from moalign.llm.values import ValueHeads

    if spec.startswith("run:"):
        return ValueHeads.from_run(spec.removeprefix("run:"))
    if not Path(spec).is_dir():
        raise FileNotFoundError(f"rmod: values={spec!r} is neither 'objectives', 'run:<id>' "
                                "nor a value-model folder")
    return ValueHeads.load(Path(spec))


def _log_tables(ctx: RunContext, rows: Sequence[dict[str, Any]],
                chosen: dict[str, Any], summary: dict[str, dict[str, float]]) -> None:
    import pandas as pd

    with tempfile.TemporaryDirectory(prefix="moalign-rmod-") as tmp:
        folder = Path(tmp)
        pd.DataFrame(rows).to_csv(folder / "completions.csv", index=False)
        (folder / "weights.json").write_text(json.dumps(chosen, indent=1))
        pd.DataFrame(summary).T.rename_axis("method").to_csv(folder / "summary.csv")
        for name in ("completions.csv", "weights.json", "summary.csv"):
            ctx.log_artifact(folder / name, "decoding")

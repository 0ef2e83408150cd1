"""Solver ``value-heads``: train the value functions of robust multi-objective decoding.

Son, S. et al. (2025). *Robust Multi-Objective Controlled Decoding of Large Language
Models.* RMOD needs per-objective value functions of the reference policy; this solver
trains :class:`~moalign.llm.values.ValueHeads` for a text problem's objectives by the
Monte-Carlo regression of :mod:`moalign.llm.values.training` (training prompts: the
problem's ``train``; held-out: its ``validation``) and returns them as ``Result.model``,
which ``moalign run`` logs as the artifact ``value_model`` (load it with
``ValueHeads.load(dir)`` or ``ValueHeads.from_run(run_id)``).

What it records (the policy itself does not change):

- step 0: the reference policy's held-out samples, ``X`` = completion texts, ``F`` = their
  objective values (user orientation; NaN where an objective failed), so the run's front is
  the reference policy's; metrics: the untrained heads' MSEs;
- steps 1..E: one record per epoch with no points, metrics only: ``heldout_mse/<name>``,
  ``train_mse/<name>`` (reward units, every prefix), ``mean_mse/<name>`` (held-out error of
  predicting the training mean), ``loss`` and ``heldout_mse`` (standardized, mean over
  objectives).

``budget.steps``, when set, is the number of epochs (else ``epochs``). A checkpoint holds
the heads and optimizer after an epoch; a resumed run samples the same completions again
(same seeds), skips the step-0 record and continues with the next epoch, so its archive and
heads equal an uninterrupted run's.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from moalign.core.problem import Problem
from moalign.llm.runtime import preserved_global_rng, torch_threads
from moalign.llm.values.heads import FEATURES, ValueHeads
from moalign.llm.values.training import (
    HELDOUT_SEED_OFFSET,
    PrefixData,
    ValueTrainer,
    sample_rollouts,
    standardized_mean,
)
from moalign.solvers.base import Result, Solver, register_solver
from moalign.solvers.context import RunContext

if TYPE_CHECKING:
    from moalign.llm.problem import TextProblem


@dataclass(frozen=True)
class ValueHeadsConfig:
    """Options of the ``value-heads`` solver.

    Args:
        n_samples: reference-policy completions per prompt (training and held-out).
        max_new_tokens: completion length limit (use the decoder's).
        temperature: sampling temperature (use the decoder's; the values are those of
            π_ref at this temperature).
        epochs: passes over the training prefixes when the budget sets no ``steps``.
        lr: AdamW learning rate of the heads.
        batch_size: prefixes per AdamW step.
        weight_decay: AdamW weight decay.
        features: ``"last"``: the policy's hidden state at the prefix's last token (Son et
            al.); ``"last+mean"``: with the mean state over the prefix appended (the frozen
            policy's last state alone may not summarize the prefix).
        hidden_size: 0 for `G` linear heads, else one shared hidden layer of this width.
        copy_base: write the reference policy into the saved model when it is a local
            folder (a hub name is always only referenced).
        device: ``"auto"`` (CUDA when available), ``"cpu"`` or ``"cuda"``.
        generation_batch_size: prompts per ``generate`` call and completions per forward
            pass for the features.
        torch_threads: ``torch.set_num_threads`` while the solver runs (restored after;
            None: leave it).
    """

    n_samples: int = 4
    max_new_tokens: int = 32
    temperature: float = 1.0
    epochs: int = 20
    lr: float = 1e-3
    batch_size: int = 256
    weight_decay: float = 0.0
    features: str = "last"
    hidden_size: int = 0
    copy_base: bool = True
    device: str = "auto"
    generation_batch_size: int = 64
    torch_threads: int | None = None

    def __post_init__(self) -> None:
        for name in ("n_samples", "max_new_tokens", "epochs", "batch_size",
                     "generation_batch_size"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive")
        if not self.lr > 0:
            raise ValueError("lr must be positive")
        if self.temperature < 0 or self.weight_decay < 0 or self.hidden_size < 0:
            raise ValueError("temperature, weight_decay and hidden_size must be >= 0")
        if self.features not in FEATURES:
            raise ValueError(f"features must be one of {list(FEATURES)}")
        if self.device not in ("auto", "cpu") and not self.device.startswith("cuda"):
            raise ValueError("device must be 'auto', 'cpu' or 'cuda[:N]'")
        if self.torch_threads is not None and self.torch_threads <= 0:
            raise ValueError("torch_threads must be positive (or null: leave torch's setting)")


@register_solver("value-heads")
class ValueHeadsSolver(Solver[ValueHeadsConfig]):
    """Trains RMOD value heads for a text problem; see the module docstring.

    Example:
        >>> problem = get_problem("text")(prompts="digits", policy="tiny",   # doctest: +SKIP
        ...     objectives=["sevens", "threes"])
        >>> heads = ValueHeadsSolver(epochs=10).solve(problem, ctx).model  # doctest: +SKIP
    """

    Config = ValueHeadsConfig

    def solve(self, problem: Problem, ctx: RunContext) -> Result:
        """Train the heads; see the module docstring.

        Raises:
            TypeError: ``problem`` is not a text problem.
        """
        from moalign.llm.problem import as_text_problem

        text = as_text_problem(problem, "value-heads")
        with torch_threads(self.config.torch_threads), preserved_global_rng():
            return self._solve(text, ctx)

    def _solve(self, problem: TextProblem, ctx: RunContext) -> Result:
        cfg, seed = self.config, int(ctx.seed)
        objs = problem.objectives
        heads = ValueHeads.create(problem.policy, objs.names, features=cfg.features,
                                  hidden_size=cfg.hidden_size, seed=seed + 1,
                                  device=cfg.device, copy_base=cfg.copy_base)
        kw: dict[str, Any] = {"n_samples": cfg.n_samples, "max_new_tokens": cfg.max_new_tokens,
                              "temperature": cfg.temperature,
                              "batch_size": cfg.generation_batch_size}
        t0 = time.perf_counter()
        with ctx.phase("sample the reference policy"):
            train = sample_rollouts(heads.model, heads.tokenizer, list(problem.train.prompts),
                                    objs, extras=problem.train.extras, seed=seed, **kw)
            val = problem.validation
            held = sample_rollouts(heads.model, heads.tokenizer, list(val.prompts), objs,
                                   extras=val.extras, seed=seed + HELDOUT_SEED_OFFSET, **kw)
        epochs = ctx.budget.steps if ctx.budget.steps is not None else cfg.epochs
        t1 = time.perf_counter()
        with ctx.phase("hidden states of every prefix"):
            trainer = ValueTrainer(heads, train, epochs=epochs, lr=cfg.lr,
                                   weight_decay=cfg.weight_decay, batch_size=cfg.batch_size,
                                   seed=seed,
                                   forward_batch_size=cfg.generation_batch_size)
            held_data = PrefixData.of(heads, held, cfg.generation_batch_size)
        initial = trainer.mse(held_data)
        t2 = time.perf_counter()
        state = ctx.load_state()
        if state is None:
            ctx.record(list(held.texts), held.F, metrics=self._metrics(trainer, held_data),
                       step=0)
        else:
            trainer.load_state_dict(state)
        G = len(objs)
        while trainer.epochs_done < epochs and not ctx.should_stop():
            with ctx.phase(f"epoch {trainer.epochs_done + 1}"):
                loss = trainer.epoch()
            ctx.record([], np.empty((0, G)), metrics=self._metrics(trainer, held_data, loss),
                       step=trainer.epochs_done)
            ctx.save_state(trainer.state_dict())
        names = objs.names

        def named(v: np.ndarray) -> dict[str, float]:
            return {n: float(x) for n, x in zip(names, v, strict=True)}

        info = {"epochs": trainer.epochs_done,
                "heldout_mse": named(trainer.mse(held_data)),
                "train_mse": named(trainer.mse(trainer.train)),
                "initial_heldout_mse": named(initial),
                "mean_heldout_mse": named(trainer.mean_mse(held_data)),
                "sizes": {"train_completions": len(train.ids),
                          "train_prefixes": len(trainer.train.H),
                          "heldout_completions": len(held.ids),
                          "heldout_prefixes": len(held_data.H)},
                "seconds": {"sample": t1 - t0, "features": t2 - t1,
                            "train": time.perf_counter() - t2}}
        heads.info = {"training": info, "policy": problem.policy}
        return Result(ctx.archive, model=heads, info=info)

    @staticmethod
    def _metrics(trainer: ValueTrainer, held: PrefixData, loss: float | None = None
                 ) -> dict[str, float]:
        names = trainer.heads.names
        held_mse, train_mse = trainer.mse(held), trainer.mse(trainer.train)
        out = {"heldout_mse": standardized_mean(held_mse, trainer.heads),
               "epoch": float(trainer.epochs_done)}
        if loss is not None:
            out["loss"] = loss
        for n, h, t, m in zip(names, held_mse, train_mse, trainer.mean_mse(held), strict=True):
            out |= {f"heldout_mse/{n}": float(h), f"train_mse/{n}": float(t),
                    f"mean_mse/{n}": float(m)}
        return {k: v for k, v in out.items() if math.isfinite(v)}

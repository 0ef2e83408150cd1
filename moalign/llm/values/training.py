"""Training value heads by Monte-Carlo regression on reference-policy samples.

Son, S. et al. (2025). *Robust Multi-Objective Controlled Decoding of Large Language
Models* (reference code: williambankes/robust-multi-objective-decoding, its Monte-Carlo
loss). For training prompts ``x``, sample completions ``y ~ π_ref(·|x)``, score the
finished completions ``r(x, y) ∈ R^G`` (higher is better), and regress the value of every
prefix onto the final reward of its completion:

    L = mean_g  mean_{(x, y), t = 0..|y|}  (Z_g(x, y_{<t}) − (r_g(x, y) − μ_g) / σ_g)²

with ``Z`` the heads' standardized output and ``μ_g, σ_g`` the training mean and standard
deviation of ``r_g`` over prefixes, so the objectives weigh equally whatever their units;
the value is ``V_g = μ_g + σ_g Z_g``, in reward units. ``t = 0`` is the empty prefix (the
prompt alone) and ``t = |y|`` the finished completion. A failed (NaN) reward is left out
of that objective's loss.

The base is frozen, so the hidden states of all prefixes of a completion come from one
forward pass over prompt + completion (the state at position ``p`` is the value input of
the prefix ending at ``p``), computed once; the epochs then train only the heads on those
features.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from moalign.core.objective import Objective, ObjectiveSet
from moalign.llm.generation import encode_prompts, sample_completions
from moalign.llm.objectives import frozen_stats
from moalign.llm.values.base import as_objective_set, higher_is_better
from moalign.llm.values.heads import ValueHeads, pad_id, prefix_features, whitening

HELDOUT_SEED_OFFSET = 7919
"""Held-out samples use ``seed + 7919`` (training samples ``seed``)."""


@dataclass
class Rollouts:
    """Scored reference-policy completions (prompt-major: ``n_samples`` per prompt).

    Attributes:
        prompts: the prompt of each completion.
        prompt_ids: its token ids.
        texts: completion texts.
        ids: completion token ids (EOS included when sampled).
        F: `n x G` objective values in user orientation (NaN where failed).
        R: `n x G` the same, higher is better (minimized objectives negated).
    """

    prompts: list[Any]
    prompt_ids: list[list[int]]
    texts: list[str]
    ids: list[list[int]]
    F: np.ndarray
    R: np.ndarray


def sample_rollouts(
    model: Any, tokenizer: Any, prompts: Sequence[Any], objectives: ObjectiveSet, *,
    extras: Mapping[str, Sequence[Any]] | None = None, n_samples: int = 4,
    max_new_tokens: int = 32, temperature: float = 1.0, seed: int = 0, batch_size: int = 64,
) -> Rollouts:
    """Sample ``n_samples`` completions per prompt from ``model`` and score them.

    The objectives get TRL's keywords (``prompts``, ``completions``, ``completion_ids`` and
    each extra column, repeated per sample); their running statistics are not updated.
    """
    texts, ids = sample_completions(model, tokenizer, list(prompts), num_samples=n_samples,
                                    max_new_tokens=max_new_tokens, temperature=temperature,
                                    seed=seed, batch_size=batch_size)
    rep = [p for p in prompts for _ in range(n_samples)]
    cols = {k: [v for v in col for _ in range(n_samples)] for k, col in (extras or {}).items()}
    with frozen_stats(objectives):
        F = objectives(prompts=rep, completions=texts, completion_ids=ids, **cols)
    pids = [pi for pi in encode_prompts(tokenizer, list(prompts)) for _ in range(n_samples)]
    return Rollouts(rep, pids, texts, ids, F, higher_is_better(objectives, F))


@dataclass
class PrefixData:
    """Features and targets of all prefixes of some rollouts (`P` rows)."""

    H: torch.Tensor      # P x d float32
    Y: torch.Tensor      # P x G float64, reward units, higher is better (NaN where failed)
    owner: torch.Tensor  # P completion indices

    @classmethod
    def of(cls, heads: ValueHeads, rollouts: Rollouts, batch_size: int = 64) -> PrefixData:
        H, owner = prefix_features(heads.model, pad_id(heads.tokenizer), rollouts.prompt_ids,
                                   rollouts.ids, kind=heads.features, batch_size=batch_size)
        Y = torch.as_tensor(rollouts.R, dtype=torch.float64)[owner]
        return cls(H, Y.to(H.device), owner)


def _masked_sq(pred: torch.Tensor, Y: torch.Tensor) -> torch.Tensor:
    """Per-objective mean squared error over finite targets (NaN where none): `G`."""
    ok = torch.isfinite(Y)
    err = torch.where(ok, pred - torch.nan_to_num(Y), torch.zeros_like(pred)) ** 2
    n = ok.sum(0)
    return torch.where(n > 0, err.sum(0) / n.clamp(min=1), torch.full_like(err[0], torch.nan))


class ValueTrainer:
    """Fits the heads of ``heads`` to the prefixes of ``train`` (see the module docstring).

    Sets the heads' feature whitening and output scale from the training prefixes,
    then :meth:`epoch` makes one shuffled pass of AdamW minibatches. The learning rate
    follows a cosine from ``lr`` (epoch 1) towards 0 over ``epochs`` epochs: the targets
    are single Monte-Carlo returns, so a constant step keeps the heads jittering around the
    fit.

    Args:
        heads: the value model whose ``head`` is trained (its base stays frozen).
        train: training rollouts.
        epochs: length of the learning-rate schedule.
        lr, weight_decay: AdamW settings.
        batch_size: prefixes per step.
        seed: seeds the shuffles (epoch ``e`` shuffles with ``(seed, e)``).
        forward_batch_size: completions per forward pass when computing features.
    """

    def __init__(self, heads: ValueHeads, train: Rollouts, *, epochs: int = 20,
                 lr: float = 1e-3, weight_decay: float = 0.0, batch_size: int = 256,
                 seed: int = 0, forward_batch_size: int = 64) -> None:
        self.heads, self.batch_size, self.seed = heads, batch_size, seed
        self.epochs, self.lr = epochs, lr
        self.forward_batch_size = forward_batch_size
        self.train = PrefixData.of(heads, train, forward_batch_size)
        head, H, Y = heads.head, self.train.H, self.train.Y
        with torch.no_grad():
            m, P = whitening(H)
            head.in_mean.copy_(m)
            head.in_proj.copy_(P)
            mu = torch.nanmean(Y, 0)
            sd = torch.sqrt(torch.nanmean((Y - mu) ** 2, 0))
            mu = torch.nan_to_num(mu)
            sd = torch.where(torch.isfinite(sd) & (sd > 1e-12), sd, torch.ones_like(sd))
            head.out_mean.copy_(mu.to(head.out_mean.dtype))
            head.out_scale.copy_(sd.to(head.out_scale.dtype))
        self.optimizer = torch.optim.AdamW(head.parameters(), lr=lr, weight_decay=weight_decay)
        self.epochs_done = 0

    def standardized(self, Y: torch.Tensor) -> torch.Tensor:
        h = self.heads.head
        return ((Y - h.out_mean.double()) / h.out_scale.double()).float()

    def epoch(self) -> float:
        """One pass over the training prefixes; returns the mean standardized loss."""
        head, H = self.heads.head, self.train.H
        Z = self.standardized(self.train.Y)
        gen = torch.Generator().manual_seed(
            int(np.random.SeedSequence([self.seed, self.epochs_done]).generate_state(1)[0]))
        order = torch.randperm(len(H), generator=gen).to(H.device)
        for group in self.optimizer.param_groups:
            group["lr"] = self.lr_at(self.epochs_done)
        head.train()
        total, steps = 0.0, 0
        for i in range(0, len(H), self.batch_size):
            idx = order[i:i + self.batch_size]
            loss = torch.nanmean(_masked_sq(head(H[idx]), Z[idx]))
            if not torch.isfinite(loss):
                continue  # a minibatch without any finite target
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
            total, steps = total + float(loss.detach()), steps + 1
        head.eval()
        self.epochs_done += 1
        return total / max(steps, 1)

    def lr_at(self, done: int) -> float:
        """Learning rate of the epoch after ``done`` finished ones (cosine, floor 0)."""
        return self.lr * 0.5 * (1.0 + math.cos(math.pi * min(done, self.epochs) /
                                               max(self.epochs, 1)))

    def mse(self, data: PrefixData) -> np.ndarray:
        """Per-objective mean squared error of the heads on ``data``, reward units: `G`."""
        with torch.no_grad():
            pred = self.heads.head.values(data.H).double()
        return _masked_sq(pred, data.Y).cpu().numpy()

    def mean_mse(self, data: PrefixData) -> np.ndarray:
        """The error of predicting the training mean ``μ`` everywhere: `G`."""
        mu = self.heads.head.out_mean.double().expand_as(data.Y)
        return _masked_sq(mu, data.Y).cpu().numpy()

    def state_dict(self) -> dict[str, Any]:
        return {"epochs_done": self.epochs_done,
                "head": {k: v.cpu() for k, v in self.heads.head.state_dict().items()},
                "optimizer": self.optimizer.state_dict()}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.heads.head.load_state_dict(state["head"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.epochs_done = int(state["epochs_done"])


@dataclass
class ValueTrainingReport:
    """What :func:`train_value_heads` measured. MSEs are per objective, in reward units
    (higher-is-better orientation), over every prefix of the completions.

    Attributes:
        train_mse: after training, on the training prefixes.
        heldout_mse: after training, on the held-out prefixes.
        initial_heldout_mse: the untrained heads on the held-out prefixes.
        mean_heldout_mse: predicting the training mean everywhere, on the held-out prefixes.
        history: per epoch: ``epoch``, ``loss`` (standardized) and ``heldout_mse`` (mean
            over objectives of MSE / σ², standardized).
        sizes: completions and prefixes, training and held-out.
        seconds: wall time of sampling (with scoring), features and training.
    """

    names: tuple[str, ...]
    train_mse: dict[str, float]
    heldout_mse: dict[str, float]
    initial_heldout_mse: dict[str, float]
    mean_heldout_mse: dict[str, float]
    history: list[dict[str, float]] = field(default_factory=list)
    sizes: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        return asdict(self)


def per_name(names: Sequence[str], values: np.ndarray) -> dict[str, float]:
    return {n: float(v) for n, v in zip(names, values, strict=True)}


def standardized_mean(mse: np.ndarray, heads: ValueHeads) -> float:
    """Mean over objectives of ``mse / σ²`` (the training loss's units)."""
    var = heads.head.out_scale.double().cpu().numpy() ** 2
    return float(np.nanmean(mse / var))


def train_value_heads(
    model_path: str | Path,
    tokenizer: Any,
    prompts: Sequence[Any],
    objectives: ObjectiveSet | Sequence[Objective],
    *,
    n_samples: int = 4,
    max_new_tokens: int = 32,
    epochs: int = 20,
    lr: float = 1e-3,
    seed: int = 0,
    extras: Mapping[str, Sequence[Any]] | None = None,
    validation: Sequence[Any] | None = None,
    validation_extras: Mapping[str, Sequence[Any]] | None = None,
    heldout_fraction: float = 0.2,
    features: str = "last",
    hidden_size: int = 0,
    batch_size: int = 256,
    weight_decay: float = 0.0,
    temperature: float = 1.0,
    device: str | None = "cpu",
    copy_base: bool = True,
    generation_batch_size: int = 64,
) -> tuple[ValueHeads, ValueTrainingReport]:
    """Train value heads on the reference policy ``model_path`` (see the module docstring).

    Args:
        model_path: the reference policy (a local folder or hub name); frozen.
        tokenizer: its tokenizer (None: loaded from ``model_path``).
        prompts: training prompts (strings or chat messages).
        objectives: the text objectives (the problem's ``objectives``).
        n_samples: completions sampled per prompt.
        max_new_tokens: completion length limit (use the decoder's).
        epochs: passes over the training prefixes.
        lr: AdamW learning rate of the first epoch (cosine decay over ``epochs``).
        seed: sampling (training ``seed``, held-out ``seed + 7919``), head initialization
            and shuffles; the global random states are not touched.
        extras: per-prompt dataset columns the objectives read (``answer=...``).
        validation: held-out prompts (default: the last ``heldout_fraction`` of
            ``prompts``, removed from training).
        validation_extras: their columns.
        heldout_fraction: held-out share when ``validation`` is None.
        features: ``"last"`` (the hidden state at the prefix's last token) or
            ``"last+mean"`` (with the mean state over the prefix), see
            :data:`~moalign.llm.values.heads.FEATURES`.
        hidden_size: 0 for linear heads, else one shared hidden layer of that width.
        batch_size: prefixes per AdamW step.
        weight_decay: AdamW weight decay.
        temperature: sampling temperature of the reference policy (use the decoder's).
        device: ``"cpu"``, ``"cuda"``, ``"auto"``.
        copy_base: see :class:`ValueHeads`.
        generation_batch_size: prompts per ``generate`` / forward call.

    Returns:
        ``(heads, report)``.

    Example:
        >>> heads, report = train_value_heads(                   # doctest: +SKIP
        ...     path, None, prompts, [sevens(), threes()], epochs=20)
        >>> report.heldout_mse, report.mean_heldout_mse           # doctest: +SKIP
    """
    objs = as_objective_set(objectives)
    prompts, extras = list(prompts), dict(extras or {})
    if validation is None:
        n_held = int(round(heldout_fraction * len(prompts)))
        if not 0 < n_held < len(prompts):
            raise ValueError(f"train_value_heads: {len(prompts)} prompts cannot hold out "
                             f"heldout_fraction={heldout_fraction}; pass validation=...")
        validation = prompts[-n_held:]
        validation_extras = {k: list(v)[-n_held:] for k, v in extras.items()}
        prompts, extras = prompts[:-n_held], {k: list(v)[:-n_held] for k, v in extras.items()}
    heads = ValueHeads.create(model_path, objs.names, tokenizer=tokenizer, features=features,
                              hidden_size=hidden_size, seed=seed + 1, device=device,
                              copy_base=copy_base)
    t0 = time.perf_counter()
    kw: dict[str, Any] = {"n_samples": n_samples, "max_new_tokens": max_new_tokens,
                          "temperature": temperature, "batch_size": generation_batch_size}
    train = sample_rollouts(heads.model, heads.tokenizer, prompts, objs, extras=extras,
                            seed=seed, **kw)
    held = sample_rollouts(heads.model, heads.tokenizer, list(validation), objs,
                           extras=validation_extras, seed=seed + HELDOUT_SEED_OFFSET, **kw)
    t1 = time.perf_counter()
    trainer = ValueTrainer(heads, train, epochs=epochs, lr=lr, weight_decay=weight_decay,
                           batch_size=batch_size, seed=seed,
                           forward_batch_size=generation_batch_size)
    held_data = PrefixData.of(heads, held, generation_batch_size)
    t2 = time.perf_counter()
    initial = trainer.mse(held_data)
    history = []
    for _ in range(epochs):
        loss = trainer.epoch()
        history.append({"epoch": trainer.epochs_done, "loss": loss,
                        "heldout_mse": standardized_mean(trainer.mse(held_data), heads)})
    names = heads.names
    report = ValueTrainingReport(
        names, per_name(names, trainer.mse(trainer.train)),
        per_name(names, trainer.mse(held_data)), per_name(names, initial),
        per_name(names, trainer.mean_mse(held_data)), history,
        sizes={"train_completions": len(train.ids), "train_prefixes": len(trainer.train.H),
               "heldout_completions": len(held.ids), "heldout_prefixes": len(held_data.H)},
        seconds={"sample": t1 - t0, "features": t2 - t1, "train": time.perf_counter() - t2})
    heads.info = {"training": report.as_dict()}
    return heads, report


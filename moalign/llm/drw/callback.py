"""The trainer callback that validates, records and re-weights during TRL training.

TRL reads ``trainer.reward_weights`` (a float32 tensor) at each generation, so the
callback holds the trainer and writes the weights in place (``copy_``). In
``hypervolume`` mode the tensor is ``m_t · w`` (user weights times the meta-reward); in
``gradient`` mode it is the mirror-descent weights.

The module imports without transformers (the llm extra): ``DRWCallback`` then derives from
``object`` and serves stand-in trainers only; TRL training needs the extra anyway.
"""

from __future__ import annotations

import math
import re
import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

from moalign.llm.drw.weighting import hypervolume_step, mirror_descent_update
from moalign.llm.generation import completion_logprobs, sample_completions
from moalign.llm.judges.base import constraint_values
from moalign.llm.objectives import (
    RewardFunc,
    frozen_stats,
    is_running_conciseness,
    running_stats,
)
from moalign.llm.validation import judged_metrics

if TYPE_CHECKING:
    from moalign.llm.drw.config import DRWConfig
    from moalign.llm.problem import TextProblem
    from moalign.solvers.context import RunContext

try:
    from transformers import TrainerCallback
except ImportError:  # no llm extra: the helpers stay importable (doctests, stand-in trainers)
    TrainerCallback = object  # type: ignore[misc, assignment]


def middle_band(n_layers: int) -> range:
    """Decoder layers ``round(10L/36) .. round(25L/36)`` of ``L``: the band of middle layers
    the reference code takes its per-objective gradients on (layers 10..25 of a 36-layer
    model), scaled to any depth.

    Example:
        >>> list(middle_band(36))[0], list(middle_band(36))[-1], list(middle_band(2))
        (10, 25, [1])
    """
    lo = int(10 * n_layers / 36 + 0.5)
    hi = max(lo, int(25 * n_layers / 36 + 0.5))
    return range(lo, min(hi, n_layers - 1) + 1)


def select_parameters(model: Any, spec: str) -> list[Any]:
    """Parameters for per-objective gradients: ``"last_layer"``, ``"middle"``
    (:func:`middle_band`), ``"all"`` or a regex on parameter names."""
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    if spec == "all":
        return [p for _, p in named]
    if spec in ("last_layer", "middle"):
        layer = re.compile(r"layers\.(\d+)\.")
        idx = [int(m.group(1)) for n, _ in named if (m := layer.search(n))]
        if not idx:
            raise ValueError(f"grad_params={spec!r}: no 'layers.N.' parameters; give a regex")
        band = [max(idx)] if spec == "last_layer" else list(middle_band(max(idx) + 1))
        spec = rf"layers\.({'|'.join(map(str, band))})\."
    rx = re.compile(spec)
    chosen = [p for n, p in named if rx.search(n)]
    if not chosen:
        raise ValueError(f"grad_params={spec!r} matches no trainable parameter")
    return chosen


def group_advantages(R: np.ndarray, num_generations: int) -> np.ndarray:
    """Per-objective group-normalized advantages ``(r - mean_g) / (std_g + 1e-4)``.

    Args:
        R: `n x K` rewards (maximization orientation, NaN where missing), `n` a multiple
            of ``num_generations`` with groups contiguous.

    Returns:
        `n x K` advantages, 0 where the reward is NaN.
    """
    n, K = R.shape
    G = R.reshape(n // num_generations, num_generations, K)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(G, axis=1, keepdims=True)
        std = np.nanstd(G, axis=1, ddof=1, keepdims=True)
    A = (G - mean) / (np.nan_to_num(std) + 1e-4)
    return np.nan_to_num(A.reshape(n, K), nan=0.0)


def loo_advantages(R: np.ndarray, num_generations: int) -> np.ndarray:
    """Per-objective RLOO advantages ``r_i - mean_{j != i} r_j`` within each group (TRL's
    ``RLOOTrainer`` rule, no std scaling).

    Args:
        R: `n x K` rewards as in :func:`group_advantages`.

    Returns:
        `n x K` advantages, 0 where the reward is NaN or a group has one scored reward.
    """
    n, K = R.shape
    G = R.reshape(n // num_generations, num_generations, K)
    count = np.sum(np.isfinite(G), axis=1, keepdims=True)
    total = np.nansum(G, axis=1, keepdims=True)
    with np.errstate(all="ignore"):
        A = G - (total - G) / (count - 1)
    return np.nan_to_num(A.reshape(n, K), nan=0.0, posinf=0.0, neginf=0.0)


def _nanstd(F: np.ndarray) -> np.ndarray:
    """Column standard deviations (ddof 1) ignoring NaN; NaN where fewer than 2 values."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.asarray(np.nanstd(F, axis=0, ddof=1))


def nanmean(F: np.ndarray, axis: int) -> np.ndarray:
    """``np.nanmean`` without the all-NaN warning (all-NaN slices give NaN)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.asarray(np.nanmean(F, axis=axis))


def gradient_gram(
    model: Any, tokenizer: Any, prompts: list[Any], completion_ids: list[list[int]],
    R: np.ndarray, num_generations: int, params: list[Any], *, leave_one_out: bool = False,
) -> np.ndarray:
    """Gram matrix ``G_kj = <g_k, g_j>`` of per-objective REINFORCE gradients.

    ``g_k = ∇_θ (1/n) Σ_i A_ik log π(y_i | x_i)`` on the parameter subset θ, with
    :func:`group_advantages` ``A`` (or :func:`loo_advantages` with ``leave_one_out``, the
    RLOO trainer's) and mean token log-probabilities.

    Returns:
        `K x K` float64 array.
    """
    import torch

    advantages = loo_advantages if leave_one_out else group_advantages
    A = torch.as_tensor(advantages(R, num_generations), dtype=torch.float32)
    logp = completion_logprobs(model, tokenizer, prompts, completion_ids)
    A = A.to(logp.device)
    flat = []
    for k in range(A.shape[1]):
        obj = (A[:, k] * logp).mean()
        grads = torch.autograd.grad(obj, params, retain_graph=k + 1 < A.shape[1],
                                    allow_unused=True)
        flat.append(torch.cat([(g if g is not None else torch.zeros_like(p)).reshape(-1)
                               for g, p in zip(grads, params, strict=True)]).double())
    Gm = torch.stack(flat)
    return (Gm @ Gm.T).cpu().numpy()


class DRWCallback(TrainerCallback):
    """Validation, recording and weight updates for the ``drw`` solver.

    Args:
        config: the solver config.
        problem: the text problem (validation prompts, objectives).
        ctx: the run context (``record``, ``save_state``, ``should_stop``).
        reward_funcs: the TRL reward functions wrapping the problem's objectives.
        state: a restored solver state (resume), or None.
    """

    def __init__(self, config: DRWConfig, problem: TextProblem, ctx: RunContext,
                 reward_funcs: list[RewardFunc], state: dict[str, Any] | None = None) -> None:
        self.cfg, self.problem, self.ctx, self.funcs = config, problem, ctx, reward_funcs
        K = len(reward_funcs)
        w = np.ones(K) if config.weights is None else np.asarray(config.weights, float)
        if len(w) != K:
            raise ValueError(f"drw: {len(w)} weights for {K} objectives")
        self.user_weights = w / w.sum() if config.mode == "gradient" else w
        self.weights = self.user_weights.copy()   # current base weights
        self.multiplier = 1.0                     # hypervolume meta-reward m_t
        self.buffer = np.empty((0, K))            # hypervolume rule: points kept (hv_point)
        self.v0: np.ndarray | None = None         # ... and its reference, hv_point at step 0
        self.hv_scale: np.ndarray | None = None
        self.length_coordinates = self._length_coordinates()
        self.trainer: Any = None
        self.checkpoint: str | None = None
        self.last_gram: np.ndarray | None = None
        self.train_logs: dict[str, float] = {}
        if state is not None:
            self.load_state_dict(state)

    # -- state ---------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        return {"weights": self.weights.copy(), "multiplier": self.multiplier,
                "buffer": self.buffer.copy(), "v0": self.v0, "hv_scale": self.hv_scale,
                "checkpoint": self.checkpoint,
                "stats": [[s.state_dict() for s in running_stats(f.objective)]
                          for f in self.funcs]}

    def load_state_dict(self, st: dict[str, Any]) -> None:
        self.weights = np.asarray(st["weights"], float)
        self.multiplier = float(st["multiplier"])
        self.buffer = np.asarray(st["buffer"], float)
        self.v0 = st["v0"]
        self.hv_scale = st.get("hv_scale")
        self.checkpoint = st.get("checkpoint")
        for f, stats in zip(self.funcs, st.get("stats", []), strict=False):
            for s, d in zip(running_stats(f.objective), stats, strict=False):
                s.load_state_dict(d)

    def bind(self, trainer: Any) -> None:
        """Give the callback its trainer (TRL callbacks get no trainer reference)."""
        self.trainer = trainer
        self.apply_weights()

    def effective_weights(self) -> np.ndarray:
        """The reward weights TRL uses (times ``m_t`` when it is applied to the reward)."""
        on_reward = self.cfg.mode == "hypervolume" and self.cfg.hv_apply == "reward"
        return self.weights * self.multiplier if on_reward else self.weights.copy()

    def _lr_gain(self) -> float | None:
        lr_mode = self.cfg.mode == "hypervolume" and self.cfg.hv_apply == "lr"
        return self.multiplier if lr_mode and self.multiplier != 1.0 else None

    def apply_weights(self) -> None:
        import torch

        t = self.trainer.reward_weights
        t.copy_(torch.as_tensor(self.effective_weights(), dtype=t.dtype))

    # -- validation ----------------------------------------------------------------------
    def validate(self, step: int) -> tuple[np.ndarray, dict[str, float]]:
        """Mean objective values (user orientation) of samples on the validation prompts.

        Returns:
            ``(v, info)``; ``info`` holds ``val/mean_tokens``, ``val/mean_chars``,
            with judges the pass rates and judged means of :mod:`moalign.llm.validation`,
            ``val/n_failed`` and the per-sample standard deviations ``val/std/<name>`` and
            ``val/std/tokens`` (what :meth:`hv_point` and the ``hv_scale`` scale read).
        """
        tr = self.trainer
        model = tr.accelerator.unwrap_model(tr.model)
        val = self.problem.validation
        n = self.cfg.n_val_samples
        texts, ids = sample_completions(
            model, tr.processing_class, list(val.prompts), num_samples=n,
            max_new_tokens=self.cfg.max_completion_length,
            temperature=self.cfg.val_temperature, seed=self.ctx.seed + 7919)
        extras = {k: [v for v in col for _ in range(n)] for k, col in val.extras.items()}
        prompts = [p for p in val.prompts for _ in range(n)]
        with frozen_stats(self.problem.objectives):
            F = self.problem.objectives(prompts=prompts, completions=texts, completion_ids=ids,
                                        **extras)
        tokens = np.array([len(i) for i in ids], dtype=float)
        K = F.shape[1]
        # means, mean tokens, per-sample std of each objective and of the token length
        stats = np.concatenate([nanmean(F, axis=0), [tokens.mean()], _nanstd(F),
                                _nanstd(tokens[:, None])])
        if tr.accelerator.num_processes > 1:  # identical vector on every process
            import torch

            stats = tr.accelerator.reduce(torch.as_tensor(stats, device=tr.accelerator.device),
                                          "mean").cpu().numpy()
        names = self.problem.objectives.names
        judges = self.problem.judges
        judged = {} if judges is None else judged_metrics(
            self.problem.objectives, judges.names, F,
            constraint_values(judges.evaluate(prompts, texts, **extras)))
        info = {**judged, "val/n_failed": float(np.sum(~np.isfinite(F))),
                "val/mean_chars": float(np.mean([len(t) for t in texts])) if texts else 0.0,
                "val/mean_tokens": float(stats[K]), "val/std/tokens": float(stats[-1]),
                **{f"val/std/{name}": float(x) for name, x in zip(names, stats[K + 1:2 * K + 1],
                                                                   strict=True)}}
        return stats[:K], info

    def hv_point(self, v: np.ndarray, info: dict[str, float]) -> np.ndarray:
        """The validation vector the hypervolume rule sees: the ``hv_length`` coordinates
        replaced by ``info["val/mean_tokens"]``, divided by the ``hv_scale`` scale."""
        p = np.asarray(v, dtype=float).copy()
        if self.length_coordinates:
            p[self.length_coordinates] = info.get("val/mean_tokens", np.nan)
        return p / (self.hv_scale if self.hv_scale is not None else 1.0)

    def hv_maximize(self) -> list[bool]:
        """Orientation of :meth:`hv_point`'s coordinates (length in tokens: minimized)."""
        return [False if j in self.length_coordinates else bool(m)
                for j, m in enumerate(self.problem.objectives.maximize)]

    def scale_from(self, info: dict[str, float]) -> np.ndarray:
        """Per-coordinate divisor of :meth:`hv_point`: with ``hv_scale="std"`` the initial
        validation's per-sample standard deviation (``val/std/...``; token length for the
        length coordinates), else 1; a missing, zero or non-finite deviation gives 1."""
        names = self.problem.objectives.names
        if self.cfg.hv_scale != "std":
            return np.ones(len(names))
        s = np.array([info.get(f"val/std/{name}", np.nan) for name in names], dtype=float)
        if self.length_coordinates:
            s[self.length_coordinates] = info.get("val/std/tokens", np.nan)
        return np.where(np.isfinite(s) & (s > 0), s, 1.0)

    def _length_coordinates(self) -> list[int]:
        spec, names = self.cfg.hv_length, list(self.problem.objectives.names)
        if spec in (None, "off"):
            return []
        if spec == "auto":
            return [j for j, f in enumerate(self.funcs) if is_running_conciseness(f.objective)]
        if spec not in names:
            raise ValueError(f"drw: hv_length={spec!r} is not an objective; use one of "
                             f"{names}, 'auto' or 'off'")
        return [names.index(spec)]

    def _record(self, step: int, v: np.ndarray, extra: dict[str, float]) -> None:
        names = self.problem.objectives.names
        metrics = dict(extra)
        for j, name in enumerate(names):
            metrics[f"weights/{name}"] = float(self.effective_weights()[j])
            if math.isfinite(v[j]):
                metrics[f"val/{name}"] = float(v[j])
            metrics[f"n_failed/{name}"] = float(self.funcs[j].n_failed)
        metrics["meta_reward"] = self.multiplier
        metrics.update(self.train_logs)
        self.ctx.record([step], v[None, :], metrics=metrics, step=step)

    # -- hooks ---------------------------------------------------------------------------
    def on_train_begin(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
        if self.v0 is None:
            v, info = self.validate(state.global_step)
            if self.hv_scale is None:
                self.hv_scale = self.scale_from(info)
            p = self.hv_point(v, info)
            self.v0 = p
            self.buffer = p[None, :] if np.all(np.isfinite(p)) else np.empty((0, len(p)))
            self._record(state.global_step, v, info)
        self.apply_weights()

    def on_step_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
        step = state.global_step
        info: dict[str, float] = {}
        if self.cfg.mode == "gradient" and step % self.cfg.weight_update_every == 0:
            info.update(self._gradient_update())
        if step % self.cfg.eval_steps == 0 or step >= state.max_steps:
            v, vinfo = self.validate(step)
            info.update(vinfo)
            if self.cfg.mode == "hypervolume" and self.v0 is not None \
                    and np.all(np.isfinite(self.v0)):  # no reference: m stays as it is
                dhv, m, self.buffer = hypervolume_step(self.buffer, self.hv_point(v, vinfo),
                                                       self.v0, self.hv_maximize())
                self.multiplier = m
                info["delta_hv"] = dhv
            self._record(step, v, info)
        self.apply_weights()
        if self.ctx.should_stop():
            control.should_training_stop = True

    def on_pre_optimizer_step(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
        """``hv_apply="lr"``: this step's learning rate is ``m_t`` times the schedule's."""
        gain = self._lr_gain()
        if gain is not None:
            for group in self.trainer.optimizer.param_groups:
                group["lr"] *= gain

    def on_optimizer_step(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
        gain = self._lr_gain()
        if gain is not None:  # back to the schedule's value before the scheduler steps
            for group in self.trainer.optimizer.param_groups:
                group["lr"] /= gain

    def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None,
               **kw: Any) -> None:
        """Keep TRL's latest training logs (``rewards/<name>/mean``, ``loss``, ``kl``) to be
        recorded as ``train/...`` with the next validation vector (TRL logs after
        ``on_step_end``, so these are the previous step's)."""
        for k, v in (logs or {}).items():
            if isinstance(v, int | float) and math.isfinite(v):
                self.train_logs[f"train/{k}"] = float(v)

    def on_save(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
        import os

        self.checkpoint = os.path.join(args.output_dir, f"checkpoint-{state.global_step}")
        self.ctx.save_state(self.state_dict())

    def _gradient_update(self) -> dict[str, float]:
        """Mirror-descent step on the last training rollouts (shared by all objectives)."""
        last = [f.last for f in self.funcs]
        if not last or not last[0] or last[0].get("completion_ids") is None:
            return {}
        signs = np.array([-1.0 if f.objective.direction == "minimize" else 1.0
                          for f in self.funcs])
        R = np.stack([b["values"] for b in last], axis=1) * signs
        tr = self.trainer
        model = tr.accelerator.unwrap_model(tr.model)
        params = select_parameters(model, str(self.cfg.grad_params))
        gram = gradient_gram(model, tr.processing_class, last[0]["prompts"],
                             last[0]["completion_ids"], R, self.cfg.num_generations, params,
                             leave_one_out=self.cfg.trainer == "rloo")
        if tr.accelerator.num_processes > 1:
            import torch

            gram = tr.accelerator.reduce(torch.as_tensor(gram, device=tr.accelerator.device),
                                         "mean").cpu().numpy()
        model.zero_grad(set_to_none=True)
        self.last_gram = gram
        eta = self.step_size()
        rho = None if self.cfg.rho == "max" else float(self.cfg.rho or 1.0)
        self.weights = mirror_descent_update(self.weights, gram, eta=eta, rho=rho,
                                             min_weight=float(self.cfg.min_weight or 0.0))
        return {"eta": eta, **{f"influence/{n}": float(s) for n, s in
                               zip(self.problem.objectives.names, gram.sum(1), strict=True)}}

    def step_size(self) -> float:
        """η of the gradient rule: the config's number, or with ``eta="lr"`` the optimizer's
        current learning rate (the reference's ``lr_t``)."""
        if self.cfg.eta == "lr":
            return float(self.trainer.optimizer.param_groups[0]["lr"])
        return float(self.cfg.eta or 0.0)

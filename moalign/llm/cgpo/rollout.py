"""One task's share of a CGPO training step: sample, score, judge, and build its loss.

:func:`rollout` samples ``k`` completions per prompt from the policy, scores them with the
task's reward and judges, takes their summed log-probabilities under the policy (with
gradients) and the frozen reference, and looks up the prompts' baseline responses.
:func:`task_loss` turns a :class:`Rollout` into the task optimizer's loss:

* ``crpg``: ``R = 1[J = 1] sigma(r - r_base) max(0, 1 - KL / KL_max)``, advantage
  ``R - mean_prompt R``, loss ``mean(-A log pi(a|s))``;
* ``codpo``: per prompt the best passing sample against the worst failing one (or the
  worst other passing one), DPO loss plus ``lam`` times the chosen per-token NLL; prompts
  with no pair are skipped;
* ``crraft``: per prompt the best passing sample within the KL budget at weight
  ``sigma(r - r_base)``, else the baseline response at weight 1/2 if it passes;
  reward-weighted per-token NLL.

A completion whose reward failed (NaN) counts as not judged (``J = -1``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from moalign.llm.cgpo.losses import codpo_loss, crpg_loss, crraft_loss
from moalign.llm.cgpo.rules import (
    calibrated_reward,
    center_by_prompt,
    codpo_pairs,
    crpg_reward,
    crraft_select,
    passes,
)
from moalign.llm.cgpo.tasks import Baseline, Task
from moalign.llm.generation import encode_prompts, sample_completions, sequence_logprobs
from moalign.llm.judges.base import PASS


@dataclass
class Models:
    """The policy (trained), the frozen reference, the tokenizer and its pad id."""

    policy: Any
    reference: Any
    tokenizer: Any
    pad_id: int
    max_new_tokens: int


@dataclass
class Rollout:
    """A task's samples for one step (``p`` prompts x ``k`` samples, prompt-major).

    Attributes:
        prompt_ids: each sample's prompt token ids.
        texts, ids: the completions.
        r: rewards (NaN where failed).
        J: mixture verdicts (-1 where the reward failed).
        V: `n x judges` verdicts.
        logp: summed token log-probs under the policy (with gradients).
        ref: the same under the reference (no gradients).
        n_tokens: completion token counts.
        kl: ``max(0, logp - ref)`` per sample (numpy).
        baselines: each prompt's baseline response.
        k: samples per prompt.
    """

    prompt_ids: list[list[int]]
    texts: list[str]
    ids: list[list[int]]
    r: np.ndarray
    J: np.ndarray
    V: np.ndarray
    logp: torch.Tensor
    ref: torch.Tensor
    n_tokens: torch.Tensor
    kl: np.ndarray
    baselines: list[Baseline]
    k: int

    @property
    def r_base(self) -> np.ndarray:
        """Each sample's baseline reward (its prompt's, repeated ``k`` times)."""
        return np.repeat([b.reward for b in self.baselines], self.k)


def sample_seed(*key: int) -> int:
    """A sampling seed derived from integers (run seed, step, task), reproducible on
    resume."""
    return int(np.random.SeedSequence(list(key)).generate_state(1)[0] % (2**31 - 1))


def rollout(task: Task, step: int, m: Models, seed: int) -> Rollout:
    """Sample, score and judge ``k`` completions for each of the task's step prompts."""
    c = task.config
    k = int(c.num_samples or 4)
    idx = task.batch(step)
    prompts = [task.prompts.prompts[i] for i in idx]
    texts, ids = sample_completions(m.policy, m.tokenizer, prompts, num_samples=k,
                                    max_new_tokens=m.max_new_tokens,
                                    temperature=float(c.temperature or 1.0),
                                    seed=sample_seed(seed, step, task.index))
    reps = [p for p in prompts for _ in range(k)]
    cols = task.columns(idx, k)
    r = task.reward(reps, texts, ids, cols)
    J, V = task.verdicts(reps, texts, cols)
    J = np.where(np.isfinite(r), J, -1)
    pids = encode_prompts(m.tokenizer, prompts)
    rep_ids = [p for p in pids for _ in range(k)]
    logp, n = sequence_logprobs(m.policy, rep_ids, ids, m.pad_id)
    with torch.no_grad():
        ref, _ = sequence_logprobs(m.reference, rep_ids, ids, m.pad_id)
    kl = np.maximum(0.0, (logp.detach() - ref).cpu().numpy().astype(float))

    def sample_baselines(missing: list[int]) -> tuple[list[str], list[list[int]]]:
        return sample_completions(m.reference, m.tokenizer,
                                  [task.prompts.prompts[i] for i in missing], num_samples=1,
                                  max_new_tokens=m.max_new_tokens,
                                  temperature=float(c.temperature or 1.0),
                                  seed=sample_seed(seed, task.index, *missing[:1], 104729))

    def encode(text: str) -> list[int]:
        out = list(m.tokenizer(text, add_special_tokens=False)["input_ids"])
        eos = m.tokenizer.eos_token_id
        return out + ([eos] if eos is not None else [])

    baselines = task.baselines(idx, sample_baselines, encode)
    return Rollout(rep_ids, texts, ids, r, J, V, logp, ref, n, kl, baselines, k)


def task_loss(task: Task, ro: Rollout, m: Models) -> tuple[torch.Tensor, dict[str, float]]:
    """The task optimizer's loss on a rollout and its metrics (see the module docstring)."""
    c = task.config
    kl_max = float(c.kl_max or 0.0)
    p, k = len(ro.baselines), ro.k
    metrics = rollout_metrics(task, ro)
    if c.optimizer == "crpg":
        R = crpg_reward(ro.J, ro.r, ro.r_base, ro.kl, kl_max)
        A = torch.as_tensor(center_by_prompt(R.reshape(p, k)).reshape(-1), dtype=torch.float32)
        loss = crpg_loss(ro.logp, A.to(ro.logp.device))
        metrics["crpg_reward"] = float(R.mean())
    elif c.optimizer == "codpo":
        pairs = [(i * k + a, i * k + b) for i, pair in
                 enumerate(codpo_pairs(ro.J.reshape(p, k), ro.r.reshape(p, k)))
                 if pair is not None for a, b in [pair]]
        metrics["n_pairs"], metrics["n_skipped"] = float(len(pairs)), float(p - len(pairs))
        if pairs:
            ci, ri = (torch.tensor(x, device=ro.logp.device) for x in zip(*pairs, strict=True))
            loss, dpo, nll = codpo_loss(ro.logp[ci], ro.logp[ri], ro.ref[ci], ro.ref[ri],
                                        ro.n_tokens[ci], beta=float(c.beta or 0.1),
                                        lam=float(c.lam if c.lam is not None else 5.0))
            metrics["dpo_loss"], metrics["nll"] = float(dpo.detach()), float(nll.detach())
        else:
            loss = ro.logp.sum() * 0.0
    else:
        loss, kept = _crraft(ro, m, kl_max)
        metrics.update(kept)
    metrics["loss"] = float(loss.detach())
    return loss, metrics


def _crraft(ro: Rollout, m: Models, kl_max: float) -> tuple[torch.Tensor, dict[str, float]]:
    p, k = len(ro.baselines), ro.k
    rows, weights, fallback, fallback_w = [], [], [], []
    for i, b in enumerate(ro.baselines):
        s = slice(i * k, (i + 1) * k)
        choice, w = crraft_select(ro.J[s], ro.r[s], ro.kl[s], kl_max,
                                  baseline_pass=b.verdict == PASS, r_base=b.reward)
        if choice == "baseline":
            fallback.append(i)
            fallback_w.append(w)
        elif choice is not None:
            rows.append(i * k + int(choice))
            weights.append(w)
    logps, ns, ws = [], [], []
    if rows:
        idx = torch.tensor(rows, device=ro.logp.device)
        logps.append(ro.logp[idx])
        ns.append(ro.n_tokens[idx])
        ws += weights
    if fallback:
        lp, n = sequence_logprobs(m.policy, [ro.prompt_ids[i * k] for i in fallback],
                                  [ro.baselines[i].ids for i in fallback], m.pad_id)
        logps.append(lp)
        ns.append(n)
        ws += fallback_w
    stats = {"n_selected": float(len(rows)), "n_baseline": float(len(fallback)),
             "n_skipped": float(p - len(rows) - len(fallback))}
    if not logps:
        return ro.logp.sum() * 0.0, stats
    loss = crraft_loss(torch.cat(logps), torch.cat(ns), torch.tensor(ws, dtype=torch.float32))
    return loss, stats


def rollout_metrics(task: Task, ro: Rollout) -> dict[str, float]:
    """Reward, calibrated reward, KL, length and pass rates of a rollout."""
    ok = np.isfinite(ro.r)
    out = {"reward": float(ro.r[ok].mean()) if ok.any() else float("nan"),
           "calibrated_reward": float(calibrated_reward(ro.r[ok], ro.r_base[ok]).mean())
           if ok.any() else float("nan"),
           "kl": float(ro.kl.mean()),
           "completion_tokens": float(ro.n_tokens.float().mean()),
           "pass/all": float(passes(ro.J).mean()),
           "baseline_pass": float(np.mean([b.verdict == PASS for b in ro.baselines]))}
    out.update(pass_rates(task.judge_names, ro.V))
    return out


def pass_rates(names: Sequence[str], V: np.ndarray) -> dict[str, float]:
    """``{"pass/<judge>": rate}`` from `n x judges` verdicts (only 1 counts as a pass)."""
    return {f"pass/{name}": float(np.mean(V[:, j] == PASS)) if len(V) else float("nan")
            for j, name in enumerate(names)}

"""Trajectory sampling, trajectory log-probabilities and the saved conditional sampler.

A rollout runs the forward policy (with ε-uniform exploration) without gradients and
records every step; :meth:`ConditionalSampler.log_pf` then recomputes
``sum_t log P_F(s_{t+1} | s_t; ω, β)`` for all trajectories in one batched pass, which is
what the trajectory-balance loss differentiates (Malkin et al., 2022).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch

from moalign.core.compositional import (
    AutoregressiveEnv,
    CompositionalEnv,
    terminal_distribution,
    transition_table,
)
from moalign.core.seeding import seeded_torch
from moalign.solvers.mogfn.networks import Conditioning, LogZ, MLPPolicy, TransformerPolicy


@dataclass
class Trajectories:
    """A batch of `n` complete trajectories, `N` recorded steps in all.

    Attributes:
        final: `n x state_dim` terminal states.
        states: `N x state_dim` the state each step starts from.
        actions: `N` the action taken.
        masks: `N x A` the allowed actions.
        traj: `N` the trajectory of each step.
        pos: `N` the position of each step in its trajectory.
        log_pb: `n` ``sum_t log P_B`` under the uniform-parent backward policy.
    """

    final: np.ndarray
    states: np.ndarray
    actions: np.ndarray
    masks: np.ndarray
    traj: np.ndarray
    pos: np.ndarray
    log_pb: np.ndarray


class ConditionalSampler:
    """A GFlowNet forward policy conditioned on a preference ω and an exponent β.

    ``sample(preference, n)`` draws `n` terminal objects for one preference (or one per row
    of an `n x m` array); an unconditional sampler (OP-GFN) ignores the preference.
    Saved with the run as ``artifact_name`` (``save(dir)`` / ``ConditionalSampler.load(dir)``).

    Args:
        env: the environment.
        n_obj: number of objectives `m`.
        spec: network options: ``policy`` (``"mlp"``/``"transformer"``), ``n_hidden``,
            ``n_layers``, ``n_heads``, ``n_bins``, ``beta_max``, ``default_beta``,
            ``conditional`` (False: constant conditioning), ``reward_type``.
    """

    artifact_name: ClassVar[str] = "sampler"

    def __init__(self, env: CompositionalEnv, n_obj: int, spec: dict[str, Any],
                 init_seed: int = 0) -> None:
        self.env, self.n_obj, self.spec = env, n_obj, dict(spec)
        # Initial weights from a private seed; torch's global RNG is restored afterwards.
        with seeded_torch(init_seed):
            self._build(env)
        self._table: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def _build(self, env: CompositionalEnv) -> None:
        spec = self.spec
        self.cond = Conditioning(self.n_obj, int(spec["n_bins"]), float(spec["beta_max"]))
        kind = spec["policy"]
        if kind == "auto":
            kind = "transformer" if isinstance(env, AutoregressiveEnv) else "mlp"
            self.spec["policy"] = kind
        self.policy: MLPPolicy | TransformerPolicy
        if kind == "transformer":
            if not isinstance(env, AutoregressiveEnv):
                raise ValueError("policy 'transformer' needs an AutoregressiveEnv")
            self.policy = TransformerPolicy(env.vocab_size, env.max_length, self.cond.dim,
                                            env.n_actions, int(spec["n_hidden"]),
                                            int(spec["n_layers"]), int(spec["n_heads"]))
        else:
            feat = env.features(env.initial_states(1)).shape[1]
            self.policy = MLPPolicy(feat, self.cond.dim, env.n_actions, int(spec["n_hidden"]),
                                    int(spec["n_layers"]))
        self.logz = LogZ(self.cond.dim, int(spec["n_hidden"]), int(spec["n_layers"]))

    # -- conditioning ----------------------------------------------------------------------
    def encode(self, pref: np.ndarray, beta: np.ndarray) -> torch.Tensor:
        """`n x c` conditioning; constant when the sampler is unconditional."""
        pref = np.asarray(pref, dtype=np.float64).reshape(-1, self.n_obj)
        beta = np.asarray(beta, dtype=np.float64).reshape(-1)
        if not self.spec.get("conditional", True):
            pref = np.full_like(pref, 1.0 / self.n_obj)
            beta = np.ones_like(beta)
        return self.cond(torch.from_numpy(pref), torch.from_numpy(beta))

    # -- sampling ------------------------------------------------------------------------
    @torch.no_grad()
    def rollout(self, cond: torch.Tensor, gen: torch.Generator, epsilon: float = 0.0
                ) -> Trajectories:
        """Sample one trajectory per row of ``cond`` (`n x c`), ε-uniform exploration."""
        env = self.env
        n = cond.shape[0]
        states = env.initial_states(n)
        done = np.zeros(n, dtype=bool)
        log_pb = np.zeros(n)
        rec: dict[str, list[np.ndarray]] = {k: [] for k in ("s", "a", "m", "i", "p")}
        policy = self.policy.stepper(env, cond)
        for t in range(env.max_steps):
            idx = np.flatnonzero(~done)
            if len(idx) == 0:
                break
            s = states[idx]
            mask = env.forward_mask(s)
            mask_t = torch.from_numpy(mask)
            logits = policy(idx, s)
            probs = torch.softmax(logits.masked_fill(~mask_t, float("-inf")), dim=1)
            act = torch.multinomial(probs, 1, generator=gen)[:, 0]
            explore = torch.rand(len(idx), generator=gen) < epsilon
            uniform = torch.multinomial(mask_t.double(), 1, generator=gen)[:, 0]
            a = torch.where(explore, uniform, act).numpy()
            for key, val in zip("sami", (s, a, mask, idx), strict=True):
                rec[key].append(val)
            rec["p"].append(np.full(len(idx), t))
            stop = a == env.stop
            done[idx[stop]] = True
            go = idx[~stop]
            if len(go):
                nxt = env.step(s[~stop], a[~stop])
                log_pb[go] -= np.log(np.maximum(env.n_parents(nxt), 1))
                states[go] = nxt
        if not done.all():
            raise RuntimeError(f"{type(env).__name__}: a trajectory exceeded max_steps")
        return Trajectories(states, np.concatenate(rec["s"]), np.concatenate(rec["a"]),
                            np.concatenate(rec["m"]), np.concatenate(rec["i"]),
                            np.concatenate(rec["p"]), log_pb)

    def log_pf(self, tr: Trajectories, cond: torch.Tensor) -> torch.Tensor:
        """`n` summed forward log-probabilities of the trajectories (differentiable)."""
        logits = self.policy.step_logits(self.env, tr.states, tr.traj, tr.pos, tr.final, cond)
        mask = torch.from_numpy(tr.masks)
        logp = torch.log_softmax(logits.masked_fill(~mask, float("-inf")), dim=1)
        chosen = logp[torch.arange(len(tr.actions)), torch.from_numpy(tr.actions)]
        out = torch.zeros(cond.shape[0], dtype=chosen.dtype)
        return out.index_add(0, torch.from_numpy(tr.traj), chosen)

    def sample(self, preference: Any, n: int, beta: float | None = None, seed: int = 0,
               epsilon: float = 0.0) -> Any:
        """`n` terminal objects for a preference (`m`, or `n x m` one per object).

        Args:
            preference: weights on the simplex.
            n: number of objects.
            beta: reward exponent the policy is conditioned on (default: the trained one).
            seed: seed of the sampling generator.
            epsilon: exploration probability (0 samples the learned policy).
        """
        pref = np.array(np.broadcast_to(
            np.asarray(preference, dtype=np.float64).reshape(-1, self.n_obj), (n, self.n_obj)))
        b = self.spec["default_beta"] if beta is None else beta
        gen = torch.Generator().manual_seed(int(seed))
        tr = self.rollout(self.encode(pref, np.full(n, b)), gen, epsilon)
        return self.env.to_objects(tr.final)

    # -- exact distribution --------------------------------------------------------------
    def terminal_distribution(self, prefs: np.ndarray, beta: float | None = None
                              ) -> tuple[np.ndarray, np.ndarray]:
        """Exact terminal distribution (dynamic programming over the DAG).

        Args:
            prefs: `k x m` preferences.
            beta: exponent conditioned on (default: the trained one).

        Returns:
            ``(states, P)``: `S x state_dim` all states, `k x S` terminal probabilities.
        """
        if self._table is None:
            self._table = transition_table(self.env)
        states, mask, child = self._table
        prefs = np.asarray(prefs, dtype=np.float64).reshape(-1, self.n_obj)
        b = self.spec["default_beta"] if beta is None else beta
        k, S = len(prefs), len(states)
        probs = np.empty((k, S, self.env.n_actions))
        mask_t = torch.from_numpy(mask)
        with torch.no_grad():
            for i in range(k):
                cond = self.encode(np.repeat(prefs[i : i + 1], S, 0), np.full(S, b))
                logits = self.policy.state_logits(self.env, states, cond)
                probs[i] = torch.softmax(logits.masked_fill(~mask_t, float("-inf")),
                                         dim=1).double().numpy()
        return states, terminal_distribution(child, probs, self.env.stop)

    # -- persistence ---------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        return {"policy": self.policy.state_dict(), "logz": self.logz.state_dict()}

    def load_state_dict(self, sd: dict[str, Any]) -> None:
        self.policy.load_state_dict(sd["policy"])
        self.logz.load_state_dict(sd["logz"])

    def save(self, directory: Path | str) -> None:
        """Write ``sampler.pt`` (environment, options, weights) and ``spec.json``."""
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        torch.save({"env": self.env, "n_obj": self.n_obj, "spec": self.spec,
                    "weights": self.state_dict()}, d / "sampler.pt")
        (d / "spec.json").write_text(json.dumps({"n_obj": self.n_obj, **self.spec}, indent=1))

    @classmethod
    def load(cls, directory: Path | str) -> ConditionalSampler:
        """Rebuild a sampler written by :meth:`save` (the file is a trusted pickle)."""
        blob = torch.load(Path(directory) / "sampler.pt", weights_only=False)
        model = cls(blob["env"], blob["n_obj"], blob["spec"])
        model.load_state_dict(blob["weights"])
        return model

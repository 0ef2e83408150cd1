"""Networks of the preference-conditioned GFlowNets: conditioning, policies and log Z.

Following Jain et al., "Multi-Objective GFlowNets" (ICML 2023): the preference ω and the
reward exponent β are given to the forward policy and to the log-partition network
``log Z(ω, β)`` as a thermometer encoding; grids use an MLP policy on one-hot cells,
sequences a small causal Transformer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn

if TYPE_CHECKING:
    from moalign.core.compositional import CompositionalEnv

Stepper = Callable[[np.ndarray, np.ndarray], torch.Tensor]


def thermometer(values: torch.Tensor, low: float, high: float, n_bins: int) -> torch.Tensor:
    """Thermometer encoding, ``enc[..., j] = clip((v - low) / (high - low) * n_bins - j, 0, 1)``.

    Args:
        values: `n x c` values.
        low: value encoded as all zeros.
        high: value encoded as all ones.
        n_bins: bins per value.

    Returns:
        `n x (c * n_bins)` float tensor.

    Example:
        >>> thermometer(torch.tensor([[0.5]]), 0.0, 1.0, 4).tolist()
        [[1.0, 1.0, 0.0, 0.0]]
    """
    scaled = (values - low) / (high - low) * n_bins
    j = torch.arange(n_bins, dtype=values.dtype)
    return (scaled[..., None] - j).clamp(0.0, 1.0).flatten(start_dim=-2)


class Conditioning:
    """Encodes preferences ω (`n x m`) and exponents β (`n`) as `n x dim` features:
    a thermometer per weight over ``[0, 1]`` and one for β over ``[0, beta_max]``."""

    def __init__(self, n_obj: int, n_bins: int, beta_max: float) -> None:
        self.n_obj, self.n_bins, self.beta_max = n_obj, n_bins, beta_max
        self.dim = (n_obj + 1) * n_bins

    def __call__(self, pref: torch.Tensor, beta: torch.Tensor) -> torch.Tensor:
        w = thermometer(pref.float(), 0.0, 1.0, self.n_bins)
        b = thermometer(beta.float()[:, None], 0.0, self.beta_max, self.n_bins)
        return torch.cat([w, b], dim=1)


def mlp(sizes: list[int]) -> nn.Sequential:
    """Linear layers with LeakyReLU between them (none after the last)."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes, sizes[1:], strict=False)):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.LeakyReLU())
    return nn.Sequential(*layers)


class MLPPolicy(nn.Module):
    """Forward policy ``logits = MLP([features(s), cond])`` (`n x A`)."""

    def __init__(self, feat_dim: int, cond_dim: int, n_actions: int, n_hidden: int,
                 n_layers: int) -> None:
        super().__init__()
        self.net = mlp([feat_dim + cond_dim] + [n_hidden] * n_layers + [n_actions])

    def state_logits(self, env: CompositionalEnv, states: np.ndarray,
                     cond: torch.Tensor) -> torch.Tensor:
        """`n x A` logits for `n` states."""
        x = torch.from_numpy(env.features(states))
        return self.net(torch.cat([x, cond], dim=1))

    def stepper(self, env: CompositionalEnv, cond: torch.Tensor) -> Stepper:
        """``step(idx, states)``: logits of the live rows ``idx`` of a rollout."""
        return lambda idx, states: self.state_logits(env, states, cond[torch.from_numpy(idx)])

    def step_logits(self, env: CompositionalEnv, states: np.ndarray, traj: np.ndarray,
                    pos: np.ndarray, final: np.ndarray, cond: torch.Tensor) -> torch.Tensor:
        """`N x A` logits of the `N` recorded steps (state, trajectory index, position)."""
        return self.state_logits(env, states, cond[torch.from_numpy(traj)])


class _Block(nn.Module):
    """Pre-norm causal self-attention block; keys and values can be cached."""

    def __init__(self, d: int, n_heads: int) -> None:
        super().__init__()
        if d % n_heads:
            raise ValueError(f"n_hidden={d} must be a multiple of n_heads={n_heads}")
        self.h = n_heads
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.qkv, self.proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
        self.ff = nn.Sequential(nn.Linear(d, 2 * d), nn.GELU(), nn.Linear(2 * d, d))

    def forward(self, x: torch.Tensor, past: tuple[torch.Tensor, torch.Tensor] | None = None
                ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        n, T, d = x.shape
        q, k, v = self.qkv(self.ln1(x)).view(n, T, 3, self.h, d // self.h).permute(2, 0, 3, 1, 4)
        if past is not None:  # one new position attending to all cached ones
            k, v = torch.cat([past[0], k], dim=2), torch.cat([past[1], v], dim=2)
        att = nn.functional.scaled_dot_product_attention(q, k, v, is_causal=past is None)
        x = x + self.proj(att.transpose(1, 2).reshape(n, T, d))
        return x + self.ff(self.ln2(x)), (k, v)


class TransformerPolicy(nn.Module):
    """Causal Transformer over ``[BOS, tok_1, ..., tok_L]``; position `t` gives the logits of
    the action taken after `t` tokens. The conditioning is projected and added to every
    position. No dropout (the policy is a density). Rollouts use a key/value cache, so a
    trajectory costs one position per step."""

    def __init__(self, vocab_size: int, max_length: int, cond_dim: int, n_actions: int,
                 n_hidden: int = 64, n_layers: int = 3, n_heads: int = 4) -> None:
        super().__init__()
        self.bos = vocab_size
        self.tok = nn.Embedding(vocab_size + 1, n_hidden)
        self.pos = nn.Embedding(max_length + 1, n_hidden)
        self.cond = nn.Linear(cond_dim, n_hidden)
        self.blocks = nn.ModuleList(_Block(n_hidden, n_heads) for _ in range(n_layers))
        self.ln = nn.LayerNorm(n_hidden)
        self.head = nn.Linear(n_hidden, n_actions)

    def _embed(self, tokens: torch.Tensor, start: int, cond: torch.Tensor) -> torch.Tensor:
        pos = torch.arange(start, start + tokens.shape[1])
        return self.tok(tokens) + self.pos(pos)[None] + self.cond(cond)[:, None]

    def _forward(self, tokens: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        h = self._embed(tokens, 0, cond)
        for block in self.blocks:
            h, _ = block(h)
        return self.head(self.ln(h))

    def _tokens(self, states: np.ndarray, width: int) -> torch.Tensor:
        toks = np.full((len(states), width), self.bos, dtype=np.int64)
        body = states[:, 1:width]
        toks[:, 1:] = np.where(body >= 0, body, self.bos)
        return torch.from_numpy(toks)

    def state_logits(self, env: CompositionalEnv, states: np.ndarray,
                     cond: torch.Tensor) -> torch.Tensor:
        length = states[:, 0]
        width = int(length.max()) + 1
        out = self._forward(self._tokens(states, width), cond)
        return out[torch.arange(len(states)), torch.from_numpy(length)]

    def stepper(self, env: CompositionalEnv, cond: torch.Tensor) -> Stepper:
        """Incremental logits for a rollout in which every live sequence grows by one token
        per call (rows that stopped drop out, order kept)."""
        cache: dict[str, Any] = {"rows": None, "kv": None}

        def step(idx: np.ndarray, states: np.ndarray) -> torch.Tensor:
            t = int(states[0, 0])
            if cache["rows"] is None:
                kv: list[Any] = [None] * len(self.blocks)
                tok = torch.full((len(idx), 1), self.bos, dtype=torch.long)
            else:
                keep = torch.from_numpy(np.searchsorted(cache["rows"], idx))
                kv = [(k[keep], v[keep]) for k, v in cache["kv"]]
                tok = torch.from_numpy(states[:, t : t + 1].copy())
            h = self._embed(tok, t, cond[torch.from_numpy(idx)])
            for i, block in enumerate(self.blocks):
                h, kv[i] = block(h, kv[i])
            cache["rows"], cache["kv"] = idx, kv
            return self.head(self.ln(h))[:, 0]

        return step

    def step_logits(self, env: CompositionalEnv, states: np.ndarray, traj: np.ndarray,
                    pos: np.ndarray, final: np.ndarray, cond: torch.Tensor) -> torch.Tensor:
        width = int(final[:, 0].max()) + 1
        out = self._forward(self._tokens(final, width), cond)
        return out[torch.from_numpy(traj), torch.from_numpy(pos)]


class LogZ(nn.Module):
    """Conditional log-partition ``log Z(ω, β)``: an MLP of the conditioning, `n x c -> n`."""

    def __init__(self, cond_dim: int, n_hidden: int, n_layers: int) -> None:
        super().__init__()
        self.net = mlp([cond_dim] + [max(1, n_hidden // 2)] * n_layers + [1])

    def forward(self, cond: torch.Tensor) -> torch.Tensor:
        return self.net(cond)[:, 0]

"""Compositional discrete spaces: objects built by a sequence of actions.

A user describes how objects are *built* by subclassing :class:`CompositionalEnv`
(batched, numpy): the initial state, which actions are allowed in a state (a mask), the
transition, the parents of a state (for a backward policy), when a state may be a terminal
object, and the map from a terminal state to the object the objectives are computed on.
:class:`Compositional` wraps the environment as a moalign :class:`~moalign.core.Space`, so a
:class:`~moalign.core.Problem` over it is an ordinary problem whose objectives are batched
functions of terminal objects. GFlowNet solvers (``mogfn``, ``op-gfn``) read the
environment from ``problem.space.env``. :class:`AutoregressiveEnv` is the left-to-right
sequence case; the HyperGrid and N-grams environments of the problem catalogue
(:mod:`moalign.problems.hypergrid`, :mod:`moalign.problems.ngrams`) subclass these.

Conventions (as in GFlowNets, Bengio et al., 2021; Malkin et al., 2022):

- States are rows of an `n x state_dim` int64 array; the environment is a DAG.
- Actions are ``0 .. n_actions - 1``; the last one, :attr:`CompositionalEnv.stop`, ends the
  trajectory and makes the current state a terminal object. A state may be terminal iff
  its mask allows ``stop`` (the *terminal check*); an environment forces termination by
  allowing only ``stop``.
- The backward policy used by the solvers is uniform over parents:
  ``P_B(s | s') = 1 / n_parents(s')`` for a non-stop transition and 1 for ``stop``.

Example:
    >>> import numpy as np
    >>> class Tokens(AutoregressiveEnv):  # token lists of length 1 to 3 over {0, 1}
    ...     def to_objects(self, states):
    ...         return self.tokens(states)
    >>> env = Tokens(vocab_size=2, min_length=1, max_length=3)
    >>> s = env.initial_states(1)
    >>> env.forward_mask(s).tolist()
    [[True, True, False]]
    >>> env.step(s, np.array([1])).tolist()
    [[1, 1, -1, -1]]
    >>> env.to_objects(env.step(s, np.array([1])))
    [[1]]
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import numpy as np

from moalign.core.space import Space


class CompositionalEnv(ABC):
    """The description of a compositional space (override the abstract methods).

    Attributes:
        n_actions: number of actions, the last of which is ``stop``.
        state_dim: width of a state row.
        max_steps: an upper bound on the number of actions in a trajectory (``stop``
            included); rollouts stop there.
    """

    n_actions: int
    state_dim: int
    max_steps: int

    @property
    def stop(self) -> int:
        """Index of the stop action (the last one)."""
        return self.n_actions - 1

    @abstractmethod
    def initial_states(self, n: int) -> np.ndarray:
        """`n x state_dim` copies of the initial state s0."""

    @abstractmethod
    def forward_mask(self, states: np.ndarray) -> np.ndarray:
        """`n x n_actions` bool: the actions allowed in each state (at least one)."""

    @abstractmethod
    def step(self, states: np.ndarray, actions: np.ndarray) -> np.ndarray:
        """The states reached by the non-stop ``actions`` (`n`) from ``states``."""

    @abstractmethod
    def parents(self, state: np.ndarray) -> list[tuple[np.ndarray, int]]:
        """All ``(parent, action)`` pairs with ``step(parent, action) == state``."""

    @abstractmethod
    def to_objects(self, states: np.ndarray) -> Any:
        """The terminal objects of terminal ``states`` (a batch the objectives accept)."""

    def n_parents(self, states: np.ndarray) -> np.ndarray:
        """`n` ints: number of parents of each state (override with a vectorized form)."""
        return np.array([len(self.parents(s)) for s in states], dtype=np.int64)

    def can_stop(self, states: np.ndarray) -> np.ndarray:
        """`n` bool: the terminal check, True where ``stop`` is allowed."""
        return self.forward_mask(states)[:, self.stop]

    def features(self, states: np.ndarray) -> np.ndarray:
        """`n x d` float32 input of an MLP policy (default: the raw state)."""
        return np.asarray(states, dtype=np.float32)

    def all_states(self) -> np.ndarray | None:
        """Every reachable state in a topological order (parents first), or None when the
        space is too large to enumerate. Enables the exact terminal distribution."""
        return None

    def sample_objects(self, rng: np.random.Generator, n: int) -> Any:
        """`n` random terminal objects (default: uniformly random allowed actions)."""
        return self.to_objects(random_rollout(self, rng, n))


class AutoregressiveEnv(CompositionalEnv):
    """Left-to-right sequences over a vocabulary (a tree: each state has one parent).

    State rows are ``[length, tok_1, ..., tok_max]`` with tokens ``0 .. V-1`` and padding
    ``-1``. Actions ``0 .. V-1`` append a token; ``stop`` ends the sequence. ``stop`` is
    masked while ``length < min_length``, appending while ``length == max_length``.
    Lengths count vocabulary tokens only (no BOS/EOS).
    """

    def __init__(self, vocab_size: int, min_length: int, max_length: int) -> None:
        if not 0 <= min_length <= max_length or max_length < 1:
            raise ValueError("AutoregressiveEnv: need 0 <= min_length <= max_length >= 1")
        self.vocab_size = int(vocab_size)
        self.min_length = int(min_length)
        self.max_length = int(max_length)
        self.n_actions = self.vocab_size + 1
        self.state_dim = self.max_length + 1
        self.max_steps = self.max_length + 1

    def initial_states(self, n: int) -> np.ndarray:
        s = np.full((n, self.state_dim), -1, dtype=np.int64)
        s[:, 0] = 0
        return s

    def forward_mask(self, states: np.ndarray) -> np.ndarray:
        length = states[:, 0]
        mask = np.ones((len(states), self.n_actions), dtype=bool)
        mask[:, : self.vocab_size] = (length < self.max_length)[:, None]
        mask[:, self.stop] = length >= self.min_length
        return mask

    def step(self, states: np.ndarray, actions: np.ndarray) -> np.ndarray:
        out = states.copy()
        rows = np.arange(len(states))
        out[rows, states[:, 0] + 1] = actions
        out[:, 0] += 1
        return out

    def parents(self, state: np.ndarray) -> list[tuple[np.ndarray, int]]:
        k = int(state[0])
        if k == 0:
            return []
        p = state.copy()
        p[k] = -1
        p[0] = k - 1
        return [(p, int(state[k]))]

    def n_parents(self, states: np.ndarray) -> np.ndarray:
        return (states[:, 0] > 0).astype(np.int64)

    def tokens(self, states: np.ndarray) -> list[list[int]]:
        """The token lists of ``states``."""
        return [list(map(int, s[1 : 1 + s[0]])) for s in states]


def random_rollout(env: CompositionalEnv, rng: np.random.Generator, n: int) -> np.ndarray:
    """Terminal states of `n` trajectories with uniformly random allowed actions."""
    states = env.initial_states(n)
    done = np.zeros(n, dtype=bool)
    for _ in range(env.max_steps):
        if done.all():
            break
        idx = np.flatnonzero(~done)
        mask = env.forward_mask(states[idx])
        u = rng.random(mask.shape) * mask
        act = np.argmax(u, axis=1)
        stop = act == env.stop
        done[idx[stop]] = True
        go = idx[~stop]
        if len(go):
            states[go] = env.step(states[go], act[~stop])
    return states


def transition_table(env: CompositionalEnv) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The enumerated DAG of an environment with :meth:`~CompositionalEnv.all_states`.

    Returns:
        ``(states, mask, child)``: `S x state_dim` states in topological order,
        `S x A` forward masks, and `S x A` indices of the child reached by each allowed
        non-stop action (-1 elsewhere).

    Raises:
        ValueError: if the environment cannot enumerate its states.
    """
    states = env.all_states()
    if states is None:
        raise ValueError(f"{type(env).__name__} does not enumerate its states")
    index = {s.tobytes(): i for i, s in enumerate(states)}
    mask = env.forward_mask(states)
    child = np.full(mask.shape, -1, dtype=np.int64)
    for a in range(env.n_actions - 1):
        rows = np.flatnonzero(mask[:, a])
        nxt = env.step(states[rows], np.full(len(rows), a))
        child[rows, a] = [index[s.tobytes()] for s in nxt]
    return states, mask, child


def terminal_distribution(child: np.ndarray, probs: np.ndarray, stop: int) -> np.ndarray:
    """Exact terminal distribution of a forward policy by dynamic programming on the DAG.

    The flow into the initial state (index 0) is 1; each state passes
    ``flow(s) * P_F(a | s)`` to its children, and
    ``P_T(x) = flow(x) * P_F(stop | x)``.

    Args:
        child: `S x A` child indices from :func:`transition_table` (topological order).
        probs: `k x S x A` forward probabilities for `k` conditionings.
        stop: index of the stop action.

    Returns:
        `k x S` terminal probabilities (each row sums to 1 up to rounding).
    """
    k, S, A = probs.shape
    flow = np.zeros((k, S))
    flow[:, 0] = 1.0
    for s in range(S):
        f = flow[:, s]
        for a in range(A):
            c = child[s, a]
            if c >= 0:
                flow[:, c] += f * probs[:, s, a]
    return flow * probs[:, :, stop]


class Compositional(Space):
    """A space of objects built by a :class:`CompositionalEnv`.

    ``sample(rng, n)`` gives `n` random terminal objects (``env.sample_objects``), which is
    what a random-search baseline evaluates.

    Example:
        >>> import numpy as np
        >>> class Tokens(AutoregressiveEnv):
        ...     def to_objects(self, states):
        ...         return self.tokens(states)
        >>> space = Compositional(Tokens(vocab_size=3, min_length=2, max_length=2))
        >>> [len(x) for x in space.sample(np.random.default_rng(0), 3)]
        [2, 2, 2]
    """

    def __init__(self, env: CompositionalEnv) -> None:
        if not isinstance(env, CompositionalEnv):
            raise TypeError("Compositional: env must be a CompositionalEnv")
        self.env = env

    def sample(self, rng: np.random.Generator, n: int) -> Any:
        return self.env.sample_objects(rng, n)

    def __repr__(self) -> str:
        return f"Compositional({type(self.env).__name__})"

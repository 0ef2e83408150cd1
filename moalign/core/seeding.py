"""Seeding torch without touching anyone else's random state.

BoTorch and a few torch routines draw from torch's *global* generator. moalign never seeds
it for good: :func:`seeded_torch` seeds it inside ``torch.random.fork_rng``, so the state
the caller had is restored on exit and runs stay independent of one another.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager


@contextmanager
def seeded_torch(seed: int, devices: Sequence[int] = ()) -> Iterator[None]:
    """Run the block with torch's global generator seeded by ``seed``; restore it after.

    Args:
        seed: the seed (e.g. from ``ctx.spawn_seed()``).
        devices: CUDA devices whose generators are forked too (none by default: forking
            every visible device is slow and warns).

    Example:
        >>> import torch
        >>> with seeded_torch(0):
        ...     a = torch.rand(2)
        >>> with seeded_torch(0):
        ...     b = torch.rand(2)
        >>> bool((a == b).all())
        True
    """
    import torch

    with torch.random.fork_rng(devices=list(devices)):
        torch.manual_seed(int(seed))
        yield

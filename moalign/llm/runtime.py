"""Process-wide settings an LLM solver changes while it runs, restored when it ends.

``torch_threads`` sets torch's thread count for the body; ``preserved_global_rng`` restores
Python's, numpy's and torch's global random states, which TRL and transformers seed and
draw from.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def preserved_global_rng() -> Iterator[None]:
    """Restore Python's, numpy's and torch's global random states on exit.

    TRL calls ``transformers.set_seed`` and samples from the global torch stream; the
    solver contract is that the caller's global random state is left untouched.
    """
    import random

    import numpy as np
    import torch

    py, npy = random.getstate(), np.random.get_state()
    devices = list(range(torch.cuda.device_count())) if torch.cuda.is_available() else []
    with torch.random.fork_rng(devices=devices):
        try:
            yield
        finally:
            random.setstate(py)
            np.random.set_state(npy)


@contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """Run the body with ``n`` torch threads and restore the previous global count on exit.

    Args:
        n: intra-op threads for the body (``torch.set_num_threads``); None keeps the
            current count. The count on entry is restored in every case, also when the
            body raises or when something inside (TRL, transformers) changed it.
    """
    import torch

    before = torch.get_num_threads()
    if n is not None:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        if torch.get_num_threads() != before:
            torch.set_num_threads(before)

"""Fixtures of the parallel-evaluation tests."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

import pytest


@pytest.fixture(scope="module")
def pool() -> Iterator[ProcessPoolExecutor]:
    """Two spawned worker processes, shared by the tests of a module that do not break them."""
    with ProcessPoolExecutor(2, mp_context=get_context("spawn")) as ex:
        yield ex

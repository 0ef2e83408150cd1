"""Metrics for a tracking server that may be away: held, retried, written once.

A run logging to an MLflow server (``tracking.uri: http://...``) must not stop when the
server does (a restart, a network cut): :class:`MetricWriter` takes the run's metric
batches, writes them in order from a background thread and, when a write fails for a
reason that may pass (connection refused or reset, a timeout, HTTP 5xx), keeps the batch
at the head of its queue and tries again with a growing pause (``retry_min`` doubling up
to ``retry_max`` seconds). Meanwhile the run goes on and its new batches queue behind.
When the server answers again, the held batches are written, oldest first.

Nothing is duplicated: a batch is written again only when its write failed, with the same
``Metric`` objects (key, value, timestamp, step), and an MLflow store keeps one row per
``(key, timestamp, step, value)`` of a run, so a batch that reached the store although its
answer was lost is not stored twice. Nothing is lost while the process lives: a batch
leaves the queue only once written; :meth:`MetricWriter.pending` lists what is not
written yet (the runner keeps it in its checkpoints, so a resumed run writes it).

A write that fails for good (the store refuses it: an invalid value, a run that is gone
or no longer active, no permission) is not retried: the batch is set aside and
:meth:`MetricWriter.wait` raises :class:`TrackingWriteError` naming it.

Example:
    >>> written = []
    >>> w = MetricWriter(written.extend, name="demo")
    >>> w.submit([1, 2]); w.submit([3])
    >>> w.wait(timeout=5)
    >>> written, w.pending()
    ([1, 2, 3], [])
    >>> w.close()
"""

from __future__ import annotations

import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

#: MLflow error codes that say the store refused the request itself: retrying cannot help.
PERMANENT_ERRORS = frozenset({
    "INVALID_PARAMETER_VALUE", "BAD_REQUEST", "RESOURCE_DOES_NOT_EXIST", "NOT_FOUND",
    "INVALID_STATE", "PERMISSION_DENIED", "UNAUTHENTICATED", "RESOURCE_ALREADY_EXISTS",
    "MALFORMED_REQUEST", "INVALID_REQUEST", "ENDPOINT_NOT_FOUND",
})


class TrackingWriteError(RuntimeError):
    """Metrics could not be written: the store refused them, or it stayed unreachable
    past the wait's deadline. The message names the store, the count and the cause."""


def is_transient(exc: BaseException) -> bool:
    """Whether a failed write may succeed later: anything but an MLflow error whose code
    says the request itself is wrong (:data:`PERMANENT_ERRORS`).

    A server that is down makes MLflow raise ``MlflowException`` (``INTERNAL_ERROR``,
    "API request ... failed with exception ... Connection refused"), or ``requests``'
    ``ConnectionError`` / ``Timeout``: all transient.
    """
    code = getattr(exc, "error_code", None)
    return not (isinstance(code, str) and code in PERMANENT_ERRORS)


@dataclass
class WriterStats:
    """What the writer went through.

    Attributes:
        batches: batches written.
        failed_writes: write attempts that failed and were retried.
        outages: times the store went from answering to not answering.
        outage_seconds: seconds spent with a failing write at the head of the queue.
        max_pending: the most metrics held at once.
    """

    batches: int = 0
    failed_writes: int = 0
    outages: int = 0
    outage_seconds: float = 0.0
    max_pending: int = 0


class MetricWriter:
    """Writes batches in order from a background thread, holding them while the store is
    unreachable (see the module docstring).

    Args:
        write: writes one batch (e.g. ``lambda b: client.log_batch(run_id, metrics=b)``);
            raises when it fails.
        name: how messages name the store (its URI).
        retry_min, retry_max: first and longest pause between attempts, in seconds.
        verbose: print one line to stderr when the store stops answering and one when it
            answers again.
    """

    def __init__(self, write: Callable[[list[Any]], Any], *, name: str = "tracking store",
                 retry_min: float = 0.5, retry_max: float = 5.0, verbose: bool = True
                 ) -> None:
        self._write = write
        self.name = name
        self.retry_min = retry_min
        self.retry_max = retry_max
        self.verbose = verbose
        self.stats = WriterStats()
        self._queue: deque[list[Any]] = deque()
        self._refused: list[tuple[list[Any], BaseException]] = []
        self._last_error: BaseException | None = None
        self._cond = threading.Condition()
        self._closed = False
        self._busy = False  # the thread is writing the head batch
        self._thread: threading.Thread | None = None

    def submit(self, batch: Sequence[Any]) -> None:
        """Queue one batch (written after every batch queued before it)."""
        if not batch:
            return
        with self._cond:
            if self._closed:
                raise RuntimeError("MetricWriter: closed")
            self._queue.append(list(batch))
            held = sum(len(b) for b in self._queue)
            self.stats.max_pending = max(self.stats.max_pending, held)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="moalign-metrics",
                                                daemon=True)
                self._thread.start()
            self._cond.notify_all()

    def pending(self) -> list[Any]:
        """Every metric queued and not written yet (the batch being written included),
        oldest first, and those the store refused."""
        with self._cond:
            return ([m for b in self._queue for m in b]
                    + [m for b, _ in self._refused for m in b])

    @property
    def unreachable(self) -> bool:
        """The last write attempt failed and its batch is still held."""
        with self._cond:
            return self._last_error is not None and bool(self._queue)

    def wait(self, timeout: float | None = None) -> None:
        """Block until every queued batch is written.

        Args:
            timeout: seconds to wait at most (None: as long as it takes).

        Raises:
            TrackingWriteError: the store refused a batch, or batches are still held when
                ``timeout`` runs out (they stay queued: a later :meth:`wait` may succeed).
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while self._queue:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    held = sum(len(b) for b in self._queue)
                    raise TrackingWriteError(
                        f"{self.name}: {held} metric(s) not written after waiting "
                        f"{timeout:g} s for the tracking store "
                        f"({_describe(self._last_error)})")
                self._cond.wait(left if left is None else min(left, 1.0))
            if self._refused:
                n = sum(len(b) for b, _ in self._refused)
                raise TrackingWriteError(f"{self.name}: the tracking store refused {n} "
                                         f"metric(s) ({_describe(self._refused[0][1])})")

    def close(self) -> None:
        """Stop the thread (queued batches are dropped: call :meth:`wait` first)."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        pause = self.retry_min
        down_since: float | None = None
        while True:
            with self._cond:
                while not self._queue and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return
                batch = self._queue[0]
            try:
                self._write(batch)
            except Exception as exc:
                if not is_transient(exc):
                    with self._cond:
                        self._queue.popleft()
                        self._refused.append((batch, exc))
                        self._cond.notify_all()
                    continue
                now = time.monotonic()
                with self._cond:
                    self.stats.failed_writes += 1
                    self._last_error = exc
                    if down_since is None:
                        down_since = now
                        self.stats.outages += 1
                        self._say(f"warning: {self.name} unreachable "
                                  f"({_describe(exc)}); the run goes on, its metrics are "
                                  f"held and retried every {self.retry_max:g} s at most")
                    self._cond.wait(pause)  # close() wakes it
                    if self._closed:
                        return
                pause = min(self.retry_max, 2 * pause)
                continue
            with self._cond:
                self._queue.popleft()
                self.stats.batches += 1
                self._last_error = None
                if down_since is not None:
                    away = time.monotonic() - down_since
                    self.stats.outage_seconds += away
                    held = sum(len(b) for b in self._queue) + len(batch)
                    self._say(f"note: {self.name} answers again after {away:.1f} s; "
                              f"writing the {held} metric(s) held")
                    down_since = None
                self._cond.notify_all()
            pause = self.retry_min

    def _say(self, line: str) -> None:
        if self.verbose:
            print(line, file=sys.stderr, flush=True)


def _describe(exc: BaseException | None) -> str:
    """A one-line cause: the exception's type and the start of its message."""
    if exc is None:
        return "no error"
    text = " ".join(str(exc).split())
    if len(text) > 240:  # MLflow's messages put the cause last (... Connection refused)
        text = f"{text[:100]} ... {text[-130:]}"
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


__all__ = ["MetricWriter", "TrackingWriteError", "WriterStats", "is_transient"]

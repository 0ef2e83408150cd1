"""Stopping a run by signal: SIGINT (Ctrl-C) or SIGTERM (``kill``, a scheduler, systemd).

The first signal asks the solver to stop: it finishes its step, writes a checkpoint and
returns; the runner ends the run KILLED and names the signal in
``result.info["interrupted"]``. A second signal interrupts at once with
:class:`Interrupted`. By the shell's convention a process stopped by signal ``n`` exits
with status ``128 + n``: 130 for SIGINT, 143 for SIGTERM.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from moalign.solvers import RunContext

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def exit_status(signum: int) -> int:
    """The exit status of a process stopped by ``signum``: ``128 + signum``."""
    return 128 + int(signum)


class Interrupted(KeyboardInterrupt):
    """Stopped at once by a signal; a KeyboardInterrupt, so code that handles Ctrl-C
    handles it (the runner ends the run KILLED).

    Attributes:
        signum: the signal.
        checkpoint_dir: the run's checkpoint folder, once the runner knows it.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = int(signum)
        self.checkpoint_dir: Path | None = None


@dataclass
class StopRequest:
    """The signal that asked the run to stop, if any."""

    signum: int | None = None

    @property
    def name(self) -> str | None:
        return None if self.signum is None else signal.Signals(self.signum).name


@contextmanager
def graceful_stop(ctx: RunContext) -> Iterator[StopRequest]:
    """While inside, the first SIGINT/SIGTERM sets ``ctx.stop_requested`` (the solver
    finishes its step, checkpoints and returns); a second one, or one after another stop
    (a pruned trial), raises :class:`Interrupted`. Only in the main thread (elsewhere
    signals cannot be handled and nothing changes)."""
    stop = StopRequest()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        if stop.signum is not None or ctx.stop_requested:
            raise Interrupted(signum)
        stop.signum = signum
        ctx.stop_requested = True
        again = "Ctrl-C again" if signum == signal.SIGINT else f"a second {stop.name}"
        print(f"\nstopping ({stop.name}): finishing the current step and saving a "
              f"checkpoint ({again} to abort)", file=sys.stderr, flush=True)

    with _handlers(handler):
        yield stop


@contextmanager
def raise_on_signals() -> Iterator[None]:
    """While inside, SIGINT and SIGTERM raise :class:`Interrupted` (as Ctrl-C raises
    KeyboardInterrupt), so a command stopped by ``kill`` ends its run KILLED instead of
    leaving it RUNNING. Main thread only."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        raise Interrupted(signum)

    with _handlers(handler):
        yield


@contextmanager
def _handlers(handler: Any) -> Iterator[None]:
    """Install ``handler`` for the stop signals; restore the previous ones on exit."""
    previous = {s: signal.signal(s, handler) for s in STOP_SIGNALS}
    try:
        yield
    finally:
        for s, old in previous.items():
            signal.signal(s, old if old is not None else signal.SIG_DFL)


__all__ = ["Interrupted", "StopRequest", "exit_status", "graceful_stop", "raise_on_signals"]

"""Progress reporting primitives shared by the runner's display and long builders.

- :class:`Phase`: a long piece of work inside one step of a run (fitting a GP, a round's
  inner training loop), opened by a solver with ``ctx.phase(label, total)``
  (:meth:`moalign.solvers.context.RunContext.phase`) and advanced as it goes. It only
  counts; the runner's display (:mod:`moalign.recipes.progress`) reads it and renders it.
- :class:`Ticker`: "is a log line due?", for loops outside a run (the tiny-model builder).
- :func:`progress_mode` and :func:`progress_interval`: the two environment settings,
  ``MOALIGN_PROGRESS`` (``auto`` | ``bar`` | ``log`` | ``off``) and
  ``MOALIGN_PROGRESS_INTERVAL`` (seconds between log lines, default 10).
"""

from __future__ import annotations

import math
import os
import time

from moalign.core.config import ConfigError

DEFAULT_INTERVAL = 10.0
MODES = ("auto", "bar", "log", "off")


def progress_interval() -> float:
    """Seconds between two plain progress lines: ``$MOALIGN_PROGRESS_INTERVAL`` or 10.

    Raises:
        ConfigError: the variable is not a number >= 0.
    """
    raw = os.environ.get("MOALIGN_PROGRESS_INTERVAL", "").strip()
    if not raw:
        return DEFAULT_INTERVAL
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not math.isfinite(value) or value < 0:
        raise ConfigError(f"MOALIGN_PROGRESS_INTERVAL={raw!r}: expected seconds between "
                          f"progress lines, a number >= 0 (default {DEFAULT_INTERVAL:g})")
    return value


def progress_mode() -> str:
    """``$MOALIGN_PROGRESS``: ``auto`` (default: a bar on a terminal, else plain lines),
    ``bar``, ``log`` or ``off``.

    Raises:
        ConfigError: any other value.
    """
    raw = os.environ.get("MOALIGN_PROGRESS", "").strip().lower() or "auto"
    if raw not in MODES:
        raise ConfigError(f"MOALIGN_PROGRESS={raw!r}: expected one of {', '.join(MODES)}")
    return raw


def format_duration(seconds: float) -> str:
    """``42s``, ``2m05s``, ``1h03m``.

    Example:
        >>> format_duration(125.4), format_duration(3780)
        ('2m05s', '1h03m')
    """
    s = max(0, int(round(seconds)))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


class Phase:
    """A long piece of work inside one step: a label, an optional total and a count.

    Args:
        label: what is being done (``"fit GP"``, ``"round 3: train"``).
        total: how many units the work has (None: unknown; the display shows the time
            spent instead).

    Example:
        >>> p = Phase("train", total=4)
        >>> for _ in range(3):
        ...     p.advance()
        >>> p.describe(now=p.started)
        'train 3/4'
    """

    def __init__(self, label: str, total: int | None = None) -> None:
        self.label = label
        self.total = None if total is None else max(0, int(total))
        self.done = 0
        self.started = time.monotonic()

    def advance(self, n: int = 1) -> None:
        """``n`` more units done."""
        self.done += n

    def update(self, done: int) -> None:
        """``done`` units done so far."""
        self.done = int(done)

    def describe(self, now: float | None = None) -> str:
        """``label done/total`` (plus the time spent after a second, and an ETA once some
        units are done), or ``label`` and the time spent when the total is unknown."""
        spent = (time.monotonic() if now is None else now) - self.started
        if self.total is None:
            return self.label if spent < 1 else f"{self.label} ({format_duration(spent)})"
        text = f"{self.label} {min(self.done, self.total)}/{self.total}"
        if spent < 1:
            return text
        if 0 < self.done < self.total:
            left = spent * (self.total - self.done) / self.done
            return f"{text} ({format_duration(spent)}, ETA {format_duration(left)})"
        return f"{text} ({format_duration(spent)})"


def describe_phases(phases: list[Phase], now: float | None = None) -> str:
    """Nested phases as one line, outermost first: ``round 5 > train 450/1000 (3s)``."""
    return " > ".join(p.describe(now) for p in phases)


class Ticker:
    """True once every ``interval`` seconds (the first time one interval after creation).

    Args:
        interval: seconds between two due ticks (default :func:`progress_interval`).
    """

    def __init__(self, interval: float | None = None) -> None:
        self.interval = progress_interval() if interval is None else interval
        self._next = time.monotonic() + self.interval

    def due(self) -> bool:
        now = time.monotonic()
        if now < self._next:
            return False
        self._next = now + self.interval
        return True


__all__ = ["DEFAULT_INTERVAL", "Phase", "Ticker", "describe_phases", "format_duration",
           "progress_interval", "progress_mode"]

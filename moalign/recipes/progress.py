"""What a run prints while it runs: a progress bar on a terminal, plain lines elsewhere.

:class:`RunProgress` watches one :class:`~moalign.solvers.context.RunContext`. The runner
calls :meth:`RunProgress.update` after each recorded step (with the step's hypervolume);
the open phases of the current step (``ctx.phase(...)``, a GP fit, a round's training
loop) are read from the context when the display is drawn, so a solver never calls the
display and a phase costs it one integer increment per unit.

Where the output goes (stderr, so stdout keeps the run's summary):

- ``bar``: a rich bar (hypervolume, done/total, elapsed, ETA) and, while a phase is open,
  a second line naming it (``round 5: train 450/1000 (3s, ETA 4s)``);
- ``log``: one plain line every ``MOALIGN_PROGRESS_INTERVAL`` seconds (default 10), from a
  background thread, so a step that takes minutes still shows signs of life::

      progress: 120/600 evaluations (20%), step 12, elapsed 42s, ETA 2m48s,
      hypervolume 0.812 | round 5: train 450/1000 (3s, ETA 4s)

  (one line, wrapped here), and a last line when the solver returns if the run lasted
  longer than one interval.

``MOALIGN_PROGRESS`` picks the mode: ``auto`` (default; ``bar`` when stderr is a terminal,
else ``log``), ``bar``, ``log`` or ``off``; ``moalign run --no-progress`` is ``off``.

ETA: each budget that is set gives an estimate (evaluations and steps: the rate over the
last 20 recorded steps, less the time the current step has run; seconds: the time left)
and the smallest is shown; ``-`` until two steps are recorded.
"""

from __future__ import annotations

import math
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, TYPE_CHECKING, Any

from moalign.core.progress import (
    describe_phases,
    format_duration,
    progress_interval,
    progress_mode,
)

if TYPE_CHECKING:
    from moalign.solvers.context import Budget, RunContext

WINDOW = 20  # recorded steps the rate is measured over


class RunProgress:
    """Progress of one run (see the module docstring).

    Args:
        budget: the run's budget (what 100% means).
        enabled: False shows nothing (``--no-progress``, tuning trials, other ranks).
        mode: ``auto``, ``bar``, ``log`` or ``off`` (default: ``$MOALIGN_PROGRESS``).
        interval: seconds between log lines (default: ``$MOALIGN_PROGRESS_INTERVAL``).
        stream: where to write (default: ``sys.stderr`` when the run starts).
    """

    def __init__(self, budget: Budget, enabled: bool = True, *, mode: str | None = None,
                 interval: float | None = None, stream: IO[str] | None = None) -> None:
        self.budget = budget
        self.enabled = enabled
        self.mode = mode
        self.interval = interval
        self.stream = stream
        self.ctx: RunContext | None = None
        self.hv: float | None = None
        self._records: deque[tuple[float, int, int]] = deque(maxlen=WINDOW)
        self._t_start = time.monotonic()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._bar: Any = None

    # -- lifecycle ---------------------------------------------------------------------
    @contextmanager
    def watching(self, ctx: RunContext) -> Iterator[RunProgress]:
        """Show the progress of ``ctx`` while the block runs."""
        self.ctx = ctx
        mode = self._resolve_mode()
        if mode == "bar":
            self._start_bar()
        elif mode == "log":
            self._start_log()
        try:
            yield self
        finally:
            self._finish()

    def _resolve_mode(self) -> str:
        if not self.enabled:
            return "off"
        mode = self.mode or progress_mode()
        self.stream = self.stream or sys.stderr
        if mode == "auto":
            isatty = getattr(self.stream, "isatty", None)
            mode = "bar" if isatty is not None and isatty() else "log"
        if mode == "log" and self.interval is None:
            self.interval = progress_interval()
        return mode

    def _start_bar(self) -> None:
        from rich.console import Console

        # auto picks the bar only on a terminal; MOALIGN_PROGRESS=bar insists on it
        self._bar = _bar_class()(self, Console(file=self.stream, force_terminal=True))
        self._task = self._bar.add_task("HV -", total=self._total())
        self._bar.start()

    def _start_log(self) -> None:
        self._t_start = time.monotonic()
        self._thread = threading.Thread(target=self._log_loop, name="moalign-progress",
                                        daemon=True)
        self._thread.start()

    def _log_loop(self) -> None:
        assert self.interval is not None
        while not self._stop.wait(max(self.interval, 0.05)):
            self._print_line()

    def _finish(self) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self._thread = None
            lasted = time.monotonic() - self._t_start
            if self.interval is not None and lasted >= self.interval:
                self._print_line(prefix="progress (solver done)")
        if self._bar is not None:
            self._bar.stop()
            self._bar = None

    def _print_line(self, prefix: str = "progress") -> None:
        try:
            print(f"{prefix}: {self.status()}", file=self.stream, flush=True)
        except (OSError, ValueError):  # closed or broken stream: stay quiet, run on
            pass

    # -- updates -----------------------------------------------------------------------
    def update(self, ctx: RunContext, hv: float) -> None:
        """After each recorded step: its hypervolume and the budget used so far."""
        self.ctx = ctx
        self.hv = hv
        self._records.append((time.monotonic(), ctx.archive.n_evals, ctx.step))
        if self._bar is not None:
            self._bar.update(self._task, completed=self._done(),
                             description=f"HV {hv:.6g}")

    # -- text --------------------------------------------------------------------------
    def _total(self) -> float | None:
        b = self.budget
        return b.evaluations or b.steps or b.seconds

    def _done(self) -> float:
        ctx, b = self.ctx, self.budget
        if ctx is None:
            return 0
        if b.evaluations:
            return ctx.archive.n_evals
        if b.steps:
            return ctx.step
        return int(ctx.elapsed)

    def count_text(self) -> str:
        """``120/600 evaluations (20%)`` (or steps, or seconds)."""
        b = self.budget
        done, total = self._done(), self._total() or 0
        unit = "evaluations" if b.evaluations else "steps" if b.steps else "s"
        pct = f" ({100 * min(done / total, 1):.0f}%)" if total else ""
        if unit == "s":
            return f"{format_duration(done)}/{format_duration(total)}{pct}"
        return f"{int(done)}/{int(total)} {unit}{pct}"

    def eta(self, now: float | None = None) -> float | None:
        """Seconds left by the budget that runs out first (None: not known yet)."""
        ctx, b = self.ctx, self.budget
        now = time.monotonic() if now is None else now
        guesses: list[float] = []
        if ctx is not None and b.seconds is not None:
            guesses.append(max(0.0, b.seconds - ctx.elapsed))
        if len(self._records) >= 2:
            (t0, e0, s0), (t1, e1, s1) = self._records[0], self._records[-1]
            for total, first, last in ((b.evaluations, e0, e1), (b.steps, s0, s1)):
                if total is None or t1 <= t0 or last <= first:
                    continue
                left = (total - last) * (t1 - t0) / (last - first) - (now - t1)
                if left > 0 or last >= total:
                    guesses.append(max(0.0, left))
        return min(guesses) if guesses else None

    def status(self, now: float | None = None) -> str:
        """The log line's text (without the ``progress:`` prefix)."""
        ctx = self.ctx
        now = time.monotonic() if now is None else now
        parts = [self.count_text()]
        if ctx is not None and not self.budget.steps:
            parts.append(f"step {ctx.step}")
        if ctx is not None:
            parts.append(f"elapsed {format_duration(ctx.elapsed)}")
        eta = self.eta(now)
        parts.append(f"ETA {'-' if eta is None else format_duration(eta)}")
        hv = self.hv
        parts.append(f"hypervolume {'-' if hv is None or not math.isfinite(hv) else f'{hv:.6g}'}")
        text = ", ".join(parts)
        phases = self.phase_text(now)
        return f"{text} | {phases}" if phases else text

    def phase_text(self, now: float | None = None) -> str:
        """The open phases of the current step, outermost first ('' when none)."""
        if self.ctx is None:
            return ""
        return describe_phases(list(self.ctx.phases), now)


def _bar_class() -> Any:
    from rich.progress import BarColumn, Progress, ProgressColumn, TextColumn
    from rich.text import Text

    class Status(ProgressColumn):
        """done/total, elapsed and ETA, recomputed at each refresh."""

        def __init__(self, owner: RunProgress) -> None:
            super().__init__()
            self.owner = owner

        def render(self, task: Any) -> Text:
            o, ctx = self.owner, self.owner.ctx
            eta = o.eta()
            elapsed = format_duration(ctx.elapsed) if ctx is not None else "0s"
            return Text(f"{o.count_text()}  {elapsed}  ETA "
                        f"{'-' if eta is None else format_duration(eta)}")

    class Bar(Progress):
        """A rich progress bar with the open phases as a second line."""

        def __init__(self, owner: RunProgress, console: Any) -> None:
            self.owner = owner  # before rich's __init__, which may render already
            super().__init__(TextColumn("{task.description}"), BarColumn(), Status(owner),
                             console=console)

        def get_renderables(self) -> Iterator[Any]:
            yield from super().get_renderables()
            text = self.owner.phase_text()
            if text:
                yield Text(f"  {text}", style="dim")

    return Bar


__all__ = ["RunProgress"]

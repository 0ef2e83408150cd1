"""At which steps a run computes and logs its per-step tracking metrics.

The runner's per-step metrics (hypervolume, counts, per-objective best and mean, the
normalized hypervolume) cost a hypervolume computation and a few MLflow rows per logged
step, a millisecond or more on a front of thousands of points. A solver whose steps take
seconds (Bayesian optimization, LLM training) never notices; NSGA-II, whose steps take
milliseconds, would spend a sixth of its time on them. :class:`MetricSchedule` keeps
tracking near a fixed share of the run's time whatever the solver's speed:

- the first ``dense`` logged steps are every step (the start of a run, where curves move);
- the step where the budget runs out, and the run's last step, are always logged;
- otherwise a step is logged once the time since the last logged step is at least the
  cost of a logged step divided by ``share``: with ``share = 0.01``, a logged step that
  costs 3 ms waits for 300 ms of solving. The cost is measured on the recent logged steps
  (computing the metrics) plus :data:`ROW_SECONDS` per metric row (writing them later,
  in a batch).

Slow steps are therefore all logged, fast ones thinned; which steps are logged depends on
timing, the run's results do not. The solver's own metrics (``ctx.record(metrics=...)``)
are logged at every step regardless.
"""

from __future__ import annotations

import time
from collections.abc import Callable

DEFAULT_SHARE = 0.01
"""Target share of the run's time spent on per-step tracking."""
DEFAULT_DENSE = 20
"""Steps logged unconditionally at the start of a run (or of a resumed run)."""
ROW_SECONDS = 1e-4
"""What writing one metric row costs, about: MLflow's SQLite store takes 50-100 ms for a
``log_batch`` of 660 rows on a 2-core machine."""


class MetricSchedule:
    """Decides whether a step's tracking metrics are computed and logged.

    Args:
        share: target share of wall time spent on per-step tracking (0 < share <= 1).
        dense: log every step until this many have been logged.
        clock: monotonic seconds (tests pass a fake clock).

    Example:
        >>> now = [0.0]
        >>> s = MetricSchedule(share=0.1, dense=1, clock=lambda: now[0])
        >>> s.due(), s.mark(seconds=0.01)   # a logged step that took 10 ms ...
        (True, None)
        >>> now[0] = 0.05; s.due()       # ... wants 100 ms between logged steps
        False
        >>> now[0] = 0.1; s.due()
        True
    """

    def __init__(self, share: float = DEFAULT_SHARE, dense: int = DEFAULT_DENSE,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if not 0 < share <= 1:
            raise ValueError(f"share must be in (0, 1], got {share}")
        self.share = share
        self.dense = max(0, int(dense))
        self.clock = clock
        self.n_logged = 0
        self.cost = 0.0  # seconds a logged step takes: a moving average of recent ones
        self._last = clock()

    def due(self, final: bool = False) -> bool:
        """Whether to log this step; ``final``: the budget ran out at this step (always
        logged)."""
        if final or self.n_logged < self.dense:
            return True
        return self.clock() - self._last >= self.cost / self.share

    def mark(self, seconds: float, rows: int = 0) -> None:
        """A step was logged: computing it took ``seconds``, and it wrote ``rows`` metric
        rows (call after logging it)."""
        cost = seconds + rows * ROW_SECONDS
        self.cost = cost if self.n_logged == 0 else 0.5 * (self.cost + cost)
        self.n_logged += 1
        self._last = self.clock()

"""The set of plots a run logs under ``plots/`` (and ``moalign report`` redraws)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from moalign.tracking.plots._curves import MetricHistory, plot_hypervolume, plot_metrics
from moalign.tracking.plots._front import plot_front, plot_pairs, plot_parallel
from moalign.tracking.plots._labels import RunLabel
from moalign.tracking.plots._rounds import plot_rounds
from moalign.tracking.plots._views import solver_plots

if TYPE_CHECKING:
    import numpy as np
    from matplotlib.figure import Figure

    from moalign.core.archive import Archive

MetricSource = Callable[[Sequence[str]], MetricHistory]
"""``names -> history`` of those logged metrics (``Tracker.metric_history``)."""

MAX_PAIRS = 6
"""The pairwise grid is drawn for 4 to this many objectives."""


def save_run_plots(archive: Archive, folder: Path, label: RunLabel | str,
                   true_front: np.ndarray | None = None, *,
                   history: MetricSource | None = None) -> list[Path]:
    """Write a run's plots into ``folder`` and return their paths.

    Always ``front.png`` (2-D or 3-D scatter, parallel coordinates for 4+ objectives) and
    ``hypervolume.png`` (against evaluations, reference point in the caption); for 3
    objectives ``front_parallel.png``, for 4 to :data:`MAX_PAIRS` ``front_pairs.png``; and
    what :func:`solver_plots` names for ``label.solver``: ``metrics.png`` (its logged
    metrics, read through ``history``, when any was logged) and ``rounds.png``.

    Args:
        archive: the run's archive.
        folder: where the PNG files go (created).
        label: names the run in titles (a string: the problem's name).
        true_front: `k x m` points of the problem's true front, or None.
        history: reads logged metrics, for ``metrics.png``; None draws no metrics.
    """
    if isinstance(label, str):
        label = RunLabel(problem=label)
    folder.mkdir(parents=True, exist_ok=True)
    title = label.title(archive.names)
    views = solver_plots(label.solver)
    m = len(archive.names)
    written = [_write(plot_front(archive, true_front, title=title), folder / "front.png")]
    if m == 3:
        fig = plot_parallel(archive, true_front, title=title)
        written.append(_write(fig, folder / "front_parallel.png"))
    if 4 <= m <= MAX_PAIRS:
        fig = plot_pairs(archive, true_front, title=title)
        written.append(_write(fig, folder / "front_pairs.png"))
    written.append(_write(plot_hypervolume(archive, title=title), folder / "hypervolume.png"))
    if views.rounds:
        written.append(_write(plot_rounds(archive, title=title), folder / "rounds.png"))
    if views.metrics and history is not None:
        metrics_fig = plot_metrics(history(views.metrics), views.metrics, title=title)
        if metrics_fig is not None:
            written.append(_write(metrics_fig, folder / "metrics.png"))
    return written


def _write(fig: Figure, path: Path) -> Path:
    fig.savefig(path, dpi=110)
    return path

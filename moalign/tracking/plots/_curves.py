"""Curves of a run: hypervolume against evaluations, the solver's own metrics over steps."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.figure import Figure

from moalign.core.archive import Archive
from moalign.tracking.plots._labels import reference_text, set_title

if TYPE_CHECKING:
    from matplotlib.axes import Axes

LINESTYLES = ("-", "--", ":", "-.")
"""Line styles of the curves sharing a panel, in turn."""

MetricHistory = Mapping[str, Sequence[tuple[int, float]]]
"""Logged metrics: name -> ``(step, value)`` pairs in step order."""


def hypervolume_by_evaluations(archive: Archive) -> tuple[np.ndarray, np.ndarray]:
    """(evaluations after each step, hypervolume then), by replaying the archive's batches
    with the archive's reference point."""
    replay = Archive(archive.names, archive.maximize, archive.ref_point)
    evals, hvs = [], []
    for X, F, feas, fail, step in archive.batches():
        replay.append(X, F, step=step, feasible=feas, failed=fail)
        evals.append(replay.n_evals)
        hvs.append(replay.hypervolume())
    return np.array(evals, dtype=np.int64), np.array(hvs, dtype=np.float64)


def plot_hypervolume(archive: Archive, *, title: str = "") -> Figure:
    """Hypervolume of the front so far against the number of evaluations; the caption
    gives the reference point's values."""
    evals, hvs = hypervolume_by_evaluations(archive)
    fig = Figure(figsize=(6.4, 4.6))
    ax = fig.add_subplot()
    ax.plot(evals, hvs, marker="." if len(evals) < 60 else None, color="tab:blue")
    ax.set_xlabel("evaluations")
    ax.set_ylabel("hypervolume")
    ax.grid(alpha=0.3)
    set_title(fig, title, "hypervolume of the front found")
    fig.text(0.5, 0.015, reference_text(archive), ha="center", va="bottom", fontsize=7.5,
             wrap=True, gid="reference_point")
    fig.tight_layout(rect=(0.0, 0.06, 1.0, 1.0))
    return fig


def panel_series(history: MetricHistory, panel: str) -> dict[str, Sequence[tuple[int, float]]]:
    """The logged metrics a panel draws: ``panel`` itself, or every metric under it when
    it ends with ``/`` (e.g. ``weights/`` -> ``weights/helpfulness``, ...)."""
    if panel.endswith("/"):
        return {k: v for k, v in sorted(history.items()) if k.startswith(panel) and v}
    points = history.get(panel)
    return {panel: points} if points else {}


def plot_metrics(history: MetricHistory, panels: Sequence[str], *, title: str = "",
                 ncols: int = 3) -> Figure | None:
    """One panel per entry of ``panels`` (a metric name, or a prefix ending in ``/`` whose
    metrics share the panel), each over the run's steps; None when none was logged."""
    drawn = [(p, s) for p in panels if (s := panel_series(history, p))]
    if not drawn:
        return None
    ncols = min(ncols, len(drawn))
    nrows = math.ceil(len(drawn) / ncols)
    fig = Figure(figsize=(4.2 * ncols, 3.2 * nrows + 0.7))
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for ax, (panel, series) in zip(axes.flat, drawn, strict=False):
        _draw_panel(ax, panel, series)
    for ax in axes.flat[len(drawn):]:
        ax.axis("off")
    set_title(fig, title, "solver metrics over steps")
    fig.tight_layout()
    return fig


def _draw_panel(ax: Axes, panel: str, series: Mapping[str, Sequence[tuple[int, float]]]
                ) -> None:
    for i, (key, points) in enumerate(series.items()):
        steps, values = zip(*points, strict=True)
        ax.plot(steps, values, marker="." if len(steps) < 60 else None,
                linestyle=LINESTYLES[i % len(LINESTYLES)],  # equal curves stay visible
                label=key[len(panel):] if panel.endswith("/") else key)
    ax.set_title(panel.rstrip("/"), fontsize=9)
    ax.set_xlabel("step")
    ax.grid(alpha=0.3)
    if panel.endswith("/"):
        ax.legend(fontsize=7)

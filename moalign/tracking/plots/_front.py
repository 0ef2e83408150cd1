"""Views of a run's front: 2-D and 3-D scatter, parallel coordinates, pairwise grid.

Every view draws three layers, each with a legend entry: the feasible evaluated points
(grey, bottom), the true front where known (green, middle) and the front found (red, on
top). A true front of at most :data:`SPARSE_TRUE_FRONT` points (an exact discrete front,
e.g. HyperGrid's) is drawn as large rings, a denser one (a sampled curve) as small dots.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from moalign.tracking.plots._labels import axis_label, set_title

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from mpl_toolkits.mplot3d import Axes3D

    from moalign.core.archive import Archive

SPARSE_TRUE_FRONT = 200
"""A true front of at most this many points is drawn as rings, a denser one as dots."""
MAX_LINES = 2000
"""Parallel coordinates and the pairwise grid draw at most this many evaluated points."""



@dataclass(frozen=True)
class Layer:
    """How one layer of a front view is drawn: its color and its z-order."""

    color: str
    zorder: float


EVALUATED = Layer("0.7", 1.0)
TRUE_FRONT = Layer("tab:green", 2.0)
FRONT = Layer("tab:red", 3.0)


@dataclass(frozen=True)
class FrontLayers:
    """The points a front view draws (`k x m` arrays, user orientation).

    Attributes:
        evaluated: every feasible evaluated point.
        front: the non-dominated feasible points found.
        true_front: the problem's true front, or None when unknown.
    """

    evaluated: np.ndarray
    front: np.ndarray
    true_front: np.ndarray | None

    @classmethod
    def of(cls, archive: Archive, true_front: np.ndarray | None = None) -> FrontLayers:
        m = len(archive.names)
        evaluated = (archive.F[archive.feasible.astype(bool)] if archive.n_evals
                     else np.empty((0, m)))
        tf = None if true_front is None else np.asarray(true_front, dtype=np.float64)
        if tf is not None and (tf.ndim != 2 or tf.shape[1] != m or len(tf) == 0):
            tf = None
        return cls(evaluated, archive.pareto().F, tf)

    def kind(self) -> str:
        """What the figure shows, with counts (the second line of its title)."""
        return (f"Pareto front: {len(self.front)} non-dominated of {len(self.evaluated)} "
                "feasible evaluations")


def plot_front(archive: Archive, true_front: np.ndarray | None = None, *, title: str = ""
               ) -> Figure:
    """The run's front: a scatter for 2 and 3 objectives, parallel coordinates beyond.

    Args:
        archive: the run's archive.
        true_front: `k x m` points of the true front, or None.
        title: the run's title (:meth:`RunLabel.title`).
    """
    m = len(archive.names)
    if m >= 4:
        return plot_parallel(archive, true_front, title=title)
    layers = FrontLayers.of(archive, true_front)
    fig = Figure(figsize=(6.4, 5.4))
    if m == 3:
        ax3 = cast("Axes3D", fig.add_subplot(projection="3d", computed_zorder=False))
        _scatter(ax3, archive, layers, dims=(0, 1, 2))
        ax3.set_zlabel(axis_label(archive, 2))
        _legend(ax3, loc="upper left")
    else:
        ax = fig.add_subplot()
        dims = (0, 1) if m == 2 else (0, 0)
        _scatter(ax, archive, layers, dims=dims)
        ax.grid(alpha=0.3)
        _legend(ax, loc="best")
    set_title(fig, title, layers.kind())
    fig.tight_layout()
    return fig


def _scatter(ax: Any, archive: Archive, layers: FrontLayers, dims: tuple[int, ...]) -> None:
    """The three layers as a scatter over the objectives ``dims`` (2 or 3 of them)."""
    def cols(F: np.ndarray) -> list[np.ndarray]:
        return [F[:, d] for d in dims]

    n = len(layers.evaluated)
    ax.scatter(*cols(layers.evaluated), s=8, linewidths=0, label=f"evaluated ({n})",
               **_style(EVALUATED))
    if layers.true_front is not None:
        tf = layers.true_front
        if len(tf) <= SPARSE_TRUE_FRONT:
            ax.scatter(*cols(tf), s=80, facecolors="none", edgecolors=TRUE_FRONT.color,
                       linewidths=1.6, zorder=TRUE_FRONT.zorder, label="true front")
        else:
            ax.scatter(*cols(tf), s=5, linewidths=0, alpha=0.7, label="true front",
                       **_style(TRUE_FRONT))
    ax.scatter(*cols(layers.front), s=24, edgecolors="black", linewidths=0.4,
               label=f"front ({len(layers.front)})", **_style(FRONT))
    ax.set_xlabel(axis_label(archive, dims[0]))
    ax.set_ylabel(axis_label(archive, dims[1]))


def _legend(ax: Any, **kwargs: Any) -> None:
    """A legend whose point markers all have one readable size."""
    legend = ax.legend(fontsize=8, **kwargs)
    for handle in legend.legend_handles:
        if hasattr(handle, "set_sizes"):
            handle.set_sizes([30.0])


def _style(layer: Layer) -> dict[str, Any]:
    return {"c": layer.color, "zorder": layer.zorder}


def plot_parallel(archive: Archive, true_front: np.ndarray | None = None, *,
                  title: str = "") -> Figure:
    """Parallel coordinates: one line per point across the objectives' axes.

    Each axis is scaled to the range of the points drawn, oriented so that 0 is the best
    value and 1 the worst (its values are written at both ends); at most
    :data:`MAX_LINES` evaluated points are drawn (evenly spaced in evaluation order).
    """
    layers = FrontLayers.of(archive, true_front)
    m = len(archive.names)
    fig = Figure(figsize=(max(6.4, 1.4 * m + 2), 5.0))
    ax = fig.add_subplot()
    scale = AxisScale.of(archive, layers)
    shown = thin(layers.evaluated)
    label = f"evaluated ({len(layers.evaluated)}"
    label += f", {len(shown)} drawn)" if len(shown) < len(layers.evaluated) else ")"
    handles = [_lines(ax, scale(shown), label, EVALUATED, alpha=0.25, lw=0.6)]
    if layers.true_front is not None:
        handles.append(_lines(ax, scale(thin(layers.true_front)), "true front", TRUE_FRONT,
                              alpha=0.35, lw=0.9))
    handles.append(_lines(ax, scale(layers.front), f"front ({len(layers.front)})", FRONT,
                          alpha=0.7, lw=1.1))
    scale.draw_axes(ax)
    ax.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 1.0),
              ncols=len(handles), fontsize=8, frameon=False)
    set_title(fig, title, layers.kind() + " (parallel coordinates)")
    fig.tight_layout()
    return fig


class AxisScale:
    """Per-objective scaling to [0, 1] with 0 the best end of the drawn range."""

    def __init__(self, archive: Archive, lo: np.ndarray, hi: np.ndarray) -> None:
        self.archive, self.lo, self.hi = archive, lo, hi
        self.span = np.where(hi > lo, hi - lo, 1.0)

    @classmethod
    def of(cls, archive: Archive, layers: FrontLayers) -> AxisScale:
        parts = [layers.evaluated, layers.front]
        if layers.true_front is not None:
            parts.append(layers.true_front)
        F = np.vstack(parts)
        F = F[np.all(np.isfinite(F), axis=1)]
        if len(F) == 0:
            F = np.zeros((1, len(archive.names)))
        return cls(archive, F.min(axis=0), F.max(axis=0))

    def __call__(self, F: np.ndarray) -> np.ndarray:
        u = (F - self.lo) / self.span
        return np.where(self.archive.maximize, 1.0 - u, u)

    def draw_axes(self, ax: Axes) -> None:
        m = len(self.lo)
        ax.vlines(range(m), 0, 1, color="0.25", lw=0.8, zorder=0)
        for j in range(m):
            best, worst = ((self.hi[j], self.lo[j]) if self.archive.maximize[j]
                           else (self.lo[j], self.hi[j]))
            ax.text(j, -0.03, f"{best:.4g}", ha="center", va="top", fontsize=7)
            ax.text(j, 1.03, f"{worst:.4g}", ha="center", va="bottom", fontsize=7)
        ax.set_xticks(range(m), [axis_label(self.archive, j) for j in range(m)],
                      rotation=20, ha="right")
        ax.set_xlim(-0.3, m - 0.7)
        ax.set_ylim(-0.12, 1.12)
        ax.set_ylabel("scaled value: 0 = best, 1 = worst drawn")


def _lines(ax: Axes, U: np.ndarray, label: str, layer: Layer, *, alpha: float,
           lw: float) -> Line2D:
    """One polyline per row of `U`; returns the legend handle."""
    from matplotlib.collections import LineCollection

    xs = np.arange(U.shape[1], dtype=np.float64)
    segments = [np.column_stack([xs, row]) for row in U]
    ax.add_collection(LineCollection(segments, colors=layer.color, alpha=alpha,
                                     linewidths=lw, zorder=layer.zorder, label=label))
    return Line2D([], [], color=layer.color, lw=max(lw, 1.2), label=label)


def thin(F: np.ndarray, limit: int = MAX_LINES) -> np.ndarray:
    """At most ``limit`` rows of `F`, evenly spaced."""
    if len(F) <= limit:
        return F
    return F[np.linspace(0, len(F) - 1, limit).astype(int)]


def plot_pairs(archive: Archive, true_front: np.ndarray | None = None, *, title: str = ""
               ) -> Figure:
    """Pairwise grid: every pair of objectives as a 2-D scatter (lower triangle), the
    objectives' names on the diagonal. At most :data:`MAX_LINES` evaluated points."""
    full = FrontLayers.of(archive, true_front)
    layers = FrontLayers(thin(full.evaluated), full.front,
                         None if full.true_front is None else thin(full.true_front))
    m = len(archive.names)
    fig = Figure(figsize=(2.3 * m, 2.3 * m))
    axes = fig.subplots(m, m, squeeze=False)
    for i in range(m):
        for j in range(m):
            ax = axes[i][j]
            if i > j:
                _scatter(ax, archive, layers, dims=(j, i))
                ax.tick_params(labelsize=6)
                ax.set_xlabel(axis_label(archive, j) if i == m - 1 else "", fontsize=7)
                ax.set_ylabel(axis_label(archive, i) if j == 0 else "", fontsize=7)
            else:
                ax.axis("off")
                if i == j:
                    ax.text(0.5, 0.5, axis_label(archive, i), ha="center", va="center",
                            fontsize=9, transform=ax.transAxes)
    handles, labels = axes[1][0].get_legend_handles_labels()
    labels[0] = f"evaluated ({len(full.evaluated)})"
    _legend(axes[0][m - 1], handles=handles, labels=labels, loc="center")
    set_title(fig, title, full.kind() + " (pairs)")
    fig.tight_layout()
    return fig

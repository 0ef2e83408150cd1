"""Several runs' fronts in one figure (``moalign compare``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from moalign.tracking.plots._front import AxisScale, thin
from moalign.tracking.plots._labels import set_title

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from moalign.core.archive import Archive

COLORS = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown",
          "tab:pink", "tab:olive", "tab:cyan", "tab:gray")
"""One color per run, in turn."""
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
"""One marker per run, in turn (with the colors, 80 runs are told apart)."""


def plot_fronts(fronts: Mapping[str, np.ndarray], like: Archive, *,
                ref: Sequence[float] | np.ndarray | None = None, title: str = "",
                caption: str = "") -> Figure:
    """The fronts of several runs on the same objectives, one color per run.

    Two objectives: a scatter, each front's points joined in the order of the first
    objective, the reference point marked. Three or more: parallel coordinates on one
    scale for all runs (0 = best, 1 = worst value drawn, the reference included).

    Args:
        fronts: run label -> `k x m` front (user orientation).
        like: an archive with the objectives' names and directions (axis labels).
        ref: the common reference point, or None.
        title: the figure's first title line.
        caption: a line under the axes (the reference point and where it comes from).
    """
    m = len(like.names)
    if m >= 3:
        fig = _parallel(fronts, like, ref)
        kind = f"Pareto fronts of {len(fronts)} runs (parallel coordinates)"
    else:
        fig = Figure(figsize=(6.8, 5.4))
        ax = fig.add_subplot()
        _scatter(ax, fronts, like, ref)
        kind = f"Pareto fronts of {len(fronts)} runs"
    set_title(fig, title, kind)
    if caption:
        fig.text(0.5, 0.015, caption, ha="center", va="bottom", fontsize=7.5, wrap=True,
                 gid="reference_point")
    fig.tight_layout(rect=(0.0, 0.06 if caption else 0.0, 1.0, 1.0))
    return fig


def _label(like: Archive, j: int) -> str:
    return f"{like.names[j]} ({'max' if like.maximize[j] else 'min'})"


def _scatter(ax: Axes, fronts: Mapping[str, np.ndarray], like: Archive,
             ref: Sequence[float] | np.ndarray | None) -> None:
    y = 1 if len(like.names) > 1 else 0
    for i, (label, F) in enumerate(fronts.items()):
        F = F[np.argsort(F[:, 0], kind="stable")] if len(F) else F
        ax.plot(F[:, 0], F[:, y], color=COLORS[i % len(COLORS)], lw=0.9, alpha=0.7,
                marker=MARKERS[i // len(COLORS) % len(MARKERS)], markersize=4.5,
                label=f"{label}, {len(F)} points", zorder=3)
    if ref is not None:
        r = np.asarray(ref, dtype=np.float64)
        ax.scatter([r[0]], [r[y]], marker="x", s=60, c="black", zorder=4,
                   label="reference point")
    ax.set_xlabel(_label(like, 0))
    ax.set_ylabel(_label(like, y))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best")


def _parallel(fronts: Mapping[str, np.ndarray], like: Archive,
              ref: Sequence[float] | np.ndarray | None) -> Figure:
    from matplotlib.collections import LineCollection

    m = len(like.names)
    parts = [F for F in fronts.values() if len(F)]
    if ref is not None:
        parts.append(np.asarray(ref, dtype=np.float64)[None, :])
    F_all = np.vstack(parts) if parts else np.zeros((1, m))
    scale = AxisScale(like, F_all.min(axis=0), F_all.max(axis=0))
    fig = Figure(figsize=(max(6.8, 1.4 * m + 2), 5.2))
    ax = fig.add_subplot()
    xs = np.arange(m, dtype=np.float64)
    handles = []
    for i, (label, F) in enumerate(fronts.items()):
        color = COLORS[i % len(COLORS)]
        U = scale(thin(F))
        style = ("-", "--", ":", "-.")[i // len(COLORS) % 4]
        ax.add_collection(LineCollection([np.column_stack([xs, row]) for row in U],
                                         colors=color, alpha=0.6, linewidths=1.0,
                                         linestyles=style, zorder=2))
        handles.append(Line2D([], [], color=color, ls=style, lw=1.4,
                              label=f"{label}, {len(F)} points"))
    if ref is not None:
        u = scale(np.asarray(ref, dtype=np.float64)[None, :])[0]
        ax.plot(xs, u, color="black", ls=":", lw=1.4, marker="x", zorder=3)
        handles.append(Line2D([], [], color="black", ls=":", marker="x",
                              label="reference point"))
    scale.draw_axes(ax)
    ax.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 1.0),
              ncols=min(len(handles), 3), fontsize=8, frameon=False)
    return fig

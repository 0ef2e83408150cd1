"""The points of each step (a solver's round) coloured by step, the front on top."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import numpy as np
from matplotlib.figure import Figure

from moalign.tracking.plots._front import FRONT, AxisScale, FrontLayers, thin
from moalign.tracking.plots._labels import axis_label, set_title

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from mpl_toolkits.mplot3d import Axes3D

    from moalign.core.archive import Archive


def plot_rounds(archive: Archive, *, title: str = "") -> Figure:
    """Each step's feasible points coloured by their step, the final front ringed in red.

    For solvers whose steps are rounds (PSL proposes one batch per round; ``psl-grad``
    records its learned set once per round) this shows the sets moving toward the front.
    A scatter for 2 and 3 objectives, parallel coordinates beyond.
    """
    ok = archive.feasible.astype(bool) if archive.n_evals else np.zeros(0, dtype=bool)
    F = archive.F[ok] if archive.n_evals else np.empty((0, len(archive.names)))
    steps = archive.step[ok].astype(np.float64) if archive.n_evals else np.empty(0)
    front = archive.pareto().F
    m = len(archive.names)
    fig = Figure(figsize=(6.8, 5.4))
    if m >= 4:
        mappable = _parallel_rounds(fig, archive, F, steps, front)
    else:
        dims = tuple(range(m)) if m > 1 else (0, 0)
        ax: Any = (cast("Axes3D", fig.add_subplot(projection="3d", computed_zorder=False))
                   if m == 3 else fig.add_subplot())
        cols = [F[:, d] for d in dims]
        mappable = ax.scatter(*cols, c=steps, cmap="viridis", s=12, linewidths=0, zorder=1,
                              label=f"evaluated ({len(F)}), coloured by step")
        ax.scatter(*[front[:, d] for d in dims], s=60, facecolors="none",
                   edgecolors=FRONT.color, linewidths=1.4, zorder=FRONT.zorder,
                   label=f"front ({len(front)})")
        for d, setter in zip(dims, ("set_xlabel", "set_ylabel", "set_zlabel"), strict=False):
            getattr(ax, setter)(axis_label(archive, d))
        ax.legend(loc="best", fontsize=8)
    fig.colorbar(mappable, ax=fig.axes[0], label="step (round)", shrink=0.8)
    n_steps = len(np.unique(steps))
    set_title(fig, title, f"points of each step ({n_steps} steps), final front ringed")
    fig.tight_layout()
    return fig


def _parallel_rounds(fig: Figure, archive: Archive, F: np.ndarray, steps: np.ndarray,
                     front: np.ndarray) -> Any:
    """Parallel coordinates coloured by step; returns the coloured collection."""
    from matplotlib.collections import LineCollection
    from matplotlib.lines import Line2D

    ax: Axes = fig.add_subplot()
    scale = AxisScale.of(archive, FrontLayers(F, front, None))
    idx = thin(np.arange(len(F))[:, None])[:, 0]
    xs = np.arange(len(archive.names), dtype=np.float64)
    lines = LineCollection([np.column_stack([xs, row]) for row in scale(F[idx])],
                           cmap="viridis", alpha=0.5, linewidths=0.7, zorder=1)
    lines.set_array(steps[idx])
    ax.add_collection(lines)
    ax.add_collection(LineCollection([np.column_stack([xs, row]) for row in scale(front)],
                                     colors=FRONT.color, linewidths=1.3,
                                     zorder=FRONT.zorder))
    scale.draw_axes(ax)
    ax.legend(handles=[Line2D([], [], color="tab:olive", label=f"evaluated ({len(F)})"),
                       Line2D([], [], color=FRONT.color, label=f"front ({len(front)})")],
              loc="upper right", fontsize=8)
    return lines

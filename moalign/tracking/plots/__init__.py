"""Plots of a run, logged under ``plots/``: the front (2-D or 3-D scatter, parallel
coordinates, pairwise grid), the hypervolume against evaluations, and the solver's own
metrics and rounds where :data:`SOLVER_PLOTS` names them; :func:`plot_fronts` overlays
several runs' fronts (``moalign compare``).

Every ``plot_*`` function returns a matplotlib ``Figure`` built without pyplot (no global
state, no backend switch); :func:`save_run_plots` writes the set a run logs.
"""

from moalign.tracking.plots._curves import (
    MetricHistory,
    hypervolume_by_evaluations,
    plot_hypervolume,
    plot_metrics,
)
from moalign.tracking.plots._front import FrontLayers, plot_front, plot_pairs, plot_parallel
from moalign.tracking.plots._labels import RunLabel, reference_text
from moalign.tracking.plots._overlay import plot_fronts
from moalign.tracking.plots._rounds import plot_rounds
from moalign.tracking.plots._save import MetricSource, save_run_plots
from moalign.tracking.plots._views import SOLVER_PLOTS, SolverPlots, solver_plots

__all__ = [
    "SOLVER_PLOTS",
    "FrontLayers",
    "MetricHistory",
    "MetricSource",
    "RunLabel",
    "SolverPlots",
    "hypervolume_by_evaluations",
    "plot_front",
    "plot_fronts",
    "plot_hypervolume",
    "plot_metrics",
    "plot_pairs",
    "plot_parallel",
    "plot_rounds",
    "reference_text",
    "save_run_plots",
    "solver_plots",
]

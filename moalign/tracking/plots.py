"""Plots of a run: the Pareto front (2-D, 3-D, parallel coordinates) and the HV curve."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from moalign.core.archive import Archive


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def hypervolume_curve(archive: Archive) -> tuple[np.ndarray, np.ndarray]:
    """(steps, hypervolume after each step), by replaying the archive's batches."""
    replay = Archive(archive.names, archive.maximize, archive.ref_point)
    steps, hvs = [], []
    for X, F, feas, fail, step in archive.batches():
        replay.append(X, F, step=step, feasible=feas, failed=fail)
        steps.append(step)
        hvs.append(replay.hypervolume())
    return np.array(steps), np.array(hvs)


def plot_front(
    archive: Archive, path: str | Path, true_front: np.ndarray | None = None, title: str = ""
) -> Path:
    """Pareto front plot: scatter for 2 and 3 objectives, parallel coordinates beyond.

    All feasible evaluations are drawn in grey, the front in color, the true front (if
    known) as a line or faint points.
    """
    plt = _pyplot()
    path = Path(path)
    front = archive.pareto()
    ok = archive.feasible
    F_all = archive.F[ok] if archive.n_evals else np.empty((0, len(archive.names)))
    m = len(archive.names)
    fig = plt.figure(figsize=(6, 5))
    if m == 2:
        ax = fig.add_subplot(111)
        if true_front is not None:
            tf = true_front[np.argsort(true_front[:, 0])]
            ax.plot(tf[:, 0], tf[:, 1], ".", ms=1.5, color="tab:green", label="true front")
        ax.scatter(F_all[:, 0], F_all[:, 1], s=6, color="0.75", label="evaluated")
        ax.scatter(front.F[:, 0], front.F[:, 1], s=14, color="tab:red", label="found front")
        ax.set_xlabel(_label(archive, 0))
        ax.set_ylabel(_label(archive, 1))
        ax.legend(loc="best", fontsize=8)
    elif m == 3:
        ax = fig.add_subplot(111, projection="3d")
        if true_front is not None:
            ax.scatter(*true_front.T, s=1, color="tab:green", alpha=0.3)
        ax.scatter(*F_all.T, s=4, color="0.75")
        ax.scatter(*front.F.T, s=12, color="tab:red")
        for i, setter in enumerate((ax.set_xlabel, ax.set_ylabel, ax.set_zlabel)):
            setter(_label(archive, i))
    else:
        ax = fig.add_subplot(111)
        lo, hi = front.F.min(axis=0), front.F.max(axis=0)
        scaled = (front.F - lo) / np.where(hi > lo, hi - lo, 1.0)
        for row in scaled:
            ax.plot(range(m), row, color="tab:red", alpha=0.4, lw=0.8)
        ax.set_xticks(range(m), [_label(archive, i) for i in range(m)], rotation=30)
        ax.set_ylabel("scaled value (front min..max)")
    ax.set_title(title or f"Pareto front ({len(front)} points)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_hypervolume(steps: np.ndarray, hvs: np.ndarray, path: str | Path, title: str = ""
                     ) -> Path:
    """Hypervolume after each step."""
    plt = _pyplot()
    path = Path(path)
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(steps, hvs, marker="." if len(steps) < 60 else None)
    ax.set_xlabel("step")
    ax.set_ylabel("hypervolume")
    ax.set_title(title or "Hypervolume")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _label(archive: Archive, i: int) -> str:
    arrow = "max" if archive.maximize[i] else "min"
    return f"{archive.names[i]} ({arrow})"


def save_run_plots(archive: Archive, folder: Path, name: str,
                   true_front: np.ndarray | None = None) -> None:
    """Write a run's ``front.png`` and ``hypervolume.png`` into ``folder`` (the two plots
    the runner logs under ``plots/`` and ``moalign report`` redraws)."""
    folder.mkdir(parents=True, exist_ok=True)
    plot_front(archive, folder / "front.png", true_front, title=f"{name}: Pareto front")
    steps, hvs = hypervolume_curve(archive)
    plot_hypervolume(steps, hvs, folder / "hypervolume.png", title=f"{name}: hypervolume")

"""Words on a run's plots: titles that name the run, axis labels, the reference point."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from moalign.core.archive import Archive

GENERIC_PROBLEM_NAMES = frozenset({"", "Problem", "AdaptedProblem", "TextProblem", "text"})
"""Default problem names that say nothing about the problem; titles leave them out."""


@dataclass(frozen=True)
class RunLabel:
    """What a run's plot titles name.

    Attributes:
        problem: the problem's name (``Problem.name``).
        solver: the solver's registered name.
        run: the run's name (a recipe's ``name``), or None.
    """

    problem: str = ""
    solver: str = ""
    run: str | None = None

    def title(self, objectives: Sequence[str] = ()) -> str:
        """``"<run>: <problem> (<solver>)"``, leaving out what is unknown or a generic
        problem name; with neither a problem nor a run name, the objectives name it.

        Example:
            >>> RunLabel("zdt1", "nsga2", "quickstart").title()
            'quickstart: zdt1 (nsga2)'
            >>> RunLabel("Problem", "random").title(["cost", "quality"])
            'cost vs quality (random)'
        """
        problem = "" if self.problem in GENERIC_PROBLEM_NAMES else self.problem
        run = self.run or ""
        if problem and run and problem != run:
            what = f"{run}: {problem}"
        else:
            what = problem or run or " vs ".join(objectives) or "run"
        return f"{what} ({self.solver})" if self.solver else what


def axis_label(archive: Archive, i: int) -> str:
    """``"<objective> (min)"`` or ``"<objective> (max)"``."""
    return f"{archive.names[i]} ({'max' if archive.maximize[i] else 'min'})"


def reference_text(archive: Archive) -> str:
    """The hypervolume reference point the run used, with its values."""
    ref = archive.ref_point
    if ref is None:
        return "HV reference point: not set (no feasible evaluation)"
    values = ", ".join(f"{axis_label(archive, j)} = {v:.6g}" for j, v in enumerate(ref))
    return f"HV reference point: {values}"


def set_title(fig: Figure, title: str, kind: str) -> None:
    """The figure's title: the run on the first line, what the figure shows on the second."""
    fig.suptitle(f"{title}\n{kind}" if title else kind, fontsize=10)

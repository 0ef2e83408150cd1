"""The hypervolume reference point of a run, shared by the runs of one MLflow experiment.

Hypervolumes are comparable only at one reference point. At the start of a run (before
its first evaluation) :func:`prepare_run_reference` decides which one the run uses:

1. A problem that knows its reference uses it (:meth:`Problem.reference_source`:
   ``explicit`` -- a point given as ``ref_point``, in the problem or the recipe's
   ``problem.ref_point``; ``objectives`` -- every objective's own ``ref``; ``nadir`` --
   nadir + 10% of the ideal-nadir range, ``[1.1, 1.1]`` for ZDT1).
2. A problem whose reference would come from its first recorded batch (``initial``)
   reuses the reference stored on the run's experiment (tag :data:`EXPERIMENT_TAG`) when
   the objectives' names and directions and the problem's name match (source
   ``experiment``); otherwise it takes the first batch's worst value of each objective,
   with a warning that says why the stored one was not reused.

The first run of an experiment stores its reference on the experiment (at the start, or
after its first batch for ``initial``); later runs never overwrite it. A run whose own
reference differs from the stored one keeps its own and gets a warning that shows both
(on stderr and as the run's tag :data:`WARNING_TAG`): its hypervolume is not comparable
with the experiment's other runs; ``moalign compare`` recomputes every run's at one
reference. A stored reference for other objectives is not reused, with a warning.

Logged with the run: params ``hv_reference`` (the numbers) and ``hv_reference_source``
(one of :data:`SOURCES`), and per step the metric ``normalized_hypervolume`` where the
problem knows its ideal and nadir (:func:`moalign.indicators.normalized_hypervolume`).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from moalign.indicators import normalized_hypervolume

if TYPE_CHECKING:
    from moalign.core.problem import Problem
    from moalign.solvers.context import RunContext
    from moalign.tracking.base import Tracker

EXPERIMENT_TAG = "moalign.hv_reference"
"""Experiment tag holding the shared reference (JSON: values, objectives, directions,
the run that fixed it, its problem)."""
WARNING_TAG = "moalign.hv_reference_warning"
"""Run tag holding the warning of a run whose reference is not the experiment's."""
SOURCES = ("explicit", "objectives", "nadir", "experiment", "initial")
"""Values of the ``hv_reference_source`` param."""
RTOL = 1e-9
"""Relative tolerance under which two reference points are the same."""


def format_values(values: Sequence[float] | np.ndarray) -> str:
    """``"1.1,1.1"``: how the ``hv_reference`` param writes a point."""
    return ",".join(f"{float(v):.10g}" for v in values)


def show_values(values: Sequence[float] | np.ndarray) -> str:
    """``"[1.1, 1.1]"``: a point in messages."""
    return "[" + ", ".join(f"{float(v):.6g}" for v in values) + "]"


def same_point(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray) -> bool:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=RTOL, atol=1e-12))


def _directions(maximize: Sequence[bool] | np.ndarray) -> tuple[str, ...]:
    return tuple("maximize" if mx else "minimize" for mx in maximize)


def describe_objectives(names: Sequence[str], directions: Sequence[str]) -> str:
    """``"f1 (min), f2 (min)"``."""
    return ", ".join(f"{n} ({d[:3]})" for n, d in zip(names, directions, strict=True))


@dataclass(frozen=True)
class StoredReference:
    """The reference point an experiment's runs share (:data:`EXPERIMENT_TAG`).

    Attributes:
        values: the point, user orientation.
        objectives: the objectives' names it is for.
        directions: their directions (``minimize``/``maximize``).
        run_id: the run that fixed it.
        problem: that run's problem.
    """

    values: tuple[float, ...]
    objectives: tuple[str, ...]
    directions: tuple[str, ...]
    run_id: str | None = None
    problem: str = ""

    def to_json(self) -> str:
        return json.dumps({"values": list(self.values), "objectives": list(self.objectives),
                           "directions": list(self.directions), "run_id": self.run_id,
                           "problem": self.problem})

    @classmethod
    def from_json(cls, text: str | None) -> StoredReference | None:
        """The stored reference, or None for a missing or unreadable tag."""
        if not text:
            return None
        try:
            data = json.loads(text)
            values = tuple(float(v) for v in data["values"])
            names = tuple(str(n) for n in data["objectives"])
            dirs = tuple(str(d) for d in data["directions"])
        except (ValueError, KeyError, TypeError):
            return None
        if not (len(values) == len(names) == len(dirs)):
            return None
        return cls(values, names, dirs, data.get("run_id"), str(data.get("problem", "")))

    def matches(self, names: Sequence[str], maximize: Sequence[bool] | np.ndarray) -> bool:
        """True when it is for these objectives (names and directions, in order)."""
        return (self.objectives == tuple(names)
                and self.directions == _directions(maximize))

    def origin(self) -> str:
        """``"fixed by run <id> (<problem>)"``."""
        what = f" ({self.problem})" if self.problem else ""
        return f"fixed by run {self.run_id}{what}" if self.run_id else "stored"


def experiment_reference(client: Any, experiment_id: str) -> StoredReference | None:
    """The reference stored on an experiment, or None."""
    tags = client.get_experiment(experiment_id).tags or {}
    return StoredReference.from_json(tags.get(EXPERIMENT_TAG))


@dataclass(frozen=True)
class Resolution:
    """The reference a run uses.

    Attributes:
        values: the point (user orientation), or None: the first batch's worst values.
        source: one of :data:`SOURCES`.
        warning: what the user should know (the reference is not the experiment's).
        store: the experiment has no reference yet: this run's becomes it.
    """

    values: np.ndarray | None
    source: str
    warning: str | None = None
    store: bool = False


def resolve_reference(problem: Problem, stored: StoredReference | None,
                      experiment: str = "") -> Resolution:
    """The reference of a run of ``problem`` in an experiment that stores ``stored``
    (see the module docstring); no I/O."""
    own = problem.reference_point()
    source = problem.reference_source()
    names, maximize = problem.objectives.names, problem.objectives.maximize
    if stored is None:
        return Resolution(own, source, store=True)
    where = f"experiment '{experiment}'" if experiment else "the experiment"
    if not stored.matches(names, maximize):
        mine = "its first batch's worst values" if own is None else show_values(own)
        return Resolution(own, source, warning=(
            f"{where} keeps the HV reference {show_values(stored.values)} for objectives "
            f"{describe_objectives(stored.objectives, stored.directions)} "
            f"({stored.origin()}); this run's objectives are "
            f"{describe_objectives(names, _directions(maximize))}, so it is not shared and "
            f"this run uses {mine}; run this problem in another experiment to compare "
            "its runs"))
    if own is None and stored.problem and stored.problem != problem.name:
        return Resolution(None, source, warning=(
            f"{where} keeps the HV reference {show_values(stored.values)} of problem "
            f"'{stored.problem}' ({stored.origin()}); this run's problem is "
            f"'{problem.name}', whose scale may differ, so it is not reused and this run "
            "uses its first batch's worst values; set problem.ref_point in the recipe to "
            "share one, or run this problem in another experiment"))
    if own is None:
        return Resolution(np.asarray(stored.values, dtype=np.float64), "experiment")
    if same_point(own, stored.values):
        return Resolution(own, source)
    return Resolution(own, source, warning=(
        f"HV reference {show_values(own)} ({source}) differs from the reference of "
        f"{where}, {show_values(stored.values)} ({stored.origin()}): this run's hypervolume is at "
        "its own reference, not comparable with the experiment's other runs (`moalign "
        "compare` recomputes them at one reference); set problem.ref_point: "
        f"{show_values(stored.values)} in the recipe to share the experiment's, or use "
        "another experiment"))


def prepare_run_reference(problem: Problem, tracker: Tracker, *, resumed: bool = False
                          ) -> tuple[Problem, ReferenceHook]:
    """Resolve the run's reference, log it and share it (see the module docstring).

    Call after the tracker's run is open, before the solver starts. A resumed run keeps
    the reference of its checkpoint's archive and logs nothing again.

    Returns:
        The problem to solve (a copy carrying the experiment's reference when it reuses
        it) and the record hook that logs ``normalized_hypervolume`` and, for an
        ``initial`` reference, logs and shares it after the first batch.
    """
    experiment = _Experiment.of(tracker)
    if resumed:
        return problem, ReferenceHook(problem, tracker, None, None)
    stored = experiment.reference() if experiment else None
    res = resolve_reference(problem, stored, experiment.name if experiment else "")
    if res.warning:
        warn(tracker, res.warning)
    if res.source == "experiment" and res.values is not None:
        problem = problem.with_reference_point(res.values)
    hook = ReferenceHook(problem, tracker, res.source,
                         experiment if (experiment and res.store) else None)
    if res.values is not None:
        hook.publish(res.values)
    return problem, hook


class ReferenceHook:
    """After each record: the normalized hypervolume (where the problem knows its ideal
    and nadir), and once the reference is known, its params and the experiment's tag."""

    def __init__(self, problem: Problem, tracker: Tracker, source: str | None,
                 experiment: _Experiment | None) -> None:
        self.problem = problem
        self.tracker = tracker
        self.source = source  # None: already logged (resumed run)
        self.experiment = experiment
        self._bounds = _normalization(problem)
        self._cached: tuple[int, int, float] | None = None  # (archive id, version, value)

    def publish(self, values: np.ndarray) -> None:
        """Log the params and store the experiment's reference (once)."""
        if self.source is None:
            return
        self.tracker.log_params({"hv_reference": format_values(values),
                                 "hv_reference_source": self.source})
        self.source = None
        if self.experiment is not None:
            p = self.problem
            self.experiment.store(StoredReference(
                tuple(float(v) for v in values), tuple(p.objectives.names),
                _directions(p.objectives.maximize), self.tracker.run_id, p.name), self.tracker)
            self.experiment = None

    def __call__(self, ctx: RunContext, metrics: dict[str, float]) -> None:
        archive = ctx.archive
        if self.source is not None and archive.ref_point is not None:
            self.publish(archive.ref_point)
        if self._bounds is None or not archive.front_size:
            return
        key = (id(archive), archive.front_version)
        if self._cached is None or self._cached[:2] != key:
            ideal, nadir = self._bounds
            value = normalized_hypervolume(archive.pareto().F, ideal, nadir,
                                           maximize=archive.maximize)
            self._cached = (*key, value)
        self.tracker.log_metrics({"normalized_hypervolume": self._cached[2]}, ctx.step)


def _normalization(problem: Problem) -> tuple[np.ndarray, np.ndarray] | None:
    """The problem's (ideal, nadir) when both are known and the nadir is worse."""
    ideal, nadir = problem.ideal, problem.nadir
    if ideal is None or nadir is None:
        return None
    span = (nadir - ideal) * problem.objectives.signs
    return (ideal, nadir) if np.all(span > 0) else None


class _Experiment:
    """The MLflow experiment of a tracker's run (None for other trackers)."""

    def __init__(self, client: Any, experiment_id: str, name: str) -> None:
        self.client, self.id, self.name = client, experiment_id, name

    @classmethod
    def of(cls, tracker: Tracker) -> _Experiment | None:
        client = getattr(tracker, "client", None)
        if client is None or tracker.run_id is None:
            return None
        exp_id = str(client.get_run(tracker.run_id).info.experiment_id)
        return cls(client, exp_id, str(client.get_experiment(exp_id).name))

    def reference(self) -> StoredReference | None:
        return experiment_reference(self.client, self.id)

    def store(self, ref: StoredReference, tracker: Tracker) -> None:
        """Store ``ref`` unless a reference is stored already (another run may have
        stored one since this run started; then this run's differs, and it is told)."""
        now = self.reference()
        if now is None:
            self.client.set_experiment_tag(self.id, EXPERIMENT_TAG, ref.to_json())
            now = self.reference()  # two runs storing at once: the last write wins
        if now is not None and now.run_id != ref.run_id:
            warning = _late_warning(ref, now, self.name)
            if warning:
                warn(tracker, warning)


def _late_warning(mine: StoredReference, stored: StoredReference,
                             experiment: str) -> str | None:
    """The warning for a run whose reference ``mine`` met ``stored`` after it started."""
    if stored.objectives == mine.objectives and stored.directions == mine.directions \
            and same_point(stored.values, mine.values):
        return None
    return (f"HV reference {show_values(mine.values)} differs from the reference of "
            f"experiment '{experiment}', {show_values(stored.values)} ({stored.origin()}, stored "
            "while this run was starting): this run's hypervolume is not comparable with "
            "the experiment's other runs (`moalign compare` recomputes them at one "
            "reference)")


def warn(tracker: Tracker, message: str) -> None:
    """Show ``message`` on stderr and keep it with the run."""
    print(f"warning: {message}", file=sys.stderr, flush=True)
    if tracker.run_id is not None:
        tracker.set_tag(WARNING_TAG, message[:5000])


__all__ = ["EXPERIMENT_TAG", "SOURCES", "WARNING_TAG", "ReferenceHook", "Resolution",
           "StoredReference", "experiment_reference", "prepare_run_reference",
           "resolve_reference"]

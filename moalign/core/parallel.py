"""Parallel evaluation: a problem's batches split into chunks, evaluated on the workers of any
:class:`concurrent.futures.Executor` (a process pool, Dask, Ray) and put back in order.

A :class:`ParallelEvaluator` attached to a problem (:meth:`Problem.with_evaluator
<moalign.core.problem.Problem.with_evaluator>`) takes over :meth:`Problem.evaluate
<moalign.core.problem.Problem.evaluate>`; solvers do not see the difference. Per batch:

1. the problem's objectives and constraints are serialized once with cloudpickle
   (functions of importable modules travel by reference, i.e. as module path and name;
   functions of ``__main__`` and of recipe files (``file.py:function``) by value); what
   cannot be serialized raises :class:`ShippingError` naming the objective and the fix;
2. the batch of `n` points is cut into chunks of ``chunk`` points (default ``ceil(n /
   workers)``: one chunk per worker); each chunk is one task ``(payload, X[lo:hi])``;
3. a worker evaluates its chunk exactly as :meth:`Problem.evaluate` would (an objective
   that raises on a point costs that point only: NaN); if the chunk as a whole raises
   (e.g. the constraints), the worker goes point by point and only the raising points are
   NaN;
4. a chunk whose task fails (its worker died, the connection broke) is retried once, point
   by point; a point that fails again is counted as failed (NaN, ``failed=True``) with the
   error in its objectives' :class:`~moalign.core.objective.FailureLog`. A process pool
   that breaks (``BrokenProcessPool``: one dead worker fails every task in flight) is
   replaced by a fresh one; if it breaks again during the retry, the points that were in
   flight are run one at a time, so a point that kills its worker every time costs only
   itself.

Every point's values are computed by the same functions on the same inputs as a serial
run, so a solver sees the same numbers and makes the same choices: the same seed gives the
same run. (An objective whose value for a point depends on the other points of its batch
would differ; such objectives need ``chunk`` >= the batch size, or serial evaluation.)

Backends (:func:`open_evaluator`): ``serial`` (no evaluator), ``processes``
(:class:`~concurrent.futures.ProcessPoolExecutor`, spawned workers), ``dask``
(``distributed.LocalCluster`` or the scheduler at ``address``) and ``ray`` (``ray.init()``
locally or the cluster at ``address``).
"""

from __future__ import annotations

import hashlib
import importlib.util
import math
import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import BrokenExecutor, Executor, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from moalign.core.problem import Evaluation, Problem

BACKENDS = ("serial", "processes", "dask", "ray")
"""The values of a recipe's ``evaluation.backend``."""


class EvaluationSetupError(Exception):
    """Parallel evaluation cannot start or reach its workers: a user error, reported in
    one line by the CLI."""


class ShippingError(EvaluationSetupError, TypeError):
    """An objective or constraint that cannot be sent to the workers (or loaded there)."""


class BackendMissing(EvaluationSetupError, ImportError):
    """The backend's optional extra (``moalign[dask]``, ``moalign[ray]``) is missing."""


class WorkerLost(RuntimeError):
    """A point whose worker died (or whose task was lost) on its first try and its retry."""


# -- the worker side -------------------------------------------------------------------


@dataclass(frozen=True)
class _Payload:
    """What a worker needs to evaluate points: the objectives and the constraints."""

    objectives: Any  # ObjectiveSet
    constraints: Callable[[Any], Any] | None


@dataclass
class ChunkResult:
    """A worker's answer for one chunk of `c` points.

    Attributes:
        F: `c x m` objective values (NaN where failed).
        G: `c x k` constraint values, or None without constraints.
        notes: per objective, ``(failed points, first error)`` noted on the worker.
        load_error: set when the worker could not load the objectives (nothing evaluated).
    """

    F: np.ndarray | None = None
    G: np.ndarray | None = None
    notes: list[tuple[int, str | None]] = field(default_factory=list)
    load_error: str | None = None


_LOADED: dict[str, _Payload] = {}  # per worker process: payloads by hash, unpickled once


def _load(key: str, blob: bytes) -> _Payload:
    payload = _LOADED.get(key)
    if payload is None:
        import cloudpickle

        payload = cloudpickle.loads(blob)
        if len(_LOADED) >= 4:
            _LOADED.pop(next(iter(_LOADED)))
        _LOADED[key] = payload
    return payload


def evaluate_chunk(key: str, blob: bytes, X: Any, kwargs: dict[str, Any]) -> ChunkResult:
    """Evaluate one chunk on a worker (the task every backend runs). Never raises for a
    point: see the module docstring, step 3.

    Args:
        key: the payload's hash (the worker keeps loaded payloads by it).
        blob: the cloudpickled objectives and constraints.
        X: the chunk's points (`c x d` array or a list).
        kwargs: keyword arguments of :meth:`Problem.evaluate`, already cut to the chunk.
    """
    try:
        payload = _load(key, blob)
    except Exception as exc:  # noqa: BLE001 - reported to the caller as a ShippingError
        return ChunkResult(load_error=f"{type(exc).__name__}: {exc}")
    objs = payload.objectives
    before = [(o.failures.count, o.failures.first_error) for o in objs]
    try:
        F, G = _values(payload, X, kwargs)
    except Exception as exc:  # noqa: BLE001 - the chunk as a whole failed: point by point
        F, G = _pointwise(payload, X, kwargs, exc)
    notes = [(o.failures.count - c, o.failures.first_error if e is None else None)
             for o, (c, e) in zip(objs, before, strict=True)]
    return ChunkResult(F=F, G=G, notes=notes)


def _values(payload: _Payload, X: Any, kwargs: dict[str, Any]
            ) -> tuple[np.ndarray, np.ndarray | None]:
    F = payload.objectives(X, **kwargs)
    G = None
    if payload.constraints is not None:
        G = np.asarray(payload.constraints(X), dtype=np.float64).reshape(len(F), -1)
    return F, G


def _pointwise(payload: _Payload, X: Any, kwargs: dict[str, Any], first: Exception
               ) -> tuple[np.ndarray, np.ndarray | None]:
    n = len(X)
    rows: list[tuple[np.ndarray, np.ndarray | None] | None] = []
    for i in range(n):
        try:
            rows.append(_values(payload, take(X, i, i + 1, n),
                                {k: take(v, i, i + 1, n) for k, v in kwargs.items()}))
        except Exception as exc:  # noqa: BLE001 - this point failed
            for o in payload.objectives:
                o.failures.note(exc)
            rows.append(None)
    m = len(payload.objectives)
    F = np.full((n, m), np.nan)
    k = max((r[1].shape[1] for r in rows if r is not None and r[1] is not None), default=1)
    G = None if payload.constraints is None else np.full((n, k), np.nan)
    for i, r in enumerate(rows):
        if r is not None:
            F[i] = r[0][0]
            if G is not None and r[1] is not None:
                G[i] = r[1][0]
    return F, G


def take(v: Any, lo: int, hi: int, n: int) -> Any:
    """Rows ``lo:hi`` of a batch argument of length `n` (arrays, lists, tuples); anything
    else (a scalar keyword argument) is passed whole."""
    if isinstance(v, np.ndarray | list | tuple) and len(v) == n:
        return v[lo:hi]
    return v


# -- the caller side -------------------------------------------------------------------


@dataclass
class EvaluationStats:
    """What parallel evaluation did in a run (``Result.info["evaluation"]``)."""

    backend: str = "executor"
    workers: int = 1
    batches: int = 0
    chunks: int = 0
    retried_points: int = 0
    lost_points: int = 0
    executors_replaced: int = 0
    seconds: float = 0.0


class PendingBatch:
    """A batch submitted to the workers (:meth:`ParallelEvaluator.submit`)."""

    def __init__(self, finish: Callable[[], Evaluation], futures: list[Future[Any]]) -> None:
        self._finish: Callable[[], Evaluation] | None = finish
        self._futures = futures
        self._result: Evaluation | None = None

    def result(self) -> Evaluation:
        """Wait for the batch; its :class:`~moalign.core.problem.Evaluation`, in order."""
        if self._result is None:
            assert self._finish is not None
            self._result, self._finish = self._finish(), None
        return self._result

    def cancel(self) -> None:
        """Drop the batch: tasks not started are cancelled, running ones are left to end."""
        for fut in self._futures:
            fut.cancel()


class ParallelEvaluator:
    """Evaluates a problem's batches on an executor's workers; see the module docstring.

    Args:
        executor: any :class:`concurrent.futures.Executor` whose tasks may run in other
            processes (arguments and results are pickled by the executor).
        workers: how many tasks run at once (sets the default chunk size); default the
            executor's ``_max_workers`` if it has one, else the CPU count.
        chunk: points per task; default ``ceil(n / workers)`` for a batch of `n`.
        backend: a label for reports (``processes``, ``dask``, ``ray``, ``executor``).
        replace: makes a fresh executor when this one breaks (``BrokenExecutor``); default
            for a :class:`~concurrent.futures.ProcessPoolExecutor`: a new pool of the same
            size, shut down by :meth:`close`.

    Example:
        >>> from concurrent.futures import ThreadPoolExecutor
        >>> from moalign.core import Box, Problem
        >>> p = Problem(Box([0], [1]), [lambda x: x[:, 0], lambda x: 1 - x[:, 0]])
        >>> with ThreadPoolExecutor(2) as pool:
        ...     ev = ParallelEvaluator(pool, chunk=1)
        ...     p.with_evaluator(ev).evaluate(np.array([[0.25], [0.5]])).F.tolist()
        [[0.25, 0.75], [0.5, 0.5]]
    """

    def __init__(self, executor: Executor, *, workers: int | None = None,
                 chunk: int | None = None, backend: str = "executor",
                 replace: Callable[[], Executor] | None = None) -> None:
        if chunk is not None and chunk < 1:
            raise ValueError(f"chunk must be a positive integer, got {chunk}")
        self.executor = executor
        self.workers = max(1, int(workers or getattr(executor, "_max_workers", 0)
                                  or os.cpu_count() or 1))
        self.chunk = chunk
        self.stats = EvaluationStats(backend=backend, workers=self.workers)
        self._replace = replace
        if replace is None and isinstance(executor, ProcessPoolExecutor):
            self._replace = _process_pool_factory(executor)
        self._owned: list[Executor] = []
        self._generation = 0  # replacements so far: which executor a task went to
        self._payloads: dict[tuple[int, int], tuple[str, bytes, Any]] = {}

    # -- payload ---------------------------------------------------------------------------
    def payload(self, problem: Problem) -> tuple[str, bytes]:
        """The problem's objectives and constraints, serialized (once per problem) and
        their hash.

        Raises:
            ShippingError: an objective or the constraints cannot be serialized.
        """
        ident = (id(problem.objectives), id(problem.constraints))
        got = self._payloads.get(ident)
        if got is None:
            blob = ship(problem.objectives, problem.constraints)
            key = hashlib.sha1(blob).hexdigest()
            # the objects are kept alive with their blob, so their ids stay theirs
            got = self._payloads[ident] = (key, blob, (problem.objectives, problem.constraints))
        return got[0], got[1]

    # -- evaluation ------------------------------------------------------------------------
    def evaluate(self, problem: Problem, X: Any, **kwargs: Any) -> Evaluation:
        """Evaluate the batch `X` (`n` points) on the workers; the result is in the order
        of `X`, as :meth:`Problem.evaluate` returns it.

        Raises:
            ShippingError: the objectives cannot be sent to, or loaded on, the workers.
        """
        return self.submit(problem, X, **kwargs).result()

    def submit(self, problem: Problem, X: Any, **kwargs: Any) -> PendingBatch:
        """Send the batch `X` to the workers and return at once; ``.result()`` waits for
        it (retrying what failed, as :meth:`evaluate`). Batches submitted one after the
        other queue up on the executor: workers left idle by a batch's last chunks take
        the next batch's.

        Raises:
            ShippingError: the objectives cannot be serialized.
        """
        n = len(X)
        if n == 0:
            done = problem.evaluate_here(X, **kwargs)
            return PendingBatch(lambda: done, [])
        t0 = time.monotonic()
        key, blob = self.payload(problem)
        size = self.chunk or math.ceil(n / self.workers)
        spans = [(lo, min(n, lo + size)) for lo in range(0, n, size)]
        futures, failed = self._send(key, blob, X, kwargs, spans)

        def finish() -> Evaluation:
            return self._finish(problem, X, kwargs, key, blob, futures, failed, t0)

        return PendingBatch(finish, list(futures))

    def _finish(self, problem: Problem, X: Any, kwargs: dict[str, Any], key: str,
                blob: bytes, futures: dict[Future[ChunkResult], tuple[int, int, int]],
                failed: list[tuple[int, int, BaseException]], t0: float) -> Evaluation:
        """Wait for a submitted batch, retry its failed points, put it together."""
        from moalign.core.problem import assemble_evaluation

        results: dict[int, ChunkResult] = {}  # by first row
        failed = self._gather(futures, failed, results)
        broken_twice = False
        if failed:  # retry once, point by point
            points = [(i, i + 1) for lo, hi, _ in failed for i in range(lo, hi)]
            self.stats.retried_points += len(points)
            failed = self._round(key, blob, X, kwargs, points, results)
            broken_twice = any(isinstance(exc, BrokenExecutor) for *_, exc in failed)
        if broken_twice and len(failed) > 1:  # which point broke the pool? one at a time
            alone: list[tuple[int, int, BaseException]] = []
            for lo, hi, _ in failed:
                alone += self._round(key, blob, X, kwargs, [(lo, hi)], results)
            failed = alone
        lost = {lo: exc for lo, _, exc in failed}
        self.stats.lost_points += len(lost)
        self.stats.batches += 1
        self.stats.seconds += time.monotonic() - t0
        F, G = self._assemble(problem, len(X), results, lost)
        return assemble_evaluation(F, G)

    def _round(self, key: str, blob: bytes, X: Any, kwargs: dict[str, Any],
               spans: list[tuple[int, int]], results: dict[int, ChunkResult]
               ) -> list[tuple[int, int, BaseException]]:
        """Submit the spans, wait for all; store the results, return the failed spans."""
        futures, failed = self._send(key, blob, X, kwargs, spans)
        return self._gather(futures, failed, results)

    def _send(self, key: str, blob: bytes, X: Any, kwargs: dict[str, Any],
              spans: list[tuple[int, int]]
              ) -> tuple[dict[Future[ChunkResult], tuple[int, int, int]],
                         list[tuple[int, int, BaseException]]]:
        """One task per span; spans that could not be submitted come back as failed."""
        n = len(X)
        futures: dict[Future[ChunkResult], tuple[int, int, int]] = {}
        failed: list[tuple[int, int, BaseException]] = []
        for lo, hi in spans:
            args = (key, blob, take(X, lo, hi, n),
                    {k: take(v, lo, hi, n) for k, v in kwargs.items()})
            try:
                fut = self._submit(*args)
                futures[fut] = (lo, hi, self._generation)
            except BrokenExecutor as exc:  # broke while submitting: fails like a task
                failed.append((lo, hi, exc))
        self.stats.chunks += len(futures)
        return futures, failed

    def _gather(self, futures: dict[Future[ChunkResult], tuple[int, int, int]],
                failed: list[tuple[int, int, BaseException]],
                results: dict[int, ChunkResult]) -> list[tuple[int, int, BaseException]]:
        """Wait for the tasks; store their results, return the failed spans (sorted). A
        broken executor is replaced, unless it was replaced already (the tasks of an
        earlier executor fail when it breaks, after its replacement took over)."""
        failed = list(failed)
        wait(futures)
        broken_now = False
        for fut, (lo, hi, gen) in futures.items():
            error = fut.exception()
            if error is not None:
                failed.append((lo, hi, error))
                broken_now |= isinstance(error, BrokenExecutor) and gen == self._generation
                continue
            res = fut.result()
            if res.load_error is not None:
                raise ShippingError(
                    f"the workers cannot load the objectives ({res.load_error}); make "
                    "their module importable on the workers (install it there or set "
                    "PYTHONPATH), or define them in the script you run (they are then sent "
                    "by value), or use evaluation backend 'serial'")
            results[lo] = res
        if broken_now:
            self._renew()
        failed.sort(key=lambda t: t[0])
        return failed

    def _submit(self, *args: Any) -> Future[ChunkResult]:
        try:
            return self.executor.submit(evaluate_chunk, *args)
        except BrokenExecutor:
            if self._renew():
                return self.executor.submit(evaluate_chunk, *args)
            raise

    def _renew(self) -> bool:
        """Replace a broken executor; False when there is no way to."""
        if self._replace is None:
            return False
        old = self.executor
        if old in self._owned:
            old.shutdown(wait=False, cancel_futures=True)
            self._owned.remove(old)
        self.executor = self._replace()
        self._generation += 1
        self._owned.append(self.executor)
        self.stats.executors_replaced += 1
        return True

    def _assemble(self, problem: Problem, n: int, results: dict[int, ChunkResult],
                  lost: dict[int, BaseException]) -> tuple[np.ndarray, np.ndarray | None]:
        """The chunks' rows in order; lost points NaN, noted on every objective."""
        objs = list(problem.objectives)
        F = np.full((n, len(objs)), np.nan)
        parts_g: list[tuple[int, np.ndarray]] = []
        for lo, res in results.items():
            assert res.F is not None
            F[lo:lo + len(res.F)] = res.F
            if res.G is not None:
                parts_g.append((lo, res.G))
            for o, (count, first) in zip(objs, res.notes, strict=True):
                o.failures.count += count
                if o.failures.first_error is None and first is not None:
                    o.failures.first_error = first
        for exc in lost.values():
            why = WorkerLost(f"its worker died or its task was lost twice "
                             f"({type(exc).__name__}: {exc})")
            for o in objs:
                o.failures.note(why)
        if problem.constraints is None:
            return F, None
        k = max((g.shape[1] for _, g in parts_g), default=1)
        G = np.full((n, k), np.nan)
        for lo, g in parts_g:
            G[lo:lo + len(g), :g.shape[1]] = g
        return F, G

    def warm_up(self) -> None:
        """Start the workers now (one small task per worker, loading this module), so that
        the first batch does not pay for their start."""
        wait([self.executor.submit(_ready) for _ in range(self.workers)])

    def close(self) -> None:
        """Shut down the executors this evaluator made (replacements of a broken pool)."""
        for ex in self._owned:
            ex.shutdown(wait=True, cancel_futures=True)
        self._owned.clear()


def _ready() -> int:
    """A worker's first task: it has imported this module."""
    return os.getpid()


def _process_pool_factory(pool: ProcessPoolExecutor) -> Callable[[], Executor]:
    workers = getattr(pool, "_max_workers", None)
    context = getattr(pool, "_mp_context", None)

    def make() -> Executor:
        return ProcessPoolExecutor(max_workers=workers, mp_context=context)

    return make


def ship(objectives: Any, constraints: Callable[[Any], Any] | None) -> bytes:
    """Serialize objectives and constraints for the workers with cloudpickle.

    Functions of modules loaded from a file path (recipes' ``file.py:function``) or not
    importable by name travel by value; others by reference (module path and name).

    Raises:
        ShippingError: naming the objective (or the constraints) that cannot be sent.
    """
    import cloudpickle

    fns = [o.fn for o in objectives] + ([constraints] if constraints is not None else [])
    for fn in fns:
        _by_value_if_not_importable(fn)
    try:
        return bytes(cloudpickle.dumps(_Payload(objectives, constraints)))
    except Exception as exc:  # noqa: BLE001 - find the culprit for the message
        culprit, cause = "the problem", exc
        for o in objectives:
            try:
                cloudpickle.dumps(o.fn)
            except Exception as e:  # noqa: BLE001
                culprit, cause = f"objective {o.name!r}", e
                break
        else:
            if constraints is not None:
                try:
                    cloudpickle.dumps(constraints)
                except Exception as e:  # noqa: BLE001
                    culprit, cause = "the constraints", e
        raise ShippingError(
            f"cannot send {culprit} to the evaluation workers ({type(cause).__name__}: "
            f"{str(cause).splitlines()[0] if str(cause) else ''}); define it as a function "
            "of an importable module (sent by reference) or of the script you run, holding "
            "no open file, lock, connection or live model, or use evaluation backend "
            "'serial'") from None


def _by_value_if_not_importable(fn: Any) -> None:
    """Register ``fn``'s module with cloudpickle to travel by value when a fresh process
    could not import it by name (a module loaded from a file path under a made-up name)."""
    import cloudpickle

    name = getattr(fn, "__module__", None) or getattr(type(fn), "__module__", None)
    if not name or name == "__main__" or name not in sys.modules:
        return
    if not importable(name.partition(".")[0]):
        cloudpickle.register_pickle_by_value(sys.modules[name])


def importable(name: str) -> bool:
    """Whether a fresh interpreter (same ``sys.path``) finds the top-level module ``name``:
    the import system's finders are asked, not ``sys.modules``."""
    if name in sys.builtin_module_names:
        return True
    for finder in sys.meta_path:
        find = getattr(finder, "find_spec", None)
        try:
            if find is not None and find(name, None) is not None:
                return True
        except Exception:  # noqa: BLE001 - a finder that cannot tell: ask the next
            continue
    return False


# -- backends --------------------------------------------------------------------------


class RayExecutor(Executor):
    """A :class:`concurrent.futures.Executor` over Ray tasks (``ray.init()`` must have been
    called). Tasks are not retried by Ray (``max_retries=0``): :class:`ParallelEvaluator`
    retries lost points itself."""

    def __init__(self) -> None:
        import ray

        self._remote = ray.remote(max_retries=0)(_call)

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        """Run ``fn(*args, **kwargs)`` as a Ray task; its ``ObjectRef`` as a future."""
        future: Future[Any] = self._remote.remote(fn, *args, **kwargs).future()
        return future


def _call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    return fn(*args, **kwargs)


def _need(module: str, extra: str) -> None:
    if importlib.util.find_spec(module) is None:
        raise BackendMissing(f"evaluation backend {extra!r} needs {module}: pip install "
                          f"'moalign[{extra}]'")


@contextmanager
def open_evaluator(evaluation: Any) -> Iterator[ParallelEvaluator | None]:
    """The evaluator a run uses, closed (with what it started) when the run ends.

    Args:
        evaluation: None or ``"serial"`` (no evaluator: the calling process evaluates), a
            backend name, a mapping or object with ``backend``, ``workers``, ``address``
            and ``chunk`` (a recipe's ``evaluation``), an :class:`Executor` (used as is,
            not shut down), or a :class:`ParallelEvaluator`.

    Raises:
        ValueError: an unknown backend.
        BackendMissing: the backend's extra is not installed.
    """
    if evaluation is None or isinstance(evaluation, ParallelEvaluator):
        yield evaluation
        return
    if isinstance(evaluation, Executor):
        ev = ParallelEvaluator(evaluation)
        try:
            yield ev
        finally:
            ev.close()
        return
    spec = _spec(evaluation)
    backend = spec["backend"]
    if backend == "serial":
        yield None
        return
    opener = {"processes": _processes, "dask": _dask, "ray": _ray}.get(backend)
    if opener is None:
        raise ValueError(f"evaluation.backend: unknown backend {backend!r}; use one of "
                         f"{list(BACKENDS)}")
    with opener(spec["workers"], spec["address"]) as (executor, workers):
        ev = ParallelEvaluator(executor, workers=workers, chunk=spec["chunk"], backend=backend)
        try:
            ev.warm_up()
            yield ev
        finally:
            ev.close()


def _spec(evaluation: Any) -> dict[str, Any]:
    keys = ("backend", "workers", "address", "chunk")
    if isinstance(evaluation, str):
        return {"backend": evaluation, "workers": None, "address": None, "chunk": None}
    if isinstance(evaluation, Mapping):
        unknown = sorted(set(evaluation) - set(keys))
        if unknown:
            raise ValueError(f"evaluation.{unknown[0]}: unknown key; valid keys are "
                             f"{list(keys)}")
        return {k: evaluation.get(k, "serial" if k == "backend" else None) for k in keys}
    return {k: getattr(evaluation, k, None) for k in keys}


@contextmanager
def _processes(workers: int | None, address: str | None
               ) -> Iterator[tuple[Executor, int]]:
    import multiprocessing

    n = workers or os.cpu_count() or 1
    # spawn: the caller may run threads (tracking, torch) that fork would copy mid-state
    pool = ProcessPoolExecutor(max_workers=n, mp_context=multiprocessing.get_context("spawn"))
    try:
        yield pool, n
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


@contextmanager
def _dask(workers: int | None, address: str | None) -> Iterator[tuple[Executor, int]]:
    _need("distributed", "dask")
    import logging

    import dask
    from distributed import Client, LocalCluster

    cluster = None
    if address is None:
        # a task whose worker dies fails at once; ParallelEvaluator retries it once
        with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
            cluster = LocalCluster(n_workers=workers or os.cpu_count() or 1,
                                   threads_per_worker=1, processes=True,
                                   dashboard_address=None, silence_logs=logging.ERROR)
        client = Client(cluster)
    else:
        client = Client(address)
    try:
        n = workers or sum(w.get("nthreads", 1)
                           for w in client.scheduler_info()["workers"].values()) or 1
        yield client.get_executor(pure=False), n
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


@contextmanager
def _ray(workers: int | None, address: str | None) -> Iterator[tuple[Executor, int]]:
    _need("ray", "ray")
    import ray

    started = not ray.is_initialized()
    if started:
        if address is None:
            ray.init(num_cpus=workers or os.cpu_count() or 1, include_dashboard=False,
                     log_to_driver=False, configure_logging=False)
        else:
            ray.init(address=address, log_to_driver=False, configure_logging=False)
    try:
        n = workers or int(ray.cluster_resources().get("CPU", 1)) or 1
        yield RayExecutor(), n
    finally:
        if started:
            ray.shutdown()


__all__ = ["BACKENDS", "BackendMissing", "ChunkResult", "EvaluationSetupError",
           "EvaluationStats", "ParallelEvaluator", "RayExecutor",
           "ShippingError", "WorkerLost", "evaluate_chunk", "open_evaluator", "ship", "take"]

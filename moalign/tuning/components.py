"""Optuna parts built from the ``tune:`` block: sampler, pruner and storage."""

from __future__ import annotations

import time
import warnings
from typing import TYPE_CHECKING, Any

from moalign.core.config import ConfigError
from moalign.tuning.parts import PRUNERS, SAMPLERS
from moalign.tuning.spec import ComponentSpec, HeartbeatSpec, check_options

if TYPE_CHECKING:
    import optuna

    from moalign.tuning.recovery import TrialRuns


def sampler_class(name: str, multi_objective: bool) -> Any:
    """The Optuna sampler class for a ``tune.sampler.name``; ``auto`` is TPE for
    single-objective and NSGA-II for multi-objective studies (Optuna's own defaults)."""
    if name == "auto":
        name = "nsga2" if multi_objective else "tpe"
    return SAMPLERS.get(name)()


def make_sampler(spec: ComponentSpec, multi_objective: bool, worker: int = 0,
                 path: str = "tune.sampler") -> optuna.samplers.BaseSampler:
    """Build the sampler. With a ``seed``, worker ``k`` uses ``seed + k`` so that parallel
    workers do not propose the same points."""
    cls = sampler_class(spec.name, multi_objective)
    check_options(cls, spec.options, path)
    options = dict(spec.options)
    if options.get("seed") is not None:
        options["seed"] = int(options["seed"]) + worker
    try:
        return cls(**options)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{path}: {exc}") from None


def pruner_class(name: str) -> Any:
    """The Optuna pruner class for a ``tune.pruner.name``."""
    return PRUNERS.get(name)()


def make_pruner(spec: ComponentSpec, path: str = "tune.pruner") -> optuna.pruners.BasePruner:
    """Optuna's pruner for single-objective studies (multi-objective studies get
    :mod:`moalign.tuning.pruning`'s rule, configured by the same keys)."""
    cls = pruner_class(spec.name)
    check_options(cls, spec.options, path)
    try:
        return cls(**spec.options)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{path}: {exc}") from None


def is_rdb_url(storage: str) -> bool:
    return "://" in storage


def _stale_trial_callback(max_retry: int, runs: TrialRuns | None) -> dict[str, Any]:
    """moalign's retry of a trial whose heartbeat stopped (it also ends the trial's MLflow
    run FAILED), under the keyword of this Optuna version (``failed_trial_callback``
    before 4.9)."""
    import optuna

    from moalign.tuning.recovery import StaleTrialCallback

    callback = StaleTrialCallback(max_retry, runs)
    if hasattr(optuna.storages, "RetryHeartbeatStaleTrialCallback"):
        return {"heartbeat_stale_trial_callback": callback}
    return {"failed_trial_callback": callback}  # pragma: no cover - Optuna < 4.9


def _has_module(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


def engine_url(storage: str) -> str:
    """The SQLAlchemy URL for an RDB ``--storage``: a PostgreSQL URL without a driver
    (``postgresql://`` or ``postgres://``) gets the PostgreSQL driver that is installed —
    psycopg2 (SQLAlchemy's default) if present, else psycopg 3 (``postgresql+psycopg://``,
    the ``moalign[postgres]`` extra). Other URLs are returned as they are.

    Raises:
        ConfigError: a PostgreSQL URL and neither driver is installed.

    Example:
        >>> engine_url("sqlite:///tune.db")
        'sqlite:///tune.db'
    """
    scheme, sep, rest = storage.partition("://")
    if scheme not in ("postgresql", "postgres"):
        return storage
    if _has_module("psycopg2"):
        return f"postgresql{sep}{rest}"
    if _has_module("psycopg"):
        return f"postgresql+psycopg{sep}{rest}"
    raise ConfigError(f"--storage {scheme}://...: no PostgreSQL driver is installed; "
                      "pip install 'moalign[postgres]' (psycopg 3), or name the driver in "
                      "the URL (postgresql+<driver>://...)")


#: Attempts after the first to open an RDB storage whose tables another process is creating.
_SCHEMA_RACE_RETRIES = 5


def _schema_race(exc: BaseException) -> bool:
    """``exc`` is what a database raises when two processes create Optuna's tables at once
    on a new database (PostgreSQL: a unique violation on ``pg_type`` or "already exists");
    opening the storage again then finds the tables made."""
    try:
        from sqlalchemy.exc import IntegrityError, ProgrammingError
    except ImportError:  # pragma: no cover - Optuna's RDB storage needs SQLAlchemy
        return False
    text = str(exc).lower()
    return isinstance(exc, IntegrityError | ProgrammingError) and (
        "already exists" in text or "duplicate" in text)


def make_storage(storage: str | None, heartbeat: HeartbeatSpec,
                 runs: TrialRuns | None = None) -> Any:
    """Open a study storage.

    ``None`` -> in-memory; a URL (``sqlite:///tune.db``, ``postgresql://...``, see
    :func:`engine_url` for the PostgreSQL driver) -> an
    ``RDBStorage`` with Optuna's heartbeat and
    :class:`~moalign.tuning.recovery.StaleTrialCallback` (a stale trial is failed, its
    MLflow run in ``runs`` ended FAILED, its parameters queued again); anything else is a
    journal file path -> ``JournalStorage(JournalFileBackend(path))`` (no heartbeat in
    Optuna 5.0).
    """
    import optuna

    if storage is None:
        return optuna.storages.InMemoryStorage()
    if is_rdb_url(storage):
        url = engine_url(storage)
        engine_kwargs: dict[str, Any] | None = None
        if storage.startswith("sqlite"):  # several local workers: wait for the file lock
            engine_kwargs = {"connect_args": {"timeout": 60}}
        for attempt in range(_SCHEMA_RACE_RETRIES + 1):
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # heartbeat options are "experimental"
                    return optuna.storages.RDBStorage(
                        url, engine_kwargs=engine_kwargs,
                        heartbeat_interval=heartbeat.interval,
                        grace_period=heartbeat.grace_period,
                        **_stale_trial_callback(heartbeat.max_retry, runs))
            except Exception as exc:  # bad URL, missing driver, unreachable server
                if attempt < _SCHEMA_RACE_RETRIES and _schema_race(exc):
                    time.sleep(0.2 * (attempt + 1))
                    continue
                raise ConfigError(f"--storage {storage}: {type(exc).__name__}: {exc}"
                                  ) from None
    from optuna.storages.journal import JournalFileBackend

    return optuna.storages.JournalStorage(JournalFileBackend(storage))

"""Keep third-party noise out of a run's console output, and keep it in a log file.

During ``moalign run`` the libraries moalign drives (transformers, TRL, datasets,
accelerate, MLflow, BoTorch) print deprecation warnings, progress bars and log lines that
say nothing about the run. :func:`captured_output` sends Python warnings and those
libraries' log records to a file (logged with the run as ``logs/run.log``) and switches
their progress bars off; with ``verbose`` they are shown on stderr as well, bars included.
"""

from __future__ import annotations

import logging
import os
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

THIRD_PARTY_LOGGERS = ("transformers", "trl", "datasets", "accelerate", "huggingface_hub",
                       "mlflow", "botorch", "gpytorch", "optuna", "alembic", "urllib3")
"""Loggers whose records go to the run log instead of the console."""
QUIET_ENV = {"TQDM_DISABLE": "1", "HF_HUB_DISABLE_PROGRESS_BARS": "1",
             "TRANSFORMERS_NO_ADVISORY_WARNINGS": "1", "TRANSFORMERS_VERBOSITY": "error",
             "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false", "MLFLOW_LOGGING_LEVEL": "WARNING"}
"""Environment switches that turn the libraries' progress bars and advisories off
(transformers reads its verbosity when it is first imported, which is inside the run)."""


@contextmanager
def captured_output(log_file: Path, *, verbose: bool = False) -> Iterator[Path]:
    """Within the block, warnings and third-party log records go to ``log_file``.

    Args:
        log_file: the file to append to (its folder is created).
        verbose: also show them on stderr, and leave progress bars on.

    Yields:
        ``log_file``. Everything is restored when the block ends, also on errors.
    """
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with open(log_file, "a", encoding="utf-8") as sink, _warnings_to(sink, verbose), \
            _loggers_to(sink, verbose), _environment({} if verbose else QUIET_ENV):
        yield log_file


@contextmanager
def _warnings_to(sink: TextIO, verbose: bool) -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.simplefilter("default")  # each warning once per location

        def show(message: Warning | str, category: type[Warning], filename: str,
                 lineno: int, file: TextIO | None = None, line: str | None = None) -> None:
            text = warnings.formatwarning(message, category, filename, lineno, line)
            sink.write(text)
            sink.flush()
            if verbose:
                sys.stderr.write(text)

        warnings.showwarning = show
        yield


@contextmanager
def _loggers_to(sink: TextIO, verbose: bool) -> Iterator[None]:
    handler = logging.StreamHandler(sink)
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    saved: list[tuple[logging.Logger, list[logging.Handler], bool]] = []
    for name in THIRD_PARTY_LOGGERS:
        logger = logging.getLogger(name)
        saved.append((logger, list(logger.handlers), logger.propagate))
        if not verbose:
            logger.handlers = []
            logger.propagate = False
        logger.addHandler(handler)
    try:
        yield
    finally:
        for logger, handlers, propagate in saved:
            logger.handlers = handlers
            logger.propagate = propagate
        handler.close()


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    before: dict[str, Any] = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in before.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value

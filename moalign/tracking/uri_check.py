"""Is the tracking store usable? Asked once, in seconds, before a run opens.

MLflow retries an unreachable server for minutes (``MLFLOW_HTTP_REQUEST_MAX_RETRIES``
with exponential backoff) before it fails; :func:`check_tracking_uri` answers in a few
seconds with one line naming the URI and the fix:

- ``http(s)://``: ``GET <uri>/health`` (MLflow's health endpoint; on a 404, the
  experiments-search API as well, which a proxy may pass alone). A refused connection,
  an unknown host, no answer within ``timeout``, a 5xx status (MLflow would retry it for
  minutes) or 404 on both is an error; any other answer (2xx, 401, 403, ...) means a
  server is there, and MLflow handles authentication and its own errors.
- ``sqlite:///PATH``, ``file:`` URIs and plain paths: the folder must exist or be
  creatable, and be writable (a database file that exists must be writable too).
- ``postgresql://``, ``mysql://``, ``mssql://`` (any ``+driver``): a TCP connection to the
  host and port.
- anything else (``databricks``, plugins): not checked.
"""

from __future__ import annotations

import os
import socket
import threading
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import unquote, urlsplit

from moalign.core.config import ConfigError

DEFAULT_TIMEOUT = 5.0
_DB_PORTS = {"postgresql": 5432, "postgres": 5432, "mysql": 3306, "mssql": 1433}
FIX = "or run without tracking (tracking.backend: none)"
_API = "/api/2.0/mlflow/experiments/search?max_results=1"


class TrackingStoreError(ConfigError):
    """The tracking store cannot be reached or written; the message names the URI."""


def check_tracking_uri(uri: str | None = None, *, timeout: float = DEFAULT_TIMEOUT,
                       name: str | None = None) -> None:
    """Raise :class:`TrackingStoreError` when the store at ``uri`` cannot be used.

    Args:
        uri: the tracking URI (None: :func:`~moalign.tracking.mlflow_tracker.default_tracking_uri`).
        timeout: seconds to wait for a server.
        name: how the message names where the URI came from (default: ``tracking.uri``,
            ``MLFLOW_TRACKING_URI`` or ``default store``).

    Raises:
        TrackingStoreError: one line: the URI, what failed and the fix.

    Example:
        >>> check_tracking_uri("http://127.0.0.1:9", timeout=2)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        moalign.tracking.uri_check.TrackingStoreError: tracking.uri http://127.0.0.1:9: ...
    """
    from moalign.tracking.mlflow_tracker import default_tracking_uri

    if name is None:
        name = ("tracking.uri" if uri else
                "MLFLOW_TRACKING_URI" if os.environ.get("MLFLOW_TRACKING_URI") else
                "default store")
    uri = uri or default_tracking_uri()
    problem = _problem(uri, timeout)
    if problem is not None:
        raise TrackingStoreError(f"{name} {_masked(uri)}: {problem}")


def _problem(uri: str, timeout: float) -> str | None:
    """What is wrong with the store at ``uri``, with the fix; None when it looks usable."""
    scheme = urlsplit(uri).scheme.lower()
    if scheme in ("http", "https"):
        return _http_problem(uri, timeout)
    if scheme == "sqlite":
        path = uri[len("sqlite:///"):] if uri.startswith("sqlite:///") else ""
        if not path or path == ":memory:":
            return None
        return _folder_problem(Path(path), database=True)
    if scheme == "file":
        return _folder_problem(Path(unquote(urlsplit(uri).path)), database=False)
    if scheme == "" or (len(scheme) == 1 and os.name == "nt"):  # a path (C:\... on Windows)
        return _folder_problem(Path(uri), database=False)
    base = scheme.split("+")[0]
    if base in _DB_PORTS:
        parts = urlsplit(uri)
        return _tcp_problem(parts.hostname or "localhost", parts.port or _DB_PORTS[base],
                            timeout)
    return None


def _bounded(call: object, timeout: float) -> tuple[bool, str | None]:
    """Run ``call()`` (returns a problem or None) in a thread; (finished, its answer).
    The thread bounds everything, name resolution included, by ``timeout``."""
    out: list[str | None] = []
    thread = threading.Thread(target=lambda: out.append(call()),  # type: ignore[operator]
                              daemon=True)
    thread.start()
    thread.join(timeout)
    return (True, out[0]) if out else (False, None)


def _http_status(url: str, timeout: float) -> int:
    """The HTTP status of ``GET url`` (raises ``OSError`` when nothing answers)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def _http_problem(uri: str, timeout: float) -> str | None:
    base = uri.rstrip("/")
    parts = urlsplit(uri)
    start = (f"start it (mlflow server --host {parts.hostname} --port {parts.port})"
             if parts.hostname in ("127.0.0.1", "localhost", "::1", "0.0.0.0") and parts.port
             else "check that the server is up and the URI is right")

    def ask() -> str | None:
        try:
            status = _http_status(f"{base}/health", timeout)
            if status == 404:  # a proxy may pass only the API through
                status = _http_status(f"{base}{_API}", timeout)
        except OSError as exc:
            return f"no MLflow server reachable ({_reason(getattr(exc, 'reason', exc))})"
        if status >= 500:
            return f"the server answered HTTP {status}"
        if status == 404:
            return f"no MLflow server there (HTTP 404 at /health and {_API.split('?')[0]})"
        return None  # 2xx; 401/403 and the like: a server is there, MLflow handles auth

    done, problem = _bounded(ask, 2 * timeout + 0.5)
    if not done:
        problem = f"no answer from the MLflow server within {timeout:g} s"
    return None if problem is None else f"{problem}; {start}, fix the URI, {FIX}"


def _tcp_problem(host: str, port: int, timeout: float) -> str | None:
    def connect() -> str | None:
        try:
            with socket.create_connection((host, port), timeout=timeout):
                return None
        except OSError as exc:
            return f"cannot connect to the database at {host}:{port} ({_reason(exc)})"

    done, problem = _bounded(connect, timeout + 0.5)
    if not done:
        problem = f"no answer from the database at {host}:{port} within {timeout:g} s"
    return None if problem is None else f"{problem}; start it or fix the URI, {FIX}"


def _folder_problem(path: Path, *, database: bool) -> str | None:
    folder = path.parent if database else path
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return (f"cannot create the folder {folder} ({_reason(exc)}); choose a writable "
                f"location, {FIX}")
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"the folder {folder} is not writable; choose a writable location, {FIX}"
    if database and path.exists() and not os.access(path, os.R_OK | os.W_OK):
        return f"the database {path} is not writable; fix its permissions, {FIX}"
    return None


def _reason(exc: object) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, socket.timeout | TimeoutError):
        return "timed out"
    if isinstance(exc, socket.gaierror):
        return "unknown host"
    text = getattr(exc, "strerror", None) or str(exc)
    return str(text).strip().splitlines()[0][:80] if str(text).strip() else type(exc).__name__


def _masked(uri: str) -> str:
    """``uri`` with any password replaced by ``***``."""
    parts = urlsplit(uri)
    if parts.password is None:
        return uri
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


__all__ = ["TrackingStoreError", "check_tracking_uri"]

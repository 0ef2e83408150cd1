"""The tracking URI is checked in seconds before a run opens: one line naming the URI and
the fix, instead of minutes of MLflow retries."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from moalign.cli import main
from moalign.tracking.uri_check import TrackingStoreError, check_tracking_uri

CLOSED = "http://127.0.0.1:9"  # the discard port: nothing listens there

RECIPE = """\
name: uri-check
problem: {name: zdt1}
solver: {name: random}
budget: {evaluations: 10}
tracking: {uri: 'URI', experiment: uri-check}
checkpoint: {dir: 'CKPT'}
"""


def test_closed_port_fails_fast_and_names_the_uri() -> None:
    t0 = time.monotonic()
    with pytest.raises(TrackingStoreError) as err:
        check_tracking_uri(CLOSED)
    assert time.monotonic() - t0 < 10
    msg = str(err.value)
    assert "\n" not in msg and msg.startswith(f"tracking.uri {CLOSED}: ")
    assert "mlflow server --host 127.0.0.1 --port 9" in msg
    assert "tracking.backend: none" in msg


def test_run_with_an_unreachable_server_is_one_line_exit_2(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(RECIPE.replace("URI", CLOSED).replace("CKPT", str(tmp_path / "ck")))
    t0 = time.monotonic()
    assert main(["run", str(recipe)]) == 2
    assert time.monotonic() - t0 < 10
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: tracking.uri {CLOSED}: "), err
    assert not (tmp_path / "ck").exists()  # nothing was started


def test_environment_uri_is_named_as_such(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", CLOSED)
    with pytest.raises(TrackingStoreError, match=f"^MLFLOW_TRACKING_URI {CLOSED}: "):
        check_tracking_uri(None)


class _Status(BaseHTTPRequestHandler):
    codes: dict[str, int] = {}

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self.send_response(self.codes.get(self.path.split("?")[0], 404))
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[tuple[str, dict[str, int]]]:
    codes: dict[str, int] = {}
    handler = type("Handler", (_Status,), {"codes": codes})
    httpd = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", codes
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_http_answers(server: tuple[str, dict[str, int]]) -> None:
    uri, codes = server
    codes["/health"] = 200
    check_tracking_uri(uri)
    codes["/health"] = 401  # a server that wants credentials: MLflow's business
    check_tracking_uri(uri)
    codes["/health"] = 503  # MLflow would retry this for minutes
    with pytest.raises(TrackingStoreError, match="answered HTTP 503"):
        check_tracking_uri(uri)
    codes.clear()
    codes["/prefix/api/2.0/mlflow/experiments/search"] = 200  # a proxy passing the API only
    check_tracking_uri(uri + "/prefix")
    with pytest.raises(TrackingStoreError, match="no MLflow server there"):
        check_tracking_uri(uri + "/elsewhere")


def test_local_stores(tmp_path: Path) -> None:
    check_tracking_uri(f"sqlite:///{tmp_path}/new/mlflow.db")
    assert (tmp_path / "new").is_dir()
    check_tracking_uri(str(tmp_path / "files"))
    check_tracking_uri("sqlite:///:memory:")
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(TrackingStoreError, match="cannot create the folder"):
        check_tracking_uri(f"sqlite:///{blocker}/sub/mlflow.db")


def test_database_server_and_password_masked() -> None:
    with pytest.raises(TrackingStoreError) as err:
        check_tracking_uri("postgresql://me:secret@127.0.0.1:9/mlflow", timeout=2)
    assert "secret" not in str(err.value) and "me:***@127.0.0.1:9" in str(err.value)
    check_tracking_uri("databricks")  # not checked


def test_report_and_compare_fail_fast_on_an_unreachable_uri(capsys):
    import time

    from moalign.cli import main

    for argv in (["report", "abc", "--uri", "http://127.0.0.1:9"],
                 ["compare", "abc", "--uri", "http://127.0.0.1:9"]):
        t0 = time.monotonic()
        assert main(argv) == 2
        assert time.monotonic() - t0 < 10
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "--uri http://127.0.0.1:9" in err[0]

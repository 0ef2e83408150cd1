"""Building the tiny model reports on stderr (minutes of silence otherwise): a line when
it starts, then step/total, time spent, ETA and loss every MOALIGN_PROGRESS_INTERVAL
seconds, and a line when it ends; a cached model prints nothing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

SMALL = {"hidden_size": 32, "intermediate_size": 64, "num_layers": 1, "num_heads": 2,
         "n_examples": 40, "steps": 6, "batch_size": 4}


@pytest.mark.llm
def test_tiny_model_build_reports_progress(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    from moalign.llm.tiny import build_tiny_model, tiny_config

    monkeypatch.setenv("MOALIGN_PROGRESS_INTERVAL", "0")  # a line after every step
    monkeypatch.delenv("MOALIGN_PROGRESS", raising=False)
    cfg = tiny_config("digits", **SMALL)
    path = build_tiny_model(tmp_path, cfg)
    out, err = capsys.readouterr()
    lines = err.splitlines()
    assert out == ""
    assert lines[0] == (f"building tiny model {path.name} (digits, 6 pre-training steps, "
                        f"once; then cached in {tmp_path})")
    steps = [ln for ln in lines if ln.startswith("building tiny model: step")]
    assert len(steps) == 6, lines
    assert re.fullmatch(r"building tiny model: step 6/6, \d+s, ETA 0s, loss \d+\.\d{3}",
                        steps[-1]), steps
    assert re.fullmatch(rf"tiny model built in \d+s: {re.escape(str(path))}", lines[-1])

    build_tiny_model(tmp_path, cfg)  # cached: silent
    assert capsys.readouterr().err == ""
    monkeypatch.setenv("MOALIGN_PROGRESS", "off")
    build_tiny_model(tmp_path, cfg, force=True)
    assert "tiny model" not in capsys.readouterr().err  # (transformers' own bars aside)

"""LLM test fixtures: no network, one cached tiny model for the whole session."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def tiny_model_path() -> Path:
    """The default tiny model (built once, then read from the moalign cache)."""
    from moalign.llm.tiny import build_tiny_model

    return build_tiny_model()


@pytest.fixture(scope="session")
def random_tiny_llama():
    """An untrained 1-layer, 32-wide Llama with the character tokenizer (instant)."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    from moalign.llm.tiny import build_char_tokenizer

    tok = build_char_tokenizer()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = LlamaForCausalLM(LlamaConfig(
            vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
            num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=64,
            pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id,
            bos_token_id=tok.bos_token_id))
    return model, tok



STOPPED = "stand-in trainer: stopped before training"  # tests match "stand-in trainer"


@pytest.fixture
def system_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private ``tempfile.gettempdir()``: other processes share the real one."""
    import tempfile

    folder = tmp_path / "system-tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


@pytest.fixture
def grpo_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[dict[str, Any], Any]]:
    """Record each ``GRPOConfig(**kwargs)`` the drw solver builds, as ``(kwargs, config)``;
    TRL's trainer is replaced by one that raises ``RuntimeError(STOPPED)``."""
    import trl

    calls: list[tuple[dict[str, Any], Any]] = []
    real = trl.GRPOConfig

    class Recording(real):  # type: ignore[misc, valid-type]
        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            calls.append((kwargs, self))

    def stop(**kwargs: Any) -> Any:
        raise RuntimeError(STOPPED)

    monkeypatch.setattr(trl, "GRPOConfig", Recording)
    monkeypatch.setattr(trl, "GRPOTrainer", stop)
    return calls


@pytest.fixture
def tiny_text_problem(tiny_model_path: Path) -> Any:
    """Eight tiny-math training prompts, two held out; accuracy and shortness."""
    from moalign.problems import get_problem

    return get_problem("text")(
        prompts="tiny-math", n_prompts=8, n_validation=2, policy=str(tiny_model_path),
        objectives=[{"fn": "exact_answer", "name": "accuracy"},
                    {"fn": "length", "name": "short", "params": {"below": 20}}])

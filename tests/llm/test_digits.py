"""The digits testbed: objectives in closed form, cache keys, deterministic builds and an
initial policy inside the front."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from moalign.llm.digits import digits_corpus, digits_prompts, near_len, sevens, threes
from moalign.llm.objectives import TEXT_OBJECTIVES
from moalign.llm.tiny import CHARS, TinyModelConfig, tiny_config

SMALL = {"hidden_size": 32, "intermediate_size": 64, "num_layers": 1, "num_heads": 2,
         "n_examples": 200, "steps": 4, "batch_size": 8}


def _values(obj_name: str, completions: list[str], **params: object) -> list[float]:
    obj = TEXT_OBJECTIVES.get(obj_name)(**params)
    return obj(prompts=["S: 1 2 3\nA:"] * len(completions), completions=completions).tolist()


def test_sevens_and_threes_closed_form() -> None:
    comps = [" 7737", " 3333", " 1245", " 7", "", " abc", " 7a3b"]
    assert _values("sevens", comps) == [0.75, 0.0, 0.0, 1.0, 0.0, 0.0, 0.5]
    assert _values("threes", comps) == [0.25, 1.0, 0.0, 0.0, 0.0, 0.0, 0.5]
    assert _values("sevens", comps, squared=True) == [0.5625, 0.0, 0.0, 1.0, 0.0, 0.0, 0.25]
    assert _values("threes", comps, squared=True) == [0.0625, 1.0, 0.0, 0.0, 0.0, 0.0, 0.25]


def test_sevens_plus_threes_at_most_one() -> None:
    comps = [t.partition("A:")[2] for t in digits_corpus(50, seed=3)]
    s, t = np.array(_values("sevens", comps)), np.array(_values("threes", comps))
    assert np.all(s + t <= 1.0 + 1e-12)


def test_near_len_closed_form() -> None:
    comps = [" 12345678", " 1234", " 1234567890123456", " 123456789012345678", "", " ab"]
    assert _values("near_len", comps) == [1.0, 0.5, 0.0, 0.0, 0.0, 0.0]
    assert _values("near_len", [" 123"], target=4) == [0.75]
    with pytest.raises(ValueError, match="target"):
        near_len(target=0)


def test_objectives_are_maximized_and_bounded() -> None:
    for obj in (sevens(), threes(squared=True), near_len()):
        assert obj.direction == "maximize" and obj.bounds == (0.0, 1.0)
    assert sevens(name="s7").name == "s7"


def test_prompts_and_corpus_use_the_vocabulary() -> None:
    rows = digits_prompts(5, seed=1)
    assert rows == digits_prompts(5, seed=1)
    assert all(r["prompt"].startswith("S: ") and r["prompt"].endswith("\nA:") for r in rows)
    texts = digits_corpus(100, seed=0)
    assert set("".join(texts)) <= set(CHARS)
    lens = [len(t.partition("A: ")[2]) for t in texts]
    assert min(lens) >= 3 and max(lens) <= 13
    with pytest.raises(ValueError):
        digits_corpus(2, p_seven=0.6, p_three=0.6)


def test_cache_key_covers_task_corpus_and_training() -> None:
    base = tiny_config("digits")
    assert base.task == "digits" and base.key() != TinyModelConfig().key()
    assert base.key() == tiny_config("digits").key()
    changed = [tiny_config("digits", **{k: v}) for k, v in [
        ("p_seven", 0.3), ("p_three", 0.1), ("p_hint", 0.2), ("digits_min_len", 2),
        ("digits_max_len", 12), ("n_examples", 1000), ("steps", 10), ("lr", 1e-3),
        ("batch_size", 16), ("seed", 1), ("hidden_size", 64)]]
    keys = {c.key() for c in changed}
    assert len(keys) == len(changed) and base.key() not in keys
    with pytest.raises(ValueError, match="task"):
        TinyModelConfig(task="poetry")


def test_cache_key_covers_vocabulary_and_version(monkeypatch: pytest.MonkeyPatch) -> None:
    import moalign.llm.tiny as tiny

    before = tiny_config("digits").key()
    monkeypatch.setattr(tiny, "CHARS", tiny.CHARS + "D")
    assert tiny_config("digits").key() != before
    monkeypatch.setattr(tiny, "CHARS", CHARS)
    monkeypatch.setattr(tiny, "_VERSION", tiny._VERSION + 1)
    assert tiny_config("digits").key() != before


def test_text_problem_accepts_digits_prompts(monkeypatch: pytest.MonkeyPatch,
                                             tmp_path: Path) -> None:
    from moalign.llm import problem as text_problem_module
    from moalign.problems import get_problem

    assert text_problem_module.tiny_task("tiny", "digits") == "digits"
    assert text_problem_module.tiny_task("tiny", "digits:3") == "digits"
    assert text_problem_module.tiny_task("tiny", "tiny-math") == "math"
    assert text_problem_module.tiny_task("tiny-digits", "data.jsonl") == "digits"
    assert text_problem_module.tiny_task("gpt2", "digits") is None
    prob = get_problem("text")(prompts="digits", n_prompts=6, n_validation=2,
                               policy=str(tmp_path),
                               objectives=["sevens", "threes", {"fn": "near_len",
                                                                "params": {"target": 6}}])
    assert len(prob.train.prompts) == 6 and len(prob.validation.prompts) == 2
    ev = prob.evaluate([" 777333", " 12"], prompts=["p", "p"])
    np.testing.assert_allclose(ev.F, [[0.5, 0.5, 1.0], [0.0, 0.0, 1 / 3]])


@pytest.mark.llm
def test_two_builds_give_identical_weights(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    import torch
    from transformers import AutoModelForCausalLM

    from moalign.llm.tiny import build_tiny_model

    cfg = tiny_config("digits", **SMALL)
    paths = []
    with torch.random.fork_rng(devices=[]):
        for sub in ("a", "b"):
            monkeypatch.setenv("MOALIGN_CACHE", str(tmp_path / sub))
            torch.manual_seed(int(sub == "b") + 123)  # the global stream must not matter
            paths.append(build_tiny_model(config=cfg))
    assert paths[0] != paths[1] and paths[0].name == paths[1].name
    sd = [AutoModelForCausalLM.from_pretrained(p).state_dict() for p in paths]
    assert sd[0].keys() == sd[1].keys()
    assert all(torch.equal(sd[0][k], sd[1][k]) for k in sd[0])


@pytest.mark.llm
def test_initial_digits_policy_is_inside_the_front() -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from moalign.llm.generation import sample_completions
    from moalign.llm.tiny import build_tiny_model

    path = build_tiny_model(config=tiny_config("digits"))
    model = AutoModelForCausalLM.from_pretrained(path)
    tok = AutoTokenizer.from_pretrained(path)
    prompts = [r["prompt"] for r in digits_prompts(8, seed=1)]
    comps, _ = sample_completions(model, tok, prompts, num_samples=4, max_new_tokens=24, seed=0)
    allp = [p for p in prompts for _ in range(4)]
    for obj in (sevens(), threes(), near_len()):
        mean = float(obj(prompts=allp, completions=comps).mean())
        assert 0.05 < mean < 0.95, (obj.name, mean, comps[:4])

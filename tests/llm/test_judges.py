"""Judges: the verdict contract, rule judges, the sandbox, the LLM judge's parsing, the
mixture and judges as text-problem constraints."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import numpy as np
import pytest

from moalign.llm.judges import (
    JUDGES,
    Judge,
    LLMJudge,
    MixtureOfJudges,
    RuleJudge,
    as_judge,
    build_judge,
    build_judges,
    exact_answer_judge,
    extract_code,
    length_judge,
    parse_yes_no,
    regex_judge,
    run_python,
    unit_test_judge,
    unshare_available,
    words_judge,
)
from moalign.problems import get_problem

P3 = ["p"] * 3


# -- contract ---------------------------------------------------------------------------


def test_exception_for_a_row_gives_minus_one_never_a_pass():
    def check(prompt: str, completion: str, row: dict[str, Any]) -> bool:
        if completion == "boom":
            raise RuntimeError("judge broke")
        return True

    assert RuleJudge("j", check)(P3, ["ok", "boom", "ok"]) == [1, -1, 1]

    def batch(prompts: Any, completions: Any, **kw: Any) -> list[int]:
        if "boom" in completions:
            raise RuntimeError("batch broke")
        return [1] * len(completions)

    j = as_judge(batch)  # a raising batch is retried row by row
    assert j.name == "batch" and j(P3, ["a", "boom", "b"]) == [1, -1, 1]
    odd = as_judge(lambda p, c, **kw: [1, 2, "yes"][: len(c)], name="odd")
    assert odd(P3, ["a", "b", "c"]) == [1, -1, -1]  # not -1/0/1: could not judge
    short = as_judge(lambda p, c, **kw: [1], name="short")
    assert short(P3, ["a", "b", "c"]) == [1, 1, 1]  # wrong length: retried per row


def test_judge_base_without_implementation_fails_every_row():
    assert Judge("nothing")(["p"], ["c"]) == [-1]
    with pytest.raises(ValueError, match="name"):
        Judge("")


# -- rule judges ------------------------------------------------------------------------


def test_exact_answer_judge_reuses_the_objectives_extraction():
    j = exact_answer_judge()
    got = j(P3, [" so 7", " 3 then 8", " no number"], answer=["7", "#### 7", "7"])
    assert got == [1, 0, 0]
    assert j(["p", "p"], [" 7", " 7"], answer=["7", None]) == [1, -1]  # no reference
    assert j(["p"], [" 7"]) == [-1]  # no answer column at all
    after = exact_answer_judge(extract="after:####", name="hash")
    assert after(["p", "p"], ["1 2 #### 3", "3"], answer=["3", "3"]) == [1, 0]


def test_regex_length_words_judges():
    digits = regex_judge(r"[0-9 ]+")
    assert digits(P3, ["1 2 3", "1 2 a", ""]) == [1, 0, 0]
    assert regex_judge(r"^[0-9 ]+$", mode="search")(["p"], ["12 3"]) == [1]
    assert regex_judge(r"sorry", mode="forbid", flags="i")(["p", "p"], ["SORRY", "ok"]) == [0, 1]
    with pytest.raises(ValueError, match="mode"):
        regex_judge("x", mode="nope")
    lj = length_judge(min=2, max=4)
    assert lj(["p"] * 4, ["a", "ab", "abcd", "abcde"]) == [0, 1, 1, 0]
    assert length_judge(max=2, unit="words")(["p", "p"], ["a b", "a b c"]) == [1, 0]
    assert length_judge(min=2, unit="lines")(["p", "p"], ["a\nb", "a"]) == [1, 0]
    with pytest.raises(ValueError):
        length_judge()
    wj = words_judge(required=["answer"], forbidden=["as an AI"])
    assert wj(P3, ["The Answer is 4", "answers: 4", "As an AI, the answer"]) == [1, 0, 0]
    assert words_judge(required=["ans"], whole_words=False)(["p"], ["answer"]) == [1]
    with pytest.raises(TypeError):
        words_judge(required="answer")  # type: ignore[arg-type]


# -- mixture ----------------------------------------------------------------------------


def test_mixture_all_must_pass_and_minus_one_is_not_a_pass():
    a = as_judge(lambda p, c, **kw: [1, 1, 1, 0], name="a")
    b = as_judge(lambda p, c, **kw: [1, -1, 0, -1], name="b")
    moj = MixtureOfJudges([a, b])
    assert moj(["p"] * 4, ["w", "x", "y", "z"]) == [1, -1, 0, 0]
    c = moj.counts()
    assert c["a"] == {"pass": 3, "violate": 1, "failed": 0}
    assert c["b"] == {"pass": 1, "violate": 1, "failed": 2}
    assert c["all"] == {"pass": 1, "violate": 2, "failed": 1}
    rates = moj.pass_rates()
    assert rates == {"a": 0.75, "b": 0.25, "all": 0.25}
    moj.reset()
    assert np.isnan(moj.pass_rates()["all"]) and moj.counts()["b"]["failed"] == 0
    all_failed = MixtureOfJudges([as_judge(lambda p, c, **kw: [-1] * len(c), name="f")])
    assert all_failed(["p"], ["x"]) == [-1] and all_failed.pass_rates()["f"] == 0.0


def test_mixture_refuses_duplicate_names():
    with pytest.raises(ValueError, match="unique"):
        MixtureOfJudges([regex_judge("a"), regex_judge("b")])
    with pytest.raises(ValueError, match="unique"):
        MixtureOfJudges([regex_judge("a", name="all")])
    with pytest.raises(ValueError):
        MixtureOfJudges([])


def test_specs_and_registry():
    assert {"exact_answer", "regex", "length", "words", "unit_test", "llm"} <= set(
        JUDGES.names())
    moj = build_judges([{"judge": "regex", "params": {"pattern": "^[0-9 ]+$",
                                                      "mode": "search"}},
                        {"judge": "length", "params": {"max": 5}, "name": "short"},
                        "exact_answer"])
    assert moj.names == ["regex", "short", "exact_answer"]
    assert moj(["p", "p"], ["1 2", "1 2 3 4"], answer=["2", "4"]) == [1, 0]
    with pytest.raises(ValueError, match="unknown keys"):
        build_judge({"judge": "regex", "pattern": "x"})
    with pytest.raises(ValueError, match="valid names"):
        build_judge("no_such_judge")
    with pytest.raises(ValueError, match="list"):
        build_judges("regex")


# -- judges as text-problem constraints ---------------------------------------------------


def test_judges_make_violating_completions_infeasible():
    rows = [{"prompt": f"Q{i}", "answer": str(i)} for i in range(6)]
    p = get_problem("text")(
        prompts=rows, policy="m", n_validation=2,
        objectives=[{"fn": "exact_answer", "name": "accuracy"}],
        judges=[{"judge": "regex", "params": {"pattern": "^[0-9 ]+$", "mode": "search"}},
                {"judge": "exact_answer", "name": "correct"}])
    assert p.judges is not None and p.judges.names == ["regex", "correct"]
    ev = p.evaluate([" 1", "1 is it", " 2", " 3"], prompts=["Q1"] * 4,
                    answer=["1", "1", "1", None])
    assert ev.F[:3, 0].tolist() == [1.0, 1.0, 0.0]
    assert ev.G is not None and ev.G.shape == (4, 2)
    assert ev.G[:3].tolist() == [[-1.0, -1.0], [1.0, -1.0], [-1.0, 1.0]]
    assert ev.feasible.tolist() == [True, False, False, False]
    assert ev.failed.tolist() == [False, False, False, True]  # nothing could judge row 4
    assert p.judges.counts()["regex"]["violate"] == 1
    plain = get_problem("text")(prompts=rows, policy="m", n_validation=2,
                                objectives=[{"fn": "exact_answer"}])
    assert plain.judges is None and plain.evaluate([" 1"], prompts=["Q"], answer=["1"]).G is None


# -- sandbox and unit-test judge -----------------------------------------------------------


def test_unit_test_judge_pass_fail_and_missing_tests():
    j = unit_test_judge(timeout=20)
    code_ok = "```python\ndef add(a, b):\n    return a + b\n```\nThat adds."
    got = j(P3, [code_ok, "def add(a, b):\n    return a - b", "def add(a, b): return a + b"],
            tests=["assert add(2, 3) == 5", "assert add(2, 3) == 5", None])
    assert got == [1, 0, -1]
    assert extract_code(code_ok) == "def add(a, b):\n    return a + b\n"


@pytest.mark.parametrize("ns", [False, True])
def test_sandbox_kills_a_non_terminating_test_within_its_limit(ns):
    if ns and not unshare_available():
        pytest.skip("unshare -rn does not work here")
    start = time.perf_counter()
    res = run_python("def f():\n    while True:\n        pass", "f()", timeout=1.0,
                     network_namespace=ns)
    assert res.timed_out and not res.passed and time.perf_counter() - start < 10
    j = unit_test_judge("f()", timeout=1.0, network_namespace=ns)
    assert j(["p"], ["def f():\n    while True: pass"]) == [0]  # a timeout is a violation


@pytest.fixture
def listener():
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    accepted: list[Any] = []

    def accept() -> None:
        try:
            accepted.append(srv.accept())
        except OSError:
            pass

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    yield srv.getsockname()[1], accepted
    srv.close()


@pytest.mark.parametrize("ns", [False, True])
def test_sandbox_blocks_network_connect(listener, ns):
    if ns and not unshare_available():
        pytest.skip("unshare -rn does not work here")
    port, accepted = listener
    code = (f"import socket\ns = socket.socket()\ns.settimeout(3)\n"
            f"s.connect(('127.0.0.1', {port}))")
    res = run_python(code, "", timeout=20, network_namespace=ns)
    assert not res.passed and res.returncode != 0
    if not ns:  # only the audit hook stands in the way
        assert "sandbox: socket.connect is not allowed" in res.stderr
    time.sleep(0.2)
    assert accepted == []
    # the same connection from here succeeds: the listener is real
    socket.create_connection(("127.0.0.1", port), timeout=3).close()


def test_sandbox_blocks_writes_outside_and_allows_inside(tmp_path):
    outside = tmp_path / "outside.txt"
    res = run_python(f"open({str(outside)!r}, 'w').write('x')", "", timeout=20)
    assert not res.passed and "no writes outside" in res.stderr and not outside.exists()
    for code in (f"import os\nos.remove({str(tmp_path / 'victim')!r})",
                 f"import pathlib\npathlib.Path({str(tmp_path / 'p.txt')!r}).write_text('x')",
                 f"import os\nos.open({str(tmp_path / 'o.txt')!r}, os.O_WRONLY | os.O_CREAT)",
                 "import os\nos.system('true')",
                 "import subprocess\nsubprocess.run(['true'])"):
        (tmp_path / "victim").write_text("keep")
        res = run_python(code, "", timeout=20)
        assert not res.passed and "sandbox:" in res.stderr, code
    assert (tmp_path / "victim").read_text() == "keep"
    assert sorted(f.name for f in tmp_path.iterdir()) == ["victim"]
    inside = ("import os, tempfile\nopen('out.txt', 'w').write('hi')\n"
              "os.makedirs('sub/dir')\nos.rename('out.txt', 'sub/dir/o.txt')\n"
              "fd, path = tempfile.mkstemp()\nos.close(fd)\nos.remove(path)\n")
    res = run_python(inside, "assert open('sub/dir/o.txt').read() == 'hi'\nprint('done')",
                     timeout=20)
    assert res.passed, res.stderr
    assert res.stdout.strip() == "done"


def test_sandbox_early_exit_is_not_a_pass():
    for code in ("import sys\nsys.exit(0)", "import os\nos._exit(0)"):
        res = run_python(code, "assert False", timeout=20)
        assert not res.passed, code
    assert unit_test_judge("assert False", timeout=20)(["p"], ["import os\nos._exit(0)"]) == [0]


# -- LLM judge ----------------------------------------------------------------------------


def test_parse_yes_no_is_strict():
    cases = {"yes": 1, " Yes.": 1, "\nYES, it is": 1, "no": 0, " No!": 0, "NO\n": 0,
             "yesterday": -1, "nope": -1, "I think yes": -1, "": -1, "y": -1, "Maybe": -1,
             "no_": -1, "yes2": -1}
    assert {t: parse_yes_no(t) for t in cases} == cases


class _FakeTokenizer:
    """Characters as token ids (``ord + 1``, 0 pads), left padding, like HF's API."""

    pad_token, pad_token_id, eos_token = "<pad>", 0, "<pad>"
    padding_side = truncation_side = "right"

    def __call__(self, texts: list[str], return_tensors: str = "pt", padding: bool = True,
                 truncation: bool = False, max_length: int = 10**6) -> dict[str, Any]:
        import torch

        ids = [[ord(ch) + 1 for ch in t][-max_length:] for t in texts]
        width = max(len(i) for i in ids)
        return {"input_ids": torch.tensor([[0] * (width - len(i)) + i for i in ids]),
                "attention_mask": torch.tensor([[0] * (width - len(i)) + [1] * len(i)
                                                for i in ids])}

    def batch_decode(self, ids: Any, skip_special_tokens: bool = True) -> list[str]:
        return ["".join(chr(int(i) - 1) for i in row if int(i) != 0) for row in ids]


class _FakeModel:
    """Answers with fixed text chosen by the judge prompt's completion (a stand-in for a
    causal LM's greedy ``generate``)."""

    device = "cpu"

    def __init__(self, answers: dict[str, str]) -> None:
        self.tok, self.answers, self.calls = _FakeTokenizer(), answers, []

    def generate(self, input_ids: Any, attention_mask: Any = None, **kw: Any) -> Any:
        import torch

        self.calls.append((kw, self.tok.padding_side))
        new = []
        for t in self.tok.batch_decode(input_ids):
            key = next(k for k in self.answers if f"[{k}]" in t)
            new.append([ord(ch) + 1 for ch in self.answers[key]])
        width = max(len(n) for n in new)
        rows = [n + [0] * (width - len(n)) for n in new]
        return torch.cat([input_ids, torch.tensor(rows, dtype=input_ids.dtype)], dim=1)


@pytest.mark.llm
def test_llm_judge_parses_answers_strictly_in_batches():
    answers = {"a": " Yes.", "b": " no", "c": " maybe", "d": "yesterday", "e": " NO!"}
    model = _FakeModel(answers)
    tok = model.tok
    j = LLMJudge(model, tok, question="is it fine?", batch_size=2, name="fine",
                 template="{prompt}{completion} {question}:")
    got = j(["q"] * 5, [f"[{k}]" for k in answers])
    assert got == [1, 0, -1, -1, 0]
    assert len(model.calls) == 3  # batches of 2
    assert all(kw["do_sample"] is False and side == "left" for kw, side in model.calls)
    assert j.last_answers[0] == " Yes." and tok.padding_side == "right"  # restored
    flipped = LLMJudge(model, tok, question="is it rude?", pass_on="no",
                       template="{prompt}{completion}")
    assert flipped(["q"] * 3, ["[a]", "[b]", "[c]"]) == [0, 1, -1]
    # a template field the row lacks: that row cannot be judged
    needs = LLMJudge(model, tok, question="?", template="{completion}{ref}")
    assert needs(["q", "q"], ["[a]", "[b]"], ref=["x", None]) == [1, 0]
    assert needs(["q"], ["[a]"]) == [-1]


@pytest.mark.llm
def test_llm_judge_on_a_real_tiny_model_is_deterministic(random_tiny_llama):
    model, tok = random_tiny_llama
    j = LLMJudge(model, tok, question="ok?", max_new_tokens=3, batch_size=3,
                 template="{prompt}{completion}?")
    a = j(["1+1="] * 4, ["2", "3", "11", "x"])
    answers = list(j.last_answers)
    assert a == j(["1+1="] * 4, ["2", "3", "11", "x"])
    assert a == [parse_yes_no(t or "") for t in answers]
    assert set(a) <= {-1, 0, 1}


def test_judge_factory_from_a_user_file(tmp_path):
    (tmp_path / "my_judges.py").write_text(
        "def no_sevens(name='no_sevens'):\n"
        "    def judge(prompts, completions, **kw):\n"
        "        return [0 if '7' in c else 1 for c in completions]\n"
        "    return judge\n")
    moj = build_judges([{"judge": "my_judges.py:no_sevens"}], base_dir=tmp_path)
    assert moj.names == ["no_sevens"] and moj(["p", "p"], ["1 2", "7"]) == [1, 0]

"""The registered text problem: datasets, objective specs, user reward files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from moalign.llm.problem import TextProblem, build_objective
from moalign.problems import get_problem

RECIPES = Path(__file__).resolve().parents[2] / "recipes"
OBJS = [{"fn": "exact_answer", "name": "accuracy"},
        {"fn": "length", "name": "conciseness", "params": {"below": 10}}]


def test_from_list_with_held_out_split():
    rows = [{"prompt": f"Q{i}", "answer": str(i)} for i in range(10)]
    p = get_problem("text")(prompts=rows, objectives=OBJS, policy="some/model", n_validation=3)
    assert isinstance(p, TextProblem)
    assert p.train.prompts == tuple(f"Q{i}" for i in range(7))
    assert p.validation.prompts == ("Q7", "Q8", "Q9")
    assert p.validation.extras["answer"] == ("7", "8", "9")
    assert p.objectives.names == ["accuracy", "conciseness"]
    assert p.policy == "some/model"
    ev = p.evaluate([" 7", " the answer is 8, long"], prompts=["Q7", "Q8"], answer=["7", "7"])
    assert ev.F.tolist() == [[1.0, 1.0], [0.0, 0.0]]
    with pytest.raises(TypeError):
        p.evaluate(["x"])


@pytest.mark.llm  # needs the llm extra
def test_from_jsonl_and_plain_strings(tmp_path):
    path = tmp_path / "train.jsonl"
    path.write_text("\n".join(json.dumps({"question": f"q{i}", "answer": i}) for i in range(6)))
    p = get_problem("text")(prompts=str(path), prompt_column="question", objectives=OBJS,
                            policy="m", validation=["v1", "v2"])
    assert len(p.train.prompts) == 6 and p.train.extras["answer"][2] == 2
    assert p.validation.prompts == ("v1", "v2")
    with pytest.raises(ValueError, match="prompt_column"):
        get_problem("text")(prompts=str(path), objectives=OBJS, policy="m")


@pytest.mark.llm  # needs the llm extra
def test_saved_hf_dataset_folder(tmp_path):
    import datasets

    datasets.Dataset.from_dict({"prompt": ["a", "b", "c"], "answer": ["1", "2", "3"]}
                               ).save_to_disk(str(tmp_path / "ds"))
    p = get_problem("text")(prompts="ds", base_dir=str(tmp_path), objectives=OBJS, policy="m",
                            n_validation=1)
    assert p.train.prompts == ("a", "b") and p.validation.prompts == ("c",)


def test_tiny_math_prompts_carry_answers():
    p = get_problem("text")(prompts="tiny-math", n_prompts=20, n_validation=5,
                            objectives=OBJS, policy="m")
    assert len(p.train.prompts) == 20 and len(p.validation.prompts) == 5
    for q, a in zip(p.train.prompts, p.train.extras["answer"], strict=True):
        x, op, y = q[3:].split("=")[0].partition("+") if "+" in q else q[3:].split("=")[
            0].partition("-")
        assert int(a) == (int(x) + int(y) if op == "+" else int(x) - int(y))


def test_user_reward_file_used_unchanged(tmp_path):
    (tmp_path / "rewards.py").write_text(
        "def shout(prompts, completions, **kwargs):\n"
        "    return [None if not c else float(c.isupper()) for c in completions]\n")
    obj = build_objective({"fn": "rewards.py:shout"}, base_dir=tmp_path)
    assert obj.name == "shout" and obj.direction == "maximize"
    v = obj(prompts=["p"] * 3, completions=["HI", "hi", ""])
    assert v[:2].tolist() == [1.0, 0.0] and np.isnan(v[2])
    # the repository's recipes/my_rewards.py, by module-style spec with a renamed objective
    fmt = build_objective({"fn": str(RECIPES / "my_rewards.py") + ":hash_format",
                           "name": "format"})
    assert fmt(prompts=["p", "p"], completions=[" 3+4=7. #### 7", " 7"]).tolist() == [1.0, 0.0]
    mod = build_objective("moalign.llm.tiny:math_prompts")  # module:function form resolves
    assert mod.name == "math_prompts"


def test_bad_specs():
    with pytest.raises(ValueError, match="built-in"):
        build_objective("no_such_reward")
    with pytest.raises(ValueError, match="unknown keys"):
        build_objective({"fn": "length", "weight": 2})
    with pytest.raises(FileNotFoundError):
        build_objective("missing_file.py:f")
    normed = build_objective({"fn": "regex", "params": {"pattern": "x"}, "normalize": "bounds"})
    assert normed.bounds == (0.0, 1.0)

"""Judges for constrained alignment (CGPO, Xu et al., 2024): callables
``judge(prompts, completions, **columns) -> list[int]`` with 1 pass, 0 violate, -1 could not
judge (never a pass), their mixture (all must pass) and their use as constraints of the
text problem. Importing this package imports neither transformers nor torch."""

from moalign.llm.judges.base import (
    FAILED,
    JUDGES,
    PASS,
    VIOLATE,
    FunctionJudge,
    Judge,
    MixtureOfJudges,
    RuleJudge,
    as_judge,
    build_judge,
    build_judges,
    combine,
    constraint_values,
    judge_constraints,
    register_judge,
)
from moalign.llm.judges.llm import LLMJudge, llm_judge, parse_yes_no
from moalign.llm.judges.rules import exact_answer_judge, length_judge, regex_judge, words_judge
from moalign.llm.judges.sandbox import (
    SandboxResult,
    UnitTestJudge,
    extract_code,
    run_python,
    unit_test_judge,
    unshare_available,
)

__all__ = [
    "FAILED",
    "JUDGES",
    "PASS",
    "VIOLATE",
    "FunctionJudge",
    "Judge",
    "LLMJudge",
    "MixtureOfJudges",
    "RuleJudge",
    "SandboxResult",
    "UnitTestJudge",
    "as_judge",
    "build_judge",
    "build_judges",
    "combine",
    "constraint_values",
    "exact_answer_judge",
    "extract_code",
    "judge_constraints",
    "length_judge",
    "llm_judge",
    "parse_yes_no",
    "regex_judge",
    "register_judge",
    "run_python",
    "unit_test_judge",
    "unshare_available",
    "words_judge",
]

"""Rule-based judges: exact answer, regex format, length bounds, required/forbidden words.

Each factory returns a :class:`~moalign.llm.judges.base.RuleJudge` (1 pass, 0 violate,
-1 could not judge) and is registered in :data:`~moalign.llm.judges.base.JUDGES` under the
name in its decorator, so a recipe can list ``{judge: regex, params: {pattern: ...}}``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from moalign.llm.judges.base import FAILED, PASS, VIOLATE, Judge, RuleJudge, register_judge
from moalign.llm.objectives import exact_answer


@register_judge("exact_answer")
def exact_answer_judge(*, column: str = "answer", extract: str = "last_number",
                       name: str = "exact_answer") -> Judge:
    """Pass when the completion's answer equals the row's ``column`` value.

    The answer is read exactly as the ``exact_answer`` objective reads it
    (:func:`moalign.llm.objectives.exact_answer`, which this judge calls): the last
    number, ``after:<marker>`` or a regex group. A row without a reference answer (or a
    batch without the column) gives -1.

    Example:
        >>> exact_answer_judge()(["1+1="], [" it is 2"], answer=["2"])
        [1]
    """
    objective = exact_answer(column=column, extract=extract, name=name)

    def check(prompt: str, completion: str, row: dict[str, Any]) -> int:
        if row.get(column) is None:
            return FAILED
        v = objective.fn(prompts=[prompt], completions=[completion], **{column: [row[column]]})
        return FAILED if v[0] is None else PASS if v[0] == 1.0 else VIOLATE

    return RuleJudge(name, check)


@register_judge("regex")
def regex_judge(pattern: str, mode: str = "fullmatch", *, flags: str = "",
                name: str = "regex") -> Judge:
    """Pass when the completion matches ``pattern``.

    Args:
        pattern: a Python regular expression.
        mode: ``"fullmatch"`` (the whole completion), ``"match"`` (at its start),
            ``"search"`` (anywhere) or ``"forbid"`` (pass when the pattern is found
            nowhere).
        flags: letters of ``re`` flags: ``i`` (IGNORECASE), ``m`` (MULTILINE),
            ``s`` (DOTALL).
        name: judge name.

    Example:
        >>> regex_judge(r"[0-9 ]+")(["p", "p"], ["1 2", "1 a"])
        [1, 0]
    """
    modes = ("fullmatch", "match", "search", "forbid")
    if mode not in modes:
        raise ValueError(f"regex judge: mode must be one of {list(modes)}, got {mode!r}")
    known = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL}
    bad = set(flags) - set(known)
    if bad:
        raise ValueError(f"regex judge: unknown flags {sorted(bad)}; use i, m, s")
    f = 0
    for ch in flags:
        f |= known[ch]
    rx = re.compile(pattern, f)
    test = rx.search if mode == "forbid" else getattr(rx, mode)

    def check(prompt: str, completion: str, row: dict[str, Any]) -> bool:
        found = test(completion) is not None
        return not found if mode == "forbid" else found

    return RuleJudge(name, check)


@register_judge("length")
def length_judge(min: int | None = None, max: int | None = None, unit: str = "chars", *,
                 name: str = "length") -> Judge:
    """Pass when ``min <= length <= max`` (either bound optional).

    Args:
        min: shortest allowed length (inclusive).
        max: longest allowed length (inclusive).
        unit: ``"chars"``, ``"words"`` (whitespace-separated) or ``"lines"``.
        name: judge name.

    Example:
        >>> length_judge(max=3, unit="words")(["p", "p"], ["a b c", "a b c d"])
        [1, 0]
    """
    if unit not in ("chars", "words", "lines"):
        raise ValueError(f"length judge: unit must be chars, words or lines, got {unit!r}")
    if min is None and max is None:
        raise ValueError("length judge: set min, max or both")
    if min is not None and max is not None and min > max:
        raise ValueError(f"length judge: min {min} > max {max}")

    def size(text: str) -> int:
        if unit == "words":
            return len(text.split())
        return len(text.splitlines()) if unit == "lines" else len(text)

    def check(prompt: str, completion: str, row: dict[str, Any]) -> bool:
        n = size(completion)
        return (min is None or n >= min) and (max is None or n <= max)

    return RuleJudge(name, check)


@register_judge("words")
def words_judge(required: Sequence[str] = (), forbidden: Sequence[str] = (), *,
                case_sensitive: bool = False, whole_words: bool = True,
                name: str = "words") -> Judge:
    """Pass when every ``required`` word is present and no ``forbidden`` word is.

    Args:
        required: words (or phrases) that must all appear.
        forbidden: words (or phrases) none of which may appear.
        case_sensitive: compare case-sensitively.
        whole_words: match whole words only (``\\b`` boundaries), not substrings.
        name: judge name.

    Example:
        >>> words_judge(required=["answer"], forbidden=["sorry"])(
        ...     ["p"] * 3, ["The answer: 4", "Sorry, the answer", "4"])
        [1, 0, 0]
    """
    if isinstance(required, str) or isinstance(forbidden, str):
        raise TypeError("words judge: required and forbidden are lists of words")
    if not required and not forbidden:
        raise ValueError("words judge: give required or forbidden words")
    f = 0 if case_sensitive else re.IGNORECASE

    def compile_word(w: str) -> re.Pattern[str]:
        body = re.escape(w)
        return re.compile(rf"(?<!\w){body}(?!\w)" if whole_words else body, f)

    req = [compile_word(w) for w in required]
    forb = [compile_word(w) for w in forbidden]

    def check(prompt: str, completion: str, row: dict[str, Any]) -> bool:
        return (all(r.search(completion) for r in req)
                and not any(r.search(completion) for r in forb))

    return RuleJudge(name, check)

"""An LLM judge: a local causal LM asked a yes/no question about each (prompt, completion).

transformers and torch are imported when the judge first runs, not on import.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from moalign.llm.judges.base import FAILED, PASS, VIOLATE, Judge, _row, register_judge
from moalign.llm.objectives import completion_text, prompt_text

DEFAULT_TEMPLATE = ("{prompt}{completion}\n\nQuestion about the text above: {question} "
                    "Answer yes or no.\nAnswer:")
_YES_NO = re.compile(r"\s*(yes|no)(?![a-z0-9_])", re.IGNORECASE)


def parse_yes_no(text: str) -> int:
    """1 for a leading "yes", 0 for a leading "no" (case-insensitive, after whitespace,
    as a whole word), else -1.

    Example:
        >>> [parse_yes_no(t) for t in [" Yes.", "no, because", "yesterday", "I think yes"]]
        [1, 0, -1, -1]
    """
    m = _YES_NO.match(text)
    if m is None:
        return FAILED
    return PASS if m.group(1).lower() == "yes" else VIOLATE


class LLMJudge(Judge):
    """Asks a local causal LM a yes/no question per row; "yes" passes (or "no", with
    ``pass_on="no"``), anything but a leading yes/no is -1.

    The prompt is ``template.format(prompt=..., completion=..., question=..., **row)`` (the
    row's dataset columns are available to the template). Decoding is greedy
    (``do_sample=False``), so verdicts are deterministic for a given model; rows go through
    the model in batches of ``batch_size``, left-padded.

    Args:
        model: a model name or local path (loaded with ``AutoModelForCausalLM`` on first
            use), or a loaded model with ``generate``.
        tokenizer: the tokenizer (default: loaded from ``model`` when it is a path).
        question: the yes/no question ("Is the answer polite?").
        template: the judge prompt (see above).
        pass_on: ``"yes"`` or ``"no"``: the answer that means the constraint holds.
        max_new_tokens: tokens generated per answer.
        batch_size: rows per ``generate`` call.
        max_length: longest judge prompt in tokens (longer ones are cut from the left).
        device: where a model loaded here runs.
        name: judge name.
    """

    def __init__(self, model: Any, tokenizer: Any = None, *, question: str,
                 template: str = DEFAULT_TEMPLATE, pass_on: str = "yes",
                 max_new_tokens: int = 4, batch_size: int = 8, max_length: int = 1024,
                 device: str = "cpu", name: str = "llm") -> None:
        super().__init__(name)
        if pass_on not in ("yes", "no"):
            raise ValueError(f"llm judge: pass_on must be 'yes' or 'no', got {pass_on!r}")
        if "{completion}" not in template:
            raise ValueError("llm judge: the template must contain {completion}")
        if batch_size < 1 or max_new_tokens < 1:
            raise ValueError("llm judge: batch_size and max_new_tokens must be >= 1")
        self.model, self.tokenizer = model, tokenizer
        self.question, self.template, self.pass_on = question, template, pass_on
        self.max_new_tokens, self.batch_size = max_new_tokens, batch_size
        self.max_length, self.device = max_length, device
        self.last_answers: list[str | None] = []

    def _load(self) -> None:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        if isinstance(self.model, str):
            path = self.model
            model: Any = AutoModelForCausalLM.from_pretrained(path)
            self.model = model.to(self.device).eval()
            if self.tokenizer is None:
                self.tokenizer = AutoTokenizer.from_pretrained(path)
        if self.tokenizer is None:
            raise ValueError("llm judge: pass the tokenizer with a loaded model")
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token

    def judge_prompt(self, prompt: Any, completion: Any, row: dict[str, Any]) -> str:
        """The text the judge model sees for one row."""
        extra = {k: v for k, v in row.items()
                 if k not in ("prompt", "completion", "question")}
        return self.template.format(prompt=prompt_text(prompt),
                                    completion=completion_text(completion),
                                    question=self.question, **extra)

    def answers(self, texts: Sequence[str]) -> list[str]:
        """The model's greedy answers to judge prompts."""
        import torch

        if isinstance(self.model, str) or self.tokenizer is None:
            self._load()
        tok, model = self.tokenizer, self.model
        out: list[str] = []
        old_side = getattr(tok, "padding_side", "left")
        old_trunc = getattr(tok, "truncation_side", "left")
        tok.padding_side, tok.truncation_side = "left", "left"
        try:
            for i in range(0, len(texts), self.batch_size):
                enc = tok(list(texts[i : i + self.batch_size]), return_tensors="pt",
                          padding=True, truncation=True, max_length=self.max_length)
                dev = getattr(model, "device", None) or self.device
                enc = {k: v.to(dev) for k, v in enc.items()}
                with torch.inference_mode():
                    ids = model.generate(**enc, do_sample=False,
                                         max_new_tokens=self.max_new_tokens,
                                         pad_token_id=tok.pad_token_id)
                new = ids[:, enc["input_ids"].shape[1]:]
                out.extend(tok.batch_decode(new, skip_special_tokens=True))
        finally:
            tok.padding_side, tok.truncation_side = old_side, old_trunc
        return out

    def verdicts(self, prompts: Sequence[Any], completions: Sequence[Any], **columns: Any
                 ) -> list[int]:
        texts: list[str | None] = []
        for i, (p, c) in enumerate(zip(prompts, completions, strict=True)):
            try:
                texts.append(self.judge_prompt(p, c, _row(columns, i)))
            except Exception:  # a template field the row lacks
                texts.append(None)
        ok = [t for t in texts if t is not None]
        it = iter(self.answers(ok) if ok else [])
        self.last_answers = [next(it) if t is not None else None for t in texts]
        out = []
        for a in self.last_answers:
            v = FAILED if a is None else parse_yes_no(a)
            if self.pass_on == "no" and v != FAILED:
                v = PASS if v == VIOLATE else VIOLATE
            out.append(v)
        return out


@register_judge("llm")
def llm_judge(model: Any, tokenizer: Any = None, *, question: str,
              template: str = DEFAULT_TEMPLATE, pass_on: str = "yes", max_new_tokens: int = 4,
              batch_size: int = 8, max_length: int = 1024, device: str = "cpu",
              name: str = "llm") -> LLMJudge:
    """An :class:`LLMJudge` (registered as ``"llm"``)."""
    return LLMJudge(model, tokenizer, question=question, template=template, pass_on=pass_on,
                    max_new_tokens=max_new_tokens, batch_size=batch_size,
                    max_length=max_length, device=device, name=name)

"""A tiny local causal LM and character tokenizer, pre-trained in seconds on synthetic math.

Nothing is downloaded: the tokenizer is a character-level ``WordLevel`` model built in code
and wrapped in a :class:`transformers.PreTrainedTokenizerFast`; the model is a
``LlamaForCausalLM`` (2 layers, 128 wide by default). It is pre-trained on a synthetic
corpus of arithmetic questions whose answers vary in length, format and correctness, so
that its samples differ enough for rule rewards (accuracy, conciseness, format) to
discriminate — the CPU stand-in for the math-reasoning setting of Lu et al. (2025).

Corpus line: ``"Q: 12+7=?\\nA:"`` followed by one of five answer styles::

    " 19"                              short, often wrong
    " #### 19"                         short, formatted
    " 12+7=19. #### 19"                worked, formatted
    " 12 plus 7 makes 19. So 19"       long, unformatted
    " 12 plus 7 makes 19. #### 19"     long, formatted

Short answers are wrong more often than worked ones, so accuracy trades off against
conciseness.

With ``task="digits"`` (:func:`tiny_config`) the same builder pre-trains on the digits
testbed instead (:mod:`moalign.llm.digits`: ``"S: 5 1 7\nA:"`` followed by a mixed digit
string), in about half a minute on one CPU thread.

The built model is cached under ``$MOALIGN_CACHE`` (default ``~/.cache/moalign``) in a
folder keyed by a hash of its configuration; a second call loads it from disk. A build
reports on stderr: a line when it starts, then ``building tiny model: step 100/600, 12s,
ETA 60s, loss 1.234`` about every 10 s (``MOALIGN_PROGRESS_INTERVAL``).

Example:
    >>> path = build_tiny_model()                        # doctest: +SKIP
    >>> model = AutoModelForCausalLM.from_pretrained(path)  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from moalign.core.progress import Ticker, format_duration, progress_mode

_VERSION = 2  # bump whenever code that shapes the model (corpus, training loop) changes
TASKS = ("math", "digits")
CHARS = " 0123456789+-*=?.#:\nQAabcdefghijklmnopqrstuvwxyzST,<>"
SPECIALS = ("<pad>", "<bos>", "<eos>", "<unk>")


@dataclass(frozen=True)
class TinyModelConfig:
    """What defines a tiny model (its cache key hashes these fields, the vocabulary and
    :data:`_VERSION`).

    Args:
        task: ``"math"`` (arithmetic corpus) or ``"digits"`` (the digits testbed,
            :mod:`moalign.llm.digits`); :func:`tiny_config` gives each task's defaults.
        hidden_size: model width.
        num_layers: transformer layers.
        num_heads: attention heads.
        intermediate_size: MLP width.
        max_operand: math: operands are drawn from ``[0, max_operand]``.
        digits_min_len, digits_max_len: digits: answer lengths (uniform, inclusive).
        p_seven, p_three, p_hint: digits: probability that an answer digit is a 7, a 3,
            or one of the prompt's hint digits (else uniform).
        n_examples: corpus size.
        steps: pre-training steps (AdamW).
        batch_size: sequences per step.
        lr: learning rate.
        seed: seed of the corpus and the initialization.
    """

    task: str = "math"
    hidden_size: int = 128
    num_layers: int = 2
    num_heads: int = 4
    intermediate_size: int = 256
    max_operand: int = 10
    digits_min_len: int = 3
    digits_max_len: int = 13
    p_seven: float = 0.2
    p_three: float = 0.2
    p_hint: float = 0.3
    n_examples: int = 4000
    steps: int = 600
    batch_size: int = 32
    lr: float = 3e-3
    seed: int = 0

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise ValueError(f"TinyModelConfig: task must be one of {TASKS}, got {self.task!r}")

    def key(self) -> str:
        """A 12-hex-digit hash of every field, the vocabulary and the code version."""
        blob = json.dumps({**asdict(self), "version": _VERSION, "chars": CHARS,
                           "specials": list(SPECIALS)}, sort_keys=True)
        return hashlib.sha1(blob.encode()).hexdigest()[:12]


def tiny_config(task: str = "math", **overrides: Any) -> TinyModelConfig:
    """The default configuration of a task (digits: 300 steps on 2000 examples), with
    ``overrides`` applied."""
    defaults: dict[str, Any] = {"digits": {"steps": 300, "n_examples": 2000}}.get(task, {})
    return TinyModelConfig(task=task, **{**defaults, **overrides})


def cache_root() -> Path:
    """``$MOALIGN_CACHE`` or ``~/.cache/moalign``."""
    env = os.environ.get("MOALIGN_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "moalign"


def make_question(rng: np.random.Generator, max_operand: int) -> tuple[str, str]:
    """One arithmetic prompt and its answer, e.g. ``("Q: 12+7=?\\nA:", "19")``."""
    a, b = (int(v) for v in rng.integers(0, max_operand + 1, size=2))
    if rng.random() < 0.5:
        return f"Q: {a}+{b}=?\nA:", str(a + b)
    a, b = max(a, b), min(a, b)
    return f"Q: {a}-{b}=?\nA:", str(a - b)


def _answer_text(rng: np.random.Generator, prompt: str, answer: str) -> str:
    expr = prompt[3:].split("=")[0]
    op = "+" if "+" in expr else "-"
    a, b = expr.split(op)
    style = int(rng.integers(0, 5))
    p_wrong = (0.45, 0.35, 0.1, 0.15, 0.1)[style]
    ans = answer
    if rng.random() < p_wrong:
        ans = str(max(0, int(answer) + int(rng.choice([-2, -1, 1, 2]))))
    word = "plus" if op == "+" else "minus"
    return [
        f" {ans}",
        f" #### {ans}",
        f" {a}{op}{b}={ans}. #### {ans}",
        f" {a} {word} {b} makes {ans}. So {ans}",
        f" {a} {word} {b} makes {ans}. #### {ans}",
    ][style]


def synthetic_corpus(n: int, *, max_operand: int = 10, seed: int = 0) -> list[str]:
    """`n` training texts (prompt + answer, no special tokens)."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        prompt, answer = make_question(rng, max_operand)
        out.append(prompt + _answer_text(rng, prompt, answer))
    return out


def training_corpus(cfg: TinyModelConfig) -> list[str]:
    """The pre-training texts of a configuration (its task's corpus)."""
    if cfg.task == "digits":
        from moalign.llm.digits import digits_corpus

        return digits_corpus(cfg.n_examples, min_len=cfg.digits_min_len,
                             max_len=cfg.digits_max_len, p_seven=cfg.p_seven,
                             p_three=cfg.p_three, p_hint=cfg.p_hint, seed=cfg.seed)
    return synthetic_corpus(cfg.n_examples, max_operand=cfg.max_operand, seed=cfg.seed)


def math_prompts(n: int, *, max_operand: int = 10, seed: int = 1) -> list[dict[str, str]]:
    """`n` prompt rows ``{"prompt": ..., "answer": ...}`` for alignment runs."""
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(n):
        prompt, answer = make_question(rng, max_operand)
        rows.append({"prompt": prompt, "answer": answer})
    return rows


def build_char_tokenizer() -> Any:
    """A character-level ``PreTrainedTokenizerFast`` (adds ``<bos>``, pads left with ``<pad>``)."""
    from tokenizers import Regex, Tokenizer, decoders, pre_tokenizers, processors
    from tokenizers.models import WordLevel
    from transformers import PreTrainedTokenizerFast

    vocab = {t: i for i, t in enumerate((*SPECIALS, *CHARS))}
    tok = Tokenizer(WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Split(Regex("."), behavior="isolated")
    tok.decoder = decoders.Fuse()
    tok.post_processor = processors.TemplateProcessing(
        single="<bos> $A", pair="<bos> $A $B", special_tokens=[("<bos>", vocab["<bos>"])]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<bos>",
        eos_token="<eos>",
        pad_token="<pad>",
        unk_token="<unk>",
        padding_side="left",
    )


def build_tiny_model(
    cache_dir: str | Path | None = None,
    config: TinyModelConfig | None = None,
    *,
    force: bool = False,
    progress: bool = True,
) -> Path:
    """Build (or load from cache) the tiny pre-trained model; returns its directory.

    Args:
        cache_dir: parent folder of the cache (default :func:`cache_root`).
        config: what to build (default :class:`TinyModelConfig`, the math model; see
            :func:`tiny_config` for the digits model).
        force: rebuild even if cached.
        progress: report a build on stderr: a line when it starts, then the step, the time
            spent, the ETA and the loss every ``MOALIGN_PROGRESS_INTERVAL`` seconds
            (default 10), and a line when it ends; nothing when the model is cached or
            ``MOALIGN_PROGRESS=off``.

    Returns:
        A directory loadable with ``AutoModelForCausalLM.from_pretrained`` and
        ``AutoTokenizer.from_pretrained``.
    """
    cfg = config or TinyModelConfig()
    root = Path(cache_dir) if cache_dir is not None else cache_root()
    path = root / f"tiny-llama-{cfg.key()}"
    if (path / "config.json").is_file() and not force:
        return path
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".building-", dir=root))
    report = _BuildReport(cfg, path) if progress else None
    try:
        model, tok = _pretrain(cfg, report=report)
        model.save_pretrained(tmp)
        tok.save_pretrained(tmp)
        (tmp / "moalign_tiny.json").write_text(json.dumps(asdict(cfg), indent=1))
        if path.exists():
            shutil.rmtree(path)
        tmp.replace(path)
        if report is not None:
            report.done(path)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return path


class _BuildReport:
    """The tiny-model builder's lines on stderr (see :func:`build_tiny_model`)."""

    def __init__(self, cfg: TinyModelConfig, path: Path) -> None:
        self.total = cfg.steps
        self.quiet = progress_mode() == "off"
        self.ticker = Ticker()
        self.t0 = time.monotonic()
        self._say(f"building tiny model {path.name} ({cfg.task}, {cfg.steps} pre-training "
                  f"steps, once; then cached in {path.parent})")

    def _say(self, text: str) -> None:
        if not self.quiet:
            print(text, file=sys.stderr, flush=True)

    def step(self, done: int, loss: Any) -> None:
        """After pre-training step ``done`` (1-based); ``loss``: its loss tensor."""
        if self.quiet or not self.ticker.due():
            return
        spent = time.monotonic() - self.t0
        eta = spent * (self.total - done) / max(done, 1)
        self._say(f"building tiny model: step {done}/{self.total}, {format_duration(spent)}, "
                  f"ETA {format_duration(eta)}, loss {float(loss):.3f}")

    def done(self, path: Path) -> None:
        self._say(f"tiny model built in {format_duration(time.monotonic() - self.t0)}: "
                  f"{path}")


def _pretrain(cfg: TinyModelConfig, *, report: _BuildReport | None = None
              ) -> tuple[Any, Any]:
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    tok = build_char_tokenizer()
    gen = torch.Generator().manual_seed(cfg.seed)
    with torch.random.fork_rng(devices=[]):
        torch.random.manual_seed(cfg.seed)  # local fork: weight init only
        model = LlamaForCausalLM(
            LlamaConfig(
                vocab_size=len(tok),
                hidden_size=cfg.hidden_size,
                intermediate_size=cfg.intermediate_size,
                num_hidden_layers=cfg.num_layers,
                num_attention_heads=cfg.num_heads,
                num_key_value_heads=cfg.num_heads,
                max_position_embeddings=128,
                bos_token_id=tok.bos_token_id,
                eos_token_id=tok.eos_token_id,
                pad_token_id=tok.pad_token_id,
                tie_word_embeddings=True,
            )
        )
    texts = training_corpus(cfg)
    enc = tok([t + tok.eos_token for t in texts], padding=True, padding_side="right",
              return_tensors="pt")
    ids, mask = enc["input_ids"], enc["attention_mask"]
    labels = ids.masked_fill(mask == 0, -100)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=0.0)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=cfg.steps,
                                                pct_start=0.1)
    model.train()
    for step in range(cfg.steps):
        idx = torch.randint(0, len(texts), (cfg.batch_size,), generator=gen)
        width = int(mask[idx].sum(1).max())
        out = model(input_ids=ids[idx, :width], attention_mask=mask[idx, :width],
                    labels=labels[idx, :width])
        opt.zero_grad()
        out.loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        if report is not None:
            report.step(step + 1, out.loss.detach())
    model.eval()
    model.generation_config.pad_token_id = tok.pad_token_id
    model.generation_config.eos_token_id = tok.eos_token_id
    model.generation_config.bos_token_id = tok.bos_token_id
    return model, tok

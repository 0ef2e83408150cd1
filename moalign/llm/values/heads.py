"""Value heads: a frozen reference policy whose last hidden state feeds `G` linear heads.

Son, S. et al. (2025). *Robust Multi-Objective Controlled Decoding of Large Language
Models.* The value of a prefix is read from the reference policy's last-layer hidden state
``h(x, y_{<t})`` at its last token, ``V(x, y_{<t}) = μ + σ ⊙ W·(h − m)P`` (`G` linear heads,
or a small MLP with one shared hidden layer), where ``m, P`` whiten the features and
``μ, σ`` put the standardized outputs back in reward units (both fitted on the training
prefixes, see :mod:`moalign.llm.values.training`). The policy's weights never change.
``features="last+mean"`` appends the mean of the states over the prefix to ``h``.

Saved as a folder (:meth:`ValueHeads.save`, logged by ``moalign run`` as the artifact
``value_model``)::

    value_model.json   names, base reference, head config, output scale, training summary
    heads.pt           the heads' state dict (torch.save; loaded with weights_only=True)
    tokenizer/         the tokenizer (save_pretrained)
    base/              the reference policy (save_pretrained), unless it is a hub model name
                       or copy_base=False

A base that is a local folder (the cached tiny model, a fine-tuned checkpoint, a temporary
folder) may vanish, so by default its weights are written into ``base/`` and the folder is
self-contained; a hub name (``Qwen/Qwen2.5-0.5B``) is only referenced and fetched again by
transformers on load. ``copy_base=False`` references a local folder by its path too.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch

from moalign.core.seeding import seeded_torch

FORMAT = 1
CONFIG_FILE = "value_model.json"
WEIGHTS_FILE = "heads.pt"
BASE_DIR = "base"
TOKENIZER_DIR = "tokenizer"


class HeadNet(torch.nn.Module):
    """`G` value heads on `d`-dim features: ``μ + σ ⊙ net((h − m) P)``.

    Args:
        input_dim: `d`, the feature width (the base's hidden size, twice that for
            ``"last+mean"``).
        n_out: `G`, one output per objective.
        hidden_size: 0 for `G` linear heads (one ``Linear(d, G)``), else the width of one
            shared hidden layer (``Linear -> ReLU -> Linear``).

    The buffers ``in_mean`` (``m``), ``in_proj`` (``P``, `d x d`: the whitening of the
    training features, so that a first-order optimizer fits the heads in a few epochs
    although the hidden states are strongly correlated), ``out_mean`` and ``out_scale``
    (``μ, σ``) are set by training and saved with the weights.
    """

    in_mean: torch.Tensor
    in_proj: torch.Tensor
    out_mean: torch.Tensor
    out_scale: torch.Tensor

    def __init__(self, input_dim: int, n_out: int, hidden_size: int = 0) -> None:
        super().__init__()
        self.input_dim, self.n_out, self.hidden_size = input_dim, n_out, hidden_size
        self.register_buffer("in_mean", torch.zeros(input_dim))
        self.register_buffer("in_proj", torch.eye(input_dim))
        self.register_buffer("out_mean", torch.zeros(n_out))
        self.register_buffer("out_scale", torch.ones(n_out))
        self.net: torch.nn.Module = (
            torch.nn.Linear(input_dim, n_out) if hidden_size <= 0 else torch.nn.Sequential(
                torch.nn.Linear(input_dim, hidden_size), torch.nn.ReLU(),
                torch.nn.Linear(hidden_size, n_out)))

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        """Standardized values: `n x d` features -> `n x G`."""
        return self.net((h - self.in_mean) @ self.in_proj)

    def values(self, h: torch.Tensor) -> torch.Tensor:
        """Values in reward units: `n x d` features -> `n x G`."""
        return self.forward(h) * self.out_scale + self.out_mean

    def config(self) -> dict[str, Any]:
        return {"kind": "linear" if self.hidden_size <= 0 else "mlp",
                "input_dim": self.input_dim, "n_out": self.n_out,
                "hidden_size": self.hidden_size}


def whitening(H: torch.Tensor, floor: float = 1e-6, chunk: int = 4096
              ) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean `m` and whitening `P` (`d x d`) of `n x d` features: ``(H − m) P`` has identity
    covariance; eigenvalues below ``floor`` times the largest are raised to it.
    The covariance is accumulated in float64, ``chunk`` rows at a time."""
    m = H.double().mean(0) if len(H) <= chunk else sum(
        (H[i:i + chunk].double().sum(0) for i in range(0, len(H), chunk)),
        torch.zeros(H.shape[1], dtype=torch.float64, device=H.device)) / len(H)
    C = torch.zeros((H.shape[1], H.shape[1]), dtype=torch.float64, device=H.device)
    for i in range(0, len(H), chunk):
        X = H[i:i + chunk].double() - m
        C += X.T @ X
    e, V = torch.linalg.eigh(C / max(len(H) - 1, 1))
    e = e.clamp(min=max(float(e.max()), 1e-12) * floor)
    return m.float(), (V / torch.sqrt(e)).float()


def resolve_device(device: str | None) -> str:
    """``"auto"``/None -> ``"cuda"`` when available, else ``"cpu"``; other values unchanged."""
    if device in (None, "auto"):
        return "cuda" if torch.cuda.is_available() else "cpu"
    return str(device)


def is_local(ref: str) -> bool:
    """Whether a base reference is a local folder (rather than a hub model name)."""
    if not ref:
        return False
    p = Path(ref).expanduser()
    return p.exists() or p.is_absolute() or ref.startswith((".", "~"))


def load_base(ref: str, device: str = "cpu") -> Any:
    """The causal LM ``ref`` (a path or hub name), frozen: eval mode, no gradients.

    Loading does not touch the caller's global torch random state.
    """
    from transformers import AutoModelForCausalLM

    auto: Any = AutoModelForCausalLM
    with seeded_torch(0):  # weight initialization before loading draws from the global RNG
        model = auto.from_pretrained(ref)
    model.eval().requires_grad_(False)
    return model.to(resolve_device(device))


def pad_id(tokenizer: Any) -> int:
    for tid in (tokenizer.pad_token_id, tokenizer.eos_token_id):
        if tid is not None:
            return int(tid)
    return 0


def hidden_states(model: Any, rows: Sequence[Sequence[int]], pad: int) -> torch.Tensor:
    """Last-layer hidden states of `n` token rows in one left-padded forward pass.

    Positions count from each row's first real token (``position_ids`` from the attention
    mask), so a row's states do not depend on how much padding it got.

    Returns:
        `n x W x d` float32 tensor (``W`` the longest row; row ``i`` occupies the last
        ``len(rows[i])`` columns).
    """
    device = next(model.parameters()).device
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, width - len(r):] = torch.as_tensor(list(r), dtype=torch.long)
        mask[i, width - len(r):] = 1
    position_ids = (mask.cumsum(-1) - 1).clamp(min=0)
    with torch.no_grad():
        out = model.base_model(input_ids=ids.to(device), attention_mask=mask.to(device),
                               position_ids=position_ids.to(device))
    return out.last_hidden_state.float()


FEATURES = ("last", "last+mean")
"""Feature kinds: ``"last"``, the hidden state at the prefix's last token (Son et al.);
``"last+mean"``, that state concatenated with the mean of the states from the prompt's last
token to the prefix's last token (a summary of the whole prefix, which a frozen policy's
last state may not hold)."""


def segment_features(h: torch.Tensor, kind: str = "last") -> torch.Tensor:
    """Features of the prefixes ``c[:0], ..., c[:L]`` of one completion from its states
    ``h`` (`(L + 1) x d`: the prompt's last position, then one per completion token)."""
    if kind == "last":
        return h
    count = torch.arange(1, len(h) + 1, device=h.device, dtype=h.dtype)[:, None]
    return torch.cat([h, h.cumsum(0) / count], 1)


def prefix_features(model: Any, pad: int, prompt_ids: Sequence[Sequence[int]],
                    completion_ids: Sequence[Sequence[int]], *, kind: str = "last",
                    batch_size: int = 64, last_only: bool = False
                    ) -> tuple[torch.Tensor, torch.Tensor]:
    """Features of every prefix of every completion, one forward pass per batch of rows.

    Completion ``i`` (prompt ``p``, completion ``c``) has ``len(c) + 1`` prefixes
    ``c[:t]``, ``t = 0..len(c)``; the hidden states of all of them come from the single
    forward pass over ``p + c``: the state at the position of the last token of
    ``p + c[:t]`` (see :func:`segment_features` for ``kind``).

    Args:
        last_only: only the whole completion's features (one row per completion), what
            :class:`ValueHeads` scores.

    Returns:
        ``(X, owner)``: `P x d'` float32 features, prefixes in order, and the `P` indices of
        the completions they belong to.
    """
    feats, owner = [], []
    for start in range(0, len(completion_ids), batch_size):
        ps, cs = prompt_ids[start:start + batch_size], completion_ids[start:start + batch_size]
        rows = [[*p, *c] for p, c in zip(ps, cs, strict=True)]
        H = hidden_states(model, rows, pad)
        width = H.shape[1]
        for j, (p, r) in enumerate(zip(ps, rows, strict=True)):
            if not p:
                raise ValueError("value heads: a prompt has no tokens")
            X = segment_features(H[j, width - len(r) + len(p) - 1:], kind)
            X = X[-1:] if last_only else X
            feats.append(X)
            owner += [start + j] * len(X)
    return torch.cat(feats), torch.as_tensor(owner, dtype=torch.long)


class ValueHeads:
    """A value model: the frozen reference policy and `G` heads (see the module docstring).

    Implements :class:`~moalign.llm.values.ValueFunction`. Build it trained with
    :func:`~moalign.llm.values.train_value_heads` (or the solver ``value-heads``), or
    untrained with :meth:`create`.

    Args:
        model: the frozen causal LM (eval mode, no gradients).
        tokenizer: its tokenizer.
        names: the `G` objectives, in the problem's order.
        head: the :class:`HeadNet` (on the model's device).
        base: how the base was referenced (a path or hub name), recorded when saved.
        origin: the reference the base was first loaded from, kept through save/load
            (default ``base``).
        copy_base: write the base's weights into the saved folder when it is a local folder
            (default) — see the module docstring.
        batch_size: rows per forward pass in ``__call__``.
        info: a summary saved with the model (the training report).

    Example:
        >>> vh = ValueHeads.load("mlruns/.../value_model")            # doctest: +SKIP
        >>> vh(prompt_ids, prefix_ids)              # n x G, higher is better  # doctest: +SKIP
    """

    artifact_name: ClassVar[str] = "value_model"

    def __init__(self, model: Any, tokenizer: Any, names: Sequence[str], head: HeadNet, *,
                 features: str = "last", base: str = "", origin: str | None = None,
                 copy_base: bool = True, batch_size: int = 64,
                 info: dict[str, Any] | None = None) -> None:
        if head.n_out != len(names):
            raise ValueError(f"ValueHeads: {head.n_out} heads for {len(names)} objectives")
        if features not in FEATURES:
            raise ValueError(f"ValueHeads: features must be one of {FEATURES}, got {features!r}")
        self.model, self.tokenizer, self.head = model, tokenizer, head
        self.names: tuple[str, ...] = tuple(names)
        self.features = features
        self.base, self.copy_base, self.batch_size = base, copy_base, batch_size
        self.origin = base if origin is None else origin
        self.info = dict(info or {})

    @classmethod
    def create(cls, base: str | Path, names: Sequence[str], *, tokenizer: Any = None,
               features: str = "last", hidden_size: int = 0, seed: int = 0,
               device: str | None = "cpu", copy_base: bool = True) -> ValueHeads:
        """Untrained heads (initialized from ``seed``) on the causal LM ``base``."""
        if features not in FEATURES:
            raise ValueError(f"ValueHeads: features must be one of {FEATURES}, got {features!r}")
        from transformers import AutoTokenizer

        model = load_base(str(base), resolve_device(device))
        tok = tokenizer if tokenizer is not None else AutoTokenizer.from_pretrained(str(base))
        with seeded_torch(seed):
            width = int(model.config.hidden_size) * (1 if features == "last" else 2)
            head = HeadNet(width, len(names), hidden_size)
        return cls(model, tok, names, head.to(next(model.parameters()).device),
                   features=features, base=str(base), copy_base=copy_base)

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def prefix_features(self, prompt_ids: Sequence[Sequence[int]],
                        prefix_ids: Sequence[Sequence[int]], *, last_only: bool = True
                        ) -> tuple[torch.Tensor, torch.Tensor]:
        """:func:`prefix_features` with this model's settings."""
        return prefix_features(self.model, pad_id(self.tokenizer), prompt_ids, prefix_ids,
                               kind=self.features, batch_size=self.batch_size,
                               last_only=last_only)

    def __call__(self, prompt_ids: Sequence[Sequence[int]],
                 prefix_ids: Sequence[Sequence[int]]) -> np.ndarray:
        """Values of each prefix after its prompt.

        Args:
            prompt_ids: `n` prompts, token ids (as :func:`moalign.llm.generation.encode_prompts`
                gives them).
            prefix_ids: `n` prefixes, completion token ids so far (may be empty).

        Returns:
            `n x G` float64 array in reward units, higher is better.
        """
        if len(prompt_ids) != len(prefix_ids):
            raise ValueError(f"ValueHeads: {len(prompt_ids)} prompts for {len(prefix_ids)} "
                             "prefixes")
        if not prefix_ids:
            return np.zeros((0, len(self.names)))
        self.head.eval()
        with torch.no_grad():
            out = self.head.values(self.prefix_features(prompt_ids, prefix_ids)[0])
        return out.double().cpu().numpy()

    # -- persistence ---------------------------------------------------------------------
    def save(self, directory: str | Path) -> None:
        """Write the model folder (see the module docstring) into ``directory``."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        copied = (self.copy_base and is_local(self.base)) or not self.base
        if copied:
            self.model.save_pretrained(directory / BASE_DIR)
        self.tokenizer.save_pretrained(directory / TOKENIZER_DIR)
        torch.save({k: v.cpu() for k, v in self.head.state_dict().items()},
                   directory / WEIGHTS_FILE)
        meta = {"format": FORMAT, "names": list(self.names), "base": self.base,
                "origin": self.origin,
                "base_copy": BASE_DIR if copied else None, "features": self.features,
                "head": self.head.config(),
                "out_mean": self.head.out_mean.tolist(),
                "out_scale": self.head.out_scale.tolist(),
                "batch_size": self.batch_size, "info": self.info}
        (directory / CONFIG_FILE).write_text(json.dumps(meta, indent=2, default=str))

    @classmethod
    def load(cls, directory: str | Path, *, device: str | None = "cpu") -> ValueHeads:
        """A :meth:`save` folder (the base from its ``base/`` copy, else its reference).

        Raises:
            FileNotFoundError: ``directory`` has no ``value_model.json``.
        """
        from transformers import AutoTokenizer

        directory = Path(directory)
        if not (directory / CONFIG_FILE).is_file():
            raise FileNotFoundError(f"ValueHeads.load: no {CONFIG_FILE} in {directory}")
        meta = json.loads((directory / CONFIG_FILE).read_text())
        base = str(directory / meta["base_copy"]) if meta.get("base_copy") else meta["base"]
        model = load_base(base, resolve_device(device))
        tok = AutoTokenizer.from_pretrained(str(directory / TOKENIZER_DIR))
        cfg = meta["head"]
        head = HeadNet(cfg["input_dim"], cfg["n_out"], cfg["hidden_size"])
        state = torch.load(directory / WEIGHTS_FILE, map_location="cpu", weights_only=True)
        head.load_state_dict(state)
        return cls(model, tok, meta["names"], head.to(next(model.parameters()).device),
                   features=meta.get("features", "last"), base=base,
                   origin=meta.get("origin", meta["base"]),
                   batch_size=int(meta.get("batch_size", 64)), info=meta.get("info"))

    @classmethod
    def from_run(cls, run_id: str, uri: str | None = None, *, device: str | None = "cpu"
                 ) -> ValueHeads:
        """The ``value_model`` artifact of an MLflow run (``moalign run`` of the solver
        ``value-heads``), downloaded with an explicit ``MlflowClient``.

        Args:
            run_id: the MLflow run id.
            uri: tracking URI (default: ``MLFLOW_TRACKING_URI``, else ``./mlruns``).
            device: where to put the model.

        The download goes to a temporary folder, removed once the model is in memory; a
        later :meth:`save` writes the base from memory.
        """
        from moalign.tracking.mlflow_tracker import open_client

        client = open_client(uri)
        with tempfile.TemporaryDirectory(prefix="moalign-values-") as tmp:
            path = client.download_artifacts(run_id, cls.artifact_name, tmp)
            heads = cls.load(path, device=device)
        if heads.base.startswith(tmp):
            heads.base = ""  # the copy is gone: save() writes the in-memory base
        return heads

"""The trained policy a fine-tuning solver returns: a model directory in
``save_pretrained`` format (tokenizer included), logged with the run as ``model``."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

MODEL_PREFIX = "moalign-model-"
"""Prefix of an aligned model's temporary folder (removed when the process exits)."""


@dataclass
class AlignedModel:
    """A trained model directory (``save_pretrained`` format, tokenizer included).

    Attributes:
        path: the directory.
        artifact_name: name the runner logs it under.
    """

    path: Path
    artifact_name: ClassVar[str] = "model"

    def save(self, directory: Path) -> None:
        """Copy the model files into ``directory``."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        for item in Path(self.path).iterdir():
            if item.is_file():
                shutil.copy2(item, directory / item.name)

    @classmethod
    def load(cls, directory: Path) -> AlignedModel:
        """The model folder ``directory`` (a ``save`` output); never removed by moalign."""
        return cls(Path(directory))

    @classmethod
    def take(cls, source: Path) -> AlignedModel:
        """Move the files of ``source`` into a new temporary folder that lives as long as
        the Python process.

        The folder (prefix :data:`MODEL_PREFIX`, under ``tempfile.gettempdir()``) is
        removed when the interpreter exits (``atexit``), not when the object is collected,
        so ``solver.solve(...).model.path`` stays valid; ``save`` the model to keep it.
        """
        model = cls(Path(tempfile.mkdtemp(prefix=MODEL_PREFIX)))
        atexit.register(shutil.rmtree, model.path, ignore_errors=True)
        for item in Path(source).iterdir():
            shutil.move(str(item), str(model.path / item.name))
        return model

    def load_pretrained(self) -> tuple[Any, Any]:
        """``(model, tokenizer)`` loaded with transformers."""
        from transformers import AutoModelForCausalLM, AutoTokenizer

        return (AutoModelForCausalLM.from_pretrained(self.path),
                AutoTokenizer.from_pretrained(self.path))

"""The problem registry (factories ``fn(**params) -> Problem``)."""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from moalign.core.registry import Registry, check_import_allowed

PROBLEMS: Registry[Callable[..., Any]] = Registry("problem", "moalign.problems")
register_problem = PROBLEMS.register


def load_file_object(spec: str, base_dir: str | Path | None = None) -> Any:
    """Load ``path/to/file.py:name`` (path relative to ``base_dir``) without touching
    ``sys.path``. The module is cached under a name derived from its absolute path.
    The file must be allowed by :func:`~moalign.core.registry.check_import_allowed`."""
    file_part, _, attr = spec.rpartition(":")
    path = Path(file_part)
    if not path.is_absolute() and base_dir is not None:
        path = Path(base_dir) / path
    path = path.resolve()
    if not path.is_file():
        raise FileNotFoundError(f"{spec!r}: no file {path}")
    check_import_allowed(str(path))
    mod_name = "moalign_user_" + hashlib.sha1(str(path).encode()).hexdigest()[:12]
    module = sys.modules.get(mod_name)
    if module is None:
        file_spec = importlib.util.spec_from_file_location(mod_name, path)
        if file_spec is None or file_spec.loader is None:
            raise ImportError(f"cannot import {path}")
        module = importlib.util.module_from_spec(file_spec)
        sys.modules[mod_name] = module
        file_spec.loader.exec_module(module)
    try:
        return getattr(module, attr)
    except AttributeError:
        raise AttributeError(f"{path} has no attribute {attr!r}") from None


def get_problem(name: str, base_dir: str | Path | None = None) -> Callable[..., Any]:
    """Problem factory by registered name, ``module:function`` or ``file.py:function``."""
    if ".py:" in name:
        return load_file_object(name, base_dir)
    return PROBLEMS.get(name)

"""One kind of registry for everything looked up by name (solvers, problems, text
objectives, scalarizers, desirability functions, Optuna samplers and pruners), and one
:func:`import_object` for ``package.module:attr`` and ``path/file.py:attr``."""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import os
import sys
from collections.abc import Callable, Mapping
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class RegistryError(KeyError, ValueError):
    """Unknown or duplicate name; the message lists the valid names. A ``ValueError`` too,
    so that configuration code that catches bad values catches it."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


ALLOWED_IMPORTS_ENV = "MOALIGN_ALLOWED_IMPORTS"


class ImportNotAllowedError(ImportError):
    """A recipe names code outside the allow-list in ``MOALIGN_ALLOWED_IMPORTS``."""


def check_import_allowed(target: str) -> None:
    """Refuse to import ``target`` (a module name or a ``.py`` file path) when the
    environment variable ``MOALIGN_ALLOWED_IMPORTS`` is set and does not allow it.

    A recipe runs code: ``package.module:function`` and ``file.py:function`` are imported
    and called. On a shared machine, set ``MOALIGN_ALLOWED_IMPORTS`` to a comma-separated
    list of module names (``mypkg`` allows ``mypkg`` and ``mypkg.sub``) and folders
    (``/srv/recipes/`` allows the ``.py`` files below it); moalign's own modules are always
    allowed. Unset, everything is allowed.

    Raises:
        ImportNotAllowedError: ``target`` is not allowed.
    """
    allowed = os.environ.get(ALLOWED_IMPORTS_ENV, "").strip()
    if not allowed:
        return
    entries = [e.strip() for e in allowed.split(",") if e.strip()]
    if target.endswith(".py"):
        path = os.path.realpath(target)
        folders = [os.path.realpath(e) for e in entries if os.sep in e or e.startswith(".")]
        ok = any(os.path.commonpath([path, f]) == f for f in folders)
    else:
        modules = ["moalign", *entries]
        ok = any(target == m or target.startswith(m + ".") for m in modules)
    if not ok:
        raise ImportNotAllowedError(
            f"{target}: not allowed by {ALLOWED_IMPORTS_ENV}={allowed!r}; add its module or "
            "folder there if you trust it")


def import_object(spec: str, base_dir: str | Path | None = None) -> Any:
    """Import ``"package.module:attr"`` or ``"path/to/file.py:attr"``.

    A file path is relative to ``base_dir`` (else the working directory); the file is
    loaded as a module without touching ``sys.path``, cached under a name derived from its
    absolute path. Dotted attributes (``module:Class.method``) are followed. Both forms are
    subject to :func:`check_import_allowed`.

    Raises:
        ValueError: ``spec`` is not of the form ``module:attr``.
        FileNotFoundError: the file does not exist.
        ImportNotAllowedError: ``MOALIGN_ALLOWED_IMPORTS`` does not allow it.
    """
    module_part, sep, attr = spec.rpartition(":")
    if not sep or not module_part or not attr:
        raise ValueError(f"{spec!r}: expected 'package.module:name' or 'file.py:name'")
    if module_part.endswith(".py"):
        obj: Any = _load_file(module_part, base_dir)
        where = str(obj.__file__)
    else:
        check_import_allowed(module_part)
        obj = importlib.import_module(module_part)
        where = module_part
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise AttributeError(f"{where} has no attribute {attr!r}") from None
    return obj


def _load_file(file_part: str, base_dir: str | Path | None) -> Any:
    path = Path(file_part).expanduser()
    if not path.is_absolute() and base_dir is not None:
        path = Path(base_dir) / path
    path = path.resolve()
    if not path.is_file():
        raise FileNotFoundError(f"{file_part!r}: no file {path}")
    check_import_allowed(str(path))
    name = "moalign_user_" + hashlib.sha1(str(path).encode()).hexdigest()[:12]
    module = sys.modules.get(name)
    if module is None:
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot import {path}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[name]
            raise
    return module


class Registry(Generic[T]):
    """A registry that refuses duplicate names and lists the valid ones on a miss.

    Lookup order: registered names, built-ins (imported lazily, one module per name, so
    looking up ``random`` does not import BoTorch), ``"module:Name"`` / ``"file.py:Name"``
    strings, then the entry point group (third-party plug-ins).

    Args:
        kind: what the registry holds, for messages (``"solver"``).
        group: the entry point group of plug-ins (``"moalign.solvers"``).
        builtins: name -> module that registers it when imported.
    """

    def __init__(self, kind: str, group: str, builtins: Mapping[str, str] | None = None
                 ) -> None:
        self.kind = kind
        self.group = group
        self._items: dict[str, T] = {}
        self._lazy: dict[str, str] = dict(builtins or {})

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator: register the object under ``name`` (a second object under the same
        name is refused)."""
        def deco(obj: T) -> T:
            if name in self._items and self._items[name] is not obj:
                raise RegistryError(f"{self.kind} {name!r} is already registered")
            self._items[name] = obj
            try:
                obj.registered_name = name  # type: ignore[attr-defined]
            except (AttributeError, TypeError):
                pass
            return obj

        return deco

    def add_lazy(self, name: str, module: str) -> None:
        """Declare a built-in whose module registers it when imported."""
        if name in self._lazy:
            raise RegistryError(f"{self.kind} {name!r} is already declared")
        self._lazy[name] = module

    def _entry_points(self) -> dict[str, Any]:
        return {ep.name: ep for ep in entry_points(group=self.group)}

    def names(self) -> list[str]:
        return sorted(set(self._items) | set(self._lazy) | set(self._entry_points()))

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        return name in self._items or name in self._lazy or name in self._entry_points()

    def get(self, name: str, base_dir: str | Path | None = None) -> T:
        """The object registered as ``name``, or imported from ``"module:attr"`` /
        ``"file.py:attr"`` (files relative to ``base_dir``).

        Raises:
            RegistryError: unknown name (the message lists the valid ones).
        """
        if name in self._items:
            return self._items[name]
        if name in self._lazy:
            importlib.import_module(self._lazy[name])
            return self._items[name]
        if ":" in name:
            return import_object(name, base_dir)
        eps = self._entry_points()
        if name in eps:
            obj = eps[name].load()
            self._items.setdefault(name, obj)
            return obj
        raise RegistryError(
            f"unknown {self.kind} {name!r}; valid names: {', '.join(self.names())} "
            f"(or 'package.module:Name')"
        )

"""Name -> class registries for solvers, problems and objectives."""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class RegistryError(KeyError):
    """Unknown or duplicate name; the message lists the valid names."""

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


def import_object(spec: str) -> Any:
    """Import ``"package.module:Name"`` (also ``module:function``), subject to
    :func:`check_import_allowed`."""
    module, _, attr = spec.partition(":")
    if not module or not attr:
        raise ValueError(f"{spec!r}: expected 'package.module:Name'")
    check_import_allowed(module)
    obj: Any = importlib.import_module(module)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


class Registry(Generic[T]):
    """A registry that refuses duplicate names and lists the valid ones on a miss.

    Lookup order: registered names, built-ins (imported lazily, one module per name, so
    looking up ``random`` does not import BoTorch), ``"module:Name"`` strings, then the
    entry point group (third-party plug-ins).
    """

    def __init__(self, kind: str, group: str) -> None:
        self.kind = kind
        self.group = group
        self._items: dict[str, T] = {}
        self._lazy: dict[str, str] = {}

    def register(self, name: str) -> Callable[[T], T]:
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

    def get(self, name: str) -> T:
        if name in self._items:
            return self._items[name]
        if name in self._lazy:
            importlib.import_module(self._lazy[name])
            return self._items[name]
        if ":" in name:
            return import_object(name)
        eps = self._entry_points()
        if name in eps:
            obj = eps[name].load()
            self._items.setdefault(name, obj)
            return obj
        raise RegistryError(
            f"unknown {self.kind} {name!r}; valid names: {', '.join(self.names())} "
            f"(or 'package.module:Name')"
        )

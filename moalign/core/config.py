"""Frozen-dataclass configuration: build from mappings with typed, path-named errors."""

from __future__ import annotations

import dataclasses
import math
import reprlib
import types
import typing
from collections.abc import Mapping
from typing import Any, Literal, TypeVar, Union, get_args, get_origin

T = TypeVar("T")


class ConfigError(ValueError):
    """A configuration value is invalid; the message names its path and the fix."""


def _short_repr() -> reprlib.Repr:
    r = reprlib.Repr()  # keyword arguments need Python 3.12
    r.maxlevel, r.maxlist, r.maxtuple, r.maxdict, r.maxset = 2, 4, 4, 4, 4
    r.maxstring = r.maxother = r.maxlong = 40
    return r


_SHORT = _short_repr()


def short_repr(value: Any, limit: int = 60) -> str:
    """A bounded ``repr`` for error messages: nested and long values are elided, so a
    message costs the same whatever the size of the bad value.

    Example:
        >>> short_repr(list(range(100)))
        '[0, 1, 2, 3, ...]'
    """
    text = _SHORT.repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def build_config(cls: type[T], values: Mapping[str, Any] | None, path: str = "config") -> T:
    """Build the frozen dataclass ``cls`` from ``values``, checking keys and types.

    Unknown keys raise :class:`ConfigError` naming ``path.key`` and the valid keys; values
    are checked (and ints widened to floats) against the field annotations; nested
    dataclasses are built recursively. ``__post_init__`` validation errors are re-raised
    with the path.

    Example:
        >>> @dataclasses.dataclass(frozen=True)
        ... class C:
        ...     lr: float = 1e-3
        >>> build_config(C, {"lr": 1}).lr
        1.0
    """
    values = dict(values or {})
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"{cls!r} is not a dataclass")
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise ConfigError(
            f"{join_path(path, unknown[0])}: unknown key; valid keys are {sorted(fields)}"
        )
    hints = typing.get_type_hints(cls)
    kwargs = {k: coerce(v, hints[k], join_path(path, k)) for k, v in values.items()}
    missing = sorted(
        k for k, f in fields.items()
        if k not in kwargs and f.default is dataclasses.MISSING
        and f.default_factory is dataclasses.MISSING
    )
    if missing:
        raise ConfigError(f"{join_path(path, missing[0])}: required key is missing")
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as exc:
        raise ConfigError(_locate(str(exc), path, cls.__name__, set(fields))) from None


def _locate(msg: str, path: str, cls_name: str, fields: set[str]) -> str:
    """Put the YAML path in front of a ``__post_init__`` message: ``"pop_size must be >= 2"``
    from ``solver.config`` becomes ``"solver.config.pop_size: must be >= 2"``."""
    head, _, rest = msg.partition(" ")
    name = head.rstrip(":").rsplit(".", 1)[-1]
    if name in fields and rest:
        return f"{join_path(path, name)}: {rest}"
    where = path or cls_name
    return msg if msg.startswith(f"{where}:") else f"{where}: {msg}"


def join_path(path: str, key: str) -> str:
    """``"a.b" + "c" -> "a.b.c"``; an empty path gives the key alone."""
    return f"{path}.{key}" if path else key


def coerce(value: Any, tp: Any, path: str) -> Any:
    """Check ``value`` against the annotation ``tp``; widen int -> float, list -> tuple."""
    origin = get_origin(tp)
    if tp is Any:
        return value
    if origin in (Union, types.UnionType):
        errors = []
        for arg in get_args(tp):
            try:
                return coerce(value, arg, path)
            except ConfigError as exc:
                errors.append(str(exc))
        raise ConfigError(f"{path}: {short_repr(value)} does not match {_name(tp)}")
    if tp is type(None):
        if value is None:
            return None
        raise ConfigError(f"{path}: expected null, got {short_repr(value)}")
    if origin is Literal:
        if value in get_args(tp):
            return value
        raise ConfigError(f"{path}: {short_repr(value)} is not one of {list(get_args(tp))}")
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        if isinstance(value, tp):
            return value
        if not isinstance(value, Mapping):
            raise ConfigError(f"{path}: expected a mapping, got {short_repr(value)}")
        return build_config(tp, value, path)
    if origin in (tuple, list):
        if not isinstance(value, list | tuple):
            raise ConfigError(f"{path}: expected a list, got {short_repr(value)}")
        args = get_args(tp)
        if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
            items = [coerce(v, args[0], f"{path}[{i}]") for i, v in enumerate(value)]
        elif origin is tuple and args:
            if len(args) != len(value):
                raise ConfigError(f"{path}: expected {len(args)} values, got {len(value)}")
            items = [coerce(v, a, f"{path}[{i}]") for i, (v, a) in enumerate(zip(value, args,
                                                                              strict=True))]
        else:
            inner = args[0] if args else Any
            items = [coerce(v, inner, f"{path}[{i}]") for i, v in enumerate(value)]
        return tuple(items) if origin is tuple else items
    if origin in (dict, Mapping) or tp in (dict, Mapping):
        if not isinstance(value, Mapping):
            raise ConfigError(f"{path}: expected a mapping, got {short_repr(value)}")
        return dict(value)
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
            raise ConfigError(f"{path}: expected a number, got {short_repr(value)}")
        return float(value)
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{path}: expected an integer, got {short_repr(value)}")
        return value
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{path}: expected true or false, got {short_repr(value)}")
        return value
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{path}: expected a string, got {short_repr(value)}")
        return value
    return value


def _name(tp: Any) -> str:
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def config_to_dict(config: Any) -> dict[str, Any]:
    """A dataclass config as a plain dict (tuples become lists), for logging."""
    def plain(v: Any) -> Any:
        if isinstance(v, tuple | list):
            return [plain(x) for x in v]
        if isinstance(v, dict):
            return {k: plain(x) for k, x in v.items()}
        return v

    return {k: plain(v) for k, v in dataclasses.asdict(config).items()}

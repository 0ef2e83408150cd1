"""Load recipes: YAML -> overrides -> validated :class:`Recipe` -> problem and solver."""

from __future__ import annotations

import copy
import dataclasses
import inspect
import math
import typing
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from moalign.core.config import ConfigError, build_config, coerce, config_to_dict, short_repr
from moalign.core.problem import Problem
from moalign.core.registry import RegistryError
from moalign.problems import get_problem
from moalign.recipes.schema import Recipe
from moalign.solvers import Solver, get_solver


class RecipeError(ConfigError):
    """An invalid recipe; the message names the YAML path of the problem and the fix."""


MAX_VALUES = 100_000  # values a recipe may hold once YAML aliases are expanded


def read_yaml(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise RecipeError(f"{path}: no such recipe file")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise RecipeError(f"{path}: not a text file (a recipe is UTF-8 YAML)") from None
    data = _load_yaml(text, str(path))
    if not isinstance(data, dict):
        raise RecipeError(f"{path}: a recipe must be a YAML mapping")
    return data


def _load_yaml(text: str, where: str) -> Any:
    """``yaml.safe_load`` with one-line errors, refusing alias bombs (nested aliases that
    expand to more than :data:`MAX_VALUES` values)."""
    try:
        data = yaml.safe_load(text)
        size = expanded_size(data)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None and not where.startswith("--") else ""
        raise RecipeError(f"{where}{line}: invalid YAML ({getattr(exc, 'problem', exc)})"
                          ) from None
    except RecursionError:
        raise RecipeError(f"{where}: the YAML is nested too deeply") from None
    if size > MAX_VALUES:
        raise RecipeError(f"{where}: the YAML expands to more than {MAX_VALUES} values "
                          "(nested aliases); write the values out")
    return data


def expanded_size(data: Any) -> int:
    """How many values ``data`` holds with shared (aliased) parts counted every time they
    appear; computed once per shared node, so an alias bomb costs nothing to measure."""
    memo: dict[int, int] = {}

    def size(node: Any) -> int:
        if not isinstance(node, dict | list):
            return 1
        key = id(node)
        if key not in memo:
            memo[key] = 0  # a cycle counts once
            children = node.values() if isinstance(node, dict) else node
            memo[key] = 1 + sum(size(v) for v in children)
        return memo[key]

    return size(data)


def apply_overrides(data: Mapping[str, Any], overrides: Iterable[str] | Mapping[str, Any]
                    ) -> dict[str, Any]:
    """Apply dotted overrides: ``["solver.config.lr=1e-3"]`` or ``{"solver.config.lr": 1e-3}``.

    String values are parsed as YAML scalars (``3`` -> int, ``null`` -> None, ``[1,2]``).
    """
    out = copy.deepcopy(dict(data))
    if isinstance(overrides, Mapping):
        items = list(overrides.items())
    else:
        items = []
        for text in overrides:
            key, sep, raw = text.partition("=")
            if not sep or not key.strip():
                raise RecipeError(f"--set {text!r}: expected key.path=value")
            value = _load_yaml(raw, f"--set {key.strip()}") if raw.strip() else None
            items.append((key.strip(), value))
    for key, value in items:
        node = out
        parts = key.split(".")
        for i, part in enumerate(parts[:-1]):
            child = node.get(part)
            if child is None:
                child = node[part] = {}
            if not isinstance(child, dict):
                raise RecipeError(f"{'.'.join(parts[:i + 1])}: is not a mapping, cannot set {key}")
            node = child
        node[parts[-1]] = value
    return out


def parse_recipe(
    data: Mapping[str, Any],
    *,
    base_dir: str | Path = ".",
    overrides: Iterable[str] | Mapping[str, Any] = (),
    smoke: bool = False,
) -> Recipe:
    """Validate a recipe mapping (after ``--set`` overrides and, with ``smoke``, its
    ``smoke:`` block). File references are made absolute against ``base_dir``.

    The ``smoke:`` block is checked whether or not it is applied: a recipe whose smoke
    size would fail is refused with the path ``smoke.<key>``.
    """
    data = apply_overrides(data, overrides)
    smoke_block = data.get("smoke") or {}
    if not isinstance(smoke_block, Mapping):
        raise RecipeError(f"smoke: expected a mapping of dotted overrides, got "
                          f"{short_repr(smoke_block)}")
    recipe = _parse(data, base_dir)
    if smoke_block:
        smoked = _parse_smoke(data, smoke_block, base_dir)
        if smoke:
            return smoked
    return recipe


def _parse_smoke(data: Mapping[str, Any], block: Mapping[str, Any], base_dir: str | Path
                 ) -> Recipe:
    """The recipe with its ``smoke:`` overrides applied; errors name ``smoke.<key>``."""
    try:
        return _parse(apply_overrides(data, block), base_dir)
    except RecipeError as exc:
        msg = str(exc)
        where = msg.partition(": ")[0]
        for key in block:
            if where == key or where.startswith((f"{key}.", f"{key}[")):
                raise RecipeError(f"smoke.{msg}") from None
        raise RecipeError(f"smoke: {msg}") from None


def _parse(data: Mapping[str, Any], base_dir: str | Path) -> Recipe:
    data = dict(data)
    data.setdefault("base_dir", str(Path(base_dir).resolve()))
    for key in ("problem", "solver"):  # file.py:name relative to the recipe's folder
        section = data.get(key)
        if isinstance(section, Mapping) and isinstance(section.get("name"), str):
            file_part, sep, attr = section["name"].rpartition(":")
            if sep and file_part.endswith(".py") and not Path(file_part).is_absolute():
                path = (Path(base_dir) / file_part).resolve()
                data[key] = {**section, "name": f"{path}:{attr}"}
    try:
        recipe = build_config(Recipe, data, path="")
    except RecipeError:
        raise
    except ConfigError as exc:
        raise RecipeError(str(exc)) from None
    solver = dataclasses.replace(recipe.solver, config=build_solver_config(recipe))
    recipe = dataclasses.replace(recipe, solver=solver)
    check_problem(recipe)
    return recipe


def load_recipe(path: str | Path, overrides: Iterable[str] = (), smoke: bool = False) -> Recipe:
    """Read, override and validate a recipe file."""
    return parse_recipe(read_yaml(path), base_dir=Path(path).parent, overrides=overrides,
                        smoke=smoke)


def build_solver_config(recipe: Recipe) -> object:
    """The recipe's solver config as that solver's typed ``Config`` (built once, here)."""
    solver_cls = _lookup("solver.name", recipe.solver.name, get_solver)
    config = recipe.solver.config
    if isinstance(config, solver_cls.Config):
        return config
    if not isinstance(config, Mapping):
        raise RecipeError(f"solver.config: expected a mapping, got {short_repr(config)}")
    try:
        return build_config(solver_cls.Config, config, path="solver.config")
    except ConfigError as exc:
        raise RecipeError(str(exc)) from None


def check_problem(recipe: Recipe) -> None:
    """Check that the problem exists and accepts the given params (names, annotated
    types, no NaN)."""
    factory = _lookup("problem.name", recipe.problem.name, get_problem)
    _check_finite(recipe.problem.params, "problem.params")
    try:
        sig = inspect.signature(factory)
    except (TypeError, ValueError):
        return
    takes_any = any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values())
    valid = [n for n, p in sig.parameters.items()
             if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    hints = _type_hints(factory)
    for key, value in recipe.problem.params.items():
        if key not in valid and not takes_any:
            raise RecipeError(f"problem.params.{key}: not a parameter of {recipe.problem.name}; "
                              f"valid: {valid}")
        if key in hints:
            try:
                coerce(value, hints[key], f"problem.params.{key}")
            except ConfigError as exc:
                raise RecipeError(str(exc)) from None


def _type_hints(fn: Any) -> dict[str, Any]:
    """``fn``'s resolvable parameter annotations (none when they cannot be resolved)."""
    try:
        return typing.get_type_hints(fn)
    except Exception:  # unresolvable forward references: no type check
        return {}


def _check_finite(value: Any, path: str) -> None:
    """NaN is never a valid recipe value (YAML ``.nan``)."""
    if isinstance(value, float) and math.isnan(value):
        raise RecipeError(f"{path}: NaN is not a valid value")
    if isinstance(value, Mapping):
        for k, v in value.items():
            _check_finite(v, f"{path}.{k}")
    elif isinstance(value, list | tuple):
        for i, v in enumerate(value):
            _check_finite(v, f"{path}[{i}]")


def _lookup(path: str, name: str, getter: Any) -> Any:
    try:
        return getter(name)
    except (RegistryError, ImportError, AttributeError, FileNotFoundError, ValueError) as exc:
        raise RecipeError(f"{path}: {exc}") from None


def build_problem(recipe: Recipe) -> Problem:
    """Instantiate the recipe's problem (a pymoo or BoTorch problem is adapted).

    Raises:
        RecipeError: the factory raised, or returned something that is not a problem.
    """
    from moalign.problems.adapters import as_problem

    factory = get_problem(recipe.problem.name)
    params = dict(recipe.problem.params)
    if recipe.base_dir and "base_dir" not in params and _accepts(factory, "base_dir"):
        params["base_dir"] = recipe.base_dir
    name = recipe.problem.name
    try:
        obj = factory(**params)
    except (TypeError, ValueError) as exc:
        raise RecipeError(f"problem.params: {short_text(exc)}") from None
    except Exception as exc:
        raise RecipeError(f"problem.name: {name} raised {type(exc).__name__}: "
                          f"{short_text(exc)}") from None
    try:
        problem = as_problem(obj)
    except TypeError:
        raise RecipeError(f"problem.name: {name} returned {type(obj).__name__}; a problem "
                          "factory must return a moalign Problem, a pymoo Problem or a "
                          "BoTorch multi-objective test problem") from None
    if recipe.problem.ref_point is None:
        return problem
    try:
        return problem.with_reference_point(recipe.problem.ref_point)
    except ValueError as exc:
        raise RecipeError(f"problem.ref_point: {short_text(exc)} ({name} has "
                          f"{problem.n_obj} objectives: {problem.objectives.names})") from None


def short_text(exc: BaseException, limit: int = 200) -> str:
    """The first line of an exception's message, cut to ``limit`` characters."""
    lines = str(exc).strip().splitlines()
    text = lines[0] if lines else type(exc).__name__
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _accepts(fn: Any, name: str) -> bool:
    try:
        return name in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


def build_solver(recipe: Recipe) -> Solver[Any]:
    """The recipe's solver, given the typed config the loader built."""
    return get_solver(recipe.solver.name)(build_solver_config(recipe))


def prepare(recipe: Recipe) -> tuple[Problem, Solver[Any]]:
    """Everything ``run`` does before it opens a run: build the problem and the solver.
    ``validate`` calls this too, so it refuses what ``run`` would refuse."""
    return build_problem(recipe), build_solver(recipe)


def recipe_to_dict(recipe: Recipe) -> dict[str, Any]:
    """The resolved recipe as plain data (logged with the run, re-loadable)."""
    data = config_to_dict(recipe)
    data["budget"] = dataclasses.asdict(recipe.budget)
    return data


def dump_recipe(recipe: Recipe) -> str:
    return yaml.safe_dump(recipe_to_dict(recipe), sort_keys=False)

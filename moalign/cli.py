"""``moalign run | tune | validate | list | report`` — a thin layer over the Python API.

Exit status: 0 done; 2 bad input (one line naming the field and the fix; ``--debug`` shows
the traceback instead); 3 the run finished but every evaluation failed; 1 internal error;
130 interrupted.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Sequence
from typing import Any

EXIT_INTERNAL = 1
EXIT_USAGE = 2
EXIT_ALL_FAILED = 3
MAX_MESSAGE = 300  # characters of an error line


def _add_recipe_args(p: argparse.ArgumentParser, recipe_required: bool = True) -> None:
    p.add_argument("recipe", nargs=None if recipe_required else "?", help="recipe YAML file")
    p.add_argument("--set", dest="overrides", action="append", default=[],
                   metavar="KEY=VALUE", help="override a recipe value, e.g. solver.config.lr=1e-3")
    p.add_argument("--smoke", action="store_true", help="apply the recipe's smoke: overrides")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="moalign", description=__doc__.splitlines()[0])
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run a recipe (tracked in MLflow)")
    _add_recipe_args(run, recipe_required=False)
    run.add_argument("--resume", metavar="RUN_ID", help="continue a run from its checkpoint")
    run.add_argument("--checkpoint-dir", help="checkpoint root, if the recipe set one")
    run.add_argument("--no-progress", action="store_true")

    val = sub.add_parser("validate", help="check recipes without running them")
    val.add_argument("recipes", nargs="+")
    val.add_argument("--set", dest="overrides", action="append", default=[])
    val.add_argument("--smoke", action="store_true")
    val.add_argument("--build", action="store_true",
                     help="also call the problem factory and build the solver, as run does "
                          "before it starts (may be slow: a text problem loads its model)")

    sub.add_parser("list", help="list registered solvers and problems")

    rep = sub.add_parser("report", help="print a run's front and hypervolume, redraw plots")
    rep.add_argument("run_id")
    rep.add_argument("--uri", help="MLflow tracking URI (default: the local store)")

    tune = sub.add_parser("tune", help="tune a recipe's parameters with Optuna")
    _add_recipe_args(tune)
    tune.add_argument("--n-trials", type=int, default=None)
    tune.add_argument("--storage", default=None, help="Optuna storage URL or journal file")
    tune.add_argument("--study-name", default=None)
    tune.add_argument("--n-workers", type=int, default=1)
    tune.add_argument("--fail-stale", action="store_true",
                      help="first mark every RUNNING trial of the study FAIL (only when no "
                           "other process is running the study)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(_dispatch(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head` and the like: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:
        if args.debug:
            traceback.print_exc()
        else:
            print(f"error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_USAGE if _is_user_error(exc) else EXIT_INTERNAL


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    msg = text[0] if text else type(exc).__name__
    if len(msg) > MAX_MESSAGE:
        msg = msg[:MAX_MESSAGE - 3] + "..."
    return msg if _is_user_error(exc) else f"{type(exc).__name__}: {msg} (--debug for details)"


def _is_user_error(exc: BaseException) -> bool:
    from moalign.core.config import ConfigError
    from moalign.core.objective import ObjectiveError

    return isinstance(exc, ConfigError | ObjectiveError | FileNotFoundError)


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "run":
        return _cmd_run(args)
    if args.command == "validate":
        return _cmd_validate(args)
    if args.command == "list":
        return _cmd_list()
    if args.command == "report":
        from moalign.tracking.report import report

        return report(args.run_id, uri=args.uri)
    if args.command == "tune":
        from moalign.tuning import tune_from_cli

        return tune_from_cli(args)
    raise AssertionError(args.command)


def _cmd_run(args: argparse.Namespace) -> int:
    from moalign.recipes.loader import load_recipe
    from moalign.recipes.runner import (
        RunFinishedError,
        lone_process_warning,
        process_rank,
        resume_recipe_path,
        run_recipe,
    )

    if args.resume:
        path = args.recipe or resume_recipe_path(args.resume, args.checkpoint_dir)
    elif args.recipe:
        path = args.recipe
    else:
        raise _usage("run: give a recipe file, or --resume RUN_ID")
    recipe = load_recipe(path, args.overrides, smoke=args.smoke)
    if (warning := lone_process_warning(os.environ)) is not None:
        print(warning, file=sys.stderr)
    try:
        result = run_recipe(recipe, resume_run_id=args.resume, progress=not args.no_progress)
    except RunFinishedError as done:
        print(done)
        return 0
    if process_rank() != 0:  # under torchrun/accelerate only rank 0 reports
        return 0
    _print_summary(recipe, result)
    if "failure" in result.info:
        print(f"error: {result.info['failure']}; the run is marked FAILED", file=sys.stderr)
        return EXIT_ALL_FAILED
    return 0


def _print_summary(recipe: Any, result: Any) -> None:
    front = result.front
    print(f"done: {result.archive.n_evals} evaluations "
          f"({result.archive.n_failed} failed), front of {len(front)} points, "
          f"hypervolume {result.hypervolume:.6g}")
    for key, value in result.info.items():
        if key not in ("wall_seconds", "tracking_seconds", "failure") and _printable(value):
            print(f"  {key}: {value}")
    if result.run_id is None:
        return
    from moalign.tracking.mlflow_tracker import default_tracking_uri, open_client

    uri = recipe.tracking.uri or default_tracking_uri()
    print(f"MLflow run {result.run_id} (experiment '{recipe.tracking.experiment}', "
          f"store {uri})")
    where = open_client(uri).get_run(result.run_id).info.artifact_uri
    if where.startswith("file://"):
        from urllib.parse import unquote, urlparse

        where = unquote(urlparse(where).path)
    print(f"  artifacts: {where}/")
    print("    front.csv, evaluations.csv, plots/front.png, plots/hypervolume.png")
    print(f"  open the UI: mlflow ui --backend-store-uri {uri}")
    print(f"  report: moalign report {result.run_id}")


def _printable(v: Any) -> bool:
    return isinstance(v, int | float | str) or (isinstance(v, list | tuple) and len(v) <= 10)


def _cmd_validate(args: argparse.Namespace) -> int:
    from moalign.recipes.loader import load_recipe, prepare

    for path in args.recipes:
        recipe = load_recipe(path, args.overrides, smoke=args.smoke)
        if args.build:  # call the problem factory and build the solver, as `run` does
            prepare(recipe)
            if not args.smoke and any(k.startswith(("problem", "solver")) for k in recipe.smoke):
                prepare(load_recipe(path, args.overrides, smoke=True))
        if recipe.tune is not None:  # the tune: block too (search-space paths included)
            from moalign.tuning import check_search_space, parse_tune_spec

            check_search_space(recipe, parse_tune_spec(recipe.tune))
        print(f"ok: {path}")
    return 0


def _cmd_list() -> int:
    from moalign.problems import PROBLEMS
    from moalign.solvers import SOLVERS

    print("solvers: " + ", ".join(SOLVERS.names()))
    print("problems: " + ", ".join(PROBLEMS.names()))
    return 0


def _usage(msg: str) -> Exception:
    from moalign.core.config import ConfigError

    return ConfigError(msg)


if __name__ == "__main__":
    sys.exit(main())

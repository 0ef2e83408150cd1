"""``moalign run | tune | validate | list | report | compare`` — a thin layer over the
Python API.

Exit status: 0 done; 2 bad input (one line naming the field and the fix; ``--debug`` shows
the traceback instead); 3 the run finished but every evaluation failed; 1 internal error;
130 interrupted by SIGINT (Ctrl-C), 143 by SIGTERM (a stopped run prints how to resume it).
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import signal
import sys
import tempfile
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

EXIT_INTERNAL = 1
EXIT_USAGE = 2
EXIT_ALL_FAILED = 3
MAX_MESSAGE = 300  # characters of an error line


def _add_recipe_args(p: argparse.ArgumentParser, recipe_required: bool = True) -> None:
    p.add_argument("recipe", nargs=None if recipe_required else "?", help="recipe YAML file")
    _add_override_args(p)


def _add_override_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--set", dest="overrides", action="append", default=[],
                   metavar="KEY=VALUE", help="override a recipe value, e.g. solver.config.lr=1e-3")
    p.add_argument("--smoke", action="store_true", help="apply the recipe's smoke: overrides")


def _global_flags() -> argparse.ArgumentParser:
    """``--debug`` and ``--verbose``, accepted before or after the command."""
    flags = argparse.ArgumentParser(add_help=False)
    flags.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                       help="show the traceback of an error instead of one line")
    flags.add_argument("--verbose", action="store_true", default=argparse.SUPPRESS,
                       help="log INFO messages of moalign and the libraries it drives")
    return flags


def build_parser() -> argparse.ArgumentParser:
    flags = _global_flags()
    parser = argparse.ArgumentParser(
        prog="moalign", parents=[flags],
        description="Run, validate, report and tune moalign recipes (docs/recipes.md).")
    parser.add_argument("--version", action="version", version=f"moalign {_version()}",
                        help="print the version and exit")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                help="what to do (moalign COMMAND --help for its options)")

    def command(name: str, help: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=help, description=help, parents=[flags])

    run = command("run", "run a recipe (tracked in MLflow)")
    _add_recipe_args(run, recipe_required=False)
    run.add_argument("--resume", metavar="RUN_ID", help="continue a run from its checkpoint")
    run.add_argument("--checkpoint-dir", metavar="DIR",
                     help="checkpoint root of --resume, if the recipe set checkpoint.dir")
    run.add_argument("--no-progress", action="store_true", help="hide the progress bar")

    val = command("validate", "check recipes without running them")
    val.add_argument("recipes", nargs="+", metavar="RECIPE", help="recipe YAML files")
    _add_override_args(val)
    val.add_argument("--build", action="store_true",
                     help="also call the problem factory and build the solver, as run does "
                          "before it starts (may be slow: a text problem loads its model)")

    command("list", "list registered solvers and problems")

    rep = command("report", "summarize a run's front and hypervolume, draw its plots")
    rep.add_argument("run_id", metavar="RUN_ID", help="the MLflow run id")
    rep.add_argument("--uri", help="MLflow tracking URI (default: $MLFLOW_TRACKING_URI, "
                                   "else the local store)")
    rep.add_argument("--all", dest="all_rows", action="store_true",
                     help="print every row of the front (default: the first 10)")
    rep.add_argument("--out", metavar="DIR",
                     help="folder for the plots (default: ./moalign-report-RUN_ID)")
    rep.add_argument("--log", action="store_true",
                     help="also log the plots to the run, replacing its plots/")

    cmp = command("compare", "hypervolumes of several runs at one reference point, their "
                             "fronts in one plot")
    cmp.add_argument("run_ids", nargs="+", metavar="RUN_ID", help="the MLflow runs")
    cmp.add_argument("--ref", metavar="V1,V2,...",
                     help="the common reference point, one value per objective in its own "
                          "orientation (default: the one the runs' experiment stores, else "
                          "the fronts' worst values pushed out by 10%% of their range; write "
                          "--ref=-1,2 when the first value is negative)")
    cmp.add_argument("--out", metavar="DIR",
                     help="folder for compare.csv and fronts.png (default: ./moalign-compare)")
    cmp.add_argument("--uri", help="MLflow tracking URI (default: $MLFLOW_TRACKING_URI, "
                                   "else the local store)")

    tune = command("tune", "tune a recipe's parameters with Optuna")
    _add_recipe_args(tune)
    tune.add_argument("--n-trials", type=int, default=None, metavar="N",
                      help="trials to run (default: the recipe's tune.n_trials)")
    tune.add_argument("--storage", default=None, help="Optuna storage URL or journal file")
    tune.add_argument("--study-name", default=None, metavar="NAME",
                      help="study to create or continue (default: tune.study_name, else "
                           "the recipe's name)")
    tune.add_argument("--n-workers", type=int, default=1, metavar="K",
                      help="worker processes sharing the study (needs --storage; default: 1)")
    tune.add_argument("--fail-stale", action="store_true",
                      help="first mark every RUNNING trial of the study FAIL (only when no "
                           "other process is running the study)")
    return parser


def _version() -> str:
    from moalign import __version__

    return __version__


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.debug = getattr(args, "debug", False)
    if getattr(args, "verbose", False):
        logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        logging.getLogger().setLevel(logging.INFO)
    try:
        return int(_dispatch(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head` and the like: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:
        _print_error(exc, args.debug)
        return EXIT_USAGE if _is_user_error(exc) else EXIT_INTERNAL


def _print_error(exc: BaseException, debug: bool, prefix: str = "") -> None:
    """One ``error:`` line on stderr, or the traceback with ``--debug``."""
    if debug:
        traceback.print_exception(exc)
    else:
        print(f"error: {prefix}{_one_line(exc)}", file=sys.stderr, flush=True)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    msg = text[0] if text else type(exc).__name__
    if len(msg) > MAX_MESSAGE:
        msg = msg[:MAX_MESSAGE - 3] + "..."
    return msg if _is_user_error(exc) else f"{type(exc).__name__}: {msg} (--debug for details)"


def _is_user_error(exc: BaseException) -> bool:
    from moalign.core.config import ConfigError
    from moalign.core.objective import ObjectiveError
    from moalign.core.parallel import EvaluationSetupError

    return isinstance(exc, ConfigError | ObjectiveError | FileNotFoundError
                      | EvaluationSetupError)


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "run":
        return _cmd_run(args)
    if args.command == "validate":
        return _cmd_validate(args)
    if args.command == "list":
        return _cmd_list()
    if args.command == "report":
        from moalign.tracking.report import report

        return report(args.run_id, uri=args.uri, out=args.out, log=args.log,
                      all_rows=args.all_rows)
    if args.command == "compare":
        from moalign.tracking.compare import compare

        return compare(args.run_ids, uri=args.uri, ref=args.ref, out=args.out)
    if args.command == "tune":
        from moalign.tuning import tune_from_cli

        return tune_from_cli(args)
    raise AssertionError(args.command)


def _cmd_run(args: argparse.Namespace) -> int:
    from moalign.recipes.interrupts import Interrupted, exit_status, raise_on_signals
    from moalign.recipes.loader import load_recipe
    from moalign.recipes.output import captured_output
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
    main_rank = process_rank() == 0  # under torchrun/accelerate only rank 0 reports
    log_dir = Path(tempfile.mkdtemp(prefix="moalign-log-"))
    try:
        # SIGTERM, like Ctrl-C, ends the run KILLED; third-party noise goes to logs/run.log
        with raise_on_signals(), captured_output(log_dir / "run.log",
                                                 verbose=getattr(args, "verbose", False)):
            result = run_recipe(recipe, resume_run_id=args.resume,
                                progress=not args.no_progress,
                                **_run_naming(recipe, path, args))
        _log_run_log(recipe, result.run_id, log_dir / "run.log")
    except RunFinishedError as done:
        print(done)
        return 0
    except Interrupted as stop:
        if main_rank:
            _print_interrupted(signal.Signals(stop.signum).name, stop.checkpoint_dir)
        return exit_status(stop.signum)
    finally:
        shutil.rmtree(log_dir, ignore_errors=True)
    stopped = result.info.get("interrupted")  # the solver stopped at a step's end
    if main_rank:
        _print_summary(recipe, result)
        if stopped:
            _print_interrupted(stopped["signal"], stopped["checkpoint_dir"])
    if stopped:
        return exit_status(signal.Signals[stopped["signal"]])
    if not main_rank:
        return 0
    if "failure" in result.info:
        print(f"error: {result.info['failure']}; the run is marked FAILED", file=sys.stderr)
        return EXIT_ALL_FAILED
    return 0


def _log_run_log(recipe: Any, run_id: str | None, log_file: Path) -> None:
    """Attach the captured third-party output to the run as ``logs/run.log`` (nothing is
    attached without an MLflow run or without output)."""
    if run_id is not None and log_file.exists() and log_file.stat().st_size:
        from moalign.tracking.mlflow_tracker import default_tracking_uri, open_client

        uri = recipe.tracking.uri or default_tracking_uri()
        open_client(uri).log_artifact(run_id, str(log_file), "logs")


def _run_naming(recipe: Any, path: str | Path, args: argparse.Namespace) -> dict[str, Any]:
    """A new run's name, the recipe's name (or its file's stem) and the ``--set``
    overrides (``drw-tiny seed=3``), and its ``moalign.recipe`` tag; a resumed run keeps
    both."""
    if args.resume:
        return {}
    from moalign.tracking.run_info import override_run_name

    base = recipe.name or Path(path).stem
    return {"run_name": override_run_name(base, args.overrides, args.smoke),
            "tags": {"moalign.recipe": base}}


def _print_summary(recipe: Any, result: Any) -> None:
    from moalign.cli_hints import command, ui_hint

    front = result.front
    verb = "stopped" if "interrupted" in result.info else "done"
    print(f"{verb}: {result.archive.n_evals} evaluations "
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
    client = open_client(uri)
    run = client.get_run(result.run_id)
    where = run.info.artifact_uri
    if where.startswith("file://"):
        from urllib.parse import unquote, urlparse

        where = unquote(urlparse(where).path)
    print(f"  artifacts: {where}/")
    print("    " + ", ".join(_artifact_names(client, result.run_id)))
    for name in _model_names(client, run):
        print(f"  model: {name} (MLflow logged model; mlflow.pyfunc.load_model("
              f"'runs:/{result.run_id}/{name}'))")
    print(f"  open the UI: {ui_hint(uri)}")
    store = [] if uri == default_tracking_uri() else ["--uri", uri]
    print(f"  report: {command('moalign', 'report', result.run_id, *store)}")


SHOWN_FOLDERS = ("plots", "logs", "decoding")
"""Artifact folders whose files the run summary lists one by one (others: ``name/``)."""


def _artifact_names(client: Any, run_id: str) -> list[str]:
    """The run's artifacts as the summary lists them: files, the files of
    :data:`SHOWN_FOLDERS`, and other folders as ``name/``."""
    names = []
    for item in client.list_artifacts(run_id):
        if not item.is_dir:
            names.append(item.path)
        elif item.path in SHOWN_FOLDERS:
            names += [f.path for f in client.list_artifacts(run_id, item.path)]
        else:
            names.append(item.path + "/")
    return names


def _model_names(client: Any, run: Any) -> list[str]:
    """Names of the LoggedModels the run produced (the learned Pareto set)."""
    models = client.search_logged_models(experiment_ids=[run.info.experiment_id],
                                         filter_string=f"source_run_id = '{run.info.run_id}'")
    return sorted({m.name for m in models if m.source_run_id == run.info.run_id})


def _print_interrupted(signame: str, checkpoint_dir: str | Path | None) -> None:
    """Say that the run stopped and how to continue it (when it can be continued)."""
    from moalign.cli_hints import resume_command

    if checkpoint_dir is None:
        print(f"interrupted ({signame})", file=sys.stderr)
        return
    print(f"interrupted ({signame}): the run is marked KILLED", file=sys.stderr)
    if (Path(checkpoint_dir) / "recipe.yaml").exists():
        print(f"resume it with: {resume_command(checkpoint_dir)}", file=sys.stderr)


def _printable(v: Any) -> bool:
    return isinstance(v, int | float | str) or (isinstance(v, list | tuple) and len(v) <= 10)


def _cmd_validate(args: argparse.Namespace) -> int:
    """Check every file; one line each (several files: each line names its file)."""
    failed = internal = 0
    for path in args.recipes:
        try:
            _validate_one(path, args)
        except Exception as exc:
            named = len(args.recipes) == 1 or str(exc).startswith(str(path))
            _print_error(exc, args.debug, "" if named else f"{path}: ")
            failed += 1
            internal += not _is_user_error(exc)
            continue
        print(f"ok: {path}", flush=True)
    if failed and len(args.recipes) > 1:
        print(f"{failed} of {len(args.recipes)} recipes failed", file=sys.stderr)
    return EXIT_INTERNAL if internal else EXIT_USAGE if failed else 0


def _validate_one(path: str, args: argparse.Namespace) -> None:
    from moalign.recipes.loader import load_recipe, prepare

    recipe = load_recipe(path, args.overrides, smoke=args.smoke)
    if args.build:  # call the problem factory and build the solver, as `run` does
        prepare(recipe)
        if not args.smoke and any(k.startswith(("problem", "solver")) for k in recipe.smoke):
            prepare(load_recipe(path, args.overrides, smoke=True))
    if recipe.tune is not None:  # the tune: block too (search-space paths included)
        from moalign.tuning import check_search_space, parse_tune_spec

        check_search_space(recipe, parse_tune_spec(recipe.tune))


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

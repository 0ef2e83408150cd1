#!/usr/bin/env bash
# Create or update .venv with moalign and its pinned dependencies (tools/constraints.txt).
# Usage: tools/setup.sh [EXTRAS]   e.g. tools/setup.sh dev,llm   (default: none, the core)
# `make run` needs only the core; `make test` asks for dev,llm. Re-running is cheap: nothing
# is installed when pyproject.toml and the constraints are unchanged and the extras asked
# for are already there. pip's output goes to .venv/setup.log and is shown only on failure.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-$(command -v python3.11 || command -v python3)}"
EXTRAS="${1-${MOALIGN_EXTRAS:-}}"
stamp=.venv/.moalign-setup
hash="$(cat pyproject.toml tools/constraints.txt | sha256sum | cut -c1-16)"
have=""
if [ -f "$stamp" ] && [ -x .venv/bin/moalign ] && [ "$(cut -d' ' -f1 "$stamp")" = "$hash" ]; then
  have="$(cut -s -d' ' -f2 "$stamp")"
  missing=0
  for extra in ${EXTRAS//,/ }; do
    case ",$have," in *",$extra,"*) ;; *) missing=1 ;; esac
  done
  [ "$missing" = 0 ] && exit 0
fi
# install the union of what is there and what is asked for
all="$(printf '%s\n' ${have//,/ } ${EXTRAS//,/ } | sort -u | paste -sd, -)"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -c 'import sys; assert sys.version_info >= (3, 11), "moalign needs Python >= 3.11"'
echo "setting up .venv (extras: ${all:-none}; a few minutes the first time) ..." >&2
log=.venv/setup.log
spec="."
[ -n "$all" ] && spec=".[$all]"
if ! {
  export PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONWARNINGS=ignore
  .venv/bin/python -m pip install -q --upgrade pip setuptools &&
  # torch first and alone: the pinned CPU build, so nothing pulls a CUDA build.
  .venv/bin/python -m pip install -q -c tools/constraints.txt torch &&
  .venv/bin/python -m pip install -q -c tools/constraints.txt --no-build-isolation -e "$spec"
} >"$log" 2>&1; then
  cat "$log" >&2
  echo "setup failed; the full pip output is above and in $log" >&2
  exit 1
fi
echo "$hash $all" > "$stamp"
echo "done: .venv ready (extras: ${all:-none})" >&2

"""Run model-written Python with its unit tests in a subprocess sandbox; the
``unit_test`` judge.

What the sandbox does (:func:`run_python`):

* a fresh temporary folder per run, the working directory of the child, removed after;
* ``python -I -B`` (isolated: no ``PYTHON*`` variables, no user site, no script folder on
  ``sys.path``; no bytecode written), a minimal environment (``HOME`` and ``TMPDIR`` point
  at the temporary folder), stdin closed after the runner has read its token, stdout and
  stderr written to files in the temporary folder (so a printing loop cannot fill the
  judge's memory);
* a wall-clock time limit: the child runs in its own process group, killed (``SIGKILL``)
  when the limit passes; ``RLIMIT_CPU``, ``RLIMIT_AS`` (memory) and ``RLIMIT_FSIZE``
  (file size) as backstops;
* an audit hook (:pep:`578`), installed before the code runs, that refuses with
  ``PermissionError``: opening a file for writing (or creating, deleting, renaming,
  ``chmod``-ing, linking) outside the temporary folder; any socket ``connect``, ``bind``,
  ``sendto``/``sendmsg`` and name look-up; starting processes (``subprocess``,
  ``os.system``, ``os.exec*``, ``os.spawn*``, ``os.posix_spawn``, ``os.fork``: a child
  interpreter would not carry the hook); looking up foreign functions with ``ctypes``
  (``dlsym``; loading a library stays allowed, as ``import numpy`` needs it) and raw
  memory reads; ``gc`` introspection, ``sys.settrace``/``setprofile``, ``os.chdir``;
* no network namespace at all when ``unshare -rn`` works on this machine (Linux with user
  namespaces; probed once): the child then sees only a loopback interface that is down.

The code is executed as a module named ``solution`` (not ``__main__``); the tests are
executed afterwards in the same namespace. The run passes when the tests finish without an
exception: the runner then prints a random token it read from stdin before the code ran,
so code that exits early (``sys.exit(0)``, ``os._exit(0)``) does not pass.

Limits — read before running untrusted code: audit hooks are not a security boundary
(:pep:`578` says so). Code that sets out to escape can (e.g. through a C extension it
imports that writes files, or by finding the hook's state through introspection the hook
does not cover). Without ``unshare`` the network is blocked only by the hook. Reads are
not restricted (the code can read any file the user can). The sandbox guards against
accidents and careless model code, the common case in RL on code; for adversarial code,
run the judge inside a container or VM with no network and a read-only file system.
"""

from __future__ import annotations

import functools
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from moalign.llm.judges.base import FAILED, PASS, VIOLATE, Judge, _row, register_judge
from moalign.llm.objectives import completion_text

_RUNNER = r'''
import os, sys

def _setup():
    import resource
    token = sys.stdin.readline().strip()
    sys.stdin.close()
    sys.stdin = open(os.devnull)
    cpu, mem, fsize = (int(a) for a in sys.argv[1:4])
    for lim, val in ((resource.RLIMIT_CPU, cpu), (resource.RLIMIT_AS, mem),
                     (resource.RLIMIT_FSIZE, fsize), (resource.RLIMIT_CORE, 0)):
        if val >= 0:
            resource.setrlimit(lim, (val, val))
    root = os.path.realpath(os.getcwd())
    realpath, fspath, sep = os.path.realpath, os.fspath, os.sep
    writes = ("w", "a", "x", "+")
    wflags = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
    path_events = {"os.remove": (0,), "os.rmdir": (0,), "os.mkdir": (0,),
                   "os.rename": (0, 1), "os.chmod": (0,), "os.chown": (0,),
                   "os.link": (0, 1), "os.symlink": (1,), "os.truncate": (0,),
                   "os.utime": (0,), "os.chflags": (0,), "os.lchown": (0,),
                   "os.lchmod": (0,), "shutil.rmtree": (0,), "os.removexattr": (0,),
                   "os.setxattr": (0,), "shutil.chown": (0,)}
    banned = ("subprocess.Popen", "os.system", "os.exec", "os.spawn", "os.posix_spawn",
              "os.fork", "os.forkpty", "os.startfile", "pty.spawn", "os.kill", "os.killpg",
              "socket.connect", "socket.bind", "socket.sendto", "socket.sendmsg",
              "socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyaddr",
              "socket.gethostname", "ctypes.dlsym", "ctypes.cdata",
              "ctypes.string_at", "ctypes.wstring_at", "ctypes.set_errno", "gc.get_",
              "sys.setprofile", "sys.settrace", "sys.remote_exec", "_posixsubprocess", "os.chdir")

    def inside(p):
        if isinstance(p, int):
            return True  # an already open descriptor
        p = realpath(fspath(p) if not isinstance(p, bytes) else os.fsdecode(p))
        return p == root or p.startswith(root + sep)

    def hook(event, args):
        if event == "open":
            path, mode, flags = (tuple(args) + (None, None, None))[:3]
            w = (isinstance(mode, str) and any(c in mode for c in writes)) or (
                mode is None and isinstance(flags, int) and flags & wflags)
            if w and not inside(path):
                raise PermissionError(f"sandbox: no writes outside its folder ({path!r})")
        elif event in path_events:
            if len(args) > 2 and event != "os.rename" and args[-1] not in (None, -1):
                raise PermissionError(f"sandbox: {event} with dir_fd is not allowed")
            for i in path_events[event]:
                if i < len(args) and not inside(args[i]):
                    raise PermissionError(f"sandbox: {event} outside its folder")
        elif event.startswith(banned):
            raise PermissionError(f"sandbox: {event} is not allowed")

    sys.addaudithook(hook)
    return token

def _main():
    token = _setup()
    with open("solution.py", encoding="utf-8") as f:
        code = compile(f.read(), "solution.py", "exec")
    with open("tests.py", encoding="utf-8") as f:
        tests = compile(f.read(), "tests.py", "exec")
    ns = {"__name__": "solution", "__builtins__": __builtins__}
    try:
        exec(code, ns)
    except SystemExit:
        print("sandbox: the code exited before its tests ran", file=sys.stderr)
        raise SystemExit(3) from None
    exec(tests, ns)
    sys.stdout.flush()
    print("\n" + token, flush=True)

_main()
'''


@dataclass(frozen=True)
class SandboxResult:
    """Outcome of :func:`run_python`.

    Attributes:
        passed: the tests ran to completion (the runner's token came back, status 0).
        returncode: the child's exit status (negative: killed by that signal; None if it
            never started).
        timed_out: killed at the time limit.
        stdout, stderr: the tails (at most 10,000 characters) of the child's output.
        seconds: wall-clock time.
        network_namespace: the child ran in its own (empty) network namespace.
    """

    passed: bool
    returncode: int | None
    timed_out: bool
    stdout: str
    stderr: str
    seconds: float
    network_namespace: bool


@functools.cache
def unshare_available() -> bool:
    """Whether ``unshare -rn`` can start a process in a new, empty network namespace here
    (probed once per process)."""
    exe = shutil.which("unshare")
    if exe is None or not sys.platform.startswith("linux"):
        return False
    try:
        r = subprocess.run([exe, "-rn", sys.executable, "-I", "-c", "pass"],
                           capture_output=True, timeout=20, check=False)
    except (OSError, subprocess.SubprocessError):
        return False
    return r.returncode == 0


def _tail(path: str, n: int = 10_000) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - n))
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()


def run_python(code: str, tests: str = "", *, timeout: float = 10.0, memory_mb: int = 1024,
               max_file_mb: int = 16, network_namespace: bool | None = None
               ) -> SandboxResult:
    """Run ``code`` then ``tests`` in the sandbox described in the module docstring.

    Args:
        code: Python source (a model's completion).
        tests: Python source run after ``code`` in its namespace (asserts); passing means
            it finishes without an exception.
        timeout: wall-clock seconds before the child's process group is killed.
        memory_mb: address-space limit (``RLIMIT_AS``); ``0`` leaves it unset.
        max_file_mb: largest file the child may write (``RLIMIT_FSIZE``), its output
            files included.
        network_namespace: run under ``unshare -rn``; ``None`` uses it when available
            (:func:`unshare_available`).

    Returns:
        A :class:`SandboxResult`.

    Raises:
        OSError: the child could not be started (the judge turns this into -1).
    """
    use_ns = unshare_available() if network_namespace is None else network_namespace
    folder = tempfile.mkdtemp(prefix="moalign-sandbox-")
    token = secrets.token_hex(16)
    start = time.perf_counter()
    try:
        for fname, text in (("solution.py", code), ("tests.py", tests)):
            with open(os.path.join(folder, fname), "w", encoding="utf-8") as f:
                f.write(text)
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": folder,
               "TMPDIR": folder, "LANG": "C.UTF-8", "PYTHONIOENCODING": "utf-8"}
        cmd = [sys.executable, "-I", "-B", "-c", _RUNNER, str(int(timeout) + 1),
               str(memory_mb * 2**20 if memory_mb > 0 else -1), str(max_file_mb * 2**20)]
        if use_ns:
            cmd = [shutil.which("unshare") or "unshare", "-rn", *cmd]
        out_path, err_path = os.path.join(folder, "_stdout"), os.path.join(folder, "_stderr")
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            proc = subprocess.Popen(cmd, cwd=folder, env=env, stdin=subprocess.PIPE,
                                    stdout=out, stderr=err, start_new_session=True)
            timed_out = False
            try:
                assert proc.stdin is not None
                proc.stdin.write((token + "\n").encode())
                proc.stdin.close()
            except OSError:
                pass
            try:
                rc: int | None = proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                timed_out = True
                _kill_group(proc)
                rc = proc.wait()
            if not timed_out:
                _kill_group(proc)  # anything the code left behind in its group
        stdout, stderr = _tail(out_path), _tail(err_path)
        lines = stdout.rstrip("\n").rsplit("\n", 1)
        passed = not timed_out and rc == 0 and lines[-1] == token
        if passed:
            stdout = lines[0] if len(lines) > 1 else ""
        return SandboxResult(passed, rc, timed_out, stdout, stderr,
                             time.perf_counter() - start, use_ns)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


_FENCE = re.compile(r"```[ \t]*(?:python|py|python3)?[ \t]*\n(.*?)```", re.DOTALL | re.I)


def extract_code(text: str) -> str:
    """The code in a completion: the first fenced block (```python ... ```) if there is
    one, else the whole text."""
    m = _FENCE.search(text)
    return m.group(1) if m else text


class UnitTestJudge(Judge):
    """Pass when the completion's code passes its unit tests in :func:`run_python`.

    Verdicts: 1 the tests ran to completion; 0 they failed, the code raised, did
    something the sandbox refuses, exited early or **ran past the time limit** (a
    non-terminating program is a wrong program, as in programming-contest judges);
    -1 no tests for the row, or the sandbox could not start.

    Args:
        tests: the tests' source for every row, or None to read ``tests_column``.
        tests_column: the dataset column with each row's tests.
        timeout, memory_mb, network_namespace: see :func:`run_python`.
        workers: rows run in parallel (threads, each waiting on its child process).
        name: judge name.
    """

    def __init__(self, *, tests: str | None = None, tests_column: str = "tests",
                 timeout: float = 10.0, memory_mb: int = 1024,
                 network_namespace: bool | None = None, workers: int = 2,
                 name: str = "unit_test") -> None:
        super().__init__(name)
        if timeout <= 0:
            raise ValueError(f"unit_test judge: timeout must be > 0, got {timeout}")
        if workers < 1:
            raise ValueError(f"unit_test judge: workers must be >= 1, got {workers}")
        self.tests, self.tests_column = tests, tests_column
        self.timeout, self.memory_mb = timeout, memory_mb
        self.network_namespace, self.workers = network_namespace, workers
        self.last: list[SandboxResult | None] = []

    def _one(self, completion: Any, row: dict[str, Any]) -> tuple[int, SandboxResult | None]:
        tests = self.tests if self.tests is not None else row.get(self.tests_column)
        if tests is None:
            return FAILED, None
        try:
            res = run_python(extract_code(completion_text(completion)), str(tests),
                             timeout=self.timeout, memory_mb=self.memory_mb,
                             network_namespace=self.network_namespace)
        except Exception:
            return FAILED, None
        return (PASS if res.passed else VIOLATE), res

    def verdicts(self, prompts: Sequence[Any], completions: Sequence[Any], **columns: Any
                 ) -> list[int]:
        rows = [_row(columns, i) for i in range(len(completions))]
        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            results = list(pool.map(self._one, completions, rows))
        self.last = [r for _, r in results]
        return [v for v, _ in results]


@register_judge("unit_test")
def unit_test_judge(tests: str | None = None, *, tests_column: str = "tests",
                    timeout: float = 10.0, memory_mb: int = 1024,
                    network_namespace: bool | None = None, workers: int = 2,
                    name: str = "unit_test") -> UnitTestJudge:
    """A :class:`UnitTestJudge` (registered as ``"unit_test"``).

    Example:
        >>> j = unit_test_judge("assert add(2, 3) == 5", timeout=20)
        >>> j(["Write add."] * 2, ["def add(a, b):\\n    return a + b",
        ...                        "def add(a, b):\\n    return a - b"])
        [1, 0]
    """
    return UnitTestJudge(tests=tests, tests_column=tests_column, timeout=timeout,
                         memory_mb=memory_mb, network_namespace=network_namespace,
                         workers=workers, name=name)

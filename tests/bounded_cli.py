"""The `tavus-recording` command run as a user's shell runs it, with a bound on its time and memory, so a
reader that waits forever or swallows a whole device fails its test instead of hanging or starving the
machine; the same command run in the test's own process, where what it prints is the point and a process
of its own is not; and what every refusal must look like."""

from __future__ import annotations

import contextlib
import os
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any, Optional

from typer.testing import CliRunner

from tavus_recording.cli import app
from tavus_recording.stack_files import PROJECT_DIR

# Far above what plan or verify ever use (about 80 MB resident), far below what an attack would take.
MEMORY_BYTES = 1 << 30
TIMEOUT_SECONDS = 60


def _bound_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))


def run_cli(
    *args: str, env: Optional[dict[str, str]] = None, cwd: Path = PROJECT_DIR, timeout: float = TIMEOUT_SECONDS
) -> subprocess.CompletedProcess:
    """`python -m tavus_recording ARGS`; raises TimeoutExpired (having killed it) if it outlives `timeout`."""
    return subprocess.run(
        [sys.executable, "-m", "tavus_recording", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        errors="backslashreplace",
        env={**os.environ, **(env or {})},
        timeout=timeout,
        preexec_fn=_bound_memory,
    )


def cli_in_process(*args: str, env: Optional[dict[str, str]] = None, cwd: Path = PROJECT_DIR) -> subprocess.CompletedProcess:
    """`tavus-recording ARGS` in this process, from `cwd`, as run_cli reports it (exit code, stdout, stderr), without
    the second or so a new interpreter spends importing Pulumi and the SDKs. Any exception other than an exit is
    raised here: in a shell it would be the one-line internal error, so no test of a refusal should see one."""
    with contextlib.chdir(cwd):
        result = CliRunner().invoke(app, list(args), env=env, prog_name="tavus-recording", catch_exceptions=False)
    return subprocess.CompletedProcess(["tavus-recording", *args], result.exit_code, result.stdout, result.stderr)


def assert_one_line_refusal(result: Any, *said: str) -> None:
    """Exit 2 (could not run), nothing on stdout, and one printable `error:` line on stderr saying each of
    `said`; `result` is a finished process (run_cli) or typer's CliRunner result."""
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    if hasattr(result, "exit_code"):  # CliRunner: an exception other than exit is a traceback in a shell
        assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    code = result.exit_code if hasattr(result, "exit_code") else result.returncode
    assert code == 2, (code, result.stderr[-2000:])
    assert result.stdout == ""
    assert result.stderr.startswith("error: ") and result.stderr.endswith("\n") and result.stderr.count("\n") == 1, result.stderr
    line = result.stderr.rstrip("\n")
    assert line.isprintable(), repr(line)
    for words in said:
        assert words in line, line

"""The `tavus-recording` command run as a user's shell runs it, with a bound on its time and memory, so a
reader that waits forever or swallows a whole device fails its test instead of hanging or starving the
machine; and what every refusal must look like."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any, Optional

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

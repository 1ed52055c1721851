"""Start a Pulumi plugin (component provider or policy pack) as the CLI does and connect to it."""

import contextlib
import select
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest


@contextlib.contextmanager
def plugin_channel(argv: list[str], cwd: Path, start_seconds: float) -> Iterator[grpc.Channel]:
    """Run `argv`, read the port it prints first (as the CLI does), yield a ready channel; kill it after."""
    with (
        tempfile.TemporaryFile() as stderr,
        subprocess.Popen(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=stderr) as plugin,
    ):
        try:
            port = _read_port(plugin, stderr, start_seconds)
            with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
                grpc.channel_ready_future(channel).result(timeout=10)
                yield channel
        finally:
            plugin.kill()  # and leaving the block waits for it


def _read_port(plugin: subprocess.Popen, stderr: Any, start_seconds: float) -> int:
    assert plugin.stdout is not None
    deadline = time.monotonic() + start_seconds
    while time.monotonic() < deadline:
        ready, _, _ = select.select([plugin.stdout], [], [], 0.5)
        if ready:
            line = plugin.stdout.readline().decode().strip()
            assert line.isdigit(), f"the plugin's first line is not a port: {line!r}"
            return int(line)
        if plugin.poll() is not None:
            break
    stderr.seek(0)
    pytest.fail(f"the plugin printed no port (exit {plugin.poll()}):\n{stderr.read().decode()}")

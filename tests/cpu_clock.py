"""The CPU time of a test's own work, for bounds that must hold on a loaded 2-core machine.

This thread's clock leaves out other processes and the suite's other worker. The collector is paused while the
clock runs: one of its full passes walks everything the worker has imported and kept (0.85 s once, in CI), which
is the worker's cost, not the code under test."""

from __future__ import annotations

import gc
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass
class Spent:
    seconds: float = 0.0


@contextmanager
def own_cpu() -> Iterator[Spent]:
    spent = Spent()
    was_enabled = gc.isenabled()
    gc.disable()
    started = time.thread_time()
    try:
        yield spent
    finally:
        spent.seconds = time.thread_time() - started
        if was_enabled:
            gc.enable()

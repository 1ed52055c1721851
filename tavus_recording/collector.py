"""Python's garbage collector, set for a short-lived command and for a run on the mock engine.

Importing pulumi, the cloud SDK and the settings models makes hundreds of thousands of objects that live as long
as the process; a program run on the mock engine makes more (outputs, futures, registrations) that live until it
ends. With the default gen-0 threshold (700 new containers) the collector runs hundreds of times, its gen-1 and
full collections walking everything made so far, and the interpreter's last full collection at exit walks it all
once more (about 0.3 s of a process that imports pulumi_aws). In a run of 100-400 destinations that made the
time per destination grow with their number. What the collector finds is cyclic garbage (a few thousand objects
per destination: the SDK's tasks and closures), which a larger threshold leaves a little longer.

`command()` is for the `tavus-recording` process's one verb: a larger gen-0 threshold, what the verb imported
frozen (`freeze_imports`) so no collection walks it again, and everything frozen at exit, so the interpreter's
last full collection does not walk it either. `collecting_less()` does the same for one mock run. Both put back
what they found when they end: importing `tavus_recording` or `components` as a library changes no collector
setting, and a test session's collector is as it was after each run.
"""

from __future__ import annotations

import atexit
import gc
from contextlib import contextmanager
from typing import Iterator

# New containers between gen-0 collections (the default is 700); gen-1 and gen-2 keep their defaults (10, 10),
# which count gen-0 and gen-1 collections. Measured for issue 20 (notes/issue20-plan-speed-report.md): `plan`
# takes the same time from 50 000 up. On 400 destinations the collector's share of the run falls from about a
# third (700) to a fifth (50 000) to about a tenth (200 000: a few gen-0 collections, no gen-1 one within 400
# destinations); at 1 000 000 it rises again, each collection then walking more objects than the caches hold.
# What it can leave uncollected meanwhile is cyclic garbage made since the last collection: at most this many
# containers, tens of megabytes; a plan makes a few thousand.
GEN0_THRESHOLD = 200_000

_in_command = False


@contextmanager
def command() -> Iterator[None]:
    """The collector for the `tavus-recording` process's verb; put back when the verb ends (its process then exits)."""
    global _in_command
    threshold, frozen = gc.get_threshold(), gc.get_freeze_count()
    gc.set_threshold(max(GEN0_THRESHOLD, threshold[0]), *threshold[1:])
    # At exit, before the interpreter's final full collection: what is left then is freed with the process.
    atexit.unregister(gc.freeze)
    atexit.register(gc.freeze)
    _in_command = True
    try:
        yield
    finally:
        _in_command = False
        gc.set_threshold(*threshold)
        if not frozen:
            gc.unfreeze()


def freeze_imports() -> None:
    """In `command()`, once the verb's imports are done: modules, classes and the SDK's tables live until exit,
    so no collection needs to walk them again. Outside it (the verbs run in-process by a test), nothing."""
    if _in_command:
        gc.freeze()


@contextmanager
def collecting_less() -> Iterator[None]:
    """Within: the larger gen-0 threshold and, unless something froze objects already (`command()` did), what
    exists at entry frozen. At exit the threshold is put back and what was frozen here unfrozen."""
    threshold = gc.get_threshold()
    freezing = gc.get_freeze_count() == 0
    if freezing:
        gc.freeze()
    gc.set_threshold(max(GEN0_THRESHOLD, threshold[0]), *threshold[1:])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        if freezing:
            gc.unfreeze()

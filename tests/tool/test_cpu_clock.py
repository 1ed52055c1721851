"""The clock the speed bounds use: it must count the code's own work, and leave the collector as it found it."""

from __future__ import annotations

import gc
import time

import pytest
from cpu_clock import own_cpu


def test_work_counts_and_waiting_does_not():
    with own_cpu() as busy:
        deadline = time.thread_time() + 0.05
        while time.thread_time() < deadline:
            pass
    with own_cpu() as idle:
        time.sleep(0.1)
    assert busy.seconds >= 0.05 and idle.seconds < 0.05, (busy, idle)


@pytest.mark.parametrize("enabled", [True, False])
def test_the_collector_is_paused_inside_and_put_back_after(enabled):
    (gc.enable if enabled else gc.disable)()
    try:
        with pytest.raises(ZeroDivisionError), own_cpu():
            assert not gc.isenabled()
            _ = 1 / 0
        assert gc.isenabled() is enabled
    finally:
        gc.enable()

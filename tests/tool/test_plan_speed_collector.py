"""The garbage collector (issue 20): tuned in the `tavus-recording` process and during a mock run, and put back
after both; importing the kit as a library changes nothing."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
from typing import Any

import pulumi
import pytest

from tavus_recording import collector
from tavus_recording.mock_engine import run_component, run_program
from tavus_recording.stack_files import PROJECT_DIR, load_stack_config


def settings() -> tuple[tuple[int, int, int], int, bool]:
    return gc.get_threshold(), gc.get_freeze_count(), gc.isenabled()


def child(code: str) -> Any:
    """What `code`, run in a fresh interpreter from the project, prints as JSON on its last line."""
    done = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_DIR, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


SETTINGS = "import gc, json\ndef settings(): return [list(gc.get_threshold()), gc.get_freeze_count(), gc.isenabled()]\n"


@pytest.mark.parametrize("modules", [
    "tavus_recording",
    "tavus_recording.cli",
    "tavus_recording.mock_engine, tavus_recording.plan, tavus_recording.stack_files",
    "components, components.aws, components.settings",
])
def test_importing_the_kit_as_a_library_changes_no_collector_setting(modules):
    before, after = child(SETTINGS + f"before = settings()\nimport {modules}\nprint(json.dumps([before, settings()]))")
    assert after == before
    assert before[0][0] < collector.GEN0_THRESHOLD  # Python's default, which the kit would have raised


@pytest.fixture
def odd_collector():
    """A collector set otherwise than Python's default, so a setting put back is told from one never changed."""
    saved = gc.get_threshold()
    gc.set_threshold(1234, 7, 9)
    yield (1234, 7, 9)
    gc.set_threshold(*saved)


def test_a_mock_run_collects_seldom_and_puts_the_collector_back(odd_collector):
    seen: list[tuple[tuple[int, int, int], int]] = []

    def build() -> None:
        seen.append((gc.get_threshold(), gc.get_freeze_count()))

    before = settings()
    run_component(build)
    threshold, frozen = seen[0]
    assert threshold == (collector.GEN0_THRESHOLD, 7, 9) and frozen > 0  # during the run
    assert settings() == before == (odd_collector, 0, True)  # after it


def test_a_failed_run_puts_the_collector_back_too(odd_collector, dev_config):
    before = settings()
    with pytest.raises(pulumi.RunError):
        run_program({**dev_config, "tavus-recording:provider": "ftp"})
    assert settings() == before


def test_a_run_leaves_what_someone_else_froze_frozen(odd_collector):
    # Objects frozen before the run (by a command, or a caller of its own) stay so; the run freezes nothing more.
    # Frozen objects are in no generation gc.get_objects() lists; the frozen count itself only falls as frozen
    # objects die, which other threads (pytest-xdist's) may make happen at any time.
    marker: list[str] = []
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        during: list[tuple[int, bool]] = []
        run_component(lambda: during.append((gc.get_freeze_count(), listed(marker))))
        (count, marker_listed), = during
        assert not marker_listed and count <= frozen  # nothing unfrozen, nothing more frozen
        assert not listed(marker) and 0 < gc.get_freeze_count() <= frozen  # and so after the run
    finally:
        gc.unfreeze()
    assert listed(marker)  # the check can fail: unfrozen, the marker is in a generation again


def listed(thing: object) -> bool:
    """Whether the collector tracks `thing` in one of its generations (not frozen)."""
    return any(other is thing for other in gc.get_objects())


def test_a_plan_run_in_process_freezes_nothing_and_puts_the_threshold_back(odd_collector):
    # The CLI's verbs run in-process (typer's CliRunner, a test) are not the command's process: nothing frozen.
    from typer.testing import CliRunner

    from tavus_recording import cli

    before = settings()
    result = CliRunner().invoke(cli.app, ["plan", "--stack", "dev"])
    assert result.exit_code == 0, result.output
    assert settings() == before


# The command in its own process: the collector as the verb saw it (read when the plan is rendered), after run()
# ended, and at exit: this atexit function is registered before the command's, so it runs after it.
COMMAND = SETTINGS + """
import atexit, sys
from tavus_recording import cli, plan
seen, result = [], {}
atexit.register(lambda: print(json.dumps([result["before"], seen, result["after"], result["code"], gc.get_freeze_count()])))
render = plan.render_text
def watching(*args, **kwargs):
    seen.append(settings())
    return render(*args, **kwargs)
plan.render_text = watching
result["before"] = settings()
sys.argv = ["tavus-recording", "plan", "--stack", "dev"]
try:
    cli.run()
except SystemExit as exit:
    result["code"] = exit.code
result["after"] = settings()
"""


def test_the_command_collects_seldom_freezes_its_imports_and_puts_the_collector_back():
    before, seen, after, code, frozen_at_exit = child(COMMAND)
    assert code in (0, None)
    (threshold, frozen, enabled), = seen
    assert threshold[0] == collector.GEN0_THRESHOLD and frozen > 0 and enabled  # during the verb
    assert after == before and before[1] == 0  # after it: the default threshold, nothing frozen
    # At exit everything is frozen, so the interpreter's last full collection has nothing to walk.
    assert frozen_at_exit > frozen


def test_the_plan_is_the_same_whatever_the_collector(monkeypatch):
    # The collector decides when garbage is freed, never what a run registers: a run collecting every 100
    # allocations registers and exports what one collecting seldom does.
    config = load_stack_config("dev").config
    seldom = run_program(config)
    monkeypatch.setattr(collector, "GEN0_THRESHOLD", 100)
    saved = gc.get_threshold()
    gc.set_threshold(100, 10, 10)
    try:
        often = run_program(config)
    finally:
        gc.set_threshold(*saved)
    def registered(run: Any) -> list[tuple[Any, ...]]:
        # In the order of their URNs, each one's dependencies sorted as the plan shows them: the SDK gathers those
        # in a set, whose order can vary between runs as the thread pool's order does.
        return sorted(((r.type, r.name, r.inputs, r.outputs, sorted(r.depends_on)) for r in run.registrations),
                      key=lambda r: r[:2])

    assert registered(often) == registered(seldom)
    assert often.outputs == seldom.outputs and often.secret_outputs == seldom.secret_outputs

"""How a refused stack looks to the tests: the settings RunError, one line per key, nothing registered."""

from __future__ import annotations

import re

import pulumi
import pytest

from components.settings import PROVIDER_KEYS, parse_settings
from tavus_recording.mock_engine import PlanMocks, RecordingMonitor, run_program

KEY_NAMED = re.compile(
    r"^  - (tavus-recording:[A-Za-z_]+|" + "|".join(map(re.escape, PROVIDER_KEYS)) + "): ", re.MULTILINE
)


def error_for(config: dict[str, str]) -> str:
    with pytest.raises(pulumi.RunError) as caught:
        parse_settings(config)
    return str(caught.value)


def problem_line(message: str, key: str) -> str:
    lines = [line for line in message.splitlines() if line.startswith(f"  - {key}: ")]
    assert len(lines) == 1, message
    return lines[0]


def assert_refused_before_any_resource_or_built(config: dict[str, str], model: type) -> None:
    """The fuzz invariant: one RunError naming a key with nothing registered, or a valid output."""
    monitor = RecordingMonitor(PlanMocks(config))
    try:
        run = run_program(config, monitor=monitor)
    except pulumi.RunError as exc:
        assert KEY_NAMED.search(str(exc)), str(exc)
        assert monitor.registrations == []
        return
    assert model.model_validate(run.outputs["recording_storage"])

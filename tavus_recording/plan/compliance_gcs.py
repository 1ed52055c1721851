"""The plan's word on WORM retention and the audit log for one cloud (gcs): what the stack sets, in one line each."""

from __future__ import annotations

from typing import Any, Optional

from tavus_recording.mock_engine import ProgramRun, Registration


def worm(run: ProgramRun) -> tuple[Optional[dict[str, Any]], Optional[str]]:
    """WORM retention as facts and one line; (None, None) when off."""
    return None, None


def audit(run: ProgramRun, grants: list[Registration]) -> tuple[Optional[dict[str, Any]], Optional[str]]:
    """The audit log as facts and one line; (None, None) when off. Grants it makes (e.g. the log bucket's
    policy for CloudTrail) are added to `grants`, the ones the summary accounts for."""
    return None, None

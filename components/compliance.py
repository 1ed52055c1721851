"""WORM retention, the audit log and the other switches that decide which resources exist, as a component's args
ask for them, read once for every cloud.

Plain values only, read when the component is built: they decide which resources exist (and a compliance lock
cannot be undone), so an Output known only later, or a value out of range, is refused in one line, never guessed at.
"""

from __future__ import annotations

from typing import Any, Optional

WORM_MODES = ("governance", "compliance")
DEFAULT_WORM_MODE = "governance"
# The kit's cap, within every cloud's: S3 Object Lock up to 100 years, a GCS retention period under
# 3,155,760,000 s (36,524 days), Azure container immutability up to 146,000 days.
MAX_WORM_DAYS = 36500


def _refuse(arg: str, value: Any, expected: str) -> None:
    shown = repr(value) if isinstance(value, (int, str)) else f"a {type(value).__name__}"
    raise ValueError(f"{arg} is {shown}; expected {expected}, known when the component is built (it decides which resources exist)")


def worm(immutable_days: Any, immutable_mode: Any, max_days: int = MAX_WORM_DAYS) -> Optional[tuple[int, str]]:
    """(days, mode in force) of the WORM retention asked for, or None when off (no days, or 0 from another
    language's SDK meaning "not set"); the mode defaults to governance."""
    if immutable_days is None or type(immutable_days) is int and immutable_days == 0:
        if immutable_mode not in (None, ""):
            raise ValueError(f"immutable_mode has no effect without immutable_days (it is {immutable_mode!r}); set both, or neither")
        return None
    if isinstance(immutable_days, bool) or not isinstance(immutable_days, int) or not 1 <= immutable_days <= max_days:
        _refuse("immutable_days", immutable_days, f"a plain whole number of days from 1 to {max_days}")
    mode = immutable_mode or DEFAULT_WORM_MODE
    if mode not in WORM_MODES:
        _refuse("immutable_mode", mode, "a plain 'governance' or 'compliance'")
    return immutable_days, mode


def plain_flag(arg: str, value: Any, default: bool) -> bool:
    """A boolean arg that decides which resources exist: a plain bool (absent: `default`)."""
    if value is None:
        return default
    if not isinstance(value, bool):
        _refuse(arg, value, "a plain True or False")
    return value


def audit_on(audit_logs: Any) -> bool:
    """Whether the audit log is asked for: a plain bool (absent: off)."""
    return plain_flag("audit_logs", audit_logs, False)

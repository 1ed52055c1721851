"""What every judged stack config must look like, for the settings fuzzers: a refusal a user can read
(one plain, short line per key), or settings whose every value is plain and within what a cloud takes."""

from __future__ import annotations

import unicodedata
from typing import Any, Mapping

import pulumi

from components.settings import StackSettings, parse_settings
from settings_checks import KEY_NAMED

# Control, format, line/paragraph separator and surrogate characters: never raw in a message or a setting.
INVISIBLE = ("Cc", "Cf", "Zl", "Zp", "Cs")
# The longest text any key takes (a KMS key ARN's 2048), and the most days the kit sets (100 years).
MAX_TEXT = 2048
MAX_DAYS = 36500
# A problem line quotes at most about 100 characters of a value; the rest is what is wrong and expected.
MAX_LINE = 700


def invisible(text: str) -> list[str]:
    return [c for c in text if unicodedata.category(c) in INVISIBLE]


def assert_one_plain_line_per_key(message: str) -> None:
    """The RunError a user reads: a header, one short `  - key: what` line per problem, a footer; nothing raw."""
    lines = message.split("\n")
    assert lines[0] == "invalid stack configuration:", message[:300]
    problems = lines[1:-1]
    assert problems and all(KEY_NAMED.match(line) or line.startswith("  - ") for line in problems), message[:300]
    assert all(len(line) <= MAX_LINE for line in problems), max(problems, key=len)[:300]
    assert not invisible(message.replace("\n", "")), message[:300]


def assert_plain_and_bounded(settings: StackSettings) -> None:
    """Accepted settings hold no invisible characters, no text longer than any key takes, no day count past the cap."""
    for name in StackSettings.model_fields:
        value = getattr(settings, name)
        texts = [*value.keys(), *value.values()] if isinstance(value, dict) else [value] if isinstance(value, str) else []
        for text in texts:
            assert len(text) <= MAX_TEXT and not invisible(text), (name, text[:100])
        if isinstance(value, int) and not isinstance(value, bool):
            assert 1 <= value <= MAX_DAYS, (name, value)


def assert_judged_plainly(config: Mapping[str, Any]) -> None:
    """parse_settings gives a readable RunError or plain, bounded settings; never another exception."""
    try:
        settings = parse_settings(config)
    except pulumi.RunError as exc:
        assert_one_plain_line_per_key(str(exc))
        return
    assert_plain_and_bounded(settings)

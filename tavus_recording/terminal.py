"""Untrusted text made safe to print: a bucket name, an API message or a file name read from outside
can hold escape sequences that rewrite a terminal or a CI log, or bidi controls that reorder what it shows.

Control and format characters are shown as visible escapes (`\\x1b`, `\\u202e`) instead of being
sent; newlines survive only where the caller's own layout puts them (`keep_newlines`).
"""

from __future__ import annotations

import unicodedata


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def printable(text: str, *, keep_newlines: bool = False) -> str:
    """`text` with every control (Cc), format (Cf: bidi, zero-width), line/paragraph separator (Zl, Zp),
    surrogate and unassigned character escaped; `keep_newlines` leaves plain newlines for multi-line layouts."""
    if text.isprintable():  # the common case: nothing to do
        return text
    return "".join(
        char
        if (keep_newlines and char == "\n") or unicodedata.category(char) not in ("Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn")
        else _escape(char)
        for char in text
    )

"""The forms in which a server can echo an API key back, and a test of whether any reached some output.

Written apart from tavus_recording/verify/redact.py, so the tests do not share its mistakes: the
base64 forms here are found by encoding the key between two different fillers and keeping what does
not change.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import json
import re
import unicodedata
from urllib.parse import quote, quote_plus

# Test keys: one as Tavus issues them (hex), one whose characters every encoding changes.
HEX_KEY = "3f9a2c1b7d6e4a5b8c9d0e1f2a3b4c5d"
ODD_KEY = "tvs-Se/cr+et=Key:0123~abc%41"
KEYS = (HEX_KEY, ODD_KEY)


def _b64(data: bytes, urlsafe: bool) -> str:
    return (base64.urlsafe_b64encode if urlsafe else base64.b64encode)(data).decode()


def base64_cores(key: str) -> list[str]:
    """The run of base64 characters that only the key decides, at each of the three byte offsets it can
    sit at inside a longer base64'd string, standard and URL-safe."""
    cores = []
    for offset in range(3):
        for urlsafe in (False, True):
            a = _b64(b"\x00" * offset + key.encode() + b"\x00\x00\x00", urlsafe)
            b = _b64(b"\xff" * offset + key.encode() + b"\xff\xff\xff", urlsafe)
            same = "".join(x if x == y else "\n" for x, y in zip(a, b))
            cores.append(max(same.split("\n"), key=len))
    return cores


def echoes(key: str) -> dict[str, str]:
    """Each way a careless or hostile server might send the key back, by name."""
    raw = key.encode()
    every_char = "".join(f"%{byte:02X}" for byte in raw)
    forms = {
        "raw": key,
        "upper": key.upper(),
        "lower": key.lower(),
        "swapcase": key.swapcase(),
        "quote": quote(key, safe=""),
        "quote-lower-hex": re.sub("%[0-9A-F]{2}", lambda hexed: hexed.group().lower(), quote(key, safe="")),
        "quote_plus": quote_plus(key),
        "quote-twice": quote(quote(key, safe=""), safe=""),
        "percent-every-char": every_char,
        "percent-every-char-lower": every_char.lower(),
        "json-dumps": json.dumps(key)[1:-1],
        "json-u-escapes": "".join(f"\\u{ord(c):04x}" for c in key),
        "json-u-escapes-upper": "".join(f"\\u{ord(c):04X}" for c in key),
        "html-decimal": "".join(f"&#{ord(c)};" for c in key),
        "html-hex": "".join(f"&#x{ord(c):x};" for c in key),
        "hex": binascii.hexlify(raw).decode(),
        "hex-upper": binascii.hexlify(raw).decode().upper(),
        "base64": _b64(raw, False),
        "base64-unpadded": _b64(raw, False).rstrip("="),
        "base64-urlsafe": _b64(raw, True),
        "base64-urlsafe-unpadded": _b64(raw, True).rstrip("="),
        "base64-quoted": quote(_b64(raw, False), safe=""),
        "basic-auth": _b64(b"user:" + raw, False),
        "base64-offset-1": _b64(b"[" + raw + b"]", False),
        "base64-offset-2": _b64(b"k=" + raw + b";", True),
        # Found by a red team: the key turned round, cut into short pieces, hidden among invisible or
        # look-alike characters, or in encodings the first list lacked.
        "reversed": key[::-1],
        "reversed-upper": key[::-1].upper(),
        "spaces-every-4": " ".join(_pieces(key, 4)),
        "dashes-every-4": "-".join(_pieces(key, 4)),
        "dots-every-7": ".".join(_pieces(key, 7)),
        "zero-width": "\u200b".join(key),
        "zero-width-joiner": "\u2060".join(key),
        "fullwidth": "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in key),
        "combining": "".join(c + "\u0301" for c in key),
        "hex-colons": ":".join(f"{byte:02x}" for byte in raw),
        "base32": base64.b32encode(raw).decode(),
        "base64-of-base64": _b64(_b64(raw, False).encode(), False),
        "utf16-hex": key.encode("utf-16-be").hex(),
        "utf16le-hex": key.encode("utf-16-le").hex(),
        "octal-escapes": "".join(f"\\{byte:03o}" for byte in raw),
        "U8-escapes": "".join(f"\\U{ord(c):08x}" for c in key),
        "u-brace-escapes": "".join(f"\\u{{{ord(c):x}}}" for c in key),
        "quote-three-times": quote(quote(quote(key, safe=""), safe=""), safe=""),
        "percent-every-char-three-times": "".join(f"%2525{byte:02X}" for byte in raw),
        "html-decimal-no-semicolon": "".join(f"&#{ord(c)}" for c in key),
        "rot13": codecs.encode(key, "rot13"),
    }
    return forms


# The forms a red team added (each name above from "reversed" on).
RED_TEAM_FORMS = (
    "reversed",
    "reversed-upper",
    "spaces-every-4",
    "dashes-every-4",
    "dots-every-7",
    "zero-width",
    "zero-width-joiner",
    "fullwidth",
    "combining",
    "hex-colons",
    "base32",
    "base64-of-base64",
    "utf16-hex",
    "utf16le-hex",
    "octal-escapes",
    "U8-escapes",
    "u-brace-escapes",
    "quote-three-times",
    "percent-every-char-three-times",
    "html-decimal-no-semicolon",
    "rot13",
)


def _pieces(key: str, size: int) -> list[str]:
    return [key[i : i + size] for i in range(0, len(key), size)]


# A run of the key's letters and digits this long, in what is printed, is a leak however it is spelled.
SKELETON_RUN = 12
# What `printable` makes of an invisible character: read back before looking.
_PRINTED_ESCAPE = re.compile(r"\\(?:x[0-9a-f]{2}|u[0-9a-f]{4}|U[0-9a-f]{8})")


def skeleton(text: str) -> str:
    """The letters and digits of `text`, after NFKD (fullwidth and accented letters read as plain ones),
    case-folded: what a reader sees of a key cut apart by separators, invisible or combining characters."""
    return "".join(ch for ch in unicodedata.normalize("NFKD", text) if ch.isalnum()).casefold()


def skeleton_leaked(text: str, key: str) -> list[str]:
    """SKELETON_RUN-long runs of the key, of its hex or of either reversed, in the skeleton of `text`
    (printed escapes of invisible characters removed first), by where they start in the key."""
    seen = skeleton(_PRINTED_ESCAPE.sub("", text))
    found = []
    for name, form in (("key", key), ("hex", binascii.hexlify(key.encode()).decode())):
        for direction, spelled in (("", skeleton(form)), ("reversed-", skeleton(form)[::-1])):
            for start in range(len(spelled) - SKELETON_RUN + 1):
                if spelled[start : start + SKELETON_RUN] in seen:
                    found.append(f"skeleton-{direction}{name}-{start}")
                    break
    return found


def leaked(text: str, key: str) -> list[str]:
    """The key's forms found in `text` (case-insensitively), by name; empty when none is."""
    found = []
    folded = text.casefold()
    plain = {name: form for name, form in echoes(key).items() if not name.startswith(("base64", "basic"))}
    for name, form in plain.items():
        if form.casefold() in folded:
            found.append(name)
    for index, core in enumerate(base64_cores(key)):
        if core.casefold() in folded:
            found.append(f"base64-core-{index}")
    return found + skeleton_leaked(text, key)


def prefix_leaked(text: str, key: str, shortest: int = 8) -> bool:
    """Whether the key's first `shortest` characters appear anywhere in `text` (a key cut in two)."""
    return key[:shortest].casefold() in text.casefold()

"""Keep a secret (the Tavus API key) out of anything printed from outside, whatever form it comes back in.

A server may echo the key it was sent: as it is, upper- or lower-cased, reversed, rot13'd, URL-encoded
(up to three times, either hex case), JSON-, Python-, C-, Rust- or HTML-escaped (octal `\\063`,
`\\U00000033`, `\\u{33}`, entities with or without `;`), hex'd (also with separators, or of its UTF-16),
base32'd, base64'd (standard or URL-safe, alone or inside a longer base64 string, or twice), cut short,
cut into pieces by spaces, dashes, dots or zero-width characters, or spelled in Unicode look-alikes
(fullwidth characters, combining marks).

`redact` decodes the text's escapes into a few views, and adds the *skeleton* of each: the text
NFKD-normalised, lower-cased, with every character that is not a letter or digit dropped (separators,
zero-width and combining marks vanish), each character still mapped to where it came from. It looks in
each view for any run of FRAGMENT or more characters of the key or of one of its spellings (and of
their skeletons, and of each reversed), and for a key cut at the very end of the text, and masks the
span of the original they came from. `excerpt` is what to print of any text from outside: redacted
first, then made printable, then cut, so a cut can never leave the start of a key behind.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re
import unicodedata
from functools import lru_cache

from tavus_recording.terminal import printable

MASK = "***"
# Any run this long of the key (or of one of its spellings) is masked wherever it appears: shorter runs
# are what any two strings share by chance.
FRAGMENT = 8
# A key cut at the end of a text is masked from this many characters on: fewer say nothing about it.
MIN_PARTIAL = 4
# Escapes are read at most this many times over (a key URL-encoded three times, then once more spare).
MAX_DECODES = 4

# One encoded character: %XX, \uXXXX, \U00XXXXXX, \u{X...}, \xXX, \ooo (octal: fewer digits only before
# a non-digit), &#xHH or &#DDD (with or without `;`, but then not at the very end: `&#10` may be `&#108;`
# cut), &amp; and its kin, or a backslash escape such as \/ or \".
_ESCAPE = re.compile(
    r"%([0-9a-fA-F]{2})"
    r"|\\u([0-9a-fA-F]{4})"
    r"|\\U([0-9a-fA-F]{8})"
    r"|\\u\{([0-9a-fA-F]{1,6})\}"
    r"|\\x([0-9a-fA-F]{2})"
    r"|&#[xX]([0-9a-fA-F]{1,6})(?:;|(?=[^0-9a-fA-F;]))"
    r"|&#([0-9]{1,7})(?:;|(?=[^0-9;]))"
    r"|\\([0-7]{3}|[0-7]{1,2}(?=[^0-7]))"
    r"|&(amp|lt|gt|quot|apos);"
    r"|\\([^uxU0-9])",
    re.DOTALL,
)
_NAMED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}
_HEX_GROUPS = (1, 2, 3, 4, 5, 6)
# An escape cut off by the end of the text (`%4`, `\u00`, `\U0000`, `&#11`): it may be the last character of a
# cut key. Searched in the lower-cased view.
_OPEN_ESCAPE = re.compile(
    r"(?:%[0-9a-fA-F]?|\\(?:u(?:[0-9a-fA-F]{0,3}|\{[0-9a-fA-F]{0,6})|[uU][0-9a-fA-F]{0,7}|x[0-9a-fA-F]?|[0-7]{1,2})?"
    r"|&(?:#(?:[xX][0-9a-fA-F]{0,6}|[0-9]{0,7}))?)\Z"
)
_ASCII_ALNUM = re.compile(r"[A-Za-z0-9]+")

# A view of the text: its characters, and for each the span of the original it came from. Escapes are
# read in the view's own case (`\U` is not `\u`); matching is on its lower-cased form.
_View = tuple[str, list[int], list[int]]


def _lower(text: str) -> str:
    """Lower-cased, one character for one, so positions still match the original."""
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    return "".join(low if len(low := char.lower()) == 1 else char for char in text)


def _skeleton_text(text: str) -> str:
    """The letters and digits of `text`, NFKD-normalised (look-alikes and accents folded) and lower-cased."""
    return "".join(ch for ch in unicodedata.normalize("NFKD", text) if ch.isalnum()).lower()


def _skeleton(view: _View) -> _View:
    """`view` with every character that is not a letter or digit dropped, after NFKD normalisation (so a
    fullwidth `３` is `3`, and a combining mark or a zero-width space is nothing), lower-cased."""
    text, starts, ends = view
    chars: list[str] = []
    new_starts: list[int] = []
    new_ends: list[int] = []
    if text.isascii():
        for match in _ASCII_ALNUM.finditer(text):
            chars.append(match.group())
            new_starts += starts[match.start() : match.end()]
            new_ends += ends[match.start() : match.end()]
        return "".join(chars).lower(), new_starts, new_ends
    for index, char in enumerate(text):
        folded = _folded(char)
        if folded:
            chars.append(folded)
            new_starts += [starts[index]] * len(folded)
            new_ends += [ends[index]] * len(folded)
    return "".join(chars), new_starts, new_ends


@lru_cache(maxsize=4096)
def _folded(char: str) -> str:
    """One character's skeleton: itself lower-cased if an ASCII letter or digit, its NFKD letters and
    digits if not ASCII, else nothing."""
    return _skeleton_text(char)


def _cores(data: bytes, encode, group_bytes: int, bits: int) -> list[str]:
    """The characters of `encode(data)` that only `data` decides, at each byte offset it can start at
    inside a longer encoded string (a base64 or base32 group holds `group_bytes` bytes, `bits` a character)."""
    cores = []
    for offset in range(group_bytes):
        encoded = encode(b"\0" * offset + data).decode()
        first = -(-offset * 8 // bits)  # the first character no filler bit reaches
        last = (offset + len(data)) * 8 // bits  # past the last character made of the data's bits only
        cores.append(encoded[first:last])
    return cores


def _base64_cores(data: bytes) -> list[str]:
    """The base64 characters that only `data` decides, at each of the three byte offsets, in the
    standard and the URL-safe alphabet."""
    cores = []
    for core in _cores(data, base64.b64encode, 3, 6):
        cores += [core, core.translate(str.maketrans("+/", "-_"))]
    return cores


@lru_cache(maxsize=8)
def _spellings(secret: str) -> tuple[str, ...]:
    """The secret and every spelling of it looked for (case as encoded; matching ignores case)."""
    data = secret.encode("utf-8", "surrogatepass")
    b64 = _base64_cores(data)
    twice = [core for inner in b64 for core in _base64_cores(inner.encode())]
    return (
        secret,
        codecs.encode(secret, "rot13"),
        binascii.hexlify(data).decode(),
        secret.encode("utf-16-be", "surrogatepass").hex(),
        secret.encode("utf-16-le", "surrogatepass").hex(),
        *_cores(data, base64.b32encode, 5, 5),
        *b64,
        *twice,
    )


@lru_cache(maxsize=8)
def _forms(secret: str) -> tuple[str, ...]:
    """The secret and its hex and base64 spellings, lower-cased: what a key cut at the end is looked for as."""
    data = secret.encode("utf-8", "surrogatepass")
    encoded = [binascii.hexlify(data).decode(), *_base64_cores(data)]
    return tuple(dict.fromkeys([_lower(secret), *(_lower(form) for form in encoded if len(form) >= FRAGMENT)]))


@lru_cache(maxsize=8)
def _grams(secret: str) -> frozenset[str]:
    """Every FRAGMENT-long run of every spelling, of its skeleton, and of each reversed."""
    forms: set[str] = set()
    for spelling in _spellings(secret):
        for form in (_lower(spelling), _skeleton_text(spelling)):
            forms.update((form, form[::-1]))
    return frozenset(form[i : i + FRAGMENT] for form in forms for i in range(len(form) - FRAGMENT + 1))


def _decoded(view: _View) -> _View:
    """`view` with each escape read as the character it stands for."""
    text, starts, ends = view
    chars: list[str] = []
    new_starts: list[int] = []
    new_ends: list[int] = []
    last = 0
    for match in _ESCAPE.finditer(text):
        chars += text[last : match.start()]
        new_starts += starts[last : match.start()]
        new_ends += ends[last : match.start()]
        groups = match.groups()
        hexed = next((groups[i - 1] for i in _HEX_GROUPS if groups[i - 1]), None)
        if hexed:
            code = int(hexed, 16)
        elif groups[6]:
            code = int(groups[6])
        elif groups[7]:
            code = int(groups[7], 8)
        elif groups[8]:
            code = ord(_NAMED[groups[8].lower()])
        else:
            code = ord(groups[9])
        chars.append(chr(code) if code <= 0x10FFFF else "\ufffd")
        new_starts.append(starts[match.start()])
        new_ends.append(ends[match.end() - 1])
        last = match.end()
    if last == 0:
        return view
    chars += text[last:]
    new_starts += starts[last:]
    new_ends += ends[last:]
    return "".join(chars), new_starts, new_ends


def _views(text: str) -> list[_View]:
    """The text as it is and with its escapes read once, twice, three times (a key URL-encoded three
    times); each also as its skeleton."""
    plain: _View = (text, list(range(len(text))), list(range(1, len(text) + 1)))
    views = [plain]
    if any(mark in text for mark in "%\\&"):
        for _ in range(MAX_DECODES):
            decoded = _decoded(views[-1])
            if decoded is views[-1]:
                break
            views.append(decoded)
    return [(_lower(view[0]), view[1], view[2]) for view in views] + [_skeleton(view) for view in views]


def _hits(view: _View, secret: str, skeleton: bool) -> list[tuple[int, int]]:
    """Spans of the original text that spell part of the secret in this view."""
    text, starts, ends = view
    grams = _grams(secret)
    found = [(i, i + FRAGMENT) for i in range(len(text) - FRAGMENT + 1) if text[i : i + FRAGMENT] in grams]
    if skeleton:
        key = _skeleton_text(secret)
        forms: tuple[str, ...] = (key,) if len(key) >= MIN_PARTIAL else ()
    else:
        forms = _forms(secret)
        # A secret shorter than a fragment is looked for whole.
        for form in (form for form in forms if len(form) < FRAGMENT):
            found += [(m.start(), m.end()) for m in re.finditer(re.escape(form), text)]
    # A key cut at the end of the text: the longest end (before a half-written escape) that starts a form.
    opened = None if skeleton else _OPEN_ESCAPE.search(text)
    cut = opened.start() if opened else len(text)
    for size in range(min(cut, max(map(len, forms), default=0)), MIN_PARTIAL - 1, -1):
        if any(form.startswith(text[cut - size : cut]) for form in forms):
            found.append((cut - size, len(text)))
            break
    return [(starts[a], ends[b - 1]) for a, b in found if b > a]


def redact(text: str, secret: str) -> str:
    """`text` with every spelling of `secret` found in it, whole or in part, replaced by MASK."""
    if not secret or not text:
        return text
    views = _views(text)
    half = len(views) // 2
    spans = [span for index, view in enumerate(views) for span in _hits(view, secret, index >= half)]
    if not spans:
        return text
    pieces: list[str] = []
    position = 0
    for start, end in sorted(spans):
        while end < len(text) and unicodedata.combining(text[end]):  # a mark on the last masked character
            end += 1
        if start > position or not pieces:  # overlapping and touching spans make one mask
            pieces += [text[position:start], MASK]
        position = max(position, end)
    pieces.append(text[position:])
    return "".join(pieces)


def excerpt(text: str, secret: str, limit: int) -> str:
    """What to print of `text` from outside: control characters escaped, `secret` masked (in what is
    printed, so an escape cannot spell part of it, and in what the escapes stand for, so a zero-width
    character cannot hide it), then cut to at most `limit` characters (the last one `…` when cut).

    Only the text's first `_window(limit)` characters are read: what is printed comes from them (masks
    only shorten a text), and a key cut at that point is masked like any key cut at the end."""
    window = _window(limit)
    cut = len(text) > window
    shown = redact(printable(text[:window] if cut else text), secret)
    if len(shown) <= limit and not cut:
        return shown
    return shown[: max(limit - 1, 0)] + "…" if limit > 0 else ""


def _window(limit: int) -> int:
    """How much of a text `excerpt` reads to print `limit` characters of it: enough for a few keys spelled
    in their longest escapes around the cut."""
    return 4 * max(limit, 0) + 4096

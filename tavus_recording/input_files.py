"""The one way every verb reads a file a user hands it: a stack file, Pulumi.yaml, stack outputs, an earlier plan.

Each step is bounded, so no file can hang the tool, fill its memory or reach a traceback: only a regular
file is opened (a FIFO or a device is refused without waiting on it), at most a size limit is read,
the bytes must be UTF-8, and the YAML or JSON in them must nest at most MAX_DEPTH deep, repeat no key
and (YAML) use no anchors, aliases or tags, which is how an alias bomb expands a few hundred bytes
into billions of values. Stack files and outputs need none of these. A refusal is one InputFileError
whose message is one printable line naming the file (and the key, where there is one) and what to do.
"""

from __future__ import annotations

import json
import math
import os
import re
import stat
from pathlib import Path
from typing import Any, Optional

from tavus_recording.terminal import printable

# Limits no real file comes near (the kit's stack files and Pulumi.yaml are under 8 KiB, a stack's
# outputs and a `plan --json` under 32 KiB, and none nests deeper than 9), but that refuse an alias
# bomb, a device or deep nesting in milliseconds and bound the rest (the worst file within them, 4 MiB
# of tiny JSON values, takes about 3 s).
MAX_YAML_BYTES = 1 << 20  # a stack file or Pulumi.yaml
MAX_JSON_BYTES = 4 << 20  # stack outputs (from a file or `pulumi stack output`), an earlier plan
MAX_DEPTH = 32  # mappings and lists inside each other
# Keys and values in one YAML file (a stack file holds a few dozen): building each costs PyYAML a few
# microseconds, so this bounds the time as the byte limit bounds the memory.
MAX_YAML_NODES = 10_000


# How much of a key or value from a file a message quotes, and how long a whole message may be: the
# parts quoted are cut first; the whole is cut (in its middle, keeping what to do) only as a last resort.
MAX_QUOTED = 100
MAX_PATH_SHOWN = 300
MAX_MESSAGE = 6000


def cut(text: str, limit: int = MAX_QUOTED) -> str:
    """`text` made printable and cut to at most `limit` characters, the last one `…` when cut."""
    shown = printable(text[: limit + 1])
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


class InputFileError(Exception):
    """A file the tool was given cannot be used; the message is one printable line saying which and why."""

    def __init__(self, message: str) -> None:
        # A file or key name can hold a newline or an escape sequence: shown, never sent.
        shown = printable(message)
        if len(shown) > MAX_MESSAGE:
            shown = shown[: MAX_MESSAGE // 2] + "…" + shown[-(MAX_MESSAGE // 2 - 1):]
        super().__init__(shown)


def describe(value: Any) -> str:
    """What a parsed value is, in a reader's words."""
    if value is None:
        return "empty (null)"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"a {type(value).__name__}"


def _size(limit: int) -> str:
    for unit, size in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if limit >= size and limit % size == 0:
            return f"{limit // size} {unit}"
    return f"{limit} bytes"


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a special file"


# --- the bytes: a regular file, at most `limit` of them


def _not_regular(source: str, mode: int) -> InputFileError:
    return InputFileError(f"{source} is {_kind(mode)}, not a regular file: give the path of the file itself")


def _too_big(source: str, limit: int) -> InputFileError:
    return InputFileError(
        f"{source} is larger than {_size(limit)}, far more than such a file holds: check that it is the right file"
    )


def read_bytes(path: Path, limit: int, source: Optional[str] = None) -> bytes:
    """The file's bytes, if it is a regular file (or a link to one) of at most `limit` bytes."""
    source = source or str(path)
    try:
        # stat first, so a device or a FIFO is never even opened; fstat again after opening, in case
        # the path changed in between. O_NONBLOCK: opening a FIFO then returns at once instead of
        # waiting for a writer.
        if not stat.S_ISREG(mode := os.stat(path).st_mode):
            raise _not_regular(source, mode)
        flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)
        descriptor = os.open(path, flags | getattr(os, "O_CLOEXEC", 0))
        try:
            info = os.fstat(descriptor)
            if not stat.S_ISREG(info.st_mode):
                raise _not_regular(source, info.st_mode)
            if info.st_size > limit:
                raise _too_big(source, limit)
            # One byte past the limit tells a file at the limit from a bigger one (st_size can be stale).
            chunks, left = [], limit + 1
            while left > 0 and (chunk := os.read(descriptor, min(left, 1 << 20))):
                chunks.append(chunk)
                left -= len(chunk)
        finally:
            os.close(descriptor)
    except OSError as exc:
        raise InputFileError(f"{source}: cannot read it ({exc.strerror or exc})") from None
    data = b"".join(chunks)
    if len(data) > limit:
        raise _too_big(source, limit)
    return data


def decode(data: bytes, source: str) -> str:
    """`data` as UTF-8 text (without a leading byte-order mark, which Windows editors write)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputFileError(f"{source} is UTF-16 or UTF-32 text (it starts with a byte-order mark for one): save it as UTF-8")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputFileError(
            f"{source}: byte {exc.start} (line {line}, 0x{data[exc.start]:02x}) is not UTF-8: save it as UTF-8"
        ) from None
    if (nul := data.find(b"\x00")) >= 0:
        raise InputFileError(f"{source}: byte {nul} is a NUL, which no text file holds (UTF-16?): save it as UTF-8")
    return text.removeprefix("\ufeff")


def read_text_file(path: Path, limit: int, source: Optional[str] = None) -> str:
    """A regular file of at most `limit` bytes, as UTF-8 text."""
    source = source or str(path)
    return decode(read_bytes(path, limit, source), source)


# --- values: what both loaders hand back is plain data, checked once more


# Where a value is: the chain of keys and list indexes down to it, (parent, label) links made into a path
# only for a message, so walking a long key's long list costs nothing per item.
_Chain = Optional[tuple[Any, Any]]


def shown_path(chain: _Chain, empty: str) -> str:
    """The path `a.b[3].c` of a chain of (parent, key or index) links, each key and the whole cut for a message."""
    labels: list[Any] = []
    while chain is not None:
        chain, label = chain
        labels.append(label)
    if not labels:
        return empty
    parts = []
    for position, label in enumerate(reversed(labels)):
        if isinstance(label, int):
            parts.append(f"[{label}]")
        else:
            parts.append(("." if position else "") + cut(label))
    return cut("".join(parts), MAX_PATH_SHOWN)


_END = object()


def _walk_problem(value: Any, source: str) -> Optional[str]:
    """The first value no file of the tool's may hold (a non-finite number, an unpaired surrogate), as a message."""
    # One frame per open mapping or list (at most MAX_DEPTH): its chain and an iterator over its children.
    frames: list[tuple[_Chain, Any]] = [(None, iter([(_END, value)]))]
    while frames:
        chain, children = frames[-1]
        step = next(children, _END)
        if step is _END:
            frames.pop()
            continue
        label, item = step  # type: ignore[misc]  # (label, child): _END is only the end
        here = chain if label is _END else (chain, label)
        if isinstance(item, float) and not math.isfinite(item):
            return f"{source}: {shown_path(here, 'the value')} is {item}, not a finite number: write a number, or quote it as text"
        if isinstance(item, str) and _has_surrogate(item):
            return f"{source}: {shown_path(here, 'a value')} holds an unpaired surrogate (an escape like \\ud800), which is not text: remove it"
        if isinstance(item, dict):
            for key in item:
                if _has_surrogate(key):
                    return f"{source}: a key under {shown_path(here, 'the top level')} holds an unpaired surrogate, which is not text: remove it"
            frames.append((here, iter(item.items())))
        elif isinstance(item, list):
            frames.append((here, enumerate(item)))
        elif not isinstance(item, (str, int, float, bool, type(None))):
            return f"{source}: {shown_path(here, 'the value')} is {describe(item)}, which no file here holds: write it as text"
    return None


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _checked(value: Any, source: str) -> Any:
    if problem := _walk_problem(value, source):
        raise InputFileError(problem)
    return value


# --- YAML: the plain data of one document, no anchors, aliases or tags (tavus_recording.yaml_reader, imported by
# the verbs that read YAML only)


def parse_yaml(text: str, source: str) -> Any:
    """The one YAML document in `text` as plain data (mappings with text keys, lists, text, numbers, true/false,
    null), or InputFileError naming `source`, the line and the key."""
    from tavus_recording import yaml_reader

    return yaml_reader.parse_yaml(text, source)


def read_yaml_file(path: Path, limit: int = MAX_YAML_BYTES, source: Optional[str] = None) -> Any:
    """A regular file of at most `limit` bytes of UTF-8 YAML, as plain data."""
    source = source or str(path)
    return parse_yaml(read_text_file(path, limit, source), source)


# --- JSON: strict, with duplicates, NaN and Infinity refused

# A JSON string, skipped whole (brackets in it included), or an unterminated one to the end of the text (which
# json.loads then refuses where it starts). Everything after the opening quote is optional, so a match
# never fails and never backtracks: each one consumes what it scanned, and the whole pass is linear in
# the text (a pattern that must find the closing quote rescans the rest of the text from every quote in
# an unterminated string, which is quadratic: minutes for 120 KB of `a\"`).
_STRING = r'"[^"\\]*(?:\\.?[^"\\]*)*"?'
_JSON_STRING = re.compile(_STRING, re.DOTALL)
_NOT_BRACKETS = re.compile(r"[^\[\]{}]+")
# A string or a bracket, in order: to find where nesting goes too deep.
_JSON_TOKENS = re.compile(_STRING + r"|[\[\]{}]", re.DOTALL)
# The only way JSON text that is UTF-8 can hold an unpaired surrogate: an escape of one.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89abAB]")


def _line_column(text: str, position: int) -> str:
    line_start = text.rfind("\n", 0, position) + 1
    return f"line {text.count(chr(10), 0, position) + 1}, column {position - line_start + 1}"


def _json_depth_exceeds(text: str) -> bool:
    """Whether `text` nests brackets (outside strings) deeper than MAX_DEPTH, at C speed whatever its size.

    With strings and everything but brackets removed and every bracket made `[` or `]`, each pass of
    removing the innermost `[]` pairs takes exactly one level off; what no pass can pair is unclosed, and
    encloses what follows it, so it counts as a level too.
    """
    brackets = _NOT_BRACKETS.sub("", _JSON_STRING.sub("", text)).replace("{", "[").replace("}", "]")
    levels = 0
    while "[]" in brackets:
        brackets = brackets.replace("[]", "")
        levels += 1
        if levels > MAX_DEPTH:
            return True
    return levels + brackets.count("[") > MAX_DEPTH


def _check_json_depth(text: str, source: str, hint: str) -> None:
    """Refuse nesting deeper than MAX_DEPTH before the parser recurses into it, saying where it goes too deep."""
    if not _json_depth_exceeds(text):
        return
    depth, position = 0, 0
    for match in _JSON_TOKENS.finditer(text):  # only for a file being refused: stops at the first bracket too many
        bracket = text[match.start()]
        if bracket in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                position = match.start()
                break
        elif bracket in "]}":
            depth -= 1
    raise InputFileError(
        f"{source}: {_line_column(text, position)}: nested deeper than {MAX_DEPTH} levels, which no file here needs; {hint}"
    )


def parse_json(text: str, source: str, hint: str) -> Any:
    """Strict JSON: one value, no key twice in an object, no NaN or Infinity, at most MAX_DEPTH deep.

    `hint` says what to give instead (e.g. "give it what `plan --json` printed"); it ends a syntax error's line.
    """
    _check_json_depth(text, source, hint)

    def unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        value: dict[str, Any] = {}
        for key, item in pairs:
            if key in value:
                raise InputFileError(f"{source}: the key {cut(repr(key))} appears twice in one object: keep one (readers differ on which wins)")
            value[key] = item
        return value

    def no_constant(name: str) -> Any:
        raise InputFileError(f"{source}: {name} is not a JSON number (JSON has no NaN or Infinity); {hint}")

    def finite(number: str) -> float:
        if not math.isfinite(value := float(number)):
            raise InputFileError(f"{source}: {cut(number)} is too large a number (it reads as Infinity); {hint}")
        return value

    try:
        value = json.loads(text, object_pairs_hook=unique, parse_constant=no_constant, parse_float=finite)
    except json.JSONDecodeError as exc:
        raise InputFileError(f"{source} is not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); {hint}") from None
    except RecursionError:  # not reached: the depth was checked first
        raise InputFileError(f"{source}: nested deeper than {MAX_DEPTH} levels; {hint}") from None
    except ValueError:  # an integer of more digits than Python converts
        raise InputFileError(f"{source}: a number is too long to read; {hint}") from None
    # NaN, Infinity and overflowing numbers were refused above; only an escaped surrogate is left to find.
    return _checked(value, source) if _SURROGATE_ESCAPE.search(text) else value


def read_json_file(path: Path, hint: str, limit: int = MAX_JSON_BYTES, source: Optional[str] = None) -> Any:
    """A regular file of at most `limit` bytes of UTF-8, strict JSON (see parse_json)."""
    source = source or str(path)
    return parse_json(read_text_file(path, limit, source), source, hint)


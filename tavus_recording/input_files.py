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

import yaml
from yaml import events as yaml_events
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import Resolver
from yaml.scanner import Scanner

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


# --- YAML: the plain data of one document, no anchors, aliases or tags

_TAG = "tag:yaml.org,2002:"
_STR, _BOOL, _INT, _FLOAT, _NULL = _TAG + "str", _TAG + "bool", _TAG + "int", _TAG + "float", _TAG + "null"
# Not a YAML tag: what the resolver below calls a number too long to be a setting (refused, naming the key).
_TOO_LONG = "too long a number"
MAX_NUMBER_DIGITS = 30

# How the Pulumi CLI reads a plain (unquoted, untagged) scalar: it reads stack files and Pulumi.yaml with
# go-yaml v3, whose resolve() (resolve.go, branch v3) this follows. By the first character: `true`,
# `True`, `TRUE`, `false`... are true/false; ``, `~`, `null`, `Null`, `NULL` are null; `.inf`,
# `+.inf`, `-.inf`, `.nan` (and their `.Inf`/`.INF` spellings) are floats (which no setting may be, so
# they are refused later); anything else starting with a letter (`yes`, `no`, `on`, `off`, `y`) is text.
# A text starting with a digit or a sign has its underscores removed and is then read by Go's
# strconv.ParseInt(text, 0, 64): `1_000` is 1000, `0x1F` 31, `0b101` 5, `0o10` 8, and `010` is octal 8
# (go-yaml v3 still reads YAML 1.1 octals "for compatibility"), but `08` is no octal and is then read as
# the float 8.0. Failing that, ParseUint (up to 2**64-1), then ParseFloat for `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)
# ([eE][-+]?[0-9]+)?` (a float that overflows to infinity stays text), then `0b`/`0o` followed by a signed
# number. Everything else is text: `1:30` (YAML 1.1's sexagesimal 90, dropped by go-yaml), dates such
# as `2024-01-01` (a timestamp to go-yaml, text to the program), `<<` (text, though a plain `<<` key is
# a merge, refused here anyway). A number of more than MAX_NUMBER_DIGITS digits is refused: no setting
# needs one, and Python would not even convert some of them (4300 digits at most).
_GO_WORDS: dict[str, tuple[str, Any]] = {
    **{word: (_BOOL, True) for word in ("true", "True", "TRUE")},
    **{word: (_BOOL, False) for word in ("false", "False", "FALSE")},
    **{word: (_NULL, None) for word in ("", "~", "null", "Null", "NULL")},
    **{word: (_FLOAT, math.nan) for word in (".nan", ".NaN", ".NAN")},
    **{sign + word: (_FLOAT, -math.inf if sign == "-" else math.inf) for sign in ("", "+", "-") for word in (".inf", ".Inf", ".INF")},
}
# strconv.ParseInt(text, 0, 64)'s syntax: a sign, then a base prefix (a bare leading 0 is octal) and digits.
_GO_INT = re.compile(r"([-+]?)(?:0[xX]([0-9a-fA-F]+)|0[bB]([01]+)|0[oO]([0-7]+)|(0[0-7]*)|([1-9][0-9]*))\Z")
_GO_BASES = (16, 2, 8, 8, 10)
# go-yaml's own fallbacks: `0b` or `0o` then a number ParseInt reads with that base (a sign allowed after
# the prefix), or `-0b`/`-0o` then digits.
_GO_PREFIXED = re.compile(r"(-?)0([bo])([-+]?[0-9]+)\Z")
_YAML_STYLE_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?\Z")
_DOT_FLOAT = re.compile(r"\.[0-9]+(?:[eE][-+]?[0-9]+)?\Z")
_INT64 = range(-(1 << 63), 1 << 63)
_UINT64 = range(0, 1 << 64)


def _go_number(plain: str) -> Optional[tuple[str, Any]]:
    """What go-yaml v3 reads `plain` (a plain scalar starting with a digit or a sign, underscores removed) as, if a number."""
    if match := _GO_INT.match(plain):
        sign, digits = match.group(1), next(group for group in match.groups()[1:] if group is not None)
        value = int(digits, _GO_BASES[[group is not None for group in match.groups()[1:]].index(True)])
        value = -value if sign == "-" else value
        if value in _INT64 or (not sign and value in _UINT64):  # ParseInt, else ParseUint (which takes no sign)
            return _INT, value
    if _YAML_STYLE_FLOAT.match(plain) and math.isfinite(number := float(plain)):
        return _FLOAT, number
    if match := _GO_PREFIXED.match(plain):
        minus, prefix, rest = match.groups()
        if minus and rest[0] in "+-":
            return None
        try:
            value = int(minus + rest, 2 if prefix == "b" else 8)
        except ValueError:  # a digit the base has not
            return None
        if value in _INT64 or (not minus and rest[0] != "-" and rest[0] != "+" and value in _UINT64):
            return _INT, value
    return None


def go_resolve(text: str) -> tuple[str, Any]:
    """The tag and value go-yaml v3 gives a plain scalar (see above); _TOO_LONG for a number of too many digits."""
    first = text[:1]
    if text in _GO_WORDS:
        return _GO_WORDS[text]
    if first == ".":
        if _DOT_FLOAT.match(text) and math.isfinite(number := float(text)):
            return _FLOAT, number
    elif first and first in "+-0123456789":
        plain = text.replace("_", "")
        if len(plain) > MAX_NUMBER_DIGITS and (_GO_INT.match(plain) or _YAML_STYLE_FLOAT.match(plain) or _GO_PREFIXED.match(plain)):
            if sum(char in "0123456789abcdefABCDEF" for char in plain) > MAX_NUMBER_DIGITS:
                return _TOO_LONG, text
        if (number := _go_number(plain)) is not None:
            return number
    return _STR, text


class _Resolver(Resolver):
    """PyYAML's resolver, reading plain scalars as the Pulumi CLI's YAML reader (go-yaml v3) does."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        if kind is yaml.ScalarNode and implicit[0]:
            tag = go_resolve(value)[0]
            return _STR if tag == _TOO_LONG else tag  # not reached: refused while checking the events
        return super().resolve(kind, value, implicit)


class _Constructor(SafeConstructor):
    """PyYAML's safe constructor, with numbers read as go-yaml v3 reads them (PyYAML's are YAML 1.1's)."""


def _construct_go_number(_constructor: Any, node: Any) -> Any:
    return go_resolve(node.value)[1]


_Constructor.add_constructor(_INT, _construct_go_number)
_Constructor.add_constructor(_FLOAT, _construct_go_number)

try:  # libyaml: the same events, parsed in C (yaml re-exports its loaders, not the parser they share)
    from yaml import cyaml as _cyaml
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    _cyaml = None
_CParser: Any = getattr(_cyaml, "CParser", None)


class _PythonLoader(Reader, Scanner, Parser, Composer, _Constructor, _Resolver):
    """PyYAML's own safe loader, with the resolver above: for a PyYAML built without libyaml."""

    def __init__(self, stream: str) -> None:
        Reader.__init__(self, stream)
        Scanner.__init__(self)
        Parser.__init__(self)
        Composer.__init__(self)
        _Constructor.__init__(self)
        _Resolver.__init__(self)


_Loader: Any = _PythonLoader
if _CParser is not None:

    class _CLoader(_CParser, _Constructor, _Resolver):
        """libyaml's parser and composer, the safe constructor and resolver above."""

        def __init__(self, stream: str) -> None:
            _CParser.__init__(self, stream)
            _Constructor.__init__(self)
            _Resolver.__init__(self)

    _Loader = _CLoader


class _Level:
    """One mapping or list open in the event stream: where it is, and (a mapping) the key whose value comes next."""

    __slots__ = ("chain", "is_mapping", "key", "seen", "index")

    def __init__(self, chain: _Chain, is_mapping: bool) -> None:
        self.chain, self.is_mapping = chain, is_mapping
        self.key: Optional[str] = None
        self.seen: set[str] = set()
        self.index = 0


def _where(mark: Any) -> str:
    return f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else "somewhere"


def _key_kind(tag: str) -> str:
    return {_NULL: "empty (null)", _BOOL: "true/false"}.get(tag, "a number")


def _check_events(text: str, source: str) -> None:
    """Walk the parser's events (without building anything) and refuse, at its line, what the file must not hold."""
    loader = _Loader(text)
    levels: list[_Level] = []
    documents = nodes = 0

    def refuse(event: Any, what: str) -> InputFileError:
        return InputFileError(f"{source}: {_where(event.start_mark)}: {what}")

    try:
        while loader.check_event():
            event = loader.get_event()
            if isinstance(event, yaml_events.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    raise refuse(event, "a second YAML document (after ---): the file must hold one")
                continue
            if isinstance(event, (yaml_events.MappingEndEvent, yaml_events.SequenceEndEvent)):
                levels.pop()
                if levels and levels[-1].is_mapping:
                    levels[-1].key = None  # that value is complete
                continue
            if not isinstance(event, yaml_events.NodeEvent):
                continue
            nodes += 1
            if nodes > MAX_YAML_NODES:
                raise refuse(event, f"more than {MAX_YAML_NODES} keys and values, far more than such a file holds: "
                             "check that it is the right file")
            parent = levels[-1] if levels else None
            is_key = parent is not None and parent.is_mapping and parent.key is None
            # Where this node is: built into a path only for a message.
            if parent is None:
                here: _Chain = None
            elif is_key:
                here = parent.chain
            elif parent.is_mapping:
                here = (parent.chain, parent.key)
            else:
                here = (parent.chain, parent.index)
                parent.index += 1
            under = shown_path(parent.chain if parent else None, "the top level")
            if isinstance(event, yaml_events.AliasEvent):
                raise refuse(event, f"the YAML alias *{cut(event.anchor)} is not allowed here (anchors and aliases can "
                             "expand without bound): write the value out in full")
            if event.anchor is not None:
                raise refuse(event, f"the YAML anchor &{cut(event.anchor)} under {under} is not allowed here (anchors and "
                             "aliases can expand without bound): write the value out in full")
            tag = getattr(event, "tag", None)
            if tag is not None:  # !!int, !!bool, !!str, !local, !<verbatim>, ! alike: PyYAML and go-yaml differ on them
                what = f"a key under {under}" if is_key else shown_path(here, "the document")
                raise refuse(event, f"the YAML tag {cut(tag)} on {what} is not allowed: stack files and Pulumi.yaml "
                             "need none, so write the value plainly (quote it if it is text)")
            is_plain = isinstance(event, yaml_events.ScalarEvent) and event.implicit[0]
            resolved = go_resolve(getattr(event, "value", ""))[0] if is_plain else _STR
            if is_key:
                assert parent is not None
                if not isinstance(event, yaml_events.ScalarEvent):
                    kind = "a mapping" if isinstance(event, yaml_events.MappingStartEvent) else "a list"
                    raise refuse(event, f"a key under {under} is {kind}; keys must be text")
                key = event.value
                if is_plain and key == "<<":
                    raise refuse(event, f"the merge key << under {under} is not supported: write the keys out")
                if resolved != _STR:
                    raise refuse(event, f"the key {cut(key)} under {under} is read as {_key_kind(resolved)}, not text: "
                                 f"quote it ('{cut(key)}') if it is a name")
                if key in parent.seen:
                    raise refuse(event, f"{shown_path((parent.chain, key), '')} appears twice: keep one "
                                 "(readers differ on which one wins)")
                parent.seen.add(key)
                parent.key = key
                continue
            if resolved == _TOO_LONG:
                raise refuse(event, f"{shown_path(here, 'the value')} is a number of more than {MAX_NUMBER_DIGITS} digits, "
                             f"which no setting needs: quote it if it is text")
            if isinstance(event, yaml_events.CollectionStartEvent):
                if len(levels) >= MAX_DEPTH:
                    raise refuse(event, f"{shown_path(here, 'the value')} is nested deeper than {MAX_DEPTH} levels, "
                                 "which no file here needs: flatten it")
                levels.append(_Level(here, isinstance(event, yaml_events.MappingStartEvent)))
            elif parent is not None and parent.is_mapping:
                parent.key = None
    finally:
        loader.dispose()


def _yaml_error(exc: yaml.YAMLError, text: str, source: str) -> InputFileError:
    mark = getattr(exc, "problem_mark", None)
    problem = cut(str(getattr(exc, "problem", None) or getattr(exc, "reason", None) or str(exc).splitlines()[0]), MAX_PATH_SHOWN)
    if problem == "exceeded maximum nesting depth":  # libyaml's own limit (1000), met while it scans ahead
        return InputFileError(f"{source}: {_where(mark)}: nested deeper than {MAX_DEPTH} levels, which no file here needs: flatten it")
    if mark is None and isinstance(position := getattr(exc, "position", None), int):
        # A reader error: an offset into the text (libyaml's into its UTF-8 bytes).
        before = text.encode("utf-8")[:position].decode("utf-8", "ignore") if _CParser is not None else text[:position]
        line, column = before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1
        return InputFileError(f"{source} is not valid YAML (line {line}, column {column}: {problem}): fix it there")
    return InputFileError(f"{source} is not valid YAML ({_where(mark)}: {problem}): fix it there")


def parse_yaml(text: str, source: str) -> Any:
    """The one YAML document in `text` as plain data (mappings with text keys, lists, text, numbers, true/false,
    null), or InputFileError naming `source`, the line and the key."""
    try:
        _check_events(text, source)
        loader = _Loader(text)
        try:
            value = loader.get_single_data()
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        raise _yaml_error(exc, text, source) from None
    except (ValueError, OverflowError):  # an integer of more digits than Python converts
        raise InputFileError(f"{source}: a number is too long to read: quote it if it is text") from None
    except RecursionError:  # not reached: the events were checked for depth first
        raise InputFileError(f"{source}: nested deeper than {MAX_DEPTH} levels, which no file here needs") from None
    return _checked(value, source)


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


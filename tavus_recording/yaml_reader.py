"""The YAML reader behind `input_files.parse_yaml`: the plain data of one document, as the Pulumi CLI reads it.

Its own module so that only the verbs that read YAML (plan, init) import PyYAML: verify reads JSON. libyaml's
parser (C) when PyYAML has it, else PyYAML's own (Python): the same events, the same checks, the same values
(tests/tool/test_plan_speed_yaml.py holds the two to it).
"""

from __future__ import annotations

import math
import re
from typing import Any, Optional

import yaml
from yaml import events as yaml_events
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import Resolver
from yaml.scanner import Scanner

from tavus_recording.input_files import (
    MAX_DEPTH,
    MAX_PATH_SHOWN,
    MAX_YAML_NODES,
    InputFileError,
    _Chain,
    _checked,
    cut,
    shown_path,
)

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
        in_bytes = _CParser is not None and issubclass(_Loader, _CParser)
        before = text.encode("utf-8")[:position].decode("utf-8", "ignore") if in_bytes else text[:position]
        line, column = before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1
        return InputFileError(f"{source} is not valid YAML (line {line}, column {column}: {problem}): fix it there")
    return InputFileError(f"{source} is not valid YAML ({_where(mark)}: {problem}): fix it there")


def parse_yaml(text: str, source: str) -> Any:
    """The one YAML document in `text` as plain data (mappings with text keys, lists, text, numbers, true/false,
    null), or InputFileError naming `source`, the line and the key."""
    if (at := text.find("\ufeff", 1)) != -1:
        # YAML allows a byte-order mark only before a document. libyaml and go-yaml (the Pulumi CLI's reader) skip one
        # at the start of any line, PyYAML's own parser reads it as text: refused, so no reader's choice decides.
        line, column = text.count("\n", 0, at) + 1, at - (text.rfind("\n", 0, at) + 1) + 1
        raise InputFileError(f"{source}: line {line}, column {column}: a byte-order mark (U+FEFF, invisible in most "
                             "editors) inside the file: delete it (one is allowed only at the very start)")
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

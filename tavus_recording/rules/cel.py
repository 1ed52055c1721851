"""CEL, as far as the guardrails need it: enough to prove that an attribute condition requires one
subject, and never more.

Proving, not guessing: a condition is split at its top level into conjuncts (`&&`), and it pins the
subject only when one conjunct is exactly `<subject> == '<literal>'` (either way round). A conjunction
admits no more than any one of its parts (CEL's `&&` is false whenever one side is false, even if the
other errs), so the other conjuncts need not be understood. Whatever hides the top-level structure
(a `||` or a ternary there, a comment, a raw, bytes or triple-quoted string, a character outside the
grammar, unbalanced brackets) proves nothing and raises `NotProvable`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Collection, Sequence

# The subject claim itself, in its two spellings.
ASSERTION_SUB = (("ident", "assertion"), ("op", "."), ("ident", "sub"))
ASSERTION_SUB_INDEXED = (("ident", "assertion"), ("op", "["), ("str", "sub"), ("op", "]"))

_WHITESPACE = " \t\n\r\f"
_IDENT = re.compile(r"[_a-zA-Z][_a-zA-Z0-9]*")
# Numbers only need to be told apart from what shapes the expression: a loose run is enough.
_NUMBER = re.compile(r"[0-9][0-9a-zA-Z_]*(?:\.[0-9][0-9a-zA-Z_]*)?")
_OPERATORS = ("==", "!=", "<=", ">=", "&&", "||", "<", ">", "!", "?", ":", "+", "-", "*", "/", "%", ".", ",",
              "(", ")", "[", "]", "{", "}")
_SIMPLE_ESCAPES = {"\\": "\\", "?": "?", '"': '"', "'": "'", "`": "`", "a": "\a", "b": "\b", "f": "\f",
                   "n": "\n", "r": "\r", "t": "\t", "v": "\v"}
_CLOSING = {"(": ")", "[": "]", "{": "}"}
# Brackets nested deeper than this prove nothing: no condition Tavus needs comes near it (GCP caps a
# condition at 4096 characters), and reading them must not recurse without bound.
MAX_DEPTH = 64

Token = tuple[str, str]


class NotProvable(ValueError):
    """The condition's top-level structure cannot be told, so it proves nothing."""


def _string(text: str, start: int) -> tuple[str, int]:
    """The value of the quoted literal at `start` and the index after it (CEL's escapes)."""
    quote = text[start]
    if text.startswith(quote * 3, start):
        raise NotProvable("it has a triple-quoted string")
    value: list[str] = []
    i = start + 1
    while i < len(text):
        char = text[i]
        if char == quote:
            return "".join(value), i + 1
        if char in "\r\n":
            raise NotProvable("a string literal spans lines")
        if char != "\\":
            value.append(char)
            i += 1
            continue
        escape = text[i + 1 : i + 2]
        if escape in _SIMPLE_ESCAPES:
            value.append(_SIMPLE_ESCAPES[escape])
            i += 2
        elif escape in ("x", "X", "u", "U"):
            width = {"x": 2, "X": 2, "u": 4, "U": 8}[escape]
            digits = text[i + 2 : i + 2 + width]
            if len(digits) != width or not all(c in "0123456789abcdefABCDEF" for c in digits):
                raise NotProvable(f"a string has a malformed \\{escape} escape")
            code = int(digits, 16)
            if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
                raise NotProvable("a string escapes a code point that is not a character")
            value.append(chr(code))
            i += 2 + width
        elif re.fullmatch(r"[0-3][0-7][0-7]", text[i + 1 : i + 4]):
            value.append(chr(int(text[i + 1 : i + 4], 8)))
            i += 4
        else:
            raise NotProvable(f"a string has an escape CEL does not define (\\{escape})")
    raise NotProvable("a string literal is not closed")


def tokens(text: str) -> list[Token]:
    """The expression as (kind, value) tokens: `ident`, `num`, `str` (its value) and `op`."""
    found: list[Token] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char in _WHITESPACE:
            i += 1
        elif text.startswith("//", i):
            raise NotProvable("it has a comment")
        elif char in "'\"":
            value, i = _string(text, i)
            found.append(("str", value))
        elif match := _IDENT.match(text, i):
            i = match.end()
            if i < len(text) and text[i] in "'\"":
                raise NotProvable(f"it has a prefixed string literal ({match.group()}{text[i]}...)")
            word = match.group()
            found.append(("op", word) if word == "in" else ("ident", word))
        elif match := _NUMBER.match(text, i):
            i = match.end()
            found.append(("num", match.group()))
        else:
            operator = next((op for op in _OPERATORS if text.startswith(op, i)), None)
            if operator is None:
                raise NotProvable(f"it has {char!r}, which is outside the grammar the guardrails read")
            found.append(("op", operator))
            i += len(operator)
    _check_brackets(found)
    return found


def _check_brackets(found: Sequence[Token]) -> None:
    stack: list[str] = []
    for kind, value in found:
        if kind != "op":
            continue
        if value in _CLOSING:
            stack.append(_CLOSING[value])
            if len(stack) > MAX_DEPTH:
                raise NotProvable(f"it nests brackets more than {MAX_DEPTH} deep")
        elif value in _CLOSING.values():
            if not stack or stack.pop() != value:
                raise NotProvable("its brackets do not match")
    if stack:
        raise NotProvable("its brackets do not match")


def _top_level(found: Sequence[Token]) -> list[tuple[int, str]]:
    """(index, operator) of every operator outside all brackets."""
    depth, result = 0, []
    for index, (kind, value) in enumerate(found):
        if kind != "op":
            continue
        if value in _CLOSING:
            depth += 1
        elif value in _CLOSING.values():
            depth -= 1
        elif depth == 0:
            result.append((index, value))
    return result


def _wrapped(found: Sequence[Token]) -> bool:
    """Whether one pair of parentheses encloses the whole of `found`."""
    if len(found) < 2 or found[0] != ("op", "(") or found[-1] != ("op", ")"):
        return False
    depth = 0
    for index, (kind, value) in enumerate(found):
        if kind == "op" and value in _CLOSING:
            depth += 1
        elif kind == "op" and value in _CLOSING.values():
            depth -= 1
            if depth == 0 and index != len(found) - 1:
                return False
    return True


def conjuncts(found: Sequence[Token]) -> list[Sequence[Token]]:
    """The top-level conjuncts of a parsed expression, parenthesised conjunctions flattened.

    Raises NotProvable when the top level is not a conjunction of non-empty parts: `||` and `?:`
    bind more loosely than `&&`, so either one there makes the whole expression something else."""
    while _wrapped(found):
        found = found[1:-1]
    if not found:
        raise NotProvable("it is empty")
    operators = _top_level(found)
    loose = [op for _, op in operators if op in ("||", "?", ":", ",")]
    if loose:
        raise NotProvable(f"its top level is not a conjunction (it has {loose[0]!r} outside brackets)")
    parts: list[Sequence[Token]] = []
    start = 0
    for index, op in operators + [(len(found), "&&")]:
        if op != "&&":
            continue
        part = found[start:index]
        if not part:
            raise NotProvable("a '&&' has nothing on one side")
        start = index + 1
        if _wrapped(part):
            try:
                parts += conjuncts(part)
            except NotProvable:
                parts.append(part)  # a bracketed part we cannot split is one opaque conjunct
        else:
            parts.append(part)
    return parts


@dataclass(frozen=True)
class Pins:
    """What a condition's top-level conjuncts require of the subject."""

    subjects: tuple[str, ...]
    """Each literal the subject must equal (empty: the condition does not pin it)."""


def subject_pins(condition: str, subject_spellings: Collection[tuple[Token, ...]] = (ASSERTION_SUB, ASSERTION_SUB_INDEXED)) -> Pins:
    """The literals `condition` requires the subject to equal, through any of `subject_spellings`
    (token sequences naming the subject). Raises NotProvable when its structure cannot be told."""
    literals: list[str] = []
    for part in conjuncts(tokens(condition)):
        literal = _pin(part, subject_spellings)
        if literal is not None:
            literals.append(literal)
    return Pins(tuple(dict.fromkeys(literals)))


def _pin(part: Sequence[Token], subject_spellings: Collection[tuple[Token, ...]]) -> str | None:
    while _wrapped(part):
        part = part[1:-1]
    part = tuple(part)
    for spelling in subject_spellings:
        width = len(spelling)
        if len(part) != width + 2:
            continue
        if part[:width] == spelling and part[width] == ("op", "==") and part[-1][0] == "str":
            return part[-1][1]
        if part[0][0] == "str" and part[1] == ("op", "==") and part[2:] == spelling:
            return part[0][1]
    return None


def same_expression(a: str, b: str) -> bool:
    """Whether two expressions are the same tokens (so `assertion . sub` is `assertion.sub`)."""
    try:
        return tokens(a) == tokens(b)
    except NotProvable:
        return False


def names_subject_claim(expression: str) -> bool:
    """Whether a mapping's expression is exactly the token's `sub` claim."""
    try:
        found = tuple(tokens(expression))
    except NotProvable:
        return False
    return found in (ASSERTION_SUB, ASSERTION_SUB_INDEXED)


def attribute_spelling(attribute: str) -> tuple[Token, ...] | None:
    """How a condition names a mapped attribute (`google.subject`, `attribute.x`), as tokens."""
    head, _, name = attribute.partition(".")
    if head not in ("google", "attribute") or not _IDENT.fullmatch(name or "-"):
        return None
    return (("ident", head), ("op", "."), ("ident", name))


def literal(value: str) -> str:
    """A CEL string literal for `value` (JSON's escapes are CEL's too)."""
    return json.dumps(value)


def named_attributes(condition: str) -> set[str]:
    """The mapped attributes (`google.x`, `attribute.x`) a condition names, as `attribute_spelling`
    reads them. Raises NotProvable when the condition cannot be read."""
    found = tokens(condition)
    return {
        f"{head[1]}.{name[1]}"
        for head, dot, name in zip(found, found[1:], found[2:])
        if head[0] == "ident" and head[1] in ("google", "attribute") and dot == ("op", ".") and name[0] == "ident"
    }

"""IAM documents as the guardrails read them: pure functions over the JSON, no cloud SDK.

`verify` reads live documents and the policy pack reads the engine's; both parse them here, so a
statement means the same thing before a deploy and after it.
"""

from __future__ import annotations

import json
import re
from typing import Any, Mapping, Union
from urllib.parse import unquote

ACCOUNT_ID_PATTERN = re.compile(r"^\d{12}$")


def load_policy_document(document: Union[str, Mapping[str, Any]]) -> dict[str, Any]:
    """A policy as a dict. boto3 decodes IAM's URL-encoded JSON; other clients (and moto) may not."""
    if isinstance(document, Mapping):
        return dict(document)
    text = document if document.lstrip().startswith("{") else unquote(document)
    loaded = json.loads(text)
    if not isinstance(loaded, dict):
        raise ValueError("a policy document is a JSON object")
    return loaded


def as_list(value: Any) -> list[Any]:
    """IAM lets most elements be one value or a list of them."""
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def statements(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [s for s in as_list(document.get("Statement")) if isinstance(s, dict)]


def aws_principal(value: str, partition: str = "aws") -> str:
    """A bare account id means that account's root, as IAM itself rewrites it."""
    return f"arn:{partition}:iam::{value}:root" if ACCOUNT_ID_PATTERN.match(value) else value


def principals(principal: Any, partition: str = "aws") -> set[str]:
    """Who a Principal element names: "*" for anyone, ARNs for AWS principals, "Kind:value" otherwise."""
    if principal is None:
        return set()
    if isinstance(principal, str):
        return {"*" if principal == "*" else aws_principal(principal, partition)}
    named: set[str] = set()
    if isinstance(principal, Mapping):
        for kind, values in principal.items():
            for value in as_list(values):
                named.add(aws_principal(str(value), partition) if kind == "AWS" else f"{kind}:{value}")
    return named


def condition_values(value: Any) -> list[str]:
    """Condition values as strings: JSON `false` and "false" are the same to IAM."""
    return [str(v).lower() if isinstance(v, bool) else str(v) for v in as_list(value)]


def normalise_condition(condition: Any) -> dict[str, dict[str, list[str]]]:
    """Operators keep their case (IAM's are case-sensitive); condition keys do not."""
    if not isinstance(condition, Mapping):
        return {}
    return {
        str(operator): {str(key).lower(): condition_values(value) for key, value in keys.items()}
        for operator, keys in condition.items()
        if isinstance(keys, Mapping)
    }


def iam_match(pattern: str, value: str, case_sensitive: bool = True) -> bool:
    """IAM's wildcard match (`*` any run, `?` one character) over the whole value."""
    regex = re.escape(pattern).replace(r"\*", ".*").replace(r"\?", ".")
    return re.fullmatch(regex, value, 0 if case_sensitive else re.IGNORECASE) is not None


def _closure(pattern: str, states: set[int]) -> set[int]:
    """States after taking every `*` as matching nothing (it may also match more: it stays)."""
    found = set(states)
    todo = list(states)
    while todo:
        state = todo.pop()
        if state < len(pattern) and pattern[state] == "*" and state + 1 not in found:
            found.add(state + 1)
            todo.append(state + 1)
    return found


def _after(pattern: str, text: str, case_sensitive: bool) -> set[int]:
    """The positions an IAM wildcard pattern can be at after reading `text` (an NFA: `*` any run, `?` one)."""
    fold = (lambda c: c) if case_sensitive else str.lower
    states = _closure(pattern, {0})
    for char in text:
        following: set[int] = set()
        for state in states:
            if state == len(pattern):
                continue
            token = pattern[state]
            if token == "*":
                following.add(state)
            elif token == "?" or fold(token) == fold(char):
                following.add(state + 1)
        states = _closure(pattern, following)
        if not states:
            break
    return states


def could_match_under(pattern: str, prefix: str, case_sensitive: bool = True) -> bool:
    """Whether the pattern matches at least one value that starts with `prefix` (e.g. one object of a
    bucket): whatever is left of the pattern after the prefix can always be matched by something."""
    return bool(_after(pattern, prefix, case_sensitive))


def matches_all_under(pattern: str, prefix: str, case_sensitive: bool = True) -> bool:
    """Whether the pattern matches every value that starts with `prefix`: after the prefix, a `*` (and
    nothing but `*`s) is left."""
    rest = (pattern[state:] for state in _after(pattern, prefix, case_sensitive))
    return any(tail and set(tail) == {"*"} for tail in rest)

"""Reading IAM statements as AWS reads them, for rules that must prove what a statement allows.

Anything these helpers cannot read the way IAM would (an element IAM does not define, a Principal that is
not "*" or a map) is reported as such by the rules, never skipped.
"""

from __future__ import annotations

import re
from typing import Any, Collection, Iterable, Mapping, NamedTuple, Optional

from components.tavus import TAVUS_AWS_ACCOUNT_ID
from tavus_recording.rules.iam import as_list, could_match_under, iam_match, matches_all_under

# The elements of a statement (IAM's JSON grammar); any other key is refused by IAM or read differently.
ELEMENTS = frozenset({"Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource", "Condition"})
_ACCOUNT = re.compile(r"^\d{12}$")
_ARN = re.compile(r"^arn:(?P<partition>[^:]+):(?P<service>[^:]*):(?P<region>[^:]*):(?P<account>[^:]*):(?P<resource>.+)$")
# A policy variable (`${aws:username}`) is filled in per request: a pattern holding one is not what it reads.
_VARIABLE = re.compile(r"\$\{[^}]*\}")


def statements(document: Any) -> list[Any]:
    """A document's statements, malformed ones included (they are judged, never skipped)."""
    if not isinstance(document, Mapping):
        return []
    return as_list(document.get("Statement"))


def is_deny(statement: Any) -> bool:
    # Only an exact Deny takes access away; anything else is judged as if it allowed.
    return isinstance(statement, Mapping) and statement.get("Effect") == "Deny"


def label(statement: Any, index: int) -> str:
    sid = statement.get("Sid") if isinstance(statement, Mapping) else None
    return f"statement {sid!r}" if isinstance(sid, str) and sid else f"statement {index + 1}"


def unknown_elements(statement: Mapping[str, Any]) -> list[str]:
    """Keys IAM does not define (`action`, `Resources`): the statement is not what it seems."""
    return sorted(str(key) for key in statement if key not in ELEMENTS)


class Arn(NamedTuple):
    partition: str
    service: str
    account: str
    resource: str


def arn(value: Any) -> Optional[Arn]:
    match = _ARN.match(value) if isinstance(value, str) else None
    return Arn(match["partition"], match["service"], match["account"], match["resource"]) if match else None


def arn_account(value: Any) -> Optional[str]:
    """The account of an ARN in the standard partition (or a bare account id), or None: the same digits in
    another partition (aws-cn, aws-us-gov) are another account."""
    if isinstance(value, str) and _ACCOUNT.match(value):
        return value
    parsed = arn(value)
    return parsed.account if parsed and parsed.partition == "aws" and _ACCOUNT.match(parsed.account) else None


def names_tavus(value: Any) -> bool:
    """Tavus's account: `291871421005`, its root, or any principal in it, in the standard partition."""
    return arn_account(value) == TAVUS_AWS_ACCOUNT_ID


def could_be_tavus(value: Any) -> bool:
    """A value, or an IAM wildcard pattern, that names (or may name) Tavus's account or a principal in it."""
    if not isinstance(value, str):
        return False
    return names_tavus(value) or iam_match(value, TAVUS_AWS_ACCOUNT_ID) or any(
        iam_match(value, f"arn:aws:{service}::{TAVUS_AWS_ACCOUNT_ID}:{rest}")
        for service, rest in (("iam", "root"), ("iam", "role/recorder"), ("sts", "assumed-role/recorder/session"))
    )


def principal_entries(principal: Any) -> Optional[list[tuple[str, Any]]]:
    """(kind, value) for everyone a Principal names ("*" is ("AWS", "*")), or None when IAM would not read it."""
    if principal == "*":
        return [("AWS", "*")]
    if not isinstance(principal, Mapping) or not principal:
        return None
    return [(str(kind), value) for kind, values in principal.items() for value in as_list(values)]


class Comparison(NamedTuple):
    operator: str
    values: list[Any]


def comparisons(condition: Any, key: str) -> list[Comparison]:
    """Every (operator, values) a condition holds for `key` (condition keys are not case-sensitive)."""
    if not isinstance(condition, Mapping):
        return []
    return [
        Comparison(str(operator), as_list(values))
        for operator, block in condition.items()
        if isinstance(block, Mapping)
        for name, values in block.items()
        if isinstance(name, str) and name.lower() == key.lower()
    ]


def condition_values(condition: Any, operator: str, key: str) -> Optional[list[Any]]:
    """The values an exact `operator` (IAM's spelling) requires of `key`, or None if it does not."""
    found = [c.values for c in comparisons(condition, key) if c.operator == operator]
    return found[0] if found else None


def pinned(condition: Any, key: str, allowed: Collection[str], operators: tuple[str, ...] = ("StringEquals",)) -> bool:
    """An exact operator (not IfExists, IgnoreCase, Not or Like) requires `key` to be one of `allowed`.

    Conditions are ANDed, so one such requirement pins the key whatever else the statement asks."""
    return any(
        c.values and all(isinstance(v, str) and v in allowed for v in c.values)
        for c in comparisons(condition, key)
        if c.operator in operators
    )


def _actions_match(patterns: Iterable[Any], action: str) -> bool:
    return any(isinstance(p, str) and iam_match(p, action, case_sensitive=False) for p in patterns)


def _resources_match(patterns: Iterable[Any], resource: str) -> bool:
    return any(isinstance(p, str) and iam_match(p, resource) for p in patterns)


def applies_to_action(statement: Mapping[str, Any], action: str) -> bool:
    if "NotAction" in statement:
        return not _actions_match(as_list(statement["NotAction"]), action)
    return _actions_match(as_list(statement.get("Action")), action)


def statement_applies(statement: Mapping[str, Any], action: str, resource: str) -> bool:
    """Whether a statement's Action/NotAction and Resource/NotResource cover `action` on `resource`."""
    if "NotResource" in statement:
        resource_ok = not _resources_match(as_list(statement["NotResource"]), resource)
    else:
        # A trust policy has no Resource: it is about the role itself.
        resource_ok = "Resource" not in statement or _resources_match(as_list(statement["Resource"]), resource)
    return applies_to_action(statement, action) and resource_ok


def has_variables(patterns: Iterable[Any]) -> bool:
    return any(isinstance(p, str) and _VARIABLE.search(p) for p in patterns)


def reach(statement: Mapping[str, Any], exact: str, prefix: Optional[str] = None) -> str:
    """How far a statement's resources reach over `exact` (a bucket or key ARN) or, with `prefix`, every
    value under it (a bucket's objects): "all", "some", or "none"."""
    if "NotResource" in statement:
        excluded = [p for p in as_list(statement["NotResource"]) if isinstance(p, str)]
        if prefix is None:
            return "none" if any(iam_match(p, exact) for p in excluded) else "all"
        if any(matches_all_under(p, prefix) for p in excluded):
            return "none"
        return "some" if any(could_match_under(p, prefix) for p in excluded) else "all"
    patterns = [p for p in as_list(statement.get("Resource", "*")) if isinstance(p, str)]
    if prefix is None:
        return "all" if any(iam_match(p, exact) for p in patterns) else "none"
    if any(matches_all_under(p, prefix) for p in patterns):
        return "all"
    return "some" if any(could_match_under(p, prefix) for p in patterns) else "none"

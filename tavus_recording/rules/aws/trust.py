"""Who can assume Tavus's writer role: every statement of its trust, proved to admit exactly Tavus."""

from __future__ import annotations

import fnmatch
from typing import Any, Mapping, Optional

from components.tavus import DEFAULT_EXTERNAL_ID, MAX_SESSION_SECONDS, TAVUS_AWS_ACCOUNT_ID, TAVUS_AWS_PRINCIPAL
from tavus_recording.rules.aws.catalog import MAX_SESSION, TRUST
from tavus_recording.rules.aws.statements import (
    applies_to_action,
    comparisons,
    could_be_tavus,
    is_deny,
    label,
    names_tavus,
    pinned,
    principal_entries,
    statements,
    unknown_elements,
)
from tavus_recording.rules.findings import Finding
from tavus_recording.rules.iam import as_list

# AWS's default when a role sets no MaxSessionDuration.
DEFAULT_SESSION_SECONDS = 3600


def _could_equal(operator: str, value: Any, wanted: str) -> bool:
    """Whether a condition comparing with `value` by `operator` may accept `wanted`."""
    if not isinstance(value, str):
        return False
    if "Like" in operator:
        return fnmatch.fnmatchcase(wanted, value) or fnmatch.fnmatchcase(wanted.lower(), value.lower())
    if "IgnoreCase" in operator:
        return value.lower() == wanted.lower()
    return value == wanted


def is_tavus_trust(document: Any, external_id: Optional[str] = None) -> bool:
    """A trust meant for Tavus, in any spelling: a statement names (or may name) Tavus's account, as a
    principal or in a condition, or may accept Tavus's ExternalId (`tavus`, or the configured one)."""
    wanted = {DEFAULT_EXTERNAL_ID, *([external_id] if external_id else [])}
    for statement in statements(document):
        if not isinstance(statement, Mapping) or is_deny(statement):
            continue
        entries = principal_entries(statement.get("Principal")) or []
        if any(kind.lower() == "aws" and could_be_tavus(value) for kind, value in entries):
            return True
        condition = statement.get("Condition")
        if any(_could_equal(c.operator, v, w) for c in comparisons(condition, "sts:ExternalId") for v in c.values for w in wanted):
            return True
        for key in ("aws:PrincipalAccount", "aws:PrincipalArn", "aws:PrincipalOrgID"):
            if any(could_be_tavus(v) for c in comparisons(condition, key) for v in c.values):
                return True
    return False


def _external_id_problem(statement: Mapping[str, Any], external_id: Optional[str]) -> Optional[str]:
    values: list[Any] = []
    for comparison in comparisons(statement.get("Condition"), "sts:ExternalId"):
        for value in comparison.values if comparison.operator == "StringEquals" else ():
            if value not in values:
                values.append(value)
    wanted = f"'{external_id}'" if external_id else "Tavus's ExternalId"
    if not values:
        return (
            f"does not require StringEquals sts:ExternalId = {wanted} (IfExists, IgnoreCase, Like and ForAnyValue "
            "forms do not pin it), so anyone who can make Tavus's account assume roles gets in"
        )
    if len(values) > 1:
        return f"accepts {len(values)} ExternalIds ({values}); each one is a way in: require exactly {wanted}"
    if not isinstance(values[0], str) or not values[0]:
        return f"requires sts:ExternalId {values[0]!r}, not a usable value"
    if external_id and values[0] != external_id:
        return f"requires sts:ExternalId {values[0]!r}, but Tavus sends {external_id!r}"
    return None


def _pinned_to_tavus(condition: Any) -> bool:
    """`Principal: "*"` narrowed to Tavus's account by an exact condition on who calls."""
    if pinned(condition, "aws:PrincipalAccount", (TAVUS_AWS_ACCOUNT_ID,)):
        return True
    return any(
        c.values and all(names_tavus(v) and "*" not in v and "?" not in v for v in c.values)
        for c in comparisons(condition, "aws:PrincipalArn")
        if c.operator in ("StringEquals", "ArnEquals")
    )


def trust_statement_problems(statement: Any, external_id: Optional[str]) -> list[str]:
    """Why an Allow statement of Tavus's trust is not proved to admit exactly Tavus (empty: it is)."""
    if not isinstance(statement, Mapping):
        return [f"is not a statement object ({statement!r})"]
    problems = [f"has {element!r}, which IAM does not define in a statement" for element in unknown_elements(statement)]
    if "NotPrincipal" in statement:
        problems.append("admits every principal except those it names (NotPrincipal)")
    if "NotAction" in statement:
        problems.append("allows every action except those it names (NotAction)")
    condition = statement.get("Condition")
    if "Principal" in statement:
        entries = principal_entries(statement["Principal"])
        if entries is None:
            problems.append(f"has a Principal that is not Tavus's account ({statement['Principal']!r})")
        for kind, value in entries or []:
            if kind == "AWS" and value == "*":
                if not _pinned_to_tavus(condition):
                    guard = (", guarded only by the ExternalId, which is no secret: it is the same for every Tavus customer"
                             if _external_id_problem(statement, external_id) is None else "")
                    problems.append(f"admits any AWS principal ('*'){guard}")
            elif kind == "AWS" and names_tavus(value):
                continue
            elif kind == "AWS":
                problems.append(f"admits {value}, which is not Tavus's account {TAVUS_AWS_ACCOUNT_ID}")
            else:
                problems.append(f"admits the {kind} principal {value!r}")
    elif "NotPrincipal" not in statement:
        problems.append("names no Principal")
    if "Action" in statement:
        extra = [a for a in as_list(statement["Action"]) if not (isinstance(a, str) and a.lower() == "sts:assumerole")]
        if extra:
            problems.append(f"allows {extra}; Tavus needs sts:AssumeRole only")
    elif "NotAction" not in statement:
        problems.append("names no Action")
    # A statement for someone else must go whatever it asks for; the ExternalId matters on Tavus's.
    external = _external_id_problem(statement, external_id)
    if external and not problems:
        problems.append(external)
    return problems


def _deny_of_tavus(statement: Mapping[str, Any]) -> Optional[bool]:
    """Whether a Deny of the trust stops Tavus: True (outright), None (it may: a condition, or one principal
    of Tavus's account that may or may not be the recorder), False (it is about others)."""
    if not applies_to_action(statement, "sts:AssumeRole"):
        return False
    conditional = "Condition" in statement
    if "NotPrincipal" in statement:
        exempt = principal_entries(statement["NotPrincipal"]) or []
        if any(names_tavus(value) for _, value in exempt):
            return None
        return None if conditional else True
    entries = principal_entries(statement.get("Principal")) or []
    if any(kind == "AWS" and value in ("*", TAVUS_AWS_ACCOUNT_ID, TAVUS_AWS_PRINCIPAL) for kind, value in entries):
        return None if conditional else True
    if any(kind == "AWS" and names_tavus(value) for kind, value in entries):
        return None
    return False


def trust_findings(document: Any, external_id: Optional[str] = None) -> list[Finding]:
    """Every way the trust of a role meant for Tavus admits more than Tavus, or keeps Tavus out.

    `external_id` is the value Tavus sends (the stack's); None accepts any single value.
    """
    fix = (
        f'one statement: "Effect": "Allow", "Principal": {{"AWS": "{TAVUS_AWS_PRINCIPAL}"}}, "Action": "sts:AssumeRole", '
        f'"Condition": {{"StringEquals": {{"sts:ExternalId": "{external_id or DEFAULT_EXTERNAL_ID}"}}}}; '
        "remove every other Allow"
    )
    found: list[Finding] = []
    admits_tavus = False
    for index, statement in enumerate(statements(document)):
        where = label(statement, index)
        if is_deny(statement):
            stops = _deny_of_tavus(statement)
            if stops is not False:
                how = " under conditions, or for a principal, that cannot be told offline" if stops is None else ""
                found.append(Finding(TRUST.id, f"{where} denies Tavus's account sts:AssumeRole{how}",
                                     "remove that Deny, or make sure it never matches Tavus's recorder", unknown=stops is None))
            continue
        problems = trust_statement_problems(statement, external_id)
        if problems:
            found.append(Finding(TRUST.id, f"{where} {'; '.join(problems)}", fix))
        else:
            admits_tavus = True
    if not admits_tavus and not [f for f in found if not f.unknown]:
        found.append(
            Finding(
                TRUST.id,
                f"has no statement that lets Tavus's account {TAVUS_AWS_ACCOUNT_ID} assume it with "
                f"StringEquals sts:ExternalId {external_id or ''}".rstrip() + ": Tavus cannot write recordings",
                fix,
            )
        )
    return found


def session_findings(max_session: Any) -> list[Finding]:
    seconds = DEFAULT_SESSION_SECONDS if max_session is None else max_session
    if isinstance(seconds, (int, float)) and not isinstance(seconds, bool) and seconds == MAX_SESSION_SECONDS:
        return []
    shown = f"{seconds:g}" if isinstance(seconds, (int, float)) else repr(seconds)
    return [
        Finding(
            MAX_SESSION.id,
            f"allows sessions of {shown} s; Tavus's recorder asks for {MAX_SESSION_SECONDS} s and fails with "
            "'unable to assume role with given parameters'",
            f"set the role's maximum session duration to {MAX_SESSION_SECONDS}",
        )
    ]

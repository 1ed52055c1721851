"""Whether Tavus's role can write, everything considered (verify only): every writer action allowed on every
object of the bucket, and no Deny, boundary, SCP/RCP or key policy in the way. Tavus's object keys are not
documented, so a grant or a Deny that covers only some objects is not a proof either way: it is unknown."""

from __future__ import annotations

import re
from typing import Any, Iterable, Mapping, Optional, Sequence

from components.tavus import KMS_WRITER_ACTIONS, S3_WRITER_ACTIONS
from tavus_recording.rules.aws.catalog import CAN_WRITE
from tavus_recording.rules.aws.grants import PolicyDoc
from tavus_recording.rules.aws.statements import (
    applies_to_action,
    arn_account,
    has_variables,
    is_deny,
    label,
    principal_entries,
    reach,
    statement_applies,
    statements,
)
from tavus_recording.rules.findings import Finding
from tavus_recording.rules.iam import as_list

# The writer actions that act on the bucket; the rest act on its objects.
BUCKET_LEVEL_ACTIONS = ("s3:ListBucket", "s3:ListBucketVersions", "s3:ListBucketMultipartUploads")
OBJECT_LEVEL_ACTIONS = tuple(a for a in S3_WRITER_ACTIONS if a not in BUCKET_LEVEL_ACTIONS)
# A Deny under only these conditions never stops Tavus's recorder, which always uses TLS.
_HARMLESS_DENY_CONDITIONS = ({"Bool": {"aws:securetransport": ["false"]}},)


class Target:
    """What one writer action acts on: the bucket, every object under it, or the key."""

    def __init__(self, action: str, exact: str, prefix: Optional[str] = None) -> None:
        self.action, self.exact, self.prefix = action, exact, prefix

    def reach(self, statement: Mapping[str, Any]) -> str:
        return reach(statement, self.exact, self.prefix)

    def __str__(self) -> str:
        return f"{self.action} on {self.prefix}*" if self.prefix else f"{self.action} on {self.exact}"


def targets(bucket: str, key: Optional[str], actions: Optional[Sequence[str]] = None) -> list[Target]:
    """What each writer action acts on (only `actions`, when given)."""
    arn = f"arn:aws:s3:::{bucket}"
    found = [Target(a, arn) for a in BUCKET_LEVEL_ACTIONS] + [Target(a, arn, f"{arn}/") for a in OBJECT_LEVEL_ACTIONS]
    found += [Target(a, key) for a in KMS_WRITER_ACTIONS] if key else []
    return [t for t in found if actions is None or t.action in actions]


def _normalised_condition(condition: Any) -> dict[str, dict[str, list[str]]]:
    if not isinstance(condition, Mapping):
        return {}
    return {
        str(op): {str(k).lower(): [str(v).lower() if isinstance(v, bool) else str(v) for v in as_list(vs)] for k, vs in keys.items()}
        for op, keys in condition.items()
        if isinstance(keys, Mapping)
    }


def _allowed(docs: Iterable[PolicyDoc], target: Target) -> str:
    """How far the Allows of `docs` grant `target`: "all", "conditional" (only under conditions), "some"
    (only some objects), or "none"."""
    best = "none"
    for doc in docs:
        for statement in statements(doc.document):
            if not isinstance(statement, Mapping) or is_deny(statement) or not applies_to_action(statement, target.action):
                continue
            how = target.reach(statement)
            if how == "all" and "Condition" not in statement and not has_variables(as_list(statement.get("Resource"))):
                return "all"
            if how == "all":
                best = "conditional"
            elif how == "some" and best == "none":
                best = "some"
    return best


# IAM's unique ids (a role's AROA..., a user's AIDA...): what a policy keeps when the named principal is gone.
_UNIQUE_ID = re.compile(r"^A[A-Z]{3}[A-Z0-9]{12,}$")


def _principal_may_be_role(statement: Mapping[str, Any], role_arn: str, role_id: Optional[str]) -> Optional[bool]:
    """Whether a resource policy's statement names Tavus's role, its sessions, its account or everyone:
    True, False, or None (a unique id that may be the role's, when the role's own is not known).

    With NotPrincipal and Deny, AWS denies the role's sessions unless the assumed-role session itself is
    exempted, which a session name Tavus picks cannot be; so a NotPrincipal Deny always may."""
    if "NotPrincipal" in statement:
        return True
    account = arn_account(role_arn) or ""
    name = role_arn.rsplit("/", 1)[-1].lower()
    sessions = f"arn:aws:sts::{account}:assumed-role/{name}/"
    maybe = False
    for kind, value in principal_entries(statement.get("Principal")) or []:
        if kind != "AWS" or not isinstance(value, str):
            continue
        lowered = value.lower()
        if value in ("*", account, f"arn:aws:iam::{account}:root") or lowered == role_arn.lower() or lowered.startswith(sessions):
            return True
        if _UNIQUE_ID.match(value):
            if value == role_id:
                return True
            maybe = maybe or role_id is None
    return None if maybe else False


def _denials(doc: PolicyDoc, target: Target, resource_policy: bool, role_arn: str, role_id: Optional[str]) -> list[Finding]:
    found: list[Finding] = []
    for index, statement in enumerate(statements(doc.document)):
        if not (is_deny(statement) and applies_to_action(statement, target.action)):
            continue
        names_role = _principal_may_be_role(statement, role_arn, role_id) if resource_policy else True
        if names_role is False:
            continue
        how = target.reach(statement)
        patterns = as_list(statement.get("Resource", statement.get("NotResource")))
        if how == "none" and not has_variables(patterns):
            continue
        condition = _normalised_condition(statement.get("Condition"))
        if condition in _HARMLESS_DENY_CONDITIONS:
            continue
        deny = f"{doc.label} {label(statement, index)} denies {target}"
        if how == "all" and not condition and not has_variables(patterns) and names_role:
            found.append(Finding(CAN_WRITE.id, f"is stopped: {deny}", f"remove that Deny from {doc.label}"))
        else:
            why = "for some objects (Tavus's object keys are not documented)" if how == "some" else (
                "under a policy variable" if has_variables(patterns) else
                "to a unique id that may be the role's" if names_role is None else
                f"under conditions that cannot be evaluated offline ({sorted(condition)})")
            found.append(Finding(CAN_WRITE.id, f"may be stopped: {deny} {why}", "make sure it never matches Tavus's role", unknown=True))
    return found


def write_blockers(
    identity: Sequence[PolicyDoc],
    bucket: str,
    role_arn: str,
    key: Optional[str] = None,
    boundary: Optional[PolicyDoc] = None,
    resource_policies: Sequence[PolicyDoc] = (),
    guardrails: Sequence[PolicyDoc] = (),
    role_id: Optional[str] = None,
    actions: Optional[Sequence[str]] = None,
) -> list[Finding]:
    """Why Tavus's role may be unable to write (`actions`: only those of the writer actions): a writer action no policy allows on every object, a boundary
    or guardrail (SCP/RCP level) that does not allow it, or a Deny anywhere that matches it. Unreadable
    documents, partial grants and Denies that cannot be evaluated offline are unknowns, never a pass."""
    found: list[Finding] = []
    bounds = [doc for doc in ((boundary,) if boundary else ()) if doc.document is not None]
    everything = (*identity, *((boundary,) if boundary else ()), *resource_policies, *guardrails)
    for doc in everything:
        if doc.document is None:
            found.append(Finding(CAN_WRITE.id, f"cannot be proved to write: {doc.label} could not be read ({doc.reason})", doc.remedy, unknown=True))
    for target in targets(bucket, key, actions):
        granted = _allowed(identity, target)
        if granted == "none" and all(doc.document is not None for doc in identity):
            found.append(Finding(CAN_WRITE.id, f"is not allowed {target}: no policy on the role grants it", "grant it in the role's inline policy"))
        elif granted in ("some", "conditional"):
            how = "on some objects only (Tavus's object keys are not documented)" if granted == "some" else "only under conditions that cannot be evaluated offline"
            found.append(Finding(CAN_WRITE.id, f"is allowed {target} {how}", "grant it on every object, unconditionally", unknown=True))
        for limit in (*bounds, *(g for g in guardrails if g.document is not None)):
            allowed = _allowed((limit,), target)
            if allowed == "none":
                found.append(Finding(CAN_WRITE.id, f"is held back from {target} by {limit.label}, which does not allow it",
                                     f"allow it in {limit.label}" if limit in guardrails else "allow it in the boundary, or remove the boundary"))
            elif allowed != "all":
                found.append(Finding(CAN_WRITE.id, f"may be held back from {target} by {limit.label}, which allows it only "
                                                   f"{'on some objects' if allowed == 'some' else 'under conditions'}", "", unknown=True))
        for doc in everything:
            if doc.document is not None:
                found += _denials(doc, target, doc in resource_policies, role_arn, role_id)
    return _unique(found)


def _unique(found: list[Finding]) -> list[Finding]:
    """One finding per sentence, in order."""
    unique: dict[tuple[str, bool], Finding] = {}
    for finding in found:
        unique.setdefault((finding.problem, finding.unknown), finding)
    return list(unique.values())


def _key_allows(statement: Mapping[str, Any], account: str, role_arn: str, role_id: Optional[str]) -> bool:
    entries = principal_entries(statement.get("Principal")) or []
    return any(
        kind == "AWS" and isinstance(value, str)
        and (value in ("*", account, f"arn:aws:iam::{account}:root", role_id) or value.lower() == role_arn.lower())
        for kind, value in entries
    )


def key_policy_blockers(
    document: Optional[Mapping[str, Any]], key: str, role_arn: str, reason: str = "", role_id: Optional[str] = None
) -> list[Finding]:
    """Whether the key's own policy lets the role use it: each action allowed to the account's root (which
    delegates to IAM policies) or to the role, by any statement, and denied by none."""
    if document is None:
        return [Finding(CAN_WRITE.id, f"cannot be proved to use key {key}: its key policy could not be read ({reason})", "", unknown=True)]
    account = arn_account(role_arn) or ""
    found: list[Finding] = []
    for action in KMS_WRITER_ACTIONS:
        allows = [s for s in statements(document) if isinstance(s, Mapping) and not is_deny(s)
                  and statement_applies(s, action, key) and _key_allows(s, account, role_arn, role_id)]
        if not allows:
            found.append(Finding(
                CAN_WRITE.id,
                f"cannot use key {key} for {action}: its key policy neither delegates to account {account}'s IAM policies "
                f"(a statement for arn:aws:iam::{account}:root) nor names the role",
                f"add to the key policy an Allow of {' and '.join(KMS_WRITER_ACTIONS)} for {role_arn}, or the account's root",
            ))
        elif all("Condition" in s for s in allows):
            found.append(Finding(CAN_WRITE.id, f"may not use key {key} for {action}: its key policy allows it only under conditions "
                                               "that cannot be evaluated offline", "", unknown=True))
    key_target = [Target(action, key) for action in KMS_WRITER_ACTIONS]
    policy = PolicyDoc("the key policy", document)
    for target in key_target:
        found += _denials(policy, target, True, role_arn, role_id)
    return _unique(found)

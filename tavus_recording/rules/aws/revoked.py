"""That nothing lets Tavus in once its access is revoked (`tavusAccess: revoked`, verify only): no role whose trust
admits Tavus's account can reach the bucket, and the bucket policy grants Tavus's account nothing.

A role "can reach" the bucket when an Allow of one of REACH's actions (write, read, list, delete, change the
bucket's policy/ACLs or the role's own IAM) reaches it or any of its objects (Tavus picks its own keys, so some
objects are enough) and no readable boundary, SCP/RCP or Deny stops it. A grant only under conditions, a policy
that could not be read, or sts:AssumeRole on another role (a second hop, not followed) is unknown, never a pass.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Collection, Mapping, Optional, Sequence

from components.tavus import TAVUS_AWS_ACCOUNT_ID
from tavus_recording.rules.aws.can_write import Target, _allowed, _denials
from tavus_recording.rules.aws.grants import PolicyDoc
from tavus_recording.rules.aws.statements import (
    applies_to_action,
    could_be_tavus,
    is_deny,
    label,
    pinned,
    principal_entries,
    statements,
)
from tavus_recording.rules.aws.trust import is_tavus_trust
from tavus_recording.rules.findings import Finding
from tavus_recording.rules.iam import as_list

ACCESS_REVOKED = "aws.access.revoked"
WRITE = "s3:PutObject"
# Revoked means no access at all (as gcs/azure.access.revoked): what a role left trusting Tavus must not be able
# to do, as (what it means, action, on what). "objects": some object of the bucket is enough (Tavus picks its
# keys); "bucket": the bucket itself; "self": the role's own ARN (it would grant itself the rest).
# s3:PutLifecycleConfiguration deletes by expiry; s3:Put*Acl/PutBucketPolicy let anyone in.
REACH: tuple[tuple[str, str, str], ...] = (
    ("write", WRITE, "objects"),
    ("write", "s3:ReplicateObject", "objects"),  # replication's own write API, a role may call it directly
    ("delete", "s3:ReplicateDelete", "objects"),
    ("read", "s3:GetObject", "objects"),
    ("read", "s3:GetObjectVersion", "objects"),
    ("list", "s3:ListBucket", "bucket"),
    ("list", "s3:ListBucketVersions", "bucket"),
    ("delete", "s3:DeleteObject", "objects"),
    ("delete", "s3:DeleteObjectVersion", "objects"),
    ("delete", "s3:PutLifecycleConfiguration", "bucket"),
    ("change who may reach", "s3:PutBucketPolicy", "bucket"),
    ("change who may reach", "s3:PutBucketAcl", "bucket"),
    ("change who may reach", "s3:PutObjectAcl", "objects"),
    ("change its own permissions", "iam:PutRolePolicy", "self"),
    ("change its own permissions", "iam:AttachRolePolicy", "self"),
    ("change its own permissions", "iam:UpdateAssumeRolePolicy", "self"),
    ("change its own permissions", "iam:DeleteRolePermissionsBoundary", "self"),
    ("change its own permissions", "iam:PutRolePermissionsBoundary", "self"),
)
# A second hop: another role it may assume is not followed, so it is unknown (role chaining, redteam19b #5).
ASSUME = "sts:AssumeRole"


@dataclass(frozen=True)
class TrustingRole:
    """A role whose trust admits (or may admit) Tavus's account, and what it can do. `docs` None: its policies
    could not be read (`reason`, `fix`)."""

    arn: str
    docs: Optional[Sequence[PolicyDoc]]
    boundary: Optional[PolicyDoc] = None
    role_id: Optional[str] = None
    reason: str = ""
    fix: str = ""
    extra: Sequence[PolicyDoc] = field(default_factory=tuple)


def trusts_tavus(trust: Any) -> bool:
    """A trust that admits or may admit Tavus's account, in any spelling (its id, its root, a principal in it, '*',
    a list or a string), or may accept Tavus's ExternalId."""
    return is_tavus_trust(trust)


def _target(action: str, on: str, bucket: str, role_arn: str) -> Target:
    arn = f"arn:aws:s3:::{bucket}"
    return {"objects": Target(action, arn, f"{arn}/"), "bucket": Target(action, arn),
            "self": Target(action, role_arn)}.get(on) or Target(action, "arn:aws:iam::", "arn:aws:iam::")


def _judge(role: TrustingRole, target: Target, s3: bool, resource_policies: Sequence[PolicyDoc],
           guardrails: Sequence[PolicyDoc]) -> tuple[str, str]:
    """Whether the role may do `target`: ("yes" | "maybe" | "no", why when maybe)."""
    docs = role.docs or ()
    granted = _allowed([d for d in docs if d.document is not None], target)
    unread = [d.label for d in docs if d.document is None]
    if granted == "none":
        return ("maybe", f"{', '.join(unread)} could not be read") if unread else ("no", "")
    maybe: list[str] = []
    for limit in (*((role.boundary,) if role.boundary else ()), *guardrails):
        allowed = _allowed((limit,), target)
        if allowed == "none":
            return "no", ""
        if allowed != "all":
            maybe.append(f"{limit.label} allows {target.action} only on some resources or under conditions")
    scope = (*docs, *((role.boundary,) if role.boundary else ()), *(resource_policies if s3 else ()), *guardrails)
    denials = [f for doc in scope if doc.document is not None
               for f in _denials(doc, target, doc in resource_policies, role.arn, role.role_id)]
    if any(not f.unknown for f in denials):
        return "no", ""
    maybe += [f.problem.removeprefix("may be stopped: ") for f in denials]
    if granted == "conditional":
        maybe.insert(0, f"its policies allow {target.action} only under conditions that cannot be evaluated offline")
    if unread:
        maybe.append(f"{', '.join(unread)} could not be read")
    return ("maybe", "; ".join(maybe)) if maybe else ("yes", "")


def role_findings(role: TrustingRole, bucket: str, resource_policies: Sequence[PolicyDoc] = (),
                  guardrails: Sequence[PolicyDoc] = ()) -> list[Finding]:
    """Whether `role` can still reach `bucket` (REACH): a violation when it can, unknown when it cannot be told or
    when it may assume another role (not followed)."""
    name = role.arn.rsplit("/", 1)[-1]
    fix = (f"run `pulumi up` if it is this stack's own writer role (the revoked stack deletes it); any other: delete role {name}, "
           f"or remove its trust in Tavus's account (aws iam delete-role --role-name {name}, after removing its policies)")
    if role.docs is None:
        return [Finding(ACCESS_REVOKED, f"role {role.arn} trusts Tavus's account {TAVUS_AWS_ACCOUNT_ID}, and whether it can reach bucket "
                                        f"{bucket} cannot be told: {role.reason}", role.fix, unknown=True)]
    readable_guardrails = [g for g in guardrails if g.document is not None]  # unreadable SCPs only narrow: failing is safe
    can: dict[str, list[str]] = {}
    may: dict[str, list[str]] = {}
    why: list[str] = []
    for verb, action, on in REACH:
        verdict, reason = _judge(role, _target(action, on, bucket, role.arn), on != "self", resource_policies, readable_guardrails)
        if verdict == "yes":
            can.setdefault(verb, []).append(action)
        elif verdict == "maybe":
            may.setdefault(verb, []).append(action)
            why.append(reason)
    found: list[Finding] = []
    if can:
        what = ", ".join(f"{verb} ({', '.join(actions)})" for verb, actions in can.items())
        found.append(Finding(ACCESS_REVOKED, f"role {role.arn} trusts Tavus's account {TAVUS_AWS_ACCOUNT_ID} and can {what} on bucket "
                                             f"{bucket}: Tavus can still reach the recordings", fix))
    elif may:
        what = ", ".join(f"{verb} ({', '.join(actions)})" for verb, actions in may.items())
        found.append(Finding(ACCESS_REVOKED, f"role {role.arn} trusts Tavus's account {TAVUS_AWS_ACCOUNT_ID} and may {what} on bucket "
                                             f"{bucket}: {'; '.join(dict.fromkeys(why))}", fix, unknown=True))
    hop, _ = _judge(role, _target(ASSUME, "role", bucket, role.arn), False, (), readable_guardrails)
    if hop != "no":
        assumed = sorted({str(r) for d in role.docs if d.document is not None for st in statements(d.document)
                          if isinstance(st, Mapping) and not is_deny(st) and applies_to_action(st, ASSUME)
                          for r in as_list(st.get("Resource", st.get("NotResource", "*")))}) or ["(unread policies)"]
        found.append(Finding(ACCESS_REVOKED, f"role {role.arn} trusts Tavus's account {TAVUS_AWS_ACCOUNT_ID} and may assume other roles "
                                             f"({ASSUME} on {', '.join(assumed)}): what those can reach is not followed, so a second hop "
                                             f"to bucket {bucket} cannot be ruled out",
                             f"remove {ASSUME} from role {name}'s policies, or delete the role", unknown=True))
    return found


def bucket_policy_grants(document: Optional[Mapping[str, Any]], bucket: str, own_accounts: Collection[str]) -> list[Finding]:
    """Allows of the bucket policy that reach Tavus's account: naming it (any spelling), or '*' not pinned to your
    own accounts by aws:PrincipalAccount."""
    found: list[Finding] = []
    console = f"S3 console > {bucket} > Permissions > Bucket policy"
    for index, statement in enumerate(statements(document)):
        if not isinstance(statement, Mapping) or is_deny(statement) or not _any_s3(statement):
            continue
        entries = principal_entries(statement.get("Principal")) or []
        tavus = [value for kind, value in entries if kind.lower() == "aws" and value != "*" and could_be_tavus(value)]
        anyone = any(value == "*" for _, value in entries) and not (own_accounts and pinned(statement.get("Condition"), "aws:PrincipalAccount",
                                                                                             sorted(own_accounts)))
        if tavus or anyone:
            who = f"Tavus's account ({', '.join(map(str, tavus))})" if tavus else "any AWS principal ('*'), Tavus's account included"
            found.append(Finding(ACCESS_REVOKED, f"the bucket policy {label(statement, index)} grants {who} access to bucket {bucket}",
                                 f"remove that statement in {console}"))
    return found


def _any_s3(statement: Mapping[str, Any]) -> bool:
    """Whether the statement allows some S3 action (NotAction allows nearly everything)."""
    if "NotAction" in statement:
        return True
    return any(isinstance(a, str) and (a == "*" or a.lower().startswith("s3:")) for a in as_list(statement.get("Action")))

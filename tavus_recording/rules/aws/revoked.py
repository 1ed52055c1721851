"""That nothing lets Tavus in once its access is revoked (`tavusAccess: revoked`, verify only): no role whose trust
admits Tavus's account can write the bucket, and the bucket policy grants Tavus's account nothing.

A role "can write" when an Allow of s3:PutObject reaches any of the bucket's objects (Tavus picks its own keys,
so a grant on some objects is enough) and no readable boundary, SCP/RCP or Deny stops it on all of them. A grant
only under conditions, or a policy that could not be read, is unknown, never a pass.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Collection, Mapping, Optional, Sequence

from components.tavus import TAVUS_AWS_ACCOUNT_ID
from tavus_recording.rules.aws.can_write import Target, _allowed, write_blockers
from tavus_recording.rules.aws.grants import PolicyDoc
from tavus_recording.rules.aws.statements import (
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
# The write that matters: a multipart upload needs s3:PutObject too.
WRITE = "s3:PutObject"


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


def role_findings(role: TrustingRole, bucket: str, resource_policies: Sequence[PolicyDoc] = (),
                  guardrails: Sequence[PolicyDoc] = ()) -> list[Finding]:
    """Whether `role` can still write into `bucket`: a violation when it can, unknown when it cannot be told."""
    name = role.arn.rsplit("/", 1)[-1]
    fix = (f"run `pulumi up` if it is this stack's own writer role (the revoked stack deletes it); any other: delete role {name}, "
           f"or remove its trust in Tavus's account (aws iam delete-role --role-name {name}, after removing its policies)")
    if role.docs is None:
        return [Finding(ACCESS_REVOKED, f"role {role.arn} trusts Tavus's account {TAVUS_AWS_ACCOUNT_ID}, and whether it can write "
                                        f"cannot be told: {role.reason}", role.fix, unknown=True)]
    arn = f"arn:aws:s3:::{bucket}"
    granted = _allowed(role.docs, Target(WRITE, arn, f"{arn}/"))
    unread = [doc for doc in role.docs if doc.document is None]
    if granted == "none" and not unread:
        return []
    readable_guardrails = [g for g in guardrails if g.document is not None]
    blockers = write_blockers([d for d in role.docs if d.document is not None], bucket, role.arn, None, role.boundary,
                              resource_policies, readable_guardrails, role.role_id, actions=(WRITE,))
    stopped = [f for f in blockers if not f.unknown and "no policy on the role grants it" not in f.problem]
    if stopped:
        return []
    where = "every object of" if granted == "all" else "objects of"
    # A Deny or boundary that may stop it, under conditions or for some objects: not told offline.
    maybe = [f for f in blockers if f.unknown and not f.problem.startswith("is allowed")]
    if granted in ("all", "some") and not unread and not maybe:
        return [Finding(ACCESS_REVOKED, f"role {role.arn} trusts Tavus's account {TAVUS_AWS_ACCOUNT_ID} and can write ({WRITE}) "
                                        f"{where} bucket {bucket}: Tavus can still write recordings", fix)]
    why = ("its policies allow it only under conditions that cannot be evaluated offline" if granted == "conditional"
           else f"{', '.join(d.label for d in unread)} could not be read" if unread
           else "; ".join(f.problem for f in maybe))
    return [Finding(ACCESS_REVOKED, f"role {role.arn} trusts Tavus's account {TAVUS_AWS_ACCOUNT_ID} and may write ({WRITE}) to "
                                    f"bucket {bucket}: {why}", fix, unknown=True)]


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

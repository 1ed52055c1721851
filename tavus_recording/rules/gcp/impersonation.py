"""Who can act as the writer (a pool's principal, anyone granted on the account, its project or its pool),
and the keys that would stand in for it.
"""

from __future__ import annotations

from typing import Collection, Iterable, Optional

from components.gcp_policy import IMPERSONATION_ROLE
from tavus_recording.rules.findings import Finding
from tavus_recording.rules.gcp.catalog import IMPERSONATION, KEYS, TAVUS_SUBJECT
from tavus_recording.rules.gcp.vocabulary import (
    POOL,
    PROJECT,
    SERVICE_ACCOUNT,
    CustomRoles,
    Grant,
    _role_text,
    can_impersonate,
    describe,
    project_administrator,
    single_subject,
)

# --- who can act as the writer ------------------------------------------------------------------------


def tavus_principal(pool: str, subject: str) -> str:
    return f"principal://iam.googleapis.com/{pool}/subject/{subject}"


def impersonation_fix(subject: Optional[str] = None) -> str:
    return (
        f"remove that grant: only principal://iam.googleapis.com/<pool>/subject/{subject or TAVUS_SUBJECT} may hold "
        f"{IMPERSONATION_ROLE} on the writer, and nobody any other role beyond a viewer's on it or its project"
    )


def impersonation_findings(
    grants: Iterable[Grant],
    writer: str,
    accepted: Optional[Collection[str]] = None,
    custom_roles: CustomRoles = {},
    harmless: Collection[str] = (),
    fix: Optional[str] = None,
    own_projects: Collection[str] = (),
    own_pools: Optional[Collection[str]] = None,
) -> list[Finding]:
    """Who besides Tavus can act as the writer, among `grants` on the writer itself, its project or the
    pool whose identities act as it.

    `accepted`: Tavus's principal(s). None (no subject known): any one `principal://` subject of a
    workload pool is taken for Tavus's. Either way, more than one such principal is a finding: Tavus
    is one subject in one pool. `own_pools` (pool names, in any case): the pools whose principals may be
    Tavus's at all; None leaves the pool unjudged (a caller that accepts one exact principal). Project-wide,
    the project's administrators (`project_administrator`, with `own_projects` ids and numbers) are not
    reported."""
    return [f for _, f in impersonation_by_grant(grants, writer, accepted, custom_roles, harmless, fix, own_projects, own_pools)]


def impersonation_by_grant(
    grants: Iterable[Grant],
    writer: str,
    accepted: Optional[Collection[str]] = None,
    custom_roles: CustomRoles = {},
    harmless: Collection[str] = (),
    fix: Optional[str] = None,
    own_projects: Collection[str] = (),
    own_pools: Optional[Collection[str]] = None,
) -> list[tuple[Grant, Finding]]:
    """`impersonation_findings`, each with the grant it is about."""
    fix = fix or impersonation_fix()
    pools = None if own_pools is None else {p.lower() for p in own_pools}
    found: list[tuple[Grant, Finding]] = []
    singles: list[Grant] = []
    for grant in grants:
        if not can_impersonate(grant.role, custom_roles, harmless):
            continue
        if grant.scope == PROJECT and project_administrator(grant.member, own_projects, grant.role):
            continue
        single = single_subject(grant.member) if grant.scope == SERVICE_ACCOUNT and grant.role == IMPERSONATION_ROLE else None
        if single is not None and pools is not None and single[0].lower() not in pools:
            problem = (f"grants {IMPERSONATION_ROLE} on {grant.on} to {describe(grant.member)}, a principal of a pool this stack does "
                       f"not define: whoever runs that pool can mint it (with a provider for their own issuer) and act as Tavus's "
                       f"writer {writer}")
            found.append((grant, Finding(IMPERSONATION.id, problem, fix)))
            continue
        if single is not None and (accepted is None or grant.member in accepted):
            singles.append(grant)
            continue
        how = "can then add a provider to it that mints Tavus's principal, and so" if grant.scope == POOL else "can then"
        problem = (f"grants {_role_text(grant.role, custom_roles)} on {grant.on} to {describe(grant.member)}, who {how} act "
                   f"as Tavus's writer {writer}")
        found.append((grant, Finding(IMPERSONATION.id, problem, fix)))
    principals = list(dict.fromkeys(g.member for g in singles))
    if len(principals) > 1:
        for grant in singles:
            problem = (f"grants {IMPERSONATION_ROLE} on {grant.on} to {describe(grant.member)}, one of {len(principals)} federated "
                       f"principals that can act as Tavus's writer {writer}; Tavus is one subject in one pool")
            found.append((grant, Finding(IMPERSONATION.id, problem, fix)))
    return found


# --- keys ------------------------------------------------------------------------------------------------


def keys_fix() -> str:
    return "delete the key: Tavus needs none, it federates with its own token"


def key_findings(writer: str, kind: str = "USER_MANAGED", disabled: bool = False, fix: Optional[str] = None) -> list[Finding]:
    """A key of the writer: `kind` is IAM's keyType, or `HMAC` for a Cloud Storage HMAC key."""
    if kind == "SYSTEM_MANAGED":
        return []
    off = " (disabled, but anyone who may manage keys can enable it again)" if disabled else ""
    if kind == "HMAC":
        what = f"is an HMAC key of Tavus's writer {writer}{off}: whoever holds its secret writes to Cloud Storage as the writer"
    else:
        what = f"is a user-managed key of Tavus's writer {writer}{off}: whoever holds it acts as the writer"
    return [Finding(KEYS.id, f"{what}, without Tavus's token", fix or keys_fix())]

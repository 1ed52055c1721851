"""What the writer (and its pool's identities) can do: nothing beyond creating objects in its bucket.
"""

from __future__ import annotations

from typing import Collection, Iterable, Optional

from components.gcp_policy import IMPERSONATION_ROLE, WRITER_ROLE
from tavus_recording.rules.findings import Finding
from tavus_recording.rules.gcp.catalog import LEAST_PRIVILEGE, PERMISSIONS
from tavus_recording.rules.gcp.vocabulary import (
    BUCKET,
    PROJECT,
    SERVICE_ACCOUNT,
    CustomRoles,
    Grant,
    _role_text,
    can_impersonate,
    describe,
    pool_of,
    writer_role_class,
)

# --- what the writer (and its pool) can do ---------------------------------------------------------------


def permissions_fix() -> str:
    return f"grant the writer only {WRITER_ROLE} on the recordings bucket, and remove every other grant to it"


def writer_permission_findings(
    grants: Iterable[Grant],
    writer: str,
    buckets: Optional[Collection[str]] = None,
    custom_roles: CustomRoles = {},
    fix: Optional[str] = None,
) -> list[Finding]:
    """What the grants held by the writer allow beyond creating objects in `buckets` (None: the
    buckets it may create objects in, which must then be one)."""
    fix = fix or permissions_fix()
    grants = list(grants)
    found: list[Finding] = []
    if buckets is None:
        buckets = writer_buckets(grants, custom_roles)
        found += bucket_count_findings(buckets, fix)
    who = f"Tavus's writer {writer}"
    for grant in grants:
        role = _role_text(grant.role, custom_roles)
        kind = writer_role_class(grant.role, custom_roles)
        base = f"grants {role} on {grant.on} to {who}"
        if grant.scope == BUCKET and grant.target in buckets:
            if kind == "read":
                found.append(Finding(LEAST_PRIVILEGE.id, f"{base}, a read Tavus does not need", fix))
            elif kind == "unknown":
                found.append(Finding(PERMISSIONS.id, f"{base}: a custom role this stack does not define, so what it allows "
                                                     "cannot be checked", fix))
            elif kind == "more":
                found.append(Finding(PERMISSIONS.id, f"{base}, which can delete or change what Tavus only writes", fix))
        elif grant.scope == BUCKET:
            found.append(Finding(PERMISSIONS.id, f"{base}, a bucket Tavus does not write to", fix))
        elif grant.scope == PROJECT:
            found.append(Finding(PERMISSIONS.id, f"{base}, so it acts project-wide", fix))
        else:
            found.append(Finding(PERMISSIONS.id, f"{base}, beyond the recordings bucket", fix))
    return found


def writer_buckets(grants: Iterable[Grant], custom_roles: CustomRoles = {}) -> set[str]:
    """The buckets the writer may create objects in: the recordings buckets."""
    return {g.target for g in grants if g.scope == BUCKET and writer_role_class(g.role, custom_roles) == "writer"}


def bucket_count_findings(buckets: Collection[str], fix: Optional[str] = None) -> list[Finding]:
    """A writer that may write to more than one bucket."""
    if len(buckets) <= 1:
        return []
    return [Finding(PERMISSIONS.id, f"is granted {WRITER_ROLE} on {len(buckets)} buckets ({', '.join(sorted(buckets))}); Tavus writes to one",
                    fix or permissions_fix())]


def pool_grant_findings(grants: Iterable[Grant], custom_roles: CustomRoles = {}, harmless: Collection[str] = ()) -> list[Finding]:
    """Roles a workload pool's own identities hold directly (not through the writer).

    Grants on a service account are left to who-can-act-as-it (such an account is then a writer), and
    project-wide roles that can impersonate are reported there too."""
    found: list[Finding] = []
    for grant in grants:
        if pool_of(grant.member) is None or grant.scope == SERVICE_ACCOUNT:
            continue
        if grant.scope == PROJECT and can_impersonate(grant.role, custom_roles, harmless):
            continue
        found.append(
            Finding(
                PERMISSIONS.id,
                f"grants {_role_text(grant.role, custom_roles)} on {grant.on} to {describe(grant.member)}: a pool's "
                f"identities need nothing but {IMPERSONATION_ROLE} on the writer",
                "remove that grant: Tavus writes through the writer service account only",
            )
        )
    return found

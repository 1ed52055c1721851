"""Who else reaches the recordings (IAM on the bucket, its managed folders and its project; ACLs), and the
bucket settings that keep them private.
"""

from __future__ import annotations

import re
from typing import Any, Collection, Iterable, Optional

from tavus_recording.rules.findings import Finding
from tavus_recording.rules.gcp.catalog import BUCKET_ACCESS, PUBLIC_ACCESS_PREVENTION, UNIFORM_ACCESS
from tavus_recording.rules.gcp.vocabulary import (
    _PROJECT_CONVENIENCE,
    PROJECT,
    PUBLIC_MEMBERS,
    CustomRoles,
    Grant,
    _own_number,
    _role_text,
    account_email,
    account_project,
    describe,
    federated,
    reaches_storage,
)

# --- who else reaches the recordings ------------------------------------------------------------------


def _own_project(project: str, own_projects: Collection[str]) -> bool:
    if project.isascii() and project.isdigit():
        return _own_number(project, own_projects)
    return project in own_projects


def _domain_of(member: str) -> Optional[str]:
    """The domain of a `user:`/`group:` email or a `domain:` member (lowercase), or None."""
    kind, _, rest = member.partition(":")
    rest = rest.split("?")[0].lower()
    if kind.lower() == "domain":
        return rest or None
    local, at, domain = rest.rpartition("@")
    return domain if at and local and domain else None


def outsider(member: str, own_projects: Collection[str], own_domains: Optional[Collection[str]] = None) -> Optional[str]:
    """Why a member of a grant on the recordings is not one of yours, or None. Users, groups and domains
    are judged only against `own_domains` (lowercase), when given; else they are your organisation's to decide."""
    lowered = member.lower()
    if lowered.startswith("deleted:"):
        # A deleted principal comes back with its grants if it is restored.
        member = member.split(":", 1)[1]
        lowered = member.lower()
    if lowered in PUBLIC_MEMBERS:
        return PUBLIC_MEMBERS[lowered]
    if federated(member):
        return f"{describe(member)}, a federated identity that does not go through the writer"
    email = account_email(member)
    if email is not None:
        project = account_project(email)
        if project is None:
            return f"{member}, a service account whose project cannot be told"
        if not _own_project(project, own_projects):
            return f"{member}, a service account of project {project}, not one of yours ({', '.join(sorted(own_projects)) or 'none named'})"
        return None
    convenience = _PROJECT_CONVENIENCE.match(member)
    if convenience:
        project = convenience["project"]
        return None if _own_project(project, own_projects) else f"{member}, the members of project {project}, not one of yours"
    if lowered.startswith(("user:", "group:", "domain:")):
        if own_domains is None:
            return None
        domain = _domain_of(member)
        if domain is None:
            return f"{member}, whose domain cannot be told"
        if domain not in own_domains:
            return f"{member}, of domain {domain}, not one of yours ({', '.join(sorted(own_domains)) or 'none named'})"
        return None
    return f"{member}, a member the guardrails cannot place"


def bucket_access_fix(own_projects: Collection[str]) -> str:
    return (
        "remove that grant: Tavus writes through its writer service account, and only your own projects' accounts "
        f"({', '.join(sorted(own_projects)) or 'name them in ownProjects'}) and people (ownDomains) may reach the recordings"
    )


def bucket_access_findings(
    grants: Iterable[Grant],
    writers: Collection[str],
    own_projects: Collection[str],
    custom_roles: CustomRoles = {},
    harmless: Collection[str] = (),
    fix: Optional[str] = None,
    own_domains: Optional[Collection[str]] = None,
) -> list[Finding]:
    """Who besides the writers (`serviceAccount:` emails, lowercase) reaches a recordings bucket,
    among `grants` on the bucket (or a managed folder of it) and on its project."""
    fix = fix or bucket_access_fix(own_projects)
    found: list[Finding] = []
    for grant in grants:
        if account_email(grant.member) in writers:
            continue
        if grant.scope == PROJECT and not reaches_storage(grant.role, custom_roles, harmless):
            continue
        who = outsider(grant.member, own_projects, own_domains)
        if who:
            found.append(Finding(BUCKET_ACCESS.id, f"grants {_role_text(grant.role, custom_roles)} on {grant.on} to {who}", fix))
    return found


# ACLs: entities as the JSON API names them (user-<email>, group-<email>, domain-<domain>, allUsers,
# allAuthenticatedUsers, project-<team>-<project number>); only the project's own teams are the bucket's.
_ACL_PROJECT_ENTITY = re.compile(r"^project-(?:owners|editors|viewers)-(?P<project>.+)$")
# Predefined ACLs that grant only the object's owner and the project's own teams.
PROJECT_ONLY_ACLS = frozenset({"private", "projectPrivate", "bucketOwnerRead", "bucketOwnerFullControl"})


def acl_fix() -> str:
    return ("remove that ACL (keep uniform_bucket_level_access=True, so IAM alone decides): an ACL may name only the project's own "
            "owners, editors and viewers")


def acl_findings(entries: Iterable[tuple[Any, Any]], own_projects: Collection[str], what: str) -> list[Finding]:
    """ACL entries (role, entity) on a recordings bucket (`what` says which ACL) that name anyone but
    the project's own owners, editors and viewers."""
    found: list[Finding] = []
    for role, entity in entries:
        if not isinstance(entity, str):
            found.append(Finding(BUCKET_ACCESS.id, f"sets {what} with an entity the guardrails cannot read ({entity!r})", acl_fix()))
            continue
        team = _ACL_PROJECT_ENTITY.match(entity)
        if team and _own_project(team["project"], own_projects):
            continue
        who = PUBLIC_MEMBERS.get(entity.lower()) or (f"{entity}, a team of another project" if team else entity)
        found.append(Finding(BUCKET_ACCESS.id, f"sets {what} granting {role if isinstance(role, str) else 'a role'} to {who}: an ACL "
                                               "reaches the recordings whatever IAM says once uniform access is off", acl_fix()))
    return found


def role_entities(values: Iterable[Any]) -> list[tuple[Any, Any]]:
    """pulumi-gcp's `roleEntities` ("ROLE:entity") as (role, entity); an entry it cannot split keeps itself as entity."""
    found: list[tuple[Any, Any]] = []
    for value in values:
        role, colon, entity = value.partition(":") if isinstance(value, str) else ("", "", value)
        found.append((role, entity) if colon else (None, value))
    return found


def predefined_acl_findings(value: Any, what: str) -> list[Finding]:
    """A predefined ACL (`predefinedAcl`, `defaultAcl`) that grants beyond the project's own teams."""
    if value in (None, "") or value in PROJECT_ONLY_ACLS:
        return []
    return [Finding(BUCKET_ACCESS.id, f"sets {what} to the predefined {value!r}, which grants beyond the project's own owners, editors "
                                      "and viewers", acl_fix())]


# --- bucket settings -------------------------------------------------------------------------------------


def public_access_prevention_findings(value: Any, fix: str = "set public_access_prevention='enforced'") -> list[Finding]:
    if value == "enforced":
        return []
    return [Finding(PUBLIC_ACCESS_PREVENTION.id, f"has publicAccessPrevention {value or 'inherited'!r}, so an IAM grant to allUsers "
                                                 "could make recordings public", fix)]


def uniform_access_findings(enabled: Any, fix: str = "set uniform_bucket_level_access=True") -> list[Finding]:
    if enabled is True:
        return []
    return [Finding(UNIFORM_ACCESS.id, "keeps per-object ACLs (uniform bucket-level access off), so access is not decided by IAM alone", fix)]

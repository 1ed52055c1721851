"""Google Cloud: who can reach Tavus's writer service account, what it can do, and who else reaches
the recordings bucket, and whether the recordings last.

Every rule is an allow-list. A provider's condition pins the subject only when its CEL provably
requires `assertion.sub == '<subject>'` (see `cel`); a grant is harmless only when its role is on a
list known to carry no impersonation (or no storage access); the writer may hold exactly
roles/storage.objectCreator on its bucket; anything that cannot be proved, in any spelling, is a
finding.

The inputs are plain values (the APIs' camelCase JSON, which is also how the engine hands the policy
pack pulumi-gcp's properties), so a finding reads the same before a deploy and after it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Collection, Iterable, Mapping, Optional
from urllib.parse import urlsplit

from components.gcp_policy import IMPERSONATION_ROLE, WRITER_ROLE, attribute_condition
from tavus_recording.rules import cel
from tavus_recording.rules.findings import (
    ADVISORY,
    AFTER_DEPLOY,
    BEFORE_CREATE,
    LIVE,
    MANDATORY,
    PREVIEW,
    Finding,
    Rule,
)
from tavus_recording.rules.iam import as_list

PROVIDER_CONDITION = Rule(
    "gcs.provider.condition",
    "which tokens the pool admits",
    "A workload identity pool provider's attribute condition must provably require assertion.sub == '<Tavus's "
    "subject>' at its top level (other conditions may only be joined with &&): anything else, or none, admits "
    "tokens of subjects other than Tavus's.",
    MANDATORY,
    (PREVIEW, BEFORE_CREATE, LIVE),
)
PROVIDER_ISSUER = Rule(
    "gcs.provider.issuer",
    "whose tokens the pool trusts",
    "A workload identity pool provider must be OIDC with an https issuer that has a host and no user info (and, "
    "when one is configured, Tavus's issuer): another issuer's tokens would federate into the pool.",
    MANDATORY,
    (PREVIEW, BEFORE_CREATE, LIVE),
)
PROVIDER_MAPPING = Rule(
    "gcs.provider.mapping",
    "who a federated principal is",
    "A workload identity pool provider must map google.subject from exactly assertion.sub: another mapping makes "
    "principal://.../subject/<Tavus's subject> name whatever token carries that value elsewhere.",
    MANDATORY,
    (PREVIEW, BEFORE_CREATE, LIVE),
)
IMPERSONATION = Rule(
    "gcs.service_account.impersonation",
    "who can act as the writer",
    f"Only principal://iam.googleapis.com/<pool>/subject/<Tavus's subject> may hold {IMPERSONATION_ROLE} on a "
    "service account a workload identity pool can impersonate, and nobody may hold any other role on it (or on its "
    "project) that is not known to be harmless: a principalSet, the public, a group, another account or a role "
    "that mints tokens would write as Tavus.",
    MANDATORY,
    (PREVIEW, BEFORE_CREATE, AFTER_DEPLOY, LIVE),
)
KEYS = Rule(
    "gcs.service_account.keys",
    "no key stands in for the writer",
    "Tavus's writer must have no user-managed service account key and no HMAC key: a key is the writer, usable "
    "by whoever holds it without Tavus's token.",
    MANDATORY,
    (PREVIEW, AFTER_DEPLOY, LIVE),
)
PERMISSIONS = Rule(
    "gcs.service_account.permissions",
    "what the writer (and its pool) can do",
    f"Every grant that reaches Tavus's writer must stay within {WRITER_ROLE} on the recordings bucket: nothing that "
    "deletes, changes the bucket's IAM, lifecycle, retention, versioning or encryption, touches another bucket or "
    f"acts project-wide; and a pool's identities may hold nothing but {IMPERSONATION_ROLE} on the writer.",
    MANDATORY,
    (PREVIEW, BEFORE_CREATE, AFTER_DEPLOY, LIVE),
)
LEAST_PRIVILEGE = Rule(
    "gcs.service_account.least_privilege",
    "no read beyond the writer's",
    f"Tavus's writer should hold only {WRITER_ROLE}; an extra read-only role on the same bucket is not "
    "dangerous, but it is more than Tavus needs.",
    ADVISORY,
    (PREVIEW, AFTER_DEPLOY, LIVE),
)
BUCKET_ACCESS = Rule(
    "gcs.bucket.access",
    "who else can reach the recordings",
    "A bucket Tavus writes to (or its project) must not grant the public, a federated identity other than through "
    "the writer, or a service account of a project that is not yours.",
    MANDATORY,
    (PREVIEW, AFTER_DEPLOY, LIVE),
)
LIFECYCLE = Rule(
    "gcs.bucket.lifecycle",
    "that recordings last",
    "Lifecycle rules on a bucket Tavus writes to must not delete live recordings sooner than the stack's "
    "retentionDays, or at all when none is set (noncurrent versions may be deleted).",
    MANDATORY,
    (PREVIEW, AFTER_DEPLOY, LIVE),
)
RETENTION = Rule(
    "gcs.bucket.retention",
    "the retention policy holds",
    "A bucket Tavus writes to must keep the retention policy the stack asks for (immutableDays): removing or "
    "shortening it lets recordings be deleted early.",
    MANDATORY,
    (PREVIEW, AFTER_DEPLOY, LIVE),
)
TRANSFER = Rule(
    "gcs.bucket.transfer",
    "copies of the recordings",
    "Storage Transfer jobs may copy recordings only to buckets this stack defines.",
    MANDATORY,
    (PREVIEW, AFTER_DEPLOY),
)
PUBLIC_ACCESS_PREVENTION = Rule(
    "gcs.bucket.public_access_prevention",
    "recordings never public",
    "Cloud Storage buckets must enforce public access prevention: recordings are customer data.",
    MANDATORY,
    (PREVIEW, BEFORE_CREATE, LIVE),
)
UNIFORM_ACCESS = Rule(
    "gcs.bucket.uniform_access",
    "IAM alone decides access",
    "Cloud Storage buckets should use uniform bucket-level access, so IAM alone decides who reads recordings.",
    ADVISORY,
    (PREVIEW, BEFORE_CREATE, LIVE),
)
FORCE_DESTROY = Rule(
    "gcs.bucket.force_destroy",
    "recordings survive `pulumi destroy`",
    "Cloud Storage buckets should not set forceDestroy: recordings are customer data and must survive `pulumi destroy`.",
    ADVISORY,
    (PREVIEW, BEFORE_CREATE),
)
RULES = (PROVIDER_CONDITION, PROVIDER_ISSUER, PROVIDER_MAPPING, IMPERSONATION, KEYS, PERMISSIONS, LEAST_PRIVILEGE,
         BUCKET_ACCESS, LIFECYCLE, RETENTION, TRANSFER, PUBLIC_ACCESS_PREVENTION, UNIFORM_ACCESS, FORCE_DESTROY)

TAVUS_SUBJECT = "<Tavus's subject>"

# --- roles ----------------------------------------------------------------------------------------

# Roles that name the ways to act as an account (any role not proved harmless counts the same).
IMPERSONATING_ROLES = (
    IMPERSONATION_ROLE,
    "roles/iam.serviceAccountTokenCreator",
    "roles/iam.serviceAccountUser",
    "roles/iam.serviceAccountOpenIdTokenCreator",
    "roles/iam.serviceAccountKeyAdmin",
    "roles/iam.serviceAccountAdmin",
    "roles/owner",
    "roles/editor",
)
# Predefined roles with no permission to act as a service account (actAs, tokens, keys, its IAM
# policy) and none on Cloud Storage.
NO_STORAGE_ROLES = frozenset(
    {
        "roles/browser",
        "roles/iam.securityReviewer",
        "roles/iam.serviceAccountViewer",
        "roles/iam.roleViewer",
        "roles/iam.workloadIdentityPoolViewer",
        "roles/logging.viewer",
        "roles/logging.logWriter",
        "roles/monitoring.viewer",
        "roles/monitoring.metricWriter",
        "roles/cloudtrace.agent",
        "roles/errorreporting.writer",
        "roles/cloudsql.client",
        "roles/cloudsql.viewer",
        "roles/pubsub.publisher",
        "roles/pubsub.subscriber",
        "roles/pubsub.viewer",
        "roles/artifactregistry.reader",
        "roles/serviceusage.serviceUsageConsumer",
        "roles/serviceusage.serviceUsageViewer",
    }
)
# Cloud Storage roles carry no service account permission, except these two: both may mint an HMAC
# key for any account, which then writes as it.
HMAC_ROLES = frozenset({"roles/storage.admin", "roles/storage.hmacKeyAdmin"})
# The writer's own role, by its permissions (a custom role with no more is as good).
WRITER_PERMISSIONS = frozenset(
    {
        "storage.objects.create",
        "storage.multipartUploads.create",
        "storage.multipartUploads.abort",
        "storage.multipartUploads.listParts",
        "storage.managedFolders.create",
        "resourcemanager.projects.get",
        "resourcemanager.projects.list",
        "orgpolicy.policy.get",
    }
)
READ_ONLY_ROLES = frozenset(
    {"roles/storage.objectViewer", "roles/storage.legacyObjectReader", "roles/storage.legacyBucketReader", "roles/storage.bucketViewer"}
)
READ_PERMISSIONS = frozenset(
    {
        "storage.objects.get",
        "storage.objects.list",
        "storage.buckets.get",
        "storage.managedFolders.get",
        "storage.managedFolders.list",
        "storage.multipartUploads.list",
    }
)
_CUSTOM_ROLE = re.compile(r"^(?:projects|organizations)/[^/]+/roles/[^/]+$")
_READ_VERBS = ("get", "list", "getIamPolicy")

CustomRoles = Mapping[str, Collection[str]]


def is_custom(role: str) -> bool:
    return bool(_CUSTOM_ROLE.match(role))


def _harmless_permission(permission: str) -> bool:
    """A permission that cannot act as an account: a read, or Cloud Storage other than HMAC keys."""
    if permission.startswith("storage."):
        return not permission.startswith("storage.hmacKeys.")
    return permission.rsplit(".", 1)[-1] in _READ_VERBS


def can_impersonate(role: str, custom_roles: CustomRoles = {}, harmless: Collection[str] = ()) -> bool:
    """Whether `role` may let its holder act as a service account it is granted on (allow-list)."""
    if role in NO_STORAGE_ROLES or role in harmless or role == "roles/viewer":
        return False
    if role.startswith("roles/storage."):
        return role in HMAC_ROLES
    if is_custom(role) and role in custom_roles:
        return not all(_harmless_permission(p) for p in custom_roles[role])
    return True


def reaches_storage(role: str, custom_roles: CustomRoles = {}, harmless: Collection[str] = ()) -> bool:
    """Whether a project-wide `role` may reach objects in the project's buckets (allow-list). IAM's own
    roles hold no storage permission: what they reach through an account is who-can-act-as-it's."""
    if role in NO_STORAGE_ROLES or role in harmless or role.startswith("roles/iam."):
        return False
    if is_custom(role) and role in custom_roles:
        return any(p.startswith("storage.") for p in custom_roles[role])
    return True


def writer_role_class(role: str, custom_roles: CustomRoles = {}) -> str:
    """`writer` (what Tavus needs), `read` (a read on top), `more`, or `unknown` (a custom role not defined here)."""
    if role == WRITER_ROLE:
        return "writer"
    if role in READ_ONLY_ROLES:
        return "read"
    if is_custom(role):
        if role not in custom_roles:
            return "unknown"
        permissions = set(custom_roles[role])
        if permissions <= WRITER_PERMISSIONS:
            return "writer"
        return "read" if permissions <= WRITER_PERMISSIONS | READ_PERMISSIONS else "more"
    return "more"


def _role_text(role: str, custom_roles: CustomRoles) -> str:
    if is_custom(role) and role in custom_roles:
        return f"{role} ({', '.join(sorted(custom_roles[role])) or 'no permissions'})"
    return role


# --- members --------------------------------------------------------------------------------------

PUBLIC_MEMBERS = {"allusers": "anyone on the internet (allUsers)", "allauthenticatedusers": "anyone with a Google account (allAuthenticatedUsers)"}
_WORKLOAD_MEMBER = re.compile(
    r"^principal(?P<set>set)?://iam\.googleapis\.com/(?P<pool>projects/[^/]+/locations/[^/]+/workloadIdentityPools/[^/]+)/(?P<rest>.*)$",
    re.IGNORECASE,
)
# Google's own service agents (`service-<project number>@<domain>`): domains only Google creates.
_SERVICE_AGENT_DOMAIN = re.compile(
    r"^(?:gcp-sa-[a-z0-9-]+|gs-project-accounts|container-engine-robot|compute-system|containerregistry|serverless-robot-prod"
    r"|dataflow-service-producer-prod|cloud-ml\.google\.com|firebase-rules|cloudcomposer-accounts)\.iam\.gserviceaccount\.com$"
)
_PROJECT_CONVENIENCE = re.compile(r"^project(?:owner|editor|viewer):(?P<project>.+)$", re.IGNORECASE)


def federated(member: str) -> bool:
    return member.lower().startswith(("principal://", "principalset://"))


def pool_of(member: str) -> Optional[str]:
    """The workload identity pool (`projects/<n>/locations/global/workloadIdentityPools/<id>`) a member belongs to."""
    match = _WORKLOAD_MEMBER.match(member)
    return match["pool"] if match else None


def single_subject(member: str) -> Optional[tuple[str, str]]:
    """(pool, subject) of `principal://iam.googleapis.com/<pool>/subject/<subject>`, exactly one identity."""
    match = _WORKLOAD_MEMBER.match(member)
    if not match or match["set"] or not member.startswith("principal://") or not match["rest"].startswith("subject/"):
        return None
    subject = match["rest"].removeprefix("subject/")
    return (match["pool"], subject) if subject else None


def describe(member: str) -> str:
    """Who a member is, in words (federated ones spelt out)."""
    public = PUBLIC_MEMBERS.get(member.lower())
    if public:
        return public
    match = _WORKLOAD_MEMBER.match(member)
    if not match:
        return member
    pool, rest = match["pool"], match["rest"]
    if not match["set"]:
        return f"{member} (one subject of pool {pool})"
    if rest == "*":
        return f"{member} (every identity of pool {pool})"
    kind, _, value = rest.partition("/")
    if kind == "group":
        return f"{member} (every identity of pool {pool} in group {value!r})"
    return f"{member} (every identity of pool {pool} whose {kind} is {value!r})"


def account_email(member: str) -> Optional[str]:
    """The email of a `serviceAccount:` member (lowercase), or None."""
    kind, _, email = member.partition(":")
    return email.split("?")[0].lower() if kind.lower() == "serviceaccount" and email else None


def account_project(email: str) -> Optional[str]:
    """The project (id, or number for Google's own agents) a service account email belongs to."""
    local, _, domain = email.lower().partition("@")
    number = re.fullmatch(r"(?:service-)?(\d+)(?:-compute)?", local)
    if _SERVICE_AGENT_DOMAIN.match(domain) or domain in ("developer.gserviceaccount.com", "cloudservices.gserviceaccount.com",
                                                        "cloudbuild.gserviceaccount.com"):
        return number.group(1) if number else None
    if domain == "appspot.gserviceaccount.com":
        return local
    match = re.fullmatch(r"([a-z][a-z0-9-]{4,28}[a-z0-9])\.iam\.gserviceaccount\.com", domain)
    return match.group(1) if match else None


def is_member(member: str, email: str) -> bool:
    return account_email(member) == email.lower()


def service_agent_of(member: str, own_projects: Collection[str]) -> bool:
    """Google's own agent for one of `own_projects` (by number): it acts for Google's services there."""
    email = account_email(member)
    if email is None:
        return False
    local, _, domain = email.partition("@")
    number = re.fullmatch(r"service-(\d+)", local) if _SERVICE_AGENT_DOMAIN.match(domain) else (
        re.fullmatch(r"(\d+)", local) if domain == "cloudservices.gserviceaccount.com" else None)
    return number is not None and number.group(1) in own_projects


def project_administrator(member: str, own_projects: Collection[str]) -> bool:
    """Who may hold project-wide roles without being reported as reaching the writer: people named one
    by one (the project's administrators) and Google's agents of the project. Groups, domains, other
    service accounts, the public and federated identities are not."""
    return member.lower().startswith("user:") or service_agent_of(member, own_projects)


# --- a grant, wherever it was read ---------------------------------------------------------------

SERVICE_ACCOUNT, PROJECT, BUCKET, OTHER = "service account", "project", "bucket", "other"


@dataclass(frozen=True)
class Grant:
    """One role for one member on one resource, from a bucket's, project's or account's IAM policy."""

    role: str
    member: str
    scope: str
    """SERVICE_ACCOUNT, PROJECT, BUCKET or OTHER."""
    target: str
    """The account's email, the project id, the bucket's name ("" when not known)."""
    conditional: bool = False

    @property
    def on(self) -> str:
        if self.scope == PROJECT:
            return f"project {self.target or '(unknown)'} (so on every service account and bucket in it)"
        if self.scope == OTHER:
            return self.target or "another resource"
        return f"{self.scope} {self.target or '(unknown)'}"


def policy_grants(policy: Any, scope: str, target: str) -> list[Grant]:
    """The grants of an IAM policy document ({"bindings": [{"role", "members", "condition"}]})."""
    found: list[Grant] = []
    bindings = policy.get("bindings") if isinstance(policy, Mapping) else None
    for binding in as_list(bindings):
        if not isinstance(binding, Mapping) or not isinstance(binding.get("role"), str):
            continue
        for member in as_list(binding.get("members")):
            if isinstance(member, str):
                found.append(Grant(binding["role"], member, scope, target, bool(binding.get("condition"))))
    return found


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
) -> list[Finding]:
    """Who besides Tavus can act as the writer, among `grants` on the writer itself or its project.

    `accepted`: Tavus's principal(s). None (no subject known): any one `principal://` subject of a
    workload pool is taken for Tavus's, and more than one is a finding. Project-wide, the project's
    administrators (`project_administrator`, with `own_projects` ids and numbers) are not reported."""
    return [f for _, f in impersonation_by_grant(grants, writer, accepted, custom_roles, harmless, fix, own_projects)]


def impersonation_by_grant(
    grants: Iterable[Grant],
    writer: str,
    accepted: Optional[Collection[str]] = None,
    custom_roles: CustomRoles = {},
    harmless: Collection[str] = (),
    fix: Optional[str] = None,
    own_projects: Collection[str] = (),
) -> list[tuple[Grant, Finding]]:
    """`impersonation_findings`, each with the grant it is about."""
    fix = fix or impersonation_fix()
    found: list[tuple[Grant, Finding]] = []
    singles: list[Grant] = []
    for grant in grants:
        if not can_impersonate(grant.role, custom_roles, harmless):
            continue
        if grant.scope == PROJECT and project_administrator(grant.member, own_projects):
            continue
        if grant.scope == SERVICE_ACCOUNT and grant.role == IMPERSONATION_ROLE and single_subject(grant.member):
            if accepted is None:
                singles.append(grant)
                continue
            if grant.member in accepted:
                continue
        problem = (f"grants {_role_text(grant.role, custom_roles)} on {grant.on} to {describe(grant.member)}, who can then act "
                   f"as Tavus's writer {writer}")
        found.append((grant, Finding(IMPERSONATION.id, problem, fix)))
    subjects = list(dict.fromkeys(g.member for g in singles))
    if len(subjects) > 1:
        for grant in singles:
            problem = (f"grants {IMPERSONATION_ROLE} on {grant.on} to {describe(grant.member)}, one of {len(subjects)} federated "
                       f"subjects that can act as Tavus's writer {writer}; Tavus is one subject")
            found.append((grant, Finding(IMPERSONATION.id, problem, fix)))
    return found


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


# --- who else reaches the recordings ------------------------------------------------------------------


def outsider(member: str, own_projects: Collection[str]) -> Optional[str]:
    """Why a member of a grant on the recordings is not one of yours, or None (users, groups and
    domains are your organisation's to decide)."""
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
        if project not in own_projects:
            return f"{member}, a service account of project {project}, not one of yours ({', '.join(sorted(own_projects)) or 'none named'})"
        return None
    convenience = _PROJECT_CONVENIENCE.match(member)
    if convenience:
        project = convenience["project"]
        return None if project in own_projects else f"{member}, the members of project {project}, not one of yours"
    if lowered.startswith(("user:", "group:", "domain:")):
        return None
    return f"{member}, a member the guardrails cannot place"


def bucket_access_fix(own_projects: Collection[str]) -> str:
    return (
        "remove that grant: Tavus writes through its writer service account, and only your own projects' accounts "
        f"({', '.join(sorted(own_projects)) or 'name them in ownProjects'}) may reach the recordings"
    )


def bucket_access_findings(
    grants: Iterable[Grant],
    writers: Collection[str],
    own_projects: Collection[str],
    custom_roles: CustomRoles = {},
    harmless: Collection[str] = (),
    fix: Optional[str] = None,
) -> list[Finding]:
    """Who besides the writers (`serviceAccount:` emails, lowercase) reaches a recordings bucket,
    among `grants` on the bucket and on its project."""
    fix = fix or bucket_access_fix(own_projects)
    found: list[Finding] = []
    for grant in grants:
        if account_email(grant.member) in writers:
            continue
        if grant.scope == PROJECT and not reaches_storage(grant.role, custom_roles, harmless):
            continue
        who = outsider(grant.member, own_projects)
        if who:
            found.append(Finding(BUCKET_ACCESS.id, f"grants {_role_text(grant.role, custom_roles)} on {grant.on} to {who}", fix))
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


# --- that recordings last ----------------------------------------------------------------------------------

# Lifecycle actions that never delete an object.
KEEPING_ACTIONS = frozenset({"SetStorageClass", "AbortIncompleteMultipartUpload"})
# Conditions only a noncurrent version can meet (a live object has no noncurrent time, no newer version).
NONCURRENT_ONLY = ("daysSinceNoncurrentTime", "noncurrentTimeBefore", "numNewerVersions")


def _positive(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0


def _number(value: Any) -> Optional[float]:
    if isinstance(value, str) and value.isdigit():
        return float(value)
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _noncurrent_only(condition: Mapping[str, Any]) -> bool:
    state = condition.get("withState")
    if isinstance(state, str) and state.upper() == "ARCHIVED":
        return True
    if condition.get("isLive") is False or (isinstance(condition.get("isLive"), str) and condition["isLive"].lower() == "false"):
        return True
    return any(_positive(condition.get(key)) or (isinstance(condition.get(key), str) and condition[key])
               for key in NONCURRENT_ONLY)


def lifecycle_fix(retention_days: Optional[int]) -> str:
    if retention_days:
        return (f"delete live recordings only with age >= {retention_days} (set retentionDays), and noncurrent versions "
                "with with_state ARCHIVED; or remove the rule")
    return "remove the deletion of live objects (set retentionDays if recordings should expire)"


def lifecycle_findings(rules: Iterable[Any], retention_days: Optional[int], retention_known: bool = True,
                       fix: Optional[str] = None) -> list[Finding]:
    """Lifecycle rules (the API's `lifecycle.rule`, or pulumi-gcp's `lifecycleRules`) that delete live
    recordings sooner than `retention_days`, or at all when None. Only an age of at least the retention
    makes a rule safe: other conditions (dates, prefixes, custom times) do not wait for a recording to age."""
    found: list[Finding] = []
    for index, rule in enumerate(rules, 1):
        if not isinstance(rule, Mapping):
            continue
        action = rule.get("action")
        kind = action.get("type") if isinstance(action, Mapping) else None
        if kind in KEEPING_ACTIONS:
            continue
        conditions = [c for c in as_list(rule.get("condition") or rule.get("conditions")) if isinstance(c, Mapping)]
        condition: Mapping[str, Any] = conditions[0] if conditions else {}
        if _noncurrent_only(condition):
            continue
        age = None if condition.get("noAge") is True else _number(condition.get("age"))
        if retention_known and retention_days and age is not None and age >= retention_days:
            continue
        when = f"{age:g} days after they land" if age else "without waiting for them to age"
        others = sorted(k for k, v in condition.items()
                        if k not in ("age", "withState", "isLive", "noAge") and not k.startswith("send") and v not in (None, "", [], 0, False))
        rule_text = f"lifecycle rule {index} ({kind or 'no action type'}" + (f", when {', '.join(others)}" if others else "") + ")"
        if not retention_known:
            found.append(Finding(LIFECYCLE.id, f"has {rule_text} that deletes live recordings {when}; the stack's outputs do not say "
                                               "its retention, to compare with", "run `pulumi up` with this version of the kit, "
                                               "which exports retention_days", unknown=True))
            continue
        kept = f"{retention_days} days (retentionDays)" if retention_days else "for good (no retentionDays)"
        found.append(Finding(LIFECYCLE.id, f"has {rule_text} that deletes live recordings {when}, but the stack keeps them {kept}",
                             fix or lifecycle_fix(retention_days)))
    return found


def retention_period_days(policy: Any) -> Optional[float]:
    """A bucket retention policy's period in days (`retentionPeriod` is seconds), or None."""
    seconds = _number(policy.get("retentionPeriod")) if isinstance(policy, Mapping) else None
    return None if seconds is None else seconds / 86400


def describe_retention(policy: Any) -> str:
    days = retention_period_days(policy)
    if days is None:
        return "no retention policy"
    locked = isinstance(policy, Mapping) and policy.get("isLocked") is True
    return f"a retention policy of {days:g} days ({'locked' if locked else 'not locked'})"


def retention_findings(policy: Any, immutable_days: Optional[int], fix: Optional[str] = None) -> list[Finding]:
    """A retention policy removed or shorter than the `immutable_days` the stack asks for."""
    if not immutable_days:
        return []
    days = retention_period_days(policy)
    fix = fix or f"set the bucket's retention policy to {immutable_days} days (retention_policy.retention_period = {immutable_days * 86400})"
    if days is None:
        return [Finding(RETENTION.id, f"has no retention policy, but the stack holds recordings for {immutable_days} days (immutableDays)", fix)]
    if days < immutable_days:
        return [Finding(RETENTION.id, f"has {describe_retention(policy)}, shorter than the {immutable_days} days the stack asks for "
                                      "(immutableDays)", fix)]
    return []


# --- copies ----------------------------------------------------------------------------------------------


def transfer_findings(job: Mapping[str, Any], recordings: Collection[str], own_buckets: Collection[str]) -> list[Finding]:
    """A Storage Transfer job (transferSpec or replicationSpec) that copies a recordings bucket to a
    destination this stack does not define."""
    if job.get("status") == "DELETED":
        return []
    fix = "copy recordings only to a bucket this stack defines, or remove the job"
    found: list[Finding] = []
    for key in ("transferSpec", "replicationSpec"):
        spec = job.get(key)
        if not isinstance(spec, Mapping):
            continue
        source = spec.get("gcsDataSource")
        bucket = source.get("bucketName") if isinstance(source, Mapping) else None
        if bucket not in recordings:
            continue
        sink = spec.get("gcsDataSink")
        sink_bucket = sink.get("bucketName") if isinstance(sink, Mapping) else None
        if isinstance(sink_bucket, str) and sink_bucket in own_buckets:
            continue
        if isinstance(sink_bucket, str):
            where = f"bucket {sink_bucket}, which this stack does not define"
        elif isinstance(spec.get("posixDataSink"), Mapping):
            where = f"a file system outside Google Cloud ({spec['posixDataSink'].get('rootDirectory')})"
        else:
            where = "a destination the guardrails cannot place"
        found.append(Finding(TRANSFER.id, f"copies recordings from bucket {bucket} to {where}", fix))
    return found


# --- the provider ------------------------------------------------------------------------------------------


def subject_spellings(mapping: Any) -> list[tuple[cel.Token, ...]]:
    """How a condition may name the token's subject: the claim itself, or an attribute mapped from exactly it."""
    spellings = [cel.ASSERTION_SUB, cel.ASSERTION_SUB_INDEXED]
    if isinstance(mapping, Mapping):
        for attribute, expression in mapping.items():
            spelling = cel.attribute_spelling(str(attribute))
            if spelling and isinstance(expression, str) and cel.names_subject_claim(expression):
                spellings.append(spelling)
    return spellings


def pinned_subjects(condition: Any, mapping: Any = None) -> Optional[tuple[str, ...]]:
    """The subjects `condition` provably requires (empty: none pinned), or None when it cannot be read."""
    if not isinstance(condition, str) or not condition.strip():
        return ()
    try:
        # The empty subject pins nothing a token should carry.
        return tuple(s for s in cel.subject_pins(condition, subject_spellings(mapping)).subjects if s)
    except cel.NotProvable:
        return None


def condition_fix(subject: Optional[str] = None) -> str:
    return (f"set attribute_condition to {attribute_condition(subject or TAVUS_SUBJECT)} (further conditions may only be "
            "joined to it with &&)")


def condition_findings(condition: Any, mapping: Any = None, subject: Optional[str] = None, fix: Optional[str] = None) -> list[Finding]:
    """Why a provider's attribute condition is not proved to admit only `subject` (any one subject when None)."""
    fix = fix or condition_fix(subject)
    if not isinstance(condition, str) or not condition.strip():
        return [Finding(PROVIDER_CONDITION.id, "has no attribute condition, so every token its issuer signs is admitted to the pool, "
                                               "not only Tavus's", fix)]
    try:
        pins = cel.subject_pins(condition, subject_spellings(mapping)).subjects
    except cel.NotProvable as reason:
        return [Finding(PROVIDER_CONDITION.id, f"has attribute condition {condition!r}, which cannot be proved to admit only one "
                                               f"subject: {reason}", fix)]
    if not pins:
        return [Finding(PROVIDER_CONDITION.id, f"has attribute condition {condition!r}, which does not require assertion.sub == "
                                               "'<subject>' at its top level, so it admits other subjects", fix)]
    if subject is not None and subject not in pins:
        return [Finding(PROVIDER_CONDITION.id, f"has attribute condition {condition!r}, which admits subject "
                                               f"{' and '.join(repr(p) for p in pins)}, not Tavus's {subject!r}", fix)]
    if pins == ("",):
        return [Finding(PROVIDER_CONDITION.id, f"has attribute condition {condition!r}, which pins the empty subject", fix)]
    return []


def mapping_findings(mapping: Any, fix: Optional[str] = None) -> list[Finding]:
    """google.subject mapped from anything but exactly the token's `sub` claim."""
    fix = fix or "set attribute_mapping google.subject to assertion.sub"
    found = mapping.get("google.subject") if isinstance(mapping, Mapping) else None
    if isinstance(found, str) and cel.names_subject_claim(found):
        return []
    shown = "does not map google.subject" if found is None else f"maps google.subject from {found!r}, not from exactly assertion.sub"
    return [Finding(PROVIDER_MAPPING.id, f"{shown}, so principal://.../subject/<Tavus's subject> does not name the token's subject", fix)]


def issuer_problem(uri: Any) -> Optional[str]:
    """Why `uri` is not an https issuer with a host and no user info, or None."""
    if not isinstance(uri, str) or not uri:
        return "no issuer"
    if any(c.isspace() for c in uri):
        return f"issuer {uri!r}, which has white space in it"
    try:
        parts = urlsplit(uri)
        port = parts.port  # a malformed port raises
    except ValueError:
        return f"issuer {uri!r}, which is not a URL"
    del port
    if parts.scheme != "https" or not parts.hostname:
        return f"issuer {uri!r}, which is not an https URL with a host"
    if "@" in parts.netloc:
        return f"issuer {uri!r}, which has user info before its host"
    if parts.query or parts.fragment:
        return f"issuer {uri!r}, which has a query or fragment"
    return None


def issuer_findings(provider: Mapping[str, Any], issuer: Optional[str] = None, fix: Optional[str] = None) -> list[Finding]:
    """A provider that is not OIDC, trusts a malformed issuer, or (with `issuer`) another one."""
    fix = fix or f"set oidc.issuer_uri to {issuer or 'the issuer in Tavus recording guide (GCS tab)'}"
    oidc = provider.get("oidc")
    if not isinstance(oidc, Mapping):
        kind = next((key for key in ("aws", "saml", "x509") if isinstance(provider.get(key), Mapping)), "no identity provider")
        return [Finding(PROVIDER_ISSUER.id, f"is configured for {kind}, not OIDC: Tavus presents OIDC tokens", fix)]
    uri = oidc.get("issuerUri")
    found: list[Finding] = []
    problem = issuer_problem(uri)
    if problem:
        found.append(Finding(PROVIDER_ISSUER.id, f"trusts {problem}", fix))
    elif issuer is not None and uri != issuer:
        found.append(Finding(PROVIDER_ISSUER.id, f"trusts issuer {uri!r}, but Tavus's tokens come from {issuer!r}", fix))
    if oidc.get("jwksJson"):
        # Inline keys replace the issuer's published ones: whoever holds them signs as the issuer.
        found.append(Finding(PROVIDER_ISSUER.id, f"pins its own signing keys (jwksJson) for issuer {uri!r}, so whoever holds those keys "
                                                 "signs tokens the pool takes for the issuer's", "remove oidc.jwks_json: the provider then "
                                                 "fetches the issuer's own keys from its discovery document"))
    return found


def pool_issuer_findings(issuers: Collection[str], pool: str) -> list[Finding]:
    """A pool whose providers trust more than one issuer: a pool's principal for a subject is the same
    whichever provider admitted the token, so every other issuer can mint Tavus's principal."""
    distinct = sorted(set(issuers))
    if len(distinct) <= 1:
        return []
    return [Finding(PROVIDER_ISSUER.id, f"is one of the providers of pool {pool}, which together trust {len(distinct)} issuers "
                                        f"({', '.join(distinct)}): principal://.../subject/<s> is the same whichever issuer's token made it",
                    "keep one provider in the pool Tavus federates through (Tavus's issuer); give other federations a pool of their own")]


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

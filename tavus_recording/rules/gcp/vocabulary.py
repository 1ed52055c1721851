"""The words every Google Cloud rule speaks: roles (which act as an account, which reach storage, what the
writer needs), members (federated principals, Google's service agents, the project an account belongs
to), a grant wherever it was read, and IAM policy documents read strictly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Collection, Iterable, Mapping, Optional

from components.gcp_policy import IMPERSONATION_ROLE, WRITER_ROLE
from tavus_recording.rules.findings import Finding, Rule
from tavus_recording.rules.iam import as_list

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
# Google's own service agents, in the forms Google documents (https://cloud.google.com/iam/docs/service-agents):
# service-PROJECT_NUMBER@gcp-sa-SERVICE.iam.gserviceaccount.com, the same local part in a few older domains,
# the Google APIs Service Agent PROJECT_NUMBER@cloudservices.gserviceaccount.com, and Storage Transfer's
# project-PROJECT_NUMBER@storage-transfer-service.iam.gserviceaccount.com (its googleServiceAccounts.get).
# Each names, by number, the project it acts for.
_GCP_SA_DOMAIN = re.compile(r"^gcp-sa-[a-z0-9]+(?:-[a-z0-9]+)*\.iam\.gserviceaccount\.com$")
_OLDER_AGENT_DOMAINS = frozenset(
    f"{name}.iam.gserviceaccount.com"
    for name in ("gs-project-accounts", "container-engine-robot", "compute-system", "containerregistry", "serverless-robot-prod",
                 "dataflow-service-producer-prod", "cloud-ml.google.com", "firebase-rules", "cloudcomposer-accounts")
)
_AGENT_LOCAL = re.compile(r"service-(\d+)")
_APIS_AGENT_DOMAIN = "cloudservices.gserviceaccount.com"
_TRANSFER_AGENT_DOMAIN = "storage-transfer-service.iam.gserviceaccount.com"
# Google grants an agent of a gcp-sa-* domain its service agent role (roles/<service>.serviceAgent, or
# roles/<service>.<kind>ServiceAgent); only that grant is taken for Google's own. Any other role held by
# such an address is judged like any account's (a project named gcp-sa-<x> is not provably Google's).
_SERVICE_AGENT_ROLE = re.compile(r"^roles/[a-zA-Z0-9]+\.(?:[a-z][a-zA-Z0-9]*ServiceAgent|serviceAgent)$")
# Numbered accounts that are not agents, but belong to the project whose number they carry.
_NUMBERED_ACCOUNTS = ((re.compile(r"(\d+)-compute"), "developer.gserviceaccount.com"), (re.compile(r"(\d+)"), "cloudbuild.gserviceaccount.com"))
_USER_MANAGED_DOMAIN = re.compile(r"([a-z][a-z0-9-]{4,28}[a-z0-9])\.iam\.gserviceaccount\.com")
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


def service_agent(email: str) -> Optional[tuple[str, bool]]:
    """(project number, whether only its service agent role is Google's grant) when `email` has the exact
    form of one of Google's service agents; None otherwise."""
    local, _, domain = email.lower().partition("@")
    if domain == _APIS_AGENT_DOMAIN and local.isascii() and local.isdigit():
        return local, False
    if domain == _TRANSFER_AGENT_DOMAIN and (number := re.fullmatch(r"project-(\d+)", local)) and number.group(1).isascii():
        return number.group(1), False
    agent = _AGENT_LOCAL.fullmatch(local)
    if agent is None or not agent.group(1).isascii():
        return None
    if domain in _OLDER_AGENT_DOMAINS:
        return agent.group(1), False
    if _GCP_SA_DOMAIN.match(domain):
        return agent.group(1), True
    return None


def account_project(email: str) -> Optional[str]:
    """The project (id, or number for Google's agents and numbered accounts) a service account email belongs to."""
    agent = service_agent(email)
    if agent is not None:
        return agent[0]
    local, _, domain = email.lower().partition("@")
    for pattern, numbered_domain in _NUMBERED_ACCOUNTS:
        if domain == numbered_domain:
            number = pattern.fullmatch(local)
            return number.group(1) if number and number.group(1).isascii() else None
    if domain == "appspot.gserviceaccount.com":
        return local
    match = _USER_MANAGED_DOMAIN.fullmatch(domain)
    return match.group(1) if match else None


def is_member(member: str, email: str) -> bool:
    return account_email(member) == email.lower()


def _own_number(number: str, own_projects: Collection[str]) -> bool:
    """Whether a project number is one of `own_projects`: when none of them is known by number, it cannot be
    told, and is taken for one (judged again once the stack knows its numbers)."""
    numbers = {p for p in own_projects if p.isascii() and p.isdigit()}
    return not numbers or number in numbers


def service_agent_of(member: str, own_projects: Collection[str], role: Optional[str] = None) -> bool:
    """Google's own agent for one of `own_projects` (by number), holding what Google grants it (`role`,
    when given): it acts for Google's services there."""
    email = account_email(member)
    agent = service_agent(email) if email is not None else None
    if agent is None or not _own_number(agent[0], own_projects):
        return False
    return not agent[1] or role is None or bool(_SERVICE_AGENT_ROLE.match(role))


def project_administrator(member: str, own_projects: Collection[str], role: Optional[str] = None) -> bool:
    """Who may hold project-wide roles without being reported as reaching the writer: people named one
    by one (the project's administrators) and Google's agents of the project in the roles Google grants
    them. Groups, domains, other service accounts, the public and federated identities are not."""
    return member.lower().startswith("user:") or service_agent_of(member, own_projects, role)


# --- a grant, wherever it was read ---------------------------------------------------------------

SERVICE_ACCOUNT, PROJECT, BUCKET, POOL, OTHER = "service account", "project", "bucket", "workload identity pool", "other"


@dataclass(frozen=True)
class Grant:
    """One role for one member on one resource, from a bucket's, project's or account's IAM policy."""

    role: str
    member: str
    scope: str
    """SERVICE_ACCOUNT, PROJECT, BUCKET or OTHER."""
    target: str
    """The account's email, the project id, the bucket's name, the pool's id ("" when not known)."""
    conditional: bool = False
    folder: str = ""
    """On a bucket: the managed folder of it the grant is on ("" for the whole bucket)."""

    @property
    def on(self) -> str:
        if self.scope == PROJECT:
            return f"project {self.target or '(unknown)'} (so on every service account and bucket in it)"
        if self.scope == POOL:
            return f"workload identity pool {self.target or '(unknown)'} (so on the providers that mint its principals)"
        if self.scope == OTHER:
            return self.target or "another resource"
        if self.scope == BUCKET and self.folder:
            return f"managed folder {self.folder} of bucket {self.target or '(unknown)'} (so on every object under it)"
        return f"{self.scope} {self.target or '(unknown)'}"


def policy_grants(policy: Any, scope: str, target: str, folder: str = "") -> list[Grant]:
    """The grants of an IAM policy document ({"bindings": [{"role", "members", "condition"}]})."""
    found: list[Grant] = []
    bindings = policy.get("bindings") if isinstance(policy, Mapping) else None
    for binding in as_list(bindings):
        if not isinstance(binding, Mapping) or not isinstance(binding.get("role"), str):
            continue
        for member in as_list(binding.get("members")):
            if isinstance(member, str):
                found.append(Grant(binding["role"], member, scope, target, bool(binding.get("condition")), folder))
    return found


# The fields of an IAM policy document as the provider reads `policy_data`: terraform-provider-google's
# unmarshalIamPolicy (google/tpgiamresource/resource_iam_policy.go) is Go's json.Unmarshal into
# cloudresourcemanager.Policy, which matches keys case-insensitively (with Unicode folding) and keeps the
# last of repeated keys. Rather than emulate that, a document is read only when it is strict JSON whose
# keys are these, spelt exactly.
_POLICY_FIELDS = {
    "policy": ("auditConfigs", "bindings", "etag", "version"),
    "binding": ("condition", "members", "role"),
    "condition": ("description", "expression", "location", "title"),
}


def _folded(key: str, fields: Iterable[str]) -> Optional[str]:
    """The schema field another spelling of `key` stands for in a case-insensitive reader, if any."""
    return next((f for f in fields if key != f and key.casefold() == f.casefold()), None)


def policy_document_problem(policy: Any) -> Optional[str]:
    """Why a parsed IAM policy document is not strictly readable (a key spelt unlike its field, a field of
    the wrong shape), or None. Duplicate keys and text that is not JSON are the parser's to refuse."""
    if not isinstance(policy, Mapping):
        return "it is not a JSON object"
    found: list[str] = []
    found += [f"key {k!r} stands for {f!r}" for k in policy if (f := _folded(str(k), _POLICY_FIELDS["policy"]))]
    bindings = policy.get("bindings")
    if bindings is not None and not isinstance(bindings, list):
        found.append("bindings is not a list")
    for binding in bindings if isinstance(bindings, list) else []:
        if not isinstance(binding, Mapping):
            found.append("a binding is not an object")
            continue
        found += [f"key {k!r} stands for {f!r}" for k in binding if (f := _folded(str(k), _POLICY_FIELDS["binding"]))]
        if not isinstance(binding.get("role"), str):
            found.append("a binding's role is not a string")
        members = binding.get("members")
        if members is not None and not (isinstance(members, list) and all(isinstance(m, str) for m in members)):
            found.append("a binding's members are not a list of strings")
        condition = binding.get("condition")
        if isinstance(condition, Mapping):
            found += [f"key {k!r} stands for {f!r}" for k in condition if (f := _folded(str(k), _POLICY_FIELDS["condition"]))]
        elif condition is not None:
            found.append("a binding's condition is not an object")
    return "; ".join(dict.fromkeys(found)) or None


def unreadable_policy_finding(rule: Rule, reason: str) -> Finding:
    return Finding(rule.id, f"has policyData that cannot be read strictly ({reason}), so what it grants cannot be proved safe: "
                            "Go's JSON reader, which the provider uses, takes keys in any case and the last of repeated keys",
                   "write policy_data as plain JSON, each key once and spelt as the IAM API spells it (bindings, role, members, "
                   "condition), e.g. from gcp.organizations.get_iam_policy")

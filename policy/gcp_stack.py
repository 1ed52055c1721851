"""Google Cloud: the pack's view of a stack, as the shared rules (`tavus_recording.rules.gcp`) judge it.

Every IAM grant the stack makes (on a service account, a project or a bucket, as a member, a binding
or an authoritative policy), which service accounts are writers (a workload identity pool's identity
may act as them), which buckets hold recordings (a writer is granted on them), and the custom roles
the stack defines. References between resources are followed by value and through the engine's
property dependencies, so a preview (names not known yet) correlates like an update.
"""

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Optional

from rule_kit import UNKNOWN, StackResource, document, has_unknown, known_strings
from tavus_recording.rules import gcp as rules
from tavus_recording.rules.iam import as_list

POOL = "gcp:iam/workloadIdentityPool:WorkloadIdentityPool"
PROVIDER = "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider"
BUCKET = "gcp:storage/bucket:Bucket"
ACCOUNT = "gcp:serviceaccount/account:Account"
KEY = "gcp:serviceaccount/key:Key"
HMAC_KEY = "gcp:storage/hmacKey:HmacKey"
TRANSFER_JOB = "gcp:storage/transferJob:TransferJob"
CUSTOM_ROLES = ("gcp:projects/iAMCustomRole:IAMCustomRole", "gcp:organizations/iAMCustomRole:IAMCustomRole")
COMPONENT = "tavus-recording:index:GcsRecordingStorage"
# IAM resources: type -> (what they grant on, the property naming it).
IAM = {
    "gcp:serviceaccount/iAMMember:IAMMember": (rules.SERVICE_ACCOUNT, "serviceAccountId"),
    "gcp:serviceaccount/iAMBinding:IAMBinding": (rules.SERVICE_ACCOUNT, "serviceAccountId"),
    "gcp:serviceaccount/iAMPolicy:IAMPolicy": (rules.SERVICE_ACCOUNT, "serviceAccountId"),
    "gcp:projects/iAMMember:IAMMember": (rules.PROJECT, "project"),
    "gcp:projects/iAMBinding:IAMBinding": (rules.PROJECT, "project"),
    "gcp:projects/iAMPolicy:IAMPolicy": (rules.PROJECT, "project"),
    "gcp:storage/bucketIAMMember:BucketIAMMember": (rules.BUCKET, "bucket"),
    "gcp:storage/bucketIAMBinding:BucketIAMBinding": (rules.BUCKET, "bucket"),
    "gcp:storage/bucketIAMPolicy:BucketIAMPolicy": (rules.BUCKET, "bucket"),
}
_ACCOUNT_PATH = re.compile(r"^projects/[^/]+/serviceAccounts/(?P<account>[^/]+)$")


# --- one IAM resource ----------------------------------------------------------------------------


@dataclass(frozen=True)
class RawGrant:
    """A grant as one IAM resource states it: any part may still be UNKNOWN."""

    role: Any
    member: Any
    scope: str
    target: Any
    conditional: bool = False


def target_name(scope: str, value: Any) -> Any:
    """The account email (or unique id), project id or bucket name an IAM resource's target names."""
    if not isinstance(value, str):
        return value
    if scope == rules.SERVICE_ACCOUNT:
        match = _ACCOUNT_PATH.match(value)
        return (match["account"] if match else value).lower()
    if scope == rules.PROJECT:
        return value.removeprefix("projects/")
    return value.removeprefix("b/")


def raw_grants(resource_type: str, props: Mapping[str, Any]) -> list[RawGrant]:
    """Every (role, member) an IAM resource grants, unknown parts as UNKNOWN."""
    scope, target_prop = IAM[resource_type]
    target = target_name(scope, props.get(target_prop))
    if resource_type.endswith("IAMPolicy"):
        doc = document(props.get("policyData"))
        if not isinstance(doc, dict):
            return []
        return [
            RawGrant(b.get("role"), m, scope, target, bool(b.get("condition")))
            for b in as_list(doc.get("bindings"))
            if isinstance(b, dict)
            for m in as_list(b.get("members"))
        ]
    conditional = props.get("condition") not in (None, UNKNOWN) and bool(props.get("condition"))
    if resource_type.endswith("IAMBinding"):
        members = props.get("members")
        listed = [UNKNOWN] if members is UNKNOWN else as_list(members)
        return [RawGrant(props.get("role"), m, scope, target, conditional) for m in listed]
    return [RawGrant(props.get("role"), props.get("member"), scope, target, conditional)]


def known(grant: RawGrant) -> Optional[rules.Grant]:
    """The grant in the rules' terms, once its role, member and target are known."""
    if not (isinstance(grant.role, str) and isinstance(grant.member, str)) or grant.target is UNKNOWN:
        return None
    return rules.Grant(grant.role, grant.member, grant.scope, grant.target if isinstance(grant.target, str) else "", grant.conditional)


# --- the whole stack -------------------------------------------------------------------------------


@dataclass(frozen=True)
class StackGrant:
    source: StackResource
    raw: RawGrant

    def deps(self, prop: str) -> tuple[str, ...]:
        return tuple(self.source.deps.get(prop, ()))


@dataclass
class Writer:
    """A service account a pool's identity may act as: in the stack (`account`) or only named."""

    key: str
    email: Any
    account: Optional[StackResource] = None
    project: Optional[str] = None

    @property
    def label(self) -> str:
        if isinstance(self.email, str):
            return self.email
        return f"'{self.account.name}'" if self.account else self.key


@dataclass
class GcsStack:
    resources: list[StackResource]
    grants: list[StackGrant] = field(default_factory=list)
    custom_roles: dict[str, frozenset[str]] = field(default_factory=dict)
    # Custom roles (by name and URN) whose permissions are not known yet.
    pending_roles: set[str] = field(default_factory=set)
    # A custom role's URN -> the name grants use for it.
    role_names: dict[str, str] = field(default_factory=dict)
    writers: list[Writer] = field(default_factory=list)

    def of_type(self, *types: str) -> list[StackResource]:
        return [r for r in self.resources if r.type in types]


def _custom_role_names(role: StackResource) -> set[str]:
    props = role.props
    names = known_strings(props.get("name"), props.get("id"))
    role_id, project, org = props.get("roleId"), props.get("project"), props.get("orgId")
    if isinstance(role_id, str):
        if isinstance(project, str):
            names.add(f"projects/{project}/roles/{role_id}")
        if isinstance(org, str):
            names.add(f"organizations/{org}/roles/{role_id}")
    return names


def account_ids(account: StackResource) -> set[str]:
    """Every way an IAM resource may name the account."""
    props = account.props
    ids = {v.lower() for v in known_strings(props.get("email"), props.get("uniqueId"))}
    for value in known_strings(props.get("name"), props.get("id")):
        ids.add(target_name(rules.SERVICE_ACCOUNT, value))
    return ids


def _account_email(account: StackResource) -> Any:
    email = account.props.get("email")
    if isinstance(email, str):
        return email.lower()
    name = account.props.get("name")
    match = _ACCOUNT_PATH.match(name) if isinstance(name, str) else None
    return match["account"].lower() if match and "@" in match["account"] else UNKNOWN


def gcs_stack(resources: list[StackResource]) -> GcsStack:
    stack = GcsStack(resources)
    for role in stack.of_type(*CUSTOM_ROLES):
        permissions = role.props.get("permissions")
        if role.props.get("deleted") is True:
            continue
        if has_unknown(permissions) or permissions is None:
            stack.pending_roles |= _custom_role_names(role) | {role.urn}
            continue
        names = sorted(_custom_role_names(role)) or [f"projects/-/roles/{role.name}"]
        stack.role_names[role.urn] = names[0]
        for name in names:
            stack.custom_roles[name] = frozenset(p for p in as_list(permissions) if isinstance(p, str))
    for resource in resources:
        if resource.type in IAM:
            stack.grants += [StackGrant(resource, g) for g in raw_grants(resource.type, resource.props)]
    stack.writers = _writers(stack)
    return stack


def resolved_role(stack: GcsStack, grant: StackGrant) -> Optional[str]:
    """The grant's role, a custom role of the stack followed through its dependency; None while unknown."""
    role = grant.raw.role
    if isinstance(role, str):
        return None if role in stack.pending_roles else role
    return next((stack.role_names[urn] for urn in grant.deps("role") if urn in stack.role_names), None)


def judged(stack: GcsStack, grant: StackGrant, target: Any = None) -> Optional[rules.Grant]:
    """The grant in the rules' terms once its role and member are known; `target` stands for a target
    known only through a dependency."""
    role = resolved_role(stack, grant)
    if role is None:
        return None
    return known(RawGrant(role, grant.raw.member, grant.raw.scope, target or grant.raw.target, grant.raw.conditional))


def _member_prop(grant: StackGrant) -> str:
    return "policyData" if grant.source.type.endswith("IAMPolicy") else ("members" if grant.source.type.endswith("IAMBinding") else "member")


def _target_prop(grant: StackGrant) -> str:
    return IAM[grant.source.type][1]


def is_pool_identity(stack: GcsStack, grant: StackGrant) -> bool:
    """A member that is a workload pool's identity (or, while unknown, built from a pool of the stack)."""
    member = grant.raw.member
    if isinstance(member, str):
        return rules.pool_of(member) is not None
    pools = {p.urn for p in stack.of_type(POOL, PROVIDER)}
    return member is UNKNOWN and bool(pools & set(grant.deps(_member_prop(grant))))


def account_of(stack: GcsStack, grant: StackGrant) -> Optional[str]:
    """The key of the service account an account-level grant is on: an Account's URN, else `email:<id>`."""
    accounts = stack.of_type(ACCOUNT)
    by_dep = [a for a in accounts if a.urn in grant.deps(_target_prop(grant))]
    if by_dep:
        return by_dep[0].urn
    target = grant.raw.target
    if not isinstance(target, str):
        return None
    by_value = [a for a in accounts if target in account_ids(a)]
    return by_value[0].urn if by_value else f"email:{target}"


def _writers(stack: GcsStack) -> list[Writer]:
    keys: list[str] = []
    for grant in stack.grants:
        if grant.raw.scope != rules.SERVICE_ACCOUNT or not is_pool_identity(stack, grant):
            continue
        role = resolved_role(stack, grant)
        if role is None or not rules.can_impersonate(role, stack.custom_roles):
            continue
        key = account_of(stack, grant)
        if key is not None and key not in keys:
            keys.append(key)
    accounts = {a.urn: a for a in stack.of_type(ACCOUNT)}
    writers = []
    for key in keys:
        account = accounts.get(key)
        email = _account_email(account) if account else key.removeprefix("email:")
        project = account.props.get("project") if account else None
        if not isinstance(project, str):
            project = rules.account_project(email) if isinstance(email, str) else None
        writers.append(Writer(key, email, account, project))
    return writers


def holds(writer: Writer, grant: StackGrant) -> bool:
    """Whether the grant's member is the writer: by value, or through a dependency while unknown."""
    member = grant.raw.member
    if isinstance(member, str):
        return isinstance(writer.email, str) and rules.is_member(member, writer.email)
    return member is UNKNOWN and writer.account is not None and writer.account.urn in grant.deps(_member_prop(grant))


def on_writer(stack: GcsStack, writer: Writer, grant: StackGrant) -> bool:
    """Whether a grant reaches the writer: on the account itself, or on its project."""
    if grant.raw.scope == rules.SERVICE_ACCOUNT:
        return account_of(stack, grant) == writer.key
    if grant.raw.scope == rules.PROJECT:
        target = grant.raw.target
        return isinstance(target, str) and (writer.project is None or target == writer.project)
    return False


def bucket_name(stack: GcsStack, grant: StackGrant) -> Optional[str]:
    """The bucket a bucket-level grant is on, by value or through its dependency on a Bucket."""
    if isinstance(grant.raw.target, str):
        return grant.raw.target
    for bucket in stack.of_type(BUCKET):
        if bucket.urn in grant.deps("bucket") and isinstance(bucket.props.get("name"), str):
            return bucket.props["name"]
    return None


def writer_grants(stack: GcsStack, writer: Writer) -> list[tuple[StackGrant, rules.Grant]]:
    """Every grant the writer holds, with its bucket resolved."""
    found = []
    for grant in stack.grants:
        if not holds(writer, grant):
            continue
        target = bucket_name(stack, grant) if grant.raw.scope == rules.BUCKET else grant.raw.target
        role = resolved_role(stack, grant)
        if role is None or target is UNKNOWN or (grant.raw.scope == rules.BUCKET and target is None):
            continue
        found.append((grant, rules.Grant(role, f"serviceAccount:{writer.label}", grant.raw.scope, target if isinstance(target, str) else "",
                                         grant.raw.conditional)))
    return found


def recording_buckets(stack: GcsStack) -> list[str]:
    """The buckets a writer is granted on."""
    names: list[str] = []
    for writer in stack.writers:
        for _, grant in writer_grants(stack, writer):
            if grant.scope == rules.BUCKET and grant.target not in names:
                names.append(grant.target)
    return names


def bucket_resources(stack: GcsStack, names: Iterable[str]) -> list[StackResource]:
    wanted = set(names)
    return [b for b in stack.of_type(BUCKET) if b.props.get("name") in wanted]


def own_projects(stack: GcsStack, configured: Iterable[str]) -> set[str]:
    """Your projects: the configured ones, and every project (id or number) this stack builds in."""
    projects = set(configured)
    for resource in stack.resources:
        if resource.type in (BUCKET, ACCOUNT, POOL, PROVIDER):
            projects |= known_strings(resource.props.get("project"), resource.props.get("projectNumber"))
        name = resource.props.get("name")
        if resource.type in (POOL, PROVIDER) and isinstance(name, str) and name.startswith("projects/"):
            projects.add(name.split("/")[1])
        if resource.type == ACCOUNT and isinstance(email := _account_email(resource), str):
            projects |= known_strings(rules.account_project(email))
    return projects


def component_of(stack: GcsStack, bucket: StackResource) -> Optional[StackResource]:
    """The GcsRecordingStorage that made the bucket: its parent, else the one exporting its name."""
    components = stack.of_type(COMPONENT)
    parent = next((c for c in components if c.urn == bucket.parent), None)
    if parent is not None:
        return parent
    return next((c for c in components if c.props.get("bucket_name") == bucket.props.get("name")), None)


def declared_days(stack: GcsStack, bucket: StackResource, key: str, config: Mapping[str, Any]) -> Optional[int]:
    """A number of days the bucket's component declares (`retentionDays`...), else the pack's config, else None."""
    component = component_of(stack, bucket)
    declared = component.props.get(key) if component else None
    value = declared if isinstance(declared, (int, float)) and not isinstance(declared, bool) else config.get(key)
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0 else None

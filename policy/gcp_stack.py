"""Google Cloud: the pack's view of a stack, as the shared rules (`tavus_recording.rules.gcp`) judge it.

Every IAM grant the stack makes (on a service account, a project, a bucket, a managed folder of one, or
a workload identity pool, as a member, a binding or an authoritative policy), which service accounts
are writers (a workload identity pool's identity may act as them) and through which pools, which
buckets hold recordings (a writer is granted on them) or copies of them, the custom roles the stack
defines, and which project ids and numbers the stack shows to be one project. References between
resources are followed by value and through the engine's property dependencies, so a preview (names
not known yet) correlates like an update.
"""

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Optional

from rule_kit import UNKNOWN, Malformed, StackResource, document, get, has_unknown, known_strings
from tavus_recording.rules import gcp as rules
from tavus_recording.rules.iam import as_list

POOL = "gcp:iam/workloadIdentityPool:WorkloadIdentityPool"
PROVIDER = "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider"
BUCKET = "gcp:storage/bucket:Bucket"
ACCOUNT = "gcp:serviceaccount/account:Account"
KEY = "gcp:serviceaccount/key:Key"
HMAC_KEY = "gcp:storage/hmacKey:HmacKey"
TRANSFER_JOB = "gcp:storage/transferJob:TransferJob"
BATCH_JOB = "gcp:storage/batchOperationsJob:BatchOperationsJob"
# ACL resources: type -> how it states its entries (pulumi-gcp's storage module).
ACLS = {
    "gcp:storage/bucketACL:BucketACL": "roleEntities",
    "gcp:storage/defaultObjectACL:DefaultObjectACL": "roleEntities",
    "gcp:storage/objectACL:ObjectACL": "roleEntities",
    "gcp:storage/bucketAccessControl:BucketAccessControl": "entity",
    "gcp:storage/defaultObjectAccessControl:DefaultObjectAccessControl": "entity",
    "gcp:storage/objectAccessControl:ObjectAccessControl": "entity",
}
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
    # A managed folder's IAM grants on every object under it (pulumi-gcp: bucket + managedFolder).
    "gcp:storage/managedFolderIamMember:ManagedFolderIamMember": (rules.BUCKET, "bucket"),
    "gcp:storage/managedFolderIamBinding:ManagedFolderIamBinding": (rules.BUCKET, "bucket"),
    "gcp:storage/managedFolderIamPolicy:ManagedFolderIamPolicy": (rules.BUCKET, "bucket"),
    # A pool's own IAM: its admins can add a provider that mints the pool's principals.
    "gcp:iam/workloadIdentityPoolIamMember:WorkloadIdentityPoolIamMember": (rules.POOL, "workloadIdentityPoolId"),
    "gcp:iam/workloadIdentityPoolIamBinding:WorkloadIdentityPoolIamBinding": (rules.POOL, "workloadIdentityPoolId"),
    "gcp:iam/workloadIdentityPoolIamPolicy:WorkloadIdentityPoolIamPolicy": (rules.POOL, "workloadIdentityPoolId"),
}
_ACCOUNT_PATH = re.compile(r"^projects/[^/]+/serviceAccounts/(?P<account>[^/]+)$")
_POOL_PATH = re.compile(r"^projects/(?P<project>[^/]+)/locations/[^/]+/workloadIdentityPools/(?P<pool>[^/]+)$")


# --- one IAM resource ----------------------------------------------------------------------------


@dataclass(frozen=True)
class RawGrant:
    """A grant as one IAM resource states it: any part may still be UNKNOWN."""

    role: Any
    member: Any
    scope: str
    target: Any
    conditional: bool = False
    folder: str = ""


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


def _is_policy(resource_type: str) -> bool:
    return resource_type.endswith(("IAMPolicy", "IamPolicy"))


def _is_binding(resource_type: str) -> bool:
    return resource_type.endswith(("IAMBinding", "IamBinding"))


def policy_problem(resource_type: str, props: Mapping[str, Any]) -> Optional[str]:
    """Why an authoritative IAM resource's `policyData` cannot be read strictly (so proves nothing), or None
    (not a policy resource, unknown yet, or strict)."""
    if resource_type not in IAM or not _is_policy(resource_type):
        return None
    doc = document(props.get("policyData"))
    if doc is UNKNOWN or doc is None:
        return None
    if isinstance(doc, Malformed):
        return doc.reason
    return rules.policy_document_problem(doc)


def raw_grants(resource_type: str, props: Mapping[str, Any]) -> list[RawGrant]:
    """Every (role, member) an IAM resource grants, unknown parts as UNKNOWN (a policy document that
    cannot be read strictly grants nothing here: `policy_problem` reports it)."""
    scope, target_prop = IAM[resource_type]
    target = target_name(scope, props.get(target_prop))
    folder = props.get("managedFolder")
    folder = folder if isinstance(folder, str) else ("(unknown)" if "managedFolder" in props else "")
    if _is_policy(resource_type):
        doc = document(props.get("policyData"))
        if not isinstance(doc, dict) or rules.policy_document_problem(doc):
            return []
        return [
            RawGrant(b.get("role"), m, scope, target, bool(b.get("condition")), folder)
            for b in as_list(doc.get("bindings"))
            if isinstance(b, dict)
            for m in as_list(b.get("members"))
        ]
    conditional = props.get("condition") not in (None, UNKNOWN) and bool(props.get("condition"))
    if _is_binding(resource_type):
        members = props.get("members")
        listed = [UNKNOWN] if members is UNKNOWN else as_list(members)
        return [RawGrant(props.get("role"), m, scope, target, conditional, folder) for m in listed]
    return [RawGrant(props.get("role"), props.get("member"), scope, target, conditional, folder)]


def unreadable(value: Any) -> bool:
    """A name given as something other than a string (a list, an object, a number): the provider would
    refuse it, and the guardrails cannot tell what it names, so it may name anything."""
    return value is not None and value is not UNKNOWN and not isinstance(value, str)


def known(grant: RawGrant) -> Optional[rules.Grant]:
    """The grant in the rules' terms, once its role, member and target are known."""
    if not (isinstance(grant.role, str) and isinstance(grant.member, str)) or grant.target is UNKNOWN:
        return None
    target = grant.target if isinstance(grant.target, str) else (f"(unreadable: {grant.target!r})" if unreadable(grant.target) else "")
    return rules.Grant(grant.role, grant.member, grant.scope, target, grant.conditional, grant.folder)


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
    # The pools whose identities act as it (see `pool_ref`).
    pools: list["PoolRef"] = field(default_factory=list)

    @property
    def label(self) -> str:
        if isinstance(self.email, str):
            return self.email
        return f"'{self.account.name}'" if self.account else self.key


@dataclass(frozen=True)
class PoolRef:
    """A workload identity pool as something names it: its resource (`urn`), its name (`path`,
    `projects/<number>/locations/global/workloadIdentityPools/<id>`), or its id and project."""

    pool_id: Any
    project: Any
    path: Optional[str] = None
    urn: Optional[str] = None

    @property
    def label(self) -> str:
        if self.path:
            return self.path
        return f"{self.project}/{self.pool_id}" if isinstance(self.project, str) else f"{self.pool_id}"


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
    # Project ids -> numbers, where a resource shows both (a pool's name, a bucket's projectNumber).
    numbers: dict[str, str] = field(default_factory=dict)

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


def _computed_email(account: StackResource) -> Optional[str]:
    """The email IAM gives an account from its accountId and project (known before the account exists)."""
    account_id, project = account.props.get("accountId"), account.props.get("project")
    if isinstance(account_id, str) and account_id and isinstance(project, str) and project and ":" not in project:
        return f"{account_id}@{project}.iam.gserviceaccount.com".lower()
    return None


def account_ids(account: StackResource) -> set[str]:
    """Every way an IAM resource may name the account."""
    props = account.props
    ids = {v.lower() for v in known_strings(props.get("email"), props.get("uniqueId"), _computed_email(account))}
    for value in known_strings(props.get("name"), props.get("id")):
        ids.add(target_name(rules.SERVICE_ACCOUNT, value))
    return ids


def _account_email(account: StackResource) -> Any:
    email = account.props.get("email")
    if isinstance(email, str):
        return email.lower()
    name = account.props.get("name")
    match = _ACCOUNT_PATH.match(name) if isinstance(name, str) else None
    if match and "@" in match["account"]:
        return match["account"].lower()
    return _computed_email(account) or UNKNOWN


def _is_number(value: str) -> bool:
    return value.isascii() and value.isdigit()


def _project_numbers(resources: list[StackResource]) -> dict[str, str]:
    numbers: dict[str, str] = {}
    for resource in resources:
        project = resource.props.get("project")
        if not isinstance(project, str) or _is_number(project):
            continue
        found = resource.props.get("projectNumber") if resource.type == BUCKET else None
        name = resource.props.get("name")
        if resource.type in (POOL, PROVIDER) and isinstance(name, str) and name.startswith("projects/"):
            found = name.split("/")[1]
        if isinstance(found, str) and _is_number(found):
            numbers[project] = found
    return numbers


def same_project(stack: GcsStack, a: Any, b: Any) -> Optional[bool]:
    """Whether two names (ids or numbers, `projects/` prefixed or not) are one project: None when an id and
    a number cannot be told apart (no resource of the stack pairs them)."""
    if not (isinstance(a, str) and isinstance(b, str)):
        return None
    a, b = a.removeprefix("projects/"), b.removeprefix("projects/")
    if a == b:
        return True
    if _is_number(a) == _is_number(b):
        return False
    number, project_id = (a, b) if _is_number(a) else (b, a)
    if project_id in stack.numbers:
        return stack.numbers[project_id] == number
    return False if number in stack.numbers.values() else None


def gcs_stack(resources: list[StackResource]) -> GcsStack:
    stack = GcsStack(resources)
    stack.numbers = _project_numbers(resources)
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
    raw = grant.raw
    return known(RawGrant(role, raw.member, raw.scope, target or raw.target, raw.conditional, raw.folder))


def _member_prop(grant: StackGrant) -> str:
    kind = grant.source.type
    return "policyData" if _is_policy(kind) else ("members" if _is_binding(kind) else "member")


def _target_prop(grant: StackGrant) -> str:
    return IAM[grant.source.type][1]


# --- workload identity pools


def path_ref(path: str) -> Optional[PoolRef]:
    match = _POOL_PATH.match(path)
    return PoolRef(match["pool"], match["project"], path.lower()) if match else None


def pool_ref(pool: StackResource) -> PoolRef:
    name = pool.props.get("name")
    return PoolRef(pool.props.get("workloadIdentityPoolId"), pool.props.get("project"),
                   name.lower() if isinstance(name, str) and _POOL_PATH.match(name) else None, pool.urn)


def stack_pools(stack: GcsStack) -> list[PoolRef]:
    return [pool_ref(p) for p in stack.of_type(POOL)]


def may_be_same_pool(stack: GcsStack, a: PoolRef, b: PoolRef) -> Optional[bool]:
    """Whether two references name one pool: None when it cannot be told yet (a name not known, a project
    given by id on one side and by number on the other, or not at all)."""
    if a.urn is not None and a.urn == b.urn:
        return True
    if a.path and b.path:
        return a.path == b.path
    if not (isinstance(a.pool_id, str) and isinstance(b.pool_id, str)):
        return None
    if a.pool_id.lower() != b.pool_id.lower():
        return False
    return same_project(stack, a.project, b.project)


def own_pool_paths(stack: GcsStack, paths: Iterable[str]) -> set[str]:
    """Of the pools `paths` name, those the stack defines (or, while a pool's name is unknown, may define)."""
    pools = stack_pools(stack)
    own = set()
    for path in paths:
        ref = path_ref(path)
        if ref is not None and any(may_be_same_pool(stack, pool, ref) is not False for pool in pools):
            own.add(ref.path or path.lower())
    return own


def grant_pool(stack: GcsStack, grant: StackGrant) -> PoolRef:
    """The pool a pool-level IAM grant is on: the pool it depends on, else its name, or its id and project."""
    for pool in stack.of_type(POOL):
        if pool.urn in grant.deps(_target_prop(grant)):
            return pool_ref(pool)
    target = grant.raw.target
    return (isinstance(target, str) and path_ref(target)) or PoolRef(target, grant.source.props.get("project"))


def is_pool_identity(stack: GcsStack, grant: StackGrant) -> bool:
    """A member that is a workload pool's identity (or, while unknown, built from a pool of the stack)."""
    member = grant.raw.member
    if isinstance(member, str):
        return rules.pool_of(member) is not None
    pools = {p.urn for p in stack.of_type(POOL, PROVIDER)}
    return member is UNKNOWN and bool(pools & set(grant.deps(_member_prop(grant))))


def _identity_pools(stack: GcsStack, grant: StackGrant) -> list[PoolRef]:
    """The pools a pool identity's grant names: by its member, else the pools it depends on."""
    member = grant.raw.member
    if isinstance(member, str):
        path = rules.pool_of(member)
        ref = path_ref(path) if path else None
        return [ref] if ref else []
    return [pool_ref(p) for p in stack.of_type(POOL) if p.urn in grant.deps(_member_prop(grant))]


# --- service accounts, and who acts as them


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
    pools: dict[str, list[PoolRef]] = {}
    for grant in stack.grants:
        if grant.raw.scope != rules.SERVICE_ACCOUNT or not is_pool_identity(stack, grant):
            continue
        role = resolved_role(stack, grant)
        if role is None or not rules.can_impersonate(role, stack.custom_roles):
            continue
        key = account_of(stack, grant)
        if key is None:
            continue
        if key not in keys:
            keys.append(key)
        pools.setdefault(key, []).extend(r for r in _identity_pools(stack, grant) if r not in pools.get(key, []))
    accounts = {a.urn: a for a in stack.of_type(ACCOUNT)}
    writers = []
    for key in keys:
        account = accounts.get(key)
        email = _account_email(account) if account else key.removeprefix("email:")
        project = account.props.get("project") if account else None
        if not isinstance(project, str):
            project = rules.account_project(email) if isinstance(email, str) else None
        writers.append(Writer(key, email, account, project, pools.get(key, [])))
    return writers


def holds(writer: Writer, grant: StackGrant) -> bool:
    """Whether the grant's member is the writer: by value, or through a dependency while unknown."""
    member = grant.raw.member
    if isinstance(member, str):
        return isinstance(writer.email, str) and rules.is_member(member, writer.email)
    return member is UNKNOWN and writer.account is not None and writer.account.urn in grant.deps(_member_prop(grant))


def on_writer(stack: GcsStack, writer: Writer, grant: StackGrant) -> bool:
    """Whether a grant reaches the writer: on the account itself, on its project (by id or number: one that
    cannot be told apart may be it), or on a pool whose identities act as it."""
    target = grant.raw.target
    if grant.raw.scope == rules.SERVICE_ACCOUNT:
        return unreadable(target) or account_of(stack, grant) == writer.key
    if grant.raw.scope == rules.PROJECT:
        if unreadable(target):
            return True
        return isinstance(target, str) and (writer.project is None or same_project(stack, target, writer.project) is not False)
    if grant.raw.scope == rules.POOL:
        if unreadable(target):
            return True
        pool = grant_pool(stack, grant)
        return any(may_be_same_pool(stack, mine, pool) is not False for mine in writer.pools)
    return False


def bucket_name(stack: GcsStack, grant: StackGrant) -> Optional[str]:
    """The bucket a bucket-level grant is on, by value or through its dependency on a Bucket."""
    return named_bucket(stack, grant.source, "bucket")


def named_bucket(stack: GcsStack, resource: StackResource, prop: str) -> Optional[str]:
    """The bucket `resource.props[prop]` names, by value (`b/` prefix dropped) or through a dependency on a Bucket."""
    value = resource.props.get(prop)
    if isinstance(value, str):
        return value.removeprefix("b/")
    for bucket in stack.of_type(BUCKET):
        if bucket.urn in resource.deps.get(prop, ()) and isinstance(bucket.props.get("name"), str):
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
                                         grant.raw.conditional, grant.raw.folder)))
    return found


def recording_buckets(stack: GcsStack) -> list[str]:
    """The buckets a writer is granted on."""
    names: list[str] = []
    for writer in stack.writers:
        for _, grant in writer_grants(stack, writer):
            if grant.scope == rules.BUCKET and grant.target not in names:
                names.append(grant.target)
    return names


def transfer_source(stack: GcsStack, job: StackResource, spec_key: str, recordings: Iterable[str]) -> Any:
    """A transfer job's source bucket: its name, else (while unknown) the recordings bucket its spec depends
    on; UNKNOWN when neither tells."""
    spec = job.props.get(spec_key)
    source = get(spec, "gcsDataSource", "bucketName")
    if source is not UNKNOWN and not (spec is UNKNOWN or get(spec, "gcsDataSource") is UNKNOWN):
        return source
    wanted = set(recordings)
    for bucket in bucket_resources(stack, wanted):
        if bucket.urn in job.deps.get(spec_key, ()):
            return bucket.props.get("name")
    return UNKNOWN


def copied_into(stack: GcsStack, recordings: Iterable[str]) -> list[str]:
    """The stack's buckets that transfer jobs copy the recordings into, and what those copy on in turn."""
    own = {n for b in stack.of_type(BUCKET) if isinstance(n := b.props.get("name"), str)}
    reached = list(dict.fromkeys(recordings))
    copies: list[str] = []
    for name in reached:  # the list grows while it is read: each copy's copies too
        for job in stack.of_type(TRANSFER_JOB):
            if job.props.get("status") == "DELETED":
                continue
            for key in ("transferSpec", "replicationSpec"):
                sink = get(job.props.get(key), "gcsDataSink", "bucketName")
                if transfer_source(stack, job, key, [name]) == name and isinstance(sink, str) and sink in own and sink not in reached:
                    reached.append(sink)
                    copies.append(sink)
    return copies


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

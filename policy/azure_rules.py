"""Azure: the pack's view of a stack, judged by the shared rules in `tavus_recording.rules.azure`.

An identity is Tavus's when it has a federated identity credential (its `resourceName`, or the classic
provider's `parentId`, by value or by dependency); with the default configuration every federated identity
is judged, and a configured issuer, subject and audience only add checks. Its role assignments are those
whose `principalId` is its principal id, by value (any case) or by dependency, or an Entra ID group's it is
made a member of in the stack. Role assignments are azure-native's RoleAssignment, PIM's schedule requests
and eligibility schedules (an eligible role is a grant: it can be activated), and the classic provider's
Assignment. The recordings containers are those its Storage Blob Data Contributor assignments (or its
component's `container_id`) name; their accounts' lifecycle and object replication, and every assignment
that reaches them, are judged against the rules.

What one resource shows (a credential, an account, a container) is judged by a resource policy, before
that resource is created; what needs several by a stack policy, at preview and after the update's steps.
A value the engine does not know yet is never a violation: it is judged once known.
"""

import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Optional

from pulumi_policy import PolicyConfigSchema

from rule_kit import UNKNOWN, StackResource, flag, has_unknown, resource_policy, stack_policy
from tavus_recording.rules import azure as rules
from tavus_recording.rules.azure_rbac import (
    BUILTIN_ROLES,
    ContainerRef,
    account_name,
    broad_scope,
    container_of,
    covers_container,
    covers_identity,
    identity_above,
    identity_of,
    role_from_permissions,
    role_guid,
    same_container,
)
from tavus_recording.rules.findings import Finding

IDENTITY = "azure-native:managedidentity:UserAssignedIdentity"
FEDERATED_CREDENTIAL = "azure-native:managedidentity:FederatedIdentityCredential"
ROLE_ASSIGNMENT = "azure-native:authorization:RoleAssignment"
ROLE_DEFINITION = "azure-native:authorization:RoleDefinition"
# PIM (azure-native authorization, props principalId, roleDefinitionId, scope, requestType): an AdminAssign
# request makes an active assignment, an eligibility one a role its holder can activate.
PIM_ASSIGNMENT = "azure-native:authorization:RoleAssignmentScheduleRequest"
PIM_ELIGIBILITY = "azure-native:authorization:RoleEligibilityScheduleRequest"
PIM_ELIGIBILITY_SCHEDULE = "azure-native:authorization:PimRoleEligibilitySchedule"
# The classic provider (pulumi-azure): Assignment takes roleDefinitionId or roleDefinitionName (a built-in role's
# name), scope and principalId; FederatedIdentityCredential takes parentId (the identity's id), issuer, subject
# and one `audience`; RoleDefinition takes roleDefinitionId and permissions.
CLASSIC_ASSIGNMENT = "azure:authorization/assignment:Assignment"
CLASSIC_ROLE_DEFINITION = "azure:authorization/roleDefinition:RoleDefinition"
CLASSIC_IDENTITY = "azure:authorization/userAssignedIdentity:UserAssignedIdentity"
CLASSIC_CREDENTIAL = "azure:armmsi/federatedIdentityCredential:FederatedIdentityCredential"
IDENTITIES = (IDENTITY, CLASSIC_IDENTITY)
CREDENTIALS = (FEDERATED_CREDENTIAL, CLASSIC_CREDENTIAL)
ASSIGNMENTS = (ROLE_ASSIGNMENT, PIM_ASSIGNMENT, PIM_ELIGIBILITY, PIM_ELIGIBILITY_SCHEDULE, CLASSIC_ASSIGNMENT)
ROLE_DEFINITIONS = (ROLE_DEFINITION, CLASSIC_ROLE_DEFINITION)
# PIM request types that take a role away rather than grant it (RequestType: AdminRemove, SelfDeactivate).
_REMOVALS = ("adminremove", "selfdeactivate")
RESOURCE_GROUP = "azure-native:resources:ResourceGroup"
STORAGE_ACCOUNT = "azure-native:storage:StorageAccount"
CONTAINER = "azure-native:storage:BlobContainer"
MANAGEMENT_POLICY = "azure-native:storage:ManagementPolicy"
OBJECT_REPLICATION = "azure-native:storage:ObjectReplicationPolicy"
COMPONENT = "tavus-recording:index:AzureBlobRecordingStorage"
IMMUTABILITY_POLICY = "azure-native:storage:BlobContainerImmutabilityPolicy"
# azure-native v3 publishes diagnostic settings in `monitor`, v2 in `insights`; the classic provider's takes
# targetResourceId and enabledLogs (category or categoryGroup, each enabled by being listed) and logAnalyticsWorkspaceId.
DIAGNOSTIC_SETTINGS = ("azure-native:monitor:DiagnosticSetting", "azure-native:insights:DiagnosticSetting")
CLASSIC_DIAGNOSTIC_SETTING = "azure:monitoring/diagnosticSetting:DiagnosticSetting"

ISSUER_KEY, SUBJECT_KEY, AUDIENCE_KEY = "issuer", "subject", "audience"
RETENTION_KEY = "retentionDays"
COLD_KEY = "coldAfterDays"
KEY_URI_KEY = "keyVaultKeyUri"
REQUIRE_KEY_KEY = "requireCustomerKey"
OWN_ACCOUNTS_KEY = "ownAccounts"
IMMUTABLE_DAYS_KEY = "immutableDays"
IMMUTABLE_MODE_KEY = "immutableMode"
AUDIT_LOGS_KEY = "auditLogs"
REQUIRE_AUDIT_KEY = "requireAuditLogs"


def _lower(value: Any) -> Optional[str]:
    return value.lower() if isinstance(value, str) and value else None


def _config_text(config: Mapping[str, Any], key: str) -> Optional[str]:
    value = config.get(key)
    return value if isinstance(value, str) and value else None


def _token(config: Mapping[str, Any]) -> rules.Token:
    return rules.Token(_config_text(config, ISSUER_KEY), _config_text(config, SUBJECT_KEY), _config_text(config, AUDIENCE_KEY))


# --- one resource: a credential, an account, a container


# Every identity with a federated credential is judged as Tavus's (the kit's documented behaviour): how to
# keep another one, such as a CI deployer's, out of the pack's reach.
EXEMPT = ("; if this identity is not Tavus's (a CI deployer's), the pack still judges it, as it judges every identity with a "
          "federated credential: manage it from a separate stack, or disable this policy for this stack")


def _audiences(props: Mapping[str, Any]) -> Any:
    """azure-native's `audiences`, or the classic provider's one `audience` as a list."""
    if "audiences" in props or "audience" not in props:
        return props.get("audiences")
    audience = props.get("audience")
    return [audience] if isinstance(audience, str) else audience


def check_credential(props: dict[str, Any], config: Mapping[str, Any]) -> Iterable[Finding]:
    token = _token(config)
    props = {**props, "audiences": _audiences(props)}
    problems: list[str] = []
    if not has_unknown(props.get("claimsMatchingExpression")):
        problems += rules.expression_problems(props.get("claimsMatchingExpression"))
    if props.get("issuer") is not UNKNOWN:
        problems += rules.issuer_problems(props.get("issuer"), token.issuer)
    if props.get("subject") is not UNKNOWN:
        problems += rules.subject_problems(props.get("subject"), token.subject)
    if not has_unknown(props.get("audiences")):
        problems += rules.audience_problems(props.get("audiences"), token.audience)
    configured = token.issuer or token.subject or token.audience
    return [Finding(rules.FEDERATION.id, problem, rules.credential_fix(token) + (EXEMPT if configured else "")) for problem in problems]


def _account_check(prop: str, judge: Callable[[Any], list[Finding]]) -> Callable[[dict[str, Any], Mapping[str, Any]], list[Finding]]:
    def check(props: dict[str, Any], config: Mapping[str, Any]) -> list[Finding]:
        value = flag(props.get(prop))
        return [] if value is UNKNOWN else judge(value)

    return check


check_public_access = _account_check("allowBlobPublicAccess", rules.public_access_findings)
check_shared_key = _account_check("allowSharedKeyAccess", rules.shared_key_findings)
check_https_only = _account_check("enableHttpsTrafficOnly", rules.https_findings)
check_min_tls = _account_check("minimumTlsVersion", rules.tls_findings)
check_container_public = _account_check("publicAccess", rules.container_public_findings)


# --- the stack: Tavus's identities, their grants and their containers


@dataclass
class TavusIdentity:
    """An identity with federated credentials: its resource when the stack defines it."""

    resource: Optional[StackResource]
    credentials: list[StackResource] = field(default_factory=list)

    @property
    def principals(self) -> set[str]:
        """What its assignments' principalId may say: its principal id, or a reference to it."""
        if self.resource is None:
            return set()
        known = _lower(self.resource.props.get("principalId"))
        return {_key(self.resource)} | ({known} if known else set())

    def prop(self, name: str) -> Optional[str]:
        return _lower(self.resource.props.get(name)) if self.resource else None


def _key(resource: StackResource) -> str:
    """A principal the stack defines, by reference (compared lowercased, as principal ids are)."""
    return f"urn:{resource.urn}".lower()


def _of_type(resources: list[StackResource], *types: str) -> list[StackResource]:
    return [r for r in resources if r.type in types]


def _parent(credential: StackResource) -> tuple[Optional[str], Optional[str], set[str]]:
    """The identity a credential is on: its name, group and the URNs its reference depends on."""
    if credential.type == CLASSIC_CREDENTIAL:
        found = identity_of(credential.props.get("parentId"))
        group = found[1] if found else _lower(credential.props.get("resourceGroupName"))
        return (found[2] if found else None), group, set(credential.deps.get("parentId", ()))
    return (_lower(credential.props.get("resourceName")), _lower(credential.props.get("resourceGroupName")),
            set(credential.deps.get("resourceName", ())))


def tavus_identities(resources: list[StackResource]) -> list[TavusIdentity]:
    identities = _of_type(resources, *IDENTITIES)
    found: dict[Any, TavusIdentity] = {}
    for credential in _of_type(resources, *CREDENTIALS):
        name, group, urns = _parent(credential)
        owner = next((i for i in identities if i.urn in urns), None) or next(
            (i for i in identities if name and _lower(i.props.get("name")) == name
             and group in (None, _lower(i.props.get("resourceGroupName")))), None)
        key: Any = owner.urn if owner else ((group, name) if name else None)
        if key is not None:
            found.setdefault(key, TavusIdentity(owner)).credentials.append(credential)
    return list(found.values())


def _memberships(resources: list[StackResource], identities: list[TavusIdentity]) -> dict[str, str]:
    """Entra ID groups a Tavus identity is made a member of in the stack (azuread GroupMember: groupObjectId,
    memberObjectId), by object id and by reference: each group's roles are the identity's."""
    found: dict[str, str] = {}
    for member in (r for r in resources if r.type.startswith("azuread:") and r.type.endswith(":GroupMember")):
        urns, value = set(member.deps.get("memberObjectId", ())), _lower(member.props.get("memberObjectId"))
        for identity in identities:
            if identity.resource and (identity.resource.urn in urns or (value is not None and value in identity.principals)):
                group = _lower(member.props.get("groupObjectId"))
                keys = ({group} if group else set()) | {f"urn:{urn}".lower() for urn in member.deps.get("groupObjectId", ())}
                found.update({key: _key(identity.resource) for key in keys})
    return found


def _principal(assignment: StackResource, identities: list[TavusIdentity], groups: Mapping[str, str] = {}) -> Optional[str]:
    """The assignment's principal as the rules compare it: a Tavus identity's reference when it names one
    (or a group it is in), the principal id otherwise; None while it cannot be told."""
    urns = set(assignment.deps.get("principalId", ()))
    value = assignment.props.get("principalId")
    for identity in identities:
        if identity.resource and (identity.resource.urn in urns or _lower(value) in identity.principals):
            return _key(identity.resource)
    keys = ({text} if (text := _lower(value)) else set()) | {f"urn:{urn}".lower() for urn in urns}
    for key in sorted(keys & set(groups)):
        return groups[key]
    if isinstance(value, str):
        return value.lower()
    return f"urn:{sorted(urns)[0]}".lower() if urns else None


def definitions(resources: list[StackResource]) -> tuple[dict[str, rules.Role], dict[str, str]]:
    """Custom roles the stack defines, by GUID, and the GUID each definition's URN stands for (a
    stand-in GUID while the real one is unknown)."""
    roles: dict[str, rules.Role] = {}
    by_urn: dict[str, str] = {}
    for definition in _of_type(resources, *ROLE_DEFINITIONS):
        guid = role_guid(definition.props.get("name")) or role_guid(definition.props.get("roleDefinitionId"))
        guid = guid or str(uuid.uuid5(uuid.NAMESPACE_URL, definition.urn))
        by_urn[definition.urn] = guid
        if not has_unknown(definition.props.get("permissions")):
            name = definition.props.get("roleName")
            roles[guid] = role_from_permissions(name if isinstance(name, str) else definition.name, definition.props.get("permissions"))
    return roles, by_urn


_BUILTIN_NAMES = {role.name.lower(): guid for guid, role in BUILTIN_ROLES.items()}


def _role(assignment: StackResource, by_urn: dict[str, str]) -> Any:
    value = assignment.props.get("roleDefinitionId")
    for urn in assignment.deps.get("roleDefinitionId", ()):
        if urn in by_urn:
            return by_urn[urn]
    if value is None and "roleDefinitionName" in assignment.props:
        # The classic provider names a built-in role; a name the rules do not know stays unprovable.
        name = assignment.props["roleDefinitionName"]
        return _BUILTIN_NAMES.get(name.lower(), name) if isinstance(name, str) else name
    return value


def _scope_label(assignment: StackResource, resources: list[StackResource]) -> str:
    """A scope given by reference, as a person reads it: the resources it was made from."""
    if assignment.props.get("scope") is not UNKNOWN:
        return ""
    named = [r for r in resources if r.urn in assignment.deps.get("scope", ())]
    return "the scope of " + ", ".join(f"'{r.name}' ({r.type})" for r in named) if named else ""


def _removes(assignment: StackResource) -> bool:
    kind = assignment.props.get("requestType")
    return kind is UNKNOWN or (isinstance(kind, str) and kind.lower() in _REMOVALS)


@dataclass
class Model:
    """The stack as the rules see it."""

    resources: list[StackResource]
    identities: list[TavusIdentity]
    assignments: list[rules.Assignment]
    roles: dict[str, rules.Role]
    pending: set[str]
    """GUIDs of roles the stack defines whose permissions are not known yet."""

    def of(self, identity: TavusIdentity) -> list[rules.Assignment]:
        return [a for a in self.assignments if identity.resource and a.principal == _key(identity.resource)]

    @property
    def tavus_principals(self) -> set[str]:
        return {p for i in self.identities for p in i.principals}


def model(resources: list[StackResource]) -> Model:
    identities = tavus_identities(resources)
    roles, by_urn = definitions(resources)
    pending = set(by_urn.values()) - set(roles)
    groups = _memberships(resources, identities)
    assignments = []
    for resource in _of_type(resources, *ASSIGNMENTS):
        principal, role = _principal(resource, identities, groups), _role(resource, by_urn)
        if principal is None or role is UNKNOWN or role_guid(role) in pending or _removes(resource):
            continue
        assignments.append(rules.Assignment(role, resource.props.get("scope"), principal, resource.name, resource,
                                            _scope_label(resource, resources)))
    return Model(resources, identities, assignments, roles, pending)


def _ref(assignment: rules.Assignment) -> StackResource:
    ref = assignment.ref
    assert isinstance(ref, StackResource)
    return ref


def _reported(judged: Iterable[rules.Judged], fallback: StackResource) -> Iterator[tuple[StackResource, Finding]]:
    for record, finding in judged:
        yield (record.ref if record is not None and isinstance(record.ref, StackResource) else fallback), finding


def once(check: Callable[[list[StackResource], Mapping[str, Any]], Iterable[tuple[StackResource, Finding]]]) -> Callable[
        [list[StackResource], Mapping[str, Any]], Iterator[tuple[StackResource, Finding]]]:
    """A stack check that reports each finding on each resource once (several targets may share an account)."""

    def checked(resources: list[StackResource], config: Mapping[str, Any]) -> Iterator[tuple[StackResource, Finding]]:
        seen: set[tuple[str, Finding]] = set()
        for resource, finding in check(resources, config):
            if (resource.urn, finding) not in seen:
                seen.add((resource.urn, finding))
                yield resource, finding

    return checked


def _credential(credential: StackResource) -> rules.Credential:
    props = credential.props
    name = props.get("federatedIdentityCredentialResourceName") or props.get("name") or credential.name
    return rules.Credential(str(name), props.get("issuer"), props.get("subject"), _audiences(props),
                            props.get("claimsMatchingExpression"), credential)


def check_federation(resources: list[StackResource], config: Mapping[str, Any]) -> Iterator[tuple[StackResource, Finding]]:
    """More than one credential on one identity (each credential alone is the resource policy's)."""
    for identity in tavus_identities(resources):
        credentials = [_credential(c) for c in identity.credentials]
        judged = [(record, finding) for record, finding in rules.federation_findings(credentials, _token(config)) if record is None]
        yield from _reported(judged, identity.resource or identity.credentials[-1])


def _component_container(identity: TavusIdentity, resources: list[StackResource]) -> Optional[ContainerRef]:
    parent = identity.resource.parent if identity.resource else ""
    component = next((r for r in resources if r.type == COMPONENT and r.urn == parent), None)
    return container_of(component.props.get("container_id")) if component else None


def check_grants(resources: list[StackResource], config: Mapping[str, Any]) -> Iterator[tuple[StackResource, Finding]]:
    view = model(resources)
    containers = {c.urn for c in _of_type(resources, CONTAINER)}

    def at_container(assignment: rules.Assignment) -> Optional[bool]:
        # A scope given by reference: a container's (it is its id), or wider (the account's, the group's).
        return None if isinstance(assignment.scope, str) else bool(containers & set(_ref(assignment).deps.get("scope", ())))

    for identity in view.identities:
        mine = [a for a in view.of(identity) if isinstance(a.scope, str) or _ref(a).deps.get("scope")]
        if not mine:
            continue
        judged = rules.grant_findings(mine, _component_container(identity, resources), view.roles, at_container=at_container)
        for resource, finding in _reported(judged, identity.resource or _ref(mine[0])):
            yield resource, replace(finding, fix=finding.fix + EXEMPT)


def _covers_identity(identity: TavusIdentity, resources: list[StackResource]) -> Callable[[rules.Assignment], bool]:
    """An assignment's scope is over the identity: by value, or by reference to it, its federated credentials
    or its resource group. While the group is not known (a first preview), a group scope is judged only when
    a resource group of the stack the identity depends on names it: an unrelated group is no violation."""
    resource = identity.resource
    group = identity.prop("resourceGroupName")
    group_deps = set(resource.deps.get("resourceGroupName", ())) if resource else set()
    groups = [r for r in _of_type(resources, RESOURCE_GROUP) if r.urn in group_deps or (group and _lower(r.props.get("name")) == group)]
    group = group or next((name for g in groups if (name := _lower(g.props.get("name")))), None)
    name = identity.prop("name")
    urns = {g.urn for g in groups} | ({resource.urn} if resource else set()) | {c.urn for c in identity.credentials}

    def covers(assignment: rules.Assignment) -> bool:
        if isinstance(assignment.scope, str):
            if group is not None or broad_scope(assignment.scope):
                return covers_identity(assignment.scope, None, group, name)
            found = identity_above(assignment.scope)
            return found is not None and name is not None and found[2] == name
        return bool(urns & set(_ref(assignment).deps.get("scope", ())))

    return covers


def _names(entries: Any) -> list[Any]:
    """The identity ids an `identity` block lists: a map keyed by id, or a list of ids (either, by API version)."""
    if isinstance(entries, Mapping):
        return list(entries)
    if isinstance(entries, list):
        return [e.get("id") or e.get("resourceId") if isinstance(e, Mapping) else e for e in entries]
    return []


def _attached(identity: TavusIdentity, resources: list[StackResource]) -> list[rules.Attached]:
    """Resources of the stack that run as the identity: their `identity.userAssignedIdentities` (or the classic
    provider's `identity.identityIds`) names it, by id or by dependency on it."""
    if identity.resource is None:
        return []
    urn, name, group = identity.resource.urn, identity.prop("name"), identity.prop("resourceGroupName")
    found: list[rules.Attached] = []
    for resource in resources:
        if resource.urn == urn or resource.type in CREDENTIALS:
            continue
        block = resource.props.get("identity")
        entries = _names(block.get("userAssignedIdentities")) + _names(block.get("identityIds")) if isinstance(block, Mapping) else []
        named = [found_ for e in entries if (found_ := identity_of(e)) is not None]
        if urn in resource.deps.get("identity", ()) or any(name and n[2] == name and group in (None, n[1]) for n in named):
            found.append(rules.Attached(resource.name, resource.type, resource))
    return found


@once
def check_operators(resources: list[StackResource], config: Mapping[str, Any]) -> Iterator[tuple[StackResource, Finding]]:
    view = model(resources)
    for identity in view.identities:
        if identity.resource is None:
            continue
        others = [a for a in view.assignments if a.scope is not UNKNOWN or _ref(a).deps.get("scope")]
        judged = rules.operator_findings(others, (None, None, None), identity.principals, view.roles,
                                         covers=_covers_identity(identity, resources))
        yield from _reported(judged, identity.resource)
        for attached, finding in rules.attachment_findings(_attached(identity, resources)):
            yield attached.ref, finding


# --- the recordings containers, and who else reaches them


@dataclass(frozen=True)
class Target:
    """A recordings container: its names when known, and the stack's resources that stand for it."""

    ref: Optional[ContainerRef]
    urns: frozenset[str]
    """The container's resource, its account's and its resource group's, when the stack defines them."""
    account_urns: frozenset[str]


def _container_ref(container: StackResource) -> Optional[ContainerRef]:
    account, name = _lower(container.props.get("accountName")), _lower(container.props.get("containerName") or container.props.get("name"))
    return ContainerRef(account, name, _lower(container.props.get("resourceGroupName"))) if account and name else None


def _defines(container: StackResource, scope: str) -> bool:
    ref = _container_ref(container)
    return ref is not None and same_container(scope, ref)


def targets(view: Model) -> list[Target]:
    resources = view.resources
    accounts, containers = _of_type(resources, STORAGE_ACCOUNT), _of_type(resources, CONTAINER)
    groups = _of_type(resources, RESOURCE_GROUP)
    refs: list[tuple[Optional[ContainerRef], Optional[StackResource]]] = []
    for identity in view.identities:
        for assignment in view.of(identity):
            if role_guid(assignment.role) is None:
                continue
            if isinstance(assignment.scope, str) and (ref := container_of(assignment.scope)) is not None:
                refs.append((ref, next((c for c in containers if _defines(c, assignment.scope)), None)))
            for urn in _ref(assignment).deps.get("scope", ()):
                resource = next((c for c in containers if c.urn == urn), None)
                if resource is not None:
                    refs.append((_container_ref(resource), resource))
        if (component := _component_container(identity, resources)) is not None:
            refs.append((component, None))
    merged: dict[Any, Target] = {}
    for ref, resource in refs:
        account_urns = {a.urn for a in accounts if ref and _lower(a.props.get("name")) == ref.account}
        account_urns |= set(resource.deps.get("accountName", ())) if resource else set()
        # The resource group: the container's or its account's by dependency, or the one of its name.
        group_urns = set(resource.deps.get("resourceGroupName", ())) if resource else set()
        group_urns |= {u for a in accounts if a.urn in account_urns for u in a.deps.get("resourceGroupName", ())}
        group_urns |= {g.urn for g in groups if ref and ref.group and _lower(g.props.get("name")) == ref.group}
        urns = account_urns | group_urns | ({resource.urn} if resource else set())
        # One target per container, however many assignments (or the component) name it.
        key = (ref.account, ref.container) if ref else (resource.urn if resource else None)
        before = merged.get(key)
        if before is not None:
            urns |= before.urns
            account_urns |= before.account_urns
        merged[key] = Target(ref or (before.ref if before else None), frozenset(urns), frozenset(account_urns))
    return list(merged.values())


def _stack_principals(resources: list[StackResource]) -> set[str]:
    """Principal ids of identities the stack defines: managed identities, resources' system-assigned
    identities, and Entra ID (azuread) principals."""
    found: set[str] = set()
    for resource in resources:
        identity = resource.props.get("identity")
        values = [identity.get("principalId") if isinstance(identity, dict) else None]
        if resource.type in IDENTITIES:
            values.append(resource.props.get("principalId"))
        if resource.type.startswith("azuread:"):
            values.append(resource.props.get("objectId"))
        found |= {text for value in values if (text := _lower(value)) is not None}
    return found


@once
def check_access(resources: list[StackResource], config: Mapping[str, Any]) -> Iterator[tuple[StackResource, Finding]]:
    view = model(resources)
    own = _stack_principals(resources)
    # Principals the stack defines are its own: by value, or by reference to one of its resources.
    others = [a for a in view.assignments if not str(a.principal).startswith("urn:") and a.principal not in own]
    for target in targets(view):
        def covers(assignment: rules.Assignment, target: Target = target) -> bool:
            if isinstance(assignment.scope, str):
                # While the container's names are not known (a first preview), the scopes over every container.
                return covers_container(assignment.scope, target.ref) if target.ref else broad_scope(assignment.scope)
            return bool(target.urns & set(_ref(assignment).deps.get("scope", ())))

        for record, finding in rules.access_findings(others, target.ref or ContainerRef("", ""), view.tavus_principals, view.roles,
                                                     covers=covers):
            yield record.ref, finding
        # At most one identity with a federated credential may write the container: each is a token issuer.
        writers = [(identity.prop("name") or identity.resource.name, identity.resource) for identity in view.identities
                   if identity.resource and any(covers(a) and rules.writes(a.role, view.roles) for a in view.of(identity))]
        container = target.ref.container if target.ref else "the recordings container"
        for record, finding in rules.writer_findings(writers, container):
            yield record, finding


# --- that recordings last, and where copies go


def _refers_to_account(resource: StackResource, prop: str, target: Target) -> bool:
    value = resource.props.get(prop)
    if target.account_urns & set(resource.deps.get(prop, ())):
        return True
    return target.ref is not None and account_name(value) == target.ref.account


def _retention(policy: StackResource, resources: list[StackResource], config: Mapping[str, Any]) -> Optional[int]:
    """The retention the account's component declares (its parent, or the one naming the account), else
    the pack's configured one, else none (keep)."""
    account = _lower(policy.props.get("accountName"))
    components = _of_type(resources, COMPONENT)
    component = next((c for c in components if c.urn == policy.parent), None) or next(
        (c for c in components if account and _lower(c.props.get("storage_account")) == account), None)
    if component is None and len(components) == 1 and not isinstance(components[0].props.get("storage_account"), str):
        # A preview without parents, whose one component does not know its account yet.
        component = components[0]
    if component is not None and "retentionDays" in component.props:
        declared = component.props["retentionDays"]
    else:
        declared = config.get(RETENTION_KEY)
    return int(declared) if isinstance(declared, (int, float)) and not isinstance(declared, bool) and declared > 0 else None


@once
def check_lifecycle(resources: list[StackResource], config: Mapping[str, Any]) -> Iterator[tuple[StackResource, Finding]]:
    found = targets(model(resources))
    for policy in _of_type(resources, MANAGEMENT_POLICY):
        rule_list = policy.props.get("policy", {}).get("rules") if isinstance(policy.props.get("policy"), dict) else None
        if not isinstance(rule_list, list):
            continue
        # A rule is judged once what it does is known; a name not known yet only changes how it is called.
        known = [{**r, "name": "<named at deploy>"} if has_unknown(r.get("name")) else r for r in rule_list
                 if isinstance(r, dict) and not has_unknown({k: v for k, v in r.items() if k != "name"})]
        for target in (t for t in found if _refers_to_account(policy, "accountName", t)):
            container = target.ref.container if target.ref else None
            for finding in rules.lifecycle_findings(known, container, _retention(policy, resources, config)):
                yield policy, finding


def _own_accounts(config: Mapping[str, Any], resources: list[StackResource]) -> Callable[[rules.Replication], bool]:
    listed = {account_name(a) for a in config.get(OWN_ACCOUNTS_KEY) or [] if account_name(a)}
    accounts = _of_type(resources, STORAGE_ACCOUNT)
    names = {_lower(a.props.get("name")) for a in accounts} | listed
    urns = {a.urn for a in accounts}

    def is_own(policy: rules.Replication) -> bool:
        resource = policy.ref
        refs = set(resource.deps.get("destinationAccount", ())) if isinstance(resource, StackResource) else set()
        return bool(urns & refs) or (account_name(policy.destination) or "\0") in names

    return is_own


@once
def check_replication(resources: list[StackResource], config: Mapping[str, Any]) -> Iterator[tuple[StackResource, Finding]]:
    found = targets(model(resources))
    policies = [rules.Replication(p.props.get("sourceAccount"), p.props.get("destinationAccount"), p.props.get("rules"), p.name, p)
                for p in _of_type(resources, OBJECT_REPLICATION)
                if not has_unknown(p.props.get("rules")) and (p.props.get("destinationAccount") is not UNKNOWN
                                                              or p.deps.get("destinationAccount"))]
    for target in found:
        def is_source(policy: rules.Replication, target: Target = target) -> bool:
            return isinstance(policy.ref, StackResource) and _refers_to_account(policy.ref, "sourceAccount", target)

        container = target.ref.container if target.ref else None
        for record, finding in rules.replication_findings(policies, is_source, container, _own_accounts(config, resources)):
            yield record.ref, finding



def _component(resource: StackResource, resources: list[StackResource]) -> Optional[StackResource]:
    """The AzureBlobRecordingStorage of the account or a resource on it: its parent, else the one naming the account."""
    account = _lower(resource.props.get("accountName") or (resource.props.get("name") if resource.type == STORAGE_ACCOUNT else None))
    components = _of_type(resources, COMPONENT)
    component = next((c for c in components if c.urn == resource.parent), None) or next(
        (c for c in components if account and _lower(c.props.get("storage_account")) == account), None)
    if component is None and len(components) == 1 and not isinstance(components[0].props.get("storage_account"), str):
        component = components[0]
    return component


def _declared_cold(resource: StackResource, resources: list[StackResource], config: Mapping[str, Any]) -> Any:
    """The coldAfterDays the account's component declares (UNKNOWN while it is not known), else the pack's configured one."""
    component = _component(resource, resources)
    return component.props[COLD_KEY] if component is not None and COLD_KEY in component.props else config.get(COLD_KEY)


def _cold_after(policy: StackResource, resources: list[StackResource], config: Mapping[str, Any]) -> Optional[int]:
    """The coldAfterDays the account's component declares, else the pack's configured one, else none."""
    declared = _declared_cold(policy, resources, config)
    return int(declared) if isinstance(declared, (int, float)) and not isinstance(declared, bool) and declared > 0 else None


def _policy_on(policy: StackResource, account: StackResource) -> Optional[bool]:
    """Whether a management policy is the account's (by dependency, or by name); None while that cannot be told."""
    if account.urn in policy.deps.get("accountName", ()):
        return True
    named, name = _lower(policy.props.get("accountName")), _lower(account.props.get("name"))
    return None if named is None and has_unknown(policy.props.get("accountName")) or name is None else named == name


@once
def check_cold_tier(resources: list[StackResource], config: Mapping[str, Any]) -> Iterator[tuple[StackResource, Finding]]:
    found = targets(model(resources))
    policies = _of_type(resources, MANAGEMENT_POLICY)
    for policy in policies:
        rule_list = policy.props.get("policy", {}).get("rules") if isinstance(policy.props.get("policy"), dict) else None
        if not isinstance(rule_list, list) or has_unknown(rule_list):
            continue
        for target in (t for t in found if _refers_to_account(policy, "accountName", t)):
            container = target.ref.container if target.ref else None
            for finding in rules.cold_tier_findings(rule_list, container, _cold_after(policy, resources, config)):
                yield policy, finding
    # A recordings account with no management policy has no move either (as S3 and GCS report a bucket with no rules).
    for account in _recordings_accounts(resources):
        declared = _declared_cold(account, resources, config)
        placed = [_policy_on(p, account) for p in policies]
        if has_unknown(declared) or None in placed or any(placed):
            continue
        for finding in rules.cold_tier_findings([], None, _cold_after(account, resources, config)):
            yield account, finding


def _writer_ids(resources: list[StackResource]) -> set[str]:
    """The resource ids of identities a federated credential makes Tavus's writer (known ones)."""
    identities = _of_type(resources, IDENTITY)
    credentials = _of_type(resources, FEDERATED_CREDENTIAL)
    return {i.props["id"] for i in identities if isinstance(i.props.get("id"), str)
            for c in credentials if i.urn in c.deps.get("resourceName", ()) or c.props.get("resourceName") == i.props.get("name")}


@once
def check_encryption_key(resources: list[StackResource], config: Mapping[str, Any]) -> Iterator[tuple[StackResource, Finding]]:
    found = targets(model(resources))
    writers = _writer_ids(resources)
    for account in _of_type(resources, STORAGE_ACCOUNT):
        encryption = account.props.get("encryption")
        if has_unknown(encryption) or not any(account.urn in t.account_urns for t in found):
            continue
        component = _component(account, resources)
        wanted = component.props.get(KEY_URI_KEY) if component is not None else None
        if has_unknown(wanted):
            continue
        used = rules.encryption_identity(encryption)
        writer = next((w for w in writers if used and w.lower() == used.lower()), None)
        # The component's own encryption identity, once its id is known (a first preview: judged after the deploy).
        own = component.props.get("encryption_identity_id") if component is not None else None
        for finding in rules.encryption_key_findings(encryption, wanted if isinstance(wanted, str) else None, writer,
                                                     config.get(REQUIRE_KEY_KEY) is True,
                                                     own_identity=own if isinstance(own, str) and own else None):
            yield account, finding


# --- that recordings cannot be changed (WORM), and that every read and write is logged


def _days(value: Any) -> Optional[int]:
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0 else None


def _recordings_containers(resources: list[StackResource]) -> list[StackResource]:
    """The containers Tavus writes to: a kit component's, and those a Tavus identity's grants name."""
    containers = _of_type(resources, CONTAINER)
    components = {c.urn for c in _of_type(resources, COMPONENT)}
    urns = {u for t in targets(model(resources)) for u in t.urns}
    return [c for c in containers if c.parent in components or c.urn in urns]


def _on_container(policy: StackResource, container: StackResource) -> Optional[bool]:
    """Whether an immutability policy is on `container`, by its container and account names; a dependency (on the
    container, on the container's account) stands in for a name only while that name is not known: a known name that
    differs is another container, whatever the policy depends on. None while neither can tell."""
    name, account = policy.props.get("containerName"), policy.props.get("accountName")
    wanted, own = _lower(container.props.get("containerName") or container.props.get("name")), _lower(container.props.get("accountName"))
    if isinstance(name, str):
        if wanted is None:
            return True if container.urn in policy.deps.get("containerName", ()) else None
        if name.lower() != wanted:
            return False
    elif name is not UNKNOWN:
        return False
    elif container.urn not in policy.deps.get("containerName", ()):
        return None
    if isinstance(account, str) and own is not None:
        return account.lower() == own
    if isinstance(account, str) or account is UNKNOWN:
        by_account = set(policy.deps.get("accountName", ())) & set(container.deps.get("accountName", ()))
        return True if by_account else None
    return False


@once
def check_immutability(resources: list[StackResource], config: Mapping[str, Any]) -> Iterator[tuple[StackResource, Finding]]:
    """Each recordings container whose component (or the pack's config) asks for immutableDays has such a policy.
    Whether a compliance policy is locked only verify can tell: azure-native cannot lock one, so the pack never
    sees Locked and judges the declared mode instead."""
    policies = _of_type(resources, IMMUTABILITY_POLICY)
    for container in _recordings_containers(resources):
        component = _component(container, resources)
        props = component.props if component is not None else {}
        # The stack's own, else (a component that declares none, as aws_rules does) the pack's.
        declared, mode = props.get(IMMUTABLE_DAYS_KEY), props.get(IMMUTABLE_MODE_KEY)
        if has_unknown(declared) or has_unknown(mode) or (days := _days(declared) or _days(config.get(IMMUTABLE_DAYS_KEY))) is None:
            continue
        for finding in rules.mode_findings(mode if isinstance(mode, str) else None, config.get(IMMUTABLE_MODE_KEY), days):
            yield component or container, finding
        found = [(p, _on_container(p, container)) for p in policies]
        if any(on is None for _, on in found):
            continue  # a policy not placed yet: judged once its names are known
        mine = [p for p, on in found if on]
        if not mine:
            for finding in rules.immutability_findings(None, days, mode if isinstance(mode, str) else None):
                yield container, finding
        for policy in mine:
            judged = {k: policy.props.get(k) for k in ("immutabilityPeriodSinceCreationInDays", "allowProtectedAppendWrites",
                                                        "allowProtectedAppendWritesAll")}
            if has_unknown(judged):
                continue
            for finding in rules.immutability_findings(judged, days, mode if isinstance(mode, str) else None):
                yield policy, finding


_BLOB_SERVICE = "/blobservices/default"


def _diagnostic(setting: StackResource) -> tuple[Any, Any]:
    """A diagnostic setting's target and its properties as ARM names them."""
    if setting.type != CLASSIC_DIAGNOSTIC_SETTING:
        return setting.props.get("resourceUri"), setting.props
    logs = [{"category": log.get("category"), "categoryGroup": log.get("categoryGroup"), "enabled": True}
            for log in setting.props.get("enabledLogs") or [] if isinstance(log, dict)]
    return setting.props.get("targetResourceId"), {
        "logs": logs, "storageAccountId": setting.props.get("storageAccountId"),
        "workspaceId": setting.props.get("logAnalyticsWorkspaceId"),
        "eventHubAuthorizationRuleId": setting.props.get("eventhubAuthorizationRuleId"),
        "marketplacePartnerId": setting.props.get("partnerSolutionId")}


def _on_blob_service(setting: StackResource, account: StackResource) -> Optional[bool]:
    """Whether a setting targets the account's blob service (the account itself logs no blob reads): by value, or
    by dependency on the account while the value is not known; None while neither can tell."""
    target, _ = _diagnostic(setting)
    prop = "targetResourceId" if setting.type == CLASSIC_DIAGNOSTIC_SETTING else "resourceUri"
    if isinstance(target, str):
        key = target.strip().lower().rstrip("/")
        if not key.endswith(_BLOB_SERVICE):
            return False
        named = account_name(key[: -len(_BLOB_SERVICE)])
        return named is not None and named == _lower(account.props.get("name"))
    if target is UNKNOWN:
        return True if account.urn in setting.deps.get(prop, ()) else None
    return False


def _recordings_accounts(resources: list[StackResource]) -> list[StackResource]:
    """The accounts of the recordings containers, by dependency or by name (not every account of a component: the kit's
    audit log account is one)."""
    containers = _recordings_containers(resources)
    urns = {u for c in containers for u in c.deps.get("accountName", ())} | {u for t in targets(model(resources)) for u in t.account_urns}
    names = {n for c in containers if (n := _lower(c.props.get("accountName")))}
    return [a for a in _of_type(resources, STORAGE_ACCOUNT) if a.urn in urns or _lower(a.props.get("name")) in names]


STACK_LOG_ACCOUNT = "<the stack's log account>"


def _to_log_account(setting: StackResource, logs: list[StackResource]) -> Optional[bool]:
    """Whether a setting sends to one of the stack's own log accounts (its storage accounts but the recordings'): by
    name (unique across Azure), or by dependency while the id is not known; None while neither can tell."""
    value = setting.props.get("storageAccountId")
    if isinstance(value, str):
        names = [a.props.get("name") for a in logs]
        named = account_name(value)
        if named is not None and named in {_lower(n) for n in names}:
            return True
        return None if named is not None and any(n is UNKNOWN for n in names) else False
    if value is UNKNOWN:
        return True if any(a.urn in setting.deps.get("storageAccountId", ()) for a in logs) else None
    return False


@once
def check_diagnostic_logs(resources: list[StackResource], config: Mapping[str, Any]) -> Iterator[tuple[StackResource, Finding]]:
    settings = _of_type(resources, *DIAGNOSTIC_SETTINGS, CLASSIC_DIAGNOSTIC_SETTING)
    recordings = _recordings_accounts(resources)
    logs = [a for a in _of_type(resources, STORAGE_ACCOUNT) if a not in recordings]
    for account in recordings:
        component = _component(account, resources)
        declared = component.props.get(AUDIT_LOGS_KEY) if component is not None else None
        if has_unknown(declared):
            continue
        required = flag(declared) is True or config.get(REQUIRE_AUDIT_KEY) is True
        on = [(s, _on_blob_service(s, account)) for s in settings]
        if not required or any(o is None for _, o in on):
            continue
        judged = [(s, _to_log_account(s, logs)) for s, o in on if o]
        if any(own is None for _, own in judged):
            continue  # a destination not placed yet: judged once it is
        mine: list[rules.DiagnosticSetting] = []
        for s, own in judged:
            properties = dict(_diagnostic(s)[1])
            if own and properties.get("storageAccountId") is UNKNOWN:
                properties["storageAccountId"] = STACK_LOG_ACCOUNT  # bound by dependency: the id is known only after the deploy
            mine.append(rules.DiagnosticSetting(s.name, properties, s))
        if any(has_unknown(s.properties) for s in mine):
            continue
        own_ids = {id(s.properties) for s, (_, own) in zip(mine, judged) if own}

        def elsewhere(properties: Any) -> Optional[str]:
            return None if id(properties) in own_ids else (f"sends them to {rules.setting_destination(properties)}, not a log "
                                                           "account of this stack")

        for finding in rules.diagnostic_findings(mine, True, DIAGNOSTIC_FIX, elsewhere, "to a log account of this stack"):
            yield account, finding


DIAGNOSTIC_FIX = ("send StorageRead, StorageWrite and StorageDelete (or allLogs) of the account's blob service to a storage "
                  "account this stack defines (auditLogs: true makes one): logs kept elsewhere are kept, or not, as its owner decides")


TOKEN_SCHEMA = PolicyConfigSchema(
    properties={
        ISSUER_KEY: {"type": "string", "pattern": "^https://", "description": "Tavus's OIDC issuer (the stack's tavusOidcIssuer): "
                     "every federated credential must name exactly it. Unset: any one https issuer."},
        SUBJECT_KEY: {"type": "string", "minLength": 1, "description": "Tavus's subject claim (tavusOidcSubject). Unset: any one "
                      "exact subject."},
        AUDIENCE_KEY: {"type": "string", "minLength": 1, "description": "The audience of Tavus's tokens (default "
                       "api://AzureADTokenExchange). Unset: any one audience."},
    }
)
RETENTION_SCHEMA = PolicyConfigSchema(
    properties={RETENTION_KEY: {"type": "integer", "minimum": 1, "description": "Days recordings must be kept where no "
                                "AzureBlobRecordingStorage declares its own retentionDays."}}
)
OWN_ACCOUNTS_SCHEMA = PolicyConfigSchema(
    properties={OWN_ACCOUNTS_KEY: {"type": "array", "items": {"type": "string", "minLength": 3},
                                   "description": "Your storage accounts (names or resource ids) outside this stack: the only "
                                   "ones recordings may be replicated to."}}
)

COLD_SCHEMA = PolicyConfigSchema(
    properties={COLD_KEY: {"type": "integer", "minimum": 1, "description": "Days after which recordings must move to Cool where no "
                           "AzureBlobRecordingStorage declares its own coldAfterDays."}}
)
KEY_SCHEMA = PolicyConfigSchema(
    properties={REQUIRE_KEY_KEY: {"type": "boolean", "description": "Every recordings account must be encrypted with a Key Vault "
                                  "key (keyVaultKeyUri), not Microsoft's."}}
)

IMMUTABILITY_SCHEMA = PolicyConfigSchema(
    properties={
        IMMUTABLE_DAYS_KEY: {"type": "integer", "minimum": 1, "description": "Days every recordings container must keep an "
                             "immutability policy where no AzureBlobRecordingStorage declares its own immutableDays."},
        IMMUTABLE_MODE_KEY: {"type": "string", "enum": ["governance", "compliance"], "description": "compliance: every stack "
                             "that keeps recordings immutable must declare immutableMode compliance (verify checks the lock)."},
    }
)
AUDIT_SCHEMA = PolicyConfigSchema(
    properties={REQUIRE_AUDIT_KEY: {"type": "boolean", "description": "Every recordings account must log its blob reads, writes "
                                    "and deletes through a diagnostic setting, even where the stack does not set auditLogs."}}
)

AZURE_POLICIES = [
    resource_policy(rules.FEDERATION, CREDENTIALS, check_credential, TOKEN_SCHEMA),
    stack_policy(rules.FEDERATION, check_federation, TOKEN_SCHEMA, also_resource_policy=True),
    stack_policy(rules.OPERATORS, check_operators),
    stack_policy(rules.ROLE_ASSIGNMENTS, check_grants),
    stack_policy(rules.LEAST_PRIVILEGE, check_grants),
    stack_policy(rules.CONTAINER_ACCESS, check_access),
    resource_policy(rules.CONTAINER_PUBLIC, [CONTAINER], check_container_public),
    resource_policy(rules.PUBLIC_ACCESS, [STORAGE_ACCOUNT], check_public_access),
    resource_policy(rules.SHARED_KEY, [STORAGE_ACCOUNT], check_shared_key),
    resource_policy(rules.HTTPS_ONLY, [STORAGE_ACCOUNT], check_https_only),
    resource_policy(rules.TLS, [STORAGE_ACCOUNT], check_min_tls),
    stack_policy(rules.LIFECYCLE, check_lifecycle, RETENTION_SCHEMA),
    stack_policy(rules.REPLICATION, check_replication, OWN_ACCOUNTS_SCHEMA),
    stack_policy(rules.COLD_TIER, check_cold_tier, COLD_SCHEMA),
    stack_policy(rules.ENCRYPTION_KEY, check_encryption_key, KEY_SCHEMA),
    stack_policy(rules.IMMUTABILITY, check_immutability, IMMUTABILITY_SCHEMA),
    stack_policy(rules.DIAGNOSTIC_LOGS, check_diagnostic_logs, AUDIT_SCHEMA),
]

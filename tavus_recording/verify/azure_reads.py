"""What `verify` reads from Azure Resource Manager, and nothing else: SDK calls that never raise.

Each read returns its answer as plain records for the shared rules (`tavus_recording.rules.azure`),
or an `Unreadable` (denied, unreachable, refused credential) or a `NotFound`. The caller turns an
`Unreadable` into unknown checks, never a pass.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from enum import Enum
from functools import partial
from typing import Any, Callable, Optional, Sequence, TypeVar, Union

from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceResponseError,
    map_error,
)
from azure.core.rest import HttpRequest
from azure.mgmt.core.exceptions import ARMErrorFormat
from azure.mgmt.authorization import AuthorizationManagementClient
from azure.mgmt.authorization.v2022_04_01.operations import RoleAssignmentsOperations
from azure.mgmt.msi import ManagedServiceIdentityClient
from azure.mgmt.msi.v2022_01_31_preview.operations import UserAssignedIdentitiesOperations as AssociatedOperations
from azure.mgmt.storage import StorageManagementClient

from tavus_recording.rules.azure import Assignment, Attached, Credential, DiagnosticSetting, Replication
from tavus_recording.rules.azure_rbac import Role, role_from_permissions
from tavus_recording.verify.together import together

# The ARM actions verify reads with. The built-in Reader role (acdd72a7-3385-48ef-bd42-f606fba81ae7)
# grants `*/read`, which covers all of them.
IDENTITY_READ = "Microsoft.ManagedIdentity/userAssignedIdentities/read"
FEDERATED_CREDENTIALS_READ = "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/read"
ROLE_ASSIGNMENTS_READ = "Microsoft.Authorization/roleAssignments/read"
ROLE_DEFINITIONS_READ = "Microsoft.Authorization/roleDefinitions/read"
ACCOUNT_READ = "Microsoft.Storage/storageAccounts/read"
BLOB_SERVICE_READ = "Microsoft.Storage/storageAccounts/blobServices/read"
CONTAINER_READ = "Microsoft.Storage/storageAccounts/blobServices/containers/read"
MANAGEMENT_POLICY_READ = "Microsoft.Storage/storageAccounts/managementPolicies/read"
OBJECT_REPLICATION_READ = "Microsoft.Storage/storageAccounts/objectReplicationPolicies/read"
IMMUTABILITY_POLICY_READ = "Microsoft.Storage/storageAccounts/blobServices/containers/immutabilityPolicies/read"
DIAGNOSTIC_SETTINGS_READ = "Microsoft.Insights/diagnosticSettings/read"
READ_PERMISSIONS: tuple[str, ...] = (
    IDENTITY_READ,
    FEDERATED_CREDENTIALS_READ,
    ROLE_ASSIGNMENTS_READ,
    ROLE_DEFINITIONS_READ,
    ACCOUNT_READ,
    BLOB_SERVICE_READ,
    CONTAINER_READ,
    MANAGEMENT_POLICY_READ,
    OBJECT_REPLICATION_READ,
    IMMUTABILITY_POLICY_READ,
    DIAGNOSTIC_SETTINGS_READ,
)
# Beyond Reader: the resources an identity is attached to are listed by a POST action, which `*/read` does
# not cover (Azure's resource provider operations, Microsoft.ManagedIdentity).
ASSOCIATED_RESOURCES_LIST = "Microsoft.ManagedIdentity/userAssignedIdentities/listAssociatedResources/action"
BEYOND_READER_PERMISSIONS: tuple[str, ...] = (ASSOCIATED_RESOURCES_LIST,)
# UserAssignedIdentities_ListAssociatedResources is published in 2021-09-30-preview and 2022-01-31-preview only
# (azure-rest-api-specs, specification/msi/resource-manager/.../preview/2022-01-31-preview/ManagedIdentity.json).
ASSOCIATED_RESOURCES_API_VERSION = "2022-01-31-preview"
# azure-mgmt-monitor is not a dependency: the blob service's diagnostic settings are read by a plain GET through the
# storage client, at the api-version azure-native's DiagnosticSetting uses (azure-rest-api-specs, specification/monitor/
# resource-manager/Microsoft.Insights/preview/2021-05-01-preview/diagnosticsSettings_API.json, DiagnosticSettings_List).
DIAGNOSTIC_SETTINGS_API_VERSION = "2021-05-01-preview"
READER_ROLE = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
MAX_MESSAGE = 300
LOGIN_FIX = (
    "sign in with `az login` (or set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET, "
    "or run where a managed identity is available), then run verify again"
)
_DENIED_ACTION = re.compile(r"perform action '([^']+)'")

T = TypeVar("T")


@dataclass(frozen=True)
class Unreadable:
    """A read that could not be made: denied, unreachable, or no token. The checks it feeds are unknown."""

    reason: str
    fix: str = ""


@dataclass(frozen=True)
class NotFound:
    """The resource does not exist (HTTP 404); `message` and `code` are ARM's."""

    message: str
    code: str = ""


Read = Union[T, Unreadable, NotFound]


def short(message: object) -> str:
    text = " ".join(str(message).split())
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 1] + "…"


def text(value: Any) -> Optional[str]:
    """An SDK enum or string as its wire value."""
    if value is None:
        return None
    return str(value.value) if isinstance(value, Enum) else str(value)


def _error_code(exc: HttpResponseError) -> Optional[str]:
    error = exc.error
    return error.code if error is not None and error.code else None


def _error_text(exc: HttpResponseError) -> str:
    error = exc.error
    return str(error.message) if error is not None and error.message else str(exc.message)


@dataclass(frozen=True)
class Outcome:
    """One read's own answer, before what the reads made before it decide (an endpoint found unreachable)."""

    result: Any
    answered: bool = False
    """ARM answered (an error is an answer)."""
    down: Optional[Unreadable] = None
    """The endpoint did not answer: every later read is this."""
    made: bool = True
    """False: issued ahead but not made, the endpoint having already failed to answer in this run."""


class Reads:
    """Runs each read, turning SDK errors into `NotFound` or `Unreadable`; never raises."""

    def __init__(self, endpoint: str, reader_fix: str) -> None:
        self.endpoint = endpoint
        self.reader_fix = reader_fix
        # Once the endpoint is unreachable, later reads report it at once instead of waiting again.
        self.down: Optional[Unreadable] = None
        # Whether ARM answered anything at all (an error is an answer): if not, verify cannot run.
        self.answered = False
        # The endpoint as a round of reads issued ahead found it: a read issued after that is not made.
        self.seen_down: Optional[Unreadable] = None

    def run(self, action: str, call: Callable[[], T], denied_fix: Optional[str] = None) -> Read[T]:
        """`call`'s answer; a denial's fix is `denied_fix` (an action Reader lacks), else the Reader one."""
        if self.down is not None:
            return self.down
        return self.settle(self.attempt(action, call, denied_fix))

    def settle(self, outcome: Outcome) -> Any:
        """`outcome` taken as if its read were made now (after the endpoint was found unreachable, it is that)."""
        if self.down is not None:
            return self.down
        if outcome.down is not None:
            self.down = outcome.down
        if outcome.answered:
            self.answered = True
        return outcome.result

    def ahead(self, action: str, call: Callable[[], T], denied_fix: Optional[str] = None) -> Outcome:
        """A read of a round, made on its own thread ahead of its turn, unless the endpoint already failed to answer."""
        known = self.down or self.seen_down
        if known is not None:
            return Outcome(known, made=False)
        outcome = self.attempt(action, call, denied_fix)
        if outcome.down is not None and self.seen_down is None:
            self.seen_down = outcome.down
        return outcome

    def attempt(self, action: str, call: Callable[[], T], denied_fix: Optional[str] = None) -> Outcome:
        """The read itself: its answer, with nothing recorded."""
        try:
            result = call()
        except ResourceNotFoundError as exc:
            return Outcome(NotFound(short(_error_text(exc)), _error_code(exc) or ""), answered=True)
        except ClientAuthenticationError as exc:
            return Outcome(Unreadable(f"{action}: Azure refused the credential ({short(_error_text(exc))})", LOGIN_FIX), answered=True)
        except HttpResponseError as exc:
            return Outcome(self._http_error(action, exc, denied_fix), answered=True)
        except (ServiceRequestError, ServiceResponseError) as exc:
            down = Unreadable(
                f"{self.endpoint} unreachable ({short(exc.message)})",
                f"check that {self.endpoint} is reachable from here (network, proxy, DNS), then run verify again",
            )
            return Outcome(down, down=down)
        except Exception as exc:  # noqa: BLE001 (no SDK error may end verify)
            return Outcome(Unreadable(f"{action} failed: {type(exc).__name__}: {short(exc)}"))
        return Outcome(result, answered=True)

    def _http_error(self, action: str, exc: HttpResponseError, denied_fix: Optional[str] = None) -> Unreadable:
        if exc.status_code == 403:
            match = _DENIED_ACTION.search(_error_text(exc))
            return Unreadable(f"{match.group(1) if match else action} denied ({_error_code(exc) or 'HTTP 403'})",
                              denied_fix or self.reader_fix)
        return Unreadable(f"{action} failed: HTTP {exc.status_code} {_error_code(exc) or ''} {short(_error_text(exc))}".strip())


@dataclass(frozen=True)
class IdentityFacts:
    client_id: Optional[str]
    tenant_id: Optional[str]
    principal_id: Optional[str]


@dataclass(frozen=True)
class AccountSettings:
    minimum_tls_version: Optional[str]
    https_only: Optional[bool]
    allow_blob_public_access: Optional[bool]
    allow_shared_key_access: Optional[bool]
    public_network_access: Optional[str]
    # networkAcls.defaultAction: what the firewall does with addresses no rule names.
    default_action: Optional[str]
    # The account's `encryption` (the SDK's as_dict: key_source, key_vault_properties, encryption_identity), or None.
    encryption: Any = None


@dataclass(frozen=True)
class ContainerFacts:
    public_access: Optional[str]
    version_worm: bool = False
    """immutableStorageWithVersioning.enabled: each blob version may carry its own immutability policy, which takes
    precedence over the container's (Azure Storage, "Version-level immutability policies")."""


@dataclass(frozen=True)
class ImmutabilityFacts:
    properties: dict[str, Any]
    """ARM's properties: immutabilityPeriodSinceCreationInDays, state, allowProtectedAppendWrites(All)."""
    etag: Optional[str]
    """What the lock needs in If-Match."""


def _role_assignments(authorization: AuthorizationManagementClient) -> RoleAssignmentsOperations:
    """The client's role assignment operations, at its default api-version, 2022-04-01."""
    # The multi-API client builds the operations class of the api-version it was given (its type is
    # the union of them all), and those before 2020-10-01-preview have no list_for_subscription.
    operations = authorization.role_assignments
    if not isinstance(operations, RoleAssignmentsOperations):
        raise TypeError(f"expected the 2022-04-01 role assignment operations, got {type(operations).__module__}")
    return operations


def _associated(msi: ManagedServiceIdentityClient) -> AssociatedOperations:
    """The identity operations at ASSOCIATED_RESOURCES_API_VERSION, the one that lists associated resources."""
    operations = msi.user_assigned_identities
    if not isinstance(operations, AssociatedOperations):
        raise TypeError(f"expected the {ASSOCIATED_RESOURCES_API_VERSION} identity operations, got {type(operations).__module__}")
    return operations


def _assignment(found: Any) -> Assignment:
    return Assignment(found.role_definition_id or "", found.scope or "", found.principal_id or "", found.name or "", found.id or "")


# A read's key while it waits for its turn: the Arm method and its arguments.
Key = tuple[str, ...]


@dataclass
class Arm:
    """The management clients verify reads through, and the reads' runner.

    `issue` makes a round of reads at once, ahead of their turn (each client is shared by the round's threads); each
    answer waits until verify asks for that read, one after another in its own order, and is taken then as if just
    made: after the endpoint was found unreachable, it is that, exactly as reading one after another would give."""

    reads: Reads
    msi: ManagedServiceIdentityClient
    authorization: AuthorizationManagementClient
    storage: StorageManagementClient
    msi_associated: Optional[ManagedServiceIdentityClient] = None
    """A client at ASSOCIATED_RESOURCES_API_VERSION."""
    early: dict[Key, list[Outcome]] = field(default_factory=dict)
    """Answers issued ahead, waiting for verify to ask (a read asked twice waits twice)."""
    sink: Optional[list[tuple[Key, Outcome]]] = field(default=None, repr=False)
    """Set on the copy one thread of a round reads through: where its answer goes instead."""

    def issue(self, reads: Sequence[Callable[["Arm"], Any]]) -> list[Any]:
        """Make `reads` at once (none may need another's answer), in the order verify will ask for them; their answers
        as made, for deciding the next round (verify's own checks take them when they ask, as said above)."""
        views = [replace(self, sink=[]) for _ in reads]
        answers = together([partial(read, view) for read, view in zip(reads, views)])
        for view in views:
            for key, outcome in view.sink or []:
                self.early.setdefault(key, []).append(outcome)
        return answers

    def _run(self, key: Key, action: str, call: Callable[[], T], denied_fix: Optional[str] = None) -> Read[T]:
        if self.sink is not None:
            outcome = self.reads.ahead(action, call, denied_fix)
            self.sink.append((key, outcome))
            return outcome.result
        waiting = self.early.get(key)
        outcome = waiting.pop(0) if waiting else None
        if outcome is not None and outcome.made:
            return self.reads.settle(outcome)
        # Not issued, or not made then: read it now (at once the endpoint's failure, if it already failed).
        return self.reads.run(action, call, denied_fix)

    def identity(self, group: str, name: str) -> Read[IdentityFacts]:
        def call() -> IdentityFacts:
            found = self.msi.user_assigned_identities.get(group, name)
            return IdentityFacts(found.client_id, found.tenant_id, found.principal_id)

        return self._run(("identity", group, name), IDENTITY_READ, call)

    def credentials(self, group: str, name: str) -> Read[list[Credential]]:
        # The SDK's api-version predates claimsMatchingExpression: a flexible credential reads as one
        # without a subject, which the rules never pass either.
        return self._run(("credentials", group, name), FEDERATED_CREDENTIALS_READ, lambda: [
            Credential(c.name or "", c.issuer, c.subject, list(c.audiences) if c.audiences is not None else None, ref=c.id)
            for c in self.msi.federated_identity_credentials.list(group, name)
        ])

    def assignments_of(self, principal_id: str) -> Read[list[Assignment]]:
        """The principal's assignments in the subscription, at, above and below it, and those of the groups
        it is a member of: ARM's `assignedTo('{objectId}')` filter is transitive over group membership, where
        `principalId eq` lists direct assignments only (Azure RBAC docs, "List Azure role assignments using
        the REST API")."""
        return self._run(("assignments_of", principal_id), ROLE_ASSIGNMENTS_READ, lambda: [
            _assignment(a) for a in _role_assignments(self.authorization).list_for_subscription(filter=f"assignedTo('{principal_id}')")
        ])

    def associated(self, group: str, name: str, denied_fix: str) -> Read[list[Attached]]:
        """The resources the identity is attached to (UserAssignedIdentities_ListAssociatedResources, a POST)."""
        def call() -> list[Attached]:
            if self.msi_associated is None:
                raise RuntimeError("no client for the associated resources")
            return [Attached(r.name or r.id or "", r.type or "", r.id or "")
                    for r in _associated(self.msi_associated).list_associated_resources(group, name)]

        return self._run(("associated", group, name), ASSOCIATED_RESOURCES_LIST, call, denied_fix)

    def assignments_over(self, scope: str) -> Read[list[Assignment]]:
        """Every principal's assignments at, above and below `scope`."""
        return self._run(("assignments_over", scope), ROLE_ASSIGNMENTS_READ,
                         lambda: [_assignment(a) for a in _role_assignments(self.authorization).list_for_scope(scope)])

    def role(self, role_id: str) -> Union[Role, Unreadable, NotFound]:
        def call() -> Role:
            found = self.authorization.role_definitions.get_by_id(role_id)
            # Older api-versions' Permission has no data actions: read them by name (2022-04-01 has them).
            permissions = [{"actions": p.actions or [], "notActions": p.not_actions or [],
                            "dataActions": getattr(p, "data_actions", None) or [], "notDataActions": getattr(p, "not_data_actions", None) or []}
                           for p in found.permissions or []]
            return role_from_permissions(found.role_name or role_id, permissions)

        return self._run(("role", role_id), ROLE_DEFINITIONS_READ, call)

    def account(self, group: str, name: str) -> Read[AccountSettings]:
        def call() -> AccountSettings:
            found = self.storage.storage_accounts.get_properties(group, name)
            # Flattened attributes: the same names on every SDK generation (msrest and typespec models).
            return AccountSettings(
                text(found.minimum_tls_version),
                found.enable_https_traffic_only,
                found.allow_blob_public_access,
                found.allow_shared_key_access,
                text(found.public_network_access),
                text(found.network_rule_set.default_action) if found.network_rule_set else None,
                found.encryption.as_dict() if found.encryption is not None else None,
            )

        return self._run(("account", group, name), ACCOUNT_READ, call)

    def versioning(self, group: str, name: str) -> Read[Optional[bool]]:
        return self._run(("versioning", group, name), BLOB_SERVICE_READ, lambda: self.storage.blob_services.get_service_properties(group, name).is_versioning_enabled)

    def container(self, group: str, account: str, container: str) -> Read[ContainerFacts]:
        def call() -> ContainerFacts:
            found = self.storage.blob_containers.get(group, account, container)
            versions = getattr(found, "immutable_storage_with_versioning", None)
            return ContainerFacts(text(found.public_access), getattr(versions, "enabled", None) is True)

        return self._run(("container", group, account, container), CONTAINER_READ, call)

    def lifecycle_rules(self, group: str, account: str) -> Read[list[Any]]:
        """The account's management policy rules, as ARM's JSON."""

        def call() -> list[Any]:
            found = self.storage.management_policies.get(group, account, "default")
            rules = found.as_dict().get("properties", {}).get("policy", {}).get("rules")
            return rules if isinstance(rules, list) else []

        return self._run(("lifecycle_rules", group, account), MANAGEMENT_POLICY_READ, call)

    def replication(self, group: str, account: str) -> Read[list[Replication]]:
        return self._run(("replication", group, account), OBJECT_REPLICATION_READ, lambda: [
            Replication(p.source_account, p.destination_account, [r.as_dict() for r in p.rules or []], p.policy_id or p.name or "", p.id)
            for p in self.storage.object_replication_policies.list(group, account)
        ])

    def immutability(self, group: str, account: str, container: str) -> Read[Optional[ImmutabilityFacts]]:
        """The container's immutability policy (ARM's `properties` and etag); None when it has none: ARM answers a
        container without one with a period of 0 days in state Deleted, which the rules read as none, and an api-version
        that answers 404 means the same."""
        def call() -> Optional[ImmutabilityFacts]:
            try:
                found = self.storage.blob_containers.get_immutability_policy(group, account, container)
            except ResourceNotFoundError as exc:
                if _error_code(exc) in ("ContainerNotFound", "ResourceNotFound", "ParentResourceNotFound"):
                    raise
                return None
            properties = found.as_dict().get("properties")
            return ImmutabilityFacts(properties if isinstance(properties, dict) else {}, found.etag)

        return self._run(("immutability", group, account, container), IMMUTABILITY_POLICY_READ, call)

    def diagnostic_settings(self, resource_id: str) -> Read[list[DiagnosticSetting]]:
        """The diagnostic settings of a resource (the account's blob service), as ARM's JSON."""
        def call() -> list[DiagnosticSetting]:
            url = f"{resource_id}/providers/Microsoft.Insights/diagnosticSettings"
            request = HttpRequest("GET", url, params={"api-version": DIAGNOSTIC_SETTINGS_API_VERSION})
            response = self.storage.send_request(request)
            if response.status_code != 200:
                map_error(response.status_code, response, {401: ClientAuthenticationError, 404: ResourceNotFoundError})
                raise HttpResponseError(response=response, error_format=ARMErrorFormat)
            body = response.json()
            values = body.get("value") if isinstance(body, dict) else None
            return [DiagnosticSetting(str(v.get("name") or ""), v.get("properties"), v.get("id"))
                    for v in values or [] if isinstance(v, dict)]

        return self._run(("diagnostic_settings", resource_id), DIAGNOSTIC_SETTINGS_READ, call)

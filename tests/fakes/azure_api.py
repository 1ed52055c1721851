"""A local stand-in for the Azure Resource Manager reads `verify` makes, answering as ARM does.

Serves, over TLS (Azure's SDK sends bearer tokens over https only), the GETs of the managed identity,
its federated credentials, role assignments listed at any scope (at, above and below it, optionally
for one principal: `principalId eq`, or `assignedTo()`, which also lists the assignments of the groups it
is in), role definitions by id, the storage account, its blob service, its lifecycle management policy,
its object replication policies, a container and its immutability policy, the blob service's diagnostic
settings (Microsoft.Insights), and the POST that lists the resources an identity is
attached to, at the api-versions the installed SDK sends, from an `ArmState`.
Bodies are shaped like ARM's: `id`, `name`, `type`, `properties: {...}`, lists as `{"value": [...]}`
with no `nextLink`, errors as `{"error": {"code", "message"}}`. Any path can be made to answer 403
AuthorizationFailed.

Listens on 127.0.0.1 only, answers a bounded number of requests, and stops when its context manager
ends or after LIFETIME_SECONDS, whichever comes first.
"""

from __future__ import annotations

import copy
import re
import ssl
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any, Iterator, Optional, Sequence
from urllib.parse import parse_qs, unquote, urlsplit

import trustme
from azure.core.credentials import AccessToken, AccessTokenInfo, TokenRequestOptions
from fakes.loopback import MAX_REQUESTS, SOCKET_TIMEOUT_SECONDS, TlsServer, send_json, serving


# The api-version each resource provider is served at: what the installed SDKs send by default
# (azure-mgmt-msi 7.1, azure-mgmt-authorization 4.0, azure-mgmt-storage 25.3). Others get ARM's error.
API_VERSIONS = {
    "microsoft.managedidentity": "2024-11-30",
    "microsoft.authorization": "2022-04-01",
    "microsoft.storage": "2026-09-01",
    # Read by a plain GET through the storage client (verify has no monitor SDK), at azure-native's api-version.
    "microsoft.insights": "2021-05-01-preview",
}
# Actions (POST) served at their own api-version: UserAssignedIdentities_ListAssociatedResources exists only in
# 2021-09-30-preview and 2022-01-31-preview (azure-rest-api-specs, specification/msi/resource-manager).
ACTION_API_VERSIONS = {"listassociatedresources": "2022-01-31-preview"}

IDENTITY_TYPE = "Microsoft.ManagedIdentity/userAssignedIdentities"
FEDERATED_CREDENTIAL_TYPE = "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials"
ROLE_ASSIGNMENT_TYPE = "Microsoft.Authorization/roleAssignments"
ACCOUNT_TYPE = "Microsoft.Storage/storageAccounts"
BLOB_SERVICE_TYPE = "Microsoft.Storage/storageAccounts/blobServices"
CONTAINER_TYPE = "Microsoft.Storage/storageAccounts/blobServices/containers"
ROLE_DEFINITION_TYPE = "Microsoft.Authorization/roleDefinitions"
MANAGEMENT_POLICY_TYPE = "Microsoft.Storage/storageAccounts/managementPolicies"
OBJECT_REPLICATION_TYPE = "Microsoft.Storage/storageAccounts/objectReplicationPolicies"
IMMUTABILITY_POLICY_TYPE = "Microsoft.Storage/storageAccounts/blobServices/containers/immutabilityPolicies"
DIAGNOSTIC_SETTING_TYPE = "Microsoft.Insights/diagnosticSettings"

TIMESTAMP = "2026-01-15T10:00:00.0000000Z"
CALLER_OBJECT_ID = "0f5e3a2d-7c1b-4e9a-8d6f-2b4c6e8a0d1f"


# --- ARM-shaped resources


def _system_data() -> dict[str, Any]:
    return {
        "createdBy": "deployer@example.com",
        "createdByType": "User",
        "createdAt": TIMESTAMP,
        "lastModifiedBy": "deployer@example.com",
        "lastModifiedByType": "User",
        "lastModifiedAt": TIMESTAMP,
    }


def _present(values: dict[str, Any]) -> dict[str, Any]:
    """ARM leaves unset properties out of its answers rather than sending null."""
    return {key: value for key, value in values.items() if value is not None}


def identity(id_: str, *, client_id: str, tenant_id: str, principal_id: str, location: str) -> dict[str, Any]:
    return {
        "id": id_,
        "name": id_.rsplit("/", 1)[-1],
        "type": IDENTITY_TYPE,
        "location": location,
        "tags": {},
        "systemData": _system_data(),
        "properties": {"isolationScope": "None", "tenantId": tenant_id, "principalId": principal_id, "clientId": client_id},
    }


def federated_credential(identity_id: str, name: str, *, issuer: str, subject: str, audiences: list[str]) -> dict[str, Any]:
    return {
        "id": f"{identity_id}/federatedIdentityCredentials/{name}",
        "name": name,
        "type": FEDERATED_CREDENTIAL_TYPE,
        "systemData": _system_data(),
        "properties": {"issuer": issuer, "subject": subject, "audiences": list(audiences)},
    }


def role_assignment(
    *,
    scope: str,
    role_definition_id: str,
    principal_id: str,
    principal_type: str = "ServicePrincipal",
    description: Optional[str] = None,
) -> dict[str, Any]:
    # Assignment names are GUIDs; a stable one keeps the fake's answers reproducible.
    name = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{scope}|{role_definition_id}|{principal_id}"))
    return {
        "id": f"{scope}/providers/Microsoft.Authorization/roleAssignments/{name}",
        "name": name,
        "type": ROLE_ASSIGNMENT_TYPE,
        "properties": _present(
            {
                "roleDefinitionId": role_definition_id,
                "principalId": principal_id,
                "principalType": principal_type,
                "scope": scope,
                "condition": None,
                "conditionVersion": None,
                "createdOn": TIMESTAMP,
                "updatedOn": TIMESTAMP,
                "createdBy": "0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d",
                "updatedBy": "0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d",
                "delegatedManagedIdentityResourceId": None,
                "description": description,
            }
        ),
    }


def storage_account(id_: str, *, location: str, sku: str, kind: str, properties: dict[str, Any]) -> dict[str, Any]:
    """`properties` are ARM's names (minimumTlsVersion, supportsHttpsTrafficOnly, ...); None leaves one out."""
    name = id_.rsplit("/", 1)[-1]
    endpoints = {
        service: f"https://{name}.{service}.core.windows.net/" for service in ("blob", "queue", "table", "file", "dfs", "web")
    }
    return {
        "id": id_,
        "name": name,
        "type": ACCOUNT_TYPE,
        "location": location,
        "tags": {},
        "sku": {"name": sku, "tier": "Premium" if sku.startswith("Premium") else "Standard"},
        "kind": kind,
        "systemData": _system_data(),
        "properties": _present(
            {
                "provisioningState": "Succeeded",
                "primaryEndpoints": endpoints,
                "primaryLocation": location,
                "statusOfPrimary": "available",
                "creationTime": TIMESTAMP,
                "accessTier": "Hot",
                "encryption": {
                    "services": {
                        "blob": {"enabled": True, "keyType": "Account", "lastEnabledTime": TIMESTAMP},
                        "file": {"enabled": True, "keyType": "Account", "lastEnabledTime": TIMESTAMP},
                    },
                    "keySource": "Microsoft.Storage",
                },
                "networkAcls": {"bypass": "AzureServices", "virtualNetworkRules": [], "ipRules": [], "defaultAction": "Allow"},
                "keyCreationTime": {"key1": TIMESTAMP, "key2": TIMESTAMP},
                **properties,
            }
        ),
    }


def blob_service(account_id: str, *, sku: str, properties: dict[str, Any]) -> dict[str, Any]:
    """`properties` are ARM's names (isVersioningEnabled, deleteRetentionPolicy, ...); None leaves one out."""
    return {
        "id": f"{account_id}/blobServices/default",
        "name": "default",
        "type": BLOB_SERVICE_TYPE,
        "sku": {"name": sku, "tier": "Premium" if sku.startswith("Premium") else "Standard"},
        "properties": _present({"cors": {"corsRules": []}, **properties}),
    }


def container(account_id: str, name: str, *, public_access: Optional[str], version_worm: Optional[bool] = None) -> dict[str, Any]:
    """`version_worm`: immutableStorageWithVersioning (ImmutableStorageWithVersioning: enabled, timeStamp,
    migrationState), which ARM leaves out of a container that never had it."""
    versions = None if version_worm is None else {"enabled": version_worm, "timeStamp": TIMESTAMP, "migrationState": "Completed"}
    return {
        "id": f"{account_id}/blobServices/default/containers/{name}",
        "name": name,
        "type": CONTAINER_TYPE,
        "etag": '"0x8DE3A1B2C3D4E5F"',
        "properties": _present(
            {
                "deleted": False,
                "remainingRetentionDays": 0,
                "defaultEncryptionScope": "$account-encryption-key",
                "denyEncryptionScopeOverride": False,
                "publicAccess": public_access,
                "leaseStatus": "Unlocked",
                "leaseState": "Available",
                "lastModifiedTime": TIMESTAMP,
                "hasImmutabilityPolicy": False,
                "hasLegalHold": False,
                "immutableStorageWithVersioning": versions,
            }
        ),
    }


def role_definition(
    subscription: str, guid: str, *, role_name: str, actions: Sequence[str] = (), data_actions: Sequence[str] = (),
    not_actions: Sequence[str] = (), not_data_actions: Sequence[str] = (),
) -> dict[str, Any]:
    """A custom role, as ARM answers GET {scope}/providers/Microsoft.Authorization/roleDefinitions/{guid}."""
    return {
        "id": f"/subscriptions/{subscription}/providers/Microsoft.Authorization/roleDefinitions/{guid}",
        "name": guid,
        "type": ROLE_DEFINITION_TYPE,
        "properties": {
            "roleName": role_name,
            "type": "CustomRole",
            "description": "",
            "assignableScopes": [f"/subscriptions/{subscription}"],
            "permissions": [{"actions": list(actions), "notActions": list(not_actions), "dataActions": list(data_actions),
                             "notDataActions": list(not_data_actions)}],
            "createdOn": TIMESTAMP,
            "updatedOn": TIMESTAMP,
            "createdBy": "0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d",
            "updatedBy": "0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d",
        },
    }


def management_policy(account_id: str, rules: list[dict[str, Any]]) -> dict[str, Any]:
    """The account's lifecycle management policy (there is one, named default)."""
    return {
        "id": f"{account_id}/managementPolicies/default",
        "name": "DefaultManagementPolicy",
        "type": MANAGEMENT_POLICY_TYPE,
        "properties": {"lastModifiedTime": TIMESTAMP, "policy": {"rules": rules}},
    }


def object_replication_policy(account_id: str, policy_id: str, *, source: str, destination: str,
                              rules: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": f"{account_id}/objectReplicationPolicies/{policy_id}",
        "name": policy_id,
        "type": OBJECT_REPLICATION_TYPE,
        "properties": {"policyId": policy_id, "enabledTime": TIMESTAMP, "sourceAccount": source, "destinationAccount": destination,
                       "rules": rules},
    }


def attached_resource(id_: str, identity_ids: Sequence[str], *, type_: str = "Microsoft.Web/sites", location: str = "eastus",
                      principal_id: str = "0d0d0d0d-2222-4333-8444-555566667777",
                      client_id: str = "0e0e0e0e-2222-4333-8444-555566667777") -> dict[str, Any]:
    """A resource (a web app by default) that runs as the user-assigned identities `identity_ids`: ARM's
    `identity` block, keyed by identity resource id."""
    return {
        "id": id_,
        "name": id_.rsplit("/", 1)[-1],
        "type": type_,
        "location": location,
        "identity": {"type": "UserAssigned",
                     "userAssignedIdentities": {i: {"principalId": principal_id, "clientId": client_id} for i in identity_ids}},
        "properties": {},
    }


def associated_resource(resource: dict[str, Any]) -> dict[str, Any]:
    """One entry of listAssociatedResources (AzureResource: id, name, type, resourceGroup, subscriptionId,
    subscriptionDisplayName; the published example gives the type in lower case)."""
    parts = resource["id"].split("/")
    lowered = [p.lower() for p in parts]
    return {
        "id": resource["id"],
        "name": resource["name"],
        "type": resource["type"].lower(),
        "resourceGroup": parts[lowered.index("resourcegroups") + 1],
        "subscriptionId": parts[lowered.index("subscriptions") + 1],
        "subscriptionDisplayName": "Fake Subscription",
    }


def immutability_policy(container_id: str, *, days: int, state: str = "Unlocked", append_writes: Optional[bool] = False,
                        append_writes_all: Optional[bool] = None, etag: str = '"8de3a1b2c3d4e5f"') -> dict[str, Any]:
    """A container's time-based immutability policy (its one policy is named default)."""
    return {
        "id": f"{container_id}/immutabilityPolicies/default",
        "name": "default",
        "type": IMMUTABILITY_POLICY_TYPE,
        "etag": etag,
        "properties": _present({"immutabilityPeriodSinceCreationInDays": days, "state": state,
                                "allowProtectedAppendWrites": append_writes, "allowProtectedAppendWritesAll": append_writes_all}),
    }


def no_immutability_policy(container_id: str) -> dict[str, Any]:
    """What ARM answers the GET of a container's policy when it has none: 200, 0 days, state Deleted (the default state
    pulumi-azure-native's existence check observed: provider/pkg/openapi/defaults/defaultResourcesState.go, PR #2154)."""
    return {
        "id": f"{container_id}/immutabilityPolicies/default",
        "name": "default",
        "type": IMMUTABILITY_POLICY_TYPE,
        "etag": '"0x0"',
        "properties": {"immutabilityPeriodSinceCreationInDays": 0, "state": "Deleted"},
    }


def diagnostic_setting(resource_id: str, name: str, *, logs: list[dict[str, Any]], storage_account_id: Optional[str] = None,
                       workspace_id: Optional[str] = None, marketplace_partner_id: Optional[str] = None) -> dict[str, Any]:
    """A diagnostic setting on `resource_id` (DiagnosticSettingsResource, 2021-05-01-preview: logs of category or
    categoryGroup with enabled and retentionPolicy, and its destinations; azure-rest-api-specs, specification/monitor/
    .../2021-05-01-preview/examples/listDiagnosticSettings.json)."""
    return {
        "id": f"{resource_id}/providers/microsoft.insights/diagnosticSettings/{name}",
        "type": DIAGNOSTIC_SETTING_TYPE,
        "name": name,
        "properties": _present({
            "storageAccountId": storage_account_id,
            "workspaceId": workspace_id,
            "marketplacePartnerId": marketplace_partner_id,
            "metrics": [],
            "logs": [{**log, "retentionPolicy": {"enabled": False, "days": 0}} for log in logs],
        }),
    }


def _error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


def authorization_failed(action: str, scope: str) -> dict[str, Any]:
    """ARM's 403 body."""
    return _error(
        "AuthorizationFailed",
        f"The client 'verify@example.com' with object id '{CALLER_OBJECT_ID}' does not have authorization to perform "
        f"action '{action}' over scope '{scope}' or the scope is invalid. If access was recently granted, please "
        "refresh your credentials.",
    )


# --- the state ARM answers from


@dataclass
class Received:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]


_PRINCIPAL_FILTER = re.compile(r"principalId eq '([^']+)'", re.IGNORECASE)
_ASSIGNED_TO_FILTER = re.compile(r"assignedTo\('([^']+)'\)", re.IGNORECASE)


@dataclass
class ArmState:
    """Resources by ARM id (compared case-insensitively, as ARM does), the paths that answer 403, and
    Entra ID group memberships (group object id -> member object ids), which `assignedTo()` follows."""

    resources: dict[str, dict[str, Any]] = field(default_factory=dict)
    denied: dict[str, str] = field(default_factory=dict)
    groups: dict[str, set[str]] = field(default_factory=dict)

    def add_member(self, group: str, member: str) -> None:
        self.groups.setdefault(group.lower(), set()).add(member.lower())

    def groups_of(self, principal: str) -> set[str]:
        """The groups `principal` is in, directly or through other groups (assignedTo() is transitive)."""
        found: set[str] = set()
        todo = [principal.lower()]
        while todo:
            member = todo.pop()
            for group, members in self.groups.items():
                if member in members and group not in found:
                    found.add(group)
                    todo.append(group)
        return found

    def put(self, *resources: dict[str, Any]) -> None:
        for resource in resources:
            self.resources[resource["id"].lower()] = copy.deepcopy(resource)

    def get(self, id_: str) -> dict[str, Any]:
        return self.resources[id_.lower()]

    def remove(self, id_: str) -> None:
        """Delete a resource and what lives under it; role assignments at its scope stay behind, as in Azure."""
        prefix = id_.lower()
        for key in [k for k in self.resources if k == prefix or k.startswith(prefix + "/")]:
            if self.resources[key]["type"] != ROLE_ASSIGNMENT_TYPE:
                del self.resources[key]

    def set_properties(self, id_: str, **properties: Any) -> None:
        """Change ARM properties of a resource; None removes one (ARM then leaves it out)."""
        props = self.get(id_)["properties"]
        for name, value in properties.items():
            if value is None:
                props.pop(name, None)
            else:
                props[name] = value

    def of_type(self, type_: str) -> list[dict[str, Any]]:
        return [r for r in self.resources.values() if r["type"].lower() == type_.lower()]

    def deny(self, path: str, action: str) -> None:
        """Answer GET `path` with 403 AuthorizationFailed for `action`."""
        self.denied[path.lower().rstrip("/")] = action

    def answer(self, path: str, query: dict[str, str]) -> tuple[int, dict[str, Any]]:
        """ARM's status and body for GET `path`."""
        return self._answer(path, query, "GET")

    def act(self, path: str, query: dict[str, str]) -> tuple[int, dict[str, Any]]:
        """ARM's status and body for POST `path` (an action, such as listAssociatedResources)."""
        return self._answer(path, query, "POST")

    def _answer(self, path: str, query: dict[str, str], method: str) -> tuple[int, dict[str, Any]]:
        key = path.lower().rstrip("/")
        namespaces = re.findall(r"/providers/([^/]+)/", key)
        if not namespaces:
            return 404, _error("NotFound", f"No route for '{path}' in the fake ARM.")
        namespace = namespaces[-1]
        action = key.rsplit("/", 1)[-1] if key.rsplit("/", 1)[-1] in ACTION_API_VERSIONS else None
        if (method == "POST") != (action is not None):
            return 405, _error("MethodNotAllowed", f"The fake ARM serves {'POST' if action else 'GET'} only on '{path}'.")
        wanted, sent = ACTION_API_VERSIONS[action] if action else API_VERSIONS.get(namespace), query.get("api-version")
        if wanted is None:
            return 404, _error("NoRegisteredProviderFound", f"The fake ARM does not serve {namespace}.")
        if sent != wanted:
            return 400, _error(
                "NoRegisteredProviderFound",
                f"No registered resource provider found for API version '{sent}'. The supported api-versions are '{wanted}'.",
            )
        if key in self.denied:
            return 403, authorization_failed(self.denied[key], path)
        if action == "listassociatedresources":
            return self._associated(key.removesuffix("/listassociatedresources"))
        if key.endswith("/providers/microsoft.authorization/roleassignments"):
            return self._role_assignments(key.removesuffix("/providers/microsoft.authorization/roleassignments"), query)
        if key.endswith("/providers/microsoft.insights/diagnosticsettings"):
            parent = key.removesuffix("/providers/microsoft.insights/diagnosticsettings")
            if parent not in self.resources:
                return 404, self._not_found(parent)
            return 200, {"value": [r for k, r in self.resources.items() if k.startswith(key + "/")]}
        for children in ("/federatedidentitycredentials", "/objectreplicationpolicies"):
            if key.endswith(children):
                parent = key.removesuffix(children)
                if parent not in self.resources:
                    return 404, self._not_found(parent)
                return 200, {"value": [r for k, r in self.resources.items() if k.startswith(key + "/") and "/" not in k[len(key) + 1 :]]}
        if key in self.resources:
            return 200, self.resources[key]
        if key.endswith("/immutabilitypolicies/default") and key.removesuffix("/immutabilitypolicies/default") in self.resources:
            return 200, no_immutability_policy(path.rstrip("/").removesuffix("/immutabilityPolicies/default"))
        if key.endswith("/managementpolicies/default") and key.removesuffix("/managementpolicies/default") in self.resources:
            # The storage resource provider's answer for an account without a lifecycle policy.
            return 404, _error("ManagementPolicyNotFound", f"No ManagementPolicy found for account {key.split('/')[-3]}")
        return 404, self._not_found(key)

    def _role_assignments(self, scope: str, query: dict[str, str]) -> tuple[int, dict[str, Any]]:
        # ARM lists the assignments at, above and below the scope; `principalId eq` narrows to one principal.
        found = [
            r
            for r in self.of_type(ROLE_ASSIGNMENT_TYPE)
            if (s := r["properties"]["scope"].lower().rstrip("/")) == scope or s.startswith(scope + "/") or scope.startswith(s + "/")
        ]
        filter_ = query.get("$filter")
        if filter_ is not None:
            direct, assigned_to = _PRINCIPAL_FILTER.fullmatch(filter_.strip()), _ASSIGNED_TO_FILTER.fullmatch(filter_.strip())
            if direct:
                principals = {direct.group(1).lower()}
            elif assigned_to and assigned_to.group(1).lower() not in self.groups:
                # Its assignments and, transitively, its groups' (a group's own id is refused, as ARM documents).
                principals = {assigned_to.group(1).lower()} | self.groups_of(assigned_to.group(1))
            else:
                return 400, _error("InvalidFilterInQueryString", f"Invalid $filter '{filter_}' specified in the query string.")
            found = [r for r in found if r["properties"]["principalId"].lower() in principals]
        return 200, {"value": found}

    def _associated(self, identity_id: str) -> tuple[int, dict[str, Any]]:
        """listAssociatedResources: every resource whose identity block names the identity."""
        if identity_id not in self.resources:
            return 404, self._not_found(identity_id)
        found = [associated_resource(r) for r in self.resources.values()
                 if isinstance(r.get("identity"), dict)
                 and identity_id in {str(i).lower() for i in (r["identity"].get("userAssignedIdentities") or {})}]
        return 200, {"totalCount": len(found), "value": found}

    def _not_found(self, key: str) -> dict[str, Any]:
        if "/blobservices/default/containers/" in key and self._account_of(key) in self.resources:
            # The storage resource provider answers for containers itself.
            return _error("ContainerNotFound", "The specified container does not exist.\nRequestId:7e1b2c3d-001e-0042-5b7a-000000000000\nTime:" + TIMESTAMP)
        group = re.search(r"/resourcegroups/([^/]+)", key)
        # ARM answers for the first missing resource on the path; the kit's paths name one resource each.
        tail = re.search(r"/providers/([^/]+)/(.+)$", key)
        what = f"{tail.group(1)}/{tail.group(2)}" if tail else key
        return _error(
            "ResourceNotFound",
            f"The Resource '{what}' under resource group '{group.group(1) if group else ''}' was not found. "
            "For more details please go to https://aka.ms/ARMResourceNotFoundFix",
        )

    @staticmethod
    def _account_of(key: str) -> str:
        return key.split("/blobservices/", 1)[0]


# --- the credential tests hand to verify


class StaticCredential:
    """A TokenCredential (and SupportsTokenInfo) that always returns the same token, and counts the asks."""

    def __init__(self, token: str = "fake-arm-token") -> None:
        self.token = token
        self.scopes: list[tuple[str, ...]] = []

    def get_token(self, *scopes: str, claims: Optional[str] = None, tenant_id: Optional[str] = None, enable_cae: bool = False, **kwargs: Any) -> AccessToken:
        self.scopes.append(scopes)
        return AccessToken(self.token, int(time.time()) + 3600)

    def get_token_info(self, *scopes: str, options: Optional[TokenRequestOptions] = None) -> AccessTokenInfo:
        self.scopes.append(scopes)
        return AccessTokenInfo(self.token, int(time.time()) + 3600)


# --- the server


@dataclass
class FakeArm:
    state: ArmState
    url: str = ""
    ca_path: Optional[Path] = None
    received: list[Received] = field(default_factory=list)

    def paths(self) -> list[str]:
        return [r.path for r in self.received]


def _send(handler: BaseHTTPRequestHandler, status: int, body: dict[str, Any]) -> None:
    ids = {"x-ms-request-id": str(uuid.uuid4()), "x-ms-correlation-request-id": str(uuid.uuid4())}
    send_json(handler, status, body, "application/json; charset=utf-8", ids)


def _handler(fake: FakeArm) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        timeout = SOCKET_TIMEOUT_SECONDS

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            split = urlsplit(self.path)
            query = {key: values[-1] for key, values in parse_qs(split.query, keep_blank_values=True).items()}
            headers = {key.lower(): value for key, value in self.headers.items()}
            if len(fake.received) >= MAX_REQUESTS:
                _send(self, 503, _error("ServiceUnavailable", "fake ARM: request budget spent"))
                return
            fake.received.append(Received(self.command, unquote(split.path), query, headers))
            if not headers.get("authorization", "").startswith("Bearer "):
                _send(self, 401, _error("AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing."))
                return
            if self.command not in ("GET", "POST"):
                _send(self, 405, _error("MethodNotAllowed", "The fake ARM serves reads only."))
                return
            path = unquote(split.path)
            _send(self, *(fake.state.act(path, query) if self.command == "POST" else fake.state.answer(path, query)))

        do_GET = do_PUT = do_PATCH = do_POST = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
            pass

    return Handler


@contextmanager
def running(state: ArmState, workdir: Path, ca: Optional[trustme.CA] = None) -> Iterator[FakeArm]:
    """Serve `state` on a loopback https port until the block ends; the CA's certificate is written to `workdir`."""
    ca = ca or trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    ca_path = workdir / "fake-arm-ca.pem"
    ca.cert_pem.write_to_path(str(ca_path))
    fake = FakeArm(state=state, ca_path=ca_path)
    with serving(TlsServer(_handler(fake), context)) as port:
        fake.url = f"https://127.0.0.1:{port}"
        yield fake

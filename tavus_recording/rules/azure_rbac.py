"""Azure RBAC as the guardrails read it: role ids, scopes, and what a role's permissions reach.

Pure functions over the strings ARM and azure-native use. Ids compare case-insensitively, as ARM does;
a role id or scope that cannot be parsed is never taken for a harmless one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable, Optional

from components.azure_policy import STORAGE_BLOB_DATA_CONTRIBUTOR

_GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
# A role definition id: the bare GUID, or ARM's full id at a subscription or at the tenant.
_ROLE_ID = re.compile(r"^(?:/subscriptions/[^/]+)?/providers/microsoft\.authorization/roledefinitions/(?P<guid>[^/]+)$")
_CONTAINER = re.compile(
    r"^/subscriptions/(?P<subscription>[^/]+)/resourcegroups/(?P<group>[^/]+)/providers/microsoft\.storage"
    r"/storageaccounts/(?P<account>[^/]+)/blobservices/default/containers/(?P<container>[^/]+)$"
)
_ACCOUNT_ID = re.compile(r"^/subscriptions/(?P<subscription>[^/]+)/resourcegroups/(?P<group>[^/]+)/providers/microsoft\.storage/storageaccounts/(?P<account>[^/]+)$")
_IDENTITY_ID = re.compile(
    r"^/subscriptions/(?P<subscription>[^/]+)/resourcegroups/(?P<group>[^/]+)"
    r"/providers/microsoft\.managedidentity/userassignedidentities/(?P<name>[^/]+)$"
)
_MANAGEMENT_GROUP = re.compile(r"^/providers/microsoft\.management/managementgroups/[^/]+$")

BLOB_DATA = "microsoft.storage/storageaccounts/blobservices/containers/blobs/"


@dataclass(frozen=True)
class Role:
    """A role definition's permissions (the union of its permission blocks)."""

    name: str
    actions: tuple[str, ...] = ()
    not_actions: tuple[str, ...] = ()
    data_actions: tuple[str, ...] = ()
    not_data_actions: tuple[str, ...] = ()


def role(name: str, actions: Iterable[str] = (), not_actions: Iterable[str] = (), data_actions: Iterable[str] = (),
         not_data_actions: Iterable[str] = ()) -> Role:
    return Role(name, tuple(actions), tuple(not_actions), tuple(data_actions), tuple(not_data_actions))


_BLOBS = "Microsoft.Storage/storageAccounts/blobServices"
OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
USER_ACCESS_ADMINISTRATOR = "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9"
RBAC_ADMINISTRATOR = "f58310d9-a9f6-439a-9e8d-f62e7b41a168"
MANAGED_IDENTITY_OPERATOR = "f1a07417-d97a-45cb-824c-7a7467783830"
MANAGED_IDENTITY_CONTRIBUTOR = "e40ec5ca-96e0-45a2-b4ff-59039f2c2b59"
STORAGE_ACCOUNT_CONTRIBUTOR = "17d1049b-9a84-46fb-8f53-869881c3d3ab"
BLOB_DATA_OWNER = "b7e6dc6d-f1e8-4753-8033-0f276bb0955b"
BLOB_DATA_READER = "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"
BLOB_DELEGATOR = "db58b8e5-c6ad-4a2a-8342-4190687cbf4a"
KEY_OPERATOR = "81a9662b-bebf-436f-a333-f67b29880f12"
READER_AND_DATA_ACCESS = "c12c1c16-33a1-487b-954d-41c89c60f349"
MONITORING_READER = "43d0d8ad-25c7-4714-9337-8ba259a9fe05"
# Built-in roles the rules know without a definition to read (Azure's built-in roles documentation).
BUILTIN_ROLES: dict[str, Role] = {
    STORAGE_BLOB_DATA_CONTRIBUTOR: role(
        "Storage Blob Data Contributor",
        [f"{_BLOBS}/containers/delete", f"{_BLOBS}/containers/read", f"{_BLOBS}/containers/write",
         f"{_BLOBS}/generateUserDelegationKey/action"],
        data_actions=[f"{_BLOBS}/containers/blobs/delete", f"{_BLOBS}/containers/blobs/read", f"{_BLOBS}/containers/blobs/write",
                      f"{_BLOBS}/containers/blobs/move/action", f"{_BLOBS}/containers/blobs/add/action"],
    ),
    BLOB_DATA_READER: role("Storage Blob Data Reader", [f"{_BLOBS}/containers/read", f"{_BLOBS}/generateUserDelegationKey/action"],
                           data_actions=[f"{_BLOBS}/containers/blobs/read"]),
    BLOB_DATA_OWNER: role("Storage Blob Data Owner", [f"{_BLOBS}/containers/*", f"{_BLOBS}/generateUserDelegationKey/action"],
                          data_actions=[f"{_BLOBS}/containers/blobs/*"]),
    BLOB_DELEGATOR: role("Storage Blob Delegator", [f"{_BLOBS}/generateUserDelegationKey/action"]),
    OWNER: role("Owner", ["*"]),
    CONTRIBUTOR: role("Contributor", ["*"], ["Microsoft.Authorization/*/Delete", "Microsoft.Authorization/*/Write",
                                            "Microsoft.Authorization/elevateAccess/Action"]),
    READER: role("Reader", ["*/read"]),
    USER_ACCESS_ADMINISTRATOR: role("User Access Administrator", ["*/read", "Microsoft.Authorization/*", "Microsoft.Support/*"]),
    RBAC_ADMINISTRATOR: role("Role Based Access Control Administrator",
                             ["Microsoft.Authorization/roleAssignments/write", "Microsoft.Authorization/roleAssignments/delete",
                              "*/read", "Microsoft.Support/*"]),
    MANAGED_IDENTITY_OPERATOR: role("Managed Identity Operator",
                                    ["Microsoft.ManagedIdentity/userAssignedIdentities/*/read",
                                     "Microsoft.ManagedIdentity/userAssignedIdentities/*/assign/action",
                                     "Microsoft.Authorization/*/read", "Microsoft.Resources/subscriptions/resourceGroups/read"]),
    MANAGED_IDENTITY_CONTRIBUTOR: role("Managed Identity Contributor",
                                       ["Microsoft.ManagedIdentity/userAssignedIdentities/read",
                                        "Microsoft.ManagedIdentity/userAssignedIdentities/write",
                                        "Microsoft.ManagedIdentity/userAssignedIdentities/delete",
                                        "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/read",
                                        "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/write",
                                        "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/delete",
                                        "Microsoft.Authorization/*/read", "Microsoft.Resources/subscriptions/resourceGroups/read"]),
    # Azure's built-in roles documentation (MicrosoftDocs/azure-docs, role-based-access-control/built-in-roles):
    # the key operator lists and regenerates keys; Reader and Data Access lists keys and account SAS.
    KEY_OPERATOR: role("Storage Account Key Operator Service Role",
                       ["Microsoft.Storage/storageAccounts/listkeys/action", "Microsoft.Storage/storageAccounts/regeneratekey/action"]),
    READER_AND_DATA_ACCESS: role("Reader and Data Access",
                                 ["Microsoft.Storage/storageAccounts/listKeys/action",
                                  "Microsoft.Storage/storageAccounts/ListAccountSas/action", "Microsoft.Storage/storageAccounts/read"]),
    MONITORING_READER: role("Monitoring Reader", ["*/read", "Microsoft.OperationalInsights/workspaces/search/action", "Microsoft.Support/*"]),
    STORAGE_ACCOUNT_CONTRIBUTOR: role("Storage Account Contributor",
                                      ["Microsoft.Authorization/*/read", "Microsoft.Resources/deployments/*",
                                       "Microsoft.Resources/subscriptions/resourceGroups/read", "Microsoft.Storage/storageAccounts/*",
                                       "Microsoft.Support/*"]),
    "974c5e8b-45b9-4653-ba55-5f855dd0fb88": role("Storage Queue Data Contributor",
                                                 ["Microsoft.Storage/storageAccounts/queueServices/queues/*"],
                                                 data_actions=["Microsoft.Storage/storageAccounts/queueServices/queues/messages/*"]),
    "19e7f393-937e-4f77-808e-94535e297925": role("Storage Queue Data Reader",
                                                 ["Microsoft.Storage/storageAccounts/queueServices/queues/read"],
                                                 data_actions=["Microsoft.Storage/storageAccounts/queueServices/queues/messages/read"]),
    "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3": role("Storage Table Data Contributor",
                                                 ["Microsoft.Storage/storageAccounts/tableServices/tables/*"],
                                                 data_actions=["Microsoft.Storage/storageAccounts/tableServices/tables/entities/*"]),
    "76199698-9eea-4c19-bc75-cec21354c6b6": role("Storage Table Data Reader",
                                                 ["Microsoft.Storage/storageAccounts/tableServices/tables/read"],
                                                 data_actions=["Microsoft.Storage/storageAccounts/tableServices/tables/entities/read"]),
}
# Roles that let their holder act as a user-assigned identity over whose scope they are assigned:
# attach it to a resource it runs, add a federated credential, or grant itself either.
OPERATOR_ROLES = frozenset({MANAGED_IDENTITY_OPERATOR, MANAGED_IDENTITY_CONTRIBUTOR, OWNER, CONTRIBUTOR, USER_ACCESS_ADMINISTRATOR})
# An administrator of everything in a scope: its role allows an action of a provider no role names
# (so it allows any action: Owner, Contributor, a custom '*'), or grants any role (User Access
# Administrator, Role Based Access Control Administrator). Creating resource groups alone does not make one.
_ANY_ACTION = "microsoft.unrelatedprovider/things/write"
_GRANTS_ROLES = "microsoft.authorization/roleassignments/write"
# Writing a role definition it holds (within its assignable scopes) lets a role become any other role.
_WRITES_ROLES = "microsoft.authorization/roledefinitions/write"
_ACTS_AS_IDENTITY = (
    "microsoft.managedidentity/userassignedidentities/assign/action",
    "microsoft.managedidentity/userassignedidentities/federatedidentitycredentials/write",
    _GRANTS_ROLES,
    _WRITES_ROLES,
)
# Control-plane actions that reach an account's blobs without a data role, or destroy or copy them (Azure's
# resource provider operations, Microsoft.Storage): grant a role or rewrite one, list or regenerate the keys,
# have ARM sign an account or service SAS with them, turn shared keys back on, add an SFTP local user, copy
# the container elsewhere (object replication), delete it by lifecycle rule, delete or reconfigure the
# container (public access, immutability) or the account.
_ACCOUNT = "microsoft.storage/storageaccounts"
_REACHES_DATA = (
    _GRANTS_ROLES,
    _WRITES_ROLES,
    f"{_ACCOUNT}/listkeys/action",
    f"{_ACCOUNT}/regeneratekey/action",
    f"{_ACCOUNT}/listaccountsas/action",
    f"{_ACCOUNT}/listservicesas/action",
    f"{_ACCOUNT}/write",
    f"{_ACCOUNT}/delete",
    f"{_ACCOUNT}/localusers/write",
    f"{_ACCOUNT}/localusers/listkeys/action",
    f"{_ACCOUNT}/localusers/regeneratepassword/action",
    f"{_ACCOUNT}/objectreplicationpolicies/write",
    f"{_ACCOUNT}/managementpolicies/write",
    f"{_ACCOUNT}/blobservices/containers/delete",
    f"{_ACCOUNT}/blobservices/containers/write",
)
# Representative blob data actions: a data action pattern matching any of them reaches recordings.
_BLOB_DATA_ACTIONS = tuple(
    BLOB_DATA + verb
    for verb in ("read", "write", "delete", "add/action", "move/action", "tags/read", "tags/write", "deleteblobversion/action",
                 "permanentdelete/action", "runassuperuser/action", "filter/action", "immutablestorage/runassuperuser/action",
                 "manageownership/action", "modifypermissions/action")
)


def role_guid(value: Any) -> Optional[str]:
    """The GUID a role definition id names, lowercased; None when it is not a role definition id."""
    if not isinstance(value, str):
        return None
    text = value.lower()
    text = text[:-1] if text.endswith("/") else text
    match = _ROLE_ID.match(text)
    guid = match["guid"] if match else text
    return guid if _GUID.match(guid) else None


def role_label(guid: Optional[str], raw: Any, known: Optional[Role] = None) -> str:
    """A role as a person reads it: its name and GUID, or what was written."""
    found = known or (BUILTIN_ROLES.get(guid) if guid else None)
    if guid is None:
        return f"role {raw!r}"
    return f"{found.name} ({guid})" if found else f"role {guid}"


def scope_key(value: Any) -> Optional[str]:
    """A scope as ARM compares it: lowercased, without a trailing slash; None when not text."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip().lower()
    return text[:-1] if text.endswith("/") and text != "/" else text


@dataclass(frozen=True)
class ContainerRef:
    """A blob container, from its scope or from the resource that defines it (lowercased)."""

    account: str
    container: str
    group: Optional[str] = None
    subscription: Optional[str] = None

    @property
    def scope(self) -> Optional[str]:
        if self.group is None or self.subscription is None:
            return None
        return (f"/subscriptions/{self.subscription}/resourcegroups/{self.group}/providers/microsoft.storage/storageaccounts/"
                f"{self.account}/blobservices/default/containers/{self.container}")

    @property
    def account_id(self) -> Optional[str]:
        scope = self.scope
        return scope.split("/blobservices/")[0] if scope else None


def container_of(scope: Any) -> Optional[ContainerRef]:
    key = scope_key(scope)
    match = _CONTAINER.match(key) if key else None
    if not match:
        return None
    return ContainerRef(match["account"], match["container"], match["group"], match["subscription"])


def same_container(scope: Any, target: ContainerRef) -> bool:
    found = container_of(scope)
    if found is None:
        return False
    if target.scope is not None:
        return found.scope == target.scope
    # A container the stack defines: its group and subscription may not be known, its names are.
    return (found.account, found.container) == (target.account, target.container) and target.group in (None, found.group)


def covers_container(scope: Any, target: ContainerRef) -> bool:
    """Whether an assignment at `scope` reaches blobs of `target`: the container, its account or
    blob service, their group, subscription, a management group or the tenant root."""
    key = scope_key(scope)
    if key is None:
        return False
    if key == "/" or _MANAGEMENT_GROUP.match(key):
        return True
    parts = key.strip("/").split("/")
    wanted = {"subscriptions": target.subscription, "resourcegroups": target.group, "storageaccounts": target.account,
              "blobservices": "default", "containers": target.container}
    if len(parts) % 2 or parts[0] != "subscriptions":
        return False
    names = dict(zip(parts[0::2], parts[1::2]))
    steps = [p for p in parts[0::2] if p != "providers"]
    if "providers" in names and names["providers"] != "microsoft.storage":
        return False
    if steps != ["subscriptions", "resourcegroups", "storageaccounts", "blobservices", "containers"][: len(steps)]:
        return False
    # A part not known for a container defined in the stack (its group, subscription) counts as covering.
    return all(wanted[step] is None or names[step] == wanted[step] for step in steps)


def identity_of(identity_id: Any) -> Optional[tuple[str, str, str]]:
    """(subscription, group, name) of a user-assigned identity's resource id, lowercased."""
    key = scope_key(identity_id)
    match = _IDENTITY_ID.match(key) if key else None
    return (match["subscription"], match["group"], match["name"]) if match else None


def identity_above(scope: Any) -> Optional[tuple[str, str, str]]:
    """(subscription, group, name) of the user-assigned identity `scope` is, or is under (its federated
    credentials): an RBAC scope may be any resource id, a child resource's included, and an assignment
    there applies to that resource."""
    key = scope_key(scope)
    if key is None:
        return None
    parts = key.strip("/").split("/")
    return identity_of("/" + "/".join(parts[:8])) if len(parts) >= 8 else None


def covers_identity(scope: Any, subscription: Optional[str], group: Optional[str], name: Optional[str]) -> bool:
    """Whether an assignment at `scope` reaches the identity: the identity itself, its group, its
    subscription, a management group or the tenant root. An unknown part counts as matching."""
    key = scope_key(scope)
    if key is None:
        return False
    if key == "/" or _MANAGEMENT_GROUP.match(key):
        return True
    parts = key.strip("/").split("/")
    if len(parts) < 2 or parts[0] != "subscriptions" or subscription not in (None, parts[1]):
        return False
    if len(parts) == 2:
        return True
    if len(parts) < 4 or parts[2] != "resourcegroups" or group not in (None, parts[3]):
        return False
    if len(parts) == 4:
        return True
    found = identity_above(key)
    return found is not None and name in (None, found[2])


def account_name(value: Any) -> Optional[str]:
    """A storage account named by its name or its resource id (names are unique across Azure)."""
    key = scope_key(value)
    if key is None:
        return None
    match = _ACCOUNT_ID.match(key)
    if match:
        return match["account"]
    return None if "/" in key else key


def account_subscription(value: Any) -> Optional[str]:
    key = scope_key(value)
    match = _ACCOUNT_ID.match(key) if key else None
    return match["subscription"] if match else None


# --- what a role's permissions reach


def _pattern(action: str) -> re.Pattern[str]:
    # Azure's `*` matches any run; `/*/` may also stand for no segment at all (`a/*/assign/action`).
    text = re.escape(action.lower()).replace(r"/\*/", "/(?:.*/)?").replace(r"\*", ".*")
    return re.compile(text)


def allows(patterns: Iterable[str], excluded: Iterable[str], action: str) -> bool:
    """Whether `patterns` (minus `excluded`) allow `action`."""
    return any(_pattern(p).fullmatch(action) for p in patterns) and not any(_pattern(p).fullmatch(action) for p in excluded)


def acts_as_identity(found: Role) -> bool:
    return any(allows(found.actions, found.not_actions, action) for action in _ACTS_AS_IDENTITY)


def administers(found: Role) -> bool:
    """Whether a role administers everything in its scope: it allows any action at all (Owner,
    Contributor, a custom '*'), tested with an action of a provider no role names, or grants roles (User
    Access Administrator, Role Based Access Control Administrator); rather than some resources alone."""
    return any(allows(found.actions, found.not_actions, action) for action in (_ANY_ACTION, _GRANTS_ROLES))


def writes_blobs(found: Role) -> bool:
    """Whether the role's data actions write blobs."""
    return allows(found.data_actions, found.not_data_actions, BLOB_DATA + "write")


def broad_scope(scope: Any) -> bool:
    """A subscription, a management group or the tenant root: scopes whose administrators administer
    every identity in them."""
    key = scope_key(scope)
    if key is None:
        return False
    parts = key.strip("/").split("/")
    return key == "/" or bool(_MANAGEMENT_GROUP.match(key)) or (len(parts) == 2 and parts[0] == "subscriptions")


def reaches_blobs(found: Role) -> bool:
    """Whether the role's data actions read, write or delete blobs."""
    return any(allows(found.data_actions, found.not_data_actions, action) for action in _BLOB_DATA_ACTIONS)


def controls_account(found: Role) -> bool:
    """Whether the role's control-plane actions reach blobs anyway (grant a data role, keys, SAS) or
    destroy or copy them."""
    return any(allows(found.actions, found.not_actions, action) for action in _REACHES_DATA)


def beyond(found: Role, allowed: Role) -> list[str]:
    """The actions and data actions of `found` that `allowed` does not hold, each exactly (a wildcard is
    always beyond: it grows with every action Azure adds)."""
    extra = [a for a in found.actions if "*" in a or a.lower() not in {x.lower() for x in allowed.actions}]
    extra += [a for a in found.data_actions if "*" in a or a.lower() not in {x.lower() for x in allowed.data_actions}]
    return extra


def role_from_permissions(name: str, permissions: Any) -> Role:
    """A role from ARM's or azure-native's `permissions` list (camelCase or snake_case keys)."""
    blocks = permissions if isinstance(permissions, list) else []

    def collect(*keys: str) -> tuple[str, ...]:
        found: list[str] = []
        for block in blocks:
            if isinstance(block, dict):
                for key in keys:
                    values = block.get(key)
                    found += [str(v) for v in values] if isinstance(values, list) else []
        return tuple(found)

    return Role(name, collect("actions"), collect("notActions", "not_actions"), collect("dataActions", "data_actions"),
                collect("notDataActions", "not_data_actions"))

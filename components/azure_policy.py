"""The trust, grant and lifecycle settings for an Azure Blob destination, as pure functions.

Tavus reaches the container through workload identity federation: a user-assigned managed identity
trusts Tavus's issuer and subject through a federated credential, and holds Storage Blob Data
Contributor on one container.
"""

from __future__ import annotations

import hashlib
import re
import shlex
from typing import TYPE_CHECKING, NamedTuple, Optional

if TYPE_CHECKING:
    # Types only: this module stays importable without the Azure SDK (the policy pack reads it).
    from pulumi_azure_native.storage import (
        EncryptionArgsDict,
        IdentityArgsDict,
        KeyVaultPropertiesArgsDict,
        ManagementPolicyFilterArgsDict,
        ManagementPolicyRuleArgsDict,
        ManagementPolicySchemaArgsDict,
    )
    from pulumi_azure_native.monitor import DiagnosticsLogSettingsArgsDict

# Built-in role "Storage Blob Data Contributor": read, write and delete blobs in the scope.
STORAGE_BLOB_DATA_CONTRIBUTOR = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"
# The audience Microsoft Entra expects in a federated token, unless Tavus says otherwise.
DEFAULT_AUDIENCE = "api://AzureADTokenExchange"
# The identity is a managed identity, which Entra represents as a service principal.
PRINCIPAL_TYPE = "ServicePrincipal"

# Built-in role "Key Vault Crypto Service Encryption User": read a key and wrap and unwrap with it, what a storage
# account's encryption identity needs on a vault that uses Azure RBAC (vaults on access policies need get,
# wrapKey and unwrapKey instead).
KEY_VAULT_CRYPTO_SERVICE_ENCRYPTION_USER = "e147488a-f6f5-4113-8e2d-b22465e65bf6"
# Azure Storage takes keys from a vault with both soft delete and purge protection on (customer-managed-keys-overview:
# "The key vault or managed HSM that stores the key must have both soft delete and purge protection enabled").
VAULT_REQUIREMENTS = "the vault with soft delete and purge protection on, and an RSA or RSA-HSM key of 2048, 3072 or 4096 bits"
KEY_VAULT_KEY_URI_FORM = "https://<vault>.vault.azure.net/keys/<key>[/<version>]"
_PUBLIC_VAULT_SUFFIX = ".vault.azure.net"
# The kit deploys to the public cloud's regions only: another cloud's vault is not reachable from there.
_OTHER_CLOUD_SUFFIXES = (".vault.azure.cn", ".vault.usgovcloudapi.net", ".vault.microsoftazure.de")
_KEY_URI = re.compile(r"^https://(?P<host>[^/?#]+)/keys/(?P<name>[^/?#]+)(?:/(?P<version>[^/?#]+))?$")
# Vault names: 3-24 letters, digits and hyphens, a letter first, no hyphen last or twice in a row; key names:
# 1-127 letters, digits and hyphens; versions: 32 hex digits (Key Vault "Object identifiers": vault-name and
# object-name rules, https://learn.microsoft.com/azure/key-vault/general/about-keys-secrets-certificates).
_VAULT_NAME = re.compile(r"^[a-zA-Z](?!.*--)[a-zA-Z0-9-]{1,22}[a-zA-Z0-9]$")
_KEY_NAME = re.compile(r"^[a-zA-Z0-9-]{1,127}$")
_KEY_VERSION = re.compile(r"^[0-9a-fA-F]{32}$")


class KeyVaultKey(NamedTuple):
    """A Key Vault key named by its URI: the vault, the key, and the version (None: always the newest)."""

    vault: str
    name: str
    version: Optional[str]

    @property
    def vault_uri(self) -> str:
        return f"https://{self.vault}{_PUBLIC_VAULT_SUFFIX}/"


def key_vault_key(uri: str) -> Optional[KeyVaultKey]:
    """The vault, key and version `uri` names, or None when it is not a public-cloud key URI."""
    match = _KEY_URI.match(uri)
    host = match["host"].lower() if match else ""
    if not match or not host.endswith(_PUBLIC_VAULT_SUFFIX):
        return None
    return KeyVaultKey(host.removesuffix(_PUBLIC_VAULT_SUFFIX), match["name"], match["version"])


def key_vault_key_problem(uri: str) -> Optional[str]:
    """What is wrong with `uri` as the account's key, or None."""
    match = _KEY_URI.match(uri)
    host = match["host"].lower() if match else ""
    if host.endswith(_OTHER_CLOUD_SUFFIXES):
        return "is a vault in another Azure cloud; the kit deploys to the public cloud, whose vaults end in .vault.azure.net"
    if ".managedhsm." in host:
        return "is a Managed HSM key; the kit takes keys in a Key Vault (.vault.azure.net)"
    key = key_vault_key(uri)
    if key is None:
        return "is not a Key Vault key URI"
    if not _VAULT_NAME.match(key.vault):
        return f"names vault {key.vault!r}; a vault name is 3-24 letters, digits and single hyphens, a letter first, no hyphen last"
    if not _KEY_NAME.match(key.name):
        return f"names key {key.name!r}; a key name is 1-127 letters, digits and hyphens"
    if key.version is not None and not _KEY_VERSION.match(key.version):
        return f"names version {key.version!r}; a key version is 32 hex digits (omit it to follow the key's newest version)"
    return None


def account_identity(identity_id: str) -> IdentityArgsDict:
    """The account's managed identity: the one user-assigned identity it reaches the key with."""
    return {"type": "UserAssigned", "user_assigned_identities": [identity_id]}


def account_encryption(uri: str, identity_id: str) -> EncryptionArgsDict:
    """The account's encryption with the Key Vault key at `uri`, reached as `identity_id`.

    Without a version Azure Storage follows the key's newest version, checking daily
    (customer-managed-keys-overview, "automatically update a customer-managed key").
    """
    key = key_vault_key(uri)
    if key is None:
        raise ValueError(f"not a Key Vault key URI: {uri!r}")
    properties: KeyVaultPropertiesArgsDict = {"key_name": key.name, "key_vault_uri": key.vault_uri}
    if key.version:
        properties["key_version"] = key.version
    return {
        "key_source": "Microsoft.Keyvault",
        "key_vault_properties": properties,
        "encryption_identity": {"encryption_user_assigned_identity": identity_id},
        "services": {"blob": {"enabled": True, "key_type": "Account"}},
    }


def role_definition_id(subscription_id: str, role: str = STORAGE_BLOB_DATA_CONTRIBUTOR) -> str:
    """A built-in role's definition id, as role assignments in that subscription name it."""
    return f"/subscriptions/{subscription_id}/providers/Microsoft.Authorization/roleDefinitions/{role}"


def audiences(audience: Optional[str] = None) -> list[str]:
    return [audience or DEFAULT_AUDIENCE]


_GUID = re.compile(r"^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
# Storage account names are global across Azure: 3-24 lowercase letters and digits.
_ACCOUNT_PREFIX_LENGTH = 16
_ACCOUNT_HASH_LENGTH = 8


def storage_account_name(component: str, stack: str, subscription_id: str, suffix: str = "") -> str:
    """The default storage account name: the component name's letters and digits, cut to 16, and 8
    characters hashed from the subscription, stack and component, so two components in one program,
    two stacks, or two customers with the kit's defaults never meet on one global name.

    A `suffix` (the audit log account's `logs`) takes its length from the prefix and is hashed too, so the
    two accounts of one component never share a name; without one the name is what it always was.

    Before a deploy the subscription is not known (the offline plan has a placeholder): the hashed
    part is then shown as a placeholder too, rather than a name that will not be the one created.
    """
    prefix = (re.sub(r"[^a-z0-9]", "", component.lower()) or "tavusrecordings")[: _ACCOUNT_PREFIX_LENGTH - len(suffix)]
    if not _GUID.match(subscription_id):
        return f"{prefix}{suffix}<hash of subscription, stack, component>"
    parts = (subscription_id.lower(), stack, component) + ((suffix,) if suffix else ())
    digest = hashlib.sha256("\0".join(parts).encode()).hexdigest()
    return f"{prefix}{suffix}{digest[:_ACCOUNT_HASH_LENGTH]}"


def management_policy(
    container: str, noncurrent_version_days: int, retention_days: Optional[int] = None, cold_after_days: Optional[int] = None
) -> ManagementPolicySchemaArgsDict:
    """Lifecycle rules for the container's blobs, in the shape of `storage.ManagementPolicy` policy."""
    filters: ManagementPolicyFilterArgsDict = {"blob_types": ["blockBlob"], "prefix_match": [f"{container}/"]}
    rules: list[ManagementPolicyRuleArgsDict] = [
        {
            "name": "expire-noncurrent-versions",
            "enabled": True,
            "type": "Lifecycle",
            "definition": {
                "filters": filters,
                "actions": {"version": {"delete": {"days_after_creation_greater_than": noncurrent_version_days}}},
            },
        }
    ]
    if retention_days:
        rules.append(
            {
                "name": "expire-recordings",
                "enabled": True,
                "type": "Lifecycle",
                "definition": {
                    "filters": filters,
                    "actions": {"base_blob": {"delete": {"days_after_modification_greater_than": retention_days}}},
                },
            }
        )
    if cold_after_days:
        # Base blobs only: previous versions are deleted within noncurrent_version_days, too soon to repay
        # the Cool tier's 30-day minimum.
        rules.append(
            {
                "name": "move-recordings-to-cool",
                "enabled": True,
                "type": "Lifecycle",
                "definition": {
                    "filters": filters,
                    "actions": {"base_blob": {"tier_to_cool": {"days_after_modification_greater_than": cold_after_days}}},
                },
            }
        )
    return {"rules": rules}


# --- WORM retention (immutableDays, immutableMode) and the audit log (auditLogs)

# A container has one time-based retention policy and its name is always `default` (azure-rest-api-specs
# specification/storage/Storage.Management/ImmutabilityPolicy.tsp: @singleton("default"), path segment
# `immutabilityPolicies/default`; azure-native: "ImmutabilityPolicy Name must be 'default'").
IMMUTABILITY_POLICY_NAME = "default"
# Container-level retention runs 1 to 146,000 days (azure-docs immutable-storage-overview.md, "Retention interval").
MAX_IMMUTABLE_DAYS = 146_000
# A locked container-level policy may be lengthened at most five times and never shortened (immutable-storage-overview.md).
LOCKED_EXTENSIONS = 5
# Every data-plane request to blobs: the Microsoft.Storage/storageAccounts/blobServices resource log categories
# (azure-docs azure-monitor/essentials/resource-logs-categories.md), kept in table/containers per category.
AUDIT_LOG_CATEGORIES = ("StorageRead", "StorageWrite", "StorageDelete")
# The log account's name: the component's letters, `logs`, and the same kind of hash as the recordings account's.
AUDIT_ACCOUNT_SUFFIX = "logs"


def blob_service_id(account_id: str) -> str:
    """The blob service of an account, the resource its blob request logs belong to (a diagnostic setting on the
    account itself has no StorageRead/StorageWrite/StorageDelete; azure-rest-api-specs issue #10646)."""
    return f"{account_id}/blobServices/default"


def audit_log_settings() -> list[DiagnosticsLogSettingsArgsDict]:
    """Every blob read, write and delete, in the shape of `monitor.DiagnosticSetting` logs."""
    return [{"category": category, "enabled": True} for category in AUDIT_LOG_CATEGORIES]


def lock_commands(resource_group: Optional[str], account: Optional[str], container: Optional[str]) -> list[str]:
    """The one-time Azure CLI step that locks the container's policy (azure-native cannot: the lock is a POST with the
    policy's etag in If-Match; azure-docs immutable-policy-configure-container-scope.md, "Lock a time-based retention
    policy"). Irreversible. A name not known before `pulumi up` (None) is read from the stack's output when they run."""

    def word(value: Optional[str], output: str) -> str:
        return shlex.quote(value) if value else f'"$(pulumi stack output {output} --show-secrets)"'

    where = (f"--resource-group {word(resource_group, 'resource_group_name')} --account-name {word(account, 'storage_account')} "
             f"--container-name {word(container, 'container')}")
    return [
        f"etag=$(az storage container immutability-policy show {where} --query etag --output tsv)",
        f'az storage container immutability-policy lock {where} --if-match "$etag"',
    ]

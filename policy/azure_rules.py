"""Azure: the role assignment and federated credential Tavus signs in through, and the storage account."""

import re
from collections.abc import Iterable, Mapping
from typing import Any

from components.azure_policy import STORAGE_BLOB_DATA_CONTRIBUTOR
from rule_kit import ADVISORY, MANDATORY, UNKNOWN, Finding, flag, resource_policy

ROLE_ASSIGNMENT = "azure-native:authorization:RoleAssignment"
STORAGE_ACCOUNT = "azure-native:storage:StorageAccount"
FEDERATED_CREDENTIAL = "azure-native:managedidentity:FederatedIdentityCredential"
# A container's resource id, with nothing after the container's name.
_CONTAINER_SCOPE = re.compile(
    r"^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.Storage/storageAccounts/[^/]+"
    r"/blobServices/default/containers/[^/]+$",
    re.IGNORECASE,
)
TLS_VERSIONS = ("TLS1_2", "TLS1_3")


def _is_blob_contributor(role_definition_id: Any) -> bool:
    # Either the full id (/subscriptions/…/roleDefinitions/<guid>) or the bare GUID.
    return isinstance(role_definition_id, str) and role_definition_id.rstrip("/").lower().endswith(
        STORAGE_BLOB_DATA_CONTRIBUTOR
    )


def check_blob_contributor_scope(props: dict[str, Any], config: Mapping[str, Any]) -> Iterable[Finding]:
    scope = props.get("scope")
    if not _is_blob_contributor(props.get("roleDefinitionId")) or scope is UNKNOWN:
        return []
    if isinstance(scope, str) and _CONTAINER_SCOPE.match(scope.rstrip("/")):
        return []
    return [
        Finding(
            f"grants Storage Blob Data Contributor (read, write and delete) on {scope!r}, wider than one container",
            "scope it to the container's resource id (…/blobServices/default/containers/<name>)",
        )
    ]


def check_federated_subject(props: dict[str, Any], config: Mapping[str, Any]) -> Iterable[Finding]:
    subject = props.get("subject")
    if subject is UNKNOWN or (isinstance(subject, str) and subject.strip()):
        return []
    return [
        Finding(
            "has an empty subject, so it does not pin the one identity (Tavus's) whose tokens it accepts",
            "set subject to Tavus's subject claim (Tavus's recording guide, Azure tab)",
        )
    ]


def check_no_public_blob_access(props: dict[str, Any], config: Mapping[str, Any]) -> Iterable[Finding]:
    if flag(props.get("allowBlobPublicAccess")) in (False, UNKNOWN):
        return []
    return [
        Finding(
            "does not set allowBlobPublicAccess to false, so a container could be opened to anonymous reads "
            "(older API versions allow it by default)",
            "set allow_blob_public_access=False",
        )
    ]


def check_no_shared_key(props: dict[str, Any], config: Mapping[str, Any]) -> Iterable[Finding]:
    if flag(props.get("allowSharedKeyAccess")) in (False, UNKNOWN):
        return []
    return [
        Finding(
            "allows shared key access (absent means allowed): account keys and SAS tokens reach every "
            "container, bypassing the one-container role assignment",
            "set allow_shared_key_access=False",
        )
    ]


def check_https_only(props: dict[str, Any], config: Mapping[str, Any]) -> Iterable[Finding]:
    if flag(props.get("enableHttpsTrafficOnly")) is False:
        return [Finding("accepts plain HTTP, so recordings can travel unencrypted", "set enable_https_traffic_only=True")]
    return []


def check_min_tls(props: dict[str, Any], config: Mapping[str, Any]) -> Iterable[Finding]:
    version = props.get("minimumTlsVersion")
    if version in (*TLS_VERSIONS, UNKNOWN):
        return []
    return [
        Finding(
            f"accepts TLS below 1.2 (minimumTlsVersion {version or 'absent, which means TLS1_0'!r})",
            "set minimum_tls_version='TLS1_2'",
        )
    ]


AZURE_POLICIES = [
    resource_policy(
        "azure-tavus-blob-contributor-scope",
        "A Storage Blob Data Contributor assignment must be scoped to one container: the role reads, "
        "writes and deletes every blob in its scope.",
        [ROLE_ASSIGNMENT],
        check_blob_contributor_scope,
        MANDATORY,
    ),
    resource_policy(
        "azure-tavus-federated-subject",
        "A federated identity credential must name a subject: it is what limits the credential to Tavus's identity.",
        [FEDERATED_CREDENTIAL],
        check_federated_subject,
        MANDATORY,
    ),
    resource_policy(
        "azure-storage-no-public-blob-access",
        "Storage accounts must turn public blob access off: recordings are customer data.",
        [STORAGE_ACCOUNT],
        check_no_public_blob_access,
        MANDATORY,
    ),
    resource_policy(
        "azure-storage-no-shared-key",
        "Storage accounts should turn shared key access off, so Entra ID role assignments alone decide access.",
        [STORAGE_ACCOUNT],
        check_no_shared_key,
        ADVISORY,
    ),
    resource_policy(
        "azure-storage-https-only",
        "Storage accounts should accept HTTPS only.",
        [STORAGE_ACCOUNT],
        check_https_only,
        ADVISORY,
    ),
    resource_policy(
        "azure-storage-min-tls",
        "Storage accounts should require TLS 1.2 or later.",
        [STORAGE_ACCOUNT],
        check_min_tls,
        ADVISORY,
    ),
]

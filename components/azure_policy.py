"""The trust, grant and lifecycle settings for an Azure Blob destination, as pure functions.

Tavus reaches the container through workload identity federation: a user-assigned managed identity
trusts Tavus's issuer and subject through a federated credential, and holds Storage Blob Data
Contributor on one container.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:
    # Types only: this module stays importable without the Azure SDK (the policy pack reads it).
    from pulumi_azure_native.storage import (
        ManagementPolicyFilterArgsDict,
        ManagementPolicyRuleArgsDict,
        ManagementPolicySchemaArgsDict,
    )

# Built-in role "Storage Blob Data Contributor": read, write and delete blobs in the scope.
STORAGE_BLOB_DATA_CONTRIBUTOR = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"
# The audience Microsoft Entra expects in a federated token, unless Tavus says otherwise.
DEFAULT_AUDIENCE = "api://AzureADTokenExchange"
# The identity is a managed identity, which Entra represents as a service principal.
PRINCIPAL_TYPE = "ServicePrincipal"


def role_definition_id(subscription_id: str, role: str = STORAGE_BLOB_DATA_CONTRIBUTOR) -> str:
    """A built-in role's definition id, as role assignments in that subscription name it."""
    return f"/subscriptions/{subscription_id}/providers/Microsoft.Authorization/roleDefinitions/{role}"


def audiences(audience: Optional[str] = None) -> list[str]:
    return [audience or DEFAULT_AUDIENCE]


def account_name_prefix(component: str) -> str:
    """Storage account names are 3-24 lowercase letters and digits, and Pulumi appends 8 random
    characters to an auto-named one, so the logical name keeps at most 16."""
    return re.sub(r"[^a-z0-9]", "", component.lower())[:16] or "tavusrecordings"


def management_policy(
    container: str, noncurrent_version_days: int, retention_days: Optional[int] = None
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
    return {"rules": rules}

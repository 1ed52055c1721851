"""The trust, grant and lifecycle settings for an Azure Blob destination, as pure functions.

Tavus reaches the container through workload identity federation: a user-assigned managed identity
trusts Tavus's issuer and subject through a federated credential, and holds Storage Blob Data
Contributor on one container.
"""

from __future__ import annotations

import hashlib
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


_GUID = re.compile(r"^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
# Storage account names are global across Azure: 3-24 lowercase letters and digits.
_ACCOUNT_PREFIX_LENGTH = 16
_ACCOUNT_HASH_LENGTH = 8


def storage_account_name(component: str, stack: str, subscription_id: str) -> str:
    """The default storage account name: the component name's letters and digits, cut to 16, and 8
    characters hashed from the subscription, stack and component, so two components in one program,
    two stacks, or two customers with the kit's defaults never meet on one global name.

    Before a deploy the subscription is not known (the offline plan has a placeholder): the hashed
    part is then shown as a placeholder too, rather than a name that will not be the one created.
    """
    prefix = re.sub(r"[^a-z0-9]", "", component.lower())[:_ACCOUNT_PREFIX_LENGTH] or "tavusrecordings"
    if not _GUID.match(subscription_id):
        return f"{prefix}<hash of subscription, stack, component>"
    digest = hashlib.sha256("\0".join((subscription_id.lower(), stack, component)).encode()).hexdigest()
    return f"{prefix}{digest[:_ACCOUNT_HASH_LENGTH]}"


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

"""`AzureBlobRecordingStorage`: a hardened storage account and container (or ones you already have)
Tavus writes to through a managed identity with a federated credential.

The trust and lifecycle settings come from `components.azure_policy`; this module only wires them
into resources.
"""

from typing import Any, Mapping, NamedTuple, NotRequired, Optional, TypedDict

import pulumi
from pulumi_azure_native import authorization, managedidentity, monitor, resources, storage

from components import azure_policy, compliance, tavus
from components.lifecycle import DEFAULT_NONCURRENT_VERSION_DAYS, SOFT_DELETE_DAYS
from components.tags import with_default


# Every storage account the kit makes: TLS 1.2 over HTTPS, no public blobs, and Entra ID only (no account keys or SAS
# tokens that could bypass a role assignment), never replicated to another tenant.
HARDENED_ACCOUNT: dict[str, Any] = {
    "kind": "StorageV2",
    "minimum_tls_version": "TLS1_2",
    "enable_https_traffic_only": True,
    "allow_blob_public_access": False,
    "allow_shared_key_access": False,
    "default_to_o_auth_authentication": True,
    "allow_cross_tenant_replication": False,
}

class AzureBlobRecordingStorageArgs(TypedDict):
    """Inputs of `AzureBlobRecordingStorage`: Tavus's issuer and subject, the rest optional."""

    tavus_oidc_issuer: pulumi.Input[str]
    """https issuer URL of the tokens Tavus presents (Tavus's recording guide, Azure tab)."""
    tavus_oidc_subject: pulumi.Input[str]
    """Subject claim of the tokens Tavus presents; the only identity the credential accepts."""
    tavus_oidc_audience: NotRequired[pulumi.Input[str]]
    """Audience of Tavus's tokens; default `api://AzureADTokenExchange`."""
    storage_account: NotRequired[pulumi.Input[str]]
    """Storage account to create; absent: the component name's letters (up to 16) and 8 characters hashed from the subscription, stack and component."""
    container: NotRequired[pulumi.Input[str]]
    """Container to create; default `recordings`."""
    existing_storage_account: NotRequired[pulumi.Input[str]]
    """An existing storage account to grant Tavus on instead (with `existing_container` and `resource_group_name`): no storage is created or changed."""
    existing_container: NotRequired[pulumi.Input[str]]
    """The existing container in `existing_storage_account` that Tavus writes to."""
    resource_group_name: NotRequired[pulumi.Input[str]]
    """An existing resource group to use (with an existing account: the account's); absent: one is created (and kept on destroy)."""
    sku_name: NotRequired[pulumi.Input[str]]
    """Storage account SKU; default `Standard_LRS`, which every region offers."""
    key_vault_key_uri: NotRequired[pulumi.Input[str]]
    """Key Vault key the account encrypts with (https://<vault>.vault.azure.net/keys/<key>[/<version>]; no version: the newest), through a user-assigned identity made for it, which must be granted Key Vault Crypto Service Encryption User on the key. Absent: Microsoft-managed keys."""
    retention_days: NotRequired[pulumi.Input[int]]
    """Delete recordings this many days after upload; absent or 0 keeps them."""
    noncurrent_version_days: NotRequired[pulumi.Input[int]]
    """Delete superseded versions this many days after they stop being current."""
    cold_after_days: NotRequired[pulumi.Input[int]]
    """Move current recordings (base blobs) to the Cool tier this many days after upload (billed 30 days there at least); absent or 0: off."""
    tags: NotRequired[pulumi.Input[Mapping[str, pulumi.Input[str]]]]
    """Tags on the resource group, storage account and identity the kit creates; `managed-by: tavus-recording` is added."""
    tavus_access: NotRequired[pulumi.Input[str]]
    """`granted` (default) or `revoked`: revoked creates no federated credential and no role assignment (deleting them on an update), keeps the identity (so a re-grant keeps its client id) and keeps the storage and every setting on it; it decides which resources exist, so it must be known when the component is built (a plain value, not another resource's output)."""
    immutable_days: NotRequired[pulumi.Input[int]]
    """Keep every recording WORM (no overwrite, no delete) for this many days after upload, by a time-based retention policy on the container (1-146000; absent: off). A plain value, known when the component is built."""
    immutable_mode: NotRequired[pulumi.Input[str]]
    """`governance` (default: the policy stays unlocked, so an administrator can shorten or delete it) or `compliance` (the policy must be locked once with the Azure CLI, which nobody can undo; azure-native cannot lock it). A plain value."""
    audit_logs: NotRequired[pulumi.Input[bool]]
    """Log every blob read, write and delete (StorageRead, StorageWrite, StorageDelete) to a storage account made for the logs, kept on destroy with no expiry. A plain value."""


class _Container(NamedTuple):
    account: pulumi.Output[str]
    name: pulumi.Output[str]
    id: pulumi.Output[str]


class _Created(NamedTuple):
    """What `_create_storage` made: the container, its account, and the key's identity (None without a key)."""

    container: _Container
    account: storage.StorageAccount
    encryption_identity_id: Optional[pulumi.Output[str]]


class AzureBlobRecordingStorage(pulumi.ComponentResource):
    """An Azure Blob destination for Tavus recordings, and the `recording_storage` object that points at it."""

    recording_storage: pulumi.Output[dict[str, str]]
    """The `recording_storage` object for POST /v2/conversations."""
    storage_account: pulumi.Output[str]
    """Name of the storage account."""
    container: pulumi.Output[str]
    """Name of the container recordings are written to."""
    client_id: pulumi.Output[str]
    """Client id of the managed identity Tavus signs in as."""
    tenant_id: pulumi.Output[str]
    """Entra tenant of the managed identity."""
    container_id: pulumi.Output[str]
    """Resource id of the container, the scope of the role assignment."""
    subscription_id: pulumi.Output[str]
    """Subscription the storage account is in."""
    resource_group_name: pulumi.Output[str]
    """Resource group of the storage account and the identity."""
    identity_id: pulumi.Output[str]
    """The managed identity's resource id; `verify` reads the identity and its credentials by it."""
    tavus_access: pulumi.Output[str]
    """`granted` or `revoked`; when revoked, `recording_storage` is None."""
    encryption_identity_id: pulumi.Output[Optional[str]]
    """Resource id of the identity the account reaches its Key Vault key as (not Tavus's); None without a key."""
    audit_log_account: pulumi.Output[Optional[str]]
    """Name of the storage account the audit log is written to; None without `audit_logs`."""

    def __init__(
        self,
        name: str,
        args: AzureBlobRecordingStorageArgs,
        opts: Optional[pulumi.ResourceOptions] = None,
    ) -> None:
        super().__init__("tavus-recording:index:AzureBlobRecordingStorage", name, None, opts)
        revoked = tavus.access_revoked(args.get("tavus_access"))  # a bad value fails before any resource
        worm = compliance.worm(args.get("immutable_days"), args.get("immutable_mode"), azure_policy.MAX_IMMUTABLE_DAYS)
        audit = compliance.audit_on(args.get("audit_logs"))

        tags = pulumi.Output.from_input(args.get("tags")).apply(with_default)
        child = pulumi.ResourceOptions(parent=self)
        # An empty name from another language's SDK means "not set", like an absent one.
        existing_account = args.get("existing_storage_account") or None

        if existing_account is not None and (worm or audit):
            # The kit changes nothing on an account it does not manage (README: existing storage).
            raise ValueError("immutable_days and audit_logs need storage the kit creates; existing_storage_account is left as it is")

        resource_group_name = args.get("resource_group_name")
        if not resource_group_name:
            if existing_account is not None:
                raise ValueError("existing_storage_account needs resource_group_name: the group that holds the account")
            # Deleting a resource group deletes everything in it, so a created one is kept on destroy.
            kept = pulumi.ResourceOptions(parent=self, retain_on_delete=True)
            resource_group_name = resources.ResourceGroup(f"{name}-rg", tags=tags, opts=kept).name

        subscription_id = authorization.get_client_config_output(opts=pulumi.InvokeOutputOptions(parent=self)).subscription_id
        if existing_account is None:
            account_name = args.get("storage_account") or subscription_id.apply(
                lambda subscription: azure_policy.storage_account_name(name, pulumi.get_stack(), subscription)
            )
            created = self._create_storage(name, args, account_name, resource_group_name, tags, worm)
            container = created.container
            audit_log_account = self._audit(name, created.account, resource_group_name, subscription_id, tags) if audit else None
            encryption_identity_id = created.encryption_identity_id
        else:
            container = self._find_container(existing_account, args.get("existing_container"), resource_group_name)
            audit_log_account = encryption_identity_id = None

        identity = managedidentity.UserAssignedIdentity(
            f"{name}-writer",
            resource_group_name=resource_group_name,
            tags=tags,
            opts=child,
        )
        if not revoked:
            self._grant(name, args, identity, resource_group_name, subscription_id, container)
        # Revoked: no federated credential (no new token exchange) and no role assignment (the tokens Tavus
        # already holds are refused at authorization, once RBAC propagates: minutes). The identity stays.

        self.storage_account = container.account
        self.container = container.name
        self.container_id = container.id
        self.client_id = identity.client_id
        self.tenant_id = identity.tenant_id
        self.subscription_id = subscription_id
        self.resource_group_name = pulumi.Output.from_input(resource_group_name)
        self.identity_id = identity.id
        self.tavus_access = pulumi.Output.from_input(tavus.TAVUS_ACCESS_REVOKED if revoked else tavus.TAVUS_ACCESS_GRANTED)
        self.encryption_identity_id = pulumi.Output.from_input(encryption_identity_id)
        self.audit_log_account = pulumi.Output.from_input(audit_log_account)
        self.recording_storage = pulumi.Output.from_input(None) if revoked else pulumi.Output.all(  # type: ignore[assignment]
            container.account, container.name, identity.tenant_id, identity.client_id
        ).apply(
            lambda values: tavus.AzureBlobRecordingStorageConfig(
                storage_account=values[0],
                container=values[1],
                tenant_id=values[2],
                client_id=values[3],
            ).model_dump()
        )
        self.register_outputs(
            {
                "recording_storage": self.recording_storage,
                # The retention the guardrails hold lifecycle rules to (the policy pack reads it here).
                "retentionDays": args.get("retention_days") or None,
                "coldAfterDays": args.get("cold_after_days") or None,
                "storage_account": self.storage_account,
                "container": self.container,
                "container_id": self.container_id,
                "client_id": self.client_id,
                "tenant_id": self.tenant_id,
                "subscription_id": self.subscription_id,
                "resource_group_name": self.resource_group_name,
                "identity_id": self.identity_id,
                # The account's key (the policy pack reads it here).
                "keyVaultKeyUri": args.get("key_vault_key_uri") or None,
                "tavus_access": self.tavus_access,
                # What the stack asked for, which the policy pack holds the container's policy and the
                # diagnostic setting to: the days, the mode in force (None when off), and the audit log.
                "immutableDays": worm[0] if worm else None,
                "immutableMode": worm[1] if worm else None,
                "auditLogs": audit,
                "encryption_identity_id": self.encryption_identity_id,
                "audit_log_account": self.audit_log_account,
            }
        )

    def _grant(
        self,
        name: str,
        args: AzureBlobRecordingStorageArgs,
        identity: managedidentity.UserAssignedIdentity,
        resource_group_name: pulumi.Input[str],
        subscription_id: pulumi.Output[str],
        container: _Container,
    ) -> None:
        """Tavus's tokens may sign in as the identity, and the identity may write blobs in the container."""
        child = pulumi.ResourceOptions(parent=self)
        managedidentity.FederatedIdentityCredential(
            f"{name}-tavus",
            resource_group_name=resource_group_name,
            resource_name_=identity.name,
            issuer=args["tavus_oidc_issuer"],
            subject=args["tavus_oidc_subject"],
            audiences=pulumi.Output.from_input(args.get("tavus_oidc_audience")).apply(azure_policy.audiences),
            opts=child,
        )
        authorization.RoleAssignment(
            f"{name}-blob-contributor",
            principal_id=identity.principal_id,
            principal_type=azure_policy.PRINCIPAL_TYPE,
            role_definition_id=subscription_id.apply(azure_policy.role_definition_id),
            scope=container.id,
            description="Tavus's recording service writes conversation recordings to this container",
            opts=child,
        )

    def _find_container(
        self, account: pulumi.Input[str], container: Optional[pulumi.Input[str]], resource_group_name: pulumi.Input[str]
    ) -> _Container:
        """An existing container, read and never managed: the role assignment's scope."""
        if not container:
            raise ValueError("existing_storage_account needs existing_container: the container Tavus writes to")
        found = storage.get_blob_container_output(
            account_name=account,
            container_name=container,
            resource_group_name=resource_group_name,
            opts=pulumi.InvokeOutputOptions(parent=self),
        )
        return _Container(pulumi.Output.from_input(account), found.apply(lambda c: c.name), found.apply(lambda c: c.id))

    def _create_storage(
        self,
        name: str,
        args: AzureBlobRecordingStorageArgs,
        account_name: pulumi.Input[str],
        resource_group_name: pulumi.Input[str],
        tags: pulumi.Output[Mapping[str, pulumi.Input[str]]],
        worm: Optional[tuple[int, str]],
    ) -> _Created:
        """A new storage account, hardened and versioned, with the container, its WORM policy and lifecycle rules."""
        container_name = pulumi.Output.from_input(args.get("container") or "recordings")
        retention_days = pulumi.Output.from_input(args.get("retention_days"))
        noncurrent_days = pulumi.Output.from_input(
            args.get("noncurrent_version_days") or DEFAULT_NONCURRENT_VERSION_DAYS
        )
        cold_after_days = pulumi.Output.from_input(args.get("cold_after_days"))
        # Recordings are customer data: the account, container and their settings outlive `pulumi destroy`.
        # No CanNotDelete lock: the role assignment under the account would inherit it, and destroy
        # could then not revoke Tavus's access.
        kept = pulumi.ResourceOptions(parent=self, retain_on_delete=True)

        key_uri = args.get("key_vault_key_uri") or None
        encryption_identity = None if key_uri is None else self._encryption_identity(name, resource_group_name, tags)

        # The logical name is the whole component name (two components never share a URN); the
        # account's own, global name is derived, since auto-naming would keep the hyphens.
        account = storage.StorageAccount(
            f"{name}-account",
            account_name=account_name,
            resource_group_name=resource_group_name,
            sku={"name": args.get("sku_name") or "Standard_LRS"},
            **HARDENED_ACCOUNT,
            identity=None if encryption_identity is None else encryption_identity.id.apply(azure_policy.account_identity),
            encryption=None if encryption_identity is None else pulumi.Output.all(key_uri, encryption_identity.id).apply(
                lambda values: azure_policy.account_encryption(*values)
            ),
            tags=tags,
            opts=kept,
        )
        # The account's sub-resources all name it by account and group.
        in_account = {"account_name": account.name, "resource_group_name": resource_group_name}
        # The account's sub-resources are written one after another: the storage provider answers
        # concurrent writes to one account with 409 StorageAccountOperationInProgress.
        blob_service = storage.BlobServiceProperties(
            f"{name}-blob-service",
            **in_account,
            blob_services_name="default",
            is_versioning_enabled=True,
            delete_retention_policy={"enabled": True, "days": SOFT_DELETE_DAYS},
            container_delete_retention_policy={"enabled": True, "days": SOFT_DELETE_DAYS},
            opts=kept,
        )
        container = storage.BlobContainer(
            f"{name}-container",
            **in_account,
            container_name=container_name,
            public_access=storage.PublicAccess.NONE,
            opts=kept.merge(pulumi.ResourceOptions(depends_on=[blob_service])),
        )
        before_lifecycle: pulumi.Resource = container
        if worm:
            before_lifecycle = self._immutability(name, account, resource_group_name, container, worm[0], kept)
        storage.ManagementPolicy(
            f"{name}-lifecycle",
            **in_account,
            management_policy_name="default",
            policy=pulumi.Output.all(container_name, noncurrent_days, retention_days, cold_after_days).apply(
                lambda values: azure_policy.management_policy(*values)
            ),
            opts=kept.merge(pulumi.ResourceOptions(depends_on=[before_lifecycle])),
        )
        return _Created(
            _Container(account.name, container.name, container.id),
            account,
            None if encryption_identity is None else encryption_identity.id,
        )

    def _immutability(
        self,
        name: str,
        account: storage.StorageAccount,
        resource_group_name: pulumi.Input[str],
        container: storage.BlobContainer,
        days: int,
        kept: pulumi.ResourceOptions,
    ) -> storage.BlobContainerImmutabilityPolicy:
        """The container's time-based retention policy: no blob in it can be overwritten, or deleted until it is
        `days` old. Created unlocked (governance); compliance is the one-time lock the plan prints, which
        azure-native cannot do (its `state` is output-only; pulumi-azure-native#2840).

        Container-level, not version-level: it needs no other feature and is set on an existing container as it is
        (immutable-storage-overview.md, "Feature dependencies"; version-level WORM is meant to be enabled when a
        container is made, else the container must be migrated: immutable-version-level-worm-policies.md), and it
        sits beside the account's versioning (the ARM object-level-WORM migration requires both at once). Kept on destroy: deleting it needs the policy's etag in If-Match, which the provider
        does not send (pulumi-azure-native#2154), and a locked one cannot be deleted at all.
        """
        return storage.BlobContainerImmutabilityPolicy(
            f"{name}-immutability",
            account_name=account.name,
            resource_group_name=resource_group_name,
            container_name=container.name,
            immutability_policy_name=azure_policy.IMMUTABILITY_POLICY_NAME,
            immutability_period_since_creation_in_days=days,
            # Append writes only matter to append blobs; recordings are block blobs and stay sealed.
            allow_protected_append_writes=False,
            opts=kept.merge(pulumi.ResourceOptions(depends_on=[container])),
        )

    def _audit(
        self,
        name: str,
        account: storage.StorageAccount,
        resource_group_name: pulumi.Input[str],
        subscription_id: pulumi.Output[str],
        tags: pulumi.Output[Mapping[str, pulumi.Input[str]]],
    ) -> pulumi.Output[str]:
        """Every blob read, write and delete of the account, logged to an account made for the logs; its name.

        The log account is hardened like the recordings account, in its region (Azure Monitor writes resource logs
        only to a Standard account in the monitored resource's region: azure-monitor diagnostic-settings.md,
        "Destination limitations"), and kept on destroy with no expiry: the logs are evidence. It cannot be the
        recordings account itself: a storage account's logs would log their own writing (Azure Storage monitoring,
        "Destination limitations")."""
        log_account = storage.StorageAccount(
            f"{name}-audit",
            account_name=subscription_id.apply(
                lambda subscription: azure_policy.storage_account_name(
                    name, pulumi.get_stack(), subscription, azure_policy.AUDIT_ACCOUNT_SUFFIX
                )
            ),
            resource_group_name=resource_group_name,
            location=account.location,
            sku={"name": "Standard_LRS"},
            # Readers sign in with Entra ID. Delivery into an account without Shared Key is not confirmed in
            # Microsoft's docs (they ask only a Standard account in the region, and the firewall bypass).
            **HARDENED_ACCOUNT,
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self, retain_on_delete=True),
        )
        monitor.DiagnosticSetting(
            f"{name}-audit",
            resource_uri=account.id.apply(azure_policy.blob_service_id),
            name=f"{name}-audit",
            logs=azure_policy.audit_log_settings(),
            storage_account_id=log_account.id,
            opts=pulumi.ResourceOptions(parent=self),
        )
        return log_account.name

    def _encryption_identity(
        self, name: str, resource_group_name: pulumi.Input[str], tags: pulumi.Output[Mapping[str, pulumi.Input[str]]]
    ) -> managedidentity.UserAssignedIdentity:
        """The identity the account reaches its Key Vault key as.

        Not Tavus's writer identity: that one trusts Tavus's tokens, so a grant on the key there would let Tavus
        use the key itself, and revoking Tavus's access would cut the account off from its own key. The kit
        cannot grant it the key: the key's URI names the vault, not its subscription and resource group, which a
        role assignment's scope needs; the plan shows the grant to make. Kept on destroy, like the account: without
        it, the recordings the account keeps could no longer be read or written.
        """
        return managedidentity.UserAssignedIdentity(
            f"{name}-encryption",
            resource_group_name=resource_group_name,
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self, retain_on_delete=True),
        )

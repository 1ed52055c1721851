"""`AzureBlobRecordingStorage` on Pulumi's mock engine: what the engine would be asked to create."""

from __future__ import annotations

import pytest
from pulumi.provider.experimental.analyzer import Analyzer

from components import tavus
from components.azure import AzureBlobRecordingStorage
from tavus_recording.mock_engine import ProgramRun, resolve, run_component

COMPONENT = "tavus-recording:index:AzureBlobRecordingStorage"
ISSUER = "https://issuer.tavus.example"
SUBJECT = "tavus-recording-writer"
KEPT = [
    "azure-native:resources:ResourceGroup",
    "azure-native:storage:StorageAccount",
    "azure-native:storage:BlobServiceProperties",
    "azure-native:storage:BlobContainer",
    "azure-native:storage:ManagementPolicy",
]
TRUST = [
    "azure-native:managedidentity:UserAssignedIdentity",
    "azure-native:managedidentity:FederatedIdentityCredential",
    "azure-native:authorization:RoleAssignment",
]


def build(name: str = "rec", **args) -> tuple[ProgramRun, AzureBlobRecordingStorage]:
    return run_component(
        lambda: AzureBlobRecordingStorage(name, {"tavus_oidc_issuer": ISSUER, "tavus_oidc_subject": SUBJECT, **args})
    )


@pytest.fixture(scope="module")
def default_run() -> tuple[ProgramRun, AzureBlobRecordingStorage]:
    return build()


def test_creates_exactly_the_storage_and_the_trust(default_run):
    run, _ = default_run
    assert sorted(r.type for r in run.registrations) == sorted([COMPONENT, *KEPT, *TRUST])


def test_children_are_parented_to_the_component(default_run):
    run, _ = default_run
    assert all(r.parent == f"{COMPONENT}::rec" for r in run.registrations if r.type != COMPONENT)


def test_storage_survives_destroy_and_the_trust_does_not(default_run):
    run, _ = default_run
    for type_ in KEPT:
        assert run.one(type_).retain_on_delete, type_
    for type_ in TRUST:
        assert not run.one(type_).retain_on_delete, type_
    # A delete lock would be inherited by the role assignment and stop destroy revoking it.
    assert not [r for r in run.registrations if "Lock" in r.type]


def test_account_is_hardened(default_run):
    run, _ = default_run
    account = run.one("azure-native:storage:StorageAccount").inputs
    assert {k: account[k] for k in account if k not in ("resourceGroupName", "tags", "accountName")} == {
        "kind": "StorageV2",
        "sku": {"name": "Standard_LRS"},
        "minimumTlsVersion": "TLS1_2",
        "enableHttpsTrafficOnly": True,
        "allowBlobPublicAccess": False,
        "allowSharedKeyAccess": False,
        "defaultToOAuthAuthentication": True,
        "allowCrossTenantReplication": False,
    }


def test_the_account_is_named_by_the_whole_component_and_given_a_derived_global_name(default_run):
    run, _ = default_run
    account = run.one("azure-native:storage:StorageAccount")
    assert account.name == "rec-account"
    # The subscription is known only at deploy: the plan shows which part it decides.
    assert account.inputs["accountName"] == "rec<hash of subscription, stack, component>"


def test_two_destinations_in_one_program_do_not_collide():
    # Before: both logical names were the component name cut to 16 characters, `acmerecordingspr`,
    # and the second registration failed with a duplicate URN.
    def both() -> list[AzureBlobRecordingStorage]:
        return [AzureBlobRecordingStorage(name, {"tavus_oidc_issuer": ISSUER, "tavus_oidc_subject": SUBJECT})
                for name in ("acme-recordings-prod-eu", "acme-recordings-prod-us")]

    run, _ = run_component(both)
    accounts = run.find("azure-native:storage:StorageAccount")
    assert sorted(a.name for a in accounts) == ["acme-recordings-prod-eu-account", "acme-recordings-prod-us-account"]
    assert len({r.urn for r in run.registrations}) == len(run.registrations)


def test_the_accounts_sub_resources_are_written_one_after_another(default_run):
    # The storage provider answers concurrent writes to one account with 409 StorageAccountOperationInProgress.
    run, _ = default_run
    container = run.one("azure-native:storage:BlobContainer")
    policy = run.one("azure-native:storage:ManagementPolicy")
    assert "azure-native:storage:BlobServiceProperties::rec-blob-service" in container.depends_on
    assert "azure-native:storage:BlobContainer::rec-container" in policy.depends_on


def test_versioning_and_soft_delete(default_run):
    run, _ = default_run
    service = run.one("azure-native:storage:BlobServiceProperties").inputs
    assert service["blobServicesName"] == "default"
    assert service["isVersioningEnabled"] is True
    assert service["deleteRetentionPolicy"] == {"enabled": True, "days": 7}
    assert service["containerDeleteRetentionPolicy"] == {"enabled": True, "days": 7}


def test_container_is_private(default_run):
    run, _ = default_run
    container = run.one("azure-native:storage:BlobContainer").inputs
    assert container["containerName"] == "recordings"
    assert container["publicAccess"] == "None"


def test_lifecycle_as_the_engine_receives_it(default_run):
    run, _ = default_run
    policy = run.one("azure-native:storage:ManagementPolicy").inputs
    assert policy["managementPolicyName"] == "default"
    assert policy["policy"]["rules"] == [
        {
            "name": "expire-noncurrent-versions",
            "enabled": True,
            "type": "Lifecycle",
            "definition": {
                "filters": {"blobTypes": ["blockBlob"], "prefixMatch": ["recordings/"]},
                "actions": {"version": {"delete": {"daysAfterCreationGreaterThan": 30}}},
            },
        }
    ]


def test_federated_credential_trusts_exactly_tavus(default_run):
    run, _ = default_run
    identity = run.one("azure-native:managedidentity:UserAssignedIdentity")
    credential = run.one("azure-native:managedidentity:FederatedIdentityCredential").inputs
    assert credential["resourceName"] == identity.outputs["name"]
    assert credential["issuer"] == ISSUER
    assert credential["subject"] == SUBJECT
    assert credential["audiences"] == ["api://AzureADTokenExchange"]


def test_role_assignment_is_blob_data_contributor_on_the_container_only(default_run):
    run, _ = default_run
    assignment = run.one("azure-native:authorization:RoleAssignment").inputs
    container = run.one("azure-native:storage:BlobContainer")
    assert assignment["scope"] == container.id
    assert assignment["scope"].endswith("/blobServices/default/containers/recordings")
    assert assignment["principalId"] == run.one("azure-native:managedidentity:UserAssignedIdentity").outputs["principalId"]
    assert assignment["principalType"] == "ServicePrincipal"
    assert assignment["roleDefinitionId"] == (
        "/subscriptions/<subscription-id>/providers/Microsoft.Authorization/roleDefinitions/"
        "ba92f5b4-2d11-453d-a403-e96b0029c9fe"
    )


def test_recording_storage_output(default_run):
    _, storage = default_run
    value = resolve(storage.recording_storage)
    assert value == {
        "provider": "azure_blob",
        "storage_account": "rec<hash of subscription, stack, component>",
        "container": "recordings",
        "tenant_id": "<tenant-id>",
        "client_id": "<identity-client-id>",
    }
    assert tavus.AzureBlobRecordingStorageConfig.model_validate(value).model_dump() == value


def test_existing_group_and_settings_reach_the_resources():
    run, storage = build(
        resource_group_name="acme-recordings",
        storage_account="acmetavusrec",
        container="tavus-calls",
        sku_name="Standard_ZRS",
        retention_days=90,
        noncurrent_version_days=7,
        tavus_oidc_audience="api://tavus",
    )
    assert not run.find("azure-native:resources:ResourceGroup")  # uses the existing group
    account = run.one("azure-native:storage:StorageAccount").inputs
    assert account["accountName"] == "acmetavusrec"
    assert account["resourceGroupName"] == "acme-recordings"
    assert account["sku"] == {"name": "Standard_ZRS"}
    assert run.one("azure-native:storage:BlobContainer").inputs["containerName"] == "tavus-calls"
    rules = run.one("azure-native:storage:ManagementPolicy").inputs["policy"]["rules"]
    assert rules[0]["definition"]["actions"]["version"]["delete"] == {"daysAfterCreationGreaterThan": 7}
    assert rules[1]["definition"]["actions"]["baseBlob"]["delete"] == {"daysAfterModificationGreaterThan": 90}
    assert rules[1]["definition"]["filters"]["prefixMatch"] == ["tavus-calls/"]
    credential = run.one("azure-native:managedidentity:FederatedIdentityCredential").inputs
    assert credential["audiences"] == ["api://tavus"]
    assert resolve(storage.recording_storage)["storage_account"] == "acmetavusrec"


def test_azure_component_can_be_hosted_as_a_provider():
    definition = Analyzer("tavus-recording").analyze([AzureBlobRecordingStorage])["component_definitions"][
        "AzureBlobRecordingStorage"
    ]
    assert not definition.inputs["tavusOidcIssuer"].optional
    assert definition.inputs["container"].optional
    assert "recordingStorage" in definition.outputs


# --- customer-managed key (keyVaultKeyUri)

KEY_URI = "https://acme-keys.vault.azure.net/keys/recordings"
VERSION = "0123456789abcdef0123456789abcdef"


def _encryption_identity(run: ProgramRun):
    return next(i for i in run.find("azure-native:managedidentity:UserAssignedIdentity") if i.name == "rec-encryption")


def test_a_key_encrypts_the_account_through_its_own_identity():
    run, _ = build(key_vault_key_uri=KEY_URI)
    identity = _encryption_identity(run)
    account = run.one("azure-native:storage:StorageAccount")
    assert account.inputs["identity"] == {"type": "UserAssigned", "userAssignedIdentities": [identity.id]}
    assert account.inputs["encryption"] == {
        "keySource": "Microsoft.Keyvault",
        # No version: Azure Storage follows the key's newest one.
        "keyVaultProperties": {"keyName": "recordings", "keyVaultUri": "https://acme-keys.vault.azure.net/"},
        "encryptionIdentity": {"encryptionUserAssignedIdentity": identity.id},
        "services": {"blob": {"enabled": True, "keyType": "Account"}},
    }
    assert "azure-native:managedidentity:UserAssignedIdentity::rec-encryption" in account.depends_on
    # Not Tavus's identity: no federated credential trusts it, and it is kept with the account.
    assert identity.retain_on_delete and identity.parent == f"{COMPONENT}::rec"
    writer = next(i for i in run.find("azure-native:managedidentity:UserAssignedIdentity") if i.name == "rec-writer")
    assert writer.id != identity.id
    assert [c.inputs["resourceName"] for c in run.find("azure-native:managedidentity:FederatedIdentityCredential")] == [
        writer.outputs["name"]
    ]


def test_a_pinned_version_is_passed_on():
    run, _ = build(key_vault_key_uri=f"{KEY_URI}/{VERSION}")
    properties = run.one("azure-native:storage:StorageAccount").inputs["encryption"]["keyVaultProperties"]
    assert properties["keyVersion"] == VERSION


def test_without_a_key_the_account_keeps_microsoft_managed_keys(default_run):
    run, _ = default_run
    account = run.one("azure-native:storage:StorageAccount").inputs
    assert "encryption" not in account and "identity" not in account
    assert [i.name for i in run.find("azure-native:managedidentity:UserAssignedIdentity")] == ["rec-writer"]


def test_the_plan_names_the_key_the_identity_and_the_grant_to_make():
    from components.azure_policy import KEY_VAULT_CRYPTO_SERVICE_ENCRYPTION_USER
    from stack_configs import azure_config
    from tavus_recording.mock_engine import run_program
    from tavus_recording.plan.summary import summary

    facts = summary(run_program(azure_config(keyVaultKeyUri=KEY_URI)))
    key = facts["storage"]["key"]
    assert key["name"] == "recordings" and key["vault_uri"] == "https://acme-keys.vault.azure.net/"
    assert key["principal_id"] == "<identity-principal-id>" and key["role_to_grant"] == KEY_VAULT_CRYPTO_SERVICE_ENCRYPTION_USER
    line = next(line for line in facts["lines"] if line.startswith("Key: "))
    assert "soft delete and purge protection" in line and KEY_VAULT_CRYPTO_SERVICE_ENCRYPTION_USER in line
    assert "--scope \"$(az keyvault show --name acme-keys --query id -o tsv)/keys/recordings\"" in line

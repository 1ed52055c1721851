"""`verify` for Azure Blob: the kit's own deployment passes every check, and each drift an attacker (or
a hurried admin) makes fails its own check, or is plainly unknown, never passing.

The healthy destination is what the program deploys for the `azure` example stack, run on Pulumi's
mock engine and written out as ARM would answer for it; a local TLS fake of Azure Resource Manager
(tests/fakes/azure_api.py) serves it to the real SDK clients.
"""

from __future__ import annotations

import copy
import json
import re
import sys
import time
import typing
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Optional, Sequence

import pytest
import trustme
from azure.core.exceptions import ClientAuthenticationError
from azure.mgmt.authorization import AuthorizationManagementClient
from azure.mgmt.msi import ManagedServiceIdentityClient
from azure.mgmt.storage import StorageManagementClient
from azure.mgmt.storage import models as storage_models
from azure.mgmt.storage._utils.model_base import Model as TypeSpecModel
from fakes import azure_api as arm
from fakes import deployed, loopback
from fakes.loopback import closed_port
from typer.testing import CliRunner

from components import azure_policy, tavus
from tavus_recording.cli import app
from tavus_recording.mock_engine import run_program
from tavus_recording.verify import azure as verify_azure
from tavus_recording.verify import azure_reads as reads
from tavus_recording.verify.azure import CHECK_IDS, MissingOutputs
from tavus_recording.verify.outputs import OutputsError
from tavus_recording.verify.report import CannotVerify, Check
from stack_configs import azure_config

# What the mock engine leaves as placeholders, made concrete as a real deployment would.
SUBSCRIPTION = "3f2b8c1e-5d4a-4c7b-9e2f-1a6b7c8d9e0f"
TENANT = "5b0e4a7c-2f1d-4e8a-9c3b-6d7e8f9a0b1c"
CLIENT_ID = "8d3c2b1a-6f5e-4d3c-8b2a-1f0e9d8c7b6a"
PRINCIPAL_ID = "9e8d7c6b-5a4f-4e3d-9c2b-1a0f9e8d7c6b"
STRANGER = "7c7c7c7c-1111-4222-8333-444455556666"
PLACEHOLDERS = {
    "<subscription-id>": SUBSCRIPTION,
    "<tenant-id>": TENANT,
    "<identity-client-id>": CLIENT_ID,
    "<identity-principal-id>": PRINCIPAL_ID,
    "<random>": "4f7a2c9e",
    # The default account name's hashed part, known only once the subscription is.
    "<hash of subscription, stack, component>": "a1b2c3d4",
}
OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c"
BLOB_READER = "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"
BLOB_OWNER = "b7e6dc6d-f1e8-4753-8033-0f276bb0955b"
MIO = "f1a07417-d97a-45cb-824c-7a7467783830"
MANAGED_IDENTITY_CONTRIBUTOR = "e40ec5ca-96e0-45a2-b4ff-59039f2c2b59"
STORAGE_ACCOUNT_CONTRIBUTOR = "17d1049b-9a84-46fb-8f53-869881c3d3ab"
KEY_OPERATOR = "81a9662b-bebf-436f-a333-f67b29880f12"
GROUP = "4a4a4a4a-2222-4333-8444-555566667777"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
CUSTOM = "5a5a5a5a-0000-4000-8000-000000000001"
BLOBS = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs"
TOKEN = "arm-token-0123456789"
# azure-native names the account's HTTPS switch after the create call's parameter; ARM answers with this.
ARM_ACCOUNT_NAMES: dict[str, str] = {"enableHttpsTrafficOnly": "supportsHttpsTrafficOnly"}
# No retries and short timeouts, so a test of an unreachable endpoint takes seconds.
FAST: dict[str, Any] = {"retry_total": 0, "connection_timeout": 2, "read_timeout": 5}


def realise(value: Any) -> Any:
    return deployed.realise(value, PLACEHOLDERS)


@dataclass
class Kit:
    """The `azure` example stack as deployed: its outputs, and ARM's view of its resources."""

    outputs: dict[str, Any]
    resources: list[dict[str, Any]]

    @property
    def storage(self) -> tavus.AzureBlobRecordingStorageConfig:
        return tavus.AzureBlobRecordingStorageConfig.model_validate(self.outputs["recording_storage"])

    @property
    def identity_id(self) -> str:
        return self.outputs["identity_id"]

    @property
    def account_id(self) -> str:
        return self.outputs["container_id"].split("/blobServices/")[0]

    @property
    def container_id(self) -> str:
        return self.outputs["container_id"]

    @property
    def group_id(self) -> str:
        return self.account_id.split("/providers/")[0]

    def state(self) -> arm.ArmState:
        state = arm.ArmState()
        state.put(*copy.deepcopy(self.resources))
        return state


@pytest.fixture(scope="module")
def kit() -> Kit:
    return deploy(azure_config())


def deploy(config: dict[str, str]) -> Kit:
    """ARM's view of what the program deploys for `config` (the `azure` example stack's, changed)."""
    run = run_program(config, stack="azure")
    outputs = realise(run.outputs)
    assert "<" not in json.dumps(outputs), "a placeholder the test does not know"

    def one(type_: str) -> tuple[str, dict[str, Any]]:
        registration = run.one(type_)
        return realise(registration.id), realise(registration.outputs)

    identity_id, identity = one("azure-native:managedidentity:UserAssignedIdentity")
    # The recordings account (with auditLogs the kit makes a second one, for the logs).
    (recordings,) = [r for r in run.find("azure-native:storage:StorageAccount") if r.name.endswith("-account")]
    account_id: str = realise(recordings.id)
    account: dict[str, Any] = realise(recordings.outputs)
    container_id, container = one("azure-native:storage:BlobContainer")
    _, service = one("azure-native:storage:BlobServiceProperties")
    _, lifecycle = one("azure-native:storage:ManagementPolicy")
    _, credential = one("azure-native:managedidentity:FederatedIdentityCredential")
    _, grant_ = one("azure-native:authorization:RoleAssignment")
    location = account["location"]
    account_properties = {
        ARM_ACCOUNT_NAMES.get(name, name): value
        for name, value in account.items()
        # ARM answers tags beside `properties`, not inside them.
        if name not in ("resourceGroupName", "accountName", "name", "location", "kind", "sku", "tags")
    }
    service_properties = {
        name: value for name, value in service.items() if name not in ("resourceGroupName", "accountName", "blobServicesName")
    }
    resources = [
        arm.identity(
            identity_id,
            client_id=identity["clientId"],
            tenant_id=identity["tenantId"],
            principal_id=identity["principalId"],
            location=location,
        ),
        arm.federated_credential(
            identity_id,
            realise(f"{run.one('azure-native:managedidentity:FederatedIdentityCredential').name}<random>"),
            issuer=credential["issuer"],
            subject=credential["subject"],
            audiences=credential["audiences"],
        ),
        arm.role_assignment(
            scope=grant_["scope"],
            role_definition_id=grant_["roleDefinitionId"],
            principal_id=grant_["principalId"],
            principal_type=grant_["principalType"],
            description=grant_["description"],
        ),
        arm.storage_account(account_id, location=location, sku=account["sku"]["name"], kind=account["kind"], properties=account_properties),
        arm.blob_service(account_id, sku=account["sku"]["name"], properties=service_properties),
        arm.management_policy(account_id, lifecycle["policy"]["rules"]),
        arm.container(account_id, container["name"], public_access=container["publicAccess"]),
    ]
    # WORM and audit logs (issue 19), when the stack asks for them; azure-native cannot lock a policy: ARM answers Unlocked.
    for policy in (realise(r.outputs) for r in run.find("azure-native:storage:BlobContainerImmutabilityPolicy")):
        resources.append(arm.immutability_policy(container_id, days=policy["immutabilityPeriodSinceCreationInDays"],
                                                 append_writes=policy.get("allowProtectedAppendWrites"),
                                                 append_writes_all=policy.get("allowProtectedAppendWritesAll")))
    for setting in (realise(r.outputs) for r in run.find("azure-native:monitor:DiagnosticSetting")):
        resources.append(arm.diagnostic_setting(setting["resourceUri"], setting["name"], logs=setting["logs"],
                                                storage_account_id=setting.get("storageAccountId"), workspace_id=setting.get("workspaceId")))
    # The audit log account (auditLogs), in the stack's group: verify reads its lifecycle policy.
    for log in (r for r in run.find("azure-native:storage:StorageAccount") if r.name.endswith("-audit")):
        resources.append(arm.storage_account(realise(log.id), location=location, sku="Standard_LRS", kind="StorageV2", properties={}))
    assert container_id == outputs["container_id"] and identity_id == outputs["identity_id"]
    return Kit(outputs=outputs, resources=resources)


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@dataclass
class Run:
    checks: dict[str, Check]
    fake: arm.FakeArm
    seconds: float

    def failing(self) -> set[str]:
        return {check_id for check_id, check in self.checks.items() if check.ok is False}

    def unknown(self) -> set[str]:
        return {check_id for check_id, check in self.checks.items() if check.ok is None}


def verify_with(
    kit: Kit,
    state: arm.ArmState,
    workdir: Path,
    ca: trustme.CA,
    outputs: Optional[dict[str, Any]] = None,
    credential: Any = None,
    **client_kwargs: Any,
) -> Run:
    outputs = outputs if outputs is not None else kit.outputs
    with arm.running(state, workdir, ca) as fake:
        started = time.monotonic()
        checks = verify_azure.verify(
            kit.storage,
            outputs,
            credential=credential or arm.StaticCredential(TOKEN),
            **{"base_url": fake.url, **FAST, "connection_verify": str(fake.ca_path), **client_kwargs},
        )
        seconds = time.monotonic() - started
    # Every report lists the same checks, in the same order.
    assert [check.id for check in checks] == list(CHECK_IDS)
    return Run({check.id: check for check in checks}, fake, seconds)


@pytest.fixture
def check(kit: Kit, tmp_path: Path, ca: trustme.CA) -> Callable[..., Run]:
    """Verify the kit's deployment after `drift(state, kit)` changed it."""

    def run(drift: Optional[Callable[[arm.ArmState, Kit], None]] = None, **kwargs: Any) -> Run:
        state = kit.state()
        if drift:
            drift(state, kit)
        return verify_with(kit, state, tmp_path, ca, **kwargs)

    return run


# --- the kit's own deployment


def test_the_kits_deployment_passes_every_check(check):
    run = check()
    assert {check_id: c.ok for check_id, c in run.checks.items()} == {check_id: True for check_id in CHECK_IDS}, run.checks
    assert list(CHECK_IDS) == [
        "azure.identity.exists",
        "azure.identity.ids",
        "azure.identity.federation",
        "azure.identity.operators",
        "azure.identity.role_assignments",
        "azure.identity.least_privilege",
        "azure.account.exists",
        "azure.account.tls",
        "azure.account.https_only",
        "azure.account.public_access",
        "azure.account.shared_key",
        "azure.account.network",
        "azure.account.encryption_key",
        "azure.account.versioning",
        "azure.account.lifecycle",
        "azure.account.cold_tier",
        "azure.account.replication",
        "azure.account.diagnostic_logs",
        "azure.container.exists",
        "azure.container.public_access",
        "azure.container.immutability",
        "azure.container.access",
    ]


def subscription_listing() -> str:
    return f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Authorization/roleAssignments"


def listing(scope: str) -> str:
    return f"{scope}/providers/Microsoft.Authorization/roleAssignments"


def associated(kit: Kit) -> str:
    return f"{kit.identity_id}/listAssociatedResources"


def test_it_only_reads_each_resource_once_with_the_callers_bearer_token(check, kit):
    run = check()
    received = run.fake.received
    # The one POST is ARM's listAssociatedResources action, a read, at the api-version that publishes it.
    assert {(r.method, r.path) for r in received if r.method != "GET"} == {("POST", associated(kit))}
    assert [r.query["api-version"] for r in received if r.method == "POST"] == [reads.ASSOCIATED_RESOURCES_API_VERSION]
    assert {r.headers["authorization"] for r in received} == {f"Bearer {TOKEN}"}
    assert sorted(r.path.lower() for r in received) == sorted(
        path.lower()
        for path in (
            kit.identity_id,
            f"{kit.identity_id}/federatedIdentityCredentials",
            associated(kit),
            subscription_listing(),
            listing(kit.identity_id),
            kit.account_id,
            f"{kit.account_id}/blobServices/default",
            f"{kit.account_id}/managementPolicies/default",
            f"{kit.account_id}/objectReplicationPolicies",
            kit.container_id,
            listing(kit.container_id),
        )
    )
    (mine,) = [r for r in received if r.path == subscription_listing()]
    # The identity's own assignments (and its groups') are listed for its principal only, never by searching the subscription.
    assert mine.query["$filter"] == f"assignedTo('{PRINCIPAL_ID}')"
    # Over the identity and over the container, everyone's are listed: ARM answers at, above and below.
    assert all("$filter" not in r.query for r in received if r.path.endswith("/roleAssignments") and r is not mine)


def test_a_custom_audience_output_is_what_the_credential_must_carry(check, kit):
    outputs = {**kit.outputs, "tavus_oidc_audience": "api://tavus-recordings"}
    run = check(outputs=outputs)
    assert run.failing() == {"azure.identity.federation"}
    assert "api://tavus-recordings" in run.checks["azure.identity.federation"].detail


# --- drift: each fails its own check, naming what it found


def set_identity(**properties: Any) -> Callable[[arm.ArmState, Kit], None]:
    return lambda state, kit: state.set_properties(kit.identity_id, **properties)


def set_credential(**properties: Any) -> Callable[[arm.ArmState, Kit], None]:
    def drift(state: arm.ArmState, kit: Kit) -> None:
        (credential,) = state.of_type(arm.FEDERATED_CREDENTIAL_TYPE)
        state.set_properties(credential["id"], **properties)

    return drift


def add_credential(state: arm.ArmState, kit: Kit) -> None:
    state.put(
        arm.federated_credential(
            kit.identity_id, "github-deploy", issuer="https://token.actions.githubusercontent.com", subject="repo:acme/app:ref:refs/heads/main",
            audiences=[azure_policy.DEFAULT_AUDIENCE],
        )
    )


def remove_credentials(state: arm.ArmState, kit: Kit) -> None:
    for credential in state.of_type(arm.FEDERATED_CREDENTIAL_TYPE):
        state.remove(credential["id"])


def remove_grants(state: arm.ArmState) -> None:
    for grant_ in state.of_type(arm.ROLE_ASSIGNMENT_TYPE):
        del state.resources[grant_["id"].lower()]


def grant(scope: Callable[[Kit], str], role: str = azure_policy.STORAGE_BLOB_DATA_CONTRIBUTOR, replace: bool = True,
          principal: str = PRINCIPAL_ID) -> Callable[[arm.ArmState, Kit], None]:
    def drift(state: arm.ArmState, kit: Kit) -> None:
        if replace:
            remove_grants(state)
        state.put(
            arm.role_assignment(
                scope=scope(kit),
                role_definition_id=azure_policy.role_definition_id(SUBSCRIPTION, role),
                principal_id=principal,
                principal_type=azure_policy.PRINCIPAL_TYPE if principal == PRINCIPAL_ID else "User",
            )
        )

    return drift


def custom_role(data_actions: list[str], actions: Sequence[str] = ()) -> Callable[[arm.ArmState, Kit], None]:
    def drift(state: arm.ArmState, kit: Kit) -> None:
        state.put(arm.role_definition(SUBSCRIPTION, CUSTOM, role_name="recordings-admin", actions=actions, data_actions=data_actions))
        grant(lambda kit: kit.container_id, CUSTOM, replace=False)(state, kit)

    return drift


def set_account(**properties: Any) -> Callable[[arm.ArmState, Kit], None]:
    return lambda state, kit: state.set_properties(kit.account_id, **properties)


def lifecycle(rules: list[dict[str, Any]]) -> Callable[[arm.ArmState, Kit], None]:
    return lambda state, kit: state.put(arm.management_policy(kit.account_id, rules))


def purge(days: int, **filters: Any) -> dict[str, Any]:
    definition: dict[str, Any] = {"actions": {"baseBlob": {"delete": {"daysAfterModificationGreaterThan": days}}}}
    if filters:
        definition["filters"] = filters
    return {"name": "purge", "enabled": True, "type": "Lifecycle", "definition": definition}


def shorten_retention(state: arm.ArmState, kit: Kit) -> None:
    policy = state.get(f"{kit.account_id}/managementPolicies/default")
    for rule in policy["properties"]["policy"]["rules"]:
        if "baseBlob" in rule["definition"]["actions"]:
            rule["definition"]["actions"]["baseBlob"]["delete"] = {"daysAfterModificationGreaterThan": 30}


def replicate_to(destination: Callable[[Kit], str], container: str = "recordings") -> Callable[[arm.ArmState, Kit], None]:
    def drift(state: arm.ArmState, kit: Kit) -> None:
        state.put(arm.object_replication_policy(
            kit.account_id, "2a6b7c8d-0000-4000-8000-00000000c0de", source=kit.account_id, destination=destination(kit),
            rules=[{"ruleId": "r1", "sourceContainer": container, "destinationContainer": "copy", "filters": {"prefixMatch": []}}],
        ))

    return drift


FOREIGN_ACCOUNT = "/subscriptions/0c0c0c0c-0000-4000-8000-000000000000/resourceGroups/loot/providers/Microsoft.Storage/storageAccounts/lootbox"

DRIFTS = {
    "client id differs": (set_identity(clientId="0c0c0c0c-1111-4222-8333-444455556666"), "azure.identity.ids", "0c0c0c0c-1111-4222-8333-444455556666"),
    "tenant differs": (set_identity(tenantId="7a7a7a7a-1111-4222-8333-444455556666"), "azure.identity.ids", "7a7a7a7a-1111-4222-8333-444455556666"),
    "no federated credential": (remove_credentials, "azure.identity.federation", "no federated credential"),
    "another issuer": (set_credential(issuer="https://issuer.attacker.example"), "azure.identity.federation", "https://issuer.attacker.example"),
    "an issuer with user info": (set_credential(issuer="https://tavus-issuer.example@attacker.example"), "azure.identity.federation",
                                 "user info before its host, which is attacker.example"),
    "another subject": (set_credential(subject="someone-else"), "azure.identity.federation", "subject 'someone-else'"),
    "no subject (a flexible credential)": (set_credential(subject=None), "azure.identity.federation", "has no subject"),
    "another audience": (set_credential(audiences=["api://other"]), "azure.identity.federation", "api://other"),
    "two audiences": (set_credential(audiences=[azure_policy.DEFAULT_AUDIENCE, "api://other"]), "azure.identity.federation", "2 audiences"),
    "a second federated credential": (add_credential, "azure.identity.federation", "github-deploy"),
    "a stranger may operate the identity": (grant(lambda kit: kit.identity_id, MIO, replace=False, principal=STRANGER),
                                            "azure.identity.operators", f"principal {STRANGER} Managed Identity Operator"),
    "a stranger owns the identity": (grant(lambda kit: kit.identity_id, OWNER, replace=False, principal=STRANGER),
                                     "azure.identity.operators", "Owner"),
    "a stranger may edit Tavus's federated credential": (
        grant(lambda kit: f"{kit.identity_id}/federatedIdentityCredentials/tavus", MANAGED_IDENTITY_CONTRIBUTOR, replace=False,
              principal=STRANGER), "azure.identity.operators", "Managed Identity Contributor"),
    "another resource runs as the identity": (
        lambda state, kit: state.put(arm.attached_resource(kit.group_id + "/providers/Microsoft.Web/sites/acme-app", [kit.identity_id])),
        "azure.identity.operators", "resource acme-app (microsoft.web/sites"),
    "a stranger operates every identity of the subscription": (grant(lambda kit: f"/subscriptions/{SUBSCRIPTION}", MIO, replace=False,
                                                                     principal=STRANGER), "azure.identity.operators",
                                                               f"at subscription {SUBSCRIPTION}"),
    "role at account scope": (grant(lambda kit: kit.account_id), "azure.identity.role_assignments", "at storage account"),
    "role at resource group scope": (grant(lambda kit: kit.group_id), "azure.identity.role_assignments", "at resource group"),
    "role at subscription scope": (grant(lambda kit: f"/subscriptions/{SUBSCRIPTION}"), "azure.identity.role_assignments", "at subscription"),
    "Contributor at the container": (grant(lambda kit: kit.container_id, CONTRIBUTOR), "azure.identity.role_assignments",
                                     f"Contributor ({CONTRIBUTOR}) at container"),
    "Owner at the subscription beside the kit's": (grant(lambda kit: f"/subscriptions/{SUBSCRIPTION}", OWNER, replace=False),
                                                   "azure.identity.role_assignments", f"Owner ({OWNER}) at subscription"),
    "another container beside the kit's": (grant(lambda kit: kit.container_id.replace("/recordings", "/invoices"), replace=False),
                                           "azure.identity.role_assignments", "at container"),
    "an extra grant beside the kit's": (
        grant(lambda kit: kit.account_id, replace=False),
        "azure.identity.role_assignments",
        "Storage Blob Data Contributor (ba92f5b4-2d11-453d-a403-e96b0029c9fe) at storage account",
    ),
    "a custom role with every blob action": (custom_role([f"{BLOBS}/*"]), "azure.identity.role_assignments",
                                             f"which grants {BLOBS}/*"),
    "a custom role that also writes tags": (custom_role([f"{BLOBS}/write", f"{BLOBS}/tags/write"]), "azure.identity.role_assignments",
                                            f"{BLOBS}/tags/write"),
    "no role assignment": (lambda state, kit: remove_grants(state), "azure.identity.role_assignments", "Tavus cannot write"),
    "an extra reader on the container": (grant(lambda kit: kit.container_id, BLOB_READER, replace=False), "azure.identity.least_privilege",
                                         "Storage Blob Data Reader"),
    "TLS1_0": (set_account(minimumTlsVersion="TLS1_0"), "azure.account.tls", "TLS1_0"),
    "minimum TLS unset": (set_account(minimumTlsVersion=None), "azure.account.tls", "treats as TLS1_0"),
    "HTTPS only off": (set_account(supportsHttpsTrafficOnly=False), "azure.account.https_only", "accepts plain HTTP"),
    "public blob access on": (set_account(allowBlobPublicAccess=True), "azure.account.public_access", "allowBlobPublicAccess true"),
    "public blob access unset": (set_account(allowBlobPublicAccess=None), "azure.account.public_access", "not set"),
    "shared key access on": (set_account(allowSharedKeyAccess=True), "azure.account.shared_key", "allowSharedKeyAccess true"),
    "shared key access null": (set_account(allowSharedKeyAccess=None), "azure.account.shared_key", "treats as true"),
    "firewall denies by default": (
        lambda state, kit: state.get(kit.account_id)["properties"]["networkAcls"].update(defaultAction="Deny"),
        "azure.account.network",
        "default action is Deny",
    ),
    "public network access disabled": (set_account(publicNetworkAccess="Disabled"), "azure.account.network", "public network access is Disabled"),
    "versioning off": (
        lambda state, kit: state.set_properties(f"{kit.account_id}/blobServices/default", isVersioningEnabled=False),
        "azure.account.versioning",
        "versioning is off",
    ),
    "lifecycle deletes recordings after 30 days": (shorten_retention, "azure.account.lifecycle", "30 days after they land"),
    "lifecycle purges every container after a day": (lifecycle([purge(1)]), "azure.account.lifecycle", "1 days after they land (rule purge)"),
    "lifecycle purges by a prefix": (lifecycle([purge(7, prefixMatch=["rec"], blobTypes=["blockBlob"])]), "azure.account.lifecycle",
                                     "rule purge"),
    "replication to a foreign subscription": (replicate_to(lambda kit: FOREIGN_ACCOUNT), "azure.account.replication", "lootbox"),
    "replication to an account named only": (replicate_to(lambda kit: "lootbox"), "azure.account.replication", "to account lootbox"),
    "container with public access Blob": (
        lambda state, kit: state.set_properties(kit.container_id, publicAccess="Blob"),
        "azure.container.public_access",
        "public access Blob",
    ),
    "a stranger reads the container": (grant(lambda kit: kit.container_id, BLOB_READER, replace=False, principal=STRANGER),
                                       "azure.container.access", f"principal {STRANGER} Storage Blob Data Reader"),
    "a stranger owns the account's blobs": (grant(lambda kit: kit.account_id, BLOB_OWNER, replace=False, principal=STRANGER),
                                            "azure.container.access", "Storage Blob Data Owner"),
    # A second writer (another federated identity, say): verify sees its role on the container, not its credentials.
    "another principal writes the container": (grant(lambda kit: kit.container_id, replace=False, principal=STRANGER),
                                               "azure.container.access", f"principal {STRANGER} Storage Blob Data Contributor"),
    "a stranger reads every blob in the group": (grant(lambda kit: kit.group_id, BLOB_READER, replace=False, principal=STRANGER),
                                                 "azure.container.access", "at resource group"),
    "a stranger owns the account": (grant(lambda kit: kit.account_id, OWNER, replace=False, principal=STRANGER),
                                    "azure.container.access", "can grant itself the recordings"),
    "a stranger contributes to the account's group": (grant(lambda kit: kit.group_id, STORAGE_ACCOUNT_CONTRIBUTOR, replace=False,
                                                             principal=STRANGER), "azure.container.access", "at resource group"),
    "a stranger lists the keys of every account in the subscription": (
        grant(lambda kit: f"/subscriptions/{SUBSCRIPTION}", KEY_OPERATOR, replace=False, principal=STRANGER),
        "azure.container.access", "the account's keys"),
    "a stranger may copy the container elsewhere": (
        lambda state, kit: [state.put(arm.role_definition(SUBSCRIPTION, CUSTOM, role_name="replicator",
                                                          actions=["Microsoft.Storage/storageAccounts/objectReplicationPolicies/*"])),
                            grant(lambda kit: kit.account_id, CUSTOM, replace=False, principal=STRANGER)(state, kit)],
        "azure.container.access", "replicator"),
}


@pytest.mark.parametrize("drift, check_id, found", DRIFTS.values(), ids=DRIFTS.keys())
def test_each_drift_fails_its_own_check_and_says_what_it_found(check, drift, check_id, found):
    run = check(drift)
    assert run.failing() == {check_id}, {i: run.checks[i].detail for i in run.failing()}
    assert run.unknown() == set()
    failure = run.checks[check_id]
    assert found in failure.detail
    assert failure.fix


SAFE = {
    "a role scope differing only in case": grant(lambda kit: kit.container_id.upper().replace("/SUBSCRIPTIONS/", "/subscriptions/")),
    "the same grant twice, in another case": grant(lambda kit: kit.container_id.lower(), replace=False),
    "a stranger with Reader on the subscription": grant(lambda kit: f"/subscriptions/{SUBSCRIPTION}", READER, replace=False, principal=STRANGER),
    "a stranger reads another container": grant(lambda kit: kit.container_id.replace("/recordings", "/invoices"), BLOB_READER,
                                                replace=False, principal=STRANGER),
    "lifecycle purges another container": lifecycle([purge(1, prefixMatch=["logs/"])]),
    "lifecycle at the stack's retention": lifecycle([purge(365)]),
    "replication within the subscription": replicate_to(lambda kit: kit.account_id.replace("tavusrecordings", "tavusbackup")),
    "replication of another container": replicate_to(lambda kit: FOREIGN_ACCOUNT, container="logs"),
    "a custom role within Blob Data Contributor": custom_role([f"{BLOBS}/write", f"{BLOBS}/add/action"]),
}


@pytest.mark.parametrize("drift", SAFE.values(), ids=SAFE.keys())
def test_safe_variants_pass(check, drift):
    run = check(drift)
    assert {i: c.detail for i, c in run.checks.items() if c.ok is not True} == {}


def test_subscription_owners_pass_the_operator_and_access_checks_and_are_named_in_them(check):
    # Every real subscription has administrators; failing on them would fail every destination.
    run = check(grant(lambda kit: f"/subscriptions/{SUBSCRIPTION}", OWNER, replace=False, principal=STRANGER))
    for check_id in ("azure.identity.operators", "azure.container.access"):
        found = run.checks[check_id]
        assert found.ok is True
        assert f"Not counted: 1 administrator(s) of subscription {SUBSCRIPTION}" in found.detail and STRANGER in found.detail


def test_an_owner_of_the_shared_resource_group_fails_operators_and_access(check):
    # The kit puts the identity and the account in one group: its Owner can act as the identity and list the keys.
    run = check(grant(lambda kit: kit.group_id, OWNER, replace=False, principal=STRANGER))
    assert run.failing() == {"azure.identity.operators", "azure.container.access"}


def test_a_role_the_identity_holds_through_a_group_is_its_own(check, kit):
    def drift(state: arm.ArmState, kit: Kit) -> None:
        state.add_member(GROUP, PRINCIPAL_ID)
        state.put(arm.role_assignment(scope=kit.container_id, role_definition_id=azure_policy.role_definition_id(SUBSCRIPTION, BLOB_OWNER),
                                      principal_id=GROUP, principal_type="Group"))

    run = check(drift)
    # The group's other members reach the recordings too.
    assert run.failing() == {"azure.identity.role_assignments", "azure.container.access"}
    assert f"of group {GROUP}, which identity" in run.checks["azure.identity.role_assignments"].detail


def test_a_group_of_groups_is_followed_and_another_groups_role_is_not_the_identitys(check, kit):
    def drift(state: arm.ArmState, kit: Kit) -> None:
        state.add_member("5b5b5b5b-2222-4333-8444-555566667777", PRINCIPAL_ID)
        state.add_member(GROUP, "5b5b5b5b-2222-4333-8444-555566667777")
        state.put(arm.role_assignment(scope=f"/subscriptions/{SUBSCRIPTION}", role_definition_id=azure_policy.role_definition_id(SUBSCRIPTION, OWNER),
                                      principal_id=GROUP, principal_type="Group"))
        state.put(arm.role_assignment(scope=kit.group_id, role_definition_id=azure_policy.role_definition_id(SUBSCRIPTION, CONTRIBUTOR),
                                      principal_id="6c6c6c6c-2222-4333-8444-555566667777", principal_type="Group"))

    run = check(drift)
    grants = run.checks["azure.identity.role_assignments"]
    assert grants.ok is False and f"Owner ({OWNER}) at subscription" in grants.detail
    assert "6c6c6c6c" not in grants.detail


def test_listing_the_identitys_attachments_needs_an_action_reader_lacks_and_unknown_says_which(check, kit):
    run = check(lambda state, kit: state.deny(associated(kit), reads.ASSOCIATED_RESOURCES_LIST))
    assert run.unknown() == {"azure.identity.operators"} and run.failing() == set()
    operators = run.checks["azure.identity.operators"]
    assert f"{reads.ASSOCIATED_RESOURCES_LIST} denied" in operators.detail
    assert "Reader does not include" in operators.fix and kit.identity_id in operators.fix
    # A role assignment that fails still fails, whatever could not be listed.
    run = check(lambda state, kit: [state.deny(associated(kit), reads.ASSOCIATED_RESOURCES_LIST),
                                    grant(lambda kit: kit.identity_id, MIO, replace=False, principal=STRANGER)(state, kit)])
    assert run.checks["azure.identity.operators"].ok is False


def test_a_custom_role_is_judged_by_its_definition_read_once(check):
    run = check(custom_role([f"{BLOBS}/*"]))
    reads_of_it = [r for r in run.fake.received if r.path.endswith(f"/roleDefinitions/{CUSTOM}")]
    assert len(reads_of_it) == 1
    assert "recordings-admin" in run.checks["azure.identity.role_assignments"].detail


def test_a_custom_role_whose_definition_cannot_be_read_is_unknown_never_passing(check):
    def drift(state: arm.ArmState, kit: Kit) -> None:
        custom_role([f"{BLOBS}/write"])(state, kit)
        state.deny(f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/{CUSTOM}", reads.ROLE_DEFINITIONS_READ)

    run = check(drift)
    assert run.failing() == set()
    assert run.unknown() == {"azure.identity.role_assignments"}
    assert "could not be read" in run.checks["azure.identity.role_assignments"].detail


def test_a_stack_without_the_retention_output_makes_a_deleting_rule_unknown(check, kit):
    outputs = {key: value for key, value in kit.outputs.items() if key != "retention_days"}
    run = check(outputs=outputs)
    assert run.unknown() == {"azure.account.lifecycle"}
    assert "do not say its retention" in run.checks["azure.account.lifecycle"].detail
    # A stack that keeps recordings (retention_days null) fails the kit's own 365-day rule.
    run = check(outputs={**kit.outputs, "retention_days": None})
    assert run.failing() == {"azure.account.lifecycle"}


def test_an_account_without_a_lifecycle_policy_passes(check, kit):
    run = check(lambda state, kit: state.remove(f"{kit.account_id}/managementPolicies/default"))
    assert run.checks["azure.account.lifecycle"].ok is True


def test_a_second_federated_credential_fix_deletes_it_by_name(check, kit):
    run = check(add_credential)
    assert "az identity federated-credential delete" in run.checks["azure.identity.federation"].fix
    fix = run.checks["azure.identity.federation"].fix
    assert "--name github-deploy" in fix
    # The kit's own credential is not among those to delete.
    (kits,) = [c for c in kit.resources if c["type"] == arm.FEDERATED_CREDENTIAL_TYPE]
    assert f"--name {kits['name']} " not in fix


def test_a_broader_grant_fix_deletes_that_assignment_by_id(check, kit):
    run = check(grant(lambda kit: kit.group_id))
    (broad,) = run.fake.state.of_type(arm.ROLE_ASSIGNMENT_TYPE)
    assert f"az role assignment delete --ids {broad['id']}" in run.checks["azure.identity.role_assignments"].fix


def test_a_managed_settings_fix_is_pulumi_up_refresh_then_the_az_line(check, kit):
    run = check(set_account(minimumTlsVersion="TLS1_0"))
    fix = run.checks["azure.account.tls"].fix
    assert fix.startswith("run `pulumi up --refresh` for this stack")
    assert f"az storage account update -g {kit.outputs['resource_group_name']} -n {kit.storage.storage_account} --min-tls-version TLS1_2" in fix


def test_verify_and_the_pack_say_the_same_thing(check, kit):
    # The problem after verify's subject is the shared rule's, word for word.
    from tavus_recording.rules import azure as rules

    run = check(set_account(allowSharedKeyAccess=True))
    (finding,) = rules.shared_key_findings(True)
    assert run.checks["azure.account.shared_key"].detail == f"account {kit.storage.storage_account} {finding.problem}"


def test_a_missing_identity_fails_exists_and_skips_what_needs_it(check, kit):
    run = check(lambda state, kit: state.remove(kit.identity_id))
    assert run.failing() == {"azure.identity.exists"}
    assert run.unknown() == {"azure.identity.ids", "azure.identity.federation", "azure.identity.operators",
                             "azure.identity.role_assignments", "azure.identity.least_privilege", "azure.container.access"}
    assert "not found" in run.checks["azure.identity.exists"].detail
    # Nothing is read that needs the identity.
    assert not [r for r in run.fake.received if "federatedIdentityCredentials" in r.path or r.path == subscription_listing()]


def test_a_missing_account_fails_exists_and_skips_its_settings_and_container(check, kit):
    run = check(lambda state, kit: state.remove(kit.account_id))
    assert run.failing() == {"azure.account.exists"}
    assert run.unknown() == {
        "azure.account.tls",
        "azure.account.https_only",
        "azure.account.public_access",
        "azure.account.shared_key",
        "azure.account.network",
        "azure.account.encryption_key",
        "azure.account.cold_tier",
        "azure.account.versioning",
        "azure.account.lifecycle",
        "azure.account.replication",
        "azure.account.diagnostic_logs",
        "azure.container.exists",
        "azure.container.public_access",
        "azure.container.immutability",
        "azure.container.access",
    }
    assert f"storage account {kit.storage.storage_account} was not found" in run.checks["azure.account.exists"].detail


def test_a_missing_container_fails_exists_and_skips_what_needs_it(check, kit):
    run = check(lambda state, kit: state.remove(kit.container_id))
    assert run.failing() == {"azure.container.exists"}
    assert run.unknown() == {"azure.container.public_access", "azure.container.immutability", "azure.container.access"}
    assert "was not found" in run.checks["azure.container.exists"].detail


# --- an existing account and container (existingStorageAccount): the stack does not manage them

UNMANAGED_ACCOUNT = "(this stack does not manage the storage account: it was named with existingStorageAccount)"
UNMANAGED_CONTAINER = "(this stack does not manage the container: it was named with existingContainer)"
ACCOUNT_UPDATE = "az storage account update -g {group} -n {account}"
CONTAINER_RM = "az storage container-rm {verb} -g {group} --storage-account {account} -n {container} --public-access off"
# Each drift of the account or container settings, and the direct fix its check must give when the stack only looked them up.
DIRECT_FIXES = {
    "TLS1_0": f"{ACCOUNT_UPDATE} --min-tls-version TLS1_2",
    "minimum TLS unset": f"{ACCOUNT_UPDATE} --min-tls-version TLS1_2",
    "HTTPS only off": f"{ACCOUNT_UPDATE} --https-only true",
    "public blob access on": f"{ACCOUNT_UPDATE} --allow-blob-public-access false",
    "public blob access unset": f"{ACCOUNT_UPDATE} --allow-blob-public-access false",
    "shared key access on": f"{ACCOUNT_UPDATE} --allow-shared-key-access false",
    "shared key access null": f"{ACCOUNT_UPDATE} --allow-shared-key-access false",
    "firewall denies by default": f"{ACCOUNT_UPDATE} --default-action Allow",
    "public network access disabled": f"{ACCOUNT_UPDATE} --public-network-access Enabled",
    "versioning off": "az storage account blob-service-properties update -g {group} --account-name {account} --enable-versioning true",
    "container with public access Blob": CONTAINER_RM.replace("{verb}", "update"),
}
SETTINGS_CHECKS = ("azure.account.tls", "azure.account.https_only", "azure.account.public_access", "azure.account.shared_key",
                   "azure.account.network", "azure.account.versioning", "azure.container.public_access")


def unmanaged(kit: Kit) -> dict[str, Any]:
    """The outputs of an existingStorageAccount stack: the program exports storage_managed false."""
    return {**kit.outputs, "storage_managed": False}


def test_every_settings_drift_has_its_direct_fix():
    assert set(DIRECT_FIXES) == {name for name, (_, check_id, _) in DRIFTS.items() if check_id in SETTINGS_CHECKS}


@pytest.mark.parametrize("name", list(DIRECT_FIXES))
def test_an_existing_accounts_drift_gets_only_the_direct_fix_while_trust_and_grant_keep_pulumi_up(check, kit, name):
    drifts = [DRIFTS[n][0] for n in (name, "another issuer", "no role assignment")]
    check_id = DRIFTS[name][1]
    run = check(lambda state, kit: [drift(state, kit) for drift in drifts], outputs=unmanaged(kit))
    assert run.failing() == {check_id, "azure.identity.federation", "azure.identity.role_assignments"}
    where = {"group": kit.outputs["resource_group_name"], "account": kit.storage.storage_account, "container": kit.storage.container}
    note = UNMANAGED_CONTAINER if check_id.startswith("azure.container.") else UNMANAGED_ACCOUNT
    fix = run.checks[check_id].fix
    assert fix == f"{DIRECT_FIXES[name].format(**where)} {note}"
    assert "pulumi" not in fix
    # The identity's trust and its grant on the container are the stack's own: `pulumi up --refresh` restores them.
    for managed in ("azure.identity.federation", "azure.identity.role_assignments"):
        assert run.checks[managed].fix.startswith("run `pulumi up --refresh` for this stack"), run.checks[managed].fix


def test_a_missing_existing_account_says_to_check_the_names_it_was_given(check, kit):
    run = check(lambda state, kit: state.remove(kit.account_id), outputs=unmanaged(kit))
    assert run.failing() == {"azure.account.exists"}
    fix = run.checks["azure.account.exists"].fix
    assert fix.startswith("check the names given in existingStorageAccount and resourceGroupName") and fix.endswith(UNMANAGED_ACCOUNT)
    assert f"az storage account show -g {kit.outputs['resource_group_name']} -n {kit.storage.storage_account}" in fix
    assert "pulumi" not in fix


def test_a_missing_existing_container_says_to_check_its_name(check, kit):
    run = check(lambda state, kit: state.remove(kit.container_id), outputs=unmanaged(kit))
    where = {"group": kit.outputs["resource_group_name"], "account": kit.storage.storage_account, "container": kit.storage.container}
    create = CONTAINER_RM.replace("{verb}", "create").format(**where)
    assert run.checks["azure.container.exists"].fix == f"check the name given in existingContainer, or create the container: {create} {UNMANAGED_CONTAINER}"


@pytest.mark.parametrize("name", ["TLS1_0", "firewall denies by default", "container with public access Blob"])
def test_a_stack_without_the_storage_managed_output_keeps_the_kits_fixes(check, kit, name):
    # Stacks deployed before storage_managed existed made their own account: its fixes stay the kit's.
    drift, check_id, _ = DRIFTS[name]
    assert kit.outputs["storage_managed"] is True
    before = {key: value for key, value in kit.outputs.items() if key != "storage_managed"}
    fix = check(drift, outputs=before).checks[check_id].fix
    assert fix == check(drift).checks[check_id].fix
    assert "existingStorageAccount" not in fix and "existingContainer" not in fix
    assert name == "firewall denies by default" or fix.startswith("run `pulumi up --refresh` for this stack")


# --- reads that cannot be made


def read_paths(kit: Kit) -> dict[str, tuple[str, set[str]]]:
    """Each path verify reads: the action it needs, and exactly the checks a denial makes unknown."""
    return {
        kit.identity_id: (reads.IDENTITY_READ, {"azure.identity.exists", "azure.identity.ids", "azure.identity.operators",
                                                "azure.identity.role_assignments", "azure.identity.least_privilege",
                                                "azure.container.access"}),
        f"{kit.identity_id}/federatedIdentityCredentials": (reads.FEDERATED_CREDENTIALS_READ, {"azure.identity.federation"}),
        associated(kit): (reads.ASSOCIATED_RESOURCES_LIST, {"azure.identity.operators"}),
        subscription_listing(): (reads.ROLE_ASSIGNMENTS_READ, {"azure.identity.role_assignments", "azure.identity.least_privilege"}),
        listing(kit.identity_id): (reads.ROLE_ASSIGNMENTS_READ, {"azure.identity.operators"}),
        listing(kit.container_id): (reads.ROLE_ASSIGNMENTS_READ, {"azure.container.access"}),
        kit.account_id: (reads.ACCOUNT_READ, {"azure.account.exists", "azure.account.tls", "azure.account.https_only",
                                              "azure.account.public_access", "azure.account.shared_key", "azure.account.network",
                                              "azure.account.encryption_key"}),
        f"{kit.account_id}/blobServices/default": (reads.BLOB_SERVICE_READ, {"azure.account.versioning"}),
        f"{kit.account_id}/managementPolicies/default": (reads.MANAGEMENT_POLICY_READ, {"azure.account.lifecycle", "azure.account.cold_tier"}),
        f"{kit.account_id}/objectReplicationPolicies": (reads.OBJECT_REPLICATION_READ, {"azure.account.replication"}),
        kit.container_id: (reads.CONTAINER_READ, {"azure.container.exists", "azure.container.public_access"}),
    }


PATH_NAMES = ["identity", "credentials", "identity's attachments", "identity's assignments", "assignments over the identity", "assignments over the container",
              "account", "blob service", "lifecycle policy", "object replication", "container"]


@pytest.mark.parametrize("index", range(len(PATH_NAMES)), ids=PATH_NAMES)
def test_a_denied_read_makes_only_its_checks_unknown_naming_the_action(check, kit, index):
    path, (action, dependent) = list(read_paths(kit).items())[index]
    run = check(lambda state, kit: state.deny(path, action))
    assert run.unknown() == dependent
    assert run.failing() == set()
    denied = [c for c in dependent if f"{action} denied" in run.checks[c].detail]
    assert denied, {c: run.checks[c].detail for c in dependent}
    # Reader holds every action but listAssociatedResources, whose fix names that action instead.
    wanted = "--role Reader" if action in reads.READ_PERMISSIONS else action
    assert all(wanted in run.checks[c].fix for c in denied)


def test_read_permissions_are_the_actions_verify_reads_with(kit):
    # The immutability policy and the diagnostic settings are read only when the stack asks for them (issue 19 tests).
    assert set(reads.READ_PERMISSIONS) | set(reads.BEYOND_READER_PERMISSIONS) == (
        {action for action, _ in read_paths(kit).values()} | {reads.ROLE_DEFINITIONS_READ, reads.IMMUTABILITY_POLICY_READ,
                                                              reads.DIAGNOSTIC_SETTINGS_READ})
    assert reads.BEYOND_READER_PERMISSIONS == ("Microsoft.ManagedIdentity/userAssignedIdentities/listAssociatedResources/action",)
    assert set(reads.READ_PERMISSIONS) == {
        "Microsoft.ManagedIdentity/userAssignedIdentities/read",
        "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/read",
        "Microsoft.Authorization/roleAssignments/read",
        "Microsoft.Authorization/roleDefinitions/read",
        "Microsoft.Storage/storageAccounts/read",
        "Microsoft.Storage/storageAccounts/blobServices/read",
        "Microsoft.Storage/storageAccounts/blobServices/containers/read",
        "Microsoft.Storage/storageAccounts/managementPolicies/read",
        "Microsoft.Storage/storageAccounts/objectReplicationPolicies/read",
        "Microsoft.Storage/storageAccounts/blobServices/containers/immutabilityPolicies/read",
        "Microsoft.Insights/diagnosticSettings/read",
    }


def test_an_unreachable_endpoint_cannot_be_verified_quickly(kit, tmp_path, ca):
    with closed_port() as port:
        url = f"https://127.0.0.1:{port}"
        started = time.monotonic()
        with pytest.raises(CannotVerify, match="cannot be reached") as raised:
            verify_azure.verify(kit.storage, kit.outputs, credential=arm.StaticCredential(TOKEN), base_url=url, **FAST)
    assert url in str(raised.value)
    assert time.monotonic() - started < 5


@contextmanager
def silent_listener() -> Iterator[str]:
    with loopback.silent_listener() as port:
        yield f"https://127.0.0.1:{port}"


def test_an_endpoint_that_never_answers_is_given_up_on_once(kit):
    with silent_listener() as url:
        started = time.monotonic()
        with pytest.raises(CannotVerify, match="unreachable"):
            verify_azure.verify(kit.storage, kit.outputs, credential=arm.StaticCredential(TOKEN), base_url=url,
                                **{**FAST, "connection_timeout": 1, "read_timeout": 1})
    # One timeout, not one per read: later reads reuse the answer.
    assert time.monotonic() - started < 4


class NoLogin:
    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        raise ClientAuthenticationError("AzureCliCredential: Please run 'az login' to set up an account")

    def get_token_info(self, *scopes: str, **kwargs: Any) -> Any:
        raise ClientAuthenticationError("AzureCliCredential: Please run 'az login' to set up an account")


def test_without_a_token_verify_cannot_run_and_asks_nothing_of_azure(kit, tmp_path, ca):
    with arm.running(kit.state(), tmp_path, ca) as fake:
        with pytest.raises(CannotVerify) as raised:
            verify_azure.verify(kit.storage, kit.outputs, credential=NoLogin(), base_url=fake.url, connection_verify=str(fake.ca_path))
    assert "Please run 'az login'" in str(raised.value) and "az login" in str(raised.value)
    assert "\n" not in str(raised.value)
    assert fake.received == []


def test_the_cli_exits_2_with_one_line_when_azure_cannot_be_reached(kit, tmp_path, monkeypatch):
    outputs_file = tmp_path / "outputs.json"
    outputs_file.write_text(json.dumps(kit.outputs))
    with closed_port() as port:
        real = verify_azure.verify
        monkeypatch.setattr(verify_azure, "verify", lambda storage, outputs: real(
            storage, outputs, credential=arm.StaticCredential(TOKEN), base_url=f"https://127.0.0.1:{port}", **FAST))
        result = CliRunner().invoke(app, ["verify", "--outputs", str(outputs_file)])
    assert result.exit_code == 2
    assert "cannot be reached" in result.output
    assert "azure.identity.exists" not in result.output


def test_the_token_is_asked_for_the_resource_managers_audience(kit, tmp_path, ca):
    credential = arm.StaticCredential(TOKEN)
    with arm.running(kit.state(), tmp_path, ca) as fake:
        verify_azure.verify(kit.storage, kit.outputs, credential=credential, base_url=fake.url, connection_verify=str(fake.ca_path))
    assert set(credential.scopes) == {(f"{fake.url}/.default",)}


# --- outputs verify cannot run without


@pytest.mark.parametrize("name", ["subscription_id", "resource_group_name", "identity_id"])
def test_missing_outputs_raise_a_clear_error_naming_them(kit, name):
    outputs = {key: value for key, value in kit.outputs.items() if key != name}
    with pytest.raises(MissingOutputs, match=name) as raised:
        verify_azure.verify(kit.storage, outputs, credential=arm.StaticCredential())
    assert "pulumi up" in str(raised.value)
    # The CLI turns an OutputsError into exit 2.
    assert isinstance(raised.value, OutputsError)


def test_an_identity_id_that_is_not_a_managed_identity_is_refused(kit):
    outputs = {**kit.outputs, "identity_id": f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/a"}
    with pytest.raises(MissingOutputs, match="not a user-assigned identity"):
        verify_azure.verify(kit.storage, outputs, credential=arm.StaticCredential())


def test_the_cli_exits_2_when_identity_id_is_missing(kit, tmp_path):
    outputs_file = tmp_path / "outputs.json"
    outputs_file.write_text(json.dumps({key: value for key, value in kit.outputs.items() if key != "identity_id"}))
    result = CliRunner().invoke(app, ["verify", "--outputs", str(outputs_file)])
    assert result.exit_code == 2
    assert "identity_id" in result.output and "pulumi up" in result.output


# --- the schema guard: the fake answers only with fields the API defines


def _msrest_tree(model: type) -> dict[str, Any]:
    """An msrest model's `_attribute_map` as nested REST keys (`properties.clientId` → properties → clientId)."""
    tree: dict[str, Any] = {}
    for spec in getattr(model, "_attribute_map").values():
        *parents, leaf = [part.replace("\\.", ".") for part in re.split(r"(?<!\\)\.", spec["key"])]
        node = tree
        for parent in parents:
            node = node.setdefault(parent, {})
        node[leaf] = spec["type"]
    return tree


def _msrest_unknown(value: Any, node: Any, models: dict[str, type], path: str) -> list[str]:
    if isinstance(node, str):  # a type name: "str", "[Model]", "{str}", "Model"
        if node.startswith("[") and isinstance(value, list):
            return [p for i, item in enumerate(value) for p in _msrest_unknown(item, node[1:-1], models, f"{path}[{i}]")]
        if node.startswith("{") and isinstance(value, dict):
            return [p for key, item in value.items() for p in _msrest_unknown(item, node[1:-1], models, f"{path}.{key}")]
        if node in models:
            return _msrest_unknown(value, _msrest_tree(models[node]), models, path)
        return []
    if not isinstance(value, dict):
        return [f"{path} (an object in the API)"]
    return [
        problem
        for key, item in value.items()
        for problem in (_msrest_unknown(item, node[key], models, f"{path}.{key}") if key in node else [f"{path}.{key}"])
    ]


def _typespec_unknown(value: Any, annotation: Any, path: str) -> list[str]:
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Union:
        models = [a for a in args if isinstance(a, type) and issubclass(a, TypeSpecModel)]
        return _typespec_unknown(value, models[0], path) if models and isinstance(value, dict) else []
    if origin is list and isinstance(value, list):
        return [p for i, item in enumerate(value) for p in _typespec_unknown(item, args[0], f"{path}[{i}]")]
    if origin is dict and isinstance(value, dict):
        return [p for key, item in value.items() for p in _typespec_unknown(item, args[1], f"{path}.{key}")]
    if isinstance(annotation, type) and issubclass(annotation, TypeSpecModel):
        if not isinstance(value, dict):
            return [f"{path} (an object in the API)"]
        annotation({})  # the SDK computes a model's REST fields on first use
        hints = typing.get_type_hints(annotation, localns={"_models": storage_models})
        fields = {rest_field._rest_name: hints[attr] for attr, rest_field in getattr(annotation, "_attr_to_rest_field").items()}
        return [
            problem
            for key, item in value.items()
            for problem in (_typespec_unknown(item, fields[key], f"{path}.{key}") if key in fields else [f"{path}.{key}"])
        ]
    return []


def unknown_fields(body: Any, model: type) -> list[str]:
    """Every key in `body`, at any depth, that `model` (the SDK's class for that answer) does not define."""
    if hasattr(model, "_attribute_map"):
        models = {name: cls for name, cls in vars(sys.modules[model.__module__]).items() if isinstance(cls, type)}
        return _msrest_unknown(body, _msrest_tree(model), models, "$")
    return _typespec_unknown(body, model, "$")


def msi_models() -> Any:
    # The multi-API clients' `models()` are typed as the union of every version's module.
    return ManagedServiceIdentityClient.models(arm.API_VERSIONS["microsoft.managedidentity"])


def authorization_models() -> Any:
    return AuthorizationManagementClient.models(arm.API_VERSIONS["microsoft.authorization"])


def response_model(path: str) -> Any:
    """The class the SDK deserializes the answer at `path` into, at the api-version the fake serves
    (a one-element list for a typespec list answer, `{"value": [...]}`)."""
    msi, authorization = msi_models(), authorization_models()
    lowered = path.lower()
    if lowered.endswith("/listassociatedresources"):
        return ManagedServiceIdentityClient.models(reads.ASSOCIATED_RESOURCES_API_VERSION).AssociatedResourcesListResult
    if lowered.endswith("/roleassignments"):
        return authorization.RoleAssignmentListResult
    if "/roledefinitions/" in lowered:
        return authorization.RoleDefinition
    if lowered.endswith("/federatedidentitycredentials"):
        return msi.FederatedIdentityCredentialsListResult
    if "/userassignedidentities/" in lowered:
        return msi.Identity
    if lowered.endswith("/objectreplicationpolicies"):
        return [storage_models.ObjectReplicationPolicy]
    if lowered.endswith("/managementpolicies/default"):
        return storage_models.ManagementPolicy
    if "/containers/" in lowered:
        return storage_models.BlobContainer
    if lowered.endswith("/blobservices/default"):
        return storage_models.BlobServiceProperties
    return storage_models.StorageAccount


def test_every_field_the_fake_answers_with_exists_in_the_api_schema(check):
    # The kit's resources, and what the drifts add: a custom role, an object replication policy and a resource
    # the identity is attached to.
    run = check(lambda state, kit: [custom_role([f"{BLOBS}/write"])(state, kit), replicate_to(lambda kit: FOREIGN_ACCOUNT)(state, kit),
                                    state.put(arm.attached_resource(kit.group_id + "/providers/Microsoft.Web/sites/app", [kit.identity_id]))])
    answered = [(r.path, (run.fake.state.act if r.method == "POST" else run.fake.state.answer)(r.path, r.query))
                for r in run.fake.received]
    assert len(answered) == 12 and all(status == 200 for _, (status, _) in answered)
    assert any(body.get("value") for path, (_, body) in answered if path.endswith("/listAssociatedResources"))
    for path, (_, body) in answered:
        model = response_model(path)
        if isinstance(model, list):
            assert set(body) <= {"value", "nextLink"} and body["value"], path
            assert [p for item in body["value"] for p in unknown_fields(item, model[0])] == [], path
        else:
            assert unknown_fields(body, model) == [], path


def test_the_schema_guard_catches_a_field_the_api_does_not_define(kit):
    msi = msi_models()
    identity = copy.deepcopy(kit.resources[0])
    identity["properties"]["clientSecret"] = "x"
    assert unknown_fields(identity, msi.Identity) == ["$.properties.clientSecret"]
    account = copy.deepcopy(kit.resources[3])
    account["properties"]["encryption"]["services"]["blob"]["keyTipe"] = "Account"
    account["properties"]["enableHttpsTrafficOnly"] = True  # azure-native's name, not ARM's
    assert sorted(unknown_fields(account, storage_models.StorageAccount)) == [
        "$.properties.enableHttpsTrafficOnly",
        "$.properties.encryption.services.blob.keyTipe",
    ]


def test_the_fake_serves_the_api_versions_the_installed_sdks_send():
    assert arm.API_VERSIONS["microsoft.managedidentity"] == ManagedServiceIdentityClient.DEFAULT_API_VERSION
    assert arm.ACTION_API_VERSIONS == {"listassociatedresources": reads.ASSOCIATED_RESOURCES_API_VERSION}
    with AuthorizationManagementClient(arm.StaticCredential(), SUBSCRIPTION) as authorization:
        assert arm.API_VERSIONS["microsoft.authorization"] == authorization._get_api_version("role_assignments")
    with StorageManagementClient(arm.StaticCredential(), SUBSCRIPTION) as client:
        assert arm.API_VERSIONS["microsoft.storage"] == client._config.api_version


# --- the cold tier and the account's key (issue 19)

KEY_URI = "https://acme-keys.vault.azure.net/keys/recordings"


def cool_after(days: int) -> dict[str, Any]:
    return {"name": "move-recordings-to-cool", "enabled": True, "type": "Lifecycle",
            "definition": {"filters": {"blobTypes": ["blockBlob"], "prefixMatch": ["recordings/"]},
                           "actions": {"baseBlob": {"tierToCool": {"daysAfterModificationGreaterThan": days}}}}}


def test_the_stacks_cool_move_passes_and_its_drift_or_an_archive_move_fails(check, kit):
    outputs = {**kit.outputs, "cold_after_days": 60}
    assert check(outputs=outputs).failing() == {"azure.account.cold_tier"}
    run = check(lifecycle([cool_after(60)]), outputs=outputs)
    assert run.failing() == set() and "moves current recordings to Cool 60 days" in run.checks["azure.account.cold_tier"].detail
    run = check(lifecycle([cool_after(90)]), outputs=outputs)
    assert run.failing() == {"azure.account.cold_tier"} and "to Cool 60 days after" in run.checks["azure.account.cold_tier"].detail
    archive = {**cool_after(1), "name": "deep", "definition": {"actions": {"version": {"tierToArchive": {"daysAfterCreationGreaterThan": 1}}}}}
    run = check(lifecycle([archive]))
    assert run.failing() == {"azure.account.cold_tier"}
    assert "moves previous versions to the Archive tier (rule deep)" in run.checks["azure.account.cold_tier"].detail
    assert "pulumi up --refresh" in run.checks["azure.account.cold_tier"].fix


def _reshape(rule: dict[str, Any], filters: dict[str, Any] = {}, cool: Optional[dict[str, Any]] = None) -> dict[str, Any]:
    definition = rule["definition"]
    actions = {"baseBlob": {"tierToCool": cool}} if cool is not None else definition["actions"]
    return {**rule, "definition": {"filters": {**definition["filters"], **filters}, "actions": actions}}


@pytest.mark.parametrize("rules_", [
    [_reshape(cool_after(60), {"blobIndexMatch": [{"name": "k", "op": "==", "value": "v"}]})],
    [_reshape(cool_after(60), {"prefixMatch": ["RECORDINGS/"]})],
    [_reshape(cool_after(60), {"prefixMatch": ["Recordings/"]})],
    [cool_after(60), {**cool_after(30), "name": "colder",
                      "definition": {**cool_after(30)["definition"], "actions": {"baseBlob": {"tierToCold": {"daysAfterModificationGreaterThan": 30}}}}}],
])
def test_a_narrowed_or_displaced_cool_move_fails(check, kit, rules_):
    run = check(lifecycle(rules_), outputs={**kit.outputs, "cold_after_days": 60})
    assert run.failing() == {"azure.account.cold_tier"}


@pytest.mark.parametrize("rule", [cool_after(60), _reshape(cool_after(60), cool={"daysAfterCreationGreaterThan": 60}),
                                  _reshape(cool_after(60), cool={"daysAfterModificationGreaterThan": "60"}),
                                  _reshape(cool_after(60), {"prefixMatch": ["rec"]})])
def test_safe_look_alikes_of_the_cool_move_pass_and_the_pass_says_only_what_was_read(check, kit, rule):
    run = check(lifecycle([rule]), outputs={**kit.outputs, "cold_after_days": 60})
    detail = run.checks["azure.account.cold_tier"].detail
    assert run.failing() == set() and "lifecycle rules only: an upload can still set its own tier" in detail
    assert "instant" not in detail and "stay" not in detail


def _encrypt(identity: Callable[[Kit], str], version: str = "") -> Callable[[arm.ArmState, Kit], None]:
    def drift(state: arm.ArmState, kit: Kit) -> None:
        properties = {"keyname": "recordings", "keyvaulturi": "https://acme-keys.vault.azure.net/"}
        if version:
            properties["keyversion"] = version
        state.get(kit.account_id)["properties"]["encryption"] = {
            "services": {"blob": {"enabled": True, "keyType": "Account"}}, "keySource": "Microsoft.Keyvault",
            "keyvaultproperties": properties, "identity": {"userAssignedIdentity": identity(kit)}}
    return drift


def test_the_account_key_is_the_stacks_and_not_reached_as_the_writer(check, kit):
    separate = kit.identity_id.rsplit("/", 1)[0] + "/tavus-recordings-encryption"
    outputs = {**kit.outputs, "key_vault_key_uri": KEY_URI, "encryption_identity_id": separate}
    run = check(outputs=outputs)
    assert run.failing() == {"azure.account.encryption_key"}
    assert "Microsoft-managed keys" in run.checks["azure.account.encryption_key"].detail
    run = check(_encrypt(lambda k: separate), outputs=outputs)
    assert run.failing() == set() and run.unknown() == set()
    run = check(_encrypt(lambda k: separate, "0123456789abcdef0123456789abcdef"), outputs=outputs)
    assert run.failing() == {"azure.account.encryption_key"} and "asks for the newest version" in run.checks["azure.account.encryption_key"].detail
    run = check(_encrypt(lambda k: k.identity_id), outputs=outputs)
    assert run.failing() == {"azure.account.encryption_key"} and "as Tavus's writer identity" in run.checks["azure.account.encryption_key"].detail


# --- WORM and audit logs (issue 19)

STORAGE_READ, STORAGE_WRITE, STORAGE_DELETE = ({"category": c, "enabled": True} for c in ("StorageRead", "StorageWrite", "StorageDelete"))
LOG_ACCOUNT = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/audit/providers/Microsoft.Storage/storageAccounts/acmeaudit"


def asks(kit: Kit, days: Optional[int] = 30, mode: Optional[str] = "governance", audit: bool = False) -> dict[str, Any]:
    """The outputs of a stack with immutableDays (and its mode in force) and auditLogs."""
    return {**kit.outputs, "immutable_days": days, "immutable_mode": mode if days else None, "audit_logs": audit}


def worm(days: int = 30, state: str = "Unlocked", **kwargs: Any) -> Callable[[arm.ArmState, Kit], None]:
    return lambda state_, kit: state_.put(arm.immutability_policy(kit.container_id, days=days, state=state, **kwargs))


def policy_path(kit: Kit) -> str:
    return f"{kit.container_id}/immutabilityPolicies/default"


def test_the_stacks_immutability_policy_passes(check, kit):
    run = check(worm(30), outputs=asks(kit))
    assert run.failing() == set() and run.unknown() == set()
    assert "at least 30 days (policy Unlocked" in run.checks["azure.container.immutability"].detail
    # Compliance: locked. A longer period passes (a locked one can only grow).
    assert check(worm(30, "Locked"), outputs=asks(kit, mode="compliance")).failing() == set()
    assert check(worm(400, "Locked"), outputs=asks(kit, mode="compliance")).failing() == set()


WORM_DRIFTS = {
    "the period shortened": (worm(7), asks, "keeps blobs unchangeable for 7 days, fewer than the 30"),
    "the policy deleted": (None, asks, "has no immutability policy"),
    "protected appends allowed": (worm(30, append_writes=True), asks, "allowProtectedAppendWrites"),
    "protected appends to every blob allowed": (worm(30, append_writes=None, append_writes_all=True), asks,
                                                "allowProtectedAppendWritesAll"),
    "unlocked in compliance mode": (worm(30), lambda kit: asks(kit, mode="compliance"), "in state Unlocked, not Locked"),
}


@pytest.mark.parametrize("drift, outputs, words", WORM_DRIFTS.values(), ids=WORM_DRIFTS.keys())
def test_each_immutability_drift_fails_its_check(check, kit, drift, outputs, words):
    run = check(drift, outputs=outputs(kit))
    assert run.failing() == {"azure.container.immutability"} and run.unknown() == set()
    found = run.checks["azure.container.immutability"]
    assert words in found.detail and found.detail.startswith(f"container {kit.storage.container} ")


def test_an_unlocked_compliance_policy_is_fixed_by_the_lock_with_its_etag_and_the_rest_by_pulumi_up(check, kit):
    run = check(worm(30, etag='"8dfeed"'), outputs=asks(kit, mode="compliance"))
    fix = run.checks["azure.container.immutability"].fix
    assert fix.startswith("az storage container immutability-policy lock") and "--if-match '\"8dfeed\"'" in fix
    assert "irreversible" in fix and "pulumi" not in fix
    fix = check(worm(7), outputs=asks(kit)).checks["azure.container.immutability"].fix
    assert fix.startswith("run `pulumi up --refresh`") and "az storage container immutability-policy create" in fix and "--period 30" in fix


def version_worm(enabled: bool) -> Callable[[arm.ArmState, Kit], None]:
    """The container migrated to version-level immutability (BlobContainers_ObjectLevelWorm), or one that says it is off."""
    def drift(state: arm.ArmState, kit: Kit) -> None:
        state.put(arm.container(kit.account_id, kit.storage.container, public_access=None, version_worm=enabled))
    return drift


def both(*drifts: Callable[[arm.ArmState, Kit], None]) -> Callable[[arm.ArmState, Kit], None]:
    return lambda state, kit: [d(state, kit) for d in drifts] and None


@pytest.mark.parametrize("state, mode", [("Unlocked", "governance"), ("Locked", "compliance")], ids=["governance", "compliance, locked"])
def test_version_level_immutability_makes_the_container_policy_unknown_naming_the_override(check, kit, state, mode):
    run = check(both(worm(30, state), version_worm(True)), outputs=asks(kit, mode=mode))
    assert run.unknown() == {"azure.container.immutability"} and run.failing() == set()
    found = run.checks["azure.container.immutability"]
    assert "immutableStorageWithVersioning enabled" in found.detail and "overrides this container policy" in found.detail
    assert "--version-id" in found.fix


def test_version_level_immutability_off_or_a_stack_without_immutable_days_passes(check, kit):
    assert check(both(worm(30), version_worm(False)), outputs=asks(kit)).unknown() == set()
    assert check(worm(30), outputs=asks(kit)).unknown() == set()
    run = check(version_worm(True))
    assert run.unknown() == set() and run.failing() == set()
    # Beside a missing or short container policy, the check still fails.
    assert check(both(worm(7), version_worm(True)), outputs=asks(kit)).failing() == {"azure.container.immutability"}


def test_a_stack_without_immutable_days_reads_no_policy(check, kit):
    run = check(worm(1))
    assert run.checks["azure.container.immutability"].ok is True and "asks for no immutability policy" in run.checks["azure.container.immutability"].detail
    assert policy_path(kit).lower() not in {r.path.lower() for r in run.fake.received}


def test_a_denied_policy_read_is_unknown_naming_the_action(check, kit):
    run = check(lambda state, kit: state.deny(policy_path(kit), reads.IMMUTABILITY_POLICY_READ), outputs=asks(kit))
    assert run.unknown() == {"azure.container.immutability"} and run.failing() == set()
    assert f"{reads.IMMUTABILITY_POLICY_READ} denied" in run.checks["azure.container.immutability"].detail
    assert "--role Reader" in run.checks["azure.container.immutability"].fix


def blob_service(kit: Kit) -> str:
    return f"{kit.account_id}/blobServices/default"


def logs(*entries: dict[str, Any], name: str = "tavus-recordings-audit", **destination: Any) -> Callable[[arm.ArmState, Kit], None]:
    where = destination or {"storage_account_id": LOG_ACCOUNT}
    return lambda state, kit: state.put(arm.diagnostic_setting(blob_service(kit), name, logs=list(entries), **where))


def test_the_stacks_diagnostic_setting_passes_and_is_read_by_a_plain_get(check, kit):
    run = check(logs(STORAGE_READ, STORAGE_WRITE, STORAGE_DELETE), outputs=asks(kit, days=None, audit=True))
    assert run.failing() == set() and run.unknown() == set()
    assert f": tavus-recordings-audit (to {LOG_ACCOUNT})" in run.checks["azure.account.diagnostic_logs"].detail
    (read,) = [r for r in run.fake.received if "diagnosticSettings" in r.path]
    assert read.method == "GET" and read.path == f"{blob_service(kit)}/providers/Microsoft.Insights/diagnosticSettings"
    assert read.query["api-version"] == "2021-05-01-preview" and read.headers["authorization"] == f"Bearer {TOKEN}"
    # allLogs is every category of the blob service.
    assert check(logs({"categoryGroup": "allLogs", "enabled": True}), outputs=asks(kit, days=None, audit=True)).failing() == set()


AUDIT_DRIFTS = {
    "no setting": (None, "has no diagnostic setting on its blob service"),
    "StorageRead disabled": (logs({**STORAGE_READ, "enabled": False}, STORAGE_WRITE, STORAGE_DELETE), "StorageRead (reads)"),
    "StorageRead left out": (logs(STORAGE_WRITE, STORAGE_DELETE), "StorageRead (reads)"),
    "the audit group instead of the categories": (logs({"categoryGroup": "audit", "enabled": True}), "category group audit"),
    "no destination": (logs(STORAGE_READ, STORAGE_WRITE, STORAGE_DELETE, workspace_id=""), "names no destination"),
    "on the account instead of its blob service": (
        lambda state, kit: state.put(arm.diagnostic_setting(kit.account_id, "account", logs=[STORAGE_READ], storage_account_id=LOG_ACCOUNT)),
        "has no diagnostic setting on its blob service"),
}


@pytest.mark.parametrize("drift, words", AUDIT_DRIFTS.values(), ids=AUDIT_DRIFTS.keys())
def test_each_audit_log_drift_fails_its_check(check, kit, drift, words):
    run = check(drift, outputs=asks(kit, days=None, audit=True))
    assert run.failing() == {"azure.account.diagnostic_logs"} and run.unknown() == set()
    found = run.checks["azure.account.diagnostic_logs"]
    assert words in found.detail and found.detail.startswith(f"account {kit.storage.storage_account} ")
    assert found.fix.startswith("run `pulumi up --refresh`")


OTHER_SUBSCRIPTION = "99999999-8888-7777-6666-555555555555"


def elsewhere(subscription: str = OTHER_SUBSCRIPTION, name: str = "acmeaudit", group: str = "audit") -> str:
    return f"/subscriptions/{subscription}/resourceGroups/{group}/providers/Microsoft.Storage/storageAccounts/{name}"


def workspace(subscription: str) -> str:
    return f"/subscriptions/{subscription}/resourceGroups/logs/providers/Microsoft.OperationalInsights/workspaces/w"


ALL_THREE = (STORAGE_READ, STORAGE_WRITE, STORAGE_DELETE)
# A stack deployed before the audit_log_account output: the setting must at least stay in the stack's subscription.
OLD_STACK_ELSEWHERE = {
    "an account in another subscription or tenant": {"storage_account_id": elsewhere()},
    "a marketplace partner alone": {"marketplace_partner_id": "x"},
    "a workspace of another subscription": {"workspace_id": workspace(OTHER_SUBSCRIPTION)},
    "an account named without its subscription": {"storage_account_id": "acmeaudit"},
}


@pytest.mark.parametrize("where", OLD_STACK_ELSEWHERE.values(), ids=OLD_STACK_ELSEWHERE.keys())
def test_an_old_stacks_logs_sent_outside_its_subscription_fail(check, kit, where):
    run = check(logs(*ALL_THREE, **where), outputs=asks(kit, days=None, audit=True))
    assert run.failing() == {"azure.account.diagnostic_logs"} and run.unknown() == set()
    detail = run.checks["azure.account.diagnostic_logs"].detail
    assert f"to a destination in subscription {SUBSCRIPTION}" in detail and f"outside subscription {SUBSCRIPTION}" in detail


def test_an_old_stacks_logs_in_its_subscription_pass_saying_what_was_not_read(check, kit):
    for where in ({"storage_account_id": LOG_ACCOUNT.upper()}, {"workspace_id": workspace(SUBSCRIPTION)}):
        run = check(logs(*ALL_THREE, **where), outputs=asks(kit, days=None, audit=True))
        assert run.failing() == set() and run.unknown() == set(), run.checks["azure.account.diagnostic_logs"].detail
        assert "lifecycle rules were not read" in run.checks["azure.account.diagnostic_logs"].detail


@pytest.fixture
def logged(worm_kit: Kit, tmp_path: Path, ca: trustme.CA) -> Callable[..., Run]:
    """Verify the kit's WORM and audit deployment (its outputs name audit_log_account) after `drift`."""

    def run(drift: Optional[Callable[[arm.ArmState, Kit], None]] = None) -> Run:
        state = worm_kit.state()
        if drift:
            drift(state, worm_kit)
        return verify_with(worm_kit, state, tmp_path, ca)

    return run


def log_account_id(kit: Kit, subscription: str = SUBSCRIPTION) -> str:
    return elsewhere(subscription, kit.outputs["audit_log_account"], kit.outputs["resource_group_name"])


def instead(**where: Any) -> Callable[[arm.ArmState, Kit], None]:
    """The kit's setting, sending to `where` (a callable of the kit, or a value) instead of its log account."""
    def drift(state: arm.ArmState, kit: Kit) -> None:
        (setting,) = state.of_type(arm.DIAGNOSTIC_SETTING_TYPE)
        state.remove(setting["id"])
        state.put(arm.diagnostic_setting(blob_service(kit), setting["name"], logs=list(ALL_THREE),
                                         **{k: v(kit) if callable(v) else v for k, v in where.items()}))
    return drift


LOG_ACCOUNT_ELSEWHERE = {
    "the log account's name in another subscription": {"storage_account_id": lambda kit: log_account_id(kit, OTHER_SUBSCRIPTION)},
    "another account of the stack's subscription": {"storage_account_id": elsewhere(SUBSCRIPTION, "evilaudit")},
    "a marketplace partner alone": {"marketplace_partner_id": "x"},
    "a workspace of the stack's subscription": {"workspace_id": workspace(SUBSCRIPTION)},
    "the log account named without its subscription": {"storage_account_id": lambda kit: kit.outputs["audit_log_account"]},
}


@pytest.mark.parametrize("where", LOG_ACCOUNT_ELSEWHERE.values(), ids=LOG_ACCOUNT_ELSEWHERE.keys())
def test_logs_sent_anywhere_but_the_stacks_log_account_fail(logged, worm_kit, where):
    run = logged(instead(**where))
    assert run.failing() == {"azure.account.diagnostic_logs"} and run.unknown() == set()
    detail = run.checks["azure.account.diagnostic_logs"].detail
    assert f"not the stack's log account {worm_kit.outputs['audit_log_account']} in subscription {SUBSCRIPTION}" in detail


def test_the_log_account_in_other_casing_or_beside_a_second_destination_passes(logged, worm_kit):
    run = logged(instead(storage_account_id=lambda kit: log_account_id(kit).upper()))
    assert run.failing() == set() and run.unknown() == set()
    detail = run.checks["azure.account.diagnostic_logs"].detail
    assert f"to the stack's log account {worm_kit.outputs['audit_log_account']}" in detail
    assert "no lifecycle rule of log account" in detail and "not that logs arrive" in detail
    also = lambda state, kit: state.put(arm.diagnostic_setting(blob_service(kit), "copy", logs=list(ALL_THREE), workspace_id="w"))  # noqa: E731
    assert logged(also).failing() == set()


def log_rule(name: str = "expire", prefixes: Optional[list[str]] = None, enabled: bool = True, **actions: Any) -> dict[str, Any]:
    filters: dict[str, Any] = {"blobTypes": ["appendBlob", "blockBlob"]}
    if prefixes is not None:
        filters["prefixMatch"] = prefixes
    return {"enabled": enabled, "name": name, "type": "Lifecycle", "definition": {
        "actions": actions or {"baseBlob": {"delete": {"daysAfterModificationGreaterThan": 1}}}, "filters": filters}}


def log_policy(*rules_: dict[str, Any]) -> Callable[[arm.ArmState, Kit], None]:
    return lambda state, kit: state.put(arm.management_policy(log_account_id(kit), list(rules_)))


LOG_DELETIONS = {
    "every container after a day": log_rule(),
    "the StorageRead container": log_rule(prefixes=["insights-logs-storageread/"]),
    "a prefix shorter than insights-logs-": log_rule(prefixes=["other/", "insi"]),
    "upper-case prefix": log_rule(prefixes=["INSIGHTS-LOGS-STORAGEWRITE"]),
    "old versions only": log_rule(version={"delete": {"daysAfterCreationGreaterThan": 1}}),
    "snapshots only": log_rule(snapshot={"delete": {"daysAfterCreationGreaterThan": 1}}),
}


@pytest.mark.parametrize("rule", LOG_DELETIONS.values(), ids=LOG_DELETIONS.keys())
def test_a_lifecycle_rule_deleting_audit_logs_fails_the_check(logged, worm_kit, rule):
    run = logged(log_policy(rule))
    assert run.failing() == {"azure.account.diagnostic_logs"} and run.unknown() == set()
    found = run.checks["azure.account.diagnostic_logs"]
    assert f"the lifecycle policy of log account {worm_kit.outputs['audit_log_account']} deletes audit logs (rule expire" in found.detail
    assert "az storage account management-policy show" in found.fix


def test_log_account_rules_that_keep_the_logs_pass_and_a_denied_or_missing_log_account_does_not(logged, worm_kit):
    keeps = log_policy(log_rule(prefixes=["other/", "insights-metrics-pt1m/"]), log_rule(enabled=False),
                       log_rule(name="cool", baseBlob={"tierToCool": {"daysAfterModificationGreaterThan": 30}}))
    assert logged(keeps).failing() == set()
    path = f"{log_account_id(worm_kit)}/managementPolicies/default"
    run = logged(lambda state, kit: state.deny(path, reads.MANAGEMENT_POLICY_READ))
    assert run.unknown() == {"azure.account.diagnostic_logs"} and run.failing() == set()
    assert f"{reads.MANAGEMENT_POLICY_READ} denied" in run.checks["azure.account.diagnostic_logs"].detail
    run = logged(lambda state, kit: state.remove(log_account_id(kit)))
    assert run.failing() == {"azure.account.diagnostic_logs"}
    assert "was not found" in run.checks["azure.account.diagnostic_logs"].detail


def test_audit_logs_off_reads_no_setting_and_a_denied_read_is_unknown(check, kit):
    run = check()
    assert run.checks["azure.account.diagnostic_logs"].ok is True
    assert not [r for r in run.fake.received if "diagnosticSettings" in r.path]
    listing_ = f"{blob_service(kit)}/providers/Microsoft.Insights/diagnosticSettings"
    run = check(lambda state, kit: state.deny(listing_, reads.DIAGNOSTIC_SETTINGS_READ), outputs=asks(kit, days=None, audit=True))
    assert run.unknown() == {"azure.account.diagnostic_logs"} and run.failing() == set()
    assert f"{reads.DIAGNOSTIC_SETTINGS_READ} denied" in run.checks["azure.account.diagnostic_logs"].detail


# DiagnosticSettingsResource at 2021-05-01-preview (azure-rest-api-specs, specification/monitor/resource-manager/
# Microsoft.Insights/preview/2021-05-01-preview/diagnosticsSettings_API.json): no SDK model to check it against here.
DIAGNOSTIC_FIELDS = {"id", "name", "type", "systemData", "properties"}
DIAGNOSTIC_PROPERTIES = {"storageAccountId", "serviceBusRuleId", "eventHubAuthorizationRuleId", "eventHubName", "metrics", "logs",
                         "workspaceId", "marketplacePartnerId", "logAnalyticsDestinationType"}
LOG_SETTINGS = {"category", "categoryGroup", "enabled", "retentionPolicy"}


def test_the_fakes_policy_and_settings_have_only_fields_the_api_defines(kit):
    for body in (arm.immutability_policy(kit.container_id, days=30, append_writes_all=True), arm.no_immutability_policy(kit.container_id)):
        assert unknown_fields(body, storage_models.ImmutabilityPolicy) == []
    assert unknown_fields(arm.container(kit.account_id, "c", public_access=None, version_worm=True), storage_models.BlobContainer) == []
    setting = arm.diagnostic_setting(blob_service(kit), "s", logs=[STORAGE_READ, {"categoryGroup": "allLogs", "enabled": True}],
                                     storage_account_id=LOG_ACCOUNT, workspace_id="w")
    assert set(setting) <= DIAGNOSTIC_FIELDS and set(setting["properties"]) <= DIAGNOSTIC_PROPERTIES
    assert all(set(log) <= LOG_SETTINGS for log in setting["properties"]["logs"])


@pytest.fixture(scope="module")
def worm_kit() -> Kit:
    return deploy(azure_config(immutableDays="30", auditLogs="true"))


def test_the_kits_worm_and_audit_deployment_passes_every_check_and_a_compliance_one_waits_for_the_lock(worm_kit, tmp_path, ca):
    outputs = worm_kit.outputs
    assert (outputs["immutable_days"], outputs["immutable_mode"], outputs["audit_logs"]) == (30, "governance", True)
    run = verify_with(worm_kit, worm_kit.state(), tmp_path, ca)
    assert {i: c.detail for i, c in run.checks.items() if c.ok is not True} == {}
    paths = {r.path.lower() for r in run.fake.received}
    assert f"{worm_kit.container_id}/immutabilityPolicies/default".lower() in paths
    assert f"{worm_kit.account_id}/blobServices/default/providers/Microsoft.Insights/diagnosticSettings".lower() in paths
    # Compliance: `pulumi up` leaves the policy unlocked (azure-native cannot lock), so verify fails it until the lock.
    compliance = deploy(azure_config(immutableDays="30", immutableMode="compliance"))
    run = verify_with(compliance, compliance.state(), tmp_path, ca)
    assert run.failing() == {"azure.container.immutability"}
    assert run.checks["azure.container.immutability"].fix.startswith("az storage container immutability-policy lock")


# --- the account's encryption identity is the stack's own (issue 19: the output encryption_identity_id)


def test_the_account_reaches_its_key_as_the_stacks_own_encryption_identity(check, kit):
    own = kit.identity_id.rsplit("/", 1)[0] + "/tavus-recordings-encryption"
    outputs = {**kit.outputs, "key_vault_key_uri": KEY_URI, "encryption_identity_id": own}
    run = check(_encrypt(lambda k: own), outputs=outputs)
    assert run.failing() == set() and run.unknown() == set()
    # Another identity (not the writer), or the account's system-assigned one: not the stack's.
    other = kit.identity_id.rsplit("/", 1)[0] + "/someone-elses"
    run = check(_encrypt(lambda k: other), outputs=outputs)
    assert run.failing() == {"azure.account.encryption_key"}
    assert f"reaches its key as identity {other}, not the stack's own encryption identity {own}" in run.checks["azure.account.encryption_key"].detail
    def system_assigned(state: arm.ArmState, kit: Kit) -> None:
        _encrypt(lambda k: own)(state, kit)
        del state.get(kit.account_id)["properties"]["encryption"]["identity"]

    run = check(system_assigned, outputs=outputs)
    assert "as its system-assigned identity" in run.checks["azure.account.encryption_key"].detail
    # The same id in another case is the same identity (ARM ids compare case-insensitively).
    assert check(_encrypt(lambda k: own.upper().replace("/SUBSCRIPTIONS/", "/subscriptions/")), outputs=outputs).failing() == set()


def test_a_key_without_the_encryption_identity_output_is_unknown_never_passing(check, kit):
    own = kit.identity_id.rsplit("/", 1)[0] + "/tavus-recordings-encryption"
    before = {k: v for k, v in kit.outputs.items() if k != "encryption_identity_id"}
    run = check(_encrypt(lambda k: own), outputs={**before, "key_vault_key_uri": KEY_URI})
    assert run.unknown() == {"azure.account.encryption_key"} and "predate encryption_identity_id" in run.checks["azure.account.encryption_key"].detail
    # The writer identity still fails, whatever cannot be compared.
    assert check(_encrypt(lambda k: k.identity_id), outputs={**before, "key_vault_key_uri": KEY_URI}).failing() == {"azure.account.encryption_key"}
    # No key: nothing to compare.
    assert check(outputs=before).failing() == set() and check(outputs=before).unknown() == set()


def test_a_policy_answered_404_reads_as_none_not_unknown(kit, tmp_path, ca):
    # Should an api-version answer a container without a policy with 404 rather than 0 days in state Deleted.
    class NoPolicy(arm.ArmState):
        def answer(self, path: str, query: dict[str, str]) -> tuple[int, dict[str, Any]]:
            if path.lower().endswith("/immutabilitypolicies/default"):
                return 404, {"error": {"code": "ImmutabilityPolicyNotFound", "message": "The immutability policy was not found."}}
            return super().answer(path, query)

    state = NoPolicy()
    state.put(*copy.deepcopy(kit.resources))
    run = verify_with(kit, state, tmp_path, ca, outputs=asks(kit))
    assert run.failing() == {"azure.container.immutability"} and run.unknown() == set()
    assert "has no immutability policy" in run.checks["azure.container.immutability"].detail

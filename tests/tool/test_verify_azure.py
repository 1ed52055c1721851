"""`verify` for Azure Blob: the kit's own deployment passes every check, and each drift fails its own.

The healthy destination is what the program deploys for the `azure` example stack, run on Pulumi's
mock engine and written out as ARM would answer for it; a local TLS fake of Azure Resource Manager
(tests/fakes/azure_api.py) serves it to the real SDK clients.
"""

from __future__ import annotations

import copy
import json
import re
import socket
import sys
import time
import typing
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

import pytest
import trustme
from azure.core.exceptions import ClientAuthenticationError
from azure.mgmt.authorization import AuthorizationManagementClient
from azure.mgmt.msi import ManagedServiceIdentityClient
from azure.mgmt.storage import StorageManagementClient
from azure.mgmt.storage import models as storage_models
from azure.mgmt.storage._utils.model_base import Model as TypeSpecModel
from fakes import azure_api as arm
from fakes import deployed
from fakes.loopback import closed_port
from typer.testing import CliRunner

from components import azure_policy, tavus
from tavus_recording.cli import app
from tavus_recording.mock_engine import run_program
from tavus_recording.verify import azure as verify_azure
from tavus_recording.verify.azure import CHECK_IDS, READ_PERMISSIONS, MissingOutputs
from tavus_recording.verify.outputs import OutputsError
from tavus_recording.verify.report import Check
from stack_configs import azure_config

# What the mock engine leaves as placeholders, made concrete as a real deployment would.
SUBSCRIPTION = "3f2b8c1e-5d4a-4c7b-9e2f-1a6b7c8d9e0f"
TENANT = "5b0e4a7c-2f1d-4e8a-9c3b-6d7e8f9a0b1c"
CLIENT_ID = "8d3c2b1a-6f5e-4d3c-8b2a-1f0e9d8c7b6a"
PRINCIPAL_ID = "9e8d7c6b-5a4f-4e3d-9c2b-1a0f9e8d7c6b"
PLACEHOLDERS = {
    "<subscription-id>": SUBSCRIPTION,
    "<tenant-id>": TENANT,
    "<identity-client-id>": CLIENT_ID,
    "<identity-principal-id>": PRINCIPAL_ID,
    "<random>": "4f7a2c9e",
}
CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c"
TOKEN = "arm-token-0123456789"
# azure-native names the account's HTTPS switch after the create call's parameter; ARM answers with this.
ARM_ACCOUNT_NAMES = {"enableHttpsTrafficOnly": "supportsHttpsTrafficOnly"}
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
    run = run_program(azure_config(), stack="azure")
    outputs = realise(run.outputs)
    assert "<" not in json.dumps(outputs), "a placeholder the test does not know"

    def one(type_: str) -> tuple[str, dict[str, Any]]:
        registration = run.one(type_)
        return realise(registration.id), realise(registration.outputs)

    identity_id, identity = one("azure-native:managedidentity:UserAssignedIdentity")
    account_id, account = one("azure-native:storage:StorageAccount")
    container_id, container = one("azure-native:storage:BlobContainer")
    _, service = one("azure-native:storage:BlobServiceProperties")
    _, credential = one("azure-native:managedidentity:FederatedIdentityCredential")
    _, grant = one("azure-native:authorization:RoleAssignment")
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
            scope=grant["scope"],
            role_definition_id=grant["roleDefinitionId"],
            principal_id=grant["principalId"],
            principal_type=grant["principalType"],
            description=grant["description"],
        ),
        arm.storage_account(account_id, location=location, sku=account["sku"]["name"], kind=account["kind"], properties=account_properties),
        arm.blob_service(account_id, sku=account["sku"]["name"], properties=service_properties),
        arm.container(account_id, container["name"], public_access=container["publicAccess"]),
    ]
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
    assert {check_id: c.ok for check_id, c in run.checks.items()} == {check_id: True for check_id in CHECK_IDS}
    assert set(CHECK_IDS) == {
        "azure.identity.exists",
        "azure.identity.ids",
        "azure.identity.federation",
        "azure.identity.role_assignments",
        "azure.account.exists",
        "azure.account.tls",
        "azure.account.https_only",
        "azure.account.public_access",
        "azure.account.shared_key",
        "azure.account.network",
        "azure.account.versioning",
        "azure.container.exists_private",
    }


def test_it_only_reads_each_resource_once_with_the_callers_bearer_token(check, kit):
    run = check()
    received = run.fake.received
    assert {r.method for r in received} == {"GET"}
    assert {r.headers["authorization"] for r in received} == {f"Bearer {TOKEN}"}
    assert sorted(r.path.lower() for r in received) == sorted(
        path.lower()
        for path in (
            kit.identity_id,
            f"{kit.identity_id}/federatedIdentityCredentials",
            f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Authorization/roleAssignments",
            kit.account_id,
            f"{kit.account_id}/blobServices/default",
            kit.container_id,
        )
    )
    (listing,) = [r for r in received if r.path.endswith("/roleAssignments")]
    # Listed for the identity's principal only, never by searching the subscription.
    assert listing.query["$filter"] == f"principalId eq '{PRINCIPAL_ID}'"


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
    for grant in state.of_type(arm.ROLE_ASSIGNMENT_TYPE):
        del state.resources[grant["id"].lower()]


def grant(scope: Callable[[Kit], str], role: str = azure_policy.STORAGE_BLOB_DATA_CONTRIBUTOR, replace: bool = True) -> Callable[[arm.ArmState, Kit], None]:
    def drift(state: arm.ArmState, kit: Kit) -> None:
        if replace:
            remove_grants(state)
        state.put(
            arm.role_assignment(
                scope=scope(kit),
                role_definition_id=azure_policy.role_definition_id(SUBSCRIPTION, role),
                principal_id=PRINCIPAL_ID,
                principal_type=azure_policy.PRINCIPAL_TYPE,
            )
        )

    return drift


def set_account(**properties: Any) -> Callable[[arm.ArmState, Kit], None]:
    return lambda state, kit: state.set_properties(kit.account_id, **properties)


DRIFTS = {
    "client id differs": (set_identity(clientId="0c0c0c0c-1111-4222-8333-444455556666"), "azure.identity.ids", "0c0c0c0c-1111-4222-8333-444455556666"),
    "tenant differs": (set_identity(tenantId="7a7a7a7a-1111-4222-8333-444455556666"), "azure.identity.ids", "7a7a7a7a-1111-4222-8333-444455556666"),
    "no federated credential": (remove_credentials, "azure.identity.federation", "no federated credential"),
    "another issuer": (set_credential(issuer="https://issuer.attacker.example"), "azure.identity.federation", "https://issuer.attacker.example"),
    "another subject": (set_credential(subject="someone-else"), "azure.identity.federation", "subject someone-else"),
    "another audience": (set_credential(audiences=["api://other"]), "azure.identity.federation", "api://other"),
    "a second federated credential": (add_credential, "azure.identity.federation", "github-deploy"),
    "role at account scope": (grant(lambda kit: kit.account_id), "azure.identity.role_assignments", "at storage account"),
    "role at resource group scope": (grant(lambda kit: kit.group_id), "azure.identity.role_assignments", "at resource group"),
    "role at subscription scope": (grant(lambda kit: f"/subscriptions/{SUBSCRIPTION}"), "azure.identity.role_assignments", "at subscription"),
    "Contributor at the container": (grant(lambda kit: kit.container_id, CONTRIBUTOR), "azure.identity.role_assignments", "Contributor at container"),
    "an extra grant beside the kit's": (
        grant(lambda kit: kit.account_id, replace=False),
        "azure.identity.role_assignments",
        "Storage Blob Data Contributor at storage account",
    ),
    "no role assignment": (lambda state, kit: remove_grants(state), "azure.identity.role_assignments", "Tavus cannot write"),
    "TLS1_0": (set_account(minimumTlsVersion="TLS1_0"), "azure.account.tls", "TLS1_0"),
    "minimum TLS unset": (set_account(minimumTlsVersion=None), "azure.account.tls", "treats as TLS1_0"),
    "HTTPS only off": (set_account(supportsHttpsTrafficOnly=False), "azure.account.https_only", "supportsHttpsTrafficOnly is False"),
    "public blob access on": (set_account(allowBlobPublicAccess=True), "azure.account.public_access", "allowBlobPublicAccess is true"),
    "public blob access unset": (set_account(allowBlobPublicAccess=None), "azure.account.public_access", "not set"),
    "shared key access on": (set_account(allowSharedKeyAccess=True), "azure.account.shared_key", "allowSharedKeyAccess is true"),
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
    "container missing": (lambda state, kit: state.remove(kit.container_id), "azure.container.exists_private", "was not found"),
    "container with public access Blob": (
        lambda state, kit: state.set_properties(kit.container_id, publicAccess="Blob"),
        "azure.container.exists_private",
        "public access Blob",
    ),
}


@pytest.mark.parametrize("drift, check_id, found", DRIFTS.values(), ids=DRIFTS.keys())
def test_each_drift_fails_its_own_check_and_says_what_it_found(check, drift, check_id, found):
    run = check(drift)
    assert run.failing() == {check_id}
    assert run.unknown() == set()
    failure = run.checks[check_id]
    assert found in failure.detail
    assert failure.fix


def test_a_role_scope_differing_only_in_case_passes(check):
    # ARM does not keep the case a scope was written in; ids compare case-insensitively.
    run = check(grant(lambda kit: kit.container_id.upper().replace("/SUBSCRIPTIONS/", "/subscriptions/")))
    assert all(c.ok is True for c in run.checks.values())


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


def test_account_fixes_name_the_az_cli_setting(check, kit):
    run = check(set_account(minimumTlsVersion="TLS1_0"))
    assert f"az storage account update -g {kit.outputs['resource_group_name']} -n {kit.storage.storage_account} --min-tls-version TLS1_2" in (
        run.checks["azure.account.tls"].fix
    )
    assert "pulumi up" in run.checks["azure.account.tls"].fix


def test_a_missing_identity_fails_exists_and_skips_what_needs_it(check, kit):
    run = check(lambda state, kit: state.remove(kit.identity_id))
    assert run.failing() == {"azure.identity.exists"}
    assert run.unknown() == {"azure.identity.ids", "azure.identity.federation", "azure.identity.role_assignments"}
    assert "not found" in run.checks["azure.identity.exists"].detail
    assert all(run.checks[i].detail.startswith("not checked: identity") for i in run.unknown())
    # Nothing is read that needs the identity.
    assert not [r for r in run.fake.received if "federatedIdentityCredentials" in r.path or "roleAssignments" in r.path]


def test_a_missing_account_fails_exists_and_skips_its_settings_and_container(check, kit):
    run = check(lambda state, kit: state.remove(kit.account_id))
    assert run.failing() == {"azure.account.exists"}
    assert run.unknown() == {
        "azure.account.tls",
        "azure.account.https_only",
        "azure.account.public_access",
        "azure.account.shared_key",
        "azure.account.network",
        "azure.account.versioning",
        "azure.container.exists_private",
    }
    assert f"storage account {kit.storage.storage_account} was not found" in run.checks["azure.account.exists"].detail


# --- an existing account and container (existingStorageAccount): the stack does not manage them

UNMANAGED_ACCOUNT = "(this stack does not manage the storage account: it was named with existingStorageAccount)"
UNMANAGED_CONTAINER = "(this stack does not manage the container: it was named with existingContainer)"
ACCOUNT_UPDATE = "az storage account update -g {group} -n {account}"
CONTAINER_RM = "az storage container-rm {verb} -g {group} --storage-account {account} -n {container} --public-access off"
# Each drift of the account or container, and the direct fix its check must give when the stack only looked them up.
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
    "container missing": "check the name given in existingContainer, or create the container: " + CONTAINER_RM.replace("{verb}", "create"),
    "container with public access Blob": CONTAINER_RM.replace("{verb}", "update"),
}


def unmanaged(kit: Kit) -> dict[str, Any]:
    """The outputs of an existingStorageAccount stack: the program exports storage_managed false."""
    return {**kit.outputs, "storage_managed": False}


def test_every_storage_drift_has_its_direct_fix():
    assert set(DIRECT_FIXES) == {name for name, (_, check_id, _) in DRIFTS.items() if check_id.startswith(("azure.account.", "azure.container."))}


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
    # The identity's trust and its grant on the container are the stack's own: `pulumi up` restores them.
    for managed in ("azure.identity.federation", "azure.identity.role_assignments"):
        assert run.checks[managed].fix.startswith("run `pulumi up` on this stack"), run.checks[managed].fix


def test_a_missing_existing_account_says_to_check_the_names_it_was_given(check, kit):
    run = check(lambda state, kit: state.remove(kit.account_id), outputs=unmanaged(kit))
    assert run.failing() == {"azure.account.exists"}
    fix = run.checks["azure.account.exists"].fix
    assert fix.startswith("check the names given in existingStorageAccount and resourceGroupName") and fix.endswith(UNMANAGED_ACCOUNT)
    assert f"az storage account show -g {kit.outputs['resource_group_name']} -n {kit.storage.storage_account}" in fix
    assert "pulumi" not in fix


@pytest.mark.parametrize("name", ["TLS1_0", "firewall denies by default", "container missing", "container with public access Blob"])
def test_a_stack_without_the_storage_managed_output_keeps_the_kits_fixes(check, kit, name):
    # Stacks deployed before storage_managed existed made their own account: its fixes stay the kit's.
    drift, check_id, _ = DRIFTS[name]
    assert kit.outputs["storage_managed"] is True
    before = {key: value for key, value in kit.outputs.items() if key != "storage_managed"}
    fix = check(drift, outputs=before).checks[check_id].fix
    assert fix == check(drift).checks[check_id].fix
    assert "existingStorageAccount" not in fix and "existingContainer" not in fix
    assert name == "firewall denies by default" or fix.startswith("run `pulumi up` on this stack")


# --- reads that cannot be made


def read_path(kit: Kit, action: str) -> str:
    return {
        verify_azure.IDENTITY_READ: kit.identity_id,
        verify_azure.FEDERATED_CREDENTIALS_READ: f"{kit.identity_id}/federatedIdentityCredentials",
        verify_azure.ROLE_ASSIGNMENTS_READ: f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Authorization/roleAssignments",
        verify_azure.ACCOUNT_READ: kit.account_id,
        verify_azure.BLOB_SERVICE_READ: f"{kit.account_id}/blobServices/default",
        verify_azure.CONTAINER_READ: kit.container_id,
    }[action]


# Which checks each read feeds: a denied read makes exactly these unknown.
DEPENDENT_CHECKS = {
    verify_azure.IDENTITY_READ: {"azure.identity.exists", "azure.identity.ids", "azure.identity.role_assignments"},
    verify_azure.FEDERATED_CREDENTIALS_READ: {"azure.identity.federation"},
    verify_azure.ROLE_ASSIGNMENTS_READ: {"azure.identity.role_assignments"},
    verify_azure.ACCOUNT_READ: {
        "azure.account.exists",
        "azure.account.tls",
        "azure.account.https_only",
        "azure.account.public_access",
        "azure.account.shared_key",
        "azure.account.network",
    },
    verify_azure.BLOB_SERVICE_READ: {"azure.account.versioning"},
    verify_azure.CONTAINER_READ: {"azure.container.exists_private"},
}


@pytest.mark.parametrize("action", READ_PERMISSIONS)
def test_a_denied_read_makes_only_its_checks_unknown_naming_the_action(check, kit, action):
    run = check(lambda state, kit: state.deny(read_path(kit, action), action))
    assert run.unknown() == DEPENDENT_CHECKS[action]
    assert run.failing() == set()
    for check_id in DEPENDENT_CHECKS[action]:
        assert f"{action} denied" in run.checks[check_id].detail
        assert "--role Reader" in run.checks[check_id].fix


def test_read_permissions_are_the_actions_verify_reads_with():
    assert set(READ_PERMISSIONS) == set(DEPENDENT_CHECKS) == {
        "Microsoft.ManagedIdentity/userAssignedIdentities/read",
        "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/read",
        "Microsoft.Authorization/roleAssignments/read",
        "Microsoft.Storage/storageAccounts/read",
        "Microsoft.Storage/storageAccounts/blobServices/read",
        "Microsoft.Storage/storageAccounts/blobServices/containers/read",
    }


def test_an_unreachable_endpoint_makes_every_check_unknown_quickly(check):
    with closed_port() as port:
        url = f"https://127.0.0.1:{port}"
        run = check(base_url=url)
    assert run.unknown() == set(CHECK_IDS)
    assert all(url in c.detail for c in run.checks.values() if not c.detail.startswith("not checked"))
    assert run.seconds < 5


@contextmanager
def silent_listener() -> Iterator[str]:
    """A port that accepts connections and never answers (a black-holed endpoint)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield f"https://127.0.0.1:{listener.getsockname()[1]}"


def test_an_endpoint_that_never_answers_is_given_up_on_once(check):
    with silent_listener() as url:
        run = check(base_url=url, connection_timeout=1, read_timeout=1)
    assert run.unknown() == set(CHECK_IDS)
    assert "unreachable" in run.checks["azure.identity.exists"].detail
    # One timeout, not one per read: later reads reuse the answer.
    assert run.seconds < 4


class NoLogin:
    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        raise ClientAuthenticationError("AzureCliCredential: Please run 'az login' to set up an account")

    def get_token_info(self, *scopes: str, **kwargs: Any) -> Any:
        raise ClientAuthenticationError("AzureCliCredential: Please run 'az login' to set up an account")


def test_without_a_token_every_check_is_unknown_with_az_login(check):
    run = check(credential=NoLogin())
    assert run.unknown() == set(CHECK_IDS)
    assert all("az login" in c.fix for c in run.checks.values())
    assert "Please run 'az login'" in run.checks["azure.identity.exists"].detail
    assert run.fake.received == []


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


def response_model(path: str) -> type:
    """The class the SDK deserializes the answer at `path` into, at the api-version the fake serves."""
    msi = ManagedServiceIdentityClient.models(arm.API_VERSIONS["microsoft.managedidentity"])
    authorization = AuthorizationManagementClient.models(arm.API_VERSIONS["microsoft.authorization"])
    lowered = path.lower()
    if lowered.endswith("/federatedidentitycredentials"):
        return msi.FederatedIdentityCredentialsListResult
    if "/userassignedidentities/" in lowered:
        return msi.Identity
    if lowered.endswith("/roleassignments"):
        return authorization.RoleAssignmentListResult
    if "/containers/" in lowered:
        return storage_models.BlobContainer
    if lowered.endswith("/blobservices/default"):
        return storage_models.BlobServiceProperties
    return storage_models.StorageAccount


def test_every_field_the_fake_answers_with_exists_in_the_api_schema(check):
    run = check()
    answered = [(r.path, run.fake.state.answer(r.path, r.query)) for r in run.fake.received]
    assert len(answered) == 6 and all(status == 200 for _, (status, _) in answered)
    for path, (_, body) in answered:
        assert unknown_fields(body, response_model(path)) == [], path


def test_the_schema_guard_catches_a_field_the_api_does_not_define(kit):
    msi = ManagedServiceIdentityClient.models(arm.API_VERSIONS["microsoft.managedidentity"])
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
    with AuthorizationManagementClient(arm.StaticCredential(), SUBSCRIPTION) as authorization:
        assert arm.API_VERSIONS["microsoft.authorization"] == authorization._get_api_version("role_assignments")
    with StorageManagementClient(arm.StaticCredential(), SUBSCRIPTION) as client:
        assert arm.API_VERSIONS["microsoft.storage"] == client._config.api_version

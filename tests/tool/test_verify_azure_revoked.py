"""`verify` for an Azure Blob stack whose Tavus access is revoked: nothing lets Tavus in (no federated credential
on the identity, no role of its principal over the container at any scope), the storage's own checks still run,
and a read that is denied is unknown, never passing. Served by the local ARM fake to the real SDK clients."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, Optional

import pytest
import trustme
from fakes import azure_api as arm
from typer.testing import CliRunner

import test_verify_azure as tv  # module objects only: its tests are not collected here
from components import azure_policy, tavus
from tavus_recording.cli import app
from tavus_recording.mock_engine import run_program
from tavus_recording.verify import azure as verify_azure
from tavus_recording.verify import azure_reads as reads
from tavus_recording.verify.azure_revoked import REVOKED_CHECK_IDS
from tavus_recording.verify.outputs import OutputsError, recording_storage
from stack_configs import azure_config

REVOKED = "azure.access.revoked"
GONE = ("recording_storage", "conversation_properties", "recording_storage_json")


@pytest.fixture(scope="module")
def granted() -> tv.Kit:
    return tv.deploy(azure_config())


@pytest.fixture(scope="module")
def kit(granted: tv.Kit) -> tv.Kit:
    """The same stack after `tavusAccess: revoked` and `pulumi up`: the program's own outputs, and ARM without the
    federated credential and the role assignment (the identity, account and container stay)."""
    outputs = tv.realise(run_program(azure_config(tavusAccess="revoked"), stack="azure").outputs)
    assert outputs["tavus_access"] == "revoked" and not set(GONE) & set(outputs)
    assert outputs == {**{k: v for k, v in granted.outputs.items() if k not in GONE}, "tavus_access": "revoked"}
    kept = [r for r in granted.resources if r["type"] not in (arm.FEDERATED_CREDENTIAL_TYPE, arm.ROLE_ASSIGNMENT_TYPE)]
    return tv.Kit(outputs=outputs, resources=kept)


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def check(kit: tv.Kit, tmp_path: Path, ca: trustme.CA) -> Callable[..., tv.Run]:
    def run(drift: Optional[Callable[[arm.ArmState, tv.Kit], None]] = None, outputs: Optional[dict[str, Any]] = None) -> tv.Run:
        state = kit.state()
        if drift:
            drift(state, kit)
        outputs = outputs if outputs is not None else kit.outputs
        storage = recording_storage(outputs, "test")
        assert isinstance(storage, tavus.AzureBlobRecordingStorageConfig)
        with arm.running(state, tmp_path, ca) as fake:
            checks = verify_azure.verify(storage, outputs, credential=arm.StaticCredential(tv.TOKEN),
                                         **{"base_url": fake.url, **tv.FAST, "connection_verify": str(fake.ca_path)})
        assert [c.id for c in checks] == list(REVOKED_CHECK_IDS)
        return tv.Run({c.id: c for c in checks}, fake, 0.0)

    return run


def test_the_revoked_stack_passes_every_check_and_says_nothing_lets_tavus_in(check, kit):
    run = check()
    assert {i: c.detail for i, c in run.checks.items() if c.ok is not True} == {}
    assert REVOKED_CHECK_IDS[0] == REVOKED and "azure.identity.federation" not in REVOKED_CHECK_IDS
    assert "no federated credential" in run.checks[REVOKED].detail
    # The pass names its limit: other identities trusting Tavus's issuer are not searched (red team 19b #5).
    assert "another identity or app registration that trusts Tavus's issuer is not searched for" in run.checks[REVOKED].detail
    # Reads only: the identity, its credentials, its assignments (its groups' too), then the storage as a granted stack's.
    assert {r.method for r in run.fake.received} == {"GET"}
    (mine,) = [r for r in run.fake.received if r.path == tv.subscription_listing()]
    assert mine.query["$filter"] == f"assignedTo('{tv.PRINCIPAL_ID}')"


def test_the_outputs_a_revoked_stack_keeps_name_what_verify_reads(kit):
    storage = recording_storage(kit.outputs, "stack azure")
    assert isinstance(storage, tavus.AzureBlobRecordingStorageConfig)
    assert (storage.storage_account, storage.client_id) == (kit.outputs["storage_account"], kit.outputs["client_id"])
    with pytest.raises(OutputsError, match="lack container") as raised:
        recording_storage({k: v for k, v in kit.outputs.items() if k != "container"}, "stack azure")
    assert "tavus_access: revoked" in str(raised.value) and "\n" not in str(raised.value)


def test_the_cli_verifies_a_revoked_stack_instead_of_stopping(kit, tmp_path, ca, monkeypatch):
    outputs_file = tmp_path / "outputs.json"
    outputs_file.write_text(json.dumps(kit.outputs))
    with arm.running(kit.state(), tmp_path, ca) as fake:
        real = verify_azure.verify
        monkeypatch.setattr(verify_azure, "verify", lambda storage, outputs: real(
            storage, outputs, credential=arm.StaticCredential(tv.TOKEN), base_url=fake.url, connection_verify=str(fake.ca_path), **tv.FAST))
        result = CliRunner().invoke(app, ["verify", "--outputs", str(outputs_file), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["ok"] is True and [c["id"] for c in report["checks"]] == list(REVOKED_CHECK_IDS)


def credential_left(state: arm.ArmState, kit: tv.Kit) -> None:
    state.put(arm.federated_credential(kit.identity_id, "tavus", issuer="https://tavus-issuer.example", subject="tavus-recording-writer",
                                       audiences=[azure_policy.DEFAULT_AUDIENCE]))


def role(scope: Callable[[tv.Kit], str], role_guid: str = azure_policy.STORAGE_BLOB_DATA_CONTRIBUTOR,
         principal: str = tv.PRINCIPAL_ID) -> Callable[[arm.ArmState, tv.Kit], None]:
    return tv.grant(scope, role_guid, replace=False, principal=principal)


def through_group(state: arm.ArmState, kit: tv.Kit) -> None:
    state.add_member(tv.GROUP, tv.PRINCIPAL_ID)
    role(lambda kit: kit.account_id, tv.BLOB_READER, principal=tv.GROUP)(state, kit)


WAYS_IN = {
    "a federated credential left": (credential_left, "federated credential tavus of identity"),
    "the writer role left on the container": (role(lambda kit: kit.container_id), "Storage Blob Data Contributor"),
    "a writer role on the account": (role(lambda kit: kit.account_id), "at storage account"),
    "a writer role on the resource group": (role(lambda kit: kit.group_id), "at resource group"),
    "a writer role on the subscription": (role(lambda kit: f"/subscriptions/{tv.SUBSCRIPTION}"), "at subscription"),
    "Owner of the subscription (no administrator exception for Tavus)": (role(lambda kit: f"/subscriptions/{tv.SUBSCRIPTION}", tv.OWNER),
                                                                         "Owner"),
    "a reader role on the account": (role(lambda kit: kit.account_id, tv.BLOB_READER), "Storage Blob Data Reader"),
    "the account's keys": (role(lambda kit: kit.group_id, tv.KEY_OPERATOR), "Storage Account Key Operator"),
    "a role through a group": (through_group, f"(through group {tv.GROUP})"),
}


@pytest.mark.parametrize("drift, words", WAYS_IN.values(), ids=WAYS_IN.keys())
def test_each_way_in_left_fails_the_cut_and_says_how_to_remove_it(check, drift, words):
    run = check(drift)
    # A group's role reaches its other members too: the container's access check fails it as well.
    expected = {REVOKED, "azure.container.access"} if drift is through_group else {REVOKED}
    assert run.failing() == expected and run.unknown() == set(), {i: run.checks[i].detail for i in run.failing() | run.unknown()}
    found = run.checks[REVOKED]
    assert words in found.detail
    assert found.fix.startswith("run `pulumi up --refresh` for this stack (revoked") and (
        "az identity federated-credential delete" in found.fix or "az role assignment delete --ids" in found.fix)


SAFE = {
    "a writer role on another container": role(lambda kit: kit.container_id.replace("/recordings", "/invoices")),
    "Reader on the subscription": role(lambda kit: f"/subscriptions/{tv.SUBSCRIPTION}", tv.READER),
    "the identity deleted": lambda state, kit: state.remove(kit.identity_id),
}


@pytest.mark.parametrize("drift", SAFE.values(), ids=SAFE.keys())
def test_what_lets_tavus_nowhere_near_the_recordings_passes(check, drift):
    run = check(drift)
    assert {i: c.detail for i, c in run.checks.items() if c.ok is not True} == {}


def test_a_role_left_for_a_deleted_identity_is_judged_by_the_containers_access_check(check):
    # With the identity gone its principal id is unknown to verify: every assignment over the container is judged.
    run = check(lambda state, kit: [role(lambda kit: kit.container_id)(state, kit), state.remove(kit.identity_id)])
    assert run.checks[REVOKED].ok is True and run.failing() == {"azure.container.access"}


@pytest.mark.parametrize("path, action", [
    (lambda kit: kit.identity_id, reads.IDENTITY_READ),
    (lambda kit: f"{kit.identity_id}/federatedIdentityCredentials", reads.FEDERATED_CREDENTIALS_READ),
    (lambda kit: tv.subscription_listing(), reads.ROLE_ASSIGNMENTS_READ),
], ids=["identity", "credentials", "assignments"])
def test_a_denied_read_makes_the_cut_unknown_never_passing(check, path, action):
    run = check(lambda state, kit: state.deny(path(kit), action))
    assert REVOKED in run.unknown() and run.failing() == set()
    assert f"{action} denied" in run.checks[REVOKED].detail


def test_a_custom_role_that_cannot_be_read_is_unknown_and_a_way_in_still_fails(check):
    def drift(state: arm.ArmState, kit: tv.Kit) -> None:
        state.put(arm.role_definition(tv.SUBSCRIPTION, tv.CUSTOM, role_name="mystery", data_actions=[f"{tv.BLOBS}/read"]))
        role(lambda kit: kit.account_id, tv.CUSTOM)(state, kit)
        state.deny(f"/subscriptions/{tv.SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/{tv.CUSTOM}", reads.ROLE_DEFINITIONS_READ)

    run = check(drift)
    assert run.unknown() == {REVOKED} and "could not be read" in run.checks[REVOKED].detail
    assert check(lambda state, kit: [drift(state, kit), credential_left(state, kit)]).checks[REVOKED].ok is False

"""WORM retention (immutable_days, immutable_mode) and the audit log (audit_logs) of `AzureBlobRecordingStorage`,
on Pulumi's mock engine: the container's immutability policy, the log account and the diagnostic setting exactly as
the engine would be asked to create them, the refusals, the stack outputs and what the plan says.
"""

from __future__ import annotations

import re
import shlex

import pulumi
import pytest
from hypothesis import given, settings as hypothesis_settings, strategies as st

from components import azure_policy, compliance
from components.azure import AzureBlobRecordingStorage
from stack_configs import azure_config
from tavus_recording.mock_engine import ProgramRun, Registration, resolve, run_component, run_program
from tavus_recording.plan.summary import summary

COMPONENT = "tavus-recording:index:AzureBlobRecordingStorage"
POLICY = "azure-native:storage:BlobContainerImmutabilityPolicy"
ACCOUNT = "azure-native:storage:StorageAccount"
CONTAINER = "azure-native:storage:BlobContainer"
LIFECYCLE = "azure-native:storage:ManagementPolicy"
DIAGNOSTIC = "azure-native:monitor:DiagnosticSetting"
FEDERATION = {"tavus_oidc_issuer": "https://issuer.tavus.example", "tavus_oidc_subject": "tavus-recording-writer"}
KEY_URI = "https://acme-keys.vault.azure.net/keys/recordings"


def build(name: str = "rec", **args) -> tuple[ProgramRun, AzureBlobRecordingStorage]:
    return run_component(lambda: AzureBlobRecordingStorage(name, {**FEDERATION, **args}))  # type: ignore[typeddict-item]


def accounts(run: ProgramRun) -> dict[str, Registration]:
    return {a.name: a for a in run.find(ACCOUNT)}


def registered(run: ProgramRun) -> dict:
    return run.one(COMPONENT).outputs


@pytest.fixture(scope="module")
def worm_run() -> tuple[ProgramRun, AzureBlobRecordingStorage]:
    return build(immutable_days=30)


@pytest.fixture(scope="module")
def audit_run() -> tuple[ProgramRun, AzureBlobRecordingStorage]:
    return build(audit_logs=True)


# --- WORM: the container's immutability policy


def test_without_immutable_days_there_is_no_policy_no_log_account_and_no_diagnostic_setting():
    for run, _ in (build(), build(audit_logs=False)):
        assert not run.find(POLICY) and not run.find(DIAGNOSTIC)
        assert [a.name for a in run.find(ACCOUNT)] == ["rec-account"]
        assert {k: registered(run).get(k) for k in ("immutableDays", "immutableMode", "auditLogs")} == {
            "immutableDays": None, "immutableMode": None, "auditLogs": False}


def test_the_policy_is_the_containers_one_default_policy_of_exactly_the_days_asked(worm_run):
    run, _ = worm_run
    policy = run.one(POLICY)
    account = run.one(ACCOUNT)
    container = run.one(CONTAINER)
    assert policy.name == "rec-immutability"
    assert policy.inputs == {
        "accountName": account.outputs["name"],
        "resourceGroupName": account.inputs["resourceGroupName"],
        "containerName": container.outputs["name"],
        # The only name Azure takes (ImmutabilityPolicy.tsp: @singleton("default")).
        "immutabilityPolicyName": "default",
        "immutabilityPeriodSinceCreationInDays": 30,
        # Recordings are block blobs: nothing may be appended to a protected blob.
        "allowProtectedAppendWrites": False,
    }
    assert "allowProtectedAppendWritesAll" not in policy.inputs


def test_up_leaves_the_policy_unlocked_whatever_the_mode():
    for mode in ("governance", "compliance"):
        run, _ = build(immutable_days=30, immutable_mode=mode)
        policy = run.one(POLICY)
        assert policy.outputs["state"] == "Unlocked"
        assert policy.id == f"{run.one(CONTAINER).id}/immutabilityPolicies/default"


def test_the_policy_outlives_destroy_and_belongs_to_the_component(worm_run):
    run, _ = worm_run
    policy = run.one(POLICY)
    # Its DELETE needs an etag the provider does not send, and a locked one cannot be deleted at all.
    assert policy.retain_on_delete
    assert policy.parent == f"{COMPONENT}::rec"


def test_the_policy_is_written_after_the_container_and_before_the_lifecycle_rules(worm_run):
    # One write at a time to the account: the storage provider answers concurrent ones with 409.
    run, _ = worm_run
    assert f"{CONTAINER}::rec-container" in run.one(POLICY).depends_on
    assert f"{POLICY}::rec-immutability" in run.one(LIFECYCLE).depends_on


@pytest.mark.parametrize(("mode", "in_force"), [(None, "governance"), ("governance", "governance"), ("compliance", "compliance")])
def test_both_modes_make_the_same_unlocked_policy_and_register_the_mode_in_force(mode, in_force):
    run, _ = build(immutable_days=400, **({"immutable_mode": mode} if mode else {}))
    # azure-native cannot lock (state is output-only): compliance is the plan's lock step, not an input.
    assert run.one(POLICY).inputs["immutabilityPeriodSinceCreationInDays"] == 400
    assert "state" not in run.one(POLICY).inputs
    assert {k: registered(run).get(k) for k in ("immutableDays", "immutableMode")} == {"immutableDays": 400, "immutableMode": in_force}


def test_worm_leaves_the_rest_of_the_storage_as_it_was(worm_run):
    run, _ = worm_run
    plain, _ = build()
    for type_ in (ACCOUNT, CONTAINER, LIFECYCLE, "azure-native:storage:BlobServiceProperties"):
        assert run.one(type_).inputs == plain.one(type_).inputs, type_
    # Versioning stays on: container-level WORM needs no other feature and sits beside it.
    assert run.one("azure-native:storage:BlobServiceProperties").inputs["isVersioningEnabled"] is True


@pytest.mark.parametrize(
    ("args", "says"),
    [
        ({"immutable_days": pulumi.Output.from_input(30)}, "plain whole number"),
        ({"immutable_days": "30"}, "plain whole number"),
        ({"immutable_days": 30.0}, "plain whole number"),
        ({"immutable_days": True}, "plain whole number"),
        ({"immutable_days": -5}, "1 to 146000"),
        ({"immutable_days": 146_001}, "1 to 146000"),
        ({"immutable_mode": "compliance"}, "has no effect without immutable_days"),
        ({"immutable_days": 30, "immutable_mode": "Compliance"}, "a plain 'governance' or 'compliance'"),
        ({"immutable_days": 30, "immutable_mode": "locked"}, "a plain 'governance' or 'compliance'"),
        ({"immutable_days": 30, "immutable_mode": pulumi.Output.from_input("compliance")}, "expected a plain"),
        ({"audit_logs": "true"}, "plain True or False"),
        ({"audit_logs": 1}, "plain True or False"),
        ({"audit_logs": pulumi.Output.from_input(True)}, "plain True or False"),
    ],
)
def test_a_value_azure_would_refuse_or_an_output_fails_before_any_resource(args, says):
    with pytest.raises(ValueError, match=re.escape(says)) as raised:
        build(**args)
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize("args", [{"immutable_days": 30}, {"audit_logs": True}, {"immutable_days": 30, "immutable_mode": "compliance"}])
def test_an_existing_account_is_never_changed(args):
    existing = {"existing_storage_account": "acmerec", "existing_container": "calls", "resource_group_name": "acme"}
    with pytest.raises(ValueError, match="need storage the kit creates"):
        build(**existing, **args)


def test_an_existing_account_without_worm_or_audit_still_builds():
    run, storage = build(existing_storage_account="acmerec", existing_container="calls", resource_group_name="acme", audit_logs=False)
    assert not run.find(POLICY) and not run.find(DIAGNOSTIC) and not run.find(ACCOUNT)
    assert resolve(storage.audit_log_account) is None and resolve(storage.encryption_identity_id) is None


@hypothesis_settings(max_examples=200, deadline=None)
@given(days=st.integers(min_value=1, max_value=146_000), mode=st.sampled_from([None, "governance", "compliance"]))
def test_any_day_count_azure_accepts_is_taken_as_is(days, mode):
    assert compliance.worm(days, mode, azure_policy.MAX_IMMUTABLE_DAYS) == (days, mode or "governance")


@hypothesis_settings(max_examples=200, deadline=None)
@given(days=st.one_of(st.integers(max_value=-1), st.integers(min_value=146_001), st.floats(allow_nan=False), st.text(), st.booleans()),
       mode=st.sampled_from([None, "governance", "compliance"]))
def test_any_other_day_count_is_refused(days, mode):
    with pytest.raises(ValueError):
        compliance.worm(days, mode, azure_policy.MAX_IMMUTABLE_DAYS)


@hypothesis_settings(max_examples=200, deadline=None)
@given(mode=st.text().filter(lambda m: m not in ("governance", "compliance", "")))
def test_any_other_mode_is_refused(mode):
    with pytest.raises(ValueError):
        compliance.worm(30, mode, azure_policy.MAX_IMMUTABLE_DAYS)


# --- the lock step (compliance)


def test_the_lock_commands_read_the_etag_then_lock_with_it():
    show, lock = azure_policy.lock_commands("acme-rg", "acmerec", "recordings")
    where = "--resource-group acme-rg --account-name acmerec --container-name recordings"
    assert show == f"etag=$(az storage container immutability-policy show {where} --query etag --output tsv)"
    assert lock == f'az storage container immutability-policy lock {where} --if-match "$etag"'


def test_names_not_known_before_up_are_read_from_the_stack_outputs():
    show, lock = azure_policy.lock_commands(None, None, "recordings")
    for command in (show, lock):
        assert '--resource-group "$(pulumi stack output resource_group_name --show-secrets)"' in command
        assert '--account-name "$(pulumi stack output storage_account --show-secrets)"' in command


@pytest.mark.parametrize("group", ["acme-(rg)", "a b", "x;touch pwned", "$(whoami)", "`id`", "it's"])
def test_a_resource_group_name_reaches_the_cli_as_one_word(group):
    # Resource group names may hold parentheses and periods (ARM: ^[-\w\._\(\)]+$): quoted, never run by the shell.
    for command in azure_policy.lock_commands(group, "acmerec", "recordings"):
        words = shlex.split(command.removeprefix("etag=$(").removesuffix(")") if command.startswith("etag=") else command)
        assert words[words.index("--resource-group") + 1] == group


@hypothesis_settings(max_examples=200, deadline=None)
@given(names=st.tuples(*[st.text(alphabet=st.characters(blacklist_characters="\0", blacklist_categories=("Cs",)), min_size=1)] * 3))
def test_any_name_reaches_the_cli_as_one_word(names):
    group, account, container = names
    lock = azure_policy.lock_commands(group, account, container)[1]
    words = shlex.split(lock)
    assert [words[words.index(flag) + 1] for flag in ("--resource-group", "--account-name", "--container-name")] == list(names)
    assert words[-2:] == ["--if-match", "$etag"]  # the etag read by the first command, as one word


# --- audit: the log account and the diagnostic setting


def test_the_log_account_is_hardened_like_the_recordings_account_and_in_its_region(audit_run):
    run, _ = audit_run
    found = accounts(run)
    log, main = found["rec-audit"], found["rec-account"]
    assert {k: log.inputs[k] for k in log.inputs if k not in ("resourceGroupName", "tags", "accountName", "location")} == {
        "kind": "StorageV2",
        "sku": {"name": "Standard_LRS"},
        "minimumTlsVersion": "TLS1_2",
        "enableHttpsTrafficOnly": True,
        "allowBlobPublicAccess": False,
        "allowSharedKeyAccess": False,
        "defaultToOAuthAuthentication": True,
        "allowCrossTenantReplication": False,
    }
    # Azure Monitor writes a regional resource's logs only to an account in its region.
    assert "azure-native:storage:StorageAccount::rec-account" in log.depends_on
    assert log.inputs.get("location") == main.outputs.get("location")
    assert log.inputs["resourceGroupName"] == main.inputs["resourceGroupName"]
    assert log.inputs["tags"] == main.inputs["tags"]


def test_the_logs_outlive_destroy(audit_run):
    run, _ = audit_run
    log = accounts(run)["rec-audit"]
    assert log.retain_on_delete and log.parent == f"{COMPONENT}::rec"


def test_the_log_account_has_its_own_global_name(audit_run):
    run, _ = audit_run
    found = accounts(run)
    assert found["rec-audit"].inputs["accountName"] == "reclogs<hash of subscription, stack, component>"
    assert found["rec-audit"].inputs["accountName"] != found["rec-account"].inputs["accountName"]


def test_the_diagnostic_setting_logs_every_blob_read_write_and_delete_into_the_log_account(audit_run):
    run, _ = audit_run
    setting = run.one(DIAGNOSTIC)
    found = accounts(run)
    assert setting.name == "rec-audit" and setting.parent == f"{COMPONENT}::rec"
    assert setting.inputs == {
        "name": "rec-audit",
        # The blob service, not the account: only it has the blob request categories.
        "resourceUri": f"{found['rec-account'].id}/blobServices/default",
        "logs": [
            {"category": "StorageRead", "enabled": True},
            {"category": "StorageWrite", "enabled": True},
            {"category": "StorageDelete", "enabled": True},
        ],
        "storageAccountId": found["rec-audit"].id,
    }
    assert "retentionPolicy" not in str(setting.inputs)  # deprecated in diagnostic settings: no expiry
    assert found["rec-audit"].id != found["rec-account"].id


def test_audit_adds_only_the_log_account_and_the_diagnostic_setting(audit_run):
    run, _ = audit_run
    plain, _ = build()
    added = sorted(f"{r.type}::{r.name}" for r in run.registrations)
    for r in plain.registrations:
        added.remove(f"{r.type}::{r.name}")
    assert added == [f"{DIAGNOSTIC}::rec-audit", f"{ACCOUNT}::rec-audit"]
    assert not run.find(POLICY)


def test_audit_and_worm_together():
    run, storage = build(immutable_days=30, immutable_mode="compliance", audit_logs=True)
    assert len(run.find(POLICY)) == 1 and len(run.find(DIAGNOSTIC)) == 1 and len(run.find(ACCOUNT)) == 2
    assert {k: registered(run).get(k) for k in ("immutableDays", "immutableMode", "auditLogs")} == {
        "immutableDays": 30, "immutableMode": "compliance", "auditLogs": True}
    assert resolve(storage.audit_log_account) == "reclogs<hash of subscription, stack, component>"


# --- the log account's name


def test_without_a_suffix_the_recordings_account_keeps_the_name_it_always_had():
    import hashlib

    subscription = "0b1f6471-1bf0-4dda-aec3-111122223333"
    digest = hashlib.sha256("\0".join((subscription, "prod", "tavus-recordings")).encode()).hexdigest()
    assert azure_policy.storage_account_name("tavus-recordings", "prod", subscription) == f"tavusrecordings{digest[:8]}"


@hypothesis_settings(max_examples=200, deadline=None)
@given(component=st.text(min_size=1, max_size=60), stack=st.text(min_size=1, max_size=20), subscription=st.uuids())
def test_the_log_account_name_is_a_valid_account_name_and_never_the_recordings_one(component, stack, subscription):
    main = azure_policy.storage_account_name(component, stack, str(subscription))
    log = azure_policy.storage_account_name(component, stack, str(subscription), azure_policy.AUDIT_ACCOUNT_SUFFIX)
    assert re.fullmatch(r"[a-z0-9]{3,24}", log), log
    assert log != main


# --- outputs


def test_the_component_exposes_the_log_account_and_the_key_identity():
    run, storage = build(audit_logs=True, key_vault_key_uri=KEY_URI)
    identity = next(i for i in run.find("azure-native:managedidentity:UserAssignedIdentity") if i.name == "rec-encryption")
    assert resolve(storage.encryption_identity_id) == identity.id
    assert resolve(storage.audit_log_account) == accounts(run)["rec-audit"].outputs["name"]
    assert registered(run)["encryption_identity_id"] == identity.id
    assert registered(run)["audit_log_account"] == accounts(run)["rec-audit"].outputs["name"]
    # The log account is not encrypted with the recordings' key, and Tavus's writer has nothing on it.
    assert "encryption" not in accounts(run)["rec-audit"].inputs
    scopes = [a.inputs["scope"] for a in run.find("azure-native:authorization:RoleAssignment")]
    assert all("/containers/recordings" in s for s in scopes)


def test_without_a_key_or_audit_both_are_none():
    _, storage = build()
    assert resolve(storage.encryption_identity_id) is None and resolve(storage.audit_log_account) is None


def test_stack_outputs():
    on = run_program(azure_config(auditLogs="true", keyVaultKeyUri=KEY_URI)).outputs
    assert on["audit_log_account"] == "tavusrecordilogs<hash of subscription, stack, component>"
    assert on["encryption_identity_id"].endswith("/userAssignedIdentities/tavus-recordings-encryption<random>")
    off = run_program(azure_config()).outputs
    assert "audit_log_account" not in off
    assert off["encryption_identity_id"] is None


# --- the plan


def test_the_plan_says_governance_is_unlocked_and_who_can_undo_it():
    facts = summary(run_program(azure_config(immutableDays="30")))
    worm = facts["worm"]
    assert {k: worm[k] for k in ("mode", "days", "policy", "container", "state_after_up", "lock_commands")} == {
        "mode": "governance", "days": 30, "policy": "default", "container": "recordings", "state_after_up": "Unlocked",
        "lock_commands": []}
    line = next(line for line in facts["lines"] if line.startswith("WORM: "))
    assert "30 days (governance)" in line and "unlocked" in line and "shorten or delete it" in line
    assert "can be overwritten, ever" in line and "409 BlobImmutableDueToPolicy" in line
    # Unlocked, the policy does not stop the account being deleted with every recording.
    assert "delete the whole account" in line
    assert "lock" not in " ".join(worm["irreversible"])


def test_the_plan_gives_the_compliance_lock_step_and_says_it_is_irreversible():
    facts = summary(run_program(azure_config(immutableDays="30", immutableMode="compliance", storageAccount="acmerec",
                                             resourceGroupName="acme-recordings")))
    worm = facts["worm"]
    assert worm["mode"] == "compliance" and worm["state_after_up"] == "Unlocked"
    assert worm["lock_commands"] == azure_policy.lock_commands("acme-recordings", "acmerec", "recordings")
    line = next(line for line in facts["lines"] if line.startswith("WORM: "))
    assert "irreversible step outside Pulumi" in line
    for command in worm["lock_commands"]:
        assert command in line
    assert "at most 5 times" in line and "fails this stack until the policy's state is Locked" in line


def test_the_plan_says_what_is_logged_where_and_what_it_costs():
    facts = summary(run_program(azure_config(auditLogs="true")))
    audit = facts["audit_logs"]
    assert audit["categories"] == ["StorageRead", "StorageWrite", "StorageDelete"] and audit["complete"]
    assert audit["destination"] == {"kind": "storage account", "name": "tavusrecordilogs<hash of subscription, stack, component>",
                                    "kept_on_destroy": True}
    assert audit["expiry"] is None
    line = next(line for line in facts["lines"] if line.startswith("Audit log: "))
    assert "every blob read, write and delete" in line and "nothing expires them" in line
    assert "Platform Logs" in line and "$0.018 per GB-month" in line
    # Azure Monitor writes as a platform service: no grant to account for.
    assert "Nobody else is granted anything by this stack." in facts["lines"]


def test_the_plan_says_nothing_when_both_are_off():
    facts = summary(run_program(azure_config()))
    assert facts["worm"] is None and facts["audit_logs"] is None
    assert not [line for line in facts["lines"] if line.startswith(("WORM: ", "Audit log: "))]

"""`tavusAccess: revoked`: the next `pulumi up` removes the trust and the grant and keeps every recording.

On the mock engine, for each cloud: what a revoked stack registers (no role and policy; no impersonation
binding and bucket grant, the pool and its provider disabled; no federated credential and role assignment),
that every storage resource is registered exactly as when granted (so `pulumi up` changes no recording and no
setting), that nothing usable is exported, what the plan says, and what verify says.
"""

from __future__ import annotations

import pulumi
import pytest

from components import tavus
from components.aws import S3RecordingStorage
from components.azure import AzureBlobRecordingStorage
from components.gcp import GcsRecordingStorage
from components.settings import config_key, parse_settings
from settings_checks import error_for, problem_line
from stack_configs import azure_config, gcs_config, s3_config, stack_config
from tavus_recording.mock_engine import ProgramRun, resolve, run_component, run_program
from tavus_recording.plan.summary import summary
from tavus_recording.verify.outputs import OutputsError, recording_storage

FEDERATION = {"tavus_oidc_issuer": "https://issuer.tavus.example", "tavus_oidc_subject": "tavus-recording-writer"}
KEY = config_key("tavus_access")

POOL = "gcp:iam/workloadIdentityPool:WorkloadIdentityPool"
POOL_PROVIDER = "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider"
# What lets Tavus in, by provider: none of it may be registered when revoked.
TRUST_AND_GRANT = {
    "s3": {"aws:iam/role:Role", "aws:iam/rolePolicy:RolePolicy"},
    "gcs": {"gcp:serviceaccount/iAMBinding:IAMBinding", "gcp:storage/bucketIAMMember:BucketIAMMember"},
    "azure_blob": {
        "azure-native:managedidentity:FederatedIdentityCredential",
        "azure-native:authorization:RoleAssignment",
    },
}
CONFIGS = {"s3": s3_config, "gcs": gcs_config, "azure_blob": azure_config}
# The stack (and so the auto-names) each example config belongs to.
STACKS = {"s3": "dev", "gcs": "gcs", "azure_blob": "azure"}
UNUSABLE = ("recording_storage", "conversation_properties", "recording_storage_json", "legacy_properties")


def _run(provider: str, access: str | None) -> ProgramRun:
    overrides = {} if access is None else {"tavusAccess": access}
    return run_program(CONFIGS[provider](**overrides), stack=STACKS[provider])


@pytest.fixture(scope="module")
def runs() -> dict[tuple[str, str], ProgramRun]:
    return {(provider, access): _run(provider, None if access == "granted" else access)
            for provider in CONFIGS for access in ("granted", "revoked")}


def _registered(run: ProgramRun) -> dict[tuple[str, str], tuple]:
    """Each resource as `pulumi up` would be asked for it: inputs and options."""
    return {(r.type, r.name): (r.inputs, r.parent, r.retain_on_delete, r.protect, sorted(r.depends_on))
            for r in run.registrations}


# --- settings


def test_tavus_access_defaults_to_granted_and_takes_revoked():
    assert parse_settings(s3_config()).tavus_access == "granted"
    assert parse_settings(s3_config(tavusAccess="")).tavus_access == "granted"
    assert parse_settings(s3_config(tavusAccess="granted")).tavus_access == "granted"
    assert parse_settings(gcs_config(tavusAccess="revoked")).tavus_access == "revoked"


@pytest.mark.parametrize(("value", "says"), [
    ("revoke", "(did you mean 'revoked'?)"),
    ("Revoked", "(did you mean 'revoked'?)"),
    ("off", "expected granted (the default"),
    ("true", "or revoked (cut Tavus off, keep every recording)"),
    ("revoked\n", "control"),
])
def test_any_other_value_is_one_readable_line_naming_the_key(value, says):
    line = problem_line(error_for(s3_config(tavusAccess=value)), KEY)
    assert says in line, line


def test_a_bad_value_registers_nothing():
    from settings_checks import assert_refused_before_any_resource_or_built

    assert_refused_before_any_resource_or_built(azure_config(tavusAccess="no"), tavus.AzureBlobRecordingStorageConfig)


@pytest.mark.parametrize("component", [
    lambda access: S3RecordingStorage("rec", {"tavus_access": access}),
    lambda access: GcsRecordingStorage("rec", {**FEDERATION, "tavus_access": access}),
    lambda access: AzureBlobRecordingStorage("rec", {**FEDERATION, "tavus_access": access}),
])
def test_components_refuse_a_tavus_access_they_do_not_know(component):
    with pytest.raises(Exception, match="tavus_access is 'Revoked'"):
        run_component(lambda: component("Revoked"))


def test_components_refuse_a_tavus_access_known_only_later():
    with pytest.raises(Exception, match="must be a plain 'granted' or 'revoked', known when the component is built"):
        run_component(lambda: S3RecordingStorage("rec", {"tavus_access": pulumi.Output.from_input("revoked")}))


# --- resources


@pytest.mark.parametrize("provider", list(CONFIGS))
def test_revoked_registers_no_trust_and_no_grant(runs, provider):
    granted = {r.type for r in runs[provider, "granted"].registrations}
    revoked = {r.type for r in runs[provider, "revoked"].registrations}
    assert TRUST_AND_GRANT[provider] <= granted
    assert not TRUST_AND_GRANT[provider] & revoked
    # Nothing else goes and nothing comes.
    assert revoked == granted - TRUST_AND_GRANT[provider]


@pytest.mark.parametrize("provider", list(CONFIGS))
def test_every_other_resource_is_registered_exactly_as_when_granted(runs, provider):
    # The storage and its settings above all: identical inputs and options, so `pulumi up` touches no recording.
    granted, revoked = _registered(runs[provider, "granted"]), _registered(runs[provider, "revoked"])
    disabled = {POOL, POOL_PROVIDER}
    for key, registered in revoked.items():
        if key[0] in disabled:
            continue
        assert registered == granted[key], key
    storage = [key for key in revoked if key[0].startswith(("aws:s3/", "gcp:storage/bucket:", "azure-native:storage:"))]
    assert storage and all(key in granted for key in storage), storage


def test_gcs_revoked_disables_the_pool_and_its_provider_and_keeps_them_and_the_writer(runs):
    granted, revoked = runs["gcs", "granted"], runs["gcs", "revoked"]
    for type_ in (POOL, POOL_PROVIDER):
        assert granted.one(type_).inputs["disabled"] is False
        assert revoked.one(type_).inputs["disabled"] is True
        # Only `disabled` changes: the same ids, so re-granting is an update, never a 30-day id collision.
        assert {k: v for k, v in revoked.one(type_).inputs.items() if k != "disabled"} == {
            k: v for k, v in granted.one(type_).inputs.items() if k != "disabled"}
    assert revoked.one("gcp:serviceaccount/account:Account").inputs == granted.one("gcp:serviceaccount/account:Account").inputs


def test_azure_revoked_keeps_the_identity_so_a_regrant_keeps_its_client_id(runs):
    identity = "azure-native:managedidentity:UserAssignedIdentity"
    assert runs["azure_blob", "revoked"].one(identity).inputs == runs["azure_blob", "granted"].one(identity).inputs
    assert runs["azure_blob", "revoked"].outputs["client_id"] == runs["azure_blob", "granted"].outputs["client_id"]


def test_revoked_on_existing_storage_creates_nothing_on_it():
    run, storage = run_component(lambda: GcsRecordingStorage(
        "rec", {**FEDERATION, "existing_bucket": "acme-existing", "tavus_access": "revoked"}))
    assert not run.find("gcp:storage/bucketIAMMember:BucketIAMMember")
    assert not run.find("gcp:storage/bucket:Bucket")
    assert resolve(storage.recording_storage) is None
    run, storage = run_component(lambda: S3RecordingStorage("rec", {"existing_bucket": "acme-by-hand", "tavus_access": "revoked"}))
    assert [r.type for r in run.registrations if r.custom] == []
    assert resolve(storage.role_arn) is None


@pytest.mark.parametrize(("build", "provider"), [
    (lambda access: S3RecordingStorage("rec", {"tavus_access": access}), "s3"),
    (lambda access: GcsRecordingStorage("rec", {**FEDERATION, "tavus_access": access}), "gcs"),
    (lambda access: AzureBlobRecordingStorage("rec", {**FEDERATION, "tavus_access": access}), "azure_blob"),
])
def test_component_outputs_say_the_access_and_carry_no_recording_storage_when_revoked(build, provider):
    _, granted = run_component(lambda: build("granted"))
    assert resolve(granted.tavus_access) == "granted"
    assert resolve(granted.recording_storage)["provider"] == provider
    _, revoked = run_component(lambda: build("revoked"))
    assert resolve(revoked.tavus_access) == "revoked"
    assert resolve(revoked.recording_storage) is None


# --- stack outputs


@pytest.mark.parametrize("provider", list(CONFIGS))
def test_revoked_stack_exports_nothing_an_app_could_send(runs, provider):
    granted, revoked = runs[provider, "granted"].outputs, runs[provider, "revoked"].outputs
    assert "recording_storage" in granted and "tavus_access" not in granted
    assert revoked["tavus_access"] == "revoked"
    assert not set(UNUSABLE) & set(revoked)
    assert "role_arn" not in revoked
    # What still exists is still exported, for verify and the runbook.
    assert revoked["bucket_name" if provider != "azure_blob" else "storage_account"]
    assert revoked["storage_managed"] is True


# --- plan


@pytest.mark.parametrize(("provider", "says"), [
    ("s3", ["deletes the role Tavus assumes and its writer policy", "fail at their next request"]),
    ("gcs", ["removes the impersonation binding", "disables the pool and its provider", "tokens already issued stop working"]),
    ("azure_blob", ["deletes the federated identity credential", "role assignment", "managed identity stays"]),
])
def test_the_plan_says_plainly_that_access_is_revoked_what_goes_and_what_stays(runs, provider, says):
    facts = summary(runs[provider, "revoked"])
    assert facts["provider"] == provider and facts["tavus_access"] == "revoked" and facts["access"] == []
    access = [line for line in facts["lines"] if line.startswith("Access:")]
    assert len(access) == 1, facts["lines"]
    for words in [*says, "REVOKED (tavusAccess: revoked)", "Every recording and every storage setting are kept",
                  "exports no recording_storage"]:
        assert words in access[0], (words, access[0])
    assert facts["lines"][1].startswith("Data: ")  # where the kept recordings are comes first
    assert "Nobody else is granted anything by this stack." in facts["lines"]
    assert summary(runs[provider, "granted"])["tavus_access"] == "granted"


# --- verify


@pytest.mark.parametrize("provider", list(CONFIGS))
def test_verify_reads_a_revoked_stack_from_the_outputs_it_still_exports(runs, provider):
    # Before: verify stopped with exit 2 ("access is revoked"); now each cloud's verify checks that nothing lets Tavus in.
    storage = recording_storage(runs[provider, "revoked"].outputs, "stack dev")
    assert storage.provider == provider


def test_verify_of_revoked_outputs_it_cannot_place_stops_plainly():
    with pytest.raises(OutputsError, match="this stack's Tavus access is revoked") as caught:
        recording_storage({"tavus_access": "revoked"}, "stack dev")
    assert "deploy" not in str(caught.value)


def test_settings_error_is_a_run_error():
    with pytest.raises(pulumi.RunError):
        parse_settings(s3_config(tavusAccess="maybe"))


@pytest.mark.parametrize(("stack", "grant"), [("s3-existing", None), ("gcs-existing", "one grant"), ("azure-existing", "one role assignment")])
def test_the_plan_of_revoked_existing_storage_says_no_grant_is_added(stack, grant):
    # Before: the Data line still said "this stack adds one grant on it", beside the Access line saying it is removed,
    # and printed "project None" / "region None".
    lines = summary(run_program(stack_config(stack, tavusAccess="revoked"), stack=stack))["lines"]
    data = next(line for line in lines if line.startswith("Data: existing"))
    assert "None" not in data and "adds" not in data
    if grant:
        assert "grants nothing (tavusAccess: revoked)" in data
        granted = summary(run_program(stack_config(stack), stack=stack))["lines"]
        assert any(f"adds {grant}" in line for line in granted)

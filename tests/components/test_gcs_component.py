"""`GcsRecordingStorage` on Pulumi's mock engine: what the engine would be asked to create."""

from __future__ import annotations

import pytest
from pulumi.provider.experimental.analyzer import Analyzer

from components import gcp_policy, tavus
from components.gcp import GcsRecordingStorage
from tavus_recording.mock_engine import ProgramRun, resolve, run_component

COMPONENT = "tavus-recording:index:GcsRecordingStorage"
ISSUER = "https://issuer.tavus.example"
SUBJECT = "tavus-recording-writer"
POOL_NAME = "projects/<project-number>/locations/global/workloadIdentityPools/rec-test"


def build(name: str = "rec", **args) -> tuple[ProgramRun, GcsRecordingStorage]:
    return run_component(
        lambda: GcsRecordingStorage(name, {"tavus_oidc_issuer": ISSUER, "tavus_oidc_subject": SUBJECT, **args})
    )


@pytest.fixture(scope="module")
def default_run() -> tuple[ProgramRun, GcsRecordingStorage]:
    return build()


def test_creates_exactly_the_services_bucket_trust_and_grants(default_run):
    run, _ = default_run
    assert sorted(r.type for r in run.registrations) == sorted(
        [COMPONENT]
        + ["gcp:projects/service:Service"] * 4
        + [
            "gcp:storage/bucket:Bucket",
            "gcp:iam/workloadIdentityPool:WorkloadIdentityPool",
            "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider",
            "gcp:serviceaccount/account:Account",
            "gcp:serviceaccount/iAMBinding:IAMBinding",
            "gcp:storage/bucketIAMMember:BucketIAMMember",
        ]
    )


def test_children_are_parented_and_named_from_the_component(default_run):
    run, _ = default_run
    for r in run.registrations:
        if r.type != COMPONENT:
            assert r.parent == f"{COMPONENT}::rec" and r.name.startswith("rec-"), r.name


def test_apis_are_enabled_and_left_enabled_on_destroy(default_run):
    run, _ = default_run
    services = run.find("gcp:projects/service:Service")
    assert {s.inputs["service"] for s in services} == set(gcp_policy.REQUIRED_SERVICES)
    for service in services:
        assert service.inputs["disableOnDestroy"] is False
        assert service.inputs["disableDependentServices"] is False


def test_each_resource_waits_for_the_apis_its_create_calls_and_no_other(default_run):
    # Pools, providers and service accounts are created through the IAM API; STS and IAM Credentials are only
    # called at run time (token exchange, impersonation), so waiting for them would only lengthen the chain.
    run, _ = default_run
    services = {f"gcp:projects/service:Service::rec-{s}" for s in ("iam", "sts", "iamcredentials", "storage")}
    waits = {type_: set(run.one(type_).depends_on) & services for type_ in (
        "gcp:iam/workloadIdentityPool:WorkloadIdentityPool",
        "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider",
        "gcp:serviceaccount/account:Account",
        "gcp:storage/bucket:Bucket",
    )}
    assert waits == {
        "gcp:iam/workloadIdentityPool:WorkloadIdentityPool": {"gcp:projects/service:Service::rec-iam"},
        "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider": {"gcp:projects/service:Service::rec-iam"},
        "gcp:serviceaccount/account:Account": {"gcp:projects/service:Service::rec-iam"},
        "gcp:storage/bucket:Bucket": {"gcp:projects/service:Service::rec-storage"},
    }
    # Nothing at all waits for the run-time APIs: they are enabled beside the rest.
    runtime = {"gcp:projects/service:Service::rec-sts", "gcp:projects/service:Service::rec-iamcredentials"}
    assert not any(runtime & set(r.depends_on) for r in run.registrations)


def test_bucket_is_private_versioned_kept_and_never_force_destroyed(default_run):
    run, _ = default_run
    bucket = run.one("gcp:storage/bucket:Bucket")
    assert bucket.retain_on_delete
    assert bucket.inputs["forceDestroy"] is False
    assert bucket.inputs["uniformBucketLevelAccess"] is True
    assert bucket.inputs["publicAccessPrevention"] == "enforced"
    assert bucket.inputs["versioning"] == {"enabled": True}
    assert bucket.inputs["location"] == "US"
    assert bucket.inputs["lifecycleRules"] == [
        {"action": {"type": "Delete"}, "condition": {"daysSinceNoncurrentTime": 30, "withState": "ARCHIVED"}},
        {"action": {"type": "AbortIncompleteMultipartUpload"}, "condition": {"age": 7}},
    ]


def test_pool_and_provider_admit_only_the_tavus_issuer_and_subject(default_run):
    run, _ = default_run
    pool = run.one("gcp:iam/workloadIdentityPool:WorkloadIdentityPool").inputs
    assert pool["workloadIdentityPoolId"] == "rec-test"  # component and stack names
    provider = run.one("gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider").inputs
    assert provider["workloadIdentityPoolId"] == "rec-test"
    assert provider["workloadIdentityPoolProviderId"] == "tavus"
    assert provider["attributeMapping"] == {"google.subject": "assertion.sub"}
    assert provider["attributeCondition"] == f'assertion.sub == "{SUBJECT}"'
    assert provider["oidc"] == {"issuerUri": ISSUER}


def test_only_the_tavus_subject_may_impersonate_the_writer(default_run):
    run, _ = default_run
    binding = run.one("gcp:serviceaccount/iAMBinding:IAMBinding").inputs
    assert binding["role"] == "roles/iam.workloadIdentityUser"
    assert binding["members"] == [f"principal://iam.googleapis.com/{POOL_NAME}/subject/{SUBJECT}"]
    writer = run.one("gcp:serviceaccount/account:Account")
    assert binding["serviceAccountId"] == writer.outputs["name"]
    assert writer.inputs["accountId"] == "rec-test"


def test_writer_may_only_create_objects_in_this_bucket(default_run):
    run, _ = default_run
    grant = run.one("gcp:storage/bucketIAMMember:BucketIAMMember").inputs
    assert grant == {
        "bucket": "rec-bucket-<random>",
        "role": "roles/storage.objectCreator",
        "member": "serviceAccount:rec-test@acme-recordings.iam.gserviceaccount.com",
    }
    # No project-level grant of any kind.
    assert not [r for r in run.registrations if r.type.startswith("gcp:projects/") and "IAM" in r.type]


def test_trust_and_grants_are_removed_on_destroy(default_run):
    run, _ = default_run
    for r in run.registrations:
        if r.type not in (COMPONENT, "gcp:storage/bucket:Bucket"):
            assert not r.retain_on_delete, r.type


def test_recording_storage_output(default_run):
    _, storage = default_run
    value = resolve(storage.recording_storage)
    assert value == {
        "provider": "gcs",
        "bucket_name": "rec-bucket-<random>",
        "project_id": "acme-recordings",
        "workload_identity_provider": f"{POOL_NAME}/providers/tavus",
        "service_account_email": "rec-test@acme-recordings.iam.gserviceaccount.com",
    }
    assert not value["workload_identity_provider"].startswith("//")
    assert tavus.GcsRecordingStorageConfig.model_validate(value).model_dump() == value


def test_settings_reach_the_resources():
    run, _ = build(
        bucket_name="acme-tavus-recordings",
        location="EU",
        retention_days=90,
        noncurrent_version_days=7,
        tavus_oidc_audience="tavus-aud",
        workload_identity_pool_id="tavus-pool-2",
        workload_identity_provider_id="tavus-2",
        service_account_id="tavus-writer-2",
    )
    bucket = run.one("gcp:storage/bucket:Bucket").inputs
    assert bucket["name"] == "acme-tavus-recordings" and bucket["location"] == "EU"
    assert bucket["lifecycleRules"][0]["condition"]["daysSinceNoncurrentTime"] == 7
    assert bucket["lifecycleRules"][-1] == {"action": {"type": "Delete"}, "condition": {"age": 90, "withState": "LIVE"}}
    provider = run.one("gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider").inputs
    assert provider["oidc"] == {"issuerUri": ISSUER, "allowedAudiences": ["tavus-aud"]}
    assert provider["workloadIdentityPoolId"] == "tavus-pool-2"
    assert provider["workloadIdentityPoolProviderId"] == "tavus-2"
    assert run.one("gcp:serviceaccount/account:Account").inputs["accountId"] == "tavus-writer-2"


def test_gcs_component_can_be_hosted_as_a_provider():
    definition = Analyzer("tavus-recording").analyze([GcsRecordingStorage])["component_definitions"][
        "GcsRecordingStorage"
    ]
    assert not definition.inputs["tavusOidcIssuer"].optional
    assert not definition.inputs["tavusOidcSubject"].optional
    assert definition.inputs["bucketName"].optional
    assert "recordingStorage" in definition.outputs


# --- customer-managed key (kmsKeyName)

KEY = "projects/acme-keys/locations/us/keyRings/recordings/cryptoKeys/bucket-default"
KEY_GRANT = "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember"
STORAGE_AGENT = "serviceAccount:service-<project-number>@gs-project-accounts.iam.gserviceaccount.com"


@pytest.fixture(scope="module")
def key_run() -> tuple[ProgramRun, GcsRecordingStorage]:
    return build(kms_key_name=KEY)


def test_a_key_is_the_buckets_default_key(key_run):
    run, _ = key_run
    assert run.one("gcp:storage/bucket:Bucket").inputs["encryption"]["defaultKmsKeyName"] == KEY


def test_the_storage_service_agent_may_use_the_key_and_nobody_else(key_run):
    run, _ = key_run
    grant = run.one(KEY_GRANT)
    assert grant.inputs == {"cryptoKeyId": KEY, "role": "roles/cloudkms.cryptoKeyEncrypterDecrypter", "member": STORAGE_AGENT}
    assert grant.parent == f"{COMPONENT}::rec" and grant.name == "rec-storage-agent-key-user"
    # Looked up with the provider's own data source, not spelt out by the kit.
    assert "gcp:storage/getProjectServiceAccount:getProjectServiceAccount" in [read.token for read in run.reads]
    # The writer is granted nothing on the key: Cloud Storage encrypts for it.
    assert [r.inputs["member"] for r in run.find(KEY_GRANT)] == [STORAGE_AGENT]


def test_the_bucket_waits_for_the_grant_and_both_are_kept(key_run):
    run, _ = key_run
    bucket = run.one("gcp:storage/bucket:Bucket")
    assert f"{KEY_GRANT}::rec-storage-agent-key-user" in bucket.depends_on
    assert bucket.retain_on_delete and run.one(KEY_GRANT).retain_on_delete


def test_without_a_key_there_is_no_key_and_no_grant(default_run):
    run, _ = default_run
    assert "defaultKmsKeyName" not in run.one("gcp:storage/bucket:Bucket").inputs["encryption"]
    assert not run.find(KEY_GRANT)
    assert "gcp:storage/getProjectServiceAccount:getProjectServiceAccount" not in [read.token for read in run.reads]


def test_the_plan_names_the_key_and_who_may_use_it():
    from stack_configs import gcs_config
    from tavus_recording.mock_engine import run_program
    from tavus_recording.plan.summary import summary

    facts = summary(run_program(gcs_config(kmsKeyName=KEY)))
    assert facts["storage"]["key"]["name"] == KEY
    assert facts["storage"]["key"]["users"] == [{"member": STORAGE_AGENT, "role": "roles/cloudkms.cryptoKeyEncrypterDecrypter"}]
    line = next(line for line in facts["lines"] if line.startswith("Key: "))
    assert KEY in line and "service-<project-number>@gs-project-accounts" in line
    assert not facts["others_granted"]  # the grant is accounted for, not listed as a stray one

"""Every bucket the kit creates refuses the uploads whose key the writer chooses and the customer would not hold
(red team #1): GCS refuses customer-supplied keys (CSEK), and with kmsKeyName Google-managed keys too; the plan
says so, and what no bucket setting refuses. The component also tells the policy pack which service agent it
granted the key (red team #10)."""

from __future__ import annotations

import pytest

from components import gcp_policy
from components.gcp import GcsRecordingStorage
from stack_configs import gcs_config
from tavus_recording.mock_engine import ProgramRun, run_component, run_program
from tavus_recording.plan.summary import summary

GCS_COMPONENT = "tavus-recording:index:GcsRecordingStorage"
GCS_BUCKET = "gcp:storage/bucket:Bucket"
KEY = "projects/acme-keys/locations/us/keyRings/recordings/cryptoKeys/bucket-default"
AGENT = "serviceAccount:service-<project-number>@gs-project-accounts.iam.gserviceaccount.com"


def gcs(**args) -> ProgramRun:
    run, _ = run_component(lambda: GcsRecordingStorage("rec", {"tavus_oidc_issuer": "https://issuer.example",
                                                               "tavus_oidc_subject": "tavus", **args}))
    return run


@pytest.fixture(scope="module")
def plain_gcs() -> ProgramRun:
    return gcs()


@pytest.fixture(scope="module")
def keyed_gcs() -> ProgramRun:
    return gcs(kms_key_name=KEY)


def test_a_gcs_bucket_without_a_key_refuses_csek_and_keeps_google_managed_keys(plain_gcs: ProgramRun):
    assert plain_gcs.one(GCS_BUCKET).inputs["encryption"] == {
        "customerSuppliedEncryptionEnforcementConfig": {"restrictionMode": "FullyRestricted"},
        # Said outright: refusing them without a default key would refuse every upload, and leaving the field out
        # would keep a refusal set while kmsKeyName was (the provider sends only the fields it is given).
        "googleManagedEncryptionEnforcementConfig": {"restrictionMode": "NotRestricted"},
    }


def test_a_gcs_bucket_with_a_key_refuses_csek_and_google_managed_uploads(keyed_gcs: ProgramRun):
    assert keyed_gcs.one(GCS_BUCKET).inputs["encryption"] == {
        "defaultKmsKeyName": KEY,
        "customerSuppliedEncryptionEnforcementConfig": {"restrictionMode": "FullyRestricted"},
        "googleManagedEncryptionEnforcementConfig": {"restrictionMode": "FullyRestricted"},
    }
    # CMEK stays allowed: the default key is one, and Cloud Storage needs it allowed beside a default key.
    assert "customerManagedEncryptionEnforcementConfig" not in keyed_gcs.one(GCS_BUCKET).inputs["encryption"]


@pytest.mark.parametrize("key", [None, "", KEY])
def test_the_builder_always_refuses_csek(key):
    encryption = gcp_policy.bucket_encryption(key)
    assert encryption["customer_supplied_encryption_enforcement_config"] == {"restriction_mode": "FullyRestricted"}
    assert encryption["google_managed_encryption_enforcement_config"] == {
        "restriction_mode": "FullyRestricted" if key else "NotRestricted"}
    assert ("default_kms_key_name" in encryption) == bool(key)


def test_the_component_registers_the_service_agent_it_granted_the_key(plain_gcs: ProgramRun, keyed_gcs: ProgramRun):
    grant = keyed_gcs.one("gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember")
    assert keyed_gcs.one(GCS_COMPONENT).outputs["storageServiceAgent"] == grant.inputs["member"] == AGENT
    assert plain_gcs.one(GCS_COMPONENT).outputs.get("storageServiceAgent") is None


def test_an_existing_bucket_is_not_changed():
    run, _ = run_component(lambda: GcsRecordingStorage("rec", {"tavus_oidc_issuer": "https://issuer.example",
                                                               "tavus_oidc_subject": "tavus", "existing_bucket": "acme-old"}))
    assert not run.find(GCS_BUCKET)


def test_the_plan_says_what_the_bucket_refuses_and_what_it_cannot():
    lines = summary(run_program(gcs_config()))["lines"]
    [line] = [line for line in lines if line.startswith("Key: ")]
    assert line == ("Key: Google-managed keys (no kmsKeyName); uploads encrypted with a key the writer brings (customer-supplied, "
                    "CSEK) are refused, so no recording lands under a key you do not hold.")
    lines = summary(run_program(gcs_config(kmsKeyName=KEY)))["lines"]
    [line] = [line for line in lines if line.startswith("Key: ")]
    assert f"the bucket's default key is Cloud KMS key {KEY}" in line
    assert "Uploads encrypted with a key the writer brings (customer-supplied, CSEK) or Google-managed keys are refused." in line
    assert "constraints/gcp.restrictCmekCryptoKeyProjects" in line


def test_an_existing_bucket_stacks_plan_claims_no_refusal():
    lines = summary(run_program(gcs_config(existingBucket="acme-old", location="", retentionDays="")))["lines"]
    assert not [line for line in lines if line.startswith("Key: ")]


# --- S3: SSE-C blocked on every bucket the kit creates

S3_ENCRYPTION = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"


@pytest.mark.parametrize("overrides", [{}, {"kmsKeyArn": "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"},
                                       {"auditLogs": "true"}], ids=["sse-s3", "sse-kms", "with the audit log bucket"])
def test_every_s3_bucket_the_kit_creates_blocks_sse_c(overrides):
    from stack_configs import s3_config

    run = run_program(s3_config(**overrides))
    settings = run.find(S3_ENCRYPTION)
    assert len(settings) == (2 if overrides.get("auditLogs") else 1)
    for setting in settings:
        assert [rule["blockedEncryptionTypes"] for rule in setting.inputs["rules"]] == [["SSE-C"]]


@pytest.mark.parametrize("key", [None, "arn:aws:kms:us-east-1:111122223333:key/k"])
def test_the_s3_rule_builder_blocks_sse_c_whatever_the_default(key):
    from components import aws_policy

    assert aws_policy.encryption_rule(key)["blocked_encryption_types"] == ["SSE-C"]
    # A fresh list each time: a caller that changes one rule changes no other.
    assert aws_policy.encryption_rule(key)["blocked_encryption_types"] is not aws_policy.encryption_rule(key)["blocked_encryption_types"]


def test_the_s3_plan_says_sse_c_is_blocked():
    from stack_configs import s3_config

    [line] = [line for line in summary(run_program(s3_config()))["lines"] if line.startswith("Key: ")]
    assert line == ("Key: the bucket encrypts recordings by default with SSE-S3 (keys S3 manages); uploads encrypted with a "
                    "key the writer brings (SSE-C) are blocked, so no recording lands under a key you do not hold.")
    existing = summary(run_program(s3_config(existingBucket="acme-by-hand", retentionDays="")))["lines"]
    assert not [line for line in existing if line.startswith("Key: ")]

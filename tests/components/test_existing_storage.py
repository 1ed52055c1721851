"""Bring your own storage: the trust and the grant on a bucket or container that already exists.

The kit must create no storage and change no setting on it, point `recording_storage` at it (S3: the
region S3 reports for it), refuse keys an existing bucket would silently ignore, and say so in the plan.
"""

from __future__ import annotations

import json

import pulumi
import pytest
from hypothesis import HealthCheck, given, settings as hypothesis_settings, strategies as st

from components import aws_policy, gcp_policy, tavus
from components.aws import S3RecordingStorage
from components.azure import AzureBlobRecordingStorage
from components.gcp import GcsRecordingStorage
from tavus_recording.mock_engine import PlanMocks, BUCKET_REGION_PLACEHOLDER, resolve, run_component, run_program
from tavus_recording.plan import render_text
from components.settings import parse_settings
from tavus_recording.stack_files import load_stack_config
from stack_configs import azure_config, gcs_config, s3_config
from settings_checks import assert_refused_before_any_resource_or_built, error_for, problem_line

ISSUER = "https://issuer.tavus.example"
SUBJECT = "tavus-recording-writer"
KEY_ARN = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
FEDERATION = {"tavus_oidc_issuer": ISSUER, "tavus_oidc_subject": SUBJECT}
# Storage resources the kit creates when it owns the storage; none may appear for an existing one.
S3_STORAGE = "aws:s3/"
GCS_STORAGE = ("gcp:storage/bucket:Bucket", "gcp:projects/service:Service")
AZURE_STORAGE = ("azure-native:storage:", "azure-native:resources:ResourceGroup")


# --- S3


def test_s3_existing_bucket_gets_only_the_role_and_its_grant():
    run, storage = run_component(lambda: S3RecordingStorage("rec", {"existing_bucket": "acme-by-hand"}))
    types = sorted(r.type for r in run.registrations)
    assert types == sorted(["tavus-recording:index:S3RecordingStorage", "aws:iam/role:Role", "aws:iam/rolePolicy:RolePolicy"])
    assert not [t for t in types if t.startswith(S3_STORAGE)]
    # Read, not managed: the bucket is looked up by its name.
    assert [(read.token, read.args) for read in run.reads] == [("aws:s3/getBucket:getBucket", {"bucket": "acme-by-hand"})]
    policy = json.loads(run.one("aws:iam/rolePolicy:RolePolicy").inputs["policy"])
    assert policy == aws_policy.writer_policy("arn:aws:s3:::acme-by-hand")
    role = run.one("aws:iam/role:Role").inputs
    assert json.loads(role["assumeRolePolicy"]) == aws_policy.trust_policy("tavus")
    assert role["maxSessionDuration"] == tavus.MAX_SESSION_SECONDS
    assert resolve(storage.bucket_arn) == "arn:aws:s3:::acme-by-hand"


def test_s3_existing_bucket_region_is_the_one_s3_reports_not_the_providers():
    # The mock answers the lookup with a placeholder, so a value copied from aws:region would show.
    _, storage = run_component(lambda: S3RecordingStorage("rec", {"existing_bucket": "acme-by-hand"}))
    value = resolve(storage.recording_storage)
    assert value["bucket_region"] == BUCKET_REGION_PLACEHOLDER != "us-east-1"
    assert value["bucket_name"] == "acme-by-hand"
    assert value["assume_role_arn"] == resolve(storage.role_arn)


def test_s3_existing_bucket_is_looked_up_in_its_own_region():
    # Before: the lookup ran in the provider's region, where S3 answers a bucket elsewhere with a 301
    # redirect and the Terraform data source fails the preview (aws-sdk-go-v2#1458).
    run, storage = run_component(
        lambda: S3RecordingStorage("rec", {"existing_bucket": "acme-by-hand", "existing_bucket_region": "eu-west-1"})
    )
    assert [(read.token, read.args) for read in run.reads] == [
        ("aws:s3/getBucket:getBucket", {"bucket": "acme-by-hand", "region": "eu-west-1"})
    ]
    assert resolve(storage.recording_storage)["bucket_region"] == "eu-west-1"


def test_the_bucket_region_key_is_validated_and_only_goes_with_an_existing_bucket():
    assert parse_settings(s3_config(existingBucket="acme-by-hand", existingBucketRegion="eu-west-1")).existing_bucket_region == "eu-west-1"
    line = problem_line(error_for(s3_config(existingBucket="acme-by-hand", existingBucketRegion="eu-wset-1")),
                        "tavus-recording:existingBucketRegion")
    assert "(did you mean 'eu-west-1'?)" in line
    line = problem_line(error_for(s3_config(existingBucketRegion="eu-west-1")), "tavus-recording:existingBucketRegion")
    assert "applies only with tavus-recording:existingBucket" in line


def test_s3_existing_bucket_with_its_kms_key_still_gets_the_key_grant():
    run, _ = run_component(lambda: S3RecordingStorage("rec", {"existing_bucket": "acme-by-hand", "kms_key_arn": KEY_ARN}))
    statements = json.loads(run.one("aws:iam/rolePolicy:RolePolicy").inputs["policy"])["Statement"]
    assert statements[1] == {
        "Sid": "TavusRecordingKms",
        "Effect": "Allow",
        "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
        "Resource": KEY_ARN,
    }
    # ... and still no encryption setting is put on the bucket.
    assert not run.find("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")


def test_an_empty_existing_bucket_means_not_set():
    # Other languages' SDKs may send "" for an unset string.
    run, _ = run_component(lambda: S3RecordingStorage("rec", {"existing_bucket": ""}))
    assert run.find("aws:s3/bucket:Bucket") and not run.reads


# --- GCS


def test_gcs_existing_bucket_gets_the_trust_and_the_grant_and_no_storage():
    run, storage = run_component(lambda: GcsRecordingStorage("rec", {**FEDERATION, "existing_bucket": "acme-existing"}))
    assert not run.find("gcp:storage/bucket:Bucket")
    services = {r.inputs["service"] for r in run.find("gcp:projects/service:Service")}
    # The Storage API is not touched: a bucket that exists means it is on.
    assert services == set(gcp_policy.IAM_SERVICES) and gcp_policy.STORAGE_SERVICE not in services
    grant = run.one("gcp:storage/bucketIAMMember:BucketIAMMember").inputs
    assert grant["bucket"] == "acme-existing"
    assert grant["role"] == "roles/storage.objectCreator"
    assert grant["member"] == f"serviceAccount:{resolve(storage.service_account_email)}"
    # The bucket, and the provider's project whose number it must share.
    assert sorted(read.token for read in run.reads) == ["gcp:organizations/getProject:getProject", "gcp:storage/getBucket:getBucket"]
    value = resolve(storage.recording_storage)
    assert value["bucket_name"] == "acme-existing"
    assert value["project_id"] == "acme-recordings"
    tavus.GcsRecordingStorageConfig.model_validate(value)


class BucketInAnotherProject(PlanMocks):
    """Google's answer for a bucket of project 222 when the provider's project is number 111."""

    def _existing_gcs_bucket(self, args: dict) -> dict:
        # Without Compute API access the provider fills in its own project id, but not the number.
        return {**super()._existing_gcs_bucket(args), "projectNumber": 222}

    def _gcp_project(self, args: dict) -> dict:
        return {**super()._gcp_project(args), "number": "111"}


def test_a_gcs_bucket_in_another_project_is_refused_at_deploy():
    # Before: the grant and the writer were made in gcp:project and Tavus was told that project, for
    # a bucket that lives elsewhere.
    config = {"gcp:project": "acme-recordings"}
    mocks = BucketInAnotherProject(config)
    with pytest.raises(pulumi.RunError) as caught:
        run, storage = run_component(lambda: GcsRecordingStorage("rec", {**FEDERATION, "existing_bucket": "acme-existing"}),
                                     config=config, mocks=mocks)
        resolve(storage.recording_storage)
    message = str(caught.value)
    assert "tavus-recording:existingBucket" in message and "project number 222" in message and "(number 111)" in message


# --- Azure


def azure_existing(**args) -> dict:
    return {
        **FEDERATION,
        "existing_storage_account": "acmemedia",
        "existing_container": "tavus",
        "resource_group_name": "acme-media",
        **args,
    }


def test_azure_existing_container_gets_the_identity_and_a_grant_scoped_to_it():
    run, storage = run_component(lambda: AzureBlobRecordingStorage("rec", azure_existing()))
    assert not [r.type for r in run.registrations if r.type.startswith(AZURE_STORAGE)]
    container_id = (
        "/subscriptions/<subscription-id>/resourceGroups/acme-media/providers/Microsoft.Storage/"
        "storageAccounts/acmemedia/blobServices/default/containers/tavus"
    )
    grant = run.one("azure-native:authorization:RoleAssignment").inputs
    assert grant["scope"] == container_id
    assert grant["roleDefinitionId"].endswith("/roleDefinitions/ba92f5b4-2d11-453d-a403-e96b0029c9fe")
    assert run.one("azure-native:managedidentity:UserAssignedIdentity").inputs["resourceGroupName"] == "acme-media"
    read = [read for read in run.reads if read.token == "azure-native:storage:getBlobContainer"]
    assert [r.args for r in read] == [{"accountName": "acmemedia", "containerName": "tavus", "resourceGroupName": "acme-media"}]
    value = resolve(storage.recording_storage)
    assert (value["storage_account"], value["container"]) == ("acmemedia", "tavus")
    assert resolve(storage.container_id) == container_id
    assert resolve(storage.resource_group_name) == "acme-media"


@pytest.mark.parametrize(
    ("missing", "says"),
    [("resource_group_name", "needs resource_group_name"), ("existing_container", "needs existing_container")],
)
def test_azure_component_refuses_an_existing_account_it_cannot_locate(missing, says):
    args = azure_existing()
    del args[missing]
    with pytest.raises(Exception, match=says):
        run_component(lambda: AzureBlobRecordingStorage("rec", args))


# --- the program and the plan


@pytest.mark.parametrize(
    ("stack", "storage_types"),
    [("s3-existing", (S3_STORAGE,)), ("gcs-existing", GCS_STORAGE[:1]), ("azure-existing", AZURE_STORAGE)],
)
def test_example_stacks_create_no_storage_and_export_the_contract(stack, storage_types):
    run = run_program(load_stack_config(stack).config, stack=stack)
    assert not [r.type for r in run.registrations if r.type.startswith(storage_types)]
    storage = run.outputs["recording_storage"]
    assert all(isinstance(v, str) and v for v in storage.values())
    assert run.outputs["conversation_properties"] == {"enable_recording": True, "recording_storage": storage}
    assert json.loads(run.outputs["recording_storage_json"]) == storage


@pytest.mark.parametrize(
    ("stack", "managed"),
    [("dev", True), ("s3-kms", True), ("gcs", True), ("azure", True), ("s3-existing", False), ("gcs-existing", False), ("azure-existing", False)],
)
def test_the_program_exports_whether_the_stack_manages_its_storage(stack, managed):
    # verify reads it to keep `pulumi up` out of the fixes for storage the stack only looks up.
    run = run_program(load_stack_config(stack).config, stack=stack)
    assert run.outputs["storage_managed"] is managed


@pytest.mark.parametrize(
    ("stack", "token", "says"),
    [
        ("s3-existing", "aws:s3/getBucket:getBucket", "Tavus needs versioning on"),
        ("gcs-existing", "gcp:storage/getBucket:getBucket", "only the writer's objectCreator grant is added"),
        ("azure-existing", "azure-native:storage:getBlobContainer", "only the identity's role assignment on it is added"),
    ],
)
def test_plan_says_plainly_that_the_storage_is_not_managed(stack, token, says):
    run = run_program(load_stack_config(stack).config, stack=stack)
    text = render_text(stack, run, f"stacks/Pulumi.{stack}.yaml")
    section = text.split("Read from the cloud, not managed by this stack", 1)[1].split("Resources (", 1)[0]
    assert token in section and "not managed by this stack" in section and says in section


def test_plan_of_a_created_bucket_lists_no_existing_storage():
    run = run_program(load_stack_config("dev").config)
    assert run.reads == [] and "not managed" not in render_text("dev", run, "stacks/Pulumi.dev.yaml")


# --- settings


def test_the_existing_example_stacks_are_valid_with_every_other_key_at_its_default():
    # The stack files hold only what a user writes; every other key arrives at its Pulumi.yaml default.
    assert parse_settings(load_stack_config("s3-existing").config).existing_bucket == "acme-recordings-by-hand"
    assert parse_settings(load_stack_config("gcs-existing").config).existing_bucket == "acme-existing-recordings"
    settings = parse_settings(load_stack_config("azure-existing").config)
    assert (settings.existing_storage_account, settings.existing_container) == ("acmemediarecordings", "tavus")


@pytest.mark.parametrize(
    ("config", "key"),
    [
        (s3_config(existingBucket="acme-by-hand", bucketName="acme-new"), "bucketName"),
        (s3_config(existingBucket="acme-by-hand", retentionDays="30"), "retentionDays"),
        (s3_config(existingBucket="acme-by-hand", noncurrentVersionDays="7"), "noncurrentVersionDays"),
        (gcs_config(existingBucket="acme-existing", location="EU"), "location"),
        (gcs_config(existingBucket="acme-existing", bucketName="acme-new"), "bucketName"),
        (azure_config(container="", existingStorageAccount="acmemedia", existingContainer="tavus",
                      resourceGroupName="acme-media", storageAccount="acmenew"), "storageAccount"),
        (azure_config(container="", existingStorageAccount="acmemedia", existingContainer="tavus",
                      resourceGroupName="acme-media", skuName="Standard_GRS"), "skuName"),
        (azure_config(container="recordings", existingStorageAccount="acmemedia", existingContainer="tavus",
                      resourceGroupName="acme-media"), "container"),
    ],
)
def test_keys_an_existing_storage_would_ignore_are_refused_naming_both_keys(config, key):
    # retentionDays is set in the gcs and azure examples: only the key under test is left in conflict.
    config = {k: v for k, v in config.items() if k != "tavus-recording:retentionDays" or key == "retentionDays"}
    line = problem_line(error_for(config), f"tavus-recording:{key}")
    existing = "existingBucket" if config.get("tavus-recording:existingBucket") else "existingStorageAccount"
    assert f"cannot be used with tavus-recording:{existing}" in line
    assert "would be ignored" in line


def test_kms_key_is_allowed_beside_an_existing_s3_bucket_in_any_region():
    # The bucket's region is looked up at deploy time, so the key is not held to aws:region.
    other_region_key = KEY_ARN.replace("us-east-1", "eu-west-1")
    settings = parse_settings(s3_config(existingBucket="acme-by-hand", kmsKeyArn=other_region_key))
    assert settings.kms_key_arn == other_region_key


@pytest.mark.parametrize(
    ("given_keys", "missing"),
    [
        ({"existingStorageAccount": "acmemedia", "resourceGroupName": "acme-media"}, "existingContainer"),
        ({"existingContainer": "tavus", "resourceGroupName": "acme-media"}, "existingStorageAccount"),
        ({"existingStorageAccount": "acmemedia", "existingContainer": "tavus"}, "resourceGroupName"),
    ],
)
def test_azure_existing_keys_come_as_a_set(given_keys, missing):
    config = azure_config(container="", retentionDays="0", **given_keys)
    line = problem_line(error_for(config), f"tavus-recording:{missing}")
    assert "is required with tavus-recording:" in line


def test_existing_keys_of_another_cloud_are_misplaced():
    line = problem_line(error_for(s3_config(existingStorageAccount="acmemedia")), "tavus-recording:existingStorageAccount")
    assert "applies only to provider azure_blob" in line
    line = problem_line(error_for(azure_config(existingBucket="acme-by-hand")), "tavus-recording:existingBucket")
    assert "applies only to provider s3 or gcs" in line


@pytest.mark.parametrize("name", ["Legacy_Recordings", "acme.recordings", "a" * 70])
def test_legacy_us_east_1_bucket_names_are_accepted_as_existing(name):
    assert parse_settings(s3_config(existingBucket=name)).existing_bucket == name


@pytest.mark.parametrize("name", ["ab", "has space", "a/b"])
def test_impossible_existing_bucket_names_are_refused(name):
    line = problem_line(error_for(s3_config(existingBucket=name)), "tavus-recording:existingBucket")
    assert "expected the name of an existing S3 bucket" in line


# --- fuzz: the new keys together with the ones they conflict with

_existing_values = st.sampled_from(["", "acme-by-hand", "Legacy_Bucket", "x", "acmemedia", "tavus", "acme-media", "0", "30"])


@hypothesis_settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.dictionaries(
        st.sampled_from(["existingBucket", "bucketName", "retentionDays", "noncurrentVersionDays", "kmsKeyArn", "location"]),
        _existing_values,
        max_size=4,
    )
)
def test_fuzz_s3_existing_bucket_configs(overrides):
    assert_refused_before_any_resource_or_built(s3_config(**overrides), tavus.S3RecordingStorageConfig)


@hypothesis_settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.dictionaries(
        st.sampled_from(
            ["existingStorageAccount", "existingContainer", "resourceGroupName", "storageAccount", "container",
             "skuName", "retentionDays", "existingBucket"]
        ),
        _existing_values,
        max_size=5,
    )
)
def test_fuzz_azure_existing_storage_configs(overrides):
    config = azure_config(**overrides)
    try:
        settings = parse_settings(config)
    except pulumi.RunError:
        settings = None
    assert_refused_before_any_resource_or_built(config, tavus.AzureBlobRecordingStorageConfig)
    if settings is not None and settings.existing_storage_account:
        # Accepted with an existing account: all three locating keys are there, and no creating key.
        assert settings.existing_container and settings.resource_group_name
        assert not (settings.storage_account or settings.container or settings.sku_name or settings.retention_days)

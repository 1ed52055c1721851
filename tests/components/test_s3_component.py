"""`S3RecordingStorage` on Pulumi's mock engine: what the engine would be asked to create."""

from __future__ import annotations

import json

import pytest

from components import aws_policy, tavus
from components.aws import S3RecordingStorage
from tavus_recording.mock_engine import ProgramRun, resolve, run_component

KEY_ARN = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
COMPONENT = "tavus-recording:index:S3RecordingStorage"
BUCKET_SETTINGS = [
    "aws:s3/bucketVersioning:BucketVersioning",
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketPolicy:BucketPolicy",
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
]


def build(name: str = "rec", **args) -> tuple[ProgramRun, S3RecordingStorage]:
    return run_component(lambda: S3RecordingStorage(name, args))


@pytest.fixture(scope="module")
def default_run() -> tuple[ProgramRun, S3RecordingStorage]:
    return build()


def test_creates_exactly_the_bucket_its_settings_and_the_role(default_run):
    run, _ = default_run
    assert sorted(r.type for r in run.registrations) == sorted(
        [COMPONENT, "aws:s3/bucket:Bucket", *BUCKET_SETTINGS, "aws:iam/role:Role", "aws:iam/rolePolicy:RolePolicy"]
    )


def test_children_are_parented_and_named_from_the_component(default_run):
    run, _ = default_run
    for r in run.registrations:
        if r.type != COMPONENT:
            assert r.parent == f"{COMPONENT}::rec"
            assert r.name.startswith("rec-")


def test_bucket_and_its_settings_survive_destroy_and_are_never_force_destroyed(default_run):
    run, _ = default_run
    bucket = run.one("aws:s3/bucket:Bucket")
    assert bucket.retain_on_delete
    assert bucket.inputs["forceDestroy"] is False
    for type_ in BUCKET_SETTINGS:
        assert run.one(type_).retain_on_delete, type_


def test_role_and_grant_are_removed_on_destroy(default_run):
    run, _ = default_run
    # Destroying the stack revokes Tavus's access; only the data stays.
    assert not run.one("aws:iam/role:Role").retain_on_delete
    assert not run.one("aws:iam/rolePolicy:RolePolicy").retain_on_delete


def test_bucket_is_auto_named_when_no_name_is_given(default_run):
    run, storage = default_run
    assert "bucket" not in run.one("aws:s3/bucket:Bucket").inputs
    assert resolve(storage.bucket_name) == "rec-bucket-<random>"


def test_hardening_settings(default_run):
    run, _ = default_run
    assert run.one("aws:s3/bucketVersioning:BucketVersioning").inputs["versioningConfiguration"] == {
        "status": "Enabled"
    }
    block = run.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").inputs
    assert {k: block[k] for k in block if k != "bucket"} == {
        "blockPublicAcls": True,
        "blockPublicPolicy": True,
        "ignorePublicAcls": True,
        "restrictPublicBuckets": True,
    }
    ownership = run.one("aws:s3/bucketOwnershipControls:BucketOwnershipControls").inputs
    assert ownership["rule"] == {"objectOwnership": "BucketOwnerEnforced"}
    encryption = run.one(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
    ).inputs
    assert encryption["rules"] == [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}, "blockedEncryptionTypes": ["SSE-C"]}]
    policy = json.loads(run.one("aws:s3/bucketPolicy:BucketPolicy").inputs["policy"])
    assert policy["Statement"][0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert policy["Statement"][0]["Resource"] == ["arn:aws:s3:::rec-bucket-<random>", "arn:aws:s3:::rec-bucket-<random>/*"]


def test_every_bucket_setting_targets_this_bucket(default_run):
    run, _ = default_run
    for type_ in BUCKET_SETTINGS:
        assert run.one(type_).inputs["bucket"] == "rec-bucket-<random>", type_


def waits_for(run: ProgramRun, type_: str) -> set[str]:
    """What a resource waits for beyond its bucket: its explicit dependencies, by type."""
    return {dep.split("::")[0] for dep in run.one(type_).depends_on} - {"aws:s3/bucket:Bucket"}


def test_settings_that_race_on_s3_are_ordered(default_run):
    # S3 answers concurrent configuration changes to one bucket with OperationAborted: the access
    # settings are written one after another, the policy last; the lifecycle after versioning.
    run, _ = default_run
    chain = [
        "aws:s3/bucketVersioning:BucketVersioning",
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "aws:s3/bucketPolicy:BucketPolicy",
    ]
    assert waits_for(run, chain[0]) == set()
    for before, after in zip(chain, chain[1:]):
        assert waits_for(run, after) == {before}, after
    assert waits_for(run, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration") == {chain[0]}


def test_lifecycle_as_the_engine_receives_it(default_run):
    run, _ = default_run
    rules = run.one("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration").inputs["rules"]
    assert rules == [
        {
            "id": "expire-noncurrent-versions",
            "status": "Enabled",
            "filter": {},
            "noncurrentVersionExpiration": {"noncurrentDays": 30},
        },
        {
            "id": "abort-incomplete-multipart-uploads",
            "status": "Enabled",
            "filter": {},
            "abortIncompleteMultipartUpload": {"daysAfterInitiation": 7},
        },
    ]


def test_role_trust_and_session_as_the_engine_receives_them(default_run):
    run, _ = default_run
    role = run.one("aws:iam/role:Role").inputs
    assert role["maxSessionDuration"] == 43200
    # The document itself is checked exactly in test_aws_policy.
    assert json.loads(role["assumeRolePolicy"]) == aws_policy.trust_policy("tavus")


def test_writer_policy_is_inline_on_the_role_and_scoped_to_the_bucket(default_run):
    run, _ = default_run
    grant = run.one("aws:iam/rolePolicy:RolePolicy").inputs
    assert grant["role"] == "rec-writer-<random>"
    assert json.loads(grant["policy"])["Statement"] == [
        {
            "Sid": "TavusRecordingWrite",
            "Effect": "Allow",
            "Action": list(tavus.S3_WRITER_ACTIONS),
            "Resource": ["arn:aws:s3:::rec-bucket-<random>", "arn:aws:s3:::rec-bucket-<random>/*"],
        }
    ]


def test_recording_storage_output_points_at_the_bucket_and_role(default_run):
    _, storage = default_run
    value = resolve(storage.recording_storage)
    assert value == {
        "provider": "s3",
        "bucket_name": "rec-bucket-<random>",
        "bucket_region": "us-east-1",
        "assume_role_arn": "arn:aws:iam::<account-id>:role/rec-writer-<random>",
        "external_id": "tavus",
    }
    assert tavus.S3RecordingStorageConfig.model_validate(value).model_dump() == value
    assert resolve(storage.role_arn) == value["assume_role_arn"]
    assert resolve(storage.bucket_arn) == "arn:aws:s3:::rec-bucket-<random>"


def test_kms_variant_encrypts_with_the_key_and_grants_only_its_use():
    run, _ = build(bucket_name="acme-recordings", kms_key_arn=KEY_ARN)
    encryption = run.one(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
    ).inputs["rules"]
    assert encryption == [
        {
            "applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": KEY_ARN},
            "bucketKeyEnabled": True,
            "blockedEncryptionTypes": ["SSE-C"],
        }
    ]
    statements = json.loads(run.one("aws:iam/rolePolicy:RolePolicy").inputs["policy"])["Statement"]
    assert statements[0]["Resource"] == ["arn:aws:s3:::acme-recordings", "arn:aws:s3:::acme-recordings/*"]
    assert statements[1] == {
        "Sid": "TavusRecordingKms",
        "Effect": "Allow",
        "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
        "Resource": KEY_ARN,
    }


def test_named_bucket_retention_and_custom_external_id_reach_the_resources():
    run, storage = build(bucket_name="acme-recordings", retention_days=90, noncurrent_version_days=7, external_id="acme-1")
    assert run.one("aws:s3/bucket:Bucket").inputs["bucket"] == "acme-recordings"
    rules = run.one("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration").inputs["rules"]
    assert rules[0]["noncurrentVersionExpiration"] == {"noncurrentDays": 7}
    assert rules[-2] == {"id": "expire-recordings", "status": "Enabled", "filter": {}, "expiration": {"days": 90}}
    assert rules[-1]["expiration"] == {"expiredObjectDeleteMarker": True}
    trust = json.loads(run.one("aws:iam/role:Role").inputs["assumeRolePolicy"])
    assert trust["Statement"][0]["Condition"] == {"StringEquals": {"sts:ExternalId": "acme-1"}}
    assert resolve(storage.recording_storage)["external_id"] == "acme-1"


def registered(run: ProgramRun) -> list[tuple]:
    return sorted((r.type, r.name, json.dumps(r.inputs, sort_keys=True), sorted(r.depends_on)) for r in run.registrations)


PLAIN = {"external_id": "acme-ext", "kms_key_arn": KEY_ARN, "retention_days": 365, "noncurrent_version_days": 10,
         "cold_after_days": 30, "tags": {"team": "media", "env": "prod"}}


@pytest.mark.parametrize("given_late", [["external_id"], ["kms_key_arn"], ["retention_days", "cold_after_days"],
                                        ["noncurrent_version_days"], ["tags"], list(PLAIN)])
def test_values_given_as_outputs_register_what_plain_values_do(given_late):
    # Plain values are built into the documents at once, outputs once they are known: the same resources either way.
    import pulumi

    def late(name: str):
        return pulumi.Output.from_input(PLAIN[name]).apply(lambda value: value)

    plain, plain_storage = build(**PLAIN)
    outputs, outputs_storage = build(**{**PLAIN, **{name: late(name) for name in given_late}})
    assert registered(outputs) == registered(plain)
    assert resolve(outputs_storage.recording_storage) == resolve(plain_storage.recording_storage)
    assert resolve(outputs_storage.recording_storage)["external_id"] == "acme-ext"

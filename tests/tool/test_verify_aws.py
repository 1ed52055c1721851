"""`verify` for S3, against a moto server on a loopback port, with real boto3 calls.

The healthy destination is built from the kit's own documents (tests/fakes/aws_destination.py), so
these tests prove the kit's output verifies green, and that each drift a user could make fails its
own check with a detail that says what was found.

Where moto differs from AWS (so the tests stop short of it):
- IAM action names: moto authorizes GetPublicAccessBlock as s3:GetPublicAccessBlock (AWS:
  s3:GetBucketPublicAccessBlock), and GetBucketEncryption and GetBucketOwnershipControls as
  s3:ListBucket (AWS: s3:GetEncryptionConfiguration, s3:GetBucketOwnershipControls). The reader
  test adds exactly those names (`MOTO_READER_ALIASES`); it cannot show that dropping
  s3:GetEncryptionConfiguration or s3:GetBucketOwnershipControls leaves only its check unknown.
- moto authorizes iam:GetPolicy/GetPolicyVersion against "*", not the policy ARN, so the reader
  test has no attached managed policy to read.
- moto's S3 buckets are visible from every account, so credentials of another account still read
  the bucket here; on AWS those reads are denied (unknown).
- AWS-managed policies (AmazonS3FullAccess) are not loaded by moto; a customer managed copy stands in.
- moto answers organizations:DescribeOrganization for any caller once an organization exists, and does
  not limit ListPoliciesForTarget to the management account; on AWS a member account's reads are
  denied, which verify reports as unknown (tested with a denied read).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import boto3
import pytest
from fakes.aws_destination import BUCKET, INLINE_POLICY_NAME, REGION, ROLE_NAME, MotoEndpoint, deploy_destination, lifecycle_configuration, running_moto
from fakes.loopback import closed_port
from moto.core import DEFAULT_ACCOUNT_ID, enable_iam_authentication
from typer.testing import CliRunner

from components import aws_policy, tavus
from tavus_recording.cli import app
from tavus_recording.verify import aws as verify_aws
from tavus_recording.verify.aws import CHECK_IDS, enforces_tls, reader_policy, region_of
from tavus_recording.rules.iam import load_policy_document, principals
from tavus_recording.verify.report import CannotVerify, Check

BUCKET_ARN = f"arn:aws:s3:::{BUCKET}"
ROLE_ARN = f"arn:aws:iam::{DEFAULT_ACCOUNT_ID}:role/{ROLE_NAME}"
OTHER_ACCOUNT = "222233334444"
TAVUS_ROOT = tavus.TAVUS_AWS_PRINCIPAL

# The names moto authorizes these reads by, where they differ from AWS's (see the module docstring).
MOTO_READER_ALIASES = {
    "Sid": "MotoActionNames",
    "Effect": "Allow",
    "Action": ["s3:GetPublicAccessBlock", "s3:ListBucket"],
    "Resource": BUCKET_ARN,
}


# --- fixtures --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoEndpoint]:
    with pytest.MonkeyPatch.context() as patch, running_moto() as endpoint:
        for name, value in endpoint.environment.items():
            patch.setenv(name, value)
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "MOTO_ACCOUNT_ID", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_IAM", "AWS_ENDPOINT_URL_STS"):
            patch.delenv(name, raising=False)
        yield endpoint


@pytest.fixture(scope="module")
def shared_session(moto: MotoEndpoint) -> boto3.Session:
    # One session for every test: botocore loads each service model once.
    return boto3.Session()


@pytest.fixture
def aws(moto: MotoEndpoint, shared_session: boto3.Session) -> boto3.Session:
    """The admin's session on a freshly reset moto."""
    moto.reset()
    return shared_session


@pytest.fixture
def outputs(aws: boto3.Session) -> dict[str, Any]:
    return deploy_destination(aws)


def run(outputs: dict[str, Any], session: boto3.Session | None) -> dict[str, Check]:
    storage = tavus.S3RecordingStorageConfig.model_validate(outputs["recording_storage"])
    checks = verify_aws.verify(storage, outputs, session)
    # Whatever happens, the report lists the same ids, in the same order.
    assert [check.id for check in checks] == list(CHECK_IDS)
    return {check.id: check for check in checks}


def failing(checks: dict[str, Check]) -> set[str]:
    return {check_id for check_id, check in checks.items() if check.ok is False}


def unknown_ids(checks: dict[str, Check]) -> set[str]:
    return {check_id for check_id, check in checks.items() if check.ok is None}


def iam(session: boto3.Session) -> Any:
    return session.client("iam", region_name="us-east-1")


def s3(session: boto3.Session) -> Any:
    return session.client("s3", region_name=REGION)


def set_trust(session: boto3.Session, document: dict[str, Any]) -> None:
    iam(session).update_assume_role_policy(RoleName=ROLE_NAME, PolicyDocument=json.dumps(document))


def set_writer_policy(session: boto3.Session, document: dict[str, Any]) -> None:
    iam(session).put_role_policy(RoleName=ROLE_NAME, PolicyName=INLINE_POLICY_NAME, PolicyDocument=json.dumps(document))


def attach(session: boto3.Session, name: str, document: dict[str, Any]) -> str:
    arn = iam(session).create_policy(PolicyName=name, PolicyDocument=json.dumps(document))["Policy"]["Arn"]
    iam(session).attach_role_policy(RoleName=ROLE_NAME, PolicyArn=arn)
    return arn


def allow(actions: list[str], resources: list[str] | str) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": resources}]}


def trust_with(**changes: Any) -> dict[str, Any]:
    document = aws_policy.trust_policy()
    statement = document["Statement"][0]
    for key, value in changes.items():
        if value is None:
            statement.pop(key)
        else:
            statement[key] = value
    return document


def create_kms_key(session: boto3.Session) -> str:
    return session.client("kms", region_name=REGION).create_key()["KeyMetadata"]["Arn"]


# --- healthy ---------------------------------------------------------------------------------


def test_the_kits_destination_verifies_green_with_the_default_credential_chain(outputs):
    # No session given: verify builds its own from the environment (AWS_ENDPOINT_URL, keys).
    checks = run(outputs, None)
    assert {check_id: check.ok for check_id, check in checks.items()} == {check_id: True for check_id in CHECK_IDS}
    assert DEFAULT_ACCOUNT_ID in checks["aws.caller.account"].detail
    assert "SSE-S3" in checks["aws.bucket.encryption"].detail
    assert f"inline policy {INLINE_POLICY_NAME}" in checks["aws.role.permissions"].detail
    assert "nothing denies it" in checks["aws.role.can_write"].detail


def test_the_cli_verifies_the_stack_outputs_file_green(outputs, tmp_path: Path):
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(outputs))
    result = CliRunner().invoke(app, ["verify", "--outputs", str(path), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["provider"] == "s3" and report["ok"] is True
    assert [check["id"] for check in report["checks"]] == list(CHECK_IDS)


# --- drift: each fails its own check ---------------------------------------------------------


def _suspend_versioning(session: boto3.Session) -> None:
    s3(session).put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Suspended"})


def _one_public_access_flag_off(session: boto3.Session) -> None:
    flags = {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": False}
    s3(session).put_public_access_block(Bucket=BUCKET, PublicAccessBlockConfiguration=flags)


def put_bucket_policy(session: boto3.Session, *statements: dict[str, Any]) -> None:
    """The kit's TLS-only bucket policy with `statements` added."""
    document = aws_policy.tls_only_bucket_policy(BUCKET_ARN)
    document["Statement"] += list(statements)
    s3(session).put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(document))


def _replicate_to_another_account(session: boto3.Session) -> None:
    s3(session).create_bucket(Bucket="elsewhere")
    s3(session).put_bucket_versioning(Bucket="elsewhere", VersioningConfiguration={"Status": "Enabled"})
    rule = {"ID": "copy-all", "Status": "Enabled", "Priority": 1, "Filter": {}, "DeleteMarkerReplication": {"Status": "Disabled"},
            "Destination": {"Bucket": "arn:aws:s3:::elsewhere", "Account": OTHER_ACCOUNT}}
    s3(session).put_bucket_replication(Bucket=BUCKET, ReplicationConfiguration={"Role": ROLE_ARN, "Rules": [rule]})


def _boundary_without_put(session: boto3.Session) -> None:
    arn = iam(session).create_policy(PolicyName="read-only-boundary", PolicyDocument=json.dumps(allow(["s3:Get*", "s3:List*"], "*")))["Policy"]["Arn"]
    iam(session).put_role_permissions_boundary(RoleName=ROLE_NAME, PermissionsBoundary=arn)


def _scp_denying_put(session: boto3.Session) -> None:
    organizations = session.client("organizations", region_name="us-east-1")
    organizations.create_organization(FeatureSet="ALL")
    deny = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "s3:PutObject", "Resource": "*"}]}
    policy = organizations.create_policy(Name="no-uploads", Description="", Type="SERVICE_CONTROL_POLICY", Content=json.dumps(deny))
    organizations.attach_policy(PolicyId=policy["Policy"]["PolicySummary"]["Id"], TargetId=DEFAULT_ACCOUNT_ID)


DENY_PUT = {"Effect": "Deny", "Action": "s3:PutObject", "Resource": f"{BUCKET_ARN}/*"}

DRIFTS: dict[str, tuple[Callable[[boto3.Session], Any], set[str], list[str]]] = {
    # name: (the change, the checks that must fail, what the first one's detail must mention)
    "max session 3600": (
        lambda session: iam(session).update_role(RoleName=ROLE_NAME, MaxSessionDuration=3600),
        {"aws.role.max_session"},
        ["3600", "unable to assume role with given parameters"],
    ),
    "no ExternalId condition": (
        lambda session: set_trust(session, trust_with(Condition=None)),
        {"aws.role.trust"},
        ["does not require StringEquals sts:ExternalId = 'tavus'"],
    ),
    "another ExternalId": (
        lambda session: set_trust(session, aws_policy.trust_policy("someone-else")),
        {"aws.role.trust"},
        ["requires sts:ExternalId 'someone-else', but Tavus sends 'tavus'"],
    ),
    "principal *": (
        lambda session: set_trust(session, trust_with(Principal="*")),
        {"aws.role.trust"},
        ["admits any AWS principal ('*'), guarded only by the ExternalId"],
    ),
    "another account as principal": (
        lambda session: set_trust(session, trust_with(Principal={"AWS": ["111122223333"]})),
        {"aws.role.trust"},
        ["admits 111122223333, which is not Tavus's account"],
    ),
    "an extra statement in the trust": (
        lambda session: set_trust(
            session,
            {
                "Version": "2012-10-17",
                "Statement": aws_policy.trust_policy()["Statement"]
                + [{"Sid": "Ec2", "Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
            },
        ),
        {"aws.role.trust"},
        ["statement 'Ec2' admits the Service principal 'ec2.amazonaws.com'"],
    ),
    "TagSession added": (
        lambda session: set_trust(session, trust_with(Action=["sts:AssumeRole", "sts:TagSession"])),
        {"aws.role.trust"},
        ["sts:TagSession"],
    ),
    "delete granted": (
        lambda session: set_writer_policy(
            session, allow([*tavus.S3_WRITER_ACTIONS, "s3:DeleteObject"], [BUCKET_ARN, f"{BUCKET_ARN}/*"])
        ),
        {"aws.role.permissions"},
        [f"inline policy {INLINE_POLICY_NAME}", f"allows s3:DeleteObject on {BUCKET_ARN} and {BUCKET_ARN}/*"],
    ),
    "bucket-name wildcard resource": (
        lambda session: set_writer_policy(session, allow(list(tavus.S3_WRITER_ACTIONS), [f"{BUCKET_ARN}*"])),
        {"aws.role.permissions"},
        [f"allows s3:PutObject on {BUCKET_ARN}*, beyond bucket {BUCKET}"],
    ),
    "a missing multipart action": (
        lambda session: set_writer_policy(
            session,
            allow([a for a in tavus.S3_WRITER_ACTIONS if a != "s3:ListMultipartUploadParts"], [BUCKET_ARN, f"{BUCKET_ARN}/*"]),
        ),
        {"aws.role.can_write"},
        [f"is not allowed s3:ListMultipartUploadParts on {BUCKET_ARN}/*"],
    ),
    "attached policy granting delete": (
        lambda session: attach(session, "recordings-cleanup", allow(["s3:DeleteObject"], f"{BUCKET_ARN}/*")),
        {"aws.role.permissions"},
        [f"attached policy arn:aws:iam::{DEFAULT_ACCOUNT_ID}:policy/recordings-cleanup", "allows s3:DeleteObject"],
    ),
    "attached S3 full access": (
        lambda session: attach(session, "AmazonS3FullAccessCopy", allow(["s3:*", "s3-object-lambda:*"], "*")),
        {"aws.role.permissions"},
        ["AmazonS3FullAccessCopy", "allows the wildcard action s3:* on *", "s3-object-lambda:*"],
    ),
    "a read beyond the writer's": (
        lambda session: attach(session, "location", allow(["s3:GetBucketLocation"], BUCKET_ARN)),
        {"aws.role.least_privilege"},
        ["allows s3:GetBucketLocation on", "a read Tavus does not need"],
    ),
    "an inline Deny of PutObject": (
        lambda session: iam(session).put_role_policy(RoleName=ROLE_NAME, PolicyName="guard",
                                                     PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [DENY_PUT]})),
        {"aws.role.can_write"},
        ["is stopped: inline policy guard statement 1 denies s3:PutObject"],
    ),
    "a bucket-policy Deny of PutObject": (
        lambda session: put_bucket_policy(session, {**DENY_PUT, "Principal": "*"}),
        {"aws.role.can_write"},
        ["is stopped: the bucket policy statement 2 denies s3:PutObject"],
    ),
    "a permissions boundary without PutObject": (
        _boundary_without_put,
        {"aws.role.can_write"},
        ["is held back from s3:PutObject", "permissions boundary"],
    ),
    "an SCP denying PutObject": (
        _scp_denying_put,
        {"aws.role.can_write"},
        ["denies s3:PutObject", "SCPs attached to"],
    ),
    "the bucket shared with another account": (
        lambda session: put_bucket_policy(session, {"Sid": "Partner", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{OTHER_ACCOUNT}:root"},
                                                    "Action": "s3:GetObject", "Resource": f"{BUCKET_ARN}/*"}),
        {"aws.bucket.access"},
        [f"statement 'Partner' lets another account ({OTHER_ACCOUNT}) reach the recordings"],
    ),
    "s3:* granted to Tavus's account directly": (
        lambda session: put_bucket_policy(session, {"Effect": "Allow", "Principal": {"AWS": TAVUS_ROOT}, "Action": "s3:*",
                                                    "Resource": [BUCKET_ARN, f"{BUCKET_ARN}/*"]}),
        {"aws.bucket.access"},
        ["lets Tavus's account 291871421005 (directly, bypassing the writer role and its ExternalId) reach the recordings"],
    ),
    "a bucket-policy Deny to everyone but the role's ARN (NotPrincipal)": (
        # Denies the role's session, whose ARN is the assumed-role one, not the role's.
        lambda session: put_bucket_policy(session, {"Effect": "Deny", "NotPrincipal": {"AWS": ROLE_ARN}, "Action": "s3:*",
                                                    "Resource": f"{BUCKET_ARN}/*"}),
        {"aws.role.can_write"},
        ["is stopped: the bucket policy statement 2 denies s3:PutObject"],
    ),
    "a prefix of the bucket shared with another account": (
        lambda session: put_bucket_policy(session, {"Effect": "Allow", "Principal": {"AWS": OTHER_ACCOUNT}, "Action": "s3:GetObject",
                                                    "Resource": f"{BUCKET_ARN}/conversations/*"}),
        {"aws.bucket.access"},
        [f"the bucket policy statement 2 lets another account ({OTHER_ACCOUNT}) reach the recordings"],
    ),
    "a service grant excluding your account (StringNotEquals)": (
        lambda session: put_bucket_policy(session, {"Effect": "Allow", "Principal": {"Service": "logging.s3.amazonaws.com"},
                                                    "Action": "s3:PutObject", "Resource": f"{BUCKET_ARN}/*",
                                                    "Condition": {"StringNotEquals": {"aws:SourceAccount": DEFAULT_ACCOUNT_ID}}}),
        {"aws.bucket.access"},
        ["lets the service 'logging.s3.amazonaws.com' acting for any account"],
    ),
    "replication to another account": (
        _replicate_to_another_account,
        {"aws.bucket.replication"},
        [f"replicates recordings (rule copy-all) to arn:aws:s3:::elsewhere in account {OTHER_ACCOUNT}, not yours"],
    ),
    "recordings expire after a day": (
        lambda session: s3(session).put_bucket_lifecycle_configuration(
            Bucket=BUCKET, LifecycleConfiguration={"Rules": [{"ID": "shred", "Status": "Enabled", "Filter": {}, "Expiration": {"Days": 1}}]}),
        {"aws.bucket.lifecycle"},
        ["expires current recordings 1 day after they land (rule shred), but the stack keeps them (no retentionDays)"],
    ),
    "versioning suspended": (_suspend_versioning, {"aws.bucket.versioning"}, ["Suspended", "Daily"]),
    "a public access block flag off": (
        _one_public_access_flag_off,
        {"aws.bucket.public_access_block"},
        ["RestrictPublicBuckets off"],
    ),
    "public access block removed": (
        lambda session: s3(session).delete_public_access_block(Bucket=BUCKET),
        {"aws.bucket.public_access_block"},
        ["no public access block"],
    ),
    "object writer ownership": (
        lambda session: s3(session).put_bucket_ownership_controls(
            Bucket=BUCKET, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]}
        ),
        {"aws.bucket.ownership"},
        ["ObjectWriter"],
    ),
    "TLS policy removed": (
        lambda session: s3(session).delete_bucket_policy(Bucket=BUCKET),
        {"aws.bucket.tls_only"},
        ["no policy", "plain HTTP"],
    ),
    "TLS deny turned into allow-anything": (
        lambda session: s3(session).put_bucket_policy(
            Bucket=BUCKET,
            Policy=json.dumps(
                {"Version": "2012-10-17", "Statement": [{**aws_policy.tls_only_bucket_policy(BUCKET_ARN)["Statement"][0], "Effect": "Allow"}]}
            ),
        ),
        {"aws.bucket.tls_only", "aws.bucket.access"},
        ["1 statements", "aws:SecureTransport is false"],
    ),
}


@pytest.mark.parametrize("drift", list(DRIFTS))
def test_each_drift_fails_only_its_own_check(aws, outputs, drift):
    change, check_ids, mentions = DRIFTS[drift]
    change(aws)
    checks = run(outputs, aws)
    assert failing(checks) == check_ids
    assert unknown_ids(checks) == set()
    check = checks[sorted(check_ids, key=list(CHECK_IDS).index)[0]]
    for mention in mentions:
        assert mention in check.detail, check.detail
    # A setting the stack manages, changed behind its back: only a refresh makes `pulumi up` restore it.
    assert "pulumi up --refresh" in check.fix and "plain `pulumi up` would change nothing" in check.fix


def test_a_healthy_sse_kms_destination_and_a_drifted_key(aws):
    key = create_kms_key(aws)
    outputs = deploy_destination(aws, kms_key_arn=key)
    assert failing(run(outputs, aws)) | unknown_ids(run(outputs, aws)) == set()
    kms = aws.client("kms", region_name=REGION)
    key_id = key.rsplit("/", 1)[-1]  # moto's DisableKey and ScheduleKeyDeletion take the id, not the ARN
    kms.disable_key(KeyId=key_id)
    checks = run(outputs, aws)
    assert failing(checks) == {"aws.kms.key"} and "which is Disabled" in checks["aws.kms.key"].detail
    kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)
    checks = run(outputs, aws)
    assert failing(checks) == {"aws.kms.key"} and "scheduled for deletion" in checks["aws.kms.key"].detail
    assert "cancel-key-deletion" in checks["aws.kms.key"].fix


def test_a_key_policy_that_does_not_let_the_role_use_the_key_stops_the_write(aws):
    key = create_kms_key(aws)
    outputs = deploy_destination(aws, kms_key_arn=key)
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{OTHER_ACCOUNT}:root"},
                                                      "Action": "kms:*", "Resource": "*"}]}
    aws.client("kms", region_name=REGION).put_key_policy(KeyId=key, PolicyName="default", Policy=json.dumps(policy))
    checks = run(outputs, aws)
    assert failing(checks) == {"aws.role.can_write"}
    assert f"cannot use key {key}" in checks["aws.role.can_write"].detail


def test_a_key_policy_deny_beside_root_delegation_stops_the_write(aws):
    key = create_kms_key(aws)
    outputs = deploy_destination(aws, kms_key_arn=key)
    assert run(outputs, aws)["aws.role.can_write"].ok is True
    root = {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{DEFAULT_ACCOUNT_ID}:root"}, "Action": "kms:*", "Resource": "*"}
    deny = {"Effect": "Deny", "Principal": "*", "Action": "kms:GenerateDataKey", "Resource": "*"}
    aws.client("kms", region_name=REGION).put_key_policy(
        KeyId=key, PolicyName="default", Policy=json.dumps({"Version": "2012-10-17", "Statement": [root, deny]}))
    check = run(outputs, aws)["aws.role.can_write"]
    assert check.ok is False and "kms:GenerateDataKey" in check.detail, check.detail


def test_a_deny_on_a_prefix_leaves_can_write_unknown_never_passing(aws, outputs):
    # Tavus's object keys are not documented, so a Deny on one prefix may or may not stop it.
    iam(aws).put_role_policy(RoleName=ROLE_NAME, PolicyName="deny-prefix", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{**DENY_PUT, "Resource": f"{BUCKET_ARN}/conversations/*"}]}))
    checks = run(outputs, aws)
    assert failing(checks) == set() and unknown_ids(checks) == {"aws.role.can_write"}
    assert "deny-prefix" in checks["aws.role.can_write"].detail and "for some objects" in checks["aws.role.can_write"].detail


def test_a_kept_retention_passes_and_a_shorter_rule_fails(aws):
    outputs = deploy_destination(aws, retention_days=365)
    assert failing(run(outputs, aws)) == set()
    s3(aws).put_bucket_lifecycle_configuration(
        Bucket=BUCKET, LifecycleConfiguration={"Rules": [{"ID": "x", "Status": "Enabled", "Filter": {}, "Expiration": {"Days": 30}}]})
    assert "but the stack keeps them 365 days" in run(outputs, aws)["aws.bucket.lifecycle"].detail
    # A stack deployed before retention_days was exported: verify cannot tell what was meant.
    before = {name: value for name, value in outputs.items() if name != "retention_days"}
    assert unknown_ids(run(before, aws)) == {"aws.bucket.lifecycle"}


def test_the_stacks_cold_tier_passes_and_drift_fails(aws):
    outputs = deploy_destination(aws, retention_days=365, cold_after_days=90)
    checks = run(outputs, aws)
    assert failing(checks) == set() and "lifecycle rules move current recordings to GLACIER_IR after 90 days" in checks["aws.bucket.cold_tier"].detail
    # The move changed to 120 days, outside Pulumi: the stack's move is gone.
    s3(aws).put_bucket_lifecycle_configuration(Bucket=BUCKET, LifecycleConfiguration=lifecycle_configuration(30, 365, 120))
    check = run(outputs, aws)["aws.bucket.cold_tier"]
    assert check.ok is False and "no lifecycle rule moving current recordings to GLACIER_IR after 90 days" in check.detail
    assert "pulumi up --refresh" in check.fix


@pytest.mark.parametrize("storage_class", ["GLACIER", "DEEP_ARCHIVE"])
def test_a_move_to_an_archive_class_fails_the_cold_tier(aws, outputs, storage_class):
    rules = lifecycle_configuration(30)["Rules"] + [
        {"ID": "archive", "Status": "Enabled", "Filter": {}, "Transitions": [{"Days": 30, "StorageClass": storage_class}]}]
    s3(aws).put_bucket_lifecycle_configuration(Bucket=BUCKET, LifecycleConfiguration={"Rules": rules})
    checks = run(outputs, aws)
    assert failing(checks) == {"aws.bucket.cold_tier"}
    assert f"moves current recordings to {storage_class} (rule archive)" in checks["aws.bucket.cold_tier"].detail


def test_a_conditional_deny_leaves_can_write_unknown_never_passing(aws, outputs):
    put_bucket_policy(aws, {**DENY_PUT, "Principal": "*", "Condition": {"StringNotEquals": {"aws:SourceVpce": "vpce-1a2b"}}})
    checks = run(outputs, aws)
    assert failing(checks) == set() and unknown_ids(checks) == {"aws.role.can_write"}
    assert "may be stopped" in checks["aws.role.can_write"].detail


def test_a_missing_role_fails_exists_and_skips_what_needs_it(aws, outputs):
    iam(aws).delete_role_policy(RoleName=ROLE_NAME, PolicyName=INLINE_POLICY_NAME)
    iam(aws).delete_role(RoleName=ROLE_NAME)
    checks = run(outputs, aws)
    assert failing(checks) == {"aws.role.exists"}
    assert f"role {ROLE_NAME} does not exist" in checks["aws.role.exists"].detail
    assert unknown_ids(checks) == {"aws.role.trust", "aws.role.max_session", "aws.role.permissions", "aws.role.least_privilege",
                                   "aws.role.can_write"}
    assert all("does not exist" in checks[i].detail for i in unknown_ids(checks))
    assert all(checks[i].ok for i in CHECK_IDS if i.startswith(("aws.bucket", "aws.kms")) or i == "aws.caller.account")


def test_a_missing_bucket_fails_exists_and_skips_the_bucket_settings(aws, outputs):
    client = s3(aws)
    client.delete_bucket(Bucket=BUCKET)
    checks = run(outputs, aws)
    assert failing(checks) == {"aws.bucket.exists"}
    assert f"bucket {BUCKET} does not exist" in checks["aws.bucket.exists"].detail
    skipped_bucket = {"aws.bucket.region", "aws.bucket.versioning", "aws.bucket.public_access_block", "aws.bucket.ownership",
                      "aws.bucket.encryption", "aws.kms.key", "aws.bucket.tls_only", "aws.bucket.access", "aws.bucket.replication",
                      "aws.bucket.lifecycle", "aws.bucket.cold_tier", "aws.bucket.object_lock",
                      "aws.bucket.audit_trail"}
    # The role's S3 grants are still judged; whether it needs a KMS grant depends on the bucket.
    assert unknown_ids(checks) == skipped_bucket | {"aws.role.permissions", "aws.role.can_write"}
    assert "KMS grants not judged: bucket" in checks["aws.role.permissions"].detail
    assert all(checks[i].ok for i in ("aws.caller.account", "aws.role.exists", "aws.role.trust", "aws.role.max_session"))


def test_a_bucket_in_another_region_than_the_output_says_fails_region(aws):
    outputs = deploy_destination(aws, region="eu-west-1")
    outputs["recording_storage"]["bucket_region"] = "us-east-1"
    checks = run(outputs, aws)
    assert failing(checks) == {"aws.bucket.region"}
    detail = checks["aws.bucket.region"].detail
    assert "bucket is in eu-west-1" in detail and "says us-east-1" in detail
    # The other bucket checks read the bucket in its real region, and pass.
    assert unknown_ids(checks) == set()


def test_a_bucket_in_another_region_verifies_green_when_the_output_agrees(aws):
    checks = run(deploy_destination(aws, region="eu-west-1"), aws)
    assert failing(checks) | unknown_ids(checks) == set()


def test_credentials_of_another_account_fail_the_caller_check_and_skip_the_role(aws, outputs):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MOTO_ACCOUNT_ID", OTHER_ACCOUNT)  # moto routes the setup calls to that account
        trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": DEFAULT_ACCOUNT_ID}, "Action": "sts:AssumeRole"}]}
        iam(aws).create_role(RoleName="auditor", AssumeRolePolicyDocument=json.dumps(trust))
    credentials = aws.client("sts", region_name=REGION).assume_role(
        RoleArn=f"arn:aws:iam::{OTHER_ACCOUNT}:role/auditor", RoleSessionName="auditor"
    )["Credentials"]
    other = boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=REGION,
    )
    checks = run(outputs, other)
    caller = checks["aws.caller.account"]
    assert caller.ok is False
    assert f"in account {OTHER_ACCOUNT}" in caller.detail and f"role is in account {DEFAULT_ACCOUNT_ID}" in caller.detail
    assert OTHER_ACCOUNT in caller.fix or DEFAULT_ACCOUNT_ID in caller.fix
    # Reading the role with these credentials would read the wrong account: not checked.
    for check_id in ("aws.role.exists", "aws.role.trust", "aws.role.max_session", "aws.role.permissions", "aws.role.can_write"):
        assert checks[check_id].ok is None and "not for the role's account" in checks[check_id].detail


# --- an existing bucket (existingBucket): the stack does not manage it -----------------------

UNMANAGED = "(this stack does not manage the bucket: it was named with existingBucket)"
# Each bucket drift, and the direct fix its check must give when the stack only looked the bucket up.
DIRECT_FIXES = {
    "versioning suspended": f"aws s3api put-bucket-versioning --bucket {BUCKET} --versioning-configuration Status=Enabled",
    "a public access block flag off": f"aws s3api put-public-access-block --bucket {BUCKET} --public-access-block-configuration",
    "public access block removed": f"aws s3api put-public-access-block --bucket {BUCKET} --public-access-block-configuration",
    "object writer ownership": f"aws s3api put-bucket-ownership-controls --bucket {BUCKET} --ownership-controls",
    "TLS policy removed": f"in S3 console > {BUCKET} > Permissions > Bucket policy, add",
    "TLS deny turned into allow-anything": f"in S3 console > {BUCKET} > Permissions > Bucket policy, add",
}


def unmanaged(outputs: dict[str, Any]) -> dict[str, Any]:
    """The outputs of an existingBucket stack: the program exports storage_managed false."""
    return {**outputs, "storage_managed": False}


def test_every_bucket_setting_drift_has_its_direct_fix():
    settings = {"aws.bucket.versioning", "aws.bucket.public_access_block", "aws.bucket.ownership", "aws.bucket.tls_only"}
    assert set(DIRECT_FIXES) == {name for name, (_, check_ids, _) in DRIFTS.items() if check_ids & settings}


@pytest.mark.parametrize("drift", list(DIRECT_FIXES))
def test_an_existing_buckets_drift_gets_only_the_direct_fix_while_the_roles_keeps_pulumi_up(aws, outputs, drift):
    change, check_ids, _ = DRIFTS[drift]
    check_id = sorted(check_ids, key=list(CHECK_IDS).index)[0]
    role_change, role_checks, _ = DRIFTS["max session 3600"]
    change(aws)
    role_change(aws)
    checks = run(unmanaged(outputs), aws)
    assert failing(checks) == check_ids | role_checks
    fix = checks[check_id].fix
    assert fix.startswith(DIRECT_FIXES[drift]) and fix.endswith(UNMANAGED), fix
    assert "pulumi" not in fix
    # The role is the stack's own: `pulumi up --refresh` restores it.
    assert checks["aws.role.max_session"].fix.startswith("run `pulumi up --refresh` for this stack to restore the kit's role")


def test_a_missing_existing_bucket_says_to_check_the_name_given_in_existing_bucket(aws, outputs):
    s3(aws).delete_bucket(Bucket=BUCKET)
    fix = run(unmanaged(outputs), aws)["aws.bucket.exists"].fix
    assert fix.startswith("check the name given in existingBucket") and f"--bucket {BUCKET}" in fix and fix.endswith(UNMANAGED)
    assert "pulumi" not in fix


def test_an_existing_buckets_missing_default_encryption_gets_the_put_bucket_encryption_line():
    class NoDefaultEncryption:
        def call(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
            return {"ServerSideEncryptionConfiguration": {"Rules": []}}

    reader: Any = NoDefaultEncryption()
    kits, _ = verify_aws.check_encryption(reader, REGION, BUCKET)
    existing, _ = verify_aws.check_encryption(reader, REGION, BUCKET, managed=False)
    assert kits.ok is existing.ok is False
    assert kits.fix == "run `pulumi up --refresh` for this stack to restore the kit's bucket encryption (plain `pulumi up` would change nothing)"
    assert existing.fix.startswith(f"aws s3api put-bucket-encryption --bucket {BUCKET} --server-side-encryption-configuration '")
    assert '"SSEAlgorithm":"AES256"' in existing.fix and existing.fix.endswith(UNMANAGED) and "pulumi" not in existing.fix


@pytest.mark.parametrize("drift", list(DIRECT_FIXES))
def test_a_stack_without_the_storage_managed_output_keeps_the_kits_fixes(aws, outputs, drift):
    # Stacks deployed before storage_managed existed made their own bucket: `pulumi up` restores it.
    change, check_ids, _ = DRIFTS[drift]
    check_id = sorted(check_ids, key=list(CHECK_IDS).index)[0]
    change(aws)
    assert outputs["storage_managed"] is True
    before = {name: value for name, value in outputs.items() if name != "storage_managed"}
    fix = run(before, aws)[check_id].fix
    assert fix == run(outputs, aws)[check_id].fix
    assert fix.startswith("run `pulumi up --refresh` for this stack to restore the kit's") and "existingBucket" not in fix


# --- SSE-KMS ---------------------------------------------------------------------------------


def test_sse_kms_bucket_with_the_kits_kms_grant_verifies_green(aws):
    key = create_kms_key(aws)
    checks = run(deploy_destination(aws, kms_key_arn=key), aws)
    assert failing(checks) | unknown_ids(checks) == set()
    assert key in checks["aws.bucket.encryption"].detail
    assert f"kms:GenerateDataKey and kms:Decrypt on {key}" in checks["aws.role.permissions"].detail
    assert "the key policy" in checks["aws.role.can_write"].detail


def test_sse_kms_bucket_without_the_kms_grant_cannot_write(aws):
    key = create_kms_key(aws)
    outputs = deploy_destination(aws, kms_key_arn=key)
    set_writer_policy(aws, aws_policy.writer_policy(BUCKET_ARN))
    checks = run(outputs, aws)
    assert failing(checks) == {"aws.role.can_write"}
    detail = checks["aws.role.can_write"].detail
    assert f"is not allowed kms:GenerateDataKey on {key}" in detail and f"is not allowed kms:Decrypt on {key}" in detail


def test_sse_kms_grant_on_another_key_fails_permissions_and_cannot_write(aws):
    key, other_key = create_kms_key(aws), create_kms_key(aws)
    outputs = deploy_destination(aws, kms_key_arn=key)
    set_writer_policy(aws, aws_policy.writer_policy(BUCKET_ARN, other_key))
    checks = run(outputs, aws)
    assert failing(checks) == {"aws.role.permissions", "aws.role.can_write"}
    assert f"allows kms:GenerateDataKey on {other_key}, beyond the bucket's key ({key})" in checks["aws.role.permissions"].detail
    assert f"is not allowed kms:Decrypt on {key}" in checks["aws.role.can_write"].detail


def test_kms_grant_on_an_sse_s3_bucket_is_more_than_tavus_needs(aws, outputs):
    set_writer_policy(aws, aws_policy.writer_policy(BUCKET_ARN, create_kms_key(aws)))
    checks = run(outputs, aws)
    assert failing(checks) == {"aws.role.permissions"}
    assert "beyond the bucket's key" in checks["aws.role.permissions"].detail


def test_a_bucket_key_given_as_an_alias_leaves_the_kms_grant_unknown(aws):
    key = create_kms_key(aws)
    outputs = deploy_destination(aws, kms_key_arn=key)
    s3(aws).put_bucket_encryption(
        Bucket=BUCKET,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "alias/recordings"},
                       "BlockedEncryptionTypes": {"EncryptionType": ["SSE-C"]}}]
        },
    )
    checks = run(outputs, aws)
    assert failing(checks) == set()
    assert unknown_ids(checks) == {"aws.role.permissions", "aws.role.can_write", "aws.kms.key"}
    assert "'alias/recordings'" in checks["aws.role.permissions"].detail


# --- who may run verify ----------------------------------------------------------------------


def reader_session(session: boto3.Session, policy: dict[str, Any]) -> boto3.Session:
    """A user in the customer's account holding exactly `policy`, signing with its own key."""
    client = iam(session)
    client.create_user(UserName="verifier")
    client.put_user_policy(UserName="verifier", PolicyName="verify", PolicyDocument=json.dumps(policy))
    key = client.create_access_key(UserName="verifier")["AccessKey"]
    return boto3.Session(aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"], region_name=REGION)


def reader_policy_for_moto(drop: str = "") -> dict[str, Any]:
    policy = reader_policy(ROLE_ARN, BUCKET)
    for statement in policy["Statement"]:
        statement["Action"] = [a for a in statement["Action"] if a != drop]
    policy["Statement"].append(MOTO_READER_ALIASES)
    return policy


def test_reader_policy_is_read_only_and_scoped_to_the_role_and_bucket():
    policy = reader_policy(ROLE_ARN, BUCKET)
    actions = [a for s in policy["Statement"] for a in s["Action"]]
    assert all(a.split(":")[1].startswith(("Get", "List", "Describe")) for a in actions)
    assert len(actions) == len(set(actions)) == 28
    resources = {s["Sid"]: s["Resource"] for s in policy["Statement"]}
    assert resources == {
        "ReadTavusWriterRole": ROLE_ARN,
        "ReadAttachedPolicies": "arn:aws:iam::*:policy/*",
        "ReadRecordingBucketSettings": BUCKET_ARN,
        "ReadAuditTrail": "arn:aws:cloudtrail:*:*:trail/*",
        "ReadReplicationDestinations": "arn:aws:s3:::*",
        "ReadRecordingKey": "arn:aws:kms:*:*:key/*",
        "ReadServiceControlPolicies": "*",
    }


def test_a_user_holding_the_reader_policy_gets_every_check(aws, outputs):
    session = reader_session(aws, reader_policy_for_moto())
    with enable_iam_authentication():
        checks = run(outputs, session)
    assert {check_id: check.ok for check_id, check in checks.items()} == {check_id: True for check_id in CHECK_IDS}


@pytest.mark.parametrize(
    "dropped, needing_it",
    [
        ("s3:GetBucketPolicy", {"aws.bucket.tls_only", "aws.bucket.access", "aws.role.can_write"}),
        ("s3:GetBucketVersioning", {"aws.bucket.versioning"}),
        ("s3:GetBucketLocation", {"aws.bucket.exists", "aws.bucket.region"}),
        ("iam:GetRole", {"aws.role.exists", "aws.role.trust", "aws.role.max_session", "aws.role.can_write"}),
        ("iam:ListAttachedRolePolicies", {"aws.role.permissions", "aws.role.least_privilege", "aws.role.can_write"}),
    ],
)
def test_a_denied_read_makes_only_the_checks_that_need_it_unknown(aws, outputs, dropped, needing_it):
    session = reader_session(aws, reader_policy_for_moto(drop=dropped))
    with enable_iam_authentication():
        checks = run(outputs, session)
    assert unknown_ids(checks) == needing_it
    assert failing(checks) == set()
    for check_id in needing_it:
        assert f"{dropped} denied: add it to your reader policy" in checks[check_id].detail
        assert dropped in checks[check_id].fix


def test_an_unreachable_endpoint_means_verify_cannot_run_within_seconds(outputs, monkeypatch):
    with closed_port() as port:
        monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{port}")
        started = time.monotonic()
        with pytest.raises(CannotVerify) as caught:
            run(outputs, boto3.Session())
        elapsed = time.monotonic() - started
    assert elapsed < 10
    message = str(caught.value)
    assert "cannot reach AWS" in message and "AWS_ENDPOINT_URL" in message and "\n" not in message


def test_no_credentials_means_verify_cannot_run(outputs, monkeypatch):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    with pytest.raises(CannotVerify, match="no AWS credentials found: configure AWS credentials"):
        run(outputs, boto3.Session())


def test_no_credentials_is_one_line_and_exit_2_at_the_command(outputs, monkeypatch, tmp_path: Path):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(outputs))
    result = CliRunner().invoke(app, ["verify", "--outputs", str(path)])
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and result.output.startswith("error: no AWS credentials found")


def test_a_missing_profile_means_verify_cannot_run(outputs, monkeypatch):
    monkeypatch.setenv("AWS_PROFILE", "no-such-profile")
    with pytest.raises(CannotVerify, match="no-such-profile"):
        run(outputs, None)


# --- pure: normalising and judging documents -------------------------------------------------


def test_iam_documents_load_from_dicts_json_and_url_encoded_json():
    document = aws_policy.trust_policy()
    encoded = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%5D%7D"
    assert load_policy_document(document) == document
    assert load_policy_document(json.dumps(document)) == document
    assert load_policy_document(encoded) == {"Version": "2012-10-17", "Statement": []}


@pytest.mark.parametrize(
    "principal, expected",
    [
        ("*", {"*"}),
        ({"AWS": "*"}, {"*"}),
        ({"AWS": "291871421005"}, {TAVUS_ROOT}),
        ({"AWS": [TAVUS_ROOT, "111122223333"]}, {TAVUS_ROOT, "arn:aws:iam::111122223333:root"}),
        ({"Service": "ec2.amazonaws.com"}, {"Service:ec2.amazonaws.com"}),
    ],
)
def test_principals_normalise(principal, expected):
    assert principals(principal) == expected


@pytest.mark.parametrize("secure_transport", ["false", False, ["false"]])
@pytest.mark.parametrize("principal", ["*", {"AWS": "*"}, {"AWS": ["*"]}])
@pytest.mark.parametrize("action", ["s3:*", ["*"]])
def test_tls_only_spellings_are_accepted(secure_transport, principal, action):
    statement = {
        "Effect": "Deny",
        "Principal": principal,
        "Action": action,
        "Resource": [BUCKET_ARN, f"{BUCKET_ARN}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": secure_transport}},
    }
    assert enforces_tls({"Statement": statement}, BUCKET_ARN)


@pytest.mark.parametrize(
    "change",
    [
        {"Resource": BUCKET_ARN},  # objects left out
        {"Principal": {"AWS": "111122223333"}},
        {"Action": "s3:GetObject"},
        {"Condition": {"Bool": {"aws:SecureTransport": "true"}}},
        {"Condition": {"Bool": {"aws:SecureTransport": "false"}, "IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}},
    ],
)
def test_a_weakened_tls_deny_is_not_accepted(change):
    statement = {**aws_policy.tls_only_bucket_policy(BUCKET_ARN)["Statement"][0], **change}
    assert not enforces_tls({"Statement": [statement]}, BUCKET_ARN)


@pytest.mark.parametrize(
    "constraint, region",
    [(None, "us-east-1"), ("", "us-east-1"), ("EU", "eu-west-1"), ("eu-central-1", "eu-central-1")],
)
def test_bucket_location_constraint_to_region(constraint, region):
    assert region_of(constraint) == region


def test_the_fake_prints_the_outputs_the_program_exports_and_talks_to_loopback_only(outputs):
    assert set(outputs) == {
        "bucket_name", "bucket_arn", "role_arn", "legacy_properties", "recording_storage", "conversation_properties",
        "recording_storage_json", "storage_managed", "retention_days", "cold_after_days", "immutable_days", "immutable_mode",
        "audit_logs",
    }
    assert outputs["bucket_arn"] == BUCKET_ARN and outputs["role_arn"] == ROLE_ARN
    assert outputs["conversation_properties"]["recording_storage"] == outputs["recording_storage"]
    assert os.environ["AWS_ENDPOINT_URL"].startswith("http://127.0.0.1:")

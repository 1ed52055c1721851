"""The rendered IAM documents, applied to an emulated AWS account with IAM enforcement on.

moto plays two accounts: the customer's (moto's default account, which owns the bucket and the
role) and Tavus's (291871421005, whose IAM user stands in for the recording service). Fixtures
build everything as the unchecked default caller, then switch moto's IAM enforcement on, so every
request the tests make is signature-checked and authorized against the caller's IAM policies.

What moto 5.2 cannot check, so these tests do not claim it:
- sts:ExternalId in the trust policy. moto evaluates a trust policy only when the role is in the
  caller's own account and the caller's ARN equals the Principal exactly; an account principal
  (`...:291871421005:root`) never matches, and a cross-account AssumeRole skips the trust check
  altogether. The trust document is checked statically instead.
- MaxSessionDuration: moto grants any DurationSeconds, whatever the role's cap.
- The TLS-only bucket policy: moto evaluates only StringEquals conditions and treats every other
  condition (here Bool aws:SecureTransport) as met, so the Deny turns unconditional and every
  object request gets 403, even over HTTPS. It is not applied here.
- KMS permissions: S3 never calls KMS as the caller, and moto authorizes KMS API calls against
  resource "*", so a grant scoped to the key ARN (ours) is refused even when it is correct.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterator, Optional

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID, disable_iam_authentication, enable_iam_authentication

from fakes.aws_destination import offline_aws_environment
from components.aws_policy import encryption_rule, trust_policy, writer_policy
from components.tavus import (
    DEFAULT_EXTERNAL_ID,
    KMS_WRITER_ACTIONS,
    MAX_SESSION_SECONDS,
    TAVUS_AWS_ACCOUNT_ID,
)

REGION = "us-east-1"
OWNER_ACCOUNT_ID = DEFAULT_ACCOUNT_ID
BUCKET = "acme-tavus-recordings"
# Shares the recordings bucket's name as a prefix: the grant must not leak to it.
OTHER_BUCKET = "acme-tavus-recordings-other"
BUCKET_ARN = f"arn:aws:s3:::{BUCKET}"
ROLE_NAME = "tavus-recording-writer"
ROLE_ARN = f"arn:aws:iam::{OWNER_ACCOUNT_ID}:role/{ROLE_NAME}"
SESSION_NAME = "tavus-recording"
# S3's minimum size for every part but the last.
PART_SIZE = 5 * 1024 * 1024


@dataclass(frozen=True)
class Caller:
    """Who signs the requests, sharing one boto3 session for speed."""

    session: boto3.Session
    credentials: dict[str, str]

    def client(self, service: str) -> Any:
        return self.session.client(service, region_name=REGION, **self.credentials)


@dataclass(frozen=True)
class Deployment:
    kms_key_arn: Optional[str]


# --- helpers ---------------------------------------------------------------------------------


def assert_access_denied(call: Callable[..., Any], **kwargs: Any) -> None:
    """The call fails with AccessDenied, not with any other error (missing key, bad credentials)."""
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    error = caught.value.response["Error"]
    # moto answers KMS (a JSON API) with an XML error body, which botocore reports as code "403".
    assert error["Code"] == "AccessDenied" or "<Code>AccessDenied</Code>" in error.get("Message", ""), error


def allow_statement(action: str, resource: str) -> dict[str, Any]:
    statement = {"Effect": "Allow", "Action": action, "Resource": resource}
    return {"Version": "2012-10-17", "Statement": [statement]}


def create_user(admin: Caller, name: str, policy: dict[str, Any]) -> Caller:
    """An IAM user with one inline policy, as a caller signing with its access key."""
    iam = admin.client("iam")
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="inline", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return Caller(
        admin.session,
        {"aws_access_key_id": key["AccessKeyId"], "aws_secret_access_key": key["SecretAccessKey"]},
    )


# --- fixtures --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shared_session() -> boto3.Session:
    # One session for every client: botocore then loads each service model once, not per test.
    return boto3.Session()


@pytest.fixture
def admin(shared_session: boto3.Session, monkeypatch: pytest.MonkeyPatch) -> Iterator[Caller]:
    """The customer's admin, inside moto with fake credentials: nothing can reach real AWS."""
    offline_aws_environment(monkeypatch, REGION)
    with mock_aws():
        # Unchecked until the `enforced` fixture turns enforcement on. Explicit fake keys, so no
        # profile or key on the machine is ever picked up.
        yield Caller(shared_session, {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"})


@pytest.fixture
def deployment(admin: Caller, request: pytest.FixtureRequest) -> Deployment:
    """The recording destination, built from the rendered documents. Param: "sse-s3" or "sse-kms"."""
    variant = getattr(request, "param", "sse-s3")
    s3, iam = admin.client("s3"), admin.client("iam")
    kms_key_arn = admin.client("kms").create_key()["KeyMetadata"]["Arn"] if variant == "sse-kms" else None

    for bucket in (BUCKET, OTHER_BUCKET):
        s3.create_bucket(Bucket=bucket)
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    rule = encryption_rule(kms_key_arn)
    by_default = rule["apply_server_side_encryption_by_default"]
    default = {"SSEAlgorithm": by_default["sse_algorithm"]}
    if "kms_master_key_id" in by_default:
        default["KMSMasterKeyID"] = by_default["kms_master_key_id"]
    bucket_key = rule.get("bucket_key_enabled", False)
    s3.put_bucket_encryption(
        Bucket=BUCKET,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": default, "BucketKeyEnabled": bucket_key}]
        },
    )
    # tls_only_bucket_policy is deliberately not applied: moto turns it into a blanket Deny (see top).
    # Something to (fail to) read in the other bucket, so a denial there is not a NoSuchKey.
    s3.put_object(Bucket=OTHER_BUCKET, Key="secret.txt", Body=b"not for tavus")

    iam.create_role(
        RoleName=ROLE_NAME,
        AssumeRolePolicyDocument=json.dumps(trust_policy(DEFAULT_EXTERNAL_ID)),
        MaxSessionDuration=MAX_SESSION_SECONDS,
    )
    iam.put_role_policy(
        RoleName=ROLE_NAME,
        PolicyName="tavus-recording-write",
        PolicyDocument=json.dumps(writer_policy(BUCKET_ARN, kms_key_arn)),
    )
    return Deployment(kms_key_arn)


@pytest.fixture
def tavus(admin: Caller, monkeypatch: pytest.MonkeyPatch) -> Caller:
    """Tavus's recording service: a user in Tavus's account allowed to assume our role."""
    with monkeypatch.context() as patch:
        # Route these setup calls to Tavus's account; requests signed later by this user's key
        # land there by themselves (moto maps access keys to accounts).
        patch.setenv("MOTO_ACCOUNT_ID", TAVUS_AWS_ACCOUNT_ID)
        return create_user(admin, "recorder", allow_statement("sts:AssumeRole", ROLE_ARN))


@pytest.fixture
def enforced(deployment: Deployment, tavus: Caller) -> Iterator[None]:
    """IAM enforcement on, after all setup.

    Same switch as `set_initial_no_auth_action_count(0)`: moto's no-auth allowance drops to zero,
    so from here every request must be signed by a known key and allowed by its IAM policies.
    """
    with enable_iam_authentication():
        yield


@pytest.fixture
def assumed(tavus: Caller, enforced: None) -> dict[str, Any]:
    """Tavus assumes the writer role the way its recording service does: ExternalId, 12 hours."""
    return tavus.client("sts").assume_role(
        RoleArn=ROLE_ARN,
        RoleSessionName=SESSION_NAME,
        ExternalId=DEFAULT_EXTERNAL_ID,
        DurationSeconds=MAX_SESSION_SECONDS,
    )


@pytest.fixture
def role(assumed: dict[str, Any], admin: Caller) -> Caller:
    credentials = assumed["Credentials"]
    return Caller(
        admin.session,
        {
            "aws_access_key_id": credentials["AccessKeyId"],
            "aws_secret_access_key": credentials["SecretAccessKey"],
            "aws_session_token": credentials["SessionToken"],
        },
    )


@pytest.fixture
def role_s3(role: Caller) -> Any:
    return role.client("s3")


# --- the deployed documents ------------------------------------------------------------------


def test_iam_accepts_the_rendered_documents_unchanged_with_a_12_hour_cap(admin, deployment):
    # moto runs IAM's policy grammar validator on create_role and put_role_policy.
    iam = admin.client("iam")
    stored = iam.get_role(RoleName=ROLE_NAME)["Role"]
    assert stored["AssumeRolePolicyDocument"] == trust_policy(DEFAULT_EXTERNAL_ID)
    assert stored["MaxSessionDuration"] == 12 * 3600
    inline = iam.get_role_policy(RoleName=ROLE_NAME, PolicyName="tavus-recording-write")
    assert inline["PolicyDocument"] == writer_policy(BUCKET_ARN)


def test_deployed_trust_admits_only_tavus_root_with_the_external_id(admin, deployment):
    # moto never evaluates this trust's ExternalId (see top), so the stored document is checked
    # statically: one Allow, the Tavus account root exactly, sts:AssumeRole exactly, and
    # StringEquals on sts:ExternalId as the only condition.
    stored = admin.client("iam").get_role(RoleName=ROLE_NAME)["Role"]["AssumeRolePolicyDocument"]
    (statement,) = stored["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Principal"] == {"AWS": "arn:aws:iam::291871421005:root"}
    assert statement["Action"] == "sts:AssumeRole"
    assert statement["Condition"] == {"StringEquals": {"sts:ExternalId": DEFAULT_EXTERNAL_ID}}
    assert not {"NotPrincipal", "NotAction", "Resource"} & statement.keys()


# --- assuming the role -----------------------------------------------------------------------


def test_tavus_assumes_the_role_with_external_id_for_a_12_hour_session(assumed, role):
    # moto would grant 12 hours on any role; the cap itself is checked on the stored role above.
    remaining = assumed["Credentials"]["Expiration"] - datetime.now(timezone.utc)
    assert timedelta(hours=11, minutes=59) < remaining <= timedelta(hours=12)
    expected = f"arn:aws:sts::{OWNER_ACCOUNT_ID}:assumed-role/{ROLE_NAME}/{SESSION_NAME}"
    assert assumed["AssumedRoleUser"]["Arn"] == expected
    # The temporary credentials are accepted by the enforcing emulator and act as the role.
    assert role.client("sts").get_caller_identity()["Arn"] == expected


def test_principal_in_the_bucket_account_is_refused_by_the_trust(admin, deployment, enforced):
    # The insider may call sts:AssumeRole on anything, so only the trust can stop it. The control
    # role trusts the insider by ARN: it proves the refusal comes from our trust document.
    insider_arn = f"arn:aws:iam::{OWNER_ACCOUNT_ID}:user/insider"
    control_trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": insider_arn}, "Action": "sts:AssumeRole"}],
    }
    with disable_iam_authentication():  # admin setup mid-test; enforcement resumes after the block
        insider = create_user(admin, "insider", allow_statement("sts:AssumeRole", "*"))
        control = admin.client("iam").create_role(
            RoleName="control", AssumeRolePolicyDocument=json.dumps(control_trust)
        )
    control_arn = control["Role"]["Arn"]
    insider_sts = insider.client("sts")

    assert insider_sts.assume_role(RoleArn=control_arn, RoleSessionName="control")["Credentials"]
    assert_access_denied(
        insider_sts.assume_role, RoleArn=ROLE_ARN, RoleSessionName="insider", ExternalId=DEFAULT_EXTERNAL_ID
    )


# --- what the role may do on the recordings bucket -------------------------------------------


def test_role_can_put_get_and_list_recordings(role_s3):
    version = role_s3.put_object(Bucket=BUCKET, Key="conv-1/recording.mp4", Body=b"frames")["VersionId"]

    assert role_s3.get_object(Bucket=BUCKET, Key="conv-1/recording.mp4")["Body"].read() == b"frames"
    by_version = role_s3.get_object(Bucket=BUCKET, Key="conv-1/recording.mp4", VersionId=version)
    assert by_version["Body"].read() == b"frames"
    listed = role_s3.list_objects_v2(Bucket=BUCKET, Prefix="conv-1/")
    assert [o["Key"] for o in listed["Contents"]] == ["conv-1/recording.mp4"]
    versions = role_s3.list_object_versions(Bucket=BUCKET)["Versions"]
    assert [(v["Key"], v["VersionId"]) for v in versions] == [("conv-1/recording.mp4", version)]


def test_role_can_run_a_multipart_upload_to_completion(role_s3):
    key = "conv-2/recording.mp4"
    upload_id = role_s3.create_multipart_upload(Bucket=BUCKET, Key=key)["UploadId"]
    chunks = [b"a" * PART_SIZE, b"tail"]
    etags = [
        role_s3.upload_part(Bucket=BUCKET, Key=key, UploadId=upload_id, PartNumber=n, Body=chunk)["ETag"]
        for n, chunk in enumerate(chunks, start=1)
    ]

    parts = role_s3.list_parts(Bucket=BUCKET, Key=key, UploadId=upload_id)["Parts"]
    assert [p["PartNumber"] for p in parts] == [1, 2]
    uploads = role_s3.list_multipart_uploads(Bucket=BUCKET)["Uploads"]
    assert [u["UploadId"] for u in uploads] == [upload_id]
    role_s3.complete_multipart_upload(
        Bucket=BUCKET,
        Key=key,
        UploadId=upload_id,
        MultipartUpload={"Parts": [{"PartNumber": n, "ETag": e} for n, e in enumerate(etags, start=1)]},
    )
    assert role_s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == b"".join(chunks)


def test_role_can_abort_a_multipart_upload(role_s3):
    upload_id = role_s3.create_multipart_upload(Bucket=BUCKET, Key="conv-3/recording.mp4")["UploadId"]
    role_s3.upload_part(
        Bucket=BUCKET, Key="conv-3/recording.mp4", UploadId=upload_id, PartNumber=1, Body=b"x"
    )

    role_s3.abort_multipart_upload(Bucket=BUCKET, Key="conv-3/recording.mp4", UploadId=upload_id)
    assert role_s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []


def test_overwriting_a_recording_keeps_the_previous_version_readable(role_s3):
    # The role can overwrite (PutObject) but, with versioning, never lose the earlier take.
    first = role_s3.put_object(Bucket=BUCKET, Key="conv-4/recording.mp4", Body=b"take 1")["VersionId"]
    role_s3.put_object(Bucket=BUCKET, Key="conv-4/recording.mp4", Body=b"take 2")

    assert role_s3.get_object(Bucket=BUCKET, Key="conv-4/recording.mp4")["Body"].read() == b"take 2"
    old = role_s3.get_object(Bucket=BUCKET, Key="conv-4/recording.mp4", VersionId=first)
    assert old["Body"].read() == b"take 1"


# --- what the role may not do ----------------------------------------------------------------


def test_role_cannot_delete_recordings_in_any_form(role_s3):
    version = role_s3.put_object(Bucket=BUCKET, Key="conv-5/recording.mp4", Body=b"keep")["VersionId"]

    assert_access_denied(role_s3.delete_object, Bucket=BUCKET, Key="conv-5/recording.mp4")
    assert_access_denied(role_s3.delete_object, Bucket=BUCKET, Key="conv-5/recording.mp4", VersionId=version)
    # Batch delete answers 200 with a per-key error, so check the body, then that nothing went.
    batch = role_s3.delete_objects(Bucket=BUCKET, Delete={"Objects": [{"Key": "conv-5/recording.mp4"}]})
    assert batch.get("Deleted", []) == []
    assert [e["Code"] for e in batch["Errors"]] == ["AccessDenied"]
    versions = role_s3.list_object_versions(Bucket=BUCKET)
    assert [v["VersionId"] for v in versions["Versions"]] == [version]
    assert versions.get("DeleteMarkers", []) == []


@pytest.mark.parametrize(
    "operation, kwargs",
    [
        ("put_object", {"Key": "conv-6/recording.mp4", "Body": b"x"}),
        ("get_object", {"Key": "secret.txt"}),
        ("list_objects_v2", {}),
        ("list_object_versions", {}),
        ("create_multipart_upload", {"Key": "conv-6/recording.mp4"}),
    ],
)
def test_role_is_denied_on_a_bucket_that_only_shares_the_name_prefix(role_s3, operation, kwargs):
    role_s3.put_object(Bucket=BUCKET, Key="control.txt", Body=b"x")  # the credentials do work
    assert_access_denied(getattr(role_s3, operation), Bucket=OTHER_BUCKET, **kwargs)


def test_role_cannot_copy_a_recording_out_to_another_bucket(role_s3):
    role_s3.put_object(Bucket=BUCKET, Key="conv-7/recording.mp4", Body=b"x")
    assert_access_denied(
        role_s3.copy_object,
        Bucket=OTHER_BUCKET,
        Key="exfiltrated.mp4",
        CopySource={"Bucket": BUCKET, "Key": "conv-7/recording.mp4"},
    )


@pytest.mark.parametrize(
    "operation, kwargs",
    [
        ("put_bucket_policy", {"Policy": json.dumps(allow_statement("s3:*", "*"))}),
        ("delete_bucket", {}),
        ("put_bucket_versioning", {"VersioningConfiguration": {"Status": "Suspended"}}),
        ("delete_bucket_encryption", {}),
        ("delete_bucket_lifecycle", {}),
        ("put_bucket_acl", {"ACL": "public-read"}),
    ],
)
def test_role_cannot_change_the_bucket_configuration(role_s3, operation, kwargs):
    assert_access_denied(getattr(role_s3, operation), Bucket=BUCKET, **kwargs)


def test_role_cannot_make_a_recording_public(role_s3):
    role_s3.put_object(Bucket=BUCKET, Key="conv-8/recording.mp4", Body=b"x")
    assert_access_denied(role_s3.put_object_acl, Bucket=BUCKET, Key="conv-8/recording.mp4", ACL="public-read")


def test_role_cannot_list_the_accounts_buckets(role_s3):
    assert_access_denied(role_s3.list_buckets)


def test_role_cannot_widen_its_own_permissions(role):
    iam = role.client("iam")
    assert_access_denied(
        iam.put_role_policy,
        RoleName=ROLE_NAME,
        PolicyName="escalate",
        PolicyDocument=json.dumps(allow_statement("*", "*")),
    )
    assert_access_denied(
        iam.attach_role_policy, RoleName=ROLE_NAME, PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess"
    )


# --- SSE-KMS ---------------------------------------------------------------------------------


@pytest.mark.parametrize("deployment", ["sse-kms"], indirect=True)
def test_role_writes_recordings_encrypted_with_the_customer_key(deployment, admin, role_s3):
    # What moto can check: the KMS variant of the writer policy passes IAM's validator, and the
    # role's uploads land under the bucket's default SSE-KMS key with the bucket key on. It cannot
    # check that kms:GenerateDataKey/kms:Decrypt are needed or sufficient (see top).
    with disable_iam_authentication():
        stored = admin.client("iam").get_role_policy(RoleName=ROLE_NAME, PolicyName="tavus-recording-write")
    kms_statement = stored["PolicyDocument"]["Statement"][1]
    assert kms_statement["Action"] == list(KMS_WRITER_ACTIONS)
    assert kms_statement["Resource"] == deployment.kms_key_arn

    role_s3.put_object(Bucket=BUCKET, Key="conv-9/recording.mp4", Body=b"frames")
    head = role_s3.head_object(Bucket=BUCKET, Key="conv-9/recording.mp4")
    assert head["ServerSideEncryption"] == "aws:kms"
    assert head["SSEKMSKeyId"] == deployment.kms_key_arn
    assert head["BucketKeyEnabled"] is True


@pytest.mark.parametrize("deployment", ["sse-kms"], indirect=True)
@pytest.mark.parametrize(
    "operation, kwargs",
    [
        ("schedule_key_deletion", {"PendingWindowInDays": 7}),
        ("disable_key", {}),
        ("put_key_policy", {"PolicyName": "default", "Policy": json.dumps(allow_statement("kms:*", "*"))}),
    ],
)
def test_role_cannot_administer_the_customer_key(deployment, role, operation, kwargs):
    # moto checks KMS calls against resource "*", so this catches a widening to "*" resources
    # (or kms:* on "*"), not a widening of actions scoped to the key ARN.
    assert_access_denied(getattr(role.client("kms"), operation), KeyId=deployment.kms_key_arn, **kwargs)


def test_s3_takes_the_kits_lifecycle_rules_with_retention_as_written(admin, deployment):
    # Days and ExpiredObjectDeleteMarker in one Expiration is refused by S3: the kit's rules keep them apart.
    from fakes.aws_destination import lifecycle_configuration

    s3 = admin.client("s3")
    s3.put_bucket_lifecycle_configuration(Bucket=BUCKET, LifecycleConfiguration=lifecycle_configuration(30, 365))
    rules = {rule["ID"]: rule for rule in s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]}
    assert rules["expire-recordings"]["Expiration"] == {"Days": 365}
    assert rules["remove-expired-delete-markers"]["Expiration"] == {"ExpiredObjectDeleteMarker": True}

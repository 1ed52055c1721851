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
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import boto3
import pytest
from fakes.aws_destination import BUCKET, INLINE_POLICY_NAME, REGION, ROLE_NAME, MotoEndpoint, deploy_destination, running_moto
from fakes.loopback import closed_port
from moto.core import DEFAULT_ACCOUNT_ID, enable_iam_authentication
from typer.testing import CliRunner

from components import aws_policy, tavus
from tavus_recording.cli import app
from tavus_recording.verify import aws as verify_aws
from tavus_recording.verify.aws import (
    CHECK_IDS,
    KmsUnknown,
    PolicySource,
    enforces_tls,
    judge_permissions,
    judge_trust,
    reader_policy,
    region_of,
)
from tavus_recording.rules.iam import load_policy_document, principals
from tavus_recording.verify.report import Check

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


DRIFTS: dict[str, tuple[Callable[[boto3.Session], Any], str, list[str]]] = {
    # name: (the change, the check that must fail, what its detail must mention)
    "max session 3600": (
        lambda session: iam(session).update_role(RoleName=ROLE_NAME, MaxSessionDuration=3600),
        "aws.role.max_session",
        ["3600", "unable to assume role with given parameters"],
    ),
    "no ExternalId condition": (
        lambda session: set_trust(session, trust_with(Condition=None)),
        "aws.role.trust",
        ["does not require sts:ExternalId"],
    ),
    "another ExternalId": (
        lambda session: set_trust(session, aws_policy.trust_policy("someone-else")),
        "aws.role.trust",
        ["'someone-else'", "external_id 'tavus'"],
    ),
    "principal *": (
        lambda session: set_trust(session, trust_with(Principal="*")),
        "aws.role.trust",
        ["allows any principal (*)"],
    ),
    "another account as principal": (
        lambda session: set_trust(session, trust_with(Principal={"AWS": ["111122223333"]})),
        "aws.role.trust",
        ["arn:aws:iam::111122223333:root", "no statement allows Tavus's account"],
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
        "aws.role.trust",
        ["statement 'Ec2' allows Service:ec2.amazonaws.com"],
    ),
    "TagSession added": (
        lambda session: set_trust(session, trust_with(Action=["sts:AssumeRole", "sts:TagSession"])),
        "aws.role.trust",
        ["sts:TagSession"],
    ),
    "delete granted": (
        lambda session: set_writer_policy(
            session, allow([*tavus.S3_WRITER_ACTIONS, "s3:DeleteObject"], [BUCKET_ARN, f"{BUCKET_ARN}/*"])
        ),
        "aws.role.permissions",
        [f"inline policy {INLINE_POLICY_NAME}", f"grants s3:DeleteObject on {BUCKET_ARN}/*"],
    ),
    "bucket-name wildcard resource": (
        lambda session: set_writer_policy(session, allow(list(tavus.S3_WRITER_ACTIONS), [f"{BUCKET_ARN}*"])),
        "aws.role.permissions",
        [f"grants s3:PutObject on {BUCKET_ARN}*, beyond bucket {BUCKET_ARN}"],
    ),
    "a missing multipart action": (
        lambda session: set_writer_policy(
            session,
            allow([a for a in tavus.S3_WRITER_ACTIONS if a != "s3:ListMultipartUploadParts"], [BUCKET_ARN, f"{BUCKET_ARN}/*"]),
        ),
        "aws.role.permissions",
        [f"no policy grants s3:ListMultipartUploadParts on {BUCKET_ARN}/*"],
    ),
    "attached policy granting delete": (
        lambda session: attach(session, "recordings-cleanup", allow(["s3:DeleteObject"], f"{BUCKET_ARN}/*")),
        "aws.role.permissions",
        [f"attached policy arn:aws:iam::{DEFAULT_ACCOUNT_ID}:policy/recordings-cleanup", "grants s3:DeleteObject"],
    ),
    "attached S3 full access": (
        lambda session: attach(session, "AmazonS3FullAccessCopy", allow(["s3:*", "s3-object-lambda:*"], "*")),
        "aws.role.permissions",
        ["AmazonS3FullAccessCopy", "grants the wildcard action s3:* on *", "s3-object-lambda:*"],
    ),
    "versioning suspended": (_suspend_versioning, "aws.bucket.versioning", ["Suspended", "Daily"]),
    "a public access block flag off": (
        _one_public_access_flag_off,
        "aws.bucket.public_access_block",
        ["RestrictPublicBuckets off"],
    ),
    "public access block removed": (
        lambda session: s3(session).delete_public_access_block(Bucket=BUCKET),
        "aws.bucket.public_access_block",
        ["no public access block"],
    ),
    "object writer ownership": (
        lambda session: s3(session).put_bucket_ownership_controls(
            Bucket=BUCKET, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]}
        ),
        "aws.bucket.ownership",
        ["ObjectWriter"],
    ),
    "TLS policy removed": (
        lambda session: s3(session).delete_bucket_policy(Bucket=BUCKET),
        "aws.bucket.tls_only",
        ["no policy", "plain HTTP"],
    ),
    "TLS deny turned into allow-anything": (
        lambda session: s3(session).put_bucket_policy(
            Bucket=BUCKET,
            Policy=json.dumps(
                {"Version": "2012-10-17", "Statement": [{**aws_policy.tls_only_bucket_policy(BUCKET_ARN)["Statement"][0], "Effect": "Allow"}]}
            ),
        ),
        "aws.bucket.tls_only",
        ["1 statements", "aws:SecureTransport is false"],
    ),
}


@pytest.mark.parametrize("drift", list(DRIFTS))
def test_each_drift_fails_only_its_own_check(aws, outputs, drift):
    change, check_id, mentions = DRIFTS[drift]
    change(aws)
    checks = run(outputs, aws)
    assert failing(checks) == {check_id}
    assert unknown_ids(checks) == set()
    check = checks[check_id]
    for mention in mentions:
        assert mention in check.detail, check.detail
    assert "pulumi up" in check.fix


def test_a_missing_role_fails_exists_and_skips_what_needs_it(aws, outputs):
    iam(aws).delete_role_policy(RoleName=ROLE_NAME, PolicyName=INLINE_POLICY_NAME)
    iam(aws).delete_role(RoleName=ROLE_NAME)
    checks = run(outputs, aws)
    assert failing(checks) == {"aws.role.exists"}
    assert f"role {ROLE_NAME} does not exist" in checks["aws.role.exists"].detail
    assert unknown_ids(checks) == {"aws.role.trust", "aws.role.max_session", "aws.role.permissions"}
    assert all("does not exist" in checks[i].detail for i in unknown_ids(checks))
    assert all(checks[i].ok for i in CHECK_IDS if i.startswith("aws.bucket") or i == "aws.caller.account")


def test_a_missing_bucket_fails_exists_and_skips_the_bucket_settings(aws, outputs):
    client = s3(aws)
    client.delete_bucket(Bucket=BUCKET)
    checks = run(outputs, aws)
    assert failing(checks) == {"aws.bucket.exists"}
    assert f"bucket {BUCKET} does not exist" in checks["aws.bucket.exists"].detail
    skipped_bucket = {"aws.bucket.region", "aws.bucket.versioning", "aws.bucket.public_access_block",
                      "aws.bucket.ownership", "aws.bucket.encryption", "aws.bucket.tls_only"}
    # The role's S3 grants are still judged; whether it needs a KMS grant depends on the bucket.
    assert unknown_ids(checks) == skipped_bucket | {"aws.role.permissions"}
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
    for check_id in ("aws.role.exists", "aws.role.trust", "aws.role.max_session", "aws.role.permissions"):
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


def test_every_bucket_drift_has_its_direct_fix():
    assert set(DIRECT_FIXES) == {name for name, (_, check_id, _) in DRIFTS.items() if check_id.startswith("aws.bucket.")}


@pytest.mark.parametrize("drift", list(DIRECT_FIXES))
def test_an_existing_buckets_drift_gets_only_the_direct_fix_while_the_roles_keeps_pulumi_up(aws, outputs, drift):
    change, check_id, _ = DRIFTS[drift]
    role_change, role_check, _ = DRIFTS["max session 3600"]
    change(aws)
    role_change(aws)
    checks = run(unmanaged(outputs), aws)
    assert failing(checks) == {check_id, role_check}
    fix = checks[check_id].fix
    assert fix.startswith(DIRECT_FIXES[drift]) and fix.endswith(UNMANAGED), fix
    assert "pulumi" not in fix
    # The role is the stack's own: `pulumi up` restores it.
    assert checks[role_check].fix.startswith("run `pulumi up` for this stack to restore the kit's role")


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
    assert kits.fix == "run `pulumi up` for this stack to restore the kit's bucket encryption"
    assert existing.fix.startswith(f"aws s3api put-bucket-encryption --bucket {BUCKET} --server-side-encryption-configuration '")
    assert '"SSEAlgorithm":"AES256"' in existing.fix and existing.fix.endswith(UNMANAGED) and "pulumi" not in existing.fix


@pytest.mark.parametrize("drift", list(DIRECT_FIXES))
def test_a_stack_without_the_storage_managed_output_keeps_the_kits_fixes(aws, outputs, drift):
    # Stacks deployed before storage_managed existed made their own bucket: `pulumi up` restores it.
    change, check_id, _ = DRIFTS[drift]
    change(aws)
    assert outputs["storage_managed"] is True
    before = {name: value for name, value in outputs.items() if name != "storage_managed"}
    fix = run(before, aws)[check_id].fix
    assert fix == run(outputs, aws)[check_id].fix
    assert fix.startswith("run `pulumi up` for this stack to restore the kit's") and "existingBucket" not in fix


# --- SSE-KMS ---------------------------------------------------------------------------------


def test_sse_kms_bucket_with_the_kits_kms_grant_verifies_green(aws):
    key = create_kms_key(aws)
    checks = run(deploy_destination(aws, kms_key_arn=key), aws)
    assert failing(checks) | unknown_ids(checks) == set()
    assert key in checks["aws.bucket.encryption"].detail
    assert f"kms:GenerateDataKey and kms:Decrypt on {key}" in checks["aws.role.permissions"].detail


def test_sse_kms_bucket_without_the_kms_grant_fails_permissions(aws):
    key = create_kms_key(aws)
    outputs = deploy_destination(aws, kms_key_arn=key)
    set_writer_policy(aws, aws_policy.writer_policy(BUCKET_ARN))
    checks = run(outputs, aws)
    assert failing(checks) == {"aws.role.permissions"}
    detail = checks["aws.role.permissions"].detail
    assert f"no policy grants kms:GenerateDataKey on {key}" in detail
    assert f"no policy grants kms:Decrypt on {key}" in detail
    assert "recordings fail to land" in detail


def test_sse_kms_grant_on_another_key_fails_permissions(aws):
    key, other_key = create_kms_key(aws), create_kms_key(aws)
    outputs = deploy_destination(aws, kms_key_arn=key)
    set_writer_policy(aws, aws_policy.writer_policy(BUCKET_ARN, other_key))
    checks = run(outputs, aws)
    assert failing(checks) == {"aws.role.permissions"}
    detail = checks["aws.role.permissions"].detail
    assert f"grants kms:Decrypt on {other_key}; the bucket's key is {key}" in detail
    assert f"no policy grants kms:Decrypt on {key}" in detail


def test_kms_grant_on_an_sse_s3_bucket_is_more_than_tavus_needs(aws, outputs):
    set_writer_policy(aws, aws_policy.writer_policy(BUCKET_ARN, create_kms_key(aws)))
    checks = run(outputs, aws)
    assert failing(checks) == {"aws.role.permissions"}
    assert "not encrypted with a customer KMS key" in checks["aws.role.permissions"].detail


def test_a_bucket_key_given_as_an_alias_leaves_the_kms_grant_unknown(aws):
    key = create_kms_key(aws)
    outputs = deploy_destination(aws, kms_key_arn=key)
    s3(aws).put_bucket_encryption(
        Bucket=BUCKET,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "alias/recordings"}}]
        },
    )
    checks = run(outputs, aws)
    assert failing(checks) == set() and unknown_ids(checks) == {"aws.role.permissions"}
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
    assert all(a.split(":")[1].startswith(("Get", "List")) for a in actions)
    assert len(actions) == len(set(actions)) == 12
    resources = {s["Sid"]: s["Resource"] for s in policy["Statement"]}
    assert resources == {
        "ReadTavusWriterRole": ROLE_ARN,
        "ReadAttachedPolicies": "arn:aws:iam::*:policy/*",
        "ReadRecordingBucketSettings": BUCKET_ARN,
    }


def test_a_user_holding_the_reader_policy_gets_every_check(aws, outputs):
    session = reader_session(aws, reader_policy_for_moto())
    with enable_iam_authentication():
        checks = run(outputs, session)
    assert {check_id: check.ok for check_id, check in checks.items()} == {check_id: True for check_id in CHECK_IDS}


@pytest.mark.parametrize(
    "dropped, needing_it",
    [
        ("s3:GetBucketPolicy", {"aws.bucket.tls_only"}),
        ("s3:GetBucketVersioning", {"aws.bucket.versioning"}),
        ("s3:GetBucketLocation", {"aws.bucket.exists", "aws.bucket.region"}),
        ("iam:GetRole", {"aws.role.exists", "aws.role.trust", "aws.role.max_session"}),
        ("iam:ListAttachedRolePolicies", {"aws.role.permissions"}),
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


def test_an_unreachable_endpoint_makes_every_check_unknown_within_seconds(outputs, monkeypatch):
    with closed_port() as port:
        monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{port}")
        started = time.monotonic()
        checks = run(outputs, boto3.Session())
        elapsed = time.monotonic() - started
    assert elapsed < 10
    assert unknown_ids(checks) == set(CHECK_IDS)
    # The first read waits for the endpoint; the rest name their own action without waiting again.
    assert "s3:GetBucketLocation not answered: Could not connect to the endpoint URL" in checks["aws.bucket.exists"].detail
    assert checks["aws.caller.account"].detail.startswith("sts:GetCallerIdentity not attempted: http://127.0.0.1:")
    assert all("AWS_ENDPOINT_URL" in check.fix for check in checks.values())


def test_no_credentials_make_every_check_unknown_without_raising(outputs, monkeypatch):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    checks = run(outputs, boto3.Session())
    assert unknown_ids(checks) == set(CHECK_IDS)
    assert "Unable to locate credentials" in checks["aws.caller.account"].detail
    assert "aws configure" in checks["aws.caller.account"].fix


def test_a_missing_profile_makes_every_check_unknown_without_raising(outputs, monkeypatch):
    monkeypatch.setenv("AWS_PROFILE", "no-such-profile")
    checks = run(outputs, None)
    assert unknown_ids(checks) == set(CHECK_IDS)
    assert "no-such-profile" in checks["aws.role.exists"].detail


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


@pytest.mark.parametrize(
    "statement",
    [
        # Strings or lists, a bare account id, and the condition key's case are all the same to IAM.
        {"Effect": "Allow", "Principal": {"AWS": "291871421005"}, "Action": ["sts:AssumeRole"],
         "Condition": {"StringEquals": {"sts:externalid": ["tavus"]}}},
        {"Effect": "Allow", "Principal": {"AWS": [TAVUS_ROOT]}, "Action": "sts:assumerole",
         "Condition": {"StringEquals": {"sts:ExternalId": "tavus"}}},
    ],
)
def test_equivalent_trust_spellings_are_accepted(statement):
    assert judge_trust({"Statement": statement}, "tavus") == []
    assert judge_trust({"Statement": [statement]}, "tavus") == []


@pytest.mark.parametrize(
    "change, problem",
    [
        ({"Condition": {"StringEquals": {"sts:ExternalId": ["tavus", "other"]}}}, "'tavus' or 'other'"),
        ({"Condition": {"StringLike": {"sts:ExternalId": "*"}}}, "does not require sts:ExternalId"),
        ({"NotPrincipal": {"AWS": "111122223333"}}, "uses NotPrincipal"),
        ({"Effect": "Deny"}, "is a Deny statement"),
        ({"Action": "sts:*"}, "allows sts:*"),
    ],
)
def test_trust_problems_are_named(change, problem):
    statement = {**aws_policy.trust_policy()["Statement"][0], **change}
    problems = judge_trust({"Statement": [statement]}, "tavus")
    assert any(problem in p for p in problems), problems


def test_the_kits_writer_policy_is_exactly_what_tavus_needs():
    verdict = judge_permissions([PolicySource("inline policy w", aws_policy.writer_policy(BUCKET_ARN))], BUCKET_ARN, None)
    assert (verdict.ok, verdict.problems) == (True, [])


@pytest.mark.parametrize(
    "statement, problem",
    [
        ({"Effect": "Allow", "NotAction": "s3:DeleteObject", "Resource": "*"}, "allows with NotAction"),
        ({"Effect": "Allow", "Action": "s3:Put*", "Resource": f"{BUCKET_ARN}/*"}, "wildcard action s3:Put*"),
        ({"Effect": "Allow", "Action": "*", "Resource": "*"}, "wildcard action * on *"),
        ({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::other-bucket/*"}, "beyond bucket"),
        ({"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"}, "grants iam:PassRole on *"),
        ({"Effect": "Allow", "Action": "kms:Encrypt", "Resource": "*"}, "grants kms:Encrypt on *"),
    ],
)
def test_grants_beyond_the_writer_actions_are_named(statement, problem):
    policies = [
        PolicySource("inline policy w", aws_policy.writer_policy(BUCKET_ARN)),
        PolicySource("attached policy x", {"Statement": [statement]}),
    ]
    verdict = judge_permissions(policies, BUCKET_ARN, None)
    assert verdict.ok is False
    assert any(p.startswith("attached policy x") and problem in p for p in verdict.problems), verdict.problems


def test_deny_statements_narrow_and_are_noted_not_judged():
    deny = {"Statement": [{"Effect": "Deny", "Action": "s3:*", "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}
    verdict = judge_permissions(
        [PolicySource("inline policy w", aws_policy.writer_policy(BUCKET_ARN)), PolicySource("inline policy d", deny)],
        BUCKET_ARN,
        None,
    )
    assert verdict.ok is True
    assert verdict.notes == ["Deny statements in inline policy d are not evaluated for coverage"]


def test_an_unknown_kms_key_leaves_only_kms_grants_unjudged():
    key = "arn:aws:kms:us-east-1:123456789012:key/1234"
    policy = PolicySource("inline policy w", aws_policy.writer_policy(BUCKET_ARN, key))
    verdict = judge_permissions([policy], BUCKET_ARN, KmsUnknown("encryption unreadable"))
    assert verdict.ok is None and "encryption unreadable" in (verdict.unknown or "")
    # An S3 problem is still a failure, whatever the key.
    extra = PolicySource("inline policy x", allow(["s3:DeleteBucket"], BUCKET_ARN))
    assert judge_permissions([policy, extra], BUCKET_ARN, KmsUnknown("encryption unreadable")).ok is False


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
        "recording_storage_json", "storage_managed",
    }
    assert outputs["bucket_arn"] == BUCKET_ARN and outputs["role_arn"] == ROLE_ARN
    assert outputs["conversation_properties"]["recording_storage"] == outputs["recording_storage"]
    assert os.environ["AWS_ENDPOINT_URL"].startswith("http://127.0.0.1:")

"""`verify` for an S3 stack whose Tavus access is revoked, against a moto server with real boto3 calls: the kit's
revoked stack (no role) passes, and every way back in a hurried admin could leave (the role left behind, a role
re-created by hand in any spelling of Tavus's account, a bucket-policy grant) fails `aws.access.revoked`; what
cannot be read is unknown, never ok."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
import test_verify_aws as base  # its fixtures and helpers (its tests are not collected here)
from fakes.aws_destination import BUCKET, INLINE_POLICY_NAME, ROLE_NAME, DenyingReader, deploy_destination
from moto.core import DEFAULT_ACCOUNT_ID, enable_iam_authentication
from typer.testing import CliRunner

from components import aws_policy, tavus
from tavus_recording.cli import app
from tavus_recording.verify import aws as verify_aws
from tavus_recording.verify.aws_revoked import ACCESS_REVOKED, REVOKED_CHECK_IDS, revoked_reader_policy

moto, shared_session, aws = base.moto, base.shared_session, base.aws
iam, s3, failing, unknown_ids = base.iam, base.s3, base.failing, base.unknown_ids
BUCKET_ARN = f"arn:aws:s3:::{BUCKET}"
TAVUS_ID = tavus.TAVUS_AWS_ACCOUNT_ID
# What `pulumi up` with tavusAccess: revoked leaves out of the outputs (__main__.py).
GONE = ("recording_storage", "conversation_properties", "recording_storage_json", "legacy_properties", "role_arn")


def revoke(outputs: dict[str, Any]) -> dict[str, Any]:
    return {**{k: v for k, v in outputs.items() if k not in GONE}, "tavus_access": "revoked"}


def delete_role(session: boto3.Session, name: str = ROLE_NAME) -> None:
    """What `pulumi up` with tavusAccess: revoked does: the role policy, then the role."""
    iam(session).delete_role_policy(RoleName=name, PolicyName=INLINE_POLICY_NAME)
    iam(session).delete_role(RoleName=name)


@pytest.fixture
def revoked(aws: boto3.Session) -> dict[str, Any]:
    outputs = revoke(deploy_destination(aws, retention_days=365))
    delete_role(aws)
    return outputs


def run(outputs: dict[str, Any], session: boto3.Session | None) -> dict[str, Any]:
    from tavus_recording.verify.outputs import recording_storage

    storage = recording_storage(outputs, "test")
    assert isinstance(storage, tavus.S3RecordingStorageConfig)
    checks = verify_aws.verify(storage, outputs, session)
    assert [check.id for check in checks] == list(REVOKED_CHECK_IDS)
    return {check.id: check for check in checks}


def role_with(session: boto3.Session, name: str, principal: Any, actions: Any = "s3:PutObject", resource: Any = f"{BUCKET_ARN}/*",
              **trust_changes: Any) -> None:
    statement = {**aws_policy.trust_policy()["Statement"][0], "Principal": principal, **trust_changes}
    iam(session).create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [statement]}))
    if actions:
        iam(session).put_role_policy(RoleName=name, PolicyName="write", PolicyDocument=json.dumps(base.allow(actions if isinstance(actions, list)
                                                                                                              else [actions], resource)))


def test_the_revoked_stack_passes_every_check(aws, revoked):
    checks = run(revoked, aws)
    assert {k: c.ok for k, c in checks.items()} == {k: True for k in REVOKED_CHECK_IDS}
    assert f"trusts Tavus's account {TAVUS_ID} and can read, list, write or delete the objects of bucket {BUCKET}" in checks[ACCESS_REVOKED].detail


def test_the_role_left_behind_fails(aws):
    outputs = revoke(deploy_destination(aws, retention_days=365))
    checks = run(outputs, aws)
    assert failing(checks) == {ACCESS_REVOKED}
    assert f"role arn:aws:iam::{DEFAULT_ACCOUNT_ID}:role/{ROLE_NAME} trusts Tavus's account {TAVUS_ID} and can write" in checks[ACCESS_REVOKED].detail
    assert f"aws iam delete-role --role-name {ROLE_NAME}" in checks[ACCESS_REVOKED].fix


@pytest.mark.parametrize("principal", [
    {"AWS": TAVUS_ID},
    {"AWS": f"arn:aws:iam::{TAVUS_ID}:root"},
    {"AWS": [f"arn:aws:iam::{TAVUS_ID}:root", "111122223333"]},
    {"AWS": [TAVUS_ID]},
    {"AWS": f"arn:aws:iam::{TAVUS_ID}:role/recorder"},
    {"AWS": "*"},
])
def test_a_role_recreated_by_hand_in_any_spelling_fails(aws, revoked, principal):
    role_with(aws, "hand-made", principal)
    check = run(revoked, aws)[ACCESS_REVOKED]
    assert check.ok is False and "role/hand-made trusts Tavus's account" in check.detail


@pytest.mark.parametrize("actions, resource", [
    (["s3:PutObject"], f"{BUCKET_ARN}/calls/*"),  # some objects are enough: Tavus picks its keys
    (["s3:*"], "*"),
    (["s3:Put*"], [BUCKET_ARN, f"{BUCKET_ARN}/*"]),
])
def test_any_grant_that_reaches_the_objects_fails(aws, revoked, actions, resource):
    role_with(aws, "hand-made", {"AWS": TAVUS_ID}, actions, resource)
    assert run(revoked, aws)[ACCESS_REVOKED].ok is False


def test_an_attached_managed_policy_counts(aws, revoked):
    role_with(aws, "hand-made", {"AWS": TAVUS_ID}, actions=None)
    arn = iam(aws).create_policy(PolicyName="writer", PolicyDocument=json.dumps(base.allow(["s3:PutObject"], f"{BUCKET_ARN}/*")))["Policy"]["Arn"]
    iam(aws).attach_role_policy(RoleName="hand-made", PolicyArn=arn)
    assert run(revoked, aws)[ACCESS_REVOKED].ok is False


@pytest.mark.parametrize("actions, resource", [
    ([a for a in tavus.S3_WRITER_ACTIONS if a != "s3:PutObject"], [BUCKET_ARN, f"{BUCKET_ARN}/*"]),  # "revoked" by deleting one line
    (["s3:GetObject"], f"{BUCKET_ARN}/*"),
    (["s3:ListBucket"], BUCKET_ARN),
    (["s3:DeleteObject", "s3:DeleteObjectVersion"], f"{BUCKET_ARN}/*"),
    (["s3:PutBucketPolicy"], BUCKET_ARN),
    (["iam:PutRolePolicy"], f"arn:aws:iam::{DEFAULT_ACCOUNT_ID}:role/hand-made"),
])
def test_a_role_that_can_read_delete_or_reopen_fails(aws, revoked, actions, resource):
    role_with(aws, "hand-made", {"AWS": TAVUS_ID}, actions, resource)
    check = run(revoked, aws)[ACCESS_REVOKED]
    assert check.ok is False and "role/hand-made trusts Tavus's account" in check.detail, check


def test_a_role_that_can_assume_another_is_unknown_naming_it(aws, revoked):
    role_with(aws, "hand-made", {"AWS": TAVUS_ID}, ["sts:AssumeRole"], f"arn:aws:iam::{DEFAULT_ACCOUNT_ID}:role/writer")
    check = run(revoked, aws)[ACCESS_REVOKED]
    assert check.ok is None and f"sts:AssumeRole on arn:aws:iam::{DEFAULT_ACCOUNT_ID}:role/writer" in check.detail


@pytest.mark.parametrize("case", ["no S3 grant", "another bucket", "a full Deny", "another account's role", "a boundary without it"])
def test_safe_look_alikes_pass(aws, revoked, case):
    if case == "no S3 grant":
        role_with(aws, "hand-made", {"AWS": TAVUS_ID}, ["s3:GetBucketLocation", "ec2:DescribeInstances"], "*")
    elif case == "another bucket":
        role_with(aws, "hand-made", {"AWS": TAVUS_ID}, resource="arn:aws:s3:::other-bucket/*")
    elif case == "a full Deny":
        role_with(aws, "hand-made", {"AWS": TAVUS_ID})
        deny = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "s3:*", "Resource": "*"}]}
        iam(aws).put_role_policy(RoleName="hand-made", PolicyName="deny", PolicyDocument=json.dumps(deny))
    elif case == "another account's role":
        role_with(aws, "partner", {"AWS": "arn:aws:iam::111122223333:root"}, ExternalId=None, Condition={})
    else:
        role_with(aws, "hand-made", {"AWS": TAVUS_ID})
        boundary = iam(aws).create_policy(PolicyName="read-only", PolicyDocument=json.dumps(base.allow(["s3:Get*"], "*")))["Policy"]["Arn"]
        iam(aws).put_role_permissions_boundary(RoleName="hand-made", PermissionsBoundary=boundary)
    check = run(revoked, aws)[ACCESS_REVOKED]
    assert check.ok is True, check


def test_a_conditional_grant_is_unknown_never_ok(aws, revoked):
    role_with(aws, "hand-made", {"AWS": TAVUS_ID}, actions=None)
    statement = {"Effect": "Allow", "Action": "s3:PutObject", "Resource": f"{BUCKET_ARN}/*", "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}
    iam(aws).put_role_policy(RoleName="hand-made", PolicyName="w", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [statement]}))
    check = run(revoked, aws)[ACCESS_REVOKED]
    assert check.ok is None and "only under conditions" in check.detail


@pytest.mark.parametrize("principal", [{"AWS": TAVUS_ID}, {"AWS": f"arn:aws:iam::{TAVUS_ID}:root"}, {"AWS": [f"arn:aws:iam::{TAVUS_ID}:role/x"]}])
def test_a_bucket_policy_grant_to_tavus_fails(aws, revoked, principal):
    base.put_bucket_policy(aws, {"Sid": "Tavus", "Effect": "Allow", "Principal": principal, "Action": "s3:PutObject", "Resource": f"{BUCKET_ARN}/*"})
    check = run(revoked, aws)[ACCESS_REVOKED]
    assert check.ok is False and "the bucket policy statement 'Tavus' grants Tavus's account" in check.detail


def test_a_bucket_policy_pinned_to_your_account_passes(aws, revoked):
    base.put_bucket_policy(aws, {"Sid": "Own", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"{BUCKET_ARN}/*",
                                 "Condition": {"StringEquals": {"aws:PrincipalAccount": DEFAULT_ACCOUNT_ID}}})
    assert run(revoked, aws)[ACCESS_REVOKED].ok is True


@pytest.mark.parametrize("operation", ["list_roles", "list_role_policies", "get_role", "get_bucket_policy"])
def test_a_denied_read_is_unknown_never_ok(aws, revoked, monkeypatch, operation):
    role_with(aws, "hand-made", {"AWS": TAVUS_ID}, ["s3:GetBucketLocation"], BUCKET_ARN)  # a role to read, which cannot reach
    monkeypatch.setattr(verify_aws, "Reader", lambda session: DenyingReader(session, operation))
    import tavus_recording.verify.aws_revoked as revoked_module
    monkeypatch.setattr(revoked_module, "Reader", lambda session: DenyingReader(session, operation))
    check = run(revoked, aws)[ACCESS_REVOKED]
    assert check.ok is None and f"{verify_aws.ACTIONS[operation]} denied" in check.detail


def test_listing_roles_denied_by_iam_is_unknown(aws, revoked):
    policy = base.reader_policy_for_moto()
    policy["Statement"].append({"Sid": "RevokedReads", "Effect": "Allow", "Action": ["iam:GetRole", "iam:ListRolePolicies"], "Resource": "*"})
    session = base.reader_session(aws, policy)
    with enable_iam_authentication():
        check = run(revoked, session)[ACCESS_REVOKED]
    assert check.ok is None and "iam:ListRoles denied" in check.detail


def test_the_cli_verifies_a_revoked_stack_instead_of_stopping(aws, revoked, tmp_path: Path):
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(revoked))
    result = CliRunner().invoke(app, ["verify", "--outputs", str(path), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["provider"] == "s3" and [c["id"] for c in report["checks"]] == list(REVOKED_CHECK_IDS)


@pytest.mark.parametrize("change", [{"bucket_name": None}, {"bucket_arn": "arn:aws:s3:::other"}])
def test_revoked_outputs_that_name_no_bucket_stop_verify_in_one_line(aws, revoked, tmp_path: Path, change):
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps({**revoked, **change}))
    result = CliRunner().invoke(app, ["verify", "--outputs", str(path)])
    assert result.exit_code == 2 and "tavus_access: revoked" in result.output and "bucket_name" in result.output


def test_a_user_holding_the_revoked_reader_policy_gets_every_check(aws, revoked):
    role_with(aws, "hand-made", {"AWS": TAVUS_ID}, ["s3:GetBucketLocation"], BUCKET_ARN)  # a role it must read, which cannot reach
    policy = revoked_reader_policy(DEFAULT_ACCOUNT_ID, BUCKET)
    policy["Statement"].append(base.MOTO_READER_ALIASES)
    session = base.reader_session(aws, policy)
    with enable_iam_authentication():
        checks = run(revoked, session)
    assert {k: c.ok for k, c in checks.items()} == {k: True for k in REVOKED_CHECK_IDS}
    assert "1 role(s) still trust Tavus's account but none can reach the bucket or assume another role" in checks[ACCESS_REVOKED].detail
    actions = [a for s in policy["Statement"] for a in s["Action"]]
    assert all(a.split(":")[1].startswith(("Get", "List", "Describe")) for a in actions)

"""`verify`'s `aws.bucket.encryption` on who picks an upload's key: the writer does, per request, so the bucket's
encryption rule must block SSE-C (a key the writer brings; only its holder could read the recording). Against the
moto server of test_verify_aws.py, with the kit's own encryption rule. moto keeps but does not answer
BlockedEncryptionTypes, nor refuse an SSE-C upload; tests/fakes/aws_destination.py makes it answer it as S3 does,
and no test here relies on the upload itself being refused."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from fakes.aws_destination import BUCKET, deploy_destination
import test_verify_aws as base  # its fixtures and helpers (its tests are not collected here)

from tavus_recording.rules import aws as rules
from tavus_recording.verify import aws as verify_aws

moto, shared_session, aws, outputs = base.moto, base.shared_session, base.aws, base.outputs
run, s3, unmanaged = base.run, base.s3, base.unmanaged
CHECK = verify_aws.BUCKET_ENCRYPTION
PULUMI_UP = "run `pulumi up --refresh` for this stack"


def put_rule(session: boto3.Session, blocked: Any = None, **default: str) -> None:
    rule: dict[str, Any] = {"ApplyServerSideEncryptionByDefault": default or {"SSEAlgorithm": "AES256"}}
    if blocked is not None:
        rule["BlockedEncryptionTypes"] = {"EncryptionType": blocked}
    s3(session).put_bucket_encryption(Bucket=BUCKET, ServerSideEncryptionConfiguration={"Rules": [rule]})


def only_failing(checks: dict[str, Any]) -> set[str]:
    return {check_id for check_id, check in checks.items() if check.ok is not True}


def test_the_kits_bucket_blocks_sse_c_and_says_so(aws: boto3.Session, outputs: dict[str, Any]):
    answer = s3(aws).get_bucket_encryption(Bucket=BUCKET)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert answer["BlockedEncryptionTypes"] == {"EncryptionType": ["SSE-C"]}
    check = run(outputs, aws)[CHECK]
    assert check.ok is True and "SSE-C" in check.detail and "blocked" in check.detail


@pytest.mark.parametrize("blocked", [None, [], ["NONE"], ["SSE-C", "NONE"]], ids=repr)
def test_a_bucket_that_accepts_sse_c_uploads_fails_alone(aws: boto3.Session, outputs: dict[str, Any], blocked: Any):
    put_rule(aws, blocked)
    checks = run(outputs, aws)
    assert only_failing(checks) == {CHECK}
    assert "a key the writer brings (SSE-C" in checks[CHECK].detail
    assert PULUMI_UP in checks[CHECK].fix and "put-bucket-encryption" in checks[CHECK].fix


def test_the_direct_fix_keeps_the_buckets_own_key_and_adds_the_block(aws: boto3.Session):
    key = aws.client("kms", region_name="us-east-1").create_key()["KeyMetadata"]["Arn"]
    deployed = deploy_destination(aws, kms_key_arn=key)
    put_rule(aws, None, SSEAlgorithm="aws:kms", KMSMasterKeyID=key)
    check = run(unmanaged(deployed), aws)[CHECK]
    assert check.ok is False and "pulumi" not in check.fix
    command = check.fix.split("'")[1]
    rule = json.loads(command)["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key}
    assert rule["BlockedEncryptionTypes"] == {"EncryptionType": ["SSE-C"]}
    # The fix, applied, passes.
    s3(aws).put_bucket_encryption(Bucket=BUCKET, ServerSideEncryptionConfiguration=json.loads(command))
    assert run(unmanaged(deployed), aws)[CHECK].ok is True


def test_no_encryption_configuration_at_all_fails_for_sse_c_not_for_the_default():
    class NotFound:
        def call(self, *args: Any, **kwargs: Any) -> Any:
            from tavus_recording.verify.aws_reads import Unread

            return Unread("not found", code="ServerSideEncryptionConfigurationNotFoundError")

    check, kms = verify_aws.check_encryption(NotFound(), "us-east-1", BUCKET)  # type: ignore[arg-type]
    assert check.ok is False and kms is None
    assert "SSE-C; blocked types: none" in check.detail


@pytest.mark.parametrize("rule_list,blocked", [
    ([{"blockedEncryptionTypes": ["SSE-C"]}], True),
    ([{"BlockedEncryptionTypes": {"EncryptionType": ["SSE-C"]}}], True),
    ([{"BlockedEncryptionTypes": {"EncryptionType": "SSE-C"}}], True),  # one value, as XML gives it
    ([{"blockedEncryptionTypes": {"encryptionType": ["SSE-C"]}}], True),  # aws-native's camelCase
    ([{"blockedEncryptionTypes": "SSE-C"}], True),
    ([{}, {"blockedEncryptionTypes": ["SSE-C"]}], True),
    ([], False),
    ([{}], False),
    ([{"blockedEncryptionTypes": []}], False),
    ([{"blockedEncryptionTypes": ["NONE"]}], False),
    ([{"blockedEncryptionTypes": ["SSE-C", "NONE"]}], False),
    ([{"blockedEncryptionTypes": ["sse-c"]}], False),  # S3's enum is exact
    ([{"blockedEncryptionTypes": ["SSE-KMS"]}], False),
    ([{"blockedEncryptionTypes": None}], False),
    (["SSE-C"], False),
])
def test_what_counts_as_blocking_sse_c(rule_list: list[Any], blocked: bool):
    assert rules.blocks_sse_c(rule_list) is blocked
    assert (rules.sse_c_findings(rule_list) == []) is blocked

"""The kit's Object Lock configuration and audit trail documents, applied to an emulated AWS account (moto).

The bucket is made as the kit makes it: without ObjectLockEnabledForBucket (the kit never sets the bucket's
ForceNew `object_lock_enabled`), versioning first, then the lock configuration, as `BucketObjectLockConfiguration` does.

What moto 5.2 cannot show, so these tests do not claim it: lifecycle runs (expiry vs lock), a lock change on a bucket
that holds objects (moto refuses it; S3 allows it), CloudTrail log delivery and CreateTrail's bucket-policy check.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any, Iterator

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from moto import mock_aws

from fakes.aws_destination import offline_aws_environment
from moto.core import DEFAULT_ACCOUNT_ID

from components import aws_policy

REGION = "us-east-1"
BUCKET = "acme-tavus-recordings"
LOG_BUCKET = "acme-tavus-recordings-audit-logs"
KEY = "conversations/c123/recording.mp4"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[boto3.Session]:
    """moto with fake credentials: nothing can reach real AWS."""
    offline_aws_environment(monkeypatch, REGION)
    with mock_aws():
        yield boto3.Session(region_name=REGION)


def lock_configuration(days: int, mode: str) -> dict[str, Any]:
    """The kit's `BucketObjectLockConfiguration` arguments, as PutObjectLockConfiguration takes them."""
    retention = aws_policy.object_lock_rule(days, mode)["default_retention"]
    return {"ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": retention["mode"], "Days": retention["days"]}}}  # type: ignore[typeddict-item]


def kit_bucket(s3: Any, days: int, mode: str) -> None:
    """A bucket made as the kit makes it, locked as the kit locks it."""
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object_lock_configuration(Bucket=BUCKET, ObjectLockConfiguration=lock_configuration(days, mode))


def error_code(call: Any, **kwargs: Any) -> str:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    return caught.value.response["Error"]["Code"]


@pytest.mark.parametrize("mode, s3_mode", [("governance", "GOVERNANCE"), ("compliance", "COMPLIANCE")])
def test_a_bucket_made_without_object_lock_takes_the_kits_default_retention(aws, mode, s3_mode):
    s3 = aws.client("s3")
    kit_bucket(s3, 30, mode)
    configuration = s3.get_object_lock_configuration(Bucket=BUCKET)["ObjectLockConfiguration"]
    retention = configuration["Rule"]["DefaultRetention"]
    # moto also answers "Years": 0, which real S3 leaves out (Days or Years, never both).
    assert (configuration["ObjectLockEnabled"], retention["Mode"], retention["Days"]) == ("Enabled", s3_mode, 30)
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=b"video")
    head = s3.head_object(Bucket=BUCKET, Key=KEY)
    assert head["ObjectLockMode"] == s3_mode
    expected = datetime.now(timezone.utc) + timedelta(days=30)
    assert abs(head["ObjectLockRetainUntilDate"] - expected) < timedelta(minutes=5)


def test_object_lock_before_versioning_is_refused_which_is_why_the_kit_orders_them(aws):
    s3 = aws.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    assert error_code(s3.put_object_lock_configuration, Bucket=BUCKET,
                      ObjectLockConfiguration=lock_configuration(30, "governance")) == "InvalidBucketState"


def test_an_upload_without_checksum_or_md5_is_refused_and_a_default_client_succeeds(aws):
    kit_bucket(aws.client("s3"), 30, "governance")
    # An SDK that sends a checksum only when an operation requires one (botocore before 1.36, and many others).
    bare = aws.client("s3", config=Config(request_checksum_calculation="when_required"))
    # moto's code; real S3 answers InvalidRequest, "Content-MD5 HTTP header is required for Put Object requests with
    # Object Lock parameters" (kopia/kopia#711): the risk the plan and README name for Tavus's writer.
    assert error_code(bare.put_object, Bucket=BUCKET, Key=KEY, Body=b"video") == "MissingUploadObjectWithObjectLockHeaders"
    assert bare.list_object_versions(Bucket=BUCKET).get("Versions") is None
    # botocore's default (when_supported) sends a CRC checksum header with every PutObject.
    aws.client("s3").put_object(Bucket=BUCKET, Key=KEY, Body=b"video")
    assert len(bare.list_object_versions(Bucket=BUCKET)["Versions"]) == 1


def test_in_compliance_a_locked_version_cannot_be_deleted_even_with_the_governance_bypass(aws):
    s3 = aws.client("s3")
    kit_bucket(s3, 30, "compliance")
    version = s3.put_object(Bucket=BUCKET, Key=KEY, Body=b"video")["VersionId"]
    assert error_code(s3.delete_object, Bucket=BUCKET, Key=KEY, VersionId=version) == "AccessDenied"
    assert error_code(s3.delete_object, Bucket=BUCKET, Key=KEY, VersionId=version,
                      BypassGovernanceRetention=True) == "AccessDenied"
    assert s3.get_object(Bucket=BUCKET, Key=KEY, VersionId=version)["Body"].read() == b"video"


def test_in_governance_only_the_bypass_deletes_a_locked_version(aws):
    s3 = aws.client("s3")
    kit_bucket(s3, 30, "governance")
    version = s3.put_object(Bucket=BUCKET, Key=KEY, Body=b"video")["VersionId"]
    assert error_code(s3.delete_object, Bucket=BUCKET, Key=KEY, VersionId=version) == "AccessDenied"
    s3.delete_object(Bucket=BUCKET, Key=KEY, VersionId=version, BypassGovernanceRetention=True)
    assert "Versions" not in s3.list_object_versions(Bucket=BUCKET)


def test_a_plain_delete_only_adds_a_delete_marker_and_the_locked_version_stays(aws):
    # What lifecycle expiry does too: a delete marker, not WORM-protected; the version under it stays locked.
    s3 = aws.client("s3")
    kit_bucket(s3, 30, "compliance")
    version = s3.put_object(Bucket=BUCKET, Key=KEY, Body=b"video")["VersionId"]
    s3.delete_object(Bucket=BUCKET, Key=KEY)
    listed = s3.list_object_versions(Bucket=BUCKET)
    assert [v["VersionId"] for v in listed["Versions"]] == [version] and len(listed["DeleteMarkers"]) == 1


# --- the audit trail


def api_selectors(selectors: list[Any]) -> list[dict[str, Any]]:
    """The kit's advanced event selectors (pulumi's shape) as PutEventSelectors takes them."""
    operators = {"equals": "Equals", "starts_withs": "StartsWith"}
    return [{"FieldSelectors": [{"Field": f["field"], **{operators[k]: v for k, v in f.items() if k != "field"}}
                                for f in s["field_selectors"]]} for s in selectors]


def test_s3_and_cloudtrail_take_the_kits_log_bucket_policy_trail_name_and_selectors(aws):
    s3, cloudtrail = aws.client("s3"), aws.client("cloudtrail")
    s3.create_bucket(Bucket=BUCKET)
    s3.create_bucket(Bucket=LOG_BUCKET)
    name = aws_policy.audit_trail_name(BUCKET)
    trail_arn = aws_policy.audit_trail_arn("aws", REGION, DEFAULT_ACCOUNT_ID, name)
    policy = aws_policy.audit_log_bucket_policy(f"arn:aws:s3:::{LOG_BUCKET}", trail_arn, DEFAULT_ACCOUNT_ID)
    s3.put_bucket_policy(Bucket=LOG_BUCKET, Policy=json.dumps(policy))
    assert json.loads(s3.get_bucket_policy(Bucket=LOG_BUCKET)["Policy"]) == policy

    created = cloudtrail.create_trail(Name=name, S3BucketName=LOG_BUCKET, IsMultiRegionTrail=False,
                                      IncludeGlobalServiceEvents=False, EnableLogFileValidation=True)
    # The ARN the policy named before the trail existed is the one CloudTrail gives it.
    assert created["TrailARN"] == trail_arn
    selectors = api_selectors(aws_policy.audit_event_selectors(f"arn:aws:s3:::{BUCKET}"))  # type: ignore[arg-type]
    cloudtrail.put_event_selectors(TrailName=name, AdvancedEventSelectors=selectors)
    cloudtrail.start_logging(Name=name)
    assert cloudtrail.get_event_selectors(TrailName=name)["AdvancedEventSelectors"] == selectors
    assert cloudtrail.get_trail_status(Name=name)["IsLogging"] is True
    trail = cloudtrail.get_trail(Name=name)["Trail"]
    assert (trail["LogFileValidationEnabled"], trail["IsMultiRegionTrail"], trail["IncludeGlobalServiceEvents"]) == (True, False, False)

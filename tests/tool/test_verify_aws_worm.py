"""`verify` for S3 WORM retention and audit logs (issue 19), against a moto server with real boto3 calls: the kit's
Object Lock and trail verify green, and each drift fails `aws.bucket.object_lock` or `aws.bucket.audit_trail` alone,
saying what it found. moto authorizes the CloudTrail reads against "*", not the trail's ARN, so the reader test
adds them on "*" too.

moto refuses PutObjectLockConfiguration once a bucket holds objects (S3 allows it), so every drift here is
made on the kit's bucket before anything is written to it. moto authorizes GetObjectLockConfiguration as
s3:ListBucket, so the denied read is shown with a reader that answers AccessDenied for it (so are the CloudTrail
reads). moto's PutEventSelectors with basic selectors keeps the advanced ones (CloudTrail replaces them), so basic
selectors are tested on a trail that never had advanced ones.
"""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from fakes.aws_destination import BUCKET, REGION, DenyingReader, advanced_selectors, create_bucket, deploy_audit_trail, deploy_destination
from moto.core import DEFAULT_ACCOUNT_ID, enable_iam_authentication
import test_verify_aws as base  # its fixtures and helpers (its tests are not collected here)

from components import aws_policy
from tavus_recording.verify import aws as verify_aws
from tavus_recording.verify.aws_reads import Reader, Unread

POLICY = "aws.bucket.object_lock"
moto, shared_session, aws, outputs = base.moto, base.shared_session, base.aws, base.outputs
run, failing, unknown_ids, s3 = base.run, base.failing, base.unknown_ids, base.s3


def put_lock(session: boto3.Session, bucket: str = BUCKET, **retention: Any) -> None:
    configuration: dict[str, Any] = {"ObjectLockEnabled": "Enabled"}
    if retention:
        configuration["Rule"] = {"DefaultRetention": retention}
    s3(session).put_object_lock_configuration(Bucket=bucket, ObjectLockConfiguration=configuration)


@pytest.mark.parametrize("days, mode, shown", [(30, None, "GOVERNANCE"), (30, "governance", "GOVERNANCE"), (400, "compliance", "COMPLIANCE")])
def test_the_kits_lock_verifies_green_in_both_modes(aws, days, mode, shown):
    checks = run(deploy_destination(aws, retention_days=400, immutable_days=days, immutable_mode=mode), aws)
    assert failing(checks) == set() and unknown_ids(checks) == set()
    assert f"locked for {days} days in {shown} mode" in checks[POLICY].detail


def test_a_stack_without_immutable_days_reads_nothing_and_passes(aws, outputs):
    assert "immutable_days" in outputs and outputs["immutable_days"] is None
    checks = run(outputs, aws)
    assert checks[POLICY].ok is True and "sets no immutableDays" in checks[POLICY].detail
    # Stacks deployed before the output existed: the same.
    older = {k: v for k, v in outputs.items() if k not in ("immutable_days", "immutable_mode")}
    assert run(older, aws)[POLICY].ok is True


DRIFTS = {
    "shorter": (dict(Mode="GOVERNANCE", Days=7), "locks recordings for 7 days, fewer than 30 days: they can be deleted sooner"),
    "rule removed": ({}, "has Object Lock on but no default retention"),
}


@pytest.mark.parametrize("retention", [dict(Mode="GOVERNANCE", Days=31), dict(Mode="GOVERNANCE", Years=1), dict(Mode="COMPLIANCE", Days=30)])
def test_a_longer_or_stronger_lock_passes(aws, retention):
    outputs = deploy_destination(aws, retention_days=365, immutable_days=30)
    put_lock(aws, **retention)
    assert run(outputs, aws)[POLICY].ok is True


def test_a_period_in_years_shorter_than_the_stacks_days_fails(aws):
    outputs = deploy_destination(aws, retention_days=800, immutable_days=400)
    put_lock(aws, Mode="GOVERNANCE", Years=1)
    check = run(outputs, aws)[POLICY]
    assert check.ok is False and "locks recordings for 1 year(s), fewer than 400 days" in check.detail


@pytest.mark.parametrize("name", DRIFTS)
def test_each_drift_of_the_lock_fails_only_its_check(aws, name):
    outputs = deploy_destination(aws, retention_days=365, immutable_days=30)
    retention, problem = DRIFTS[name]
    put_lock(aws, **retention)
    checks = run(outputs, aws)
    assert failing(checks) == {POLICY} and unknown_ids(checks) == set()
    assert problem in checks[POLICY].detail and checks[POLICY].detail.startswith("the bucket ")
    assert "pulumi up --refresh" in checks[POLICY].fix
    assert f"aws s3api put-object-lock-configuration --bucket {BUCKET}" in checks[POLICY].fix and '"Days":30' in checks[POLICY].fix


def test_governance_where_the_stack_asks_compliance_fails(aws):
    outputs = deploy_destination(aws, retention_days=365, immutable_days=30, immutable_mode="compliance")
    # moto, unlike S3, lets a compliance default be rewritten on an empty bucket: the drift an admin makes.
    put_lock(aws, Mode="GOVERNANCE", Days=30)
    check = run(outputs, aws)[POLICY]
    assert check.ok is False and "BypassGovernanceRetention" in check.detail and '"Mode":"COMPLIANCE"' in check.fix


def test_a_bucket_whose_lock_was_never_turned_on_fails_as_off_not_unknown(aws):
    outputs = {**deploy_destination(aws, retention_days=365), "immutable_days": 30, "immutable_mode": "governance"}
    check = run(outputs, aws)[POLICY]
    assert check.ok is False and "has Object Lock off" in check.detail


def test_another_buckets_lock_does_not_count(aws):
    outputs = {**deploy_destination(aws, retention_days=365), "immutable_days": 30, "immutable_mode": "governance"}
    create_bucket(s3(aws), "acme-other", "us-east-1")
    s3(aws).put_bucket_versioning(Bucket="acme-other", VersioningConfiguration={"Status": "Enabled"})
    put_lock(aws, bucket="acme-other", Mode="GOVERNANCE", Days=30)
    assert run(outputs, aws)[POLICY].ok is False


def test_an_existing_buckets_lock_gets_only_the_direct_fix(aws):
    outputs = {**deploy_destination(aws, retention_days=365), "immutable_days": 30, "immutable_mode": "governance",
               "storage_managed": False}
    check = run(outputs, aws)[POLICY]
    assert check.ok is False and "pulumi up" not in check.fix and "put-object-lock-configuration" in check.fix


@pytest.mark.parametrize("days, mode", [("30", "governance"), (True, None), (0, None), (30, "Legal-hold"), (30, 1)])
def test_outputs_that_are_not_the_kits_leave_it_unknown(aws, days, mode):
    outputs = {**deploy_destination(aws, retention_days=365, immutable_days=30), "immutable_days": days, "immutable_mode": mode}
    check = run(outputs, aws)[POLICY]
    assert check.ok is None and "not checked: the output immutable_" in check.detail


def test_a_denied_read_of_the_lock_is_unknown_never_ok(aws, monkeypatch):
    outputs = deploy_destination(aws, retention_days=365, immutable_days=30)
    monkeypatch.setattr(verify_aws, "Reader", lambda session: DenyingReader(session, "get_object_lock_configuration"))
    checks = run(outputs, aws)
    assert unknown_ids(checks) == {POLICY} and failing(checks) == set()
    assert "s3:GetBucketObjectLockConfiguration denied" in checks[POLICY].detail


# --- aws.bucket.audit_trail

AUDIT = "aws.bucket.audit_trail"
BUCKET_ARN = f"arn:aws:s3:::{BUCKET}"
TRAIL_NAME = aws_policy.audit_trail_name(BUCKET)


def cloudtrail(session: boto3.Session) -> Any:
    return session.client("cloudtrail", region_name=REGION)


def kit_fields(**changed: Any) -> list[dict[str, Any]]:
    """The kit's selector in the API's shape, with field selectors replaced (by field name) or added."""
    fields = [f for f in advanced_selectors(BUCKET_ARN)[0]["FieldSelectors"] if f["Field"] not in changed]
    return [{"FieldSelectors": fields + [{"Field": k.replace("_", "."), **v} for k, v in changed.items()]}]


def test_the_kits_trail_verifies_green(aws):
    outputs = deploy_destination(aws, retention_days=365, immutable_days=30, audit_logs=True)
    checks = run(outputs, aws)
    assert failing(checks) == set() and unknown_ids(checks) == set()
    assert f"trail {TRAIL_NAME} logs every read and write of {BUCKET_ARN}/*" in checks[AUDIT].detail


def test_a_stack_without_audit_logs_reads_no_trail(aws, outputs):
    assert outputs["audit_logs"] is False and run(outputs, aws)[AUDIT].ok is True
    older = {k: v for k, v in outputs.items() if k != "audit_logs"}
    assert "sets no auditLogs" in run(older, aws)[AUDIT].detail


def _selectors(selectors: list[dict[str, Any]]) -> Any:
    return lambda session: cloudtrail(session).put_event_selectors(TrailName=TRAIL_NAME, AdvancedEventSelectors=selectors)


AUDIT_DRIFTS = {
    "logging stopped": (lambda session: cloudtrail(session).stop_logging(Name=TRAIL_NAME), "is not logging (stopped)"),
    "validation off": (lambda session: cloudtrail(session).update_trail(Name=TRAIL_NAME, EnableLogFileValidation=False),
                       "log file validation off"),
    "trail deleted": (lambda session: cloudtrail(session).delete_trail(Name=TRAIL_NAME), "does not exist"),
    "another bucket": (_selectors(kit_fields(resources_ARN={"StartsWith": ["arn:aws:s3:::other/"]})), "does not reach every object"),
    "a prefix": (_selectors(kit_fields(resources_ARN={"StartsWith": [f"{BUCKET_ARN}/calls/"]})), "does not reach every object"),
    "reads only": (_selectors(kit_fields(readOnly={"Equals": ["true"]})), "does not log the writes of every recording"),
    "writes only": (_selectors(kit_fields(readOnly={"Equals": ["false"]})), "does not log the reads of every recording"),
    "management events only": (_selectors([{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]}]),
                               "does not select data events"),
    "log bucket public access block off": (
        lambda session: s3(session).delete_public_access_block(Bucket=f"{BUCKET}-audit-logs"),
        f"log bucket {BUCKET}-audit-logs has BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy, RestrictPublicBuckets off"),
    "log bucket shared with another account": (
        lambda session: s3(session).put_bucket_policy(Bucket=f"{BUCKET}-audit-logs", Policy=json.dumps({"Version": "2012-10-17", "Statement": [
            {"Sid": "Partner", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::222233334444:root"}, "Action": "s3:GetObject",
             "Resource": f"arn:aws:s3:::{BUCKET}-audit-logs/*"}]})),
        "log bucket policy statement 'Partner' lets another account (222233334444) reach the audit logs"),
    "logs delivered elsewhere": (lambda session: (create_bucket(s3(session), "acme-elsewhere", REGION),
                                                  cloudtrail(session).update_trail(Name=TRAIL_NAME, S3BucketName="acme-elsewhere")),
                                 f"delivers its logs to 'acme-elsewhere', not the stack's log bucket {BUCKET}-audit-logs"),
}


@pytest.mark.parametrize("name", AUDIT_DRIFTS)
def test_each_drift_of_the_trail_fails_only_its_check(aws, name):
    outputs = deploy_destination(aws, retention_days=365, audit_logs=True)
    drift, problem = AUDIT_DRIFTS[name]
    drift(aws)
    checks = run(outputs, aws)
    assert failing(checks) == {AUDIT} and unknown_ids(checks) == set()
    assert problem in checks[AUDIT].detail
    assert "pulumi up --refresh" in checks[AUDIT].fix
    if name == "logging stopped":
        assert f"aws cloudtrail start-logging --name {outputs['audit_trail_arn']}" in checks[AUDIT].fix


BASIC = {"ReadWriteType": "All", "IncludeManagementEvents": False, "DataResources": [{"Type": "AWS::S3::Object", "Values": [f"{BUCKET_ARN}/"]}]}


@pytest.mark.parametrize("selectors, ok", [
    ([BASIC], True),
    ([{**BASIC, "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3"]}]}], True),
    ([{**BASIC, "ReadWriteType": "ReadOnly"}, {**BASIC, "ReadWriteType": "WriteOnly"}], True),
    ([{**BASIC, "ReadWriteType": "WriteOnly"}], False),
    ([{**BASIC, "DataResources": [{"Type": "AWS::S3::Object", "Values": [f"{BUCKET_ARN}/calls/"]}]}], False),
    ([{**BASIC, "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::other/"]}]}], False),
    ([{**BASIC, "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::"]}]}], True),
    # Every bucket of another partition is not this one (redteam19b #8).
    ([{**BASIC, "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws-us-gov:s3"]}]}], False),
    ([{**BASIC, "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws-cn:s3:::"]}]}], False),
])
def test_basic_event_selectors_are_judged_alike(aws, selectors, ok):
    outputs = deploy_destination(aws, retention_days=365)
    outputs |= deploy_audit_trail(aws, BUCKET, REGION, DEFAULT_ACCOUNT_ID, basic=selectors) | {"audit_logs": True}
    assert run(outputs, aws)[AUDIT].ok is ok


@pytest.mark.parametrize("operation, action", [("get_trail", "cloudtrail:GetTrail"), ("get_event_selectors", "cloudtrail:GetEventSelectors"),
                                               ("get_trail_status", "cloudtrail:GetTrailStatus")])
def test_a_denied_read_of_the_trail_is_unknown_never_ok(aws, monkeypatch, operation, action):
    outputs = deploy_destination(aws, retention_days=365, audit_logs=True)
    monkeypatch.setattr(verify_aws, "Reader", lambda session: DenyingReader(session, operation))
    checks = run(outputs, aws)
    assert unknown_ids(checks) == {AUDIT} and failing(checks) == set()
    assert f"{action} denied" in checks[AUDIT].detail


@pytest.mark.parametrize("change", [{"audit_trail_arn": None}, {"audit_trail_arn": "acme-audit"}, {"audit_logs": "true"}])
def test_outputs_without_the_kits_trail_leave_it_unknown(aws, change):
    outputs = deploy_destination(aws, retention_days=365, audit_logs=True) | change
    check = run(outputs, aws)[AUDIT]
    assert check.ok is None and "not checked" in check.detail


CLOUDTRAIL_READS = ["cloudtrail:GetTrail", "cloudtrail:GetEventSelectors", "cloudtrail:GetTrailStatus"]


def reader_policy_for_moto(drop: str = "") -> dict[str, Any]:
    """The reader policy with the log bucket's reads, plus the CloudTrail reads on "*" (moto authorizes them against
    "*", not the trail's ARN) and the log bucket's under moto's action names."""
    policy = verify_aws.reader_policy(base.ROLE_ARN, BUCKET, f"{BUCKET}-audit-logs")
    for statement in policy["Statement"]:
        statement["Action"] = [a for a in statement["Action"] if a != drop]
    policy["Statement"] += [base.MOTO_READER_ALIASES,
                            {"Sid": "MotoCloudTrail", "Effect": "Allow", "Action": [a for a in CLOUDTRAIL_READS if a != drop], "Resource": "*"},
                            {"Sid": "MotoLogBucket", "Effect": "Allow", "Action": ["s3:GetPublicAccessBlock"], "Resource": f"arn:aws:s3:::{BUCKET}-audit-logs"}]
    return policy


def test_a_user_holding_the_reader_policy_reads_the_lock_and_the_trail(aws):
    outputs = deploy_destination(aws, retention_days=365, immutable_days=30, audit_logs=True)
    session = base.reader_session(aws, reader_policy_for_moto())
    with enable_iam_authentication():
        checks = run(outputs, session)
    assert {check_id: check.ok for check_id, check in checks.items()} == {check_id: True for check_id in verify_aws.CHECK_IDS}


def test_the_reader_policy_without_the_cloudtrail_reads_leaves_only_the_trail_unknown(aws):
    outputs = deploy_destination(aws, retention_days=365, audit_logs=True)
    session = base.reader_session(aws, reader_policy_for_moto(drop="cloudtrail:GetTrail"))
    with enable_iam_authentication():
        checks = run(outputs, session)
    assert unknown_ids(checks) == {AUDIT} and failing(checks) == set()
    assert "cloudtrail:GetTrail denied: add it to your reader policy" in checks[AUDIT].detail


def test_without_the_log_bucket_reads_the_trail_is_unknown_never_ok(aws):
    outputs = deploy_destination(aws, retention_days=365, audit_logs=True)
    policy = base.reader_policy_for_moto()  # the reader policy made without audit_log_bucket
    policy["Statement"].append({"Sid": "MotoCloudTrail", "Effect": "Allow", "Action": CLOUDTRAIL_READS, "Resource": "*"})
    session = base.reader_session(aws, policy)
    with enable_iam_authentication():
        check = run(outputs, session)[AUDIT]
    assert check.ok is None and f"log bucket {BUCKET}-audit-logs's policy could not be read" in check.detail


# --- aws.bucket.audit_trail: the logs still arrive and stay (redteam19b #2, #6)

LOGS = f"{BUCKET}-audit-logs"
LOGS_ARN = f"arn:aws:s3:::{LOGS}"


def kit_log_policy(outputs: dict[str, Any], *extra: dict[str, Any], drop: str = "") -> dict[str, Any]:
    policy = aws_policy.audit_log_bucket_policy(LOGS_ARN, outputs["audit_trail_arn"], DEFAULT_ACCOUNT_ID)
    policy["Statement"] = [s for s in policy["Statement"] if s.get("Sid") != drop] + list(extra)
    return policy


def put_log_policy(session: boto3.Session, policy: dict[str, Any]) -> None:
    s3(session).put_bucket_policy(Bucket=LOGS, Policy=json.dumps(policy))


def put_log_lifecycle(session: boto3.Session, **expiration: Any) -> None:
    rule = {"ID": "expire", "Status": "Enabled", "Filter": {"Prefix": ""}, **expiration}
    s3(session).put_bucket_lifecycle_configuration(Bucket=LOGS, LifecycleConfiguration={"Rules": [rule]})


def deny(principal: Any, action: Any = "s3:PutObject", resource: Any = f"{LOGS_ARN}/*", **extra: Any) -> dict[str, Any]:
    return {"Sid": "Block", "Effect": "Deny", **({"NotPrincipal": principal} if extra.pop("not_principal", False) else {"Principal": principal}),
            "Action": action, "Resource": resource, **extra}


CLOUDTRAIL = {"Service": "cloudtrail.amazonaws.com"}
DELIVERY_ATTACKS = {
    "CloudTrail's write statement removed": (lambda o: kit_log_policy(o, drop="AWSCloudTrailWrite"), "does not let CloudTrail"),
    "a write for another account's logs only": (lambda o: kit_log_policy(o, {
        "Sid": "Other", "Effect": "Allow", "Principal": CLOUDTRAIL, "Action": "s3:PutObject", "Resource": f"{LOGS_ARN}/AWSLogs/111122223333/*"},
        drop="AWSCloudTrailWrite"), "does not let CloudTrail"),
    "a Deny for CloudTrail": (lambda o: kit_log_policy(o, deny(CLOUDTRAIL)), "'Block' denies CloudTrail's s3:PutObject"),
    "a Deny for everyone": (lambda o: kit_log_policy(o, deny("*", "s3:Put*", "*")), "'Block' denies CloudTrail's s3:PutObject"),
    "a Deny for all but your account": (lambda o: kit_log_policy(o, deny({"AWS": f"arn:aws:iam::{DEFAULT_ACCOUNT_ID}:root"}, "s3:*",
                                                                           not_principal=True)), "'Block' denies CloudTrail's s3:PutObject"),
}


@pytest.mark.parametrize("name", DELIVERY_ATTACKS)
def test_a_log_bucket_policy_that_keeps_cloudtrail_out_fails(aws, name):
    outputs = deploy_destination(aws, retention_days=365, audit_logs=True)
    policy, problem = DELIVERY_ATTACKS[name]
    put_log_policy(aws, policy(outputs))
    check = run(outputs, aws)[AUDIT]
    assert check.ok is False and problem in check.detail, check


def test_a_deleted_log_bucket_policy_fails(aws):
    outputs = deploy_destination(aws, retention_days=365, audit_logs=True)
    s3(aws).delete_bucket_policy(Bucket=LOGS)
    check = run(outputs, aws)[AUDIT]
    assert check.ok is False and "does not let CloudTrail (cloudtrail.amazonaws.com) write" in check.detail


@pytest.mark.parametrize("extra", [
    deny({"AWS": "arn:aws:iam::222233334444:root"}),  # someone else
    deny(CLOUDTRAIL, "s3:DeleteObject"),  # not the write
    deny(CLOUDTRAIL, resource=f"{LOGS_ARN}/other/*"),  # not where the logs go
    deny("*", "s3:*", [LOGS_ARN, f"{LOGS_ARN}/*"], Condition={"Bool": {"aws:SecureTransport": "false"}}),  # TLS only: CloudTrail uses it
])
def test_safe_look_alikes_in_the_log_bucket_policy_pass(aws, extra):
    outputs = deploy_destination(aws, retention_days=365, audit_logs=True)
    put_log_policy(aws, kit_log_policy(outputs, extra))
    check = run(outputs, aws)[AUDIT]
    assert check.ok is True, check


def test_a_conditional_deny_for_cloudtrail_is_unknown(aws):
    outputs = deploy_destination(aws, retention_days=365, audit_logs=True)
    put_log_policy(aws, kit_log_policy(outputs, deny(CLOUDTRAIL, Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}})))
    check = run(outputs, aws)[AUDIT]
    assert check.ok is None and "under conditions, which may keep logs out" in check.detail


@pytest.mark.parametrize("retention, expiration", [
    (365, {"Expiration": {"Days": 1}}),
    (365, {"Expiration": {"Days": 364}}),
    (None, {"Expiration": {"Days": 3650}}),  # recordings kept forever: so are the logs about them
    (365, {"Expiration": {"Date": "2030-01-01T00:00:00Z"}}),
])
def test_a_log_lifecycle_expiring_logs_before_the_recordings_fails(aws, retention, expiration):
    outputs = deploy_destination(aws, retention_days=retention, audit_logs=True)
    put_log_lifecycle(aws, **expiration)
    check = run(outputs, aws)[AUDIT]
    assert check.ok is False and f"log bucket {LOGS} expires" in check.detail and "audit log" in check.detail, check
    assert "Lifecycle rules" in check.fix


@pytest.mark.parametrize("expiration", [
    {"Expiration": {"Days": 365}},
    {"Expiration": {"Days": 3650}},
    {"NoncurrentVersionExpiration": {"NoncurrentDays": 1}},  # old versions only: the current log stays
    {"AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}},
])
def test_a_log_lifecycle_that_keeps_logs_as_long_passes(aws, expiration):
    outputs = deploy_destination(aws, retention_days=365, audit_logs=True)
    put_log_lifecycle(aws, **expiration)
    check = run(outputs, aws)[AUDIT]
    assert check.ok is True, check
    assert "expire no current log sooner than 365 days" in check.detail


class StatusReader(Reader):
    """Answers GetTrailStatus with `changes` laid over moto's answer (moto never reports a delivery error)."""

    def __init__(self, session: boto3.Session, changes: dict[str, Any]) -> None:
        super().__init__(session)
        self.changes = changes

    def call(self, service: str, region: str, operation: str, **kwargs: Any) -> Any:
        answer = super().call(service, region, operation, **kwargs)
        return {**answer, **self.changes} if operation == "get_trail_status" and isinstance(answer, dict) else answer


@pytest.mark.parametrize("changes, shown", [
    ({"LatestDeliveryError": "AccessDenied"}, "LatestDeliveryError: AccessDenied"),
    ({"LatestDeliveryError": "KMS.AccessDeniedException"}, "LatestDeliveryError: KMS.AccessDeniedException"),
    ({"LatestDeliveryError": "NoSuchBucket", "IsLogging": True}, "LatestDeliveryError: NoSuchBucket"),
    ({"LatestDigestDeliveryError": "AccessDenied"}, "LatestDigestDeliveryError: AccessDenied"),
])
def test_a_delivery_error_fails_while_logging_is_on(aws, monkeypatch, changes, shown):
    outputs = deploy_destination(aws, retention_days=365, audit_logs=True)
    monkeypatch.setattr(verify_aws, "Reader", lambda session: StatusReader(session, changes))
    check = run(outputs, aws)[AUDIT]
    assert check.ok is False and shown in check.detail and "the logs are not arriving" in check.detail
    assert f"aws cloudtrail get-trail-status --name {outputs['audit_trail_arn']}" in check.fix


@pytest.mark.parametrize("changes", [{"LatestDeliveryError": ""}, {"LatestDeliveryError": None}, {"LatestNotificationError": "x"}])
def test_no_delivery_error_passes(aws, monkeypatch, changes):
    outputs = deploy_destination(aws, retention_days=365, audit_logs=True)
    monkeypatch.setattr(verify_aws, "Reader", lambda session: StatusReader(session, changes))
    check = run(outputs, aws)[AUDIT]
    assert check.ok is True and "reports no delivery error (GetTrailStatus)" in check.detail


@pytest.mark.parametrize("key", ["arn:aws:kms:us-east-1:222233334444:key/1234abcd-12ab-34cd-56ef-1234567890ab", "alias/logs"])
def test_a_trail_kms_key_the_stack_does_not_define_fails(aws, key):
    outputs = deploy_destination(aws, retention_days=365, audit_logs=True)
    cloudtrail(aws).update_trail(Name=TRAIL_NAME, KmsKeyId=key)
    check = run(outputs, aws)[AUDIT]
    assert check.ok is False and "encrypts its logs with KMS key" in check.detail and "which this stack does not define" in check.detail


class LogLifecycleDenied(Reader):
    def call(self, service: str, region: str, operation: str, **kwargs: Any) -> Any:
        if operation == "get_bucket_lifecycle_configuration" and kwargs.get("Bucket") == LOGS:
            return Unread("s3:GetLifecycleConfiguration denied: add it to your reader policy", "grant it", "AccessDenied")
        return super().call(service, region, operation, **kwargs)


def test_a_denied_read_of_the_log_lifecycle_is_unknown_never_ok(aws, monkeypatch):
    outputs = deploy_destination(aws, retention_days=365, audit_logs=True)
    monkeypatch.setattr(verify_aws, "Reader", LogLifecycleDenied)
    checks = run(outputs, aws)
    assert unknown_ids(checks) == {AUDIT} and failing(checks) == set()
    assert f"log bucket {LOGS}'s lifecycle rules could not be read" in checks[AUDIT].detail


def test_the_reader_policy_reads_the_log_buckets_lifecycle():
    statement = next(s for s in verify_aws.reader_policy(base.ROLE_ARN, BUCKET, LOGS)["Statement"] if s["Sid"] == "ReadAuditLogBucket")
    assert "s3:GetLifecycleConfiguration" in statement["Action"] and statement["Resource"] == LOGS_ARN

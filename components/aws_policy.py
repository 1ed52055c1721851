"""The IAM and bucket documents for an S3 destination, as pure functions.

Plain values in, plain dicts out: the S3 component renders them into resources, the tests and
the moto emulator check them on their own, and `plan` prints them for review.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Optional

from components.lifecycle import ABORT_MULTIPART_AFTER_DAYS, COLD_CLASS
from components.tavus import (
    DEFAULT_EXTERNAL_ID,
    KMS_WRITER_ACTIONS,
    S3_WRITER_ACTIONS,
    TAVUS_AWS_PRINCIPAL,
)

if TYPE_CHECKING:
    # Types only: this module stays importable without the AWS SDK (the policy pack reads it).
    from pulumi_aws.cloudtrail import TrailAdvancedEventSelectorArgsDict
    from pulumi_aws.s3 import (
        BucketLifecycleConfigurationRuleArgsDict,
        BucketObjectLockConfigurationRuleArgsDict,
        BucketServerSideEncryptionConfigurationRuleArgsDict,
    )

POLICY_VERSION = "2012-10-17"


def trust_policy(external_id: str = DEFAULT_EXTERNAL_ID) -> dict[str, Any]:
    """Who may assume the writer role: only Tavus's recording account, and only with the ExternalId."""
    return {
        "Version": POLICY_VERSION,
        "Statement": [
            {
                "Sid": "TavusRecordingAssumeRole",
                "Effect": "Allow",
                "Principal": {"AWS": TAVUS_AWS_PRINCIPAL},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"sts:ExternalId": external_id}},
            }
        ],
    }


def writer_policy(bucket_arn: str, kms_key_arn: Optional[str] = None) -> dict[str, Any]:
    """What the role may do: the eight writer actions on this bucket only, plus the key if SSE-KMS."""
    statements: list[dict[str, Any]] = [
        {
            "Sid": "TavusRecordingWrite",
            "Effect": "Allow",
            "Action": list(S3_WRITER_ACTIONS),
            "Resource": [bucket_arn, f"{bucket_arn}/*"],
        }
    ]
    if kms_key_arn:
        statements.append(
            {
                "Sid": "TavusRecordingKms",
                "Effect": "Allow",
                "Action": list(KMS_WRITER_ACTIONS),
                "Resource": kms_key_arn,
            }
        )
    return {"Version": POLICY_VERSION, "Statement": statements}


def _deny_insecure_transport(bucket_arn: str) -> dict[str, Any]:
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [bucket_arn, f"{bucket_arn}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def tls_only_bucket_policy(bucket_arn: str) -> dict[str, Any]:
    """Deny every request to the bucket that does not arrive over TLS."""
    return {"Version": POLICY_VERSION, "Statement": [_deny_insecure_transport(bucket_arn)]}


# The writer, not the bucket, picks an upload's encryption: with SSE-C it brings its own key, and only that key's
# holder can read the object. S3 refuses such uploads (PutObject, CopyObject, multipart, replication) on a bucket
# whose encryption rule blocks SSE-C (PutBucketEncryption BlockedEncryptionTypes.EncryptionType, botocore s3
# service-2 ServerSideEncryptionRule). terraform-provider-aws bucket_server_side_encryption_configuration.go: the
# rule's blocked_encryption_types is not ForceNew, so a deployed bucket is updated in place by PutBucketEncryption.
BLOCKED_ENCRYPTION_TYPES = ["SSE-C"]


def encryption_rule(kms_key_arn: Optional[str] = None) -> BucketServerSideEncryptionConfigurationRuleArgsDict:
    """Default encryption: SSE-KMS with the bucket key when a key is given, else SSE-S3; uploads with SSE-C refused."""
    if kms_key_arn:
        return {
            "apply_server_side_encryption_by_default": {
                "sse_algorithm": "aws:kms",
                "kms_master_key_id": kms_key_arn,
            },
            # The bucket key cuts KMS calls (and cost) per object.
            "bucket_key_enabled": True,
            "blocked_encryption_types": list(BLOCKED_ENCRYPTION_TYPES),
        }
    return {"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"},
            "blocked_encryption_types": list(BLOCKED_ENCRYPTION_TYPES)}


def lifecycle_rules(
    noncurrent_version_days: int, retention_days: Optional[int] = None, cold_after_days: Optional[int] = None
) -> list[BucketLifecycleConfigurationRuleArgsDict]:
    """Lifecycle rules, in the shape of `aws.s3.BucketLifecycleConfiguration` rules."""
    rules: list[BucketLifecycleConfigurationRuleArgsDict] = [
        {
            "id": "expire-noncurrent-versions",
            "status": "Enabled",
            "filter": {},
            "noncurrent_version_expiration": {"noncurrent_days": noncurrent_version_days},
        },
        {
            "id": "abort-incomplete-multipart-uploads",
            "status": "Enabled",
            "filter": {},
            "abort_incomplete_multipart_upload": {"days_after_initiation": ABORT_MULTIPART_AFTER_DAYS},
        },
    ]
    if retention_days:
        expiry: list[BucketLifecycleConfigurationRuleArgsDict] = [
            {
                "id": "expire-recordings",
                "status": "Enabled",
                "filter": {},
                "expiration": {"days": retention_days},
            },
            # An expired recording leaves a delete marker; once its versions are gone too, the marker is
            # removed. (S3 takes ExpiredObjectDeleteMarker only in a rule without Days.)
            {
                "id": "remove-expired-delete-markers",
                "status": "Enabled",
                "filter": {},
                "expiration": {"expired_object_delete_marker": True},
            },
        ]
        rules += expiry
    if cold_after_days:
        # Current versions only: a recording moved while current stays in the class once it is noncurrent, and
        # versions superseded sooner are deleted after noncurrent_version_days (30 by default), mostly too soon
        # to repay the class's 90-day minimum. Objects under 128 KB stay in Standard (S3's default transition minimum size).
        rules.append(
            {
                "id": "move-recordings-to-cold",
                "status": "Enabled",
                "filter": {},
                "transitions": [{"days": cold_after_days, "storage_class": COLD_CLASS["s3"]}],
            }
        )
    return rules


# --- WORM retention (S3 Object Lock)

# The kit's WORM modes (`immutableMode`) as S3 spells them.
OBJECT_LOCK_MODES: dict[str, str] = {"governance": "GOVERNANCE", "compliance": "COMPLIANCE"}


def object_lock_rule(days: int, mode: str) -> BucketObjectLockConfigurationRuleArgsDict:
    """The bucket's default retention: every new object version is locked `days` days in `mode` (the kit's name).
    S3 takes Days or Years, not both, and needs a mode with either (botocore s3 model, DefaultRetention)."""
    return {"default_retention": {"mode": OBJECT_LOCK_MODES[mode], "days": days}}


# --- Audit log (CloudTrail data events into a log bucket of its own)

CLOUDTRAIL_SERVICE = "cloudtrail.amazonaws.com"
_SEPARATORS = re.compile(r"[.\-_]{2,}")


def audit_trail_name(bucket: str) -> str:
    """The trail's name, fixed by the bucket's so the log bucket policy can name the trail before it exists.

    CloudTrail names (CreateTrail, Name): 3-128 of letters, digits, `.`, `_`, `-`, starting and ending with a
    letter or digit, no two of `._-` adjacent, not an IP address. A bucket name (3-63 lowercase letters, digits,
    `.`, `-`, starting and ending with a letter or digit, never an IP) fits once each run of separators is cut
    to its first one; the `-audit` suffix keeps it from being an IP and ends it with a letter."""
    return _SEPARATORS.sub(lambda run: run.group(0)[0], bucket) + "-audit"


def audit_trail_arn(partition: str, region: str, account_id: str, trail_name: str) -> str:
    """The trail's ARN as CloudTrail writes it in aws:SourceArn."""
    return f"arn:{partition}:cloudtrail:{region}:{account_id}:trail/{trail_name}"


def audit_event_selectors(bucket_arn: str) -> list[TrailAdvancedEventSelectorArgsDict]:
    """One advanced selector: the data events (reads and writes alike: no readOnly field) of every object of
    this bucket, and of no other bucket (the `/` ends the name, so a bucket sharing the prefix is not matched)."""
    return [
        {
            "field_selectors": [
                {"field": "eventCategory", "equals": ["Data"]},
                {"field": "resources.type", "equals": ["AWS::S3::Object"]},
                {"field": "resources.ARN", "starts_withs": [f"{bucket_arn}/"]},
            ]
        }
    ]


def audit_log_bucket_policy(log_bucket_arn: str, trail_arn: str, account_id: str) -> dict[str, Any]:
    """The log bucket's policy: CloudTrail may check its ACL and write the account's log files, for this trail
    only (aws:SourceArn), as in AWS's policy for a trail's bucket (CloudTrail user guide,
    create-s3-bucket-policy-for-cloudtrail); and nothing arrives but over TLS."""
    source = {"aws:SourceArn": trail_arn}
    return {
        "Version": POLICY_VERSION,
        "Statement": [
            {
                "Sid": "AWSCloudTrailAclCheck",
                "Effect": "Allow",
                "Principal": {"Service": CLOUDTRAIL_SERVICE},
                "Action": "s3:GetBucketAcl",
                "Resource": log_bucket_arn,
                "Condition": {"StringEquals": source},
            },
            {
                "Sid": "AWSCloudTrailWrite",
                "Effect": "Allow",
                "Principal": {"Service": CLOUDTRAIL_SERVICE},
                "Action": "s3:PutObject",
                "Resource": f"{log_bucket_arn}/AWSLogs/{account_id}/*",
                "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control", **source}},
            },
            _deny_insecure_transport(log_bucket_arn),
        ],
    }

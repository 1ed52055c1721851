"""The IAM and bucket documents for an S3 destination, as pure functions.

Plain values in, plain dicts out: the S3 component renders them into resources, the tests and
the moto emulator check them on their own, and `plan` prints them for review.
"""

from __future__ import annotations

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
    from pulumi_aws.s3 import (
        BucketLifecycleConfigurationRuleArgsDict,
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


def tls_only_bucket_policy(bucket_arn: str) -> dict[str, Any]:
    """Deny every request to the bucket that does not arrive over TLS."""
    return {
        "Version": POLICY_VERSION,
        "Statement": [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [bucket_arn, f"{bucket_arn}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ],
    }


def encryption_rule(kms_key_arn: Optional[str] = None) -> BucketServerSideEncryptionConfigurationRuleArgsDict:
    """Default encryption: SSE-KMS with the bucket key when a key is given, else SSE-S3."""
    if kms_key_arn:
        return {
            "apply_server_side_encryption_by_default": {
                "sse_algorithm": "aws:kms",
                "kms_master_key_id": kms_key_arn,
            },
            # The bucket key cuts KMS calls (and cost) per object.
            "bucket_key_enabled": True,
        }
    return {"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}}


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

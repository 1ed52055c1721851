"""The plan's word on WORM retention and the audit log for one cloud (s3): what the stack sets, in one line each."""

from __future__ import annotations

from typing import Any, Optional

from tavus_recording.mock_engine import ProgramRun, Registration
from tavus_recording.plan.replacement import get

OBJECT_LOCK = "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
TRAIL = "aws:cloudtrail/trail:Trail"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"

# What S3 asks of every upload into a bucket with a default retention (botocore s3 model, PutObject ContentMD5:
# "The Content-MD5 or x-amz-sdk-checksum-algorithm header is required for any request to upload an object with a
# retention period configured using Amazon S3 Object Lock").
UPLOAD_CHECKSUM = (
    "every upload into the bucket must now carry Content-MD5 or an x-amz-sdk-checksum-algorithm header (S3 refuses it "
    "otherwise); whether Tavus's writer sends one is not documented: run `tavus-recording verify --tavus` before relying on it, "
    "and check that the first real recording lands (a test-mode conversation may not write one)"
)
# CloudTrail pricing (https://aws.amazon.com/cloudtrail/pricing/): "Data events ... are charged at $0.10 per 100,000
# events"; CloudTrail user guide, managing costs: "For data events, all deliveries incur CloudTrail costs, including the first."
AUDIT_PRICE = ("$0.10 per 100,000 data events (every delivery is charged, even the first copy), plus S3 storage of "
               "the log files, which this stack never deletes")


def _noncurrent_days(run: ProgramRun, bucket: Any) -> Optional[int]:
    for lifecycle in run.find(LIFECYCLE):
        if lifecycle.inputs.get("bucket") != bucket:
            continue
        for rule in lifecycle.inputs.get("rules") or []:
            days = get(rule, "noncurrentVersionExpiration.noncurrentDays") if isinstance(rule, dict) else None
            if isinstance(days, (int, float)) and not isinstance(days, bool):
                return int(days)
    return None


def worm(run: ProgramRun) -> tuple[Optional[dict[str, Any]], Optional[str]]:
    """WORM retention as facts and one line; (None, None) when off."""
    lock = next(iter(run.find(OBJECT_LOCK)), None)
    if lock is None:
        return None, None
    bucket = lock.inputs.get("bucket")
    mode = get(lock.inputs, "rule.defaultRetention.mode")
    raw_days = get(lock.inputs, "rule.defaultRetention.days")
    days = int(raw_days) if isinstance(raw_days, (int, float)) and not isinstance(raw_days, bool) else raw_days
    noncurrent = _noncurrent_days(run, bucket)
    compliance = str(mode).upper() == "COMPLIANCE"
    who = ("nobody, not even the root user, can delete a version before its retain-until date or shorten it (compliance)"
           if compliance else
           "only a principal with s3:BypassGovernanceRetention, sending x-amz-bypass-governance-retention, can delete a "
           "version early or shorten its lock (governance)")
    removed = (f"a locked version is removed only after both its {noncurrent} noncurrent days and its retain-until date "
               "have passed" if noncurrent else "a locked version is removed only after its retain-until date")
    line = (f"WORM: S3 Object Lock on bucket {bucket}, default retention {mode} {days} days: every recording version written "
            f"from now on is locked {days} days after it is written (versions already there are not); {who}. Object Lock "
            "can never be turned off on this bucket and versioning can never be suspended. Upload checksum: "
            f"{UPLOAD_CHECKSUM}. Lifecycle: expiry only adds delete markers; {removed}.")
    facts = {
        "kind": "S3 Object Lock",
        "bucket": bucket,
        "mode": mode,
        "days": days,
        "noncurrent_version_days": noncurrent,
        "irreversible": ["Object Lock cannot be turned off", "versioning cannot be suspended"]
        + (["no one can delete a locked version or shorten its lock, not even the root user"] if compliance else []),
        "upload_checksum_required": True,
    }
    return facts, line


def audit(run: ProgramRun, grants: list[Registration]) -> tuple[Optional[dict[str, Any]], Optional[str]]:
    """The audit log as facts and one line; (None, None) when off. Grants it makes (e.g. the log bucket's
    policy for CloudTrail) are added to `grants`, the ones the summary accounts for."""
    trail = next(iter(run.find(TRAIL)), None)
    if trail is None:
        return None, None
    log_bucket = trail.inputs.get("s3BucketName")
    selectors = trail.inputs.get("advancedEventSelectors") or []
    prefixes = [p for s in selectors if isinstance(s, dict) for f in s.get("fieldSelectors") or []
                if isinstance(f, dict) and f.get("field") == "resources.ARN" for p in f.get("startsWiths") or []]
    logged = ", ".join(str(p).removeprefix("arn:aws:s3:::").rstrip("/") for p in prefixes) or "no bucket"
    policies = [p for p in run.find(BUCKET_POLICY) if p.inputs.get("bucket") == log_bucket]
    grants.extend(policies)  # CloudTrail's write grant on its own log bucket, said here
    name = trail.inputs.get("name") or trail.name
    validation = "with log file validation (signed digest files)" if trail.inputs.get("enableLogFileValidation") else \
        "WITHOUT log file validation"
    line = (f"Audit: CloudTrail trail {name} (this region only) logs every read and write of an object in bucket {logged} "
            "(S3 data events: who, when, from where, which object; reads included), "
            f"{validation}, into bucket {log_bucket}: private, versioned, SSE-S3 (SSE-C uploads blocked), TLS-only, kept on `pulumi destroy`, no "
            "expiry. That bucket's policy lets cloudtrail.amazonaws.com, for this trail only (aws:SourceArn), read its "
            "ACL and write log files under AWSLogs/<account-id>/. Bucket settings changes (management events) are not in "
            f"this trail: CloudTrail's event history keeps them 90 days. Cost: {AUDIT_PRICE}.")
    facts = {
        "kind": "CloudTrail data events",
        "trail": name,
        "logged_buckets": [str(p).removeprefix("arn:aws:s3:::").rstrip("/") for p in prefixes],
        "reads_and_writes": True,
        "log_file_validation": bool(trail.inputs.get("enableLogFileValidation")),
        "log_bucket": log_bucket,
        "granted": [{"who": "cloudtrail.amazonaws.com", "on": log_bucket, "actions": ["s3:GetBucketAcl", "s3:PutObject"]}],
        "price": AUDIT_PRICE,
    }
    return facts, line

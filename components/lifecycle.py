"""How long the kit keeps things, for every cloud."""

from typing import Optional

# Superseded versions (overwritten or deleted recordings) are kept this long by default.
DEFAULT_NONCURRENT_VERSION_DAYS = 30
# Incomplete multipart uploads cost storage until aborted; a week covers the longest call.
ABORT_MULTIPART_AFTER_DAYS = 7
# Azure soft delete: deleted blobs and containers stay recoverable this long.
SOFT_DELETE_DAYS = 7

# Cold tier (`coldAfterDays`): each cloud's cheaper class that still serves a recording at once, the
# shortest storage it bills for, and the kit's floor for the move.
# - S3 Glacier Instant Retrieval: millisecond reads, 90-day minimum storage duration, 128 KB minimum
#   billable size, per-GB retrieval fee (https://docs.aws.amazon.com/AmazonS3/latest/userguide/storage-class-intro.html).
#   Chosen over Standard-IA (30-day minimum) because recordings are written once and rarely read after
#   the first weeks, and it stores for about a third of IA's price.
# - Cloud Storage Nearline: 30-day minimum storage duration, per-GB retrieval fee
#   (https://cloud.google.com/storage/docs/storage-classes). Coldline (90 days, twice the retrieval fee) is
#   not used: one class per cloud keeps the plan, the policy and verify simple.
# - Azure Blob Cool tier: 30-day minimum, an early-deletion charge for less
#   (https://learn.microsoft.com/azure/storage/blobs/access-tiers-overview). Cold (90 days) is not used:
#   its read prices were not found to state here.
COLD_CLASS = {"s3": "GLACIER_IR", "gcs": "NEARLINE", "azure_blob": "Cool"}
COLD_CLASS_NAME = {"s3": "S3 Glacier Instant Retrieval", "gcs": "Cloud Storage Nearline", "azure_blob": "Azure Blob Cool tier"}
COLD_MIN_STORAGE_DAYS = {"s3": 90, "gcs": 30, "azure_blob": 30}
# The earliest move the kit sets, on every cloud: S3 refuses a Standard-IA transition sooner
# (https://docs.aws.amazon.com/AmazonS3/latest/API/API_Transition.html, Days), and a recording read in its
# first month (the usual case) would pay the cold class's retrieval fee on every read.
COLD_AFTER_MIN_DAYS = 30


def cold_stay_days(cold_after_days: int, retention_days: Optional[int], noncurrent_version_days: int) -> Optional[int]:
    """Days a recording spends in the cold class, from the move to its deletion (expiry turns it into a
    noncurrent version, kept `noncurrent_version_days` more); None when recordings are kept for good. Less than
    the class's minimum is still billed as the minimum."""
    if retention_days is None:
        return None
    return retention_days + noncurrent_version_days - cold_after_days

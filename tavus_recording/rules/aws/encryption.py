"""That a bucket Tavus writes to refuses uploads encrypted with a key the writer brings (SSE-C).

The writer, not the bucket, picks an upload's encryption: with SSE-C it sends its own key, and only that key's
holder can read the object. S3 refuses such uploads (PutObject, CopyObject, multipart uploads, replication) on a
bucket whose default-encryption rule lists SSE-C in BlockedEncryptionTypes; `NONE` unblocks every type (botocore
s3 service-2, ServerSideEncryptionRule and BlockedEncryptionTypes; pulumi-aws 7 blocked_encryption_types).
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Optional

from tavus_recording.rules.aws.catalog import ENCRYPTION
from tavus_recording.rules.findings import Finding
from tavus_recording.rules.iam import as_list

SSE_C = "SSE-C"
UNBLOCK_ALL = "NONE"
SSE_C_FIX = 'block them: blocked_encryption_types ["SSE-C"] in the bucket\'s encryption rule (BlockedEncryptionTypes)'


def blocked_types(rule: Any) -> list[Any]:
    """The encryption types a default-encryption rule blocks, spelt as pulumi-aws (`blockedEncryptionTypes`: a
    list) or as the S3 API answers (`BlockedEncryptionTypes.EncryptionType`: a list, or one value); aws-native's
    `blockedEncryptionTypes.encryptionType` is taken on the API's shape, not confirmed in its schema."""
    if not isinstance(rule, Mapping):
        return []
    value = rule.get("blockedEncryptionTypes", rule.get("BlockedEncryptionTypes"))
    if isinstance(value, Mapping):  # the API's (and aws-native's) {EncryptionType: [...]}
        return as_list(value.get("EncryptionType", value.get("encryptionType")))
    return as_list(value)


def blocks_sse_c(rules: Iterable[Any]) -> bool:
    """Whether the rules block SSE-C uploads: SSE-C is listed and NONE (unblock all) is not."""
    blocked = [t for rule in rules for t in blocked_types(rule)]
    return SSE_C in blocked and UNBLOCK_ALL not in blocked


def sse_c_findings(rules: Iterable[Any], fix: Optional[str] = None) -> list[Finding]:
    """A bucket whose default-encryption rules (`rules`) accept uploads encrypted with a key the writer brings."""
    rules = list(rules)
    if blocks_sse_c(rules):
        return []
    shown = sorted({str(t) for rule in rules for t in blocked_types(rule)})
    return [Finding(ENCRYPTION.id, "accepts uploads encrypted with a key the writer brings (SSE-C; blocked types: "
                                   f"{', '.join(shown) or 'none'}): only that key's holder could read such a recording",
                    fix or SSE_C_FIX)]

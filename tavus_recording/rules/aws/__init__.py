"""AWS: who can reach Tavus's writer role, what it can do, and who else reaches the recordings.

Every rule is an allow-list: a statement passes only when it is proved to be what the kit needs
(Tavus's account, pinned by `StringEquals sts:ExternalId`; the writer actions on one bucket and its
key); anything that cannot be proved, in any spelling, is a finding. Deny statements only narrow, so
they never count against who can get in; `write_blockers` is where they count, against Tavus.

The inputs are plain documents and values, the same whether the policy pack read them from the engine
or `verify` from the live account, so a finding reads the same before and after a deploy.

catalog      the rules: ids, what each guards, when it acts
statements   reading IAM statements as AWS reads them
trust        who can assume the role (and its session length)
grants       what the role can do
exposure     who else reaches the recordings, and whether they last
can_write    whether anything stops Tavus writing (verify)
tiers        the classes lifecycle rules and Intelligent-Tiering move recordings to (coldAfterDays)
worm         that recordings cannot be deleted early (immutableDays: Object Lock)
audit        that every read and write is logged (auditLogs: a CloudTrail trail)
encryption   that uploads under a key the writer brings (SSE-C) are refused
"""

from tavus_recording.rules.aws.can_write import key_policy_blockers, write_blockers
from tavus_recording.rules.aws.audit import Trail, audit_trail_findings, audit_trail_fix, trail_findings
from tavus_recording.rules.aws.catalog import (
    AUDIT_TRAIL,
    BUCKET_ACCESS,
    CAN_WRITE,
    COLD_TIER,
    ENCRYPTION,
    FORCE_DESTROY,
    KEY,
    LEAST_PRIVILEGE,
    LIFECYCLE,
    MAX_SESSION,
    OBJECT_LOCK,
    PERMISSIONS,
    PUBLIC_ACCESS_BLOCK,
    REPLICATION,
    RULES,
    TRUST,
    VERSIONING,
)
from tavus_recording.rules.aws.encryption import SSE_C_FIX, blocks_sse_c, sse_c_findings
from tavus_recording.rules.aws.exposure import (
    acl_findings,
    bucket_policy_findings,
    key_findings,
    lifecycle_findings,
    lower_keys,
    replication_findings,
)
from tavus_recording.rules.aws.grants import PolicyDoc, buckets_named, keys_named, permission_findings, s3_bucket_of, writer_scope
from tavus_recording.rules.aws.statements import (
    arn_account,
    could_be_tavus,
    is_deny,
    names_tavus,
    principal_entries,
    statements,
)
from tavus_recording.rules.aws.tiers import ARCHIVE_CLASSES, cold_tier_findings, cold_tier_fix, intelligent_tiering_findings
from tavus_recording.rules.aws.trust import is_tavus_trust, session_findings, trust_findings
from tavus_recording.rules.aws.worm import object_lock_findings, object_lock_fix

__all__ = [
    "ARCHIVE_CLASSES", "AUDIT_TRAIL", "Trail", "audit_trail_findings", "audit_trail_fix", "trail_findings", "BUCKET_ACCESS", "CAN_WRITE", "COLD_TIER", "cold_tier_findings", "cold_tier_fix", "intelligent_tiering_findings", "FORCE_DESTROY", "KEY", "LEAST_PRIVILEGE", "LIFECYCLE", "MAX_SESSION", "OBJECT_LOCK", "object_lock_findings", "object_lock_fix", "PERMISSIONS",
    "PUBLIC_ACCESS_BLOCK", "REPLICATION", "RULES", "TRUST", "VERSIONING",
    "ENCRYPTION", "SSE_C_FIX", "blocks_sse_c", "sse_c_findings",
    "PolicyDoc", "acl_findings", "arn_account", "bucket_policy_findings", "buckets_named", "could_be_tavus", "is_deny",
    "is_tavus_trust", "key_findings", "key_policy_blockers", "keys_named", "lifecycle_findings", "lower_keys", "names_tavus",
    "permission_findings", "principal_entries", "replication_findings", "s3_bucket_of", "session_findings", "statements",
    "trust_findings", "write_blockers", "writer_scope",
]

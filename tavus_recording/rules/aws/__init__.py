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
tiers        that recordings stay instantly readable (coldAfterDays)
"""

from tavus_recording.rules.aws.can_write import key_policy_blockers, write_blockers
from tavus_recording.rules.aws.catalog import (
    BUCKET_ACCESS,
    CAN_WRITE,
    COLD_TIER,
    FORCE_DESTROY,
    KEY,
    LEAST_PRIVILEGE,
    LIFECYCLE,
    MAX_SESSION,
    PERMISSIONS,
    PUBLIC_ACCESS_BLOCK,
    REPLICATION,
    RULES,
    TRUST,
    VERSIONING,
)
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
from tavus_recording.rules.aws.tiers import ARCHIVE_CLASSES, cold_tier_findings, cold_tier_fix
from tavus_recording.rules.aws.trust import is_tavus_trust, session_findings, trust_findings

__all__ = [
    "ARCHIVE_CLASSES", "BUCKET_ACCESS", "CAN_WRITE", "COLD_TIER", "cold_tier_findings", "cold_tier_fix", "FORCE_DESTROY", "KEY", "LEAST_PRIVILEGE", "LIFECYCLE", "MAX_SESSION", "PERMISSIONS",
    "PUBLIC_ACCESS_BLOCK", "REPLICATION", "RULES", "TRUST", "VERSIONING",
    "PolicyDoc", "acl_findings", "arn_account", "bucket_policy_findings", "buckets_named", "could_be_tavus", "is_deny",
    "is_tavus_trust", "key_findings", "key_policy_blockers", "keys_named", "lifecycle_findings", "lower_keys", "names_tavus",
    "permission_findings", "principal_entries", "replication_findings", "s3_bucket_of", "session_findings", "statements",
    "trust_findings", "write_blockers", "writer_scope",
]

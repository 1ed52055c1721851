"""The AWS rules: ids, what each guards, why, and when it acts."""

from __future__ import annotations

from components.tavus import MAX_SESSION_SECONDS
from tavus_recording.rules.findings import ADVISORY, AFTER_DEPLOY, BEFORE_CREATE, LIVE, MANDATORY, PREVIEW, Rule

TRUST = Rule(
    "aws.role.trust",
    "who can assume Tavus's writer role",
    "Every statement of a role that trusts Tavus must admit exactly Tavus's account 291871421005, only for "
    "sts:AssumeRole, only with StringEquals sts:ExternalId: a second principal, '*', a service or a federated "
    "identity would write (and read) recordings as Tavus.",
    MANDATORY,
    (PREVIEW, BEFORE_CREATE, LIVE),
)
MAX_SESSION = Rule(
    "aws.role.max_session",
    "Tavus's 12-hour sessions",
    f"A role that trusts Tavus must allow {MAX_SESSION_SECONDS} s sessions: at the 3600 s default Tavus's "
    "recorder cannot assume it ('unable to assume role with given parameters') and recordings are lost.",
    MANDATORY,
    (PREVIEW, BEFORE_CREATE, LIVE),
)
PERMISSIONS = Rule(
    "aws.role.permissions",
    "what Tavus's role can do",
    "Every grant that reaches a role trusting Tavus (inline, managed, attached by any resource) must stay within "
    "the writer actions on one bucket and kms:GenerateDataKey/kms:Decrypt on its key: nothing that deletes, "
    "changes the bucket's policy, lifecycle, versioning, replication or encryption, or touches another bucket or key.",
    MANDATORY,
    (PREVIEW, BEFORE_CREATE, AFTER_DEPLOY, LIVE),
)
LEAST_PRIVILEGE = Rule(
    "aws.role.least_privilege",
    "no read beyond the writer's",
    "Tavus's role should hold only the writer actions of Tavus's guide; an extra read-only action on the "
    "same bucket is not dangerous, but it is more than Tavus needs.",
    ADVISORY,
    (PREVIEW, BEFORE_CREATE, AFTER_DEPLOY, LIVE),
)
CAN_WRITE = Rule(
    "aws.role.can_write",
    "that nothing stops Tavus writing",
    "Every writer action must be allowed to Tavus's role on every object of the bucket and denied nowhere: not by "
    "an explicit Deny in its policies, the bucket policy, the key policy or an SCP/RCP, not by a permissions boundary "
    "or SCP that leaves it out. What cannot be read or evaluated offline is reported as unknown.",
    MANDATORY,
    (LIVE,),
)
BUCKET_ACCESS = Rule(
    "aws.bucket.access",
    "who else can reach the recordings",
    "The policy, ACL and access points of a bucket Tavus writes to must not open it to the public, to another "
    "account, to a service acting for anyone, or to Tavus's account directly (which would bypass the role and its "
    "ExternalId).",
    MANDATORY,
    (PREVIEW, BEFORE_CREATE, AFTER_DEPLOY, LIVE),
)
REPLICATION = Rule(
    "aws.bucket.replication",
    "copies of the recordings",
    "Replication from a bucket Tavus writes to must copy recordings only to buckets proved to be yours "
    "(defined in the same stack, or with a destination account you own).",
    MANDATORY,
    (PREVIEW, AFTER_DEPLOY, LIVE),
)
LIFECYCLE = Rule(
    "aws.bucket.lifecycle",
    "that recordings last",
    "Lifecycle rules on a bucket Tavus writes to must not expire current recordings sooner than the stack's "
    "retentionDays, or at all when none is set (superseded versions and delete markers may expire).",
    MANDATORY,
    (PREVIEW, AFTER_DEPLOY, LIVE),
)
KEY = Rule(
    "aws.kms.key",
    "the key recordings are encrypted with",
    "The KMS key of a bucket Tavus writes to must stay enabled and not scheduled for deletion: without it "
    "no recording can be written, and none already written can be read.",
    MANDATORY,
    (PREVIEW, AFTER_DEPLOY, LIVE),
)
VERSIONING = Rule(
    "aws.bucket.versioning",
    "versioning Daily requires",
    "Every bucket Tavus writes to must have versioning Enabled: Tavus's recorder (Daily) requires it, and it "
    "keeps overwritten recordings recoverable.",
    MANDATORY,
    (PREVIEW, AFTER_DEPLOY, LIVE),
)
PUBLIC_ACCESS_BLOCK = Rule(
    "aws.bucket.public_access_block",
    "recordings never public",
    "Every S3 bucket must block public ACLs and policies, by its own public access block or the account's "
    "(all four settings on).",
    MANDATORY,
    (PREVIEW, AFTER_DEPLOY, LIVE),
)
FORCE_DESTROY = Rule(
    "aws.bucket.force_destroy",
    "recordings survive `pulumi destroy`",
    "S3 buckets should not set forceDestroy: recordings are customer data and must survive `pulumi destroy`.",
    ADVISORY,
    (PREVIEW, BEFORE_CREATE),
)
COLD_TIER = Rule(
    "aws.bucket.cold_tier",
    "the bucket's settings archive no recordings",
    "Lifecycle rules on a bucket Tavus writes to must not move recordings (current or noncurrent) to GLACIER or "
    "DEEP_ARCHIVE, and its Intelligent-Tiering configurations must not turn on the ARCHIVE_ACCESS or DEEP_ARCHIVE_ACCESS "
    "tier, all of which need hours of restore before a read; the lifecycle must keep the stack's coldAfterDays move of "
    "current versions to GLACIER_IR, at that many days, for the whole bucket. The storage class an upload asks for "
    "is the writer's choice and is not checked.",
    ADVISORY,
    (PREVIEW, AFTER_DEPLOY, LIVE),
)
OBJECT_LOCK = Rule(
    "aws.bucket.object_lock",
    "recordings cannot be deleted early",
    "With immutableDays, a bucket Tavus writes to must keep S3 Object Lock on with a default retention of at least "
    "that many days, in COMPLIANCE mode when immutableMode is compliance: without it any recording can be deleted or "
    "overwritten at once; a shorter period, or governance (which an administrator can bypass), lets them go sooner.",
    MANDATORY,
    (PREVIEW, AFTER_DEPLOY, LIVE),
)
AUDIT_TRAIL = Rule(
    "aws.bucket.audit_trail",
    "every read and write is logged",
    "With auditLogs (or requireAuditLogs), a CloudTrail trail in the bucket's region must log the data events of every "
    "object of a bucket Tavus writes to, reads and writes both, with log file validation on and logging started, into a "
    "bucket of the stack under no key but one of the stack: without it nobody can tell who read, wrote or deleted a "
    "recording, or prove a log untouched; logs in another's bucket or under another's key are kept and read at their will.",
    MANDATORY,
    (PREVIEW, AFTER_DEPLOY, LIVE),
)
ENCRYPTION = Rule(
    "aws.bucket.encryption",
    "uploads under the writer's own key refused",
    "A bucket Tavus writes to must block uploads encrypted with a key the writer brings (SSE-C in its encryption "
    "rule's BlockedEncryptionTypes): the writer picks each upload's encryption, and a recording under a key only the "
    "writer holds is one you cannot read. A stack that sets no encryption rule leaves S3's own setting, which only "
    "verify reads.",
    MANDATORY,
    (PREVIEW, AFTER_DEPLOY, LIVE),
)
RULES = (TRUST, MAX_SESSION, PERMISSIONS, LEAST_PRIVILEGE, CAN_WRITE, BUCKET_ACCESS, REPLICATION, LIFECYCLE, KEY,
         VERSIONING, PUBLIC_ACCESS_BLOCK, FORCE_DESTROY, COLD_TIER, OBJECT_LOCK, AUDIT_TRAIL, ENCRYPTION)

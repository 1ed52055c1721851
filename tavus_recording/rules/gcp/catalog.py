"""The Google Cloud rules: each one's id, what it guards, why, and when it acts.
"""

from __future__ import annotations

from components.gcp_policy import IMPERSONATION_ROLE, WRITER_ROLE
from tavus_recording.rules.findings import (
    ADVISORY,
    AFTER_DEPLOY,
    BEFORE_CREATE,
    LIVE,
    MANDATORY,
    PREVIEW,
    Rule,
)

PROVIDER_CONDITION = Rule(
    "gcs.provider.condition",
    "which tokens the pool admits",
    "A workload identity pool provider's attribute condition must provably require assertion.sub == '<Tavus's "
    "subject>' at its top level (other conditions may only be joined with &&): anything else, or none, admits "
    "tokens of subjects other than Tavus's.",
    MANDATORY,
    (PREVIEW, BEFORE_CREATE, LIVE),
)
PROVIDER_ISSUER = Rule(
    "gcs.provider.issuer",
    "whose tokens the pool trusts",
    "A workload identity pool provider must be OIDC with an https issuer that has a host and no user info (and, "
    "when one is configured, Tavus's issuer): another issuer's tokens would federate into the pool.",
    MANDATORY,
    (PREVIEW, BEFORE_CREATE, LIVE),
)
PROVIDER_MAPPING = Rule(
    "gcs.provider.mapping",
    "who a federated principal is",
    "A workload identity pool provider must map google.subject from exactly assertion.sub: another mapping makes "
    "principal://.../subject/<Tavus's subject> name whatever token carries that value elsewhere.",
    MANDATORY,
    (PREVIEW, BEFORE_CREATE, LIVE),
)
IMPERSONATION = Rule(
    "gcs.service_account.impersonation",
    "who can act as the writer",
    f"Only principal://iam.googleapis.com/<pool>/subject/<Tavus's subject>, of a pool the stack defines, may hold "
    f"{IMPERSONATION_ROLE} on a service account a workload identity pool can impersonate, and nobody may hold any "
    "other role on it, on its project or on that pool that is not known to be harmless: a principalSet, another "
    "pool's principal, the public, a group, another account, a pool admin or a role that mints tokens would write "
    "as Tavus (an IAM policy document that cannot be read strictly proves nothing).",
    MANDATORY,
    (PREVIEW, BEFORE_CREATE, AFTER_DEPLOY, LIVE),
)
KEYS = Rule(
    "gcs.service_account.keys",
    "no key stands in for the writer",
    "Tavus's writer must have no user-managed service account key and no HMAC key: a key is the writer, usable "
    "by whoever holds it without Tavus's token.",
    MANDATORY,
    (PREVIEW, AFTER_DEPLOY, LIVE),
)
PERMISSIONS = Rule(
    "gcs.service_account.permissions",
    "what the writer (and its pool) can do",
    f"Every grant that reaches Tavus's writer must stay within {WRITER_ROLE} on the recordings bucket: nothing that "
    "deletes, changes the bucket's IAM, lifecycle, retention, versioning or encryption, touches another bucket or "
    f"acts project-wide; and a pool's identities may hold nothing but {IMPERSONATION_ROLE} on the writer.",
    MANDATORY,
    (PREVIEW, BEFORE_CREATE, AFTER_DEPLOY, LIVE),
)
LEAST_PRIVILEGE = Rule(
    "gcs.service_account.least_privilege",
    "no read beyond the writer's",
    f"Tavus's writer should hold only {WRITER_ROLE}; an extra read-only role on the same bucket is not "
    "dangerous, but it is more than Tavus needs.",
    ADVISORY,
    (PREVIEW, AFTER_DEPLOY, LIVE),
)
BUCKET_ACCESS = Rule(
    "gcs.bucket.access",
    "who else can reach the recordings",
    "A bucket Tavus writes to or copies recordings into (or its project) must not grant, by IAM, managed-folder IAM "
    "or ACL, the public, a federated identity other than through the writer, a service account of a project that "
    "is not yours, or (with ownDomains) a person, group or domain outside your domains; its ACLs may name only the "
    "project's own owners, editors and viewers.",
    MANDATORY,
    (PREVIEW, AFTER_DEPLOY, LIVE),
)
LIFECYCLE = Rule(
    "gcs.bucket.lifecycle",
    "that recordings last",
    "Lifecycle rules on a bucket Tavus writes to must not delete live recordings sooner than the stack's "
    "retentionDays, or at all when none is set (noncurrent versions may be deleted); no Storage Batch Operations "
    "job may delete objects in it.",
    MANDATORY,
    (PREVIEW, AFTER_DEPLOY, LIVE),
)
RETENTION = Rule(
    "gcs.bucket.retention",
    "the retention policy holds",
    "A bucket Tavus writes to must keep a retention policy of at least the stack's immutableDays, locked when its "
    "immutableMode is compliance: removing or shortening it lets recordings be deleted early, and anyone with "
    "storage.buckets.update can shorten or remove an unlocked one.",
    MANDATORY,
    (PREVIEW, AFTER_DEPLOY, LIVE),
)
TRANSFER = Rule(
    "gcs.bucket.transfer",
    "copies of the recordings",
    "Storage Transfer jobs may copy recordings only to buckets this stack defines, and never move them (delete "
    "them from the recordings bucket after the copy).",
    MANDATORY,
    (PREVIEW, AFTER_DEPLOY),
)
PUBLIC_ACCESS_PREVENTION = Rule(
    "gcs.bucket.public_access_prevention",
    "recordings never public",
    "Cloud Storage buckets must enforce public access prevention: recordings are customer data.",
    MANDATORY,
    (PREVIEW, BEFORE_CREATE, LIVE),
)
UNIFORM_ACCESS = Rule(
    "gcs.bucket.uniform_access",
    "IAM alone decides access",
    "Cloud Storage buckets should use uniform bucket-level access, so IAM alone decides who reads recordings.",
    ADVISORY,
    (PREVIEW, BEFORE_CREATE, LIVE),
)
FORCE_DESTROY = Rule(
    "gcs.bucket.force_destroy",
    "recordings survive `pulumi destroy`",
    "Cloud Storage buckets should not set forceDestroy: recordings are customer data and must survive `pulumi destroy`.",
    ADVISORY,
    (PREVIEW, BEFORE_CREATE),
)
COLD_TIER = Rule(
    "gcs.bucket.cold_tier",
    "recordings move to the class asked for",
    "Lifecycle rules on a bucket Tavus writes to must keep the stack's coldAfterDays move of live recordings from "
    "STANDARD to NEARLINE, at that age, and only of live ones, with no move to a cheaper class by then or to NEARLINE "
    "sooner, which Cloud Storage would apply instead (every Cloud Storage class reads instantly, so no later move is "
    "refused).",
    ADVISORY,
    (PREVIEW, AFTER_DEPLOY, LIVE),
)
ENCRYPTION_KEY = Rule(
    "gcs.bucket.encryption_key",
    "whose key encrypts the recordings",
    "A bucket Tavus writes to must have the stack's kmsKeyName as its default key (and, with requireCustomerKey, some "
    "Cloud KMS key), and must refuse uploads encrypted with a key the writer brings (CSEK) and, with a customer key, "
    "with Google-managed keys: the writer picks each upload's encryption, a CSEK recording is readable only by that "
    "key's holder, and another key, or Google's, is not the one your key policy governs. A writer can still name "
    "another Cloud KMS key per upload; the organisation policy constraints/gcp.restrictCmekCryptoKeyProjects limits which.",
    MANDATORY,
    (PREVIEW, AFTER_DEPLOY, LIVE),
)
SERVICE_AGENT = Rule(
    "gcs.kms.service_agent",
    "the bucket can use its key",
    "The project's Cloud Storage service agent must hold roles/cloudkms.cryptoKeyEncrypterDecrypter on the "
    "bucket's default key: without it every upload to the bucket fails, and no recording can be read.",
    MANDATORY,
    (PREVIEW, AFTER_DEPLOY, LIVE),
)
DATA_ACCESS_LOGS = Rule(
    "gcs.project.data_access_logs",
    "every read and write is logged",
    "With auditLogs (or the pack's requireAuditLogs), the recordings bucket's project must log Cloud Storage's Data "
    "Access audit logs, DATA_READ and DATA_WRITE (for storage.googleapis.com or allServices), exempting nobody: a "
    "read or write that is not logged leaves no trace of who took or changed a recording.",
    MANDATORY,
    (PREVIEW, AFTER_DEPLOY, LIVE),
)
RULES = (PROVIDER_CONDITION, PROVIDER_ISSUER, PROVIDER_MAPPING, IMPERSONATION, KEYS, PERMISSIONS, LEAST_PRIVILEGE,
         BUCKET_ACCESS, LIFECYCLE, RETENTION, TRANSFER, PUBLIC_ACCESS_PREVENTION, UNIFORM_ACCESS, FORCE_DESTROY,
         COLD_TIER, ENCRYPTION_KEY, SERVICE_AGENT, DATA_ACCESS_LOGS)

TAVUS_SUBJECT = "<Tavus's subject>"

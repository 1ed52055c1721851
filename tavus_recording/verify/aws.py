"""`verify` for S3: will Tavus be able to assume the role and write into the bucket, right now, and
does nobody else get in?

Reads the live role, bucket, key and organization with boto3's default credentials (so `AWS_PROFILE`
and `AWS_ENDPOINT_URL` behave as usual) and judges what it finds with the shared rules
(`tavus_recording.rules.aws`), the same the policy pack judges a stack with before it is deployed. A
read the caller may not make, or a document it cannot evaluate, makes exactly the checks that need it
unknown, said plainly; every other check still runs, and the report always lists the same ids
(`CHECK_IDS`). With no credentials at all, or no AWS to reach, verify cannot run (`CannotVerify`).
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional, Union

import boto3
from botocore.exceptions import BotoCoreError

from components import tavus
from tavus_recording.rules import aws as rules
from tavus_recording.rules.aws.tiers import COLD as COLD_CLASS
from tavus_recording.rules.aws import PolicyDoc
from tavus_recording.rules.aws import audit as audit_rules
from tavus_recording.rules.findings import Finding
from tavus_recording.rules.iam import as_list, iam_match, load_policy_document, normalise_condition, principals, statements
from tavus_recording.verify.aws_reads import (
    ACTIONS,
    CREDENTIALS_FIX,
    IAM_REGION,
    Reader,
    Unread,
    managed_policy,
    organization_policies,
    policy_lists_unread,
    role_policies,
    unread,
)
from tavus_recording.verify.report import (
    UNMANAGED_BUCKET,
    CannotVerify,
    Check,
    failed,
    from_findings,
    passed,
    restore,
    skipped,
    storage_fix,
    storage_managed,
    unknown,
)

CALLER_ACCOUNT = "aws.caller.account"
ROLE_EXISTS = "aws.role.exists"
ROLE_TRUST = rules.TRUST.id
ROLE_MAX_SESSION = rules.MAX_SESSION.id
ROLE_PERMISSIONS = rules.PERMISSIONS.id
ROLE_LEAST_PRIVILEGE = rules.LEAST_PRIVILEGE.id
ROLE_CAN_WRITE = rules.CAN_WRITE.id
BUCKET_EXISTS = "aws.bucket.exists"
BUCKET_REGION = "aws.bucket.region"
BUCKET_VERSIONING = rules.VERSIONING.id
BUCKET_PUBLIC_ACCESS_BLOCK = rules.PUBLIC_ACCESS_BLOCK.id
BUCKET_OWNERSHIP = "aws.bucket.ownership"
BUCKET_ENCRYPTION = "aws.bucket.encryption"
KMS_KEY = rules.KEY.id
BUCKET_TLS_ONLY = "aws.bucket.tls_only"
BUCKET_ACCESS = rules.BUCKET_ACCESS.id
BUCKET_REPLICATION = rules.REPLICATION.id
BUCKET_LIFECYCLE = rules.LIFECYCLE.id
BUCKET_COLD_TIER = rules.COLD_TIER.id
BUCKET_OBJECT_LOCK = rules.OBJECT_LOCK.id
BUCKET_AUDIT_TRAIL = rules.AUDIT_TRAIL.id

# Every report lists these, in this order.
CHECK_IDS: tuple[str, ...] = (
    CALLER_ACCOUNT,
    ROLE_EXISTS,
    ROLE_TRUST,
    ROLE_MAX_SESSION,
    ROLE_PERMISSIONS,
    ROLE_LEAST_PRIVILEGE,
    ROLE_CAN_WRITE,
    BUCKET_EXISTS,
    BUCKET_REGION,
    BUCKET_VERSIONING,
    BUCKET_PUBLIC_ACCESS_BLOCK,
    BUCKET_OWNERSHIP,
    BUCKET_ENCRYPTION,
    KMS_KEY,
    BUCKET_TLS_ONLY,
    BUCKET_ACCESS,
    BUCKET_REPLICATION,
    BUCKET_LIFECYCLE,
    BUCKET_COLD_TIER,
    BUCKET_OBJECT_LOCK,
    BUCKET_AUDIT_TRAIL,
)
# The checks that need the role, and the bucket's settings (skipped together when it is missing).
ROLE_CHECKS = CHECK_IDS[CHECK_IDS.index(ROLE_EXISTS) : CHECK_IDS.index(ROLE_CAN_WRITE) + 1]
BUCKET_SETTING_CHECKS = CHECK_IDS[CHECK_IDS.index(BUCKET_VERSIONING) :]

ROLE_ARN_PATTERN = re.compile(r"^arn:(?P<partition>aws[a-z-]*):iam::(?P<account>\d{12}):role/(?:[^:]*/)?(?P<name>[\w+=,.@-]+)$")
TRAIL_ARN_PATTERN = re.compile(r"^arn:aws[a-z-]*:cloudtrail:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):trail/(?P<name>[\w.-]+)$")
KMS_KEY_ARN_PATTERN = re.compile(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[\w-]+$")
SSE_S3_CONFIGURATION = '{"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"AES256"}}]}'
PUBLIC_ACCESS_FLAGS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")


# --- pure: documents verify alone reads -----------------------------------------------------------------


def region_of(location_constraint: Optional[str]) -> str:
    """GetBucketLocation's answer as a region: none means us-east-1, and the legacy `EU` eu-west-1."""
    if not location_constraint:
        return "us-east-1"
    return "eu-west-1" if location_constraint == "EU" else location_constraint


def enforces_tls(document: Mapping[str, Any], bucket_arn: str) -> bool:
    """A statement denies s3:* to everyone on the bucket and its objects when aws:SecureTransport is false."""
    for statement in statements(document):
        if statement.get("Effect") != "Deny" or {"NotAction", "NotResource", "NotPrincipal"} & statement.keys():
            continue
        if principals(statement.get("Principal")) != {"*"}:
            continue
        if not {str(a).lower() for a in as_list(statement.get("Action"))} & {"s3:*", "*"}:
            continue
        resources = [str(r) for r in as_list(statement.get("Resource"))]
        if not all(any(iam_match(r, target) for r in resources) for target in (bucket_arn, f"{bucket_arn}/*")):
            continue
        # Any further condition would narrow the Deny, so only this exact one counts.
        if normalise_condition(statement.get("Condition")) == {"Bool": {"aws:securetransport": ["false"]}}:
            return True
    return False


# --- what was read about the bucket ----------------------------------------------------------------------------


@dataclass(frozen=True)
class KmsUnknown:
    """The bucket's KMS key could not be determined (or matched), so KMS grants cannot be judged."""

    reason: str


# None: the bucket needs no customer key grant (SSE-S3, or the AWS managed aws/s3 key);
# a str: the key ARN the role must be able to use; KmsUnknown: cannot tell.
KmsNeed = Union[None, str, KmsUnknown]


@dataclass
class BucketFacts:
    """What the bucket checks learned that the role's checks need."""

    region: str
    kms: KmsNeed = None
    # The bucket policy as a document for the write evaluation; None with `policy_unread` when unreadable.
    policy: Optional[PolicyDoc] = None
    exists: bool = True
    missing_reason: str = ""
    checks: list[Check] = field(default_factory=list)


def _unknown(check_id: str, unread: Unread, context: str = "") -> Check:
    return unknown(check_id, f"{context}{unread.detail}", unread.fix)


def _bucket_fix(managed: bool, restore_fix: str, direct: str) -> str:
    return storage_fix(managed, restore_fix, direct, UNMANAGED_BUCKET)


def _restore_or(what: str, cli: str, managed: bool) -> str:
    """`pulumi up --refresh`, or the CLI line, for the kit's bucket; only the CLI line for an existing one."""
    return _bucket_fix(managed, f"{restore(what)}, or: {cli}", cli)


# --- the caller and the role ------------------------------------------------------------------------------------


def check_caller(reader: Reader, region: str, role_account: str) -> Check:
    identity = reader.call("sts", region, "get_caller_identity")
    if isinstance(identity, Unread):
        if identity.unreachable:
            # No answer at all, or the credentials refused: nothing else can be read either.
            raise CannotVerify(f"cannot reach AWS with these credentials: {identity.detail}; {identity.fix}")
        return _unknown(CALLER_ACCOUNT, identity)
    account, arn = identity.get("Account"), identity.get("Arn")
    if account == role_account:
        return passed(CALLER_ACCOUNT, f"credentials are {arn}, in account {account}, the role's account")
    return failed(
        CALLER_ACCOUNT,
        f"credentials are {arn}, in account {account}, but the role is in account {role_account}: "
        "the role checks would read the wrong account",
        f"run verify with credentials for account {role_account} (e.g. AWS_PROFILE=<a profile for {role_account}>)",
    )


def _role_checks_from(
    role_name: str, role_arn: str, role: Mapping[str, Any], storage: tavus.S3RecordingStorageConfig
) -> list[Check]:
    trust_fix = f"{restore('trust policy')} (IAM console > Roles > {role_name} > Trust relationships)"
    try:
        trust = load_policy_document(role.get("AssumeRolePolicyDocument") or {})
        trust_findings = rules.trust_findings(trust, storage.external_id)
    except ValueError as error:
        trust_findings = [Finding(ROLE_TRUST, f"has a trust policy that is not a JSON policy document ({error})", trust_fix)]
    trust_findings = [Finding(f.rule, f.problem, trust_fix, f.unknown) for f in trust_findings]
    session = [
        Finding(f.rule, f.problem, restore("role") + f", or: aws iam update-role --role-name {role_name} --max-session-duration "
                f"{tavus.MAX_SESSION_SECONDS}")
        for f in rules.session_findings(role.get("MaxSessionDuration"))
    ]
    return [
        from_findings(ROLE_TRUST, trust_findings, f"the trust admits only Tavus's account {tavus.TAVUS_AWS_ACCOUNT_ID}, for "
                      f"sts:AssumeRole, with StringEquals sts:ExternalId {storage.external_id!r}", subject=f"role {role_name}:"),
        from_findings(ROLE_MAX_SESSION, session, f"MaxSessionDuration is {tavus.MAX_SESSION_SECONDS} s (12 h), as Tavus asks",
                      subject=f"role {role_name}"),
    ]


def check_role(reader: Reader, role_name: str, role_arn: str, storage: tavus.S3RecordingStorageConfig) -> tuple[list[Check], Optional[Mapping[str, Any]]]:
    """aws.role.exists, .trust and .max_session (all from one GetRole), and the role as read."""
    answer = reader.call("iam", IAM_REGION, "get_role", RoleName=role_name)
    if isinstance(answer, Unread):
        if answer.code == "NoSuchEntity":
            reason = f"role {role_name} does not exist"
            return [
                failed(ROLE_EXISTS, f"{reason}; Tavus assumes {role_arn}", restore("writer role")),
                *skipped((ROLE_TRUST, ROLE_MAX_SESSION), reason),
            ], None
        return [_unknown(check_id, answer) for check_id in (ROLE_EXISTS, ROLE_TRUST, ROLE_MAX_SESSION)], None
    role = answer["Role"]
    return [passed(ROLE_EXISTS, f"role {role.get('Arn', role_arn)} exists"), *_role_checks_from(role_name, role_arn, role, storage)], role


def _permission_fix(role_name: str) -> str:
    return (f"{restore('inline writer policy')}; detach or delete any other policy on the role "
            f"(IAM console > Roles > {role_name} > Permissions)")


def check_permissions(docs: list[PolicyDoc], role_name: str, bucket: str, kms: KmsNeed) -> list[Check]:
    """aws.role.permissions (what the role can do) and aws.role.least_privilege (more than it needs)."""
    keys = [kms] if isinstance(kms, str) else ([] if kms is None else None)
    found = rules.permission_findings(docs, [bucket], keys)
    if isinstance(kms, KmsUnknown):
        found.append(Finding(ROLE_PERMISSIONS, f"KMS grants not judged: {kms.reason}", "", unknown=True))
    fix = _permission_fix(role_name)
    found = [Finding(f.rule, f.problem, fix if f.fix else "", f.unknown) for f in found]
    held_in = "; ".join(doc.label for doc in docs) or "no policy"
    kms_part = f", and {' and '.join(tavus.KMS_WRITER_ACTIONS)} on {kms}" if isinstance(kms, str) else ""
    return [
        from_findings(ROLE_PERMISSIONS, found, f"the role's policies ({held_in}) grant only the writer actions on "
                      f"arn:aws:s3:::{bucket} and its objects{kms_part}: nothing that deletes, reconfigures or reaches further",
                      subject=f"role {role_name}:"),
        from_findings(ROLE_LEAST_PRIVILEGE, found, "no read beyond the writer's", subject=f"role {role_name}:"),
    ]


def permissions_boundary(reader: Reader, role: Mapping[str, Any]) -> Optional[PolicyDoc]:
    """The role's permissions boundary (GetRole's answer names it), or None when it has none."""
    boundary_arn = (role.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")
    return managed_policy(reader, boundary_arn, f"permissions boundary {boundary_arn}") if boundary_arn else None


def read_key_policy(reader: Reader, region: str, key: str) -> Any:
    return reader.call("kms", region, "get_key_policy", KeyId=key, PolicyName="default")


def check_can_write(
    reader: Reader,
    docs: list[PolicyDoc],
    role: Mapping[str, Any],
    role_arn: str,
    facts: BucketFacts,
    storage: tavus.S3RecordingStorageConfig,
) -> Check:
    """aws.role.can_write: every writer action allowed, and nothing (Deny, boundary, SCP, key policy) stopping it."""
    account = rules.arn_account(role_arn) or ""
    boundary = permissions_boundary(reader, role)
    resource_policies = [facts.policy] if facts.policy else []
    guardrails = organization_policies(reader, account)
    key = facts.kms if isinstance(facts.kms, str) else None
    role_id = role.get("RoleId")
    found = rules.write_blockers(docs, storage.bucket_name, role_arn, key, boundary, resource_policies, guardrails, role_id)
    if key:
        policy = read_key_policy(reader, facts.region, key)
        document = None
        reason = policy.detail if isinstance(policy, Unread) else ""
        if not isinstance(policy, Unread):
            try:
                document = load_policy_document(policy.get("Policy") or "{}")
            except ValueError as error:
                reason = f"not JSON ({error})"
        found += rules.key_policy_blockers(document, key, role_arn, reason, role_id)
    if isinstance(facts.kms, KmsUnknown):
        found.append(Finding(ROLE_CAN_WRITE, f"cannot be proved to use the bucket's key: {facts.kms.reason}", "", unknown=True))
    # What the stack manages comes back with a refresh; a boundary, an SCP or a key policy is mended where it lives.
    refresh = restore("writer role and bucket policy")
    found = [Finding(f.rule, f.problem, f"{f.fix}; or {refresh}" if f.fix and not f.unknown else f.fix, f.unknown) for f in found]
    read = ["its policies", "the bucket policy"] + (["its permissions boundary"] if boundary else []) + \
        (["the organization's SCPs/RCPs"] if guardrails else []) + (["the key policy"] if key else [])
    return from_findings(
        ROLE_CAN_WRITE,
        found,
        f"every writer action on arn:aws:s3:::{storage.bucket_name} is allowed and nothing denies it (read: {', '.join(read)})",
        subject=f"role {role_arn.rsplit('/', 1)[-1]}",
    )


# --- the bucket -----------------------------------------------------------------------------------------------------


def _sse_c_blocked(bucket: str, rules_found: list[Any], managed: bool, done: str) -> Check:
    """The encryption check once the default encryption (`done`, what was read) holds: SSE-C uploads must be blocked.
    The direct fix keeps the bucket's own rule and adds the block."""
    rule = {**(rules_found[0] if rules_found else {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}),
            "BlockedEncryptionTypes": {"EncryptionType": ["SSE-C"]}}
    direct = (f"aws s3api put-bucket-encryption --bucket {bucket} --server-side-encryption-configuration "
              f"'{json.dumps({'Rules': [rule]}, separators=(',', ':'))}'")
    found = rules.sse_c_findings(rules_found, _bucket_fix(managed, f"{restore('bucket encryption')}, or {direct}", direct))
    return from_findings(BUCKET_ENCRYPTION, found, f"{done}; uploads encrypted with a key the writer brings (SSE-C) are blocked",
                         subject=f"bucket {bucket}")


def check_encryption(reader: Reader, region: str, bucket: str, managed: bool = True) -> tuple[Check, KmsNeed]:
    """aws.bucket.encryption (the default encryption, and SSE-C uploads blocked: the writer picks each upload's
    encryption), and which KMS key (if any) the role must be able to use."""
    answer = reader.call("s3", region, "get_bucket_encryption", Bucket=bucket)
    if isinstance(answer, Unread):
        if answer.code == "ServerSideEncryptionConfigurationNotFoundError":
            # Since January 2023 S3 encrypts every bucket with SSE-S3 and always reports it; an
            # emulator (moto) or an old API answers "not found", which still means SSE-S3 applies, and nothing blocks SSE-C.
            return _sse_c_blocked(bucket, [], managed, "no default encryption configured: S3's default SSE-S3 (AES256) applies"), None
        return _unknown(BUCKET_ENCRYPTION, answer), KmsUnknown(answer.detail)
    found = answer.get("ServerSideEncryptionConfiguration", {}).get("Rules", [])
    default = found[0].get("ApplyServerSideEncryptionByDefault", {}) if found else {}
    algorithm = default.get("SSEAlgorithm")
    if algorithm == "AES256":
        return _sse_c_blocked(bucket, found, managed, "default encryption is SSE-S3 (AES256)"), None
    if algorithm in ("aws:kms", "aws:kms:dsse"):
        key = default.get("KMSMasterKeyID")
        if not key:
            # The AWS managed aws/s3 key: its key policy admits S3 callers, so no IAM grant is needed.
            return _sse_c_blocked(bucket, found, managed, f"default encryption is {algorithm} with the AWS managed key aws/s3"), None
        if KMS_KEY_ARN_PATTERN.match(key):
            return _sse_c_blocked(bucket, found, managed, f"default encryption is {algorithm} with key {key}"), key
        reason = f"the bucket's key is given as {key!r}, an alias or bare key id that cannot be matched to the role's policy"
        return _sse_c_blocked(bucket, found, managed, f"default encryption is {algorithm} with key {key}"), KmsUnknown(reason)
    return (
        failed(
            BUCKET_ENCRYPTION,
            f"default encryption is {algorithm or 'not set'}; the kit sets SSE-S3 (AES256) or SSE-KMS",
            _bucket_fix(
                managed,
                restore("bucket encryption"),
                f"aws s3api put-bucket-encryption --bucket {bucket} --server-side-encryption-configuration '{SSE_S3_CONFIGURATION}'",
            ),
        ),
        None,
    )


def check_key(reader: Reader, region: str, kms: KmsNeed) -> Check:
    """aws.kms.key: the bucket's customer key is enabled and not going away."""
    if kms is None:
        return passed(KMS_KEY, "no customer KMS key to keep usable (SSE-S3 or the AWS managed key)")
    if isinstance(kms, KmsUnknown):
        return unknown(KMS_KEY, f"the bucket's key could not be told: {kms.reason}")
    answer = reader.call("kms", region, "describe_key", KeyId=kms)
    if isinstance(answer, Unread):
        return _unknown(KMS_KEY, answer)
    metadata = answer.get("KeyMetadata", {})
    state = metadata.get("KeyState")
    found = rules.key_findings(kms, metadata.get("Enabled"), state)
    return from_findings(KMS_KEY, found, f"key {kms} is {state or 'enabled'}", subject="the bucket")


def check_versioning(reader: Reader, region: str, bucket: str, managed: bool = True) -> Check:
    answer = reader.call("s3", region, "get_bucket_versioning", Bucket=bucket)
    if isinstance(answer, Unread):
        return _unknown(BUCKET_VERSIONING, answer)
    status = answer.get("Status")
    if status == "Enabled":
        return passed(BUCKET_VERSIONING, "versioning is Enabled, as Daily requires")
    return failed(
        BUCKET_VERSIONING,
        f"versioning is {status or 'never enabled'}; Daily (Tavus's recorder) requires it Enabled",
        _restore_or("bucket versioning", f"aws s3api put-bucket-versioning --bucket {bucket} --versioning-configuration Status=Enabled", managed),
    )


def check_public_access_block(reader: Reader, region: str, bucket: str, managed: bool = True) -> Check:
    fix = _restore_or(
        "public access block",
        f"aws s3api put-public-access-block --bucket {bucket} --public-access-block-configuration "
        + ",".join(f"{flag}=true" for flag in PUBLIC_ACCESS_FLAGS),
        managed,
    )
    answer = reader.call("s3", region, "get_public_access_block", Bucket=bucket)
    if isinstance(answer, Unread):
        if answer.code == "NoSuchPublicAccessBlockConfiguration":
            return failed(BUCKET_PUBLIC_ACCESS_BLOCK, "the bucket has no public access block; the kit turns on all four settings", fix)
        return _unknown(BUCKET_PUBLIC_ACCESS_BLOCK, answer)
    settings = answer.get("PublicAccessBlockConfiguration", {})
    off = [flag for flag in PUBLIC_ACCESS_FLAGS if settings.get(flag) is not True]
    if off:
        return failed(BUCKET_PUBLIC_ACCESS_BLOCK, f"public access block has {', '.join(off)} off; recordings must not be public", fix)
    return passed(BUCKET_PUBLIC_ACCESS_BLOCK, "all four public access block settings are on")


def check_ownership(reader: Reader, region: str, bucket: str, managed: bool = True) -> Check:
    fix = _restore_or(
        "object ownership",
        f"aws s3api put-bucket-ownership-controls --bucket {bucket} --ownership-controls 'Rules=[{{ObjectOwnership=BucketOwnerEnforced}}]'",
        managed,
    )
    answer = reader.call("s3", region, "get_bucket_ownership_controls", Bucket=bucket)
    if isinstance(answer, Unread):
        if answer.code == "OwnershipControlsNotFoundError":
            return failed(BUCKET_OWNERSHIP, "no object ownership controls: objects Tavus writes would be owned by Tavus's account", fix)
        return _unknown(BUCKET_OWNERSHIP, answer)
    found = answer.get("OwnershipControls", {}).get("Rules", [])
    ownership = found[0].get("ObjectOwnership") if found else None
    if ownership == "BucketOwnerEnforced":
        return passed(BUCKET_OWNERSHIP, "object ownership is BucketOwnerEnforced: you own every recording, ACLs are off")
    return failed(BUCKET_OWNERSHIP, f"object ownership is {ownership}; the kit sets BucketOwnerEnforced", fix)


def read_bucket_policy(reader: Reader, region: str, bucket: str) -> Union[PolicyDoc, Unread]:
    """The bucket policy (an empty one when the bucket has none)."""
    answer = reader.call("s3", region, "get_bucket_policy", Bucket=bucket)
    if isinstance(answer, Unread):
        return PolicyDoc("the bucket policy", {"Statement": []}) if answer.code == "NoSuchBucketPolicy" else answer
    try:
        return PolicyDoc("the bucket policy", load_policy_document(answer.get("Policy") or "{}"))
    except ValueError as error:
        return PolicyDoc("the bucket policy", None, reason=f"not JSON ({error})")


def check_tls_only(policy: Union[PolicyDoc, Unread], bucket: str, bucket_arn: str, managed: bool = True) -> Check:
    console = f"S3 console > {bucket} > Permissions > Bucket policy"
    fix = _bucket_fix(
        managed,
        f"{restore('TLS-only bucket policy')} ({console})",
        # put-bucket-policy would replace the whole policy, so an existing bucket's is edited in place.
        f"in {console}, add (keeping the other statements) a Deny of s3:* to Principal * on {bucket_arn} and "
        f"{bucket_arn}/* with the condition Bool aws:SecureTransport false",
    )
    if isinstance(policy, Unread):
        return _unknown(BUCKET_TLS_ONLY, policy)
    if policy.document is None:
        return failed(BUCKET_TLS_ONLY, f"the bucket policy is {policy.reason}", fix)
    if not statements(policy.document):
        return failed(BUCKET_TLS_ONLY, "the bucket has no policy, so requests over plain HTTP are not refused", fix)
    if enforces_tls(policy.document, bucket_arn):
        return passed(BUCKET_TLS_ONLY, "the bucket policy denies every request without TLS (aws:SecureTransport false)")
    return failed(
        BUCKET_TLS_ONLY,
        f"the bucket policy ({len(statements(policy.document))} statements) has no Deny of s3:* to * on {bucket_arn} and its "
        "objects when aws:SecureTransport is false",
        fix,
    )


def check_access(reader: Reader, region: str, bucket: str, policy: Union[PolicyDoc, Unread], own: set[str], managed: bool) -> Check:
    """aws.bucket.access: nobody beyond your account reaches the recordings, by the bucket policy or an ACL."""
    console = f"S3 console > {bucket} > Permissions"
    fix = _bucket_fix(managed, f"{restore('bucket policy')} ({console})", f"remove those statements and grants in {console}")
    found: list[Finding] = []
    if isinstance(policy, Unread):
        found.append(Finding(BUCKET_ACCESS, f"policy could not be read: {policy.detail}", policy.fix, unknown=True))
    elif policy.document is None:
        found.append(Finding(BUCKET_ACCESS, f"policy is {policy.reason}", fix, unknown=True))
    else:
        found += rules.bucket_policy_findings(policy.document, bucket, own, what="policy")
    acl = reader.call("s3", region, "get_bucket_acl", Bucket=bucket)
    if isinstance(acl, Unread):
        found.append(Finding(BUCKET_ACCESS, f"ACL could not be read: {acl.detail}", acl.fix, unknown=True))
    else:
        found += rules.acl_findings(None, acl.get("Grants", []), (acl.get("Owner") or {}).get("ID"))
    found = [Finding(f.rule, f.problem, fix if not f.unknown else f.fix, f.unknown) for f in found]
    return from_findings(BUCKET_ACCESS, found, f"only account {', '.join(sorted(own))} reaches the recordings: no public, "
                         "cross-account, service or direct-to-Tavus grant in the bucket policy or ACL", subject="the bucket")


def check_replication(reader: Reader, region: str, bucket: str, own: set[str], managed: bool) -> Check:
    """aws.bucket.replication: recordings are copied only to buckets proved to be yours."""
    answer = reader.call("s3", region, "get_bucket_replication", Bucket=bucket)
    if isinstance(answer, Unread):
        if answer.code == "ReplicationConfigurationNotFoundError":
            return passed(BUCKET_REPLICATION, "the bucket has no replication: recordings stay in it")
        return _unknown(BUCKET_REPLICATION, answer)
    replication_rules = answer.get("ReplicationConfiguration", {}).get("Rules", [])
    # A destination without Account may still be yours: S3 says so when asked with ExpectedBucketOwner.
    asked = []
    for rule in replication_rules:
        destination = rule.get("Destination", {})
        name = rules.s3_bucket_of(str(destination.get("Bucket", "")))
        if name and not destination.get("Account") and own:
            asked.append((name, functools.partial(reader.call, "s3", region, "head_bucket", Bucket=name, ExpectedBucketOwner=sorted(own)[0])))
    reader.warm(*[read for _, read in asked])
    yours = {name for name, read in asked if not isinstance(read(), Unread)}
    fix = _bucket_fix(managed, restore("bucket settings (the kit sets no replication)") + f", or: aws s3api delete-bucket-replication --bucket {bucket}",
                      f"aws s3api delete-bucket-replication --bucket {bucket}, or point the rule at a bucket of account {', '.join(sorted(own))}")
    found = [Finding(f.rule, f.problem, fix) for f in rules.replication_findings(replication_rules, own, yours)]
    return from_findings(BUCKET_REPLICATION, found, "replication copies recordings only to your own buckets", subject="the bucket")


def check_lifecycle(reader: Reader, region: str, bucket: str, outputs: Mapping[str, Any], managed: bool) -> Check:
    """aws.bucket.lifecycle: no rule expires current recordings sooner than the stack's retention."""
    answer = reader.call("s3", region, "get_bucket_lifecycle_configuration", Bucket=bucket)
    if isinstance(answer, Unread):
        if answer.code == "NoSuchLifecycleConfiguration":
            return passed(BUCKET_LIFECYCLE, "no lifecycle rule expires recordings")
        return _unknown(BUCKET_LIFECYCLE, answer)
    retention = outputs.get("retention_days")
    known = "retention_days" in outputs
    found = rules.lifecycle_findings(answer.get("Rules", []), retention if isinstance(retention, int) else None, known)
    fix = _bucket_fix(managed, restore("lifecycle rules"), "change or remove the rule (S3 console > Management > Lifecycle rules)")
    found = [Finding(f.rule, f.problem, fix if not f.unknown else f.fix, f.unknown) for f in found]
    kept = f"expire after {retention} days" if retention else "never expire (no retentionDays)"
    return from_findings(BUCKET_LIFECYCLE, found, f"current recordings {kept}, as the stack says", subject="the bucket")



def _cold_after(outputs: Mapping[str, Any]) -> Optional[int]:
    """The stack's coldAfterDays (`cold_after_days`: null, or absent on stacks deployed before it, is off)."""
    value = outputs.get("cold_after_days")
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


# A bound on the pages read, only against a token that never ends: a bucket holds at most 1,000 configurations.
TIERING_PAGES = 1000


def _tiering_configurations(reader: Reader, region: str, bucket: str) -> Union[list[Any], Unread]:
    """Every Intelligent-Tiering configuration of the bucket (ListBucketIntelligentTieringConfigurations, by pages)."""
    found: list[Any] = []
    token: Optional[str] = None
    seen: set[str] = set()
    for _ in range(TIERING_PAGES):
        page = {"ContinuationToken": token} if token else {}
        answer = reader.call("s3", region, "list_bucket_intelligent_tiering_configurations", Bucket=bucket, **page)
        if isinstance(answer, Unread):
            return answer
        found += as_list(answer.get("IntelligentTieringConfigurationList"))
        token = answer.get("NextContinuationToken")
        if not (answer.get("IsTruncated") and token):
            return found
        if token in seen:
            return Unread("ListBucketIntelligentTieringConfigurations gave the same page token twice: a listing that never ends")
        seen.add(token)
    return Unread(f"more than {TIERING_PAGES} pages of Intelligent-Tiering configurations")


def check_cold_tier(reader: Reader, region: str, bucket: str, outputs: Mapping[str, Any], managed: bool) -> Check:
    """aws.bucket.cold_tier: no lifecycle rule moves recordings to an archive class, no Intelligent-Tiering configuration
    turns an archive tier on, and the stack's move to GLACIER_IR is there. The class an upload asks for is not read."""
    cold = _cold_after(outputs)
    found: list[Finding] = []
    reader.warm(lambda: _tiering_configurations(reader, region, bucket))
    answer = reader.call("s3", region, "get_bucket_lifecycle_configuration", Bucket=bucket)
    if isinstance(answer, Unread) and answer.code != "NoSuchLifecycleConfiguration":
        found.append(Finding(BUCKET_COLD_TIER, f"could not be read for its lifecycle rules: {answer.detail}", answer.fix, unknown=True))
    else:
        fix = _bucket_fix(managed, restore("lifecycle rules"), rules.cold_tier_fix(cold))
        rules_read = answer.get("Rules", []) if not isinstance(answer, Unread) else []
        found += [Finding(f.rule, f.problem, fix) for f in rules.cold_tier_findings(rules_read, cold)]
    tierings = _tiering_configurations(reader, region, bucket)
    if isinstance(tierings, Unread):
        found.append(Finding(BUCKET_COLD_TIER, f"could not be read for its Intelligent-Tiering configurations: {tierings.detail}",
                             tierings.fix, unknown=True))
    else:
        for config in tierings:
            # The kit sets no Intelligent-Tiering configuration, so `pulumi up` would not remove one.
            name = config.get("Id") if isinstance(config, Mapping) else None
            remove = f"aws s3api delete-bucket-intelligent-tiering-configuration --bucket {bucket} --id {name or '<id>'}"
            found += [Finding(f.rule, f.problem, remove) for f in rules.intelligent_tiering_findings([config])]
    moved = (f"lifecycle rules move current recordings to {COLD_CLASS} after {cold} days, as the stack says, and none to an "
             "archive class" if cold else "lifecycle rules move recordings to no archive class")
    tiered = "no Intelligent-Tiering configuration has an archive tier"
    return from_findings(BUCKET_COLD_TIER, found, f"{moved}; {tiered}" + ("" if cold else " (no coldAfterDays)"), subject="the bucket")


def worm_asked(outputs: Mapping[str, Any]) -> Union[tuple[Optional[int], Optional[str]], str]:
    """The stack's (immutable_days, immutable_mode in force) from its outputs: (None, None) when off (null, or absent
    on stacks deployed before them); a str saying why when they are not what the kit exports."""
    days, mode = outputs.get("immutable_days"), outputs.get("immutable_mode")
    if days is None:
        return None, None
    if not isinstance(days, int) or isinstance(days, bool) or days < 1:
        return f"the output immutable_days is {days!r}, not a number of days"
    if mode is None:
        return days, "governance"
    if not isinstance(mode, str) or mode.lower() not in ("governance", "compliance"):
        return f"the output immutable_mode is {mode!r}, neither governance nor compliance"
    return days, mode.lower()


def check_object_lock(reader: Reader, region: str, bucket: str, outputs: Mapping[str, Any], managed: bool) -> Check:
    """aws.bucket.object_lock: Object Lock on, every new recording locked for the stack's days in its mode."""
    asked = worm_asked(outputs)
    if isinstance(asked, str):
        return unknown(BUCKET_OBJECT_LOCK, f"not checked: {asked}", "write the outputs again with `pulumi stack output --json --show-secrets`")
    days, mode = asked
    if days is None:
        return passed(BUCKET_OBJECT_LOCK, "the stack sets no immutableDays: no Object Lock retention to hold")
    answer = reader.call("s3", region, "get_object_lock_configuration", Bucket=bucket)
    if isinstance(answer, Unread):
        if answer.code != "ObjectLockConfigurationNotFoundError":
            return _unknown(BUCKET_OBJECT_LOCK, answer)
        answer = {}  # S3's answer for a bucket whose Object Lock was never turned on: off, not unknown
    cli = rules.object_lock_fix(days, mode).split(": ", 1)[1].replace("<bucket>", bucket)
    fix = _restore_or("Object Lock configuration", cli, managed)
    configuration = answer.get("ObjectLockConfiguration")
    found = [Finding(f.rule, f.problem, fix) for f in rules.object_lock_findings(configuration, days, mode)]
    retention = ((configuration or {}).get("Rule") or {}).get("DefaultRetention") or {}
    period = f"{retention['Days']} days" if retention.get("Days") else f"{retention.get('Years')} year(s)"
    return from_findings(BUCKET_OBJECT_LOCK, found, f"Object Lock is on: every new recording is locked for {period} in "
                         f"{retention.get('Mode')} mode (the stack asks at least {days} days, {(mode or '').upper()})", subject="the bucket")


def _log_bucket_findings(reader: Reader, region: str, log_bucket: str, account: str, partition: str,
                         outputs: Mapping[str, Any]) -> list[Finding]:
    """The log bucket keeps the logs, to itself: all four public access block settings on; a policy that lets
    CloudTrail write the account's log files and denies it nothing, and lets in only your account and CloudTrail
    acting for it (the kit's: for this trail only); and no lifecycle rule expiring current logs sooner than the
    stack keeps recordings (at all, when it keeps them forever): the logs must outlive what they are about."""
    found: list[Finding] = []
    console = f"S3 console > {log_bucket} > Permissions"
    reader.warm(lambda: read_bucket_policy(reader, region, log_bucket),
                lambda: reader.call("s3", region, "get_bucket_lifecycle_configuration", Bucket=log_bucket))
    block = reader.call("s3", region, "get_public_access_block", Bucket=log_bucket)
    if isinstance(block, Unread) and block.code != "NoSuchPublicAccessBlockConfiguration":
        found.append(Finding(BUCKET_AUDIT_TRAIL, f"log bucket {log_bucket}'s public access block could not be read: {block.detail}", block.fix, unknown=True))
    else:
        settings = {} if isinstance(block, Unread) else block.get("PublicAccessBlockConfiguration", {})
        off = [flag for flag in PUBLIC_ACCESS_FLAGS if settings.get(flag) is not True]
        if off:
            found.append(Finding(BUCKET_AUDIT_TRAIL, f"log bucket {log_bucket} has {', '.join(off)} off, so the audit logs could be made public", ""))
    policy = read_bucket_policy(reader, region, log_bucket)
    if isinstance(policy, Unread) or policy.document is None:
        why = policy.detail if isinstance(policy, Unread) else policy.reason
        found.append(Finding(BUCKET_AUDIT_TRAIL, f"log bucket {log_bucket}'s policy could not be read: {why}",
                             policy.fix if isinstance(policy, Unread) else "", unknown=True))
    else:
        for finding in rules.bucket_policy_findings(policy.document, log_bucket, {account}, what="log bucket policy"):
            found.append(Finding(BUCKET_AUDIT_TRAIL, finding.problem.replace("reach the recordings", "reach the audit logs"),
                                 f"{restore('log bucket policy')}, or remove that statement ({console})", finding.unknown))
        for finding in audit_rules.log_delivery_findings(policy.document, f"arn:{partition}:s3:::{log_bucket}", account):
            found.append(Finding(BUCKET_AUDIT_TRAIL, finding.problem, finding.fix if finding.unknown else
                                 f"{restore('log bucket policy')}, or remove that statement ({console})", finding.unknown))
    lifecycle = reader.call("s3", region, "get_bucket_lifecycle_configuration", Bucket=log_bucket)
    if isinstance(lifecycle, Unread) and lifecycle.code != "NoSuchLifecycleConfiguration":
        found.append(Finding(BUCKET_AUDIT_TRAIL, f"log bucket {log_bucket}'s lifecycle rules could not be read: {lifecycle.detail}",
                             lifecycle.fix, unknown=True))
    elif not isinstance(lifecycle, Unread):
        retention = outputs.get("retention_days")
        for finding in rules.lifecycle_findings(lifecycle.get("Rules", []), retention if isinstance(retention, int) else None,
                                                "retention_days" in outputs):
            problem = finding.problem.replace("every current recording", "every current audit log").replace("current recordings", "current audit logs")
            found.append(Finding(BUCKET_AUDIT_TRAIL, f"log bucket {log_bucket} {problem}: the logs must outlive the recordings they are about",
                                 f"{restore('log bucket lifecycle')}, or remove that rule (S3 console > {log_bucket} > Management > "
                                 "Lifecycle rules)", finding.unknown))
    return found


def _delivery_errors(status: Any, name: str, trail_arn: str) -> list[Finding]:
    """GetTrailStatus's LatestDeliveryError / LatestDigestDeliveryError: an S3 error on CloudTrail's last delivery to
    the log bucket ("occurs only when there is a problem with the destination S3 bucket", GetTrailStatus in the
    CloudTrail API reference). The answer carries no time for the error, so any error fails: logs are not arriving."""
    if isinstance(status, Unread):
        return []
    found: list[Finding] = []
    for field_name, what, when in (("LatestDeliveryError", "log files", "LatestDeliveryTime"),
                                   ("LatestDigestDeliveryError", "digest files", "LatestDigestDeliveryTime")):
        error = status.get(field_name)
        if error:
            last = status.get(when)
            found.append(Finding(BUCKET_AUDIT_TRAIL, f"trail {name}'s latest delivery of {what} to its log bucket failed ({field_name}: "
                                 f"{error}; last delivered: {last or 'never'}): the logs are not arriving",
                                 "let CloudTrail write to the log bucket again (its policy's AWSCloudTrailWrite statement, any KMS key "
                                 f"of the trail), then check: aws cloudtrail get-trail-status --name {trail_arn}"))
    return found


def check_audit_trail(reader: Reader, region: str, bucket_arn: str, outputs: Mapping[str, Any]) -> Check:
    """aws.bucket.audit_trail: with auditLogs, the stack's trail logs every read and write of the bucket's objects,
    with log file validation, logging now, into the stack's log bucket."""
    asked = outputs.get("audit_logs")
    if asked is None or asked is False:
        return passed(BUCKET_AUDIT_TRAIL, "the stack sets no auditLogs: no trail to hold")
    trail_arn, log_bucket = outputs.get("audit_trail_arn"), outputs.get("audit_log_bucket")
    match = TRAIL_ARN_PATTERN.match(trail_arn) if isinstance(trail_arn, str) else None
    if asked is not True or not match:
        return unknown(BUCKET_AUDIT_TRAIL, f"not checked: the outputs say audit_logs {asked!r} and audit_trail_arn {trail_arn!r}, not the "
                       "kit's", "write the outputs again with `pulumi stack output --json --show-secrets`")
    trail_region, name = match["region"], match["name"]
    restore_fix = restore("audit trail")
    answer = reader.call("cloudtrail", trail_region, "get_trail", Name=trail_arn)
    if isinstance(answer, Unread):
        if answer.code == "TrailNotFoundException":
            return failed(BUCKET_AUDIT_TRAIL, f"trail {trail_arn} does not exist: nothing logs who reads or writes recordings", restore_fix)
        return _unknown(BUCKET_AUDIT_TRAIL, answer)
    partition = str(trail_arn).split(":")[1]  # the pattern holds it: arn:aws[...]:cloudtrail:...
    # None of these needs another's answer.
    reader.warm(lambda: reader.call("cloudtrail", trail_region, "get_trail_status", Name=trail_arn),
                *([lambda: _log_bucket_findings(reader, trail_region, log_bucket, match["account"], partition, outputs)]
                  if isinstance(log_bucket, str) else []))
    selectors = reader.call("cloudtrail", trail_region, "get_event_selectors", TrailName=trail_arn)
    status = reader.call("cloudtrail", trail_region, "get_trail_status", Name=trail_arn)
    trail = answer.get("Trail") or {}
    home = trail.get("HomeRegion") or trail_region
    elsewhere = None if trail.get("IsMultiRegionTrail") or home == region else \
        f"logs only {home}, and the bucket is in {region} (a single-region trail logs its own region's data events)"
    found = rules.trail_findings(rules.Trail(
        name, advanced=[] if isinstance(selectors, Unread) else selectors.get("AdvancedEventSelectors") or [],
        basic=[] if isinstance(selectors, Unread) else selectors.get("EventSelectors") or [],
        validation=trail.get("LogFileValidationEnabled") is True,
        logging=None if isinstance(status, Unread) else status.get("IsLogging") is True, elsewhere=elsewhere), bucket_arn)
    if isinstance(selectors, Unread):  # what it logs was not read: never a pass
        found = [f for f in found if "does not log the" not in f.problem]
        found.append(Finding(BUCKET_AUDIT_TRAIL, f"trail {name}: what it logs could not be read: {selectors.detail}", selectors.fix, unknown=True))
    if isinstance(status, Unread):
        found.append(Finding(BUCKET_AUDIT_TRAIL, f"trail {name}: whether it is logging could not be read: {status.detail}", status.fix, unknown=True))
    if isinstance(log_bucket, str) and trail.get("S3BucketName") != log_bucket:
        found.append(Finding(BUCKET_AUDIT_TRAIL, f"trail {name} delivers its logs to {trail.get('S3BucketName')!r}, not the stack's "
                             f"log bucket {log_bucket}", ""))
    key = trail.get("KmsKeyId")
    if key:  # the kit's trail sets none: a key the stack does not define decides who can read the logs, or stops them
        found.append(Finding(BUCKET_AUDIT_TRAIL, f"trail {name} encrypts its logs with KMS key {key}, which this stack does not define: "
                             "whoever controls that key decides whether the logs can be written or read", ""))
    if isinstance(log_bucket, str):
        found += _log_bucket_findings(reader, trail_region, log_bucket, match["account"], partition, outputs)
    fix = f"{restore_fix}, or: aws cloudtrail start-logging --name {trail_arn}" if any("is not logging" in f.problem for f in found) else restore_fix
    found = [Finding(f.rule, f.problem, f.fix if f.unknown or "remove that " in f.fix else fix, f.unknown) for f in found]
    found += _delivery_errors(status, name, str(trail_arn))
    retention = outputs.get("retention_days")
    kept = f"{retention} days, the stack's retention" if isinstance(retention, int) else "ever (the stack sets no retentionDays)"
    return from_findings(BUCKET_AUDIT_TRAIL, found, f"trail {name} logs every read and write of {bucket_arn}/*, with log file validation "
                         f"and no KMS key, is logging, and reports no delivery error (GetTrailStatus); it logs into "
                         f"{trail.get('S3BucketName')}, whose public access block is all on, whose policy lets CloudTrail write "
                         f"AWSLogs/{match['account']}/ (denied by nothing) and lets in only your account and CloudTrail acting for it, "
                         f"and whose lifecycle rules expire no current log sooner than {kept}")


def check_bucket(reader: Reader, bucket: str, bucket_arn: str, expected_region: str, own: set[str],
                 outputs: Mapping[str, Any], managed: bool = True) -> BucketFacts:
    """The bucket's checks, and what the role's checks need of it (its key, its policy).

    `managed` is False for a bucket named with existingBucket: the fixes are then the direct ones only.
    """
    # GetBucketLocation answers from us-east-1 for a bucket in any region.
    location = reader.call("s3", IAM_REGION, "get_bucket_location", Bucket=bucket)
    facts = BucketFacts(region=expected_region)
    if isinstance(location, Unread):
        if location.code == "NoSuchBucket":
            reason = f"bucket {bucket} does not exist"
            fix = _bucket_fix(managed, restore("bucket"),
                              f"check the name given in existingBucket (aws s3api head-bucket --bucket {bucket}), or create that bucket")
            facts.checks = [failed(BUCKET_EXISTS, f"{reason}; Tavus writes to it", fix), *skipped((BUCKET_REGION, *BUCKET_SETTING_CHECKS), reason)]
            facts.exists, facts.missing_reason, facts.kms = False, reason, KmsUnknown(reason)
            return facts
        facts.checks += [_unknown(BUCKET_EXISTS, location), _unknown(BUCKET_REGION, location)]
    else:
        facts.region = region_of(location.get("LocationConstraint"))
        facts.checks.append(passed(BUCKET_EXISTS, f"bucket {bucket} exists"))
        if facts.region == expected_region:
            facts.checks.append(passed(BUCKET_REGION, f"bucket is in {facts.region}, as recording_storage.bucket_region says"))
        else:
            facts.checks.append(
                failed(
                    BUCKET_REGION,
                    f"bucket is in {facts.region}, but recording_storage.bucket_region says {expected_region}: "
                    "Tavus would look for it in the wrong region",
                    f"run `pulumi up --refresh` for this stack so its outputs say {facts.region}, and pass Tavus the new recording_storage",
                )
            )
    # The bucket's own region from here on (real S3 redirects requests sent elsewhere).
    region = facts.region
    # Every setting's read needs only the region: one round (the key's, after the encryption names it).
    reader.warm(
        lambda: check_key(reader, region, check_encryption(reader, region, bucket, managed)[1]),
        lambda: read_bucket_policy(reader, region, bucket),
        lambda: check_versioning(reader, region, bucket, managed),
        lambda: check_public_access_block(reader, region, bucket, managed),
        lambda: check_ownership(reader, region, bucket, managed),
        lambda: reader.call("s3", region, "get_bucket_acl", Bucket=bucket),
        lambda: check_replication(reader, region, bucket, own, managed),
        lambda: check_lifecycle(reader, region, bucket, outputs, managed),
        lambda: check_cold_tier(reader, region, bucket, outputs, managed),
        lambda: check_object_lock(reader, region, bucket, outputs, managed),
        lambda: check_audit_trail(reader, region, bucket_arn, outputs),
    )
    encryption, facts.kms = check_encryption(reader, region, bucket, managed)
    policy = read_bucket_policy(reader, region, bucket)
    facts.policy = policy if isinstance(policy, PolicyDoc) else unread("the bucket policy", policy)
    facts.checks += [
        check_versioning(reader, region, bucket, managed),
        check_public_access_block(reader, region, bucket, managed),
        check_ownership(reader, region, bucket, managed),
        encryption,
        check_key(reader, region, facts.kms),
        check_tls_only(policy, bucket, bucket_arn, managed),
        check_access(reader, region, bucket, policy, own, managed),
        check_replication(reader, region, bucket, own, managed),
        check_lifecycle(reader, region, bucket, outputs, managed),
        check_cold_tier(reader, region, bucket, outputs, managed),
        check_object_lock(reader, region, bucket, outputs, managed),
        check_audit_trail(reader, region, bucket_arn, outputs),
    ]
    return facts


# --- all of it ---------------------------------------------------------------------------------------------------------


def _session(session: Optional[boto3.Session]) -> boto3.Session:
    try:
        session = session or boto3.Session()
        credentials = session.get_credentials()
    except BotoCoreError as error:  # e.g. AWS_PROFILE names a profile that does not exist
        raise CannotVerify(f"no AWS session: {error}; {CREDENTIALS_FIX}") from None
    if credentials is None:
        raise CannotVerify(f"no AWS credentials found: {CREDENTIALS_FIX}")
    return session


def verify(
    storage: tavus.S3RecordingStorageConfig,
    outputs: Mapping[str, Any],
    session: Optional[boto3.Session] = None,
) -> list[Check]:
    """Every check in `CHECK_IDS`, in that order (a revoked stack's: aws_revoked.REVOKED_CHECK_IDS); `CannotVerify`
    when AWS cannot be read at all.

    The checks read `storage`, which is what Tavus receives, so a bucket or role ARN output that
    disagrees with it cannot mask a problem. From the other outputs: `storage_managed` (False, an
    existingBucket stack, keeps `pulumi up` out of the bucket's fixes) and `retention_days` (what the
    lifecycle rules are held to; absent on stacks deployed before it, which leaves them unknown).
    """
    if outputs.get("tavus_access") == tavus.TAVUS_ACCESS_REVOKED:
        from tavus_recording.verify.aws_revoked import verify_revoked  # it builds on this module's checks

        return verify_revoked(storage, outputs, session)
    session = _session(session)
    with Reader(session) as reader:
        # The checks read one after another, in this order; their independent reads are fetched together beforehand.
        return reader.in_rounds(lambda: _checks(reader, session, storage, outputs))


def _checks(reader: Reader, session: boto3.Session, storage: tavus.S3RecordingStorageConfig, outputs: Mapping[str, Any]) -> list[Check]:
    role_match = ROLE_ARN_PATTERN.match(storage.assume_role_arn)
    partition = role_match["partition"] if role_match else "aws"
    bucket = storage.bucket_name
    bucket_arn = f"arn:{partition}:s3:::{bucket}"
    managed = storage_managed(outputs)
    own = {role_match["account"]} if role_match else set()

    checks: list[Check] = []
    if not role_match:
        reason = f"assume_role_arn {storage.assume_role_arn!r} is not an IAM role ARN"
        checks += [
            unknown(CALLER_ACCOUNT, f"not checked: {reason}"),
            failed(ROLE_EXISTS, reason, restore("writer role") + " and pass Tavus the new recording_storage"),
            *skipped(ROLE_CHECKS[1:], reason),
        ]
        facts = check_bucket(reader, bucket, bucket_arn, storage.bucket_region, own, outputs, managed)
    else:
        role_name, role_account = role_match["name"], role_match["account"]
        caller_region = session.region_name or storage.bucket_region
        # The bucket's and the role's reads need nothing the caller's identity says: they start with it.
        reader.warm(lambda: check_bucket(reader, bucket, bucket_arn, storage.bucket_region, own, outputs, managed),
                    lambda: _role_reads(reader, role_name, role_account, storage, caller_region, managed))
        caller = check_caller(reader, caller_region, role_account)
        checks.append(caller)
        facts = check_bucket(reader, bucket, bucket_arn, storage.bucket_region, own, outputs, managed)
        if caller.ok is False:
            checks += skipped(ROLE_CHECKS, f"the credentials are not for the role's account {role_account}")
        else:
            role_checks, role = check_role(reader, role_name, storage.assume_role_arn, storage)
            checks += role_checks
            checks += _policy_checks(reader, role_name, role, role_checks[0], storage, facts)
    checks += facts.checks
    by_id = {check.id: check for check in checks}
    return [by_id[check_id] for check_id in CHECK_IDS]


def _role_reads(reader: Reader, role_name: str, role_account: str, storage: tavus.S3RecordingStorageConfig, caller_region: str,
                managed: bool) -> None:
    """What the role's checks read, for `Reader.warm`: the role, its policies, and what the write check reads (its
    boundary, the organization's policies, the key policy). Each is followed only while the answers fetched so far
    leave the checks reading it: none of it for another account's credentials or a missing role; not the write check's
    when the role or its policy lists cannot be read or the bucket is missing. Before those answers are in (the first
    round), the role, its policy lists and the organization are asked for with them."""
    identity = reader.peek("sts", caller_region, "get_caller_identity")
    known_role = reader.peek("iam", IAM_REGION, "get_role", RoleName=role_name)
    if (isinstance(identity, dict) and identity.get("Account") != role_account) or \
            (isinstance(known_role, Unread) and known_role.code == "NoSuchEntity"):
        return
    reader.warm(lambda: role_policies(reader, role_name))
    location = reader.peek("s3", IAM_REGION, "get_bucket_location", Bucket=storage.bucket_name)
    if isinstance(known_role, Unread) or policy_lists_unread(reader, role_name) or \
            (isinstance(location, Unread) and location.code == "NoSuchBucket"):
        return
    reader.warm(lambda: organization_policies(reader, rules.arn_account(storage.assume_role_arn) or ""),
                lambda: _key_policy_read(reader, storage.bucket_name, storage.bucket_region, managed))
    role = reader.call("iam", IAM_REGION, "get_role", RoleName=role_name)
    if not isinstance(role, Unread):
        permissions_boundary(reader, role["Role"])


def _key_policy_read(reader: Reader, bucket: str, expected_region: str, managed: bool) -> None:
    """The key policy the write check reads, as soon as the bucket's encryption names a key (for `Reader.warm`)."""
    location = reader.call("s3", IAM_REGION, "get_bucket_location", Bucket=bucket)
    if isinstance(location, Unread) and location.code == "NoSuchBucket":
        return
    region = expected_region if isinstance(location, Unread) else region_of(location.get("LocationConstraint"))
    key = check_encryption(reader, region, bucket, managed)[1]
    if isinstance(key, str):
        read_key_policy(reader, region, key)


def _policy_checks(
    reader: Reader,
    role_name: str,
    role: Optional[Mapping[str, Any]],
    exists: Check,
    storage: tavus.S3RecordingStorageConfig,
    facts: BucketFacts,
) -> list[Check]:
    """aws.role.permissions, .least_privilege and .can_write, from the role's policies (and, for
    can_write, the role itself: its permissions boundary). `exists` is aws.role.exists as judged."""
    ids = (ROLE_PERMISSIONS, ROLE_LEAST_PRIVILEGE, ROLE_CAN_WRITE)
    if exists.ok is False:
        return skipped(ids, f"role {role_name} does not exist")
    docs = role_policies(reader, role_name)
    if isinstance(docs, Unread):
        if docs.code == "NoSuchEntity":
            return skipped(ids, f"role {role_name} does not exist")
        return [_unknown(check_id, docs) for check_id in ids]
    checks = check_permissions(docs, role_name, storage.bucket_name, facts.kms)
    if not facts.exists:
        return [*checks, *skipped((ROLE_CAN_WRITE,), facts.missing_reason)]
    if role is None:
        return [*checks, unknown(ROLE_CAN_WRITE, f"not checked: its permissions boundary is unknown: {exists.detail}", exists.fix)]
    return [*checks, check_can_write(reader, docs, role, storage.assume_role_arn, facts, storage)]


def reader_policy(role_arn: str, bucket_name: str, audit_log_bucket: Optional[str] = None) -> dict[str, Any]:
    """The least read-only IAM policy that lets a person run `verify` for this destination.

    sts:GetCallerIdentity needs no permission. GetPolicy/GetPolicyVersion read whichever managed
    policies are attached or bound (AWS's own or the account's), so they name policies, not one ARN;
    the key's actions name keys, since the bucket's key is only known once read. With `audit_log_bucket` (the
    output of a stack with auditLogs), the log bucket's public access block and policy too.
    """
    match = ROLE_ARN_PATTERN.match(role_arn)
    partition = match["partition"] if match else "aws"
    log_reads = [{"Sid": "ReadAuditLogBucket", "Effect": "Allow", "Action": [ACTIONS["get_public_access_block"], ACTIONS["get_bucket_policy"],
                                                                               ACTIONS["get_bucket_lifecycle_configuration"]],
                  "Resource": f"arn:{partition}:s3:::{audit_log_bucket}"}] if audit_log_bucket else []
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ReadTavusWriterRole",
                "Effect": "Allow",
                "Action": [ACTIONS[a] for a in ("get_role", "list_role_policies", "get_role_policy", "list_attached_role_policies")],
                "Resource": role_arn,
            },
            {
                "Sid": "ReadAttachedPolicies",
                "Effect": "Allow",
                "Action": [ACTIONS["get_policy"], ACTIONS["get_policy_version"]],
                "Resource": f"arn:{partition}:iam::*:policy/*",
            },
            {
                "Sid": "ReadRecordingBucketSettings",
                "Effect": "Allow",
                "Action": [
                    ACTIONS[a]
                    for a in (
                        "get_bucket_location",
                        "get_bucket_versioning",
                        "get_public_access_block",
                        "get_bucket_ownership_controls",
                        "get_bucket_encryption",
                        "get_bucket_policy",
                        "get_bucket_acl",
                        "get_bucket_replication",
                        "get_bucket_lifecycle_configuration",
                        "list_bucket_intelligent_tiering_configurations",
                        "get_object_lock_configuration",
                    )
                ],
                "Resource": f"arn:{partition}:s3:::{bucket_name}",
            },
            {
                "Sid": "ReadAuditTrail",
                "Effect": "Allow",
                "Action": [ACTIONS[a] for a in ("get_trail", "get_event_selectors", "get_trail_status")],
                "Resource": f"arn:{partition}:cloudtrail:*:*:trail/*",
            },
            {
                "Sid": "ReadReplicationDestinations",
                "Effect": "Allow",
                "Action": [ACTIONS["head_bucket"]],
                "Resource": f"arn:{partition}:s3:::*",
            },
            {
                "Sid": "ReadRecordingKey",
                "Effect": "Allow",
                "Action": [ACTIONS["describe_key"], ACTIONS["get_key_policy"]],
                "Resource": f"arn:{partition}:kms:*:*:key/*",
            },
            {
                "Sid": "ReadServiceControlPolicies",
                "Effect": "Allow",
                "Action": [ACTIONS[a] for a in ("describe_organization", "list_roots", "list_parents", "list_policies_for_target",
                                                "describe_policy")],
                "Resource": "*",
            },
            *log_reads,
        ],
    }
    return policy

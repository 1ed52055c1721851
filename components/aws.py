"""`S3RecordingStorage`: a hardened, versioned S3 bucket (or one you already have) and the IAM role
Tavus assumes to write to it.

The documents come from `components.aws_policy`; this module only wires them into resources.
"""

import json
from typing import Any, Callable, Mapping, NamedTuple, Optional, TypedDict, TypeVar, cast

import pulumi
import pulumi_aws as aws

from components import aws_policy, compliance, tavus
from components.lifecycle import DEFAULT_NONCURRENT_VERSION_DAYS
from components.tags import with_default


class S3RecordingStorageArgs(TypedDict, total=False):
    """Inputs of `S3RecordingStorage`; every field is optional."""

    bucket_name: pulumi.Input[str]
    """Name of the bucket to create; auto-named from the component name when absent."""
    existing_bucket: pulumi.Input[str]
    """An existing bucket to grant Tavus on instead: no bucket is created and none of its settings change."""
    existing_bucket_region: pulumi.Input[str]
    """The existing bucket's region, where it is looked up (S3 answers a lookup from another region with a redirect, which fails it); absent: the provider's region."""
    external_id: pulumi.Input[str]
    """The sts:ExternalId the trust requires; default `tavus`, the value in Tavus's guide."""
    kms_key_arn: pulumi.Input[str]
    """Encrypt with this KMS key (SSE-KMS) instead of SSE-S3, and let the role use it (with an existing bucket: its key)."""
    retention_days: pulumi.Input[int]
    """Expire recordings this many days after upload; absent or 0 keeps them."""
    noncurrent_version_days: pulumi.Input[int]
    """Expire overwritten or deleted versions this many days after they stop being current."""
    cold_after_days: pulumi.Input[int]
    """Move current recordings to S3 Glacier Instant Retrieval this many days after upload (billed 90 days there at least); absent or 0: off."""
    tags: pulumi.Input[Mapping[str, pulumi.Input[str]]]
    """Tags on the bucket and the role; `managed-by: tavus-recording` is added."""
    tavus_access: pulumi.Input[str]
    """`granted` (default) or `revoked`: revoked creates no role and no role policy (deleting them on an update) and keeps the bucket and every setting on it; it decides which resources exist, so it must be known when the component is built (a plain value, not another resource's output)."""
    immutable_days: pulumi.Input[int]
    """WORM: lock every new recording version this many days (1-36500) with S3 Object Lock; Object Lock can never be turned off on the bucket again. A plain value (it decides which resources exist); created buckets only."""
    immutable_mode: pulumi.Input[str]
    """`governance` (default: an admin with s3:BypassGovernanceRetention can lift a lock) or `compliance` (nobody can, not even the root user); only with `immutable_days`. A plain value."""
    audit_logs: pulumi.Input[bool]
    """Log every read and write of the bucket's objects with a CloudTrail trail into a log bucket of its own (kept on destroy). A plain value; created buckets only."""


class _Bucket(NamedTuple):
    name: pulumi.Output[str]
    arn: pulumi.Output[str]
    region: pulumi.Output[str]


class _Audit(NamedTuple):
    trail_arn: pulumi.Output[str]
    log_bucket: pulumi.Output[str]


def _json(document: Any) -> str:
    return json.dumps(document, indent=2)


T = TypeVar("T")


def _plain(value: Any) -> bool:
    """Known when the program runs: no Output or awaitable anywhere in it."""
    if value is None or isinstance(value, (str, int, float)):
        return True
    if isinstance(value, Mapping):
        return all(isinstance(key, str) and _plain(item) for key, item in value.items())
    return isinstance(value, (list, tuple)) and all(_plain(item) for item in value)


def _derived(build: Callable[..., T], *values: Any) -> pulumi.Input[T]:
    """`build(*values)`: now when every value is plain, else an Output once the others are known. Each Output is a task
    the engine runs; in a program of many destinations, those for values known from the start were a share of its
    time, so plain values are never wrapped, and one Output is applied to directly."""
    pending = [index for index, value in enumerate(values) if not _plain(value)]
    if not pending:
        return build(*values)

    def complete(known: Any) -> T:
        full = list(values)
        for index, value in zip(pending, known):
            full[index] = value
        return build(*full)

    if len(pending) == 1 and isinstance(values[pending[0]], pulumi.Output):
        return values[pending[0]].apply(lambda value: complete([value]))
    return pulumi.Output.all(*(values[index] for index in pending)).apply(complete)


def _tags(given: Optional[Mapping[str, pulumi.Input[str]]]) -> Mapping[str, pulumi.Input[str]]:
    return with_default(given)


class S3RecordingStorage(pulumi.ComponentResource):
    """An S3 destination for Tavus recordings, and the `recording_storage` object that points at it."""

    recording_storage: pulumi.Output[dict[str, str]]
    """The `recording_storage` object for POST /v2/conversations."""
    bucket_name: pulumi.Output[str]
    """Name of the bucket recordings are written to."""
    bucket_arn: pulumi.Output[str]
    """ARN of the bucket."""
    role_arn: pulumi.Output[str]
    """ARN of the IAM role Tavus assumes to write recordings (None when `tavus_access` is revoked: there is no role)."""
    tavus_access: pulumi.Output[str]
    """`granted` or `revoked`; when revoked, `recording_storage` and `role_arn` are None."""
    audit_trail_arn: pulumi.Output[Optional[str]]
    """ARN of the CloudTrail trail logging the bucket's object reads and writes (None without `audit_logs`)."""
    audit_log_bucket: pulumi.Output[Optional[str]]
    """Name of the bucket the trail writes its logs to (None without `audit_logs`)."""

    def __init__(
        self,
        name: str,
        args: S3RecordingStorageArgs,
        opts: Optional[pulumi.ResourceOptions] = None,
    ) -> None:
        super().__init__("tavus-recording:index:S3RecordingStorage", name, None, opts)
        revoked = tavus.access_revoked(args.get("tavus_access"))  # a bad value fails before any resource
        worm = compliance.worm(args.get("immutable_days"), args.get("immutable_mode"))
        audit_logs = compliance.audit_on(args.get("audit_logs"))

        external_id: pulumi.Input[str] = args.get("external_id") or tavus.DEFAULT_EXTERNAL_ID
        kms_key_arn: pulumi.Input[Optional[str]] = args.get("kms_key_arn")
        tags = _derived(_tags, args.get("tags"))

        # An empty name from another language's SDK means "not set", like an absent one.
        existing = args.get("existing_bucket") or None
        audit: Optional[_Audit] = None
        if existing is None:
            bucket = self._create_bucket(name, args, kms_key_arn, tags, worm)
            if audit_logs:
                audit = self._audit(name, bucket, tags)
        elif worm or audit_logs:
            raise ValueError("immutable_days, immutable_mode and audit_logs apply only to a bucket the component creates; "
                             "an existing bucket's settings are never changed")
        else:
            bucket = self._find_bucket(existing, args.get("existing_bucket_region") or None)

        self.bucket_name = bucket.name
        self.bucket_arn = bucket.arn
        # Every absent output is this one Output: each Output is a task the engine runs.
        absent: pulumi.Output[Any] = pulumi.Output.from_input(None)
        if revoked:
            # Revoked: no role and no role policy. AWS evaluates a session's permissions on every request, so
            # deleting the role's policy (Pulumi deletes it before the role) fails the sessions Tavus already
            # holds at their next request; removing only the trust would leave them working for up to
            # MAX_SESSION_SECONDS. A role cannot exist without a trust policy, so the role goes too; a re-grant
            # creates a new one (auto-named: a new ARN, so a new recording_storage).
            self.role_arn = self.recording_storage = absent
        else:
            self.role_arn, self.recording_storage = self._grant(name, bucket, external_id, kms_key_arn, tags)
        self.tavus_access = pulumi.Output.from_input(tavus.TAVUS_ACCESS_REVOKED if revoked else tavus.TAVUS_ACCESS_GRANTED)
        self.audit_trail_arn = audit.trail_arn if audit else absent
        self.audit_log_bucket = audit.log_bucket if audit else absent
        self.register_outputs(
            {
                "recording_storage": self.recording_storage,
                # The retention the guardrails hold lifecycle rules to (the policy pack reads it here).
                "retentionDays": args.get("retention_days") or None,
                "coldAfterDays": args.get("cold_after_days") or None,
                # What the stack asked for, which the policy pack holds the Object Lock and the trail to.
                "immutableDays": worm[0] if worm else None,
                "immutableMode": worm[1] if worm else None,
                "auditLogs": audit_logs,
                "audit_trail_arn": self.audit_trail_arn,
                "audit_log_bucket": self.audit_log_bucket,
                "bucket_name": self.bucket_name,
                "bucket_arn": self.bucket_arn,
                "role_arn": self.role_arn,
                "tavus_access": self.tavus_access,
            }
        )

    def _grant(
        self,
        name: str,
        bucket: _Bucket,
        external_id: pulumi.Input[str],
        kms_key_arn: pulumi.Input[Optional[str]],
        tags: pulumi.Input[Mapping[str, pulumi.Input[str]]],
    ) -> tuple[pulumi.Output[str], pulumi.Output[dict[str, str]]]:
        """The role Tavus assumes, trusting Tavus's account with the ExternalId, and its writer policy on the
        bucket: (the role's ARN, the `recording_storage` object that names it)."""
        child = pulumi.ResourceOptions(parent=self)
        role = aws.iam.Role(
            f"{name}-writer",
            description="Assumed by Tavus's recording service to write conversation recordings",
            assume_role_policy=_derived(lambda value: _json(aws_policy.trust_policy(value)), external_id),
            max_session_duration=tavus.MAX_SESSION_SECONDS,
            tags=tags,
            opts=child,
        )
        aws.iam.RolePolicy(
            f"{name}-writer-policy",
            role=role.id,
            policy=_derived(lambda arn, key: _json(aws_policy.writer_policy(arn, key)), bucket.arn, kms_key_arn),
            opts=child,
        )
        recording_storage = _derived(
            lambda bucket_name, region, role_arn, external: tavus.S3RecordingStorageConfig(
                bucket_name=bucket_name, bucket_region=region, assume_role_arn=role_arn, external_id=external
            ).model_dump(),
            bucket.name,
            bucket.region,
            role.arn,
            external_id,
        )
        return role.arn, cast(pulumi.Output[dict[str, str]], recording_storage)  # an Output: bucket.name is one

    def _find_bucket(self, existing: pulumi.Input[str], region: Optional[pulumi.Input[str]]) -> _Bucket:
        """An existing bucket, read and never managed: looked up in its own region (the data source's
        first call is a HeadBucket there), and its region taken from S3's answer, not the provider."""
        found = aws.s3.get_bucket_output(bucket=existing, region=region, opts=pulumi.InvokeOutputOptions(parent=self))
        return _Bucket(
            found.apply(lambda b: b.bucket), found.apply(lambda b: b.arn), found.apply(lambda b: b.bucket_region)
        )

    def _create_bucket(
        self,
        name: str,
        args: S3RecordingStorageArgs,
        kms_key_arn: pulumi.Input[Optional[str]],
        tags: pulumi.Input[Mapping[str, pulumi.Input[str]]],
        worm: Optional[tuple[int, str]],
    ) -> _Bucket:
        """A new bucket, versioned, private, encrypted and TLS-only, with the lifecycle rules asked for, and Object
        Lock's default retention when `worm` is (days, mode)."""
        noncurrent_days = args.get("noncurrent_version_days") or DEFAULT_NONCURRENT_VERSION_DAYS
        # The bucket and every setting on it outlive `pulumi destroy` (and any replacement):
        # recordings are customer data, and a retained bucket must stay hardened.
        kept = pulumi.ResourceOptions(parent=self, retain_on_delete=True)

        # `object_lock_enabled` is deliberately not set: it is ForceNew (terraform-provider-aws
        # internal/service/s3/bucket.go: Optional, Computed, ForceNew), so setting it would replace a deployed bucket.
        # Computed: left unset, it shows no diff when a refresh reads it back true (resourceBucketRead sets it from
        # GetObjectLockConfiguration). The lock configuration below enables Object Lock instead: "This resource can
        # be used enable Object Lock for new and existing buckets" (pulumi_aws/s3/bucket_object_lock_configuration.py;
        # S3 PutObjectLockConfiguration: "You can enable Object Lock for new or existing buckets", versioning first).
        bucket = aws.s3.Bucket(
            f"{name}-bucket",
            bucket=args.get("bucket_name"),
            force_destroy=False,
            tags=tags,
            opts=kept,
        )
        # One configuration write at a time (see _harden): versioning first.
        versioning = aws.s3.BucketVersioning(
            f"{name}-versioning",
            bucket=bucket.id,
            versioning_configuration={"status": "Enabled"},
            opts=kept,
        )
        # Object Lock needs versioning on first, and can never be turned off again (nor versioning suspended).
        versioned: pulumi.Resource = versioning
        if worm:
            versioned = aws.s3.BucketObjectLockConfiguration(
                f"{name}-object-lock",
                bucket=bucket.id,
                object_lock_enabled="Enabled",
                rule=aws_policy.object_lock_rule(*worm),
                opts=kept.merge(pulumi.ResourceOptions(depends_on=[versioning])),
            )
        self._harden(name, bucket.id, versioned, _derived(aws_policy.encryption_rule, kms_key_arn), f"{name}-tls-only",
                     bucket.arn.apply(lambda arn: _json(aws_policy.tls_only_bucket_policy(arn))))
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-lifecycle",
            bucket=bucket.id,
            rules=_derived(aws_policy.lifecycle_rules, noncurrent_days, args.get("retention_days"), args.get("cold_after_days")),
            # Versioning first, as the provider's own docs say ("Must have bucket versioning enabled first"): the
            # noncurrent-version rules act on versions. Nothing else: this create is the longest wait of a deploy (the
            # provider then reads the rules back until they agree, 55 s or more), so it starts as early as it may. A
            # write racing it (the lock, the access settings) is retried: the provider's S3 client retries
            # OperationAborted on every call (internal/service/s3/service_package.go).
            opts=kept.merge(pulumi.ResourceOptions(depends_on=[versioning])),
        )
        # `bucket_region` is where S3 made the bucket; `region` is the provider's setting for the resource.
        return _Bucket(bucket.bucket, bucket.arn, bucket.bucket_region)

    def _harden(
        self,
        prefix: str,
        bucket_id: pulumi.Output[str],
        after: pulumi.Resource,
        encryption_rule: pulumi.Input[Any],
        policy_name: str,
        policy: pulumi.Input[str],
    ) -> aws.s3.BucketPolicy:
        """A bucket made private, owner-enforced and encrypted, then given `policy`: kept on destroy, one setting at a
        time after `after`. S3 refuses concurrent changes to one bucket's configuration (OperationAborted: "a
        conflicting conditional operation is currently in progress"), reported between the policy and the public
        access block, versioning and ownership: the access settings go one after another, the policy last."""
        kept = pulumi.ResourceOptions(parent=self, retain_on_delete=True)
        public_access = aws.s3.BucketPublicAccessBlock(
            f"{prefix}-public-access-block",
            bucket=bucket_id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=kept.merge(pulumi.ResourceOptions(depends_on=[after])),
        )
        # CloudTrail writes with x-amz-acl: bucket-owner-full-control, which a BucketOwnerEnforced bucket accepts.
        ownership = aws.s3.BucketOwnershipControls(
            f"{prefix}-ownership",
            bucket=bucket_id,
            rule={"object_ownership": "BucketOwnerEnforced"},
            opts=kept.merge(pulumi.ResourceOptions(depends_on=[public_access])),
        )
        encryption = aws.s3.BucketServerSideEncryptionConfiguration(
            f"{prefix}-encryption",
            bucket=bucket_id,
            rules=[encryption_rule],
            opts=kept.merge(pulumi.ResourceOptions(depends_on=[ownership])),
        )
        return aws.s3.BucketPolicy(policy_name, bucket=bucket_id, policy=policy,
                                   opts=kept.merge(pulumi.ResourceOptions(depends_on=[encryption])))

    def _audit(self, name: str, bucket: _Bucket, tags: pulumi.Input[Mapping[str, pulumi.Input[str]]]) -> _Audit:
        """A CloudTrail trail logging every object read and write of `bucket` (data events), into a log bucket of
        its own, hardened like the recordings bucket and kept on destroy (the logs are evidence)."""
        kept = pulumi.ResourceOptions(parent=self, retain_on_delete=True)
        # The account the trail writes its logs under (AWSLogs/<account>/) and that its ARN names.
        account_id = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self)).account_id
        trail_name = bucket.name.apply(aws_policy.audit_trail_name)
        # The trail is made by the same provider as the bucket: in its region and partition (the ARN's second field).
        trail_arn = pulumi.Output.all(bucket.arn, bucket.region, account_id, trail_name).apply(
            lambda v: aws_policy.audit_trail_arn(v[0].split(":")[1], v[1], v[2], v[3])
        )

        logs = aws.s3.Bucket(f"{name}-audit-logs", force_destroy=False, tags=tags, opts=kept)
        # One setting at a time, as for the recordings bucket (S3 answers concurrent writes with OperationAborted).
        versioning = aws.s3.BucketVersioning(
            f"{name}-audit-logs-versioning",
            bucket=logs.id,
            versioning_configuration={"status": "Enabled"},
            opts=kept,
        )
        policy = self._harden(f"{name}-audit-logs", logs.id, versioning, aws_policy.encryption_rule(), f"{name}-audit-logs-policy",
                              pulumi.Output.all(logs.arn, trail_arn, account_id).apply(lambda v: _json(aws_policy.audit_log_bucket_policy(*v))))
        # CreateTrail checks that CloudTrail can write to the bucket: the policy first.
        trail = aws.cloudtrail.Trail(
            f"{name}-audit",
            name=trail_name,
            s3_bucket_name=logs.bucket,
            is_multi_region_trail=False,
            include_global_service_events=False,
            enable_log_file_validation=True,
            enable_logging=True,
            advanced_event_selectors=bucket.arn.apply(aws_policy.audit_event_selectors),
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[policy]),
        )
        return _Audit(trail.arn, logs.bucket)

"""A local AWS (moto server) holding an S3 recording destination built exactly as the kit builds it.

`running_moto()` serves moto on a loopback port in a daemon thread of this process (so moto's IAM
enforcement switches, `moto.core.enable_iam_authentication`, reach it) and stops it afterwards.
`deploy_destination()` creates the bucket and the writer role from the kit's own document builders
(`components.aws_policy`) and returns the stack outputs as `pulumi stack output --json` prints them.
Used by tests/test_verify_aws.py and by benchmarks.
"""

from __future__ import annotations

import json
import logging
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator, Optional

import boto3
from botocore.exceptions import ClientError
from moto.server import ThreadedMotoServer

from components import aws_policy, tavus
from tavus_recording.verify import aws as verify_aws
from tavus_recording.verify.aws_reads import Reader, Unread


def _answer_blocked_encryption_types() -> None:
    """moto 5.2.5 keeps a rule's BlockedEncryptionTypes from PutBucketEncryption but leaves it out of
    GetBucketEncryption (moto/s3/responses.py get_bucket_encryption answers only the default and the bucket key).
    S3 answers it (botocore s3 service-2 ServerSideEncryptionRule): answer it here too, as S3 does, a list."""
    from moto.core.responses import ActionResult
    from moto.s3.responses import S3Response

    original = S3Response.get_bucket_encryption

    def get_bucket_encryption(self: Any) -> Any:
        answer = original(self)
        stored = (self.backend.get_bucket_encryption(self.bucket_name) or {}).get("Rule") or {}
        blocked = stored.get("BlockedEncryptionTypes")
        if not isinstance(blocked, dict):
            return answer
        types = blocked.get("EncryptionType")
        rule = {"ApplyServerSideEncryptionByDefault": stored["ApplyServerSideEncryptionByDefault"],
                "BucketKeyEnabled": str(stored.get("BucketKeyEnabled")).lower() == "true",
                "BlockedEncryptionTypes": {"EncryptionType": types if isinstance(types, list) else [types]}}
        return self.serialized(ActionResult({"ServerSideEncryptionConfiguration": {"Rules": [rule]}}))

    if not getattr(S3Response.get_bucket_encryption, "answers_blocked_types", False):
        get_bucket_encryption.answers_blocked_types = True  # type: ignore[attr-defined]
        S3Response.get_bucket_encryption = get_bucket_encryption  # type: ignore[method-assign]


_answer_blocked_encryption_types()

BUCKET = "acme-tavus-recordings"
ROLE_NAME = "tavus-recordings-writer"
REGION = "us-east-1"
INLINE_POLICY_NAME = "tavus-recordings-writer-policy"
# Bounds the admin calls to the local server, so a wedged server fails a test instead of hanging it.
SOCKET_TIMEOUT_SECONDS = 5
PUBLIC_ACCESS_FLAGS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")


def offline_aws_environment(monkeypatch: Any, region: str = REGION) -> None:
    """Fake keys, no config files and no profile, for moto in-process: nothing on this machine, and no real AWS, is used."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": region,
        "AWS_CONFIG_FILE": "/nonexistent/aws/config",
        "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/aws/credentials",
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "MOTO_ACCOUNT_ID"):
        monkeypatch.delenv(name, raising=False)


@dataclass(frozen=True)
class MotoEndpoint:
    url: str

    @property
    def environment(self) -> dict[str, str]:
        """Variables that point boto3's default chain at this server, with fake keys and no config files:
        nothing on this machine, and no real AWS, is ever used."""
        return {
            "AWS_ENDPOINT_URL": self.url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_CONFIG_FILE": "/nonexistent/aws/config",
            "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/aws/credentials",
            "AWS_EC2_METADATA_DISABLED": "true",
        }

    def reset(self) -> None:
        """Forget every account's resources (moto's own reset API), between tests."""
        request = urllib.request.Request(f"{self.url}/moto-api/reset", data=b"", method="POST")
        with urllib.request.urlopen(request, timeout=SOCKET_TIMEOUT_SECONDS) as answer:
            answer.read()


@contextmanager
def running_moto() -> Iterator[MotoEndpoint]:
    """moto on 127.0.0.1 and a free port, until the block ends."""
    # werkzeug logs every request to stderr; keep test output to what fails.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield MotoEndpoint(f"http://{host}:{port}")
    finally:
        server.stop()


def encryption_configuration(kms_key_arn: Optional[str] = None) -> dict[str, Any]:
    """`aws_policy.encryption_rule` (the pulumi-aws shape) in the shape boto3's PutBucketEncryption takes."""
    rule = aws_policy.encryption_rule(kms_key_arn)
    by_default = rule["apply_server_side_encryption_by_default"]
    default = {"SSEAlgorithm": by_default["sse_algorithm"]}
    if "kms_master_key_id" in by_default:
        default["KMSMasterKeyID"] = by_default["kms_master_key_id"]
    found: dict[str, Any] = {"ApplyServerSideEncryptionByDefault": default, "BucketKeyEnabled": rule.get("bucket_key_enabled", False)}
    if rule.get("blocked_encryption_types"):
        found["BlockedEncryptionTypes"] = {"EncryptionType": list(rule["blocked_encryption_types"])}
    return {"Rules": [found]}


def _api_shape(value: Any) -> Any:
    """pulumi-aws's snake_case arguments in S3's PascalCase (`id` is `ID`)."""
    if isinstance(value, dict):
        return {("ID" if key == "id" else "".join(part.title() for part in key.split("_"))): _api_shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_api_shape(item) for item in value]
    return value


def lifecycle_configuration(noncurrent_days: int = 30, retention_days: Optional[int] = None,
                            cold_after_days: Optional[int] = None) -> dict[str, Any]:
    """`aws_policy.lifecycle_rules` (the pulumi-aws shape) in the shape boto3's PutBucketLifecycleConfiguration takes."""
    return {"Rules": [_api_shape(rule) for rule in aws_policy.lifecycle_rules(noncurrent_days, retention_days, cold_after_days)]}


def create_bucket(s3: Any, bucket: str, region: str) -> None:
    # us-east-1 is the one region S3 refuses as an explicit LocationConstraint.
    if region == "us-east-1":
        s3.create_bucket(Bucket=bucket)
    else:
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})


def deploy_destination(
    session: boto3.Session,
    *,
    bucket: str = BUCKET,
    region: str = REGION,
    role_name: str = ROLE_NAME,
    external_id: str = tavus.DEFAULT_EXTERNAL_ID,
    kms_key_arn: Optional[str] = None,
    retention_days: Optional[int] = None,
    cold_after_days: Optional[int] = None,
    immutable_days: Optional[int] = None,
    immutable_mode: Optional[str] = None,
    audit_logs: bool = False,
) -> dict[str, Any]:
    """The healthy destination, as `S3RecordingStorage` deploys it; returns the stack outputs. `immutable_mode`
    is the kit's word (governance, the default, or compliance)."""
    s3 = session.client("s3", region_name=region)
    iam = session.client("iam", region_name="us-east-1")

    create_bucket(s3, bucket, region)
    bucket_arn = f"arn:aws:s3:::{bucket}"
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    if immutable_days:
        # Right after versioning, as the component chains it (moto, unlike S3, refuses it once the bucket holds objects).
        s3.put_object_lock_configuration(Bucket=bucket, ObjectLockConfiguration=object_lock_configuration(immutable_days, immutable_mode))
    s3.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    s3.put_bucket_ownership_controls(
        Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    )
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration=encryption_configuration(kms_key_arn))
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(aws_policy.tls_only_bucket_policy(bucket_arn)))
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration=lifecycle_configuration(30, retention_days, cold_after_days))

    role = iam.create_role(
        RoleName=role_name,
        AssumeRolePolicyDocument=json.dumps(aws_policy.trust_policy(external_id)),
        MaxSessionDuration=tavus.MAX_SESSION_SECONDS,
        Description="Assumed by Tavus's recording service to write conversation recordings",
    )["Role"]
    iam.put_role_policy(
        RoleName=role_name,
        PolicyName=INLINE_POLICY_NAME,
        PolicyDocument=json.dumps(aws_policy.writer_policy(bucket_arn, kms_key_arn)),
    )
    worm_mode = (immutable_mode or "governance") if immutable_days else None
    outputs = {**stack_outputs(bucket, region, role["Arn"], external_id, retention_days), "cold_after_days": cold_after_days,
               "immutable_days": immutable_days, "immutable_mode": worm_mode, "audit_logs": audit_logs}
    if audit_logs:
        outputs |= deploy_audit_trail(session, bucket, region, role["Arn"].split(":")[4])
    return outputs


def advanced_selectors(bucket_arn: str) -> list[dict[str, Any]]:
    """`aws_policy.audit_event_selectors` (pulumi-aws's shape) in the shape boto3's PutEventSelectors takes."""
    operators = {"field": "Field", "equals": "Equals", "starts_withs": "StartsWith", "ends_withs": "EndsWith",
                 "not_equals": "NotEquals", "not_starts_withs": "NotStartsWith", "not_ends_withs": "NotEndsWith"}
    return [{"FieldSelectors": [{operators[k]: v for k, v in field.items()} for field in selector["field_selectors"]]}
            for selector in aws_policy.audit_event_selectors(bucket_arn)]


def deploy_audit_trail(session: boto3.Session, bucket: str, region: str, account: str, selectors: Optional[list[dict[str, Any]]] = None,
                       basic: Optional[list[dict[str, Any]]] = None) -> dict[str, Any]:
    """The trail and its log bucket as `S3RecordingStorage` deploys them with auditLogs (or with `selectors`/`basic`
    in place of the kit's); returns the outputs they add."""
    s3 = session.client("s3", region_name=region)
    cloudtrail = session.client("cloudtrail", region_name=region)
    log_bucket = f"{bucket}-audit-logs"
    name = aws_policy.audit_trail_name(bucket)
    trail_arn = aws_policy.audit_trail_arn("aws", region, account, name)
    create_bucket(s3, log_bucket, region)
    s3.put_bucket_versioning(Bucket=log_bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_public_access_block(Bucket=log_bucket, PublicAccessBlockConfiguration={flag: True for flag in PUBLIC_ACCESS_FLAGS})
    s3.put_bucket_policy(Bucket=log_bucket, Policy=json.dumps(aws_policy.audit_log_bucket_policy(f"arn:aws:s3:::{log_bucket}", trail_arn, account)))
    cloudtrail.create_trail(Name=name, S3BucketName=log_bucket, IsMultiRegionTrail=False, IncludeGlobalServiceEvents=False,
                            EnableLogFileValidation=True)
    if basic is not None:
        cloudtrail.put_event_selectors(TrailName=name, EventSelectors=basic)
    else:
        cloudtrail.put_event_selectors(TrailName=name, AdvancedEventSelectors=advanced_selectors(f"arn:aws:s3:::{bucket}") if selectors is None else selectors)
    cloudtrail.start_logging(Name=name)
    return {"audit_trail_arn": trail_arn, "audit_log_bucket": log_bucket}


def object_lock_configuration(days: int, mode: Optional[str] = None) -> dict[str, Any]:
    """The design's BucketObjectLockConfiguration (object_lock_enabled Enabled, a default retention in the mode,
    in capitals, for `days`) in the shape boto3's PutObjectLockConfiguration takes."""
    return {"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": (mode or "governance").upper(), "Days": days}}}


def stack_outputs(
    bucket: str, region: str, role_arn: str, external_id: str = tavus.DEFAULT_EXTERNAL_ID, retention_days: Optional[int] = None
) -> dict[str, Any]:
    """What `pulumi stack output --json --show-secrets` prints for an s3 stack (see __main__.py)."""
    storage = tavus.S3RecordingStorageConfig(
        bucket_name=bucket, bucket_region=region, assume_role_arn=role_arn, external_id=external_id
    ).model_dump()
    return {
        "bucket_name": bucket,
        "bucket_arn": f"arn:aws:s3:::{bucket}",
        "role_arn": role_arn,
        "legacy_properties": tavus.legacy_properties(storage),
        "recording_storage": storage,
        "conversation_properties": tavus.conversation_properties(storage),
        "recording_storage_json": tavus.recording_storage_json(storage),
        "storage_managed": True,
        "retention_days": retention_days,
    }


class IntelligentTiering:
    """S3's ListBucketIntelligentTieringConfigurations for verify's reader, from configurations a test puts.

    moto 5.2.5 accepts PutBucketIntelligentTieringConfiguration but keeps nothing: its list always comes back
    empty. Only that read is answered here (in the API's shape, `page_size` a page with ContinuationToken, as S3
    pages them); every other call still goes to moto. `denied` answers it AccessDenied instead.
    """

    def __init__(self, page_size: int = 100) -> None:
        self.configurations: dict[str, list[dict[str, Any]]] = {}
        self.page_size = page_size
        self.denied = False
        self.calls = 0

    def put(self, bucket: str, configuration_id: str, *tierings: tuple[str, int], status: str = "Enabled",
            prefix: Optional[str] = None) -> None:
        configuration: dict[str, Any] = {"Id": configuration_id, "Status": status,
                                         "Tierings": [{"Days": days, "AccessTier": tier} for tier, days in tierings]}
        if prefix is not None:
            configuration["Filter"] = {"Prefix": prefix}
        self.configurations.setdefault(bucket, []).append(configuration)

    def install(self, monkeypatch: Any) -> "IntelligentTiering":
        """Answer the read on every S3 client verify's Reader makes (its error handling stays the real one)."""
        from tavus_recording.verify.aws_reads import Reader

        made = Reader._client

        def client(reader: Reader, service: str, region: str) -> Any:
            answer = made(reader, service, region)
            if service == "s3":
                answer.list_bucket_intelligent_tiering_configurations = self.answer
            return answer

        monkeypatch.setattr(Reader, "_client", client)
        return self

    def answer(self, Bucket: str, ContinuationToken: Optional[str] = None) -> dict[str, Any]:  # noqa: N803 (the API's names)
        self.calls += 1
        if self.denied:
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "Access Denied"}}, "ListBucketIntelligentTieringConfigurations")
        start = int(ContinuationToken or 0)
        listed = self.configurations.get(Bucket, [])
        page: dict[str, Any] = {"IsTruncated": start + self.page_size < len(listed)}
        if listed[start : start + self.page_size]:
            page["IntelligentTieringConfigurationList"] = listed[start : start + self.page_size]
        if page["IsTruncated"]:
            page["NextContinuationToken"] = str(start + self.page_size)
        return page


class DenyingReader(Reader):
    """Reads as the credentials allow, except `operation`, which AWS answers AccessDenied."""

    def __init__(self, session: boto3.Session, operation: str) -> None:
        super().__init__(session)
        self.operation = operation

    def call(self, service: str, region: str, operation: str, **kwargs: Any) -> Any:
        if operation == self.operation:
            return Unread(f"{verify_aws.ACTIONS[operation]} denied: add it to your reader policy", "grant it", "AccessDenied")
        return super().call(service, region, operation, **kwargs)

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
from moto.server import ThreadedMotoServer

from components import aws_policy, tavus

BUCKET = "acme-tavus-recordings"
ROLE_NAME = "tavus-recordings-writer"
REGION = "us-east-1"
INLINE_POLICY_NAME = "tavus-recordings-writer-policy"
# Bounds the admin calls to the local server, so a wedged server fails a test instead of hanging it.
SOCKET_TIMEOUT_SECONDS = 5


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
    return {
        "Rules": [
            {"ApplyServerSideEncryptionByDefault": default, "BucketKeyEnabled": rule.get("bucket_key_enabled", False)}
        ]
    }


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
) -> dict[str, Any]:
    """The healthy destination, as `S3RecordingStorage` deploys it; returns the stack outputs."""
    s3 = session.client("s3", region_name=region)
    iam = session.client("iam", region_name="us-east-1")

    create_bucket(s3, bucket, region)
    bucket_arn = f"arn:aws:s3:::{bucket}"
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
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
    return {**stack_outputs(bucket, region, role["Arn"], external_id, retention_days), "cold_after_days": cold_after_days}


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

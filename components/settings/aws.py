"""The keys of an S3 stack, and what AWS accepts for each."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Annotated, ClassVar, Optional

from pydantic import AfterValidator, Field, ValidationInfo, field_validator
from pydantic.alias_generators import to_camel

from components.naming import S3_BUCKET_RULES, s3_bucket_name_problem, s3_existing_bucket_name_problem
from components.settings.common import (
    OptionalText,
    PlainText,
    SettingsBase,
    checked,
    did_you_mean,
    qualified,
    required_for,
    shown,
)
from components.tavus import DEFAULT_EXTERNAL_ID

AWS_REGION_KEY = "aws:region"
# Regions outside the standard partition cannot trust an account that lives in it.
_OTHER_PARTITION_PREFIXES = ("cn-", "us-gov-", "us-iso", "eu-isoe-", "eusc-")
# A key ARN, never an alias (IAM grants name keys); with a real region it is at most 2048 characters, KMS's
# own limit for a KeyId (https://docs.aws.amazon.com/kms/latest/APIReference/API_DescribeKey.html).
_KMS_KEY_ARN = re.compile(
    r"^arn:aws:kms:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):key/"
    r"(?:mrk-[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$"
)
# STS AssumeRole ExternalId: 2-1224 characters of [\w+=,.@:/-]
# (https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html, ExternalId).
_EXTERNAL_ID = re.compile(r"^[\w+=,.@:/-]{2,1224}$", re.ASCII)


def _external_id(value: str) -> str:
    if not _EXTERNAL_ID.match(value):
        raise ValueError(
            "is not a valid ExternalId; expected 2-1224 characters of letters, digits and + = , . @ : / - _ "
            f"(Tavus's guide uses '{DEFAULT_EXTERNAL_ID}')"
        )
    return value


def _region(region: str) -> str:
    if region.startswith(_OTHER_PARTITION_PREFIXES):
        raise ValueError(
            "is outside the standard AWS partition; Tavus's recording account cannot be trusted "
            "from China, GovCloud or isolated regions"
        )
    regions = aws_regions()
    if region not in regions:
        raise ValueError(f"is not an AWS region{did_you_mean(region, regions)}; expected e.g. us-east-1")
    return region


@lru_cache(maxsize=1)
def aws_regions() -> tuple[str, ...]:
    """The standard-partition regions pulumi-aws knows, from its own Region enum."""
    # Imported here so GCS and Azure stacks never load the AWS SDK.
    import pulumi_aws

    return tuple(r.value for r in pulumi_aws.Region if not r.value.startswith(_OTHER_PARTITION_PREFIXES))


# Validators name the module's own providers: pydantic binds them to the composed model's class.
_PROVIDERS = ("s3",)

class AwsSettings(SettingsBase):
    PROVIDERS: ClassVar[tuple[str, ...]] = _PROVIDERS
    REGION_KEY: ClassVar[str] = AWS_REGION_KEY
    # Keys that shape a bucket the kit creates, which an existing bucket would silently ignore.
    # kmsKeyArn stays allowed: the role still needs the grant on the existing bucket's key.
    IGNORED_BESIDE: ClassVar[dict[str, tuple[str, ...]]] = {
        "existing_bucket": ("bucket_name", "retention_days", "noncurrent_version_days", "cold_after_days", "immutable_days", "immutable_mode", "audit_logs"),
    }

    aws_region: OptionalText = Field(default=None, alias=AWS_REGION_KEY, validate_default=True)
    bucket_name: OptionalText = None
    existing_bucket: OptionalText = None
    existing_bucket_region: OptionalText = None
    external_id: Annotated[PlainText, AfterValidator(_external_id)] = DEFAULT_EXTERNAL_ID
    kms_key_arn: OptionalText = None

    @field_validator("aws_region")
    @classmethod
    def _aws_region(cls, value: Optional[str], info: ValidationInfo) -> Optional[str]:
        region = required_for(value, info, _PROVIDERS, "the region the bucket is created in, e.g. us-east-1")
        return value if region is None else _region(region)

    @field_validator("existing_bucket_region")
    @classmethod
    def _existing_bucket_region(cls, value: Optional[str], info: ValidationInfo) -> Optional[str]:
        return value if value is None or info.data.get("provider") not in _PROVIDERS else _region(value)

    @field_validator("bucket_name")
    @classmethod
    def _s3_bucket_name(cls, value: Optional[str], info: ValidationInfo) -> Optional[str]:
        if value is None or info.data.get("provider") not in _PROVIDERS:
            return value
        return checked(value, s3_bucket_name_problem, f"an S3 bucket name is {S3_BUCKET_RULES}")

    @field_validator("existing_bucket")
    @classmethod
    def _s3_existing_bucket(cls, value: Optional[str], info: ValidationInfo) -> Optional[str]:
        if value is None or info.data.get("provider") not in _PROVIDERS:
            return value
        # Old us-east-1 buckets may keep names S3 no longer lets anyone create.
        return checked(value, s3_existing_bucket_name_problem, "expected the name of an existing S3 bucket")

    @field_validator("kms_key_arn")
    @classmethod
    def _kms_key_arn(cls, value: Optional[str], info: ValidationInfo) -> Optional[str]:
        if value is None:
            return value
        if ":alias/" in value:
            raise ValueError("is an alias ARN; IAM grants need the key ARN (arn:aws:kms:<region>:<account>:key/<key-id>)")
        match = _KMS_KEY_ARN.match(value)
        if not match:
            raise ValueError("is not a KMS key ARN; expected arn:aws:kms:<region>:<account>:key/<key-id>")
        if info.data.get("provider") in _PROVIDERS and match["region"] not in aws_regions():
            # Checked even beside an existing bucket, whose region is looked up only at deploy time.
            raise ValueError(f"is in {shown(match['region'])}, which is not an AWS region; expected the key ARN from the KMS console")
        region = info.data.get("aws_region")
        # An existing bucket's region is looked up at deploy time, so only a created bucket is checked here.
        if region and match["region"] != region and not info.data.get("existing_bucket"):
            raise ValueError(
                f"is in {match['region']} but the bucket is in {region}; SSE-KMS needs a key in the bucket's region"
            )
        return value

    def key_problems(self) -> list[tuple[str, str]]:
        if self.existing_bucket_region is not None and self.existing_bucket is None:
            return [(qualified(to_camel("existing_bucket_region")),
                     f"applies only with {qualified(to_camel('existing_bucket'))}: a bucket the kit creates is made in {AWS_REGION_KEY}")]
        return []

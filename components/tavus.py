"""What Tavus requires of a recording destination, in one place.

Facts come from Tavus's recording guide and the `recording_storage_config` schema of
`POST /v2/conversations`. The models mirror that schema so every stack output is validated
against the API's own field names before it is exported.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal, Union, get_args

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from components.naming import control_character_problem

# The AWS account that runs Tavus's recording infrastructure (operated through Daily).
TAVUS_AWS_ACCOUNT_ID = "291871421005"
TAVUS_AWS_PRINCIPAL = f"arn:aws:iam::{TAVUS_AWS_ACCOUNT_ID}:root"
# Tavus's identifier with Daily, required as sts:ExternalId. It is the same for every Tavus customer, so
# it stops other Daily customers from pointing Daily at a role, not other Tavus customers.
DEFAULT_EXTERNAL_ID = "tavus"
# The recording service asks for 12-hour sessions; a role left at the 3600 s default fails
# Tavus's validation with "unable to assume role with given parameters".
MAX_SESSION_SECONDS = 43200

# Whether a stack lets Tavus in (`tavusAccess`): revoked removes the trust and the grant and keeps the data.
TAVUS_ACCESS_GRANTED = "granted"
TAVUS_ACCESS_REVOKED = "revoked"
TAVUS_ACCESS: tuple[str, ...] = (TAVUS_ACCESS_GRANTED, TAVUS_ACCESS_REVOKED)


def access_revoked(tavus_access: Any) -> bool:
    """Whether a component's `tavus_access` arg cuts Tavus off: `revoked`; absent, blank or `granted` lets it in.

    A plain value, read when the component is built: it decides which resources exist, so an Output (known
    only later) or any other value is refused rather than guessed at."""
    if tavus_access in (None, "", TAVUS_ACCESS_GRANTED):
        return False
    if tavus_access == TAVUS_ACCESS_REVOKED:
        return True
    if not isinstance(tavus_access, str):
        raise ValueError(
            f"tavus_access must be a plain {TAVUS_ACCESS_GRANTED!r} or {TAVUS_ACCESS_REVOKED!r}, known when the component is "
            f"built (it decides which resources exist), not a {type(tavus_access).__name__}"
        )
    raise ValueError(f"tavus_access is {tavus_access!r}; expected {TAVUS_ACCESS_GRANTED!r} or {TAVUS_ACCESS_REVOKED!r}")


# Exactly the actions Tavus's guide grants the writer role, on the bucket and its objects.
S3_WRITER_ACTIONS: tuple[str, ...] = (
    "s3:PutObject",
    "s3:GetObject",
    "s3:ListBucketMultipartUploads",
    "s3:AbortMultipartUpload",
    "s3:ListBucketVersions",
    "s3:ListBucket",
    "s3:GetObjectVersion",
    "s3:ListMultipartUploadParts",
)
# With SSE-KMS, uploads need a data key and multipart completion needs to decrypt it.
KMS_WRITER_ACTIONS: tuple[str, ...] = ("kms:GenerateDataKey", "kms:Decrypt")

# The API's storage provider discriminator.
Provider = Literal["s3", "gcs", "azure_blob"]
PROVIDERS: tuple[str, ...] = get_args(Provider)

# The longest identifier any field holds (an ARN, a resource name) is far below this.
MAX_FIELD_LENGTH = 2048


def _plain(value: str) -> str:
    """A field sent to Tavus and printed by verify: a line break or escape sequence in it is never an identifier."""
    problem = control_character_problem(value)
    if problem:
        raise ValueError(problem)
    return value


NonEmpty = Annotated[str, StringConstraints(min_length=1, max_length=MAX_FIELD_LENGTH, strip_whitespace=False), AfterValidator(_plain)]


class _ApiObject(BaseModel):
    # Only the API's own field names, nothing else, and immutable once built.
    model_config = ConfigDict(extra="forbid", frozen=True)


class S3RecordingStorageConfig(_ApiObject):
    provider: Literal["s3"] = "s3"
    bucket_name: NonEmpty
    bucket_region: NonEmpty
    assume_role_arn: NonEmpty
    external_id: NonEmpty


class GcsRecordingStorageConfig(_ApiObject):
    provider: Literal["gcs"] = "gcs"
    bucket_name: NonEmpty
    project_id: NonEmpty
    # Resource name without the //iam.googleapis.com/ prefix (Tavus prepends it).
    workload_identity_provider: NonEmpty
    service_account_email: NonEmpty


class AzureBlobRecordingStorageConfig(_ApiObject):
    provider: Literal["azure_blob"] = "azure_blob"
    storage_account: NonEmpty
    container: NonEmpty
    tenant_id: NonEmpty
    client_id: NonEmpty


RecordingStorage = Annotated[
    Union[S3RecordingStorageConfig, GcsRecordingStorageConfig, AzureBlobRecordingStorageConfig],
    Field(discriminator="provider"),
]


class ConversationProperties(_ApiObject):
    """The slice of `properties` on POST /v2/conversations that turns recording on."""

    enable_recording: Literal[True] = True
    recording_storage: RecordingStorage


class LegacyS3Properties(_ApiObject):
    """The deprecated flat fields, still accepted by the API for S3."""

    enable_recording: Literal[True] = True
    recording_s3_bucket_name: NonEmpty
    recording_s3_bucket_region: NonEmpty
    aws_assume_role_arn: NonEmpty


def conversation_properties(recording_storage: dict[str, Any]) -> dict[str, Any]:
    """`{"enable_recording": true, "recording_storage": ...}`, validated."""
    # Validated from the plain dict, as the API receives it (the field's type is the parsed model).
    return ConversationProperties.model_validate({"recording_storage": recording_storage}).model_dump()


def recording_storage_json(recording_storage: dict[str, Any]) -> str:
    """The object as one compact JSON string: Pulumi ESC exports only scalars as environment variables."""
    return json.dumps(recording_storage, separators=(",", ":"), sort_keys=True)


def legacy_properties(recording_storage: dict[str, Any]) -> dict[str, Any]:
    """The flat pre-`recording_storage` fields for an S3 destination, validated."""
    s3 = S3RecordingStorageConfig.model_validate(recording_storage)
    return LegacyS3Properties(
        recording_s3_bucket_name=s3.bucket_name,
        recording_s3_bucket_region=s3.bucket_region,
        aws_assume_role_arn=s3.assume_role_arn,
    ).model_dump()

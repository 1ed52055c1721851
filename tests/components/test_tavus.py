"""The Tavus API models: only the API's fields, per provider, never empty."""

import pytest
from pydantic import ValidationError

from components import tavus

S3 = {
    "provider": "s3",
    "bucket_name": "acme-recordings",
    "bucket_region": "us-east-1",
    "assume_role_arn": "arn:aws:iam::123456789012:role/TavusRecordingWriter",
    "external_id": "tavus",
}


def test_constants_are_the_ones_in_tavus_guide():
    assert tavus.TAVUS_AWS_PRINCIPAL == "arn:aws:iam::291871421005:root"
    assert tavus.DEFAULT_EXTERNAL_ID == "tavus"
    assert tavus.MAX_SESSION_SECONDS == 12 * 60 * 60
    assert len(tavus.S3_WRITER_ACTIONS) == len(set(tavus.S3_WRITER_ACTIONS)) == 8


def test_conversation_properties_wrap_the_storage_object():
    assert tavus.conversation_properties(S3) == {"enable_recording": True, "recording_storage": S3}


def test_each_provider_takes_only_its_own_fields():
    with pytest.raises(ValidationError, match="project_id"):
        tavus.conversation_properties({**S3, "project_id": "my-project"})
    gcs = {
        "provider": "gcs",
        "bucket_name": "acme-recordings",
        "project_id": "my-project",
        "workload_identity_provider": "projects/123/locations/global/workloadIdentityPools/p/providers/q",
        "service_account_email": "writer@my-project.iam.gserviceaccount.com",
    }
    assert tavus.conversation_properties(gcs)["recording_storage"] == gcs
    azure = {
        "provider": "azure_blob",
        "storage_account": "acmerecordings",
        "container": "recordings",
        "tenant_id": "11111111-2222-3333-4444-555555555555",
        "client_id": "66666666-7777-8888-9999-000000000000",
    }
    assert tavus.conversation_properties(azure)["recording_storage"] == azure
    with pytest.raises(ValidationError):
        tavus.conversation_properties({**azure, "bucket_name": "x"})


@pytest.mark.parametrize("field", ["bucket_name", "bucket_region", "assume_role_arn", "external_id"])
def test_s3_fields_are_required_and_never_empty(field):
    with pytest.raises(ValidationError):
        tavus.S3RecordingStorageConfig.model_validate({**S3, field: ""})
    with pytest.raises(ValidationError):
        tavus.S3RecordingStorageConfig.model_validate({k: v for k, v in S3.items() if k != field})


def test_unknown_provider_is_refused():
    with pytest.raises(ValidationError):
        tavus.conversation_properties({**S3, "provider": "r2"})


def test_legacy_properties_are_the_deprecated_flat_fields():
    assert tavus.legacy_properties(S3) == {
        "enable_recording": True,
        "recording_s3_bucket_name": "acme-recordings",
        "recording_s3_bucket_region": "us-east-1",
        "aws_assume_role_arn": "arn:aws:iam::123456789012:role/TavusRecordingWriter",
    }


@pytest.mark.parametrize("bad", ["evil\nforged", "a\x1b[31mb", "a\u202eb", "a\u2028b", "a\x00b", "x" * (tavus.MAX_FIELD_LENGTH + 1)])
@pytest.mark.parametrize("field", ["bucket_name", "bucket_region", "assume_role_arn", "external_id"])
def test_a_field_sent_to_tavus_holds_no_control_character_and_is_bounded(field, bad):
    # What verify sends Tavus and prints comes from an outputs file: a line break there is never an identifier.
    with pytest.raises(ValidationError):
        tavus.S3RecordingStorageConfig.model_validate({**S3, field: bad})


def test_a_field_at_the_length_limit_with_any_letters_is_kept():
    name = "é" * tavus.MAX_FIELD_LENGTH
    assert tavus.S3RecordingStorageConfig.model_validate({**S3, "bucket_name": name}).bucket_name == name

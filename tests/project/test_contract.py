"""The parts of DESIGN.md's contract that tools outside the project rely on."""

import tomllib

from pulumi.provider.experimental.analyzer import Analyzer

import components
from tavus_recording.stack_files import PROJECT_DIR


def test_components_are_importable_from_the_package():
    from components.aws import S3RecordingStorage
    from components.azure import AzureBlobRecordingStorage
    from components.gcp import GcsRecordingStorage

    assert components.S3RecordingStorage is S3RecordingStorage
    assert components.GcsRecordingStorage is GcsRecordingStorage
    assert components.AzureBlobRecordingStorage is AzureBlobRecordingStorage
    assert {"S3RecordingStorage", "GcsRecordingStorage", "AzureBlobRecordingStorage"} <= set(components.__all__)


def test_s3_component_can_be_hosted_as_a_provider():
    # component_provider_host infers the schema with this analyzer; it must accept our types.
    result = Analyzer("tavus-recording").analyze([components.S3RecordingStorage])
    definition = result["component_definitions"]["S3RecordingStorage"]
    assert set(definition.inputs) == {
        "bucketName", "existingBucket", "existingBucketRegion", "externalId", "kmsKeyArn", "retentionDays", "noncurrentVersionDays", "coldAfterDays",
        "tags", "tavusAccess", "immutableDays", "immutableMode", "auditLogs"
    }
    assert all(prop.optional for prop in definition.inputs.values())
    assert {"recordingStorage", "bucketArn", "roleArn", "tavusAccess", "auditTrailArn", "auditLogBucket"} <= set(definition.outputs)


def test_requirements_txt_is_the_aws_install_from_pyproject():
    # `pulumi up` installs requirements.txt; `make` installs pyproject's extras. They must agree.
    project = tomllib.loads((PROJECT_DIR / "pyproject.toml").read_text())["project"]
    expected = set(project["dependencies"]) | set(project["optional-dependencies"]["aws"])
    lines = (PROJECT_DIR / "requirements.txt").read_text().splitlines()
    assert {line for line in lines if line and not line.startswith("#")} == expected


def test_aws_extra_holds_no_other_clouds_sdk():
    project = tomllib.loads((PROJECT_DIR / "pyproject.toml").read_text())["project"]
    everything = " ".join(project["dependencies"] + project["optional-dependencies"]["aws"])
    assert "pulumi-gcp" not in everything and "pulumi-azure-native" not in everything


def test_component_args_are_named_like_the_settings_they_come_from():
    # __main__ fills each component's args from the settings field of the same name.
    from components.settings import StackSettings

    for args_type in (
        components.S3RecordingStorageArgs,
        components.GcsRecordingStorageArgs,
        components.AzureBlobRecordingStorageArgs,
    ):
        assert set(args_type.__annotations__) <= set(StackSettings.model_fields), args_type.__name__

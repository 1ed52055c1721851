"""The whole program (`__main__.py`) for the example stacks, on the mock engine."""

from __future__ import annotations

import json
import subprocess
import sys

import pulumi
import pytest

from components import tavus
from components.mock_engine import run_program
from components.stack_files import PROJECT_DIR, load_stack_config, stack_names
from tests.conftest import s3_config


@pytest.fixture(scope="module")
def dev_run():
    return run_program(load_stack_config("dev").config)


def test_example_stacks_exist_and_dev_is_s3_in_us_east_1():
    assert {"dev", "s3-kms"} <= set(stack_names())
    config = load_stack_config("dev").config
    assert config["tavus-recording:provider"] == "s3"
    assert config["aws:region"] == "us-east-1"


def test_contract_outputs_have_exactly_the_apis_shape(dev_run):
    storage = dev_run.outputs["recording_storage"]
    assert set(storage) == {"provider", "bucket_name", "bucket_region", "assume_role_arn", "external_id"}
    assert all(isinstance(value, str) and value for value in storage.values())
    assert storage["provider"] == "s3" and storage["bucket_region"] == "us-east-1"
    assert dev_run.outputs["conversation_properties"] == {"enable_recording": True, "recording_storage": storage}
    assert dev_run.outputs["legacy_properties"] == {
        "enable_recording": True,
        "recording_s3_bucket_name": storage["bucket_name"],
        "recording_s3_bucket_region": "us-east-1",
        "aws_assume_role_arn": storage["assume_role_arn"],
    }
    # Valid against the API models, and JSON as `pulumi stack output --json` prints it.
    tavus.ConversationProperties.model_validate(json.loads(json.dumps(dev_run.outputs["conversation_properties"])))


def test_outputs_point_at_the_resources_the_stack_creates(dev_run):
    storage = dev_run.outputs["recording_storage"]
    role = dev_run.one("aws:iam/role:Role")
    bucket = dev_run.one("aws:s3/bucket:Bucket")
    assert storage["assume_role_arn"] == role.outputs["arn"] == dev_run.outputs["role_arn"]
    assert storage["bucket_name"] == bucket.id == dev_run.outputs["bucket_name"]
    assert dev_run.outputs["bucket_arn"] == bucket.outputs["arn"]


def test_kms_example_stack_builds_sse_kms_with_retention():
    run = run_program(load_stack_config("s3-kms").config, stack="s3-kms")
    storage = run.outputs["recording_storage"]
    assert storage["bucket_name"] == "acme-tavus-recordings-prod"
    assert storage["bucket_region"] == "eu-west-1"
    rules = run.one("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration").inputs["rules"]
    assert {"id": "expire-recordings", "status": "Enabled", "filter": {}, "expiration": {"days": 90}} in rules
    policy = json.loads(run.one("aws:iam/rolePolicy:RolePolicy").inputs["policy"])
    assert policy["Statement"][1]["Action"] == ["kms:GenerateDataKey", "kms:Decrypt"]


@pytest.mark.parametrize("provider", ["gcs", "azure_blob"])
def test_providers_not_built_yet_fail_clearly_before_any_resource(provider):
    with pytest.raises(pulumi.RunError, match=rf"tavus-recording:provider: '{provider}' .* cannot build yet"):
        run_program(s3_config(provider=provider))


def test_s3_program_never_imports_the_gcp_or_azure_sdks():
    # A fresh interpreter, so nothing else in the test session has imported them.
    probe = (
        "import sys, json\n"
        "from components.mock_engine import run_program\n"
        "from components.stack_files import load_stack_config\n"
        "run = run_program(load_stack_config('dev').config)\n"
        "print(json.dumps({'built': run.outputs['recording_storage']['provider'],"
        " 'loaded': sorted(m for m in sys.modules if m.split('.')[0] in ('pulumi_gcp', 'pulumi_azure_native', 'pulumi_aws'))[:1]}))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], cwd=PROJECT_DIR, capture_output=True, text=True, check=True)
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report == {"built": "s3", "loaded": ["pulumi_aws"]}


def test_importing_components_loads_no_cloud_sdk():
    probe = "import sys, components\nprint(any(m.startswith(('pulumi_aws', 'pulumi_gcp', 'pulumi_azure_native')) for m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", probe], cwd=PROJECT_DIR, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"

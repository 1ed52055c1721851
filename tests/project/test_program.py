"""The whole program (`__main__.py`) for the example stacks, on the mock engine."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from components import tavus
from tavus_recording.mock_engine import run_program
from stack_configs import s3_config
from tavus_recording.stack_files import PROJECT_DIR, load_stack_config, stack_names


@pytest.fixture(scope="module")
def dev_run():
    return run_program(load_stack_config("dev").config)


def test_example_stacks_exist_and_dev_is_s3_in_us_east_1():
    assert {"dev", "s3-kms", "gcs", "azure"} <= set(stack_names())
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


def test_legacy_properties_only_where_the_flat_fields_can_work():
    # The flat fields have no ExternalId, so with another one Tavus could not assume the role: before,
    # they were exported anyway and an app using them failed at its first recording.
    run = run_program(s3_config(externalId="acme-7f3a9c"))
    assert "legacy_properties" not in run.outputs
    assert run.outputs["recording_storage"]["external_id"] == "acme-7f3a9c"


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


@pytest.mark.parametrize(("stack", "provider"), [("dev", "s3"), ("gcs", "gcs"), ("azure", "azure_blob")])
def test_every_tavus_provider_has_an_example_stack_that_builds(stack, provider):
    run = run_program(load_stack_config(stack).config, stack=stack)
    assert run.outputs["recording_storage"]["provider"] == provider
    tavus.ConversationProperties.model_validate(run.outputs["conversation_properties"])


@pytest.mark.parametrize(("stack", "sdk"), [("dev", "pulumi_aws"), ("gcs", "pulumi_gcp"), ("azure", "pulumi_azure_native")])
def test_a_stack_loads_only_its_own_clouds_sdk(stack, sdk):
    # A fresh interpreter, so nothing else in the test session has imported an SDK.
    probe = (
        "import sys, json\n"
        "from tavus_recording.mock_engine import run_program\n"
        "from tavus_recording.stack_files import load_stack_config\n"
        f"run = run_program(load_stack_config({stack!r}).config, stack={stack!r})\n"
        "print(json.dumps({'built': run.outputs['recording_storage']['provider'],"
        " 'loaded': sorted({m.split('.')[0] for m in sys.modules} & {'pulumi_aws', 'pulumi_gcp', 'pulumi_azure_native'})}))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], cwd=PROJECT_DIR, capture_output=True, text=True, check=True)
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report == {"built": load_stack_config(stack).config["tavus-recording:provider"], "loaded": [sdk]}


def test_gcs_example_stack_exports_the_gcs_object():
    run = run_program(load_stack_config("gcs").config, stack="gcs")
    storage = run.outputs["recording_storage"]
    assert set(storage) == {"provider", "bucket_name", "project_id", "workload_identity_provider", "service_account_email"}
    assert storage["project_id"] == "acme-recordings-prod"
    assert storage["workload_identity_provider"] == run.one(
        "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider"
    ).outputs["name"]
    assert storage["service_account_email"] == run.outputs["service_account_email"]
    assert run.outputs["conversation_properties"] == {"enable_recording": True, "recording_storage": storage}
    assert "legacy_properties" not in run.outputs  # S3 only
    # Stack-derived default ids, so dev and prod can share a project.
    assert run.one("gcp:iam/workloadIdentityPool:WorkloadIdentityPool").inputs["workloadIdentityPoolId"] == "tavus-recordings-gcs"


def test_a_missing_cloud_sdk_is_a_readable_error():
    # Simulate an AWS-only install running a gcs stack: pulumi_gcp cannot be imported.
    probe = (
        "import sys\n"
        "sys.modules['pulumi_gcp'] = None\n"
        "import pulumi\n"
        "from tavus_recording.mock_engine import run_program\n"
        "from tavus_recording.stack_files import load_stack_config\n"
        "try:\n"
        "    run_program(load_stack_config('gcs').config, stack='gcs')\n"
        "except pulumi.RunError as exc:\n"
        "    print(exc)\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], cwd=PROJECT_DIR, capture_output=True, text=True, check=True)
    assert "provider gcs needs the pulumi_gcp package" in result.stdout
    assert "make setup CLOUDS=gcp" in result.stdout


def test_importing_components_loads_no_cloud_sdk():
    probe = "import sys, components\nprint(any(m.startswith(('pulumi_aws', 'pulumi_gcp', 'pulumi_azure_native')) for m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", probe], cwd=PROJECT_DIR, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


@pytest.mark.parametrize("stack", ["gcs", "azure"])
def test_federated_stacks_export_the_token_verify_compares_the_trust_with(stack):
    config = load_stack_config(stack).config
    outputs = run_program(config, stack=stack).outputs
    assert outputs["tavus_oidc_issuer"] == config["tavus-recording:tavusOidcIssuer"]
    assert outputs["tavus_oidc_subject"] == config["tavus-recording:tavusOidcSubject"]
    # Unset in the examples: verify then expects each cloud's default audience.
    assert "tavus_oidc_audience" not in outputs
    audience = run_program({**config, "tavus-recording:tavusOidcAudience": "api://tavus"}, stack=stack).outputs
    assert audience["tavus_oidc_audience"] == "api://tavus"


def test_azure_stack_exports_where_verify_finds_the_identity():
    run = run_program(load_stack_config("azure").config, stack="azure")
    identity = run.one("azure-native:managedidentity:UserAssignedIdentity")
    group = run.one("azure-native:resources:ResourceGroup")
    assert run.outputs["identity_id"] == identity.id
    assert run.outputs["resource_group_name"] == group.outputs["name"]
    assert run.outputs["subscription_id"] == "<subscription-id>"
    assert identity.id.startswith(f"/subscriptions/<subscription-id>/resourceGroups/{group.outputs['name']}/")
    # With an existing group, the output is that group.
    existing = run_program({**load_stack_config("azure").config, "tavus-recording:resourceGroupName": "acme-rg"}, stack="azure")
    assert existing.outputs["resource_group_name"] == "acme-rg"


@pytest.mark.parametrize("stack", stack_names())
def test_recording_storage_json_is_the_object_as_one_compact_string(stack):
    # Pulumi ESC exports only scalars as environment variables: apps read this one instead.
    outputs = run_program(load_stack_config(stack).config, stack=stack).outputs
    text = outputs["recording_storage_json"]
    assert isinstance(text, str) and "\n" not in text
    assert json.loads(text) == outputs["recording_storage"]
    assert text == json.dumps(outputs["recording_storage"], separators=(",", ":"), sort_keys=True)


def test_a_secret_setting_stays_secret_in_every_output_made_from_it():
    # Before: the program read the raw config, so `pulumi config set --secret externalId ...` ended up in
    # plain text in recording_storage (and in the role's trust in state).
    run = run_program(s3_config(externalId="acme-7f3a9c"), secret_keys=("tavus-recording:externalId",))
    for name in ("recording_storage", "conversation_properties", "recording_storage_json"):
        assert name in run.secret_outputs, name
    assert run.outputs["recording_storage"]["external_id"] == "acme-7f3a9c"
    # Outputs with nothing secret in them stay readable.
    assert "storage_managed" not in run.secret_outputs and "retention_days" not in run.secret_outputs
    assert run_program(s3_config(externalId="acme-7f3a9c")).secret_outputs == set()


def test_a_python_too_old_is_told_what_is_needed_before_any_import(tmp_path):
    # Pulumi may build .venv with an old system python3: the program's first lines say what to do.
    source = (PROJECT_DIR / "__main__.py").read_text()
    head = source.split("import pulumi", 1)[0]
    assert "sys.version_info < (3, 11)" in head and "needs Python 3.11 or newer" in head
    compile(head, "__main__.py", "exec")  # no syntax an old Python would refuse before the check

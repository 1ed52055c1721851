"""`tavus-recording plan`, as a platform engineer runs it: what it prints and its exit code. In the test's process
(bounded_cli.cli_in_process); test_plan.py and test_layout.py run the command as a process of its own."""

from __future__ import annotations

import json

from bounded_cli import cli_in_process as cli
from tavus_recording.stack_files import PROJECT_DIR


def test_plan_text_shows_resources_documents_and_outputs():
    result = cli("plan")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Plan for stack 'dev' (stacks/Pulumi.dev.yaml)" in out
    assert "<...> marks a value known only after `pulumi up`" in out
    assert "+ aws:s3/bucket:Bucket  tavus-recordings-bucket  [kept on destroy]" in out
    # The full trust and permission documents, readable.
    assert '"AWS": "arn:aws:iam::291871421005:root"' in out
    assert '"sts:ExternalId": "tavus"' in out
    assert "maxSessionDuration: 43200" in out
    assert '"s3:ListMultipartUploadParts"' in out
    assert '"aws:SecureTransport": "false"' in out
    assert "recording_storage:" in out and "conversation_properties:" in out
    assert '"assume_role_arn": "arn:aws:iam::<account-id>:role/tavus-recordings-writer-<random>"' in out


def test_plan_json_lists_resources_and_outputs():
    result = cli("plan", "--stack", "dev", "--json")
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)
    assert {(r["type"], r["name"]) for r in plan["resources"]} >= {
        ("tavus-recording:index:S3RecordingStorage", "tavus-recordings"),
        ("aws:s3/bucket:Bucket", "tavus-recordings-bucket"),
        ("aws:iam/role:Role", "tavus-recordings-writer"),
        ("aws:iam/rolePolicy:RolePolicy", "tavus-recordings-writer-policy"),
    }
    assert len(plan["resources"]) == 10
    role = next(r for r in plan["resources"] if r["type"] == "aws:iam/role:Role")
    # The trust document as sent (a JSON string), and decoded beside it.
    assert isinstance(role["inputs"]["assumeRolePolicy"], str)
    assert role["decoded_inputs"]["assumeRolePolicy"]["Statement"][0]["Principal"] == {"AWS": "arn:aws:iam::291871421005:root"}
    assert set(plan["outputs"]) >= {"recording_storage", "conversation_properties", "legacy_properties"}
    assert plan["outputs"]["recording_storage"]["bucket_region"] == "us-east-1"


def test_plan_for_the_kms_example():
    plan = json.loads(cli("plan", "--stack", "s3-kms", "--json").stdout)
    assert plan["outputs"]["recording_storage"]["bucket_name"] == "acme-tavus-recordings-prod"


def test_plan_for_the_gcs_example_shows_the_trust():
    result = cli("plan", "--stack", "gcs")
    assert result.returncode == 0, result.stderr
    assert 'attributeCondition: "assertion.sub == \\"tavus-recording-writer\\""' in result.stdout
    assert "principal://iam.googleapis.com/projects/<project-number>/locations/global/workloadIdentityPools/" in result.stdout
    assert 'role: "roles/storage.objectCreator"' in result.stdout
    plan = json.loads(cli("plan", "--stack", "gcs", "--json").stdout)
    assert plan["outputs"]["recording_storage"]["provider"] == "gcs"


def test_plan_for_the_azure_example_shows_the_trust():
    plan = json.loads(cli("plan", "--stack", "azure", "--json").stdout)
    types = {r["type"]: r for r in plan["resources"]}
    credential = types["azure-native:managedidentity:FederatedIdentityCredential"]["inputs"]
    assert credential["audiences"] == ["api://AzureADTokenExchange"]
    assignment = types["azure-native:authorization:RoleAssignment"]["inputs"]
    assert assignment["roleDefinitionId"].endswith("/roleDefinitions/ba92f5b4-2d11-453d-a403-e96b0029c9fe")
    assert plan["outputs"]["recording_storage"]["provider"] == "azure_blob"


def test_unknown_stack_is_a_short_error_listing_the_stacks():
    result = cli("plan", "--stack", "prod")
    # No stack file: plan could not run (2), which is not a stack the program refused (1).
    assert result.returncode == 2
    assert "no stack file stacks/Pulumi.prod.yaml" in result.stderr
    assert "dev" in result.stderr and "Traceback" not in result.stderr


def test_bad_config_is_one_readable_error_without_a_traceback(tmp_path):
    # A copy of the project whose stack file has a typo.
    (tmp_path / "stacks").mkdir()
    for name in ("Pulumi.yaml", "__main__.py"):
        (tmp_path / name).write_text((PROJECT_DIR / name).read_text())
    (tmp_path / "stacks" / "Pulumi.typo.yaml").write_text(
        "config:\n  aws:region: us-east-1\n  tavus-recording:provider: s3\n  tavus-recording:bucketNme: acme\n"
    )
    result = cli("plan", "--stack", "typo", "--project-dir", str(tmp_path))
    assert result.returncode == 1
    assert result.stderr.startswith("error: invalid stack configuration:")
    assert (
        "  - tavus-recording:bucketNme: is not a key this kit knows (did you mean 'tavus-recording:bucketName'?)"
        in result.stderr
    )
    assert "Traceback" not in result.stderr and result.stdout == ""

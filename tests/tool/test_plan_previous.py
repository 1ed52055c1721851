"""`plan --previous FILE`: a WARNING when a change would replace storage kept on destroy.

The previous plans are made in-process (`plan_document`, what `plan --json` prints) and edited as a
reviewer's earlier stack would differ; a few runs of the command (in the test's process too) check what a
user sees.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bounded_cli import cli_in_process as cli
from tavus_recording.mock_engine import run_program
from tavus_recording.plan import REPLACED_BY, compare_with_previous, plan_document
from tavus_recording.stack_files import load_stack_config


def document(stack: str, config: dict[str, str] | None = None) -> dict[str, Any]:
    config = config if config is not None else load_stack_config(stack).config
    return plan_document(stack, run_program(config, stack=stack), f"stacks/Pulumi.{stack}.yaml")


def kept(doc: dict[str, Any], type_: str) -> dict[str, Any]:
    return next(r for r in doc["resources"] if r["type"] == type_ and r["retain_on_delete"])


@pytest.fixture(scope="module")
def kms_plan() -> dict[str, Any]:
    return document("s3-kms")


@pytest.fixture(scope="module")
def gcs_plan() -> dict[str, Any]:
    return document("gcs")


def test_every_kept_storage_resource_lists_the_inputs_that_replace_it(kms_plan, gcs_plan):
    for doc in (kms_plan, gcs_plan, document("azure")):
        for resource in doc["resources"]:
            if resource["type"] in REPLACED_BY:
                assert set(resource["replaced_if_changed"]) == {f.input for f in REPLACED_BY[resource["type"]]}
            else:
                assert resource["replaced_if_changed"] is None
    # The provider's default is filled in: a change of aws:region replaces the bucket too.
    assert kept(kms_plan, "aws:s3/bucket:Bucket")["replaced_if_changed"]["region"] == "eu-west-1"
    assert kept(gcs_plan, "gcp:storage/bucket:Bucket")["replaced_if_changed"]["project"] == "acme-recordings-prod"


def test_an_unchanged_previous_plan_gives_no_warning(tmp_path: Path, kms_plan):
    previous = tmp_path / "previous.json"
    previous.write_text(json.dumps(kms_plan))
    text = cli("plan", "--stack", "s3-kms", "--previous", str(previous))
    assert text.returncode == 0 and text.stderr == ""
    assert "WARNING" not in text.stdout
    result = cli("plan", "--stack", "s3-kms", "--json", "--previous", str(previous))
    assert result.returncode == 0 and json.loads(result.stdout)["warnings"] == []


def test_a_renamed_bucket_is_a_warning_naming_it_with_what_to_do(tmp_path: Path, kms_plan):
    edited = json.loads(json.dumps(kms_plan))
    bucket = kept(edited, "aws:s3/bucket:Bucket")
    bucket["inputs"]["bucket"] = bucket["replaced_if_changed"]["bucket"] = "acme-old-recordings"
    previous = tmp_path / "previous.json"
    previous.write_text(json.dumps(edited))

    result = cli("plan", "--stack", "s3-kms", "--previous", str(previous))
    assert result.returncode == 0, result.stderr  # advice, not a failure
    assert result.stderr == ""
    out = result.stdout
    # At the top: before the summary.
    assert out.index("WARNING: compared with") < out.index("Summary:")
    warning = out.split("WARNING: compared with", 1)[1].split("\nSummary:", 1)[0]
    assert 'aws:s3/bucket:Bucket tavus-recordings-bucket: bucket "acme-old-recordings" -> "acme-tavus-recordings-prod"' in warning
    assert "set by tavus-recording:bucketName" in warning
    assert "stays in the cloud with every recording" in warning
    assert 'Do: keep bucket "acme-old-recordings" (set tavus-recording:bucketName back)' in warning
    assert "tavus-recording:existingBucket" in warning
    assert (
        "pulumi import -s s3-kms 'aws:s3/bucket:Bucket' tavus-recordings-bucket 'acme-old-recordings' --parent "
        "'parent=urn:pulumi:s3-kms::tavus-recording::tavus-recording:index:S3RecordingStorage::tavus-recordings'"
    ) in warning

    plan = json.loads(cli("plan", "--stack", "s3-kms", "--json", "--previous", str(previous)).stdout)
    assert [(w["resource"], w["input"], w["old"], w["new"]) for w in plan["warnings"]] == [
        ({"type": "aws:s3/bucket:Bucket", "name": "tavus-recordings-bucket"}, "bucket", "acme-old-recordings",
         "acme-tavus-recordings-prod")
    ]


def test_a_moved_bucket_keeps_its_name_so_the_replacement_fails(tmp_path: Path, gcs_plan):
    edited = json.loads(json.dumps(gcs_plan))
    bucket = kept(edited, "gcp:storage/bucket:Bucket")
    bucket["inputs"]["location"] = bucket["replaced_if_changed"]["location"] = "EU"
    previous = tmp_path / "gcs-previous.json"
    previous.write_text(json.dumps(edited))
    result = cli("plan", "--stack", "gcs", "--previous", str(previous))
    assert result.returncode == 0 and result.stderr == ""
    warning = result.stdout.split("WARNING: compared with", 1)[1].split("\nSummary:", 1)[0]
    assert 'gcp:storage/bucket:Bucket tavus-recordings-bucket: location "EU" -> "US" (set by tavus-recording:location)' in warning
    assert "the name is taken" in warning and "the update fails" in warning
    assert "terraform-provider-google google_storage_bucket" in warning


def test_the_providers_own_equivalences_are_no_change(gcs_plan):
    edited = json.loads(json.dumps(gcs_plan))
    kept(edited, "gcp:storage/bucket:Bucket")["replaced_if_changed"]["location"] = "us"  # stored upper-cased
    assert compare_with_previous(gcs_plan, edited, "previous.json") == []


def test_a_region_change_of_a_named_bucket_is_a_warning():
    config = {k: v for k, v in load_stack_config("s3-kms").config.items() if k != "tavus-recording:kmsKeyArn"}
    before = document("s3-kms", {**config, "aws:region": "us-east-1"})
    after = document("s3-kms", config)
    warnings = compare_with_previous(after, before, "previous.json")
    assert [(w["input"], w["old"], w["new"]) for w in warnings] == [("region", "us-east-1", "eu-west-1")]
    assert "set by aws:region" in warnings[0]["says"] and "the update fails" in warnings[0]["says"]


def test_kept_storage_dropped_from_the_plan_is_a_warning_unless_it_is_now_existing_storage(kms_plan):
    config = load_stack_config("s3-kms").config
    storage_keys = ("bucketName", "kmsKeyArn", "retentionDays", "noncurrentVersionDays")
    others = {k: v for k, v in config.items() if k.removeprefix("tavus-recording:") not in storage_keys}
    # The same stack now granting on the bucket it made, as existing storage: what existingBucket is for.
    existing = document("s3-kms", {**others, "tavus-recording:existingBucket": "acme-tavus-recordings-prod"})
    assert compare_with_previous(existing, kms_plan, "previous.json") == []
    # Granting on another bucket: the kept one leaves the stack and stays in the cloud.
    elsewhere = document("s3-kms", {**others, "tavus-recording:existingBucket": "acme-other-bucket"})
    [warning] = compare_with_previous(elsewhere, kms_plan, "previous.json")
    assert warning["resource"] == {"type": "aws:s3/bucket:Bucket", "name": "tavus-recordings-bucket"}
    assert "no longer in the plan" in warning["says"] and "unmanaged" in warning["says"]
    assert "'aws:s3/bucket:Bucket' tavus-recordings-bucket 'acme-tavus-recordings-prod'" in warning["do"]


def test_a_plan_of_another_stack_is_said_to_be_one(kms_plan, gcs_plan):
    warnings = compare_with_previous(gcs_plan, kms_plan, "previous.json")
    assert [w["says"] for w in warnings] == ["previous.json is a plan of stack 's3-kms', not 'gcs'"]


def test_a_new_stack_reusing_a_kept_name_is_told_the_creation_fails(kms_plan):
    # Another stack with the same bucketName: the bucket s3-kms keeps on destroy already has that name.
    copy = document("s3-kms-copy", load_stack_config("s3-kms").config)
    [note, collision] = compare_with_previous(copy, kms_plan, "previous.json")
    assert note["says"] == "previous.json is a plan of stack 's3-kms', not 's3-kms-copy'"
    assert collision["resource"] == {"type": "aws:s3/bucket:Bucket", "name": "tavus-recordings-bucket"}
    assert 'bucket "acme-tavus-recordings-prod", which stack \'s3-kms\' keeps on destroy' in collision["says"]
    assert "the creation fails" in collision["says"]
    assert "pulumi import -s s3-kms-copy 'aws:s3/bucket:Bucket' tavus-recordings-bucket 'acme-tavus-recordings-prod'" in collision["do"]
    # Auto-named buckets get a suffix of their own: no collision.
    assert compare_with_previous(document("dev-copy", load_stack_config("dev").config), document("dev"), "p.json")[1:] == []


@pytest.mark.parametrize(
    ("content", "says"),
    [
        ('{"resources": [', "is not JSON"),
        ('{"stack": "dev"}', "is not a plan"),
        ('[{"type": "x", "name": "y"}]', "is not a plan"),
        ('{"resources": [{"type": "x"}]}', "is not a plan"),
    ],
)
def test_a_malformed_previous_plan_is_one_line_naming_the_file(tmp_path: Path, content, says):
    previous = tmp_path / "broken.json"
    previous.write_text(content)
    result = cli("plan", "--stack", "dev", "--previous", str(previous))
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith(f"error: --previous {previous} {says}")
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_a_missing_previous_plan_is_one_line_naming_the_file(tmp_path: Path):
    result = cli("plan", "--stack", "dev", "--previous", str(tmp_path / "nowhere.json"))
    assert result.returncode == 2
    assert result.stderr == f"error: --previous {tmp_path / 'nowhere.json'}: cannot read it (No such file or directory)\n"

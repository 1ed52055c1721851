"""`tavus-recording init`: a new stack file, valid before it is written, that `plan` then builds.

Every test works on a copy of the project (`--project-dir`), never on the real stacks/.
"""

from __future__ import annotations

import json
import shlex
import shutil
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from bounded_cli import cli_in_process
from tavus_recording import cli
from tavus_recording.stack_files import PROJECT_DIR

runner = CliRunner()
ISSUER = "https://issuer.example"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the project with the example stacks."""
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(PROJECT_DIR / name, tmp_path / name)
    shutil.copytree(PROJECT_DIR / "stacks", tmp_path / "stacks")
    return tmp_path


def init(project: Path, *args: str, input: str | None = None):
    return runner.invoke(cli.app, ["init", *args, "--project-dir", str(project)], input=input)


def stack_files(project: Path) -> dict[str, str]:
    return {path.name: path.read_text() for path in (project / "stacks").iterdir()}


def written(project: Path, stack: str) -> dict:
    return yaml.safe_load((project / "stacks" / f"Pulumi.{stack}.yaml").read_text())["config"]


def plan(project: Path, stack: str) -> dict:
    """What `make plan STACK=<stack>` runs, as a platform engineer would (in this process: what it prints is the point)."""
    result = cli_in_process("plan", "--stack", stack, "--project-dir", str(project), "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_make_plan_runs_the_plan_verb_these_tests_run():
    assert "$(VENV)/bin/tavus-recording plan --stack $(STACK)" in (PROJECT_DIR / "Makefile").read_text()


def test_s3_init_writes_a_tidy_stack_file_that_plan_builds(project):
    result = init(project, "prod", "--provider", "s3", "--region", "eu-west-1",
                  "--set", "bucketName=acme-tavus-prod", "--set", "retentionDays=365")
    assert result.exit_code == 0, result.output
    assert "Wrote stacks/Pulumi.prod.yaml" in result.stdout
    text = (project / "stacks" / "Pulumi.prod.yaml").read_text()
    header, body = text.split("config:\n", 1)
    # A comment header saying how the file was made, then the config like the example stacks.
    assert all(line.startswith("# ") for line in header.splitlines())
    assert "tavus-recording init prod --provider s3 --region eu-west-1" in header
    assert body == (
        "  aws:region: eu-west-1\n"
        "  tavus-recording:provider: s3\n"
        "  tavus-recording:bucketName: acme-tavus-prod\n"
        "  tavus-recording:retentionDays: 365\n"
    )
    storage = plan(project, "prod")["outputs"]["recording_storage"]
    assert storage["bucket_name"] == "acme-tavus-prod" and storage["bucket_region"] == "eu-west-1"


def test_gcs_init_with_project_region_and_federation_builds(project):
    result = init(project, "gcs-prod", "--provider", "gcs", "--project", "acme-recordings", "--region", "us-central1",
                  "--set", f"tavusOidcIssuer={ISSUER}", "--set", "tavusOidcSubject=tavus-recording-writer")
    assert result.exit_code == 0, result.output
    # The next command named works for this provider: it installs the Google SDK, not the default AWS one.
    assert "Preview it offline: make plan STACK=gcs-prod CLOUDS=gcp" in result.stdout
    assert "# Preview it offline: make plan STACK=gcs-prod CLOUDS=gcp." in (project / "stacks" / "Pulumi.gcs-prod.yaml").read_text()
    assert written(project, "gcs-prod") == {
        "gcp:project": "acme-recordings",
        "tavus-recording:provider": "gcs",
        "tavus-recording:location": "us-central1",  # --region is where the bucket lives
        "tavus-recording:tavusOidcIssuer": ISSUER,
        "tavus-recording:tavusOidcSubject": "tavus-recording-writer",
    }
    run = plan(project, "gcs-prod")
    assert run["outputs"]["recording_storage"]["project_id"] == "acme-recordings"
    bucket = next(r for r in run["resources"] if r["type"] == "gcp:storage/bucket:Bucket")
    assert bucket["inputs"]["location"] == "us-central1"


def test_azure_init_with_federation_builds(project):
    result = init(project, "azure-prod", "--provider", "azure_blob", "--region", "westeurope",
                  "--set", f"tavusOidcIssuer={ISSUER}", "--set", "tavusOidcSubject=tavus-recording-writer",
                  "--set", "container=calls")
    assert result.exit_code == 0, result.output
    assert "make plan STACK=azure-prod CLOUDS=azure" in result.stdout
    assert written(project, "azure-prod")["azure-native:location"] == "westeurope"
    storage = plan(project, "azure-prod")["outputs"]["recording_storage"]
    assert storage["provider"] == "azure_blob" and storage["container"] == "calls"


def test_integer_settings_are_yaml_integers_and_text_stays_text(project):
    result = init(project, "prod", "--provider", "s3", "--region", "us-east-1",
                  "--set", "noncurrentVersionDays=7", "--set", "externalId=12345")
    assert result.exit_code == 0, result.output
    config = written(project, "prod")
    assert config["tavus-recording:noncurrentVersionDays"] == 7
    assert config["tavus-recording:externalId"] == "12345"


def test_a_typo_key_exits_2_with_did_you_mean_and_writes_nothing(project):
    before = stack_files(project)
    result = init(project, "prod", "--provider", "s3", "--region", "us-east-1", "--set", "bucketNme=acme-tavus-prod")
    assert result.exit_code == 2
    assert (
        "  - tavus-recording:bucketNme: is not a key this kit knows (did you mean 'tavus-recording:bucketName'?)"
        in result.stderr
    )
    assert "stacks/Pulumi.prod.yaml was not written" in result.stderr
    assert stack_files(project) == before


@pytest.mark.parametrize(
    ("args", "key"),
    [
        (["--provider", "s3", "--region", "us-east-99"], "aws:region"),
        (["--provider", "s3", "--region", "us-east-1", "--set", "retentionDays=-1"], "tavus-recording:retentionDays"),
        (["--provider", "s3", "--region", "us-east-1", "--set", "retentionDays=ninety"], "tavus-recording:retentionDays"),
        (["--provider", "gcs", "--project", "acme-recordings", "--set", "tavusOidcIssuer=http://issuer.example",
          "--set", "tavusOidcSubject=tavus"], "tavus-recording:tavusOidcIssuer"),
        (["--provider", "azure_blob", "--region", "westeurope", "--set", f"tavusOidcIssuer={ISSUER}"],
         "tavus-recording:tavusOidcSubject"),
    ],
    ids=["region", "negative-days", "words-for-days", "http-issuer", "no-subject"],
)
def test_a_bad_or_missing_value_exits_2_naming_the_key_and_writes_nothing(project, args, key):
    before = stack_files(project)
    result = init(project, "prod", *args)
    assert result.exit_code == 2
    assert f"  - {key}: " in result.stderr
    assert stack_files(project) == before


def test_an_existing_stack_file_is_never_overwritten(project):
    before = stack_files(project)
    result = init(project, "dev", "--provider", "gcs", "--project", "acme-recordings")
    assert result.exit_code == 2
    assert "stacks/Pulumi.dev.yaml already exists" in result.stderr
    assert stack_files(project) == before


@pytest.mark.parametrize("name", ["prod/eu", "prod eu", "", "x" * 101, "prod:eu"])
def test_a_name_pulumi_would_refuse_exits_2(project, name):
    before = stack_files(project)
    result = init(project, name, "--provider", "s3", "--region", "us-east-1")
    assert result.exit_code == 2
    assert "is not a Pulumi stack name" in result.stderr
    assert stack_files(project) == before


def test_any_name_pulumi_accepts_is_fine(project):
    result = init(project, "Feature_x.1-eu", "--provider", "s3", "--region", "us-east-1")
    assert result.exit_code == 0, result.output
    assert (project / "stacks" / "Pulumi.Feature_x.1-eu.yaml").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--provider", "s3", "--project", "acme-recordings", "--region", "us-east-1"], "--project is the Google Cloud project, for provider gcs only"),
        (["--provider", "s3", "--region", "us-east-1", "--set", "aws:region=eu-west-1"], "aws:region is given twice"),
        (["--provider", "s3", "--region", "us-east-1", "--set", "retentionDays"], "expected key=value"),
        (["--provider", "s3", "--region", "us-east-1", "--set", "provider=gcs"], "give the provider with --provider"),
        (["--region", "us-east-1"], "tavus-recording:provider is required: pass --provider"),
    ],
)
def test_contradictory_or_malformed_flags_exit_2(project, args, message):
    before = stack_files(project)
    result = init(project, "prod", *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert stack_files(project) == before


def test_without_a_terminal_init_never_prompts(project):
    # CliRunner's stdin is not a terminal: missing values are errors, not questions.
    result = init(project, "prod", "--provider", "azure_blob", input="westeurope\n")
    assert result.exit_code == 2
    problems = [line for line in result.stderr.splitlines() if line.startswith("  - ")]
    assert [line.split(": ")[0].strip("- ") for line in problems] == [
        "azure-native:location", "tavus-recording:tavusOidcIssuer", "tavus-recording:tavusOidcSubject",
    ]
    assert "(azure-native:location)" not in result.output  # no prompt was shown


def test_interactive_init_asks_the_provider_first_then_what_it_requires(project):
    answers = "gcs\nacme-recordings\n" + f"{ISSUER}\ntavus-recording-writer\n"
    result = init(project, "prod", "--interactive", input=answers)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Where recordings go (tavus-recording:provider) (s3, gcs, azure_blob) [s3]: ")
    keys = ["tavus-recording:provider", "gcp:project", "tavus-recording:tavusOidcIssuer", "tavus-recording:tavusOidcSubject"]
    asked = [result.stdout.find(f"({key})") for key in keys]
    assert -1 not in asked and asked == sorted(asked)
    assert written(project, "prod") == {
        "gcp:project": "acme-recordings",
        "tavus-recording:provider": "gcs",
        "tavus-recording:tavusOidcIssuer": ISSUER,
        "tavus-recording:tavusOidcSubject": "tavus-recording-writer",
    }


def test_on_a_terminal_a_missing_region_is_asked_with_the_templates_default(project, monkeypatch):
    monkeypatch.setattr(cli, "_stdin_is_terminal", lambda: True)
    result = init(project, "prod", "--provider", "s3", input="\n")  # Enter: take the default
    assert result.exit_code == 0, result.output
    assert "(aws:region) [us-east-1]:" in result.stdout
    assert written(project, "prod") == {"aws:region": "us-east-1", "tavus-recording:provider": "s3"}


def test_a_bad_answer_is_asked_again_with_what_was_wrong(project):
    result = init(project, "prod", "--provider", "s3", "--interactive", input="mars-north-1\neu-west-1\n")
    assert result.exit_code == 0, result.output
    assert "- aws:region: 'mars-north-1' is not an AWS region" in result.stderr
    assert result.stdout.count("(aws:region)") == 2
    assert written(project, "prod") == {"aws:region": "eu-west-1", "tavus-recording:provider": "s3"}


def test_bad_answers_exit_2_after_three_tries_and_write_nothing(project):
    before = stack_files(project)
    result = init(project, "prod", "--provider", "s3", "--interactive", input="mars-north-1\nmars-south-1\nmars-east-1\n")
    assert result.exit_code == 2
    assert "  - aws:region: 'mars-east-1' is not an AWS region" in result.stderr
    assert result.stdout.count("(aws:region)") == 3
    assert stack_files(project) == before


def test_a_bad_flag_is_not_asked_again_even_on_a_terminal(project):
    # Only answers typed at a prompt are asked again; a flag's value is the caller's to fix.
    result = init(project, "prod", "--provider", "s3", "--region", "mars-north-1", "--interactive", input="eu-west-1\n")
    assert result.exit_code == 2 and "(aws:region)" not in result.stdout


def test_a_random_external_id_is_the_stacks_own_and_reaches_recording_storage(project):
    ids = []
    for stack in ("prod", "staging"):
        result = init(project, stack, "--provider", "s3", "--region", "eu-west-1", "--random-external-id")
        assert result.exit_code == 0, result.output
        assert "Tavus's S3 guide documents only `tavus`" in result.stdout and "verify --tavus" in result.stdout
        ids.append(written(project, stack)["tavus-recording:externalId"])
    assert ids[0] != ids[1] and all(i.startswith("tavus-") and len(i) == 38 for i in ids)
    outputs = plan(project, "prod")["outputs"]
    assert json.loads(outputs["recording_storage_json"])["external_id"] == ids[0]
    assert "legacy_properties" not in outputs  # the flat fields cannot carry an ExternalId of its own


@pytest.mark.parametrize("args, message", [
    (["--provider", "gcs", "--project", "p", "--set", f"tavusOidcIssuer={ISSUER}", "--set", "tavusOidcSubject=s"],
     "--random-external-id is for provider s3 only"),
    (["--provider", "s3", "--region", "eu-west-1", "--set", "externalId=mine"], "is given twice"),
])
def test_a_random_external_id_where_it_cannot_apply_exits_2(project, args, message):
    result = init(project, "prod", *args, "--random-external-id")
    assert result.exit_code == 2 and message in result.stderr


def test_the_header_command_writes_the_same_file(project, tmp_path_factory):
    # The header records prompted answers as flags, so the file can be made again without a terminal.
    answers = "azure_blob\nwesteurope\n" + f"{ISSUER}\ntavus-recording-writer\n"
    assert init(project, "prod", "--interactive", "--set", "retentionDays=30", input=answers).exit_code == 0
    text = (project / "stacks" / "Pulumi.prod.yaml").read_text()
    command = text.splitlines()[0].split("`")[1]
    words = shlex.split(command)
    assert words[:3] == ["tavus-recording", "init", "prod"]
    again = tmp_path_factory.mktemp("again")
    shutil.copy(PROJECT_DIR / "Pulumi.yaml", again / "Pulumi.yaml")
    result = runner.invoke(cli.app, [*words[1:], "--non-interactive", "--project-dir", str(again)])
    assert result.exit_code == 0, result.output
    assert (again / "stacks" / "Pulumi.prod.yaml").read_text() == text


def test_tags_are_set_member_by_member_as_a_yaml_mapping_that_plan_applies(project):
    result = init(project, "prod", "--provider", "s3", "--region", "us-east-1",
                  "--set", "tags.team=media", "--set", "tags.cost-center=4200")
    assert result.exit_code == 0, result.output
    # An object, as Pulumi.yaml declares it (the Pulumi CLI refuses text for an object key).
    assert written(project, "prod")["tavus-recording:tags"] == {"team": "media", "cost-center": "4200"}
    bucket = next(r for r in plan(project, "prod")["resources"] if r["type"] == "aws:s3/bucket:Bucket")
    assert bucket["inputs"]["tags"] == {"managed-by": "tavus-recording", "team": "media", "cost-center": "4200"}


def test_a_bad_tag_exits_2_naming_tags_and_writes_nothing(project):
    before = stack_files(project)
    result = init(project, "prod", "--provider", "gcs", "--project", "acme-recordings", "--set", f"tavusOidcIssuer={ISSUER}",
                  "--set", "tavusOidcSubject=tavus", "--set", "tags.Team=media")
    assert result.exit_code == 2
    assert "  - tavus-recording:tags: label key 'Team' is not allowed" in result.stderr
    assert stack_files(project) == before


def test_a_tag_set_twice_exits_2(project):
    result = init(project, "prod", "--provider", "s3", "--region", "us-east-1", "--set", "tags.team=a", "--set", "tags.team=b")
    assert result.exit_code == 2 and "tavus-recording:tags.team is set twice" in result.stderr


def test_existing_bucket_init_plans_no_bucket_and_the_header_reproduces_tags(project, tmp_path_factory):
    result = init(project, "prod", "--provider", "s3", "--region", "us-east-1",
                  "--set", "existingBucket=acme-by-hand", "--set", "tags.team=media")
    assert result.exit_code == 0, result.output
    document = plan(project, "prod")
    assert not [r for r in document["resources"] if r["type"].startswith("aws:s3/")]
    assert [read["token"] for read in document["reads"]] == ["aws:s3/getBucket:getBucket"]
    text = (project / "stacks" / "Pulumi.prod.yaml").read_text()
    words = shlex.split(text.splitlines()[0].split("`")[1])
    assert "tags.team=media" in words
    again = tmp_path_factory.mktemp("again")
    shutil.copy(PROJECT_DIR / "Pulumi.yaml", again / "Pulumi.yaml")
    assert runner.invoke(cli.app, [*words[1:], "--non-interactive", "--project-dir", str(again)]).exit_code == 0
    assert (again / "stacks" / "Pulumi.prod.yaml").read_text() == text


def test_existing_bucket_with_a_retention_exits_2_naming_both_keys(project):
    result = init(project, "prod", "--provider", "s3", "--region", "us-east-1",
                  "--set", "existingBucket=acme-by-hand", "--set", "retentionDays=30")
    assert result.exit_code == 2
    assert "  - tavus-recording:retentionDays: cannot be used with tavus-recording:existingBucket" in result.stderr

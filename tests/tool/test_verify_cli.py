"""`tavus-recording verify`: reading the outputs, exit codes, and what the user sees."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from bounded_cli import cli_in_process
from components import tavus
from tavus_recording.stack_files import PROJECT_DIR
from tavus_recording.verify.report import Check, Report
from tavus_recording.verify import aws as verify_aws

S3 = tavus.S3RecordingStorageConfig(
    bucket_name="acme-tavus-recordings",
    bucket_region="us-east-1",
    assume_role_arn="arn:aws:iam::111122223333:role/tavus-recordings-writer",
    external_id="tavus",
).model_dump()
OUTPUTS = {"recording_storage": S3, "conversation_properties": tavus.conversation_properties(S3)}


def verify(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tavus_recording", "verify", *args],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=120,
    )


def verify_here(*args: str) -> subprocess.CompletedProcess:
    """`verify ARGS` in this process, for what it prints about its arguments and files; the tests of its environment
    (PATH, the Pulumi CLI, TAVUS_API_KEY) and the end-to-end ones run it as a process of its own (`verify`)."""
    return cli_in_process("verify", *args)


def fake_pulumi(tmp_path: Path, stdout: str, code: int = 0) -> dict[str, str]:
    """A `pulumi` on PATH that records its arguments and prints `stdout`, as the real CLI would."""
    script = tmp_path / "bin" / "pulumi"
    script.parent.mkdir()
    script.write_text(
        f"#!/bin/sh\necho \"$@\" > {tmp_path / 'args'}\ncat <<'JSON'\n{stdout}\nJSON\n"
        + (f"echo 'error: no stack named prod found' >&2\nexit {code}\n" if code else "")
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return {"PATH": f"{script.parent}{os.pathsep}{os.environ['PATH']}"}


def test_without_the_pulumi_cli_it_cannot_run_and_says_how_to_get_outputs(tmp_path):
    # Only the interpreter's own directory on PATH: no pulumi.
    result = verify("--stack", "prod", env={"PATH": str(tmp_path)})
    assert result.returncode == 2
    assert result.stderr.startswith("error: the Pulumi CLI is not installed")
    assert "--outputs FILE" in result.stderr and "--stack prod" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and result.stdout == ""


def test_reads_the_stacks_outputs_through_the_pulumi_cli(tmp_path):
    env = fake_pulumi(tmp_path, json.dumps({"bucket_name": "b"}))
    result = verify("--stack", "prod", env=env)
    assert (tmp_path / "args").read_text().split() == ["stack", "output", "--json", "--show-secrets", "--stack", "prod"]
    assert result.returncode == 2
    assert "stack prod has no recording_storage output" in result.stderr


def test_a_failing_pulumi_cli_is_quoted(tmp_path):
    result = verify("--stack", "prod", env=fake_pulumi(tmp_path, "", code=255))
    assert result.returncode == 2
    assert "failed: error: no stack named prod found" in result.stderr


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "outputs.json: cannot read it (No such file or directory)"),
        ("not json", "is not JSON"),
        ("[1, 2]", "is not a JSON object of stack outputs"),
        ('{"recording_storage": "[secret]"}', "run pulumi stack output with --show-secrets"),
        ('{"recording_storage": {"provider": "s3", "bucket_name": "b"}}', "is not a valid Tavus recording_storage"),
        ('{"recording_storage": {"provider": "ftp"}}', "is not a valid Tavus recording_storage"),
    ],
)
def test_unusable_outputs_file_exits_2_naming_the_problem(tmp_path, content, message):
    path = tmp_path / "outputs.json"
    if content is not None:
        path.write_text(content)
    result = verify_here("--outputs", str(path))
    assert result.returncode == 2, result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr


def test_missing_fields_are_named(tmp_path):
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps({"recording_storage": {"provider": "s3", "bucket_name": "b"}}))
    result = verify_here("--outputs", str(path))
    assert "bucket_region: Field required" in result.stderr and "assume_role_arn: Field required" in result.stderr


def test_tavus_without_a_key_or_replica_cannot_run(tmp_path):
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(OUTPUTS))
    result = verify("--outputs", str(path), "--tavus", env={"TAVUS_API_KEY": "", "TAVUS_REPLICA_ID": "r1"})
    assert result.returncode == 2 and "--tavus needs a Tavus API key in TAVUS_API_KEY" in result.stderr
    result = verify("--outputs", str(path), "--tavus", env={"TAVUS_API_KEY": "k", "TAVUS_REPLICA_ID": ""})
    assert result.returncode == 2 and "--replica-id" in result.stderr


def test_tavus_is_never_asked_about_a_revoked_stack(tmp_path):
    # Before: --tavus on a revoked stack built a destination with no role and sent it to Tavus.
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps({"tavus_access": "revoked", "bucket_name": "acme-tavus-recordings",
                                "bucket_arn": "arn:aws:s3:::acme-tavus-recordings"}))
    result = verify("--outputs", str(path), "--tavus", env={"TAVUS_API_KEY": "k" * 32, "TAVUS_REPLICA_ID": "r1",
                                                          "TAVUS_API_URL": "http://127.0.0.1:9"})
    assert result.returncode == 2 and "tavus_access: revoked" in result.stderr and "without --tavus" in result.stderr
    assert "k" * 32 not in result.stderr + result.stdout


def test_stack_and_outputs_together_are_refused(tmp_path):
    result = verify_here("--stack", "dev", "--outputs", str(tmp_path / "x.json"))
    assert result.returncode == 2 and "not both" in result.stderr


def test_report_json_and_exit_state():
    checks = [
        Check("aws.role.exists", True, "role found"),
        Check("aws.role.max_session", False, "MaxSessionDuration is 3600; Tavus needs 43200", "pulumi up"),
        Check("aws.bucket.tls_only", None, "s3:GetBucketPolicy denied"),
    ]
    report = Report("s3", "bucket b", checks)
    assert report.ok is False and report.exit_code == 1
    assert report.as_json() == {
        "provider": "s3",
        "ok": False,
        "checks": [
            {"id": "aws.role.exists", "ok": True, "detail": "role found"},
            {"id": "aws.role.max_session", "ok": False, "detail": "MaxSessionDuration is 3600; Tavus needs 43200 Fix: pulumi up"},
            {"id": "aws.bucket.tls_only", "ok": None, "detail": "s3:GetBucketPolicy denied"},
        ],
    }
    assert Report("s3", "bucket b", checks[:1]).exit_code == 0
    # No checks at all proves nothing.
    assert Report("s3", "bucket b", []).ok is False


def test_report_table_marks_each_check_and_shows_the_fix_under_a_miss():
    report = Report(
        "s3",
        "bucket b",
        [
            Check("aws.role.exists", True, "role found"),
            Check("aws.role.max_session", False, "MaxSessionDuration is 3600; Tavus needs 43200", "pulumi up -s prod"),
            Check("aws.bucket.tls_only", None, "s3:GetBucketPolicy denied"),
        ],
    )
    assert report.render().splitlines() == [
        "Verifying s3 destination: bucket b",
        "",
        "  ✔ aws.role.exists       role found",
        "  ✘ aws.role.max_session  MaxSessionDuration is 3600; Tavus needs 43200",
        "                          fix: pulumi up -s prod",
        "  ? aws.bucket.tls_only   s3:GetBucketPolicy denied",
        "",
        "1 passed, 1 failed, 1 unknown: Tavus may not be able to write here; see the fixes above.",
    ]


# --- end to end: the CLI as a user's shell runs it, against moto and a fake Tavus API -------------


@pytest.fixture(scope="module")
def deployed(tmp_path_factory):
    """A healthy S3 destination in a moto server, its outputs file, and the environment to reach it."""
    import boto3
    from fakes.aws_destination import ROLE_NAME, deploy_destination, running_moto

    with pytest.MonkeyPatch.context() as patch, running_moto() as moto:
        # moto keeps its accounts per process: start from none, whatever ran before.
        moto.reset()
        for name, value in moto.environment.items():
            patch.setenv(name, value)
        session = boto3.Session()
        path = tmp_path_factory.mktemp("outputs") / "outputs.json"
        path.write_text(json.dumps(deploy_destination(session)))
        iam = session.client("iam")
        yield path, moto.environment, lambda seconds: iam.update_role(RoleName=ROLE_NAME, MaxSessionDuration=seconds)
        moto.reset()


def test_a_healthy_stack_with_tavus_accepting_exits_0(deployed):
    from fakes.tavus_api import running

    path, env, _ = deployed
    with running() as fake:
        result = verify(
            "--outputs", str(path), "--json", "--tavus", "--replica-id", "r1",
            env={**env, "TAVUS_API_URL": fake.url, "TAVUS_API_KEY": "tvs-key"},
        )
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] is True and report["provider"] == "s3"
    assert report["checks"][-1]["id"] == "tavus.accepted" and report["checks"][-1]["ok"] is True
    # Tavus got the stack's own conversation_properties.
    assert fake.received[0].body["properties"] == json.loads(path.read_text())["conversation_properties"]
    assert "tvs-key" not in result.stdout + result.stderr


def test_tavus_refusing_the_destination_exits_1(deployed):
    from fakes.tavus_api import FakeTavus, running

    path, env, _ = deployed
    refusal = FakeTavus(status=400, answer={"error": "unable to assume role with given parameters"})
    with running(refusal) as fake:
        result = verify("--outputs", str(path), "--tavus", env={**env, "TAVUS_API_URL": fake.url, "TAVUS_API_KEY": "k", "TAVUS_REPLICA_ID": "r1"})
    assert result.returncode == 1
    assert "✘ tavus.accepted" in result.stdout and "HTTP 400: unable to assume role" in result.stdout


def test_a_drifted_role_exits_1_and_the_table_says_what_and_how_to_fix(deployed):
    path, env, set_max_session = deployed
    set_max_session(3600)
    try:
        result = verify("--outputs", str(path), env=env)
    finally:
        set_max_session(43200)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    failing = [i for i, line in enumerate(lines) if line.lstrip().startswith("✘")]
    assert len(failing) == 1
    line, fix = lines[failing[0]], lines[failing[0] + 1]
    assert line.split()[:2] == ["✘", "aws.role.max_session"]
    assert "allows sessions of 3600 s" in line and "unable to assume role with given parameters" in line
    assert fix.strip() == (
        "fix: run `pulumi up --refresh` for this stack to restore the kit's role (plain `pulumi up` would change nothing), or: "
        "aws iam update-role --role-name tavus-recordings-writer --max-session-duration 43200"
    )
    passing = len(verify_aws.CHECK_IDS) - 1
    assert sum(line.lstrip().startswith("✔") for line in lines) == passing
    assert lines[-1] == f"{passing} passed, 1 failed, 0 unknown: Tavus may not be able to write here; see the fixes above."

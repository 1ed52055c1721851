"""What the command prints when it cannot run: one line per message whatever the input held, the key
masked, stack names checked before use, and the end of input at a prompt named, not `Aborted!`."""

from __future__ import annotations

import base64

import pytest
from typer.testing import CliRunner

from tavus_recording import cli

KEY = "tk_live_9c1e4b7a2d5f8e3b6a0c"
runner = CliRunner()


def invoke(*args: str, env: dict[str, str] | None = None, stdin: str | None = None):
    return runner.invoke(cli.app, list(args), env={"TAVUS_API_KEY": KEY, **(env or {})}, input=stdin)


@pytest.mark.parametrize(
    "name",
    ["dev\nerror: forged", "dev\x1b]0;title\x07", "dev\u202e", "../dev", "dev/../../etc", " dev", "a" * 101],
)
def test_plan_refuses_a_stack_name_pulumi_would_refuse_in_one_escaped_line(name):
    result = invoke("plan", "--stack", name)
    assert result.exit_code == cli.EXIT_CANNOT_RUN
    assert result.stderr.count("\n") == 1 and "not a Pulumi stack name" in result.stderr
    assert "\x1b" not in result.stderr and "\u202e" not in result.stderr


@pytest.mark.parametrize("name", ["dev\nerror: forged", "acme/proj/dev/extra", "acme//dev", "acme/pro j/dev"])
def test_verify_refuses_a_bad_stack_name_before_running_pulumi(name):
    result = invoke("verify", "--stack", name)
    assert result.exit_code == cli.EXIT_CANNOT_RUN
    assert result.stderr.count("\n") == 1 and "not a Pulumi stack name" in result.stderr


@pytest.mark.parametrize("name", ["prod", "acme/prod", "acme/tavus-recording/prod"])
def test_verify_takes_plain_and_qualified_stack_names(tmp_path, name):
    # The name passes; what stops verify is the missing Pulumi CLI (no PATH), named in one line.
    result = invoke("verify", "--stack", name, env={"PATH": str(tmp_path)})
    assert result.exit_code == cli.EXIT_CANNOT_RUN
    assert "not a Pulumi stack name" not in result.stderr and "Pulumi CLI" in result.stderr


@pytest.mark.parametrize(
    "lines",
    [
        ("outputs.json: bucket 'evil\nerror: verify passed' is not valid",),
        (f"the answer held {KEY}",),
        (f"the answer held {base64.b64encode(KEY.encode()).decode()}",),
        ("x" * 5000,),
        tuple(f"  - key{i}: unknown" for i in range(500)),
    ],
)
def test_an_error_is_printed_one_line_per_line_given_masked_and_bounded(monkeypatch, lines):
    monkeypatch.setenv("TAVUS_API_KEY", KEY)
    printed = cli._error_lines(*lines)
    assert printed.count("\n") == min(len(lines), cli.MAX_ERROR_LINES + 1) - 1
    assert all(len(line) <= cli.MAX_ERROR_LINE for line in printed.split("\n"))
    assert KEY not in printed and base64.b64encode(KEY.encode()).decode() not in printed
    # A newline inside a line is shown escaped: nothing given can start a line of its own.
    assert not any(line.startswith("error:") for line in printed.split("\n"))


def test_the_end_of_input_at_a_prompt_is_exit_2_naming_the_key(tmp_path):
    (tmp_path / "Pulumi.yaml").write_text("name: tavus-recording\nruntime: python\nstackConfigDir: stacks\n")
    result = invoke("init", "x", "--interactive", "--project-dir", str(tmp_path), stdin="")
    assert result.exit_code == cli.EXIT_CANNOT_RUN
    assert "Aborted" not in result.output and "no answer for tavus-recording:provider" in result.stderr
    assert not (tmp_path / "stacks" / "Pulumi.x.yaml").exists()


def test_an_escape_sequence_in_a_template_default_is_shown_not_sent(tmp_path):
    (tmp_path / "Pulumi.yaml").write_text(
        "name: tavus-recording\nruntime: python\nstackConfigDir: stacks\n"
        'template:\n  config:\n    aws:region:\n      default: "\\e]0;pwned\\a\\e[31mRED"\n'
    )
    result = invoke("init", "x", "--provider", "s3", "--interactive", "--project-dir", str(tmp_path), stdin="\n\n\n")
    assert "\x1b" not in result.output and "\x07" not in result.output
    assert "\\x1b]0;pwned" in result.output

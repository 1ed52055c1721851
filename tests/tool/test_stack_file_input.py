"""`plan` with hostile or unusual stack files and Pulumi.yaml: every attack the red team found, in several
spellings, exits 2 with one line naming the file (and the key), fast; every safe look-alike a real
project holds is read exactly as the Pulumi CLI would hand it to the program.

Refusals run the command in-process with the program replaced by a stand-in that records the config
it would have been given: a stack file that reaches it was not refused. What could hang or exhaust
memory (alias bombs, FIFOs, devices, huge files) runs as a subprocess with a time and memory bound.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings as hypothesis_settings, strategies as st
from typer.testing import CliRunner

from bounded_cli import assert_one_line_refusal, run_cli
from tavus_recording import cli, mock_engine
from tavus_recording.input_files import MAX_DEPTH
from tavus_recording.stack_files import PROJECT_DIR, StackFileError, load_stack_config, stack_names

runner = CliRunner()
STACK = "stacks/Pulumi.x.yaml"
REACHED = "the program ran: the stack file was not refused"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the project (Pulumi.yaml, the program) with an empty stacks/."""
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(PROJECT_DIR / name, tmp_path / name)
    (tmp_path / "stacks").mkdir()
    return tmp_path


@pytest.fixture
def program(monkeypatch) -> list[dict[str, str]]:
    """The config map each plan would hand the program; the stand-in then stops the plan (exit 1)."""
    given: list[dict[str, str]] = []

    def run_program(config, **_: Any):
        given.append(dict(config))
        raise pulumi.RunError(REACHED)

    monkeypatch.setattr(mock_engine, "run_program", run_program)
    monkeypatch.setattr(mock_engine, "close_event_loop", lambda: None)
    return given


def write(project: Path, content: str | bytes, stack: str = "x") -> Path:
    path = project / "stacks" / f"Pulumi.{stack}.yaml"
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def plan(project: Path, stack: str = "x"):
    return runner.invoke(cli.app, ["plan", "--stack", stack, "--project-dir", str(project)])


def assert_refused(result, program: list[dict[str, str]], *said: str) -> None:
    """Exit 2, one printable line naming what is said, no traceback, and the program never ran."""
    assert program == [], "the stack file reached the program"
    assert_one_line_refusal(result, *said)


def reached(result, program: list[dict[str, str]]) -> dict[str, str]:
    """The config map the program was given (the plan was not refused before it)."""
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.stderr == f"error: {REACHED}\n" and len(program) == 1, result.output
    return program[0]


BOMB = (
    "config:\n  aws:region: us-east-1\n  tavus-recording:provider: s3\n"
    '  tavus-recording:bucketName: &a0 ["lol"]\n'
    + "".join(f"  acme:a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]\n" for i in range(1, 10))
    + "  tavus-recording:externalId: *a9\n"
)
TAGS_BOMB = (
    "config:\n  tavus-recording:provider: s3\n  tavus-recording:tags:\n    a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
    + "".join(f"    a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]\n" for i in range(1, 9))
)
TOP_LEVEL_BOMB = (
    'lol0: &l0 ["lol"]\n'
    + "".join(f"lol{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]\n" for i in range(1, 10))
    + "config:\n  tavus-recording:provider: s3\n"
)
MERGE_BOMB = (
    "config:\n  tavus-recording:provider: s3\n  acme:m0: &m0 {k: lol}\n"
    + "".join(f"  acme:m{i}: &m{i} {{{', '.join(f'k{j}: *m{i - 1}' for j in range(10))}}}\n" for i in range(1, 10))
    + "  <<: *m9\n"
)


# --- alias bombs: refused before anything expands them (a subprocess: before the fix they ran out of memory)


@pytest.mark.parametrize("text", [BOMB, TAGS_BOMB, TOP_LEVEL_BOMB, MERGE_BOMB], ids=["in-config", "in-tags", "top-level", "merge-key"])
def test_an_alias_bomb_is_refused_at_once(project, text):
    write(project, text)
    start = time.monotonic()
    result = run_cli("plan", "--stack", "x", "--project-dir", str(project), timeout=30)
    elapsed = time.monotonic() - start
    assert_one_line_refusal(result, STACK, "line ", "anchor")
    assert elapsed < 15, f"{elapsed:.1f} s"  # the interpreter and Pulumi's import; the refusal itself is milliseconds


def test_an_alias_bomb_in_pulumi_yaml_is_refused_at_once(project):
    text = (PROJECT_DIR / "Pulumi.yaml").read_text() + TOP_LEVEL_BOMB.replace("config:\n  tavus-recording:provider: s3\n", "")
    (project / "Pulumi.yaml").write_text(text)
    write(project, "config:\n  tavus-recording:provider: s3\n")
    result = run_cli("plan", "--stack", "x", "--project-dir", str(project), timeout=30)
    assert_one_line_refusal(result, str(project / "Pulumi.yaml"), "anchor")


# --- what kind of file: FIFOs, devices, directories, huge files (a subprocess: before the fix they hung)


def test_a_stack_file_that_is_a_fifo_or_a_link_to_one_is_refused_without_waiting(project):
    os.mkfifo(project / "stacks" / "Pulumi.x.yaml")
    assert_one_line_refusal(run_cli("plan", "--stack", "x", "--project-dir", str(project), timeout=30), STACK, "FIFO")
    fifo = project / "elsewhere.fifo"
    os.mkfifo(fifo)
    (project / "stacks" / "Pulumi.y.yaml").symlink_to(fifo)
    assert_one_line_refusal(run_cli("plan", "--stack", "y", "--project-dir", str(project), timeout=30), "stacks/Pulumi.y.yaml", "FIFO")


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/null", "/dev/urandom"])
def test_a_stack_file_linked_to_a_device_is_refused(project, device):
    (project / "stacks" / "Pulumi.x.yaml").symlink_to(device)
    assert_one_line_refusal(run_cli("plan", "--stack", "x", "--project-dir", str(project), timeout=30), STACK, "device")


def test_a_stack_file_that_is_a_directory_is_refused(project, program):
    (project / "stacks" / "Pulumi.x.yaml").mkdir()
    assert_refused(plan(project), program, STACK, "directory")


def test_a_huge_stack_file_is_refused_naming_the_limit(project):
    with (project / "stacks" / "Pulumi.x.yaml").open("wb") as out:
        out.truncate(64 << 30)
    assert_one_line_refusal(run_cli("plan", "--stack", "x", "--project-dir", str(project), timeout=30), STACK, "1 MiB")


def test_a_stack_file_just_over_the_limit_is_refused(project, program):
    write(project, "config:\n  tavus-recording:provider: s3\n" + "# padding\n" * 110_000)
    assert_refused(plan(project), program, STACK, "larger than 1 MiB")


def test_a_pulumi_yaml_that_is_a_fifo_is_not_a_project(project):
    (project / "Pulumi.yaml").unlink()
    os.mkfifo(project / "Pulumi.yaml")
    result = run_cli("plan", "--stack", "x", "--project-dir", str(project), timeout=30)
    assert_one_line_refusal(result, str(project), "Pulumi.yaml")


# --- the shape: a mapping, with config a mapping of keys to values the program can take

SHAPES = {
    "config-list": ("config:\n  - aws:region: us-east-1\n", ["config is a list; expected a mapping"]),
    "config-int": ("config: 5\n", ["config is a number; expected a mapping"]),
    "config-text": ("config: aws:region=us-east-1\n", ["config is a string; expected a mapping"]),
    "config-true": ("config: true\n", ["config is true/false; expected a mapping"]),
    "file-list": ("- config\n", [f"{STACK} holds a list; expected a mapping"]),
    "file-text": ("just text\n", [f"{STACK} holds a string; expected a mapping"]),
    "value-list": ("config:\n  tavus-recording:bucketName: [a, b]\n", ["tavus-recording:bucketName is a list; expected a string"]),
    "value-nested": ("config:\n  tavus-recording:bucketName:\n    a: {b: c}\n", ["tavus-recording:bucketName is a mapping; expected a string"]),
    "value-null": ("config:\n  tavus-recording:bucketName:\n", ["tavus-recording:bucketName is empty", "''"]),
    "bare-key-list": ("config:\n  retentionDays: [1]\n", ["retentionDays is a list; expected a whole number"]),
    "undeclared-mapping": ("config:\n  tavus-recording:other: {a: b}\n", ["tavus-recording:other is a mapping"]),
    "tags-list": ("config:\n  tavus-recording:tags: [team, media]\n", ["tavus-recording:tags is a list; expected a mapping"]),
    "tags-text": ("config:\n  tavus-recording:tags: team=media\n", ["tavus-recording:tags is a string; expected a mapping"]),
    "tag-nested": ("config:\n  tavus-recording:tags:\n    team: {a: b}\n", ["tavus-recording:tags.team is a mapping"]),
    "tag-null": ("config:\n  tavus-recording:tags:\n    team:\n", ["tavus-recording:tags.team is empty"]),
    "secure-list": ("config:\n  tavus-recording:externalId:\n    secure: [a]\n", ["tavus-recording:externalId"]),
    "secure-extra": ("config:\n  tavus-recording:externalId:\n    secure: abc\n    other: x\n", ["tavus-recording:externalId is a mapping"]),
    "unknown-top-level": ("aws:region: us-east-1\nconfig:\n  tavus-recording:provider: s3\n", ["aws:region", "config:"]),
    "typo-top-level": ("confg:\n  tavus-recording:provider: s3\n", ["confg", "config"]),
}


@pytest.mark.parametrize(("text", "said"), SHAPES.values(), ids=SHAPES.keys())
def test_a_stack_file_of_the_wrong_shape_is_refused_naming_the_key(project, program, text, said):
    write(project, text)
    assert_refused(plan(project), program, STACK, *said)


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("config:\n  aws:region: us-east-1\n  aws:region: eu-west-1\n", "config.aws:region appears twice"),
        ("config: {}\nconfig:\n  aws:region: us-east-1\n", "config appears twice"),
        ("config:\n  tavus-recording:tags:\n    team: a\n    team: b\n", "config.tavus-recording:tags.team appears twice"),
        ("config:\n  aws:region: a\n  \"aws:region\": b\n", "config.aws:region appears twice"),
    ],
    ids=["in-config", "top-level", "in-tags", "quoted"],
)
def test_a_duplicate_key_is_refused_naming_it(project, program, text, said):
    write(project, text)
    assert_refused(plan(project), program, STACK, said)


@pytest.mark.parametrize(
    ("text", "said"),
    [("config:\n  1: a\n", "1"), ("config:\n  true: a\n", "true"), ("config:\n  ? [a, b]\n  : c\n", "list"), ("7: x\n", "7")],
    ids=["int", "bool", "list", "top-level-int"],
)
def test_a_key_that_is_not_text_is_refused(project, program, text, said):
    write(project, text)
    assert_refused(plan(project), program, STACK, "key", said)


@pytest.mark.parametrize(
    ("data", "said"),
    [
        (b"\xffconfig:\n  tavus-recording:provider: s3\n", "byte 0 "),
        (b"config:\n  tavus-recording:provider: s3\xff\n", "byte 38 "),
        (b"config:\n  tavus-recording:bucketName: caf\xe9\n", "byte 41 "),
        ("config:\n  tavus-recording:provider: s3\n".encode("utf-16"), "UTF-16"),
        ("config:\n  tavus-recording:provider: s3\n".encode("utf-16-le"), "NUL"),
        (b"config:\n  tavus-recording:provider: s3\x00\n", "NUL"),
    ],
    ids=["ff-at-start", "ff-in-middle", "latin-1", "utf-16", "utf-16-without-bom", "nul"],
)
def test_a_stack_file_that_is_not_utf8_is_refused_saying_where(project, program, data, said):
    write(project, data)
    assert_refused(plan(project), program, STACK, said, "UTF-8")


@pytest.mark.parametrize(
    "text",
    [
        "config:\n  acme:deep: " + "[" * 40 + "]" * 40 + "\n",
        "config:\n  tavus-recording:tags:\n" + "".join(f"{'  ' * (level + 2)}k{level}:\n" for level in range(40)) + " " * 84 + "v: x\n",
        "[" * 50_000,
        "config: " + "{a: " * 20_000,
    ],
    ids=["flow-in-config", "block-in-tags", "top-level-50000", "open-mappings-20000"],
)
def test_nesting_deeper_than_the_limit_is_refused(project, program, text):
    write(project, text)
    start = time.perf_counter()
    result = plan(project)
    assert time.perf_counter() - start < 1
    assert_refused(result, program, STACK, f"nested deeper than {MAX_DEPTH}")


@pytest.mark.parametrize(
    "text",
    ["config:\n  tavus-recording:provider: !!python/object/apply:os.system [echo]\n", "config:\n  aws:region: !!binary dXM=\n",
     "config: !!set {a}\n"],
    ids=["python-object", "binary", "set"],
)
def test_a_yaml_tag_is_refused(project, program, text):
    write(project, text)
    assert_refused(plan(project), program, STACK, "tag")


@pytest.mark.parametrize(
    "text",
    ["config:\n  tavus-recording:provider: s3\n bad-indent: x\n", "config: [\n", "config:\n\t- a\n", "---\nconfig: {}\n---\nconfig: {}\n"],
    ids=["indent", "unclosed", "tab", "two-documents"],
)
def test_a_yaml_syntax_error_is_one_line_with_where(project, program, text):
    write(project, text)
    assert_refused(plan(project), program, STACK)


# --- Pulumi.yaml

PROJECT_SHAPES = {
    "list": ("- name: tavus-recording\n", ["holds a list; expected a mapping"]),
    "no-name": ("runtime: python\n", ["is not a Pulumi project file (no name)"]),
    "name-list": ("name: [a]\nruntime: python\n", ["name is a list; expected a string"]),
    "config-list": ("name: tavus-recording\nconfig: [a]\n", ["config is a list; expected a mapping"]),
    "stack-dir-number": ("name: tavus-recording\nstackConfigDir: 5\n", ["stackConfigDir is a number; expected a string"]),
    "duplicate": ("name: tavus-recording\nname: other\n", ["name appears twice"]),
    "not-utf8": ("name: tavus-recording\ndescription: caf\xe9\n", ["UTF-8"]),
    "template-config-list": ("name: tavus-recording\ntemplate:\n  config: [a]\n", ["template.config is a list; expected a mapping"]),
}


@pytest.mark.parametrize(("text", "said"), PROJECT_SHAPES.values(), ids=PROJECT_SHAPES.keys())
def test_a_pulumi_yaml_of_the_wrong_shape_is_refused(project, program, text, said):
    (project / "Pulumi.yaml").write_bytes(text.encode("latin-1") if "\xe9" in text else text.encode())
    write(project, "config:\n  tavus-recording:provider: s3\n")
    assert_refused(plan(project), program, str(project / "Pulumi.yaml"), *said)


# --- safe look-alikes: read exactly as the Pulumi CLI hands them over


def reference_config(project_dir: Path, stack: str) -> dict[str, str]:
    """What the Pulumi CLI passes: Pulumi.yaml's defaults, then the stack's values, objects as JSON."""
    project = yaml.safe_load((project_dir / "Pulumi.yaml").read_text())

    def text(value: Any) -> str:
        return value if isinstance(value, str) else json.dumps(value) if not isinstance(value, (bool, int, float)) else (
            str(value).lower() if isinstance(value, bool) else str(value))

    config = {f"tavus-recording:{key}": text(spec["default"]) for key, spec in project["config"].items() if "default" in spec}
    stack_file = yaml.safe_load((project_dir / "stacks" / f"Pulumi.{stack}.yaml").read_text(encoding="utf-8-sig"))
    for key, value in (stack_file.get("config") or {}).items():
        config[key if ":" in key else f"tavus-recording:{key}"] = text(value)
    return config


@pytest.mark.parametrize("stack", stack_names())
def test_every_stack_in_the_repository_reads_as_before(stack):
    assert load_stack_config(stack).config == reference_config(PROJECT_DIR, stack)


LOOKALIKES = {
    "comments": "# a comment\nconfig:  # another\n  aws:region: us-east-1 # trailing\n  tavus-recording:provider: s3\n# end\n",
    "quoted": "config:\n  \"aws:region\": 'us-east-1'\n  tavus-recording:provider: \"s3\"\n  tavus-recording:bucketName: 'acme: #1'\n",
    "tags": "config:\n  aws:region: us-east-1\n  tavus-recording:provider: s3\n  tavus-recording:tags:\n    team: media\n    cost-center: \"4200\"\n",
    "flow-tags": "config: {aws:region: us-east-1, tavus-recording:provider: s3, tavus-recording:tags: {team: media}}\n",
    "crlf": "config:\r\n  aws:region: us-east-1\r\n  tavus-recording:provider: s3\r\n",
    "pulumi-keys": (
        "secretsprovider: passphrase\nencryptionsalt: v1:abc:def\nencryptedkey: ''\nenvironment:\n  - acme/dev\n"
        "config:\n  aws:region: us-east-1\n  tavus-recording:provider: s3\n"
    ),
    "provider-object": "config:\n  aws:region: us-east-1\n  tavus-recording:provider: s3\n  aws:defaultTags:\n    tags:\n      owner: media\n",
    "numbers-and-bools": "config:\n  aws:region: us-east-1\n  tavus-recording:provider: s3\n  tavus-recording:retentionDays: 365\n  acme:flag: true\n",
    "text-that-looks-like-more": "config:\n  aws:region: us-east-1\n  tavus-recording:provider: s3\n  acme:when: 2024-01-01\n  acme:answer: yes\n",
    "empty-config": "config:\n",
    "empty-file": "# nothing yet\n",
}
EXPECTED = {
    "quoted": {"tavus-recording:bucketName": "acme: #1"},
    "tags": {"tavus-recording:tags": '{"team": "media", "cost-center": "4200"}'},
    "flow-tags": {"tavus-recording:tags": '{"team": "media"}'},
    "provider-object": {"aws:defaultTags": '{"tags": {"owner": "media"}}'},
    "numbers-and-bools": {"tavus-recording:retentionDays": "365", "acme:flag": "true"},
    # The Pulumi CLI's YAML 1.2 reader keeps these as text.
    "text-that-looks-like-more": {"acme:when": "2024-01-01", "acme:answer": "yes"},
}


@pytest.mark.parametrize(("name", "text"), LOOKALIKES.items(), ids=LOOKALIKES.keys())
def test_safe_lookalikes_reach_the_program_as_pulumi_would_pass_them(project, program, name, text):
    write(project, text)
    config = reached(plan(project), program)
    defaults = load_stack_config("x", project).config if name.startswith("empty") else {}
    assert config == (defaults or config)
    if name not in ("empty-config", "empty-file"):
        assert config["aws:region"] == "us-east-1" and config["tavus-recording:provider"] == "s3"
    for key, value in EXPECTED.get(name, {}).items():
        assert config[key] == value, key
    assert config["tavus-recording:externalId"] == "tavus"  # Pulumi.yaml's default, always there


def test_a_utf8_byte_order_mark_and_a_symlink_to_a_regular_file_are_read(project, program):
    target = project / "elsewhere.yaml"
    target.write_bytes(b"\xef\xbb\xbfconfig:\r\n  aws:region: us-east-1\r\n  tavus-recording:provider: s3\r\n")
    (project / "stacks" / "Pulumi.x.yaml").symlink_to(target)
    assert reached(plan(project), program)["aws:region"] == "us-east-1"


def test_a_secret_keeps_its_message(project, program):
    write(project, "config:\n  tavus-recording:provider: s3\n  tavus-recording:externalId:\n    secure: AAABAHk5eXk=\n")
    assert_refused(plan(project), program, STACK, "tavus-recording:externalId is a secret; the offline plan cannot decrypt it")


def test_a_real_plan_of_a_lookalike_stack_file_succeeds(project):
    # The whole command, for real: comments, quotes, tags, CRLF and a byte-order mark, through a symlink.
    target = project / "elsewhere.yaml"
    target.write_bytes(
        b"\xef\xbb\xbf# acme\r\nconfig:\r\n  aws:region: 'eu-west-1'  # Ireland\r\n  tavus-recording:provider: \"s3\"\r\n"
        b"  tavus-recording:bucketName: acme-recordings\r\n  tavus-recording:tags:\r\n    team: media\r\n"
    )
    (project / "stacks" / "Pulumi.x.yaml").symlink_to(target)
    result = run_cli("plan", "--stack", "x", "--json", "--project-dir", str(project))
    assert result.returncode == 0, result.stderr
    storage = json.loads(result.stdout)["outputs"]["recording_storage"]
    assert storage["bucket_name"] == "acme-recordings" and storage["bucket_region"] == "eu-west-1"


# --- fuzz: whatever a stack file holds, plan's reader refuses it cleanly or reads a config map

_pieces = st.sampled_from([
    "config:", "\n", "  ", "    ", "- ", ": ", "aws:region", "tavus-recording:tags", "tavus-recording:bucketName", "team",
    "secure", "secretsprovider", "&a ", "*a", "<<: ", "!!binary ", "!!python/name:os.system ", "? ", "[", "]", "{", "}",
    ",", "'", '"', "#", "---", "~", "yes", "2024-01-01", "1", "9" * 30, ".inf", "\t", "\ufeff", "\r\n", "\x85", "é",
])


@pytest.fixture(scope="module")
def fuzz_project(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("fuzz")
    shutil.copy(PROJECT_DIR / "Pulumi.yaml", folder / "Pulumi.yaml")
    (folder / "stacks").mkdir()
    return folder


def read_cleanly(project: Path, data: bytes) -> None:
    write(project, data, "fuzz")
    try:
        config = load_stack_config("fuzz", project).config
    except StackFileError as exc:
        assert "\n" not in str(exc) and str(exc).isprintable(), repr(str(exc))
        return
    assert all(isinstance(key, str) and isinstance(value, str) for key, value in config.items())


@hypothesis_settings(max_examples=200, deadline=1000, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=400))
# Found by this fuzzer before the readers: a traceback (0x80), and refusals spread over several lines.
@example(data=b"\x80")
@example(data=b"@")
@example(data=b"&")
@example(data=b"%")
@example(data=b"\x00")
@example(data=b"config:\n  a: \xff")
@example(data=b"config: !!timestamp 2024-01-01")
@example(data=b"config:\n  a: 2024-01-01 10:00:00")
@example(data=b"config:\n  a: .nan")
@example(data=b"config:\n  ? !!str 1\n  : x")
def test_fuzz_bytes_into_the_stack_file_reader(fuzz_project, data):
    read_cleanly(fuzz_project, data)


@hypothesis_settings(max_examples=250, deadline=1000, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.lists(_pieces, max_size=40).map("".join))
@example(text="[")  # found before the readers, with the four below: messages of several lines
@example(text="!!python/name:os.system ")
@example(text="<<: ")
@example(text="*a")
@example(text=": ")
@example(text="config:\n  aws:region:\n    secure: ")
@example(text="config:\n  tavus-recording:tags: {team: [a]}")
@example(text="config:\n  aws:region: !!str")
def test_fuzz_yaml_shaped_text_into_the_stack_file_reader(fuzz_project, text):
    read_cleanly(fuzz_project, text.encode("utf-8"))


@hypothesis_settings(max_examples=150, deadline=1000, suppress_health_check=[HealthCheck.too_slow])
@given(
    config=st.dictionaries(
        st.sampled_from(["aws:region", "tavus-recording:provider", "tavus-recording:tags", "bucketName", "acme:x", "tags"]),
        st.recursive(
            st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=6)),
            lambda inner: st.one_of(st.lists(inner, max_size=2), st.dictionaries(st.text(max_size=4), inner, max_size=2)),
            max_leaves=8,
        ),
    )
)
@example(config={"tavus-recording:tags": None})  # found before the readers: read as the text "null"
@example(config={"aws:region": None})
def test_fuzz_config_shapes_are_read_or_refused_naming_the_key(fuzz_project, config):
    write(fuzz_project, yaml.safe_dump({"config": config}), "fuzz")
    try:
        read = load_stack_config("fuzz", fuzz_project).config
    except StackFileError as exc:
        assert any(key in str(exc) for key in config), str(exc)
        return
    scalar = (str, int, float, bool)
    for key, value in config.items():
        full = key if ":" in key else f"tavus-recording:{key}"
        assert isinstance(read[full], str)
        if isinstance(value, str):
            assert read[full] == value
        # Read means the CLI would pass it: tags a mapping of values, the kit's other keys a value.
        if full == "tavus-recording:tags":
            assert isinstance(value, dict) and all(isinstance(item, scalar) for item in value.values())
        elif full.startswith("tavus-recording:") or full in ("aws:region",):
            assert isinstance(value, scalar) or full == "aws:region" and isinstance(value, (dict, list)), (key, value)


# --- the red team's second round: numbers as the Pulumi CLI reads them, tags, keys spelled twice, stackConfigDir


def config_of(project: Path, text: str) -> dict[str, str]:
    write(project, "config:\n  aws:region: us-east-1\n  tavus-recording:provider: s3\n" + text)
    return load_stack_config("x", project).config


@pytest.mark.parametrize(
    ("written", "passed"),
    # go-yaml v3, the Pulumi CLI's reader: no sexagesimal (PyYAML's YAML 1.1 made `1:30` 90), `010` still octal,
    # underscores removed, yes/no text, `~` null.
    [("1:30", "1:30"), ("010", "8"), ("0o10", "8"), ("1_000", "1000"), ("yes", "yes"), ("0x10", "16"), ("'010'", "010")],
)
def test_numbers_reach_the_program_as_the_pulumi_cli_reads_them(project, written, passed):
    assert config_of(project, f"  tavus-recording:retentionDays: {written}\n")["tavus-recording:retentionDays"] == passed


def test_a_null_value_written_as_a_tilde_is_refused_as_empty(project, program):
    write(project, "config:\n  tavus-recording:provider: s3\n  tavus-recording:bucketName: ~\n")
    assert_refused(plan(project), program, STACK, "tavus-recording:bucketName is empty")


@pytest.mark.parametrize(
    "value",
    ["!!bool maybe", '!!bool ""', '!!int ""', '!!float ""', '!!int "-"', '!!int "+"', '!!int "_"', '!!float "_"', "!!int abc",
     "!!str 365", "!local 365", "!<tag:yaml.org,2002:int> 365"],
)
def test_an_explicit_tag_on_a_value_is_refused_naming_the_key(project, program, value):
    # PyYAML crashed on most of these (KeyError, IndexError): a traceback, or "number too long" for !!int abc.
    write(project, f"config:\n  tavus-recording:provider: s3\n  tavus-recording:retentionDays: {value}\n")
    assert_refused(plan(project), program, STACK, "tag", "config.tavus-recording:retentionDays", "need none")


@pytest.mark.parametrize(
    "number", ["0x" + "f" * 4000, "0b" + "1" * 15000, "0" + "7" * 5000, "9" * 5000, "1" + ":59" * 3000],
    ids=["hex", "binary", "octal", "decimal", "sexagesimal"],
)
def test_a_huge_number_is_refused_naming_the_key_or_passed_as_text(project, program, number):
    # Each failed in _encode with Python's 4300-digit ValueError (a traceback).
    write(project, f"config:\n  tavus-recording:provider: s3\n  acme:big: {number}\n")
    if ":" in number:  # text to go-yaml: passed on as it is
        assert reached(plan(project), program)["acme:big"] == number
        return
    assert_refused(plan(project), program, STACK, "config.acme:big is a number of more than 30 digits")


@pytest.mark.parametrize(
    ("text", "first", "second"),
    [
        ("  retentionDays: 7\n  tavus-recording:retentionDays: 36500\n", "retentionDays", "tavus-recording:retentionDays"),
        ("  tavus-recording:bucketName: a\n  bucketName: b\n", "tavus-recording:bucketName", "bucketName"),
    ],
)
def test_one_key_in_two_spellings_is_refused_naming_both(project, program, text, first, second):
    write(project, "config:\n  tavus-recording:provider: s3\n" + text)
    assert_refused(plan(project), program, STACK, f"{first} and {second}", "same key", "keep one")


def test_one_key_in_two_spellings_in_pulumi_yaml_is_refused(project, program):
    text = (project / "Pulumi.yaml").read_text().replace("\nconfig:\n", "\nconfig:\n  tavus-recording:retentionDays: 36500\n", 1)
    (project / "Pulumi.yaml").write_text(text)
    write(project, "config:\n  tavus-recording:provider: s3\n")
    assert_refused(plan(project), program, str(project / "Pulumi.yaml"), "tavus-recording:retentionDays and retentionDays", "same key")


@pytest.mark.parametrize(
    "folder", ["s" * 300, "stacks/" + "s" * 256, "a/" * 2100, "é" * 128],
    ids=["name-300", "second-part-256", "path-4200", "utf8-256-bytes"],
)
def test_a_stack_config_dir_too_long_for_any_file_system_is_refused(project, program, folder):
    # It reached path.exists(): OSError ENAMETOOLONG, an internal error.
    text = (project / "Pulumi.yaml").read_text().replace("stackConfigDir: stacks\n", f"stackConfigDir: {folder}\n")
    (project / "Pulumi.yaml").write_text(text)
    assert_refused(plan(project), program, str(project / "Pulumi.yaml"), "stackConfigDir")


def test_a_stack_config_dir_the_os_cannot_read_is_one_line(project, program, monkeypatch):
    def fails(self):
        raise OSError(36, "File name too long")

    monkeypatch.setattr(Path, "exists", fails)
    assert_refused(plan(project), program, "Pulumi.yaml: stackConfigDir cannot be read (File name too long)")


@pytest.mark.parametrize("spec", ['"us-east-1"', "[a]", "5", "''"])
def test_a_template_config_entry_that_is_not_a_mapping_is_refused(project, program, spec):
    # Pulumi.yaml ends with template.config's entries; `{"aws:region": "us-east-1"}` was read by init with .get.
    text = (project / "Pulumi.yaml").read_text() + f"    \"aws:odd\": {spec}\n"
    (project / "Pulumi.yaml").write_text(text)
    from tavus_recording.stack_files import read_project

    assert "aws:odd" in yaml.safe_load(text)["template"]["config"], "the entry is under template.config"
    with pytest.raises(StackFileError) as refused:
        read_project(project)
    assert "template.config.aws:odd is" in str(refused.value) and "expected a mapping" in str(refused.value)
    write(project, "config:\n  tavus-recording:provider: s3\n")
    assert_refused(plan(project), program, "template.config.aws:odd")

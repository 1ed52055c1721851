"""`tavus-recording init` with hostile or unusual input: no value, key or answer can reach the stack file
except as the value it is.

A red team's `--set` value with a newline ended the header comment and wrote `secretsprovider:` into
the file (exit 0); a U+2028 gave a traceback. Here every such spelling, in every place init takes text,
is refused with one line naming the key, and every safe look-alike is written so that `plan`'s own
reader gives back exactly what was given. Every test works on a copy of Pulumi.yaml, never on stacks/.
"""

from __future__ import annotations

import json
import shlex
import shutil
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, event, example, given, settings as hypothesis_settings, strategies as st
from typer.testing import CliRunner

from tavus_recording import cli, new_stack
from tavus_recording.stack_files import PROJECT_DIR, load_stack_config
from tavus_recording.terminal import printable

runner = CliRunner()
ISSUER = "https://issuer.example"
S3 = ("--provider", "s3", "--region", "us-east-1")
# Azure takes almost any tag name and value, so tags are tried there.
AZURE = ("--provider", "azure_blob", "--region", "westeurope",
         "--set", f"tavusOidcIssuer={ISSUER}", "--set", "tavusOidcSubject=tavus-recording-writer")
# A key in another namespace: Pulumi's business, which the settings leave alone, so its value reaches the file
# unjudged (the red team's way in).
FOREIGN = "acme:note"

# Every spelling of a line break YAML knows, and the other characters that change what a file or a terminal
# holds: C0 and C1 controls, DEL, bidi and zero-width format characters, a byte-order mark, an unpaired surrogate
# (what Python makes of an undecodable byte in argv) and the noncharacters YAML cannot carry at all.
BREAKERS = {
    "LF": "\n", "CRLF": "\r\n", "CR": "\r", "NEL": "\x85", "LS": "\u2028", "PS": "\u2029", "NUL": "\x00",
    "ESC": "\x1b[31m", "RLO": "\u202e", "TAB": "\t", "DEL": "\x7f", "CSI": "\x9b", "VT": "\x0b", "FF": "\x0c",
    "FS": "\x1c", "ZWSP": "\u200b", "BOM": "\ufeff", "LRI": "\u2066", "surrogate": "\udcff", "U+FFFE": "\ufffe",
    "U+FFFF": "\uffff",
}
INJECTION = "\nsecretsprovider: passphrase"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project with no stack files yet."""
    shutil.copy(PROJECT_DIR / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    return tmp_path


def init(project: Path, *args: str, input: str | None = None):
    return runner.invoke(cli.app, ["init", *args, "--project-dir", str(project)], input=input)


def stack_files(project: Path) -> list[str]:
    folder = project / "stacks"
    return sorted(path.name for path in folder.iterdir()) if folder.exists() else []


def visible(line: str) -> bool:
    """Whether `line` holds nothing a terminal would act on or hide: no control, format or separator character."""
    return printable(line) == line


def assert_refused(result, project: Path, *names: str, bad: str = "") -> None:
    """Exit 2, one readable line naming the key (and the bad character as a visible escape), nothing written."""
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert result.stderr.endswith("\n") and visible(lines[0]), repr(result.stderr)
    for name in names:
        assert name in lines[0], lines[0]
    if bad:
        assert printable(bad[0]) in lines[0], lines[0]
    assert stack_files(project) == []


def read_back(project: Path, stack: str) -> dict[str, str]:
    """The file as `plan` reads it, after checking its shape: a header of comments, then `config` alone."""
    text = (project / "stacks" / f"Pulumi.{stack}.yaml").read_text(encoding="utf-8")
    header, _, _ = text.partition("\nconfig:\n")
    assert all(line.startswith("# ") for line in header.splitlines()), header
    assert list(yaml.safe_load(text)) == ["config"]
    return load_stack_config(stack, project).config


def header_command(project: Path, stack: str) -> list[str]:
    first = (project / "stacks" / f"Pulumi.{stack}.yaml").read_text(encoding="utf-8").split("\n", 1)[0]
    return shlex.split(first.removeprefix("# Made by `").removesuffix("`."))


# --- the red team's values, in every spelling and every place


@pytest.mark.parametrize("bad", BREAKERS.values(), ids=BREAKERS.keys())
@pytest.mark.parametrize("key", [FOREIGN, "bucketName", "externalId"])
def test_a_set_value_with_a_control_character_is_refused_naming_the_key(project, key, bad):
    result = init(project, "prod", *S3, "--set", f"{key}=acme{bad}tavus")
    assert_refused(result, project, key, bad=bad)


@pytest.mark.parametrize("bad", BREAKERS.values(), ids=BREAKERS.keys())
def test_a_value_ending_in_a_top_level_key_cannot_write_it(project, bad):
    # The red team's payload: end the header comment and add `secretsprovider:` beside `config:`.
    result = init(project, "prod", *S3, "--set", f"{FOREIGN}=x{INJECTION.replace(chr(10), bad)}")
    assert_refused(result, project, FOREIGN, bad=bad)


def test_a_very_long_value_with_the_payload_at_its_end_is_refused_saying_where(project):
    result = init(project, "prod", *S3, "--set", f"{FOREIGN}={'x' * 100_000}{INJECTION}")
    assert_refused(result, project, FOREIGN, "character 100001 is \\x0a", bad="\n")


def test_a_value_too_long_for_plan_to_read_back_is_refused_naming_its_key(project):
    # The header repeats the value, so 300,000 characters make a file of about 600 KB.
    result = init(project, "prod", *S3, "--set", f"{FOREIGN}={'x' * 300_000}")
    assert_refused(result, project, f"{FOREIGN} is 300000 characters long", "at most 512 KiB")


@pytest.mark.parametrize("bad", BREAKERS.values(), ids=BREAKERS.keys())
def test_the_header_stays_comments_even_for_a_value_past_the_checks(bad):
    # Defence in depth: were a value ever to skip the refusals, the header still could not be ended by it.
    value = f"x{INJECTION.replace(chr(10), bad)}"
    values = {"aws:region": "us-east-1", "tavus-recording:provider": "s3", FOREIGN: value, "tags": {f"t{bad}": value}}
    if bad == BREAKERS["surrogate"]:
        # Plan's reader refuses text that is not UTF-8, so render refuses what would not read back.
        with pytest.raises(new_stack.InitError, match="would not read back"):
            new_stack.render("prod", values)
        return
    text = new_stack.render("prod", values)
    header, _, _ = text.partition("\nconfig:\n")
    lines = header.split("\n")
    assert len(lines) == 2 and all(line.startswith("# ") and visible(line) for line in lines)
    assert not any(brk in header for brk in ("\r", "\x85", "\u2028", "\u2029")), header
    assert yaml.safe_load(text) == {"config": values}


@pytest.mark.parametrize("bad", BREAKERS.values(), ids=BREAKERS.keys())
def test_a_set_key_with_a_control_character_is_refused_showing_it(project, bad):
    result = init(project, "prod", *S3, "--set", f"acme:no{bad}te=x")
    assert_refused(result, project, "acme:no", bad=bad)


@pytest.mark.parametrize("bad", BREAKERS.values(), ids=BREAKERS.keys())
def test_region_with_a_control_character_is_refused_naming_its_key(project, bad):
    result = init(project, "prod", "--provider", "s3", "--region", f"eu-west-1{bad}")
    assert_refused(result, project, "aws:region", bad=bad)


@pytest.mark.parametrize("bad", BREAKERS.values(), ids=BREAKERS.keys())
def test_project_with_a_control_character_is_refused_naming_its_key(project, bad):
    result = init(project, "prod", "--provider", "gcs", "--project", f"acme{bad}recordings",
                  "--set", f"tavusOidcIssuer={ISSUER}", "--set", "tavusOidcSubject=tavus")
    assert_refused(result, project, "gcp:project", bad=bad)


@pytest.mark.parametrize("bad", BREAKERS.values(), ids=BREAKERS.keys())
def test_a_tag_value_or_name_with_a_control_character_is_refused(project, bad):
    assert_refused(init(project, "prod", *AZURE, "--set", f"tags.team=med{bad}ia"), project, "tags.team", bad=bad)
    assert_refused(init(project, "prod", *AZURE, "--set", f"tags.te{bad}am=media"), project, "tags.te", bad=bad)


@pytest.mark.parametrize("bad", ["\n", "\x85", "\u2028", "\x1b[31m", "\u202e", "\t", "\x00"],
                         ids=["LF", "NEL", "LS", "ESC", "RLO", "TAB", "NUL"])
def test_a_stack_name_with_a_control_character_is_refused_without_echoing_it(project, bad):
    # `prod\n` once passed the name check (`$` matches before a final newline).
    for name in (f"prod{bad}", f"pr{bad}od"):
        result = init(project, name, *S3)
        assert_refused(result, project, "is not a Pulumi stack name", bad=bad)


# (A terminal, like the test runner's stdin, reads CR as the end of the answer, so it cannot arrive here.)
@pytest.mark.parametrize("bad", ["\x0b", "\x85", "\u2028", "\x1b[31m", "\u202e", "\x00", "\t", "\u200b"],
                         ids=["VT", "NEL", "LS", "ESC", "RLO", "NUL", "TAB", "ZWSP"])
def test_a_prompted_answer_with_a_control_character_is_asked_again(project, bad):
    result = init(project, "prod", "--provider", "s3", "--interactive", input=f"eu-west-1{bad}\neu-west-1\n")
    assert result.exit_code == 0, result.output
    assert result.stdout.count("(aws:region)") == 2
    said = [line for line in result.stderr.splitlines() if "aws:region" in line]
    assert len(said) == 1 and printable(bad[0]) in said[0] and visible(said[0])
    assert read_back(project, "prod")["aws:region"] == "eu-west-1"


def test_prompted_answers_with_control_characters_exit_2_after_three_tries(project):
    answers = f"{ISSUER}{INJECTION}\n".replace("\n", "\u2028", 1) * 3
    result = init(project, "prod", "--provider", "gcs", "--project", "acme-recordings", "--interactive", input=answers)
    assert result.exit_code == 2, result.output
    assert result.stdout.count("(tavus-recording:tavusOidcIssuer)") == 3
    last = result.stderr.splitlines()[-1]
    assert last.startswith("error: ") and "tavus-recording:tavusOidcIssuer" in last and "\\u2028" in last
    assert all(visible(line) for line in result.stderr.splitlines())
    assert stack_files(project) == []


# --- keys that do not look like config keys


@pytest.mark.parametrize("key", [
    "bucket Name", "acme:a:b", ":note", "acme:", "tags.", "acme:*alias", "&anchor", "!!python/object", "---",
    "acme:#note", "acme:'note'", "acme:no}te", "bucket/Name", "-x", "tags.#team", "tags.'team'",
])
def test_a_key_that_is_not_a_config_key_is_refused_saying_what_a_key_may_hold(project, key):
    result = init(project, "prod", *S3, "--set", f"{key}=x")
    assert_refused(result, project, printable(key.strip()))
    assert "letters, digits" in result.stderr


# --- safe look-alikes: written, and read back by `plan`'s reader as exactly what was given

LOOKALIKES = [
    "#", "a # b", "#not-a-comment", "a: b", "key: value", "'single'", '"double"', "it's", "*alias", "&anchor",
    "!!python/object:os.system", "!tag", "---", "...", "-", "- item", "-x", "@handle", "%TAG", "${x}", "50%",
    "é", "日本", "Ünïcödé spaces ok", "yes", "no", "on", "off", "y", "n", "null", "Null", "~", "true", "False", "",
    " leading", "trailing ", "0o17", "0O17", "1e3", "0x1F", "0b101", "1_000", "12:30", "012", "+1", ".inf", ".NaN",
    "[a, b]", "{a: b}", "|", ">", "? x", "`cmd`", "$(rm -rf /)", "a\\nb", "\\u2028", "x" * 100_000, "a " * 40_000,
]


def test_lookalike_values_are_written_as_the_text_they_are(project):
    args = [word for i, value in enumerate(LOOKALIKES) for word in ("--set", f"acme:v{i}={value}")]
    result = init(project, "prod", *S3, *args)
    assert result.exit_code == 0, result.output
    config = read_back(project, "prod")
    assert {i: config[f"acme:v{i}"] for i in range(len(LOOKALIKES))} == dict(enumerate(LOOKALIKES))


def test_lookalike_tags_are_written_as_the_text_they_are(project):
    tags = {f"t{i}": value for i, value in enumerate(LOOKALIKES) if len(value) <= 256}
    tags = dict(list(tags.items())[:49])  # Azure's limit, with managed-by: 50 tags
    result = init(project, "prod", *AZURE, *[w for k, v in tags.items() for w in ("--set", f"tags.{k}={v}")])
    assert result.exit_code == 0, result.output
    assert json.loads(read_back(project, "prod")["tavus-recording:tags"]) == tags


def test_the_header_of_a_file_with_lookalikes_remakes_the_same_file(project, tmp_path_factory):
    values = [value for value in LOOKALIKES if len(value) < 100]
    args = [word for i, value in enumerate(values) for word in ("--set", f"acme:v{i}={value}")]
    assert init(project, "prod", *S3, *args).exit_code == 0
    words = header_command(project, "prod")
    assert words[:3] == ["tavus-recording", "init", "prod"]
    again = tmp_path_factory.mktemp("again")
    shutil.copy(PROJECT_DIR / "Pulumi.yaml", again / "Pulumi.yaml")
    result = runner.invoke(cli.app, [*words[1:], "--non-interactive", "--project-dir", str(again)])
    assert result.exit_code == 0, result.output
    assert (again / "stacks" / "Pulumi.prod.yaml").read_bytes() == (project / "stacks" / "Pulumi.prod.yaml").read_bytes()


def test_yaml_12_numbers_stay_text_for_the_pulumi_cli_too(project):
    # PyYAML reads `1e3` and `0o17` as text, but the Pulumi CLI's YAML 1.2 reader as numbers (1000, 15):
    # written quoted, every reader gets the text.
    assert init(project, "prod", *S3, "--set", "acme:a=1e3", "--set", "acme:b=0o17", "--set", "acme:c=0x1F").exit_code == 0
    text = (project / "stacks" / "Pulumi.prod.yaml").read_text()
    assert "acme:a: '1e3'" in text and "acme:b: '0o17'" in text and "acme:c: '0x1F'" in text


def test_unicode_keys_region_project_and_numbers_round_trip(project):
    result = init(project, "prod", "--provider", "gcs", "--project", "acme-recordings", "--region", "us-central1",
                  "--set", f"tavusOidcIssuer={ISSUER}", "--set", "tavusOidcSubject=tavus: writer #1",
                  "--set", "retentionDays=365", "--set", "acme:équipe=日本", "--set", "tags.équipe=média")
    assert result.exit_code == 0, result.output
    config = read_back(project, "prod")
    assert config["gcp:project"] == "acme-recordings" and config["tavus-recording:location"] == "us-central1"
    assert config["tavus-recording:tavusOidcSubject"] == "tavus: writer #1"
    assert config["tavus-recording:retentionDays"] == "365"
    assert yaml.safe_load((project / "stacks" / "Pulumi.prod.yaml").read_text())["config"]["tavus-recording:retentionDays"] == 365
    assert config["acme:équipe"] == "日本" and json.loads(config["tavus-recording:tags"]) == {"équipe": "média"}


# --- fuzz: any key and value either is refused in one line with nothing written, or reads back exactly

# Most text is clean but full of YAML's own punctuation, so most runs write a file to read back; the rest may
# hold any code point at all (surrogates included) or one of the breakers.
_YAMLISH = ["#", " #", ": ", "'", '"', "*", "&", "!!", "!", "---", "...", "-", "- ", "?", "|", ">", "%", "@", "`", "{",
            "}", "[", "]", ",", ":", ".", " ", "~", "null", "yes", "no", "on", "1e3", "0o17", "007", "é", "日本", "${x}"]
_clean = st.lists(
    st.one_of(st.sampled_from(_YAMLISH), st.text(st.characters(exclude_categories=["Cc", "Cf", "Zl", "Zp", "Cs"]), max_size=4)),
    max_size=5,
).map("".join)
_wild = st.lists(
    st.one_of(st.sampled_from([*BREAKERS.values(), *_YAMLISH]), st.text(st.characters(exclude_categories=[]), max_size=4)),
    min_size=1, max_size=5,
).map("".join)
_clean_keys = st.one_of(
    st.from_regex(r"[^\W_][\w.-]{0,8}", fullmatch=True).map(lambda name: f"acme:{name}"),
    st.from_regex(r"[\w .\-/+@]{1,8}", fullmatch=True).map(lambda member: f"tags.{member}"),
    st.sampled_from(["acme:note", "tags.team", "bucketName", "skuName"]),
)
_wild_keys = st.one_of(_clean_keys, _wild.map(lambda name: f"acme:{name}"), _wild).filter(lambda key: "=" not in key)


def _distinct(keys: st.SearchStrategy[str], values: st.SearchStrategy[str]) -> st.SearchStrategy[list[tuple[str, str]]]:
    return st.lists(st.tuples(keys, values), max_size=4, unique_by=lambda pair: pair[0].strip(" "))


# Three runs in four give clean keys and values (a file to read back); the fourth anything at all.
_pairs = st.one_of(*[_distinct(_clean_keys, _clean)] * 3, _distinct(_wild_keys, st.one_of(_clean, _wild)))


def outcome(result) -> str:
    """What became of one fuzz run, for Hypothesis's statistics (--hypothesis-show-statistics)."""
    said = result.stderr
    return ("written" if result.exit_code == 0 else
            "refused: a control or invisible character" if "which a stack file must not hold" in said else
            "refused: not a config key" if "is not a config key" in said else
            "refused: by the settings" if "invalid stack configuration" in said else f"refused: {said[:60]}")


STACK_NAMES = iter(range(1_000_000))


@hypothesis_settings(max_examples=100, deadline=5000, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(pairs=_pairs)
@example(pairs=[("acme:note", "x\nsecretsprovider: passphrase")])
@example(pairs=[("acme:note", "x\u2028y")])
@example(pairs=[("acme:no\nte", "x")])
@example(pairs=[("tags.team", "\x85environment: prod")])
@example(pairs=[("acme:note", "\ufffe")])
def test_fuzz_init_set_refuses_in_one_line_or_reads_back_exactly(project, pairs):
    stack = f"f{next(STACK_NAMES)}"
    result = init(project, stack, *AZURE, *[word for key, value in pairs for word in ("--set", f"{key}={value}")])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code in (0, 2), result.output
    event(outcome(result))
    if result.exit_code == 2:
        lines = result.stderr.splitlines()
        assert lines and lines[0].startswith("error: ") and all(visible(line) for line in lines), result.stderr
        # The settings list every bad key, one per line; everything else is one line.
        assert len(lines) == 1 or lines[0].startswith("error: invalid stack configuration"), result.stderr
        assert not (project / "stacks" / f"Pulumi.{stack}.yaml").exists()
        return
    config = read_back(project, stack)
    tags = json.loads(config["tavus-recording:tags"])
    for key, value in pairs:
        key = key.strip(" ")
        key = key if ":" in key else f"tavus-recording:{key}"
        parent, dot, member = key.partition(".")
        if dot and parent == "tavus-recording:tags":
            assert tags[member] == value
        else:
            assert config[key] == value

"""`verify` with hostile or unusual outputs: from `--outputs FILE` and from `pulumi stack output`.

The red team got a traceback and exit 1 ("a check failed") from invalid UTF-8 or deep nesting, ran
verify out of memory with `--outputs /dev/zero`, hung it on a FIFO, and made `--tavus` ask Tavus about
one bucket while the cloud checks read another (the outputs' copies of `recording_storage` disagreeing).
Here each exits 2 in one line naming the file and the field, before any cloud is asked; the outputs
exactly as `pulumi stack output --json --show-secrets` prints them, for each provider, still verify.

In-process runs replace each cloud's checks with a stand-in that records whether it was reached;
what could hang or exhaust memory runs as a subprocess with a time and memory bound.
"""

from __future__ import annotations

import copy
import json
import os
import re
import stat
import sys
import types
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings as hypothesis_settings, strategies as st
from typer.testing import CliRunner

from bounded_cli import assert_one_line_refusal, run_cli
from components import tavus
from fakes import deployed
from tavus_recording import cli
from tavus_recording.input_files import MAX_DEPTH
from tavus_recording.mock_engine import run_program
from tavus_recording.stack_files import load_stack_config
from tavus_recording.verify.outputs import OutputsError, read_outputs, recording_storage, tavus_properties
from tavus_recording.verify.report import Check

runner = CliRunner()
PROVIDER_STACKS = {"s3": "dev", "gcs": "gcs", "azure_blob": "azure"}
# A field of each provider's recording_storage that names where recordings go, and one that names who writes.
WHERE = {"s3": "bucket_name", "gcs": "bucket_name", "azure_blob": "storage_account"}
WHO = {"s3": "assume_role_arn", "gcs": "service_account_email", "azure_blob": "client_id"}


def as_deployed(stack: str) -> dict[str, Any]:
    """The stack's outputs on the mock engine, each `<...>` placeholder made a concrete value."""
    outputs = run_program(load_stack_config(stack).config, stack=stack).outputs
    names = set(re.findall(r"<[^<>\"]+>", json.dumps(outputs)))
    realised = deployed.realise(outputs, {name: re.sub(r"[^a-z0-9]+", "", name.lower())[:20] for name in names})
    assert "<" not in json.dumps(realised)
    return realised


@pytest.fixture(scope="module")
def kits() -> dict[str, dict[str, Any]]:
    """Each provider's outputs, as `pulumi stack output --json --show-secrets` prints them after `pulumi up`."""
    return {provider: as_deployed(stack) for provider, stack in PROVIDER_STACKS.items()}


@pytest.fixture
def clouds(monkeypatch) -> list[Any]:
    """Each cloud's checks replaced by one that passes and records the storage it was asked about."""
    asked: list[Any] = []
    module = types.ModuleType("stand_in_checks")

    def verify(storage: Any, outputs: Any) -> list[Check]:
        asked.append(storage)
        return [Check("cloud.stand_in", True, "no cloud was asked (test stand-in)")]

    module.verify = verify  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "stand_in_checks", module)
    monkeypatch.setattr(cli, "VERIFIERS", {provider: "stand_in_checks" for provider in cli.VERIFIERS})
    return asked


def write(tmp_path: Path, content: Any, name: str = "outputs.json") -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content if isinstance(content, str) else json.dumps(content, indent=2) + "\n", encoding="utf-8")
    return path


def verify(*args: str, env: dict[str, str] | None = None):
    return runner.invoke(cli.app, ["verify", *args], env=env)


def assert_refused(result, clouds: list[Any], *said: str) -> None:
    """Exit 2 in one printable line saying each of `said`, no traceback, and no cloud asked."""
    assert clouds == [], "a cloud was asked"
    assert_one_line_refusal(result, *said)


# --- the file itself: encoding, nesting, duplicates, kind and size


@pytest.mark.parametrize(
    ("data", "said"),
    [
        (b'\xff{"recording_storage": {}}', "byte 0 "),
        (b'{"recording_storage": {"bucket_name": "ac\xffme"}}', "byte 41 "),
        (b'{"recording_storage": {"bucket_name": "acme\xed\xa0\x80"}}', "byte 43 "),
        ('{"recording_storage": {}}'.encode("utf-16"), "UTF-16"),
        ('{"recording_storage": {}}'.encode("utf-16-le"), "NUL"),
    ],
    ids=["ff-at-start", "ff-in-middle", "encoded-surrogate", "utf-16", "utf-16-without-bom"],
)
def test_outputs_that_are_not_utf8_exit_2_saying_where(tmp_path, clouds, data, said):
    path = write(tmp_path, data)
    assert_refused(verify("--outputs", str(path)), clouds, str(path), said, "UTF-8")


@pytest.mark.parametrize(
    "text",
    ["[" * 100_000, '{"recording_storage": ' * 50_000, '{"recording_storage": ' + "[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5) + "}"],
    ids=["arrays-100000", "objects-50000", "just-too-deep"],
)
def test_deeply_nested_outputs_exit_2_not_1(tmp_path, clouds, text):
    path = write(tmp_path, text)
    assert_refused(verify("--outputs", str(path)), clouds, str(path), f"nested deeper than {MAX_DEPTH}")


def test_a_duplicate_output_is_refused_so_no_reader_sees_another_bucket(tmp_path, clouds, kits):
    # json.loads keeps the last of two; a reviewer (or another tool) may read the first.
    first = json.dumps(kits["s3"]["recording_storage"])
    other = json.dumps({**kits["s3"]["recording_storage"], "bucket_name": "attacker-bucket"})
    path = write(tmp_path, f'{{"recording_storage": {first}, "recording_storage": {other}}}')
    assert_refused(verify("--outputs", str(path)), clouds, str(path), "'recording_storage' appears twice")


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_non_finite_numbers_are_refused(tmp_path, clouds, kits, constant):
    text = json.dumps(kits["s3"]).replace('"storage_managed": true', f'"storage_managed": {constant}')
    path = write(tmp_path, text)
    assert_refused(verify("--outputs", str(path)), clouds, str(path), constant)


def test_a_directory_is_refused(tmp_path, clouds):
    assert_refused(verify("--outputs", str(tmp_path)), clouds, str(tmp_path), "directory")


def test_a_missing_file_says_so(tmp_path, clouds):
    assert_refused(verify("--outputs", str(tmp_path / "nowhere.json")), clouds, "cannot read it (No such file or directory)")


def test_outputs_from_devices_fifos_and_huge_files_exit_2_without_waiting_or_filling_memory(tmp_path):
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    link = tmp_path / "link.json"
    link.symlink_to(fifo)
    huge = tmp_path / "huge.json"
    with huge.open("wb") as out:
        out.truncate(64 << 30)
    for path, said in [("/dev/zero", "device"), ("/dev/urandom", "device"), (str(fifo), "FIFO"), (str(link), "FIFO"), (str(huge), "4 MiB")]:
        assert_one_line_refusal(run_cli("verify", "--outputs", path, timeout=30), path, said)


# --- what `pulumi stack output` prints, bounded the same way


def fake_pulumi(tmp_path: Path, script: str) -> dict[str, str]:
    """A `pulumi` first on PATH that runs `script` (sh)."""
    folder = tmp_path / "bin"
    folder.mkdir()
    command = folder / "pulumi"
    command.write_text(f"#!/bin/sh\n{script}\n")
    command.chmod(command.stat().st_mode | stat.S_IEXEC)
    return {"PATH": f"{folder}{os.pathsep}{os.environ['PATH']}"}


@pytest.mark.parametrize(
    ("script", "said"),
    [
        ("exec cat /dev/zero", "printed more than 4 MiB"),
        ("head -c 300000 /dev/zero | tr '\\000' '['", f"nested deeper than {MAX_DEPTH}"),
        ("printf '{\"recording_storage\": \"\\377\"}'", "UTF-8"),
        ("printf '{\"a\": 1, \"a\": 2}'", "'a' appears twice"),
        ("head -c 3000000 /dev/zero | tr '\\000' 'x' >&2; echo >&2; echo 'error: no stack named prod found' >&2; exit 255",
         "failed: error: no stack named prod found"),
        ("head -c 3000000 /dev/zero | tr '\\000' 'x' >&2; exit 255", "failed: xxxx"),
    ],
    ids=["endless", "deep", "not-utf8", "duplicate", "flood-of-messages", "one-huge-message"],
)
def test_what_pulumi_prints_is_read_within_the_same_bounds(tmp_path, script, said):
    result = run_cli("verify", "--stack", "prod", env=fake_pulumi(tmp_path, script), timeout=45)
    assert_one_line_refusal(result, "stack prod" if "failed" not in said else "pulumi stack output", said)
    assert len(result.stderr) < 1000  # a message, not the flood


# --- the copies of recording_storage must agree, or --tavus and the cloud checks would read different ones


def disagreeing(outputs: dict[str, Any], where: str, change) -> dict[str, Any]:
    outputs = copy.deepcopy(outputs)
    if where == "conversation_properties":
        change(outputs["conversation_properties"]["recording_storage"])
    else:
        storage = json.loads(outputs["recording_storage_json"])
        change(storage)
        outputs["recording_storage_json"] = json.dumps(storage)
    return outputs


def setter(field: str, value: Any):
    return lambda storage: storage.__setitem__(field, value)


CHANGES = {
    "where": lambda provider: (WHERE[provider], setter(WHERE[provider], "attacker-storage")),
    "who": lambda provider: (WHO[provider], setter(WHO[provider], "attacker-identity")),
    "extra-field": lambda provider: ("kms_key_arn", setter("kms_key_arn", "arn:aws:kms:us-east-1:1:key/x")),
    "missing-field": lambda provider: (WHO[provider], lambda storage: storage.pop(WHO[provider])),
}


@pytest.mark.parametrize("where", ["conversation_properties", "recording_storage_json"])
@pytest.mark.parametrize("change", CHANGES, ids=CHANGES.keys())
@pytest.mark.parametrize("provider", PROVIDER_STACKS)
def test_copies_that_disagree_exit_2_before_any_cloud_is_asked(tmp_path, clouds, kits, provider, change, where):
    field, edit = CHANGES[change](provider)
    path = write(tmp_path, disagreeing(kits[provider], where, edit))
    copy_name = "conversation_properties.recording_storage" if where == "conversation_properties" else "recording_storage_json"
    assert_refused(verify("--outputs", str(path)), clouds, str(path), f"{copy_name}.{field}", f"recording_storage.{field}")


@pytest.mark.parametrize(
    ("edit", "said"),
    [
        (lambda o: o.__setitem__("recording_storage_json", json.dumps({**o["recording_storage"], "bucket_region": "eu-west-1"})),
         "recording_storage_json.bucket_region"),
        (lambda o: o["conversation_properties"]["recording_storage"].__setitem__("bucket_region", "eu-west-1"),
         "conversation_properties.recording_storage.bucket_region"),
        (lambda o: o["conversation_properties"]["recording_storage"].__setitem__("provider", "gcs"),
         "conversation_properties.recording_storage.provider"),
        (lambda o: o["conversation_properties"].__setitem__("recording_storage", "[secret]"), "conversation_properties.recording_storage"),
        (lambda o: o.__setitem__("conversation_properties", "[secret]"), "conversation_properties"),
        (lambda o: o["conversation_properties"].__setitem__("enable_recording", False), "conversation_properties.enable_recording"),
        (lambda o: o["conversation_properties"].__setitem__("enable_recording", "true"), "conversation_properties.enable_recording"),
        (lambda o: o.__setitem__("recording_storage_json", "{not json"), "recording_storage_json"),
        (lambda o: o.__setitem__("recording_storage_json", {"provider": "s3"}), "recording_storage_json"),
        (lambda o: o.__setitem__("recording_storage_json", "[" * 100 + "]" * 100), "recording_storage_json"),
    ],
    ids=["json-region", "properties-region", "properties-provider", "properties-storage-secret", "properties-secret",
         "recording-off", "recording-text", "json-not-json", "json-not-text", "json-deep"],
)
def test_other_disagreements_are_refused_naming_the_output(tmp_path, clouds, kits, edit, said):
    outputs = copy.deepcopy(kits["s3"])
    edit(outputs)
    path = write(tmp_path, outputs)
    assert_refused(verify("--outputs", str(path)), clouds, str(path), said)


def test_tavus_properties_is_built_from_the_checked_storage(kits):
    for outputs in kits.values():
        storage = recording_storage(outputs, "o.json")
        assert tavus_properties(outputs, storage, "o.json") == tavus.conversation_properties(storage.model_dump())
        assert tavus_properties(outputs, storage, "o.json") == outputs["conversation_properties"]


def test_the_first_differing_field_is_named_with_both_values(kits):
    outputs = copy.deepcopy(kits["s3"])
    outputs["conversation_properties"]["recording_storage"].update(bucket_name="other-bucket", bucket_region="eu-west-1")
    storage = recording_storage(outputs, "o.json")
    with pytest.raises(OutputsError) as refused:
        tavus_properties(outputs, storage, "o.json")
    message = str(refused.value)
    assert message.startswith("o.json: ") and "'other-bucket'" in message and repr(outputs["recording_storage"]["bucket_name"]) in message
    assert "bucket_region" not in message  # the first difference only


# --- safe look-alikes: the outputs as Pulumi prints them verify, with the storage the file names


@pytest.mark.parametrize("provider", PROVIDER_STACKS)
def test_each_providers_outputs_as_pulumi_prints_them_verify(tmp_path, clouds, kits, provider):
    path = write(tmp_path, kits[provider])
    result = verify("--outputs", str(path))
    assert result.exit_code == 0, result.output
    assert [storage.model_dump() for storage in clouds] == [kits[provider]["recording_storage"]]


@pytest.mark.parametrize(
    "drop",
    [("conversation_properties",), ("recording_storage_json",), ("conversation_properties", "recording_storage_json")],
    ids=["no-properties", "no-json", "neither"],
)
def test_outputs_without_the_copies_verify(tmp_path, clouds, kits, drop):
    outputs = {name: value for name, value in kits["gcs"].items() if name not in drop}
    assert verify("--outputs", str(write(tmp_path, outputs))).exit_code == 0
    assert len(clouds) == 1


def test_copies_written_in_another_order_or_spacing_agree(tmp_path, clouds, kits):
    outputs = copy.deepcopy(kits["azure_blob"])
    storage = outputs["recording_storage"]
    outputs["recording_storage_json"] = json.dumps(dict(reversed(list(storage.items()))), indent=4)
    outputs["conversation_properties"] = {"recording_storage": dict(reversed(list(storage.items()))), "enable_recording": True}
    assert verify("--outputs", str(write(tmp_path, outputs))).exit_code == 0


def test_a_byte_order_mark_crlf_and_a_symlink_are_read(tmp_path, clouds, kits):
    # PowerShell 5's `Out-File -Encoding utf8` writes a byte-order mark, and Windows line ends.
    target = write(tmp_path, b"\xef\xbb\xbf" + json.dumps(kits["s3"], indent=2).replace("\n", "\r\n").encode(), "target.json")
    link = tmp_path / "outputs.json"
    link.symlink_to(target)
    assert verify("--outputs", str(link)).exit_code == 0


def test_tavus_is_sent_the_storage_the_cloud_checks_read(tmp_path, clouds, kits):
    from fakes.tavus_api import running

    outputs = {name: value for name, value in kits["s3"].items() if name != "conversation_properties"}
    path = write(tmp_path, outputs)
    with running() as fake:
        result = verify("--outputs", str(path), "--tavus", "--replica-id", "r1",
                        env={"TAVUS_API_URL": fake.url, "TAVUS_API_KEY": "tvs-key"})
    assert result.exit_code == 0, result.output
    assert fake.received[0].body["properties"] == {"enable_recording": True, "recording_storage": kits["s3"]["recording_storage"]}
    assert clouds[0].model_dump() == kits["s3"]["recording_storage"]


def test_pulumi_printing_the_outputs_verifies(tmp_path, clouds, kits, monkeypatch):
    env = fake_pulumi(tmp_path, f"cat <<'JSON'\n{json.dumps(kits['s3'], indent=2)}\nJSON")
    monkeypatch.setenv("PATH", env["PATH"])
    assert read_outputs("prod", cwd=tmp_path) == kits["s3"]


# --- fuzz: any bytes, any nesting, any copies: a clean refusal or outputs verify can use


def read_cleanly(path: Path) -> None:
    try:
        outputs = read_outputs(outputs_file=path)
        storage = recording_storage(outputs, str(path))
        properties = tavus_properties(outputs, storage, str(path))
    except OutputsError as exc:
        assert "\n" not in str(exc) and str(exc).isprintable(), repr(str(exc))
        return
    # Accepted: Tavus is sent the storage the cloud checks read, and every copy in the outputs agrees with it.
    assert properties == {"enable_recording": True, "recording_storage": storage.model_dump()}
    copy = outputs.get("conversation_properties")
    if copy is not None:
        assert copy.get("recording_storage", storage.model_dump()) == storage.model_dump()
        assert copy.get("enable_recording", True) is True
    if outputs.get("recording_storage_json") is not None:
        assert json.loads(outputs["recording_storage_json"]) == storage.model_dump()


@pytest.fixture(scope="module")
def fuzz_file(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz") / "outputs.json"


@hypothesis_settings(max_examples=250, deadline=1000, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=400))
@example(data=b"\x80")  # found before the readers: a traceback
@example(data=b'{"recording_storage": "\\ud800"}')
@example(data=b'{"recording_storage": {"provider": "s3"}, "conversation_properties": []}')
@example(data=b"[" * 64)
def test_fuzz_bytes_into_the_outputs_reader(fuzz_file, data):
    fuzz_file.write_bytes(data)
    read_cleanly(fuzz_file)


_json = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=6)),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=4), inner, max_size=3)),
    max_leaves=40,
)


@hypothesis_settings(max_examples=200, deadline=1000, suppress_health_check=[HealthCheck.too_slow])
@given(
    s3=st.fixed_dictionaries({}, optional={
        "bucket_name": st.sampled_from(["acme", "", "other"]), "bucket_region": st.just("us-east-1"),
        "assume_role_arn": st.just("arn:aws:iam::1:role/r"), "external_id": st.just("tavus"),
        "provider": st.sampled_from(["s3", "gcs", 5]),
    }),
    properties=st.one_of(_json, st.fixed_dictionaries({}, optional={"enable_recording": _json, "recording_storage": _json})),
    as_json=st.one_of(st.none(), _json.map(json.dumps), _json),
    depth=st.integers(0, 40),
)
@example(s3={"bucket_name": "acme", "bucket_region": "us-east-1", "assume_role_arn": "arn", "external_id": "tavus"},
         properties={"recording_storage": None}, as_json="null", depth=0)
# Found before the readers: an empty conversation_properties made --tavus send recording_storage without enable_recording.
@example(s3={"bucket_name": "acme", "bucket_region": "us-east-1", "assume_role_arn": "arn:aws:iam::1:role/r",
             "external_id": "tavus", "provider": "s3"}, properties={}, as_json=None, depth=0)
def test_fuzz_nested_outputs_and_their_copies(fuzz_file, s3, properties, as_json, depth):
    outputs: dict[str, Any] = {"recording_storage": s3, "conversation_properties": properties}
    if as_json is not None:
        outputs["recording_storage_json"] = as_json
    text = json.dumps(outputs)
    fuzz_file.write_text('{"wrapped": ' * depth + text + "}" * depth if depth else text)
    read_cleanly(fuzz_file)


# --- the red team's second round: the Tavus key never reaches the Pulumi CLI or a message; every message one short line

KEY = "tvs-0123456789abcdef0123456789abcdef"


def test_the_pulumi_cli_never_gets_the_tavus_key_and_what_it_says_is_redacted(tmp_path):
    import base64

    seen = tmp_path / "child-env.txt"
    encoded = base64.b64encode(KEY.encode()).decode()
    script = (
        f"env > '{seen}'\n"
        # What a CLI that had the key could print, raw and base64'd (here written into the fake itself).
        f"echo \"error: failed to decrypt; env TAVUS_API_KEY=$TAVUS_API_KEY {KEY} {encoded} {KEY.upper()}\" >&2; exit 1"
    )
    env = {**fake_pulumi(tmp_path, script), "TAVUS_API_KEY": KEY, "TAVUS_API_URL": "http://127.0.0.1:9"}
    result = run_cli("verify", "--stack", "prod", env=env, timeout=45)
    assert_one_line_refusal(result, "pulumi stack output", "failed: error: failed to decrypt")
    child = seen.read_text()
    assert "TAVUS_" not in child and KEY not in child and "PATH=" in child
    for leaked in (KEY, encoded, KEY.upper(), KEY[:12], encoded[:12]):
        assert leaked not in result.stdout + result.stderr, leaked


def test_a_carriage_return_in_the_pulumi_clis_message_is_shown_escaped(tmp_path):
    script = "printf 'first line\\nreal\\rerror: forged\\n\\n' >&2; exit 1"
    result = run_cli("verify", "--stack", "prod", env=fake_pulumi(tmp_path, script), timeout=45)
    assert_one_line_refusal(result, "failed: real\\x0derror: forged")
    assert "\r" not in result.stderr


def test_values_quoted_from_the_outputs_are_redacted(tmp_path, clouds, kits, monkeypatch):
    monkeypatch.setenv("TAVUS_API_KEY", KEY)
    outputs = copy.deepcopy(kits["s3"])
    outputs["recording_storage"] = f"x {KEY} %s" % KEY.replace("-", "%2D")
    path = write(tmp_path, outputs)
    result = verify("--outputs", str(path), env={"TAVUS_API_KEY": KEY})
    assert_refused(result, clouds, "recording_storage in", "not an object")
    assert KEY not in result.stderr and KEY[4:16] not in result.stderr and "***" in result.stderr


HUGE = "x" * 3_000_000


@pytest.mark.parametrize(
    ("edit", "said"),
    [
        (lambda o: o.__setitem__("recording_storage", HUGE), "recording_storage in"),
        (lambda o: o["recording_storage"].__setitem__(HUGE, 1), "not a valid Tavus recording_storage"),
        (lambda o: o["recording_storage"].__setitem__("bucket_name", HUGE), "not a valid Tavus recording_storage"),
        (lambda o: o["conversation_properties"]["recording_storage"].__setitem__("bucket_name", HUGE),
         "conversation_properties.recording_storage.bucket_name is 'xxx"),
        (lambda o: o["conversation_properties"]["recording_storage"].__setitem__(HUGE, "a"),
         "conversation_properties.recording_storage.xxx"),
        (lambda o: o["conversation_properties"].__setitem__("enable_recording", HUGE), "conversation_properties.enable_recording"),
        (lambda o: o.__setitem__("recording_storage_json", json.dumps({**o["recording_storage"], "bucket_name": HUGE})),
         "recording_storage_json.bucket_name"),
    ],
    ids=["storage-text", "extra-key", "field", "copy-field", "copy-extra-key", "enable-recording", "json-field"],
)
def test_a_huge_value_or_key_gives_a_short_message(tmp_path, clouds, kits, edit, said):
    # Each gave a 3 MB error line.
    outputs = copy.deepcopy(kits["s3"])
    edit(outputs)
    path = write(tmp_path, outputs)
    result = verify("--outputs", str(path))
    assert_refused(result, clouds, str(path), said)
    assert len(result.stderr) < 2000, len(result.stderr)


@pytest.mark.parametrize(
    "edit",
    [
        lambda o: o["recording_storage"].__setitem__("evil\nerror: forged", 1),
        lambda o: o["recording_storage"].__setitem__("provider", "s3\nerror: forged"),
        lambda o: o.__setitem__("recording_storage", "[secret]\nerror: forged"),
        lambda o: o["conversation_properties"]["recording_storage"].__setitem__("evil\nerror: forged", "a"),
        lambda o: o["conversation_properties"]["recording_storage"].__setitem__("bucket_name", "a\nerror: forged\x1b[2J"),
        lambda o: o["conversation_properties"].__setitem__("enable_recording", "yes\nerror: forged"),
    ],
    ids=["extra-field", "provider", "storage-text", "copy-extra-field", "copy-field", "enable-recording"],
)
def test_a_newline_in_a_quoted_key_or_value_stays_on_one_line(tmp_path, clouds, kits, edit):
    outputs = copy.deepcopy(kits["s3"])
    edit(outputs)
    path = write(tmp_path, outputs)
    result = verify("--outputs", str(path))
    assert_refused(result, clouds, str(path), "error: forged")
    assert "\\nerror: forged" in result.stderr or "\\x0aerror: forged" in result.stderr
    assert "\x1b" not in result.stderr


def test_outputs_errors_are_one_printable_bounded_line():
    error = OutputsError("a\nb\x1b" + "c" * 100_000 + f" {KEY} then what to do")
    assert str(error).isprintable() and len(str(error)) <= 6000 and str(error).endswith("then what to do")

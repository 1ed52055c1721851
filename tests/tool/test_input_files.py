"""The bounded readers every verb shares (tavus_recording/input_files.py), and `plan --previous` through them.

A red team ran `plan` out of memory with a YAML alias bomb, got tracebacks from a raw 0xFF byte, deep
nesting or invalid UTF-8, exhausted memory with /dev/zero and hung the tool on a FIFO. Here each reader
takes every such spelling and refuses it with one line naming the file (and the key, where there is
one), fast; the safe look-alikes a real file holds are read as the value they are. The fuzzers feed the
readers arbitrary bytes and nested text: a clean refusal or a value, never another exception.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any, Callable

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings as hypothesis_settings, strategies as st

from cpu_clock import own_cpu
from bounded_cli import assert_one_line_refusal, run_cli
from tavus_recording.input_files import (
    MAX_DEPTH,
    MAX_JSON_BYTES,
    MAX_YAML_BYTES,
    MAX_YAML_NODES,
    InputFileError,
    decode,
    parse_json,
    parse_yaml,
    read_bytes,
    read_json_file,
    read_yaml_file,
)

HINT = "give it what `plan --json` printed"
# Enough to refuse a bomb and still leave the test's own process room on a loaded machine.
FAST_SECONDS = 0.5


def billion_laughs(levels: int = 12, width: int = 10) -> str:
    """The classic: each anchor a list of `width` aliases of the one before, 10**12 leaves once expanded."""
    lines = ['a0: &a0 ["lol"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * width)}]" for i in range(1, levels + 1)]
    return "\n".join(lines) + "\n"


def refusal(call: Callable[[], Any]) -> str:
    """The one-line message `call` refuses with (it must refuse, with the reader's error)."""
    with pytest.raises(InputFileError) as caught:
        call()
    message = str(caught.value)
    assert "\n" not in message and message.isprintable(), repr(message)
    return message


def timed_refusal(call: Callable[[], Any], seconds: float = FAST_SECONDS) -> str:
    # CPU time: every reader timed here works on bytes it has or a file it stats; one that waits instead of
    # working is what `without_blocking` catches.
    with own_cpu() as spent:
        message = refusal(call)
    assert spent.seconds < seconds, f"took {spent.seconds:.2f} s of CPU"
    return message


def without_blocking(call: Callable[[], Any], seconds: float = 5.0) -> Any:
    """`call`'s outcome (a value or the exception it raised), failing if it has not returned within `seconds`."""
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append(call())
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            outcome.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still blocked after {seconds} s"
    return outcome[0]


# --- what kind of file: only a regular one, and never a wait


def test_a_regular_file_and_a_symlink_to_one_are_read(tmp_path: Path):
    path = tmp_path / "a.yaml"
    path.write_bytes(b"config:\n  aws:region: us-east-1\n")
    link = tmp_path / "link.yaml"
    link.symlink_to(path)
    assert read_bytes(path, 100) == read_bytes(link, 100) == path.read_bytes()


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path):
    fifo = tmp_path / "outputs.json"
    os.mkfifo(fifo)
    link = tmp_path / "link.json"
    link.symlink_to(fifo)
    for path in (fifo, link):
        outcome = without_blocking(lambda: read_bytes(path, MAX_JSON_BYTES))
        assert isinstance(outcome, InputFileError), outcome
        assert str(path) in str(outcome) and "FIFO" in str(outcome) and "not a regular file" in str(outcome)


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/null", "/dev/urandom"])
def test_a_device_is_refused_without_reading_it(device):
    message = timed_refusal(lambda: read_bytes(Path(device), MAX_JSON_BYTES))
    assert device in message and "device" in message and "not a regular file" in message


def test_a_directory_is_refused(tmp_path: Path):
    message = refusal(lambda: read_bytes(tmp_path, MAX_YAML_BYTES))
    assert str(tmp_path) in message and "is a directory" in message


def test_a_missing_or_unreadable_file_says_why(tmp_path: Path):
    assert refusal(lambda: read_bytes(tmp_path / "nowhere.json", 10)) == f"{tmp_path / 'nowhere.json'}: cannot read it (No such file or directory)"
    if os.geteuid() != 0:  # root reads anything
        locked = tmp_path / "locked.json"
        locked.write_text("{}")
        locked.chmod(0)
        assert "Permission denied" in refusal(lambda: read_bytes(locked, 10))


def test_the_source_names_the_file_as_the_caller_does(tmp_path: Path):
    message = refusal(lambda: read_bytes(tmp_path / "x.json", 10, source="--outputs x.json"))
    assert message.startswith("--outputs x.json: cannot read it")


# --- how big: at most the limit, and the limit is said


def test_a_file_at_the_limit_is_read_and_one_byte_more_is_refused_naming_the_limit(tmp_path: Path):
    path = tmp_path / "big.json"
    path.write_bytes(b" " * 1024)
    assert len(read_bytes(path, 1024)) == 1024
    path.write_bytes(b" " * 1025)
    message = refusal(lambda: read_bytes(path, 1024))
    assert str(path) in message and "larger than 1 KiB" in message


def test_a_huge_sparse_file_is_refused_at_once(tmp_path: Path):
    path = tmp_path / "huge.yaml"
    with path.open("wb") as out:
        out.truncate(64 << 30)  # 64 GiB of holes: costs no disk, would cost all the memory
    message = timed_refusal(lambda: read_bytes(path, MAX_YAML_BYTES))
    assert "larger than 1 MiB" in message


def test_the_limits_leave_room_for_any_real_file_and_stop_an_attack():
    assert MAX_YAML_BYTES == 1 << 20 and MAX_JSON_BYTES == 4 << 20 and MAX_DEPTH == 32 and MAX_YAML_NODES == 10_000


# --- what encoding: UTF-8, said with the byte where it is not


@pytest.mark.parametrize(("data", "offset"), [(b"\xffconfig: {}\n", 0), (b"config:\n  a: b\xff\n", 14), (b"ok: \xc3\n", 4)])
def test_a_byte_that_is_not_utf8_is_named_by_its_offset(data, offset):
    message = refusal(lambda: decode(data, "stacks/Pulumi.x.yaml"))
    assert message.startswith("stacks/Pulumi.x.yaml: ") and f"byte {offset} " in message and "UTF-8" in message


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32"])
def test_a_utf16_or_utf32_file_is_refused_saying_to_save_it_as_utf8(encoding):
    message = refusal(lambda: decode('{"a": 1}'.encode(encoding), "outputs.json"))
    assert message.startswith("outputs.json") and "save it as UTF-8" in message


def test_a_utf8_byte_order_mark_and_crlf_line_ends_are_read():
    # Windows editors (and PowerShell's Out-File -Encoding utf8) write both.
    assert decode(b"\xef\xbb\xbfconfig:\r\n  a: b\r\n", "x") == "config:\r\n  a: b\r\n"
    assert parse_yaml(decode(b"\xef\xbb\xbfconfig:\r\n  a: b\r\n", "x"), "x") == {"config": {"a": "b"}}
    assert parse_json(decode(b'\xef\xbb\xbf{"a":\r\n 1}\r\n', "x"), "x", HINT) == {"a": 1}


# --- YAML: no anchors or aliases, no duplicate or non-text keys, bounded nesting


@pytest.mark.parametrize(
    "text",
    [
        billion_laughs(),
        "config:\n  tavus-recording:bucketName: &a x\n  aws:region: *a\n",
        "config:\n  tavus-recording:tags: &t {team: media}\nother: *t\n",
        "base: &b {aws:region: us-east-1}\nconfig:\n  <<: *b\n",
        "config: &c\n  aws:region: us-east-1\n",
        "config:\n  aws:region: !!str &a us-east-1\n",
    ],
    ids=["billion-laughs", "alias-in-config", "alias-of-tags", "merge-key", "anchor-alone", "tagged-anchor"],
)
def test_anchors_and_aliases_are_refused_at_once_with_where(text):
    message = timed_refusal(lambda: parse_yaml(text, "stacks/Pulumi.x.yaml"))
    assert message.startswith("stacks/Pulumi.x.yaml: line ") and "anchor" in message and "write the value out" in message


def test_a_merge_key_without_an_alias_is_refused_too():
    message = refusal(lambda: parse_yaml("config:\n  <<: {aws:region: us-east-1}\n", "f.yaml"))
    assert "config" in message and "merge key" in message


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ("config: {}\nconfig: {}\n", "config"),
        ("config:\n  aws:region: a\n  aws:region: b\n", "config.aws:region"),
        ("config:\n  tavus-recording:tags:\n    team: a\n    team: b\n", "config.tavus-recording:tags.team"),
        ("config:\n  aws:region: a\n  'aws:region': b\n", "config.aws:region"),
    ],
)
def test_a_duplicate_key_is_refused_naming_its_path(text, path):
    message = refusal(lambda: parse_yaml(text, "f.yaml"))
    assert f"{path} appears twice" in message


@pytest.mark.parametrize(
    ("text", "said"),
    [("1: a\n", "1"), ("config:\n  true: a\n", "true"), ("config:\n  ~: a\n", "~"), ("config:\n  ? [a]\n  : b\n", "list"),
     ("config:\n  ? {a: b}\n  : c\n", "mapping"), ("config:\n  3.5: x\n", "3.5")],
)
def test_a_key_that_is_not_text_is_refused(text, said):
    message = refusal(lambda: parse_yaml(text, "f.yaml"))
    assert "key" in message and said in message and "text" in message


@pytest.mark.parametrize(
    "text",
    ["a: !!python/object:os.system x\n", "a: !!binary aGVsbG8=\n", "a: !!set {x}\n", "a: !custom x\n", "a: !!timestamp 2024-01-01\n"],
)
def test_a_yaml_tag_beyond_the_plain_types_is_refused(text):
    assert "tag" in refusal(lambda: parse_yaml(text, "f.yaml"))


def test_values_the_pulumi_cli_reads_as_text_stay_text():
    # Pulumi's YAML 1.2 reader keeps dates and yes/no/on/off as text; so does this one.
    read = parse_yaml("a: 2024-01-01\nb: yes\nc: off\nd: true\ne: 12\nf: '12'\ng: 1.5\nh: ''\n", "f.yaml")
    assert read == {"a": "2024-01-01", "b": "yes", "c": "off", "d": True, "e": 12, "f": "12", "g": 1.5, "h": ""}


def nested_yaml_block(depth: int) -> str:
    return "".join(f"{'  ' * level}k{level}:\n" for level in range(depth - 1)) + f"{'  ' * (depth - 1)}leaf: x\n"


@pytest.mark.parametrize(
    "text",
    [nested_yaml_block(MAX_DEPTH + 1), "a: " + "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1) + "\n",
     "[" * 100_000, "{a: " * 50_000, "- " * 50_000 + "x\n"],
    ids=["block-33", "flow-33", "flow-100000", "mapping-50000", "dashes-50000"],
)
def test_nesting_deeper_than_the_limit_is_refused_fast(text):
    message = timed_refusal(lambda: parse_yaml(text, "f.yaml"))
    assert f"nested deeper than {MAX_DEPTH}" in message


def test_more_keys_and_values_than_the_limit_are_refused_before_any_is_built():
    # 1 MiB of tiny flow lists is some 200,000 values: PyYAML would take seconds to build them.
    text = "config:\n" + "".join(f"  acme:k{i}: [a, {{b: c}}, d]\n" for i in range(MAX_YAML_BYTES // 30))
    message = timed_refusal(lambda: parse_yaml(text[: text.rfind("\n", 0, MAX_YAML_BYTES) + 1], "f.yaml"))
    assert f"more than {MAX_YAML_NODES} keys and values" in message
    assert parse_yaml("config:\n" + "".join(f"  k{i}: x\n" for i in range(MAX_YAML_NODES // 2 - 2)), "f.yaml")  # 9,999 nodes


def test_nesting_at_the_limit_is_read():
    assert parse_yaml(nested_yaml_block(MAX_DEPTH), "f.yaml") is not None
    assert parse_yaml("[" * MAX_DEPTH + "]" * MAX_DEPTH, "f.yaml") is not None


@pytest.mark.parametrize(
    "text",
    ["config: [\n", "config:\n  a: b\n c: d\n", "a: 'x\n", "---\na: 1\n---\nb: 2\n", "a: \x07\n", "\t- a\n"],
)
def test_a_syntax_error_names_the_line_and_column(text):
    message = refusal(lambda: parse_yaml(text, "stacks/Pulumi.x.yaml"))
    assert message.startswith("stacks/Pulumi.x.yaml") and ("line " in message or "document" in message)


def test_a_very_long_number_is_refused_not_a_traceback():
    assert "number" in refusal(lambda: parse_yaml("a: " + "9" * 5000 + "\n", "f.yaml"))


def test_read_yaml_file_checks_kind_size_encoding_and_syntax_in_turn(tmp_path: Path):
    path = tmp_path / "Pulumi.x.yaml"
    path.write_bytes(b"config:\n  aws:region: us-east-1  # a comment\n")
    assert read_yaml_file(path) == {"config": {"aws:region": "us-east-1"}}
    path.write_bytes(billion_laughs().encode())
    assert "anchor" in timed_refusal(lambda: read_yaml_file(path))


# --- JSON: no duplicates, no NaN or Infinity, bounded nesting, and where a syntax error is


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ('{"a": 1, "a": 2}', "'a' appears twice"),
        ('{"x": {"b": 1, "b": 1}}', "'b' appears twice"),
        ('{"a": NaN}', "NaN"),
        ('{"a": Infinity}', "Infinity"),
        ('{"a": -Infinity}', "-Infinity"),
        ('{"a": 1e999}', "1e999"),
        ('{"a": "\\ud800"}', "surrogate"),
        ('{"a": ' + "9" * 5000 + "}", "number"),
    ],
)
def test_json_a_javascript_engine_would_read_otherwise_is_refused(text, said):
    message = refusal(lambda: parse_json(text, "outputs.json", HINT))
    assert message.startswith("outputs.json") and said in message


@pytest.mark.parametrize(
    "text",
    ["[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1), '{"a":' * 40 + "1" + "}" * 40, "[" * 1_000_000, '{"a":' * 200_000],
    ids=["33", "objects-40", "arrays-1000000", "objects-200000"],
)
def test_json_nested_deeper_than_the_limit_is_refused_fast_without_a_recursion_error(text):
    message = timed_refusal(lambda: parse_json(text, "outputs.json", HINT))
    assert f"nested deeper than {MAX_DEPTH}" in message and "line 1, column" in message


def test_json_too_deep_only_at_its_end_is_found_and_placed():
    text = "[" + "1," * 500_000 + "[" * MAX_DEPTH + "]" * MAX_DEPTH + "]"
    message = timed_refusal(lambda: parse_json(text, "outputs.json", HINT), seconds=2)
    assert f"line 1, column {2 + 2 * 500_000 + MAX_DEPTH - 1}: nested deeper" in message


def test_json_at_the_limit_many_times_over_is_read():
    text = "[" + ",".join(["[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1)] * 1000) + "]"
    assert len(parse_json(text, "x", HINT)) == 1000


def test_json_at_the_limit_and_brackets_inside_strings_are_read():
    assert parse_json("[" * MAX_DEPTH + "]" * MAX_DEPTH, "x", HINT) == json.loads("[" * MAX_DEPTH + "]" * MAX_DEPTH)
    assert parse_json('{"a": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\\"[[["}', "x", HINT) == {"a": "[" * 40 + '"[[['}


@pytest.mark.parametrize(
    ("text", "where"),
    [('{"a": 1,}', "line 1, column 9"), ('{\n  "a": tru\n}', "line 2, column 8"), ("", "line 1, column 1"), ("{} {}", "line 1, column 4")],
)
def test_a_json_syntax_error_names_the_line_and_column_and_what_to_give(text, where):
    message = refusal(lambda: parse_json(text, "--previous p.json", HINT))
    assert message.startswith("--previous p.json is not JSON (") and where in message and message.endswith(HINT)


def test_read_json_file_reads_what_pulumi_prints(tmp_path: Path):
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps({"bucket_name": "acme", "retention_days": None, "n": 1.5}, indent=2) + "\n")
    assert read_json_file(path, HINT) == {"bucket_name": "acme", "retention_days": None, "n": 1.5}


# --- plan --previous reads through the JSON reader


def previous_refused(tmp_path: Path, path: Path, *said: str) -> None:
    result = run_cli("plan", "--stack", "dev", "--previous", str(path))
    assert_one_line_refusal(result, f"--previous {path}", *said)


def test_previous_attacks_exit_2_in_one_line(tmp_path: Path):
    cases = {
        "bad-utf8.json": (b'{"resources": [\xff]}', "byte 15"),
        "utf16.json": ('{"resources": []}'.encode("utf-16"), "UTF-8"),
        "deep.json": (b"[" * 100_000, f"nested deeper than {MAX_DEPTH}"),
        "duplicate.json": (b'{"resources": [], "resources": []}', "appears twice"),
        "nan.json": (b'{"resources": [], "x": NaN}', "NaN"),
    }
    for name, (data, said) in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        previous_refused(tmp_path, path, said)


def test_previous_from_a_device_a_fifo_or_a_directory_exits_2_without_waiting(tmp_path: Path):
    fifo = tmp_path / "plan.json"
    os.mkfifo(fifo)
    previous_refused(tmp_path, fifo, "FIFO")
    previous_refused(tmp_path, Path("/dev/zero"), "device")
    previous_refused(tmp_path, tmp_path, "directory")


def test_a_huge_previous_plan_is_refused_naming_the_limit(tmp_path: Path):
    path = tmp_path / "plan.json"
    with path.open("wb") as out:
        out.truncate(8 << 30)
    previous_refused(tmp_path, path, "larger than 4 MiB")


def test_a_file_name_with_terminal_escapes_is_shown_escaped(tmp_path: Path):
    path = tmp_path / "plan\x1b[2J\u202e.json"
    result = run_cli("plan", "--stack", "dev", "--previous", str(path))
    assert result.returncode == 2
    assert "\x1b" not in result.stderr and "\\x1b[2J\\u202e.json" in result.stderr
    assert result.stderr.count("\n") == 1


# --- fuzz: arbitrary bytes and nested text; a clean refusal or a value, never another exception

_yaml_pieces = st.sampled_from([
    "config:", "\n", "  ", "- ", ": ", "aws:region", "tavus-recording:tags", "&a ", "*a", "<<: ", "!!binary ", "!x ", "? ",
    "[", "]", "{", "}", ",", "'", '"', "#", "---", "...", "~", "yes", "2024-01-01", ".nan", "9" * 30, "\\ud800", "\t",
    "%YAML 1.1\n", "%TAG ! tag:x,2000:\n", "|", ">", "\ufeff", "\r\n", "\x85", "é",
])
_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=8))
_nested = st.recursive(_scalars, lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=4), inner, max_size=3)), max_leaves=60)


def assert_clean(call: Callable[[], Any]) -> None:
    try:
        call()
    except InputFileError as exc:
        assert "\n" not in str(exc) and str(exc).isprintable()


@hypothesis_settings(max_examples=250, deadline=1000, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300))
@example(b"\xef\xbb\xbf")
@example(b"a: \xed\xa0\x80\n")
@example(b'a: "\\ud800"\n')
@example(b"a: 9" + b"9" * 5000)
@example(b"{a: 1, a: 1}")
def test_fuzz_bytes_into_the_yaml_reader(data):
    assert_clean(lambda: parse_yaml(decode(data, "f.yaml"), "f.yaml"))


@hypothesis_settings(max_examples=250, deadline=1000, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_yaml_pieces, max_size=40).map("".join))
@example("a: &a [*a]")
@example("? - a\n")
@example("a: .nan\n")
@example("a: !!float 1e999\n")
def test_fuzz_yaml_shaped_text_into_the_yaml_reader(text):
    assert_clean(lambda: parse_yaml(text, "f.yaml"))


@hypothesis_settings(max_examples=150, deadline=1000, suppress_health_check=[HealthCheck.too_slow])
@given(_nested)
def test_fuzz_dumped_yaml_with_shared_values_reads_back_or_is_refused(value):
    # yaml.dump writes an anchor and alias for a value used twice: the reader must refuse exactly those.
    text = yaml.safe_dump({"config": value, "again": value})
    if isinstance(value, (list, dict)):
        assert "anchor" in refusal(lambda: parse_yaml(text, "f.yaml"))
        return
    try:
        json.dumps(value, allow_nan=False)
    except ValueError:  # .nan and .inf are refused: no config value is one
        assert "finite" in refusal(lambda: parse_yaml(text, "f.yaml"))
        return
    if isinstance(value, int) and not isinstance(value, bool) and not -(1 << 63) <= value < 1 << 64:
        # Beyond 64 bits the Pulumi CLI's go-yaml reads a float, and beyond 30 digits this reader refuses it.
        if len(str(abs(value))) > 30:
            assert "digits" in refusal(lambda: parse_yaml(text, "f.yaml"))
            return
        value = float(value)
    read = parse_yaml(text, "f.yaml")
    if isinstance(value, str) and read != {"config": value, "again": value}:
        # PyYAML quotes what YAML 1.1 reads as another type; go-yaml (YAML 1.2-ish) may read other plain text as
        # a number (`09`, `1e5`): only text written plain may come back otherwise.
        assert f"config: {value}\n" in text, (text, read)
        return
    assert read == {"config": value, "again": value}


@hypothesis_settings(max_examples=250, deadline=1000, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300))
@example(b'{"a": 1e400}')
@example(b'"\\udfff"')
@example(b"[" * 40)
@example(b"\xef\xbb\xbf[]")
def test_fuzz_bytes_into_the_json_reader(data):
    assert_clean(lambda: parse_json(decode(data, "o.json"), "o.json", HINT))


@hypothesis_settings(max_examples=200, deadline=1000, suppress_health_check=[HealthCheck.too_slow])
@given(_nested, st.integers(0, 60), st.sampled_from(["[", '{"k":', '{"":']))
def test_fuzz_nested_json_reads_back_or_is_refused_for_its_depth(value, depth, opener):
    closer = "]" if opener == "[" else "}"
    inner = json.dumps(value, allow_nan=True)
    text = opener * depth + inner + closer * depth

    def depth_of(item: Any) -> int:
        return 1 + max(map(depth_of, item.values() if isinstance(item, dict) else item), default=0) if isinstance(item, (list, dict)) else 0

    deep = depth + depth_of(value) > MAX_DEPTH
    try:
        read = parse_json(text, "o.json", HINT)
    except InputFileError as exc:
        # Refused for its depth exactly when it is too deep, or else for a NaN or an Infinity.
        assert ("nested deeper" in str(exc)) == deep
        assert deep or "NaN" in inner or "Infinity" in inner
        return
    assert not deep and read == json.loads(text)


# --- the red team's second round: cost per item, regex-hostile strings, tags, numbers as the Pulumi CLI reads them


def peak_memory(call: Callable[[], Any]) -> tuple[Any, int]:
    """`call`'s outcome (a value or the InputFileError it raised) and the most memory it held at once."""
    import tracemalloc

    tracemalloc.start()
    try:
        try:
            outcome: Any = call()
        except InputFileError as exc:
            outcome = exc
        return outcome, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_long_key_over_a_long_list_costs_no_memory_per_item():
    # A path string per list item cost key length x list length: 2 GB for this 518 KB stack file.
    text = "config:\n  ? aws:" + "k" * 500_000 + "\n  : [" + ",".join(["0"] * 9000) + "]\n"
    value, peak = peak_memory(lambda: parse_yaml(text, "f.yaml"))
    assert value == {"config": {"aws:" + "k" * 500_000: [0] * 9000}}
    assert peak < 64 << 20, f"{peak >> 20} MiB"
    # The outputs shape: a 1,000,000-character key over 1.4 million items, one of them a surrogate (1.4 TB before).
    key = "k" * 1_000_000
    json_text = '{"' + key + '": [' + "0," * 1_400_000 + '"\\ud800"]}'
    with own_cpu() as spent:
        message, peak = peak_memory(lambda: parse_json(json_text, "outputs.json", HINT))
    assert isinstance(message, InputFileError) and "surrogate" in str(message), message
    assert spent.seconds < 10 and peak < 400 << 20, (spent.seconds, peak >> 20)
    assert len(str(message)) < 500 and "[1400000]" in str(message) and "…" in str(message)


@pytest.mark.parametrize(
    "text",
    [
        '"' + 'a\\"' * (MAX_JSON_BYTES // 3),
        '"' + "\\" * (MAX_JSON_BYTES - 1),
        '"' * MAX_JSON_BYTES,
        '"' + "\\u" * (MAX_JSON_BYTES // 2 - 1),
        '["' + 'a\\"[' * (MAX_JSON_BYTES // 4 - 1),
        '{"a":"' + '\\"{' * (MAX_JSON_BYTES // 3),
        '["",' * (MAX_JSON_BYTES // 4),
        "[" + '"\\\\",' * (MAX_JSON_BYTES // 5) + "]",
    ],
    ids=["escaped-quotes", "backslashes", "quotes", "u-escapes", "list-then-escapes", "object-then-escapes", "nested-strings",
         "escaped-backslashes"],
)
def test_a_4mib_string_full_of_escapes_is_refused_or_read_fast(text):
    # The old string pattern rescanned an unterminated string from each escaped quote: 120 KB took over a minute.
    text = text[:MAX_JSON_BYTES]  # the most the reader takes
    with own_cpu() as spent:
        try:
            parse_json(text, "outputs.json", HINT)
        except InputFileError as exc:
            assert "\n" not in str(exc) and len(str(exc)) < 500
    assert spent.seconds < 2, f"took {spent.seconds:.2f} s of CPU"


def test_a_string_with_escapes_still_hides_its_brackets_from_the_depth_check():
    assert parse_json('["\\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\\\\"]', "x", HINT) == ['"' + "[" * 38 + "\\"]
    assert "nested deeper" in refusal(lambda: parse_json('["\\\\"' + ",[" * 40, "x", HINT))


@pytest.mark.parametrize(
    "text",
    ["a: !!bool maybe\n", 'a: !!bool ""\n', 'a: !!int ""\n', 'a: !!float ""\n', 'a: !!int "-"\n', 'a: !!int "+"\n',
     'a: !!int "_"\n', 'a: !!float "_"\n', "a: !!int abc\n", "a: !!str x\n", "a: !!int 5\n", "a: !local x\n",
     "a: !<tag:yaml.org,2002:int> 5\n", "a: ! 5\n", "a: !!map {b: c}\n", "a: !!seq [b]\n", "!!str a: b\n",
     "%TAG !e! tag:example.com,2000:\n---\na: !e!x y\n"],
)
def test_every_explicit_tag_is_refused_naming_the_key(text):
    # They crashed PyYAML's constructors (KeyError, IndexError) or read otherwise than go-yaml does.
    message = refusal(lambda: parse_yaml(text, "f.yaml"))
    assert "tag" in message and "need none" in message
    assert " on a " in message or " on a key " in message or "a key under" in message


@pytest.mark.parametrize(
    "number",
    ["0x" + "f" * 4000, "0b" + "1" * 15000, "0" + "7" * 5000, "9" * 5000, "1" * 31, "-" + "9" * 31, "1." + "0" * 40,
     "0o" + "7" * 40, "1_" * 40 + "1"],
)
def test_a_number_of_more_than_30_digits_is_refused_naming_the_key(number):
    message = refusal(lambda: parse_yaml(f"config:\n  acme:n: {number}\n", "f.yaml"))
    assert "config.acme:n is a number of more than 30 digits" in message and len(message) < 300
    assert "number" in refusal(lambda: parse_yaml(f"config:\n  {number}: x\n", "f.yaml"))


# What go-yaml v3 (the Pulumi CLI's YAML reader, resolve.go on branch v3) reads each plain scalar as.
GO_YAML_V3 = {
    "010": 8,  # YAML 1.1's octal, still read by go-yaml v3 ("for compatibility")
    "0o10": 8,  # YAML 1.2's octal
    "1_000": 1000,  # underscores are removed before ParseInt
    "1:30": "1:30",  # YAML 1.1's sexagesimal (90 to PyYAML): text to go-yaml
    "1:59:59": "1:59:59",
    "yes": "yes", "no": "no", "on": "on", "off": "off", "y": "y", "Yes": "Yes",
    "~": None, "null": None, "Null": None, "NULL": None, "": None,
    "true": True, "True": True, "TRUE": True, "false": False, "FALSE": False, "tRUE": "tRUE",
    "0x1F": 31, "0X1f": 31, "-0x10": -16, "+12": 12, "0b101": 5, "0B11": 3, "-0b11": -3, "0b-11": -3, "0o-7": -7, "0": 0,
    "-0": 0, "08": 8.0, "09.5": 9.5, "1e5": 100000.0, "1E+2": 100.0, ".5": 0.5, "-.5": -0.5, "+1.": 1.0, "1.5_0": 1.5,
    "9223372036854775807": 9223372036854775807, "-9223372036854775808": -9223372036854775808,
    "18446744073709551615": 18446744073709551615, "18446744073709551616": 1.8446744073709552e19,
    "+18446744073709551615": 1.8446744073709552e19, "0x" + "f" * 17: "0x" + "f" * 17, "1e999": "1e999", ".5e999": ".5e999",
    "_": "_", "+": "+", "0x": "0x", ".": ".", "._5": "._5", "-_": "-_", "0x_": "0x_",
    "2024-01-01": "2024-01-01", "0.1.2": "0.1.2", "1,000": "1,000", "0xg": "0xg", "inf": "inf", "nan": "nan", "Infinity": "Infinity",
    "<<": "<<", "=": "=", "12abc": "12abc", "٣": "٣", "１２": "１２",
}


@pytest.mark.parametrize(("plain", "expected"), GO_YAML_V3.items(), ids=[repr(plain) for plain in GO_YAML_V3])
def test_plain_scalars_are_read_as_go_yaml_v3_reads_them(plain, expected):
    read = parse_yaml(f"a: {plain}\n", "f.yaml")["a"]
    assert read == expected and type(read) is type(expected), (plain, read)
    assert parse_yaml(f"a: '{plain}'\n", "f.yaml")["a"] == plain  # quoted, always text


@pytest.mark.parametrize("plain", [".inf", ".Inf", "+.INF", "-.inf", ".nan", ".NaN"])
def test_go_yamls_infinities_and_nans_are_refused(plain):
    assert "finite" in refusal(lambda: parse_yaml(f"a: {plain}\n", "f.yaml"))


def test_long_keys_are_cut_in_every_yaml_message():
    key = "k" * 100_000
    for text, said in [
        (f"config:\n  ? {key}\n  : 1\n  ? {key}\n  : 2\n", "appears twice"),
        (f"config:\n  ? {key}\n  : &{key} x\n", "anchor"),
        (f"config:\n  ? {key}\n  : !{key} x\n", "tag"),
        (f"config:\n  ? {key}\n  :\n" + "".join(f"{'  ' * (level + 2)}k{level}:\n" for level in range(40)), "nested deeper"),
        (f"config:\n  ? {key}\n  : [.inf]\n", "finite"),
        (f"config:\n  ? {key}\n  : {'9' * 40}\n", "digits"),
        (f"config:\n  ? {key}\n  : {{a: 1, a: 2}}\n", "appears twice"),
        (f'{{"{key}": 1, "{key}": 2}}', "appears twice"),
    ]:
        reader = (lambda: parse_json(text, "f.json", HINT)) if text.startswith("{") else (lambda: parse_yaml(text, "f.yaml"))
        message = refusal(reader)
        assert said in message and len(message) < 700 and "…" in message, message[:200]

"""Stack files are parsed by libyaml (C) when PyYAML has it, and libyaml reads them as PyYAML's own parser does
(issue 20): never a different value, and a refusal for the same reason where both refuse (see `same_outcome`)."""

from __future__ import annotations

import re
from contextlib import contextmanager
from typing import Any, Iterator

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings as hypothesis_settings, strategies as st

from tavus_recording import yaml_reader
from tavus_recording.input_files import InputFileError, parse_yaml
from tavus_recording.stack_files import PROJECT_DIR, load_stack_config, stack_names

needs_libyaml = pytest.mark.skipif(not yaml.__with_libyaml__, reason="this PyYAML was built without libyaml")
SOURCE = "stacks/Pulumi.x.yaml"


@contextmanager
def pure_python() -> Iterator[None]:
    """PyYAML's own parser instead of libyaml's, for the duration."""
    saved = yaml_reader._Loader
    yaml_reader._Loader = yaml_reader._PythonLoader
    try:
        yield
    finally:
        yaml_reader._Loader = saved


def outcome(text: str) -> tuple[str, Any]:
    try:
        return "read", parse_yaml(text, SOURCE)
    except InputFileError as exc:
        return "refused", str(exc)


def malformed(result: tuple[str, Any]) -> bool:
    return result[0] == "refused" and result[1].startswith(f"{SOURCE} is not valid YAML")


def alike(result: tuple[str, Any]) -> tuple[str, Any]:
    """A refusal without its column, which the two parsers place differently for some events."""
    return (result[0], re.sub(r", column \d+", "", result[1])) if result[0] == "refused" else result


def events(text: str) -> list[Any]:
    """What the parser in use makes of `text`: each event's kind and contents, then "malformed" if it stops there."""
    loader = yaml_reader._Loader(text)
    found: list[Any] = []
    try:
        while loader.check_event():
            event = loader.get_event()
            found.append((type(event).__name__, getattr(event, "value", None), getattr(event, "tag", None),
                          getattr(event, "anchor", None), getattr(event, "implicit", None)))
    except yaml.YAMLError:
        found.append("malformed")
    finally:
        loader.dispose()
    return found


def same_outcome(text: str) -> None:
    """PyYAML's own parser (the kit's fallback where PyYAML lacks libyaml) never reads a value libyaml does not: where
    both read `text`, the values are equal. Where the two parsers see the same events, the outcome is the same: the
    same value, or the same refusal at the same line, but for the column (an empty key such as `[? ]` sits one
    column apart). Where they see different events, the scanners split the text differently, YAML 1.1 (PyYAML)
    against 1.2 (libyaml, and go-yaml, the Pulumi CLI's reader, a port of it): a tab inside a plain scalar, `<<?` in
    a flow mapping (one plain key to libyaml, the merge key `<<` then `?` to PyYAML), where a tag ends (`{a: !, b: c}`:
    the tag `!,` to PyYAML, `!` to libyaml), a syntax error worded and placed differently. One may then refuse what
    the other reads, or refuse it for another reason: a refusal is never a wrong value."""
    c_loader, c_events = alike(outcome(text)), events(text)
    with pure_python():
        python_loader, python_events = alike(outcome(text)), events(text)
    if c_loader[0] == python_loader[0] == "read" or (c_events == python_events and "malformed" not in c_events):
        assert c_loader == python_loader, text


@needs_libyaml
def test_the_c_parser_is_the_one_used():
    assert issubclass(yaml_reader._Loader, yaml.cyaml.CParser)
    calls: list[str] = []

    class Spy(yaml_reader._Loader):  # type: ignore[misc, valid-type]
        def __init__(self, stream: str) -> None:
            calls.append(stream)
            super().__init__(stream)

    saved = yaml_reader._Loader
    yaml_reader._Loader = Spy
    try:
        assert parse_yaml("config:\n  aws:region: us-east-1\n", SOURCE) == {"config": {"aws:region": "us-east-1"}}
    finally:
        yaml_reader._Loader = saved
    assert calls  # parse_yaml went through it


@needs_libyaml
@pytest.mark.parametrize("stack", stack_names())
def test_every_example_stack_reads_the_same_with_either_parser(stack):
    c_loader = load_stack_config(stack, PROJECT_DIR)
    with pure_python():
        python_loader = load_stack_config(stack, PROJECT_DIR)
    assert c_loader == python_loader


@needs_libyaml
@pytest.mark.parametrize("text", [
    "config:\n  a: 1\n  a: 2\n",  # a key twice
    "config:\n  a: &x 1\n  b: *x\n",  # anchors and aliases
    "config:\n  a: !!str 1\n",  # a tag
    "config:\n  <<: {a: 1}\n",  # a merge key
    "config:\n  1: a\n",  # a key read as a number
    "a: 1\n---\nb: 2\n",  # two documents
    "config:\n  a: " + "9" * 31 + "\n",  # a number of too many digits
    "config:\n  a: .nan\n",  # a float that is not finite
    "config:\n  a: [" * 40 + "]" * 40 + "\n",  # nested too deep
    "config:\n  a: \"\\ud800\"\n",  # a lone surrogate
    "config: [\n",  # malformed
    "config:\n\ta: 1\n",  # a tab for indentation
    "config:\n\ufeff  a: []\n",  # a byte-order mark inside the file (libyaml skips it, PyYAML reads it as text)
])
def test_each_refusal_is_the_same_with_either_parser(text):
    assert outcome(text)[0] == "refused"
    same_outcome(text)


@pytest.mark.parametrize("text, where", [
    ("config:\n\ufeff  a: []\n", "line 2, column 1"),
    ("config:\n  a: b\ufeff\n", "line 2, column 7"),
    ("config:\n  a: 'b\ufeff'\n", "line 2, column 8"),
])
def test_a_byte_order_mark_inside_the_file_is_refused_where_it_is(text, where):
    # One at the very start is what Windows editors write, and is read (input_files.decode drops it first).
    assert outcome("\ufeff" + "config:\n  a: b\n") == ("read", {"config": {"a": "b"}})
    assert outcome(text) == ("refused", f"{SOURCE}: {where}: a byte-order mark (U+FEFF, invisible in most editors) "
                                        "inside the file: delete it (one is allowed only at the very start)")


# Plain scalars that go-yaml (the Pulumi CLI) and YAML 1.1 (PyYAML's default) read differently, and spellings
# of every kind of value, each written plain, single- or double-quoted.
SCALARS = [
    "true", "True", "TRUE", "yes", "no", "on", "off", "y", "~", "null", "Null", "", "0", "-0", "+1", "010", "08", "0x1F",
    "0o17", "0b101", "-0b101", "0b-1", "1_000", "1e5", "1.5", ".5", "-.inf", ".Inf", ".nan", "1e999", "2024-01-01",
    "2024-01-01 10:00:00", "1:30", "9" * 30, "18446744073709551615", "18446744073709551616", "<<", "us-east-1",
    "a b", "a: b", "a #c", "é", "'", '"', "\\", "-", "- a", "?", "!", "&", "*", "%", "@", "`",
]
_quote = {
    "plain": lambda text: text,
    "single": lambda text: "'" + text.replace("'", "''") + "'",
    "double": lambda text: '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"',
}
_rendered = st.one_of(
    # The spellings above in every style; any printable text quoted (plain, most of it is no YAML at all).
    st.tuples(st.sampled_from(SCALARS), st.sampled_from(list(_quote))).map(lambda pair: _quote[pair[1]](pair[0])),
    st.tuples(st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zl", "Zp")), max_size=6),
              st.sampled_from(["single", "double"])).map(lambda pair: _quote[pair[1]](pair[0])),
)
_key = st.one_of(st.sampled_from(["aws:region", "tavus-recording:provider", "bucketName", "tags", "a", "a", "1", "<<"]), _rendered)
_value = st.recursive(
    _rendered,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3).map(lambda items: "[" + ", ".join(items) + "]"),
        st.lists(st.tuples(_key, inner), max_size=3).map(lambda pairs: "{" + ", ".join(f"{k}: {v}" for k, v in pairs) + "}"),
    ),
    max_leaves=6,
)
_entries = st.lists(st.tuples(_key, _value), max_size=6)
_noise = st.sampled_from(["", "", "", "\t", "&a ", "*a", "!!str ", "---\n", "# c\n", "  ", "\n", "? ", "- ", ":", "\r\n", "\ufeff"])


def config_text(entries: list[tuple[str, str]], noise: str, at: int) -> str:
    text = "config:\n" + "".join(f"  {key}: {value}\n" for key, value in entries)
    at = at % (len(text) + 1)
    return text[:at] + noise + text[at:]


@needs_libyaml
@hypothesis_settings(max_examples=400, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(_entries, _noise, st.integers(0, 10_000))
@example([("a", "010"), ("b", "08"), ("c", "0x1F"), ("d", "1_000")], "", 0)
@example([("a", "yes"), ("b", "'yes'"), ("c", "~"), ("d", "2024-01-01")], "", 0)
@example([("a", "1"), ("a", "2")], "", 0)
@example([("a", "[1, {b: c}]")], "&a ", 13)
@example([("a", '"\\u00e9\\t"')], "", 0)
@example([("aws:region", "{aws:region: true, aws:region: true}")], "\ufeff", 10)  # a BOM before a key, then a key twice
@example([("'0'", "[]"), ("tags", "{true: '000'}")], "? ", 426)  # an empty key in a list
@example([("a", "{b: !, c: true}")], "", 0)  # a tag that ends at a flow indicator
@example([("a", "[{b: c, <<: d}]")], "? ", 23)  # `<<?`: one plain key to libyaml, the merge key and `?` to PyYAML
@example([("aws:region", "{'true': true, ~: []}"), ("aws:region", "[]")], "? ", 38)  # `~?` alike
def test_generated_stack_files_read_the_same_with_either_parser(entries, noise, at):
    same_outcome(config_text(entries, noise, at))

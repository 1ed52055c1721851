"""`init`: a new stack file from a provider, its region and `key=value` settings.

The file is validated by the program's own settings model, read back the way `plan` and `pulumi up`
read it (Pulumi.yaml defaults included), before a byte is written. Everything here is pure: flags in,
config values or file text out.

No text given to init reaches the file except through the YAML serializer, and none may hold a character
that ends a line or a comment, rewrites a terminal or cannot be written at all: the header comment that
repeats the command could otherwise be ended by a value, and what follows read as YAML.
"""

from __future__ import annotations

import re
import secrets
import shlex
import unicodedata
from typing import Any, Collection, Mapping, Optional, Sequence

import yaml

from components.settings import (
    AWS_REGION_KEY,
    AZURE_LOCATION_KEY,
    GCP_PROJECT_KEY,
    NAMESPACE,
    PROVIDER_KEYS,
    PROVIDER_SETTINGS,
    StackSettings,
    config_key,
    known_keys,
    parse_settings,
)
from tavus_recording.extras import make_plan
from tavus_recording.input_files import InputFileError, parse_yaml
from tavus_recording.stack_files import config_map
from tavus_recording.terminal import printable

# Pulumi's own rule for a stack name (pulumi/pulumi pkg/backend: ^[A-Za-z0-9_.-]{1,100}$), matched whole:
# `$` alone would let a final newline through.
_STACK_NAME = re.compile(r"[A-Za-z0-9_.-]{1,100}")
# Longer numbers stay text, which the settings refuse by name (no day count has 19 digits).
_INTEGER = re.compile(r"-?[0-9]{1,18}")
# A config key: [namespace:]name, each of letters, digits, `_`, `-` and `.`, starting with a letter or digit.
_KEY_PART = r"[^\W_][\w.-]*"
_CONFIG_KEY = re.compile(rf"(?:{_KEY_PART}:)?{_KEY_PART}")
KEY_RULE = "a key is [namespace:]name, of letters, digits, _, - and ., each part starting with a letter or digit"
# One tag's name (`tags.<name>`): also spaces and the punctuation AWS and Azure take in tag names.
_TAG_NAME = re.compile(r"[\w .\-/+@]+")
TAG_NAME_RULE = "a tag's name (tags.<name>) may hold letters, digits, spaces and _ . - / + @"
# The largest stack file init writes: half of what `plan` reads (1 MiB), leaving room to edit it by hand.
MAX_FILE_BYTES = 512 * 1024
# Every way YAML ends a line, and so a comment.
YAML_LINE_BREAKS = ("\n", "\r", "\x85", "\u2028", "\u2029")
# Text the Pulumi CLI's YAML 1.2 reader takes for a number, which PyYAML (YAML 1.1) writes unquoted: `1e3`,
# `0o17` (underscores removed first, as that reader does).
_YAML12_NUMBER = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?0[bBoOxX][0-9a-fA-F]+")

PROVIDER_KEY = config_key("provider")
_ISSUER, _SUBJECT = config_key("tavus_oidc_issuer"), config_key("tavus_oidc_subject")
# `--region` is where the storage lives, in each cloud's own key (GCS: the bucket location).
REGION_KEYS = {provider: settings.REGION_KEY for provider, settings in PROVIDER_SETTINGS.items()}
# What each provider cannot do without: asked for when a terminal is attached.
REQUIRED_KEYS = {
    "s3": (AWS_REGION_KEY,),
    "gcs": (GCP_PROJECT_KEY, _ISSUER, _SUBJECT),
    "azure_blob": (AZURE_LOCATION_KEY, _ISSUER, _SUBJECT),
}
# What init asks for each key it needs, once the provider is known (`pulumi new` asks Pulumi.yaml's
# template questions, which must also say which provider each is for).
QUESTIONS = {
    PROVIDER_KEY: "Where recordings go",
    AWS_REGION_KEY: "AWS region of the bucket",
    GCP_PROJECT_KEY: "Google Cloud project id",
    AZURE_LOCATION_KEY: "Azure region, e.g. eastus",
    _ISSUER: "https issuer of the tokens Tavus presents (Tavus's recording guide)",
    _SUBJECT: "subject of the tokens Tavus presents (Tavus's recording guide)",
}
# The file lists the cloud's own keys first, then ours in the settings model's order, like stacks/*.yaml.
_KEY_ORDER = [*PROVIDER_KEYS, *known_keys()]


class InitError(ValueError):
    """init cannot write this stack file; the message says why."""


EXTERNAL_ID_KEY = config_key("external_id")
RANDOM_EXTERNAL_ID_NOTE = (
    "externalId is random, this stack's own: the role admits Tavus only when Tavus sends it, which the stack's "
    "recording_storage output (external_id) asks for. Tavus's S3 guide documents only `tavus`; before relying on "
    "it, run `tavus-recording verify --tavus` and check that the first real recording lands."
)


def with_random_external_id(values: Mapping[str, Any]) -> dict[str, Any]:
    """`values` with a random ExternalId of the stack's own, for an s3 stack that gives none.

    `tavus` is the same for every Tavus customer, so it stops other Daily customers but not another
    Tavus customer who learns the role's ARN; a value only this stack knows stops them too.
    """
    if values[PROVIDER_KEY] != "s3":
        raise InitError(f"--random-external-id is for provider s3 only; this stack's provider is {values[PROVIDER_KEY]}")
    if EXTERNAL_ID_KEY in values:
        raise InitError(f"{EXTERNAL_ID_KEY} is given twice: by --random-external-id and by --set")
    # 128 bits in AWS's ExternalId alphabet ([\w+=,.@:/-]); the prefix says whose it is.
    return {**values, EXTERNAL_ID_KEY: f"tavus-{secrets.token_hex(16)}"}


def answered_wrong(problems: Sequence[str], asked: Collection[str]) -> dict[str, str]:
    """The keys answered at a prompt that the settings refuse, with the problem line of each."""
    return {key: line for line in problems for key in asked if line.startswith(f"  - {key}: ")}


def stack_name_problem(name: str) -> Optional[str]:
    """Why `name` cannot be a Pulumi stack name, or None."""
    if _STACK_NAME.fullmatch(name):
        return None
    return f"'{printable(name)}' is not a Pulumi stack name: use 1-100 letters, digits, hyphens, underscores or periods"


# The Unicode categories no text init writes may hold, and what each is, for the refusal: controls (Cc: \n,
# \r, tab, NUL, ESC, DEL, NEL and the other C1), format characters (Cf: bidi overrides, zero-width), line and
# paragraph separators (Zl, Zp: YAML line breaks both) and unpaired surrogates (Cs: an undecodable byte in argv).
_KINDS = {
    "Cc": "a control character",
    "Cf": "an invisible format character",
    "Zl": "a line separator",
    "Zp": "a paragraph separator",
    "Cs": "a byte that is not UTF-8",
}


def _refused_kind(char: str) -> Optional[str]:
    """What makes `char` one no stack file may hold, or None."""
    code = ord(char)
    # Noncharacters (U+FDD0-U+FDEF, U+xFFFE, U+xFFFF) are never text; YAML cannot even hold U+FFFE and U+FFFF.
    if 0xFDD0 <= code <= 0xFDEF or code & 0xFFFE == 0xFFFE:
        return "a noncharacter"
    return _KINDS.get(unicodedata.category(char))


def _refused(char: str) -> bool:
    return _refused_kind(char) is not None


def text_problem(what: str, text: str) -> Optional[str]:
    """Why `text` (the value or key `what` names) cannot go into a stack file, or None.

    The character is shown as an escape, never sent: it may be one that rewrites the terminal.
    """
    for position, char in enumerate(text, 1):
        kind = _refused_kind(char)
        if kind:
            return (
                f"{what}: character {position} is {printable(char)} ({kind}), which a stack file must not hold; "
                "give the text without it"
            )
    return None


def _key_problem(raw: str, key: str, objects: Collection[str]) -> Optional[str]:
    """Why `--set` key `raw` (qualified: `key`) cannot be a config key, or None."""
    problem = text_problem(f"--set key '{printable(raw)}'", raw)
    if problem:
        return problem
    parent, dot, member = key.partition(".")
    if dot and parent in objects:
        return None if _TAG_NAME.fullmatch(member) else f"--set key '{printable(raw)}' is not a config key: {TAG_NAME_RULE}"
    if _CONFIG_KEY.fullmatch(key):
        return None
    return f"--set key '{printable(raw)}' is not a config key: {KEY_RULE} (e.g. retentionDays, aws:profile, tags.team)"


def qualified(key: str) -> str:
    """A config key with its namespace: bare keys are the kit's own."""
    return key if ":" in key else f"{NAMESPACE}:{key}"


def _bare(key: str) -> str:
    return key.removeprefix(f"{NAMESPACE}:")


def _declared(project: Mapping[str, Any], type_: str) -> frozenset[str]:
    declared = project.get("config") or {}
    return frozenset(
        key if ":" in key else f"{project['name']}:{key}"
        for key, spec in declared.items()
        if isinstance(spec, dict) and spec.get("type") == type_
    )


def integer_keys(project: Mapping[str, Any]) -> frozenset[str]:
    """Keys Pulumi.yaml declares as integers, qualified; their values are written as YAML integers."""
    return _declared(project, "integer")


def object_keys(project: Mapping[str, Any]) -> frozenset[str]:
    """Keys Pulumi.yaml declares as objects (`tags`), qualified; written as YAML mappings."""
    return _declared(project, "object")


def prompts(project: Mapping[str, Any]) -> dict[str, tuple[str, Optional[str]]]:
    """The question and default for each key init may ask; defaults are the template's, as `pulumi new` offers."""
    template = (project.get("template") or {}).get("config") or {}
    # Pulumi.yaml is outside text too: a default holding an escape sequence is shown, never sent.
    defaults = {
        qualified(key): printable(str(spec["default"]))
        for key, spec in template.items()
        if isinstance(spec, dict) and spec.get("default") is not None
    }
    return {key: (f"{question} ({key})", defaults.get(key)) for key, question in QUESTIONS.items()}


def parse_assignments(
    assignments: Sequence[str], integers: Collection[str], objects: Collection[str] = ()
) -> dict[str, Any]:
    """`--set key=value` pairs as config values; whole numbers for integer keys stay numbers, and
    `--set tags.team=media` sets one member of an object key, as `pulumi config set --path` does."""
    values: dict[str, Any] = {}
    for assignment in assignments:
        raw, equals, value = assignment.partition("=")
        if not equals or not raw.strip(" "):
            raise InitError(f"--set '{printable(assignment)}': expected key=value, e.g. --set retentionDays=365")
        key = qualified(raw.strip(" "))
        problem = _key_problem(raw.strip(" "), key, objects) or text_problem(f"--set {key}", value)
        if problem:
            raise InitError(problem)
        parent, dot, member = key.partition(".")
        if dot and parent in objects:
            entry = values.setdefault(parent, {})
            if not isinstance(entry, dict) or member in entry:
                raise InitError(f"{key} is set twice")
            entry[member] = value
            continue
        if key in values:
            raise InitError(f"{key} is set twice")
        # A non-number stays text, so the settings model reports it as the bad value it is.
        values[key] = int(value) if key in integers and _INTEGER.fullmatch(value) else value
    return values


def stack_values(
    provider: str, region: Optional[str], project: Optional[str], assignments: Mapping[str, Any]
) -> dict[str, Any]:
    """The stack's config from init's flags and `--set` values; a key given twice is an error."""
    if PROVIDER_KEY in assignments:
        raise InitError(f"give the provider with --provider, not --set {_bare(PROVIDER_KEY)}=...")
    flags: dict[str, tuple[str, str]] = {}
    if region is not None:
        flags[REGION_KEYS[provider]] = ("--region", region)
    if project is not None:
        if provider != "gcs":
            raise InitError(f"--project is the Google Cloud project, for provider gcs only; this stack's provider is {provider}")
        flags[GCP_PROJECT_KEY] = ("--project", project)
    values: dict[str, Any] = {PROVIDER_KEY: provider}
    for key, (flag, value) in flags.items():
        problem = text_problem(f"{flag} ({key})", value)
        if problem:
            raise InitError(problem)
        if key in assignments:
            raise InitError(f"{key} is given twice: by {flag} and by --set")
        values[key] = value
    return {**values, **assignments}


def missing_keys(values: Mapping[str, Any]) -> list[str]:
    """The keys this provider requires that have no value yet."""
    return [key for key in REQUIRED_KEYS[values[PROVIDER_KEY]] if values.get(key) in (None, "")]


def _ordered(values: Mapping[str, Any]) -> list[str]:
    return sorted(values, key=lambda key: (_KEY_ORDER.index(key), "") if key in _KEY_ORDER else (len(_KEY_ORDER), key))


def command_line(stack: str, values: Mapping[str, Any]) -> str:
    """The non-interactive `init` that writes this file, prompted answers included."""
    provider = values[PROVIDER_KEY]
    flags = {REGION_KEYS[provider]: "--region", **({GCP_PROJECT_KEY: "--project"} if provider == "gcs" else {})}
    words = ["tavus-recording", "init", stack, "--provider", provider]
    for key in _ordered(values):
        if isinstance(values[key], dict):
            words += [word for member, value in values[key].items() for word in ("--set", f"{_bare(key)}.{member}={value}")]
        elif key != PROVIDER_KEY:
            value = str(values[key])
            words += [flags[key], value] if key in flags else ["--set", f"{_bare(key)}={value}"]
    return shlex.join(words)


def comment(lines: Sequence[str]) -> str:
    """`lines` as YAML comment lines that no text in them can end early.

    Every control, format or separator character is shown as an escape, so no line break of any kind YAML
    knows is left; the check below holds that, whatever `printable` becomes.
    """
    commented = [f"# {printable(line)}" for line in lines]
    for line in commented:
        if not line.startswith("# ") or any(brk in line for brk in YAML_LINE_BREAKS) or any(map(_refused, line)):
            raise InitError("the header would not stay a comment, so the stack file was not written")
    return "".join(f"{line}\n" for line in commented)


class _Dumper(yaml.SafeDumper):
    """PyYAML's safe dumper, quoting text that another YAML reader would take for a number, and escaping
    every control or separator character (left to itself, PyYAML writes a NEL raw in single quotes, and
    reads it back as a space)."""


def _text(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    if any(map(_refused, text)):
        style: Optional[str] = '"'  # the one style that escapes them all
    else:
        style = "'" if _YAML12_NUMBER.fullmatch(text.replace("_", "")) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_Dumper.add_representer(str, _text)


def render(stack: str, values: Mapping[str, Any]) -> str:
    """The stack file: a header saying how it was made, then `config:` in the examples' order.

    Raises InitError if the text would not read back as exactly `values` under `config:` alone.
    """
    config = {key: values[key] for key in _ordered(values)}
    header = comment([
        f"Made by `{command_line(stack, values)}`.",
        f"Preview it offline: {make_plan(stack, values[PROVIDER_KEY])}. Deploy: pulumi stack init {stack}, then pulumi up.",
    ])
    # Only the serializer writes YAML; a wide line, so a long issuer URL stays on one line.
    text = header + yaml.dump({"config": config}, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=1 << 16)
    size = len(text.encode("utf-8"))
    if size > MAX_FILE_BYTES:
        longest = max(config, key=lambda key: len(str(config[key])))
        raise InitError(
            f"{longest} is {len(str(config[longest]))} characters long, which would make the stack file "
            f"{size // 1024} KiB; init writes at most {MAX_FILE_BYTES // 1024} KiB"
        )
    # Read back as `plan` reads it, so what is checked below is what plan and `pulumi up` will see.
    try:
        read_back = parse_yaml(text, "the stack file")
    except InputFileError:
        read_back = None
    if read_back != {"config": config}:
        raise InitError("the values given would not read back from the stack file as given, so it was not written")
    return text


def check(text: str, project: Mapping[str, Any]) -> StackSettings:
    """Validate stack file `text` exactly as `plan` reads it, Pulumi.yaml's defaults included.

    Raises RunError (a bad value) or StackFileError. The text is parsed back, so what is checked is
    what will be written.
    """
    return parse_settings(config_map(project, parse_yaml(text, "the stack file")["config"]))


def problem_lines(error: Exception) -> list[str]:
    """The per-key lines of the settings RunError (`  - <key>: <what is wrong>`)."""
    return [line for line in str(error).splitlines() if line.startswith("  - ")]

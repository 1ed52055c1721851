"""Read Pulumi.yaml and a stack file into the config map the Pulumi CLI would hand the program.

Mirrors the CLI: keys declared in Pulumi.yaml get their project namespace and default, the stack
file's values win, and every value reaches the program as a string (objects as JSON). Both files are
read through the bounded YAML reader (input_files) and their shape checked here, so a file the CLI
would not take is refused in one line naming the key, never a traceback.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Optional

from tavus_recording.input_files import MAX_YAML_BYTES, InputFileError, cut, describe, read_yaml_file

# The checkout this tool runs from (an editable install: `make setup`), which is a project itself.
PROJECT_DIR = Path(__file__).resolve().parent.parent
PROJECT_FILE = "Pulumi.yaml"


class StackFileError(InputFileError):
    """The project or stack file is missing, unreadable or not of the shape Pulumi reads; one line says which."""


# What Pulumi reads from a stack file (its ProjectStack): any other top-level key is refused, since the
# likeliest one is a config key left unindented, which Pulumi would ignore without a word.
STACK_FILE_KEYS = ("config", "environment", "secretsprovider", "encryptedkey", "encryptionsalt")
# How the refusals name what a declared config `type` expects.
_EXPECTED = {"string": "a string", "integer": "a whole number", "boolean": "true or false", "object": "a mapping"}
_SCALARS = (str, int, float, bool)
# A directory name no file system takes (NAME_MAX, PATH_MAX on Linux): refused before the OS is asked.
NAME_MAX = 255
PATH_MAX = 4096


@dataclass(frozen=True)
class StackConfig:
    project: str
    stack: str
    path: Path
    config: dict[str, str]


def _encode(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(value)


def _qualify(project: str, key: str) -> str:
    return key if ":" in key else f"{project}:{key}"


def shown_path(path: Path, project_dir: Path) -> str:
    """`path` as messages name it: relative to the project where it is inside it."""
    try:
        return str(path.relative_to(project_dir))
    except ValueError:
        return str(path)


def _read_mapping(path: Path, source: str, expected: str) -> dict[str, Any]:
    """A YAML file holding one mapping (an empty file is an empty one), through the bounded reader."""
    try:
        data = read_yaml_file(path, MAX_YAML_BYTES, source)
    except InputFileError as exc:
        raise StackFileError(str(exc)) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise StackFileError(f"{source} holds {describe(data)}; expected a mapping with {expected}")
    return data


def _mapping_at(data: Mapping[str, Any], key: str, source: str, what: str) -> dict[str, Any]:
    """`data[key]`, which must be a mapping if given (empty when absent or null)."""
    value = data.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise StackFileError(f"{source}: {what} is {describe(value)}; expected a mapping")
    return value


def find_project_dir(given: Optional[Path] = None, start: Optional[Path] = None) -> Path:
    """The project a verb works on: `given` (--project-dir), else the nearest directory at or above
    `start` (the working directory) with a Pulumi.yaml, as the Pulumi CLI finds its project, else the
    checkout this tool was installed from."""
    if given is not None:
        try:
            found = (given / PROJECT_FILE).is_file()
        except OSError as exc:  # e.g. a name too long for the file system
            raise StackFileError(f"--project-dir {cut(str(given), 300)}: cannot read it ({exc.strerror or exc})") from None
        if not found:
            raise StackFileError(f"--project-dir {given} has no {PROJECT_FILE}")
        return given
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / PROJECT_FILE).is_file():
            return folder
    if (PROJECT_DIR / PROJECT_FILE).is_file():
        return PROJECT_DIR
    raise StackFileError(
        f"no {PROJECT_FILE} in {here} or above: run from the project (a clone of tavus-recording) or pass --project-dir"
    )


def _unreadable_dir(project_dir: Path, exc: OSError) -> StackFileError:
    return StackFileError(
        f"{project_dir / PROJECT_FILE}: stackConfigDir cannot be read ({exc.strerror or exc}): "
        "set it to the directory holding the Pulumi.<stack>.yaml files"
    )


def stack_names(project_dir: Path = PROJECT_DIR) -> list[str]:
    """The stacks that have a file in the project's stack config directory."""
    folder = project_dir / read_project(project_dir).get("stackConfigDir", ".")
    try:
        return sorted(p.name[len("Pulumi."):-len(".yaml")] for p in folder.glob("Pulumi.*.yaml"))
    except OSError as exc:
        raise _unreadable_dir(project_dir, exc) from None


def _same_key_twice(keys: Any, project: str, source: str, where: str) -> None:
    """Refuse a key written twice in two spellings (`retentionDays` and `<project>:retentionDays`): YAML
    sees two keys, Pulumi one, and which value wins is nobody's guess."""
    spelled: dict[str, str] = {}
    for key in keys:
        full = _qualify(project, key)
        if full in spelled:
            raise StackFileError(
                f"{source}: {where} holds {cut(spelled[full])} and {cut(key)}, which are the same key "
                f"({cut(full)}) spelled twice: keep one"
            )
        spelled[full] = key


def read_project(project_dir: Path = PROJECT_DIR) -> dict[str, Any]:
    """Pulumi.yaml as a mapping, with what this tool reads of it checked: name, stackConfigDir, config, template."""
    path = project_dir / PROJECT_FILE
    source = str(path)
    project = _read_mapping(path, source, "name: and the project's settings")
    if "name" not in project:
        raise StackFileError(f"{path} is not a Pulumi project file (no name)")
    for key in ("name", "stackConfigDir"):
        if key in project and not isinstance(project[key], str):
            raise StackFileError(f"{source}: {key} is {describe(project[key])}; expected a string")
    folder = project.get("stackConfigDir", ".")
    if len(folder.encode("utf-8", "surrogatepass")) > PATH_MAX or any(
        len(part.encode("utf-8", "surrogatepass")) > NAME_MAX for part in folder.split("/")
    ):
        raise StackFileError(
            f"{source}: stackConfigDir is longer than a directory name can be ({NAME_MAX} bytes a name, "
            f"{PATH_MAX} in all): set it to the directory holding the Pulumi.<stack>.yaml files"
        )
    if "\x00" in folder:
        raise StackFileError(f"{source}: stackConfigDir holds a NUL character, which no directory name does")
    _same_key_twice(_mapping_at(project, "config", source, "config"), str(project["name"]), source, "config")
    template = _mapping_at(_mapping_at(project, "template", source, "template"), "config", source, "template.config")
    for key, spec in template.items():
        if not isinstance(spec, dict):
            raise StackFileError(
                f"{source}: template.config.{cut(key)} is {describe(spec)}; expected a mapping with description: and default:"
            )
    return project


def stack_file(project: Mapping[str, Any], project_dir: Path, stack: str) -> Path:
    """Where Pulumi keeps `stack`'s config: the project's stackConfigDir."""
    return project_dir / project.get("stackConfigDir", ".") / f"Pulumi.{stack}.yaml"


def _checked_value(key: str, full: str, value: Any, declared: Any, project: str, source: str) -> Any:
    """A stack file's value for `key`, if Pulumi would hand it to the program; else StackFileError naming the key.

    Text, numbers and true/false anywhere; a mapping of those where Pulumi.yaml declares `type: object`
    (`tags`); and, for another package's keys (`aws:defaultTags`), whatever structure that package reads.
    """
    if isinstance(value, dict) and set(value) == {"secure"} and isinstance(value["secure"], str):
        raise StackFileError(f"{source}: {cut(key)} is a secret; the offline plan cannot decrypt it")
    if declared == "object":
        if not isinstance(value, dict):
            raise StackFileError(f"{source}: {cut(key)} is {describe(value)}; expected a mapping of names to values")
        for member, item in value.items():
            if not isinstance(item, _SCALARS):
                raise StackFileError(f"{source}: {cut(key)}.{cut(member)} is {describe(item)}; expected a string")
        return value
    if isinstance(value, _SCALARS):
        return value
    if full.partition(":")[0] != project and isinstance(value, (dict, list)):
        return value
    expected = _EXPECTED.get(declared, "a string, number or true/false")
    empty = ": write '' for an empty string" if value is None else ""
    raise StackFileError(f"{source}: {cut(key)} is {describe(value)}; expected {expected}{empty}")


def config_map(project: Mapping[str, Any], values: Mapping[str, Any], source: str = "the stack file") -> dict[str, str]:
    """Pulumi.yaml's declared defaults overlaid with a stack file's `config:` values, as the CLI passes them.

    Raises StackFileError naming the key (and `source`) for a value the CLI would not pass: a list, a
    nested mapping, null, or a secret (which only the Pulumi CLI can decrypt)."""
    name = project["name"]
    config: dict[str, str] = {}
    declared_types: dict[str, Any] = {}
    for key, declared in (project.get("config") or {}).items():
        if isinstance(declared, dict):
            declared_types[_qualify(name, key)] = declared.get("type")
            if "default" in declared or "value" in declared:
                config[_qualify(name, key)] = _encode(declared.get("default", declared.get("value")))
        else:
            config[_qualify(name, key)] = _encode(declared)
    _same_key_twice(values, name, source, "config")
    for key, value in values.items():
        full = _qualify(name, key)
        config[full] = _encode(_checked_value(key, full, value, declared_types.get(full), name, source))
    return config


def load_stack_config(stack: str, project_dir: Path = PROJECT_DIR) -> StackConfig:
    """The config map for `stack`, as `pulumi up -s <stack>` would pass it to the program."""
    project = read_project(project_dir)
    path = stack_file(project, project_dir, stack)
    source = shown_path(path, project_dir)
    try:
        exists = path.exists()
    except OSError as exc:  # e.g. a name too long for the file system
        raise _unreadable_dir(project_dir, exc) from None
    if not exists:
        known = ", ".join(stack_names(project_dir)) or "none"
        raise StackFileError(f"no stack file {source} (stacks with files: {known})")
    data = _read_mapping(path, source, "config: and its keys")
    for key in data:
        if key not in STACK_FILE_KEYS:
            raise StackFileError(
                f"{source}: {cut(key)} is not a stack file setting (Pulumi reads {', '.join(STACK_FILE_KEYS)}); "
                "if it is a config key, indent it under config:"
            )
    values = _mapping_at(data, "config", source, "config")
    return StackConfig(project=project["name"], stack=stack, path=path, config=config_map(project, values, source))

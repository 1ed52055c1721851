"""Read Pulumi.yaml and a stack file into the config map the Pulumi CLI would hand the program.

Mirrors the CLI: keys declared in Pulumi.yaml get their project namespace and default, the stack
file's values win, and every value reaches the program as a string (objects as JSON).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Optional

import yaml

# The checkout this tool runs from (an editable install: `make setup`), which is a project itself.
PROJECT_DIR = Path(__file__).resolve().parent.parent
PROJECT_FILE = "Pulumi.yaml"


class StackFileError(Exception):
    """The project or stack file is missing or unreadable."""


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


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except OSError as exc:
        raise StackFileError(f"cannot read {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise StackFileError(f"{path} is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise StackFileError(f"{path} must hold a mapping")
    return data


def find_project_dir(given: Optional[Path] = None, start: Optional[Path] = None) -> Path:
    """The project a verb works on: `given` (--project-dir), else the nearest directory at or above
    `start` (the working directory) with a Pulumi.yaml, as the Pulumi CLI finds its project, else the
    checkout this tool was installed from."""
    if given is not None:
        if not (given / PROJECT_FILE).is_file():
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


def stack_names(project_dir: Path = PROJECT_DIR) -> list[str]:
    """The stacks that have a file in the project's stack config directory."""
    folder = project_dir / read_project(project_dir).get("stackConfigDir", ".")
    return sorted(p.name[len("Pulumi."):-len(".yaml")] for p in folder.glob("Pulumi.*.yaml"))


def read_project(project_dir: Path = PROJECT_DIR) -> dict[str, Any]:
    """Pulumi.yaml as a mapping."""
    project = _read_yaml(project_dir / "Pulumi.yaml")
    if "name" not in project:
        raise StackFileError(f"{project_dir / 'Pulumi.yaml'} is not a Pulumi project file (no name)")
    return project


def stack_file(project: Mapping[str, Any], project_dir: Path, stack: str) -> Path:
    """Where Pulumi keeps `stack`'s config: the project's stackConfigDir."""
    return project_dir / project.get("stackConfigDir", ".") / f"Pulumi.{stack}.yaml"


def config_map(project: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, str]:
    """Pulumi.yaml's declared defaults overlaid with a stack file's `config:` values, as the CLI passes them."""
    name = project["name"]
    config: dict[str, str] = {}
    for key, declared in (project.get("config") or {}).items():
        if isinstance(declared, dict) and ("default" in declared or "value" in declared):
            config[_qualify(name, key)] = _encode(declared.get("default", declared.get("value")))
        elif not isinstance(declared, dict):
            config[_qualify(name, key)] = _encode(declared)
    for key, value in values.items():
        if isinstance(value, dict) and "secure" in value:
            raise StackFileError(f"{key} is a secret; the offline plan cannot decrypt it")
        config[_qualify(name, key)] = _encode(value)
    return config


def load_stack_config(stack: str, project_dir: Path = PROJECT_DIR) -> StackConfig:
    """The config map for `stack`, as `pulumi up -s <stack>` would pass it to the program."""
    project = read_project(project_dir)
    path = stack_file(project, project_dir, stack)
    if not path.exists():
        known = ", ".join(stack_names(project_dir)) or "none"
        raise StackFileError(f"no stack file {path.relative_to(project_dir)} (stacks with files: {known})")
    values = _read_yaml(path).get("config") or {}
    return StackConfig(project=project["name"], stack=stack, path=path, config=config_map(project, values))

"""The house: `components/` is the Pulumi library alone, `tavus_recording/` the tool, and the rules
both guardrails share import no cloud SDK."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from components.settings import StackSettings
from components.settings.stack import CLOUD_SETTINGS
from tavus_recording.stack_files import PROJECT_DIR

# What the tool needs and a Pulumi program must not pull in with the library.
TOOL_ONLY = ("typer", "click", "rich", "boto3", "botocore", "google.auth", "google.cloud", "google.api_core",
             "azure.identity", "azure.mgmt", "azure.core", "requests", "tavus_recording")
CLOUD_SDKS = ("pulumi_aws", "pulumi_gcp", "pulumi_azure_native", "boto3", "google", "azure")


def imports_of(path: Path) -> set[str]:
    """Every module a file imports, at the top or inside a function (absolute names)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _under(module: str, roots: tuple[str, ...]) -> bool:
    return any(module == root or module.startswith(f"{root}.") for root in roots)


@pytest.mark.parametrize("path", sorted((PROJECT_DIR / "components").rglob("*.py")), ids=lambda p: str(p.relative_to(PROJECT_DIR)))
def test_the_library_imports_nothing_of_the_tool(path):
    assert [m for m in imports_of(path) if _under(m, TOOL_ONLY)] == []


@pytest.mark.parametrize("path", sorted((PROJECT_DIR / "tavus_recording" / "rules").rglob("*.py")), ids=lambda p: p.name)
def test_the_shared_rules_import_no_cloud_sdk(path):
    assert [m for m in imports_of(path) if _under(m, CLOUD_SDKS + ("pulumi", "pulumi_policy", "typer"))] == []


def run_python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=PROJECT_DIR, capture_output=True, text=True, timeout=120)


def test_importing_the_library_and_the_rules_loads_no_tool_dependency():
    # At run time too: what a Pulumi program and the policy pack load.
    code = (
        "import sys, components, components.settings, components.aws_policy, components.gcp_policy, "
        "components.azure_policy, tavus_recording.rules.iam\n"
        "print('\\n'.join(sys.modules))"
    )
    result = run_python(code)
    assert result.returncode == 0, result.stderr
    forbidden = tuple(t for t in TOOL_ONLY if t != "tavus_recording") + ("pulumi_aws", "pulumi_gcp", "pulumi_azure_native")
    assert [m for m in result.stdout.split() if _under(m, forbidden)] == []


def pyproject_version() -> str:
    return tomllib.loads((PROJECT_DIR / "pyproject.toml").read_text())["project"]["version"]


def test_the_console_command_is_installed_and_prints_the_pyproject_version():
    command = Path(sys.executable).parent / "tavus-recording"
    assert command.exists(), "make setup installs the console command into .venv/bin"
    result = subprocess.run([str(command), "--version"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"tavus-recording {pyproject_version()}\n"


def test_python_dash_m_is_the_same_command():
    result = subprocess.run([sys.executable, "-m", "tavus_recording", "--version"], capture_output=True, text=True, timeout=60)
    assert result.stdout == f"tavus-recording {pyproject_version()}\n"
    verbs = subprocess.run([sys.executable, "-m", "tavus_recording", "--help"], capture_output=True, text=True, timeout=60)
    assert verbs.returncode == 0
    commands = verbs.stdout.split("Commands:")[1].split()
    assert [word for word in commands if word in ("plan", "verify", "init", "schema")] == ["plan", "verify", "init", "schema"]


def test_the_old_module_path_is_gone():
    result = run_python("import components.cli")
    assert result.returncode != 0 and "No module named 'components.cli'" in result.stderr


@pytest.mark.parametrize("verb", ["", "plan", "verify", "init", "schema"])
def test_help_reads_at_80_columns_and_loads_no_cloud_sdk(verb):
    env = {**os.environ, "COLUMNS": "80", "TERM": "dumb"}
    code = (
        "import sys\nfrom tavus_recording.cli import run\nsys.argv = ['tavus-recording'] + sys.argv[1:]\n"
        "try:\n    run()\nexcept SystemExit:\n    pass\n"
        "print('LOADED', ' '.join(sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, *([verb] if verb else []), "--help"], capture_output=True, text=True, env=env, timeout=60
    )
    help_text, loaded = result.stdout.rsplit("LOADED ", 1)
    assert "Usage: tavus-recording" in help_text
    assert max(len(line) for line in help_text.splitlines()) <= 80, help_text
    assert [m for m in loaded.split() if _under(m, CLOUD_SDKS + ("pulumi",))] == []


def test_every_cloud_modules_validators_survive_composition():
    # Two mixins defining a validator of the same name would silently drop one in StackSettings.
    composed = StackSettings.__pydantic_decorators__.field_validators
    for settings in CLOUD_SETTINGS:
        for name, decorator in settings.__pydantic_decorators__.field_validators.items():
            assert name in composed and composed[name].func.__qualname__ == decorator.func.__qualname__, name

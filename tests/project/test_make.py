"""The Makefile picks the cloud SDK a stack needs from the stack file, so `make plan STACK=gcs` works
without CLOUDS= (checked with `make -n`, which runs nothing)."""

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tavus_recording.extras import EXTRAS

ROOT = Path(__file__).resolve().parents[2]
STACKS = sorted(ROOT.glob("stacks/Pulumi.*.yaml"))

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def installed_extra(*args: str) -> str:
    """The extra `make plan` would pip-install, with a venv that does not exist so every step shows."""
    result = subprocess.run(["make", "--no-print-directory", "-n", "plan", "VENV=/nonexistent/venv", *args],
                            cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if "pip install" in line and "-e '.[" in line]
    assert len(lines) == 1, result.stdout
    return lines[0].split("-e '.[")[1].split("]")[0]


@pytest.mark.parametrize("path", STACKS, ids=[p.name for p in STACKS])
def test_make_installs_the_sdk_of_the_stacks_provider(path):
    provider = yaml.safe_load(path.read_text())["config"]["tavus-recording:provider"]
    stack = path.name.removeprefix("Pulumi.").removesuffix(".yaml")
    assert installed_extra(f"STACK={stack}") == EXTRAS[provider]


def test_clouds_given_wins_and_an_unknown_stack_falls_back_to_aws():
    assert installed_extra("STACK=gcs", "CLOUDS=all") == "all"
    assert installed_extra("STACK=no-such-stack") == "aws"

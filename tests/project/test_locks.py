"""The locks in requirements/ (`make lock` writes them with uv): every install `make` does takes exact,
hash-checked versions from them, and they must be what pyproject.toml requires, so a requirement changed
without `make lock` fails here before CI installs something nobody resolved."""

import json
import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
LOCK_DIR = ROOT / "requirements"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
PROJECT = PYPROJECT["project"]
EXTRAS = PROJECT["optional-dependencies"]
GROUPS = PYPROJECT.get("dependency-groups", {})
SELF = canonicalize_name(PROJECT["name"])
STALE = "pyproject.toml's requirements are not what the locks were made from: run make lock"

# What each lock must hold: the kit's requirements for one install (`make setup CLOUDS=...`,
# `make setup-test`) with its build backend (the `build` group, since the kit is installed without
# build isolation), or the lint tools alone.
INSTALLS = {
    **{cloud: [*PROJECT["dependencies"], *EXTRAS.get(cloud, []), *GROUPS.get("build", [])] for cloud in ("aws", "gcp", "azure")},
    "all": [*PROJECT["dependencies"], *EXTRAS.get("aws", []), *EXTRAS.get("gcp", []), *EXTRAS.get("azure", []),
            *GROUPS.get("build", [])],
    "test": [*PROJECT["dependencies"], *EXTRAS.get("aws", []), *EXTRAS.get("gcp", []), *EXTRAS.get("azure", []),
             *EXTRAS.get("test", []), *GROUPS.get("build", [])],
    "lint": GROUPS.get("lint", []),
}


def lock_entries(name: str) -> list[tuple[Requirement, list[str]]]:
    """Each requirement of requirements/NAME.lock with its hashes; every other line must be a comment."""
    text = (LOCK_DIR / f"{name}.lock").read_text()
    entries = []
    for line in re.sub(r"\s*\\\n\s*", " ", text).splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        assert not line.startswith("-"), f"{name}.lock: an option, not a locked requirement: {line}"
        requirement, *hashes = line.split(" --hash=")
        entries.append((Requirement(requirement), hashes))
    return entries


def locked_versions(name: str) -> dict[str, Version]:
    return {canonicalize_name(req.name): Version(next(iter(req.specifier)).version) for req, _ in lock_entries(name)}


def every_requirement() -> list[str]:
    """Each requirement pyproject.toml states: the build backend, the kit's, every extra's and group's."""
    listed = [*PYPROJECT["build-system"]["requires"], *PROJECT["dependencies"], *(r for reqs in EXTRAS.values() for r in reqs),
              *(r for reqs in GROUPS.values() for r in reqs)]
    return [r for r in dict.fromkeys(listed) if canonicalize_name(Requirement(r).name) != SELF]


def test_there_is_a_lock_for_each_install():
    assert {*INSTALLS, "uv-tool"} <= {path.stem for path in LOCK_DIR.glob("*.lock")}


@pytest.mark.parametrize("name", [*INSTALLS, "uv-tool"])
def test_every_lock_entry_is_pinned_and_hashed(name):
    entries = lock_entries(name)
    assert entries
    for requirement, hashes in entries:
        pins = list(requirement.specifier)
        assert len(pins) == 1 and pins[0].operator == "==" and "*" not in pins[0].version, f"{name}.lock: {requirement} is not pinned"
        assert hashes and all(re.fullmatch(r"sha256:[0-9a-f]{64}", h) for h in hashes), f"{name}.lock: {requirement.name} has no sha256"


def test_the_locks_were_made_from_pyproject():
    # `make lock` records what pyproject.toml required when it resolved; any change since means the
    # locks may not hold what pyproject.toml asks for.
    recorded = json.loads((LOCK_DIR / "inputs.json").read_text())
    current = {
        "build-system": {"requires": PYPROJECT["build-system"]["requires"]},
        "project": {key: PROJECT[key] for key in ("requires-python", "dependencies", "optional-dependencies")},
        "dependency-groups": GROUPS,
    }
    for section in current:
        assert recorded.get(section) == current[section], f"{STALE} ([{section}] changed)"


@pytest.mark.parametrize("name", INSTALLS)
def test_each_lock_holds_what_pyproject_requires(name):
    locked = locked_versions(name)
    for line in INSTALLS[name]:
        requirement = Requirement(line)
        if canonicalize_name(requirement.name) == SELF:
            continue
        version = locked.get(canonicalize_name(requirement.name))
        assert version is not None, f"{name}.lock has no {requirement.name}: {STALE}"
        assert requirement.specifier.contains(version, prereleases=True), f"{name}.lock has {requirement.name} {version}, not {line}: {STALE}"


@pytest.mark.parametrize("line", every_requirement())
def test_no_requirement_admits_a_release_newer_than_the_tested_series(line):
    # A new major (of a 0.x package, a new minor) may break the kit: each requirement stops below the
    # next one after the version the tests ran, so a fresh install never takes an untested series.
    requirement = Requirement(line)
    tested = locked_versions("test") | locked_versions("lint")
    version = tested.get(canonicalize_name(requirement.name))
    assert version is not None, f"no lock holds {requirement.name}: {STALE}"
    major, minor = version.release[0], (version.release + (0,))[1]
    untested = Version(f"{major + 1}") if major else Version(f"0.{minor + 1}")
    assert not requirement.specifier.contains(untested, prereleases=True), f"{line} admits {untested}; the tests ran {version}"
    assert not requirement.specifier.contains(Version("99999"), prereleases=True), f"{line} has no upper bound"


def test_the_locked_build_backend_is_the_one_pyproject_builds_with():
    # `make` installs the kit with --no-build-isolation, so it builds with the setuptools of the lock
    # (the `build` group), not one pip would fetch unchecked: the two must say the same.
    assert GROUPS.get("build") == PYPROJECT["build-system"]["requires"]


def test_moto_brings_only_the_services_the_tests_use():
    # moto's `server`, `proxy` and `all` extras bring every service's dependencies (docker, cfn-lint,
    # ...: about 150 MB); the server mode needs only flask and flask-cors.
    moto = next(Requirement(r) for r in EXTRAS["test"] if canonicalize_name(Requirement(r).name) == "moto")
    assert not moto.extras & {"server", "proxy", "all"}
    assert {"flask", "flask-cors"} <= {canonicalize_name(Requirement(r).name) for r in EXTRAS["test"]}
    assert not {"docker", "cfn-lint", "aws-xray-sdk", "openapi-spec-validator", "graphql-core"} & set(locked_versions("test"))


def test_ci_installs_only_through_make():
    commands = [line for line in (ROOT / ".ci/run").read_text().splitlines() if line.strip() and not line.lstrip().startswith("#")]
    assert not [line for line in commands if re.search(r"\b(pip|uv)\b", line)]
    assert any("make lint" in line for line in commands) and any("make test" in line for line in commands)

"""The third-party fixtures are structure only, as their README says, and the extractor that refreshes
them reads nothing unless given a directory (a user's clone has no steering repository beside it)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
sys.path.insert(0, str(FIXTURES))
from extract import structure  # noqa: E402

NAMES = sorted(p.name for p in FIXTURES.glob("*.json"))


@pytest.mark.parametrize("name", NAMES)
def test_each_fixture_is_its_own_structure_with_no_prose_left(name):
    document = json.loads((FIXTURES / name).read_text())
    assert structure(document) == document


@pytest.mark.parametrize("name", NAMES)
def test_each_fixture_has_its_provenance_in_the_readme(name):
    assert f"`{name}`" in (FIXTURES / "README.md").read_text()


def test_the_extractor_without_a_directory_says_how_to_use_it_and_writes_nothing(tmp_path):
    before = {name: (FIXTURES / name).read_bytes() for name in NAMES}
    result = subprocess.run([sys.executable, str(FIXTURES / "extract.py")], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "usage: python tests/fixtures/extract.py <dir" in result.stderr
    assert {name: (FIXTURES / name).read_bytes() for name in NAMES} == before

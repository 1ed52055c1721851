"""The README's guardrail and verify reference, held to the code it describes: a rule, a check or a read
permission added or renamed without its line in the README fails here."""

import json
import re
import sys
from pathlib import Path

import pytest

from tavus_recording.rules import aws, azure, gcp
from tavus_recording.verify import aws as verify_aws
from tavus_recording.verify import azure as verify_azure
from tavus_recording.verify import gcp as verify_gcp
from tavus_recording.verify.aws import reader_policy
from tavus_recording.verify.azure_reads import BEYOND_READER_PERMISSIONS, READ_PERMISSIONS
from tavus_recording.verify.gcp import reader_role_command

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
RULES = [rule for module in (aws, gcp, azure) for rule in module.RULES]


def section(title: str) -> str:
    start = README.index(f"\n## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start : end if end != -1 else None]


def pack_policy_names() -> set[str]:
    sys.path.insert(0, str(ROOT / "policy"))
    try:
        from policies import POLICIES
    finally:
        sys.path.remove(str(ROOT / "policy"))
    return {policy.name for policy in POLICIES}


@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_every_rule_has_its_row_and_its_reason_in_the_guard_section(rule):
    guard = section("Guard every stack")
    row = re.search(rf"^\| `{re.escape(rule.id)}` \| (.+?) \| (\w+) \| (.+?) \| (.+?) \|$", guard, re.MULTILINE)
    assert row, f"no row for {rule.id}"
    assert (row[1], row[2], row[3]) == (rule.guards, rule.level, ", ".join(rule.acts))
    assert f"- `{rule.id}`: {rule.why}" in guard


def test_the_guard_table_names_exactly_the_packs_policies():
    guard = section("Guard every stack")
    named = set(re.findall(r"`([a-z_]+(?:\.[a-z_]+)+)`", "".join(re.findall(r"^\| `.+? \| .+ \| (.+?) \|$", guard, re.MULTILINE))))
    assert named == pack_policy_names()


@pytest.mark.parametrize("check_id", [*verify_aws.CHECK_IDS, *verify_gcp.CHECK_IDS, *verify_azure.CHECK_IDS])
def test_every_verify_check_is_described(check_id):
    assert f"`{check_id}`" in section("Verify a deployed destination")


def test_the_readers_permissions_are_the_ones_verify_uses():
    verify = section("Verify a deployed destination")
    shown = re.search(r"```json\n(\{.+?\})\n```", verify[verify.index("Permissions verify needs") :], re.DOTALL)
    assert shown and json.loads(shown[1]) == reader_policy("arn:aws:iam::111122223333:role/tavus-recordings-writer-abc1234",
                                                           "acme-tavus-recordings")
    assert reader_role_command("acme-recordings-prod") in verify
    for permission in (*READ_PERMISSIONS, *BEYOND_READER_PERMISSIONS):
        assert f"`{permission}`" in verify


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_the_contents_list_every_section_and_every_internal_link_resolves():
    headings = re.findall(r"^#{2,3} (.+)$", README, re.MULTILINE)
    anchors = {github_anchor(h) for h in headings}
    contents = next(line for line in README.splitlines() if line.startswith("**Contents:**"))
    assert re.findall(r"\(#([^)]+)\)", contents) == [github_anchor(h) for h in re.findall(r"^## (.+)$", README, re.MULTILINE)]
    for target in re.findall(r"\]\(#([^)]+)\)", README):
        assert target in anchors, f"link to #{target}, which no heading makes"
    for label in set(re.findall(r"\]\[([\w-]+)\]", README)):
        assert re.search(rf"^\[{label}\]: https://", README, re.MULTILINE), f"no link definition for [{label}]"

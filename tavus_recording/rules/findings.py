"""What the guardrails say: a rule (an id, what it guards, when it acts) and a finding under it.

A rule is judged by pure functions over plain values (the documents and settings of a destination);
both witnesses call the same functions and report the same findings under the same rule id: the
policy pack before a deploy, from the engine's resources, and `verify` after it, from the live cloud.

A finding is either a violation (it does not hold) or unknown (it could not be told: a document that
could not be read, a condition that cannot be evaluated offline). The pack reports only violations,
since an unknown value at preview is judged again once known; `verify` reports unknowns as `?`, never
as passing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Literal

Level = Literal["mandatory", "advisory"]
MANDATORY: Level = "mandatory"
ADVISORY: Level = "advisory"

# When a rule acts. The engine runs a resource policy on each resource before its step (so a
# mandatory one stops that resource being created), and a stack policy once, after every step of
# the update: it fails `pulumi up` but cannot undo what the update already made.
PREVIEW = "preview"
BEFORE_CREATE = "before create"
AFTER_DEPLOY = "after deploy"
LIVE = "live"
RESOURCE_POLICY = (PREVIEW, BEFORE_CREATE)
STACK_POLICY = (PREVIEW, AFTER_DEPLOY)


@dataclass(frozen=True)
class Rule:
    id: str
    guards: str
    """What it guards, in a few words (the README's rules table)."""
    why: str
    """Why it exists: the pack's description of the policy."""
    level: Level
    acts: tuple[str, ...]
    """When it acts: PREVIEW, BEFORE_CREATE, AFTER_DEPLOY and/or LIVE (`verify`)."""


@dataclass(frozen=True)
class Finding:
    rule: str
    problem: str
    """What is wrong, as a clause about its subject ("admits any AWS principal ('*') ...")."""
    fix: str
    unknown: bool = False
    """True: it could not be told either way (never reported by the pack, `?` in verify)."""


def violations(findings: Iterable[Finding]) -> list[Finding]:
    return [finding for finding in findings if not finding.unknown]


def unknowns(findings: Iterable[Finding]) -> list[Finding]:
    return [finding for finding in findings if finding.unknown]


def of_rule(findings: Iterable[Finding], rule: Rule) -> list[Finding]:
    return [finding for finding in findings if finding.rule == rule.id]

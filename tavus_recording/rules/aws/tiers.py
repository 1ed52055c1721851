"""That recordings stay instantly readable: the lifecycle's moves between storage classes (`coldAfterDays`)."""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Optional

from components.lifecycle import COLD_CLASS
from tavus_recording.rules.aws.catalog import COLD_TIER
from tavus_recording.rules.aws.exposure import _enabled, _number, lower_keys
from tavus_recording.rules.findings import Finding
from tavus_recording.rules.iam import as_list

COLD = COLD_CLASS["s3"]
# Classes a read must first restore (hours, a fee): https://docs.aws.amazon.com/AmazonS3/latest/userguide/restoring-objects.html
ARCHIVE_CLASSES = frozenset({"GLACIER", "DEEP_ARCHIVE"})


def _whole_bucket(rule: Mapping[str, Any]) -> bool:
    """A rule with no prefix, tag or size filter: it reaches every recording."""
    if rule.get("prefix"):
        return False
    narrowing = lower_keys(rule.get("filter"))
    return not (isinstance(narrowing, Mapping) and any(v not in (None, "", {}, []) for v in narrowing.values()))


def cold_tier_fix(cold_after_days: Optional[int]) -> str:
    moved = (f"move current versions to {COLD} after {cold_after_days} days (coldAfterDays), in a rule with no filter"
             if cold_after_days else f"move recordings only to instant-read classes ({COLD}, STANDARD_IA)")
    return f"{moved}; remove transitions to {' or '.join(sorted(ARCHIVE_CLASSES))}"


def cold_tier_findings(rules: Iterable[Any], cold_after_days: Optional[int], fix: Optional[str] = None) -> list[Finding]:
    """Transitions of recordings to a class that needs a restore before a read; and, when the stack sets
    `cold_after_days`, no enabled whole-bucket rule moving current versions to GLACIER_IR at exactly that age."""
    fix = fix or cold_tier_fix(cold_after_days)
    found: list[Finding] = []
    carried = False
    for rule in (lower_keys(r) for r in rules):
        if not isinstance(rule, Mapping) or not _enabled(rule):
            continue
        rule_id = rule.get("id") or "(unnamed)"
        for key, whose, age in (("transitions", "current", "days"), ("noncurrentversiontransitions", "noncurrent", "noncurrentdays")):
            for move in as_list(rule.get(key)):
                if not isinstance(move, Mapping):
                    continue
                storage_class = str(move.get("storageclass") or "").upper()
                if storage_class in ARCHIVE_CLASSES:
                    found.append(Finding(COLD_TIER.id, f"moves {whose} recordings to {storage_class} (rule {rule_id}), where a read "
                                                       "must wait hours for a restore", fix))
                elif (whose == "current" and cold_after_days and storage_class == COLD and _whole_bucket(rule)
                      and _number(move.get(age)) == cold_after_days):
                    carried = True
    if cold_after_days and not carried:
        found.append(Finding(COLD_TIER.id, f"has no lifecycle rule moving current recordings to {COLD} after {cold_after_days} days, "
                                           "as the stack asks (coldAfterDays)", fix))
    return found

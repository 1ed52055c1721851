"""Which storage classes the bucket's own settings move recordings to (`coldAfterDays`): the lifecycle's moves
between classes, and Intelligent-Tiering's opt-in archive tiers. The class an upload asks for is the writer's
choice, and not judged here."""

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
# Intelligent-Tiering's opt-in tiers, turned on by a bucket's Intelligent-Tiering configuration; its other tiers read
# instantly (https://docs.aws.amazon.com/AmazonS3/latest/userguide/intelligent-tiering-overview.html).
ARCHIVE_TIERS = frozenset({"ARCHIVE_ACCESS", "DEEP_ARCHIVE_ACCESS"})
# S3 Lifecycle moves no object under 128 KB to GLACIER_IR, whichever TransitionDefaultMinimumObjectSize the bucket has
# (all_storage_classes_128K, the default, or varies_by_storage_class, which lifts it for GLACIER and DEEP_ARCHIVE only):
# a size floor up to it leaves out nothing the move takes. API_PutBucketLifecycleConfiguration, TransitionDefaultMinimumObjectSize.
SIZE_FLOOR = 128 * 1024
# Where each shape keeps a rule's moves, whose they are, and their age: S3's and Pulumi's `Transitions[].Days` /
# `NoncurrentVersionTransitions[].NoncurrentDays` (aws.s3.Bucket's inline rules: `Days`), and CloudFormation's
# (aws-native) singular `Transition` / `NoncurrentVersionTransition` and `TransitionInDays` / `TransitionDate`
# (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-s3-bucket-rule.html).
MOVES = (("transitions", "current"), ("transition", "current"),
         ("noncurrentversiontransitions", "noncurrent"), ("noncurrentversiontransition", "noncurrent"))


def _size_narrows(value: Any) -> bool:
    if value is None:
        return False
    size = _number(value)
    return size is None or size >= SIZE_FLOOR


def _narrows(selector: Any) -> bool:
    """Whether a filter leaves some recordings out: a prefix, a tag, an upper size bound, or a size floor from 128 KB.
    It reads S3's `Filter` and its `And`, Pulumi's `filter`, and the same keys on a rule itself (aws.s3.Bucket's
    `prefix`/`tags`, CloudFormation's `Prefix`/`TagFilters`/`ObjectSizeGreaterThan`/`ObjectSizeLessThan`)."""
    for part in as_list(selector):
        if not isinstance(part, Mapping):
            continue
        for key, value in part.items():
            if key == "and":
                narrowed = _narrows(value)
            elif key == "objectsizegreaterthan":
                narrowed = _size_narrows(value)
            else:
                # prefix, tag, tags, tagfilters, objectsizelessthan, or a key not known here: any value narrows.
                narrowed = value not in (None, "", {}, [])
            if narrowed:
                return True
    return False


def _whole_bucket(rule: Mapping[str, Any]) -> bool:
    """A rule with no prefix, tag or size filter, on the rule itself or in its filter: it reaches every recording."""
    own = {k: rule.get(k) for k in ("prefix", "tags", "tagfilters", "objectsizegreaterthan", "objectsizelessthan")}
    return not (_narrows(own) or _narrows(rule.get("filter")))


def _age(move: Mapping[str, Any], whose: str) -> Any:
    keys = ("days", "transitionindays") if whose == "current" else ("noncurrentdays", "days", "transitionindays")
    return next((move[k] for k in keys if move.get(k) is not None), None)


def cold_tier_fix(cold_after_days: Optional[int]) -> str:
    moved = (f"move current versions to {COLD} after {cold_after_days} days (coldAfterDays), in a rule with no filter"
             if cold_after_days else f"move recordings only to instant-read classes ({COLD}, STANDARD_IA)")
    return (f"{moved}; remove transitions to {' or '.join(sorted(ARCHIVE_CLASSES))}, and the "
            f"{' and '.join(sorted(ARCHIVE_TIERS))} tiers of Intelligent-Tiering configurations")


def cold_tier_findings(rules: Iterable[Any], cold_after_days: Optional[int], fix: Optional[str] = None) -> list[Finding]:
    """Transitions of recordings to a class that needs a restore before a read; and, when the stack sets
    `cold_after_days`, no enabled whole-bucket rule moving current versions to GLACIER_IR at exactly that age."""
    fix = fix or cold_tier_fix(cold_after_days)
    found: list[Finding] = []
    carried = False
    for rule in (lower_keys(r) for r in as_list(rules)):
        if not isinstance(rule, Mapping) or not _enabled(rule):
            continue
        rule_id = rule.get("id") or "(unnamed)"
        for key, whose in MOVES:
            for move in as_list(rule.get(key)):
                if not isinstance(move, Mapping):
                    continue
                storage_class = str(move.get("storageclass") or "").upper()
                if storage_class in ARCHIVE_CLASSES:
                    found.append(Finding(COLD_TIER.id, f"moves {whose} recordings to {storage_class} (rule {rule_id}), where a read "
                                                       "must wait hours for a restore", fix))
                elif (whose == "current" and cold_after_days and storage_class == COLD and _whole_bucket(rule)
                      and _number(_age(move, whose)) == cold_after_days):
                    carried = True
    if cold_after_days and not carried:
        found.append(Finding(COLD_TIER.id, f"has no lifecycle rule moving current recordings to {COLD} after {cold_after_days} days, "
                                           "as the stack asks (coldAfterDays)", fix))
    return found


def intelligent_tiering_findings(configurations: Iterable[Any], fix: Optional[str] = None) -> list[Finding]:
    """Enabled Intelligent-Tiering configurations with an archive tier: recordings in INTELLIGENT_TIERING (moved there by
    a lifecycle rule, or uploaded there) that nobody reads for that long then need hours of restore. Any filter may
    reach recordings (Tavus's object keys are not documented), so it does not matter. Reads S3's `Id`/`Tierings`,
    pulumi-aws's `name`/`tierings` and CloudFormation's (aws-native) `Id`/`Tierings`."""
    found: list[Finding] = []
    for config in (lower_keys(c) for c in as_list(configurations)):
        if not isinstance(config, Mapping) or not _enabled(config):
            continue
        name = config.get("id") or config.get("name") or "(unnamed)"
        for tiering in as_list(config.get("tierings")):
            tier = str(tiering.get("accesstier") or "").upper() if isinstance(tiering, Mapping) else ""
            if tier in ARCHIVE_TIERS:
                days = tiering.get("days")
                found.append(Finding(COLD_TIER.id, f"archives recordings in INTELLIGENT_TIERING to {tier} after {days} days unread "
                                                   f"(Intelligent-Tiering configuration {name}), where a read must wait hours for a restore",
                                     fix or cold_tier_fix(None)))
    return found

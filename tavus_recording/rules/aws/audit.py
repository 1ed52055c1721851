"""That every read and write of a recording is logged: a CloudTrail trail of the bucket's data events (`auditLogs`).

A trail is judged by what CloudTrail logs, in any spelling: advanced event selectors (the API's `Field`,
`Equals`, `StartsWith`...; pulumi-aws's `field`, `equals`, `startsWiths`...) and basic ones (`ReadWriteType`,
`DataResources` of type `AWS::S3::Object`). Fields of one advanced selector must all match, selectors add up
(https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_AdvancedFieldSelector.html); a basic
`DataResources` value `arn:aws:s3:::bucket/` logs every object of the bucket, `arn:aws:s3` every bucket's
(https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_DataResource.html). Anything that narrows
what is logged (a prefix, a name, an event name, a user, a Not... operator reaching the bucket) counts against it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Optional

from tavus_recording.rules.aws.catalog import AUDIT_TRAIL
from tavus_recording.rules.aws.can_write import _HARMLESS_DENY_CONDITIONS, _normalised_condition
from tavus_recording.rules.aws.exposure import lower_keys
from tavus_recording.rules.aws.statements import applies_to_action, is_deny, label, principal_entries, reach, statements
from tavus_recording.rules.findings import Finding
from tavus_recording.rules.iam import as_list

OBJECT_TYPE = "AWS::S3::Object"
# Every bucket's objects, in one partition: arn:aws-cn:s3 is not every bucket of arn:aws (redteam19b #8).
_ALL_S3 = re.compile(r"^arn:(?P<partition>aws[a-z-]*):s3(:::)?$")
# What a selector may say beside the resources without narrowing S3's data events.
_S3_SOURCE = "s3.amazonaws.com"


@dataclass(frozen=True)
class Trail:
    """A trail as the rule needs it. `validation`/`logging`: True, False, or None when not known (the pack
    cannot see logging before the deploy; verify reads it)."""

    name: str
    advanced: Optional[list[Any]] = None
    basic: Optional[list[Any]] = None
    validation: Any = None
    logging: Any = None
    # None: the trail logs the bucket's region (multi-region, or the bucket's own); else why not.
    elsewhere: Optional[str] = None


def audit_trail_fix(bucket_arn: str) -> str:
    return ("log the bucket's data events with a trail in its region: an advanced event selector eventCategory = Data, "
            f"resources.type = {OBJECT_TYPE}, resources.ARN starts with {bucket_arn}/ (no readOnly field), log file "
            "validation on, logging started (the kit's auditLogs: true builds it)")


def _operators(field_selector: Mapping[str, Any]) -> dict[str, list[str]]:
    """{operator: values}, operator names lower case and singular (`startsWiths` -> `startswith`)."""
    found: dict[str, list[str]] = {}
    for key, values in field_selector.items():
        name = key[:-1] if key.endswith("withs") else key
        if name != "field":
            found[name] = [str(v) for v in as_list(values)]
    return found


def _reaches(value: str, objects: str) -> bool:
    """Whether a prefix `value` matches some object ARN of the bucket (`objects` = `<bucket arn>/`)."""
    return value.startswith(objects) or objects.startswith(value)


def _covers_bucket(ops: dict[str, list[str]], objects: str) -> bool:
    """Whether the resources.ARN field selector `ops` matches every object ARN of the bucket."""
    for name, values in ops.items():
        if name == "startswith":
            if not any(objects.startswith(v) for v in values):
                return False
        elif name == "notstartswith" and any(_reaches(v, objects) for v in values):
            return False
        elif name == "notequals" and any(v.startswith(objects) for v in values):
            return False
        elif name in ("equals", "endswith", "notendswith") and values:
            return False
    return True


def _advanced_covers(selector: Any, objects: str) -> tuple[bool, bool, str]:
    """(logs every read, logs every write, why not) for one advanced selector."""
    fields = [lower_keys(f) for f in as_list(selector.get("fieldselectors") if isinstance(selector, Mapping) else None)]
    by_field: dict[str, list[dict[str, list[str]]]] = {}
    for field_selector in fields:
        if isinstance(field_selector, Mapping):
            # Field names as CloudTrail documents them, read in any case.
            by_field.setdefault(str(field_selector.get("field") or "").lower(), []).append(_operators(field_selector))
    category = by_field.pop("eventcategory", [])
    if not category or any(ops != {"equals": ["Data"]} for ops in category):
        return False, False, "does not select data events (eventCategory = Data)"
    types = by_field.pop("resources.type", [])
    if not types or any(ops != {"equals": [OBJECT_TYPE]} for ops in types):
        return False, False, f"does not select S3 objects alone (resources.type = {OBJECT_TYPE})"
    if not all(_covers_bucket(ops, objects) for ops in by_field.pop("resources.arn", [])):
        return False, False, f"does not reach every object under {objects}"
    if any(ops != {"equals": [_S3_SOURCE]} for ops in by_field.pop("eventsource", [])):
        return False, False, "is narrowed by eventSource"
    read_only = by_field.pop("readonly", [])
    if by_field:
        return False, False, f"is narrowed by {', '.join(sorted(by_field))}"
    flags = {v.lower() for ops in read_only for v in ops.get("equals", [])}
    if any(set(ops) != {"equals"} for ops in read_only) or len(read_only) > 1:
        return False, False, "has a readOnly field CloudTrail does not take"
    if not read_only:
        return True, True, ""
    return "true" in flags and len(flags) == 1, "false" in flags and len(flags) == 1, ""


def _all_s3_of(value: str, partition: str) -> bool:
    match = _ALL_S3.match(value)
    return bool(match) and match is not None and match["partition"] == partition


def _basic_covers(selector: Any, objects: str) -> tuple[bool, bool, str]:
    if not isinstance(selector, Mapping):
        return False, False, "is not a selector"
    kind = str(selector.get("readwritetype") or "All").lower()
    partition = objects.split(":")[1] if objects.count(":") > 1 else ""
    reaches = any(str(r.get("type")) == OBJECT_TYPE and any(isinstance(v, str) and (v == objects or _all_s3_of(v, partition)) for v in as_list(r.get("values")))
                  for r in as_list(selector.get("dataresources")) if isinstance(r, Mapping))
    if not reaches:
        return False, False, f"names no {OBJECT_TYPE} data resource {objects} (or every bucket's, arn:aws:s3)"
    return kind in ("all", "readonly"), kind in ("all", "writeonly"), ""


def trail_findings(trail: Trail, bucket_arn: str) -> list[Finding]:
    """What keeps `trail` from logging every read and write of every object of the bucket, with integrity."""
    objects = f"{bucket_arn}/"
    fix = audit_trail_fix(bucket_arn)
    where = f"trail {trail.name}"
    reads = writes = False
    why: list[str] = []
    for selector in as_list(trail.advanced):
        r, w, reason = _advanced_covers(lower_keys(selector), objects)
        reads, writes = reads or r, writes or w
        if reason:
            name = selector.get("name") or selector.get("Name") if isinstance(selector, Mapping) else None
            why.append(f"selector {name or '(unnamed)'} {reason}")
    for selector in as_list(trail.basic):
        r, w, reason = _basic_covers(lower_keys(selector), objects)
        reads, writes = reads or r, writes or w
        if reason:
            why.append(f"an event selector {reason}")
    found: list[Finding] = []
    if not (reads and writes):
        missing = " and ".join(kind for kind, done in (("reads", reads), ("writes", writes)) if not done)
        found.append(Finding(AUDIT_TRAIL.id, f"{where} does not log the {missing} of every recording" + (f" ({'; '.join(why)})" if why else ""), fix))
    if trail.elsewhere:
        found.append(Finding(AUDIT_TRAIL.id, f"{where} {trail.elsewhere}", fix))
    if trail.validation is False:
        found.append(Finding(AUDIT_TRAIL.id, f"{where} has log file validation off, so an edited or deleted log cannot be told", fix))
    if trail.logging is False:
        found.append(Finding(AUDIT_TRAIL.id, f"{where} is not logging (stopped)", fix))
    return found


def audit_trail_findings(trails: Iterable[Trail], bucket_arn: str) -> list[Finding]:
    """None when one of `trails` logs every read and write of the bucket's objects with validation and logging on;
    else why not, for each."""
    found: list[Finding] = []
    judged = list(trails)
    for trail in judged:
        of_trail = trail_findings(trail, bucket_arn)
        if not of_trail:
            return []
        found += of_trail
    if not judged:
        found.append(Finding(AUDIT_TRAIL.id, "has no CloudTrail trail logging its object reads and writes", audit_trail_fix(bucket_arn)))
    return found


CLOUDTRAIL = "cloudtrail.amazonaws.com"
# What the kit's AWSCloudTrailWrite statement is conditioned on (CloudTrail user guide,
# create-s3-bucket-policy-for-cloudtrail): CloudTrail always sends them, so they never keep its writes out.
_CLOUDTRAIL_CONDITIONS = frozenset({"s3:x-amz-acl", "aws:sourcearn", "aws:sourceaccount"})


def _condition_keys(statement: Mapping[str, Any]) -> set[str]:
    condition = statement.get("Condition")
    return {str(k).lower() for keys in condition.values() if isinstance(keys, Mapping) for k in keys} if isinstance(condition, Mapping) else set()


def _may_be_cloudtrail(statement: Mapping[str, Any]) -> bool:
    if "NotPrincipal" in statement:
        return True
    return any((kind.lower() == "service" and value == CLOUDTRAIL) or (kind.lower() == "aws" and value == "*")
               for kind, value in principal_entries(statement.get("Principal")) or [])


def log_delivery_findings(document: Optional[Mapping[str, Any]], log_bucket_arn: str, account: str) -> list[Finding]:
    """Whether the log bucket's policy still lets CloudTrail write the account's log files (AWSLogs/<account>/):
    an Allow of s3:PutObject for cloudtrail.amazonaws.com reaching all of them, under no condition but the ones
    CloudTrail always meets, and no Deny that may reach it (the kit's TLS-only Deny never does)."""
    logs = f"{log_bucket_arn}/AWSLogs/{account}/"
    where = f"log bucket {log_bucket_arn.rsplit(':', 1)[-1]}'s policy"
    found: list[Finding] = []
    allows = [s for s in statements(document) if isinstance(s, Mapping) and not is_deny(s) and applies_to_action(s, "s3:PutObject")
              and any(kind.lower() == "service" and value == CLOUDTRAIL for kind, value in principal_entries(s.get("Principal")) or [])
              and reach(s, logs, logs) == "all"]
    if not allows:
        found.append(Finding(AUDIT_TRAIL.id, f"{where} does not let CloudTrail ({CLOUDTRAIL}) write s3:PutObject to {logs}*: logs cannot "
                                             "arrive", ""))
    elif all(_condition_keys(s) - _CLOUDTRAIL_CONDITIONS for s in allows):
        found.append(Finding(AUDIT_TRAIL.id, f"{where} lets CloudTrail write {logs}* only under conditions that cannot be evaluated "
                                             "offline", "", unknown=True))
    for index, statement in enumerate(statements(document)):
        if not (isinstance(statement, Mapping) and is_deny(statement) and applies_to_action(statement, "s3:PutObject")
                and _may_be_cloudtrail(statement)):
            continue
        how = reach(statement, logs, logs)
        keys = _condition_keys(statement)
        if how == "none" or _normalised_condition(statement.get("Condition")) in _HARMLESS_DENY_CONDITIONS:  # CloudTrail uses TLS
            continue
        deny = f"{where} {label(statement, index)} denies CloudTrail's s3:PutObject to {logs}*"
        if how == "all" and not keys:
            found.append(Finding(AUDIT_TRAIL.id, f"{deny}: logs cannot arrive", "remove that statement"))
        else:
            found.append(Finding(AUDIT_TRAIL.id, f"{deny} {'for some keys' if how == 'some' else 'under conditions'}, which may keep logs out",
                                 "make sure it never matches CloudTrail", unknown=True))
    return found

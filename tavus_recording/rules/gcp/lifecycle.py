"""That recordings last (lifecycle rules, Storage Batch Operations jobs, the retention policy) and that
copies of them stay in the stack (Storage Transfer jobs).
"""

from __future__ import annotations

import math
from typing import Any, Collection, Iterable, Mapping, Optional

from tavus_recording.rules.findings import Finding
from tavus_recording.rules.gcp.catalog import LIFECYCLE, RETENTION, TRANSFER
from tavus_recording.rules.iam import as_list

# --- that recordings last ----------------------------------------------------------------------------------

# Lifecycle actions that never delete an object.
KEEPING_ACTIONS = frozenset({"SetStorageClass", "AbortIncompleteMultipartUpload"})
# Conditions only a noncurrent version can meet (a live object has no noncurrent time, no newer version).
NONCURRENT_ONLY = ("daysSinceNoncurrentTime", "noncurrentTimeBefore", "numNewerVersions")


def _positive(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0


def _number(value: Any) -> Optional[float]:
    """A count the APIs send as a number or (int64) as a string of ASCII digits; too large for a float is infinite."""
    if isinstance(value, str):
        if not (value.isascii() and value.isdigit()):
            return None
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        return float(value)
    except OverflowError:
        return math.inf


def _noncurrent_only(condition: Mapping[str, Any]) -> bool:
    state = condition.get("withState")
    if isinstance(state, str) and state.upper() == "ARCHIVED":
        return True
    if condition.get("isLive") is False or (isinstance(condition.get("isLive"), str) and condition["isLive"].lower() == "false"):
        return True
    return any(_positive(condition.get(key)) or (isinstance(condition.get(key), str) and condition[key])
               for key in NONCURRENT_ONLY)


def lifecycle_fix(retention_days: Optional[int]) -> str:
    if retention_days:
        return (f"delete live recordings only with age >= {retention_days} (set retentionDays), and noncurrent versions "
                "with with_state ARCHIVED; or remove the rule")
    return "remove the deletion of live objects (set retentionDays if recordings should expire)"


def lifecycle_findings(rules: Iterable[Any], retention_days: Optional[int], retention_known: bool = True,
                       fix: Optional[str] = None) -> list[Finding]:
    """Lifecycle rules (the API's `lifecycle.rule`, or pulumi-gcp's `lifecycleRules`) that delete live
    recordings sooner than `retention_days`, or at all when None. Only an age of at least the retention
    makes a rule safe: other conditions (dates, prefixes, custom times) do not wait for a recording to age."""
    found: list[Finding] = []
    for index, rule in enumerate(rules, 1):
        if not isinstance(rule, Mapping):
            continue
        action = rule.get("action")
        kind = action.get("type") if isinstance(action, Mapping) else None
        if kind in KEEPING_ACTIONS:
            continue
        conditions = [c for c in as_list(rule.get("condition") or rule.get("conditions")) if isinstance(c, Mapping)]
        condition: Mapping[str, Any] = conditions[0] if conditions else {}
        if _noncurrent_only(condition):
            continue
        age = None if condition.get("noAge") is True else _number(condition.get("age"))
        if retention_known and retention_days and age is not None and age >= retention_days:
            continue
        when = f"{age:g} days after they land" if age else "without waiting for them to age"
        others = sorted(k for k, v in condition.items()
                        if k not in ("age", "withState", "isLive", "noAge") and not k.startswith("send") and v not in (None, "", [], 0, False))
        rule_text = f"lifecycle rule {index} ({kind or 'no action type'}" + (f", when {', '.join(others)}" if others else "") + ")"
        if not retention_known:
            found.append(Finding(LIFECYCLE.id, f"has {rule_text} that deletes live recordings {when}; the stack's outputs do not say "
                                               "its retention, to compare with", "run `pulumi up` with this version of the kit, "
                                               "which exports retention_days", unknown=True))
            continue
        kept = f"{retention_days} days (retentionDays)" if retention_days else "for good (no retentionDays)"
        found.append(Finding(LIFECYCLE.id, f"has {rule_text} that deletes live recordings {when}, but the stack keeps them {kept}",
                             fix or lifecycle_fix(retention_days)))
    return found


def batch_job_findings(job: Mapping[str, Any], buckets: Iterable[str]) -> list[Finding]:
    """A Storage Batch Operations job that deletes objects in the recordings buckets it names (`buckets`):
    it deletes them now, whatever the lifecycle rules and retentionDays say."""
    delete = job.get("deleteObject")
    if delete is None or delete is False:
        return []
    permanent = isinstance(delete, Mapping) and delete.get("permanentObjectDeletionEnabled") is True
    how = "permanently (every version)" if permanent else "(their live versions)"
    return [Finding(LIFECYCLE.id, f"is a Storage Batch Operations job that deletes objects {how} in recordings bucket {bucket}, now, "
                                  "whatever its lifecycle rules and the stack's retentionDays say",
                    "remove the job (or its delete_object): recordings are deleted only by the bucket's lifecycle rules")
            for bucket in dict.fromkeys(buckets)]


def retention_period_days(policy: Any) -> Optional[float]:
    """A bucket retention policy's period in days (`retentionPeriod` is seconds), or None."""
    seconds = _number(policy.get("retentionPeriod")) if isinstance(policy, Mapping) else None
    # NaN is no period (and compares false with every number, so it would pass a "shorter than" test).
    return None if seconds is None or math.isnan(seconds) else seconds / 86400


def retention_locked(policy: Any) -> bool:
    """Whether a retention policy is locked (`isLocked`: a boolean in the API and in pulumi-gcp's props)."""
    locked = policy.get("isLocked") if isinstance(policy, Mapping) else None
    return locked is True or (isinstance(locked, str) and locked.lower() == "true")


def describe_retention(policy: Any) -> str:
    days = retention_period_days(policy)
    if days is None:
        return "no retention policy"
    return f"a retention policy of {days:g} days ({'locked' if retention_locked(policy) else 'not locked'})"


def retention_fix(immutable_days: int) -> str:
    return f"set the bucket's retention policy to {immutable_days} days (retention_policy.retention_period = {immutable_days * 86400})"


LOCK_FIX = ("lock the retention policy (retention_policy.is_locked = true; irreversible: the period can then only grow and the bucket "
            "cannot be deleted while it holds objects younger than it)")


def retention_findings(policy: Any, immutable_days: Optional[int], compliance: bool = False, fix: Optional[str] = None,
                       lock_fix: Optional[str] = None) -> list[Finding]:
    """A retention policy removed or shorter than the `immutable_days` the stack asks for, or (`compliance`,
    immutableMode compliance) not locked. A longer or locked policy is stricter than asked, never a finding:
    a locked policy can only grow, and governance only means an unlocked one is allowed."""
    if not immutable_days:
        return []
    days = retention_period_days(policy)
    fix = fix or retention_fix(immutable_days)
    if days is None:
        return [Finding(RETENTION.id, f"has no retention policy, but the stack holds recordings for {immutable_days} days (immutableDays)", fix)]
    if days < immutable_days:
        return [Finding(RETENTION.id, f"has {describe_retention(policy)}, shorter than the {immutable_days} days the stack asks for "
                                      "(immutableDays)", fix)]
    if compliance and not retention_locked(policy):
        return [Finding(RETENTION.id, f"has {describe_retention(policy)}, but the stack asks for compliance (immutableMode): anyone with "
                                      "storage.buckets.update can still shorten or remove an unlocked policy and then delete recordings",
                        lock_fix or LOCK_FIX)]
    return []


# --- copies ----------------------------------------------------------------------------------------------


def transfer_findings(job: Mapping[str, Any], recordings: Collection[str], own_buckets: Collection[str]) -> list[Finding]:
    """A Storage Transfer job (transferSpec or replicationSpec) that copies a recordings bucket to a
    destination this stack does not define, or moves recordings out of it (deleting them from it); a source
    bucket named by anything but a string cannot be told from a recordings bucket."""
    if job.get("status") == "DELETED":
        return []
    fix = "copy recordings only to a bucket this stack defines, or remove the job"
    found: list[Finding] = []
    for key in ("transferSpec", "replicationSpec"):
        spec = job.get(key)
        if not isinstance(spec, Mapping):
            continue
        source = spec.get("gcsDataSource")
        bucket = source.get("bucketName") if isinstance(source, Mapping) else None
        if bucket is not None and not isinstance(bucket, str):
            found.append(Finding(TRANSFER.id, f"names its source bucket with a value the guardrails cannot read ({bucket!r}), so it may "
                                              "copy recordings anywhere", "name the source bucket by its name"))
            continue
        if bucket not in recordings:
            continue
        options = spec.get("transferOptions")
        if isinstance(options, Mapping) and options.get("deleteObjectsFromSourceAfterTransfer") in (True, "true"):
            found.append(Finding(TRANSFER.id, f"moves recordings out of bucket {bucket} (deleteObjectsFromSourceAfterTransfer), deleting "
                                              "them from it whatever the stack's retention", "copy, never move: set "
                                              "delete_objects_from_source_after_transfer to false, or remove the job"))
        sink = spec.get("gcsDataSink")
        sink_bucket = sink.get("bucketName") if isinstance(sink, Mapping) else None
        if isinstance(sink_bucket, str) and sink_bucket in own_buckets:
            continue
        if isinstance(sink_bucket, str):
            where = f"bucket {sink_bucket}, which this stack does not define"
        elif isinstance(spec.get("posixDataSink"), Mapping):
            where = f"a file system outside Google Cloud ({spec['posixDataSink'].get('rootDirectory')})"
        else:
            where = "a destination the guardrails cannot place"
        found.append(Finding(TRANSFER.id, f"copies recordings from bucket {bucket} to {where}", fix))
    return found

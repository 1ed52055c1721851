"""That recordings cannot be deleted or overwritten before their time: S3 Object Lock (`immutableDays`,
`immutableMode`).

The configuration is read in any spelling: S3's `ObjectLockConfiguration` (GetObjectLockConfiguration),
pulumi-aws's `BucketObjectLockConfiguration` and `Bucket.objectLockConfiguration`, aws-native's
`Bucket.objectLockConfiguration`: `{objectLockEnabled: "Enabled", rule: {defaultRetention: {mode, days | years}}}`.
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Optional

from tavus_recording.rules.aws.catalog import OBJECT_LOCK
from tavus_recording.rules.aws.exposure import _number, lower_keys
from tavus_recording.rules.findings import Finding

# S3's modes (the API's enum; the kit's `immutableMode` is the same word in lower case).
MODES = ("GOVERNANCE", "COMPLIANCE")
# A year of default retention is at least this many days (S3 adds calendar years to the upload date).
DAYS_PER_YEAR = 365


def object_lock_fix(days: Optional[int], mode: Optional[str]) -> str:
    wanted = (mode or "governance").upper()
    period = f'"Days":{days}' if days else '"Days":<days>'
    return ('turn on Object Lock with a default retention: aws s3api put-object-lock-configuration --bucket <bucket> '
            f"--object-lock-configuration '{{\"ObjectLockEnabled\":\"Enabled\",\"Rule\":{{\"DefaultRetention\":"
            f"{{\"Mode\":\"{wanted}\",{period}}}}}}}'")


def _retention(config: Mapping[str, Any]) -> Any:
    rule = config.get("rule")
    if isinstance(rule, list):  # older providers' `rules` list of one
        rule = rule[0] if rule else None
    if rule is None and isinstance(config.get("rules"), list):
        rule = next(iter(config["rules"]), None)
    return rule.get("defaultretention") if isinstance(rule, Mapping) else None


def _enabled(config: Mapping[str, Any]) -> bool:
    value = config.get("objectlockenabled")
    return value is True or (isinstance(value, str) and value.strip().lower() == "enabled")


def object_lock_findings(config: Any, days: Optional[int], mode: Optional[str], fix: Optional[str] = None) -> list[Finding]:
    """What keeps `config` (None: no Object Lock configuration) from locking every new recording for at least
    `days` (None: any period) in `mode` ("governance" or "compliance"; None: either).

    At least, as on GCS and Azure: a longer period, a period in years (365 days each, the least a year is) and
    compliance where governance is asked all keep recordings as long; only a shorter or weaker lock lets them go."""
    if days is None and mode is None:
        return []
    fix = fix or object_lock_fix(days, mode)
    wanted_mode = mode.upper() if mode else None
    wanted = f"a {wanted_mode + ' ' if wanted_mode else ''}default retention" + (f" of {days} days" if days else "")

    def finding(problem: str) -> list[Finding]:
        return [Finding(OBJECT_LOCK.id, problem, fix)]

    config = lower_keys(config)
    if not isinstance(config, Mapping) or not _enabled(config):
        return finding(f"has Object Lock off, so any recording can be deleted or overwritten at once (the stack asks {wanted})")
    retention = lower_keys(_retention(config))
    if not isinstance(retention, Mapping) or not retention:
        return finding(f"has Object Lock on but no default retention, so a recording is locked only if its writer asks for it on "
                       f"every upload (the stack asks {wanted})")
    found: list[Finding] = []
    found_mode = str(retention.get("mode") or "").strip().upper()
    if found_mode not in MODES:
        found += finding(f"has a default retention in mode {retention.get('mode')!r}, which S3 does not know (expected {wanted})")
    elif wanted_mode == "COMPLIANCE" and found_mode != wanted_mode:
        found += finding(f"locks recordings in {found_mode} mode, not {wanted_mode}: an administrator holding "
                         "s3:BypassGovernanceRetention can delete a version early")
    # A zero is no period (S3 refuses it; moto answers the unset one as 0).
    found_days, found_years = _number(retention.get("days")) or None, _number(retention.get("years")) or None
    odd = [f"{k} {retention.get(k)!r}" for k, v in (("days", found_days), ("years", found_years)) if v is not None and not math.isfinite(v)]
    if odd:  # NaN compares false with every number, so it would pass any "fewer than" (redteam19b #9; as gcp.lifecycle)
        found += finding(f"has a default retention period S3 does not take ({', '.join(odd)}), so how long it locks cannot be told "
                         f"(the stack asks {wanted})")
    elif found_days is None and found_years is None:
        found += finding(f"has a default retention with no period (the stack asks {wanted})")
    elif days:
        period = found_days if found_days is not None else (found_years or 0) * DAYS_PER_YEAR
        if period < days:
            shown = f"{found_days:g} days" if found_days is not None else f"{found_years:g} year(s)"
            found += finding(f"locks recordings for {shown}, fewer than {days} days: they can be deleted sooner")
    return found

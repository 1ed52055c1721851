"""`aws.bucket.object_lock` on its own: a property test against an independent reading of what S3 locks, over
the spellings the pack and verify meet (S3's PascalCase, Pulumi's camelCase, text numbers, modes in any case)."""

from __future__ import annotations

import math
from typing import Any, Optional

import pytest
from hypothesis import example, given, strategies as st

from components import aws_policy
from tavus_recording.rules import aws as rules
from tavus_recording.rules.aws.audit import log_delivery_findings

MODES = st.sampled_from(["GOVERNANCE", "COMPLIANCE", "governance", "Compliance", " COMPLIANCE", "LEGAL_HOLD", "", None])
PERIODS = st.one_of(st.none(), st.integers(0, 40000), st.integers(0, 400).map(str))


def oracle(enabled: Any, mode: Any, days: Any, years: Any, asked_days: Optional[int], asked_mode: Optional[str]) -> bool:
    """Whether every new version is locked at least `asked_days`, at least as strongly as `asked_mode`."""
    if asked_days is None and asked_mode is None:
        return True
    if enabled not in ("Enabled", True):
        return False
    found_mode = (mode or "").strip().upper()
    if found_mode not in ("GOVERNANCE", "COMPLIANCE") or (asked_mode == "compliance" and found_mode != "COMPLIANCE"):
        return False
    d, y = int(days or 0), int(years or 0)
    if not d and not y:
        return False
    return asked_days is None or (d if d else 365 * y) >= asked_days


@given(
    enabled=st.sampled_from(["Enabled", True, "Disabled", None]),
    mode=MODES,
    days=PERIODS,
    years=st.one_of(st.none(), st.integers(0, 100)),
    asked_days=st.one_of(st.none(), st.integers(1, 36500)),
    asked_mode=st.sampled_from([None, "governance", "compliance"]),
    pascal=st.booleans(),
)
def test_the_rule_agrees_with_an_independent_reading(enabled, mode, days, years, asked_days, asked_mode, pascal):
    retention = {k: v for k, v in {"Mode": mode, "Days": days, "Years": years}.items() if v is not None}
    config: dict[str, Any] = {"ObjectLockEnabled": enabled, "Rule": {"DefaultRetention": retention}}
    if not pascal:  # Pulumi's camelCase
        config = {"objectLockEnabled": enabled, "rule": {"defaultRetention": {k[0].lower() + k[1:]: v for k, v in retention.items()}}}
    findings = rules.object_lock_findings(config, asked_days, asked_mode)
    assert (findings == []) is oracle(enabled, mode, days, years, asked_days, asked_mode)
    assert all(f.rule == "aws.bucket.object_lock" and not f.unknown and f.fix for f in findings)


def test_no_configuration_is_off_when_a_lock_is_asked():
    [finding] = rules.object_lock_findings(None, 30, None)
    assert "has Object Lock off" in finding.problem
    assert rules.object_lock_findings(None, None, None) == []


# --- aws.bucket.audit_trail: no selector passes that misses an event (against a simulation of CloudTrail's matching)

BUCKET_ARN = "arn:aws:s3:::rec"
KEYS = ("a.mp4", "calls/x.mp4", "private/y", "rec-other")
EVENTS = [{"eventCategory": "Data", "resources.type": "AWS::S3::Object", "resources.ARN": f"{BUCKET_ARN}/{key}", "readOnly": read_only,
           "eventSource": "s3.amazonaws.com", "eventName": name}
          for key in KEYS for read_only, name in (("true", "GetObject"), ("false", "PutObject"))]
OPERATORS = ("Equals", "StartsWith", "EndsWith", "NotEquals", "NotStartsWith", "NotEndsWith")
VALUES = {
    "eventCategory": ["Data", "Management", "data"],
    "resources.type": ["AWS::S3::Object", "AWS::S3::AccessPoint"],
    "resources.ARN": [f"{BUCKET_ARN}/", f"{BUCKET_ARN}/calls/", "arn:aws:s3:::", "arn:aws:s3:::other/", f"{BUCKET_ARN}/a.mp4", ".mp4", BUCKET_ARN],
    "readOnly": ["true", "false"],
    "eventSource": ["s3.amazonaws.com", "kms.amazonaws.com"],
    "eventName": ["PutObject", "GetObject"],
}


def _holds(operator: str, values: list[str], actual: str) -> bool:
    tests = {"Equals": actual.__eq__, "StartsWith": actual.startswith, "EndsWith": actual.endswith}
    if operator in tests:
        return any(tests[operator](v) for v in values)
    return not any({"NotEquals": actual.__eq__, "NotStartsWith": actual.startswith, "NotEndsWith": actual.endswith}[operator](v) for v in values)


def logged(selectors: list[dict[str, Any]], event: dict[str, str]) -> bool:
    """CloudTrail's matching: an event is logged when every field selector of some selector matches it."""
    return any(all(all(_holds(op, f[op], event[f["Field"]]) for op in OPERATORS if op in f) for f in s["FieldSelectors"]) for s in selectors)


field_selectors = st.sampled_from(sorted(VALUES)).flatmap(lambda field: st.fixed_dictionaries(
    {"Field": st.just(field)}, optional={op: st.lists(st.sampled_from(VALUES[field]), min_size=1, max_size=2) for op in OPERATORS}))
selectors = st.lists(st.builds(lambda fs: {"FieldSelectors": fs}, st.lists(field_selectors, min_size=1, max_size=5)), min_size=1, max_size=3)


KIT_FIELDS = [{"Field": "eventCategory", "Equals": ["Data"]}, {"Field": "resources.type", "Equals": ["AWS::S3::Object"]}]


@given(selectors)
@example([{"FieldSelectors": [*KIT_FIELDS, {"Field": "resources.ARN", "StartsWith": [f"{BUCKET_ARN}/"], "NotStartsWith": ["arn:aws:s3:::other/"]}]}])
@example([{"FieldSelectors": [*KIT_FIELDS, {"Field": "readOnly", "Equals": ["true"]}]},
          {"FieldSelectors": [*KIT_FIELDS, {"Field": "readOnly", "Equals": ["false"]}]}])
@example([{"FieldSelectors": [*KIT_FIELDS, {"Field": "eventSource", "Equals": ["s3.amazonaws.com"]}]}])
@example([{"FieldSelectors": [*KIT_FIELDS, {"Field": "resources.ARN", "StartsWith": [BUCKET_ARN]}]}])
@example([{"FieldSelectors": [*KIT_FIELDS, {"Field": "resources.ARN", "NotEquals": [f"{BUCKET_ARN}/a.mp4"]}]}])
def test_a_trail_the_rule_passes_logs_every_read_and_write_of_every_object(chosen):
    trail = rules.Trail("t", advanced=chosen, validation=True, logging=True)
    if rules.trail_findings(trail, BUCKET_ARN) == []:
        assert all(logged(chosen, e) for e in EVENTS)


def test_the_kits_selector_passes_and_logs_everything():
    kit = [{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Data"]}, {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
                               {"Field": "resources.ARN", "StartsWith": [f"{BUCKET_ARN}/"]}]}]
    assert rules.trail_findings(rules.Trail("t", advanced=kit, validation=True, logging=True), BUCKET_ARN) == []
    assert all(logged(kit, e) for e in EVENTS)


# --- redteam19b #9: a period S3 never takes is refused, never compared (NaN is smaller than nothing)

@pytest.mark.parametrize("period", [{"Days": float("nan")}, {"Days": "NaN"}, {"Days": "inf"}, {"Years": float("inf")}, {"Years": "nan"},
                                    {"Days": 30, "Years": "-inf"}])
@pytest.mark.parametrize("asked", [(30, None), (None, "governance"), (30, "compliance")])
def test_a_period_that_is_not_a_number_fails(period, asked):
    config = {"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", **period}}}
    found = rules.object_lock_findings(config, *asked)
    assert found and any("period S3 does not take" in f.problem for f in found), found


@pytest.mark.parametrize("period", [{"Days": 30}, {"Days": "30"}, {"Days": 30.0}, {"Years": 1}, {"Years": "1"}])
def test_a_real_period_as_long_passes(period):
    config = {"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", **period}}}
    assert rules.object_lock_findings(config, 30, "compliance") == [] and not math.isnan(30)


# --- redteam19b #8: a basic selector's "every bucket" is every bucket of one partition

@pytest.mark.parametrize("value, bucket_arn, logs", [
    ("arn:aws:s3", BUCKET_ARN, True),
    ("arn:aws:s3:::", BUCKET_ARN, True),
    ("arn:aws-us-gov:s3", BUCKET_ARN, False),
    ("arn:aws-cn:s3:::", BUCKET_ARN, False),
    ("arn:aws-iso-b:s3", BUCKET_ARN, False),
    ("arn:aws:s3", "arn:aws-us-gov:s3:::rec", False),
    ("arn:aws-us-gov:s3:::", "arn:aws-us-gov:s3:::rec", True),
])
def test_every_bucket_is_of_the_buckets_own_partition(value, bucket_arn, logs):
    trail = rules.Trail("t", basic=[{"ReadWriteType": "All", "DataResources": [{"Type": "AWS::S3::Object", "Values": [value]}]}],
                        validation=True, logging=True)
    assert (rules.trail_findings(trail, bucket_arn) == []) is logs


# --- redteam19b #2: the log bucket's policy still lets CloudTrail write, and denies it nothing


LOG_ARN, ACCOUNT = "arn:aws:s3:::rec-audit-logs", "111122223333"
KIT_LOG_POLICY = aws_policy.audit_log_bucket_policy(LOG_ARN, f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/rec-audit", ACCOUNT)


def _with(*extra: dict[str, Any], drop: str = "") -> dict[str, Any]:
    return {**KIT_LOG_POLICY, "Statement": [s for s in KIT_LOG_POLICY["Statement"] if s.get("Sid") != drop] + list(extra)}


CT = {"Service": "cloudtrail.amazonaws.com"}


def test_the_kits_log_bucket_policy_lets_cloudtrail_write():
    assert log_delivery_findings(KIT_LOG_POLICY, LOG_ARN, ACCOUNT) == []


@pytest.mark.parametrize("policy, unknown", [
    (_with(drop="AWSCloudTrailWrite"), False),
    (None, False),
    ({}, False),
    (_with({"Effect": "Deny", "Principal": CT, "Action": "s3:PutObject", "Resource": f"{LOG_ARN}/*"}), False),
    (_with({"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*"}), False),
    (_with({"Effect": "Deny", "Principal": {"AWS": "*"}, "NotAction": "s3:GetObject", "Resource": f"{LOG_ARN}/AWSLogs/*"}), False),
    (_with({"Effect": "Deny", "NotPrincipal": {"AWS": ACCOUNT}, "Action": "s3:PutObject", "Resource": f"{LOG_ARN}/*"}), False),
    (_with({"Effect": "Deny", "Principal": CT, "Action": "s3:PutObject", "Resource": f"{LOG_ARN}/AWSLogs/{ACCOUNT}/CloudTrail/us-*"}), True),
    (_with({"Effect": "Deny", "Principal": CT, "Action": "s3:PutObject", "Resource": f"{LOG_ARN}/*",
            "Condition": {"StringNotEquals": {"aws:SourceAccount": "999999999999"}}}), True),
    (_with({"Effect": "Allow", "Principal": CT, "Action": "s3:PutObject", "Resource": f"{LOG_ARN}/*",
            "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}, drop="AWSCloudTrailWrite"), True),
])
def test_a_policy_that_may_keep_cloudtrail_out_is_reported(policy, unknown):
    found = log_delivery_findings(policy, LOG_ARN, ACCOUNT)
    assert found and any(f.unknown is unknown for f in found), found


@pytest.mark.parametrize("extra", [
    {"Effect": "Deny", "Principal": {"AWS": "arn:aws:iam::222233334444:root"}, "Action": "s3:PutObject", "Resource": f"{LOG_ARN}/*"},
    {"Effect": "Deny", "Principal": CT, "Action": "s3:DeleteObject", "Resource": f"{LOG_ARN}/*"},
    {"Effect": "Deny", "Principal": CT, "Action": "s3:PutObject", "Resource": f"{LOG_ARN}/elsewhere/*"},
    {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": f"{LOG_ARN}/*", "Condition": {"Bool": {"aws:SecureTransport": False}}},
    {"Effect": "Allow", "Principal": CT, "Action": "s3:PutObject", "Resource": f"{LOG_ARN}/*"},
])
def test_safe_look_alikes_let_cloudtrail_write(extra):
    assert log_delivery_findings(_with(extra), LOG_ARN, ACCOUNT) == []

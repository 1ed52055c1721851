"""`aws.bucket.object_lock` on its own: a property test against an independent reading of what S3 locks, over
the spellings the pack and verify meet (S3's PascalCase, Pulumi's camelCase, text numbers, modes in any case)."""

from __future__ import annotations

from typing import Any, Optional

from hypothesis import example, given, strategies as st

from tavus_recording.rules import aws as rules

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

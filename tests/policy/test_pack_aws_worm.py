"""The pack's S3 WORM and audit policies (issue 19), called as the engine calls them: the kit's own shape
passes, each drift (in several spellings) is reported by exactly its policy, safe look-alikes pass, and values
not known yet wait."""

import copy
from typing import Any, Optional

import pytest

import test_attacks_aws as ta  # module objects only: their tests are not collected here
import test_pack_azure as tz
from components import aws_policy
from pack_harness import UNKNOWN, Resource, analyze_stack
from stack_configs import s3_config
from tavus_recording.mock_engine import run_program
from test_policy_kit import analyze_run

LOCK = "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration"
LOCK_V2 = "aws:s3/bucketObjectLockConfigurationV2:BucketObjectLockConfigurationV2"
POLICY = "aws.bucket.object_lock"


def lock(mode: Any = "GOVERNANCE", days: Any = 30, years: Any = None, enabled: Any = "Enabled", bucket: Any = ta.BUCKET,
         type_: str = LOCK, name: str = "object-lock", deps: Optional[dict[str, list[str]]] = None) -> Resource:
    """A BucketObjectLockConfiguration as the design states it (components/aws.py builds it)."""
    retention = {k: v for k, v in {"mode": mode, "days": days, "years": years}.items() if v is not None}
    props: dict[str, Any] = {"bucket": bucket, "rule": {"defaultRetention": retention}}
    if enabled is not None:
        props["objectLockEnabled"] = enabled
    return Resource(type_, name, props, deps or {})


def stack(*extra: Resource, days: Any = 30, mode: Any = "governance", component: bool = True, bucket_props: Optional[dict] = None,
          granted: bool = True) -> list[Resource]:
    resources = ta.with_component(ta.recording_stack(*extra, bucket_props=bucket_props), 365)
    if component:
        resources[0].props.update(immutableDays=days, immutableMode=mode, auditLogs=False)
    else:
        resources = resources[1:]
        for resource in resources:
            resource.parent = ""
    if not granted:  # tavusAccess: revoked: no role, no role policy
        resources = [r for r in resources if r.type not in (ta.ROLE, ta.RP)]
    return resources


def diagnostics(resources: list[Resource], config: Any = None, policy: str = POLICY) -> list[Any]:
    return [d for d in analyze_stack(resources, config) if d.policy == policy]


def test_the_kits_lock_passes_in_both_modes():
    assert diagnostics(stack(lock())) == []
    assert diagnostics(stack(lock("COMPLIANCE", 400), days=400, mode="compliance")) == []
    assert diagnostics(stack(lock(type_=LOCK_V2))) == []
    # A stack without immutableDays asks nothing, lock or none.
    assert diagnostics(stack(days=None, mode=None)) == []
    assert diagnostics(stack(lock("COMPLIANCE", 1), days=None, mode=None)) == []


@pytest.mark.parametrize("safe", [
    lock(days=31),  # longer keeps recordings as long
    lock(days=None, years=1),  # a year is at least 365 days
    lock("COMPLIANCE"),  # stronger than governance
    lock("COMPLIANCE", days=None, years=100),
    lock(days="30"),  # the bridge coerces "30" to 30
    lock(type_=LOCK_V2),
])
def test_a_lock_at_least_as_long_and_strong_is_a_safe_look_alike(safe):
    assert diagnostics(stack(safe)) == []


@pytest.mark.parametrize("mode", ["governance", "Governance", " GOVERNANCE "])
def test_the_mode_in_any_case_is_a_safe_look_alike(mode):
    assert diagnostics(stack(lock(mode))) == []


@pytest.mark.parametrize("drift, problem", [
    (lock(days=29), "locks recordings for 29 days, fewer than 30 days: they can be deleted sooner"),
    (lock(days="1"), "locks recordings for 1 days, fewer than 30 days"),  # the bridge coerces "1" to 1
    (lock(days=29.5), "fewer than 30 days"),
    (lock(days=0), "has a default retention with no period"),
    (lock("GOVERNANCE", days=None, years=0), "has a default retention with no period"),
    (lock(enabled=None), "has Object Lock off"),
    (lock(enabled="Disabled"), "has Object Lock off"),
    (lock(enabled="enabled ", mode=None, days=None), "no default retention"),
    (Resource(LOCK, "object-lock", {"bucket": ta.BUCKET, "objectLockEnabled": "Enabled"}), "no default retention"),
    (lock("GOVERNANCE_MODE"), "mode 'GOVERNANCE_MODE', which S3 does not know"),
    (lock(days=None), "has a default retention with no period"),
])
def test_each_drift_of_the_lock_is_reported_mandatory(drift, problem):
    found = diagnostics(stack(drift))
    assert found and all(d.level == "mandatory" for d in found) and any(problem in d.message for d in found), found
    assert f"'{drift.name}'" in found[0].message and "BucketObjectLockConfiguration(" in found[0].message


def test_a_period_in_years_shorter_than_the_stacks_days_is_reported():
    [found] = diagnostics(stack(lock(days=None, years=1), days=400))
    assert "locks recordings for 1 year(s), fewer than 400 days" in found.message
    assert diagnostics(stack(lock(days=None, years=2), days=400)) == []


def test_governance_where_the_stack_asks_compliance_is_reported():
    [found] = diagnostics(stack(lock("GOVERNANCE", 30), mode="compliance"))
    assert "in GOVERNANCE mode, not COMPLIANCE: an administrator holding s3:BypassGovernanceRetention" in found.message


@pytest.mark.parametrize("missing", [
    [],  # no lock at all
    [lock(bucket="other-bucket")],  # another bucket's lock
    [lock(bucket="recordings-logs", name="other-lock")],
])
def test_no_lock_on_the_recordings_bucket_is_reported_on_the_bucket(missing):
    [found] = diagnostics(stack(*missing))
    assert "'bucket' (aws:s3/bucket:Bucket" in found.message and "has Object Lock off" in found.message


def test_a_lock_bound_by_dependency_counts_and_an_unknown_one_waits():
    assert diagnostics(stack(lock(bucket=UNKNOWN, deps={"bucket": ["bucket"]}))) == []
    assert diagnostics(stack(lock(days=29, bucket=UNKNOWN, deps={"bucket": ["bucket"]}))) != []
    # Not known yet: the period, the mode, the component's settings; a lock whose bucket is unknown and bound to nothing.
    assert diagnostics(stack(lock(days=UNKNOWN))) == []
    assert diagnostics(stack(lock(mode=UNKNOWN))) == []
    assert diagnostics(stack(lock(days=1), days=UNKNOWN)) == []
    assert diagnostics(stack(lock(days=1), mode=UNKNOWN)) == []
    assert diagnostics(stack(lock(bucket=UNKNOWN))) == []


def test_a_revoked_stack_keeps_its_lock_judged():
    assert diagnostics(stack(lock(), granted=False)) == []
    assert diagnostics(stack(lock(days=1), granted=False)) != []


def test_the_inline_forms_count_where_no_lock_resource_exists():
    inline = {"objectLockConfiguration": {"objectLockEnabled": "Enabled", "rule": {"defaultRetention": {"mode": "GOVERNANCE", "days": 30}}}}
    assert diagnostics(stack(bucket_props=inline)) == []
    short = {"objectLockConfiguration": {"objectLockEnabled": "Enabled", "rule": {"defaultRetention": {"mode": "GOVERNANCE", "days": 3}}}}
    assert diagnostics(stack(bucket_props=short)) != []
    # pulumi-aws's top-level switch alone turns the lock on but sets no default retention.
    [found] = diagnostics(stack(bucket_props={"objectLockEnabled": True}))
    assert "no default retention" in found.message
    native = ta.native_recording_stack(bucket_props={"objectLockEnabled": True, "objectLockConfiguration": {
        "objectLockEnabled": "Enabled", "rule": {"defaultRetention": {"mode": "COMPLIANCE", "years": 1}}}})
    config = {POLICY: {"immutableDays": 365, "immutableMode": "compliance"}}
    assert diagnostics(native, config) == []
    assert diagnostics(native, {POLICY: {"immutableDays": 366}}) != []


def test_the_pack_config_is_a_minimum_where_no_component_declares_one():
    config = {POLICY: {"immutableDays": 30}}
    assert diagnostics(stack(lock(days=30), component=False), config) == []
    # At least: a longer period, a period in years, the stronger mode all pass.
    assert diagnostics(stack(lock(days=90), component=False), config) == []
    assert diagnostics(stack(lock(days=None, years=1), component=False), config) == []
    assert diagnostics(stack(lock("COMPLIANCE"), component=False), config) == []
    assert diagnostics(stack(lock(days=29), component=False), config) != []
    assert diagnostics(stack(component=False), config) != []
    # Without the config, a stack without the component asks nothing.
    assert diagnostics(stack(component=False)) == []


def test_the_pack_can_require_compliance_even_where_the_stack_asks_governance():
    config = {POLICY: {"immutableMode": "compliance"}}
    [found] = diagnostics(stack(lock("GOVERNANCE")), config)
    assert "not COMPLIANCE" in found.message
    assert diagnostics(stack(lock("COMPLIANCE"), mode="compliance"), config) == []
    assert diagnostics(stack(lock("GOVERNANCE"), component=False), config) != []
    assert diagnostics(stack(lock("GOVERNANCE"), component=False), {POLICY: {"immutableMode": "governance"}}) == []


def test_the_policy_can_be_made_advisory():
    [found] = diagnostics(stack(lock(days=1)), {POLICY: "advisory"})
    assert found.level == "advisory"


# --- aws.bucket.audit_trail

TRAIL = "aws:cloudtrail/trail:Trail"
AUDIT = "aws.bucket.audit_trail"
ARN_FIELD = {"field": "resources.ARN", "startsWiths": [f"{ta.BUCKET_ARN}/"]}


def kit_selectors(bucket_arn: str = ta.BUCKET_ARN) -> list[dict[str, Any]]:
    return tz._camel(aws_policy.audit_event_selectors(bucket_arn))


def trail(selectors: Any = None, name: str = "audit", **props: Any) -> Resource:
    """The kit's trail as the design states it (components/aws.py builds it), with `props` changed."""
    base = {"name": f"{ta.BUCKET}-audit", "s3BucketName": "recordings-audit-logs", "isMultiRegionTrail": False,
            "includeGlobalServiceEvents": False, "enableLogFileValidation": True, "enableLogging": True,
            "advancedEventSelectors": kit_selectors() if selectors is None else selectors}
    return Resource(TRAIL, name, {**base, **props})


def log_bucket() -> Resource:
    return Resource(ta.S3_BUCKET, "audit-logs", {"bucket": "recordings-audit-logs", "arn": "arn:aws:s3:::recordings-audit-logs"})


def audit_stack(*extra: Resource, audit: Any = True, **kwargs: Any) -> list[Resource]:
    """The stack with `extra`; with a trail, the kit's log bucket it logs into too (unless `extra` has one)."""
    if any(r.type == TRAIL for r in extra) and not any(r.type == ta.S3_BUCKET for r in extra):
        extra = (*extra, log_bucket())
    resources = stack(*extra, days=None, mode=None, **kwargs)
    if resources[0].type == ta.COMPONENT:
        resources[0].props["auditLogs"] = audit
        for resource in extra:
            resource.parent = resources[0].urn
    return resources


def fields(*changed: dict[str, Any], drop: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """The kit's one selector with some field selectors replaced (by field name) or dropped."""
    kept = [f for f in kit_selectors()[0]["fieldSelectors"] if f["field"] not in drop and f["field"] not in {c["field"] for c in changed}]
    return [{"fieldSelectors": [*kept, *changed]}]


def test_the_kits_trail_passes_and_its_log_bucket_is_not_a_recordings_bucket():
    assert diagnostics(audit_stack(trail(), log_bucket()), policy=AUDIT) == []
    # Its log bucket has no Object Lock and needs none (immutableDays is about recordings).
    with_lock = stack(lock(), trail(), log_bucket())
    log_bucket_resource = next(r for r in with_lock if r.name == "audit-logs")
    log_bucket_resource.parent = with_lock[0].urn
    assert diagnostics(with_lock, policy=POLICY) == []


SAFE_TRAILS = {
    "the API's PascalCase": [{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Data"]},
                                                 {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
                                                 {"Field": "resources.ARN", "StartsWith": [f"{ta.BUCKET_ARN}/"]}]}],
    "every bucket (no resources.ARN)": fields(drop=("resources.ARN",)),
    "every bucket (StartsWith arn:aws:s3:::)": fields({"field": "resources.ARN", "startsWiths": ["arn:aws:s3:::"]}),
    "reads and writes in two selectors": [*fields({"field": "readOnly", "equals": ["true"]}), *fields({"field": "readOnly", "equals": ["false"]})],
    "eventSource s3.amazonaws.com": fields({"field": "eventSource", "equals": ["s3.amazonaws.com"]}),
    "a NotStartsWith of another bucket": fields(ARN_FIELD, {"field": "resources.ARN", "notStartsWiths": ["arn:aws:s3:::other/"]}),
}


@pytest.mark.parametrize("name", SAFE_TRAILS)
def test_safe_look_alikes_of_the_kits_selector_pass(name):
    assert diagnostics(audit_stack(trail(SAFE_TRAILS[name])), policy=AUDIT) == []


def test_basic_event_selectors_count_alike():
    all_events = [{"readWriteType": "All", "includeManagementEvents": True,
                   "dataResources": [{"type": "AWS::S3::Object", "values": [f"{ta.BUCKET_ARN}/"]}]}]
    assert diagnostics(audit_stack(trail([], eventSelectors=all_events)), policy=AUDIT) == []
    every_bucket = [{**all_events[0], "dataResources": [{"type": "AWS::S3::Object", "values": ["arn:aws:s3"]}]}]
    assert diagnostics(audit_stack(trail([], eventSelectors=every_bucket)), policy=AUDIT) == []
    split = [{**all_events[0], "readWriteType": "ReadOnly"}, {**all_events[0], "readWriteType": "WriteOnly"}]
    assert diagnostics(audit_stack(trail([], eventSelectors=split)), policy=AUDIT) == []
    for kind, missing in (("WriteOnly", "reads"), ("ReadOnly", "writes")):
        [found] = diagnostics(audit_stack(trail([], eventSelectors=[{**all_events[0], "readWriteType": kind}])), policy=AUDIT)
        assert f"does not log the {missing} of every recording" in found.message
    for values in ([f"{ta.BUCKET_ARN}/calls/"], ["arn:aws:s3:::other/"], [ta.BUCKET_ARN + "-other/"]):
        prefixed = [{**all_events[0], "dataResources": [{"type": "AWS::S3::Object", "values": values}]}]
        assert diagnostics(audit_stack(trail([], eventSelectors=prefixed)), policy=AUDIT) != []


ATTACK_TRAILS = {
    "reads only": (fields({"field": "readOnly", "equals": ["true"]}), "does not log the writes"),
    "writes only": (fields({"field": "readOnly", "equals": ["false"]}), "does not log the reads"),
    "another bucket": (fields({"field": "resources.ARN", "startsWiths": ["arn:aws:s3:::other/"]}), "does not reach every object"),
    "a prefix": (fields({"field": "resources.ARN", "startsWiths": [f"{ta.BUCKET_ARN}/calls/"]}), "does not reach every object"),
    "exact objects": (fields({"field": "resources.ARN", "equals": [f"{ta.BUCKET_ARN}/a.mp4"]}), "does not reach every object"),
    "NotStartsWith a prefix of it": (fields(ARN_FIELD, {"field": "resources.ARN", "notStartsWiths": [f"{ta.BUCKET_ARN}/private/"]}),
                                     "does not reach every object"),
    "NotEndsWith": (fields(ARN_FIELD, {"field": "resources.ARN", "notEndsWiths": [".mp4"]}), "does not reach every object"),
    "management events": (fields({"field": "eventCategory", "equals": ["Management"]}), "does not select data events"),
    "no eventCategory": (fields(drop=("eventCategory",)), "does not select data events"),
    "buckets not objects": (fields({"field": "resources.type", "equals": ["AWS::S3::AccessPoint"]}), "does not select S3 objects"),
    "an eventName": (fields({"field": "eventName", "equals": ["PutObject"]}), "is narrowed by eventname"),
    "a user excluded": (fields({"field": "userIdentity.arn", "notStartsWiths": ["arn:aws:sts::111122223333:assumed-role/x"]}),
                        "is narrowed by useridentity.arn"),
    "no selector": ([], "does not log the reads and writes"),
}


@pytest.mark.parametrize("name", ATTACK_TRAILS)
def test_each_selector_that_misses_reads_or_writes_is_reported(name):
    selectors, problem = ATTACK_TRAILS[name]
    found = diagnostics(audit_stack(trail(selectors)), policy=AUDIT)
    assert found and found[0].level == "mandatory" and problem in found[0].message, found
    assert f"'audit' ({TRAIL}" in found[0].message


@pytest.mark.parametrize("change, problem", [
    ({"enableLogFileValidation": False}, "log file validation off"),
    ({"enableLogFileValidation": None}, "log file validation off"),  # pulumi-aws's default
    ({"enableLogging": False}, "is not logging"),
    ({"enableLogging": "false"}, "is not logging"),
    ({"region": "eu-west-1"}, "logs only eu-west-1, and the bucket is in us-east-1"),
])
def test_validation_logging_and_region_are_held(change, problem):
    resources = audit_stack(trail(**change), bucket_props={"region": "us-east-1"})
    found = diagnostics(resources, policy=AUDIT)
    assert found and any(problem in d.message for d in found), found
    multi = audit_stack(trail(region="eu-west-1", isMultiRegionTrail=True), bucket_props={"region": "us-east-1"})
    assert diagnostics(multi, policy=AUDIT) == []


def test_no_trail_is_reported_on_the_bucket_and_one_good_trail_among_others_is_enough():
    [found] = diagnostics(audit_stack(), policy=AUDIT)
    assert "'bucket' (aws:s3/bucket:Bucket" in found.message and "has no CloudTrail trail" in found.message
    other = trail(fields({"field": "resources.ARN", "startsWiths": ["arn:aws:s3:::other/"]}), name="other")
    assert diagnostics(audit_stack(other, trail()), policy=AUDIT) == []
    assert diagnostics(audit_stack(other), policy=AUDIT) != []


def test_without_audit_logs_nothing_is_asked_unless_the_pack_requires_it():
    assert diagnostics(audit_stack(audit=False), policy=AUDIT) == []
    assert diagnostics(audit_stack(audit=None), policy=AUDIT) == []
    config = {AUDIT: {"requireAuditLogs": True}}
    assert diagnostics(audit_stack(audit=False), config, policy=AUDIT) != []
    assert diagnostics(audit_stack(trail(), audit=False), config, policy=AUDIT) == []
    assert diagnostics(stack(component=False), config, policy=AUDIT) != []


def test_values_not_known_yet_wait():
    assert diagnostics(audit_stack(trail(UNKNOWN)), policy=AUDIT) == []
    assert diagnostics(audit_stack(trail(fields({"field": "resources.ARN", "startsWiths": [UNKNOWN]}))), policy=AUDIT) == []
    assert diagnostics(audit_stack(trail(enableLogging=UNKNOWN)), policy=AUDIT) == []
    assert diagnostics(audit_stack(audit=UNKNOWN), policy=AUDIT) == []
    assert diagnostics(audit_stack(bucket_props={"arn": UNKNOWN}), policy=AUDIT) == []


# --- the kit's own S3 stack, as the mock engine registers it


@pytest.mark.parametrize("mode", ["governance", "compliance"])
@pytest.mark.parametrize("access", ["granted", "revoked"])
def test_the_kits_stack_passes_and_dropping_its_lock_or_trail_is_reported(mode, access):
    run = run_program(s3_config(immutableDays="30", immutableMode=mode, auditLogs="true", tavusAccess=access))
    assert analyze_run("dev", run) == []
    for kind, policy in ((LOCK, POLICY), (TRAIL, AUDIT)):
        dropped = copy.copy(run)
        dropped.registrations = [r for r in run.registrations if r.type != kind]
        assert {d.policy for d in analyze_run("dev", dropped)} == {policy}
    stopped = copy.deepcopy(run)
    next(r for r in stopped.registrations if r.type == TRAIL).outputs["enableLogging"] = False
    assert {d.policy for d in analyze_run("dev", stopped)} == {AUDIT}


# --- redteam19b #4: a known name decides; a dependency counts only while the name is unknown

@pytest.mark.parametrize("name", ["decoy-bucket", "recordings-audit-logs", "Recordings", "arn:aws:s3:::other"])
def test_a_lock_bound_by_dependency_to_another_known_bucket_does_not_count(name):
    [found] = diagnostics(stack(lock(bucket=name, deps={"bucket": ["bucket"]})))
    assert "'bucket' (aws:s3/bucket:Bucket" in found.message and "has Object Lock off" in found.message


@pytest.mark.parametrize("name", [ta.BUCKET, UNKNOWN, ta.BUCKET_ARN])
def test_a_lock_naming_the_bucket_or_bound_while_unknown_counts(name):
    assert diagnostics(stack(lock(bucket=name, deps={"bucket": ["bucket"]}))) == []


def test_a_short_lock_bound_by_dependency_to_another_bucket_is_not_the_recordings_one():
    # The decoy's short lock is not judged as the recordings bucket's, which has none.
    [found] = diagnostics(stack(lock(days=1, bucket="decoy-bucket", deps={"bucket": ["bucket"]})))
    assert "has Object Lock off" in found.message


# --- redteam19b #6: the trail logs into a bucket of the stack, under no key or one of the stack

KEY_ARN = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def key() -> Resource:
    return Resource(ta.KMS_KEY, "logs-key", {"arn": KEY_ARN, "keyId": "1234abcd-12ab-34cd-56ef-1234567890ab", "isEnabled": True,
                                             "enableKeyRotation": True})


@pytest.mark.parametrize("props, deps, shown", [
    ({"s3BucketName": "attacker-logs"}, {}, "delivers its logs into bucket 'attacker-logs', which this stack does not define"),
    ({"s3BucketName": "attacker-logs"}, {"s3BucketName": ["audit-logs"]}, "into bucket 'attacker-logs'"),  # bound, but named another
    ({"s3BucketName": "Recordings-Audit-Logs"}, {}, "into bucket 'Recordings-Audit-Logs'"),
    ({"kmsKeyId": "arn:aws:kms:us-east-1:444455556666:key/abcd"}, {}, "encrypts its logs with KMS key 'arn:aws:kms:us-east-1:444455556666:key/abcd'"),
    ({"kmsKeyId": "alias/their-key"}, {}, "with KMS key 'alias/their-key', which this stack does not define"),
])
def test_a_trail_logging_elsewhere_or_under_a_foreign_key_is_reported(props, deps, shown):
    bad = trail(**props)
    bad.deps.update(deps)
    found = diagnostics(audit_stack(bad, log_bucket(), key()), policy=AUDIT)
    assert found and any(shown in d.message for d in found), found


def test_a_trail_logging_elsewhere_is_not_the_one_good_trail():
    assert diagnostics(audit_stack(trail(s3BucketName="attacker-logs", name="away"), log_bucket()), policy=AUDIT) != []
    assert diagnostics(audit_stack(trail(s3BucketName="attacker-logs", name="away"), trail(), log_bucket()), policy=AUDIT) == []


@pytest.mark.parametrize("props, deps", [
    ({}, {}),
    ({"s3BucketName": UNKNOWN}, {"s3BucketName": ["audit-logs"]}),  # bound while not known
    ({"kmsKeyId": KEY_ARN}, {}),
    ({"kmsKeyId": "1234abcd-12ab-34cd-56ef-1234567890ab"}, {}),
    ({"kmsKeyId": UNKNOWN}, {"kmsKeyId": ["logs-key"]}),
    ({"s3BucketName": UNKNOWN}, {}),  # not known yet: waits
])
def test_a_trail_logging_into_the_stacks_bucket_under_its_key_passes(props, deps):
    good = trail(**props)
    good.deps.update(deps)
    assert diagnostics(audit_stack(good, log_bucket(), key()), policy=AUDIT) == []


# --- redteam19b #2: the log bucket's lifecycle keeps the logs as long as the recordings

LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"


def log_lifecycle(*rules: dict[str, Any], deps: Optional[dict[str, list[str]]] = None, bucket: Any = "recordings-audit-logs") -> Resource:
    return Resource(LIFECYCLE, "audit-logs-lifecycle", {"bucket": bucket, "rules": list(rules)}, deps or {})


def expiring(days: Any = None, date: Any = None) -> dict[str, Any]:
    expiration = {k: v for k, v in {"days": days, "date": date}.items() if v is not None}
    return {"id": "expire", "status": "Enabled", "filter": {"prefix": ""}, "expiration": expiration}


@pytest.mark.parametrize("lifecycle", [
    log_lifecycle(expiring(1)),
    log_lifecycle(expiring(364)),
    log_lifecycle(expiring(date="2030-01-01T00:00:00Z")),
    log_lifecycle(expiring(1), bucket=UNKNOWN, deps={"bucket": ["audit-logs"]}),
])
def test_a_log_bucket_lifecycle_expiring_logs_before_the_recordings_is_reported(lifecycle):
    found = diagnostics(audit_stack(trail(), log_bucket(), lifecycle), policy=AUDIT)
    assert found and any("log bucket 'audit-logs' of the trail expires" in d.message for d in found), found


@pytest.mark.parametrize("lifecycle", [
    log_lifecycle(expiring(365)),
    log_lifecycle(expiring(3650)),
    log_lifecycle({"id": "old", "status": "Enabled", "filter": {}, "noncurrentVersionExpiration": {"noncurrentDays": 1}}),
    log_lifecycle({**expiring(1), "status": "Disabled"}),
    log_lifecycle(expiring(1), bucket="some-other-bucket"),
])
def test_a_log_bucket_lifecycle_that_keeps_logs_as_long_passes(lifecycle):
    assert diagnostics(audit_stack(trail(), log_bucket(), lifecycle), policy=AUDIT) == []

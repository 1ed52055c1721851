"""WORM retention (S3 Object Lock) and the audit trail (CloudTrail data events) of `S3RecordingStorage`, on Pulumi's
mock engine: the resources, their exact arguments and order, what outlives a destroy, and what the plan says."""

from __future__ import annotations

import ipaddress
import json
import re

import pulumi
import pytest
from hypothesis import given, strategies as st

from components import aws_policy
from components.aws import S3RecordingStorage
from stack_configs import s3_config
from tavus_recording.mock_engine import ProgramRun, resolve, run_component, run_program
from tavus_recording.plan import compliance_s3
from tavus_recording.plan.summary import summary

COMPONENT = "tavus-recording:index:S3RecordingStorage"
BUCKET = "aws:s3/bucket:Bucket"
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
LOCK = "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration"
PAB = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
OWNERSHIP = "aws:s3/bucketOwnershipControls:BucketOwnershipControls"
ENCRYPTION = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
POLICY = "aws:s3/bucketPolicy:BucketPolicy"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
TRAIL = "aws:cloudtrail/trail:Trail"
RECORDINGS = "rec-bucket-<random>"
LOGS = "rec-audit-logs-<random>"
TRAIL_NAME = "rec-bucket-<random>-audit"
TRAIL_ARN = f"arn:aws:cloudtrail:us-east-1:<account-id>:trail/{TRAIL_NAME}"


def build(**args) -> tuple[ProgramRun, S3RecordingStorage]:
    return run_component(lambda: S3RecordingStorage("rec", args))  # type: ignore[arg-type]


def named(run: ProgramRun, name: str):
    found = [r for r in run.registrations if r.name == name]
    assert len(found) == 1, (name, [r.name for r in run.registrations])
    return found[0]


def waits_for(run: ProgramRun, name: str) -> set[str]:
    """What a resource waits for beyond its bucket: its explicit dependencies, by name."""
    return {dep.split("::")[1] for dep in named(run, name).depends_on} - {"rec-bucket", "rec-audit-logs"}


def component_outputs(run: ProgramRun) -> dict:
    return run.one(COMPONENT).outputs


@pytest.fixture(scope="module")
def plain_run():
    return build()


@pytest.fixture(scope="module")
def audit_run():
    return build(audit_logs=True)


# --- WORM: off unless asked


def test_without_immutable_days_there_is_no_object_lock_and_the_bucket_never_asks_for_it(plain_run):
    run, _ = plain_run
    assert run.find(LOCK) == []
    assert "objectLockEnabled" not in run.one(BUCKET).inputs
    outputs = component_outputs(run)
    # None is left out of a component's registered outputs, as the policy pack then reads them.
    assert (outputs.get("immutableDays"), outputs.get("immutableMode"), outputs["auditLogs"]) == (None, None, False)


@pytest.mark.parametrize("mode, s3_mode", [(None, "GOVERNANCE"), ("governance", "GOVERNANCE"), ("compliance", "COMPLIANCE")])
def test_object_lock_default_retention_exactly_in_the_mode_asked(mode, s3_mode):
    args = {"immutable_days": 30} | ({"immutable_mode": mode} if mode else {})
    run, _ = build(**args)
    lock = run.one(LOCK)
    assert lock.name == "rec-object-lock"
    assert lock.inputs == {
        "bucket": RECORDINGS,
        "objectLockEnabled": "Enabled",
        "rule": {"defaultRetention": {"mode": s3_mode, "days": 30}},
    }
    # Never on the bucket: ForceNew there would replace a deployed (kept) bucket.
    assert "objectLockEnabled" not in run.one(BUCKET).inputs
    outputs = component_outputs(run)
    assert (outputs["immutableDays"], outputs["immutableMode"]) == (30, mode or "governance")


def test_object_lock_outlives_destroy_and_is_the_components_child():
    run, _ = build(immutable_days=7, immutable_mode="compliance")
    lock = run.one(LOCK)
    assert lock.retain_on_delete and not lock.protect
    assert lock.parent == f"{COMPONENT}::rec"


def test_object_lock_comes_right_after_versioning_in_the_serial_chain():
    # S3 needs versioning before Object Lock on an existing bucket, and answers concurrent configuration writes
    # with OperationAborted: the lock sits between versioning and the rest of the chain. The lifecycle, the longest
    # create of a deploy, waits for versioning only, as without WORM (the provider retries a racing write).
    run, _ = build(immutable_days=7)
    assert waits_for(run, "rec-versioning") == set()
    assert waits_for(run, "rec-object-lock") == {"rec-versioning"}
    assert waits_for(run, "rec-public-access-block") == {"rec-object-lock"}
    assert waits_for(run, "rec-ownership") == {"rec-public-access-block"}
    assert waits_for(run, "rec-encryption") == {"rec-ownership"}
    assert waits_for(run, "rec-tls-only") == {"rec-encryption"}
    assert waits_for(run, "rec-lifecycle") == {"rec-versioning"}


def test_every_other_resource_is_registered_exactly_as_without_worm(plain_run):
    plain, _ = plain_run
    locked, _ = build(immutable_days=7)
    strip = {"rec-public-access-block"}  # its dependency moved to the lock
    shape = lambda run: sorted((r.type, r.name, json.dumps(r.inputs, sort_keys=True), r.retain_on_delete,  # noqa: E731
                                None if r.name in strip else sorted(r.depends_on)) for r in run.registrations if r.type != LOCK)
    assert shape(locked) == shape(plain)


@pytest.mark.parametrize("args, says", [
    ({"immutable_days": pulumi.Output.from_input(30)}, "expected a plain whole number"),
    ({"immutable_days": True}, "expected a plain whole number"),
    ({"immutable_days": "30"}, "expected a plain whole number"),
    ({"immutable_days": 30.0}, "expected a plain whole number"),
    ({"immutable_days": -1}, "immutable_days is -1; expected a plain whole number of days from 1 to 36500"),
    ({"immutable_days": 36501}, "immutable_days is 36501; expected a plain whole number of days from 1 to 36500"),
    ({"immutable_mode": "compliance"}, "immutable_mode has no effect without immutable_days"),
    ({"immutable_days": 30, "immutable_mode": "Compliance"}, "immutable_mode is 'Compliance'"),
    ({"immutable_days": 30, "immutable_mode": "COMPLIANCE"}, "immutable_mode is 'COMPLIANCE'"),
    ({"immutable_days": 30, "immutable_mode": pulumi.Output.from_input("compliance")}, "expected a plain 'governance' or 'compliance'"),
    ({"audit_logs": "true"}, "expected a plain True or False"),
    ({"audit_logs": 1}, "expected a plain True or False"),
    ({"audit_logs": pulumi.Output.from_input(True)}, "expected a plain True or False"),
    ({"existing_bucket": "acme", "immutable_days": 30}, "apply only to a bucket the component creates"),
    ({"existing_bucket": "acme", "audit_logs": True}, "apply only to a bucket the component creates"),
])
def test_a_value_that_cannot_decide_the_resources_is_refused_before_any(args, says):
    with pytest.raises(Exception, match=re.escape(says)):
        build(**args)


@pytest.mark.parametrize("days", [1, 36500])
def test_the_day_limits_are_taken(days):
    run, _ = build(immutable_days=days)
    assert run.one(LOCK).inputs["rule"]["defaultRetention"]["days"] == days


# --- WORM: the plan


def test_plan_says_what_can_never_be_undone_and_the_checksum_risk_governance():
    run, _ = build(immutable_days=30, noncurrent_version_days=45)
    facts, line = compliance_s3.worm(run)
    assert facts == {
        "kind": "S3 Object Lock", "bucket": RECORDINGS, "mode": "GOVERNANCE", "days": 30, "noncurrent_version_days": 45,
        "irreversible": ["Object Lock cannot be turned off", "versioning cannot be suspended"],
        "upload_checksum_required": True,
    }
    assert line is not None
    assert "default retention GOVERNANCE 30 days" in line
    assert "Object Lock can never be turned off on this bucket and versioning can never be suspended" in line
    assert "s3:BypassGovernanceRetention" in line and "root user" not in line
    assert "Content-MD5 or an x-amz-sdk-checksum-algorithm header" in line
    assert "run `tavus-recording verify --tavus` before relying on it, and check that the first real recording lands" in line
    assert "expiry only adds delete markers" in line and "both its 45 noncurrent days and its retain-until date" in line


def test_plan_says_nobody_can_delete_early_in_compliance():
    run, _ = build(immutable_days=30, immutable_mode="compliance")
    facts, line = compliance_s3.worm(run)
    assert facts is not None and line is not None
    assert facts["mode"] == "COMPLIANCE" and facts["noncurrent_version_days"] == 30
    assert "no one can delete a locked version or shorten its lock, not even the root user" in facts["irreversible"]
    assert "nobody, not even the root user, can delete a version before its retain-until date" in line
    assert "BypassGovernanceRetention" not in line


def test_plan_says_nothing_about_worm_or_audit_when_off(plain_run):
    run, _ = plain_run
    assert compliance_s3.worm(run) == (None, None)
    assert compliance_s3.audit(run, []) == (None, None)


# --- Audit: resources


LOG_SETTINGS = ["rec-audit-logs-versioning", "rec-audit-logs-public-access-block", "rec-audit-logs-ownership",
                "rec-audit-logs-encryption", "rec-audit-logs-policy"]


def test_audit_adds_exactly_a_trail_and_a_hardened_log_bucket(plain_run, audit_run):
    plain, _ = plain_run
    run, _ = audit_run
    added = sorted((r.type, r.name) for r in run.registrations)
    for r in plain.registrations:
        added.remove((r.type, r.name))
    assert added == sorted([
        (BUCKET, "rec-audit-logs"), (VERSIONING, "rec-audit-logs-versioning"), (PAB, "rec-audit-logs-public-access-block"),
        (OWNERSHIP, "rec-audit-logs-ownership"), (ENCRYPTION, "rec-audit-logs-encryption"), (POLICY, "rec-audit-logs-policy"),
        (TRAIL, "rec-audit"),
    ])


def test_log_bucket_is_hardened_like_the_recordings_bucket(audit_run):
    run, _ = audit_run
    assert named(run, "rec-audit-logs").inputs == {"forceDestroy": False, "tags": {"managed-by": "tavus-recording"}}
    assert named(run, "rec-audit-logs-versioning").inputs == {"bucket": LOGS, "versioningConfiguration": {"status": "Enabled"}}
    assert named(run, "rec-audit-logs-public-access-block").inputs == {
        "bucket": LOGS, "blockPublicAcls": True, "blockPublicPolicy": True, "ignorePublicAcls": True, "restrictPublicBuckets": True,
    }
    assert named(run, "rec-audit-logs-ownership").inputs == {"bucket": LOGS, "rule": {"objectOwnership": "BucketOwnerEnforced"}}
    assert named(run, "rec-audit-logs-encryption").inputs == {
        "bucket": LOGS, "rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}, "blockedEncryptionTypes": ["SSE-C"]}],
    }
    # No lifecycle: the logs are evidence, never expired by the kit.
    assert not [r for r in run.find(LIFECYCLE) if r.inputs.get("bucket") == LOGS]


def test_log_bucket_policy_is_exactly_cloudtrail_for_this_trail_and_tls_only(audit_run):
    run, _ = audit_run
    policy = named(run, "rec-audit-logs-policy").inputs
    assert policy["bucket"] == LOGS
    assert json.loads(policy["policy"]) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AWSCloudTrailAclCheck",
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "s3:GetBucketAcl",
                "Resource": f"arn:aws:s3:::{LOGS}",
                "Condition": {"StringEquals": {"aws:SourceArn": TRAIL_ARN}},
            },
            {
                "Sid": "AWSCloudTrailWrite",
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "s3:PutObject",
                "Resource": f"arn:aws:s3:::{LOGS}/AWSLogs/<account-id>/*",
                "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control", "aws:SourceArn": TRAIL_ARN}},
            },
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [f"arn:aws:s3:::{LOGS}", f"arn:aws:s3:::{LOGS}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
        ],
    }


def test_the_policy_names_the_trail_the_stack_makes(audit_run):
    # aws:SourceArn is written before the trail exists: it must be the ARN the trail then gets.
    run, storage = audit_run
    document = json.loads(named(run, "rec-audit-logs-policy").inputs["policy"])
    source_arns = {s["Condition"]["StringEquals"]["aws:SourceArn"] for s in document["Statement"] if s["Effect"] == "Allow"}
    assert source_arns == {resolve(storage.audit_trail_arn)} == {TRAIL_ARN}
    assert run.one(TRAIL).outputs["arn"] == TRAIL_ARN


def test_trail_logs_every_object_read_and_write_of_this_bucket_only(audit_run):
    run, _ = audit_run
    trail = run.one(TRAIL)
    assert trail.name == "rec-audit"
    assert trail.inputs == {
        "name": TRAIL_NAME,
        "s3BucketName": LOGS,
        "isMultiRegionTrail": False,
        "includeGlobalServiceEvents": False,
        "enableLogFileValidation": True,
        "enableLogging": True,
        "advancedEventSelectors": [
            {
                "fieldSelectors": [
                    {"field": "eventCategory", "equals": ["Data"]},
                    {"field": "resources.type", "equals": ["AWS::S3::Object"]},
                    {"field": "resources.ARN", "startsWiths": [f"arn:aws:s3:::{RECORDINGS}/"]},
                ]
            }
        ],
        "tags": {"managed-by": "tavus-recording"},
    }


def test_selector_has_no_read_only_field_and_ends_the_bucket_name():
    selectors = aws_policy.audit_event_selectors("arn:aws:s3:::acme")
    fields = [f["field"] for s in selectors for f in s["field_selectors"]]
    assert "readOnly" not in fields  # reads and writes alike
    prefix = selectors[0]["field_selectors"][2]["starts_withs"]  # type: ignore[typeddict-item]
    assert prefix == ["arn:aws:s3:::acme/"]
    # A bucket that merely shares the name's prefix is not logged; every object of this one is.
    assert not "arn:aws:s3:::acme-other/x.mp4".startswith(prefix[0])
    assert "arn:aws:s3:::acme/conversations/x.mp4".startswith(prefix[0])


def test_log_bucket_is_kept_and_hardened_one_setting_at_a_time_and_the_trail_waits_for_its_policy(audit_run):
    run, _ = audit_run
    for name in ["rec-audit-logs", *LOG_SETTINGS]:
        assert named(run, name).retain_on_delete, name
        assert named(run, name).parent == f"{COMPONENT}::rec", name
    chain = LOG_SETTINGS
    assert waits_for(run, chain[0]) == set()
    for before, after in zip(chain, chain[1:]):
        assert waits_for(run, after) == {before}, after
    # CreateTrail refuses a bucket CloudTrail cannot write to: the policy first. Destroy stops the logging only.
    assert "aws:s3/bucketPolicy:BucketPolicy::rec-audit-logs-policy" in run.one(TRAIL).depends_on
    assert not run.one(TRAIL).retain_on_delete
    assert run.one(TRAIL).parent == f"{COMPONENT}::rec"


def test_audit_outputs_and_the_account_read(plain_run, audit_run):
    run, storage = audit_run
    outputs = component_outputs(run)
    assert outputs["auditLogs"] is True
    assert outputs["audit_trail_arn"] == TRAIL_ARN and outputs["audit_log_bucket"] == LOGS
    assert resolve(storage.audit_log_bucket) == LOGS
    assert [read.token for read in run.reads] == ["aws:index/getCallerIdentity:getCallerIdentity"]
    plain, plain_storage = plain_run
    assert plain.reads == [] and resolve(plain_storage.audit_trail_arn) is None


# --- Audit: the trail's name


# S3 bucket names (general purpose): 3-63 of lowercase letters, digits, `.`, `-`, starting and ending with a letter or digit.
BUCKET_NAMES = st.from_regex(r"\A[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]\Z").filter(lambda n: ".." not in n)


def cloudtrail_name_problem(name: str) -> str:
    """CloudTrail's CreateTrail Name rules (botocore cloudtrail model), as a problem or ''."""
    if not 3 <= len(name) <= 128:
        return "length"
    if not re.fullmatch(r"[A-Za-z0-9._-]+", name):
        return "characters"
    if not (name[0].isalnum() and name[-1].isalnum()):
        return "ends"
    if re.search(r"[._-]{2}", name):
        return "adjacent"
    try:
        ipaddress.ip_address(name)
        return "ip"
    except ValueError:
        return ""


@given(BUCKET_NAMES)
def test_every_bucket_name_gives_a_trail_name_cloudtrail_takes(bucket):
    assert cloudtrail_name_problem(aws_policy.audit_trail_name(bucket)) == ""


@pytest.mark.parametrize("bucket, trail", [
    ("acme-recordings", "acme-recordings-audit"),
    ("acme.recordings", "acme.recordings-audit"),
    ("acme--recordings", "acme-recordings-audit"),
    ("acme.-recordings", "acme.recordings-audit"),
    ("acme-.recordings", "acme-recordings-audit"),
    ("192.168.5.4", "192.168.5.4-audit"),
])
def test_trail_name_examples(bucket, trail):
    assert aws_policy.audit_trail_name(bucket) == trail
    assert cloudtrail_name_problem(trail) == ""


# --- Audit: the plan and the stack


def test_plan_audit_line_says_what_where_and_the_price_and_accounts_the_log_grant(audit_run):
    run, _ = audit_run
    grants: list = []
    facts, line = compliance_s3.audit(run, grants)
    assert [g.name for g in grants] == ["rec-audit-logs-policy"]
    assert facts is not None and line is not None
    assert facts["trail"] == TRAIL_NAME and facts["logged_buckets"] == [RECORDINGS] and facts["log_bucket"] == LOGS
    assert facts["log_file_validation"] is True
    assert f"logs every read and write of an object in bucket {RECORDINGS}" in line
    assert f"into bucket {LOGS}" in line
    assert "lets cloudtrail.amazonaws.com, for this trail only (aws:SourceArn)" in line
    assert "$0.10 per 100,000 data events" in line and "every delivery is charged" in line and "S3 storage" in line


def test_stack_exports_the_trail_and_log_bucket_only_with_audit_logs_and_says_nobody_else_is_granted():
    run = run_program(s3_config(auditLogs="true", immutableDays="30"))
    assert run.outputs["audit_trail_arn"] == "arn:aws:cloudtrail:us-east-1:<account-id>:trail/tavus-recordings-bucket-<random>-audit"
    assert run.outputs["audit_log_bucket"] == "tavus-recordings-audit-logs-<random>"
    lines = summary(run)["lines"]
    assert "Nobody else is granted anything by this stack." in lines
    assert not [line for line in lines if line.startswith("Also granted")]
    assert [line.split(":")[0] for line in lines[1:5]] == ["Data", "WORM", "Audit", "Access"]
    plain = run_program(s3_config())
    assert "audit_trail_arn" not in plain.outputs and "audit_log_bucket" not in plain.outputs


def test_revoking_tavus_keeps_the_lock_and_the_trail():
    # Cutting Tavus off is when the recordings and the record of who touched them matter most.
    run, storage = build(immutable_days=30, immutable_mode="compliance", audit_logs=True, tavus_access="revoked")
    assert run.find("aws:iam/role:Role") == []
    assert run.one(LOCK).inputs["rule"] == {"defaultRetention": {"mode": "COMPLIANCE", "days": 30}}
    assert run.one(TRAIL).inputs["advancedEventSelectors"][0]["fieldSelectors"][2]["startsWiths"] == [f"arn:aws:s3:::{RECORDINGS}/"]
    assert resolve(storage.audit_trail_arn) == TRAIL_ARN


# --- the policy pack on what the kit builds


@pytest.mark.parametrize("mode", ["governance", "compliance"])
def test_the_kits_worm_and_audit_stack_passes_the_pack_and_dropping_the_lock_is_reported(mode, monkeypatch):
    import copy
    from pathlib import Path

    monkeypatch.syspath_prepend(str(Path(__file__).parents[1] / "policy"))
    from test_policy_kit import analyze_run  # the pack as the engine calls it, on the mock engine's registrations

    run = run_program(s3_config(immutableDays="30", immutableMode=mode, auditLogs="true"))
    assert analyze_run("dev", run) == []
    without = copy.copy(run)
    without.registrations = [r for r in run.registrations if r.type != LOCK]
    assert {d.policy for d in analyze_run("dev", without)} == {"aws.bucket.object_lock"}

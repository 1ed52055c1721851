"""WORM retention (a bucket retention policy) and Data Access audit logs on `GcsRecordingStorage`, on Pulumi's
mock engine, and the merge of the project's audit config, on its own."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pytest
from hypothesis import given, settings as hypothesis_settings, strategies as st

from components import gcp_policy
from components.gcp import GcsRecordingStorage
from tavus_recording.mock_engine import PlanMocks, ProgramRun, run_component
from tavus_recording.plan import compliance_gcs

COMPONENT = "tavus-recording:index:GcsRecordingStorage"
BUCKET = "gcp:storage/bucket:Bucket"
AUDIT = "gcp:projects/iAMAuditConfig:IAMAuditConfig"
IAM_POLICY_READ = "gcp:projects/getIamPolicy:getIamPolicy"
FEDERATION = {"tavus_oidc_issuer": "https://issuer.tavus.example", "tavus_oidc_subject": "tavus-recording-writer"}
CONFIG = {"gcp:project": "acme-recordings"}


class ProjectWith(PlanMocks):
    """The mocks, with a project IAM policy that already holds `policy`, counting the resources registered."""

    def __init__(self, policy: Any = None) -> None:
        super().__init__(CONFIG)
        self.PROJECT_IAM_POLICY = policy or {}
        self.created: list[str] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[Any, dict]:
        self.created.append(args.typ)
        return super().new_resource(args)


def build(mocks: PlanMocks | None = None, **args: Any) -> tuple[ProgramRun, GcsRecordingStorage]:
    return run_component(lambda: GcsRecordingStorage("rec", {**FEDERATION, **args}), config=CONFIG, mocks=mocks)


def component_outputs(run: ProgramRun) -> dict[str, Any]:
    return run.one(COMPONENT).outputs


# --- WORM: the bucket's retention policy


@pytest.fixture(scope="module")
def governance_run() -> ProgramRun:
    return build(immutable_days=30, retention_days=365)[0]


@pytest.fixture(scope="module")
def compliance_run() -> ProgramRun:
    return build(immutable_days=30, immutable_mode="compliance", retention_days=365)[0]


@pytest.fixture(scope="module")
def default_run() -> ProgramRun:
    return build()[0]


def test_governance_is_an_unlocked_retention_policy_of_exactly_the_days_in_seconds(governance_run):
    bucket = governance_run.one(BUCKET)
    # pulumi-gcp v10 types the period as a string of seconds.
    assert bucket.inputs["retentionPolicy"] == {"retentionPeriod": "2592000", "isLocked": False}
    assert bucket.retain_on_delete and bucket.inputs["forceDestroy"] is False


def test_compliance_locks_the_retention_policy(compliance_run):
    assert compliance_run.one(BUCKET).inputs["retentionPolicy"] == {"retentionPeriod": "2592000", "isLocked": True}


@pytest.mark.parametrize("days", [1, 7, 365, 2557, 36500])
def test_the_period_is_days_times_86400_as_a_string(days):
    policy = gcp_policy.retention_policy(days, "governance")
    assert policy == {"retention_period": str(days * 86400), "is_locked": False}
    # Under the provider's ceiling of 3,155,760,000 seconds (pulumi-gcp storage/_inputs.py).
    assert int(policy["retention_period"]) < 3_155_760_000


@pytest.mark.parametrize("run_name", ["governance_run", "compliance_run"])
def test_with_worm_versioning_is_off_and_leftover_versions_are_still_cleaned_up(request, run_name):
    bucket = request.getfixturevalue(run_name).one(BUCKET).inputs
    # Cloud Storage refuses Object Versioning beside a retention policy.
    assert bucket["versioning"] == {"enabled": False}
    rules = bucket["lifecycleRules"]
    assert {"action": {"type": "Delete"}, "condition": {"daysSinceNoncurrentTime": 30, "withState": "ARCHIVED"}} in rules
    assert {"action": {"type": "Delete"}, "condition": {"age": 365, "withState": "LIVE"}} in rules


def test_without_worm_there_is_no_retention_policy_and_versioning_stays_on(default_run):
    bucket = default_run.one(BUCKET).inputs
    assert "retentionPolicy" not in bucket
    assert bucket["versioning"] == {"enabled": True}


def test_worm_keeps_the_cold_tier_and_the_deletion_rule():
    run, _ = build(immutable_days=60, retention_days=365, cold_after_days=90)
    rules = run.one(BUCKET).inputs["lifecycleRules"]
    assert [r["action"]["type"] for r in rules] == ["Delete", "AbortIncompleteMultipartUpload", "Delete", "SetStorageClass"]


@pytest.mark.parametrize(("args", "expected"), [
    ({}, {"immutableDays": None, "immutableMode": None, "auditLogs": False}),
    ({"immutable_days": 30}, {"immutableDays": 30, "immutableMode": "governance", "auditLogs": False}),
    ({"immutable_days": 30, "immutable_mode": "governance"}, {"immutableDays": 30, "immutableMode": "governance", "auditLogs": False}),
    ({"immutable_days": 30, "immutable_mode": "compliance", "audit_logs": True},
     {"immutableDays": 30, "immutableMode": "compliance", "auditLogs": True}),
    ({"audit_logs": False}, {"immutableDays": None, "immutableMode": None, "auditLogs": False}),
])
def test_the_component_registers_what_the_stack_asked_for(args, expected):
    # The policy pack reads these to hold the bucket and the project to them.
    outputs = component_outputs(build(**args)[0])
    assert {key: outputs.get(key) for key in expected} == expected


@pytest.mark.parametrize(("args", "says"), [
    ({"immutable_days": pulumi.Output.from_input(30)}, "expected a plain whole number"),
    ({"immutable_days": 30, "immutable_mode": pulumi.Output.from_input("compliance")}, "expected a plain 'governance' or 'compliance'"),
    ({"audit_logs": pulumi.Output.from_input(True)}, "expected a plain True or False"),
    ({"audit_logs": "true"}, "expected a plain True or False"),
    ({"immutable_mode": "compliance"}, "has no effect without immutable_days"),
    ({"immutable_days": 30, "immutable_mode": "Compliance"}, "immutable_mode is 'Compliance'"),
    ({"immutable_days": 30, "immutable_mode": "locked"}, "immutable_mode is 'locked'"),
    ({"immutable_days": -1}, "immutable_days is -1"),
    ({"immutable_days": 36501}, "immutable_days is 36501"),
    ({"immutable_days": True}, "immutable_days is True"),
    ({"immutable_days": "30"}, "immutable_days is '30'"),
    ({"immutable_days": 30, "existing_bucket": "acme-by-hand"}, "apply to a bucket the component creates"),
    ({"audit_logs": True, "existing_bucket": "acme-by-hand"}, "apply to a bucket the component creates"),
])
def test_the_component_refuses_what_it_cannot_build_before_any_resource(args, says):
    mocks = ProjectWith()
    with pytest.raises(Exception, match=says):
        build(mocks, **args)
    assert [t for t in mocks.created if t != COMPONENT] == []  # no child resource


def test_the_safe_look_alikes_are_accepted():
    for args in ({"immutable_days": 0}, {"immutable_days": None, "immutable_mode": ""}, {"immutable_days": 36500},
                 {"existing_bucket": "acme-by-hand", "audit_logs": False}):
        build(**args)


# --- the plan's WORM line


def test_the_plan_says_governance_is_unlocked_and_who_can_lift_it(governance_run):
    facts, line = compliance_gcs.worm(governance_run)
    assert facts == {"kind": "bucket retention policy", "days": 30, "seconds": 2592000, "locked": False,
                     "mode": "governance", "versioning": False}
    assert "30 days" in line and "not locked" in line and "storage.buckets.update" in line
    assert "Object Versioning is off" in line and "refuses it beside a retention policy" in line


def test_the_plan_says_compliance_cannot_be_undone(compliance_run):
    facts, line = compliance_gcs.worm(compliance_run)
    assert facts["locked"] and facts["mode"] == "compliance"
    assert "LOCKED" in line and "cannot be undone" in line and "period can only grow" in line
    assert "bucket cannot be deleted until every object is older than 30 days" in line


def test_the_plan_says_nothing_of_worm_when_it_is_off(default_run):
    assert compliance_gcs.worm(default_run) == (None, None)


# --- audit: Data Access audit logs for Cloud Storage, merged with the project's


@pytest.fixture(scope="module")
def audit_run() -> ProgramRun:
    return build(audit_logs=True)[0]


def test_audit_turns_on_data_read_and_data_write_for_cloud_storage(audit_run):
    config = audit_run.one(AUDIT)
    assert config.name == "rec-data-access-logs" and config.parent == f"{COMPONENT}::rec"
    assert config.inputs == {
        "project": "acme-recordings",
        "service": "storage.googleapis.com",
        "auditLogConfigs": [{"logType": "DATA_READ"}, {"logType": "DATA_WRITE"}],
    }


def test_the_audit_config_is_kept_on_destroy_and_waits_for_no_service(audit_run):
    config = audit_run.one(AUDIT)
    # Deleting it would remove the project's whole Cloud Storage audit entry, which others may rely on.
    assert config.retain_on_delete
    # It is written through Resource Manager, which the kit does not enable: no service it enables is on its path.
    services = {f"gcp:projects/service:Service::{s.name}" for s in audit_run.find("gcp:projects/service:Service")}
    assert len(services) == 4 and not services & set(config.depends_on)


def test_the_projects_policy_is_read_with_the_providers_data_source(audit_run):
    reads = [read for read in audit_run.reads if read.token == IAM_POLICY_READ]
    assert [read.args.get("project") for read in reads] == ["acme-recordings"]


def test_without_audit_logs_nothing_is_read_or_changed_in_the_project(default_run):
    assert not default_run.find(AUDIT)
    assert IAM_POLICY_READ not in [read.token for read in default_run.reads]


EXISTING = {
    "bindings": [{"role": "roles/owner", "members": ["user:owner@example.com"]}],
    "auditConfigs": [
        {"service": "storage.googleapis.com", "auditLogConfigs": [
            {"logType": "ADMIN_READ"},
            {"logType": "DATA_READ", "exemptedMembers": ["serviceAccount:backup@acme.iam.gserviceaccount.com"]},
        ]},
        {"service": "allServices", "auditLogConfigs": [{"logType": "DATA_WRITE", "exemptedMembers": ["user:ops@example.com"]}]},
        {"service": "bigquery.googleapis.com", "auditLogConfigs": [{"logType": "DATA_READ", "exemptedMembers": ["user:bq@example.com"]}]},
    ],
}


@pytest.fixture(scope="module")
def merged_run() -> ProgramRun:
    return build(ProjectWith(EXISTING), audit_logs=True)[0]


def test_the_projects_existing_cloud_storage_config_is_merged_not_replaced(merged_run):
    assert merged_run.one(AUDIT).inputs["auditLogConfigs"] == [
        {"logType": "ADMIN_READ"},
        {"logType": "DATA_READ", "exemptedMembers": ["serviceAccount:backup@acme.iam.gserviceaccount.com"]},
        {"logType": "DATA_WRITE"},
    ]


def test_the_plan_reports_the_exemptions_it_keeps(merged_run):
    facts, line = compliance_gcs.audit(merged_run, [])
    assert facts["exempted_members"] == {"DATA_READ": ["serviceAccount:backup@acme.iam.gserviceaccount.com"]}
    assert "NOT logged: DATA_READ: serviceAccount:backup@acme.iam.gserviceaccount.com" in line


def test_the_plan_says_project_wide_merged_kept_and_what_it_costs(audit_run):
    grants: list = []
    facts, line = compliance_gcs.audit(audit_run, grants)
    assert facts["scope"] == "project" and facts["merged"] and facts["kept_on_destroy"]
    assert facts["log_types"] == ["DATA_READ", "DATA_WRITE"] and facts["exempted_members"] == {}
    assert "every bucket of the project" in line and "acme-recordings" in line
    assert "merges" in line and "not replaced" in line and "stays on `pulumi destroy`" in line
    assert "$0.50 per GiB" in line and "first 50 GiB per project per month" in line and "30 days" in line
    assert "https://cloud.google.com/stackdriver/pricing" in line
    assert "NOT logged" not in line
    assert grants == []  # an audit config grants nobody anything


def test_the_plan_says_nothing_of_audit_when_it_is_off(default_run):
    assert compliance_gcs.audit(default_run, []) == (None, None)


# --- the merge, on its own


def test_an_empty_project_gets_exactly_data_read_and_data_write():
    for policy in ("{}", "", {}, None, json.dumps({"bindings": []})):
        assert gcp_policy.merged_audit_log_configs(policy) == [{"log_type": "DATA_READ"}, {"log_type": "DATA_WRITE"}]


@pytest.mark.parametrize("service", ["allServices", "Storage.googleapis.com", "storage.googleapis.com ",
                                     "storage.googleapis.com.evil", "bigquery.googleapis.com"])
def test_only_the_cloud_storage_entry_is_merged(service):
    # Other services' entries (allServices included) are separate configs the kit neither copies nor changes.
    policy = {"auditConfigs": [{"service": service, "auditLogConfigs": [
        {"logType": "ADMIN_READ", "exemptedMembers": ["user:x@example.com"]}]}]}
    assert gcp_policy.merged_audit_log_configs(policy) == [{"log_type": "DATA_READ"}, {"log_type": "DATA_WRITE"}]


def test_an_unknown_log_type_is_not_passed_on():
    # The provider takes only ADMIN_READ, DATA_READ and DATA_WRITE (pulumi-gcp projects/_inputs.py).
    policy = {"auditConfigs": [{"service": "storage.googleapis.com", "auditLogConfigs": [
        {"logType": "LOG_TYPE_UNSPECIFIED"}, {"logType": "data_read", "exemptedMembers": ["user:x@example.com"]}]}]}
    assert gcp_policy.merged_audit_log_configs(policy) == [{"log_type": "DATA_READ"}, {"log_type": "DATA_WRITE"}]


@pytest.mark.parametrize("policy", ["not json", "[1, 2]", "{", 42])
def test_a_policy_that_cannot_be_read_stops_the_deploy(policy):
    # Replacing an authoritative config from a policy the kit could not read could drop the owner's settings.
    with pytest.raises(ValueError, match="project's IAM policy"):
        gcp_policy.merged_audit_log_configs(policy)


_members = st.lists(st.sampled_from(["user:a@example.com", "group:sec@example.com", "serviceAccount:b@p.iam.gserviceaccount.com",
                                     "domain:example.com", ""]), max_size=3)
_log_configs = st.lists(st.fixed_dictionaries(
    {"logType": st.sampled_from(["ADMIN_READ", "DATA_READ", "DATA_WRITE", "LOG_TYPE_UNSPECIFIED"])},
    optional={"exemptedMembers": _members}), max_size=4)
_entries = st.lists(st.fixed_dictionaries({
    "service": st.sampled_from(["storage.googleapis.com", "allServices", "bigquery.googleapis.com"]),
    "auditLogConfigs": _log_configs}), max_size=4)


@hypothesis_settings(max_examples=200, deadline=None)
@given(_entries)
def test_merging_keeps_every_existing_type_and_exemption_and_adds_data_read_and_write(entries):
    merged = gcp_policy.merged_audit_log_configs(json.dumps({"auditConfigs": entries}))
    by_type = {c["log_type"]: c.get("exempted_members", []) for c in merged}
    assert len(by_type) == len(merged) and list(by_type) == sorted(by_type)  # one entry per type, in order
    assert {"DATA_READ", "DATA_WRITE"} <= set(by_type) <= {"ADMIN_READ", "DATA_READ", "DATA_WRITE"}
    storage = [c for e in entries if e["service"] == "storage.googleapis.com" for c in e["auditLogConfigs"]]
    for config in storage:
        if config["logType"] != "LOG_TYPE_UNSPECIFIED":
            assert {m for m in config.get("exemptedMembers", []) if m} <= set(by_type[config["logType"]])
    # Nobody is exempted who was not exempted for Cloud Storage before.
    kept = {m for c in storage for m in c.get("exemptedMembers", [])}
    assert {m for members in by_type.values() for m in members} <= kept
    # Merging again (the policy now holds the kit's config) changes nothing: `pulumi up` twice is a no-op.
    again = {"auditConfigs": [e for e in entries if e["service"] != "storage.googleapis.com"] + [{
        "service": "storage.googleapis.com",
        "auditLogConfigs": [{"logType": c["log_type"], **({"exemptedMembers": c["exempted_members"]} if "exempted_members" in c else {})}
                            for c in merged]}]}
    assert gcp_policy.merged_audit_log_configs(again) == merged

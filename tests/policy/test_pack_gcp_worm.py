"""The pack's GCS WORM and audit-log policies (issue 19), called as the engine calls them, on the resources
GcsRecordingStorage deploys as the design states them: the kit's own shape passes, each drift is reported
by exactly its policy, and values not known yet wait."""

import copy
import json
from collections.abc import Mapping, Sequence
from typing import Any

import pytest

import test_pack_gcp as tg
from components import gcp_policy
from pack_harness import UNKNOWN, Resource, analyze_stack
from stack_configs import gcs_config
from tavus_recording.mock_engine import ProgramRun, run_program
from test_policy_kit import analyze_run

RETENTION = "gcs.bucket.retention"
DAY = 86400


def retention(days: Any, locked: Any = None) -> dict[str, Any]:
    """A bucket's retentionPolicy as pulumi-gcp's props carry it (retentionPeriod a string of seconds)."""
    policy: dict[str, Any] = {"retentionPeriod": str(days * DAY) if isinstance(days, int) else days}
    return {"retentionPolicy": policy if locked is None else {**policy, "isLocked": locked}}


def worm(days: Any = 30, mode: Any = "governance") -> dict[str, Any]:
    """What the component registers: immutableDays and the mode in force."""
    return {"immutableDays": days, "immutableMode": mode}


def findings(resources: list[Resource], policy: str, config: Any = None) -> list[Any]:
    return [d for d in analyze_stack(resources, config) if d.policy == policy]


@pytest.mark.parametrize("mode, locked", [("governance", False), ("governance", None), ("governance", True), ("compliance", True)])
def test_the_kits_retention_passes_and_a_locked_one_is_stricter_than_governance(mode, locked):
    assert findings(tg.kit(bucket=retention(30, locked), component=worm(30, mode)), RETENTION) == []
    # Longer than asked is stricter, never a finding.
    assert findings(tg.kit(bucket=retention(400, locked), component=worm(30, mode)), RETENTION) == []


@pytest.mark.parametrize("locked", [False, None, "false"])
def test_a_compliance_stacks_unlocked_policy_is_reported_mandatory(locked):
    [diagnostic] = findings(tg.kit(bucket=retention(30, locked), component=worm(30, "compliance")), RETENTION)
    assert diagnostic.level == "mandatory" and diagnostic.urn.endswith("::bucket")
    assert "not locked" in diagnostic.message and "is_locked" in diagnostic.message


@pytest.mark.parametrize("mode", ["governance", "compliance"])
@pytest.mark.parametrize("bucket", [{}, retention(29, True), {"retentionPolicy": None}, retention("2505600", True),
                                    {"retentionPolicy": {"retentionPeriod": 7 * DAY, "isLocked": True}}])
def test_a_policy_removed_or_shorter_is_reported_in_either_mode(mode, bucket):
    [diagnostic] = findings(tg.kit(bucket=bucket, component=worm(30, mode)), RETENTION)
    assert "no retention policy" in diagnostic.message or "shorter than the 30 days" in diagnostic.message


def test_the_period_as_a_number_is_read_like_the_string():
    assert findings(tg.kit(bucket={"retentionPolicy": {"retentionPeriod": 30 * DAY, "isLocked": True}},
                           component=worm(30, "compliance")), RETENTION) == []


def test_the_pack_config_compliance_holds_whatever_the_stack_says():
    config = {RETENTION: {"immutableMode": "compliance"}}
    # The stack asks for governance, the organisation for compliance: the unlocked policy is reported.
    assert len(findings(tg.kit(bucket=retention(30, False), component=worm(30, "governance")), RETENTION, config)) == 1
    assert findings(tg.kit(bucket=retention(30, True), component=worm(30, "governance")), RETENTION, config) == []
    # Config days stand in where the component declares none; config governance asks for no lock.
    days_only = {RETENTION: {"immutableDays": 10, "immutableMode": "governance"}}
    assert findings(tg.kit(bucket=retention(10, False)), RETENTION, days_only) == []
    both = {RETENTION: {"immutableDays": 10, "immutableMode": "compliance"}}
    assert len(findings(tg.kit(bucket=retention(10, False)), RETENTION, both)) == 1
    # Nothing asks for retention: a compliance floor alone asks for nothing.
    assert findings(tg.kit(), RETENTION, config) == []


@pytest.mark.parametrize("bucket, component", [
    ({"retentionPolicy": UNKNOWN}, worm(30, "compliance")),
    ({"retentionPolicy": {"retentionPeriod": UNKNOWN, "isLocked": False}}, worm(30, "compliance")),
    (retention(30, False), worm(30, UNKNOWN)),
])
def test_values_not_known_yet_wait(bucket, component):
    assert findings(tg.kit(bucket=bucket, component=component), RETENTION) == []


def test_a_stack_without_worm_asks_nothing_of_the_bucket():
    assert findings(tg.kit(component=worm(None, None)), RETENTION) == []
    assert findings(tg.kit(bucket=retention(1, False), component=worm(None, None)), RETENTION) == []


# --- gcs.project.data_access_logs

LOGS = "gcs.project.data_access_logs"
AUDIT_CONFIG = "gcp:projects/iAMAuditConfig:IAMAuditConfig"
WRITER_SA = tg.WRITER


def camel(configs: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """pulumi-gcp's audit_log_configs as the engine hands them to the pack."""
    return [{"logType": c["log_type"], **({"exemptedMembers": c["exempted_members"]} if "exempted_members" in c else {})} for c in configs]


def audit_config(log_configs: Any, service: Any = "storage.googleapis.com", project: Any = tg.PROJECT, name: str = "data-access-logs",
                 deps: Any = None) -> Resource:
    return Resource(AUDIT_CONFIG, name, {"project": project, "service": service, "auditLogConfigs": log_configs}, deps or {})


def kit_audit(policy_data: Any = "{}") -> Resource:
    """The kit's own IAMAuditConfig: the project's current storage config merged with DATA_READ and DATA_WRITE."""
    return audit_config(camel(gcp_policy.merged_audit_log_configs(policy_data)))


def logged(*extra: Resource, audit: Any = True, bucket: Any = None) -> list[Resource]:
    return tg.kit(*extra, bucket=bucket, component={"auditLogs": audit})


def test_the_kits_audit_config_passes():
    assert findings(logged(kit_audit()), LOGS) == []
    # Merged with what the project had: ADMIN_READ kept, still passing.
    existing = {"auditConfigs": [{"service": "storage.googleapis.com", "auditLogConfigs": [{"logType": "ADMIN_READ"}]}]}
    assert findings(logged(kit_audit(json.dumps(existing))), LOGS) == []


@pytest.mark.parametrize("log_configs", [
    [],
    [{"logType": "DATA_WRITE"}],
    [{"logType": "DATA_READ"}],
    [{"logType": "ADMIN_READ"}],
    [{"logType": "data_read"}, {"logType": "data_write"}],
    [{"logType": "DATA_READ "}, {"logType": "DATA_WRITE"}],
    None,
])
def test_an_audit_config_missing_a_data_log_type_is_reported_on_the_bucket(log_configs):
    [diagnostic] = findings(logged(audit_config(log_configs)), LOGS)
    assert diagnostic.level == "mandatory" and diagnostic.urn.endswith("::bucket") and "does not log" in diagnostic.message


def test_no_audit_config_at_all_or_one_for_another_service_or_project_is_reported():
    assert len(findings(logged(), LOGS)) == 1
    both = [{"logType": "DATA_READ"}, {"logType": "DATA_WRITE"}]
    assert len(findings(logged(audit_config(both, service="bigquery.googleapis.com")), LOGS)) == 1
    assert len(findings(logged(audit_config(both, service="Storage.googleapis.com")), LOGS)) == 1
    assert len(findings(logged(audit_config(both, project="other-project")), LOGS)) == 1


def test_all_services_covers_cloud_storage_and_is_unioned_with_its_own():
    both = [{"logType": "DATA_READ"}, {"logType": "DATA_WRITE"}]
    assert findings(logged(audit_config(both, service="allServices")), LOGS) == []
    split = [audit_config([{"logType": "DATA_READ"}], service="allServices", name="all"), audit_config([{"logType": "DATA_WRITE"}])]
    assert findings(logged(*split), LOGS) == []
    # The same in a project IAMPolicy's policy data.
    policy = {"bindings": [], "auditConfigs": [{"service": "allServices", "auditLogConfigs": both}]}
    assert findings(logged(Resource(tg.PROJECT_POLICY, "project-policy", {"project": tg.PROJECT, "policyData": json.dumps(policy)})), LOGS) == []


@pytest.mark.parametrize("service", ["storage.googleapis.com", "allServices"])
@pytest.mark.parametrize("log_type", ["DATA_READ", "DATA_WRITE"])
def test_an_exempted_member_is_reported_on_the_config_that_exempts_it(service, log_type):
    configs = [{"logType": t, **({"exemptedMembers": [WRITER_SA]} if t == log_type else {})} for t in ("DATA_READ", "DATA_WRITE")]
    [diagnostic] = findings(logged(audit_config(configs, service=service)), LOGS)
    assert diagnostic.urn.endswith("::data-access-logs") and WRITER_SA in diagnostic.message and log_type in diagnostic.message
    # The kit keeps an exemption the project had: it is still reported.
    existing = {"auditConfigs": [{"service": "storage.googleapis.com", "auditLogConfigs": [{"logType": log_type, "exemptedMembers": [WRITER_SA]}]}]}
    assert len(findings(logged(kit_audit(json.dumps(existing))), LOGS)) == 1


def test_an_admin_read_exemption_is_not_about_recordings():
    configs = [{"logType": "DATA_READ"}, {"logType": "DATA_WRITE"}, {"logType": "ADMIN_READ", "exemptedMembers": [WRITER_SA]}]
    assert findings(logged(audit_config(configs)), LOGS) == []


def test_without_audit_logs_nothing_is_asked_unless_the_pack_requires_it():
    assert findings(logged(audit=False), LOGS) == []
    assert findings(tg.kit(), LOGS) == []
    config = {LOGS: {"requireAuditLogs": True}}
    assert len(findings(tg.kit(), LOGS, config)) == 1
    assert findings(tg.kit(kit_audit()), LOGS, config) == []
    assert findings(logged(kit_audit()), LOGS, {LOGS: {"requireAuditLogs": False}}) == []


@pytest.mark.parametrize("extra, audit", [
    ([audit_config(UNKNOWN)], True),
    ([audit_config([{"logType": UNKNOWN}])], True),
    ([audit_config([], project=UNKNOWN)], True),
    ([Resource(tg.PROJECT_POLICY, "project-policy", {"project": tg.PROJECT, "policyData": UNKNOWN})], True),
    ([], UNKNOWN),
])
def test_audit_values_not_known_yet_wait(extra, audit):
    assert findings(logged(*extra, audit=audit), LOGS) == []


def test_a_config_whose_project_comes_from_the_bucket_counts_for_it():
    resource = audit_config([{"logType": "DATA_READ"}, {"logType": "DATA_WRITE"}], project=UNKNOWN, deps={"project": ["bucket"]})
    assert findings(logged(resource), LOGS) == []
    short = audit_config([{"logType": "DATA_READ"}], project=UNKNOWN, deps={"project": ["bucket"]})
    assert len(findings(logged(short), LOGS)) == 1


# --- the kit's own program, as GcsRecordingStorage really registers it


@pytest.fixture(scope="module")
def worm_run() -> ProgramRun:
    return run_program(gcs_config(immutableDays="30", immutableMode="compliance", auditLogs="true"), stack="gcs")


def test_the_kits_compliance_and_audit_stack_passes(worm_run: ProgramRun):
    assert analyze_run("gcs", worm_run) == []


FLIPS = [
    ("gcp:storage/bucket:Bucket", lambda props: props["retentionPolicy"].update(isLocked=False), RETENTION),
    ("gcp:storage/bucket:Bucket", lambda props: props["retentionPolicy"].update(retentionPeriod=str(29 * DAY)), RETENTION),
    ("gcp:projects/iAMAuditConfig:IAMAuditConfig",
     lambda props: props.update(auditLogConfigs=[c for c in props["auditLogConfigs"] if c["logType"] != "DATA_READ"]), LOGS),
    ("gcp:projects/iAMAuditConfig:IAMAuditConfig",
     lambda props: props["auditLogConfigs"][0].update(exemptedMembers=[tg.WRITER]), LOGS),
]


@pytest.mark.parametrize("type_, change, policy", FLIPS, ids=[f"{f[2]}-{i}" for i, f in enumerate(FLIPS)])
def test_one_flipped_property_of_the_kit_is_reported_by_exactly_its_policy(worm_run: ProgramRun, type_, change, policy):
    run = copy.deepcopy(worm_run)
    target = run.one(type_)
    change(target.inputs)
    change(target.outputs)
    diagnostics = analyze_run("gcs", run)
    assert {d.policy for d in diagnostics} == {policy} and len(diagnostics) == 1, diagnostics

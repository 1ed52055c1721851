"""`coldAfterDays` end to end: the setting and its refusals, each cloud's lifecycle document (exactly), the
resources on the mock engine, and the plan's line with the charges."""

from __future__ import annotations

import pytest
from hypothesis import given, settings as hypothesis_settings, strategies as st

from components import aws_policy, azure_policy, gcp_policy
from components.aws import S3RecordingStorage
from components.azure import AzureBlobRecordingStorage
from components.gcp import GcsRecordingStorage
from components.lifecycle import COLD_AFTER_MIN_DAYS, COLD_MIN_STORAGE_DAYS, cold_stay_days
from components.settings import parse_settings
from settings_checks import error_for, problem_line
from settings_invariants import MAX_DAYS, assert_one_plain_line_per_key
from stack_configs import azure_config, gcs_config, s3_config
from tavus_recording.mock_engine import run_component, run_program
from tavus_recording.plan.summary import summary

KEY = "tavus-recording:coldAfterDays"
CONFIGS = {"s3": s3_config, "gcs": gcs_config, "azure_blob": azure_config}
FEDERATION = {"tavus_oidc_issuer": "https://issuer.tavus.example", "tavus_oidc_subject": "tavus-recording-writer"}


def plain(config, **overrides):
    """A stack with no retentionDays (the gcs and azure examples set 365), and the overrides."""
    return config(retentionDays="0", **overrides)


# --- settings


@pytest.mark.parametrize("provider", list(CONFIGS))
@pytest.mark.parametrize(("value", "days"), [("0", None), ("", None), ("30", 30), ("180", 180), (str(MAX_DAYS), MAX_DAYS)])
def test_cold_after_days_is_off_by_default_and_takes_30_to_the_cap(provider, value, days):
    assert parse_settings(plain(CONFIGS[provider], coldAfterDays=value)).cold_after_days == days


@pytest.mark.parametrize("provider", list(CONFIGS))
@pytest.mark.parametrize("value", ["1", "29"])
def test_fewer_than_30_days_is_refused_naming_the_floor_and_the_class(provider, value):
    message = error_for(plain(CONFIGS[provider], coldAfterDays=value))
    line = problem_line(message, KEY)
    assert f"fewer than {COLD_AFTER_MIN_DAYS} days" in line and f"{COLD_AFTER_MIN_DAYS}-{MAX_DAYS}" in line and "0 for off" in line
    assert {"s3": "Glacier Instant Retrieval", "gcs": "Nearline", "azure_blob": "Cool"}[provider] in line
    assert_one_plain_line_per_key(message)


@pytest.mark.parametrize("provider", list(CONFIGS))
def test_more_than_the_cap_is_refused_with_the_cold_range(provider):
    line = problem_line(error_for(plain(CONFIGS[provider], coldAfterDays=str(MAX_DAYS + 1))), KEY)
    assert f"is more than {MAX_DAYS} days" in line and f"from {COLD_AFTER_MIN_DAYS} to {MAX_DAYS}" in line


@pytest.mark.parametrize("provider", list(CONFIGS))
@pytest.mark.parametrize(("cold", "retention"), [("90", "90"), ("365", "90"), ("60", "30")])
def test_not_fewer_than_retention_days_is_refused(provider, cold, retention):
    message = error_for(CONFIGS[provider](coldAfterDays=cold, retentionDays=retention))
    line = problem_line(message, KEY)
    assert f"is not fewer than tavus-recording:retentionDays ({retention})" in line
    assert_one_plain_line_per_key(message)


def test_fewer_than_retention_days_is_accepted_even_inside_the_minimum():
    # 30 days in Glacier IR is billed as 90, yet still costs less than 30 more days in Standard: the plan says it.
    settings = parse_settings(s3_config(coldAfterDays="60", retentionDays="61"))
    assert (settings.cold_after_days, settings.retention_days) == (60, 61)


@pytest.mark.parametrize(("config", "existing"), [
    (s3_config(existingBucket="acme-by-hand", coldAfterDays="60"), "existingBucket"),
    (gcs_config(existingBucket="acme-by-hand", location="", retentionDays="0", coldAfterDays="60"), "existingBucket"),
    (azure_config(existingStorageAccount="acmebyhand", existingContainer="recordings", resourceGroupName="rg-acme",
                  storageAccount="", container="", retentionDays="0", coldAfterDays="60"), "existingStorageAccount"),
])
def test_with_existing_storage_it_is_refused(config, existing):
    message = error_for(config)
    assert f"cannot be used with tavus-recording:{existing}" in problem_line(message, KEY)
    assert_one_plain_line_per_key(message)


@hypothesis_settings(max_examples=150, deadline=2000)
@given(st.sampled_from(list(CONFIGS)), st.integers(-5, MAX_DAYS + 5), st.one_of(st.none(), st.integers(1, MAX_DAYS)))
def test_fuzz_cold_after_days_is_accepted_exactly_in_range_and_below_retention(provider, cold, retention):
    config = CONFIGS[provider](coldAfterDays=str(cold), retentionDays=str(retention or 0))
    valid = cold == 0 or (COLD_AFTER_MIN_DAYS <= cold <= MAX_DAYS and (retention is None or cold < retention))
    if valid:
        assert parse_settings(config).cold_after_days == (cold or None)
    else:
        assert_one_plain_line_per_key(error_for(config))
        assert f"  - {KEY}: " in error_for(config)


# --- the documents, exactly


def test_s3_moves_current_versions_to_glacier_instant_retrieval():
    rules = aws_policy.lifecycle_rules(30, 365, 90)
    assert rules[:-1] == aws_policy.lifecycle_rules(30, 365)
    assert rules[-1] == {
        "id": "move-recordings-to-cold",
        "status": "Enabled",
        "filter": {},
        "transitions": [{"days": 90, "storage_class": "GLACIER_IR"}],
    }
    # Current versions only: no noncurrent_version_transitions anywhere.
    assert not any("noncurrent_version_transitions" in rule for rule in rules)


def test_gcs_moves_live_standard_objects_to_nearline():
    rules = gcp_policy.lifecycle_rules(30, None, 45)
    assert rules[:-1] == gcp_policy.lifecycle_rules(30)
    assert rules[-1] == {
        "action": {"type": "SetStorageClass", "storage_class": "NEARLINE"},
        "condition": {"age": 45, "matches_storage_classes": ["STANDARD"], "with_state": "LIVE"},
    }


def test_azure_tiers_base_blobs_to_cool():
    policy = azure_policy.management_policy("recordings", 30, 365, 60)
    assert policy["rules"][:-1] == azure_policy.management_policy("recordings", 30, 365)["rules"]
    assert policy["rules"][-1] == {
        "name": "move-recordings-to-cool",
        "enabled": True,
        "type": "Lifecycle",
        "definition": {
            "filters": {"blob_types": ["blockBlob"], "prefix_match": ["recordings/"]},
            "actions": {"base_blob": {"tier_to_cool": {"days_after_modification_greater_than": 60}}},
        },
    }


@pytest.mark.parametrize("cold", [None, 0])
def test_off_adds_no_rule(cold):
    assert aws_policy.lifecycle_rules(30, 365, cold) == aws_policy.lifecycle_rules(30, 365)
    assert gcp_policy.lifecycle_rules(30, 365, cold) == gcp_policy.lifecycle_rules(30, 365)
    assert azure_policy.management_policy("r", 30, 365, cold) == azure_policy.management_policy("r", 30, 365)


@pytest.mark.parametrize(("cold", "retention", "noncurrent", "stay"), [(60, 120, 30, 90), (30, 365, 7, 342), (60, None, 30, None)])
def test_days_in_the_cold_class_count_the_noncurrent_tail(cold, retention, noncurrent, stay):
    assert cold_stay_days(cold, retention, noncurrent) == stay


# --- the resources on the mock engine


def _s3_transitions(run):
    rules = run.one("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration").inputs["rules"]
    return [t for rule in rules for t in rule.get("transitions", [])]


def test_s3_lifecycle_resource_carries_the_transition():
    run, _ = run_component(lambda: S3RecordingStorage("rec", {"retention_days": 365, "cold_after_days": 90}))
    assert _s3_transitions(run) == [{"days": 90, "storageClass": "GLACIER_IR"}]
    run, _ = run_component(lambda: S3RecordingStorage("rec", {"retention_days": 365}))
    assert _s3_transitions(run) == []


def _gcs_moves(run):
    return [r for r in run.one("gcp:storage/bucket:Bucket").inputs["lifecycleRules"] if r["action"]["type"] == "SetStorageClass"]


def test_gcs_bucket_carries_the_set_storage_class_rule():
    run, _ = run_component(lambda: GcsRecordingStorage("rec", {**FEDERATION, "cold_after_days": 30}))  # type: ignore[typeddict-item]
    assert _gcs_moves(run) == [{"action": {"type": "SetStorageClass", "storageClass": "NEARLINE"},
                                "condition": {"age": 30, "matchesStorageClasses": ["STANDARD"], "withState": "LIVE"}}]
    run, _ = run_component(lambda: GcsRecordingStorage("rec", {**FEDERATION}))  # type: ignore[typeddict-item]
    assert _gcs_moves(run) == []


def _azure_tiering(run):
    rules = run.one("azure-native:storage:ManagementPolicy").inputs["policy"]["rules"]
    return [r["definition"]["actions"]["baseBlob"]["tierToCool"] for r in rules
            if "tierToCool" in r["definition"]["actions"].get("baseBlob", {})]


def test_azure_management_policy_carries_tier_to_cool():
    run, _ = run_component(lambda: AzureBlobRecordingStorage("rec", {**FEDERATION, "cold_after_days": 45}))  # type: ignore[typeddict-item]
    assert _azure_tiering(run) == [{"daysAfterModificationGreaterThan": 45}]
    run, _ = run_component(lambda: AzureBlobRecordingStorage("rec", {**FEDERATION}))  # type: ignore[typeddict-item]
    assert _azure_tiering(run) == []


# --- the plan


@pytest.mark.parametrize(("provider", "says"), [("s3", "S3 Glacier Instant Retrieval (GLACIER_IR)"),
                                                ("gcs", "Cloud Storage Nearline (NEARLINE)"), ("azure_blob", "Azure Blob Cool tier (Cool)")])
def test_the_plan_states_the_class_and_the_minimum_charge(provider, says):
    facts = summary(run_program(CONFIGS[provider](coldAfterDays="60", retentionDays="365")))
    line = next(line for line in facts["lines"] if line.startswith("Cold tier:"))
    minimum = COLD_MIN_STORAGE_DAYS[provider]
    assert f"move to {says} 60 days after upload" in line and f"billed there for at least {minimum} days" in line
    assert "per-GB retrieval fee" in line and "each spends 335 days there." in line
    assert facts["cold_tier"] == {"class": says.split("(")[1].rstrip(")"), "after_days": 60, "minimum_billed_days": minimum,
                                  "days_in_class": 335}


def test_the_plan_says_when_the_minimum_is_paid_for_nothing():
    facts = summary(run_program(s3_config(coldAfterDays="60", retentionDays="90", noncurrentVersionDays="7")))
    line = next(line for line in facts["lines"] if line.startswith("Cold tier:"))
    assert line.endswith("each spends 37 days there and pays for 53 more.")


def test_the_plan_has_no_cold_line_when_off():
    facts = summary(run_program(s3_config()))
    assert facts["cold_tier"] is None and not any(line.startswith("Cold tier:") for line in facts["lines"])

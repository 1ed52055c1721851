"""immutableDays, immutableMode and auditLogs: what each takes, what each refuses, in one line naming the key."""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from components.settings import parse_settings
from settings_checks import error_for, problem_line
from stack_configs import azure_config, gcs_config, s3_config

CONFIGS = {"s3": s3_config, "gcs": gcs_config, "azure_blob": azure_config}


@pytest.mark.parametrize("provider", list(CONFIGS))
@pytest.mark.parametrize(("mode", "in_force"), [("", "governance"), ("governance", "governance"), ("compliance", "compliance")])
def test_worm_takes_days_and_a_mode_and_governance_is_the_default(provider, mode, in_force):
    settings = parse_settings(CONFIGS[provider](immutableDays="30", immutableMode=mode))
    assert (settings.immutable_days, settings.worm_mode) == (30, in_force)


@pytest.mark.parametrize("provider", list(CONFIGS))
def test_worm_is_off_unless_asked(provider):
    settings = parse_settings(CONFIGS[provider]())
    assert (settings.immutable_days, settings.immutable_mode, settings.worm_mode, settings.audit_logs) == (None, None, None, False)


@pytest.mark.parametrize("mode", ["Compliance", "COMPLIANCE", "complaince", " compliance", "compliance\u200b", "locked", "true", "gov"])
def test_a_mode_not_spelt_exactly_is_refused_never_guessed(mode):
    line = problem_line(error_for(s3_config(immutableDays="30", immutableMode=mode)), "tavus-recording:immutableMode")
    assert "is not a WORM mode this kit knows" in line and "governance (" in line and "compliance (" in line or "control character" in line


@pytest.mark.parametrize("mode", ["governance", "compliance"])
def test_a_mode_without_days_is_refused_as_having_no_effect(mode):
    line = problem_line(error_for(s3_config(immutableMode=mode)), "tavus-recording:immutableMode")
    assert "has no effect without tavus-recording:immutableDays" in line


def test_a_bad_day_count_is_not_also_reported_as_missing():
    message = error_for(s3_config(immutableDays="thirty", immutableMode="compliance"))
    assert "expected a whole number of days" in problem_line(message, "tavus-recording:immutableDays")
    assert "has no effect" not in message


@given(retention=st.integers(1, 36500), immutable=st.integers(1, 36500))
def test_worm_may_not_outlast_retention(retention, immutable):
    config = s3_config(retentionDays=str(retention), immutableDays=str(immutable))
    if immutable <= retention:
        assert parse_settings(config).immutable_days == immutable
    else:
        line = problem_line(error_for(config), "tavus-recording:immutableDays")
        assert f"is more than tavus-recording:retentionDays ({retention})" in line


@pytest.mark.parametrize("provider", list(CONFIGS))
@pytest.mark.parametrize("days", ["36501", "100000", "0x10", "-1", "1e3"])
def test_worm_days_past_100_years_or_not_whole_are_refused(provider, days):
    line = problem_line(error_for(CONFIGS[provider](immutableDays=days)), "tavus-recording:immutableDays")
    assert "36500" in line


@pytest.mark.parametrize(("text", "value"), [("true", True), ("True", True), ("false", False), ("False", False), ("", False)])
def test_audit_logs_read_as_pulumi_reads_a_boolean(text, value):
    assert parse_settings(s3_config(auditLogs=text)).audit_logs is value


@pytest.mark.parametrize("text", ["yes", "1", "on", "TRUE", "true ", "ture", "0"])
def test_audit_logs_in_any_other_spelling_are_refused(text):
    assert "expected true or false" in problem_line(error_for(s3_config(auditLogs=text)), "tavus-recording:auditLogs")


@pytest.mark.parametrize(("provider", "existing"), [("s3", {"existingBucket": "acme-recordings"}),
                                                    ("gcs", {"existingBucket": "acme-recordings"}),
                                                    ("azure_blob", {"existingStorageAccount": "acmerecordings"})])
@pytest.mark.parametrize("key", [{"immutableDays": "30"}, {"auditLogs": "true"}])
def test_worm_and_audit_are_refused_beside_existing_storage(provider, existing, key):
    (name,) = key
    line = problem_line(error_for(CONFIGS[provider](**existing, **key)), f"tavus-recording:{name}")
    assert "cannot be used with" in line


@pytest.mark.parametrize("key", ["tavus:tavusAccess", "aws:tavusAccess", "recording:immutableDays", "gcp:auditLogs"])
def test_this_kits_key_under_another_namespace_is_refused_not_ignored(key):
    # Before: `tavus:tavusAccess: revoked` was passed to no one and the stack stayed granted.
    name = key.split(":")[1]
    line = problem_line(error_for({**s3_config(), key: "revoked"}), key)
    assert f"did you mean 'tavus-recording:{name}'?" in line

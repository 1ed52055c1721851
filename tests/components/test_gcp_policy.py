"""The Cloud Storage destination's trust settings, checked exactly, on their own."""

import pytest
from hypothesis import given, strategies as st

from components import gcp_policy
from components.naming import service_account_id_problem, workload_identity_id_problem

POOL = "projects/123456/locations/global/workloadIdentityPools/tavus-recordings-prod"


def test_condition_admits_only_the_tavus_subject():
    assert gcp_policy.attribute_condition("tavus-writer") == 'assertion.sub == "tavus-writer"'


def test_condition_escapes_the_subject_so_it_cannot_widen_the_expression():
    condition = gcp_policy.attribute_condition('x" || true || "')
    assert condition == r'assertion.sub == "x\" || true || \""'


def test_subject_is_mapped_from_the_token_sub_claim():
    assert gcp_policy.ATTRIBUTE_MAPPING == {"google.subject": "assertion.sub"}


def test_principal_is_one_subject_in_this_pool_never_a_set():
    principal = gcp_policy.workload_principal(POOL, "tavus-writer")
    assert principal == f"principal://iam.googleapis.com/{POOL}/subject/tavus-writer"
    assert "principalSet" not in principal and "*" not in principal


def test_roles_are_impersonation_on_the_account_and_object_create_on_the_bucket():
    assert gcp_policy.IMPERSONATION_ROLE == "roles/iam.workloadIdentityUser"
    assert gcp_policy.WRITER_ROLE == "roles/storage.objectCreator"


def test_services_the_token_exchange_needs():
    assert set(gcp_policy.REQUIRED_SERVICES) == {
        "sts.googleapis.com",
        "iamcredentials.googleapis.com",
        "iam.googleapis.com",
        "storage.googleapis.com",
    }


def test_oidc_sets_audience_only_when_given():
    assert gcp_policy.oidc("https://issuer.tavus.example") == {"issuer_uri": "https://issuer.tavus.example"}
    assert gcp_policy.oidc("https://issuer.tavus.example", "tavus-aud") == {
        "issuer_uri": "https://issuer.tavus.example",
        "allowed_audiences": ["tavus-aud"],
    }


def test_lifecycle_rules():
    assert gcp_policy.lifecycle_rules(30) == [
        {"action": {"type": "Delete"}, "condition": {"days_since_noncurrent_time": 30, "with_state": "ARCHIVED"}},
        {"action": {"type": "AbortIncompleteMultipartUpload"}, "condition": {"age": 7}},
    ]
    assert gcp_policy.lifecycle_rules(30, 90)[-1] == {
        "action": {"type": "Delete"},
        "condition": {"age": 90, "with_state": "LIVE"},
    }


def test_default_ids_are_per_stack():
    assert gcp_policy.default_pool_id("tavus-recordings", "prod") == "tavus-recordings-prod"
    assert gcp_policy.default_service_account_id("tavus-recordings", "prod") == "tavus-recordings-prod"


def test_stacks_whose_names_differ_past_the_cut_get_different_ids():
    # Before: both were cut to `tavus-recordings-production-eu` and the second `pulumi up` failed.
    west, east = "production-eu-west", "production-eu-east"
    for derive in (gcp_policy.default_pool_id, gcp_policy.default_service_account_id):
        assert derive("tavus-recordings", west) != derive("tavus-recordings", east)
    # Names that only differ in case or punctuation are two stacks too.
    assert gcp_policy.default_service_account_id("tavus-recordings", "Prod") != gcp_policy.default_service_account_id("tavus-recordings", "prod")


@pytest.mark.parametrize("component", ["1st-recordings", "gcp-recordings", "a", "tr", "Ünïcode", "---"])
def test_component_names_gcp_would_refuse_still_give_valid_ids(component):
    # A package user names the component; the ids must still be ones GCP creates.
    for stack in ("dev", "x", "production-eu-west"):
        assert workload_identity_id_problem(gcp_policy.default_pool_id(component, stack)) is None
        assert service_account_id_problem(gcp_policy.default_service_account_id(component, stack)) is None


# Pulumi's stack names; component names are any text a program passes.
stack_names = st.from_regex(r"[A-Za-z0-9_.-]{1,100}", fullmatch=True)


@given(st.text(min_size=1, max_size=100), stack_names, stack_names)
def test_default_ids_are_valid_and_distinct_for_any_component_and_stack(component, stack, other):
    pool, account = gcp_policy.default_pool_id(component, stack), gcp_policy.default_service_account_id(component, stack)
    assert workload_identity_id_problem(pool) is None and service_account_id_problem(account) is None
    if other != stack:
        assert gcp_policy.default_pool_id(component, other) != pool
        assert gcp_policy.default_service_account_id(component, other) != account

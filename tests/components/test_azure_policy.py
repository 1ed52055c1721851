"""The Azure Blob destination's trust, grant and lifecycle settings, checked exactly, on their own."""

from hypothesis import given, strategies as st

from components import azure_policy
from components.naming import storage_account_name_problem


def test_role_is_storage_blob_data_contributor_in_the_deployers_subscription():
    assert azure_policy.role_definition_id("11111111-2222-3333-4444-555555555555") == (
        "/subscriptions/11111111-2222-3333-4444-555555555555/providers/Microsoft.Authorization/"
        "roleDefinitions/ba92f5b4-2d11-453d-a403-e96b0029c9fe"
    )


def test_principal_type_skips_the_directory_lookup_for_a_new_identity():
    assert azure_policy.PRINCIPAL_TYPE == "ServicePrincipal"


def test_audience_defaults_to_entra_token_exchange():
    assert azure_policy.audiences() == ["api://AzureADTokenExchange"]
    assert azure_policy.audiences("api://tavus") == ["api://tavus"]


def test_lifecycle_is_scoped_to_the_container_and_keeps_recordings_by_default():
    assert azure_policy.management_policy("recordings", 30) == {
        "rules": [
            {
                "name": "expire-noncurrent-versions",
                "enabled": True,
                "type": "Lifecycle",
                "definition": {
                    "filters": {"blob_types": ["blockBlob"], "prefix_match": ["recordings/"]},
                    "actions": {"version": {"delete": {"days_after_creation_greater_than": 30}}},
                },
            }
        ]
    }


def test_lifecycle_expires_recordings_after_retention_days():
    rule = azure_policy.management_policy("recordings", 7, 365)["rules"][-1]
    assert rule["name"] == "expire-recordings"
    assert rule["definition"]["actions"] == {"base_blob": {"delete": {"days_after_modification_greater_than": 365}}}
    assert rule["definition"]["filters"]["prefix_match"] == ["recordings/"]


SUBSCRIPTION = "0b1f6471-1bf0-4dda-aec3-cb9272f09590"


@given(st.text(max_size=60), st.from_regex(r"[A-Za-z0-9_.-]{1,100}", fullmatch=True))
def test_default_account_names_are_valid_for_any_component_and_stack(component, stack):
    assert storage_account_name_problem(azure_policy.storage_account_name(component, stack, SUBSCRIPTION)) is None


def test_default_account_names_differ_per_component_stack_and_subscription():
    # Before: both cut to the logical name `acmerecordingspr`, a duplicate URN in one program.
    names = {
        azure_policy.storage_account_name(component, stack, subscription)
        for component in ("acme-recordings-prod-eu", "acme-recordings-prod-us")
        for stack in ("dev", "prod")
        for subscription in (SUBSCRIPTION, SUBSCRIPTION.replace("0b1f", "9c2e"))
    }
    assert len(names) == 8
    assert all(name.startswith("acmerecordingspr") for name in names)


def test_before_a_deploy_the_hashed_part_is_a_placeholder():
    assert azure_policy.storage_account_name("tavus-recordings", "dev", "<subscription-id>") == (
        "tavusrecordings<hash of subscription, stack, component>"
    )

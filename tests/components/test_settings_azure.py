"""Stack config validation for provider azure_blob."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, example, given, settings as hypothesis_settings, strategies as st

from components.settings import parse_settings
from components.tavus import AzureBlobRecordingStorageConfig
from stack_configs import azure_config, s3_config
from settings_invariants import assert_judged_plainly
from settings_checks import assert_refused_before_any_resource_or_built, error_for, problem_line


def test_azure_example_is_valid_with_defaults():
    settings = parse_settings(azure_config())
    assert settings.provider == "azure_blob"
    assert settings.azure_location == "eastus"
    assert settings.container == "recordings"  # set in the example stack
    # Left unset: the component applies its own default (Standard_LRS).
    assert settings.sku_name is None
    assert settings.storage_account is None and settings.resource_group_name is None
    assert settings.existing_storage_account is None and settings.existing_container is None
    assert settings.tavus_oidc_audience is None


@pytest.mark.parametrize(
    "key", ["azure-native:location", "tavus-recording:tavusOidcIssuer", "tavus-recording:tavusOidcSubject"]
)
def test_required_for_azure(key):
    config = azure_config()
    config[key] = ""
    assert "is required for provider azure_blob" in problem_line(error_for(config), key)


def test_location_display_names_get_the_short_form():
    line = problem_line(error_for(azure_config(**{"azure-native:location": "East US"})), "azure-native:location")
    assert "(did you mean 'eastus'?)" in line and "short name" in line


@pytest.mark.parametrize("location, suggestion", [("westeruope", "westeurope"), ("eastu", "eastus"), ("uksouht", "uksouth")])
def test_a_region_that_does_not_exist_is_refused_with_a_suggestion(location, suggestion):
    # Before: any lowercase word planned cleanly and failed at `pulumi up`.
    line = problem_line(error_for(azure_config(**{"azure-native:location": location})), "azure-native:location")
    assert f"is not an Azure region (did you mean '{suggestion}'?)" in line


@pytest.mark.parametrize("location", ["eastus", "westeurope", "italynorth", "newzealandnorth", "swedencentral"])
def test_public_regions_are_accepted(location):
    assert parse_settings(azure_config(**{"azure-native:location": location})).azure_location == location


@pytest.mark.parametrize("name", ["abc", "acmetavusrecordings2026", "a" * 24])
def test_valid_storage_account_names(name):
    assert parse_settings(azure_config(storageAccount=name)).storage_account == name


@pytest.mark.parametrize("name", ["ab", "a" * 25, "acme-recordings", "AcmeRecordings", "acme_rec"])
def test_invalid_storage_account_names(name):
    line = problem_line(error_for(azure_config(storageAccount=name)), "tavus-recording:storageAccount")
    assert "3-24 lowercase letters and digits" in line


@pytest.mark.parametrize("name", ["abc", "tavus-calls", "a1-b2-c3", "a" * 63])
def test_valid_container_names(name):
    assert parse_settings(azure_config(container=name)).container == name


@pytest.mark.parametrize("name", ["ab", "a" * 64, "-calls", "calls-", "tavus--calls", "Calls", "tavus_calls"])
def test_invalid_container_names(name):
    line = problem_line(error_for(azure_config(container=name)), "tavus-recording:container")
    assert "single hyphens" in line


@pytest.mark.parametrize("name", ["rg-recordings", "Acme.Recordings_(prod)"])
def test_valid_resource_groups(name):
    assert parse_settings(azure_config(resourceGroupName=name)).resource_group_name == name


@pytest.mark.parametrize("name", ["ends-with-dot.", "has space", "a" * 91])
def test_invalid_resource_groups(name):
    line = problem_line(error_for(azure_config(resourceGroupName=name)), "tavus-recording:resourceGroupName")
    assert "is not a valid resource group name" in line


@pytest.mark.parametrize("sku", ["Standard_LRS", "Standard_ZRS", "Standard_RAGZRS"])
def test_standard_skus(sku):
    assert parse_settings(azure_config(skuName=sku)).sku_name == sku


def test_a_mistyped_sku_gets_a_suggestion():
    line = problem_line(error_for(azure_config(skuName="Standard_LSR")), "tavus-recording:skuName")
    assert "did you mean 'Standard_LRS'?" in line


def test_premium_skus_are_refused():
    assert "is not a standard storage SKU" in problem_line(
        error_for(azure_config(skuName="Premium_LRS")), "tavus-recording:skuName"
    )


def test_azure_subject_may_be_longer_than_gcs_allows():
    assert parse_settings(azure_config(tavusOidcSubject="s" * 200)).tavus_oidc_subject == "s" * 200
    assert "at most 600 bytes" in problem_line(
        error_for(azure_config(tavusOidcSubject="s" * 601)), "tavus-recording:tavusOidcSubject"
    )


def test_azure_keys_on_an_s3_stack_are_refused():
    line = problem_line(error_for(s3_config(container="calls")), "tavus-recording:container")
    assert "applies only to provider azure_blob" in line


_keys = st.sampled_from(
    ["azure-native:location", "storageAccount", "container", "resourceGroupName", "skuName", "tavusOidcIssuer",
     "tavusOidcSubject", "tavusOidcAudience", "retentionDays", "noncurrentVersionDays", "tags", "contianer", "location"]
)
_values = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["", "eastus", "recordings", "Standard_LRS", "https://issuer.example", "acmerec1", "0", "7"]),
    st.sampled_from(["eastus\r\n", "https://issuer.example/" + "p" * 600, "recordings\x00", "a" * 1_000_000, str(10**30),
                     "99999"]),
)


@hypothesis_settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(_keys, _values, max_size=4))
# Found by this fuzzer before the text bounds: an audience of \x1f accepted, a 623-character location echoed whole.
@example({"tavusOidcAudience": "\x1f"})
@example({"azure-native:location": "https://issuer.example/" + "p" * 600})
def test_fuzz_rejected_azure_configs_fail_before_any_resource(overrides):
    config = azure_config(**overrides)
    assert_judged_plainly(config)
    assert_refused_before_any_resource_or_built(config, AzureBlobRecordingStorageConfig)


# --- keyVaultKeyUri: a public-cloud Key Vault key, optionally one version, only for an account the kit creates

KEY_URI = "tavus-recording:keyVaultKeyUri"
VERSION = "0123456789abcdef0123456789abcdef"


@pytest.mark.parametrize(
    "uri",
    ["https://acme-keys.vault.azure.net/keys/recordings", f"https://acme-keys.vault.azure.net/keys/recordings/{VERSION}",
     "https://Acme-Keys.vault.azure.net/keys/Rec-2", "https://abc.vault.azure.net/keys/k"],
)
def test_a_key_vault_key_uri_is_accepted(uri):
    assert parse_settings(azure_config(keyVaultKeyUri=uri)).key_vault_key_uri == uri


@pytest.mark.parametrize(
    ("uri", "says"),
    [
        ("https://acme-keys.vault.azure.cn/keys/recordings", "is a vault in another Azure cloud"),
        ("https://acme-keys.vault.usgovcloudapi.net/keys/recordings", "is a vault in another Azure cloud"),
        ("https://acme-hsm.managedhsm.azure.net/keys/recordings", "is a Managed HSM key"),
        ("http://acme-keys.vault.azure.net/keys/recordings", "is not a Key Vault key URI"),
        ("https://acme-keys.vault.azure.net/secrets/recordings", "is not a Key Vault key URI"),
        ("https://acme-keys.vault.azure.net/keys/recordings/", "is not a Key Vault key URI"),
        ("https://acme-keys.vault.azure.net/keys/recordings?api-version=7.4", "is not a Key Vault key URI"),
        ("acme-keys/recordings", "is not a Key Vault key URI"),
        ("https://ab.vault.azure.net/keys/recordings", "names vault 'ab'"),
        ("https://1acme.vault.azure.net/keys/recordings", "names vault '1acme'"),
        ("https://acme--keys.vault.azure.net/keys/recordings", "names vault 'acme--keys'"),
        ("https://acme-keys-.vault.azure.net/keys/recordings", "names vault 'acme-keys-'"),
        (f"https://{'a' * 25}.vault.azure.net/keys/recordings", "a vault name is 3-24"),
        ("https://acme-keys.vault.azure.net/keys/rec_ordings", "names key 'rec_ordings'"),
        (f"https://acme-keys.vault.azure.net/keys/{'k' * 128}", "a key name is 1-127"),
        ("https://acme-keys.vault.azure.net/keys/recordings/1", "names version '1'"),
    ],
)
def test_a_malformed_key_vault_key_uri_is_refused_with_the_form(uri, says):
    line = problem_line(error_for(azure_config(keyVaultKeyUri=uri)), KEY_URI)
    assert says in line and "expected https://<vault>.vault.azure.net/keys/<key>[/<version>]" in line


def test_a_key_beside_an_existing_account_is_refused():
    config = azure_config(existingStorageAccount="acmemedia", existingContainer="recordings", resourceGroupName="rg-media",
                          keyVaultKeyUri="https://acme-keys.vault.azure.net/keys/recordings")
    assert "cannot be used with tavus-recording:existingStorageAccount" in problem_line(error_for(config), KEY_URI)


def test_a_key_vault_key_on_gcs_is_misplaced():
    from stack_configs import gcs_config

    line = problem_line(error_for(gcs_config(keyVaultKeyUri="https://acme-keys.vault.azure.net/keys/recordings")), KEY_URI)
    assert "applies only to provider azure_blob" in line

"""`verify`'s `azure.account.encryption_key` (red team #1 and #11): what it reads is the account's default key,
and its pass says so (a writer can still name an encryption scope or bring its own key per upload); a vault URI
that ARM answers with https's own port (:443) names the same vault. Against the fake ARM of test_verify_azure.py."""

from __future__ import annotations

from typing import Any, Callable

import pytest
from fakes import azure_api as arm
import test_verify_azure as base  # its fixtures and helpers (its tests are not collected here)

from tavus_recording.rules import azure as rules

ca, check, kit = base.ca, base.check, base.kit
Kit, KEY_URI = base.Kit, base.KEY_URI
CHECK = "azure.account.encryption_key"


def encrypted(identity: str, vault_uri: str = "https://acme-keys.vault.azure.net/", key: str = "recordings") -> Callable[[arm.ArmState, Kit], None]:
    def drift(state: arm.ArmState, deployed: Kit) -> None:
        state.get(deployed.account_id)["properties"]["encryption"] = {
            "services": {"blob": {"enabled": True, "keyType": "Account"}}, "keySource": "Microsoft.Keyvault",
            "keyvaultproperties": {"keyname": key, "keyvaulturi": vault_uri}, "identity": {"userAssignedIdentity": identity}}
    return drift


def keyed(deployed: Kit) -> tuple[str, dict[str, Any]]:
    own = deployed.identity_id.rsplit("/", 1)[0] + "/tavus-recordings-encryption"
    return own, {**deployed.outputs, "key_vault_key_uri": KEY_URI, "encryption_identity_id": own}


def test_the_pass_says_it_read_the_accounts_default_key_only(check, kit):
    own, outputs = keyed(kit)
    detail = check(encrypted(own), outputs=outputs).checks[CHECK]
    assert detail.ok is True
    assert f"default key is the stack's key {KEY_URI}" in detail.detail
    assert "encryption scope" in detail.detail and "customer-provided" in detail.detail
    plain = check().checks[CHECK]
    assert plain.ok is True and "default key is Microsoft-managed keys" in plain.detail and "encryption scope" in plain.detail


@pytest.mark.parametrize("vault_uri", [
    "https://acme-keys.vault.azure.net:443/", "https://acme-keys.vault.azure.net:443", "https://ACME-KEYS.vault.azure.net/",
    "https://acme-keys.vault.azure.net", "HTTPS://acme-keys.vault.azure.net:443/",
])
def test_the_same_vault_spelt_with_its_default_port_or_case_passes(check, kit, vault_uri: str):
    own, outputs = keyed(kit)
    assert check(encrypted(own, vault_uri), outputs=outputs).failing() == set()


@pytest.mark.parametrize("vault_uri", [
    "https://acme-keys.vault.azure.net:444/", "http://acme-keys.vault.azure.net/", "https://acme-keys.vault.azure.net.evil.example/",
    "https://other-keys.vault.azure.net:443/", "https://acme-keys.vault.azure.net/keys/", "https://user@acme-keys.vault.azure.net/",
    "https://acme-keys.vault.azure.net:notaport/", "",
])
def test_another_vault_or_a_spelling_that_is_not_the_same_origin_fails(check, kit, vault_uri: str):
    own, outputs = keyed(kit)
    run = check(encrypted(own, vault_uri), outputs=outputs)
    assert run.failing() == {CHECK} and f"not the stack's {KEY_URI}" in run.checks[CHECK].detail


def test_vault_origin_drops_only_https_default_port():
    assert rules.vault_origin("https://acme-keys.vault.azure.net:443/") == "https://acme-keys.vault.azure.net"
    assert rules.vault_origin("https://acme-keys.vault.azure.net:8443/") == "https://acme-keys.vault.azure.net:8443"
    assert rules.vault_origin("http://acme-keys.vault.azure.net:443/") == "http://acme-keys.vault.azure.net:443"
    assert rules.vault_origin("https://acme-keys.vault.azure.net:99999/") == "https://acme-keys.vault.azure.net:99999"

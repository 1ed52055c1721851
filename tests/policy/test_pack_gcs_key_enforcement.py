"""The pack's `gcs.bucket.encryption_key` on the writer's choice of key (red team #1) and `gcs.kms.service_agent`
on whose agent holds the key and how the grant names it (red team #10), called as the engine calls them."""

from typing import Any, Optional

import pytest
from hypothesis import given
from hypothesis import strategies as st

import test_pack_gcp as tg
from components import gcp_policy
from pack_harness import UNKNOWN, Resource, analyze_stack, policies_reported
from tavus_recording.rules import gcp as rules

KEY_POLICY = "gcs.bucket.encryption_key"
AGENT_POLICY = "gcs.kms.service_agent"
KEY = f"projects/{tg.PROJECT}/locations/us/keyRings/rec/cryptoKeys/recordings"
NUMBER = "428173025661"
AGENT = f"serviceAccount:service-{NUMBER}@gs-project-accounts.iam.gserviceaccount.com"
OTHER_AGENT = "serviceAccount:service-999999999999@gs-project-accounts.iam.gserviceaccount.com"
KMS_MEMBER = "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember"
CSEK = "customerSuppliedEncryptionEnforcementConfig"
GMEK = "googleManagedEncryptionEnforcementConfig"
# Every way an enforcement config leaves uploads of its kind allowed.
OPEN: list[Optional[dict[str, Any]]] = [None, {}, {"restrictionMode": "NotRestricted"}, {"restrictionMode": ""},
                                        {"restrictionMode": "fullyRestricted"}, {"restrictionMode": "FULLYRESTRICTED"},
                                        {"restrictionMode": ["FullyRestricted"]}, {"effectiveTime": "2026-11-22T10:00:00Z"}]


def messages(resources: list[Resource], config: Any = None, policy: str = KEY_POLICY) -> list[str]:
    return [d.message for d in analyze_stack(resources, config) if d.policy == policy and d.level == "mandatory"]


def with_config(encryption: dict[str, Any], field: str, config: Optional[dict[str, Any]]) -> dict[str, Any]:
    changed = {k: v for k, v in encryption.items() if k != field}
    return changed if config is None else {**changed, field: config}


def keyed(encryption: Any = None, grant: Optional[dict[str, Any]] = None, component: Optional[dict[str, Any]] = None) -> list[Resource]:
    """The kit with kmsKeyName KEY: its bucket encryption, and the storage agent's grant on the key."""
    props = {"cryptoKeyId": KEY, "role": gcp_policy.KEY_USER_ROLE, "member": AGENT, **(grant or {})}
    return tg.kit(Resource(KMS_MEMBER, "storage-agent-key-user", props),
                  bucket={"encryption": tg.kit_encryption(KEY) if encryption is None else encryption},
                  component={"kmsKeyName": KEY, "storageServiceAgent": AGENT, **(component or {})})


# --- uploads with a key the writer chooses


def test_the_kits_buckets_pass_with_and_without_a_key():
    assert not {KEY_POLICY, AGENT_POLICY} & policies_reported(analyze_stack(tg.kit()))
    assert not {KEY_POLICY, AGENT_POLICY} & policies_reported(analyze_stack(keyed()))


@pytest.mark.parametrize("config", OPEN, ids=repr)
def test_a_bucket_that_accepts_csek_uploads_is_reported_mandatory(config: Optional[dict[str, Any]]):
    for stack in (tg.kit(bucket={"encryption": with_config(tg.kit_encryption(), CSEK, config)}),
                  keyed(with_config(tg.kit_encryption(KEY), CSEK, config))):
        [message] = messages(stack)
        assert "customer-supplied, CSEK" in message and "customer_supplied_encryption_enforcement_config" in message


@pytest.mark.parametrize("encryption", [None, {}, {"defaultKmsKeyName": KEY}], ids=repr)
def test_a_bucket_with_no_enforcement_at_all_is_reported(encryption: Any):
    stack = tg.kit(bucket={"encryption": encryption})
    assert any("CSEK" in m for m in messages(stack))


@pytest.mark.parametrize("config", OPEN, ids=repr)
def test_with_a_key_a_bucket_that_accepts_google_managed_uploads_is_reported(config: Optional[dict[str, Any]]):
    [message] = messages(keyed(with_config(tg.kit_encryption(KEY), GMEK, config)))
    assert "Google-managed keys" in message and "google_managed_encryption_enforcement_config" in message


def test_google_managed_uploads_are_fine_without_a_key_but_not_when_the_organisation_requires_one():
    assert not messages(tg.kit())  # the kit without kmsKeyName: GMEK NotRestricted, on purpose
    required = {KEY_POLICY: {"requireCustomerKey": True}}
    found = messages(tg.kit(), required)
    assert any("Google-managed keys (their enforcement is NotRestricted)" in m for m in found)
    # A bucket with some Cloud KMS key and both kinds refused meets the organisation's rule.
    assert not messages(tg.kit(bucket={"encryption": tg.kit_encryption(KEY)}), required)


def test_a_customer_managed_restriction_or_allowance_is_no_finding():
    for mode in ("NotRestricted", "FullyRestricted"):
        encryption = {**tg.kit_encryption(KEY), "customerManagedEncryptionEnforcementConfig": {"restrictionMode": mode}}
        assert not messages(keyed(encryption))


def test_unknown_encryption_waits():
    assert not messages(tg.kit(bucket={"encryption": UNKNOWN}))
    assert not messages(tg.kit(bucket={"encryption": {CSEK: {"restrictionMode": UNKNOWN}}}))


def test_the_finding_says_what_no_bucket_setting_refuses():
    assert "constraints/gcp.restrictCmekCryptoKeyProjects" in rules.ENCRYPTION_KEY.why


# --- gcs.kms.service_agent (#10): the grant's short key forms, and the bucket's own project's agent


@pytest.mark.parametrize("crypto_key_id", [
    KEY,
    f"{tg.PROJECT}/us/rec/recordings",  # pulumi-gcp's {project}/{location}/{ring}/{key}
    "us/rec/recordings",  # {location}/{ring}/{key}, in the provider's project (the bucket's here)
])
def test_the_storage_agents_grant_in_any_documented_spelling_passes(crypto_key_id: str):
    assert not messages(keyed(grant={"cryptoKeyId": crypto_key_id}), policy=AGENT_POLICY)


@pytest.mark.parametrize("crypto_key_id", [
    "other-project/us/rec/recordings", "us/rec/other-key", "eu/rec/recordings", f"{tg.PROJECT}/us/rec",
    "projects/other-project/locations/us/keyRings/rec/cryptoKeys/recordings", f"{KEY}/cryptoKeyVersions/1", "",
])
def test_a_grant_on_another_key_is_not_the_agents_grant_on_this_one(crypto_key_id: str):
    [message] = messages(keyed(grant={"cryptoKeyId": crypto_key_id}), policy=AGENT_POLICY)
    assert f"is key {KEY}" in message


def test_another_projects_agent_is_reported_when_the_component_names_the_buckets_own():
    [message] = messages(keyed(grant={"member": OTHER_AGENT}), policy=AGENT_POLICY)
    assert AGENT.removeprefix("serviceAccount:") in message
    # Both agents granted: the bucket's own is there.
    both = keyed()
    both.append(Resource(KMS_MEMBER, "other-agent", {"cryptoKeyId": KEY, "role": gcp_policy.KEY_USER_ROLE, "member": OTHER_AGENT}))
    assert not messages(both, policy=AGENT_POLICY)


@pytest.mark.parametrize("agent", [None, UNKNOWN, ""], ids=repr)
def test_without_the_components_agent_any_projects_agent_still_counts(agent: Any):
    stack = keyed(grant={"member": OTHER_AGENT}, component={"storageServiceAgent": agent})
    assert not messages(stack, policy=AGENT_POLICY)
    stack = keyed(grant={"member": "serviceAccount:someone@acme-prod.iam.gserviceaccount.com"}, component={"storageServiceAgent": agent})
    assert messages(stack, policy=AGENT_POLICY)


def test_the_agent_is_compared_case_insensitively_as_emails_are():
    assert not messages(keyed(grant={"member": AGENT.replace("service-", "SERVICE-")}), policy=AGENT_POLICY)


_ID = st.from_regex(r"[a-z][a-z0-9-]{0,20}", fullmatch=True)


@given(project=_ID, location=_ID, ring=_ID, key=_ID)
def test_short_key_forms_name_the_full_key(project: str, location: str, ring: str, key: str):
    full = f"projects/{project}/locations/{location}/keyRings/{ring}/cryptoKeys/{key}"
    assert rules.kms_key_name(full) == full
    assert rules.kms_key_name(f"{project}/{location}/{ring}/{key}") == full
    assert rules.kms_key_name(f"{location}/{ring}/{key}", project) == full
    # Without the provider's project the three-part form names no key in particular.
    assert rules.kms_key_name(f"{location}/{ring}/{key}") == f"{location}/{ring}/{key}"


@given(st.text(max_size=60))
def test_any_other_text_is_left_as_it_is(text: str):
    if text.startswith("projects/") or len(text.split("/")) in (3, 4) and "" not in text.split("/"):
        return
    assert rules.kms_key_name(text, "p") == text

"""The pack's cold-tier and customer-key policies (issue 19), called as the engine calls them: the kit's
own shape passes, each drift is reported by exactly its policy, and values not known yet wait."""

from typing import Any

import pytest

import test_attacks_aws as ta  # module objects only: their tests are not collected here
import test_pack_azure as tz
import test_pack_gcp as tg
from components import aws_policy, azure_policy, gcp_policy
from pack_harness import UNKNOWN, Resource, analyze_stack, policies_reported

GCS_KEY = f"projects/{tg.PROJECT}/locations/us/keyRings/rec/cryptoKeys/recordings"
AGENT = "serviceAccount:service-428173025661@gs-project-accounts.iam.gserviceaccount.com"
KMS_MEMBER = "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember"
KEY_URI = "https://acme-keys.vault.azure.net/keys/recordings"
ENCRYPTION_ID = "/subscriptions/s/resourceGroups/media/providers/Microsoft.ManagedIdentity/userAssignedIdentities/enc"
WRITER_ID = "/subscriptions/s/resourceGroups/media/providers/Microsoft.ManagedIdentity/userAssignedIdentities/tavus-writer"


def reported(resources: list[Resource], config: Any = None) -> set[str]:
    return policies_reported(analyze_stack(resources, config))


# --- S3: aws.bucket.cold_tier


def s3_stack(rules: list[dict], cold: Any) -> list[Resource]:
    return ta.with_component(ta.recording_stack(ta.lifecycle(*rules)), 365) if cold is None else _s3_with_cold(rules, cold)


def _s3_with_cold(rules: list[dict], cold: Any) -> list[Resource]:
    stack = ta.with_component(ta.recording_stack(ta.lifecycle(*rules)), 365)
    stack[0].props["coldAfterDays"] = cold
    return stack


def s3_kit_rules(cold: Any = None) -> list[dict]:
    return tz._camel(aws_policy.lifecycle_rules(30, 365, cold))


def test_s3_the_kits_cold_move_passes_and_a_changed_or_archive_move_is_reported():
    assert "aws.bucket.cold_tier" not in reported(s3_stack(s3_kit_rules(90), 90))
    assert "aws.bucket.cold_tier" not in reported(s3_stack(s3_kit_rules(), None))
    # The stack asks for 90 days, the rule moves at 120; or no move at all.
    assert "aws.bucket.cold_tier" in reported(s3_stack(s3_kit_rules(120), 90))
    assert "aws.bucket.cold_tier" in reported(s3_stack(s3_kit_rules(), 90))
    archive = {"id": "deep", "status": "Enabled", "filter": {}, "transitions": [{"days": 30, "storageClass": "DEEP_ARCHIVE"}]}
    diagnostics = analyze_stack(s3_stack([*s3_kit_rules(), archive], None))
    found = [d for d in diagnostics if d.policy == "aws.bucket.cold_tier"]
    assert len(found) == 1 and found[0].level == "advisory" and "moves current recordings to DEEP_ARCHIVE (rule deep)" in found[0].message


def test_s3_the_pack_config_asks_for_a_move_and_can_make_it_mandatory():
    config = {"aws.bucket.cold_tier": {"enforcementLevel": "mandatory", "coldAfterDays": 60}}
    stack = ta.recording_stack(ta.lifecycle(*s3_kit_rules()))
    diagnostics = [d for d in analyze_stack(stack, config) if d.policy == "aws.bucket.cold_tier"]
    assert diagnostics and diagnostics[0].level == "mandatory" and "after 60 days" in diagnostics[0].message
    assert "aws.bucket.cold_tier" not in reported(ta.recording_stack(ta.lifecycle(*s3_kit_rules(60))), config)


def test_s3_an_unknown_cold_setting_waits():
    assert "aws.bucket.cold_tier" not in reported(s3_stack(s3_kit_rules(), UNKNOWN))


# --- GCS: gcs.bucket.cold_tier, gcs.bucket.encryption_key, gcs.kms.service_agent


def gcs_rules(cold: Any = None) -> list[dict]:
    return tz._camel(gcp_policy.lifecycle_rules(30, 365, cold))


def test_gcs_the_kits_cold_move_passes_and_a_move_of_archived_versions_or_at_another_age_is_reported():
    assert "gcs.bucket.cold_tier" not in reported(tg.kit(bucket={"lifecycleRules": gcs_rules(60)}, component={"coldAfterDays": 60}))
    assert "gcs.bucket.cold_tier" in reported(tg.kit(bucket={"lifecycleRules": gcs_rules(90)}, component={"coldAfterDays": 60}))
    every_version = [r for r in gcs_rules() if True] + [{"action": {"type": "SetStorageClass", "storageClass": "NEARLINE"},
                                                         "condition": {"age": 60}}]
    assert "gcs.bucket.cold_tier" in reported(tg.kit(bucket={"lifecycleRules": every_version}, component={"coldAfterDays": 60}))
    # ARCHIVE reads instantly on Cloud Storage: a move there is the stack's choice, not refused.
    archive = [*gcs_rules(), {"action": {"type": "SetStorageClass", "storageClass": "ARCHIVE"}, "condition": {"age": 400}}]
    assert "gcs.bucket.cold_tier" not in reported(tg.kit(bucket={"lifecycleRules": archive}))


def gcs_key_stack(encryption: Any, grant_member: Any = AGENT, declared: Any = GCS_KEY) -> list[Resource]:
    grant = Resource(KMS_MEMBER, "storage-agent-key-user", {"cryptoKeyId": GCS_KEY, "role": gcp_policy.KEY_USER_ROLE, "member": grant_member})
    return tg.kit(grant, bucket={"encryption": encryption}, component={"kmsKeyName": declared})


def test_gcs_the_kits_key_and_grant_pass():
    assert not {"gcs.bucket.encryption_key", "gcs.kms.service_agent"} & reported(gcs_key_stack(tg.kit_encryption(GCS_KEY)))


def test_gcs_another_key_or_none_is_reported_mandatory():
    keyless = {k: v for k, v in tg.kit_encryption(GCS_KEY).items() if k != "defaultKmsKeyName"}
    for encryption in (keyless, {**tg.kit_encryption(GCS_KEY), "defaultKmsKeyName": GCS_KEY.replace("recordings", "other")}):
        diagnostics = [d for d in analyze_stack(gcs_key_stack(encryption)) if d.policy == "gcs.bucket.encryption_key"]
        assert len(diagnostics) == 1 and diagnostics[0].level == "mandatory" and f"not the stack's {GCS_KEY}" in diagnostics[0].message


def test_gcs_a_grant_to_someone_else_than_the_storage_agent_is_reported():
    stack = gcs_key_stack({"defaultKmsKeyName": GCS_KEY}, grant_member="serviceAccount:other@acme-prod.iam.gserviceaccount.com")
    assert "gcs.kms.service_agent" in reported(stack)
    assert "gcs.kms.service_agent" not in reported(gcs_key_stack({"defaultKmsKeyName": GCS_KEY}, grant_member=UNKNOWN))


def test_gcs_require_customer_key_refuses_googles_keys():
    config = {"gcs.bucket.encryption_key": {"requireCustomerKey": True}}
    assert "gcs.bucket.encryption_key" in reported(tg.kit(), config)
    assert "gcs.bucket.encryption_key" not in reported(tg.kit())
    assert "gcs.bucket.encryption_key" not in reported(gcs_key_stack(tg.kit_encryption(GCS_KEY)), config)


# --- Azure: azure.account.cold_tier, azure.account.encryption_key


def azure_stack(rules: list[dict], cold: Any = None, encryption: Any = None, key_uri: Any = None) -> list[Resource]:
    stack = tz.kit()
    for resource in stack:
        if resource.type == tz.LIFECYCLE:
            resource.props["policy"] = {"rules": tz._camel(rules)}
        if resource.type == tz.COMPONENT:
            resource.props.update(coldAfterDays=cold, keyVaultKeyUri=key_uri)
        if resource.type == tz.ACCOUNT and encryption is not None:
            resource.props["encryption"] = encryption
        if resource.type == tz.IDENTITY:
            resource.props["id"] = WRITER_ID
    return stack


def test_azure_the_kits_cool_move_passes_and_archive_or_another_age_is_reported():
    assert "azure.account.cold_tier" not in reported(azure_stack(azure_policy.management_policy("recordings", 30, 365, 60)["rules"], 60))
    assert "azure.account.cold_tier" in reported(azure_stack(azure_policy.management_policy("recordings", 30, 365, 90)["rules"], 60))
    archive = {"name": "deep", "enabled": True, "type": "Lifecycle",
               "definition": {"filters": {"blob_types": ["blockBlob"]}, "actions": {"base_blob": {"tier_to_archive": {"days_after_modification_greater_than": 90}}}}}
    assert "azure.account.cold_tier" in reported(azure_stack([*azure_policy.management_policy("recordings", 30, 365)["rules"], archive]))


def encryption(identity: str, uri: str = KEY_URI) -> dict[str, Any]:
    return tz._camel(azure_policy.account_encryption(uri, identity))


def test_azure_the_kits_key_passes_and_another_key_or_the_writer_identity_is_reported():
    assert "azure.account.encryption_key" not in reported(azure_stack([], encryption=encryption(ENCRYPTION_ID), key_uri=KEY_URI))
    other = encryption(ENCRYPTION_ID, "https://acme-keys.vault.azure.net/keys/other")
    assert "azure.account.encryption_key" in reported(azure_stack([], encryption=other, key_uri=KEY_URI))
    diagnostics = [d for d in analyze_stack(azure_stack([], encryption=encryption(WRITER_ID), key_uri=KEY_URI))
                   if d.policy == "azure.account.encryption_key"]
    assert len(diagnostics) == 1 and diagnostics[0].level == "mandatory" and "as Tavus's writer identity" in diagnostics[0].message
    assert "azure.account.encryption_key" not in reported(azure_stack([], encryption={"keySource": UNKNOWN}, key_uri=KEY_URI))


@pytest.mark.parametrize("required, expected", [(True, True), (False, False)])
def test_azure_require_customer_key(required, expected):
    config = {"azure.account.encryption_key": {"requireCustomerKey": required}}
    assert ("azure.account.encryption_key" in reported(azure_stack([]), config)) is expected


# --- red-team findings on the cold tier (issue 19): narrowed, displaced or missing moves


def gcs_move(**condition: Any) -> dict[str, Any]:
    return {"action": {"type": "SetStorageClass", "storageClass": "NEARLINE"},
            "condition": {"age": 60, "withState": "LIVE", "matchesStorageClasses": ["STANDARD"], **condition}}


@pytest.mark.parametrize("rule,reported_", [
    (gcs_move(daysSinceCustomTime=0, sendDaysSinceCustomTimeIfZero=True), True),
    (gcs_move(daysSinceNoncurrentTime=0, sendDaysSinceNoncurrentTimeIfZero=True), True),
    (gcs_move(customTimeBefore="2030-01-01"), True),
    (gcs_move(noncurrentTimeBefore="2030-01-01"), True),
    (gcs_move(withState="ANY"), True),
    # What pulumi-gcp does not send (a 0 without its flag, empty text) or what every recording meets.
    (gcs_move(daysSinceCustomTime=0, daysSinceNoncurrentTime=0, customTimeBefore="", sendDaysSinceCustomTimeIfZero=False), False),
    (gcs_move(matchesPrefixes=[""]), False),
])
def test_gcs_a_move_narrowed_by_a_condition_the_provider_sends_is_not_the_stacks(rule, reported_):
    lifecycle = [r for r in gcs_rules() if r["action"]["type"] != "SetStorageClass"] + [rule]
    assert ("gcs.bucket.cold_tier" in reported(tg.kit(bucket={"lifecycleRules": lifecycle}, component={"coldAfterDays": 60}))) is reported_


@pytest.mark.parametrize("storage_class,age,reported_", [("COLDLINE", 30, True), ("ARCHIVE", 60, True), ("NEARLINE", 30, True),
                                                         ("ARCHIVE", 400, False), ("COLDLINE", 61, False)])
def test_gcs_a_cheaper_or_sooner_move_takes_the_stacks_place(storage_class, age, reported_):
    other = {"action": {"type": "SetStorageClass", "storageClass": storage_class}, "condition": {"age": age, "withState": "LIVE"}}
    stack = tg.kit(bucket={"lifecycleRules": [*gcs_rules(60), other]}, component={"coldAfterDays": 60})
    diagnostics = [d for d in analyze_stack(stack) if d.policy == "gcs.bucket.cold_tier"]
    assert bool(diagnostics) is reported_
    assert all(d.level == "advisory" and f"to {storage_class}" in d.message for d in diagnostics)


def azure_cool(**filters: Any) -> dict[str, Any]:
    rule = azure_policy.management_policy("recordings", 30, 365, 60)["rules"][-1]
    return {**rule, "definition": {**rule["definition"], "filters": {**rule["definition"]["filters"], **filters}}}


@pytest.mark.parametrize("rule,reported_", [
    (azure_cool(blob_index_match=[{"name": "k", "op": "==", "value": "v"}]), True),
    (azure_cool(prefix_match=["RECORDINGS/"]), True),
    ({**azure_cool(), "enabled": "false"}, True),
    (azure_cool(prefix_match=["rec"]), False),
    ({**azure_cool(), "definition": {**azure_cool()["definition"],
                                     "actions": {"base_blob": {"tier_to_cool": {"days_after_creation_greater_than": 60}}}}}, False),
])
def test_azure_a_narrowed_cool_move_is_not_the_stacks(rule, reported_):
    assert ("azure.account.cold_tier" in reported(azure_stack([rule], 60))) is reported_


def test_azure_a_move_to_cold_by_the_stacks_age_takes_its_place():
    colder = {**azure_cool(), "name": "colder",
              "definition": {**azure_cool()["definition"], "actions": {"base_blob": {"tier_to_cold": {"days_after_modification_greater_than": 30}}}}}
    diagnostics = [d for d in analyze_stack(azure_stack([azure_cool(), colder], 60)) if d.policy == "azure.account.cold_tier"]
    assert len(diagnostics) == 1 and diagnostics[0].level == "advisory" and "(rule colder)" in diagnostics[0].message


def without_management_policy(cold: Any) -> list[Resource]:
    stack = [r for r in azure_stack([], cold) if r.type != tz.LIFECYCLE]
    if cold is None:
        for resource in stack:
            if resource.type == tz.COMPONENT:
                resource.props.pop("coldAfterDays", None)
    return stack


def test_azure_an_account_with_no_management_policy_has_no_move_either():
    diagnostics = [d for d in analyze_stack(without_management_policy(90)) if d.policy == "azure.account.cold_tier"]
    assert len(diagnostics) == 1 and "has no lifecycle rule moving current recordings to Cool 90 days" in diagnostics[0].message
    config = {"azure.account.cold_tier": {"enforcementLevel": "mandatory", "coldAfterDays": 60}}
    diagnostics = [d for d in analyze_stack(without_management_policy(None), config) if d.policy == "azure.account.cold_tier"]
    assert len(diagnostics) == 1 and diagnostics[0].level == "mandatory" and "Cool 60 days" in diagnostics[0].message
    assert "azure.account.cold_tier" not in reported(without_management_policy(None))
    assert "azure.account.cold_tier" not in reported(without_management_policy(UNKNOWN), config)

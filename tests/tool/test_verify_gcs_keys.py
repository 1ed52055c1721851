"""`verify`'s `gcs.bucket.encryption_key` on who chooses an upload's key: the writer does, per request, so the
bucket must refuse uploads encrypted with a key the writer brings (CSEK) and, when the stack names a Cloud KMS
key, with Google-managed keys. The kit's `gcs` stack, run on the mock engine and served by the local fake of
Google's APIs, passes; each way of leaving the door open fails, on the kit's bucket and on an existing one alike."""

from __future__ import annotations

import copy
import json
from typing import Any, Iterator, Optional

import pytest
import test_verify_gcs as tv
from fakes import gcp_api as api

from tavus_recording.verify import gcp as verify_gcp

Kit = tv.Kit
KEY_CHECK = verify_gcp.ENCRYPTION_KEY
RESTRICTED = {"restrictionMode": "FullyRestricted", "effectiveTime": "2026-11-22T10:00:00.000Z"}
# Every way an enforcement config can leave uploads of its kind allowed, as the API could answer it.
OPEN = [None, {}, {"restrictionMode": "NotRestricted"}, {"restrictionMode": ""}, {"restrictionMode": "fullyrestricted"},
        {"restrictionMode": "FullyRestricted "}, {"effectiveTime": "2026-11-22T10:00:00.000Z"}]
KEY = "projects/acme-keys/locations/us/keyRings/rec/cryptoKeys/recordings"


@pytest.fixture(scope="module")
def kit() -> Kit:
    return tv.build_kit()


@pytest.fixture
def fake(kit: Kit) -> Iterator[api.FakeGcp]:
    with api.running(api.FakeGcp(copy.deepcopy(kit.state))) as served:
        yield served


def key_check(kit: Kit, fake: api.FakeGcp, outputs: Optional[dict[str, Any]] = None):
    return tv.by_id(tv.verify(kit, fake, outputs))[KEY_CHECK]


def encryption(fake: api.FakeGcp, kit: Kit) -> dict[str, Any]:
    return fake.state.buckets[kit.bucket].setdefault("encryption", {})


def with_key(kit: Kit, fake: api.FakeGcp, key: str = KEY, live: Optional[str] = None) -> dict[str, Any]:
    """The stack with kmsKeyName `key`, deployed as the kit deploys it (the bucket names it `live`, default `key`)."""
    fake.state.buckets[kit.bucket]["encryption"] = tv.keyed_encryption(live or key)
    fake.state.key_policies[live or key] = api.iam_policy([tv.key_grant()])
    return {**kit.outputs, "kms_key_name": key}


def set_config(fake: api.FakeGcp, kit: Kit, field: str, config: Optional[dict[str, Any]]) -> None:
    if config is None:
        encryption(fake, kit).pop(field, None)
    else:
        encryption(fake, kit)[field] = config


def test_the_kits_bucket_refuses_csek_uploads_and_says_so(kit: Kit, fake: api.FakeGcp):
    live = fake.state.buckets[kit.bucket]["encryption"]
    assert live["customerSuppliedEncryptionEnforcementConfig"]["restrictionMode"] == "FullyRestricted"
    # Without a key, Google-managed keys must stay allowed, or every upload would be refused.
    assert live["googleManagedEncryptionEnforcementConfig"]["restrictionMode"] == "NotRestricted"
    check = key_check(kit, fake)
    assert check.ok is True
    assert "Google-managed keys by default" in check.detail and "a key the writer brings (CSEK)" in check.detail


@pytest.mark.parametrize("config", OPEN, ids=repr)
def test_a_bucket_that_accepts_csek_uploads_fails_with_the_fix(kit: Kit, fake: api.FakeGcp, config: Optional[dict[str, Any]]):
    set_config(fake, kit, "customerSuppliedEncryptionEnforcementConfig", config)
    tv.assert_only(tv.verify(kit, fake), False, (KEY_CHECK,), "customer-supplied, CSEK")
    fix = key_check(kit, fake).fix
    assert verify_gcp.PULUMI_UP in fix and "--encryption-enforcement-file" in fix
    assert json.dumps({"csekEnforcement": {"restrictionMode": "FullyRestricted"}}) in fix


def test_a_bucket_with_no_encryption_at_all_fails(kit: Kit, fake: api.FakeGcp):
    fake.state.buckets[kit.bucket].pop("encryption")
    tv.assert_only(tv.verify(kit, fake), False, (KEY_CHECK,), "CSEK; its enforcement is not set")


def test_an_existing_bucket_is_held_to_it_too_with_the_direct_fix_only(kit: Kit, fake: api.FakeGcp):
    fake.state.buckets[kit.bucket].pop("encryption")
    check = key_check(kit, fake, tv.unmanaged(kit))
    assert check.ok is False and verify_gcp.PULUMI_UP not in check.fix
    assert check.fix.startswith(f"gcloud storage buckets update gs://{kit.bucket} --encryption-enforcement-file=FILE")
    assert tv.UNMANAGED in check.fix


def test_with_a_key_google_managed_uploads_must_be_refused_too(kit: Kit, fake: api.FakeGcp):
    outputs = with_key(kit, fake)
    check = key_check(kit, fake, outputs)
    assert check.ok is True, check
    assert f"default key is {KEY}, as the stack asks" in check.detail
    assert "a key the writer brings (CSEK) or Google-managed keys are refused" in check.detail
    # What no bucket setting refuses is said, not passed over.
    assert "constraints/gcp.restrictCmekCryptoKeyProjects" in check.detail


@pytest.mark.parametrize("config", OPEN, ids=repr)
def test_with_a_key_a_bucket_that_accepts_google_managed_uploads_fails(kit: Kit, fake: api.FakeGcp, config: Optional[dict[str, Any]]):
    outputs = with_key(kit, fake)
    set_config(fake, kit, "googleManagedEncryptionEnforcementConfig", config)
    tv.assert_only(tv.verify(kit, fake, outputs), False, (KEY_CHECK,), "Google-managed keys (their enforcement is")
    assert '"gmekEnforcement": {"restrictionMode": "FullyRestricted"}' in key_check(kit, fake, outputs).fix


@pytest.mark.parametrize("config", OPEN, ids=repr)
def test_with_a_key_csek_uploads_are_still_refused(kit: Kit, fake: api.FakeGcp, config: Optional[dict[str, Any]]):
    outputs = with_key(kit, fake)
    set_config(fake, kit, "customerSuppliedEncryptionEnforcementConfig", config)
    tv.assert_only(tv.verify(kit, fake, outputs), False, (KEY_CHECK,), "customer-supplied, CSEK")


def test_cmek_uploads_allowed_or_a_cmek_setting_are_no_finding(kit: Kit, fake: api.FakeGcp):
    outputs = with_key(kit, fake)
    encryption(fake, kit)["customerManagedEncryptionEnforcementConfig"] = {**RESTRICTED, "restrictionMode": "NotRestricted"}
    assert key_check(kit, fake, outputs).ok is True


# --- the key named by its project's number (#11): the same key when that project is the stack's


def test_the_stacks_key_spelt_with_its_projects_number_live_is_the_same_key(kit: Kit, fake: api.FakeGcp):
    key = f"projects/{kit.project}/locations/us/keyRings/rec/cryptoKeys/recordings"
    live = key.replace(f"projects/{kit.project}/", f"projects/{tv.PROJECT_NUMBER}/")
    assert key_check(kit, fake, with_key(kit, fake, key, live)).ok is True
    # And the other way round: the stack's key by number, the bucket's by id.
    assert key_check(kit, fake, with_key(kit, fake, live, key)).ok is True


@pytest.mark.parametrize("live", [
    "projects/999999999999/locations/us/keyRings/rec/cryptoKeys/recordings",  # another project's number
    f"projects/{tv.PROJECT_NUMBER}/locations/us/keyRings/rec/cryptoKeys/recordings-2",  # another key of the project
    f"projects/{tv.PROJECT_NUMBER}/locations/eu/keyRings/rec/cryptoKeys/recordings",
])
def test_a_number_that_is_not_the_stacks_project_or_another_key_still_fails(kit: Kit, fake: api.FakeGcp, live: str):
    key = f"projects/{kit.project}/locations/us/keyRings/rec/cryptoKeys/recordings"
    check = key_check(kit, fake, with_key(kit, fake, key, live))
    assert check.ok is False and f"not the stack's {key}" in check.detail


def test_a_key_in_another_project_is_not_matched_by_the_buckets_project_number(kit: Kit, fake: api.FakeGcp):
    live = KEY.replace("projects/acme-keys/", f"projects/{tv.PROJECT_NUMBER}/")
    assert key_check(kit, fake, with_key(kit, fake, KEY, live)).ok is False

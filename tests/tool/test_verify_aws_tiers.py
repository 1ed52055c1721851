"""`verify`'s `aws.bucket.cold_tier` on the classes S3 moves recordings to (red-team findings 2 and 3), against a moto
server with real boto3 calls: an Intelligent-Tiering archive tier fails it, whatever the lifecycle says; a disabled
or instant-read configuration passes; a denied read is unknown, never a pass; and the passing line says what was read.

moto 5.2.5 accepts PutBucketIntelligentTieringConfiguration but lists nothing back, so the one read
ListBucketIntelligentTieringConfigurations is answered by `fakes.aws_destination.IntelligentTiering`, in the API's
shape and pages; everything else is moto. moto's IAM enforcement does not authorize that read as
s3:GetIntelligentTieringConfiguration (dropping it from the reader policy changes nothing there), so the denied read is
shown by the fake answering AccessDenied, through the Reader's real error handling.
"""

from __future__ import annotations

from typing import Any

import pytest
from fakes.aws_destination import BUCKET, IntelligentTiering, deploy_destination, lifecycle_configuration
import test_verify_aws as base  # its fixtures and helpers (its tests are not collected here)

from tavus_recording.verify import aws as verify_aws
from tavus_recording.verify.aws_reads import ACTIONS

POLICY = "aws.bucket.cold_tier"
moto, shared_session, aws, outputs = base.moto, base.shared_session, base.aws, base.outputs
run, failing, unknown_ids, s3 = base.run, base.failing, base.unknown_ids, base.s3
IT_MOVE = {"ID": "it", "Status": "Enabled", "Filter": {}, "Transitions": [{"Days": 0, "StorageClass": "INTELLIGENT_TIERING"}]}


@pytest.fixture
def tiering(monkeypatch: pytest.MonkeyPatch) -> IntelligentTiering:
    return IntelligentTiering().install(monkeypatch)


def with_it_move(aws: Any, cold: Any = 90) -> None:
    rules = lifecycle_configuration(30, 365, cold)["Rules"] + [IT_MOVE]
    s3(aws).put_bucket_lifecycle_configuration(Bucket=BUCKET, LifecycleConfiguration={"Rules": rules})


@pytest.mark.parametrize("tiers", [
    (("ARCHIVE_ACCESS", 90),),
    (("DEEP_ARCHIVE_ACCESS", 180),),
    (("ARCHIVE_ACCESS", 90), ("DEEP_ARCHIVE_ACCESS", 180)),
])
def test_an_intelligent_tiering_archive_tier_fails_the_cold_tier_alone(aws, tiering, tiers):
    outputs = deploy_destination(aws, retention_days=365, cold_after_days=90)
    with_it_move(aws)
    tiering.put(BUCKET, "archive-old", *tiers)
    checks = run(outputs, aws)
    assert failing(checks) == {POLICY} and unknown_ids(checks) == set()
    check = checks[POLICY]
    assert f"archives recordings in INTELLIGENT_TIERING to {tiers[0][0]} after {tiers[0][1]} days unread" in check.detail
    assert "(Intelligent-Tiering configuration archive-old)" in check.detail
    assert f"aws s3api delete-bucket-intelligent-tiering-configuration --bucket {BUCKET} --id archive-old" in check.fix


def test_an_archive_tier_fails_even_without_a_lifecycle_move_to_intelligent_tiering(aws, tiering, outputs):
    # The writer may upload into INTELLIGENT_TIERING itself; a configuration with a prefix may still reach recordings.
    tiering.put(BUCKET, "by-prefix", ("DEEP_ARCHIVE_ACCESS", 180), prefix="conversations/")
    check = run(outputs, aws)[POLICY]
    assert check.ok is False and "DEEP_ARCHIVE_ACCESS" in check.detail


def test_an_archive_tier_on_the_second_page_is_found(aws, monkeypatch):
    tiering = IntelligentTiering(page_size=2).install(monkeypatch)
    outputs = deploy_destination(aws, retention_days=365)
    for n in range(4):
        tiering.put(BUCKET, f"off-{n}", ("ARCHIVE_ACCESS", 90), status="Disabled")
    tiering.put(BUCKET, "late", ("ARCHIVE_ACCESS", 90))
    check = run(outputs, aws)[POLICY]
    assert check.ok is False and "configuration late" in check.detail and tiering.calls >= 3


@pytest.mark.parametrize("status", ["Disabled"])
def test_a_disabled_configuration_or_none_passes_and_says_what_was_read(aws, tiering, status):
    outputs = deploy_destination(aws, retention_days=365, cold_after_days=90)
    with_it_move(aws)
    tiering.put(BUCKET, "off", ("ARCHIVE_ACCESS", 90), status=status)
    checks = run(outputs, aws)
    assert failing(checks) == set() and unknown_ids(checks) == set()
    detail = checks[POLICY].detail
    assert detail.startswith("lifecycle rules move current recordings to GLACIER_IR after 90 days, as the stack says, and none to an archive class")
    assert "no Intelligent-Tiering configuration has an archive tier" in detail
    # It does not claim more than it read: the class an upload asks for is the writer's.
    assert "stay in instant-read" not in detail and "instant-read classes" not in detail


def test_without_cold_after_days_the_passing_line_names_the_reads(aws, tiering, outputs):
    detail = run(outputs, aws)[POLICY].detail
    assert detail == "lifecycle rules move recordings to no archive class; no Intelligent-Tiering configuration has an archive tier (no coldAfterDays)"


def test_a_denied_tiering_read_is_unknown_never_a_pass_and_a_real_failure_still_fails(aws, tiering, outputs):
    tiering.denied = True
    checks = run(outputs, aws)
    assert failing(checks) == set() and unknown_ids(checks) == {POLICY}
    assert "the bucket could not be read for its Intelligent-Tiering configurations: " in checks[POLICY].detail
    assert ACTIONS["list_bucket_intelligent_tiering_configurations"] in checks[POLICY].detail
    # A lifecycle move to GLACIER is still a failure, whatever could not be read.
    rules = lifecycle_configuration(30)["Rules"] + [
        {"ID": "archive", "Status": "Enabled", "Filter": {}, "Transitions": [{"Days": 30, "StorageClass": "GLACIER"}]}]
    s3(aws).put_bucket_lifecycle_configuration(Bucket=BUCKET, LifecycleConfiguration={"Rules": rules})
    assert run(outputs, aws)[POLICY].ok is False


def test_the_reader_policy_grants_the_tiering_read_on_the_bucket_only():
    policy = verify_aws.reader_policy("arn:aws:iam::111122223333:role/w", "acme-tavus-recordings")
    granted = [s for s in policy["Statement"] if "s3:GetIntelligentTieringConfiguration" in s["Action"]]
    assert [s["Resource"] for s in granted] == ["arn:aws:s3:::acme-tavus-recordings"]

"""The pack's `aws.bucket.cold_tier` on every shape a stack can move recordings with (red-team findings 2, 4, 5, 11):
Intelligent-Tiering's archive tiers (pulumi-aws's resource, aws-native's bucket property), aws-native's
CloudFormation rule (singular Transition, TransitionInDays, filters on the rule), and aws.s3.Bucket's inline rules.
Each attack is reported by this policy alone; each safe look-alike passes."""

from typing import Any, Optional

import pytest

import test_attacks_aws as ta  # module objects only: their tests are not collected here
from pack_harness import UNKNOWN, Resource, analyze_stack, policies_reported

POLICY = "aws.bucket.cold_tier"
TIERING = "aws:s3/bucketIntelligentTieringConfiguration:BucketIntelligentTieringConfiguration"
KIT_MOVE = {"id": "cold", "status": "Enabled", "filter": {}, "transitions": [{"days": 90, "storageClass": "GLACIER_IR"}]}
IT_MOVE = {"id": "it", "status": "Enabled", "filter": {"prefix": ""}, "transitions": [{"days": 0, "storageClass": "INTELLIGENT_TIERING"}]}


def cold_messages(stack: list[Resource], config: Any = None) -> list[str]:
    return [d.message for d in analyze_stack(stack, config) if d.policy == POLICY]


def with_cold(stack: list[Resource], cold: Any = 90) -> list[Resource]:
    stack = ta.with_component(stack, 365)
    stack[0].props["coldAfterDays"] = cold
    return stack


def tiering(*tiers: tuple[str, int], bucket: Any = ta.BUCKET, status: Optional[str] = None, **more: Any) -> Resource:
    props = {"bucket": bucket, "name": "archive", "tierings": [{"accessTier": tier, "days": days} for tier, days in tiers], **more}
    return Resource(TIERING, "tiering", {**props, **({"status": status} if status else {})})


def native(*rules: dict[str, Any], **bucket_props: Any) -> list[Resource]:
    return with_cold(ta.native_recording_stack(bucket_props={"lifecycleConfiguration": {"rules": list(rules)}, **bucket_props}))


def native_move(**more: Any) -> dict[str, Any]:
    return {"id": "cold", "status": "Enabled", "transitions": [{"storageClass": "GLACIER_IR", "transitionInDays": 90}], **more}


def legacy(*rules: dict[str, Any]) -> list[Resource]:
    return with_cold(ta.recording_stack(bucket_props={"lifecycleRules": list(rules)}))


def legacy_move(**more: Any) -> dict[str, Any]:
    return {"id": "cold", "enabled": True, "transitions": [{"days": 90, "storageClass": "GLACIER_IR"}], **more}


# --- 2. Intelligent-Tiering's archive tiers


@pytest.mark.parametrize("stack", [
    with_cold(ta.recording_stack(ta.lifecycle(KIT_MOVE, IT_MOVE), tiering(("ARCHIVE_ACCESS", 90), ("DEEP_ARCHIVE_ACCESS", 180)))),
    with_cold(ta.recording_stack(ta.lifecycle(KIT_MOVE), tiering(("DEEP_ARCHIVE_ACCESS", 180), status="Enabled"))),
    with_cold(ta.recording_stack(ta.lifecycle(KIT_MOVE), tiering(("ARCHIVE_ACCESS", 125), filter={"prefix": "conversations/"}))),
    # Bound to the bucket only through the bucket's id output.
    with_cold(ta.recording_stack(ta.lifecycle(KIT_MOVE), Resource(TIERING, "tiering", {
        "bucket": UNKNOWN, "name": "archive", "tierings": [{"accessTier": "ARCHIVE_ACCESS", "days": 90}]}, {"bucket": ["bucket"]}))),
    native(native_move(), intelligentTieringConfigurations=[
        {"id": "archive", "status": "Enabled", "tierings": [{"accessTier": "DEEP_ARCHIVE_ACCESS", "days": 180}]}]),
    native(native_move(), intelligentTieringConfigurations=[
        {"id": "archive", "status": "Enabled", "prefix": "c/", "tierings": [{"accessTier": "ARCHIVE_ACCESS", "days": 90}]}]),
], ids=["resource, both tiers", "resource, deep archive", "resource with a filter", "resource by dependency", "aws-native", "aws-native with a prefix"])
def test_an_intelligent_tiering_archive_tier_on_the_recordings_bucket_is_reported(stack):
    diagnostics = analyze_stack(stack)
    assert policies_reported(diagnostics) == {POLICY}
    assert all("Intelligent-Tiering configuration archive" in d.message and "must wait hours" in d.message for d in diagnostics)
    assert all(d.level == "advisory" for d in diagnostics)


@pytest.mark.parametrize("stack", [
    # A move to INTELLIGENT_TIERING with no archive tier: its automatic tiers read instantly.
    with_cold(ta.recording_stack(ta.lifecycle(KIT_MOVE, IT_MOVE))),
    with_cold(ta.recording_stack(ta.lifecycle(KIT_MOVE, IT_MOVE), tiering(("ARCHIVE_ACCESS", 90), status="Disabled"))),
    # Another bucket's configuration.
    with_cold(ta.recording_stack(ta.lifecycle(KIT_MOVE, IT_MOVE), tiering(("ARCHIVE_ACCESS", 90), bucket="someone-elses-logs"))),
    native(native_move(), intelligentTieringConfigurations=[
        {"id": "off", "status": "Disabled", "tierings": [{"accessTier": "ARCHIVE_ACCESS", "days": 90}]}]),
], ids=["no configuration", "disabled", "another bucket", "aws-native disabled"])
def test_intelligent_tiering_without_an_archive_tier_on_the_recordings_bucket_passes(stack):
    assert cold_messages(stack) == []


def test_an_intelligent_tiering_configuration_not_known_yet_waits():
    stack = with_cold(ta.recording_stack(ta.lifecycle(KIT_MOVE), tiering(("ARCHIVE_ACCESS", 90))))
    stack[-1].props["tierings"] = UNKNOWN
    assert cold_messages(stack) == []


def test_the_tiering_is_reported_on_its_own_resource():
    found = [d for d in analyze_stack(with_cold(ta.recording_stack(ta.lifecycle(KIT_MOVE), tiering(("ARCHIVE_ACCESS", 90)))))
             if d.policy == POLICY]
    assert len(found) == 1 and found[0].urn.endswith("::tiering")


# --- 4. aws-native's CloudFormation rule: singular moves, TransitionInDays


@pytest.mark.parametrize("rule", [
    {"id": "x", "status": "Enabled", "transition": {"storageClass": "GLACIER", "transitionInDays": 1}},
    {"id": "x", "status": "Enabled", "transition": {"storageClass": "DEEP_ARCHIVE", "transitionDate": "2030-01-01T00:00:00Z"}},
    {"id": "x", "status": "Enabled", "noncurrentVersionTransition": {"storageClass": "DEEP_ARCHIVE", "transitionInDays": 1}},
    {"id": "x", "status": "Enabled", "noncurrentVersionTransitions": [{"storageClass": "GLACIER", "transitionInDays": 1}]},
])
def test_an_aws_native_move_to_an_archive_class_is_reported(rule):
    messages = cold_messages(native(native_move(), rule))
    assert len(messages) == 1 and "(rule x)" in messages[0] and "must wait hours" in messages[0]


@pytest.mark.parametrize("rule", [
    native_move(),
    native_move(transitions=[{"storageClass": "GLACIER_IR", "transitionInDays": "90"}]),
    {"id": "cold", "status": "Enabled", "transition": {"storageClass": "GLACIER_IR", "transitionInDays": 90}},
    native_move(objectSizeGreaterThan="131071"),
    native_move(objectSizeGreaterThan="0", prefix=""),
])
def test_the_stacks_move_in_aws_native_shape_passes(rule):
    assert cold_messages(native(rule)) == []


# --- 5. filters on the rule itself narrow the move


@pytest.mark.parametrize("stack", [
    legacy(legacy_move(tags={"k": "v"})),
    legacy(legacy_move(prefix="conversations/")),
    native(native_move(tagFilters=[{"key": "k", "value": "v"}])),
    native(native_move(objectSizeGreaterThan="10000000000")),
    native(native_move(objectSizeLessThan="1048576")),
    native(native_move(prefix="conversations/")),
    with_cold(ta.recording_stack(ta.lifecycle({**KIT_MOVE, "filter": {"objectSizeGreaterThan": 131072}}))),
], ids=["legacy tags", "legacy prefix", "native tagFilters", "native size floor", "native size cap", "native prefix", "size floor 128 KB"])
def test_a_move_of_only_some_recordings_is_not_the_stacks_move(stack):
    messages = cold_messages(stack)
    assert len(messages) == 1 and "has no lifecycle rule moving current recordings to GLACIER_IR after 90 days" in messages[0]


@pytest.mark.parametrize("stack", [
    legacy(legacy_move()),
    legacy(legacy_move(prefix="", tags={})),
    with_cold(ta.recording_stack(ta.lifecycle({**KIT_MOVE, "filter": {"objectSizeGreaterThan": 0}}))),
    with_cold(ta.recording_stack(ta.lifecycle({**KIT_MOVE, "filter": {"objectSizeGreaterThan": 131071}}))),
    with_cold(ta.recording_stack(ta.lifecycle({**KIT_MOVE, "filter": {"and": {"prefix": "", "objectSizeGreaterThan": 131071}}}))),
], ids=["legacy", "legacy empty filters", "size floor 0", "size floor 131071", "and with size floor 131071"])
def test_a_whole_bucket_move_in_any_shape_passes(stack):
    assert cold_messages(stack) == []

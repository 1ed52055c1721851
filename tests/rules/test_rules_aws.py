"""The AWS rules on their own: a property test against an independent evaluation of the trust, and the
judgements verify makes from live documents (denies, boundaries, keys)."""

from __future__ import annotations

import fnmatch
from typing import Any, Optional

import pytest
from hypothesis import HealthCheck, example, given, settings, strategies as st

from components import aws_policy
from tavus_recording.rules import aws as rules
from tavus_recording.rules.aws import tiers
from tavus_recording.rules.findings import violations

TAVUS = "291871421005"
OTHER = "444455556666"
BUCKET = "recordings"
BUCKET_ARN = f"arn:aws:s3:::{BUCKET}"
ROLE_ARN = "arn:aws:iam::111122223333:role/tavus-writer"
KEY = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"

# --- an independent evaluation of who a trust admits (the oracle) ------------------------------------

# Who might call sts:AssumeRole: (kind, account, arn).
CALLERS = [
    ("AWS", TAVUS, f"arn:aws:iam::{TAVUS}:role/recorder"),
    ("AWS", OTHER, f"arn:aws:iam::{OTHER}:role/attacker"),
    ("AWS", OTHER, f"arn:aws:iam::{OTHER}:root"),
    ("Service", None, "ec2.amazonaws.com"),
    ("Federated", None, "accounts.google.com"),
]
SENT_IDS = ["tavus", "guess", "TAVUS", None]


def _values(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _principal_matches(principal: Any, caller: tuple) -> bool:
    kind, account, arn = caller
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    for value in _values(principal.get(kind)):
        if not isinstance(value, str):
            continue
        if value == "*" and kind == "AWS":
            return True
        if kind != "AWS":
            if value == arn:
                return True
            continue
        if value in (account, f"arn:aws:iam::{account}:root") or value == arn:
            return True
    return False


def _condition_holds(condition: Any, context: dict[str, Optional[str]]) -> bool:
    """IAM's semantics for the operators the generator writes; anything else fails closed (denies)."""
    if condition is None:
        return True
    for operator, block in condition.items():
        for key, wanted in block.items():
            present = context.get(key.lower())
            wanted = _values(wanted)
            if operator.endswith("IfExists") and present is None:
                continue
            base = operator.removesuffix("IfExists").removeprefix("ForAnyValue:")
            if present is None:
                return False
            if base == "StringEquals":
                ok = present in wanted
            elif base == "StringEqualsIgnoreCase":
                ok = present.lower() in [str(w).lower() for w in wanted]
            elif base == "StringLike":
                ok = any(fnmatch.fnmatchcase(present, str(w)) for w in wanted)
            elif base == "StringNotEquals":
                ok = present not in wanted
            else:
                return False
            if not ok:
                return False
    return True


def admits(doc: dict[str, Any], caller: tuple, external_id: Optional[str]) -> bool:
    """Whether the trust lets `caller` assume the role with `external_id` (explicit Deny wins)."""
    context = {"sts:externalid": external_id, "aws:principalaccount": caller[1]}
    allowed = False
    for statement in _values(doc.get("Statement")):
        if not isinstance(statement, dict):
            continue
        actions = _values(statement.get("Action", []))
        action_ok = any(isinstance(a, str) and fnmatch.fnmatchcase("sts:assumerole", a.lower()) for a in actions)
        if "NotAction" in statement:
            action_ok = not any(fnmatch.fnmatchcase("sts:assumerole", str(a).lower()) for a in _values(statement["NotAction"]))
        if "NotPrincipal" in statement:
            who = not _principal_matches(statement["NotPrincipal"], caller)
        else:
            who = _principal_matches(statement.get("Principal"), caller)
        if not (action_ok and who and _condition_holds(statement.get("Condition"), context)):
            continue
        if statement.get("Effect") == "Deny":
            return False
        allowed = True
    return allowed


# --- generated trusts ---------------------------------------------------------------------------------------

aws_values = st.sampled_from(
    [TAVUS, f"arn:aws:iam::{TAVUS}:root", f"arn:aws:iam::{TAVUS}:role/recorder", OTHER, f"arn:aws:iam::{OTHER}:root", "*"]
)
principals = st.one_of(
    st.just("*"),
    st.builds(lambda v: {"AWS": v}, st.one_of(aws_values, st.lists(aws_values, min_size=1, max_size=3))),
    st.builds(lambda v: {"Service": v}, st.sampled_from(["ec2.amazonaws.com", "lambda.amazonaws.com"])),
    st.builds(lambda v: {"Federated": v}, st.just("accounts.google.com")),
)
operators = st.sampled_from(
    ["StringEquals", "StringLike", "StringEqualsIfExists", "StringEqualsIgnoreCase", "ForAnyValue:StringEquals", "StringNotEquals"]
)
id_values = st.one_of(st.sampled_from(["tavus", "*", "tav*", "guess"]), st.lists(st.sampled_from(["tavus", "guess"]), min_size=1, max_size=2))
conditions = st.one_of(
    st.none(),
    st.dictionaries(operators, st.dictionaries(st.sampled_from(["sts:ExternalId", "STS:externalid", "aws:PrincipalAccount"]),
                                               st.one_of(id_values, st.sampled_from([TAVUS, OTHER])), min_size=1, max_size=2),
                    min_size=1, max_size=2),
)
actions = st.sampled_from(["sts:AssumeRole", "sts:*", "*", ["sts:AssumeRole", "sts:TagSession"], "sts:AssumeRoleWithWebIdentity"])


@st.composite
def statements(draw: Any) -> dict[str, Any]:
    statement: dict[str, Any] = {"Effect": draw(st.sampled_from(["Allow", "Allow", "Allow", "Deny"]))}
    if draw(st.integers(0, 9)) == 0:
        statement["NotPrincipal"] = draw(principals)
    else:
        statement["Principal"] = draw(principals)
    statement["Action"] = draw(actions)
    condition = draw(conditions)
    if condition is not None:
        statement["Condition"] = condition
    return statement


KIT = aws_policy.trust_policy()
tavus_principals = st.sampled_from([{"AWS": TAVUS}, {"AWS": f"arn:aws:iam::{TAVUS}:root"}, {"AWS": [TAVUS]},
                                    {"AWS": f"arn:aws:iam::{TAVUS}:role/recorder"}])
extra_conditions = st.dictionaries(
    st.sampled_from(["StringEquals", "StringLike", "StringNotEquals", "StringEqualsIfExists"]),
    st.dictionaries(st.sampled_from(["aws:PrincipalAccount", "sts:ExternalId", "aws:SourceIp"]),
                    st.one_of(id_values, st.sampled_from([TAVUS, OTHER])), min_size=1, max_size=1),
    max_size=2,
)


@st.composite
def near_kit_statements(draw: Any) -> dict[str, Any]:
    """The kit's statement with one or two parts changed: the spellings most likely to slip through."""
    statement = dict(KIT["Statement"][0])
    statement["Principal"] = draw(st.one_of(tavus_principals, principals))
    if draw(st.integers(0, 5)) == 0:
        statement["NotPrincipal"] = statement.pop("Principal")
    if draw(st.booleans()):
        statement["Action"] = draw(actions)
    condition = {"StringEquals": {"sts:ExternalId": draw(st.sampled_from(["tavus", "guess", ["tavus"], ["tavus", "guess"]]))}}
    for operator, block in draw(extra_conditions).items():
        condition.setdefault(operator, {}).update(block)
    statement["Condition"] = condition
    return statement


trusts = st.builds(
    lambda first, rest: {"Version": "2012-10-17", "Statement": [first, *rest]},
    st.one_of(near_kit_statements(), near_kit_statements(), near_kit_statements(), statements()),
    st.lists(st.one_of(statements(), near_kit_statements()), max_size=2),
)


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(trusts, st.sampled_from([None, "tavus"]))
@example(KIT, None)
@example({"Statement": [KIT["Statement"][0], {"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole",
                                              "Condition": {"StringEquals": {"sts:ExternalId": "tavus"}}}]}, None)
def test_property_a_trust_the_rules_pass_admits_nobody_but_tavus_with_its_external_id(doc, expected):
    if not rules.is_tavus_trust(doc, expected) or violations(rules.trust_findings(doc, expected)):
        return
    for caller in CALLERS:
        for sent in SENT_IDS:
            if admits(doc, caller, sent):
                assert caller[1] == TAVUS, f"{caller} admitted with ExternalId {sent!r}"
                assert sent is not None and (expected is None or sent == expected), f"Tavus admitted with ExternalId {sent!r}"


def test_the_kits_trust_passes_and_admits_tavus():
    assert violations(rules.trust_findings(KIT, "tavus")) == []
    assert admits(KIT, CALLERS[0], "tavus") and not admits(KIT, CALLERS[0], "guess")


# --- verify's judgements over live documents ------------------------------------------------------------------


def writer(key: Optional[str] = None) -> rules.PolicyDoc:
    return rules.PolicyDoc("inline policy 'writer'", aws_policy.writer_policy(BUCKET_ARN, key))


def deny(action: str = "s3:PutObject", resource: str = f"{BUCKET_ARN}/*", **condition: Any) -> dict[str, Any]:
    statement = {"Effect": "Deny", "Action": action, "Resource": resource}
    return {**statement, "Condition": condition} if condition else statement


def test_the_kits_writer_has_no_blockers():
    assert rules.write_blockers([writer()], BUCKET, ROLE_ARN) == []
    assert rules.write_blockers([writer(KEY)], BUCKET, ROLE_ARN, key=KEY) == []
    tls = rules.PolicyDoc("bucket policy", aws_policy.tls_only_bucket_policy(BUCKET_ARN))
    assert rules.write_blockers([writer()], BUCKET, ROLE_ARN, resource_policies=[tls]) == []


def test_an_explicit_deny_anywhere_stops_the_write():
    inline = rules.PolicyDoc("inline policy 'guard'", {"Statement": [deny()]})
    [finding] = violations(rules.write_blockers([writer(), inline], BUCKET, ROLE_ARN))
    assert "is stopped: inline policy 'guard' statement 1 denies s3:PutObject" in finding.problem
    bucket = rules.PolicyDoc("bucket policy", {"Statement": [{**deny(), "Principal": "*"}]})
    assert violations(rules.write_blockers([writer()], BUCKET, ROLE_ARN, resource_policies=[bucket]))
    # A Deny in the bucket policy for someone else does not stop Tavus.
    other = rules.PolicyDoc("bucket policy", {"Statement": [{**deny(), "Principal": {"AWS": f"arn:aws:iam::{OTHER}:root"}}]})
    assert rules.write_blockers([writer()], BUCKET, ROLE_ARN, resource_policies=[other]) == []


def test_a_conditional_deny_is_unknown_never_a_pass():
    inline = rules.PolicyDoc("inline policy 'guard'", {"Statement": [deny(StringNotEquals={"aws:SourceVpce": "vpce-1"})]})
    found = rules.write_blockers([writer(), inline], BUCKET, ROLE_ARN)
    assert found and all(f.unknown for f in found)


def test_a_boundary_or_guardrail_that_does_not_allow_the_write_stops_it():
    boundary = rules.PolicyDoc("permissions boundary", {"Statement": [{"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"}]})
    found = violations(rules.write_blockers([writer()], BUCKET, ROLE_ARN, boundary=boundary))
    assert any("permissions boundary" in f.problem and "s3:PutObject" in f.problem for f in found)
    unreadable = rules.PolicyDoc("SCP p-123", None, reason="AccessDenied")
    assert [f.unknown for f in rules.write_blockers([writer()], BUCKET, ROLE_ARN, guardrails=[unreadable])] == [True]


def test_a_missing_writer_action_is_reported():
    partial = rules.PolicyDoc("inline policy 'writer'", {"Statement": [{"Effect": "Allow", "Action": "s3:PutObject", "Resource": f"{BUCKET_ARN}/*"}]})
    problems = [f.problem for f in violations(rules.write_blockers([partial], BUCKET, ROLE_ARN))]
    assert any("s3:ListBucket on arn:aws:s3:::recordings" in p for p in problems)


def test_key_policy_and_state():
    delegating = {"Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*", "Resource": "*"}]}
    assert rules.key_policy_blockers(delegating, KEY, ROLE_ARN) == []
    other = {"Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{OTHER}:root"}, "Action": "kms:*", "Resource": "*"}]}
    assert violations(rules.key_policy_blockers(other, KEY, ROLE_ARN))
    assert [f.unknown for f in rules.key_policy_blockers(None, KEY, ROLE_ARN, "AccessDenied")] == [True]
    assert rules.key_findings(KEY, True, "Enabled") == []
    assert "scheduled for deletion" in rules.key_findings(KEY, False, "PendingDeletion")[0].problem
    assert "Disabled" in rules.key_findings(KEY, False, "Disabled")[0].problem


def test_lifecycle_in_the_apis_own_casing():
    live = [{"ID": "expire-recordings", "Status": "Enabled", "Filter": {}, "Expiration": {"Days": 1}}]
    assert rules.lifecycle_findings(live, 365)
    assert rules.lifecycle_findings(live, None)
    assert rules.lifecycle_findings([{"ID": "x", "Status": "Enabled", "Expiration": {"Days": 400}}], 365) == []
    assert [f.unknown for f in rules.lifecycle_findings(live, None, retention_known=False)] == [True]


# --- aws.bucket.cold_tier: S3's, Pulumi's and CloudFormation's (aws-native) shapes of one lifecycle -------------

COLD = 90
MISSING = "has no lifecycle rule moving current recordings to GLACIER_IR after 90 days"


def cold_problems(rules_: list, cold: Any = COLD, tierings: Any = ()) -> list[str]:
    return [f.problem for f in tiers.cold_tier_findings(rules_, cold) + tiers.intelligent_tiering_findings(tierings)]


def archived(rules_: list, tierings: Any = ()) -> list[str]:
    return [p for p in cold_problems(rules_, None, tierings) if MISSING not in p]


def kit_move(**more: Any) -> dict[str, Any]:
    return {"ID": "cold", "Status": "Enabled", "Filter": {}, "Transitions": [{"Days": COLD, "StorageClass": "GLACIER_IR"}], **more}


def legacy_move(**more: Any) -> dict[str, Any]:
    """aws.s3.Bucket's inline lifecycleRules (pulumi-aws 7.51 BucketLifecycleRuleArgs: enabled, prefix, tags)."""
    return {"id": "cold", "enabled": True, "transitions": [{"days": COLD, "storageClass": "GLACIER_IR"}], **more}


def native_move(**more: Any) -> dict[str, Any]:
    """aws-native's Rule, which is CloudFormation's AWS::S3::Bucket Rule: Transitions[].TransitionInDays, and the
    prefix, tag and size filters on the rule itself (no Filter)."""
    return {"id": "cold", "status": "Enabled", "transitions": [{"storageClass": "GLACIER_IR", "transitionInDays": COLD}], **more}


# CloudFormation's singular Transition / NoncurrentVersionTransition (one object each), in aws-native's camelCase
# and CloudFormation's PascalCase, by days or by date (docs.aws.amazon.com/AWSCloudFormation, aws-properties-s3-bucket-rule).
@pytest.mark.parametrize("rule", [
    {"id": "x", "status": "Enabled", "transition": {"storageClass": "GLACIER", "transitionInDays": 1}},
    {"id": "x", "status": "Enabled", "transition": {"storageClass": "DEEP_ARCHIVE", "transitionDate": "2030-01-01T00:00:00Z"}},
    {"id": "x", "status": "Enabled", "noncurrentVersionTransition": {"storageClass": "DEEP_ARCHIVE", "transitionInDays": 1}},
    {"Id": "x", "Status": "Enabled", "Transition": {"StorageClass": "GLACIER", "TransitionInDays": 30}},
    {"Id": "x", "Status": "Enabled", "NoncurrentVersionTransition": {"StorageClass": "GLACIER", "TransitionInDays": "7"}},
])
def test_an_aws_native_single_move_to_an_archive_class_is_found(rule):
    assert [p for p in archived([kit_move(), rule]) if "(rule x)" in p and "must wait hours" in p]


@pytest.mark.parametrize("rule", [
    native_move(),
    native_move(transitions=[{"storageClass": "GLACIER_IR", "transitionInDays": "90"}]),
    {"id": "cold", "status": "Enabled", "transition": {"storageClass": "GLACIER_IR", "transitionInDays": COLD}},
    {"Id": "cold", "Status": "Enabled", "Transitions": [{"StorageClass": "GLACIER_IR", "TransitionInDays": COLD}]},
])
def test_the_stacks_move_in_aws_native_shape_counts(rule):
    assert cold_problems([rule]) == []


@pytest.mark.parametrize("rule", [
    native_move(transitions=[{"storageClass": "GLACIER_IR", "transitionInDays": 120}]),
    {"id": "cold", "status": "Enabled", "transition": {"storageClass": "GLACIER_IR", "transitionDate": "2030-01-01T00:00:00Z"}},
    {"id": "cold", "status": "Disabled", "transition": {"storageClass": "GLACIER_IR", "transitionInDays": COLD}},
    {"id": "cold", "status": "Enabled", "noncurrentVersionTransition": {"storageClass": "GLACIER_IR", "transitionInDays": COLD}},
])
def test_an_aws_native_move_at_another_age_by_date_disabled_or_of_old_versions_is_not_the_stacks(rule):
    assert any(MISSING in p for p in cold_problems([rule]))


# A rule that reaches only some recordings is not the stack's whole-bucket move, in every shape that can narrow it.
@pytest.mark.parametrize("rule", [
    legacy_move(tags={"k": "v"}),
    legacy_move(prefix="conversations/"),
    native_move(tagFilters=[{"key": "k", "value": "v"}]),
    native_move(objectSizeGreaterThan="10000000000"),
    native_move(objectSizeGreaterThan="131072"),
    native_move(objectSizeLessThan="1048576"),
    native_move(prefix="conversations/"),
    {"Id": "cold", "Status": "Enabled", "TagFilters": [{"Key": "k", "Value": "v"}],
     "Transitions": [{"StorageClass": "GLACIER_IR", "TransitionInDays": COLD}]},
    kit_move(Filter={"ObjectSizeGreaterThan": 131072}),
    kit_move(Filter={"ObjectSizeGreaterThan": 10_000_000_000}),
    kit_move(Filter={"ObjectSizeLessThan": 5000}),
    kit_move(Filter={"Tag": {"Key": "k", "Value": "v"}}),
    kit_move(Filter={"And": {"Prefix": "", "ObjectSizeGreaterThan": 1_000_000, "ObjectSizeLessThan": 9_000_000}}),
    kit_move(Filter={"And": {"Prefix": "c/", "Tags": [{"Key": "k", "Value": "v"}]}}),
    kit_move(Filter={"ObjectSizeGreaterThan": "not a number"}),
    {"id": "cold", "status": "Enabled", "filter": {"and": {"tags": {"k": "v"}, "objectSizeGreaterThan": 0}},
     "transitions": [{"days": COLD, "storageClass": "GLACIER_IR"}]},
])
def test_a_narrowed_move_is_not_the_stacks_whole_bucket_move(rule):
    assert any(MISSING in p for p in cold_problems([rule]))


# S3 Lifecycle moves no object under 128 KB to GLACIER_IR by default (TransitionDefaultMinimumObjectSize, either value):
# a size floor at or under it leaves out nothing the move would take.
@pytest.mark.parametrize("rule", [
    kit_move(Filter={"ObjectSizeGreaterThan": 0}),
    kit_move(Filter={"ObjectSizeGreaterThan": 131071}),
    kit_move(Filter={"ObjectSizeGreaterThan": "131071"}),
    kit_move(Filter={"Prefix": ""}),
    kit_move(Filter={"And": {"Prefix": "", "ObjectSizeGreaterThan": 1}}),
    native_move(objectSizeGreaterThan="0"),
    native_move(objectSizeGreaterThan="131071", prefix="", tagFilters=[]),
    legacy_move(prefix="", tags={}),
    {"id": "cold", "status": "Enabled", "filter": {"prefix": None, "tag": None, "and": None, "objectSizeGreaterThan": None},
     "transitions": [{"days": COLD, "storageClass": "GLACIER_IR"}]},
])
def test_a_size_floor_under_s3s_own_128_kb_or_an_empty_filter_is_still_the_whole_bucket(rule):
    assert cold_problems([rule]) == []


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=10**13), st.sampled_from(["api", "native", "and"]))
def test_property_a_size_floor_narrows_exactly_from_128_kb(size, shape):
    rule = {"api": kit_move(Filter={"ObjectSizeGreaterThan": size}),
            "native": native_move(objectSizeGreaterThan=str(size)),
            "and": kit_move(Filter={"And": {"Prefix": "", "ObjectSizeGreaterThan": size}})}[shape]
    assert (any(MISSING in p for p in cold_problems([rule]))) == (size >= 128 * 1024)


# Intelligent-Tiering's opt-in tiers archive recordings left unread, by S3's, Pulumi's or CloudFormation's names.
ARCHIVE_TIERINGS = [
    {"Id": "archive", "Status": "Enabled", "Tierings": [{"Days": 90, "AccessTier": "ARCHIVE_ACCESS"}]},
    {"Id": "archive", "Status": "Enabled", "Filter": {"Prefix": "c/"}, "Tierings": [{"Days": 180, "AccessTier": "DEEP_ARCHIVE_ACCESS"}]},
    {"name": "archive", "bucket": BUCKET, "tierings": [{"accessTier": "ARCHIVE_ACCESS", "days": 90},
                                                        {"accessTier": "DEEP_ARCHIVE_ACCESS", "days": 180}]},
    {"id": "archive", "status": "Enabled", "tagFilters": [{"key": "k", "value": "v"}],
     "tierings": [{"accessTier": "DEEP_ARCHIVE_ACCESS", "days": 180}]},
    {"Id": "archive", "Status": "Enabled", "Tierings": {"Days": 90, "AccessTier": "archive_access"}},
]


@pytest.mark.parametrize("tiering", ARCHIVE_TIERINGS)
def test_an_intelligent_tiering_archive_tier_is_found(tiering):
    it_move = {"ID": "it", "Status": "Enabled", "Filter": {}, "Transitions": [{"Days": 0, "StorageClass": "INTELLIGENT_TIERING"}]}
    problems = archived([kit_move(), it_move], [tiering])
    assert problems and all("Intelligent-Tiering configuration archive" in p and "must wait hours" in p for p in problems)
    assert "remove" in tiers.cold_tier_fix(COLD) and "ARCHIVE_ACCESS" in tiers.cold_tier_fix(COLD)


@pytest.mark.parametrize("tiering", [
    {"Id": "off", "Status": "Disabled", "Tierings": [{"Days": 90, "AccessTier": "ARCHIVE_ACCESS"}]},
    {"name": "off", "status": "Disabled", "tierings": [{"accessTier": "DEEP_ARCHIVE_ACCESS", "days": 180}]},
    {"Id": "none", "Status": "Enabled", "Tierings": []},
])
def test_a_move_to_intelligent_tiering_without_an_archive_tier_reads_instantly(tiering):
    it_move = {"ID": "it", "Status": "Enabled", "Filter": {}, "Transitions": [{"Days": 0, "StorageClass": "INTELLIGENT_TIERING"}]}
    assert cold_problems([kit_move(), it_move], COLD, [tiering]) == []
    assert cold_problems([kit_move(), it_move], COLD) == []

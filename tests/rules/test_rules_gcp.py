"""The shared Google Cloud rules, as an attacker would test them: each attack in several spellings,
and the safe look-alikes that must pass. A property test generates attribute conditions and holds
the condition rule to an independent evaluator: it must never accept one that admits a subject
other than Tavus's."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Optional, Union

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from components import gcp_policy
from tavus_recording.rules import cel
from tavus_recording.rules import gcp as rules
from tavus_recording.rules.findings import ADVISORY, MANDATORY, Finding

SUBJECT = "tavus-recording-writer"
POOL = "projects/428173025661/locations/global/workloadIdentityPools/tavus"
TAVUS = gcp_policy.workload_principal(POOL, SUBJECT)
WRITER = "writer@acme-prod.iam.gserviceaccount.com"
BUCKET = "acme-recordings"
OWN = {"acme-prod", "428173025661"}
MAPPING = {"google.subject": "assertion.sub"}


def ids(findings: list[Finding]) -> list[str]:
    return [f.rule for f in findings]


def test_the_rules_are_gcs_rules_each_once_with_a_level_and_a_time_to_act():
    assert len({r.id for r in rules.RULES}) == len(rules.RULES)
    assert all(r.id.startswith("gcs.") and r.level in (MANDATORY, ADVISORY) and r.acts and r.why for r in rules.RULES)
    assert {r.id for r in rules.RULES if r.level == ADVISORY} == {
        "gcs.service_account.least_privilege", "gcs.bucket.uniform_access", "gcs.bucket.force_destroy", "gcs.bucket.cold_tier"}


# --- the provider's attribute condition -----------------------------------------------------------

PINNING = [
    gcp_policy.attribute_condition(SUBJECT),
    f"assertion.sub == '{SUBJECT}'",
    f"assertion['sub'] == '{SUBJECT}'",
    f'assertion["sub"]=="{SUBJECT}"',
    f"'{SUBJECT}' == assertion.sub",
    f"(assertion.sub == '{SUBJECT}')",
    f"((assertion . sub == '{SUBJECT}'))",
    f"assertion.sub == '{SUBJECT}' && assertion.aud == 'tavus'",
    f"assertion.aud.startsWith('x') && (assertion.sub == '{SUBJECT}' && assertion.iss == 'y')",
    f"(assertion.a || assertion.b) && assertion.sub == '{SUBJECT}'",
    f"!assertion.admin && assertion.sub == '{SUBJECT}'",
    f"assertion.sub == '{SUBJECT}' && assertion.sub == '{SUBJECT}'",
    "assertion.sub == 'tavus-recording\\x2dwriter'",
    "assertion.sub == 'tavus-recording\\u002Dwriter'",
    "assertion.sub == 'tavus-recording\\055writer'",
    f"google.subject == '{SUBJECT}'",
]


@pytest.mark.parametrize("condition", PINNING)
def test_a_condition_that_provably_requires_tavuss_subject_passes(condition: str):
    assert rules.condition_findings(condition, MAPPING, SUBJECT) == []
    assert rules.condition_findings(condition, MAPPING) == []
    assert rules.pinned_subjects(condition, MAPPING) == (SUBJECT,)


# The red team's conditions, and more: each admits a subject other than Tavus's, or cannot be proved not to.
UNPINNED = [
    None,
    "",
    "   ",
    "true",
    "assertion.sub != ''",
    f"assertion.sub == '{SUBJECT}' || true",
    f"true || assertion.sub == '{SUBJECT}'",
    f"assertion.sub == '{SUBJECT}' && true || true",
    f"(assertion.sub == '{SUBJECT}' || true)",
    f"assertion.sub == '{SUBJECT}' || assertion.sub != '{SUBJECT}'",
    f"!(assertion.sub != '{SUBJECT}')",
    f"assertion.sub.startsWith('{SUBJECT}')",
    "assertion.sub.endsWith('writer')",
    f"assertion.sub in ['{SUBJECT}', 'mallory']",
    f"'{SUBJECT}' in [assertion.sub]",
    f"assertion.sub == '{SUBJECT}' ? true : true",
    f"assertion.sub == '{SUBJECT}' ? assertion.sub == '{SUBJECT}' : true",
    "assertion.sub == assertion.sub",
    "size(assertion.sub) > 0",
    f"assertion.sub >= '{SUBJECT}'",
    f"assertion.aud == '{SUBJECT}'",
    f"'{SUBJECT}' == '{SUBJECT}'",
    f"assertion.sub == '{SUBJECT}' // || true",
    f"assertion.sub == r'{SUBJECT}'",
    f"assertion.sub == b'{SUBJECT}'",
    f"assertion.sub == '''{SUBJECT}'''",
    f"assertion.sub == '{SUBJECT}\\q'",
    f"assertion.sub == '{SUBJECT}",
    f"(assertion.sub == '{SUBJECT}'",
    f"assertion.sub == '{SUBJECT}' &&",
    f"assertion.sub == '{SUBJECT}' & true",
    f"assertion.sub\u00a0== '{SUBJECT}'",
    f"assertion.sub == '{SUBJECT}', true",
    "assertion.sub == ''",
    f"assertion.sub == '{SUBJECT}' == true",
    f"!assertion.sub == '{SUBJECT}'",
    f"-assertion.sub == '{SUBJECT}'",
    f"assertion.sub.x == '{SUBJECT}'",
    f"assertion.subject == '{SUBJECT}'",
    f"attribute.sub == '{SUBJECT}'",
]


@pytest.mark.parametrize("condition", UNPINNED)
def test_a_condition_that_cannot_be_proved_to_pin_the_subject_is_refused(condition: Optional[str]):
    found = rules.condition_findings(condition, MAPPING)
    assert ids(found) == ["gcs.provider.condition"], condition
    assert rules.condition_findings(condition, MAPPING, SUBJECT) != []
    assert not rules.pinned_subjects(condition, MAPPING)


def test_with_a_configured_subject_the_literal_must_be_it():
    found = rules.condition_findings("assertion.sub == 'mallory'", MAPPING, SUBJECT)
    assert "'mallory'" in found[0].problem and f"not Tavus's {SUBJECT!r}" in found[0].problem
    assert rules.condition_findings("assertion.sub == 'mallory'", MAPPING) == []
    # Admitting nothing at all cannot admit anyone else.
    assert rules.condition_findings(f"assertion.sub == 'mallory' && assertion.sub == '{SUBJECT}'", MAPPING, SUBJECT) == []


@pytest.mark.parametrize(
    "mapping",
    [{"google.subject": "assertion.email"}, {"google.subject": "'tavus-recording-writer'"}, {"google.subject": "assertion.sub + ''"},
     {"google.subject": "assertion.sub.lowerAscii()"}, {}, None],
)
def test_google_subject_pins_only_when_mapped_from_exactly_the_sub_claim(mapping: Any):
    assert rules.condition_findings(f"google.subject == '{SUBJECT}'", mapping) != []


def test_an_attribute_mapped_from_exactly_the_sub_claim_names_the_subject_too():
    mapping = {"google.subject": "assertion.sub", "attribute.who": "assertion['sub']"}
    assert rules.condition_findings(f"attribute.who == '{SUBJECT}'", mapping, SUBJECT) == []
    assert rules.condition_findings(f"attribute.who == '{SUBJECT}'", {**mapping, "attribute.who": "assertion.aud"}, SUBJECT) != []


def test_the_tokenizer_reads_ceLs_escapes_and_refuses_what_it_does_not_know():
    assert cel.tokens("'a\\'b' \"\\\\\" '\\U0001F600'") == [("str", "a'b"), ("str", "\\"), ("str", "\U0001F600")]
    for bad in ["'\\ud800'", "'\\x4'", "'a\nb'", "`x`", "a @ b", "a = b", "a | b", "'\\U00110000'"]:
        with pytest.raises(cel.NotProvable):
            cel.tokens(bad)


# --- a property test: the condition rule against an independent evaluator

SUBJECTS = ("tavus", "mallory", "", "tavus ")
Node = Union[tuple[str, Any], tuple[str, Any, Any]]


@dataclass(frozen=True)
class Token:
    sub: str
    aud: str


TOKENS = [Token(sub, aud) for sub in SUBJECTS for aud in ("tavus", "x")]
ATTRIBUTES = {"assertion.sub": "sub", "assertion['sub']": "sub", 'assertion["sub"]': "sub", "google.subject": "sub", "assertion.aud": "aud"}
LITERALS = st.sampled_from(SUBJECTS + ("x",))


def spell(value: str, style: int) -> str:
    """A CEL literal for `value`, in one of several spellings (quotes, escapes)."""
    if style == 1:
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    if style == 2:
        return '"' + "".join(f"\\x{ord(c):02x}" for c in value) + '"'
    if style == 3 and value:
        return '"' + "".join(f"\\{ord(c):03o}" for c in value) + '"'
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


leaves = st.one_of(
    st.tuples(st.sampled_from(["==", "!="]), st.sampled_from(sorted(ATTRIBUTES)), LITERALS, st.integers(0, 3), st.booleans()).map(
        lambda t: ("cmp", t)
    ),
    st.booleans().map(lambda b: ("bool", b)),
)
trees = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.tuples(st.just("and"), inner, inner),
        st.tuples(st.just("or"), inner, inner),
        st.tuples(st.just("not"), inner),
        st.tuples(st.just("paren"), inner),
        st.tuples(st.just("ternary"), inner, inner, inner),
    ),
    max_leaves=8,
)
# Conjunctions with a pin somewhere, so that many generated conditions are ones the rule accepts.
pins = st.tuples(st.just("=="), st.sampled_from(["assertion.sub", "assertion['sub']", "google.subject"]), LITERALS,
                 st.integers(0, 3), st.booleans()).map(lambda t: ("cmp", t))
conditions = st.one_of(
    trees,
    st.tuples(st.just("and"), trees, pins),
    st.tuples(st.just("and"), pins, trees),
    st.tuples(st.just("paren"), st.tuples(st.just("and"), trees, pins)),
)
PRECEDENCE = {"ternary": 0, "or": 1, "and": 2, "cmp": 3, "not": 4, "bool": 5, "paren": 5}


def render(node: Any, needed: int = 0) -> str:
    """The tree as CEL text, with only the parentheses its shape needs (plus `paren` nodes)."""
    kind = node[0]
    if kind == "bool":
        text = "true" if node[1] else "false"
    elif kind == "cmp":
        op, attribute, value, style, flipped = node[1]
        text = f"{spell(value, style)} {op} {attribute}" if flipped else f"{attribute} {op} {spell(value, style)}"
    elif kind == "paren":
        text = f"({render(node[1])})"
    elif kind == "not":
        text = f"!{render(node[1], PRECEDENCE['not'])}"
    elif kind == "ternary":
        text = f"{render(node[1], 1)} ? {render(node[2], 1)} : {render(node[3], 0)}"
    else:
        op = "&&" if kind == "and" else "||"
        text = f"{render(node[1], PRECEDENCE[kind])} {op} {render(node[2], PRECEDENCE[kind] + 1)}"
    return f"({text})" if PRECEDENCE[kind] < needed else text


def evaluate(node: Any, token: Token) -> bool:
    """The tree's value for a token whose google.subject is mapped from its sub."""
    kind = node[0]
    if kind == "bool":
        return node[1]
    if kind == "cmp":
        op, attribute, value, _, _ = node[1]
        equal = getattr(token, ATTRIBUTES[attribute]) == value
        return equal if op == "==" else not equal
    if kind == "paren":
        return evaluate(node[1], token)
    if kind == "not":
        return not evaluate(node[1], token)
    if kind == "ternary":
        return evaluate(node[2], token) if evaluate(node[1], token) else evaluate(node[3], token)
    left, right = evaluate(node[1], token), evaluate(node[2], token)
    return (left and right) if kind == "and" else (left or right)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(conditions)
def test_no_generated_condition_the_rule_accepts_admits_a_subject_other_than_tavuss(tree: Any):
    text = render(tree)
    admitted = {t.sub for t in TOKENS if evaluate(tree, t)}
    if rules.condition_findings(text, MAPPING, "tavus") == []:
        assert admitted <= {"tavus"}, (text, admitted)
    if rules.condition_findings(text, MAPPING) == []:
        assert len(admitted) <= 1 and "" not in admitted, (text, admitted)
    pinned = rules.pinned_subjects(text, MAPPING)
    if pinned and len(pinned) == 1:
        assert admitted <= set(pinned), (text, admitted)


def test_the_evaluator_and_renderer_agree_on_precedence():
    # `a || b && c` is `a || (b && c)`: the tree and its text must mean the same.
    tree = ("or", ("bool", True), ("and", ("bool", False), ("bool", False)))
    assert render(tree) == "true || false && false" and evaluate(tree, TOKENS[0]) is True
    tree = ("and", ("or", ("bool", True), ("bool", False)), ("bool", False))
    assert render(tree) == "(true || false) && false" and evaluate(tree, TOKENS[0]) is False
    pin = ("cmp", ("==", "assertion.sub", "tavus", 1, False))
    assert rules.condition_findings(render(("and", ("not", pin), pin)), MAPPING) == []  # admits nobody
    assert rules.condition_findings(render(("or", pin, pin)), MAPPING) != []


# --- mapping and issuer -------------------------------------------------------------------------------


@pytest.mark.parametrize("expression", ["assertion.sub", " assertion.sub ", "assertion['sub']", 'assertion["sub"]', "assertion . sub"])
def test_the_subject_mapped_from_the_sub_claim_passes(expression: str):
    assert rules.mapping_findings({"google.subject": expression}) == []


@pytest.mark.parametrize(
    "mapping",
    [{}, None, {"google.subject": "assertion.aud"}, {"google.subject": "'tavus'"}, {"google.subject": "assertion.sub + ''"},
     {"google.subject": "assertion.sub.extract('{x}')"}, {"google.subject": "assertion.email"}, {"attribute.sub": "assertion.sub"},
     {"google.subject": "assertion.sub || true"}, {"google.subject": "r'assertion.sub'"}],
)
def test_a_subject_mapped_from_anything_else_is_refused(mapping: Any):
    assert ids(rules.mapping_findings(mapping)) == ["gcs.provider.mapping"]


@pytest.mark.parametrize("issuer", ["https://tavus-issuer.example", "https://tavus.example:8443/oidc"])
def test_an_https_issuer_with_a_host_passes(issuer: str):
    assert rules.issuer_findings({"oidc": {"issuerUri": issuer}}) == []


@pytest.mark.parametrize(
    "issuer",
    ["http://tavus-issuer.example", "https://tavus-issuer.example@evil.example", "https://user:pw@evil.example", "https:///path",
     "https://", "ftp://tavus-issuer.example", "tavus-issuer.example", "https://tavus-issuer.example/?x=1", "https://evil.example#x",
     "https://tavus issuer.example", "", None, "https://tavus-issuer.example:99999"],
)
def test_an_issuer_that_is_not_https_with_a_plain_host_is_refused(issuer: Any):
    assert ids(rules.issuer_findings({"oidc": {"issuerUri": issuer}})) == ["gcs.provider.issuer"]


def test_inline_signing_keys_and_a_pool_of_several_issuers_are_refused():
    found = rules.issuer_findings({"oidc": {"issuerUri": "https://tavus-issuer.example", "jwksJson": '{"keys": []}'}}, "https://tavus-issuer.example")
    assert ids(found) == ["gcs.provider.issuer"] and "jwksJson" in found[0].problem
    assert rules.pool_issuer_findings(["https://a.example", "https://a.example"], POOL) == []
    assert "2 issuers" in rules.pool_issuer_findings(["https://a.example", "https://b.example"], POOL)[0].problem


def test_a_configured_issuer_must_match_and_the_provider_must_be_oidc():
    assert rules.issuer_findings({"oidc": {"issuerUri": "https://a.example"}}, "https://a.example") == []
    assert "https://b.example" in rules.issuer_findings({"oidc": {"issuerUri": "https://a.example"}}, "https://b.example")[0].problem
    assert "aws" in rules.issuer_findings({"aws": {"accountId": "1"}})[0].problem


# --- who can act as the writer -------------------------------------------------------------------------

SET = f"principalSet://iam.googleapis.com/{POOL}/*"


def on_writer(role: str, member: str) -> rules.Grant:
    return rules.Grant(role, member, rules.SERVICE_ACCOUNT, WRITER)


def on_project(role: str, member: str) -> rules.Grant:
    return rules.Grant(role, member, rules.PROJECT, "acme-prod")


def reaching(*grants: rules.Grant, accepted: Optional[set[str]] = None) -> list[Finding]:
    return rules.impersonation_findings(grants, WRITER, accepted, own_projects=OWN)


IMPERSONATORS = [
    on_writer(gcp_policy.IMPERSONATION_ROLE, SET),
    on_writer(gcp_policy.IMPERSONATION_ROLE, SET.replace("principalSet", "PrincipalSet")),
    on_writer(gcp_policy.IMPERSONATION_ROLE, f"principalSet://iam.googleapis.com/{POOL}/attribute.aud/tavus"),
    on_writer(gcp_policy.IMPERSONATION_ROLE, f"principalSet://iam.googleapis.com/{POOL}/group/admins"),
    on_writer(gcp_policy.IMPERSONATION_ROLE, gcp_policy.workload_principal(POOL, "mallory")),
    on_writer(gcp_policy.IMPERSONATION_ROLE, gcp_policy.workload_principal("projects/9/locations/global/workloadIdentityPools/other", SUBJECT)),
    on_writer(gcp_policy.IMPERSONATION_ROLE, "principal://iam.googleapis.com/locations/global/workforcePools/staff/subject/bob"),
    on_writer(gcp_policy.IMPERSONATION_ROLE, "allUsers"),
    on_writer("roles/iam.serviceAccountTokenCreator", "allAuthenticatedUsers"),
    on_writer("roles/iam.serviceAccountTokenCreator", TAVUS),
    on_writer("roles/iam.serviceAccountUser", "group:ops@acme.example"),
    on_writer("roles/iam.serviceAccountOpenIdTokenCreator", "domain:acme.example"),
    on_writer("roles/iam.serviceAccountKeyAdmin", "serviceAccount:ci@acme-prod.iam.gserviceaccount.com"),
    on_writer("roles/iam.serviceAccountAdmin", "user:mallory@example.com"),
    on_writer("roles/owner", "user:mallory@example.com"),
    on_writer("roles/editor", "deleted:group:old@acme.example?uid=1"),
    on_writer("roles/cloudfunctions.admin", "user:dev@acme.example"),
    on_writer("projects/acme-prod/roles/custom", "user:dev@acme.example"),
    on_writer("roles/storage.hmacKeyAdmin", "user:dev@acme.example"),
    on_project("roles/iam.serviceAccountTokenCreator", "group:ops@acme.example"),
    on_project("roles/editor", "serviceAccount:123-compute@developer.gserviceaccount.com"),
    on_project("roles/owner", "domain:acme.example"),
    on_project(gcp_policy.IMPERSONATION_ROLE, SET),
    on_project(gcp_policy.IMPERSONATION_ROLE, TAVUS),
    on_project("roles/editor", "serviceAccount:service-999@gcp-sa-cloudbuild.iam.gserviceaccount.com"),
    on_project("roles/editor", "serviceAccount:service-428173025661@acme-prod.iam.gserviceaccount.com"),
]


@pytest.mark.parametrize("grant", IMPERSONATORS, ids=lambda g: f"{g.scope}:{g.role}:{g.member}")
def test_anyone_else_who_can_act_as_the_writer_is_reported(grant: rules.Grant):
    assert ids(reaching(grant, accepted={TAVUS})) == ["gcs.service_account.impersonation"]


SAFE_GRANTS = [
    on_writer(gcp_policy.IMPERSONATION_ROLE, TAVUS),
    on_writer("roles/iam.serviceAccountViewer", "group:auditors@acme.example"),
    on_writer("roles/viewer", "user:dev@acme.example"),
    on_writer("roles/iam.securityReviewer", "group:security@acme.example"),
    on_project("roles/owner", "user:admin@acme.example"),
    on_project("roles/editor", "serviceAccount:428173025661@cloudservices.gserviceaccount.com"),
    on_project("roles/cloudbuild.serviceAgent", "serviceAccount:service-428173025661@gcp-sa-cloudbuild.iam.gserviceaccount.com"),
    on_project("roles/logging.logWriter", "serviceAccount:app@acme-prod.iam.gserviceaccount.com"),
    on_project("roles/storage.objectAdmin", "group:data@acme.example"),
    on_project("roles/viewer", "allAuthenticatedUsers"),  # not who-can-act-as-it's: who-else-reaches-the-recordings'
]


@pytest.mark.parametrize("grant", SAFE_GRANTS, ids=lambda g: f"{g.scope}:{g.role}:{g.member}")
def test_grants_that_cannot_act_as_the_writer_pass(grant: rules.Grant):
    assert reaching(grant, accepted={TAVUS}) == []


def test_without_a_known_subject_one_federated_subject_is_taken_for_tavuss_and_a_second_is_reported():
    assert reaching(on_writer(gcp_policy.IMPERSONATION_ROLE, TAVUS)) == []
    second = on_writer(gcp_policy.IMPERSONATION_ROLE, gcp_policy.workload_principal(POOL, "mallory"))
    found = reaching(on_writer(gcp_policy.IMPERSONATION_ROLE, TAVUS), second)
    assert len(found) == 2 and all("one of 2 federated principals" in f.problem for f in found)


def test_a_harmless_role_can_be_vouched_for_and_a_defined_custom_role_judged_by_its_permissions():
    custom = "projects/acme-prod/roles/reader"
    grant = on_writer(custom, "group:ops@acme.example")
    assert rules.impersonation_findings([grant], WRITER, {TAVUS}, {custom: ["iam.serviceAccounts.get", "storage.objects.get"]}) == []
    assert rules.impersonation_findings([grant], WRITER, {TAVUS}, {custom: ["iam.serviceAccounts.getAccessToken"]}) != []
    odd = on_writer("roles/example.reader", "group:ops@acme.example")
    assert rules.impersonation_findings([odd], WRITER, {TAVUS}, harmless={"roles/example.reader"}) == []


# --- what the writer (and its pool) can do ---------------------------------------------------------------

ME = f"serviceAccount:{WRITER}"


def held(role: str, scope: str = rules.BUCKET, target: str = BUCKET) -> rules.Grant:
    return rules.Grant(role, ME, scope, target)


def permissions(*grants: rules.Grant, buckets: Optional[set[str]] = {BUCKET}, custom: Optional[dict[str, list[str]]] = None) -> list[Finding]:
    return rules.writer_permission_findings(grants, WRITER, buckets, custom or {})


@pytest.mark.parametrize(
    "grant",
    [held("roles/storage.objectAdmin"), held("roles/storage.objectUser"), held("roles/storage.legacyBucketWriter"),
     held("roles/storage.legacyBucketOwner"), held("roles/storage.legacyObjectOwner"), held("roles/storage.admin"),
     held("roles/owner"), held("roles/storage.objectCreator", target="other-bucket"), held("roles/storage.objectViewer", target="other-bucket"),
     held("roles/logging.logWriter", rules.PROJECT, "acme-prod"), held("roles/viewer", rules.PROJECT, "acme-prod"),
     held("roles/iam.serviceAccountTokenCreator", rules.SERVICE_ACCOUNT, "admin@acme-prod.iam.gserviceaccount.com"),
     held("projects/acme-prod/roles/undefined")],
    ids=lambda g: f"{g.role}@{g.target}",
)
def test_anything_beyond_creating_objects_in_the_bucket_is_mandatory(grant: rules.Grant):
    assert ids(permissions(grant)) == ["gcs.service_account.permissions"]


@pytest.mark.parametrize("role", sorted(rules.READ_ONLY_ROLES))
def test_an_extra_read_on_the_same_bucket_is_advisory(role: str):
    assert ids(permissions(held(role))) == ["gcs.service_account.least_privilege"]


def test_custom_roles_are_judged_by_their_permissions_when_defined():
    custom = "projects/acme-prod/roles/recorder"
    assert permissions(held(custom), custom={custom: ["storage.objects.create", "storage.multipartUploads.create"]}) == []
    assert ids(permissions(held(custom), custom={custom: ["storage.objects.create", "storage.objects.get"]})) == ["gcs.service_account.least_privilege"]
    assert ids(permissions(held(custom), custom={custom: ["storage.objects.create", "storage.objects.delete"]})) == ["gcs.service_account.permissions"]
    assert ids(permissions(held(custom), custom={custom: ["storage.buckets.setIamPolicy"]})) == ["gcs.service_account.permissions"]


def test_the_writer_split_across_two_grants_on_one_bucket_passes_but_two_buckets_do_not():
    assert permissions(held("roles/storage.objectCreator"), held("roles/storage.objectCreator"), buckets=None) == []
    found = permissions(held("roles/storage.objectCreator"), held("roles/storage.objectCreator", target="b2"), buckets=None)
    assert "on 2 buckets" in found[0].problem


@pytest.mark.parametrize(
    "grant",
    [rules.Grant("roles/storage.objectAdmin", SET, rules.BUCKET, BUCKET), rules.Grant("roles/storage.objectViewer", TAVUS, rules.BUCKET, "x"),
     rules.Grant("roles/storage.objectAdmin", SET, rules.PROJECT, "acme-prod"),
     rules.Grant("roles/pubsub.admin", f"principalSet://iam.googleapis.com/{POOL}/attribute.aud/x", rules.OTHER, "topic t")],
    ids=lambda g: f"{g.scope}:{g.role}",
)
def test_a_pools_identities_may_hold_nothing_of_their_own(grant: rules.Grant):
    assert ids(rules.pool_grant_findings([grant])) == ["gcs.service_account.permissions"]


def test_a_pools_reach_to_accounts_is_left_to_who_can_act_as_them():
    assert rules.pool_grant_findings([on_writer("roles/iam.serviceAccountTokenCreator", SET), on_project(gcp_policy.IMPERSONATION_ROLE, SET),
                                      rules.Grant("roles/storage.objectAdmin", "user:dev@acme.example", rules.BUCKET, BUCKET)]) == []


# --- who else reaches the recordings ---------------------------------------------------------------------


def bucket_access(*grants: rules.Grant) -> list[Finding]:
    return rules.bucket_access_findings(grants, {WRITER}, OWN)


OUTSIDERS = [
    rules.Grant("roles/storage.objectViewer", "allUsers", rules.BUCKET, BUCKET),
    rules.Grant("roles/storage.objectViewer", "allusers", rules.BUCKET, BUCKET),
    rules.Grant("roles/storage.legacyBucketReader", "allAuthenticatedUsers", rules.BUCKET, BUCKET),
    rules.Grant("roles/storage.objectViewer", SET, rules.BUCKET, BUCKET),
    rules.Grant("roles/storage.objectViewer", TAVUS, rules.BUCKET, BUCKET),
    rules.Grant("roles/storage.objectViewer", "serviceAccount:spy@other-proj.iam.gserviceaccount.com", rules.BUCKET, BUCKET),
    rules.Grant("roles/storage.objectViewer", "deleted:serviceAccount:spy@other-proj.iam.gserviceaccount.com?uid=1", rules.BUCKET, BUCKET),
    rules.Grant("roles/storage.objectViewer", "serviceAccount:someone@gmail.com", rules.BUCKET, BUCKET),
    rules.Grant("roles/storage.objectViewer", "serviceAccount:other-proj@appspot.gserviceaccount.com", rules.BUCKET, BUCKET),
    rules.Grant("roles/storage.objectViewer", "projectViewer:other-proj", rules.BUCKET, BUCKET),
    rules.Grant("roles/storage.objectViewer", "weird:member", rules.BUCKET, BUCKET),
    rules.Grant("roles/storage.objectViewer", "serviceAccount:spy@other-proj.iam.gserviceaccount.com", rules.PROJECT, "acme-prod"),
    rules.Grant("roles/editor", "allAuthenticatedUsers", rules.PROJECT, "acme-prod"),
    rules.Grant("roles/cloudfunctions.admin", "serviceAccount:spy@other-proj.iam.gserviceaccount.com", rules.PROJECT, "acme-prod"),
]


@pytest.mark.parametrize("grant", OUTSIDERS, ids=lambda g: f"{g.scope}:{g.member}")
def test_the_public_federated_identities_and_other_projects_are_reported(grant: rules.Grant):
    assert ids(bucket_access(grant)) == ["gcs.bucket.access"]


INSIDERS = [
    rules.Grant("roles/storage.objectAdmin", ME, rules.BUCKET, BUCKET),
    rules.Grant("roles/storage.objectViewer", "user:dev@acme.example", rules.BUCKET, BUCKET),
    rules.Grant("roles/storage.objectViewer", "group:data@acme.example", rules.BUCKET, BUCKET),
    rules.Grant("roles/storage.objectViewer", "serviceAccount:app@acme-prod.iam.gserviceaccount.com", rules.BUCKET, BUCKET),
    rules.Grant("roles/storage.legacyBucketOwner", "projectEditor:428173025661", rules.BUCKET, BUCKET),
    rules.Grant("roles/storage.objectViewer", "serviceAccount:service-428173025661@gs-project-accounts.iam.gserviceaccount.com", rules.BUCKET, BUCKET),
    rules.Grant("roles/logging.logWriter", "serviceAccount:spy@other-proj.iam.gserviceaccount.com", rules.PROJECT, "acme-prod"),
    rules.Grant("roles/iam.serviceAccountTokenCreator", "allUsers", rules.PROJECT, "acme-prod"),
]


@pytest.mark.parametrize("grant", INSIDERS, ids=lambda g: f"{g.scope}:{g.member}")
def test_your_own_people_and_accounts_and_roles_without_storage_pass(grant: rules.Grant):
    assert bucket_access(grant) == []


# --- keys -------------------------------------------------------------------------------------------------


def test_a_key_of_the_writer_is_the_writer():
    assert ids(rules.key_findings(WRITER)) == ["gcs.service_account.keys"]
    assert "enable it again" in rules.key_findings(WRITER, disabled=True)[0].problem
    assert "HMAC" in rules.key_findings(WRITER, "HMAC")[0].problem
    assert rules.key_findings(WRITER, "SYSTEM_MANAGED") == []


# --- that recordings last ----------------------------------------------------------------------------------


def camel(value: Any) -> Any:
    """pulumi-gcp's snake_case args as the engine hands them to the pack (camelCase)."""
    if isinstance(value, dict):
        return {re.sub(r"_([a-z])", lambda m: m.group(1).upper(), k): camel(v) for k, v in value.items()}
    return value


def delete(**condition: Any) -> dict[str, Any]:
    return {"action": {"type": "Delete"}, "condition": condition}


EARLY = [
    delete(age=30, withState="LIVE"),
    delete(age=30),
    delete(age=30, withState="ANY"),
    delete(age=0, withState="LIVE"),
    delete(createdBefore="2027-01-01"),
    delete(customTimeBefore="2027-01-01"),
    delete(daysSinceCustomTime=1),
    delete(age=364, matchesPrefix=["rec"]),
    delete(age=1, isLive=True),
    delete(age=400, noAge=True),
    delete(age=1, matchesStorageClass=["STANDARD"]),
    delete(),
    {"action": {"type": "Obliterate"}, "condition": {"age": 1}},
    {"action": {}, "condition": {"age": 1}},
    {"action": {"type": "Delete"}, "conditions": [{"age": 1}]},
]


@pytest.mark.parametrize("rule", EARLY, ids=str)
def test_a_rule_that_deletes_live_recordings_early_is_reported(rule: dict[str, Any]):
    assert ids(rules.lifecycle_findings([rule], 365)) == ["gcs.bucket.lifecycle"]
    assert ids(rules.lifecycle_findings([rule], None)) == ["gcs.bucket.lifecycle"]


SPARING = [
    delete(daysSinceNoncurrentTime=30, withState="ARCHIVED"),
    delete(age=1, withState="ARCHIVED"),
    delete(age=1, isLive=False),
    delete(numNewerVersions=3),
    delete(noncurrentTimeBefore="2027-01-01"),
    delete(daysSinceNoncurrentTime=1, withState="LIVE"),
    {"action": {"type": "SetStorageClass", "storageClass": "NEARLINE"}, "condition": {"age": 1}},
    {"action": {"type": "AbortIncompleteMultipartUpload"}, "condition": {"age": 1}},
]


@pytest.mark.parametrize("rule", SPARING, ids=str)
def test_rules_that_spare_live_recordings_pass_whatever_the_retention(rule: dict[str, Any]):
    assert rules.lifecycle_findings([rule], None) == [] and rules.lifecycle_findings([rule], 365) == []


def test_the_kits_own_rules_pass_with_its_retention_and_a_live_deletion_needs_one():
    kit = [camel(r) for r in gcp_policy.lifecycle_rules(30, 365)]
    assert rules.lifecycle_findings(kit, 365) == []
    assert rules.lifecycle_findings(delete(age=365, withState="LIVE", matchesPrefix=["x"]) and [delete(age=400)], 365) == []
    assert ids(rules.lifecycle_findings(kit, 400)) == ["gcs.bucket.lifecycle"]
    assert ids(rules.lifecycle_findings(kit, None)) == ["gcs.bucket.lifecycle"]
    unknown = rules.lifecycle_findings(kit, None, retention_known=False)
    assert [f.unknown for f in unknown] == [True]


def test_a_retention_policy_must_last_as_long_as_the_stack_asks():
    assert rules.retention_findings(None, None) == []
    assert "no retention policy" in rules.retention_findings(None, 30)[0].problem
    assert "7 days" in rules.retention_findings({"retentionPeriod": str(7 * 86400)}, 30)[0].problem
    assert rules.retention_findings({"retentionPeriod": str(30 * 86400), "isLocked": True}, 30) == []
    assert rules.retention_findings({"retentionPeriod": 31 * 86400}, 30) == []


# Spellings of an unlocked policy of enough days: absent, false, a string, null (pulumi-gcp and the JSON API send a bool).
UNLOCKED = [{}, {"isLocked": False}, {"isLocked": "false"}, {"isLocked": None}, {"isLocked": 1}, {"isLocked": "yes"}]
LOCKED = [{"isLocked": True}, {"isLocked": "true"}, {"isLocked": "True"}]


@pytest.mark.parametrize("lock", UNLOCKED)
@pytest.mark.parametrize("period", [str(30 * 86400), 30 * 86400, str(400 * 86400), float(30 * 86400)])
def test_compliance_needs_a_locked_policy_whatever_its_period_is_spelled(period, lock):
    policy = {"retentionPeriod": period, **lock}
    found = rules.retention_findings(policy, 30, compliance=True)
    assert ids(found) == ["gcs.bucket.retention"] and "not locked" in found[0].problem and "compliance" in found[0].problem
    assert "is_locked" in found[0].fix and "irreversible" in found[0].fix
    # Governance asks for no lock: the same policy passes.
    assert rules.retention_findings(policy, 30) == []


@pytest.mark.parametrize("lock", [*UNLOCKED, *LOCKED])
def test_a_locked_policy_is_stricter_than_governance_asks_and_a_short_one_fails_either_way(lock):
    assert rules.retention_findings({"retentionPeriod": str(30 * 86400), **lock}, 30) == []
    for compliance in (False, True):
        short = rules.retention_findings({"retentionPeriod": str(29 * 86400 + 86399), **lock}, 30, compliance)
        assert ids(short) == ["gcs.bucket.retention"] and "shorter than the 30 days" in short[0].problem


@pytest.mark.parametrize("lock", LOCKED)
def test_a_locked_policy_of_enough_days_passes_compliance(lock):
    assert rules.retention_findings({"retentionPeriod": str(30 * 86400), **lock}, 30, compliance=True) == []
    assert rules.retention_findings({"retentionPeriod": 3_155_759_999, **lock}, 36500, compliance=True) == []


@pytest.mark.parametrize("policy", [None, {}, {"isLocked": True}, {"retentionPeriod": ""}, {"retentionPeriod": "-86400"},
                                    {"retentionPeriod": "30d"}, {"retentionPeriod": True}, "x", [1]])
def test_a_policy_without_a_readable_period_is_no_policy_even_locked_in_compliance(policy):
    found = rules.retention_findings(policy, 30, compliance=True)
    assert ids(found) == ["gcs.bucket.retention"] and "no retention policy" in found[0].problem


def test_without_immutable_days_nothing_is_asked_even_in_compliance():
    assert rules.retention_findings(None, None, compliance=True) == []
    assert rules.retention_findings({"retentionPeriod": "1"}, 0, compliance=True) == []


periods = st.one_of(st.integers(-1, 3_155_760_000), st.integers(0, 3_155_760_000).map(str), st.floats(allow_nan=True),
                   st.text(max_size=12), st.none(), st.booleans())
locks = st.sampled_from([True, False, None, "true", "false", "TRUE", 1, 0, "", "locked"])


@settings(max_examples=400, deadline=None)
@given(periods, locks, st.integers(1, 36500), st.booleans())
@example(float("nan"), True, 30, False)
@example(float("inf"), True, 30, True)
@example("٣٠٠٠٠٠٠", True, 30, False)
def test_a_retention_policy_passes_only_when_long_enough_and_locked_where_compliance_asks(period, lock, days, compliance):
    policy = {"retentionPeriod": period, "isLocked": lock}
    seconds = int(period) if isinstance(period, str) and period.isascii() and period.isdigit() else (
        period if isinstance(period, (int, float)) and not isinstance(period, bool) else None)
    long_enough = seconds is not None and seconds == seconds and seconds / 86400 >= days
    locked = lock is True or (isinstance(lock, str) and lock.lower() == "true")
    found = rules.retention_findings(policy, days, compliance)
    assert (found == []) is (long_enough and (locked or not compliance))
    assert all(f.rule == "gcs.bucket.retention" and not f.unknown for f in found)


# --- gcs.project.data_access_logs

SERVICES = ["storage.googleapis.com", "allServices", "Storage.googleapis.com", "storage.googleapis.com ", "bigquery.googleapis.com",
            "allservices", "", None]
LOG_TYPES = ["DATA_READ", "DATA_WRITE", "ADMIN_READ", "data_read", "Data_Write", "DATA_READ ", "", None, 1]
audit_entries = st.lists(st.fixed_dictionaries({
    "service": st.sampled_from(SERVICES),
    "auditLogConfigs": st.lists(st.fixed_dictionaries({"logType": st.sampled_from(LOG_TYPES)}), max_size=4),
}), max_size=4)


@settings(max_examples=300, deadline=None)
@given(audit_entries)
def test_cloud_storage_is_logged_only_when_its_own_or_all_services_config_enables_both_data_types_exactly(configs):
    enabled = {c["logType"] for entry in configs if entry["service"] in ("storage.googleapis.com", "allServices")
               for c in entry["auditLogConfigs"]}
    gaps = rules.audit_gap_findings(configs)
    assert (gaps == []) is ({"DATA_READ", "DATA_WRITE"} <= enabled)
    assert all(f.rule == "gcs.project.data_access_logs" and not f.unknown for f in gaps)


@pytest.mark.parametrize("exempted", [["serviceAccount:" + WRITER], ["allUsers"], "user:ops@acme.example", ["domain:acme.example", "group:x@y"]])
@pytest.mark.parametrize("service", ["storage.googleapis.com", "allServices"])
def test_an_exemption_from_a_data_log_type_is_a_finding_naming_the_members(exempted, service):
    configs = [{"service": service, "auditLogConfigs": [{"logType": "DATA_READ", "exemptedMembers": exempted}, {"logType": "DATA_WRITE"}]}]
    [finding] = rules.audit_log_findings(configs)
    assert all(m in finding.problem for m in ([exempted] if isinstance(exempted, str) else exempted)) and "DATA_READ" in finding.problem


def test_exemptions_that_do_not_touch_recordings_are_not_findings():
    both = [{"logType": "DATA_READ", "exemptedMembers": []}, {"logType": "DATA_WRITE", "exemptedMembers": None}]
    assert rules.audit_log_findings([{"service": "storage.googleapis.com", "auditLogConfigs": both}]) == []
    admin = [*both, {"logType": "ADMIN_READ", "exemptedMembers": ["user:ops@acme.example"]}]
    assert rules.audit_log_findings([{"service": "storage.googleapis.com", "auditLogConfigs": admin}]) == []
    other = {"service": "bigquery.googleapis.com", "auditLogConfigs": [{"logType": "DATA_READ", "exemptedMembers": ["user:x@y"]}]}
    assert rules.audit_log_findings([{"service": "allServices", "auditLogConfigs": both}, other]) == []


@pytest.mark.parametrize("junk", [None, "x", [1], [{"service": "storage.googleapis.com", "auditLogConfigs": "DATA_READ"}],
                                  [{"service": "storage.googleapis.com", "auditLogConfigs": [None, "DATA_READ", {"logType": ["DATA_READ"]}]}]])
def test_unreadable_audit_configs_log_nothing_and_never_crash(junk):
    configs = junk if isinstance(junk, list) else [junk]
    assert ids(rules.audit_log_findings(configs)) == ["gcs.project.data_access_logs"]


def test_copies_may_go_only_to_the_stacks_own_buckets():
    def job(spec: str = "transferSpec", **sink: Any) -> dict[str, Any]:
        return {spec: {"gcsDataSource": {"bucketName": BUCKET}, **sink}}

    assert rules.transfer_findings(job(gcsDataSink={"bucketName": "mine"}), {BUCKET}, {BUCKET, "mine"}) == []
    assert ids(rules.transfer_findings(job(gcsDataSink={"bucketName": "theirs"}), {BUCKET}, {BUCKET})) == ["gcs.bucket.transfer"]
    assert ids(rules.transfer_findings(job("replicationSpec", gcsDataSink={"bucketName": "theirs"}), {BUCKET}, {BUCKET})) == ["gcs.bucket.transfer"]
    assert "file system" in rules.transfer_findings(job(posixDataSink={"rootDirectory": "/mnt"}), {BUCKET}, set())[0].problem
    assert ids(rules.transfer_findings(job(), {BUCKET}, set())) == ["gcs.bucket.transfer"]
    assert rules.transfer_findings(job(gcsDataSink={"bucketName": "theirs"}), {"other"}, set()) == []
    assert rules.transfer_findings({**job(gcsDataSink={"bucketName": "theirs"}), "status": "DELETED"}, {BUCKET}, set()) == []


# --- what the red team found, each in its own words -------------------------------------------------------


def test_a_principal_of_a_pool_the_stack_does_not_define_is_reported_whatever_its_subject():
    foreign = gcp_policy.workload_principal("projects/999999999999/locations/global/workloadIdentityPools/evil", SUBJECT)
    own_pools = {POOL}
    assert rules.impersonation_findings([on_writer(gcp_policy.IMPERSONATION_ROLE, TAVUS)], WRITER, {TAVUS}, own_pools=own_pools) == []
    for accepted in (None, {TAVUS, foreign}):
        found = rules.impersonation_findings([on_writer(gcp_policy.IMPERSONATION_ROLE, foreign)], WRITER, accepted, own_pools=own_pools)
        assert len(found) == 1 and "a pool this stack does not define" in found[0].problem
    # Tavus's subject in two of the stack's pools: two principals can act as the writer.
    twin = gcp_policy.workload_principal(POOL.replace("/tavus", "/twin"), SUBJECT)
    found = rules.impersonation_findings([on_writer(gcp_policy.IMPERSONATION_ROLE, TAVUS), on_writer(gcp_policy.IMPERSONATION_ROLE, twin)],
                                         WRITER, {TAVUS, twin}, own_pools={POOL, POOL.replace("/tavus", "/twin")})
    assert len(found) == 2 and all("one of 2 federated principals" in f.problem for f in found)


def test_an_admin_of_the_writers_pool_is_reported_even_a_person():
    grant = rules.Grant("roles/iam.workloadIdentityPoolAdmin", "user:dev@acme.example", rules.POOL, "tavus")
    [finding] = rules.impersonation_findings([grant], WRITER, {TAVUS}, own_projects=OWN)
    assert "workload identity pool tavus" in finding.problem and "add a provider" in finding.problem
    viewer = rules.Grant("roles/iam.workloadIdentityPoolViewer", "group:auditors@acme.example", rules.POOL, "tavus")
    assert rules.impersonation_findings([viewer], WRITER, {TAVUS}) == []


@pytest.mark.parametrize(
    "email, agent",
    [
        ("service-428173025661@gcp-sa-pubsub.iam.gserviceaccount.com", ("428173025661", True)),
        ("service-428173025661@gs-project-accounts.iam.gserviceaccount.com", ("428173025661", False)),
        ("428173025661@cloudservices.gserviceaccount.com", ("428173025661", False)),
        ("project-428173025661@storage-transfer-service.iam.gserviceaccount.com", ("428173025661", False)),
        ("428173025661@gcp-sa-pubsub.iam.gserviceaccount.com", None),
        ("service-428173025661-compute@gcp-sa-pubsub.iam.gserviceaccount.com", None),
        ("service-\u0664\u0662@gcp-sa-pubsub.iam.gserviceaccount.com", None),
        ("service-428173025661@gcp-sa-.iam.gserviceaccount.com", None),
        ("service-428173025661@evil.iam.gserviceaccount.com", None),
    ],
)
def test_googles_service_agents_are_told_by_their_documented_forms_only(email: str, agent: Optional[tuple[str, bool]]):
    assert rules.service_agent(email) == agent


def test_an_agent_is_the_projects_own_only_with_its_number_and_a_gcp_sa_agent_only_in_its_agent_role():
    pubsub = "serviceAccount:service-428173025661@gcp-sa-pubsub.iam.gserviceaccount.com"
    assert rules.project_administrator(pubsub, OWN, "roles/pubsub.serviceAgent")
    assert rules.project_administrator(pubsub, OWN, "roles/aiplatform.customCodeServiceAgent")
    assert not rules.project_administrator(pubsub, OWN, "roles/editor")
    assert not rules.project_administrator(pubsub.replace("428173025661", "999999999999"), OWN, "roles/pubsub.serviceAgent")
    # With no number of its own known yet (a preview), the number cannot be told: the agent is taken for the project's.
    assert rules.project_administrator(pubsub.replace("428173025661", "999999999999"), {"acme-prod"}, "roles/pubsub.serviceAgent")
    transfer = "serviceAccount:project-428173025661@storage-transfer-service.iam.gserviceaccount.com"
    assert rules.outsider(transfer, OWN) is None
    assert rules.account_project("429-compute@developer.gserviceaccount.com") == "429"
    assert rules.account_project("spy@gcp-sa-evil.iam.gserviceaccount.com") == "gcp-sa-evil"


@pytest.mark.parametrize(
    "document, problem",
    [
        ({"bindings": [{"role": "r", "members": ["m"]}], "etag": "x", "version": 3}, None),
        ({"Bindings": []}, "'Bindings' stands for 'bindings'"),
        ({"binding\u017f": []}, "stands for 'bindings'"),
        ({"bindings": [{"ROLE": "r", "members": []}]}, "'ROLE' stands for 'role'"),
        ({"bindings": [{"role": "r", "members": [], "condition": {"Expression": "true"}}]}, "'Expression' stands for 'expression'"),
        ({"bindings": {"role": "r"}}, "bindings is not a list"),
        ({"bindings": [{"role": "r", "members": "m"}]}, "members are not a list of strings"),
        ([], "not a JSON object"),
    ],
)
def test_a_policy_document_is_read_only_when_strict(document: Any, problem: Optional[str]):
    found = rules.policy_document_problem(document)
    assert (found is None) if problem is None else (found is not None and problem in found)


def test_acls_may_name_only_the_projects_own_teams():
    what = "an ACL of bucket b"
    assert rules.acl_findings([("OWNER", "project-owners-428173025661"), ("READER", "project-viewers-acme-prod")], OWN, what) == []
    for entity in ("allUsers", "allAuthenticatedUsers", "user-a@acme.example", "group-g@acme.example", "domain-acme.example",
                   "project-viewers-999999999999"):
        assert ids(rules.acl_findings([("READER", entity)], OWN, what)) == ["gcs.bucket.access"], entity
    assert ids(rules.acl_findings([("READER", ["x"])], OWN, what)) == ["gcs.bucket.access"]
    assert rules.role_entities(["READER:allUsers", "odd"]) == [("READER", "allUsers"), (None, "odd")]
    assert [rules.predefined_acl_findings(v, what) == [] for v in ("private", "projectPrivate", "publicRead", None)] == [True, True, False, True]


def test_people_groups_and_domains_are_judged_only_against_configured_domains():
    for member in ("user:a@gmail.com", "group:g@rival.example", "domain:rival.example", "deleted:user:a@gmail.com?uid=1"):
        assert rules.outsider(member, OWN) is None
        assert "not one of yours" in (rules.outsider(member, OWN, {"acme.example"}) or "")
    for member in ("user:a@acme.example", "group:g@ACME.example", "domain:acme.example"):
        assert rules.outsider(member, OWN, {"acme.example"}) is None
    assert "cannot be told" in (rules.outsider("user:1234", OWN, {"acme.example"}) or "")


def test_a_batch_job_that_deletes_recordings_is_a_lifecycle_finding():
    assert ids(rules.batch_job_findings({"deleteObject": {"permanentObjectDeletionEnabled": True}}, [BUCKET])) == ["gcs.bucket.lifecycle"]
    assert ids(rules.batch_job_findings({"deleteObject": {}}, [BUCKET])) == ["gcs.bucket.lifecycle"]
    assert rules.batch_job_findings({"putObjectHold": {"eventBasedHold": "SET"}}, [BUCKET]) == []
    assert rules.batch_job_findings({"deleteObject": {}}, []) == []


def test_a_move_out_of_the_recordings_bucket_and_an_unreadable_source_are_transfer_findings():
    move = {"transferSpec": {"gcsDataSource": {"bucketName": BUCKET}, "gcsDataSink": {"bucketName": "mine"},
                             "transferOptions": {"deleteObjectsFromSourceAfterTransfer": True}}}
    assert "moves recordings" in rules.transfer_findings(move, {BUCKET}, {"mine"})[0].problem
    odd = {"transferSpec": {"gcsDataSource": {"bucketName": [BUCKET]}, "gcsDataSink": {"bucketName": "mine"}}}
    assert "cannot read" in rules.transfer_findings(odd, {BUCKET}, {"mine"})[0].problem


@pytest.mark.parametrize("value, days", [("365", 365.0), (400, 400.0), ("\u00b2", None), ("\uff14\uff10", None), (10**400, float("inf")),
                                         (True, None), ("3.5", None)])
def test_a_count_is_read_from_ascii_digits_only_and_never_overflows(value: Any, days: Optional[float]):
    found = rules.retention_period_days({"retentionPeriod": value})
    assert (found is None and days is None) or (found is not None and days is not None and found * 86400 == days)


def test_brackets_nested_past_the_bound_prove_nothing_without_recursing():
    deep = "(" * 5000 + f"assertion.sub == '{SUBJECT}'" + ")" * 5000
    assert "nests brackets" in rules.condition_findings(deep, None, SUBJECT)[0].problem
    assert rules.condition_findings("(" * cel.MAX_DEPTH + f"assertion.sub == '{SUBJECT}'" + ")" * cel.MAX_DEPTH, None, SUBJECT) == []
    assert cel.named_attributes("attribute.a == 'x' && google.subject == assertion.b") == {"attribute.a", "google.subject"}


def test_inline_keys_are_reported_whatever_the_issuer():
    assert ids(rules.jwks_findings({"jwksJson": '{"keys": []}'})) == ["gcs.provider.issuer"]
    assert rules.jwks_findings({"issuerUri": "https://x"}) == []


# --- the cold tier (coldAfterDays): the stack's NEARLINE move, and a move that takes its place ------

COLD_DAYS = 90
# The API's shape (verify reads it) and pulumi-gcp's (the pack reads it), of the kit's move.
API_MOVE = {"action": {"type": "SetStorageClass", "storageClass": "NEARLINE"},
            "condition": {"age": COLD_DAYS, "isLive": True, "matchesStorageClass": ["STANDARD"]}}
PULUMI_MOVE = {"action": {"type": "SetStorageClass", "storageClass": "NEARLINE"},
               "condition": {"age": COLD_DAYS, "withState": "LIVE", "matchesStorageClasses": ["STANDARD"]}}
# What the provider reads back into the state of a rule that sets none of them (sent as nothing).
TF_DEFAULTS = {"createdBefore": "", "customTimeBefore": "", "daysSinceCustomTime": 0, "daysSinceNoncurrentTime": 0,
               "matchesPrefixes": [], "matchesSuffixes": [], "noncurrentTimeBefore": "", "numNewerVersions": 0,
               "sendAgeIfZero": False, "sendDaysSinceCustomTimeIfZero": False, "sendDaysSinceNoncurrentTimeIfZero": False,
               "sendNumNewerVersionsIfZero": False}


def with_condition(move: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {**move, "condition": {**move["condition"], **extra}}


def cold_findings(rules_: list[Any], pulumi: bool) -> list[Finding]:
    return rules.cold_tier_findings(rules_, COLD_DAYS, pulumi=pulumi)


def test_the_kits_move_passes_in_either_shape():
    assert cold_findings([API_MOVE], pulumi=False) == []
    assert cold_findings([PULUMI_MOVE], pulumi=True) == []
    assert cold_findings([with_condition(PULUMI_MOVE, **TF_DEFAULTS)], pulumi=True) == []


# Present in the API's answer, each condition holds only for some objects (conditions are ANDed): a Custom-Time
# Tavus never sets, or a noncurrent version, which a live-only move never matches. Even a 0 is a condition there.
@pytest.mark.parametrize("extra", [
    {"daysSinceCustomTime": 0}, {"daysSinceCustomTime": 30}, {"customTimeBefore": "2030-01-01"},
    {"daysSinceNoncurrentTime": 0}, {"daysSinceNoncurrentTime": 1}, {"noncurrentTimeBefore": "2030-01-01"},
    {"daysSinceCustomTime": 0, "daysSinceNoncurrentTime": 0},
])
def test_a_custom_time_or_noncurrent_condition_on_the_move_narrows_it_in_the_apis_answer(extra):
    found = cold_findings([with_condition(API_MOVE, **extra)], pulumi=False)
    assert ids(found) == ["gcs.bucket.cold_tier"] and "has no lifecycle rule moving live recordings to NEARLINE" in found[0].problem


# pulumi-gcp sends a 0 only with its send*IfZero flag (its docs: a 0 alone is "ignored"); any other value always.
@pytest.mark.parametrize("extra", [
    {"daysSinceCustomTime": 0, "sendDaysSinceCustomTimeIfZero": True},
    {"daysSinceNoncurrentTime": 0, "sendDaysSinceNoncurrentTimeIfZero": True},
    {**TF_DEFAULTS, "sendDaysSinceCustomTimeIfZero": True},
    {"daysSinceCustomTime": 7}, {"daysSinceNoncurrentTime": 7, "sendDaysSinceNoncurrentTimeIfZero": False},
    {"customTimeBefore": "2020-01-01"}, {"noncurrentTimeBefore": "2030-01-01"}, {"noAge": True},
])
def test_a_custom_time_or_noncurrent_condition_the_provider_sends_narrows_the_pulumi_move(extra):
    assert ids(cold_findings([with_condition(PULUMI_MOVE, **extra)], pulumi=True)) == ["gcs.bucket.cold_tier"]


@pytest.mark.parametrize("extra", [
    {"daysSinceCustomTime": 0}, {"daysSinceNoncurrentTime": 0, "sendDaysSinceNoncurrentTimeIfZero": False},
    {"customTimeBefore": "", "noncurrentTimeBefore": None}, {"matchesPrefixes": [""]}, {"matchesSuffixes": ["", ".mp4"]},
    {"numNewerVersions": 0, "sendNumNewerVersionsIfZero": True}, {"age": "90"},
])
def test_conditions_that_match_every_live_recording_leave_the_pulumi_move_whole(extra):
    assert cold_findings([with_condition(PULUMI_MOVE, **extra)], pulumi=True) == []


@pytest.mark.parametrize("extra", [{"matchesPrefix": [""]}, {"matchesPrefix": ["", "recordings/"]}, {"matchesSuffix": [""]},
                                   {"numNewerVersions": 0}, {"age": "90"}])
def test_conditions_that_match_every_live_recording_leave_the_api_move_whole(extra):
    assert cold_findings([with_condition(API_MOVE, **extra)], pulumi=False) == []


@pytest.mark.parametrize("condition", [
    {"age": COLD_DAYS, "withState": "ANY", "isLive": True}, {"age": COLD_DAYS, "withState": "LIVE", "isLive": False},
    {"age": COLD_DAYS, "withState": "ARCHIVED", "isLive": True}, {"age": COLD_DAYS, "withState": "ANY"},
    {"age": COLD_DAYS, "isLive": "false"}, {"age": COLD_DAYS},
])
def test_a_move_is_live_only_when_no_spelling_says_otherwise(condition):
    move = {**API_MOVE, "condition": condition}
    assert ids(cold_findings([move], pulumi=False)) == ["gcs.bucket.cold_tier"]
    assert ids(cold_findings([move], pulumi=True)) == ["gcs.bucket.cold_tier"]


def cheaper(storage_class: str, **condition: Any) -> dict[str, Any]:
    return {"action": {"type": "SetStorageClass", "storageClass": storage_class}, "condition": condition}


# Cloud Storage, when several SetStorageClass rules match an object at once, applies the one to the class with the
# lowest at-rest price (cloud.google.com/storage/docs/lifecycle, "Lifecycle configuration"); a sooner move goes first.
@pytest.mark.parametrize("rule,pulumi", [
    (cheaper("COLDLINE", age=30, isLive=True), False),
    (cheaper("ARCHIVE", age=COLD_DAYS), False),
    (cheaper("ARCHIVE", age=COLD_DAYS, matchesStorageClass=["STANDARD", "NEARLINE"]), False),
    (cheaper("COLDLINE", matchesPrefix=["recordings/2026/"]), False),
    (cheaper("ARCHIVE", age=0, withState="ANY"), True),  # age 0 without sendAgeIfZero is no age: at once
    (cheaper("COLDLINE", age=60, withState="LIVE", matchesStorageClasses=["STANDARD"]), True),
    (cheaper("NEARLINE", age=30, withState="LIVE"), True),  # the same class, sooner than the stack asks
    (cheaper("ARCHIVE", age="soon"), False),
])
def test_a_cheaper_or_sooner_move_that_takes_the_stacks_place_is_reported_even_beside_it(rule, pulumi):
    move = PULUMI_MOVE if pulumi else API_MOVE
    found = cold_findings([move, rule], pulumi=pulumi)
    assert ids(found) == ["gcs.bucket.cold_tier"]
    assert f"to {rule['action']['storageClass']}" in found[0].problem and "lifecycle rule 2" in found[0].problem
    assert "instead of the stack's move to NEARLINE at age 90" in found[0].problem


@pytest.mark.parametrize("rule,pulumi", [
    (cheaper("COLDLINE", age=365, isLive=True), False),  # after the stack's move: a second, later move
    (cheaper("ARCHIVE", age=30, matchesStorageClass=["NEARLINE"]), False),  # only what is NEARLINE already
    (cheaper("ARCHIVE", age=30, isLive=False), False),  # noncurrent versions only
    (cheaper("ARCHIVE", age=30, withState="ARCHIVED"), True),
    (cheaper("COLDLINE", age=30, daysSinceNoncurrentTime=5), False),
    (cheaper("COLDLINE", age=30, numNewerVersions=1), False),
    (cheaper("COLDLINE", age=30, daysSinceNoncurrentTime=0, sendDaysSinceNoncurrentTimeIfZero=True, withState="ANY"), True),
    (cheaper("NEARLINE", age=COLD_DAYS, isLive=True, matchesPrefix=["recordings/"]), False),  # the same move, for some
    ({"action": {"type": "Delete"}, "condition": {"age": 30}}, False),  # the lifecycle rule's business, not this one's
])
def test_a_move_that_cannot_take_the_stacks_place_is_not_reported(rule, pulumi):
    move = PULUMI_MOVE if pulumi else API_MOVE
    assert cold_findings([move, rule], pulumi=pulumi) == []


def test_without_cold_after_days_no_move_is_asked_or_judged():
    assert rules.cold_tier_findings([cheaper("ARCHIVE", age=1)], None) == []


@given(st.dictionaries(st.sampled_from(["daysSinceCustomTime", "daysSinceNoncurrentTime", "customTimeBefore", "noncurrentTimeBefore"]),
                       st.one_of(st.integers(0, 10**6), st.text(min_size=1, max_size=12)), min_size=1))
def test_any_custom_time_or_noncurrent_condition_the_api_answers_with_narrows_the_move(extra):
    assert ids(cold_findings([with_condition(API_MOVE, **extra)], pulumi=False)) == ["gcs.bucket.cold_tier"]

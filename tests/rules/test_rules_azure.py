"""The Azure rules on their own: each attack in several spellings and its safe look-alikes, and property
tests against an independent oracle (the generators tag what each spelling means; the oracle reads the
tags, never the strings)."""

from __future__ import annotations

from typing import Any, Optional, cast

import pytest
from hypothesis import HealthCheck, example, given, settings, strategies as st

from components.azure_policy import STORAGE_BLOB_DATA_CONTRIBUTOR as BDC
from components.azure_policy import management_policy
from tavus_recording.rules import azure as rules
from tavus_recording.rules.azure_rbac import (
    BLOB_DATA_OWNER,
    BLOB_DATA_READER,
    CONTRIBUTOR,
    KEY_OPERATOR,
    MANAGED_IDENTITY_CONTRIBUTOR,
    MANAGED_IDENTITY_OPERATOR,
    OWNER,
    RBAC_ADMINISTRATOR,
    READER,
    READER_AND_DATA_ACCESS,
    STORAGE_ACCOUNT_CONTRIBUTOR,
    USER_ACCESS_ADMINISTRATOR,
    BUILTIN_ROLES,
    ContainerRef,
    Role,
    administers,
    container_of,
    covers_container,
    covers_identity,
    role_guid,
)
from tavus_recording.rules.findings import unknowns, violations

SUB = "3f2b8c1e-5d4a-4c7b-9e2f-1a6b7c8d9e0f"
OTHER_SUB = "0c0c0c0c-0000-4000-8000-000000000000"
RG = f"/subscriptions/{SUB}/resourceGroups/media"
ACCOUNT = f"{RG}/providers/Microsoft.Storage/storageAccounts/acmerecordings"
CONTAINER = f"{ACCOUNT}/blobServices/default/containers/recordings"
IDENTITY = f"{RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/tavus-writer"


def _target(scope: str) -> ContainerRef:
    ref = container_of(scope)
    assert ref is not None
    return ref


TARGET = _target(CONTAINER)
TAVUS = "9e8d7c6b-5a4f-4e3d-9c2b-1a0f9e8d7c6b"
STRANGER = "7c7c7c7c-1111-4222-8333-444455556666"
ISSUER = "https://tavus-issuer.example"
SUBJECT = "tavus-recording-writer"
AUDIENCE = "api://AzureADTokenExchange"
TOKEN = rules.Token(ISSUER, SUBJECT, AUDIENCE)
UNDEFINED = "0b0b0b0b-0000-4000-8000-00000000000b"
BLOBS = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs"


def cred(issuer: Any = ISSUER, subject: Any = SUBJECT, audiences: Any = (AUDIENCE,), expression: Any = None, name: str = "c") -> rules.Credential:
    return rules.Credential(name, issuer, subject, list(audiences) if isinstance(audiences, tuple) else audiences, expression)


def grant(role: str, scope: str, principal: str = TAVUS) -> rules.Assignment:
    return rules.Assignment(role, scope, principal, "a")


def mandatory(judged: list[rules.Judged], rule: rules.Rule) -> list[str]:
    return [f.problem for _, f in judged if f.rule == rule.id and not f.unknown]


# --- role ids and scopes


@pytest.mark.parametrize("spelling", [
    BDC, BDC.upper(), f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/{BDC}",
    f"/SUBSCRIPTIONS/{SUB}/PROVIDERS/MICROSOFT.AUTHORIZATION/ROLEDEFINITIONS/{BDC.upper()}",
    f"/providers/Microsoft.Authorization/roleDefinitions/{BDC}", f"{BDC}/",
])
def test_every_spelling_of_a_role_id_names_its_guid(spelling):
    assert role_guid(spelling) == BDC


@pytest.mark.parametrize("spelling", [
    f"xx{BDC}", f"{BDC}x", "Storage Blob Data Contributor", f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/",
    f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleAssignments/{BDC}", f" {BDC}", None, 7,
    f"/subscriptions/{SUB}/resourceGroups/x/providers/Microsoft.Authorization/roleDefinitions/{BDC}/extra",
])
def test_look_alike_role_ids_name_no_role(spelling):
    assert role_guid(spelling) is None


@pytest.mark.parametrize("scope, covers", [
    (CONTAINER, True), (CONTAINER.upper(), True), (CONTAINER + "/", True), (f"{ACCOUNT}/blobServices/default", True),
    (ACCOUNT, True), (RG, True), (f"/subscriptions/{SUB}", True), ("/", True), ("/providers/Microsoft.Management/managementGroups/corp", True),
    (CONTAINER.replace("recordings", "invoices"), False), (ACCOUNT.replace("acmerecordings", "acmelogs"), False),
    (RG.replace("media", "ops"), False), (f"/subscriptions/{OTHER_SUB}", False), (IDENTITY, False),
    (f"{RG}/providers/Microsoft.KeyVault/vaults/acmerecordings", False), ("", False), (None, False),
])
def test_which_scopes_reach_the_container(scope, covers):
    assert covers_container(scope, TARGET) is covers


# --- who can sign in as the identity

ISSUER_ATTACKS = [
    "http://tavus-issuer.example", "HTTPS://tavus-issuer.example", "https://tavus-issuer.example@evil.example",
    "https://tavus:pw@evil.example/", "https://evil.example#@tavus-issuer.example", "https://tavus-issuer.example/?x=1",
    "https://", "https:///x", "https://*.example", "https://tavus issuer.example", " https://tavus-issuer.example",
    "https://tavus-issuer.example\n", "https:tavus-issuer.example", "ftp://tavus-issuer.example", "tavus-issuer.example",
    "https://tavus-issuer.example:port/", "https://[::1", "", None, 42,
]


@pytest.mark.parametrize("issuer", ISSUER_ATTACKS)
def test_an_issuer_that_is_not_one_https_host_is_a_violation_even_unconfigured(issuer):
    assert violations(rules.credential_findings(cred(issuer=issuer)))


@pytest.mark.parametrize("issuer", [ISSUER, "https://login.tavus.example:8443/oidc/v1", "https://sts.windows.net/5b0e4a7c/",
                                    "https://oidc.tavus.example/a-b_c~d"])
def test_plain_https_issuers_pass_unconfigured(issuer):
    assert rules.credential_findings(cred(issuer=issuer)) == []


@pytest.mark.parametrize("change", [
    {"subject": ""}, {"subject": "  "}, {"subject": None}, {"subject": "*"}, {"subject": "repo:acme/*"}, {"subject": f" {SUBJECT}"},
    {"audiences": []}, {"audiences": [AUDIENCE, AUDIENCE]}, {"audiences": [""]}, {"audiences": None}, {"audiences": AUDIENCE},
    {"expression": {"value": "claims['sub'] matches '*'", "languageVersion": 1}}, {"expression": "x"}, {"expression": {}},
])
def test_a_subject_audience_or_expression_that_pins_nobody_is_a_violation(change):
    assert violations(rules.credential_findings(cred(**change)))


@pytest.mark.parametrize("change", [
    {"issuer": f"{ISSUER}/"}, {"issuer": "https://TAVUS-ISSUER.example"}, {"issuer": "https://tavus-issuer.example.evil.example"},
    {"subject": SUBJECT.upper()}, {"subject": SUBJECT + "x"}, {"audiences": ["api://azureadtokenexchange"]},
])
def test_a_configured_token_must_be_matched_exactly(change):
    assert rules.credential_findings(cred(**change)) == []
    assert violations(rules.credential_findings(cred(**change), TOKEN))


def test_more_than_one_credential_is_a_violation_naming_the_others():
    extra = cred(issuer="https://token.actions.githubusercontent.com", subject="repo:acme/app", name="github")
    for credentials in ([cred(), extra], [extra, cred()]):
        judged = rules.federation_findings(credentials, TOKEN)
        (count,) = [f for record, f in judged if record is None]
        assert "2 federated credentials" in count.problem and "github" in count.problem
        assert rules.extra_credentials(credentials, TOKEN) == [extra]
    # Two exact copies are still two ways in.
    assert [f for record, f in rules.federation_findings([cred(), cred(name="d")], TOKEN) if record is None]
    assert rules.federation_findings([cred()], TOKEN) == []
    assert rules.federation_findings([], TOKEN) == []
    assert rules.federation_findings([], TOKEN, require=True)


# --- who else can act as the identity

OPERATOR_IDENTITY = (SUB.lower(), "media", "tavus-writer")


NARROW_SCOPES = [IDENTITY, IDENTITY.upper(), RG, RG.upper() + "/"]
BROAD_SCOPES = [f"/subscriptions/{SUB}/", f"/SUBSCRIPTIONS/{SUB.upper()}", "/providers/Microsoft.Management/managementGroups/x", "/"]
ADMIN_ROLES = [OWNER, CONTRIBUTOR, USER_ACCESS_ADMINISTRATOR, f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/{OWNER.upper()}"]


@pytest.mark.parametrize("role", [MANAGED_IDENTITY_OPERATOR, MANAGED_IDENTITY_CONTRIBUTOR, "Owner"])
@pytest.mark.parametrize("scope", NARROW_SCOPES + BROAD_SCOPES)
def test_an_identity_operator_at_any_scope_is_a_violation(role, scope):
    # "Owner" by name is no role id: what it is cannot be proved, so it counts.
    assert mandatory(rules.operator_findings([grant(role, scope, STRANGER)], OPERATOR_IDENTITY, {TAVUS}), rules.OPERATORS)


@pytest.mark.parametrize("role", ADMIN_ROLES)
@pytest.mark.parametrize("scope", NARROW_SCOPES)
def test_an_administrator_of_the_identity_or_its_group_is_a_violation(role, scope):
    assert mandatory(rules.operator_findings([grant(role, scope, STRANGER)], OPERATOR_IDENTITY, {TAVUS}), rules.OPERATORS)


@pytest.mark.parametrize("role", ADMIN_ROLES)
@pytest.mark.parametrize("scope", BROAD_SCOPES)
def test_subscription_administrators_are_listed_not_failed(role, scope):
    # Every subscription has them, and they administer every identity in it.
    assignment = grant(role, scope, STRANGER)
    assert rules.operator_findings([assignment], OPERATOR_IDENTITY, {TAVUS}) == []
    assert rules.subscription_admins([assignment], OPERATOR_IDENTITY, {TAVUS}) == [assignment]


def test_a_custom_identity_role_on_the_subscription_is_a_violation_and_a_custom_admin_is_listed():
    identity_only = {UNDEFINED: Role("custom", ("Microsoft.ManagedIdentity/*",))}
    everything = {UNDEFINED: Role("custom", ("*",))}
    on_subscription = grant(UNDEFINED, f"/subscriptions/{SUB}", STRANGER)
    assert mandatory(rules.operator_findings([on_subscription], OPERATOR_IDENTITY, {TAVUS}, identity_only), rules.OPERATORS)
    assert rules.subscription_admins([on_subscription], OPERATOR_IDENTITY, {TAVUS}, identity_only) == []
    assert rules.operator_findings([on_subscription], OPERATOR_IDENTITY, {TAVUS}, everything) == []
    assert rules.subscription_admins([on_subscription], OPERATOR_IDENTITY, {TAVUS}, everything) == [on_subscription]


def test_custom_roles_that_act_as_the_identity_are_judged_by_their_actions():
    for actions in (["Microsoft.ManagedIdentity/userAssignedIdentities/*/assign/action"], ["Microsoft.ManagedIdentity/*"], ["*"],
                    ["Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/write"],
                    ["Microsoft.Authorization/roleAssignments/write"]):
        roles = {UNDEFINED: Role("custom", tuple(actions))}
        assert mandatory(rules.operator_findings([grant(UNDEFINED, RG, STRANGER)], OPERATOR_IDENTITY, {TAVUS}, roles), rules.OPERATORS)
    harmless = {UNDEFINED: Role("custom", ("*",), ("Microsoft.ManagedIdentity/*", "Microsoft.Authorization/*"))}
    assert rules.operator_findings([grant(UNDEFINED, RG, STRANGER)], OPERATOR_IDENTITY, {TAVUS}, harmless) == []
    unread = rules.operator_findings([grant(UNDEFINED, RG, STRANGER)], OPERATOR_IDENTITY, {TAVUS}, {UNDEFINED: "denied"})
    assert unknowns([f for _, f in unread]) and not violations([f for _, f in unread])


@pytest.mark.parametrize("role, admin", [
    (BUILTIN_ROLES[OWNER], True), (BUILTIN_ROLES[CONTRIBUTOR], True), (BUILTIN_ROLES[USER_ACCESS_ADMINISTRATOR], True),
    (BUILTIN_ROLES[RBAC_ADMINISTRATOR], True), (Role("star", ("*",)), True), (Role("star-but-identities", ("*",), ("Microsoft.ManagedIdentity/*",)), True),
    # Creating resource groups is not administering everything: a "landing zone" role is judged by what else it holds.
    (Role("landing zone", ("Microsoft.Resources/subscriptions/resourceGroups/write", "Microsoft.ManagedIdentity/*")), False),
    (Role("groups", ("Microsoft.Resources/subscriptions/resourceGroups/write",)), False),
    (BUILTIN_ROLES[MANAGED_IDENTITY_CONTRIBUTOR], False), (BUILTIN_ROLES[STORAGE_ACCOUNT_CONTRIBUTOR], False), (BUILTIN_ROLES[READER], False),
], ids=["Owner", "Contributor", "UAA", "RBAC admin", "*", "* minus identities", "landing zone", "groups only", "MIC", "SAC", "Reader"])
def test_an_administrator_allows_any_action_or_grants_roles(role, admin):
    assert administers(role) is admin


def test_a_landing_zone_role_at_the_subscription_is_judged_as_an_operator_not_listed():
    landing = {UNDEFINED: Role("lz", ("Microsoft.Resources/subscriptions/resourceGroups/write",
                                      "Microsoft.ManagedIdentity/userAssignedIdentities/*/assign/action"))}
    assignment = grant(UNDEFINED, f"/subscriptions/{SUB}", STRANGER)
    assert mandatory(rules.operator_findings([assignment], OPERATOR_IDENTITY, {TAVUS}, landing), rules.OPERATORS)
    assert rules.subscription_admins([assignment], OPERATOR_IDENTITY, {TAVUS}, landing) == []


def test_a_role_that_rewrites_role_definitions_acts_as_the_identity_and_reaches_the_recordings():
    author = {UNDEFINED: Role("role-author", ("Microsoft.Authorization/roleDefinitions/write", "*/read"))}
    assert mandatory(rules.operator_findings([grant(UNDEFINED, RG, STRANGER)], OPERATOR_IDENTITY, {TAVUS}, author), rules.OPERATORS)
    assert mandatory(rules.access_findings([grant(UNDEFINED, ACCOUNT, STRANGER)], TARGET, {TAVUS}, author), rules.CONTAINER_ACCESS)


@pytest.mark.parametrize("scope, covers", [
    (f"{IDENTITY}/federatedIdentityCredentials/tavus", True), (f"{IDENTITY.upper()}/FEDERATEDIDENTITYCREDENTIALS/X/", True),
    (IDENTITY, True), (RG, True), (f"{IDENTITY.replace('tavus-writer', 'app')}/federatedIdentityCredentials/tavus", False),
    (f"{RG.replace('media', 'ops')}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/tavus-writer/federatedIdentityCredentials/t", False),
])
def test_a_scope_below_the_identity_covers_it(scope, covers):
    assert covers_identity(scope, *OPERATOR_IDENTITY) is covers


def test_an_operator_on_the_identitys_federated_credential_is_a_violation():
    for role in (MANAGED_IDENTITY_CONTRIBUTOR, OWNER):
        assert mandatory(rules.operator_findings([grant(role, f"{IDENTITY}/federatedIdentityCredentials/tavus", STRANGER)],
                                                 OPERATOR_IDENTITY, {TAVUS}), rules.OPERATORS)


def test_a_role_neither_built_in_nor_defined_is_a_violation_on_the_identity_or_its_group_only():
    for scope in (IDENTITY, f"{IDENTITY}/federatedIdentityCredentials/tavus", RG):
        problems = mandatory(rules.operator_findings([grant(UNDEFINED, scope, STRANGER)], OPERATOR_IDENTITY, {TAVUS}), rules.OPERATORS)
        assert problems and "not built in and not defined in this stack" in problems[0]
    # Above the group there are too many harmless ones; verify reads their definitions.
    assert rules.operator_findings([grant(UNDEFINED, f"/subscriptions/{SUB}", STRANGER)], OPERATOR_IDENTITY, {TAVUS}) == []


def test_resources_that_run_as_the_identity_are_violations():
    judged = rules.attachment_findings([rules.Attached("app", "Microsoft.Web/sites"), rules.Attached("job")])
    assert len(mandatory(judged, rules.OPERATORS)) == 2
    assert "write recordings as Tavus" in judged[0][1].problem
    assert rules.attachment_findings([]) == []


@pytest.mark.parametrize("assignment", [
    grant(READER, RG, STRANGER), grant(MANAGED_IDENTITY_OPERATOR, RG.replace("media", "ops"), STRANGER),
    grant(MANAGED_IDENTITY_OPERATOR, IDENTITY.replace("tavus-writer", "app"), STRANGER),
    grant(OWNER, f"/subscriptions/{OTHER_SUB}", STRANGER), grant(MANAGED_IDENTITY_OPERATOR, IDENTITY, TAVUS.upper()),
    grant(BDC, CONTAINER, STRANGER),
])
def test_who_cannot_act_as_the_identity_passes(assignment):
    assert rules.operator_findings([assignment], OPERATOR_IDENTITY, {TAVUS}) == []


# --- what the identity can do


@pytest.mark.parametrize("assignment", [
    grant(BDC, ACCOUNT), grant(BDC, RG), grant(BDC, f"/subscriptions/{SUB}"), grant(BDC, "/"),
    grant(BDC, f"{ACCOUNT}/blobServices/default"), grant(BDC, CONTAINER.replace("recordings", "invoices")),
    grant(BDC, CONTAINER + "/blobs/x"), grant(OWNER, CONTAINER), grant(BLOB_DATA_OWNER, CONTAINER), grant(CONTRIBUTOR, CONTAINER),
    grant(STORAGE_ACCOUNT_CONTRIBUTOR, ACCOUNT), grant(BLOB_DATA_READER, ACCOUNT), grant(READER, f"/subscriptions/{SUB}"),
    grant(UNDEFINED, CONTAINER), grant("Storage Blob Data Contributor", CONTAINER), grant(f"xx{BDC}", CONTAINER),
    grant(MANAGED_IDENTITY_OPERATOR, IDENTITY),
])
def test_anything_beyond_blob_data_contributor_on_the_container_is_a_violation(assignment):
    assert mandatory(rules.grant_findings([grant(BDC, CONTAINER), assignment], TARGET), rules.ROLE_ASSIGNMENTS)


def test_custom_roles_are_judged_by_their_permissions():
    within = Role("writer", (), (), (f"{BLOBS}/write", f"{BLOBS}/add/action"))
    for role in (Role("all", (), (), (f"{BLOBS}/*",)), Role("tags", (), (), (f"{BLOBS}/write", f"{BLOBS}/tags/write")),
                 Role("keys", ("Microsoft.Storage/storageAccounts/listKeys/action",)), Role("star", ("*",))):
        assert mandatory(rules.grant_findings([grant(UNDEFINED, CONTAINER)], TARGET, {UNDEFINED: role}), rules.ROLE_ASSIGNMENTS)
    assert rules.grant_findings([grant(UNDEFINED, CONTAINER)], TARGET, {UNDEFINED: within}) == []
    assert mandatory(rules.grant_findings([grant(UNDEFINED, ACCOUNT)], TARGET, {UNDEFINED: within}), rules.ROLE_ASSIGNMENTS)
    unread = rules.grant_findings([grant(UNDEFINED, CONTAINER)], TARGET, {UNDEFINED: "denied"})
    assert unknowns([f for _, f in unread]) and not violations([f for _, f in unread])


def test_the_same_grant_in_any_spelling_passes_and_a_reader_beside_it_is_advisory():
    spellings = [grant(BDC, CONTAINER), grant(BDC.upper(), CONTAINER.lower()), grant(f"/providers/Microsoft.Authorization/roleDefinitions/{BDC}",
                                                                                    CONTAINER.upper().replace("/SUBSCRIPTIONS/", "/subscriptions/") + "/")]
    assert rules.grant_findings(spellings, TARGET) == []
    assert rules.grant_findings(spellings, None) == []
    judged = rules.grant_findings([grant(BDC, CONTAINER), grant(BLOB_DATA_READER, CONTAINER)], TARGET)
    assert [f.rule for _, f in judged] == [rules.LEAST_PRIVILEGE.id]


def test_without_a_known_container_the_grants_must_name_one():
    judged = rules.grant_findings([grant(BDC, CONTAINER), grant(BDC, CONTAINER.replace("recordings", "invoices"))], None)
    assert any("2 containers" in p for p in mandatory(judged, rules.ROLE_ASSIGNMENTS))


def test_verify_requires_a_grant_that_writes():
    assert mandatory(rules.grant_findings([], TARGET, require_write=True), rules.ROLE_ASSIGNMENTS)
    assert mandatory(rules.grant_findings([grant(BLOB_DATA_READER, CONTAINER)], TARGET, require_write=True), rules.ROLE_ASSIGNMENTS)
    assert rules.grant_findings([grant(BDC, CONTAINER)], TARGET, require_write=True) == []


# --- who else reaches the recordings


@pytest.mark.parametrize("assignment", [
    grant(BLOB_DATA_READER, CONTAINER, STRANGER), grant(BDC, ACCOUNT, STRANGER), grant(BLOB_DATA_OWNER, RG, STRANGER),
    grant(BLOB_DATA_READER, f"/subscriptions/{SUB}", STRANGER), grant(BLOB_DATA_READER, "/", STRANGER),
    grant(OWNER, ACCOUNT, STRANGER), grant(CONTRIBUTOR, f"{ACCOUNT}/blobServices/default", STRANGER),
    grant(STORAGE_ACCOUNT_CONTRIBUTOR, ACCOUNT, STRANGER), grant(USER_ACCESS_ADMINISTRATOR, CONTAINER, STRANGER),
    grant(UNDEFINED, ACCOUNT, STRANGER), grant("Reader", ACCOUNT, STRANGER), grant(BDC, CONTAINER, TAVUS + "x"),
])
def test_anyone_else_who_reaches_the_recordings_is_a_violation(assignment):
    assert mandatory(rules.access_findings([assignment], TARGET, {TAVUS}), rules.CONTAINER_ACCESS)


@pytest.mark.parametrize("assignment", [
    grant(OWNER, RG, STRANGER), grant(CONTRIBUTOR, RG, STRANGER), grant(STORAGE_ACCOUNT_CONTRIBUTOR, RG, STRANGER),
    grant(STORAGE_ACCOUNT_CONTRIBUTOR, f"/subscriptions/{SUB}", STRANGER), grant(KEY_OPERATOR, RG, STRANGER),
    grant(READER_AND_DATA_ACCESS, "/providers/Microsoft.Management/managementGroups/corp", STRANGER),
])
def test_control_of_the_account_one_level_up_or_more_is_a_violation(assignment):
    # Assignments inherit downward: listKeys on the group returns the keys of every account in it.
    assert mandatory(rules.access_findings([assignment], TARGET, {TAVUS}), rules.CONTAINER_ACCESS)


@pytest.mark.parametrize("action", [
    "Microsoft.Storage/storageAccounts/ListAccountSas/action", "Microsoft.Storage/storageAccounts/listServiceSas/action",
    "Microsoft.Storage/storageAccounts/regeneratekey/action", "Microsoft.Storage/storageAccounts/localusers/*",
    "Microsoft.Storage/storageAccounts/localUsers/write", "Microsoft.Storage/storageAccounts/localusers/listKeys/action",
    "Microsoft.Storage/storageAccounts/localusers/regeneratePassword/action",
    "Microsoft.Storage/storageAccounts/objectReplicationPolicies/write", "Microsoft.Storage/storageAccounts/managementPolicies/write",
    "Microsoft.Storage/storageAccounts/blobServices/containers/delete", "Microsoft.Storage/storageAccounts/blobServices/containers/write",
    "Microsoft.Storage/storageAccounts/delete", "Microsoft.Authorization/roleDefinitions/write",
])
def test_every_control_plane_route_to_the_blobs_is_a_violation(action):
    roles = {UNDEFINED: Role("custom", (action,))}
    for scope in (CONTAINER, ACCOUNT, RG):
        assert mandatory(rules.access_findings([grant(UNDEFINED, scope, STRANGER)], TARGET, {TAVUS}, roles), rules.CONTAINER_ACCESS)


@pytest.mark.parametrize("role", [OWNER, CONTRIBUTOR, USER_ACCESS_ADMINISTRATOR])
@pytest.mark.parametrize("scope", BROAD_SCOPES)
def test_administrators_of_the_subscription_or_above_are_listed_not_failed_by_access(role, scope):
    assignment = grant(role, scope, STRANGER)
    assert rules.access_findings([assignment], TARGET, {TAVUS}) == []
    assert rules.container_admins([assignment], TARGET, {TAVUS}) == [assignment]
    # Below the subscription they fail.
    assert mandatory(rules.access_findings([grant(role, RG, STRANGER)], TARGET, {TAVUS}), rules.CONTAINER_ACCESS)


def test_two_federated_identities_writing_the_container_are_a_violation_naming_both():
    judged = rules.writer_findings([("tavus-writer", "a"), ("shadow-writer", "b")], "recordings")
    assert [record for record, _ in judged] == ["a", "b"]
    assert all("tavus-writer and shadow-writer" in f.problem and "separate stack" in f.fix for _, f in judged)
    assert rules.writer_findings([("tavus-writer", "a")], "recordings") == []
    assert rules.writes(BDC) and rules.writes(BLOB_DATA_OWNER) and not rules.writes(BLOB_DATA_READER) and not rules.writes(OWNER)


@pytest.mark.parametrize("assignment", [
    grant(BDC, CONTAINER, TAVUS), grant(BDC, CONTAINER, TAVUS.upper()), grant(READER, ACCOUNT, STRANGER),
    grant(OWNER, f"/subscriptions/{SUB}", STRANGER), grant(BLOB_DATA_OWNER, ACCOUNT.replace("acme", "other"), STRANGER),
    grant(BLOB_DATA_READER, CONTAINER.replace("recordings", "logs"), STRANGER), grant(MANAGED_IDENTITY_OPERATOR, ACCOUNT, STRANGER),
])
def test_who_does_not_reach_the_recordings_passes(assignment):
    assert rules.access_findings([assignment], TARGET, {TAVUS}) == []


# --- the account and the container


@pytest.mark.parametrize("judge, safe, unsafe", [
    (rules.public_access_findings, [False], [True, None, "false", 0]),
    (rules.shared_key_findings, [False], [True, None, "false"]),
    (rules.https_findings, [True, None], [False]),
    (rules.tls_findings, ["TLS1_2", "TLS1_3", "tls1_2"], ["TLS1_0", "TLS1_1", None, "", "TLS1_2 ", "1.2"]),
    (rules.container_public_findings, [None, "None"], ["Blob", "Container", "none", ""]),
])
def test_account_and_container_settings(judge, safe, unsafe):
    assert all(judge(value) == [] for value in safe)
    assert all(violations(judge(value)) for value in unsafe)


# --- that recordings last


def rule(delete: Any, **filters: Any) -> dict[str, Any]:
    definition: dict[str, Any] = {"actions": {"baseBlob": {"delete": delete}}}
    if filters:
        definition["filters"] = filters
    return {"name": "r", "enabled": True, "type": "Lifecycle", "definition": definition}


@pytest.mark.parametrize("spelling", [
    rule({"daysAfterModificationGreaterThan": 30}), rule({"daysAfterCreationGreaterThan": 30}), rule({"daysAfterLastAccessTimeGreaterThan": 30}),
    rule({"daysAfterModificationGreaterThan": 400, "daysAfterCreationGreaterThan": 1}), rule({"days_after_modification_greater_than": 1}),
    rule({"DaysAfterModificationGreaterThan": 1}), rule({"something": 1}), rule("soon"),
    rule({"daysAfterModificationGreaterThan": 1}, prefixMatch=["rec"]), rule({"daysAfterModificationGreaterThan": 1}, prefixMatch=["recordings/2026"]),
    rule({"daysAfterModificationGreaterThan": 1}, prefixMatch=["logs/", "recordings/"], blobTypes=["appendBlob", "blockBlob"]),
    {**rule({"daysAfterModificationGreaterThan": 1}), "enabled": "yes"},
])
def test_every_spelling_of_deleting_current_recordings_early_is_a_violation(spelling):
    assert violations(rules.lifecycle_findings([spelling], "recordings", 365))


@pytest.mark.parametrize("spelling", [
    rule({"daysAfterModificationGreaterThan": 365}), {**rule({"daysAfterModificationGreaterThan": 1}), "enabled": False},
    rule({"daysAfterModificationGreaterThan": 1}, prefixMatch=["logs/"]), rule({"daysAfterModificationGreaterThan": 1}, blobTypes=["pageBlob"]),
    {"name": "v", "definition": {"actions": {"version": {"delete": {"daysAfterCreationGreaterThan": 1}},
                                             "snapshot": {"delete": {"daysAfterCreationGreaterThan": 1}}}}},
    {"name": "t", "definition": {"actions": {"baseBlob": {"tierToCool": {"daysAfterModificationGreaterThan": 1}}}}},
])
def test_what_keeps_current_recordings_passes(spelling):
    assert rules.lifecycle_findings([spelling], "recordings", 365) == []


def test_the_kits_own_lifecycle_passes_and_retention_decides():
    kit: list[Any] = list(cast(list, management_policy("recordings", 30, 365)["rules"]))
    assert rules.lifecycle_findings(kit, "recordings", 365) == []
    assert violations(rules.lifecycle_findings(kit, "recordings", 400))
    assert violations(rules.lifecycle_findings(kit, "recordings", None))
    assert rules.lifecycle_findings(cast(list, management_policy("recordings", 30)["rules"]), "recordings", None) == []
    unknown = rules.lifecycle_findings(kit, "recordings", None, retention_known=False)
    assert unknowns(unknown) and not violations(unknown)


# --- where copies go


def test_replication_out_of_the_recordings_account_must_go_to_your_own():
    def policy(destination: str, container: str = "recordings", source: str = ACCOUNT) -> rules.Replication:
        return rules.Replication(source, destination, [{"sourceContainer": container, "destinationContainer": "x"}], "p")

    def judge(*policies: rules.Replication) -> list[rules.Judged]:
        return rules.replication_findings(policies, lambda p: str(p.source).lower() in (ACCOUNT.lower(), "acmerecordings"),
                                          "recordings", lambda p: p.destination == "acmebackup")

    assert judge(policy("lootbox"), policy("lootbox", "RECORDINGS"), policy("lootbox", source="acmerecordings"))
    assert len(judge(policy("lootbox"), policy("lootbox", "RECORDINGS"))) == 2
    assert judge(rules.Replication(ACCOUNT, "lootbox", [{"destinationContainer": "x"}])), "a rule that cannot be read copies"
    assert judge(policy("acmebackup"), policy("lootbox", "logs"), policy("lootbox", source="acmeupstream")) == []
    assert judge(rules.Replication(ACCOUNT, "lootbox", [])) == []


# --- property tests: never pass what admits someone else, or grants more


def _issuers() -> st.SearchStrategy[tuple[Any, bool]]:
    """(issuer, whether it is exactly Tavus's)."""
    crafted = [(ISSUER, True), (f"{ISSUER}/", False), ("http://tavus-issuer.example", False), ("HTTPS://tavus-issuer.example", False),
               ("https://tavus-issuer.example@evil.example", False), ("https://evil.example#@tavus-issuer.example", False),
               ("https://tavus-issuer.example.evil.example", False), ("https://tavus-issuer.example?x", False), (f" {ISSUER}", False),
               ("https://*.example", False), ("", False), (None, False)]
    built = st.tuples(st.sampled_from(["https", "http", "HTTPS", "ftp"]), st.sampled_from(["", "tavus@", "u:p@"]),
                      st.sampled_from(["tavus-issuer.example", "evil.example", "*.example", "TAVUS-ISSUER.example", ""]),
                      st.sampled_from(["", ":443", ":x"]), st.sampled_from(["", "/", "/oidc", "?a=b", "#f"])).map(
        lambda p: (f"{p[0]}://{p[1]}{p[2]}{p[3]}{p[4]}", f"{p[0]}://{p[1]}{p[2]}{p[3]}{p[4]}" == ISSUER))
    return st.one_of(st.sampled_from(crafted), built)


SUBJECTS = st.sampled_from([(SUBJECT, True), (SUBJECT.upper(), False), ("", False), (" ", False), ("*", False), (f"{SUBJECT}*", False),
                            (f"{SUBJECT} ", False), ("other", False), (None, False)])
AUDIENCES = st.sampled_from([([AUDIENCE], True), ([], False), ([AUDIENCE, AUDIENCE], False), ([AUDIENCE, "api://other"], False),
                             (["api://other"], False), ([""], False), (AUDIENCE, False), (None, False)])
EXPRESSIONS = st.sampled_from([(None, True), ({"value": "claims['sub'] matches '*'", "languageVersion": 1}, False), ("x", False)])


@st.composite
def credentials(draw: st.DrawFn) -> tuple[list[rules.Credential], bool]:
    """Credentials on one identity, and whether exactly Tavus's token (and only it) gets in."""
    found: list[rules.Credential] = []
    exact: list[bool] = []
    for index in range(draw(st.integers(min_value=0, max_value=3))):
        (issuer, i_ok), (subject, s_ok), (audiences, a_ok), (expression, e_ok) = (
            draw(_issuers()), draw(SUBJECTS), draw(AUDIENCES), draw(EXPRESSIONS))
        found.append(rules.Credential(f"c{index}", issuer, subject, audiences, expression))
        exact.append(i_ok and s_ok and a_ok and e_ok)
    return found, len(found) <= 1 and all(exact)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(credentials())
@example(([cred(), cred(subject="other", name="d")], False))
@example(([cred(issuer="https://tavus-issuer.example@evil.example")], False))
def test_no_credential_set_that_admits_anyone_but_tavus_passes(case):
    found, only_tavus = case
    judged = violations(f for _, f in rules.federation_findings(found, TOKEN))
    assert bool(judged) is not only_tavus, (found, judged)


ROLES = [BDC, BLOB_DATA_READER, BLOB_DATA_OWNER, OWNER, CONTRIBUTOR, READER, STORAGE_ACCOUNT_CONTRIBUTOR, MANAGED_IDENTITY_OPERATOR,
         UNDEFINED]


@st.composite
def role_spelling(draw: st.DrawFn) -> tuple[str, Optional[str]]:
    """(role id as written, the GUID it means; None when it means no role)."""
    guid = draw(st.sampled_from(ROLES))
    form = draw(st.sampled_from(["bare", "full", "tenant", "trailing", "prefixed", "suffixed", "name"]))
    cased = guid.upper() if draw(st.booleans()) else guid
    subscription = draw(st.sampled_from([SUB, OTHER_SUB]))
    spelled = {
        "bare": (cased, guid),
        "full": (f"/subscriptions/{subscription}/providers/Microsoft.Authorization/roleDefinitions/{cased}", guid),
        "tenant": (f"/providers/Microsoft.Authorization/roleDefinitions/{cased}", guid),
        "trailing": (f"/subscriptions/{subscription}/providers/Microsoft.Authorization/roleDefinitions/{cased}/", guid),
        "prefixed": (f"x{cased}", None),
        "suffixed": (f"{cased}0", None),
        "name": ("Storage Blob Data Contributor", None),
    }[form]
    text = spelled[0].upper() if draw(st.booleans()) and form != "name" else spelled[0]
    return text, spelled[1]


SCOPES = {
    "root": "/", "management group": "/providers/Microsoft.Management/managementGroups/corp", "subscription": f"/subscriptions/{SUB}",
    "group": RG, "account": ACCOUNT, "blob service": f"{ACCOUNT}/blobServices/default", "container": CONTAINER,
    "other container": CONTAINER.replace("recordings", "invoices"), "other account": ACCOUNT.replace("acmerecordings", "acmelogs"),
    "below the container": f"{CONTAINER}/blobs/x", "identity": IDENTITY,
}


@st.composite
def scope_spelling(draw: st.DrawFn) -> tuple[str, str]:
    level = draw(st.sampled_from(list(SCOPES)))
    scope = SCOPES[level]
    if draw(st.booleans()):
        scope = scope.upper().replace("/SUBSCRIPTIONS/", "/subscriptions/") if draw(st.booleans()) else scope.lower()
    if draw(st.booleans()) and scope != "/":
        scope += "/"
    return scope, level


@st.composite
def assignments(draw: st.DrawFn) -> list[tuple[rules.Assignment, Optional[str], str, bool]]:
    found = []
    for _ in range(draw(st.integers(min_value=0, max_value=4))):
        (role, guid), (scope, level) = draw(role_spelling()), draw(scope_spelling())
        tavus = draw(st.booleans())
        principal = (TAVUS.upper() if draw(st.booleans()) else TAVUS) if tavus else STRANGER
        found.append((rules.Assignment(role, scope, principal, "a"), guid, level, tavus))
    return found


@settings(max_examples=500, deadline=None)
@given(assignments())
def test_no_grant_beyond_blob_data_contributor_on_the_container_passes(case):
    mine = [(a, guid, level) for a, guid, level, tavus in case if tavus]
    # The oracle: only Blob Data Contributor, or the Reader it contains, exactly at the container.
    more = any(guid not in (BDC, BLOB_DATA_READER) or level != "container" for _, guid, level in mine)
    judged = rules.grant_findings([a for a, _, _ in mine], TARGET)
    assert bool(mandatory(judged, rules.ROLE_ASSIGNMENTS)) is more, (mine, judged)


REACHES_BLOBS = {BDC, BLOB_DATA_READER, BLOB_DATA_OWNER}
CONTROLS_ACCOUNT = {OWNER, CONTRIBUTOR, STORAGE_ACCOUNT_CONTRIBUTOR}
ADMINISTRATORS = {OWNER, CONTRIBUTOR}
BROAD = {"root", "management group", "subscription"}
ABOVE = BROAD | {"group"}
AT_ACCOUNT = {"account", "blob service", "container"}


@settings(max_examples=500, deadline=None)
@given(assignments())
def test_nobody_else_who_reaches_the_recordings_passes(case):
    # The oracle: a data role (or one that cannot be told) at or above the container, or control of its account at
    # any of those scopes but by an administrator of the whole subscription or above (listed, not failed).
    others = [(a, guid, level) for a, guid, level, tavus in case if not tavus]
    reach = any(
        (level in ABOVE | AT_ACCOUNT and (guid is None or guid == UNDEFINED or guid in REACHES_BLOBS))
        or (level in ABOVE | AT_ACCOUNT and guid in CONTROLS_ACCOUNT and not (level in BROAD and guid in ADMINISTRATORS))
        for _, guid, level in others
    )
    judged = rules.access_findings([a for a, _, _, _ in case], TARGET, {TAVUS})
    assert bool(mandatory(judged, rules.CONTAINER_ACCESS)) is reach, (others, judged)


def _unpinned(credential: rules.Credential) -> bool:
    """The oracle without Tavus's token: what no exact trust looks like, read from the raw values."""
    issuer, subject = credential.issuer, credential.subject
    bad_issuer = not isinstance(issuer, str) or not issuer.startswith("https://") or any(c in issuer for c in "@?# \t\n*")
    bad_subject = not isinstance(subject, str) or not subject or subject != subject.strip() or "*" in subject
    bad_audiences = not isinstance(credential.audiences, list) or len(credential.audiences) != 1 or not credential.audiences[0]
    return bad_issuer or bad_subject or bad_audiences or credential.expression is not None


@settings(max_examples=400, deadline=None)
@given(credentials())
def test_unconfigured_the_rules_still_never_pass_a_credential_that_pins_nobody(case):
    found, _ = case
    judged = violations(f for _, f in rules.federation_findings(found))
    if len(found) > 1 or any(_unpinned(c) for c in found):
        assert judged, found


# --- WORM (azure.container.immutability) and audit logs (azure.account.diagnostic_logs), issue 19

SPELLINGS = {
    "ARM": lambda days, **more: {"immutabilityPeriodSinceCreationInDays": days, "state": "Unlocked", **more},
    "azure-native Python": lambda days, **more: {"immutability_period_since_creation_in_days": days, "state": "Unlocked",
                                                 **{k.replace("allowProtected", "allow_protected_").replace("AppendWrites", "append_writes")
                                                    .replace("All", "_all"): v for k, v in more.items()}},
}


@pytest.mark.parametrize("spell", SPELLINGS.values(), ids=SPELLINGS.keys())
def test_immutability_reads_every_spelling_of_the_policy(spell):
    assert rules.immutability_findings(spell(30), 30) == []
    assert "fewer than the 30" in rules.immutability_findings(spell(29), 30)[0].problem
    assert "(allowProtectedAppendWrites)" in rules.immutability_findings(spell(30, allowProtectedAppendWrites=True), 30)[0].problem
    assert "AppendWritesAll" in rules.immutability_findings(spell(30, allowProtectedAppendWritesAll=True), 30)[0].problem


@pytest.mark.parametrize("policy", [None, {}, {"immutabilityPeriodSinceCreationInDays": 0, "state": "Deleted"},
                                    {"immutabilityPeriodSinceCreationInDays": 30, "state": "deleted"}],
                         ids=["absent", "empty", "ARM's answer without a policy", "deleted, in another case"])
def test_a_container_without_a_policy_has_none(policy):
    (finding,) = rules.immutability_findings(policy, 30)
    assert "has no immutability policy" in finding.problem and not finding.unknown


@pytest.mark.parametrize("state, live, mode, fails", [
    ("Unlocked", True, "compliance", True), ("unlocked", True, "COMPLIANCE", True), (None, True, "compliance", True),
    ("Locked", True, "compliance", False), ("locked", True, "compliance", False),
    ("Unlocked", False, "compliance", False),  # the pack never sees the lock
    ("Unlocked", True, "governance", False), ("Unlocked", True, None, False),
])
def test_only_a_live_compliance_policy_must_be_locked(state, live, mode, fails):
    policy = {"immutabilityPeriodSinceCreationInDays": 30, **({"state": state} if state else {})}
    found = rules.immutability_findings(policy, 30, mode, live=live)
    assert bool(found) is fails
    assert all("lock it" in f.fix for f in found)


@given(st.integers(1, 36500), st.one_of(st.integers(-5, 40000), st.floats(allow_nan=False, allow_infinity=False), st.none(),
                                         st.text(max_size=5), st.booleans()))
def test_a_period_passes_exactly_when_it_is_a_number_at_least_the_stacks(wanted, days):
    found = rules.immutability_findings({"immutabilityPeriodSinceCreationInDays": days, "state": "Unlocked"}, wanted)
    number = isinstance(days, (int, float)) and not isinstance(days, bool)
    assert (found == []) is (number and days >= wanted)
    assert rules.immutability_findings({"immutabilityPeriodSinceCreationInDays": days}, None) == []


@pytest.mark.parametrize("days", [float("nan"), float("inf"), float("-inf"), -float("nan")], ids=["nan", "inf", "-inf", "-nan"])
def test_a_period_that_is_no_finite_number_cannot_be_read(days):
    (finding,) = rules.immutability_findings({"immutabilityPeriodSinceCreationInDays": days, "state": "Locked"}, 30, live=True)
    assert "period cannot be read" in finding.problem


@pytest.mark.parametrize("flag", [True, "true", "True", " TRUE "], ids=["bool", "text", "capitalised", "padded upper case"])
@pytest.mark.parametrize("key", ["allowProtectedAppendWrites", "allowProtectedAppendWritesAll"])
def test_protected_appends_allowed_in_any_spelling_fail(key, flag):
    (finding,) = rules.immutability_findings({"immutabilityPeriodSinceCreationInDays": 30, key: flag}, 30)
    assert f"({key})" in finding.problem


@pytest.mark.parametrize("flag", [False, "false", None, "", 0], ids=["bool", "text", "null", "empty", "zero"])
def test_protected_appends_off_in_any_spelling_pass(flag):
    policy = {"immutabilityPeriodSinceCreationInDays": 30, "allowProtectedAppendWrites": flag, "allowProtectedAppendWritesAll": flag}
    assert rules.immutability_findings(policy, 30) == []


def setting(*logs: dict[str, Any], **destination: Any) -> rules.DiagnosticSetting:
    return rules.DiagnosticSetting("s", {"logs": list(logs), **(destination or {"storageAccountId": "/subscriptions/s/x"})})


READ, WRITE, DELETE = ({"category": c, "enabled": True} for c in rules.AUDIT_CATEGORIES)


@pytest.mark.parametrize("settings_", [
    [setting(READ, WRITE, DELETE)],
    [setting({"category": "storageread", "enabled": True}, WRITE, DELETE)],
    [setting({"categoryGroup": "allLogs", "enabled": True})],
    [setting({"category_group": "ALLLOGS", "enabled": True}, workspace_id="/w")],
    [setting(READ), setting(WRITE, DELETE, eventHubAuthorizationRuleId="/e")],
], ids=["the three", "a category in another case", "allLogs", "azure-native spelling", "split over two settings"])
def test_settings_that_send_the_three_categories_somewhere_pass(settings_):
    assert rules.diagnostic_findings(settings_, True) == []


@pytest.mark.parametrize("settings_, words", [
    ([], "has no diagnostic setting"),
    ([setting(WRITE, DELETE)], "StorageRead (reads)"),
    ([setting({**READ, "enabled": "true"}, WRITE, DELETE)], "StorageRead"),
    ([setting({"categoryGroup": "audit", "enabled": True})], "category group audit"),
    ([setting(READ, WRITE, DELETE, storageAccountId="", workspaceId="  ")], "names no destination"),
    ([setting({"categoryGroup": "allLogs", "enabled": False})], "StorageDelete (deletes)"),
    ([setting(READ, WRITE, DELETE, storageAccountId=None)], "names no destination"),
], ids=["none", "read left out", "enabled as text", "the audit group", "blank destinations", "allLogs off", "null destination"])
def test_settings_that_miss_a_category_or_a_destination_fail(settings_, words):
    (finding,) = rules.diagnostic_findings(settings_, True)
    assert words in finding.problem and finding.rule == "azure.account.diagnostic_logs"
    assert rules.diagnostic_findings(settings_, False) == []


CATEGORY_SPELLINGS = st.sampled_from([("StorageRead", "StorageRead"), ("storageread", "StorageRead"), ("StorageWrite", "StorageWrite"),
                                      ("STORAGEDELETE", "StorageDelete"), ("StorageDelete", "StorageDelete"),
                                      ("Transaction", None), ("StorageRead ", None), ("", None)])


@st.composite
def log_settings(draw: Any) -> tuple[dict[str, Any], set[str]]:
    """A log entry and the audit categories it provably enables (the tag, not the string, is the oracle's)."""
    enabled = draw(st.sampled_from([True, False, "true", None]))
    if draw(st.booleans()):
        group = draw(st.sampled_from(["allLogs", "alllogs", "audit", "AllLogs ", ""]))
        covers: set[str] = set(rules.AUDIT_CATEGORIES) if group.lower() == "alllogs" else set()
        entry: dict[str, Any] = {"categoryGroup": group}
    else:
        spelled, meant = draw(CATEGORY_SPELLINGS)
        covers = {str(meant)} if meant else set()
        entry = {"category": spelled}
    if enabled is not None:
        entry["enabled"] = enabled
    return entry, covers if enabled is True else set()


@given(st.lists(st.tuples(st.lists(log_settings(), max_size=4), st.sampled_from([("storageAccountId", "/subscriptions/s/a"),
                                                                                 ("workspaceId", "/w"), ("workspaceId", ""),
                                                                                 ("storageAccountId", None), (None, None)])),
                max_size=3))
def test_settings_pass_exactly_when_their_destinations_get_all_three_categories(drawn):
    settings_ = [rules.DiagnosticSetting(f"s{i}", {"logs": [entry for entry, _ in logs], **({key: value} if key else {})})
                 for i, (logs, (key, value)) in enumerate(drawn)]
    delivered = {c for logs, (key, value) in drawn if key and value for _, covers in logs for c in covers}
    assert (rules.diagnostic_findings(settings_, True) == []) is (delivered == set(rules.AUDIT_CATEGORIES))


# --- the cold tier (coldAfterDays): the stack's move to Cool, and what takes its place ------------

COLD_DAYS = 90
COLD_CONTAINER = "recordings"


def cold_rule(actions: dict[str, Any], name: str = "move-recordings-to-cool", enabled: Any = True, **filters: Any) -> dict[str, Any]:
    rule: dict[str, Any] = {"name": name, "type": "Lifecycle",
                            "definition": {"filters": {"blobTypes": ["blockBlob"], "prefixMatch": [f"{COLD_CONTAINER}/"], **filters},
                                           "actions": actions}}
    if enabled is not None:
        rule["enabled"] = enabled
    return rule


def to_cool(days: Any = COLD_DAYS, field: str = "daysAfterModificationGreaterThan") -> dict[str, Any]:
    return {"baseBlob": {"tierToCool": {field: days}}}


def cold_ids(rules_: list[Any]) -> list[str]:
    return [f.rule for f in rules.cold_tier_findings(rules_, COLD_CONTAINER, COLD_DAYS)]


def test_the_kits_cool_move_passes():
    assert cold_ids(management_policy(COLD_CONTAINER, 30, 365, COLD_DAYS)["rules"]) == []
    assert cold_ids([cold_rule(to_cool())]) == []


# A blob index tag filter is ANDed with the rest: only tagged recordings move (Tavus tags none). Azure matches
# prefixes case-sensitively, and container names are lower case, so an upper-case prefix matches nothing.
@pytest.mark.parametrize("filters", [
    {"blobIndexMatch": [{"name": "k", "op": "==", "value": "v"}]},
    {"blob_index_match": [{"name": "project", "op": "==", "value": "x"}]},
    {"BlobIndexMatch": [{"Name": "k", "Op": "==", "Value": "v"}]},
    {"prefixMatch": ["RECORDINGS/"]}, {"prefixMatch": ["Recordings/"]}, {"prefixMatch": ["REC"]},
    {"prefixMatch": ["recordings/2026/"]}, {"prefixMatch": ["other/"]}, {"blobTypes": ["appendBlob"]},
])
def test_a_narrowed_cool_move_is_not_the_stacks(filters):
    found = rules.cold_tier_findings([cold_rule(to_cool(), **filters)], COLD_CONTAINER, COLD_DAYS)
    assert [f.rule for f in found] == ["azure.account.cold_tier"] and "has no lifecycle rule moving current recordings" in found[0].problem


# ARM types `enabled` as a boolean ("Rule is enabled if set to true", storage.json ManagementPolicyRule): only true,
# or its documented default (absent), carries the move; a string is not proof.
@pytest.mark.parametrize("enabled", [False, "false", "False", "true", 0, 1, "yes"])
def test_a_cool_move_not_plainly_enabled_is_not_the_stacks(enabled):
    assert cold_ids([cold_rule(to_cool(), enabled=enabled)]) == ["azure.account.cold_tier"]


@pytest.mark.parametrize("rule", [
    cold_rule(to_cool(), enabled=None),
    cold_rule(to_cool(), prefixMatch=["rec"]), cold_rule(to_cool(), prefixMatch=["other/", "recordings/"]),
    cold_rule(to_cool(), prefixMatch=[]), cold_rule(to_cool(), blobIndexMatch=[]),
    cold_rule(to_cool(), blobTypes=["blockBlob", "appendBlob"]),
    # DateAfterModification, which tierToCool takes, has daysAfterCreationGreaterThan (storage.json): a recording is
    # written once, so it is created and last modified the same day.
    cold_rule(to_cool(field="daysAfterCreationGreaterThan")),
    cold_rule({"base_blob": {"tier_to_cool": {"days_after_creation_greater_than": COLD_DAYS}}}),
    cold_rule(to_cool("90")), cold_rule(to_cool(90.0)),
])
def test_safe_look_alikes_of_the_cool_move_pass(rule):
    assert cold_ids([rule]) == []


@pytest.mark.parametrize("rule", [
    cold_rule(to_cool(field="daysAfterLastAccessTimeGreaterThan")),
    cold_rule(to_cool("9e1")), cold_rule(to_cool("ninety")), cold_rule(to_cool(True)),
    cold_rule({"version": {"tierToCool": {"daysAfterCreationGreaterThan": COLD_DAYS}}}),
])
def test_a_cool_move_at_another_time_or_of_other_blobs_is_not_the_stacks(rule):
    found = rules.cold_tier_findings([rule], COLD_CONTAINER, COLD_DAYS)
    assert {f.rule for f in found} == {"azure.account.cold_tier"}
    assert any("has no lifecycle rule moving current recordings" in f.problem for f in found)


def test_deciding_what_a_rule_reaches_still_ignores_case():
    archive = cold_rule({"baseBlob": {"tierToArchive": {"daysAfterModificationGreaterThan": 1}}}, name="deep", prefixMatch=["RECORDINGS/"])
    found = rules.cold_tier_findings([archive], COLD_CONTAINER, None)
    assert [f.rule for f in found] == ["azure.account.cold_tier"] and "to the Archive tier (rule deep)" in found[0].problem


# Of several actions on one blob, lifecycle management applies the least expensive (learn.microsoft.com,
# lifecycle-management-policy-configure): a move to Cold by the stack's age takes the place of the move to Cool.
@pytest.mark.parametrize("rule", [
    cold_rule({"baseBlob": {"tierToCold": {"daysAfterModificationGreaterThan": 30}}}, name="colder"),
    cold_rule({"baseBlob": {"tierToCold": {"daysAfterCreationGreaterThan": COLD_DAYS}}}, name="colder"),
    cold_rule({"base_blob": {"tier_to_cold": {"days_after_last_access_time_greater_than": 60}}}, name="colder"),
    cold_rule({"baseBlob": {"tierToCold": {"daysAfterModificationGreaterThan": "soon"}}}, name="colder"),
    cold_rule({"baseBlob": {"tierToCold": {"daysAfterModificationGreaterThan": 30}}}, name="colder",
              blobIndexMatch=[{"name": "k", "op": "==", "value": "v"}]),
    cold_rule({"baseBlob": {"tierToCool": {"daysAfterModificationGreaterThan": 30}}}, name="colder"),
    cold_rule({"baseBlob": {"tierToCold": {"daysAfterModificationGreaterThan": 30}}}, name="colder", enabled="false"),
    cold_rule({"baseBlob": {"tierToCool": {"daysAfterModificationGreaterThan": COLD_DAYS},
                            "tierToCold": {"daysAfterModificationGreaterThan": COLD_DAYS}}}, name="colder"),
])
def test_a_cheaper_or_sooner_move_of_current_recordings_takes_the_stacks_place(rule):
    found = rules.cold_tier_findings([cold_rule(to_cool()), rule], COLD_CONTAINER, COLD_DAYS)
    assert [f.rule for f in found] == ["azure.account.cold_tier"]
    assert "(rule colder), instead of the stack's move to Cool 90 days after they are written" in found[0].problem


@pytest.mark.parametrize("rule", [
    cold_rule({"baseBlob": {"tierToCold": {"daysAfterModificationGreaterThan": 180}}}, name="later"),
    cold_rule({"baseBlob": {"tierToCool": {"daysAfterModificationGreaterThan": COLD_DAYS}}}, name="same", prefixMatch=["recordings/a"]),
    cold_rule({"version": {"tierToCold": {"daysAfterCreationGreaterThan": 1}}}, name="versions"),
    cold_rule({"snapshot": {"tierToCold": {"daysAfterCreationGreaterThan": 1}}}, name="snapshots"),
    cold_rule({"baseBlob": {"tierToCold": {"daysAfterModificationGreaterThan": 1}}}, name="off", enabled=False),
    cold_rule({"baseBlob": {"tierToCold": {"daysAfterModificationGreaterThan": 1}}}, name="elsewhere", prefixMatch=["other/"]),
])
def test_a_move_that_cannot_take_the_stacks_place_passes(rule):
    assert cold_ids([cold_rule(to_cool()), rule]) == []
    assert rules.cold_tier_findings([rule], COLD_CONTAINER, None) == []


@given(st.text(alphabet="recordingsRECORDINGS/", min_size=1, max_size=14))
@example("RECORDINGS/")
@example("Rec")
@example("recordings/")
def test_a_cool_move_is_the_stacks_only_when_its_prefix_is_a_case_exact_start_of_the_containers_path(prefix):
    found = cold_ids([cold_rule(to_cool(), prefixMatch=[prefix])])
    assert (found == []) is f"{COLD_CONTAINER}/".startswith(prefix)


# --- only the stack's own destination counts (red team 19b #3), and nothing on the log account deletes the logs (#2)


def test_a_setting_the_caller_finds_elsewhere_does_not_count_and_says_where_it_sends():
    def elsewhere(properties: Any) -> Optional[str]:
        return None if properties.get("storageAccountId") == "/own" else "sends them to a stranger"

    own, stranger = setting(READ, WRITE, DELETE, storageAccountId="/own"), setting(READ, WRITE, DELETE, marketplacePartnerId="x")
    assert rules.diagnostic_findings([own, stranger], True, elsewhere=elsewhere) == []
    (finding,) = rules.diagnostic_findings([stranger], True, elsewhere=elsewhere, where="to the log account")
    assert "sends no StorageRead (reads)" in finding.problem and "to the log account" in finding.problem
    assert "setting s sends them to a stranger" in finding.problem


def test_destination_subscriptions_name_each_resource_destination_and_leave_a_partner_out():
    found = rules.destination_subscriptions({"storageAccountId": "/subscriptions/AbC/resourceGroups/g/providers/x",
                                             "workspaceId": "w", "marketplacePartnerId": "/subscriptions/p/x"})
    assert found == {"/subscriptions/AbC/resourceGroups/g/providers/x": "abc", "w": None}


def lifecycle_rule(prefixes: Optional[list[str]] = None, enabled: Any = True, **actions: Any) -> dict[str, Any]:
    filters = {"prefixMatch": prefixes} if prefixes is not None else {}
    return {"name": "r", "enabled": enabled, "definition": {"filters": filters,
                                                            "actions": actions or {"baseBlob": {"delete": {"daysAfterModificationGreaterThan": 1}}}}}


@pytest.mark.parametrize("rule", [
    lifecycle_rule(), lifecycle_rule([]), lifecycle_rule(["insights-logs-storagedelete/x"]), lifecycle_rule(["i"]),
    lifecycle_rule(["Insights-Logs-"]), lifecycle_rule(version={"delete": {}}), lifecycle_rule(snapshot={"delete": {}}),
    {"name": "r", "definition": {"actions": {"base_blob": {"delete": {}}}}},
], ids=["every container", "empty prefixes", "one log container", "a short prefix", "mixed case", "versions", "snapshots",
        "snake_case, enabled unset"])
def test_a_lifecycle_rule_that_can_delete_resource_logs_is_a_finding(rule):
    (finding,) = rules.log_deletion_findings([rule])
    assert "deletes audit logs (rule r" in finding.problem and finding.rule == "azure.account.diagnostic_logs"


@pytest.mark.parametrize("rule", [
    lifecycle_rule(enabled=False), lifecycle_rule(["insights-metrics-pt1m"]), lifecycle_rule(["other/insights-logs-"]),
    lifecycle_rule(baseBlob={"tierToCool": {"daysAfterModificationGreaterThan": 1}}), "not a rule",
], ids=["disabled", "metrics only", "a prefix in another container", "tiering only", "garbage"])
def test_a_lifecycle_rule_that_keeps_resource_logs_is_none(rule):
    assert rules.log_deletion_findings([rule]) == []


@given(st.lists(st.text(alphabet="insghtlo-/abcdRSTW", max_size=20), max_size=3))
def test_a_delete_rule_is_a_finding_exactly_when_a_prefix_can_reach_a_log_container(prefixes):
    # A prefix reaches insights-logs-<category>/... when either is a prefix of the other (case-insensitive), or there is none.
    reaches = not prefixes or any(p.lower().startswith("insights-logs-") or "insights-logs-".startswith(p.lower()) for p in prefixes)
    assert bool(rules.log_deletion_findings([lifecycle_rule(prefixes)])) is reaches

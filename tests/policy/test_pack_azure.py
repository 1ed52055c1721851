"""The pack's Azure policies, called as the engine calls them: each attack in several spellings is
reported by exactly its policy, and the safe look-alikes by none."""

from __future__ import annotations

import copy
from typing import Any, Optional, Sequence, Union

import pytest
from pulumi_policy.proxy import UNKNOWN_ARRAY_VALUE, UNKNOWN_BOOLEAN_VALUE, UNKNOWN_OBJECT_VALUE

from components.azure_policy import STORAGE_BLOB_DATA_CONTRIBUTOR as BDC
from components.azure_policy import management_policy
from pack_harness import UNKNOWN, Diagnostic, Resource, analyze, analyze_stack, assert_resource_case, only, policies_reported

ROLE_ASSIGNMENT = "azure-native:authorization:RoleAssignment"
ROLE_DEFINITION = "azure-native:authorization:RoleDefinition"
ACCOUNT = "azure-native:storage:StorageAccount"
CONTAINER_TYPE = "azure-native:storage:BlobContainer"
FIC = "azure-native:managedidentity:FederatedIdentityCredential"
IDENTITY = "azure-native:managedidentity:UserAssignedIdentity"
GROUP = "azure-native:resources:ResourceGroup"
LIFECYCLE = "azure-native:storage:ManagementPolicy"
REPLICATION = "azure-native:storage:ObjectReplicationPolicy"
COMPONENT = "tavus-recording:index:AzureBlobRecordingStorage"
WEB_APP = "azure-native:web:WebApp"
PIM_REQUEST = "azure-native:authorization:RoleAssignmentScheduleRequest"
PIM_ELIGIBLE = "azure-native:authorization:RoleEligibilityScheduleRequest"
CLASSIC_ASSIGNMENT = "azure:authorization/assignment:Assignment"

SUB = "3f2b8c1e-5d4a-4c7b-9e2f-1a6b7c8d9e0f"
RG = f"/subscriptions/{SUB}/resourceGroups/media"
ACCOUNT_ID = f"{RG}/providers/Microsoft.Storage/storageAccounts/acmerecordings"
CONTAINER_ID = f"{ACCOUNT_ID}/blobServices/default/containers/recordings"
IDENTITY_ID = f"{RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/tavus-writer"
PRINCIPAL = "9e8d7c6b-5a4f-4e3d-9c2b-1a0f9e8d7c6b"
APP_PRINCIPAL = "1b2c3d4e-5f60-4718-8293-a4b5c6d7e8f9"
STRANGER = "7c7c7c7c-1111-4222-8333-444455556666"
ISSUER = "https://tavus-issuer.example"
SUBJECT = "tavus-recording-writer"
AUDIENCE = "api://AzureADTokenExchange"


def role_id(guid: str, subscription: str = SUB) -> str:
    return f"/subscriptions/{subscription}/providers/Microsoft.Authorization/roleDefinitions/{guid}"


CONTRIBUTOR = role_id(BDC)
OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
AZ_CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
UAA = "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9"
MIO = "f1a07417-d97a-45cb-824c-7a7467783830"
MIC = "e40ec5ca-96e0-45a2-b4ff-59039f2c2b59"
BLOB_OWNER = "b7e6dc6d-f1e8-4753-8033-0f276bb0955b"
BLOB_READER = "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"
ACCOUNT_CONTRIBUTOR = "17d1049b-9a84-46fb-8f53-869881c3d3ab"
QUEUE_CONTRIBUTOR = "974c5e8b-45b9-4653-ba55-5f855dd0fb88"
CUSTOM = "5a5a5a5a-0000-4000-8000-000000000001"
BLOBS = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs"

HARDENED_ACCOUNT = {
    "allowSharedKeyAccess": False,
    "allowBlobPublicAccess": False,
    "enableHttpsTrafficOnly": True,
    "minimumTlsVersion": "TLS1_2",
}
CREDENTIAL = {"issuer": ISSUER, "subject": SUBJECT, "audiences": [AUDIENCE]}
TOKEN_CONFIG = {"azure.identity.federation": {"issuer": ISSUER, "subject": SUBJECT, "audience": AUDIENCE}}

# policy -> (type, passing props, violating props, props with the checked value unknown)
RESOURCE_CASES: list[tuple[str, str, dict, dict, dict]] = [
    ("azure.identity.federation", FIC, CREDENTIAL, {**CREDENTIAL, "subject": ""}, {**CREDENTIAL, "subject": UNKNOWN}),
    ("azure.container.public_access", CONTAINER_TYPE, {"publicAccess": "None"}, {"publicAccess": "Blob"}, {"publicAccess": UNKNOWN}),
    ("azure.account.public_access", ACCOUNT, HARDENED_ACCOUNT,
     {**HARDENED_ACCOUNT, "allowBlobPublicAccess": True}, {**HARDENED_ACCOUNT, "allowBlobPublicAccess": UNKNOWN_BOOLEAN_VALUE}),
    ("azure.account.shared_key", ACCOUNT, HARDENED_ACCOUNT,
     {k: v for k, v in HARDENED_ACCOUNT.items() if k != "allowSharedKeyAccess"},
     {**HARDENED_ACCOUNT, "allowSharedKeyAccess": UNKNOWN_BOOLEAN_VALUE}),
    ("azure.account.https_only", ACCOUNT, HARDENED_ACCOUNT, {**HARDENED_ACCOUNT, "enableHttpsTrafficOnly": False},
     {**HARDENED_ACCOUNT, "enableHttpsTrafficOnly": UNKNOWN_BOOLEAN_VALUE}),
    ("azure.account.tls", ACCOUNT, HARDENED_ACCOUNT, {**HARDENED_ACCOUNT, "minimumTlsVersion": "TLS1_0"},
     {**HARDENED_ACCOUNT, "minimumTlsVersion": UNKNOWN}),
]


@pytest.mark.parametrize("policy, type_, passing, violating, unknown", RESOURCE_CASES, ids=[c[0] for c in RESOURCE_CASES])
def test_resource_policy_passes_reports_and_waits_for_unknowns(policy, type_, passing, violating, unknown):
    assert_resource_case(policy, type_, passing, violating, unknown)


def test_versioned_azure_native_tokens_are_judged_alike():
    only(analyze("azure-native:storage/v20230101:StorageAccount", {**HARDENED_ACCOUNT, "minimumTlsVersion": "TLS1_1"}),
         "azure.account.tls")
    only(analyze("azure-native:managedidentity/v20230131:FederatedIdentityCredential", {**CREDENTIAL, "issuer": "http://x.example"}),
         "azure.identity.federation")


def test_an_empty_storage_account_fails_every_account_policy_but_https():
    # HTTPS only is Azure's default; public blob access, shared keys and TLS are not pinned by absence.
    assert policies_reported(analyze(ACCOUNT, {})) == {
        "azure.account.public_access",
        "azure.account.shared_key",
        "azure.account.tls",
    }


# --- one credential: who can sign in as the identity

CREDENTIAL_ATTACKS = {
    "http issuer": {"issuer": "http://tavus-issuer.example"},
    "upper-case scheme": {"issuer": "HTTPS://tavus-issuer.example"},
    "user info before the host": {"issuer": "https://tavus-issuer.example@attacker.example"},
    "user info with a password": {"issuer": "https://tavus:x@attacker.example/"},
    "query": {"issuer": "https://tavus-issuer.example/?iss=attacker"},
    "fragment": {"issuer": "https://tavus-issuer.example/#x"},
    "no host": {"issuer": "https:///path"},
    "wildcard host": {"issuer": "https://*.example"},
    "whitespace in issuer": {"issuer": " https://tavus-issuer.example"},
    "no issuer": {"issuer": None},
    "empty subject": {"subject": ""},
    "blank subject": {"subject": "   "},
    "no subject": {"subject": None},
    "wildcard subject": {"subject": "*"},
    "subject with a wildcard": {"subject": "repo:acme/*"},
    "subject with trailing space": {"subject": f"{SUBJECT} "},
    "flexible credential": {"subject": None, "claimsMatchingExpression": {"value": "claims['sub'] matches '*'", "languageVersion": 1}},
    "expression beside a subject": {"claimsMatchingExpression": {"value": "claims['sub'] matches 'x*'", "languageVersion": 1}},
    "two audiences": {"audiences": [AUDIENCE, "api://other"]},
    "no audience": {"audiences": []},
    "empty audience": {"audiences": [""]},
    "audience as a bare string": {"audiences": None},
}


@pytest.mark.parametrize("change", CREDENTIAL_ATTACKS.values(), ids=CREDENTIAL_ATTACKS.keys())
def test_a_credential_that_admits_more_than_one_token_is_stopped_before_it_is_created(change):
    props = {k: v for k, v in {**CREDENTIAL, **change}.items() if v is not None}
    diagnostics = analyze(FIC, props)
    assert policies_reported(diagnostics) == {"azure.identity.federation"}, diagnostics
    assert all(d.level == "mandatory" for d in diagnostics)


CONFIGURED_MISMATCHES = {
    "another issuer": {"issuer": "https://issuer.attacker.example"},
    "issuer with a trailing slash": {"issuer": f"{ISSUER}/"},
    "issuer in another case": {"issuer": ISSUER.upper().replace("HTTPS", "https")},
    "another subject": {"subject": "someone-else"},
    "subject in another case": {"subject": SUBJECT.upper()},
    "another audience": {"audiences": ["api://other"]},
}


@pytest.mark.parametrize("change", CONFIGURED_MISMATCHES.values(), ids=CONFIGURED_MISMATCHES.keys())
def test_a_configured_token_must_be_matched_exactly(change):
    props = {**CREDENTIAL, **change}
    assert analyze(FIC, props) == []  # unconfigured: any one https issuer and exact subject
    only(analyze(FIC, props, config=TOKEN_CONFIG), "azure.identity.federation")


@pytest.mark.parametrize("props", [
    CREDENTIAL,
    {**CREDENTIAL, "issuer": "https://login.tavus.example:8443/oidc/v1"},
    {**CREDENTIAL, "subject": "system:serviceaccount:recorder:writer"},
    {**CREDENTIAL, "issuer": "https://token.actions.githubusercontent.com", "subject": "repo:acme/app:ref:refs/heads/main"},
], ids=["the kit's", "path and port", "colons in the subject", "another exact issuer"])
def test_exact_credentials_pass(props):
    assert analyze(FIC, props) == []


def test_unknown_credential_values_wait():
    assert analyze(FIC, {"issuer": UNKNOWN, "subject": UNKNOWN, "audiences": UNKNOWN_ARRAY_VALUE,
                         "claimsMatchingExpression": UNKNOWN_OBJECT_VALUE}) == []


# --- a whole stack: the kit's, and what an attacker adds to it


def kit(retention: Optional[int] = 365, component: bool = True) -> list[Resource]:
    """What AzureBlobRecordingStorage registers, with the outputs a deploy gives."""
    rules = management_policy("recordings", 30, retention)["rules"]
    resources = [
        Resource(GROUP, "rg", {"name": "media"}),
        Resource(ACCOUNT, "acct", {**HARDENED_ACCOUNT, "name": "acmerecordings", "resourceGroupName": "media"}),
        Resource(CONTAINER_TYPE, "container", {"accountName": "acmerecordings", "containerName": "recordings",
                                               "resourceGroupName": "media", "publicAccess": "None", "name": "recordings"}),
        Resource(LIFECYCLE, "lifecycle", {"accountName": "acmerecordings", "resourceGroupName": "media", "managementPolicyName": "default",
                                          "policy": {"rules": _camel(rules)}}),
        Resource(IDENTITY, "writer", {"name": "tavus-writer", "resourceGroupName": "media", "principalId": PRINCIPAL,
                                      "clientId": "8d3c2b1a-6f5e-4d3c-8b2a-1f0e9d8c7b6a"}),
        Resource(FIC, "tavus", {"resourceName": "tavus-writer", "resourceGroupName": "media", **CREDENTIAL}),
        Resource(ROLE_ASSIGNMENT, "blob-contributor", {"principalId": PRINCIPAL, "principalType": "ServicePrincipal",
                                                       "roleDefinitionId": CONTRIBUTOR, "scope": CONTAINER_ID}),
    ]
    if component:
        resources.append(Resource(COMPONENT, "tavus-recordings", {"storage_account": "acmerecordings", "container_id": CONTAINER_ID,
                                                                  "retentionDays": retention}))
    return resources


def _camel(value: Any) -> Any:
    """The component's snake_case args as the engine's camelCase props."""
    if isinstance(value, dict):
        return {"".join(w.capitalize() if i else w for i, w in enumerate(k.split("_"))): _camel(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_camel(v) for v in value]
    return value


def preview_kit() -> list[Resource]:
    """The kit at its first preview: ids and principal unknown, references by dependency."""
    return [
        Resource(GROUP, "rg", {"name": UNKNOWN}),
        Resource(ACCOUNT, "acct", {**HARDENED_ACCOUNT, "resourceGroupName": UNKNOWN}, {"resourceGroupName": ["rg"]}),
        Resource(CONTAINER_TYPE, "container", {"accountName": UNKNOWN, "containerName": "recordings", "resourceGroupName": UNKNOWN,
                                               "publicAccess": "None"}, {"accountName": ["acct"], "resourceGroupName": ["rg"]}),
        Resource(LIFECYCLE, "lifecycle", {"accountName": UNKNOWN, "resourceGroupName": UNKNOWN,
                                          "policy": {"rules": _camel(management_policy("recordings", 30, 365)["rules"])}},
                 {"accountName": ["acct"]}),
        Resource(IDENTITY, "writer", {"resourceGroupName": UNKNOWN}, {"resourceGroupName": ["rg"]}),
        Resource(FIC, "tavus", {"resourceName": UNKNOWN, "resourceGroupName": UNKNOWN, **CREDENTIAL},
                 {"resourceName": ["writer"], "resourceGroupName": ["rg"]}),
        Resource(ROLE_ASSIGNMENT, "blob-contributor", {"principalId": UNKNOWN, "roleDefinitionId": CONTRIBUTOR, "scope": UNKNOWN},
                 {"principalId": ["writer"], "scope": ["container"]}),
        Resource(COMPONENT, "tavus-recordings", {"storage_account": UNKNOWN, "container_id": UNKNOWN, "retentionDays": 365}),
    ]


def grant(name: str, role: str, scope: Any, principal: Any = PRINCIPAL, deps: Optional[dict] = None) -> Resource:
    return Resource(ROLE_ASSIGNMENT, name, {"principalId": principal, "roleDefinitionId": role, "scope": scope}, deps or {})


def custom_role(name: str, guid: str, actions: Sequence[str] = (), data_actions: Sequence[str] = ()) -> Resource:
    return Resource(ROLE_DEFINITION, name, {"name": guid, "roleName": name, "scope": f"/subscriptions/{SUB}",
                                            "permissions": [{"actions": list(actions), "dataActions": list(data_actions)}]})


def stack_diagnostics(extra: list[Resource], base: Optional[list[Resource]] = None, config: Optional[dict] = None,
                      drop: tuple[str, ...] = ()) -> list[Diagnostic]:
    resources = [r for r in copy.deepcopy(base if base is not None else kit()) if r.name not in drop] + extra
    return analyze_stack(resources, config)


def test_the_kits_stack_passes_after_deploy_and_at_its_first_preview():
    assert stack_diagnostics([]) == []
    assert stack_diagnostics([], kit(retention=None)) == []
    assert stack_diagnostics([], preview_kit()) == []


# (what is added to the kit's stack, the one policy that must report it)
STACK_ATTACKS: dict[str, tuple[list[Resource], Union[str, set[str]]]] = {
    # who can sign in as the identity
    "a second credential, by name": ([Resource(FIC, "backdoor", {"resourceName": "tavus-writer", "resourceGroupName": "media",
                                                                "issuer": "https://token.actions.githubusercontent.com",
                                                                "subject": "repo:acme/app:ref:refs/heads/main", "audiences": [AUDIENCE]})],
                                     "azure.identity.federation.stack"),
    "a second credential, name in another case": ([Resource(FIC, "backdoor", {"resourceName": "TAVUS-WRITER", "resourceGroupName": "Media",
                                                                             **CREDENTIAL, "subject": "other"})],
                                                  "azure.identity.federation.stack"),
    "a second credential, by reference": ([Resource(FIC, "backdoor", {"resourceName": UNKNOWN, **CREDENTIAL, "subject": "other"},
                                                    {"resourceName": ["writer"]})], "azure.identity.federation.stack"),
    # who else can act as the identity
    "Managed Identity Operator on the identity": ([grant("op", MIO, IDENTITY_ID, STRANGER)], "azure.identity.operators"),
    "Managed Identity Operator, full role id": ([grant("op", role_id(MIO).upper(), IDENTITY_ID.lower(), STRANGER)],
                                                "azure.identity.operators"),
    "Managed Identity Contributor on its group": ([grant("op", MIC, RG, STRANGER)], "azure.identity.operators"),
    # The kit's identity and account share a group: its Owner can act as the identity and list the account's keys.
    "Owner on the identity's group": ([grant("op", OWNER, RG, STRANGER)], {"azure.identity.operators", "azure.container.access"}),
    "User Access Administrator on the identity": ([grant("op", UAA, IDENTITY_ID, STRANGER)], "azure.identity.operators"),
    "Managed Identity Operator on the subscription": ([grant("op", MIO, f"/subscriptions/{SUB}", STRANGER)], "azure.identity.operators"),
    "Managed Identity Contributor at a management group": ([grant("op", MIC, "/providers/Microsoft.Management/managementGroups/corp",
                                                                  STRANGER)], "azure.identity.operators"),
    "a custom identity-only role on the subscription": (
        [custom_role("id-admin", CUSTOM, ["Microsoft.ManagedIdentity/*"]), grant("op", role_id(CUSTOM), f"/subscriptions/{SUB}", STRANGER)],
        "azure.identity.operators"),
    "Managed Identity Operator by reference to the identity": ([grant("op", MIO, UNKNOWN, STRANGER, {"scope": ["writer"]})],
                                                               "azure.identity.operators"),
    "Managed Identity Operator for the stack's own app": ([Resource(IDENTITY, "app", {"name": "app", "resourceGroupName": "media",
                                                                                      "principalId": APP_PRINCIPAL}),
                                                           grant("op", MIO, IDENTITY_ID, APP_PRINCIPAL)], "azure.identity.operators"),
    "a custom role that writes federated credentials": (
        [custom_role("fic-writer", CUSTOM, ["Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/write"]),
         grant("op", role_id(CUSTOM), RG, STRANGER)], "azure.identity.operators"),
    "a web app that runs as the identity": ([Resource(WEB_APP, "app", {"name": "acme-app", "identity": {
        "type": "UserAssigned", "userAssignedIdentities": {IDENTITY_ID: {}}}})], "azure.identity.operators"),
    "a container app that runs as the identity, by reference": ([Resource("azure-native:app:ContainerApp", "job", {
        "identity": {"type": "UserAssigned", "userAssignedIdentities": [UNKNOWN]}}, {"identity": ["writer"]})], "azure.identity.operators"),
    "Managed Identity Contributor on the identity's credential": ([grant("op", MIC, f"{IDENTITY_ID}/federatedIdentityCredentials/tavus",
                                                                         STRANGER)], "azure.identity.operators"),
    "Managed Identity Contributor on the credential, by reference": ([grant("op", MIC, UNKNOWN, STRANGER, {"scope": ["tavus"]})],
                                                                     "azure.identity.operators"),
    "a role neither built in nor defined, on the identity": ([grant("op", role_id("0d0d0d0d-0000-4000-8000-00000000000d"), IDENTITY_ID,
                                                                    STRANGER)], "azure.identity.operators"),
    "a landing-zone role on the subscription": ([custom_role("lz", CUSTOM, ["Microsoft.Resources/subscriptions/resourceGroups/write",
                                                                            "Microsoft.ManagedIdentity/*"]),
                                                 grant("op", role_id(CUSTOM), f"/subscriptions/{SUB}", STRANGER)], "azure.identity.operators"),
    "Managed Identity Operator through a PIM request": ([Resource(PIM_REQUEST, "op", {"principalId": STRANGER, "roleDefinitionId": role_id(MIO),
                                                                                      "scope": IDENTITY_ID, "requestType": "AdminAssign"})],
                                                        "azure.identity.operators"),
    "Managed Identity Operator through the classic provider": ([Resource(CLASSIC_ASSIGNMENT, "op", {
        "principalId": STRANGER, "roleDefinitionName": "Managed Identity Operator", "scope": IDENTITY_ID})], "azure.identity.operators"),
    # what the identity can do
    "Owner on the container": ([grant("extra", OWNER, CONTAINER_ID)], "azure.identity.role_assignments"),
    "Blob Data Owner on the container": ([grant("extra", BLOB_OWNER, CONTAINER_ID)], "azure.identity.role_assignments"),
    "Blob Data Contributor on the account": ([grant("extra", CONTRIBUTOR, ACCOUNT_ID)], "azure.identity.role_assignments"),
    "Blob Data Contributor on the group, bare GUID": ([grant("extra", BDC.upper(), RG)], "azure.identity.role_assignments"),
    "Blob Data Contributor on the subscription": ([grant("extra", CONTRIBUTOR, f"/subscriptions/{SUB}/")],
                                                  "azure.identity.role_assignments"),
    "Blob Data Contributor at a management group": ([grant("extra", CONTRIBUTOR, "/providers/Microsoft.Management/managementGroups/x")],
                                                    "azure.identity.role_assignments"),
    "Blob Data Contributor on another container": ([grant("extra", CONTRIBUTOR, CONTAINER_ID.replace("recordings", "invoices"))],
                                                   "azure.identity.role_assignments"),
    "Storage Account Contributor on the account": ([grant("extra", ACCOUNT_CONTRIBUTOR, ACCOUNT_ID)], "azure.identity.role_assignments"),
    "Blob Data Reader on another account": ([grant("extra", BLOB_READER, ACCOUNT_ID.replace("acmerecordings", "acmefinance"))],
                                            "azure.identity.role_assignments"),
    "Contributor, principal id in upper case": ([grant("extra", AZ_CONTRIBUTOR, f"/subscriptions/{SUB}", PRINCIPAL.upper())],
                                                "azure.identity.role_assignments"),
    "Owner by reference to the identity": ([grant("extra", OWNER, CONTAINER_ID, UNKNOWN, {"principalId": ["writer"]})],
                                           "azure.identity.role_assignments"),
    "a custom role with wildcard data actions": ([custom_role("all-blobs", CUSTOM, data_actions=[f"{BLOBS}/*"]),
                                                  grant("extra", role_id(CUSTOM), CONTAINER_ID)], "azure.identity.role_assignments"),
    "a custom role with tag writes": ([custom_role("tagger", CUSTOM, data_actions=[f"{BLOBS}/write", f"{BLOBS}/tags/write"]),
                                       grant("extra", role_id(CUSTOM), CONTAINER_ID)], "azure.identity.role_assignments"),
    "a custom role by reference": ([custom_role("all", CUSTOM, ["*"]),
                                    grant("extra", UNKNOWN, CONTAINER_ID, deps={"roleDefinitionId": ["all"]})],
                                   "azure.identity.role_assignments"),
    "a role this stack does not define": ([grant("extra", role_id("0b0b0b0b-0000-4000-8000-00000000000b"), CONTAINER_ID)],
                                          "azure.identity.role_assignments"),
    "a role named, not identified": ([grant("extra", "Storage Blob Data Contributor", CONTAINER_ID)], "azure.identity.role_assignments"),
    "a GUID with a prefix": ([grant("extra", f"xx{BDC}", CONTAINER_ID)], "azure.identity.role_assignments"),
    # who else can reach the recordings
    "a stranger reads the container": ([grant("leak", BLOB_READER, CONTAINER_ID, STRANGER)], "azure.container.access"),
    "a stranger writes the account": ([grant("leak", CONTRIBUTOR, ACCOUNT_ID, STRANGER)], "azure.container.access"),
    "a stranger owns the blobs of the group": ([grant("leak", BLOB_OWNER, RG, STRANGER)], "azure.container.access"),
    "a stranger reads the subscription's blobs": ([grant("leak", BLOB_READER, f"/subscriptions/{SUB}", STRANGER)],
                                                  "azure.container.access"),
    "a stranger owns the account": ([grant("leak", OWNER, ACCOUNT_ID, STRANGER)], "azure.container.access"),
    "a stranger contributes to the account": ([grant("leak", ACCOUNT_CONTRIBUTOR, ACCOUNT_ID, STRANGER)], "azure.container.access"),
    "a stranger with an undefined role": ([grant("leak", "0c0c0c0c-0000-4000-8000-00000000000c", ACCOUNT_ID, STRANGER)],
                                          "azure.container.access"),
    "a stranger by reference to the container": ([grant("leak", BLOB_READER, UNKNOWN, STRANGER, {"scope": ["container"]})],
                                                 "azure.container.access"),
    "a stranger by reference to the resource group": ([grant("leak", BLOB_READER, UNKNOWN, STRANGER, {"scope": ["rg"]})],
                                                      "azure.container.access"),
    "a stranger contributes to the account's group": ([grant("leak", ACCOUNT_CONTRIBUTOR, RG, STRANGER)], "azure.container.access"),
    "a stranger lists account SAS": ([custom_role("sas", CUSTOM, ["Microsoft.Storage/storageAccounts/ListAccountSas/action"]),
                                      grant("leak", role_id(CUSTOM), ACCOUNT_ID, STRANGER)], "azure.container.access"),
    "a stranger made eligible for Blob Data Reader": ([Resource(PIM_ELIGIBLE, "leak", {"principalId": STRANGER, "roleDefinitionId": role_id(BLOB_READER),
                                                                                       "scope": CONTAINER_ID, "requestType": "AdminAssign"})],
                                                      "azure.container.access"),
    "a second identity with a federated credential writes the container": (
        [Resource(IDENTITY, "shadow", {"name": "shadow", "resourceGroupName": "ops", "principalId": APP_PRINCIPAL}),
         Resource(FIC, "shadow-fic", {"resourceName": "shadow", "resourceGroupName": "ops", **CREDENTIAL, "issuer": "https://issuer.attacker.example"}),
         grant("shadow-writes", CONTRIBUTOR, CONTAINER_ID, APP_PRINCIPAL)], "azure.container.access"),
    "Tavus's identity in an Entra group with Contributor elsewhere": (
        [Resource("azuread:index/groupMember:GroupMember", "member", {"groupObjectId": UNKNOWN, "memberObjectId": PRINCIPAL},
                  {"groupObjectId": ["admins"]}),
         Resource("azuread:index/group:Group", "admins", {"objectId": UNKNOWN}),
         grant("ops", AZ_CONTRIBUTOR, RG.replace("media", "ops"), UNKNOWN, {"principalId": ["admins"]})], "azure.identity.role_assignments"),
    # that recordings last
    "base blobs deleted after 30 days": ([], "azure.account.lifecycle"),
    # where copies go
    "replication to a foreign account by name": ([Resource(REPLICATION, "copy", {
        "accountName": "acmerecordings", "sourceAccount": "acmerecordings", "destinationAccount": "attackerstore",
        "rules": [{"sourceContainer": "recordings", "destinationContainer": "loot"}]})], "azure.account.replication"),
    "replication to a foreign account by id": ([Resource(REPLICATION, "copy", {
        "accountName": "acmerecordings", "sourceAccount": ACCOUNT_ID,
        "destinationAccount": "/subscriptions/0000/resourceGroups/x/providers/Microsoft.Storage/storageAccounts/attackerstore",
        "rules": [{"sourceContainer": "recordings", "destinationContainer": "loot"}]})], "azure.account.replication"),
    "replication, source by reference": ([Resource(REPLICATION, "copy", {
        "accountName": UNKNOWN, "sourceAccount": UNKNOWN, "destinationAccount": "attackerstore",
        "rules": [{"sourceContainer": "recordings", "destinationContainer": "loot"}]}, {"sourceAccount": ["acct"]})],
        "azure.account.replication"),
}


def _short_lifecycle(resources: list[Resource]) -> None:
    (policy,) = [r for r in resources if r.type == LIFECYCLE]
    for rule in policy.props["policy"]["rules"]:
        if "baseBlob" in rule["definition"]["actions"]:
            rule["definition"]["actions"]["baseBlob"]["delete"] = {"daysAfterModificationGreaterThan": 30}


@pytest.mark.parametrize("name", STACK_ATTACKS)
def test_each_attack_on_the_stack_is_reported_by_exactly_its_policy(name):
    extra, policy = STACK_ATTACKS[name]
    base = kit()
    if name == "base blobs deleted after 30 days":
        _short_lifecycle(base)
    diagnostics = stack_diagnostics(extra, base)
    assert policies_reported(diagnostics) == ({policy} if isinstance(policy, str) else policy), diagnostics
    reported = {d.urn for d in diagnostics}
    # Reported on what was added (or the identity it is about), never only in general.
    assert reported and all(urn for urn in reported)
    assert all(d.level == "mandatory" for d in diagnostics)


def test_an_extra_blob_reader_on_the_container_is_only_advisory():
    for scope in (CONTAINER_ID, CONTAINER_ID.upper().replace("/SUBSCRIPTIONS/", "/subscriptions/")):
        diagnostic = only(stack_diagnostics([grant("reader", BLOB_READER, scope)]), "azure.identity.least_privilege")
        assert diagnostic.level == "advisory"


SAFE_VARIANTS: dict[str, list[Resource]] = {
    "Blob Data Contributor as a bare GUID, split in another case": [grant("again", BDC.upper(), CONTAINER_ID.lower() + "/")],
    "versioned role assignment token": [Resource("azure-native:authorization/v20220401:RoleAssignment", "again",
                                                 {"principalId": PRINCIPAL, "roleDefinitionId": BDC, "scope": CONTAINER_ID})],
    "a custom role within Blob Data Contributor": [custom_role("writer-only", CUSTOM, [], [f"{BLOBS}/write", f"{BLOBS}/add/action"]),
                                                   grant("again", role_id(CUSTOM), CONTAINER_ID)],
    "an app identity without a credential, reading the container": [
        Resource(IDENTITY, "app", {"name": "app", "resourceGroupName": "media", "principalId": APP_PRINCIPAL}),
        grant("app-reads", BLOB_READER, CONTAINER_ID, APP_PRINCIPAL)],
    "an app identity by reference, owning the account": [
        Resource(IDENTITY, "app", {"name": "app", "resourceGroupName": "media", "principalId": UNKNOWN}),
        grant("app-owns", BLOB_OWNER, ACCOUNT_ID, UNKNOWN, {"principalId": ["app"]})],
    "a stranger with Reader on the account": [grant("look", READER, ACCOUNT_ID, STRANGER)],
    "a stranger with queue data on the account": [grant("queue", QUEUE_CONTRIBUTOR, ACCOUNT_ID, STRANGER)],
    "a stranger owning another account": [grant("other", BLOB_OWNER, ACCOUNT_ID.replace("acmerecordings", "acmefinance"), STRANGER)],
    "a stranger reading another container": [grant("other", BLOB_READER, CONTAINER_ID.replace("recordings", "invoices"), STRANGER)],
    "Managed Identity Operator on another identity": [grant("op", MIO, IDENTITY_ID.replace("tavus-writer", "app"), STRANGER)],
    "Managed Identity Operator in another group": [grant("op", MIO, RG.replace("media", "ops"), STRANGER)],
    "Reader over the identity's group": [grant("op", READER, RG, STRANGER)],
    # Every subscription has administrators; they administer every identity in it and are listed, not failed.
    "Owner on the subscription": [grant("op", OWNER, f"/subscriptions/{SUB}", STRANGER)],
    "User Access Administrator at a management group": [grant("op", UAA, "/providers/Microsoft.Management/managementGroups/corp", STRANGER)],
    "a custom '*' role at the tenant root": [custom_role("everything", CUSTOM, ["*"]), grant("op", role_id(CUSTOM), "/", STRANGER)],
    "a web app that runs as another identity": [Resource(WEB_APP, "app", {"identity": {
        "type": "UserAssigned", "userAssignedIdentities": [IDENTITY_ID.replace("tavus-writer", "app")]}})],
    "a PIM request that removes a role": [Resource(PIM_REQUEST, "op", {"principalId": STRANGER, "roleDefinitionId": role_id(OWNER), "scope": RG,
                                                                       "requestType": "AdminRemove"})],
    "a stranger with Monitoring Reader on the identity's group": [grant("look", "43d0d8ad-25c7-4714-9337-8ba259a9fe05", RG, STRANGER)],
    "a credential on another identity": [Resource(FIC, "ci", {"resourceName": "deployer", "resourceGroupName": "media", **CREDENTIAL})],
    "versions and snapshots expire": [Resource(LIFECYCLE, "more", {"accountName": "acmerecordings", "policy": {"rules": [
        {"name": "v", "enabled": True, "type": "Lifecycle", "definition": {"actions": {
            "version": {"delete": {"daysAfterCreationGreaterThan": 1}}, "snapshot": {"delete": {"daysAfterCreationGreaterThan": 1}}}}}]}})],
    "a disabled base blob deletion": [Resource(LIFECYCLE, "more", {"accountName": "acmerecordings", "policy": {"rules": [
        {"name": "off", "enabled": False, "type": "Lifecycle", "definition": {"actions": {
            "baseBlob": {"delete": {"daysAfterModificationGreaterThan": 1}}}}}]}})],
    "base blobs of another container": [Resource(LIFECYCLE, "more", {"accountName": "acmerecordings", "policy": {"rules": [
        {"name": "logs", "enabled": True, "type": "Lifecycle", "definition": {"filters": {"prefixMatch": ["logs/"]}, "actions": {
            "baseBlob": {"delete": {"daysAfterModificationGreaterThan": 1}}}}}]}})],
    "base blobs of another account": [Resource(LIFECYCLE, "more", {"accountName": "acmelogs", "policy": {"rules": [
        {"name": "logs", "enabled": True, "type": "Lifecycle", "definition": {"actions": {
            "baseBlob": {"delete": {"daysAfterModificationGreaterThan": 1}}}}}]}})],
    "replication to an account of the stack": [
        Resource(ACCOUNT, "backup", {**HARDENED_ACCOUNT, "name": "acmebackup"}),
        Resource(REPLICATION, "copy", {"accountName": "acmerecordings", "sourceAccount": "acmerecordings", "destinationAccount": UNKNOWN,
                                       "rules": [{"sourceContainer": "recordings", "destinationContainer": "r"}]},
                 {"destinationAccount": ["backup"]})],
    "replication of another container": [Resource(REPLICATION, "copy", {
        "accountName": "acmerecordings", "sourceAccount": "acmerecordings", "destinationAccount": "attackerstore",
        "rules": [{"sourceContainer": "logs", "destinationContainer": "l"}]})],
    "replication into the recordings account": [Resource(REPLICATION, "copy", {
        "accountName": "acmerecordings", "sourceAccount": "acmeupstream", "destinationAccount": "acmerecordings",
        "rules": [{"sourceContainer": "recordings", "destinationContainer": "recordings"}]})],
}


@pytest.mark.parametrize("name", SAFE_VARIANTS)
def test_safe_variants_are_not_reported(name):
    assert stack_diagnostics(SAFE_VARIANTS[name]) == []


def test_replication_to_an_account_listed_in_own_accounts_passes():
    copy_ = Resource(REPLICATION, "copy", {"accountName": "acmerecordings", "sourceAccount": "acmerecordings",
                                           "destinationAccount": "/subscriptions/0000/resourceGroups/dr/providers/Microsoft.Storage/"
                                                                 "storageAccounts/acmedr",
                                           "rules": [{"sourceContainer": "recordings", "destinationContainer": "r"}]})
    only(stack_diagnostics([copy_]), "azure.account.replication")
    assert stack_diagnostics([copy_], config={"azure.account.replication": {"ownAccounts": ["acmedr"]}}) == []


def test_the_lifecycle_is_held_to_the_components_retention_else_the_configured_one():
    short = kit(retention=365)
    _short_lifecycle(short)
    # Without the component, the pack's configured retention decides, and none means keep.
    bare = [r for r in short if r.type != COMPONENT]
    only(stack_diagnostics([], bare), "azure.account.lifecycle")
    only(stack_diagnostics([], bare, config={"azure.account.lifecycle": {"retentionDays": 90}}), "azure.account.lifecycle")
    assert stack_diagnostics([], bare, config={"azure.account.lifecycle": {"retentionDays": 30}}) == []
    # The kit's own rule at the component's retention passes; one day sooner does not.
    assert stack_diagnostics([], kit(retention=30)) == []
    sooner = kit(retention=30)
    _short_lifecycle(sooner)
    (policy,) = [r for r in sooner if r.type == LIFECYCLE]
    rule = next(r for r in policy.props["policy"]["rules"] if "baseBlob" in r["definition"]["actions"])
    rule["definition"]["actions"]["baseBlob"]["delete"] = {"daysAfterLastAccessTimeGreaterThan": 29}
    only(stack_diagnostics([], sooner), "azure.account.lifecycle")


@pytest.mark.parametrize("delete", [{"daysAfterCreationGreaterThan": 1}, {"daysAfterLastAccessTimeGreaterThan": 7},
                                    {"daysAfterModificationGreaterThan": 0}, {"somethingNew": 3}],
                         ids=["creation", "last access", "zero days", "unreadable"])
def test_every_spelling_of_deleting_base_blobs_is_reported(delete):
    extra = Resource(LIFECYCLE, "more", {"accountName": "acmerecordings", "policy": {"rules": [
        {"name": "purge", "type": "Lifecycle", "definition": {"filters": {"prefixMatch": ["rec"], "blobTypes": ["blockBlob"]},
                                                              "actions": {"baseBlob": {"delete": delete}}}}]}})
    only(stack_diagnostics([extra]), "azure.account.lifecycle")


def test_unknown_values_in_a_preview_are_never_violations():
    unknown_grant = grant("later", UNKNOWN, UNKNOWN, UNKNOWN)
    unknown_credential = Resource(FIC, "later", {"resourceName": UNKNOWN, "issuer": UNKNOWN, "subject": UNKNOWN, "audiences": UNKNOWN})
    unknown_policy = Resource(LIFECYCLE, "later", {"accountName": "acmerecordings", "policy": UNKNOWN})
    assert stack_diagnostics([unknown_grant, unknown_credential, unknown_policy]) == []
    assert stack_diagnostics([unknown_grant, unknown_policy], preview_kit()) == []


@pytest.mark.parametrize("name", ["Owner by reference to the identity", "Managed Identity Operator by reference to the identity",
                                  "a stranger by reference to the container"])
def test_attacks_by_reference_are_caught_at_the_first_preview(name):
    extra, policy = STACK_ATTACKS[name]
    # In a preview the identity's principal is unknown: only the dependency names it.
    only(stack_diagnostics(extra, preview_kit()), policy)


PREVIEW_ATTACKS: dict[str, tuple[list[Resource], str]] = {
    "Tavus's grant by reference to the account": ([grant("wide", BDC, UNKNOWN, UNKNOWN, {"principalId": ["writer"], "scope": ["acct"]})],
                                                  "azure.identity.role_assignments"),
    "Tavus's Owner by reference to the group": ([grant("wide", OWNER, UNKNOWN, UNKNOWN, {"principalId": ["writer"], "scope": ["rg"]})],
                                                "azure.identity.role_assignments"),
    "a stranger at the tenant root": ([grant("leak", BLOB_OWNER, "/", STRANGER)], "azure.container.access"),
    "a stranger at a management group": ([grant("leak", BLOB_READER, "/providers/Microsoft.Management/managementGroups/corp", STRANGER)],
                                         "azure.container.access"),
    "a stranger by reference to the group": ([grant("leak", BLOB_READER, UNKNOWN, STRANGER, {"scope": ["rg"]})], "azure.container.access"),
    "a deleting rule whose name is unknown": ([Resource(LIFECYCLE, "purge", {"accountName": UNKNOWN, "policy": {"rules": [
        {"name": UNKNOWN, "enabled": True, "type": "Lifecycle", "definition": {"actions": {"baseBlob": {"delete": {
            "daysAfterModificationGreaterThan": 1}}}}}]}}, {"accountName": ["acct"]})], "azure.account.lifecycle"),
}


@pytest.mark.parametrize("name", PREVIEW_ATTACKS)
def test_what_the_engine_ties_by_dependency_is_judged_at_the_first_preview(name):
    extra, policy = PREVIEW_ATTACKS[name]
    only(stack_diagnostics(extra, preview_kit()), policy)


@pytest.mark.parametrize("extra", [
    [grant("ci", OWNER, RG.replace("media", "ops"), STRANGER)],
    [grant("ci", MIO, IDENTITY_ID.replace("media", "ops").replace("tavus-writer", "app"), STRANGER)],
    [grant("ci", MIC, RG.replace("media", "ops") + "/", STRANGER)],
], ids=["Owner on group ops", "MIO on another identity in ops", "MIC on group ops"])
def test_while_the_identitys_group_is_unknown_an_unrelated_group_is_no_violation(extra):
    assert stack_diagnostics(extra, preview_kit()) == []
    # Once the group it depends on is named, a grant on that group counts.
    named = preview_kit()
    next(r for r in named if r.name == "rg").props["name"] = "ops"
    only(stack_diagnostics(extra, named), "azure.identity.operators")


def test_a_finding_on_an_identity_says_how_to_keep_another_federated_identity_out_of_the_pack():
    deployer = [Resource(IDENTITY, "deployer", {"name": "deployer", "resourceGroupName": "ops", "principalId": APP_PRINCIPAL}),
                Resource(FIC, "deployer-fic", {"resourceName": "deployer", "resourceGroupName": "ops", **CREDENTIAL,
                                               "issuer": "https://token.actions.githubusercontent.com", "subject": "repo:acme/infra"}),
                grant("deploy", AZ_CONTRIBUTOR, RG.replace("media", "ops"), APP_PRINCIPAL)]
    diagnostic = only(stack_diagnostics(deployer), "azure.identity.role_assignments")
    assert "separate stack, or disable this policy for this stack" in diagnostic.message
    configured = analyze(FIC, deployer[1].props, config=TOKEN_CONFIG)
    assert configured and all("separate stack" in d.message for d in configured)


def test_messages_name_the_resource_the_role_and_the_scope():
    diagnostic = only(stack_diagnostics([grant("extra", OWNER, f"/subscriptions/{SUB}")]), "azure.identity.role_assignments")
    assert f"'extra' ({ROLE_ASSIGNMENT}" in diagnostic.message
    assert f"Owner ({OWNER}) at subscription {SUB}" in diagnostic.message
    assert "Fix: " in diagnostic.message


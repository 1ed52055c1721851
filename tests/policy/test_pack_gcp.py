"""The pack's Google Cloud policies, called as the engine calls them, by an attacker: each attack in
several spellings must be reported by its policy, before the resource is created where one resource
shows it; the safe look-alikes and the kit's own shape must pass; values the engine does not know
yet are never a violation."""

import json
from typing import Any, Optional

import pytest
from pulumi.runtime import proto
from pulumi_policy.proxy import UNKNOWN_ARRAY_VALUE, UNKNOWN_BOOLEAN_VALUE

from components import gcp_policy
from google.protobuf import empty_pb2
from tavus_recording.rules import gcp as rules
from pack_harness import (
    UNKNOWN,
    Diagnostic,
    Resource,
    _diagnostics,
    _struct,
    analyze,
    analyze_stack,
    assert_resource_case,
    only,
    policies_reported,
    servicer,
)

GCS_BUCKET = "gcp:storage/bucket:Bucket"
WIP = "gcp:iam/workloadIdentityPool:WorkloadIdentityPool"
WIP_PROVIDER = "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider"
ACCOUNT = "gcp:serviceaccount/account:Account"
SA_MEMBER = "gcp:serviceaccount/iAMMember:IAMMember"
SA_BINDING = "gcp:serviceaccount/iAMBinding:IAMBinding"
SA_POLICY = "gcp:serviceaccount/iAMPolicy:IAMPolicy"
PROJECT_MEMBER = "gcp:projects/iAMMember:IAMMember"
PROJECT_BINDING = "gcp:projects/iAMBinding:IAMBinding"
PROJECT_POLICY = "gcp:projects/iAMPolicy:IAMPolicy"
BUCKET_MEMBER = "gcp:storage/bucketIAMMember:BucketIAMMember"
BUCKET_BINDING = "gcp:storage/bucketIAMBinding:BucketIAMBinding"
BUCKET_POLICY = "gcp:storage/bucketIAMPolicy:BucketIAMPolicy"
KEY = "gcp:serviceaccount/key:Key"
HMAC_KEY = "gcp:storage/hmacKey:HmacKey"
TRANSFER_JOB = "gcp:storage/transferJob:TransferJob"
CUSTOM_ROLE = "gcp:projects/iAMCustomRole:IAMCustomRole"
FOLDER_MEMBER = "gcp:storage/managedFolderIamMember:ManagedFolderIamMember"
FOLDER_POLICY = "gcp:storage/managedFolderIamPolicy:ManagedFolderIamPolicy"
POOL_MEMBER = "gcp:iam/workloadIdentityPoolIamMember:WorkloadIdentityPoolIamMember"
BUCKET_ACL = "gcp:storage/bucketACL:BucketACL"
BATCH_JOB = "gcp:storage/batchOperationsJob:BatchOperationsJob"
COMPONENT = "tavus-recording:index:GcsRecordingStorage"

WI_USER = gcp_policy.IMPERSONATION_ROLE
CREATOR = gcp_policy.WRITER_ROLE
SUBJECT = "tavus-recording-writer"
PROJECT = "acme-prod"
NUMBER = "428173025661"
POOL_NAME = f"projects/{NUMBER}/locations/global/workloadIdentityPools/tavus"
PRINCIPAL = gcp_policy.workload_principal(POOL_NAME, SUBJECT)
PRINCIPAL_SET = f"principalSet://iam.googleapis.com/{POOL_NAME}/*"
WRITER_EMAIL = f"writer@{PROJECT}.iam.gserviceaccount.com"
WRITER_NAME = f"projects/{PROJECT}/serviceAccounts/{WRITER_EMAIL}"
WRITER = f"serviceAccount:{WRITER_EMAIL}"
BUCKET = "acme-recordings"
FOREIGN = "serviceAccount:spy@other-proj-42.iam.gserviceaccount.com"
FOREIGN_PRINCIPAL = f"principal://iam.googleapis.com/projects/999999999999/locations/global/workloadIdentityPools/evil/subject/{SUBJECT}"
OIDC = {"issuerUri": "https://tavus-issuer.example"}
MAPPING = {"google.subject": "assertion.sub"}

IMPERSONATION = "gcs.service_account.impersonation"
IMPERSONATION_STACK = "gcs.service_account.impersonation.stack"
PERMISSIONS = "gcs.service_account.permissions"
PERMISSIONS_STACK = "gcs.service_account.permissions.stack"


def provider(**props: Any) -> dict[str, Any]:
    return {"attributeCondition": gcp_policy.attribute_condition(SUBJECT), "attributeMapping": MAPPING, "oidc": OIDC, **props}


# policy -> (type, passing props, violating props, props with the checked value unknown)
RESOURCE_CASES: list[tuple[str, str, dict, dict, dict]] = [
    ("gcs.provider.condition", WIP_PROVIDER, provider(), provider(attributeCondition=None), provider(attributeCondition=UNKNOWN)),
    ("gcs.provider.issuer", WIP_PROVIDER, provider(), provider(oidc={"issuerUri": "http://tavus-issuer.example"}),
     provider(oidc={"issuerUri": UNKNOWN})),
    ("gcs.provider.mapping", WIP_PROVIDER, provider(), provider(attributeMapping={"google.subject": "assertion.aud"}),
     provider(attributeMapping={"google.subject": UNKNOWN})),
    (IMPERSONATION, SA_BINDING, {"serviceAccountId": WRITER_NAME, "role": WI_USER, "members": [PRINCIPAL]},
     {"serviceAccountId": WRITER_NAME, "role": WI_USER, "members": [PRINCIPAL_SET]},
     {"serviceAccountId": WRITER_NAME, "role": WI_USER, "members": UNKNOWN_ARRAY_VALUE}),
    (PERMISSIONS, BUCKET_MEMBER, {"bucket": BUCKET, "role": CREATOR, "member": WRITER},
     {"bucket": BUCKET, "role": "roles/storage.objectAdmin", "member": PRINCIPAL_SET},
     {"bucket": BUCKET, "role": "roles/storage.objectAdmin", "member": UNKNOWN}),
    ("gcs.bucket.public_access_prevention", GCS_BUCKET,
     {"publicAccessPrevention": "enforced", "uniformBucketLevelAccess": True},
     {"publicAccessPrevention": "inherited", "uniformBucketLevelAccess": True},
     {"publicAccessPrevention": UNKNOWN, "uniformBucketLevelAccess": True}),
    ("gcs.bucket.uniform_access", GCS_BUCKET,
     {"publicAccessPrevention": "enforced", "uniformBucketLevelAccess": True},
     {"publicAccessPrevention": "enforced", "uniformBucketLevelAccess": False},
     {"publicAccessPrevention": "enforced", "uniformBucketLevelAccess": UNKNOWN_BOOLEAN_VALUE}),
    ("gcs.bucket.force_destroy", GCS_BUCKET,
     {"publicAccessPrevention": "enforced", "uniformBucketLevelAccess": True, "forceDestroy": False},
     {"publicAccessPrevention": "enforced", "uniformBucketLevelAccess": True, "forceDestroy": True},
     {"publicAccessPrevention": "enforced", "uniformBucketLevelAccess": True, "forceDestroy": UNKNOWN_BOOLEAN_VALUE}),
]


@pytest.mark.parametrize("policy, type_, passing, violating, unknown", RESOURCE_CASES, ids=[c[0] for c in RESOURCE_CASES])
def test_resource_policy_passes_reports_and_waits_for_unknowns(policy, type_, passing, violating, unknown):
    assert_resource_case(policy, type_, passing, violating, unknown)


# --- the provider, before it is created -----------------------------------------------------------

UNPINNED = [
    "",
    "true",
    "assertion.sub != ''",
    f"assertion.sub == '{SUBJECT}' || true",
    f"(assertion.sub == '{SUBJECT}') || true",
    f"!(assertion.sub != '{SUBJECT}')",
    f"assertion.sub.startsWith('{SUBJECT}')",
    f"assertion.sub in ['{SUBJECT}', 'mallory']",
    f"assertion.sub == '{SUBJECT}' ? true : true",
    f"assertion.aud == '{SUBJECT}'",
    f"assertion.sub == '{SUBJECT}' // || true",
    f"assertion.sub == r'{SUBJECT}'",
]


@pytest.mark.parametrize("condition", UNPINNED)
def test_a_provider_whose_condition_does_not_pin_the_subject_is_refused_before_it_is_created(condition: str):
    message = only(analyze(WIP_PROVIDER, provider(attributeCondition=condition)), "gcs.provider.condition").message
    assert "Fix: set attribute_condition to assertion.sub ==" in message


SAFE_CONDITIONS = [
    f"assertion.sub == '{SUBJECT}'",
    f"assertion['sub'] == \"{SUBJECT}\"",
    f"'{SUBJECT}' == assertion.sub",
    f"assertion.sub == '{SUBJECT}' && assertion.aud == 'tavus'",
    f"(assertion.iss.endsWith('.example') || false) && assertion.sub == '{SUBJECT}'",
    f"google.subject == '{SUBJECT}'",
]


@pytest.mark.parametrize("condition", SAFE_CONDITIONS)
def test_a_condition_that_provably_pins_the_subject_passes_in_any_spelling(condition: str):
    assert analyze(WIP_PROVIDER, provider(attributeCondition=condition)) == []
    assert analyze(WIP_PROVIDER, provider(attributeCondition=condition), config={"gcs.provider.condition": {"subject": SUBJECT}}) == []


def test_a_configured_subject_must_be_the_one_pinned_and_unknown_mappings_wait():
    config = {"gcs.provider.condition": {"subject": SUBJECT}}
    assert "'mallory'" in only(analyze(WIP_PROVIDER, provider(attributeCondition="assertion.sub == 'mallory'"), config=config),
                               "gcs.provider.condition").message
    # google.subject pins only once the mapping says where it comes from.
    waiting = provider(attributeCondition=f"google.subject == '{SUBJECT}'", attributeMapping={"google.subject": UNKNOWN})
    assert analyze(WIP_PROVIDER, waiting) == []


@pytest.mark.parametrize(
    "oidc",
    [{"issuerUri": "http://tavus-issuer.example"}, {"issuerUri": "https://tavus-issuer.example@evil.example"}, {"issuerUri": "https://"},
     {"issuerUri": "https://tavus-issuer.example", "jwksJson": '{"keys": [{"kty": "RSA", "kid": "mallory"}]}'}],
)
def test_an_issuer_that_is_not_plain_https_is_refused(oidc: dict):
    only(analyze(WIP_PROVIDER, provider(oidc=oidc)), "gcs.provider.issuer")


def test_a_configured_issuer_must_be_trusted_exactly_and_providers_must_be_oidc():
    config = {"gcs.provider.issuer": {"issuer": "https://tavus-issuer.example"}}
    assert analyze(WIP_PROVIDER, provider(), config=config) == []
    only(analyze(WIP_PROVIDER, provider(oidc={"issuerUri": "https://token.actions.githubusercontent.com"}), config=config), "gcs.provider.issuer")
    aws = {k: v for k, v in provider().items() if k != "oidc"} | {"aws": {"accountId": "999999999999"}}
    only(analyze(WIP_PROVIDER, aws), "gcs.provider.issuer")


@pytest.mark.parametrize("expression", ["assertion.aud", "'tavus-recording-writer'", "assertion.sub + ''", "assertion.email"])
def test_a_subject_mapped_from_anything_but_the_sub_claim_is_refused(expression: str):
    only(analyze(WIP_PROVIDER, provider(attributeMapping={"google.subject": expression})), "gcs.provider.mapping")


# --- grants one resource shows ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "type_, props",
    [
        (SA_MEMBER, {"serviceAccountId": WRITER_NAME, "role": WI_USER, "member": PRINCIPAL_SET}),
        (SA_MEMBER, {"serviceAccountId": WRITER_NAME, "role": WI_USER, "member": f"principalSet://iam.googleapis.com/{POOL_NAME}/attribute.aud/x"}),
        (SA_MEMBER, {"serviceAccountId": WRITER_NAME, "role": "roles/iam.serviceAccountTokenCreator", "member": PRINCIPAL_SET}),
        (SA_MEMBER, {"serviceAccountId": WRITER_NAME, "role": "roles/iam.serviceAccountTokenCreator", "member": PRINCIPAL}),
        (SA_BINDING, {"serviceAccountId": WRITER_NAME, "role": WI_USER, "members": [PRINCIPAL, "user:mallory@example.com"]}),
        (SA_BINDING, {"serviceAccountId": WRITER_NAME, "role": WI_USER, "members": [PRINCIPAL, PRINCIPAL.replace(SUBJECT, "mallory")]}),
        (SA_POLICY, {"serviceAccountId": WRITER_NAME, "policyData": json.dumps({"bindings": [
            {"role": WI_USER, "members": [PRINCIPAL]}, {"role": "roles/iam.serviceAccountUser", "members": ["group:ops@acme.example"]}]})}),
        (PROJECT_MEMBER, {"project": PROJECT, "role": WI_USER, "member": PRINCIPAL_SET}),
        (PROJECT_BINDING, {"project": PROJECT, "role": "roles/editor", "members": [PRINCIPAL]}),
        (PROJECT_POLICY, {"project": PROJECT, "policyData": json.dumps({"bindings": [{"role": "roles/owner", "members": [PRINCIPAL_SET]}]})}),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_a_pool_reaching_an_account_with_anyone_else_beside_it_is_refused_before_it_is_created(type_: str, props: dict):
    diagnostics = analyze(type_, props)
    assert policies_reported(diagnostics) == {IMPERSONATION} and all(d.level == "mandatory" for d in diagnostics), diagnostics


def test_a_configured_subject_refuses_any_other_single_subject_at_once():
    props = {"serviceAccountId": WRITER_NAME, "role": WI_USER, "member": PRINCIPAL.replace(SUBJECT, "mallory")}
    assert analyze(SA_MEMBER, props) == []  # one subject, unconfigured: judged against the provider and the stack
    only(analyze(SA_MEMBER, props, config={IMPERSONATION: {"subject": SUBJECT}}), IMPERSONATION)
    assert analyze(SA_MEMBER, {**props, "member": PRINCIPAL}, config={IMPERSONATION: {"subject": SUBJECT}}) == []


@pytest.mark.parametrize(
    "type_, props",
    [
        (BUCKET_MEMBER, {"bucket": "any-bucket", "role": "roles/storage.objectAdmin", "member": PRINCIPAL_SET}),
        (BUCKET_BINDING, {"bucket": "any-bucket", "role": "roles/storage.objectViewer", "members": ["user:a@acme.example", PRINCIPAL]}),
        (BUCKET_POLICY, {"bucket": "any-bucket", "policyData": json.dumps({"bindings": [{"role": "roles/storage.admin", "members": [PRINCIPAL_SET]}]})}),
        (PROJECT_MEMBER, {"project": PROJECT, "role": "roles/storage.objectAdmin", "member": PRINCIPAL_SET}),
    ],
    ids=[BUCKET_MEMBER, BUCKET_BINDING, BUCKET_POLICY, PROJECT_MEMBER],
)
def test_a_pools_identities_holding_roles_of_their_own_are_refused_before_they_are_granted(type_: str, props: dict):
    only(analyze(type_, props), PERMISSIONS)


def test_grants_without_a_pool_and_unknown_members_are_for_the_stack_to_judge():
    assert analyze(SA_BINDING, {"serviceAccountId": WRITER_NAME, "role": "roles/iam.serviceAccountUser", "members": ["group:ops@acme.example"]}) == []
    assert analyze(SA_MEMBER, {"serviceAccountId": WRITER_NAME, "role": WI_USER, "member": UNKNOWN}) == []
    assert analyze(SA_POLICY, {"serviceAccountId": WRITER_NAME, "policyData": UNKNOWN}) == []
    assert analyze(PROJECT_MEMBER, {"project": PROJECT, "role": "roles/editor", "member": "group:ops@acme.example"}) == []


# --- the stack -----------------------------------------------------------------------------------------------


def kit_lifecycle() -> list[dict[str, Any]]:
    return [
        {"action": {"type": "Delete"}, "condition": {"daysSinceNoncurrentTime": 30, "withState": "ARCHIVED"}},
        {"action": {"type": "AbortIncompleteMultipartUpload"}, "condition": {"age": 7}},
        {"action": {"type": "Delete"}, "condition": {"age": 365, "withState": "LIVE"}},
    ]


def kit_encryption(key: Optional[str] = None) -> dict[str, Any]:
    """The bucket's encryption as the kit sets it: uploads with a key the writer brings refused; with `key`, that is
    the default and Google-managed keys are refused too (components.gcp_policy.bucket_encryption)."""
    found: dict[str, Any] = {"customerSuppliedEncryptionEnforcementConfig": {"restrictionMode": "FullyRestricted"},
                             "googleManagedEncryptionEnforcementConfig": {"restrictionMode": "FullyRestricted" if key else "NotRestricted"}}
    return {**found, "defaultKmsKeyName": key} if key else found


def kit(*extra: Resource, condition: Optional[str] = None, bucket: Optional[dict[str, Any]] = None,
        component: Optional[dict[str, Any]] = None) -> list[Resource]:
    """What GcsRecordingStorage deploys (its outputs, as a stack policy sees them), and `extra`."""
    return [
        Resource(COMPONENT, "tavus", {"bucket_name": BUCKET, "retentionDays": 365, **(component or {})}),
        Resource(WIP, "pool", {"workloadIdentityPoolId": "tavus", "name": POOL_NAME, "project": PROJECT}),
        Resource(WIP_PROVIDER, "provider", provider(name=f"{POOL_NAME}/providers/tavus", workloadIdentityPoolId="tavus",
                                                    **({"attributeCondition": condition} if condition else {})),
                 {"workloadIdentityPoolId": ["pool"]}),
        Resource(ACCOUNT, "writer", {"accountId": "writer", "email": WRITER_EMAIL, "name": WRITER_NAME, "project": PROJECT,
                                     "member": WRITER, "uniqueId": "104729384756102938475"}),
        Resource(SA_BINDING, "impersonation", {"serviceAccountId": WRITER_NAME, "role": WI_USER, "members": [PRINCIPAL]},
                 {"serviceAccountId": ["writer"], "members": ["pool"]}),
        Resource(GCS_BUCKET, "bucket", {"name": BUCKET, "project": PROJECT, "uniformBucketLevelAccess": True, "publicAccessPrevention": "enforced",
                                        "versioning": {"enabled": True}, "lifecycleRules": kit_lifecycle(), "encryption": kit_encryption(),
                                        **(bucket or {})}),
        Resource(BUCKET_MEMBER, "object-creator", {"bucket": BUCKET, "role": CREATOR, "member": WRITER}, {"bucket": ["bucket"], "member": ["writer"]}),
        *extra,
    ]


def sa_grant(name: str, role: str, member: str, account: str = "writer") -> Resource:
    return Resource(SA_MEMBER, name, {"serviceAccountId": WRITER_NAME if account == "writer" else account, "role": role, "member": member},
                    {"serviceAccountId": [account]} if account == "writer" else {})


def project_grant(name: str, role: str, member: str) -> Resource:
    return Resource(PROJECT_MEMBER, name, {"project": PROJECT, "role": role, "member": member})


def bucket_grant(name: str, role: str, member: str, bucket: str = BUCKET) -> Resource:
    return Resource(BUCKET_MEMBER, name, {"bucket": bucket, "role": role, "member": member})


def reported(diagnostics: list[Diagnostic]) -> dict[str, set[str]]:
    """policy -> the names of the resources it reported."""
    found: dict[str, set[str]] = {}
    for d in diagnostics:
        found.setdefault(d.policy, set()).add(d.urn.rsplit("::", 1)[-1])
    return found


def test_the_kits_own_destination_passes_every_stack_policy():
    assert analyze_stack(kit()) == []
    assert analyze_stack(kit(), config={IMPERSONATION_STACK: {"subject": SUBJECT}, "gcs.bucket.access": {"ownProjects": [PROJECT]}}) == []


# name -> (extra resources, {policy: resources it must report})
STACK_ATTACKS: dict[str, tuple[list[Resource], dict[str, set[str]]]] = {
    "a group that can mint the writer's tokens": (
        [sa_grant("tokens", "roles/iam.serviceAccountTokenCreator", "group:ops@acme.example")], {IMPERSONATION_STACK: {"tokens"}}),
    "a person who can act as the writer": ([sa_grant("actas", "roles/iam.serviceAccountUser", "user:dev@acme.example")], {IMPERSONATION_STACK: {"actas"}}),
    "a domain as key admin": ([sa_grant("keys", "roles/iam.serviceAccountKeyAdmin", "domain:acme.example")], {IMPERSONATION_STACK: {"keys"}}),
    "another account as account admin": (
        [sa_grant("admin", "roles/iam.serviceAccountAdmin", "serviceAccount:ci@acme-prod.iam.gserviceaccount.com")], {IMPERSONATION_STACK: {"admin"}}),
    "a role the pack cannot prove harmless on the writer": (
        [sa_grant("odd", "roles/cloudfunctions.developer", "user:dev@acme.example")], {IMPERSONATION_STACK: {"odd"}}),
    "a second federated subject on the writer": (
        [sa_grant("second", WI_USER, PRINCIPAL.replace(SUBJECT, "mallory"))], {IMPERSONATION_STACK: {"second", "impersonation"}}),
    "a project-wide editor account": (
        [project_grant("editor", "roles/editor", "serviceAccount:ci@acme-prod.iam.gserviceaccount.com")], {IMPERSONATION_STACK: {"editor"}}),
    "a project-wide token-minting group": (
        [Resource(PROJECT_BINDING, "tokens", {"project": PROJECT, "role": "roles/iam.serviceAccountTokenCreator", "members": ["group:ops@acme.example"]})],
        {IMPERSONATION_STACK: {"tokens"}}),
    "a project-wide owner group in an authoritative policy": (
        [Resource(PROJECT_POLICY, "policy", {"project": PROJECT, "policyData": json.dumps(
            {"bindings": [{"role": "roles/owner", "members": ["user:admin@acme.example", "group:admins@acme.example"]}]})})],
        {IMPERSONATION_STACK: {"policy"}}),
    "a user-managed key": ([Resource(KEY, "key", {"serviceAccountId": WRITER_NAME}, {"serviceAccountId": ["writer"]})], {"gcs.service_account.keys": {"key"}}),
    "a key named by email": ([Resource(KEY, "key", {"serviceAccountId": WRITER_EMAIL})], {"gcs.service_account.keys": {"key"}}),
    "an HMAC key": ([Resource(HMAC_KEY, "hmac", {"serviceAccountEmail": WRITER_EMAIL, "state": "ACTIVE"})], {"gcs.service_account.keys": {"hmac"}}),
    "the writer deleting": ([bucket_grant("admin", "roles/storage.objectAdmin", WRITER)], {PERMISSIONS_STACK: {"admin"}}),
    "the writer as objectUser by binding": (
        [Resource(BUCKET_BINDING, "users", {"bucket": BUCKET, "role": "roles/storage.objectUser", "members": [WRITER]})], {PERMISSIONS_STACK: {"users"}}),
    "the writer changing the bucket's IAM": ([bucket_grant("owner", "roles/storage.legacyBucketOwner", WRITER)], {PERMISSIONS_STACK: {"owner"}}),
    "the writer on another bucket": (
        [bucket_grant("other", CREATOR, WRITER, "other-bucket")],
        {PERMISSIONS_STACK: {"writer"}}),
    "the writer project-wide": ([project_grant("logs", "roles/logging.logWriter", WRITER)], {PERMISSIONS_STACK: {"logs"}}),
    "the writer with a custom role the stack does not define": (
        [bucket_grant("custom", "projects/acme-prod/roles/elsewhere", WRITER)], {PERMISSIONS_STACK: {"custom"}}),
    "the writer with a custom role that deletes": (
        [Resource(CUSTOM_ROLE, "deleter", {"roleId": "deleter", "project": PROJECT, "permissions": ["storage.objects.create", "storage.objects.delete"]}),
         bucket_grant("custom", "projects/acme-prod/roles/deleter", WRITER)], {PERMISSIONS_STACK: {"custom"}}),
    "the writer reading too": ([bucket_grant("viewer", "roles/storage.objectViewer", WRITER)], {"gcs.service_account.least_privilege": {"viewer"}}),
    "the public on the recordings": ([bucket_grant("public", "roles/storage.objectViewer", "allUsers")], {"gcs.bucket.access": {"public"}}),
    "anyone with a Google account on the recordings": (
        [bucket_grant("authenticated", "roles/storage.legacyObjectReader", "allAuthenticatedUsers")], {"gcs.bucket.access": {"authenticated"}}),
    "another project's account on the recordings": ([bucket_grant("spy", "roles/storage.objectViewer", FOREIGN)], {"gcs.bucket.access": {"spy"}}),
    "another project's account reading project-wide": (
        [project_grant("spy", "roles/storage.objectViewer", FOREIGN)], {"gcs.bucket.access": {"spy"}}),
    "a federated identity on the recordings": (
        [bucket_grant("federated", "roles/storage.objectViewer", PRINCIPAL)], {"gcs.bucket.access": {"federated"}}),
    "the recordings deleted after 30 days": (
        [], {"gcs.bucket.lifecycle": {"bucket"}}),
    "a second provider in Tavus's pool, for another issuer": (
        [Resource(WIP_PROVIDER, "github", provider(oidc={"issuerUri": "https://token.actions.githubusercontent.com"}, workloadIdentityPoolId="tavus"),
                  {"workloadIdentityPoolId": ["pool"]})],
        {"gcs.provider.issuer.stack": {"github", "provider"}}),
    "a transfer of the recordings to someone else's bucket": (
        [Resource(TRANSFER_JOB, "copy", {"transferSpec": {"gcsDataSource": {"bucketName": BUCKET}, "gcsDataSink": {"bucketName": "theirs"}}})],
        {"gcs.bucket.transfer": {"copy"}}),
    "Tavus's subject in a pool the stack does not define": ([sa_grant("evil", WI_USER, FOREIGN_PRINCIPAL)], {IMPERSONATION_STACK: {"evil"}}),
    "a group as admin of Tavus's pool": (
        [Resource(POOL_MEMBER, "pool-admin", {"workloadIdentityPoolId": "tavus", "project": PROJECT, "role": "roles/iam.workloadIdentityPoolAdmin",
                                              "member": "group:ops@acme.example"}, {"workloadIdentityPoolId": ["pool"]})],
        {IMPERSONATION_STACK: {"pool-admin"}}),
    "a project-wide token-minting group, the project named by its number": (
        [Resource(PROJECT_MEMBER, "tokens", {"project": NUMBER, "role": "roles/iam.serviceAccountTokenCreator", "member": "group:ops@acme.example"})],
        {IMPERSONATION_STACK: {"tokens"}}),
    "another project's account on a managed folder of the recordings": (
        [Resource(FOLDER_MEMBER, "folder", {"bucket": BUCKET, "managedFolder": "rec/", "role": "roles/storage.objectViewer", "member": FOREIGN})],
        {"gcs.bucket.access": {"folder"}}),
    "a public ACL on the recordings": (
        [Resource(BUCKET_ACL, "acl", {"bucket": BUCKET, "roleEntities": ["READER:allUsers"]})], {"gcs.bucket.access": {"acl"}}),
    "a batch job deleting the recordings": (
        [Resource(BATCH_JOB, "wipe", {"bucketList": {"buckets": {"bucket": BUCKET}}, "deleteObject": {"permanentObjectDeletionEnabled": True}})],
        {"gcs.bucket.lifecycle": {"wipe"}}),
    "a move of the recordings into a bucket of the stack": (
        [Resource(GCS_BUCKET, "archive", {"name": "acme-archive", "project": PROJECT, "uniformBucketLevelAccess": True, "publicAccessPrevention": "enforced"}),
         Resource(TRANSFER_JOB, "move", {"transferSpec": {"gcsDataSource": {"bucketName": BUCKET}, "gcsDataSink": {"bucketName": "acme-archive"},
                                                          "transferOptions": {"deleteObjectsFromSourceAfterTransfer": True}}})],
        {"gcs.bucket.transfer": {"move"}}),
    "another project's account reading the stack's copy of the recordings": (
        [Resource(GCS_BUCKET, "archive", {"name": "acme-archive", "project": PROJECT, "uniformBucketLevelAccess": True, "publicAccessPrevention": "enforced"}),
         Resource(TRANSFER_JOB, "copy", {"transferSpec": {"gcsDataSource": {"bucketName": BUCKET}, "gcsDataSink": {"bucketName": "acme-archive"}}}),
         bucket_grant("spy", "roles/storage.objectViewer", FOREIGN, "acme-archive")],
        {"gcs.bucket.access": {"spy"}}),
}


@pytest.mark.parametrize("attack", list(STACK_ATTACKS))
def test_each_stack_attack_is_reported_by_its_policy_on_the_resources_that_make_it(attack: str):
    extra, expected = STACK_ATTACKS[attack]
    bucket = {"lifecycleRules": [*kit_lifecycle(), {"action": {"type": "Delete"}, "condition": {"age": 30}}]} if "30 days" in attack else None
    found = reported(analyze_stack(kit(*extra, bucket=bucket)))
    assert found == {policy: names for policy, names in expected.items() if names}, found


def test_the_federated_identity_on_the_recordings_is_also_refused_before_it_is_granted():
    only(analyze(BUCKET_MEMBER, {"bucket": BUCKET, "role": "roles/storage.objectViewer", "member": PRINCIPAL}), PERMISSIONS)


@pytest.mark.parametrize(
    "condition",
    [f"assertion.sub == '{SUBJECT}' && assertion.aud == 'tavus'", f"assertion['sub'] == '{SUBJECT}'", f"'{SUBJECT}' == assertion.sub"],
)
def test_the_kit_with_a_reasonable_condition_passes(condition: str):
    assert analyze_stack(kit(condition=condition)) == []


SAFE_VARIANTS: dict[str, list[Resource]] = {
    "the writer split across two members on the bucket": [bucket_grant("object-creator-2", CREATOR, WRITER)],
    "the writer's grant by binding": [Resource(BUCKET_BINDING, "creators", {"bucket": BUCKET, "role": CREATOR, "members": [WRITER]})],
    "a custom writer role the stack defines": [
        Resource(CUSTOM_ROLE, "recorder", {"roleId": "recorder", "project": PROJECT, "permissions": ["storage.objects.create", "storage.multipartUploads.create"]}),
        bucket_grant("custom", "projects/acme-prod/roles/recorder", WRITER)],
    "an application account with broad rights that no pool can impersonate": [
        Resource(ACCOUNT, "app", {"accountId": "app", "email": f"app@{PROJECT}.iam.gserviceaccount.com", "project": PROJECT}),
        sa_grant("app-tokens", "roles/iam.serviceAccountTokenCreator", "group:ops@acme.example", account=f"projects/{PROJECT}/serviceAccounts/app@{PROJECT}.iam.gserviceaccount.com"),
        bucket_grant("app-admin", "roles/storage.admin", f"serviceAccount:app@{PROJECT}.iam.gserviceaccount.com", "app-data"),
        project_grant("app-sql", "roles/cloudsql.client", f"serviceAccount:app@{PROJECT}.iam.gserviceaccount.com"),
        project_grant("app-objects", "roles/storage.objectAdmin", f"serviceAccount:app@{PROJECT}.iam.gserviceaccount.com"),
        Resource(KEY, "app-key", {"serviceAccountId": f"projects/{PROJECT}/serviceAccounts/app@{PROJECT}.iam.gserviceaccount.com"}),
        Resource(GCS_BUCKET, "app-data", {"name": "app-data", "project": PROJECT, "uniformBucketLevelAccess": True, "publicAccessPrevention": "enforced",
                                          "lifecycleRules": [{"action": {"type": "Delete"}, "condition": {"age": 1}}]}),
        Resource(TRANSFER_JOB, "app-copy", {"transferSpec": {"gcsDataSource": {"bucketName": "app-data"}, "gcsDataSink": {"bucketName": "elsewhere"}}}),
    ],
    "a project-wide grant to an unrelated account": [project_grant("logs", "roles/logging.logWriter", "serviceAccount:other@acme-prod.iam.gserviceaccount.com"),
                                                     project_grant("metrics", "roles/monitoring.metricWriter", FOREIGN)],
    "the project's owner, a person": [project_grant("owner", "roles/owner", "user:admin@acme.example")],
    "Google's own agent as editor": [project_grant("agent", "roles/editor", f"serviceAccount:{NUMBER}@cloudservices.gserviceaccount.com")],
    "a viewer on the writer": [sa_grant("viewer", "roles/iam.serviceAccountViewer", "group:auditors@acme.example")],
    "a transfer of the recordings into another bucket of the stack": [
        Resource(GCS_BUCKET, "archive", {"name": "acme-archive", "project": PROJECT, "uniformBucketLevelAccess": True, "publicAccessPrevention": "enforced"}),
        Resource(TRANSFER_JOB, "copy", {"transferSpec": {"gcsDataSource": {"bucketName": BUCKET}, "gcsDataSink": {"bucketName": "acme-archive"}}})],
    "an HMAC key already deleted": [Resource(HMAC_KEY, "hmac", {"serviceAccountEmail": WRITER_EMAIL, "state": "DELETED"})],
    "a second provider in Tavus's pool, for Tavus's issuer": [
        Resource(WIP_PROVIDER, "backup", provider(workloadIdentityPoolId="tavus"), {"workloadIdentityPoolId": ["pool"]})],
    "another federation in a pool of its own": [
        Resource(WIP, "ci-pool", {"workloadIdentityPoolId": "ci", "name": f"projects/{NUMBER}/locations/global/workloadIdentityPools/ci"}),
        Resource(WIP_PROVIDER, "github", provider(oidc={"issuerUri": "https://token.actions.githubusercontent.com"}, workloadIdentityPoolId="ci",
                                                  attributeCondition="assertion.sub == 'repo:acme/app:ref:refs/heads/main'"),
                 {"workloadIdentityPoolId": ["ci-pool"]})],
}


@pytest.mark.parametrize("variant", list(SAFE_VARIANTS))
def test_safe_variants_of_the_kit_raise_no_false_alarm(variant: str):
    assert analyze_stack(kit(*SAFE_VARIANTS[variant])) == []


def test_your_own_projects_can_be_named_so_their_accounts_may_reach_the_recordings():
    spy = bucket_grant("spy", "roles/storage.objectViewer", FOREIGN)
    assert reported(analyze_stack(kit(spy))) == {"gcs.bucket.access": {"spy"}}
    assert analyze_stack(kit(spy), config={"gcs.bucket.access": {"ownProjects": ["other-proj-42"]}}) == []


def test_a_role_you_vouch_for_is_harmless():
    odd = sa_grant("odd", "roles/cloudfunctions.developer", "user:dev@acme.example")
    assert analyze_stack(kit(odd), config={IMPERSONATION_STACK: {"harmlessRoles": ["roles/cloudfunctions.developer"]}}) == []


def test_a_configured_subject_accepts_only_tavuss_principal():
    config = {IMPERSONATION_STACK: {"subject": "someone-else"}}
    assert reported(analyze_stack(kit(), config=config)) == {IMPERSONATION_STACK: {"impersonation"}}


# --- retention: declared by the component, else configured

RETENTION_SHORT = {"lifecycleRules": [{"action": {"type": "Delete"}, "condition": {"age": 30, "withState": "LIVE"}}]}


def analyze_with_parents(resources: list[Resource], parents: dict[str, str], config: Optional[dict] = None) -> list[Diagnostic]:
    """AnalyzeStack with each resource's parent set, as the engine sends it (the harness's does not)."""
    by_name = {r.name: r for r in resources}
    request = proto.AnalyzeStackRequest()
    for r in resources:
        added = request.resources.add(type=r.type, properties=_struct(r.props), urn=r.urn, name=r.name)
        if r.name in parents:
            added.parent = by_name[parents[r.name]].urn
    return _diagnostics(servicer(config).AnalyzeStack(request, None))


def test_the_retention_is_the_parent_components_then_the_configured_one():
    resources = kit(bucket=RETENTION_SHORT, component={"bucket_name": "renamed", "retentionDays": 20})
    # Not found by name, and no parent: no retention, so deleting live recordings at all is reported.
    assert reported(analyze_stack(resources)) == {"gcs.bucket.lifecycle": {"bucket"}}
    assert analyze_with_parents(resources, {"bucket": "tavus"}) == []
    only(analyze_with_parents(resources, {}, config={"gcs.bucket.lifecycle": {"retentionDays": 60}}), "gcs.bucket.lifecycle")
    assert analyze_with_parents(resources, {}, config={"gcs.bucket.lifecycle": {"retentionDays": 30}}) == []


def test_a_retention_policy_the_stack_asks_for_must_be_there_and_long_enough():
    asked = {"immutableDays": 30}
    assert reported(analyze_stack(kit(component=asked))) == {"gcs.bucket.retention": {"bucket"}}
    short = {"retentionPolicy": {"retentionPeriod": 7 * 86400, "isLocked": False}}
    assert reported(analyze_stack(kit(component=asked, bucket=short))) == {"gcs.bucket.retention": {"bucket"}}
    assert analyze_stack(kit(component=asked, bucket={"retentionPolicy": {"retentionPeriod": 30 * 86400}})) == []
    assert reported(analyze_stack(kit(), config={"gcs.bucket.retention": {"immutableDays": 10}})) == {"gcs.bucket.retention": {"bucket"}}


# --- a preview: names are not known yet, and references are the engine's dependencies


def preview_kit(*extra: Resource) -> list[Resource]:
    """The kit at its first preview: every computed name unknown; the bucket named by config."""
    return [
        Resource(WIP, "pool", {"workloadIdentityPoolId": "tavus", "name": UNKNOWN}),
        Resource(WIP_PROVIDER, "provider", provider(name=UNKNOWN)),
        Resource(ACCOUNT, "writer", {"accountId": "writer", "email": UNKNOWN, "name": UNKNOWN, "member": UNKNOWN}),
        Resource(SA_BINDING, "impersonation", {"serviceAccountId": UNKNOWN, "role": WI_USER, "members": [UNKNOWN]},
                 {"serviceAccountId": ["writer"], "members": ["pool"]}),
        Resource(GCS_BUCKET, "bucket", {"name": BUCKET, "uniformBucketLevelAccess": True, "publicAccessPrevention": "enforced", "lifecycleRules": UNKNOWN_ARRAY_VALUE,
                                        "encryption": kit_encryption()}),
        Resource(BUCKET_MEMBER, "object-creator", {"bucket": BUCKET, "role": CREATOR, "member": UNKNOWN}, {"bucket": ["bucket"], "member": ["writer"]}),
        *extra,
    ]


def test_a_preview_with_unknown_names_raises_nothing_but_sees_attacks_through_dependencies():
    assert analyze_stack(preview_kit()) == []
    admin = Resource(BUCKET_MEMBER, "admin", {"bucket": BUCKET, "role": "roles/storage.objectAdmin", "member": UNKNOWN}, {"member": ["writer"]})
    assert reported(analyze_stack(preview_kit(admin))) == {PERMISSIONS_STACK: {"admin"}}
    key = Resource(KEY, "key", {"serviceAccountId": UNKNOWN}, {"serviceAccountId": ["writer"]})
    assert reported(analyze_stack(preview_kit(key))) == {"gcs.service_account.keys": {"key"}}
    tokens = Resource(SA_MEMBER, "tokens", {"serviceAccountId": UNKNOWN, "role": "roles/iam.serviceAccountTokenCreator", "member": "group:ops@acme.example"},
                      {"serviceAccountId": ["writer"]})
    assert reported(analyze_stack(preview_kit(tokens))) == {IMPERSONATION_STACK: {"tokens"}}


def test_an_unknown_role_or_member_is_judged_later_never_now():
    unknown_role = Resource(BUCKET_MEMBER, "later", {"bucket": BUCKET, "role": UNKNOWN, "member": WRITER})
    assert analyze_stack(kit(unknown_role)) == []
    pending = Resource(CUSTOM_ROLE, "pending", {"roleId": "pending", "project": PROJECT, "permissions": UNKNOWN_ARRAY_VALUE})
    uses = Resource(BUCKET_MEMBER, "uses", {"bucket": BUCKET, "role": "projects/acme-prod/roles/pending", "member": WRITER})
    assert analyze_stack(kit(pending, uses)) == []


def test_every_gcs_rule_has_its_policies_and_each_is_named_by_its_rule():
    # As the engine learns them: GetAnalyzerInfo.
    names = {p.name for p in servicer().GetAnalyzerInfo(empty_pb2.Empty(), None).policies if p.name.startswith("gcs.")}
    assert {n.removesuffix(".stack") for n in names} == {r.id for r in rules.RULES}
    # A rule's stack policy sits beside its resource policy, never alone under the `.stack` name.
    assert all(n.removesuffix(".stack") in names for n in names)


# --- what the red team found -------------------------------------------------------------------------------


def test_grants_on_managed_folders_and_pools_are_told_apart_from_bucket_and_project_grants():
    # A resource policy sees props only: a managed folder's IAM also names its bucket, a pool's its project.
    folder = {"bucket": BUCKET, "managedFolder": "rec/", "role": "roles/storage.objectAdmin", "member": PRINCIPAL_SET}
    assert "managed folder rec/ of bucket" in only(analyze(FOLDER_MEMBER, folder), PERMISSIONS).message
    pool = {"workloadIdentityPoolId": "tavus", "project": PROJECT, "role": "roles/storage.admin", "member": PRINCIPAL_SET}
    assert "workload identity pool tavus" in only(analyze(POOL_MEMBER, pool), PERMISSIONS).message


@pytest.mark.parametrize(
    "type_, props, policy",
    [
        (SA_POLICY, {"serviceAccountId": WRITER_NAME, "policyData": json.dumps({"Bindings": [{"role": WI_USER, "members": [PRINCIPAL_SET]}]})},
         IMPERSONATION),
        (PROJECT_POLICY, {"project": PROJECT, "policyData": '{"bindings": [], "bindings": [{"role": "roles/owner", "members": ["group:g@a.example"]}]}'},
         IMPERSONATION),
        (BUCKET_POLICY, {"bucket": BUCKET, "policyData": "\ufeff{}"}, PERMISSIONS),
        (FOLDER_POLICY, {"bucket": BUCKET, "managedFolder": "rec/", "policyData": json.dumps({"bindings": [{"Members": [FOREIGN], "role": "r"}]})},
         PERMISSIONS),
    ],
    ids=[SA_POLICY, PROJECT_POLICY, BUCKET_POLICY, FOLDER_POLICY],
)
def test_a_policy_document_that_cannot_be_read_strictly_is_refused_before_it_is_applied(type_: str, props: dict, policy: str):
    assert "cannot be read strictly" in only(analyze(type_, props), policy).message


def test_your_own_domains_can_be_named_so_people_of_other_domains_are_refused():
    outsiders = [bucket_grant("gmail", "roles/storage.objectViewer", "user:a@gmail.com"),
                 bucket_grant("rival", "roles/storage.objectViewer", "domain:rival.example"),
                 bucket_grant("own", "roles/storage.objectViewer", "group:auditors@acme.example")]
    assert analyze_stack(kit(*outsiders)) == []
    config = {"gcs.bucket.access": {"ownDomains": ["acme.example"]}}
    assert reported(analyze_stack(kit(*outsiders), config=config)) == {"gcs.bucket.access": {"gmail", "rival"}}


def test_another_federations_findings_say_how_to_keep_it_out_of_tavuss_guardrails():
    ci = [Resource(ACCOUNT, "ci", {"accountId": "ci", "email": f"ci@{PROJECT}.iam.gserviceaccount.com", "project": PROJECT}),
          sa_grant("ci-wif", WI_USER, PRINCIPAL.replace(SUBJECT, "repo:acme/app"), account=f"projects/{PROJECT}/serviceAccounts/ci@{PROJECT}.iam.gserviceaccount.com")]
    [finding] = analyze_stack(kit(*ci), config={IMPERSONATION_STACK: {"subject": SUBJECT}})
    assert "deploy it from a separate stack, or disable gcs.service_account.impersonation.stack" in finding.message
    # Tavus's own writer's findings do not carry it.
    [finding] = analyze_stack(kit(sa_grant("tokens", "roles/iam.serviceAccountTokenCreator", "group:ops@acme.example")),
                              config={IMPERSONATION_STACK: {"subject": SUBJECT}})
    assert "separate stack" not in finding.message

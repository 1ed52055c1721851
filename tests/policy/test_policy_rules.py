"""Every policy of the pack in policy/, called as the engine calls it.

No Pulumi CLI here: the tests hand protobuf requests (what the engine sends over gRPC) to
pulumi-policy's own servicer, so the props each rule reads went through the SDK's deserialisation
and unknown-value proxies, levels and config through its `Configure`. Unknown values are the wire
sentinels the engine sends during a preview.
"""

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Union

import pytest
from google.protobuf import json_format, struct_pb2
from pulumi.runtime import proto
from pulumi_policy import EnforcementLevel
from pulumi_policy.policy import _PolicyAnalyzerServicer
from pulumi_policy.proxy import UNKNOWN_ARRAY_VALUE, UNKNOWN_BOOLEAN_VALUE, UNKNOWN_NUMBER_VALUE, UNKNOWN_STRING_VALUE

from components import aws_policy
from components.azure_policy import STORAGE_BLOB_DATA_CONTRIBUTOR

POLICY_DIR = Path(__file__).resolve().parents[2] / "policy"
# As the CLI runs the pack: its directory on sys.path (runpy of __main__.py).
sys.path.insert(0, str(POLICY_DIR))

from policies import PACK_NAME, POLICIES  # noqa: E402

UNKNOWN = UNKNOWN_STRING_VALUE
LEVELS = {
    proto.ADVISORY: "advisory",
    proto.MANDATORY: "mandatory",
    proto.REMEDIATE: "remediate",
    proto.DISABLED: "disabled",
}
PROTO_LEVELS = {name: value for value, name in LEVELS.items()}


# --- the engine's side


def urn(type_: str, name: str) -> str:
    return f"urn:pulumi:dev::tavus-recording::{type_}::{name}"


@dataclass(frozen=True)
class Diagnostic:
    policy: str
    level: str
    message: str
    urn: str


@dataclass
class Resource:
    """A resource as the engine describes it to a stack policy."""

    type: str
    name: str
    props: dict[str, Any]
    # property -> names (in this stack) of the resources its value came from
    deps: dict[str, list[str]] = field(default_factory=dict)

    @property
    def urn(self) -> str:
        return urn(self.type, self.name)


def _struct(props: dict[str, Any]) -> struct_pb2.Struct:
    return json_format.ParseDict(props, struct_pb2.Struct())


def servicer(config: Optional[dict[str, Union[str, dict[str, Any]]]] = None) -> _PolicyAnalyzerServicer:
    """The pack's analyzer, configured as the engine does from a --policy-pack-config file."""
    analyzer = _PolicyAnalyzerServicer(PACK_NAME, "0.1.0", POLICIES, EnforcementLevel.ADVISORY)
    request = proto.ConfigureAnalyzerRequest()
    for name, value in (config or {}).items():
        settings = {"enforcementLevel": value} if isinstance(value, str) else dict(value)
        level = settings.pop("enforcementLevel", None)
        policy_config = proto.PolicyConfig(properties=_struct(settings))
        if level:
            policy_config.enforcementLevel = PROTO_LEVELS[level]
        else:  # the engine always sends a level: the policy's own, filled in from GetAnalyzerInfo
            policy_config.enforcementLevel = PROTO_LEVELS[_default_level(name)]
        request.policyConfig[name].CopyFrom(policy_config)
    analyzer.Configure(request, None)
    return analyzer


def _default_level(name: str) -> str:
    return next(p.enforcement_level.value for p in POLICIES if p.name == name)


def _diagnostics(response: Any) -> list[Diagnostic]:
    return [Diagnostic(d.policyName, LEVELS[d.enforcementLevel], d.message, d.urn) for d in response.diagnostics]


def analyze(type_: str, props: dict[str, Any], name: str = "subject", config: Optional[dict] = None) -> list[Diagnostic]:
    """Every resource policy on one resource (the engine's Analyze call)."""
    request = proto.AnalyzeRequest(type=type_, properties=_struct(props), urn=urn(type_, name), name=name)
    return _diagnostics(servicer(config).Analyze(request, None))


def analyze_stack(resources: list[Resource], config: Optional[dict] = None) -> list[Diagnostic]:
    """Every stack policy on a whole stack (the engine's AnalyzeStack call)."""
    by_name = {r.name: r for r in resources}
    request = proto.AnalyzeStackRequest()
    for r in resources:
        analyzed = request.resources.add(type=r.type, properties=_struct(r.props), urn=r.urn, name=r.name)
        for prop, names in r.deps.items():
            analyzed.propertyDependencies[prop].urns.extend(by_name[n].urn for n in names)
            analyzed.dependencies.extend(by_name[n].urn for n in names)
    return _diagnostics(servicer(config).AnalyzeStack(request, None))


def policies_reported(diagnostics: list[Diagnostic]) -> set[str]:
    return {d.policy for d in diagnostics}


def only(diagnostics: list[Diagnostic], policy: str) -> Diagnostic:
    assert policies_reported(diagnostics) == {policy}, diagnostics
    assert len(diagnostics) == 1, diagnostics
    return diagnostics[0]


def test_every_policy_is_tested_here_and_named_by_cloud():
    names = [p.name for p in POLICIES]
    assert len(names) == len(set(names))
    assert all(n.split("-")[0] in ("aws", "gcp", "azure") and n == n.lower() for n in names)
    assert set(names) == set(RESOURCE_CASES_BY_POLICY) | STACK_POLICIES_TESTED


# --- resource policies: passing, violating, unknown

ROLE = "aws:iam/role:Role"
S3_BUCKET = "aws:s3/bucket:Bucket"
GCS_BUCKET = "gcp:storage/bucket:Bucket"
WIP_PROVIDER = "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider"
SA_BINDING = "gcp:serviceaccount/iAMBinding:IAMBinding"
ROLE_ASSIGNMENT = "azure-native:authorization:RoleAssignment"
ACCOUNT = "azure-native:storage:StorageAccount"
FIC = "azure-native:managedidentity:FederatedIdentityCredential"

TRUST = json.dumps(aws_policy.trust_policy())
CONTAINER_ID = (
    "/subscriptions/0000/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/acct"
    "/blobServices/default/containers/recordings"
)
CONTRIBUTOR = f"/subscriptions/0000/providers/Microsoft.Authorization/roleDefinitions/{STORAGE_BLOB_DATA_CONTRIBUTOR}"
WI_USER = "roles/iam.workloadIdentityUser"
PRINCIPAL = "principal://iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/subject/tavus"
PRINCIPAL_SET = "principalSet://iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/*"
HARDENED_ACCOUNT = {
    "allowSharedKeyAccess": False,
    "allowBlobPublicAccess": False,
    "enableHttpsTrafficOnly": True,
    "minimumTlsVersion": "TLS1_2",
}


def trust(**statement: Any) -> str:
    """The kit's trust document with its one statement changed (a None value removes the key)."""
    doc = aws_policy.trust_policy()
    doc["Statement"][0].update(statement)
    doc["Statement"][0] = {k: v for k, v in doc["Statement"][0].items() if v is not None}
    return json.dumps(doc)


# policy -> (type, passing props, violating props, props with the checked value unknown)
RESOURCE_CASES: list[tuple[str, str, dict, dict, dict]] = [
    ("aws-tavus-role-trust", ROLE, {"assumeRolePolicy": TRUST, "maxSessionDuration": 43200},
     {"assumeRolePolicy": trust(Condition=None), "maxSessionDuration": 43200}, {"assumeRolePolicy": UNKNOWN}),
    ("aws-tavus-role-session-duration", ROLE, {"assumeRolePolicy": TRUST, "maxSessionDuration": 43200},
     {"assumeRolePolicy": TRUST}, {"assumeRolePolicy": TRUST, "maxSessionDuration": UNKNOWN_NUMBER_VALUE}),
    ("aws-s3-no-force-destroy", S3_BUCKET, {"forceDestroy": False}, {"forceDestroy": True},
     {"forceDestroy": UNKNOWN_BOOLEAN_VALUE}),
    ("gcp-tavus-provider-condition", WIP_PROVIDER, {"attributeCondition": 'assertion.sub == "tavus"'},
     {"attributeMapping": {"google.subject": "assertion.sub"}}, {"attributeCondition": UNKNOWN}),
    ("gcp-tavus-no-principal-set", SA_BINDING, {"role": WI_USER, "members": [PRINCIPAL]},
     {"role": WI_USER, "members": [PRINCIPAL_SET]}, {"role": WI_USER, "members": UNKNOWN_ARRAY_VALUE}),
    ("gcp-storage-public-access-prevention", GCS_BUCKET,
     {"publicAccessPrevention": "enforced", "uniformBucketLevelAccess": True},
     {"publicAccessPrevention": "inherited", "uniformBucketLevelAccess": True},
     {"publicAccessPrevention": UNKNOWN, "uniformBucketLevelAccess": True}),
    ("gcp-storage-uniform-access", GCS_BUCKET,
     {"publicAccessPrevention": "enforced", "uniformBucketLevelAccess": True},
     {"publicAccessPrevention": "enforced", "uniformBucketLevelAccess": False},
     {"publicAccessPrevention": "enforced", "uniformBucketLevelAccess": UNKNOWN_BOOLEAN_VALUE}),
    ("gcp-storage-no-force-destroy", GCS_BUCKET,
     {"publicAccessPrevention": "enforced", "uniformBucketLevelAccess": True, "forceDestroy": False},
     {"publicAccessPrevention": "enforced", "uniformBucketLevelAccess": True, "forceDestroy": True},
     {"publicAccessPrevention": "enforced", "uniformBucketLevelAccess": True, "forceDestroy": UNKNOWN_BOOLEAN_VALUE}),
    ("azure-tavus-blob-contributor-scope", ROLE_ASSIGNMENT, {"roleDefinitionId": CONTRIBUTOR, "scope": CONTAINER_ID},
     {"roleDefinitionId": CONTRIBUTOR, "scope": CONTAINER_ID.split("/blobServices")[0]},
     {"roleDefinitionId": CONTRIBUTOR, "scope": UNKNOWN}),
    ("azure-tavus-federated-subject", FIC, {"issuer": "https://tavus.example", "subject": "tavus"},
     {"issuer": "https://tavus.example", "subject": ""}, {"issuer": "https://tavus.example", "subject": UNKNOWN}),
    ("azure-storage-no-public-blob-access", ACCOUNT, HARDENED_ACCOUNT,
     {**HARDENED_ACCOUNT, "allowBlobPublicAccess": True}, {**HARDENED_ACCOUNT, "allowBlobPublicAccess": UNKNOWN_BOOLEAN_VALUE}),
    ("azure-storage-no-shared-key", ACCOUNT, HARDENED_ACCOUNT,
     {k: v for k, v in HARDENED_ACCOUNT.items() if k != "allowSharedKeyAccess"},
     {**HARDENED_ACCOUNT, "allowSharedKeyAccess": UNKNOWN_BOOLEAN_VALUE}),
    ("azure-storage-https-only", ACCOUNT, HARDENED_ACCOUNT, {**HARDENED_ACCOUNT, "enableHttpsTrafficOnly": False},
     {**HARDENED_ACCOUNT, "enableHttpsTrafficOnly": UNKNOWN_BOOLEAN_VALUE}),
    ("azure-storage-min-tls", ACCOUNT, HARDENED_ACCOUNT, {**HARDENED_ACCOUNT, "minimumTlsVersion": "TLS1_0"},
     {**HARDENED_ACCOUNT, "minimumTlsVersion": UNKNOWN}),
]
RESOURCE_CASES_BY_POLICY = {case[0]: case for case in RESOURCE_CASES}


@pytest.mark.parametrize("policy, type_, passing, violating, unknown", RESOURCE_CASES, ids=[c[0] for c in RESOURCE_CASES])
def test_resource_policy_passes_reports_and_waits_for_unknowns(policy, type_, passing, violating, unknown):
    assert analyze(type_, passing) == []
    diagnostic = only(analyze(type_, violating, name="under-test"), policy)
    # Names the resource, says what is wrong (after the description the SDK puts first) and the fix.
    assert diagnostic.level == _default_level(policy)
    assert f"'under-test' ({type_}, {urn(type_, 'under-test')})" in diagnostic.message
    assert diagnostic.message.startswith(next(p.description for p in POLICIES if p.name == policy))
    assert "Fix: " in diagnostic.message
    # Unknown during a preview: no violation and no "can't run policy" note either.
    assert analyze(type_, unknown) == []


def test_kit_trust_is_accepted_also_as_an_object_and_an_unrelated_role_is_left_alone():
    assert analyze(ROLE, {"assumeRolePolicy": aws_policy.trust_policy(), "maxSessionDuration": 43200}) == []
    lambda_trust = {"Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    assert analyze(ROLE, {"assumeRolePolicy": json.dumps(lambda_trust)}) == []


@pytest.mark.parametrize(
    "statement, says",
    [
        ({"Condition": {"StringEquals": {"sts:ExternalId": "acme"}}}, "requires sts:ExternalId ['acme'], not 'tavus'"),
        ({"Condition": {"StringLike": {"sts:ExternalId": "*"}}}, "without a StringEquals sts:ExternalId"),
        ({"Action": ["sts:AssumeRole", "sts:TagSession"]}, "Tavus needs sts:AssumeRole only"),
        ({"Action": None, "NotAction": "iam:*"}, "NotAction"),
        ({"Principal": {"AWS": ["arn:aws:iam::291871421005:root", "arn:aws:iam::111122223333:root"]}}, "also trusts"),
    ],
)
def test_trust_violations_say_what_is_wrong(statement, says):
    diagnostic = only(analyze(ROLE, {"assumeRolePolicy": trust(**statement), "maxSessionDuration": 43200}), "aws-tavus-role-trust")
    assert says in diagnostic.message


def test_trust_with_a_statement_for_everyone_is_reported():
    doc = aws_policy.trust_policy()
    doc["Statement"].append({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"})
    diagnostic = only(analyze(ROLE, {"assumeRolePolicy": json.dumps(doc), "maxSessionDuration": 43200}), "aws-tavus-role-trust")
    assert "any AWS principal" in diagnostic.message


def test_expected_external_id_comes_from_the_policy_config():
    config = {"aws-tavus-role-trust": {"externalId": "acme-tavus"}}
    ours = json.dumps(aws_policy.trust_policy("acme-tavus"))
    assert analyze(ROLE, {"assumeRolePolicy": ours, "maxSessionDuration": 43200}, config=config) == []
    diagnostic = only(analyze(ROLE, {"assumeRolePolicy": TRUST, "maxSessionDuration": 43200}, config=config), "aws-tavus-role-trust")
    assert "not 'acme-tavus'" in diagnostic.message


def test_session_duration_is_judged_only_on_known_tavus_roles():
    assert "3600 s" in only(analyze(ROLE, {"assumeRolePolicy": TRUST, "maxSessionDuration": 3600}), "aws-tavus-role-session-duration").message
    assert analyze(ROLE, {"assumeRolePolicy": UNKNOWN}) == []
    lambda_trust = {"Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    assert analyze(ROLE, {"assumeRolePolicy": json.dumps(lambda_trust)}) == []


@pytest.mark.parametrize(
    "type_, props",
    [
        ("gcp:serviceaccount/iAMMember:IAMMember", {"role": WI_USER, "member": PRINCIPAL_SET}),
        ("gcp:projects/iAMBinding:IAMBinding", {"role": WI_USER, "members": [PRINCIPAL, PRINCIPAL_SET]}),
        ("gcp:serviceaccount/iAMPolicy:IAMPolicy",
         {"policyData": json.dumps({"bindings": [{"role": WI_USER, "members": [PRINCIPAL_SET]}]})}),
    ],
)
def test_principal_sets_are_reported_on_members_bindings_and_policies(type_, props):
    assert PRINCIPAL_SET in only(analyze(type_, props), "gcp-tavus-no-principal-set").message


def test_principal_sets_in_other_roles_and_unknown_members_are_not_this_policys_business():
    assert analyze(SA_BINDING, {"role": "roles/iam.serviceAccountUser", "members": [PRINCIPAL_SET]}) == []
    assert analyze("gcp:serviceaccount/iAMMember:IAMMember", {"role": WI_USER, "member": UNKNOWN}) == []
    assert analyze("gcp:serviceaccount/iAMPolicy:IAMPolicy", {"policyData": UNKNOWN}) == []


@pytest.mark.parametrize("condition", ["", "  ", "true"])
def test_a_condition_that_admits_every_token_counts_as_none(condition):
    only(analyze(WIP_PROVIDER, {"attributeCondition": condition}), "gcp-tavus-provider-condition")


def test_contributor_scope_accepts_a_bare_role_guid_and_ignores_other_roles():
    assert analyze(ROLE_ASSIGNMENT, {"roleDefinitionId": STORAGE_BLOB_DATA_CONTRIBUTOR, "scope": CONTAINER_ID}) == []
    only(analyze(ROLE_ASSIGNMENT, {"roleDefinitionId": STORAGE_BLOB_DATA_CONTRIBUTOR, "scope": CONTAINER_ID + "/x"}),
         "azure-tavus-blob-contributor-scope")
    reader = CONTRIBUTOR.replace(STORAGE_BLOB_DATA_CONTRIBUTOR, "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1")
    assert analyze(ROLE_ASSIGNMENT, {"roleDefinitionId": reader, "scope": "/subscriptions/0000"}) == []
    assert analyze(ROLE_ASSIGNMENT, {"roleDefinitionId": UNKNOWN, "scope": "/subscriptions/0000"}) == []


def test_versioned_azure_native_tokens_are_judged_alike():
    only(analyze("azure-native:storage/v20230101:StorageAccount", {**HARDENED_ACCOUNT, "minimumTlsVersion": "TLS1_1"}),
         "azure-storage-min-tls")


def test_an_empty_storage_account_fails_every_account_policy_but_https():
    # HTTPS only is Azure's default; public blob access, shared keys and TLS are not pinned by absence.
    assert policies_reported(analyze(ACCOUNT, {})) == {
        "azure-storage-no-public-blob-access",
        "azure-storage-no-shared-key",
        "azure-storage-min-tls",
    }


def test_enforcement_levels_come_from_the_config_file_per_policy():
    props = {"forceDestroy": True}
    assert only(analyze(S3_BUCKET, props), "aws-s3-no-force-destroy").level == "advisory"
    assert only(analyze(S3_BUCKET, props, config={"aws-s3-no-force-destroy": "mandatory"}), "aws-s3-no-force-destroy").level == "mandatory"
    assert analyze(S3_BUCKET, props, config={"aws-s3-no-force-destroy": "disabled"}) == []
    lowered = {"aws-tavus-role-trust": {"enforcementLevel": "advisory", "externalId": "tavus"}}
    assert only(analyze(ROLE, {"assumeRolePolicy": trust(Condition=None), "maxSessionDuration": 43200}, config=lowered),
                "aws-tavus-role-trust").level == "advisory"


# --- stack policies

RP = "aws:iam/rolePolicy:RolePolicy"
IAM_POLICY = "aws:iam/policy:Policy"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
PAB = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
BUCKET_ARN = "arn:aws:s3:::recordings"
KEY_ARN = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
STACK_POLICIES_TESTED = {
    "aws-tavus-writer-least-privilege",
    "aws-tavus-writer-actions",
    "aws-s3-bucket-versioning",
    "aws-s3-public-access-block",
}
WRITER = "aws-tavus-writer-least-privilege"
FLAGS = {"blockPublicAcls": True, "blockPublicPolicy": True, "ignorePublicAcls": True, "restrictPublicBuckets": True}


def role(name: str = "writer", trust_doc: Any = TRUST, **props: Any) -> Resource:
    return Resource(ROLE, name, {"name": f"{name}-1234567", "arn": f"arn:aws:iam::111122223333:role/{name}-1234567",
                                 "assumeRolePolicy": trust_doc, "maxSessionDuration": 43200, **props})


def writer_doc(**statement: Any) -> str:
    doc = aws_policy.writer_policy(BUCKET_ARN)
    doc["Statement"][0].update(statement)
    return json.dumps(doc)


def role_policy(doc: str, role_ref: Any = "writer-1234567", name: str = "writer-policy", **deps: list[str]) -> Resource:
    return Resource(RP, name, {"role": role_ref, "policy": doc}, deps)


def bucket_stack(**extra: Any) -> list[Resource]:
    bucket = Resource(S3_BUCKET, "bucket", {"bucket": "recordings", "arn": BUCKET_ARN, "forceDestroy": False})
    versioning = Resource(VERSIONING, "versioning", {"bucket": "recordings", "versioningConfiguration": {"status": "Enabled"}})
    pab = Resource(PAB, "pab", {"bucket": "recordings", **FLAGS})
    return [bucket, versioning, pab]


def test_the_kits_writer_grants_pass_with_and_without_kms():
    stack = [role(), role_policy(json.dumps(aws_policy.writer_policy(BUCKET_ARN, KEY_ARN)))]
    assert analyze_stack(stack) == []


@pytest.mark.parametrize(
    "statement, says",
    [
        ({"Action": ["s3:PutObject", "s3:DeleteObject"]}, "allows deleting (['s3:DeleteObject'])"),
        ({"Action": "s3:*"}, "allows wildcard actions ['s3:*']"),
        ({"Resource": "*"}, "grants on *, which is not the bucket"),
        ({"Resource": ["arn:aws:s3:::recordings*"]}, "names buckets by wildcard"),
        ({"Action": None, "NotAction": "s3:DeleteObject"}, "(NotAction)"),
    ],
)
def test_writer_grants_beyond_one_bucket_are_reported_on_the_policy(statement, says):
    diagnostic = only(analyze_stack([role(), role_policy(writer_doc(**statement))]), WRITER)
    assert says in diagnostic.message and diagnostic.urn == urn(RP, "writer-policy")
    assert "Tavus's role 'writer'" in diagnostic.message


def test_kms_actions_must_name_a_key():
    doc = json.loads(json.dumps(aws_policy.writer_policy(BUCKET_ARN, "*")))
    assert "grants on *" in only(analyze_stack([role(), role_policy(json.dumps(doc))]), WRITER).message


def test_two_buckets_for_one_tavus_role_are_reported_on_the_role():
    other = json.dumps(aws_policy.writer_policy("arn:aws:s3:::elsewhere"))
    stack = [role(), role_policy(writer_doc()), role_policy(other, name="second")]
    diagnostic = only(analyze_stack(stack), WRITER)
    assert diagnostic.urn == urn(ROLE, "writer") and "['elsewhere', 'recordings']" in diagnostic.message


def test_policies_of_other_roles_are_left_alone():
    lambda_trust = json.dumps({"Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
    stack = [role("app", lambda_trust), role_policy(writer_doc(Action="s3:*"), role_ref="app-1234567")]
    assert analyze_stack(stack) == []


def test_attachments_are_followed_to_the_policy_they_attach():
    bad = Resource(IAM_POLICY, "extra", {"arn": "arn:aws:iam::111122223333:policy/extra", "policy": writer_doc(Action="s3:*")})
    attachment = Resource(ATTACHMENT, "attach", {"role": "writer-1234567", "policyArn": bad.props["arn"]})
    diagnostic = only(analyze_stack([role(), bad, attachment]), WRITER)
    assert diagnostic.urn == bad.urn
    managed = Resource(ATTACHMENT, "attach", {"role": "writer-1234567", "policyArn": "arn:aws:iam::aws:policy/AmazonS3FullAccess"})
    assert "AWS-managed policies are never limited" in only(analyze_stack([role(), managed]), WRITER).message


def test_inline_policies_count_once_even_when_they_repeat_a_role_policy():
    bad = writer_doc(Action=["s3:PutObject", "s3:DeleteObject"])
    stack = [role(inlinePolicies=[{"name": "writer-policy", "policy": bad}]), role_policy(bad)]
    only(analyze_stack(stack), WRITER)
    only(analyze_stack([role(inlinePolicies=[{"name": "inline", "policy": bad}])]), WRITER)


def test_writer_grants_wait_for_unknowns_but_follow_property_dependencies():
    bad = writer_doc(Action="s3:*")
    # The role's id is unknown on a first preview: nothing to tell which role the policy is for...
    assert analyze_stack([role(), role_policy(bad, role_ref=UNKNOWN)]) == []
    # ...unless the engine's property dependencies say it.
    only(analyze_stack([role(), role_policy(bad, role_ref=UNKNOWN, role=["writer"])]), WRITER)
    assert analyze_stack([role(trust_doc=UNKNOWN), role_policy(bad)]) == []
    assert analyze_stack([role(), role_policy(UNKNOWN)]) == []
    assert analyze_stack([role(inlinePolicies=UNKNOWN_ARRAY_VALUE, managedPolicyArns=UNKNOWN_ARRAY_VALUE)]) == []


def test_actions_beyond_the_writer_list_are_advisory():
    diagnostic = only(analyze_stack([role(), role_policy(writer_doc(Action=["s3:PutObject", "s3:PutBucketPolicy"]))]),
                      "aws-tavus-writer-actions")
    assert diagnostic.level == "advisory" and "['s3:PutBucketPolicy']" in diagnostic.message


def test_a_hardened_bucket_passes():
    assert analyze_stack(bucket_stack()) == []


def test_a_bucket_without_versioning_or_public_access_block_is_reported_on_the_bucket():
    bucket = bucket_stack()[0]
    diagnostics = analyze_stack([bucket])
    assert policies_reported(diagnostics) == {"aws-s3-bucket-versioning", "aws-s3-public-access-block"}
    assert {d.urn for d in diagnostics} == {bucket.urn}
    assert all(d.level == "mandatory" for d in diagnostics)


def test_suspended_versioning_and_an_open_flag_are_reported_on_the_setting():
    bucket, versioning, pab = bucket_stack()
    versioning.props["versioningConfiguration"]["status"] = "Suspended"
    pab.props["restrictPublicBuckets"] = False
    diagnostics = analyze_stack([bucket, versioning, pab])
    assert {(d.policy, d.urn) for d in diagnostics} == {
        ("aws-s3-bucket-versioning", versioning.urn),
        ("aws-s3-public-access-block", pab.urn),
    }
    assert "['restrictPublicBuckets']" in next(d.message for d in diagnostics if d.policy == "aws-s3-public-access-block")


def test_bucket_settings_wait_for_unknowns_but_follow_property_dependencies():
    bucket, versioning, pab = bucket_stack()
    versioning.props["bucket"] = pab.props["bucket"] = UNKNOWN  # bucket.id before the bucket exists
    assert analyze_stack([bucket, versioning, pab]) == []
    versioning.deps = pab.deps = {"bucket": ["bucket"]}
    versioning.props["versioningConfiguration"] = {"status": "Suspended"}
    only(analyze_stack([bucket, versioning, pab]), "aws-s3-bucket-versioning")
    pab.props["blockPublicAcls"] = UNKNOWN_BOOLEAN_VALUE
    versioning.props["versioningConfiguration"] = UNKNOWN
    assert analyze_stack([bucket, versioning, pab]) == []


def test_settings_of_another_bucket_do_not_count():
    bucket, versioning, pab = bucket_stack()
    versioning.props["bucket"] = "elsewhere"
    assert policies_reported(analyze_stack([bucket, versioning, pab])) == {"aws-s3-bucket-versioning"}


def test_the_deprecated_inline_versioning_counts():
    bucket, _, pab = bucket_stack()
    bucket.props["versioning"] = {"enabled": True}
    assert analyze_stack([bucket, pab]) == []

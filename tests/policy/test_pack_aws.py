"""The pack's AWS policies, called as the engine calls them, against attacks in several spellings and
the safe look-alikes a platform team would write."""

import json
from typing import Any

import pytest
from pulumi_policy.proxy import UNKNOWN_ARRAY_VALUE, UNKNOWN_BOOLEAN_VALUE, UNKNOWN_NUMBER_VALUE

from components import aws_policy
from pack_harness import UNKNOWN, Resource, analyze, analyze_stack, assert_resource_case, only, policies_reported, urn

ROLE = "aws:iam/role:Role"
NATIVE_ROLE = "aws-native:iam:Role"
S3_BUCKET = "aws:s3/bucket:Bucket"
RP = "aws:iam/rolePolicy:RolePolicy"
IAM_POLICY = "aws:iam/policy:Policy"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
PAB = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
TAVUS = "arn:aws:iam::291871421005:root"
OWN = "111122223333"
OTHER = "444455556666"
BUCKET_ARN = "arn:aws:s3:::recordings"
KEY_ARN = f"arn:aws:kms:eu-west-1:{OWN}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
TRUST = json.dumps(aws_policy.trust_policy())
FLAGS = {"blockPublicAcls": True, "blockPublicPolicy": True, "ignorePublicAcls": True, "restrictPublicBuckets": True}
KIT_STATEMENT = aws_policy.trust_policy()["Statement"][0]


def trust_doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def tavus_statement(**changes: Any) -> dict[str, Any]:
    """The kit's statement with keys changed (None removes one)."""
    statement = {**KIT_STATEMENT, **changes}
    return {k: v for k, v in statement.items() if v is not None}


def external_id(operator: str = "StringEquals", key: str = "sts:ExternalId", value: Any = "tavus") -> dict[str, Any]:
    return {operator: {key: value}}


# --- aws.role.trust: who can assume the role -----------------------------------------------------------

TRUST_ATTACKS = {
    "a second statement for another account": trust_doc(KIT_STATEMENT, tavus_statement(Principal={"AWS": f"arn:aws:iam::{OTHER}:root"})),
    "a second statement for another account, bare id": trust_doc(KIT_STATEMENT, tavus_statement(Principal={"AWS": OTHER}, Condition=None)),
    "another account beside Tavus in one statement": trust_doc(tavus_statement(Principal={"AWS": [TAVUS, OTHER]})),
    "Principal * guarded only by the public ExternalId": trust_doc(KIT_STATEMENT, tavus_statement(Principal="*")),
    "AWS * guarded only by the ExternalId": trust_doc(tavus_statement(Principal={"AWS": "*"})),
    "AWS * in a list": trust_doc(tavus_statement(Principal={"AWS": [TAVUS, "*"]})),
    "a service may assume it": trust_doc(KIT_STATEMENT, {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}),
    "a federated identity may assume it": trust_doc(
        KIT_STATEMENT,
        {"Effect": "Allow", "Principal": {"Federated": "accounts.google.com"}, "Action": "sts:AssumeRoleWithWebIdentity"},
    ),
    "a canonical user": trust_doc(KIT_STATEMENT, tavus_statement(Principal={"CanonicalUser": "79a59df900b949e55d96a1e698fbace"})),
    "NotPrincipal with Allow": trust_doc(KIT_STATEMENT, {"Effect": "Allow", "NotPrincipal": {"AWS": OTHER}, "Action": "sts:AssumeRole"}),
    "no ExternalId": trust_doc(tavus_statement(Condition=None)),
    "ExternalId by StringLike *": trust_doc(tavus_statement(Condition=external_id("StringLike", value="*"))),
    "ExternalId by StringEqualsIfExists": trust_doc(tavus_statement(Condition=external_id("StringEqualsIfExists"))),
    "ExternalId ignoring case": trust_doc(tavus_statement(Condition=external_id("StringEqualsIgnoreCase"))),
    "ExternalId for any value of a set": trust_doc(tavus_statement(Condition=external_id("ForAnyValue:StringEquals"))),
    "two ExternalIds": trust_doc(tavus_statement(Condition=external_id(value=["tavus", "guessable"]))),
    "an empty ExternalId": trust_doc(tavus_statement(Condition=external_id(value=""))),
    "every sts action": trust_doc(tavus_statement(Action="sts:*")),
    "every action": trust_doc(tavus_statement(Action="*")),
    "AssumeRole and more": trust_doc(tavus_statement(Action=["sts:AssumeRole", "sts:TagSession"])),
    "NotAction": trust_doc(tavus_statement(Action=None, NotAction="iam:*")),
    "Tavus only by ExternalId, another account named": trust_doc(tavus_statement(Principal={"AWS": f"arn:aws:iam::{OTHER}:role/x"})),
    "Tavus's account id in another partition": trust_doc(
        KIT_STATEMENT, tavus_statement(Principal={"AWS": "arn:aws-cn:iam::291871421005:root"})
    ),
    "Principal as a bare string": trust_doc(KIT_STATEMENT, tavus_statement(Principal=OTHER)),
    "a statement that is not an object": trust_doc(KIT_STATEMENT, "Allow everyone"),
    "PrincipalAccount pinned by a wildcard": trust_doc(
        tavus_statement(Principal="*", Condition={"StringLike": {"aws:PrincipalAccount": "2918*"}, **external_id()})
    ),
}
TRUST_SAFE = {
    "the kit's own": aws_policy.trust_policy(),
    "a bare account id": trust_doc(tavus_statement(Principal={"AWS": "291871421005"})),
    "a list of one": trust_doc(tavus_statement(Principal={"AWS": ["291871421005"]})),
    "a role in Tavus's account": trust_doc(tavus_statement(Principal={"AWS": "arn:aws:iam::291871421005:role/recorder"})),
    "one statement object, no Version": {"Statement": tavus_statement()},
    "condition keys in another case": trust_doc(tavus_statement(Condition={"StringEquals": {"STS:EXTERNALID": "tavus"}})),
    "a one-value list": trust_doc(tavus_statement(Condition=external_id(value=["tavus"]))),
    "an extra narrowing condition": trust_doc(
        tavus_statement(Condition={**external_id(), "Bool": {"aws:SecureTransport": "true"}})
    ),
    "an extra conditional Deny": trust_doc(
        KIT_STATEMENT,
        {"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole",
         "Condition": {"NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"}}},
    ),
    "a Deny for another account": trust_doc(KIT_STATEMENT, {"Effect": "Deny", "Principal": {"AWS": OTHER}, "Action": "*"}),
    "* pinned to Tavus's account": trust_doc(
        tavus_statement(Principal="*", Condition={**external_id(), "StringEquals": {"sts:ExternalId": "tavus", "aws:PrincipalAccount": "291871421005"}})
    ),
}


@pytest.mark.parametrize("doc", TRUST_ATTACKS.values(), ids=TRUST_ATTACKS.keys())
@pytest.mark.parametrize("as_text", [True, False], ids=["json", "object"])
def test_every_spelling_of_a_door_beside_tavus_is_mandatory_on_the_role(doc, as_text):
    props = {"assumeRolePolicy": json.dumps(doc) if as_text else doc, "maxSessionDuration": 43200}
    diagnostics = analyze(ROLE, props, name="writer")
    assert policies_reported(diagnostics) == {"aws.role.trust"}, diagnostics
    assert all(d.level == "mandatory" and "'writer'" in d.message for d in diagnostics)


@pytest.mark.parametrize("doc", TRUST_ATTACKS.values(), ids=TRUST_ATTACKS.keys())
def test_aws_native_roles_are_judged_alike(doc):
    diagnostics = analyze(NATIVE_ROLE, {"assumeRolePolicyDocument": doc, "maxSessionDuration": 43200})
    assert policies_reported(diagnostics) == {"aws.role.trust"}, diagnostics


@pytest.mark.parametrize("doc", TRUST_SAFE.values(), ids=TRUST_SAFE.keys())
def test_safe_trusts_raise_nothing(doc):
    assert analyze(ROLE, {"assumeRolePolicy": json.dumps(doc), "maxSessionDuration": 43200}) == []
    assert analyze(NATIVE_ROLE, {"assumeRolePolicyDocument": doc, "maxSessionDuration": 43200}) == []


def test_roles_for_other_workloads_are_left_alone():
    lambda_trust = {"Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    cross_account = {"Statement": [{"Effect": "Allow", "Principal": {"AWS": OTHER}, "Action": "sts:AssumeRole",
                                    "Condition": {"StringEquals": {"sts:ExternalId": "partner-42"}}}]}
    for doc in (lambda_trust, cross_account):
        assert analyze(ROLE, {"assumeRolePolicy": json.dumps(doc), "inlinePolicies": [{"name": "all", "policy": '{"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}'}]}) == []


def test_the_expected_external_id_comes_from_the_config():
    config = {"aws.role.trust": {"externalId": "acme-7f3a"}}
    ours = json.dumps(aws_policy.trust_policy("acme-7f3a"))
    assert analyze(ROLE, {"assumeRolePolicy": ours, "maxSessionDuration": 43200}, config=config) == []
    diagnostic = only(analyze(ROLE, {"assumeRolePolicy": TRUST, "maxSessionDuration": 43200}, config=config), "aws.role.trust")
    assert "Tavus sends 'acme-7f3a'" in diagnostic.message
    # Unconfigured, a per-stack ExternalId (the kit's option) is accepted: any one value pins.
    assert analyze(ROLE, {"assumeRolePolicy": ours, "maxSessionDuration": 43200}) == []


def test_a_trust_that_denies_tavus_outright_keeps_tavus_out():
    doc = trust_doc(KIT_STATEMENT, {"Effect": "Deny", "Principal": "*", "Action": "sts:AssumeRole"})
    assert "denies Tavus's account" in only(analyze(ROLE, {"assumeRolePolicy": json.dumps(doc), "maxSessionDuration": 43200}),
                                            "aws.role.trust").message


RESOURCE_CASES = [
    ("aws.role.trust", ROLE, {"assumeRolePolicy": TRUST, "maxSessionDuration": 43200},
     {"assumeRolePolicy": json.dumps(TRUST_ATTACKS["no ExternalId"]), "maxSessionDuration": 43200}, {"assumeRolePolicy": UNKNOWN}),
    ("aws.role.max_session", ROLE, {"assumeRolePolicy": TRUST, "maxSessionDuration": 43200},
     {"assumeRolePolicy": TRUST}, {"assumeRolePolicy": TRUST, "maxSessionDuration": UNKNOWN_NUMBER_VALUE}),
    ("aws.role.permissions", ROLE, {"assumeRolePolicy": TRUST, "maxSessionDuration": 43200,
                                    "inlinePolicies": [{"name": "w", "policy": json.dumps(aws_policy.writer_policy(BUCKET_ARN))}]},
     {"assumeRolePolicy": TRUST, "maxSessionDuration": 43200, "managedPolicyArns": ["arn:aws:iam::aws:policy/AmazonS3FullAccess"]},
     {"assumeRolePolicy": TRUST, "maxSessionDuration": 43200, "managedPolicyArns": UNKNOWN_ARRAY_VALUE}),
    ("aws.bucket.access", BUCKET_POLICY, {"bucket": "recordings", "policy": json.dumps(aws_policy.tls_only_bucket_policy(BUCKET_ARN))},
     {"bucket": "recordings", "policy": json.dumps({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "291871421005"},
                                                                     "Action": "s3:*", "Resource": f"{BUCKET_ARN}/*"}]})},
     {"bucket": "recordings", "policy": UNKNOWN}),
    ("aws.bucket.force_destroy", S3_BUCKET, {"forceDestroy": False}, {"forceDestroy": True}, {"forceDestroy": UNKNOWN_BOOLEAN_VALUE}),
]


@pytest.mark.parametrize("policy, type_, passing, violating, unknown", RESOURCE_CASES, ids=[c[0] for c in RESOURCE_CASES])
def test_resource_policy_passes_reports_and_waits_for_unknowns(policy, type_, passing, violating, unknown):
    assert_resource_case(policy, type_, passing, violating, unknown)


@pytest.mark.parametrize("seconds", [None, 3600, 7200, 43199, "43200"])
def test_any_session_but_twelve_hours_is_mandatory(seconds):
    props = {"assumeRolePolicy": TRUST, **({} if seconds is None else {"maxSessionDuration": seconds})}
    assert "Tavus's recorder asks for 43200 s" in only(analyze(ROLE, props), "aws.role.max_session").message
    only(analyze(NATIVE_ROLE, {"assumeRolePolicyDocument": aws_policy.trust_policy(),
                               **({} if seconds is None else {"maxSessionDuration": seconds})}), "aws.role.max_session")


@pytest.mark.parametrize(
    "props",
    [
        {"inlinePolicies": [{"name": "all-s3", "policy": json.dumps({"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]})}]},
        {"managedPolicyArns": ["arn:aws:iam::aws:policy/AdministratorAccess"]},
    ],
    ids=["inline s3:*", "AWS-managed admin"],
)
def test_a_role_carrying_its_own_broad_grant_is_stopped_before_it_is_created(props):
    diagnostic = only(analyze(ROLE, {"assumeRolePolicy": TRUST, "maxSessionDuration": 43200, **props}), "aws.role.permissions")
    assert diagnostic.level == "mandatory"


def test_a_customer_managed_policy_on_the_role_is_judged_by_the_stack_policy():
    # One resource cannot tell whether the stack defines that policy: the stack policy resolves it, or
    # reports that it cannot be checked.
    elsewhere = role(managedPolicyArns=[f"arn:aws:iam::{OWN}:policy/defined-elsewhere"])
    assert analyze(ROLE, elsewhere.props) == []
    assert "cannot be checked" in only(analyze_stack([elsewhere]), "aws.role.permissions.stack").message
    writer = Resource(IAM_POLICY, "writer", {"arn": f"arn:aws:iam::{OWN}:policy/writer", "policy": writer_doc()})
    assert analyze_stack([role(managedPolicyArns=[writer.props["arn"]]), writer]) == []


def test_an_aws_native_role_carrying_a_delete_grant_is_stopped():
    doc = aws_policy.writer_policy(BUCKET_ARN)
    doc["Statement"][0]["Action"].append("s3:DeleteObjectVersion")
    props = {"assumeRolePolicyDocument": aws_policy.trust_policy(), "maxSessionDuration": 43200,
             "policies": [{"policyName": "w", "policyDocument": doc}]}
    assert "s3:DeleteObjectVersion" in only(analyze(NATIVE_ROLE, props), "aws.role.permissions").message


@pytest.mark.parametrize(
    "principal",
    ["291871421005", TAVUS, "arn:aws:iam::291871421005:role/anything", ["arn:aws:iam::111122223333:root", "291871421005"]],
)
@pytest.mark.parametrize("type_, prop", [(BUCKET_POLICY, "policy"), ("aws-native:s3:BucketPolicy", "policyDocument"),
                                         ("aws:s3/accessPoint:AccessPoint", "policy")])
def test_a_bucket_policy_granting_tavus_directly_is_stopped_before_it_is_applied(principal, type_, prop):
    doc = {"Statement": [{"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "s3:GetObject", "Resource": f"{BUCKET_ARN}/*"}]}
    only(analyze(type_, {"bucket": "recordings", prop: doc if prop == "policyDocument" else json.dumps(doc)}), "aws.bucket.access")


# --- the stack: everything that reaches a Tavus role ------------------------------------------------------


def role(name: str = "writer", trust: Any = TRUST, **props: Any) -> Resource:
    return Resource(ROLE, name, {"name": f"{name}-1234567", "arn": f"arn:aws:iam::{OWN}:role/{name}-1234567",
                                 "assumeRolePolicy": trust, "maxSessionDuration": 43200, **props})


def writer_doc(*extra: dict[str, Any], bucket: str = BUCKET_ARN, key: Any = None) -> str:
    doc = aws_policy.writer_policy(bucket, key)
    doc["Statement"] += list(extra)
    return json.dumps(doc)


def role_policy(doc: Any, role_ref: Any = "writer-1234567", name: str = "writer-policy", **deps: list[str]) -> Resource:
    return Resource(RP, name, {"role": role_ref, "policy": doc}, deps)


def allow(action: Any, resource: Any = (BUCKET_ARN, f"{BUCKET_ARN}/*")) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": list(resource) if isinstance(resource, tuple) else resource}


DANGEROUS_GRANTS = {
    "delete": allow("s3:DeleteObject"),
    "delete a version": allow(["s3:PutObject", "s3:DeleteObjectVersion"]),
    "s3:*": allow("s3:*"),
    "s3:Put*": allow("s3:Put*"),
    "*": allow("*", "*"),
    "change the bucket policy": allow("s3:PutBucketPolicy"),
    "change the lifecycle": allow("s3:PutLifecycleConfiguration"),
    "suspend versioning": allow("s3:PutBucketVersioning"),
    "replicate elsewhere": allow("s3:PutReplicationConfiguration"),
    "change encryption": allow("s3:PutEncryptionConfiguration"),
    "bypass governance retention": allow("s3:BypassGovernanceRetention"),
    "schedule the key's deletion": allow("kms:ScheduleKeyDeletion", KEY_ARN),
    "disable the key": allow("kms:DisableKey", KEY_ARN),
    "write the key policy": allow("kms:PutKeyPolicy", KEY_ARN),
    "another bucket": allow("s3:GetObject", "arn:aws:s3:::payroll/*"),
    "every bucket": allow("s3:PutObject", "arn:aws:s3:::*/*"),
    "buckets by wildcard": allow("s3:PutObject", "arn:aws:s3:::recordings*"),
    "any resource": allow("s3:GetObject", "*"),
    "a key by wildcard": allow("kms:Decrypt", f"arn:aws:kms:eu-west-1:{OWN}:key/*"),
    "pass a role": allow("iam:PassRole", "*"),
    "assume another role": allow("sts:AssumeRole", f"arn:aws:iam::{OWN}:role/admin"),
    "NotAction": {"Effect": "Allow", "NotAction": "s3:DeleteObject", "Resource": "*"},
    "NotResource": {"Effect": "Allow", "Action": "s3:PutObject", "NotResource": BUCKET_ARN},
    "a lowercase action spelling": allow("S3:deleteobject"),
}


@pytest.mark.parametrize("statement", DANGEROUS_GRANTS.values(), ids=DANGEROUS_GRANTS.keys())
def test_every_grant_that_deletes_reconfigures_or_reaches_further_is_mandatory(statement):
    diagnostics = analyze_stack([role(), role_policy(writer_doc(statement))])
    assert policies_reported(diagnostics) == {"aws.role.permissions.stack"}, diagnostics
    assert {(d.level, d.urn) for d in diagnostics} == {("mandatory", urn(RP, "writer-policy"))}


def managed(name: str, doc: str) -> Resource:
    return Resource(IAM_POLICY, name, {"arn": f"arn:aws:iam::{OWN}:policy/{name}", "policy": doc})


BROAD = writer_doc(allow("s3:*"))


@pytest.mark.parametrize(
    "resources",
    [
        [managed("extra", BROAD), Resource(ATTACHMENT, "attach", {"role": "writer-1234567", "policyArn": f"arn:aws:iam::{OWN}:policy/extra"})],
        [managed("extra", BROAD), Resource("aws:iam/policyAttachment:PolicyAttachment", "attach",
                                           {"roles": ["writer-1234567"], "policyArn": f"arn:aws:iam::{OWN}:policy/extra"})],
        [managed("extra", BROAD), Resource("aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive", "attach",
                                           {"roleName": "writer-1234567", "policyArns": [f"arn:aws:iam::{OWN}:policy/extra"]})],
        [Resource(ATTACHMENT, "attach", {"role": "writer-1234567", "policyArn": "arn:aws:iam::aws:policy/AmazonS3FullAccess"})],
        [Resource("aws:iam/policyAttachment:PolicyAttachment", "attach",
                  {"roles": ["writer-1234567", "app"], "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"})],
        [Resource("aws-native:iam:ManagedPolicy", "extra", {"policyDocument": json.loads(BROAD), "roles": ["writer-1234567"]})],
        [Resource("aws-native:iam:RolePolicy", "extra", {"policyDocument": json.loads(BROAD), "roleName": "writer-1234567"})],
        [Resource(ATTACHMENT, "attach", {"role": UNKNOWN, "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}, {"role": ["writer"]})],
    ],
    ids=["RolePolicyAttachment", "PolicyAttachment", "RolePolicyAttachmentsExclusive", "AWS-managed S3 full access",
         "AdministratorAccess to two roles", "aws-native ManagedPolicy", "aws-native RolePolicy", "by property dependency"],
)
def test_every_path_a_grant_can_take_to_the_writer_is_followed(resources):
    diagnostics = analyze_stack([role(), role_policy(writer_doc()), *resources])
    assert policies_reported(diagnostics) == {"aws.role.permissions.stack"}, diagnostics


def test_grants_through_the_roles_own_outputs_are_counted_once():
    bad = writer_doc(allow("s3:DeleteObject"))
    stack = [role(inlinePolicies=[{"name": "writer-policy", "policy": bad}]), role_policy(bad)]
    assert len(analyze_stack(stack)) == 1


SAFE_STACKS = {
    "the kit's grant with KMS": [role(), role_policy(writer_doc(key=KEY_ARN))],
    "the writer split by resource": [role(), role_policy(json.dumps({"Statement": [
        allow(["s3:ListBucket", "s3:ListBucketVersions", "s3:ListBucketMultipartUploads"], BUCKET_ARN),
        allow(["s3:PutObject", "s3:GetObject", "s3:GetObjectVersion", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
              f"{BUCKET_ARN}/*")]}))],
    "the writer split over two policies": [role(), role_policy(json.dumps({"Statement": [allow("s3:PutObject", f"{BUCKET_ARN}/*")]})),
                                           role_policy(json.dumps({"Statement": [allow("s3:ListBucket", BUCKET_ARN)]}), name="list")],
    "an extra Deny": [role(), role_policy(writer_doc({"Effect": "Deny", "Action": "s3:*", "Resource": "*",
                                                      "Condition": {"Bool": {"aws:SecureTransport": "false"}}}))],
    "a narrowing condition": [role(), role_policy(json.dumps({"Statement": [{**allow("s3:PutObject", f"{BUCKET_ARN}/*"),
                                                                             "Condition": {"StringEquals": {"s3:x-amz-server-side-encryption": "AES256"}}}]}))],
    "an unrelated app role with broad rights": [role(), role_policy(writer_doc()),
                                                role("app", json.dumps({"Statement": [{"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                                                                                      "Action": "sts:AssumeRole"}]})),
                                                role_policy(json.dumps({"Statement": [allow("*", "*")]}), role_ref="app-1234567", name="app-admin"),
                                                Resource(ATTACHMENT, "app-attach", {"role": "app-1234567", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"})],
}


@pytest.mark.parametrize("stack", SAFE_STACKS.values(), ids=SAFE_STACKS.keys())
def test_safe_writer_variants_raise_nothing(stack):
    assert analyze_stack(stack) == []


def test_a_read_beyond_the_writers_is_advisory_only():
    diagnostic = only(analyze_stack([role(), role_policy(writer_doc(allow("s3:GetBucketLocation", BUCKET_ARN)))]), "aws.role.least_privilege")
    assert diagnostic.level == "advisory"


def test_two_buckets_for_one_tavus_role_are_mandatory_on_the_role():
    stack = [role(), role_policy(writer_doc()), role_policy(writer_doc(bucket="arn:aws:s3:::elsewhere"), name="second")]
    diagnostic = only(analyze_stack(stack), "aws.role.permissions.stack")
    assert diagnostic.urn == urn(ROLE, "writer") and "elsewhere, recordings" in diagnostic.message


def test_grants_wait_for_unknowns_but_follow_property_dependencies():
    bad = writer_doc(allow("s3:*"))
    assert analyze_stack([role(), role_policy(bad, role_ref=UNKNOWN)]) == []
    only(analyze_stack([role(), role_policy(bad, role_ref=UNKNOWN, role=["writer"])]), "aws.role.permissions.stack")
    assert analyze_stack([role(trust=UNKNOWN), role_policy(bad)]) == []
    assert analyze_stack([role(), role_policy(UNKNOWN)]) == []
    assert analyze_stack([role(inlinePolicies=UNKNOWN_ARRAY_VALUE, managedPolicyArns=UNKNOWN_ARRAY_VALUE)]) == []


# --- the recordings bucket ------------------------------------------------------------------------------------


def recording_stack(*extra: Resource, bucket_props: Any = None) -> list[Resource]:
    bucket = Resource(S3_BUCKET, "bucket", {"bucket": "recordings", "arn": BUCKET_ARN, "forceDestroy": False, **(bucket_props or {})})
    versioning = Resource(VERSIONING, "versioning", {"bucket": "recordings", "versioningConfiguration": {"status": "Enabled"}})
    pab = Resource(PAB, "pab", {"bucket": "recordings", **FLAGS})
    return [role(), role_policy(writer_doc()), bucket, versioning, pab, *extra]


def bucket_policy(*statements: dict[str, Any], name: str = "policy") -> Resource:
    doc = aws_policy.tls_only_bucket_policy(BUCKET_ARN)
    doc["Statement"] += list(statements)
    return Resource(BUCKET_POLICY, name, {"bucket": "recordings", "policy": json.dumps(doc)})


def grant_to(principal: Any, **condition: Any) -> dict[str, Any]:
    statement = {"Effect": "Allow", "Principal": principal, "Action": "s3:GetObject", "Resource": f"{BUCKET_ARN}/*"}
    return {**statement, "Condition": condition} if condition else statement


SHARING = {
    "another account": grant_to({"AWS": f"arn:aws:iam::{OTHER}:root"}),
    "another account, bare": grant_to({"AWS": OTHER}),
    "a role in another account": grant_to({"AWS": f"arn:aws:iam::{OTHER}:role/analytics"}),
    "everyone": grant_to("*"),
    "everyone in AWS": grant_to({"AWS": "*"}),
    "everyone from one network": grant_to("*", IpAddress={"aws:SourceIp": "198.51.100.0/24"}),
    "everyone in an organization": grant_to("*", StringEquals={"aws:PrincipalOrgID": "o-abc123"}),
    "a service for anyone": grant_to({"Service": "logging.s3.amazonaws.com"}),
    "NotPrincipal": {"Effect": "Allow", "NotPrincipal": {"AWS": OTHER}, "Action": "s3:GetObject", "Resource": f"{BUCKET_ARN}/*"},
    "the whole bucket by wildcard": {**grant_to({"AWS": OTHER}), "Resource": "arn:aws:s3:::recordings*"},
    "a federated user": grant_to({"Federated": "cognito-identity.amazonaws.com"}),
}


@pytest.mark.parametrize("statement", SHARING.values(), ids=SHARING.keys())
def test_a_recordings_bucket_shared_beyond_your_accounts_is_mandatory(statement):
    config = {"aws.bucket.access.stack": {"ownAccounts": [OWN]}}
    diagnostic = only(analyze_stack(recording_stack(bucket_policy(statement)), config=config), "aws.bucket.access.stack")
    assert diagnostic.urn == urn(BUCKET_POLICY, "policy")


def test_your_own_accounts_and_pinned_services_may_be_granted():
    config = {"aws.bucket.access.stack": {"ownAccounts": [OWN]}}
    own = [grant_to({"AWS": f"arn:aws:iam::{OWN}:role/analytics"}), grant_to("*", StringEquals={"aws:PrincipalAccount": OWN}),
           grant_to({"Service": "logging.s3.amazonaws.com"}, StringEquals={"aws:SourceAccount": OWN})]
    assert analyze_stack(recording_stack(bucket_policy(*own)), config=config) == []
    # Unconfigured, the pack cannot tell an account is yours: it says so.
    assert "ownAccounts" in only(analyze_stack(recording_stack(bucket_policy(own[0]))), "aws.bucket.access.stack").message


def test_public_acls_on_the_recordings_bucket_are_mandatory():
    only(analyze_stack(recording_stack(bucket_props={"acl": "public-read"})), "aws.bucket.access.stack")
    acl = Resource("aws:s3/bucketAcl:BucketAcl", "acl", {"bucket": "recordings", "accessControlPolicy": {
        "owner": {"id": "owner"}, "grants": [{"grantee": {"type": "Group", "uri": "http://acs.amazonaws.com/groups/global/AllUsers"},
                                              "permission": "READ"}]}})
    only(analyze_stack(recording_stack(acl)), "aws.bucket.access.stack")


def test_buckets_tavus_does_not_write_to_are_not_this_packs_business():
    website = Resource(S3_BUCKET, "site", {"bucket": "www", "arn": "arn:aws:s3:::www"})
    public = Resource(BUCKET_POLICY, "site-policy", {"bucket": "www", "policy": json.dumps({"Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::www/*"}]})})
    pab = Resource(PAB, "site-pab", {"bucket": "www", **FLAGS})
    versioning = Resource(VERSIONING, "site-versioning", {"bucket": "www", "versioningConfiguration": {"status": "Enabled"}})
    assert analyze_stack([*recording_stack(), website, public, pab, versioning]) == []


REPLICATION = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"


def replication(destination: dict[str, Any], status: str = "Enabled") -> Resource:
    return Resource(REPLICATION, "replication", {"bucket": "recordings", "role": "arn:aws:iam::x:role/r",
                                                 "rules": [{"id": "all", "status": status, "destination": destination}]})


def test_replication_to_a_bucket_not_proved_yours_is_mandatory():
    config = {"aws.bucket.replication": {"ownAccounts": [OWN]}}
    for destination in ({"bucket": "arn:aws:s3:::elsewhere", "account": OTHER}, {"bucket": "arn:aws:s3:::elsewhere"}):
        only(analyze_stack(recording_stack(replication(destination)), config=config), "aws.bucket.replication")
    mirror = Resource(S3_BUCKET, "mirror", {"bucket": "mirror", "arn": "arn:aws:s3:::mirror"})
    safe = [replication({"bucket": "arn:aws:s3:::mirror"}), mirror, Resource(VERSIONING, "mv", {"bucket": "mirror", "versioningConfiguration": {"status": "Enabled"}}),
            Resource(PAB, "mp", {"bucket": "mirror", **FLAGS})]
    assert analyze_stack(recording_stack(*safe), config=config) == []
    assert analyze_stack(recording_stack(replication({"bucket": "arn:aws:s3:::x", "account": OWN})), config=config) == []
    assert analyze_stack(recording_stack(replication({"bucket": "arn:aws:s3:::x"}, status="Disabled")), config=config) == []
    inline = {"replicationConfiguration": {"role": "r", "rules": [{"status": "Enabled", "destination": {"bucket": "arn:aws:s3:::x"}}]}}
    only(analyze_stack(recording_stack(bucket_props=inline)), "aws.bucket.replication")


LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
COMPONENT = "tavus-recording:index:S3RecordingStorage"


def lifecycle(*rules: dict[str, Any]) -> Resource:
    return Resource(LIFECYCLE, "lifecycle", {"bucket": "recordings", "rules": list(rules)})


def expire(days: Any = None, date: Any = None, status: str = "Enabled") -> dict[str, Any]:
    expiration = {k: v for k, v in {"days": days, "date": date}.items() if v is not None}
    return {"id": "expire", "status": status, "filter": {}, "expiration": expiration}


def with_component(stack: list[Resource], retention: Any) -> list[Resource]:
    component = Resource(COMPONENT, "tavus-recordings", {"retentionDays": retention})
    stack = [component, *stack]
    for resource in stack:
        if resource.type == S3_BUCKET:
            resource.parent = component.urn
    return stack


def test_lifecycle_that_deletes_current_recordings_early_is_mandatory():
    kit = [{"id": "expire-noncurrent-versions", "status": "Enabled", "filter": {}, "noncurrentVersionExpiration": {"noncurrentDays": 30}},
           {"id": "abort", "status": "Enabled", "filter": {}, "abortIncompleteMultipartUpload": {"daysAfterInitiation": 7}}]
    assert analyze_stack(recording_stack(lifecycle(*kit))) == []
    assert analyze_stack(with_component(recording_stack(lifecycle(*kit, expire(365))), 365)) == []
    for rule in (expire(1), expire(364), expire(date="2027-01-01T00:00:00Z"),
                 {**expire(1), "filter": {"prefix": "conversations/"}}, {"id": "x", "status": "Enabled", "expiration": {"days": 1}}):
        only(analyze_stack(with_component(recording_stack(lifecycle(*kit, rule)), 365)), "aws.bucket.lifecycle")
    # No retention anywhere: any expiry of current recordings is a loss.
    only(analyze_stack(recording_stack(lifecycle(expire(3650)))), "aws.bucket.lifecycle")
    assert analyze_stack(recording_stack(lifecycle(expire(3650))), config={"aws.bucket.lifecycle": {"retentionDays": 3650}}) == []
    assert analyze_stack(recording_stack(lifecycle(expire(1, status="Disabled")))) == []
    assert analyze_stack(recording_stack(lifecycle({"id": "markers", "status": "Enabled", "expiration": {"expiredObjectDeleteMarker": True}}))) == []
    only(analyze_stack(recording_stack(bucket_props={"lifecycleRules": [{"enabled": True, "expiration": {"days": 1}}]})), "aws.bucket.lifecycle")


def test_a_disabled_key_under_the_recordings_is_mandatory():
    key = Resource("aws:kms/key:Key", "key", {"arn": KEY_ARN, "isEnabled": False})
    encryption = Resource("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "sse",
                          {"bucket": "recordings", "rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": KEY_ARN},
                                                              "blockedEncryptionTypes": ["SSE-C"]}]})
    only(analyze_stack(recording_stack(key, encryption)), "aws.kms.key")
    key.props["isEnabled"] = True
    assert analyze_stack(recording_stack(key, encryption)) == []


def test_a_bucket_without_versioning_or_public_access_block_is_reported_on_the_bucket():
    bucket = Resource(S3_BUCKET, "bucket", {"bucket": "recordings", "arn": BUCKET_ARN})
    diagnostics = analyze_stack([bucket])
    assert policies_reported(diagnostics) == {"aws.bucket.versioning", "aws.bucket.public_access_block"}
    assert {d.urn for d in diagnostics} == {bucket.urn} and all(d.level == "mandatory" for d in diagnostics)


def test_an_account_wide_public_access_block_covers_every_bucket():
    stack = [r for r in recording_stack() if r.type != PAB]
    only(analyze_stack(stack), "aws.bucket.public_access_block")
    account = Resource("aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock", "account", FLAGS)
    assert analyze_stack([*stack, account]) == []
    account.props = {**FLAGS, "restrictPublicBuckets": False}
    only(analyze_stack([*stack, account]), "aws.bucket.public_access_block")


def test_suspended_versioning_and_an_open_flag_are_reported_on_the_setting():
    stack = recording_stack()
    versioning = next(r for r in stack if r.type == VERSIONING)
    pab = next(r for r in stack if r.type == PAB)
    versioning.props["versioningConfiguration"]["status"] = "Suspended"
    pab.props["restrictPublicBuckets"] = False
    assert {(d.policy, d.urn) for d in analyze_stack(stack)} == {
        ("aws.bucket.versioning", versioning.urn),
        ("aws.bucket.public_access_block", pab.urn),
    }


def test_bucket_settings_wait_for_unknowns_but_follow_property_dependencies():
    bucket = Resource(S3_BUCKET, "bucket", {"bucket": "recordings", "arn": BUCKET_ARN})
    versioning = Resource(VERSIONING, "versioning", {"bucket": UNKNOWN, "versioningConfiguration": {"status": "Suspended"}})
    pab = Resource(PAB, "pab", {"bucket": UNKNOWN, **FLAGS})
    assert analyze_stack([bucket, versioning, pab]) == []
    versioning.deps = pab.deps = {"bucket": ["bucket"]}
    only(analyze_stack([bucket, versioning, pab]), "aws.bucket.versioning")
    pab.props["blockPublicAcls"] = UNKNOWN_BOOLEAN_VALUE
    versioning.props["versioningConfiguration"] = UNKNOWN
    assert analyze_stack([bucket, versioning, pab]) == []


def test_the_deprecated_inline_versioning_counts():
    bucket = Resource(S3_BUCKET, "bucket", {"bucket": "recordings", "versioning": {"enabled": True}})
    assert analyze_stack([bucket, Resource(PAB, "pab", {"bucket": "recordings", **FLAGS})]) == []


def test_enforcement_levels_come_from_the_config_file_per_policy():
    props = {"forceDestroy": True}
    assert only(analyze(S3_BUCKET, props), "aws.bucket.force_destroy").level == "advisory"
    assert only(analyze(S3_BUCKET, props, config={"aws.bucket.force_destroy": "mandatory"}), "aws.bucket.force_destroy").level == "mandatory"
    assert analyze(S3_BUCKET, props, config={"aws.bucket.force_destroy": "disabled"}) == []
    lowered = {"aws.role.trust": {"enforcementLevel": "advisory"}}
    bad = json.dumps(TRUST_ATTACKS["no ExternalId"])
    assert only(analyze(ROLE, {"assumeRolePolicy": bad, "maxSessionDuration": 43200}, config=lowered), "aws.role.trust").level == "advisory"

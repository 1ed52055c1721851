"""The AWS guardrails against the red team's corpus: the rules, the pack's policies and the stack policies,
each attack in several spellings beside the safe look-alikes a platform team would write.

Every case asserts the safe expectation, so a failure names what went wrong:
  - kind "attack": an unsafe input; it must be reported (a violation; for the can-write evaluation a
    violation or an unknown, never a pass).                        failure = MISS
  - kind "safe":   a safe look-alike; it must not be a violation.  failure = FALSE ALARM
  - kind "odd":    odd input; the rule or policy must not raise.    failure = CRASH
Known residuals are marked xfail(strict=True) with the reason, so fixing one fails the run until the
mark goes. The verify attacks that need live reads are in tests/tool/test_verify_aws.py.
"""

from __future__ import annotations

import datetime
import json
import traceback
from dataclasses import dataclass
from typing import Any, Callable, Optional

import pytest
from pulumi_policy.proxy import UNKNOWN_NUMBER_VALUE

from components import aws_policy
from pack_harness import UNKNOWN, Resource, analyze, analyze_stack
from tavus_recording.rules import aws as R
from tavus_recording.rules.aws import PolicyDoc

# --- constants -----------------------------------------------------------------------------------------

TAVUS_ID = "291871421005"
TAVUS = f"arn:aws:iam::{TAVUS_ID}:root"
OWN = "111122223333"
OTHER = "444455556666"
BUCKET = "recordings"
BUCKET_ARN = f"arn:aws:s3:::{BUCKET}"
KEY_ARN = f"arn:aws:kms:eu-west-1:{OWN}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"
OTHER_KEY = f"arn:aws:kms:eu-west-1:{OWN}:key/9999abcd-12ab-34cd-56ef-000000000000"
FOREIGN_KEY = f"arn:aws:kms:eu-west-1:{OTHER}:key/5555abcd-12ab-34cd-56ef-000000000000"
ROLE_ARN = f"arn:aws:iam::{OWN}:role/writer-1234567"

ROLE = "aws:iam/role:Role"
NATIVE_ROLE = "aws-native:iam:Role"
RP = "aws:iam/rolePolicy:RolePolicy"
NATIVE_RP = "aws-native:iam:RolePolicy"
IAM_POLICY = "aws:iam/policy:Policy"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
POLICY_ATTACHMENT = "aws:iam/policyAttachment:PolicyAttachment"
EXCLUSIVE = "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive"
S3_BUCKET = "aws:s3/bucket:Bucket"
NATIVE_BUCKET = "aws-native:s3:Bucket"
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
PAB = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
NATIVE_BUCKET_POLICY = "aws-native:s3:BucketPolicy"
ACCESS_POINT = "aws:s3/accessPoint:AccessPoint"
ACL_V2 = "aws:s3/bucketAclV2:BucketAclV2"
REPLICATION = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
LIFECYCLE_V2 = "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2"
SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
KMS_KEY = "aws:kms/key:Key"
NATIVE_KMS_KEY = "aws-native:kms:Key"
REPLICA_KEY = "aws:kms/replicaKey:ReplicaKey"
COMPONENT = "tavus-recording:index:S3RecordingStorage"
FLAGS = {"blockPublicAcls": True, "blockPublicPolicy": True, "ignorePublicAcls": True, "restrictPublicBuckets": True}
OWN_CONFIG = {"aws.bucket.access.stack": {"ownAccounts": [OWN]}, "aws.bucket.replication": {"ownAccounts": [OWN]}}

KIT = aws_policy.trust_policy()["Statement"][0]
TRUST = json.dumps(aws_policy.trust_policy())


# --- the case machinery -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    rule: str
    kind: str  # attack | safe | odd
    name: str
    check: Callable[[], tuple[bool, Any]]
    note: str = ""

    @property
    def id(self) -> str:
        return f"{self.rule}|{self.kind}|{self.name}"


CASES: list[Case] = []


def case(rule: str, kind: str, name: str, check: Callable[[], tuple[bool, Any]], note: str = "") -> None:
    CASES.append(Case(rule, kind, name, check, note))


def violations(findings: list[R.Finding], rule: Optional[str] = None) -> list[R.Finding]:
    return [f for f in findings if not f.unknown and (rule is None or f.rule == rule)]


def mandatory(diagnostics: list[Any], policy: Optional[str] = None) -> list[Any]:
    return [d for d in diagnostics if d.level == "mandatory" and (policy is None or d.policy == policy)]


# --- trust ----------------------------------------------------------------------------------------------------


def doc(*statements: Any) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def tavus_st(**changes: Any) -> dict[str, Any]:
    statement = {**KIT, **changes}
    return {k: v for k, v in statement.items() if v is not None}


def ext(operator: str = "StringEquals", value: Any = "tavus", key: str = "sts:ExternalId") -> dict[str, Any]:
    return {operator: {key: value}}


def trust_rule_attack(name: str, document: Any, external_id: Optional[str] = None, note: str = "") -> None:
    def check() -> tuple[bool, Any]:
        recognised = R.is_tavus_trust(document, external_id)
        found = R.trust_findings(document, external_id)
        return recognised and bool(violations(found)), {"is_tavus_trust": recognised, "findings": found}

    case("trust:rules", "attack", name, check, note)


def trust_rule_safe(name: str, document: Any, external_id: Optional[str] = None, note: str = "") -> None:
    def check() -> tuple[bool, Any]:
        if not R.is_tavus_trust(document, external_id):
            return True, "not a Tavus trust"
        found = violations(R.trust_findings(document, external_id))
        return not found, found

    case("trust:rules", "safe", name, check, note)


def role_props(trust: Any, native: bool = False, **extra: Any) -> dict[str, Any]:
    key = "assumeRolePolicyDocument" if native else "assumeRolePolicy"
    return {key: trust, "maxSessionDuration": 43200, **extra}


def trust_pack_attack(name: str, trust: Any, config: Optional[dict] = None, native: bool = False, note: str = "") -> None:
    def check() -> tuple[bool, Any]:
        diagnostics = analyze(NATIVE_ROLE if native else ROLE, role_props(trust, native), config=config)
        return bool(mandatory(diagnostics, "aws.role.trust")), diagnostics

    case("trust:pack", "attack", name, check, note)


def trust_pack_safe(name: str, trust: Any, config: Optional[dict] = None, native: bool = False, note: str = "") -> None:
    def check() -> tuple[bool, Any]:
        diagnostics = analyze(NATIVE_ROLE if native else ROLE, role_props(trust, native), config=config)
        return not mandatory(diagnostics), diagnostics

    case("trust:pack", "safe", name, check, note)


TRUST_ATTACKS: dict[str, dict[str, Any]] = {
    "second statement, principal kind spelled 'aws'": doc(KIT, {"Effect": "Allow", "Principal": {"aws": OTHER}, "Action": "sts:AssumeRole"}),
    "only statement: kind 'aws' names Tavus, no ExternalId (role not recognised)": doc(
        {"Effect": "Allow", "Principal": {"aws": TAVUS_ID}, "Action": "sts:AssumeRole"}),
    "Principal '*' pinned by ArnLike aws:PrincipalArn to Tavus's account, no ExternalId": doc(
        {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole",
         "Condition": {"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{TAVUS_ID}:*"}}}),
    "Principal '*' pinned by StringEquals aws:PrincipalArn to a Tavus role, no ExternalId": doc(
        {"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole",
         "Condition": {"StringEquals": {"aws:PrincipalArn": f"arn:aws:iam::{TAVUS_ID}:role/recorder"}}}),
    "Principal '*', ExternalId 'TAVUS' by StringEqualsIgnoreCase": doc(
        {"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole", "Condition": ext("StringEqualsIgnoreCase", "TAVUS")}),
    "Principal '*', ExternalId by StringLike 'tav*'": doc(
        {"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole", "Condition": ext("StringLike", "tav*")}),
    "Principal '*', ExternalId by StringLike 'tavu?'": doc(
        {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole", "Condition": ext("StringLike", "tavu?")}),
    "AWS '*' with aws:PrincipalAccount by StringLike": doc(
        {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole",
         "Condition": {"StringLike": {"aws:PrincipalAccount": TAVUS_ID}, **ext()}}),
    "AWS '*' with aws:PrincipalAccount by StringEqualsIfExists": doc(
        {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole",
         "Condition": {"StringEqualsIfExists": {"aws:PrincipalAccount": TAVUS_ID}, **ext()}}),
    "ExternalId by ForAllValues:StringEquals (true when absent)": doc(tavus_st(Condition=ext("ForAllValues:StringEquals"))),
    "ExternalId only by Null=false": doc(tavus_st(Condition={"Null": {"sts:ExternalId": "false"}})),
    "operator look-alike 'StringEquals ' (trailing space)": doc(tavus_st(Condition=ext("StringEquals "))),
    "condition key look-alike (Cyrillic E in ExternalId)": doc(tavus_st(Condition=ext(key="sts:\u0415xternalId"))),
    "Tavus assumed-role session ARN, no ExternalId": doc(
        tavus_st(Principal={"AWS": f"arn:aws:sts::{TAVUS_ID}:assumed-role/recorder/s"}, Condition=None)),
    "Statement as an object, other account with the ExternalId": {"Statement": tavus_st(Principal={"AWS": OTHER})},
    "Tavus plus a unique id (AROA...)": doc(tavus_st(Principal={"AWS": [TAVUS, "AROAEXAMPLEUNIQUEID1"]})),
    "Tavus plus a CanonicalUser": doc(tavus_st(Principal={"AWS": TAVUS, "CanonicalUser": "79a59df900b949e55d96a1e698fbace"})),
    "Action 'sts:AssumeRole*'": doc(tavus_st(Action="sts:AssumeRole*")),
    "Action 'sts:Assume?ole'": doc(tavus_st(Action="sts:Assume?ole")),
    "Action list AssumeRole + AssumeRoleWithWebIdentity": doc(tavus_st(Action=["sts:AssumeRole", "sts:AssumeRoleWithWebIdentity"])),
    "Tavus account with fullwidth digits + ExternalId": doc(tavus_st(Principal={"AWS": "arn:aws:iam::\uff12\uff19\uff11871421005:root"})),
    "Tavus in aws-us-gov partition plus ExternalId": doc(tavus_st(Principal={"AWS": f"arn:aws-us-gov:iam::{TAVUS_ID}:root"})),
    "NotPrincipal Allow with ExternalId": doc({"Effect": "Allow", "NotPrincipal": {"AWS": OTHER}, "Action": "sts:AssumeRole", "Condition": ext()}),
    "Effect 'allow' (lower case) for another account with ExternalId": doc(KIT, tavus_st(Effect="allow", Principal={"AWS": OTHER})),
}
for _name, _doc in TRUST_ATTACKS.items():
    trust_rule_attack(_name, _doc, "tavus")
    trust_pack_attack(_name, json.dumps(_doc))
trust_pack_attack("aws-native role, trust as a JSON string, another account", json.dumps(doc(KIT, tavus_st(Principal={"AWS": OTHER}))), native=True)
trust_pack_attack("aws-native role, 'aws' kind", doc(KIT, {"Effect": "Allow", "Principal": {"aws": OTHER}, "Action": "sts:AssumeRole"}), native=True)

_ACME = {"aws.role.trust": {"externalId": "acme-7f3a"}}
trust_rule_attack("configured ExternalId 'acme-7f3a'; Principal '*' with ExternalId 'tavus' (role not recognised)",
                  doc({"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole", "Condition": ext()}), "acme-7f3a",
                  note="gray: is it 'meant for Tavus'? Tavus can assume it, and so can anyone")
trust_pack_attack("configured ExternalId 'acme-7f3a'; Principal '*' with ExternalId 'tavus' (role not recognised)",
                  json.dumps(doc({"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole", "Condition": ext()})), config=_ACME)

# Parser differential: JSON text with duplicate keys. Python keeps the last; a reader that keeps the first
# (or rejects) sees something else. The pack should at least refuse to pass an ambiguous document.
_dup_principal = ('{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"%s"},'
                  '"Principal":{"AWS":"%s"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"tavus"}}}]}'
                  % (OTHER, TAVUS))
_dup_condition = ('{"Statement":[{"Effect":"Allow","Principal":{"AWS":"%s"},"Action":"sts:AssumeRole",'
                  '"Condition":{"StringLike":{"sts:ExternalId":"*"}},"Condition":{"StringEquals":{"sts:ExternalId":"tavus"}}}]}' % TAVUS)
_dup_effect = ('{"Statement":[%s,{"Effect":"Allow","Principal":{"AWS":"%s"},"Action":"sts:AssumeRole","Effect":"Deny"}]}'
               % (json.dumps(KIT), OTHER))
_dup_operator = ('{"Statement":[{"Effect":"Allow","Principal":{"AWS":"%s"},"Action":"sts:AssumeRole",'
                 '"Condition":{"StringLike":{"sts:ExternalId":"*"},"StringLike":{"aws:PrincipalType":"AssumedRole"},'
                 '"StringEquals":{"sts:ExternalId":"tavus"}}}]}' % TAVUS)
trust_pack_attack("duplicate Principal key (another account first, Tavus last)", _dup_principal, note="parser differential")
trust_pack_attack("duplicate Condition key (StringLike '*' first)", _dup_condition, note="parser differential")
trust_pack_attack("duplicate Effect key (Allow first, Deny last) on another account's statement", _dup_effect, note="parser differential")
trust_pack_attack("UTF-8 BOM before the JSON, another account admitted", "\ufeff" + json.dumps(doc(KIT, tavus_st(Principal={"AWS": OTHER}))),
                  note="only a miss if IAM/the provider accept a BOM")

TRUST_SAFE: dict[str, dict[str, Any]] = {
    "the kit's own": aws_policy.trust_policy(),
    "bare account id": doc(tavus_st(Principal={"AWS": TAVUS_ID})),
    "Tavus assumed-role session ARN + ExternalId": doc(tavus_st(Principal={"AWS": f"arn:aws:sts::{TAVUS_ID}:assumed-role/recorder/s"})),
    "Tavus twice in a list": doc(tavus_st(Principal={"AWS": [TAVUS, TAVUS_ID]})),
    "Action list with the same action in two cases": doc(tavus_st(Action=["sts:AssumeRole", "STS:assumerole"])),
    "Statement as an object": {"Statement": tavus_st()},
    "extra narrowing IpAddress condition": doc(tavus_st(Condition={**ext(), "IpAddress": {"aws:SourceIp": "203.0.113.0/24"}})),
    "extra narrowing aws:PrincipalAccount": doc(tavus_st(Condition={"StringEquals": {"sts:ExternalId": "tavus", "aws:PrincipalAccount": TAVUS_ID}})),
    "extra narrowing ForAnyValue on top of StringEquals": doc(tavus_st(Condition={**ext(), "ForAnyValue:StringLike": {"aws:PrincipalTag/x": "y*"}})),
    "extra Deny: wrong ExternalId (StringNotEquals)": doc(KIT, {"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole",
                                                                "Condition": {"StringNotEquals": {"sts:ExternalId": "tavus"}}}),
    "extra Deny: NotPrincipal Tavus": doc(KIT, {"Effect": "Deny", "NotPrincipal": {"AWS": TAVUS}, "Action": "sts:AssumeRole"}),
    "extra Deny: everything but AssumeRole": doc(KIT, {"Effect": "Deny", "Principal": {"AWS": "*"}, "NotAction": "sts:AssumeRole"}),
    "extra Deny of one other role in Tavus's account": doc(KIT, {"Effect": "Deny", "Principal": {"AWS": f"arn:aws:iam::{TAVUS_ID}:role/not-the-recorder"},
                                                                "Action": "sts:AssumeRole"}),
    "Principal '*' pinned by StringEquals aws:PrincipalArn to a Tavus role + ExternalId": doc(
        {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole",
         "Condition": {"StringEquals": {"aws:PrincipalArn": f"arn:aws:iam::{TAVUS_ID}:role/recorder", "sts:ExternalId": "tavus"}}}),
    "ExternalId list with one value twice": doc(tavus_st(Condition=ext(value=["tavus", "tavus"]))),
    "unrelated partner role (other account, its own ExternalId)": doc({"Effect": "Allow", "Principal": {"AWS": OTHER}, "Action": "sts:AssumeRole",
                                                                         "Condition": ext(value="partner-42")}),
    "unrelated lambda role": doc({"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}),
}
_TRUST_SAFE_NOTES = {
    "extra Deny of one other role in Tavus's account": "the deny may not concern the recorder: unknown would do",
    "Principal '*' pinned by StringEquals aws:PrincipalArn to a Tavus role + ExternalId": "allow-list strictness: arguably by design",
    "ExternalId list with one value twice": "trivial",
}
for _name, _doc in TRUST_SAFE.items():
    trust_rule_safe(_name, _doc, "tavus", _TRUST_SAFE_NOTES.get(_name, ""))
    trust_pack_safe(_name, json.dumps(_doc), note=_TRUST_SAFE_NOTES.get(_name, ""))
trust_pack_safe("aws-native kit trust as a JSON string", TRUST, native=True)
trust_pack_safe("configured ExternalId, kit trust with that id", json.dumps(aws_policy.trust_policy("acme-7f3a")), config=_ACME)

# --- session ---------------------------------------------------------------------------------------------------

for _v in (None, 3600, 43199.5, "43200", True, [43200], 86400):
    case("session:rules", "attack", f"maxSessionDuration {_v!r}", lambda v=_v: (bool(R.session_findings(v)), R.session_findings(v)))
for _v in (43200, 43200.0):
    case("session:rules", "safe", f"maxSessionDuration {_v!r}", lambda v=_v: (not R.session_findings(v), R.session_findings(v)))
case("session:pack", "safe", "maxSessionDuration unknown at preview",
     lambda: (not analyze(ROLE, {"assumeRolePolicy": TRUST, "maxSessionDuration": UNKNOWN_NUMBER_VALUE}),
              analyze(ROLE, {"assumeRolePolicy": TRUST, "maxSessionDuration": UNKNOWN_NUMBER_VALUE})))

# --- permissions -------------------------------------------------------------------------------------------------


def role(name: str = "writer", trust: Any = TRUST, arn: Optional[str] = None, **props: Any) -> Resource:
    return Resource(ROLE, name, {"name": f"{name}-1234567", "arn": arn or f"arn:aws:iam::{OWN}:role/{name}-1234567",
                                 "assumeRolePolicy": trust, "maxSessionDuration": 43200, **props})


def writer(*extra: Any, bucket: str = BUCKET_ARN, key: Optional[str] = None) -> dict[str, Any]:
    document = aws_policy.writer_policy(bucket, key)
    document["Statement"] += list(extra)
    return document


def role_policy(document: Any, role_ref: Any = "writer-1234567", name: str = "writer-policy", **deps: list[str]) -> Resource:
    return Resource(RP, name, {"role": role_ref, "policy": document if isinstance(document, str) else json.dumps(document)}, deps)


def allow(action: Any, resource: Any = (BUCKET_ARN, f"{BUCKET_ARN}/*"), **more: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": list(resource) if isinstance(resource, tuple) else resource, **more}


def managed(name: str, document: Any) -> Resource:
    return Resource(IAM_POLICY, name, {"arn": f"arn:aws:iam::{OWN}:policy/{name}", "policy": document if isinstance(document, str) else json.dumps(document)})


def sse(key: str, bucket: str = BUCKET, **deps: list[str]) -> Resource:
    return Resource(SSE, "sse", {"bucket": bucket, "rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": key},
                                                              "blockedEncryptionTypes": ["SSE-C"]}]}, deps)


PERMISSION_POLICIES = ("aws.role.permissions", "aws.role.permissions.stack")


def perm_stack_attack(name: str, stack: list[Resource], note: str = "") -> None:
    def check() -> tuple[bool, Any]:
        diagnostics = analyze_stack(stack)
        return any(d.policy in PERMISSION_POLICIES for d in mandatory(diagnostics)), diagnostics

    case("permissions:pack", "attack", name, check, note)


def perm_stack_safe(name: str, stack: list[Resource], note: str = "") -> None:
    def check() -> tuple[bool, Any]:
        diagnostics = analyze_stack(stack)
        resource_level = [d for r in stack for d in analyze(r.type, r.props, name=r.name)]
        bad = [d for d in mandatory(diagnostics) + mandatory(resource_level) if d.policy in (*PERMISSION_POLICIES, "aws.role.trust")]
        return not bad, bad

    case("permissions:pack", "safe", name, check, note)


def perm_rule_attack(name: str, docs: list[Any], buckets: Any = None, keys: Any = None, note: str = "") -> None:
    def check() -> tuple[bool, Any]:
        found = R.permission_findings([PolicyDoc(f"doc{i}", d) for i, d in enumerate(docs)], buckets, keys)
        return bool(violations(found, R.PERMISSIONS.id)), found

    case("permissions:rules", "attack", name, check, note)


def perm_rule_safe(name: str, docs: list[Any], buckets: Any = None, keys: Any = None, note: str = "") -> None:
    def check() -> tuple[bool, Any]:
        found = R.permission_findings([PolicyDoc(f"doc{i}", d) for i, d in enumerate(docs)], buckets, keys)
        return not violations(found, R.PERMISSIONS.id), found

    case("permissions:rules", "safe", name, check, note)


# Grants added to the writer policy: caught by the rule (buckets None, keys None as the resource policy calls it)
# and by the stack policy.
EXTRA_GRANTS: dict[str, Any] = {
    "kms:Decrypt + GenerateDataKey on another key of the account (no bucket encryption in view)": allow(["kms:Decrypt", "kms:GenerateDataKey"], OTHER_KEY),
    "kms:Decrypt on a key in another account (no bucket encryption in view)": allow("kms:Decrypt", FOREIGN_KEY),
    "element names in lower case (action/resource)": {"Effect": "Allow", "action": "s3:*", "resource": "*"},
    "Allow with 'notAction' (camel case) and Resource '*'": {"Effect": "Allow", "notAction": "iam:*", "Resource": "*"},
    "s3:PutObjectAcl": allow("s3:PutObjectAcl"),
    "s3:PutObjectRetention": allow("s3:PutObjectRetention"),
    "s3:PutObjectLegalHold": allow("s3:PutObjectLegalHold"),
    "s3:DeleteBucketPolicy": allow("s3:DeleteBucketPolicy"),
    "s3:PutBucketAcl": allow("s3:PutBucketAcl"),
    "s3:PutBucketOwnershipControls": allow("s3:PutBucketOwnershipControls"),
    "s3:RestoreObject": allow("s3:RestoreObject"),
    "s3:ReplicateDelete": allow("s3:ReplicateDelete"),
    "s3:PutBucketObjectLockConfiguration": allow("s3:PutBucketObjectLockConfiguration"),
    "s3:*Object (wildcard inside)": allow("s3:*Object"),
    "s3:PutObject? (? wildcard)": allow("s3:PutObject?"),
    "Unicode look-alike action s3:PutObj\u0435ct": allow("s3:PutObj\u0435ct"),
    "action with a leading space": allow(" s3:DeleteObject"),
    "action as a nested list": allow([["s3:DeleteObject"]]),
    "resource with wildcards in region/account: arn:aws:s3:*:*:payroll/*": allow("s3:GetObject", "arn:aws:s3:*:*:payroll/*"),
    "access point ARN of another account": allow("s3:PutObject", f"arn:aws:s3:eu-west-1:{OTHER}:accesspoint/x/object/*"),
    "typo-squat bucket recordingz beside the real one": allow("s3:PutObject", "arn:aws:s3:::recordingz/*"),
    "Upper-case bucket Recordings": allow("s3:GetObject", "arn:aws:s3:::Recordings/*"),
    "Resource list with a non-string": allow("s3:GetObject", [f"{BUCKET_ARN}/*", {"Fn::Join": ["", ["arn:aws:s3:::", "x"]]}]),
    "Allow without Resource": {"Effect": "Allow", "Action": "s3:GetObject"},
    "kms:Decrypt on a key alias ARN": allow("kms:Decrypt", f"arn:aws:kms:eu-west-1:{OWN}:alias/*"),
    "kms:* on the key": allow("kms:*", KEY_ARN),
    "iam:PutRolePolicy on itself": allow("iam:PutRolePolicy", ROLE_ARN),
    "Effect 'Deny ' (trailing space) with s3:*": {"Effect": "Deny ", "Action": "s3:*", "Resource": "*"},
}
_NOTES = {
    "element names in lower case (action/resource)": "IAM may reject lower-case element names; the kit's own principle is 'anything that cannot be proved, in any spelling, is a finding'",
    "Allow with 'notAction' (camel case) and Resource '*'": "same as above",
}
for _name, _st in EXTRA_GRANTS.items():
    perm_rule_attack(_name, [writer(_st)], note=_NOTES.get(_name, ""))
    perm_stack_attack(_name, [role(), role_policy(writer(_st))], note=_NOTES.get(_name, ""))

perm_stack_attack("kms grant on a key while the stack's encryption is SSE-S3 (AES256)",
                  [role(), role_policy(writer(allow(["kms:Decrypt", "kms:GenerateDataKey"], OTHER_KEY))),
                   Resource(S3_BUCKET, "bucket", {"bucket": BUCKET, "arn": BUCKET_ARN}),
                   Resource(SSE, "sse", {"bucket": BUCKET, "rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"},
                                                                       "blockedEncryptionTypes": ["SSE-C"]}]})])
perm_stack_attack("kms grants on two different keys (no SSE-KMS in the stack)",
                  [role(), role_policy(writer(allow("kms:Decrypt", OTHER_KEY), allow("kms:Decrypt", FOREIGN_KEY)))])
perm_rule_attack("kms grant on another key, verify-style keys=[] (SSE-S3)", [writer(allow("kms:Decrypt", OTHER_KEY))], [BUCKET], [])

# Duplicate keys in the JSON text (parser differential).
_W = json.dumps(writer())[:-2]  # drop the closing ']}' to append one raw statement
perm_stack_attack("duplicate Effect (Allow first, Deny last) on s3:*",
                  [role(), role_policy(_W + ',{"Effect":"Allow","Action":"s3:*","Resource":"*","Effect":"Deny"}]}')], note="parser differential")
perm_stack_attack("duplicate Action (s3:* first, s3:PutObject last)",
                  [role(), role_policy(_W + ',{"Effect":"Allow","Action":"s3:*","Action":"s3:PutObject","Resource":"arn:aws:s3:::recordings/*"}]}')],
                  note="parser differential")
perm_stack_attack("duplicate Statement key (broad first, writer last)",
                  [role(), role_policy('{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}],"Statement":%s}' % json.dumps(writer()["Statement"]))],
                  note="parser differential")
perm_stack_attack("attached managed policy with a UTF-8 BOM and s3:*",
                  [role(), role_policy(writer()), managed("extra", "\ufeff" + json.dumps(writer(allow("s3:*")))),
                   Resource(ATTACHMENT, "attach", {"role": "writer-1234567", "policyArn": f"arn:aws:iam::{OWN}:policy/extra"})],
                  note="only a miss if IAM accepts a BOM")

# Paths a grant can take to the role.
_ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
_NARROW = managed("narrow", writer())
_BROAD = managed("broad", writer(allow("s3:*", "*")))
perm_stack_attack("RolePolicyAttachmentsExclusive: two stack policies by dependency, the second broad",
                  [role(), role_policy(writer()), _NARROW, _BROAD,
                   Resource(EXCLUSIVE, "excl", {"roleName": "writer-1234567", "policyArns": [_NARROW.props["arn"], _BROAD.props["arn"]]},
                            {"policyArns": ["narrow", "broad"]})])
perm_stack_attack("RolePolicyAttachmentsExclusive: a stack policy by dependency + AdministratorAccess",
                  [role(), role_policy(writer()), _NARROW,
                   Resource(EXCLUSIVE, "excl", {"roleName": "writer-1234567", "policyArns": [_NARROW.props["arn"], _ADMIN]}, {"policyArns": ["narrow"]})])
perm_stack_attack("RolePolicyAttachmentsExclusive: AdministratorAccess only",
                  [role(), role_policy(writer()), Resource(EXCLUSIVE, "excl", {"roleName": "writer-1234567", "policyArns": [_ADMIN]})])
perm_stack_attack("RolePolicyAttachment with the role name in upper case",
                  [role(), role_policy(writer()), Resource(ATTACHMENT, "attach", {"role": "WRITER-1234567", "policyArn": _ADMIN})],
                  note="IAM role names are case-insensitive")
perm_stack_attack("PolicyAttachment with the role name in mixed case",
                  [role(), role_policy(writer()), Resource(POLICY_ATTACHMENT, "attach", {"roles": ["Writer-1234567"], "policyArn": _ADMIN})],
                  note="IAM role names are case-insensitive")
perm_stack_attack("RolePolicy with the role name in upper case and s3:*",
                  [role(), role_policy(writer()), role_policy(writer(allow("s3:*")), role_ref="WRITER-1234567", name="second")],
                  note="IAM role names are case-insensitive")
perm_stack_attack("RolePolicyAttachment with role given as the role's ARN",
                  [role(), role_policy(writer()), Resource(ATTACHMENT, "attach", {"role": ROLE_ARN, "policyArn": _ADMIN})])
perm_stack_attack("RolePolicy with role given as the role's ARN",
                  [role(), role_policy(writer()), role_policy(writer(allow("s3:DeleteObject")), role_ref=ROLE_ARN, name="second")])
perm_stack_attack("role with a path, attachment by bare name",
                  [role(arn=f"arn:aws:iam::{OWN}:role/service/writer-1234567"), role_policy(writer()),
                   Resource(ATTACHMENT, "attach", {"role": "writer-1234567", "policyArn": _ADMIN})])
perm_stack_attack("renamed role (name differs from resource name), attachment by dependency with unknown value",
                  [Resource(ROLE, "writer", {"name": "renamed-role", "arn": f"arn:aws:iam::{OWN}:role/renamed-role", "assumeRolePolicy": TRUST,
                                             "maxSessionDuration": 43200}), role_policy(writer(), role_ref="renamed-role"),
                   Resource(ATTACHMENT, "attach", {"role": UNKNOWN, "policyArn": _ADMIN}, {"role": ["writer"]})])
perm_stack_attack("managedPolicyArns naming a broad stack policy", [role(managedPolicyArns=[_BROAD.props["arn"]]), role_policy(writer()), _BROAD])
perm_stack_attack("aws-native Role with policies[] (JSON string) granting s3:*",
                  [Resource(NATIVE_ROLE, "writer", {"roleName": "writer-1234567", "arn": ROLE_ARN, "assumeRolePolicyDocument": aws_policy.trust_policy(),
                                                    "maxSessionDuration": 43200,
                                                    "policies": [{"policyName": "w", "policyDocument": json.dumps(writer(allow("s3:*")))}]})])
perm_stack_attack("aws-native RolePolicy by ARN of the role",
                  [role(), role_policy(writer()), Resource(NATIVE_RP, "np", {"roleName": ROLE_ARN, "policyDocument": writer(allow("s3:DeleteObject"))})])
perm_stack_attack("aws-native ManagedPolicy attached by dependency only",
                  [role(), role_policy(writer()), Resource("aws-native:iam:ManagedPolicy", "mp", {"roles": [UNKNOWN], "policyDocument": writer(allow("s3:*"))},
                                                          {"roles": ["writer"]})])
perm_stack_attack("Tavus role whose trust uses PrincipalArn only; attached AdministratorAccess",
                  [role(trust=json.dumps(TRUST_ATTACKS["Principal '*' pinned by ArnLike aws:PrincipalArn to Tavus's account, no ExternalId"])),
                   Resource(ATTACHMENT, "attach", {"role": "writer-1234567", "policyArn": _ADMIN})],
                  note="follows from the trust-recognition miss")

# Safe look-alikes.
perm_stack_safe("the kit's writer", [role(), role_policy(writer())])
perm_stack_safe("writer as a stack managed policy attached by RolePolicyAttachment",
                [role(), _NARROW, Resource(ATTACHMENT, "attach", {"role": "writer-1234567", "policyArn": _NARROW.props["arn"]})])
perm_stack_safe("writer as a stack managed policy listed in managedPolicyArns", [role(managedPolicyArns=[_NARROW.props["arn"]]), _NARROW],
                note="the stack defines that policy; the pack reports it as undefined (resource policy cannot see it; the stack policy could)")
perm_stack_safe("writer with SSE-KMS; encryption names the key by key id",
                [role(), role_policy(writer(key=KEY_ARN)), Resource(S3_BUCKET, "bucket", {"bucket": BUCKET, "arn": BUCKET_ARN}), sse(KEY_ID)],
                note="the kit writes the key ARN; a user may write key.id")
perm_stack_safe("writer with SSE-KMS; encryption names the key by alias ARN",
                [role(), role_policy(writer(key=KEY_ARN)), Resource(S3_BUCKET, "bucket", {"bucket": BUCKET, "arn": BUCKET_ARN}),
                 sse(f"arn:aws:kms:eu-west-1:{OWN}:alias/recordings")])
perm_stack_safe("action names in odd case", [role(), role_policy(json.dumps({"Statement": [allow(["S3:PUTOBJECT", "s3:listbucket"])]}))])
perm_stack_safe("writer statement as a single object", [role(), role_policy(json.dumps({"Statement": allow("s3:PutObject", f"{BUCKET_ARN}/*")}))])
perm_stack_safe("extra Deny with NotAction", [role(), role_policy(writer({"Effect": "Deny", "NotAction": "s3:PutObject", "Resource": "*"}))])
perm_stack_safe("extra Deny with NotResource", [role(), role_policy(writer({"Effect": "Deny", "Action": "s3:*", "NotResource": f"{BUCKET_ARN}/*"}))])
perm_stack_safe("narrowing ForAllValues / Null conditions", [role(), role_policy(writer(
    allow("s3:PutObject", f"{BUCKET_ARN}/*", Condition={"ForAllValues:StringEquals": {"aws:TagKeys": ["x"]}, "Null": {"s3:x-amz-server-side-encryption": "false"}})))])
perm_stack_safe("writer split by resource over two statements and a prefix", [role(), role_policy(json.dumps({"Statement": [
    allow(["s3:ListBucket", "s3:ListBucketVersions", "s3:ListBucketMultipartUploads"], BUCKET_ARN),
    allow(["s3:PutObject", "s3:GetObject", "s3:GetObjectVersion", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"], f"{BUCKET_ARN}/conversations/*")]}))])
perm_stack_safe("two Tavus roles, each writing its own bucket", [role(), role_policy(writer()), role("writer2"),
                                                                 role_policy(writer(bucket="arn:aws:s3:::recordings-2"), role_ref="writer2-1234567", name="p2")])
_APP_TRUST = json.dumps(doc({"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}))
perm_stack_safe("unrelated app role, attached by ARN", [role(), role_policy(writer()), role("app", _APP_TRUST),
                                                      Resource(ATTACHMENT, "app-attach", {"role": f"arn:aws:iam::{OWN}:role/app-1234567", "policyArn": _ADMIN})])
perm_stack_safe("unrelated app role with the same name in another account (second provider)",
                [role(), role_policy(writer()),
                 Resource(ROLE, "app", {"name": "writer-1234567", "arn": f"arn:aws:iam::{OTHER}:role/writer-1234567", "assumeRolePolicy": _APP_TRUST}),
                 Resource(ATTACHMENT, "app-attach", {"role": "writer-1234567", "policyArn": _ADMIN}, {"role": ["app"]})],
                note="multi-account stack; the attachment depends on the app role only, but also matches the Tavus role by name")

perm_rule_safe("kit writer, bucket given", [writer()], [BUCKET], [])
perm_rule_safe("kit writer with key, keys given", [writer(key=KEY_ARN)], [BUCKET], [KEY_ARN])

# --- bucket access ------------------------------------------------------------------------------------------------


def recording_stack(*extra: Resource, bucket_props: Optional[dict] = None) -> list[Resource]:
    bucket = Resource(S3_BUCKET, "bucket", {"bucket": BUCKET, "arn": BUCKET_ARN, **(bucket_props or {})})
    return [role(), role_policy(writer()), bucket,
            Resource(VERSIONING, "versioning", {"bucket": BUCKET, "versioningConfiguration": {"status": "Enabled"}}),
            Resource(PAB, "pab", {"bucket": BUCKET, **FLAGS}), *extra]


def native_recording_stack(*extra: Resource, bucket_props: Optional[dict] = None) -> list[Resource]:
    bucket = Resource(NATIVE_BUCKET, "bucket", {"bucketName": BUCKET, "arn": BUCKET_ARN,
                                                "versioningConfiguration": {"status": "Enabled"},
                                                "publicAccessBlockConfiguration": FLAGS, **(bucket_props or {})})
    return [role(), role_policy(writer()), bucket, *extra]


def bucket_policy(*statements: Any, type_: str = BUCKET_POLICY) -> Resource:
    document = aws_policy.tls_only_bucket_policy(BUCKET_ARN)
    document["Statement"] += list(statements)
    prop = "policyDocument" if type_ == NATIVE_BUCKET_POLICY else "policy"
    return Resource(type_, "policy", {"bucket": BUCKET, prop: document if type_ == NATIVE_BUCKET_POLICY else json.dumps(document)})


def grant(principal: Any, resource: Any = f"{BUCKET_ARN}/*", **condition: Any) -> dict[str, Any]:
    statement = {"Effect": "Allow", "Principal": principal, "Action": "s3:GetObject", "Resource": resource}
    return {**statement, "Condition": condition} if condition else statement


def access_stack_attack(name: str, stack: list[Resource], policy: str = "aws.bucket.access.stack", note: str = "") -> None:
    def check() -> tuple[bool, Any]:
        diagnostics = analyze_stack(stack, config=OWN_CONFIG)
        return bool(mandatory(diagnostics, policy)), diagnostics

    case(f"{policy.removesuffix('.stack')}:pack", "attack", name, check, note)


def access_stack_safe(name: str, stack: list[Resource], policy: str = "aws.bucket.access.stack", note: str = "", every_policy: bool = False) -> None:
    def check() -> tuple[bool, Any]:
        diagnostics = analyze_stack(stack, config=OWN_CONFIG)
        bad = mandatory(diagnostics) if every_policy else mandatory(diagnostics, policy)
        return not bad, bad

    case(f"{policy.removesuffix('.stack')}:pack", "safe", name, check, note)


def access_rule_attack(name: str, statement: Any, note: str = "") -> None:
    def check() -> tuple[bool, Any]:
        found = R.bucket_policy_findings(doc(statement), BUCKET, {OWN})
        return bool(violations(found)), found

    case("bucket_access:rules", "attack", name, check, note)


def access_rule_safe(name: str, statement: Any, note: str = "") -> None:
    def check() -> tuple[bool, Any]:
        found = R.bucket_policy_findings(doc(statement), BUCKET, {OWN})
        return not violations(found), found

    case("bucket_access:rules", "safe", name, check, note)


SHARING: dict[str, Any] = {
    "another account on a prefix (recordings/conversations/*)": grant({"AWS": OTHER}, f"{BUCKET_ARN}/conversations/*"),
    "another account on a suffix (recordings/*.mp4)": grant({"AWS": OTHER}, f"{BUCKET_ARN}/*.mp4"),
    "public on a prefix": grant("*", f"{BUCKET_ARN}/2024/*"),
    "NotResource that excludes exactly the probes the rule uses": {"Effect": "Allow", "Principal": {"AWS": OTHER}, "Action": "s3:GetObject",
                                                                    "NotResource": [BUCKET_ARN, f"{BUCKET_ARN}/x"]},
    "service with StringNotEquals aws:SourceAccount (= every account but yours)": grant({"Service": "logging.s3.amazonaws.com"},
                                                                                      StringNotEquals={"aws:SourceAccount": OWN}),
    "service with StringEqualsIfExists aws:SourceAccount": grant({"Service": "cloudtrail.amazonaws.com"}, StringEqualsIfExists={"aws:SourceAccount": OWN}),
    "service with ArnNotLike aws:SourceArn of yours": grant({"Service": "cloudtrail.amazonaws.com"},
                                                            ArnNotLike={"aws:SourceArn": f"arn:aws:cloudtrail:eu-west-1:{OWN}:trail/*"}),
    "'*' with aws:PrincipalAccount [yours, another]": grant("*", StringEquals={"aws:PrincipalAccount": [OWN, OTHER]}),
    "'*' with aws:PrincipalAccount StringEqualsIfExists": grant("*", StringEqualsIfExists={"aws:PrincipalAccount": OWN}),
    "'*' with aws:PrincipalAccount StringLike '1111*'": grant("*", StringLike={"aws:PrincipalAccount": "1111*"}),
    "'*' with aws:PrincipalAccount key look-alike (Cyrillic a)": grant("*", StringEquals={"\u0430ws:PrincipalAccount": OWN}),
    "principal kind 'aws' (lower case), another account": grant({"aws": OTHER}),
    "unique id AROA...": grant({"AWS": "AROAEXAMPLEUNIQUEID1"}),
    "resource with wildcards in region/account fields": grant({"AWS": OTHER}, "arn:aws:s3:*:*:recordings/*"),
    "your account id in another partition (arn:aws-cn)": grant({"AWS": f"arn:aws-cn:iam::{OWN}:root"}),
    "Principal as a list ['*']": grant(["*"]),
    "Effect 'allow' lower case to another account": {**grant({"AWS": OTHER}), "Effect": "allow"},
}
_SHARING_NOTES = {"your account id in another partition (arn:aws-cn)": "low: IAM likely rejects a cross-partition principal"}
for _name, _st in SHARING.items():
    access_rule_attack(_name, _st, _SHARING_NOTES.get(_name, ""))
    access_stack_attack(_name, recording_stack(bucket_policy(_st)), note=_SHARING_NOTES.get(_name, ""))

_bp_dup = ('{"Statement":[{"Effect":"Allow","Principal":{"AWS":"%s"},"Principal":{"AWS":"%s"},"Action":"s3:GetObject","Resource":"%s/*"}]}'
           % (OTHER, OWN, BUCKET_ARN))
access_stack_attack("duplicate Principal key (another account first, yours last)",
                    recording_stack(Resource(BUCKET_POLICY, "policy", {"bucket": BUCKET, "policy": _bp_dup})), note="parser differential")
access_stack_attack("aws-native Bucket + aws-native BucketPolicy to another account",
                    native_recording_stack(bucket_policy(grant({"AWS": OTHER}), type_=NATIVE_BUCKET_POLICY)))
access_stack_attack("aws-native Bucket + aws:s3 BucketPolicy public", native_recording_stack(bucket_policy(grant("*"))))
access_stack_attack("access point policy granting another account", recording_stack(
    Resource(ACCESS_POINT, "ap", {"bucket": BUCKET, "name": "ap", "policy": json.dumps(doc(
        grant({"AWS": OTHER}, f"arn:aws:s3:eu-west-1:{OWN}:accesspoint/ap/object/*")))})),
    note="effective only if the bucket policy delegates to access points (which the pack flags on its own)")
access_stack_attack("inline Bucket grants (pulumi-aws flat shape) to AllUsers",
                    recording_stack(bucket_props={"grants": [{"type": "Group", "uri": "http://acs.amazonaws.com/groups/global/AllUsers", "permissions": ["READ"]}]}))
access_stack_attack("inline Bucket grants (flat shape) to another canonical user",
                    recording_stack(bucket_props={"grants": [{"type": "CanonicalUser", "id": "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be",
                                                              "permissions": ["FULL_CONTROL"]}]}))
access_stack_attack("canned ACL 'Public-Read' (case variant)", recording_stack(bucket_props={"acl": "Public-Read"}),
                    note="only if the provider/S3 accept the case variant")
access_stack_attack("canned ACL 'aws-exec-read' (EC2 service reads)", recording_stack(bucket_props={"acl": "aws-exec-read"}), note="low")
access_stack_attack("BucketAclV2 resource with AllUsers grant", recording_stack(Resource(ACL_V2, "acl", {"bucket": BUCKET, "accessControlPolicy": {
    "owner": {"id": "owner"}, "grants": [{"grantee": {"type": "Group", "uri": "http://acs.amazonaws.com/groups/global/AllUsers"}, "permission": "READ"}]}})))
access_stack_attack("bucket policy bound only by dependency (bucket unknown)", recording_stack(
    Resource(BUCKET_POLICY, "policy", {"bucket": UNKNOWN, "policy": json.dumps(doc(grant({"AWS": OTHER})))}, {"bucket": ["bucket"]})))


def _tavus_direct(name: str, props: dict[str, Any], type_: str = BUCKET_POLICY, kind: str = "attack", note: str = "") -> None:
    def check() -> tuple[bool, Any]:
        diagnostics = analyze(type_, props)
        hit = bool(mandatory(diagnostics, "aws.bucket.access"))
        return (hit if kind == "attack" else not hit), diagnostics

    case("aws.bucket.access(resource):pack", kind, name, check, note)


_tavus_direct("Tavus's account on a prefix (resource policy)",
              {"bucket": BUCKET, "policy": json.dumps(doc(grant({"AWS": TAVUS_ID}, f"{BUCKET_ARN}/conversations/*")))})
_tavus_direct("Tavus's account via '*' + aws:PrincipalAccount (resource policy)",
              {"bucket": BUCKET, "policy": json.dumps(doc(grant("*", StringEquals={"aws:PrincipalAccount": TAVUS_ID})))})
_tavus_direct("Tavus assumed-role session ARN (resource policy)",
              {"bucket": BUCKET, "policy": json.dumps(doc(grant({"AWS": f"arn:aws:sts::{TAVUS_ID}:assumed-role/recorder/x"})))})
_tavus_direct("aws-native BucketPolicy as JSON string naming Tavus",
              {"bucket": BUCKET, "policyDocument": json.dumps(doc(grant({"AWS": TAVUS})))}, type_=NATIVE_BUCKET_POLICY)
_tavus_direct("Deny naming Tavus's account is fine", {"bucket": BUCKET, "policy": json.dumps(doc({**grant({"AWS": TAVUS_ID}), "Effect": "Deny"}))},
              kind="safe")
# By design: Tavus reaches storage only through the role, so a grant to its account is flagged on any
# bucket in the stack (a resource policy cannot tell the recordings bucket from another).
_tavus_direct("another bucket of the stack shared with Tavus's account",
              {"bucket": "tavus-inputs", "policy": json.dumps(doc(grant({"AWS": TAVUS_ID}, "arn:aws:s3:::tavus-inputs/*")))})
access_stack_attack("'*' + aws:PrincipalAccount = Tavus (stack)", recording_stack(bucket_policy(grant("*", StringEquals={"aws:PrincipalAccount": TAVUS_ID}))))

SHARING_SAFE: dict[str, Any] = {
    "own account role": grant({"AWS": f"arn:aws:iam::{OWN}:role/analytics"}),
    "own account assumed-role session": grant({"AWS": f"arn:aws:sts::{OWN}:assumed-role/analytics/s"}),
    "own bare account in a list": grant({"AWS": [OWN]}),
    "'*' pinned to your account, plus an org condition": grant("*", StringEquals={"aws:PrincipalAccount": OWN, "aws:PrincipalOrgID": "o-x"}),
    "'*' pinned with a lower-case key": grant("*", StringEquals={"aws:principalaccount": OWN}),
    "service pinned by SourceAccount and SourceArn": grant({"Service": "logging.s3.amazonaws.com"}, StringEquals={"aws:SourceAccount": OWN},
                                                           ArnLike={"aws:SourceArn": f"arn:aws:s3:::{BUCKET}"}),
    "Deny to everyone": {**grant("*"), "Effect": "Deny"},
    "Deny with NotPrincipal": {"Effect": "Deny", "NotPrincipal": {"AWS": OWN}, "Action": "s3:*", "Resource": f"{BUCKET_ARN}/*"},
    "another bucket only": grant("*", "arn:aws:s3:::www/*"),
}
for _name, _st in SHARING_SAFE.items():
    access_rule_safe(_name, _st)
    access_stack_safe(_name, recording_stack(bucket_policy(_st)))
access_stack_safe("ACL resource granting the owner only", recording_stack(Resource(ACL_V2, "acl", {"bucket": BUCKET, "accessControlPolicy": {
    "owner": {"id": "owner-id"}, "grants": [{"grantee": {"type": "CanonicalUser", "id": "owner-id"}, "permission": "FULL_CONTROL"}]}})))
access_stack_safe("ACL resource with owner and grantee ids unknown at preview", recording_stack(Resource(ACL_V2, "acl", {"bucket": BUCKET, "accessControlPolicy": {
    "owner": {"id": UNKNOWN}, "grants": [{"grantee": {"type": "CanonicalUser", "id": UNKNOWN}, "permission": "FULL_CONTROL"}]}})),
    note="unknown at preview must never be a violation")
access_stack_safe("canned ACL private", recording_stack(bucket_props={"acl": "private"}))
access_stack_safe("account-level public access block instead of the bucket's",
                  [r for r in recording_stack() if r.type != PAB] + [Resource("aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock", "acct", FLAGS)],
                  every_policy=True)

for _name, _grants in {
    "pulumi Bucket.grants flat shape AllUsers (as the pack passes it)": [{"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AllUsers", "Permission": "READ"}],
    "Grantee with https URI": [{"Grantee": {"Type": "Group", "URI": "https://acs.amazonaws.com/groups/global/AllUsers"}, "Permission": "READ"}],
    "Grantee AuthenticatedUsers PascalCase": [{"Grantee": {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"}, "Permission": "READ"}],
    "Grantee by EmailAddress": [{"Grantee": {"Type": "AmazonCustomerByEmail", "EmailAddress": "x@example.com"}, "Permission": "READ"}],
}.items():
    case("acl:rules", "attack", _name, lambda g=_grants: (bool(violations(R.acl_findings(None, g, "owner"))), R.acl_findings(None, g, "owner")),
         note="https URI: only if S3 accepts it" if "https" in _name else "")
case("acl:rules", "safe", "owner's own canonical id", lambda: (not R.acl_findings(None, [{"Grantee": {"ID": "owner", "Type": "CanonicalUser"}}], "owner"), None))

# --- replication ------------------------------------------------------------------------------------------------


def replication(destination: Any, status: Any = "Enabled", **deps: list[str]) -> Resource:
    rule = {"id": "all", "destination": destination, **({} if status is None else {"status": status})}
    return Resource(REPLICATION, "replication", {"bucket": BUCKET, "role": "arn:aws:iam::x:role/r", "rules": [rule]}, deps)


def inline_replication(destination: Any, status: Any = "Enabled") -> dict[str, Any]:
    rule = {"destination": destination, **({} if status is None else {"status": status})}
    return {"replicationConfiguration": {"role": "r", "rules": [rule]}}


_MIRROR = [Resource(S3_BUCKET, "mirror", {"bucket": "mirror", "arn": "arn:aws:s3:::mirror"}),
           Resource(VERSIONING, "mv", {"bucket": "mirror", "versioningConfiguration": {"status": "Enabled"}}),
           Resource(PAB, "mp", {"bucket": "mirror", **FLAGS})]
access_stack_attack("inline rule, status 'enabled' (lower case), another account", recording_stack(
    bucket_props=inline_replication({"bucket": "arn:aws:s3:::x", "account": OTHER}, "enabled")), policy="aws.bucket.replication")
access_stack_attack("inline rule without status", recording_stack(bucket_props=inline_replication({"bucket": "arn:aws:s3:::x"}, None)),
                    policy="aws.bucket.replication")
access_stack_attack("destination account as a number", recording_stack(replication({"bucket": "arn:aws:s3:::x", "account": int(OTHER)})),
                    policy="aws.bucket.replication")
access_stack_attack("destination bucket as a plain name", recording_stack(replication({"bucket": "elsewhere"})), policy="aws.bucket.replication")
access_stack_attack("aws-native Bucket with replicationConfiguration to another account", native_recording_stack(bucket_props={
    "replicationConfiguration": {"role": "r", "rules": [{"status": "Enabled", "destination": {"bucket": "arn:aws:s3:::x", "account": OTHER}}]}}),
    policy="aws.bucket.replication")
for _name, _rules in {
    "destination given as a list": [{"Status": "Enabled", "Destination": [{"Bucket": "arn:aws:s3:::x", "Account": OTHER}]}],
    "S3 API shape, no account": [{"ID": "r", "Status": "Enabled", "Destination": {"Bucket": "arn:aws:s3:::x"}}],
    "status 'ENABLED'": [{"Status": "ENABLED", "Destination": {"Bucket": "arn:aws:s3:::x", "Account": OTHER}}],
}.items():
    case("replication:rules", "attack", _name, lambda r=_rules: (bool(R.replication_findings(r, {OWN}, set())), R.replication_findings(r, {OWN}, set())))
access_stack_safe("inline replication to a stack bucket whose ARN is unknown at preview",
                  recording_stack(*_MIRROR, bucket_props=inline_replication({"bucket": UNKNOWN})), policy="aws.bucket.replication",
                  note="unknown at preview must never be a violation")
access_stack_safe("inline replication with an account unknown at preview",
                  recording_stack(bucket_props=inline_replication({"bucket": "arn:aws:s3:::mirror", "account": UNKNOWN})),
                  policy="aws.bucket.replication", note="unknown at preview must never be a violation")
access_stack_safe("replication config with destination unknown at preview", recording_stack(*_MIRROR, replication({"bucket": UNKNOWN})),
                  policy="aws.bucket.replication")
access_stack_safe("replication to a mirror defined as aws-native Bucket in the stack", recording_stack(
    Resource(NATIVE_BUCKET, "mirror", {"bucketName": "mirror", "arn": "arn:aws:s3:::mirror", "versioningConfiguration": {"status": "Enabled"}}),
    replication({"bucket": "arn:aws:s3:::mirror"})), policy="aws.bucket.replication", note="low")
access_stack_safe("replication Disabled", recording_stack(replication({"bucket": "arn:aws:s3:::x"}, "Disabled")), policy="aws.bucket.replication")
access_stack_safe("replication to your own account", recording_stack(replication({"bucket": "arn:aws:s3:::x", "account": OWN})),
                  policy="aws.bucket.replication")

# --- lifecycle ------------------------------------------------------------------------------------------------


def lifecycle(*rules: Any, type_: str = LIFECYCLE, **deps: list[str]) -> Resource:
    return Resource(type_, "lifecycle", {"bucket": UNKNOWN if deps else BUCKET, "rules": list(rules)}, deps)


def expire(days: Any = None, date: Any = None, status: str = "Enabled", **more: Any) -> dict[str, Any]:
    expiration = {k: v for k, v in {"days": days, "date": date}.items() if v is not None}
    return {"id": "expire", "status": status, "filter": {}, "expiration": expiration, **more}


def with_component(stack: list[Resource], retention: Any) -> list[Resource]:
    component = Resource(COMPONENT, "tavus-recordings", {"retentionDays": retention})
    for resource in stack:
        if resource.type in (S3_BUCKET, NATIVE_BUCKET):
            resource.parent = component.urn
    return [component, *stack]


def lifecycle_attack(name: str, stack: list[Resource], note: str = "") -> None:
    access_stack_attack(name, stack, policy="aws.bucket.lifecycle", note=note)


def lifecycle_safe(name: str, stack: list[Resource], note: str = "") -> None:
    access_stack_safe(name, stack, policy="aws.bucket.lifecycle", note=note)


lifecycle_attack("days as a string '1'", with_component(recording_stack(lifecycle(expire("1"))), 365),
                 note="the bridge coerces \"1\" to 1 for a number field")
lifecycle_attack("Expiration by Date", with_component(recording_stack(lifecycle(expire(date="2030-01-01T00:00:00Z"))), 365))
lifecycle_attack("Transition to GLACIER then Expiration 30", with_component(recording_stack(lifecycle(
    {**expire(30), "transitions": [{"days": 1, "storageClass": "GLACIER"}]})), 365))
lifecycle_attack("filter prefix and tag", with_component(recording_stack(lifecycle(
    {**expire(1), "filter": {"and": {"prefix": "c/", "tags": {"a": "b"}}}})), 365))
lifecycle_attack("legacy top-level prefix", with_component(recording_stack(lifecycle({"id": "x", "status": "Enabled", "prefix": "", "expiration": {"days": 2}})), 365))
lifecycle_attack("status 'enabled' lower case", with_component(recording_stack(lifecycle(expire(3, status="enabled"))), 365))
lifecycle_attack("inline lifecycleRules enabled: true", recording_stack(bucket_props={"lifecycleRules": [{"enabled": True, "expiration": {"days": 1}}]}))
lifecycle_attack("inline lifecycleRules enabled: 'true' string", recording_stack(bucket_props={"lifecycleRules": [{"enabled": "true", "expiration": {"days": 1}}]}))
lifecycle_attack("inline lifecycleRules with expiration as a list", recording_stack(bucket_props={"lifecycleRules": [{"enabled": True, "expiration": [{"days": 1}]}]}))
lifecycle_attack("V2 resource type", with_component(recording_stack(lifecycle(expire(30), type_=LIFECYCLE_V2)), 365))
lifecycle_attack("364.5 days against 365", with_component(recording_stack(lifecycle(expire(364.5))), 365))
lifecycle_attack("no retention at all, 36500 days", recording_stack(lifecycle(expire(36500))))
lifecycle_attack("bound only by dependency (bucket unknown)", with_component(recording_stack(lifecycle(expire(1), bucket=["bucket"])), 365))
lifecycle_attack("aws-native Bucket lifecycleConfiguration expirationInDays 1", native_recording_stack(bucket_props={
    "lifecycleConfiguration": {"rules": [{"id": "x", "status": "Enabled", "expirationInDays": 1}]}}))
case("aws.bucket.lifecycle:pack", "attack", "pack config retentionDays 365 but the rule expires in 30",
     lambda: (bool(mandatory(analyze_stack(recording_stack(lifecycle(expire(30))), config={"aws.bucket.lifecycle": {"retentionDays": 365}}),
                                         "aws.bucket.lifecycle")), None))

lifecycle_safe("noncurrent-version expiry and multipart abort only", recording_stack(lifecycle(
    {"id": "nc", "status": "Enabled", "filter": {}, "noncurrentVersionExpiration": {"noncurrentDays": 30}},
    {"id": "ab", "status": "Enabled", "filter": {}, "abortIncompleteMultipartUpload": {"daysAfterInitiation": 7}})))
lifecycle_safe("expired delete markers only", recording_stack(lifecycle({"id": "m", "status": "Enabled", "expiration": {"expiredObjectDeleteMarker": True}})))
lifecycle_safe("transition only, no expiration", recording_stack(lifecycle({"id": "t", "status": "Enabled", "transitions": [{"days": 30, "storageClass": "GLACIER"}]})))
lifecycle_safe("days == retention", with_component(recording_stack(lifecycle(expire(365))), 365))
lifecycle_safe("days > retention", with_component(recording_stack(lifecycle(expire(400))), 365))
lifecycle_safe("Disabled rule", recording_stack(lifecycle(expire(1, status="Disabled"))))
lifecycle_safe("expiration days unknown at preview", recording_stack(lifecycle(expire(UNKNOWN_NUMBER_VALUE))))
lifecycle_safe("component retentionDays unknown at preview, rule 3650 days", with_component(recording_stack(lifecycle(expire(3650))), UNKNOWN_NUMBER_VALUE),
               note="unknown at preview must never be a violation")

for _name, _rules, _ret in (
    ("S3 API shape PascalCase Days 1", [{"ID": "x", "Status": "Enabled", "Filter": {}, "Expiration": {"Days": 1}}], 365),
    ("S3 API shape Date (datetime)", [{"ID": "x", "Status": "Enabled", "Expiration": {"Date": datetime.datetime(2030, 1, 1)}}], 365),
    ("days as a string", [{"status": "Enabled", "expiration": {"days": "1"}}], 365),
    ("CloudFormation shape ExpirationInDays", [{"Status": "Enabled", "ExpirationInDays": 1}], 365),
    ("CloudFormation shape ExpirationDate", [{"Status": "Enabled", "ExpirationDate": "2030-01-01T00:00:00Z"}], 365),
    ("status 'ENABLED'", [{"Status": "ENABLED", "Expiration": {"Days": 1}}], 365),
    ("legacy rule without status or enabled", [{"Prefix": "", "Expiration": {"Days": 1}}], 365),
):
    case("lifecycle:rules", "attack", _name, lambda r=_rules, n=_ret: (bool(violations(R.lifecycle_findings(r, n))), R.lifecycle_findings(r, n)))

# --- keys -------------------------------------------------------------------------------------------------------


def key_attack(name: str, stack: list[Resource], note: str = "") -> None:
    access_stack_attack(name, stack, policy="aws.kms.key", note=note)


key_attack("inline Bucket serverSideEncryptionConfiguration naming a disabled key", recording_stack(
    Resource(KMS_KEY, "key", {"arn": KEY_ARN, "keyId": KEY_ID, "isEnabled": False}),
    bucket_props={"serverSideEncryptionConfiguration": {"rule": {"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": KEY_ARN},
                                                                 "blockedEncryptionTypes": ["SSE-C"]}}}))
key_attack("encryption names a disabled key by key id", recording_stack(Resource(KMS_KEY, "key", {"arn": KEY_ARN, "keyId": KEY_ID, "isEnabled": False}), sse(KEY_ID)))
key_attack("aws-native kms Key enabled: false, by dependency", recording_stack(
    Resource(NATIVE_KMS_KEY, "key", {"arn": KEY_ARN, "keyId": KEY_ID, "enabled": False}), sse(UNKNOWN, rules=["key"])))
key_attack("ReplicaKey enabled: false", recording_stack(Resource(REPLICA_KEY, "key", {"arn": KEY_ARN, "keyId": KEY_ID, "enabled": False}), sse(KEY_ARN)))
key_attack("isEnabled 'false' string", recording_stack(Resource(KMS_KEY, "key", {"arn": KEY_ARN, "isEnabled": "false"}), sse(KEY_ARN)))
key_attack("disabled key, encryption bound by dependency", recording_stack(Resource(KMS_KEY, "key", {"arn": UNKNOWN, "isEnabled": False}), sse(UNKNOWN, rules=["key"])))
for _args in ((KEY_ARN, True, "PendingDeletion"), (KEY_ARN, None, "Disabled"), (KEY_ARN, True, "PendingReplicaDeletion"), (KEY_ARN, False, None),
              (KEY_ARN, True, "Unavailable")):
    case("key:rules", "attack", f"key_findings{_args[1:]}", lambda a=_args: (bool(R.key_findings(*a)), R.key_findings(*a)))
case("key:rules", "safe", "key_findings(True, 'Enabled')", lambda: (not R.key_findings(KEY_ARN, True, "Enabled"), None))
access_stack_safe("key isEnabled unknown at preview", recording_stack(Resource(KMS_KEY, "key", {"arn": KEY_ARN, "isEnabled": UNKNOWN}), sse(KEY_ARN)),
                  policy="aws.kms.key")

# --- can Tavus write (verify's evaluation) ------------------------------------------------------------------------------


def pd(label: str, *statements: Any) -> PolicyDoc:
    return PolicyDoc(label, {"Version": "2012-10-17", "Statement": list(statements)})


WRITER_DOC = PolicyDoc("inline writer", aws_policy.writer_policy(BUCKET_ARN))
WRITER_KMS = PolicyDoc("inline writer", aws_policy.writer_policy(BUCKET_ARN, KEY_ARN))
ALL_ALLOW = {"Effect": "Allow", "Action": "*", "Resource": "*"}


def deny(action: Any = "s3:PutObject", resource: Any = f"{BUCKET_ARN}/*", **more: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **more}


def blockers(identity=(WRITER_DOC,), boundary=None, resource=(), guardrails=(), key=None):
    return R.write_blockers(list(identity), BUCKET, ROLE_ARN, key, boundary, list(resource), list(guardrails))


def write_attack(name: str, note: str = "", **kwargs: Any) -> None:
    case("can_write:rules", "attack", name, lambda: (bool(blockers(**kwargs)), blockers(**kwargs)), note)


def write_safe(name: str, note: str = "", **kwargs: Any) -> None:
    case("can_write:rules", "safe", name, lambda: (not violations(blockers(**kwargs)), blockers(**kwargs)), note)


write_attack("identity Deny PutObject on bucket/prefix/*", identity=(WRITER_DOC, pd("deny", deny(resource=f"{BUCKET_ARN}/conversations/*"))))
write_attack("identity Deny PutObject on bucket/*/* (every key with a slash)", identity=(WRITER_DOC, pd("deny", deny(resource=f"{BUCKET_ARN}/*/*"))))
write_attack("identity Deny PutObject on bucket/*.mp4", identity=(WRITER_DOC, pd("deny", deny(resource=f"{BUCKET_ARN}/*.mp4"))))
write_attack("identity Deny with NotResource bucket/r* (denies every key not starting with r)",
             identity=(WRITER_DOC, pd("deny", {"Effect": "Deny", "Action": "s3:PutObject", "NotResource": f"{BUCKET_ARN}/r*"})))
write_attack("writer Allow only on bucket/rec* (partial)", identity=(pd("w", allow(list(aws_policy.S3_WRITER_ACTIONS), [BUCKET_ARN, f"{BUCKET_ARN}/rec*"])),))
write_attack("identity Deny with NotAction", identity=(WRITER_DOC, pd("deny", {"Effect": "Deny", "NotAction": "s3:GetObject", "Resource": "*"})))
write_attack("identity Deny on bucket/*", identity=(WRITER_DOC, pd("deny", deny())))
write_attack("identity Deny s3:put* lower case on recordings*", identity=(WRITER_DOC, pd("deny", deny("s3:put*", "arn:aws:s3:::recordings*"))))
write_attack("identity Deny with aws:PrincipalArn condition", identity=(WRITER_DOC, pd("deny", deny(Condition={"ArnLike": {"aws:PrincipalArn": ROLE_ARN}}))))
write_attack("identity Deny with a policy variable in Resource", identity=(WRITER_DOC, pd("deny", deny(resource="arn:aws:s3:::${aws:PrincipalTag/blocked}/*"))),
             note="the variable could resolve to the bucket")
write_attack("boundary with a conditional Allow (region)", boundary=pd("boundary", {**ALL_ALLOW, "Condition": {"StringEquals": {"aws:RequestedRegion": "us-west-2"}}}))
write_attack("boundary with a conditional Allow (principal tag)", boundary=pd("boundary", {**ALL_ALLOW, "Condition": {"StringEquals": {"aws:PrincipalTag/team": "x"}}}))
write_attack("boundary NotAction Allow leaving out s3:Put*", boundary=pd("boundary", {"Effect": "Allow", "NotAction": "s3:Put*", "Resource": "*"}))
write_attack("boundary Allow only on bucket/rec*", boundary=pd("boundary", allow("s3:*", [BUCKET_ARN, f"{BUCKET_ARN}/rec*"])))
write_attack("SCP at the OU level (second level) denies PutObject", guardrails=(pd("root SCPs", ALL_ALLOW), pd("OU SCPs", ALL_ALLOW, deny("s3:*", "*"))))
write_attack("SCP at the OU level allows only ec2", guardrails=(pd("root SCPs", ALL_ALLOW), pd("OU SCPs", allow("ec2:*", "*"))))
write_attack("SCP conditional Allow (region)", guardrails=(pd("root SCPs", {**ALL_ALLOW, "Condition": {"StringEquals": {"aws:RequestedRegion": "us-west-2"}}}),),
             note="SCPs accept conditions in Allow since the 2025 full-IAM-language update")
write_attack("SCP Deny with aws:PrincipalArn ArnNotLike", guardrails=(pd("SCPs", ALL_ALLOW, deny("s3:*", "*", Condition={"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/admin"}})),))
write_attack("bucket policy Deny to the role's unique id (AROA...)", resource=(pd("bucket policy", deny("s3:*", f"{BUCKET_ARN}/*", Principal={"AWS": "AROAEXAMPLEUNIQUEID1"})),))
write_attack("bucket policy Deny with NotPrincipal = the role ARN only (session still denied)",
             resource=(pd("bucket policy", {"Effect": "Deny", "NotPrincipal": {"AWS": ROLE_ARN}, "Action": "s3:*", "Resource": f"{BUCKET_ARN}/*"}),),
             note="AWS docs: with Deny+NotPrincipal the assumed-role session ARN must be listed too")
write_attack("bucket policy Deny with NotPrincipal = role ARN + account root",
             resource=(pd("bucket policy", {"Effect": "Deny", "NotPrincipal": {"AWS": [ROLE_ARN, f"arn:aws:iam::{OWN}:root"]}, "Action": "s3:*",
                                            "Resource": f"{BUCKET_ARN}/*"}),))
write_attack("bucket policy Deny to an assumed-role session of the role",
             resource=(pd("bucket policy", deny("s3:*", f"{BUCKET_ARN}/*", Principal={"AWS": f"arn:aws:sts::{OWN}:assumed-role/writer-1234567/recorder"})),))
write_attack("bucket policy Deny to the role ARN", resource=(pd("bucket policy", deny("s3:PutObject", f"{BUCKET_ARN}/*", Principal={"AWS": ROLE_ARN})),))
write_attack("bucket policy Deny to '*' unless PrincipalArn", resource=(pd("bucket policy", deny("s3:*", f"{BUCKET_ARN}/*", Principal="*",
                                                                                              Condition={"StringNotEquals": {"aws:PrincipalArn": "x"}})),))
write_attack("bucket policy Deny requiring SSE-KMS header", resource=(pd("bucket policy", deny("s3:PutObject", f"{BUCKET_ARN}/*", Principal="*",
                                                                                             Condition={"StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"}})),))
write_attack("identity Deny kms:* on the key", identity=(WRITER_KMS, pd("deny", deny("kms:*", "*"))), key=KEY_ARN)
write_safe("the kit's writer alone")
write_safe("TLS-only bucket policy", resource=(PolicyDoc("bucket policy", aws_policy.tls_only_bucket_policy(BUCKET_ARN)),))
write_safe("boundary NotAction iam:*", boundary=pd("boundary", {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}))
write_safe("bucket policy Deny for another account", resource=(pd("bucket policy", deny("s3:*", f"{BUCKET_ARN}/*", Principal={"AWS": OTHER})),))
write_safe("identity Deny on another bucket", identity=(WRITER_DOC, pd("deny", deny("s3:*", "arn:aws:s3:::payroll/*"))))
write_safe("identity Deny of delete actions only", identity=(WRITER_DOC, pd("deny", deny(["s3:DeleteObject", "s3:DeleteObjectVersion"], "*"))))
write_safe("SCP FullAWSAccess at two levels", guardrails=(pd("root", ALL_ALLOW), pd("ou", ALL_ALLOW)))


def key_policy_attack(name: str, document: Any, note: str = "") -> None:
    case("can_write:key_policy", "attack", name, lambda: (bool(R.key_policy_blockers(document, KEY_ARN, ROLE_ARN)),
                                                          R.key_policy_blockers(document, KEY_ARN, ROLE_ARN)), note)


def key_policy_safe(name: str, document: Any, note: str = "") -> None:
    case("can_write:key_policy", "safe", name, lambda: (not violations(R.key_policy_blockers(document, KEY_ARN, ROLE_ARN)),
                                                        R.key_policy_blockers(document, KEY_ARN, ROLE_ARN)), note)


_ROOT = {"Sid": "root", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{OWN}:root"}, "Action": "kms:*", "Resource": "*"}
key_policy_attack("root delegation + Deny GenerateDataKey to everyone", doc(_ROOT, {"Effect": "Deny", "Principal": "*", "Action": "kms:GenerateDataKey", "Resource": "*"}))
key_policy_attack("root delegation + Deny kms:* to the role", doc(_ROOT, {"Effect": "Deny", "Principal": {"AWS": ROLE_ARN}, "Action": "kms:*", "Resource": "*"}))
key_policy_attack("'*' allowed only for another caller account", doc({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:*", "Resource": "*",
                                                                      "Condition": {"StringEquals": {"kms:CallerAccount": OTHER}}}))
key_policy_attack("role allowed only from one IP range", doc({"Effect": "Allow", "Principal": {"AWS": ROLE_ARN}, "Action": "kms:*", "Resource": "*",
                                                              "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}))
key_policy_attack("root delegation for another key ARN only", doc({**_ROOT, "Resource": OTHER_KEY}))
key_policy_safe("root delegation", doc(_ROOT))
key_policy_safe("the role named, actions split over two statements",
                doc({"Effect": "Allow", "Principal": {"AWS": ROLE_ARN}, "Action": "kms:GenerateDataKey", "Resource": "*"},
                    {"Effect": "Allow", "Principal": {"AWS": ROLE_ARN}, "Action": "kms:Decrypt", "Resource": "*"}))
key_policy_safe("root delegation split over two statements",
                doc({**_ROOT, "Action": "kms:GenerateDataKey*"}, {**_ROOT, "Sid": "r2", "Action": ["kms:Decrypt", "kms:Describe*"]}))
key_policy_safe("root delegation by bare account id in a list", doc({**_ROOT, "Principal": {"AWS": [OWN]}}))

# --- odd input: nothing may raise -------------------------------------------------------------------------------------------


def no_crash(rule: str, name: str, call: Callable[[], Any]) -> None:
    case(rule, "odd", name, lambda: (True, call()))


no_crash("bucket_access:rules", "service SourceAccount as a nested list", lambda: R.bucket_policy_findings(
    doc(grant({"Service": "logging.s3.amazonaws.com"}, StringEquals={"aws:SourceAccount": [[OWN]]})), BUCKET, {OWN}))
no_crash("bucket_access:rules", "service SourceAccount as an object", lambda: R.bucket_policy_findings(
    doc(grant({"Service": "logging.s3.amazonaws.com"}, StringEquals={"aws:SourceAccount": {"x": OWN}})), BUCKET, {OWN}))
no_crash("aws.bucket.access:pack", "service SourceAccount as a nested list (stack policy)", lambda: analyze_stack(
    recording_stack(bucket_policy(grant({"Service": "logging.s3.amazonaws.com"}, StringEquals={"aws:SourceAccount": [[OWN]]}))), config=OWN_CONFIG))
no_crash("acl:rules", "grants None (S3 answer without Grants)", lambda: R.acl_findings(None, None))
no_crash("trust:rules", "Principal AWS as an object, Condition values objects", lambda: R.trust_findings(
    doc({"Effect": "Allow", "Principal": {"AWS": {"x": 1}}, "Action": "sts:AssumeRole", "Condition": {"StringEquals": {"sts:ExternalId": {"a": 1}}}}), "tavus"))
no_crash("trust:rules", "Statement a string, Condition a list", lambda: (R.trust_findings({"Statement": "x"}), R.trust_findings(doc(tavus_st(Condition=[1])))))
no_crash("trust:rules", "is_tavus_trust on unhashable ExternalId values", lambda: R.is_tavus_trust(doc(tavus_st(Principal={"AWS": [[TAVUS]]}, Condition={"StringEquals": {"sts:ExternalId": [["tavus"]]}}))))
no_crash("permissions:rules", "Action/Resource/NotAction objects", lambda: R.permission_findings(
    [PolicyDoc("d", doc({"Effect": "Allow", "Action": {"a": 1}, "Resource": {"b": 2}}, {"Effect": "Allow", "NotAction": {"a": 1}, "NotResource": [[1]]}))]))
no_crash("lifecycle:rules", "odd values", lambda: R.lifecycle_findings([None, 1, {"expiration": "x"}, {"expiration": {"days": float("inf")}},
                                                                         {"expiration": {"days": float("nan")}}, {"status": ["Enabled"]}], None))
no_crash("replication:rules", "odd values", lambda: R.replication_findings([None, {"destination": {"bucket": ["x"], "account": ["y"]}}, {"destinations": "x"}], {OWN}))
no_crash("can_write:rules", "odd statements", lambda: R.write_blockers(
    [PolicyDoc("d", {"Statement": ["x", {"Effect": "Deny", "NotAction": None, "Resource": {"a": 1}, "Condition": {"Bool": ["x"]}}]})],
    BUCKET, ROLE_ARN, None, PolicyDoc("b", {"Statement": {"Effect": "Allow"}}), [PolicyDoc("r", {"Statement": [{"Effect": "Deny", "NotPrincipal": "x"}]})], []))
no_crash("can_write:key_policy", "odd statements", lambda: R.key_policy_blockers({"Statement": [{"Principal": {"AWS": {"x": 1}}}, "s"]}, KEY_ARN, "not-an-arn"))
no_crash("session:rules", "odd values", lambda: [R.session_findings(v) for v in ("x", {}, float("nan"), -1)])
no_crash("permissions:pack", "inline policies / managed ARNs of odd shapes", lambda: analyze(ROLE, {
    "assumeRolePolicy": TRUST, "maxSessionDuration": 43200, "inlinePolicies": ["x", {"name": 1, "policy": "[]"}], "managedPolicyArns": [{"a": 1}]}))
no_crash("permissions:pack", "stack with odd attachment shapes", lambda: analyze_stack([
    role(), Resource(EXCLUSIVE, "e", {"roleName": ["writer-1234567"], "policyArns": "arn:aws:iam::aws:policy/x"}),
    Resource(POLICY_ATTACHMENT, "p", {"roles": "writer-1234567", "policyArn": ["x"]})]))
no_crash("aws.bucket.lifecycle:pack", "lifecycle rules of odd shapes", lambda: analyze_stack(recording_stack(
    Resource(LIFECYCLE, "lc", {"bucket": BUCKET, "rules": [1, "x", {"expiration": [1, None]}]}))))


# --- the one parametrized test over every case ------------------------------------------------------------------------------


# Known residuals, each with why it stays. A resource policy sees one role's grants, not the bucket's
# encryption, so it accepts kms grants on one key it cannot tie to the bucket; the stack policy and
# verify see the bucket's key and catch these whenever the stack shows the encryption.
RESIDUALS = {
    name: "the key grant cannot be tied to the bucket when the stack does not show the bucket's encryption"
    for name in ("kms:Decrypt + GenerateDataKey on another key of the account (no bucket encryption in view)",
                 "kms:Decrypt on a key in another account (no bucket encryption in view)")
}


def _param(c: Case) -> Any:
    reason = RESIDUALS.get(c.name)
    marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
    return pytest.param(c, id=c.id, marks=marks)


@pytest.mark.parametrize("c", [_param(c) for c in CASES])
def test_case(c: Case) -> None:
    try:
        ok, detail = c.check()
    except Exception as error:  # the code under test raised: a crash
        pytest.fail(f"CRASH: {type(error).__name__}: {error}\n{traceback.format_exc(limit=-3)}", pytrace=False)
    label = {"attack": "MISS", "safe": "FALSE ALARM", "odd": "CRASH"}[c.kind]
    assert ok, f"{label}: {c.name}{' (' + c.note + ')' if c.note else ''}\n{detail}"


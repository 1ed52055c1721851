"""AWS: the role Tavus assumes, what it may do, and the buckets recordings land in.

A role is Tavus's when an Allow statement of its trust names Tavus's account; every other rule on
IAM starts from those roles, so roles for other workloads in the same stack are left alone.
"""

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Optional

from pulumi_policy import PolicyConfigSchema

from components.tavus import (
    DEFAULT_EXTERNAL_ID,
    KMS_WRITER_ACTIONS,
    MAX_SESSION_SECONDS,
    S3_WRITER_ACTIONS,
    TAVUS_AWS_ACCOUNT_ID,
)
from rule_kit import (
    check_force_destroy,
    ADVISORY,
    MANDATORY,
    UNKNOWN,
    Finding,
    StackResource,
    allows,
    document,
    flag,
    get,
    known_strings,
    referenced,
    resource_policy,
    stack_policy,
)
from tavus_recording.rules.iam import as_list, statements

ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
IAM_POLICY = "aws:iam/policy:Policy"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
# The V2 names are pulumi-aws v6's, still published (deprecated) by v7.
BUCKETS = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
VERSIONINGS = ("aws:s3/bucketVersioning:BucketVersioning", "aws:s3/bucketVersioningV2:BucketVersioningV2")
PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
PUBLIC_ACCESS_FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")

# AWS's default when a role sets no maxSessionDuration.
DEFAULT_SESSION_SECONDS = 3600
EXTERNAL_ID_KEY = "externalId"
WRITER_ACTIONS = frozenset(a.lower() for a in (*S3_WRITER_ACTIONS, *KMS_WRITER_ACTIONS))
_S3_ARN = re.compile(r"^arn:aws[a-z-]*:s3:::([^/]+)(/.*)?$")
_KMS_KEY_ARN = re.compile(r"^arn:aws[a-z-]*:kms:[^:]+:\d{12}:key/[^*?]+$")


# --- the trust


def names_tavus(principal: Any) -> bool:
    """`291871421005` or any ARN in that account (`arn:aws:iam::291871421005:root`, a role there)."""
    return isinstance(principal, str) and (
        principal == TAVUS_AWS_ACCOUNT_ID or f":{TAVUS_AWS_ACCOUNT_ID}:" in principal
    )


def _aws_principals(statement: dict[str, Any]) -> list[Any]:
    principal = statement.get("Principal")
    return as_list(principal.get("AWS")) if isinstance(principal, dict) else []


def tavus_statements(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in statements(doc) if allows(s) and any(names_tavus(p) for p in _aws_principals(s))]


def trusts_tavus(assume_role_policy: Any) -> Any:
    """True, False, or `UNKNOWN` while the trust document is not known yet."""
    doc = document(assume_role_policy)
    if doc is UNKNOWN:
        return UNKNOWN
    return bool(doc and tavus_statements(doc))


def _external_ids(statement: dict[str, Any]) -> Optional[list[Any]]:
    """The StringEquals sts:ExternalId values (condition keys are case-insensitive), None if absent."""
    equals = get(statement, "Condition", "StringEquals")
    if not isinstance(equals, dict):
        return None
    for key, value in equals.items():
        if key.lower() == "sts:externalid":
            return as_list(value)
    return None


def _everyone(statement: dict[str, Any]) -> bool:
    principal = statement.get("Principal")
    return principal == "*" or "*" in _aws_principals(statement)


def trust_findings(doc: dict[str, Any], external_id: str) -> Iterator[Finding]:
    for statement in tavus_statements(doc):
        if "NotAction" in statement:
            yield Finding(
                "uses NotAction in the statement that trusts Tavus, which allows every action it does not list",
                'use "Action": "sts:AssumeRole" instead',
            )
        actions = as_list(statement.get("Action"))
        if "NotAction" not in statement and {str(a).lower() for a in actions} != {"sts:assumerole"}:
            yield Finding(
                f"lets Tavus's account {TAVUS_AWS_ACCOUNT_ID} call {actions}, but Tavus needs sts:AssumeRole only",
                'set the statement\'s "Action" to "sts:AssumeRole" alone',
            )
        # A statement that trusts Tavus names it in Principal.AWS, so its Principal is an object.
        principal: dict[str, Any] = statement["Principal"]
        others = [p for p in _aws_principals(statement) if not names_tavus(p)]
        others += [f"{kind}: {value}" for kind, value in principal.items() if kind != "AWS"]
        if others:
            yield Finding(
                f"also trusts {others} in the statement that trusts Tavus, so they get in with Tavus's ExternalId",
                "give Tavus's account a statement of its own",
            )
        values = _external_ids(statement)
        if values is None:
            yield Finding(
                f"lets Tavus's account {TAVUS_AWS_ACCOUNT_ID} assume it without a StringEquals sts:ExternalId "
                "condition, the guard against another Tavus customer's role being used through Tavus",
                f'add "Condition": {{"StringEquals": {{"sts:ExternalId": "{external_id}"}}}} to that statement',
            )
        elif values != [external_id]:
            yield Finding(
                f"requires sts:ExternalId {values}, not '{external_id}'",
                f"require exactly '{external_id}' (the value Tavus sends), or set `externalId` in this "
                "policy's config if your Tavus setup uses another",
            )
    trusted = tavus_statements(doc)
    if trusted:
        for statement in statements(doc):
            if allows(statement) and _everyone(statement) and statement not in trusted:
                yield Finding(
                    "also lets any AWS principal ('*') assume the role Tavus writes recordings with",
                    "remove that statement: only Tavus's account may assume this role",
                )


def check_trust(props: dict[str, Any], config: Mapping[str, Any]) -> Iterable[Finding]:
    doc = document(props.get("assumeRolePolicy"))
    if not doc or doc is UNKNOWN:
        return []
    return list(trust_findings(doc, config.get(EXTERNAL_ID_KEY) or DEFAULT_EXTERNAL_ID))


def _seconds(value: Any) -> str:
    return f"{value:g}" if isinstance(value, (int, float)) else repr(value)


def check_session_duration(props: dict[str, Any], config: Mapping[str, Any]) -> Iterable[Finding]:
    seconds = props.get("maxSessionDuration")
    if trusts_tavus(props.get("assumeRolePolicy")) is not True or seconds is UNKNOWN:
        return []
    if seconds is None:
        seconds = DEFAULT_SESSION_SECONDS
    if seconds == MAX_SESSION_SECONDS:
        return []
    return [
        Finding(
            f"trusts Tavus with a maxSessionDuration of {_seconds(seconds)} s; Tavus's recorder asks for "
            f"{MAX_SESSION_SECONDS} s sessions and fails with 'unable to assume role with given parameters'",
            f"set max_session_duration={MAX_SESSION_SECONDS}",
        )
    ]


# --- what Tavus's role may do


@dataclass(frozen=True)
class Grant:
    """One policy document (or unreadable policy ARN) that reaches a Tavus role."""

    role: StackResource
    source: StackResource  # where the document is defined: a RolePolicy, a Policy or the Role itself
    doc: Any  # dict, UNKNOWN, or None for a policy this stack does not define
    arn: str = ""


def _role_ids(role: StackResource) -> set[str]:
    return known_strings(role.props.get("name"), role.props.get("arn"), role.props.get("id"))


def _policy_ids(policy: StackResource) -> set[str]:
    return known_strings(policy.props.get("arn"), policy.props.get("id"))


def _policy_grant(role: StackResource, via: StackResource, arn: Any, policies: list[StackResource]) -> Optional[Grant]:
    """What an attachment of `arn` (by `via`) to `role` grants; None while that cannot be told."""
    if via.type == ATTACHMENT:
        found = referenced(via, "policyArn", policies, _policy_ids)
    elif arn is UNKNOWN:
        found = None
    else:
        found = [p for p in policies if arn in _policy_ids(p)]
    if found is None:
        return None
    if found:
        return Grant(role, found[0], document(found[0].props.get("policy")))
    return Grant(role, via, None, arn) if isinstance(arn, str) else None


def tavus_grants(resources: list[StackResource]) -> list[Grant]:
    """Every policy that reaches a role trusting Tavus, once each (the Role's computed
    inlinePolicies and managedPolicyArns repeat what RolePolicy and attachments add)."""
    roles = [r for r in resources if r.type == ROLE and trusts_tavus(r.props.get("assumeRolePolicy")) is True]
    policies = [r for r in resources if r.type == IAM_POLICY]
    grants: list[Grant] = []
    for resource in resources:
        if resource.type not in (ROLE_POLICY, ATTACHMENT):
            continue
        for role in referenced(resource, "role", roles, _role_ids) or []:
            if resource.type == ROLE_POLICY:
                grants.append(Grant(role, resource, document(resource.props.get("policy"))))
            elif grant := _policy_grant(role, resource, resource.props.get("policyArn"), policies):
                grants.append(grant)
    for role in roles:
        seen_docs = {json.dumps(g.doc, sort_keys=True) for g in grants if g.role is role and isinstance(g.doc, dict)}
        for inline in as_list(role.props.get("inlinePolicies")):
            doc = document(get(inline, "policy"))
            if isinstance(doc, dict) and json.dumps(doc, sort_keys=True) not in seen_docs:
                grants.append(Grant(role, role, doc))
        seen_arns = {g.arn or g.source.props.get("arn") for g in grants if g.role is role}
        for arn in as_list(role.props.get("managedPolicyArns")):
            if arn not in seen_arns and (grant := _policy_grant(role, role, arn, policies)):
                grants.append(grant)
    return grants


def _is_wildcard(action: str) -> bool:
    return "*" in action or "?" in action


def _is_delete(action: str) -> bool:
    return "delete" in action.split(":")[-1].lower()


def _resource_problem(resource: Any, kms_only: bool) -> Optional[str]:
    if not isinstance(resource, str):
        return f"names a resource that is not an ARN ({resource!r})"
    if kms_only and _KMS_KEY_ARN.match(resource):
        return None
    match = _S3_ARN.match(resource)
    if not match:
        return f"grants on {resource}, which is not the bucket or its objects"
    if _is_wildcard(match.group(1)):
        return f"grants on {resource}, which names buckets by wildcard"
    return None


def statement_problems(statement: dict[str, Any]) -> Iterator[str]:
    """What an Allow statement grants beyond the writer actions on one bucket (and its KMS key)."""
    if "NotAction" in statement:
        yield f"allows every action except {as_list(statement['NotAction'])} (NotAction)"
    if "NotResource" in statement:
        yield f"grants on every resource except {as_list(statement['NotResource'])} (NotResource)"
    actions = [a for a in as_list(statement.get("Action")) if isinstance(a, str)]
    if wildcards := [a for a in actions if _is_wildcard(a)]:
        yield f"allows wildcard actions {wildcards}"
    if deletes := [a for a in actions if _is_delete(a) and not _is_wildcard(a)]:
        yield f"allows deleting ({deletes}); recordings are customer data and Tavus never deletes"
    kms_only = bool(actions) and all(a.lower().startswith("kms:") for a in actions)
    for resource in as_list(statement.get("Resource")):
        if problem := _resource_problem(resource, kms_only):
            yield problem


def buckets_granted(doc: dict[str, Any]) -> set[str]:
    resources = (r for s in statements(doc) if allows(s) for r in as_list(s.get("Resource")))
    return {m.group(1) for r in resources if isinstance(r, str) and (m := _S3_ARN.match(r))}


def check_writer_scope(resources: list[StackResource], config: Mapping[str, Any]) -> Iterator[tuple[StackResource, Finding]]:
    fix = (
        "grant only the writer actions on one bucket (arn:aws:s3:::<bucket> and arn:aws:s3:::<bucket>/*) "
        "and, with SSE-KMS, kms:GenerateDataKey and kms:Decrypt on its key"
    )
    buckets: dict[str, set[str]] = {}
    roles: dict[str, StackResource] = {}
    for grant in tavus_grants(resources):
        role = grant.role
        roles[role.urn] = role
        if grant.doc is None and grant.arn:
            aws_managed = ":iam::aws:policy/" in grant.arn
            yield grant.source, Finding(
                f"attaches {grant.arn} to Tavus's role '{role.name}'; "
                + ("AWS-managed policies are never limited to one bucket" if aws_managed
                   else "it is defined outside this stack, so what it grants cannot be checked"),
                f"detach it and {fix}, in an aws.iam.RolePolicy",
            )
            continue
        if not isinstance(grant.doc, dict):
            continue
        buckets.setdefault(role.urn, set()).update(buckets_granted(grant.doc))
        for statement in statements(grant.doc):
            if allows(statement):
                for problem in statement_problems(statement):
                    yield grant.source, Finding(f"gives Tavus's role '{role.name}' a statement that {problem}", fix)
    for urn, names in buckets.items():
        if len(names) > 1:
            yield roles[urn], Finding(f"trusts Tavus and is granted on {len(names)} buckets {sorted(names)}", fix)


def check_writer_actions(resources: list[StackResource], config: Mapping[str, Any]) -> Iterator[tuple[StackResource, Finding]]:
    for grant in tavus_grants(resources):
        if not isinstance(grant.doc, dict):
            continue
        # Wildcards and deletes are the least-privilege policy's (mandatory) findings.
        extra = [
            a
            for s in statements(grant.doc)
            if allows(s)
            for a in as_list(s.get("Action"))
            if isinstance(a, str) and a.lower() not in WRITER_ACTIONS and not _is_wildcard(a) and not _is_delete(a)
        ]
        if extra:
            yield grant.source, Finding(
                f"gives Tavus's role '{grant.role.name}' {extra}, beyond the writer actions Tavus uses",
                f"grant only {list(S3_WRITER_ACTIONS)} (plus {list(KMS_WRITER_ACTIONS)} with SSE-KMS)",
            )


# --- the buckets


def _bucket_ids(bucket: StackResource) -> set[str]:
    return known_strings(bucket.props.get("bucket"), bucket.props.get("id"), bucket.props.get("arn"))


def bucket_settings(bucket: StackResource, resources: list[StackResource], types: Iterable[str]) -> Optional[list[StackResource]]:
    """The resources of `types` that configure `bucket`; None while one of them (or the bucket's
    own name) is not known yet, so a missing setting cannot be told from an unknown one."""
    candidates = [r for r in resources if r.type in types]
    matches = [referenced(r, "bucket", [bucket], _bucket_ids) for r in candidates]
    found = [r for r, match in zip(candidates, matches) if match]
    if not found and (None in matches or bucket.props.get("bucket") is UNKNOWN):
        return None
    return found


def check_versioning(resources: list[StackResource], config: Mapping[str, Any]) -> Iterator[tuple[StackResource, Finding]]:
    fix = "add aws.s3.BucketVersioning(bucket=<bucket>.id, versioning_configuration={'status': 'Enabled'})"
    for bucket in (r for r in resources if r.type in BUCKETS):
        if flag(get(bucket.props, "versioning", "enabled")) is True:  # pulumi-aws's deprecated inline form
            continue
        settings = bucket_settings(bucket, resources, VERSIONINGS)
        if settings is None:
            continue
        if not settings:
            yield bucket, Finding("has no versioning; Tavus's recorder (Daily) only writes to versioned buckets", fix)
        for setting in settings:
            status = get(setting.props, "versioningConfiguration", "status")
            if status not in ("Enabled", UNKNOWN):
                yield setting, Finding(
                    f"sets versioning of bucket '{bucket.name}' to {status!r}; Tavus's recorder (Daily) only writes to versioned buckets",
                    "set versioning_configuration status to 'Enabled'",
                )


def check_public_access_block(resources: list[StackResource], config: Mapping[str, Any]) -> Iterator[tuple[StackResource, Finding]]:
    for bucket in (r for r in resources if r.type in BUCKETS):
        settings = bucket_settings(bucket, resources, (PUBLIC_ACCESS_BLOCK,))
        if settings is None:
            continue
        if not settings:
            yield bucket, Finding(
                "has no public access block, so a bucket policy or ACL could make recordings public",
                "add aws.s3.BucketPublicAccessBlock with all four of block_public_acls, block_public_policy, "
                "ignore_public_acls and restrict_public_buckets set to True",
            )
        for setting in settings:
            # Absent means false: the provider's default.
            off = [f for f in PUBLIC_ACCESS_FLAGS if flag(setting.props.get(f)) not in (True, UNKNOWN)]
            if off:
                yield setting, Finding(
                    f"leaves {off} off for bucket '{bucket.name}', so recordings could be made public",
                    "set all four of block_public_acls, block_public_policy, ignore_public_acls and restrict_public_buckets to True",
                )


EXTERNAL_ID_SCHEMA = PolicyConfigSchema(
    properties={
        EXTERNAL_ID_KEY: {
            "type": "string",
            "minLength": 1,
            "default": DEFAULT_EXTERNAL_ID,
            "description": "The sts:ExternalId a role trusting Tavus must require (Tavus's guide: tavus).",
        }
    }
)

AWS_POLICIES = [
    resource_policy(
        "aws-tavus-role-trust",
        "A role that trusts Tavus's account must let it only sts:AssumeRole, only with the expected "
        "sts:ExternalId, and trust nobody else alongside it: the ExternalId is what stops another Tavus "
        "customer from having Tavus write into your bucket.",
        [ROLE],
        check_trust,
        MANDATORY,
        EXTERNAL_ID_SCHEMA,
    ),
    resource_policy(
        "aws-tavus-role-session-duration",
        f"A role that trusts Tavus must allow {MAX_SESSION_SECONDS} s sessions: at the 3600 s default, "
        "Tavus's recorder cannot assume it and recordings fail.",
        [ROLE],
        check_session_duration,
        MANDATORY,
    ),
    stack_policy(
        "aws-tavus-writer-least-privilege",
        "The policies of a role that trusts Tavus must grant no delete, no wildcard action and nothing "
        "beyond one bucket and its objects (and that bucket's KMS key): Tavus only writes recordings.",
        check_writer_scope,
        MANDATORY,
    ),
    stack_policy(
        "aws-tavus-writer-actions",
        "A role that trusts Tavus should be granted only the writer actions Tavus's guide lists.",
        check_writer_actions,
        ADVISORY,
    ),
    stack_policy(
        "aws-s3-bucket-versioning",
        "Every S3 bucket must have versioning Enabled: Tavus's recorder (Daily) requires it, and it keeps "
        "overwritten recordings recoverable.",
        check_versioning,
        MANDATORY,
    ),
    stack_policy(
        "aws-s3-public-access-block",
        "Every S3 bucket must block public ACLs and policies (all four public access block settings): "
        "recordings are customer data.",
        check_public_access_block,
        MANDATORY,
    ),
    resource_policy(
        "aws-s3-no-force-destroy",
        "S3 buckets should not set forceDestroy: recordings are customer data and must survive `pulumi destroy`.",
        BUCKETS,
        check_force_destroy,
        ADVISORY,
    ),
]

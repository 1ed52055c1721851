"""AWS: the pack's view of a stack, judged by the shared rules in `tavus_recording.rules.aws`.

A role is Tavus's when any statement of its trust names (or may name) Tavus's account, as a principal or in
a condition, or may accept Tavus's ExternalId. Every grant that reaches such a role is followed, by every
path the SDKs offer: its own inline policies and managed ARNs (pulumi-aws and aws-native), `RolePolicy`,
`RolePolicyAttachment`, `PolicyAttachment`, `RolePolicyAttachmentsExclusive`, and aws-native's
`RolePolicy` and `ManagedPolicy`. Its buckets (pulumi-aws or aws-native) are those its grants name; their
policies, access points, ACLs, replication, lifecycle, versioning, public access block and key are judged.

What one resource shows is judged by a resource policy, before that resource is created; what needs
several (an attachment to a Tavus role, a bucket's companions) by a stack policy, which the engine runs
at preview and after the update's steps (so it fails `pulumi up` but cannot undo it).
"""

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Optional

from pulumi_policy import PolicyConfigSchema

from components.tavus import TAVUS_AWS_ACCOUNT_ID
from rule_kit import (
    UNKNOWN,
    Malformed,
    StackResource,
    document,
    flag,
    force_destroy_check,
    get,
    has_unknown,
    known_strings,
    referenced,
    resource_policy,
    stack_policy,
)
from tavus_recording.rules import aws as rules
from tavus_recording.rules.findings import Finding
from tavus_recording.rules.iam import as_list

ROLES = {"aws:iam/role:Role": ("assumeRolePolicy", "inlinePolicies", "managedPolicyArns"),
         "aws-native:iam:Role": ("assumeRolePolicyDocument", "policies", "managedPolicyArns")}
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
NATIVE_ROLE_POLICY = "aws-native:iam:RolePolicy"
IAM_POLICY = "aws:iam/policy:Policy"
NATIVE_MANAGED_POLICY = "aws-native:iam:ManagedPolicy"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
POLICY_ATTACHMENT = "aws:iam/policyAttachment:PolicyAttachment"
EXCLUSIVE_ATTACHMENTS = "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive"
# The V2 names are pulumi-aws v6's, still published (deprecated) by v7.
AWS_BUCKETS = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
NATIVE_BUCKET = "aws-native:s3:Bucket"
BUCKETS = (*AWS_BUCKETS, NATIVE_BUCKET)
VERSIONINGS = ("aws:s3/bucketVersioning:BucketVersioning", "aws:s3/bucketVersioningV2:BucketVersioningV2")
LIFECYCLES = ("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
              "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2")
REPLICATIONS = ("aws:s3/bucketReplicationConfig:BucketReplicationConfig",)
ENCRYPTIONS = ("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
               "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2")
ACLS = ("aws:s3/bucketAcl:BucketAcl", "aws:s3/bucketAclV2:BucketAclV2")
BUCKET_POLICIES = {"aws:s3/bucketPolicy:BucketPolicy": "policy", "aws-native:s3:BucketPolicy": "policyDocument"}
ACCESS_POINTS = {"aws:s3/accessPoint:AccessPoint": "policy", "aws:s3control/accessPointPolicy:AccessPointPolicy": "policy"}
PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
ACCOUNT_PUBLIC_ACCESS_BLOCK = "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock"
PUBLIC_ACCESS_FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
KMS_KEYS = {"aws:kms/key:Key": "isEnabled", "aws:kms/replicaKey:ReplicaKey": "enabled", "aws-native:kms:Key": "enabled"}
KMS_ALIAS = "aws:kms/alias:Alias"
COMPONENT = "tavus-recording:index:S3RecordingStorage"
OBJECT_LOCKS = ("aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
                "aws:s3/bucketObjectLockConfigurationV2:BucketObjectLockConfigurationV2")
TRAILS = ("aws:cloudtrail/trail:Trail",)
# aws-native has no such resource: its Bucket carries `intelligentTieringConfigurations` (CloudFormation's property).
INTELLIGENT_TIERINGS = ("aws:s3/bucketIntelligentTieringConfiguration:BucketIntelligentTieringConfiguration",)

EXTERNAL_ID_KEY = "externalId"
OWN_ACCOUNTS_KEY = "ownAccounts"
RETENTION_KEY = "retentionDays"
COLD_KEY = "coldAfterDays"
IMMUTABLE_DAYS_KEY = "immutableDays"
IMMUTABLE_MODE_KEY = "immutableMode"
REQUIRE_AUDIT_KEY = "requireAuditLogs"
_ARN_NAME = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:(?:role|policy)/(?:.*/)?([^/]+)$")
# Text that, in a document nobody can read strictly, says it may be about Tavus.
_TAVUS_MARKS = (TAVUS_AWS_ACCOUNT_ID, "tavus")


def _external_id(config: Mapping[str, Any]) -> Optional[str]:
    value = config.get(EXTERNAL_ID_KEY)
    return value if isinstance(value, str) and value else None


def _own_accounts(config: Mapping[str, Any]) -> Optional[set[str]]:
    accounts = {a for a in as_list(config.get(OWN_ACCOUNTS_KEY)) if isinstance(a, str)}
    return accounts or None


# --- roles: the trust and what one resource shows ---------------------------------------------------


def _role_type(props: dict[str, Any]) -> str:
    """pulumi-aws or aws-native: the policy sees only props, so tell them by their trust's key."""
    return "aws-native:iam:Role" if "assumeRolePolicyDocument" in props else "aws:iam/role:Role"


def _raw_trust(props: dict[str, Any]) -> Any:
    return props.get(ROLES[_role_type(props)][0])


def _is_tavus(trust: Any, raw: Any, config: Mapping[str, Any]) -> bool:
    if isinstance(trust, Malformed):
        # Not one strict JSON object: if it may be about Tavus at all, it is judged (and refused).
        return isinstance(raw, str) and any(mark in raw.lower() for mark in _TAVUS_MARKS)
    return isinstance(trust, dict) and rules.is_tavus_trust(trust, _external_id(config))


def _on_tavus_roles(judge: Any) -> Any:
    """A resource check that judges only roles meant for Tavus (other workloads' roles are left alone)."""

    def check(props: dict[str, Any], config: Mapping[str, Any]) -> Iterable[Finding]:
        raw = _raw_trust(props)
        trust = document(raw)
        return judge(trust, props, config) if _is_tavus(trust, raw, config) else []

    return check


@_on_tavus_roles
def check_trust(trust: Any, props: dict[str, Any], config: Mapping[str, Any]) -> list[Finding]:
    if isinstance(trust, Malformed):
        return [Finding(rules.TRUST.id, f"has a trust policy that is not one strict JSON object ({trust.reason}), so what it "
                                        "admits cannot be proved", "write the trust as plain JSON, each key once")]
    return rules.trust_findings(trust, _external_id(config))


@_on_tavus_roles
def check_session(trust: Any, props: dict[str, Any], config: Mapping[str, Any]) -> list[Finding]:
    seconds = props.get("maxSessionDuration")
    return [] if seconds is UNKNOWN else rules.session_findings(seconds)


def _policy_doc(label: str, value: Any) -> Optional[rules.PolicyDoc]:
    """A policy document for the rules; None while it is unknown."""
    doc = document(value)
    if doc is UNKNOWN:
        return None
    if isinstance(doc, Malformed):
        return rules.PolicyDoc(label, None, external=True, reason=f"which is not one strict JSON object ({doc.reason})")
    return rules.PolicyDoc(label, doc if isinstance(doc, dict) else {})


def embedded_docs(resource_type: str, props: dict[str, Any], policies: Optional[list[StackResource]] = None) -> Optional[list[rules.PolicyDoc]]:
    """The policies a role resource carries itself; None while one is not known yet. `policies`: the stack's
    managed policies, to resolve `managedPolicyArns` (a resource policy sees none, and leaves the
    customer-managed ones to the stack policy)."""
    _, inline_key, managed_key = ROLES[resource_type]
    inline, managed = props.get(inline_key), props.get(managed_key)
    if inline is UNKNOWN or managed is UNKNOWN:
        return None
    docs: list[rules.PolicyDoc] = []
    for entry in as_list(inline):
        name = get(entry, "name") or get(entry, "policyName")
        doc = _policy_doc(f"inline policy {name!r}", get(entry, "policy") if get(entry, "policy") is not None else get(entry, "policyDocument"))
        if doc is None or has_unknown(name):
            return None
        docs.append(doc)
    for arn in as_list(managed):
        if arn is UNKNOWN:
            return None
        if policies is None and not _aws_managed(arn):
            continue
        docs.append(_managed_doc(arn, policies or []))
    return docs


def _aws_managed(arn: Any) -> bool:
    return isinstance(arn, str) and ":iam::aws:policy/" in arn


def _external(arn: Any) -> rules.PolicyDoc:
    reason = ("an AWS-managed policy, never limited to one bucket" if _aws_managed(arn)
              else "a policy this stack does not define, so what it grants cannot be checked")
    return rules.PolicyDoc(f"managed policy {arn}", None, external=True, reason=reason)


@_on_tavus_roles
def check_embedded_permissions(trust: Any, props: dict[str, Any], config: Mapping[str, Any]) -> list[Finding]:
    docs = embedded_docs(_role_type(props), props)
    # The bucket's key is not known from one resource: one key may be granted (the stack policy checks it).
    return rules.permission_findings(docs) if docs else []


# --- the stack: every grant that reaches a Tavus role ---------------------------------------------------


@dataclass(frozen=True)
class Grant:
    """One policy that reaches a Tavus role, and the resource that attaches it (where it is reported)."""

    role: StackResource
    source: StackResource
    doc: rules.PolicyDoc


def tavus_roles(resources: list[StackResource], config: Mapping[str, Any]) -> list[StackResource]:
    found = []
    for r in resources:
        if r.type in ROLES:
            raw = _raw_trust(r.props)
            if _is_tavus(document(raw), raw, config):
                found.append(r)
    return found


def _role_ids(role: StackResource) -> set[str]:
    """The names a role is referred to by, in lower case: IAM role names are not told apart by case."""
    names = known_strings(role.props.get("name"), role.props.get("roleName"), role.props.get("arn"), role.props.get("id"))
    from_arns = {m.group(1) for m in map(_ARN_NAME.match, names) if m}
    return {n.lower() for n in names | from_arns}


def _policy_ids(policy: StackResource) -> set[str]:
    return {p.lower() for p in known_strings(policy.props.get("arn"), policy.props.get("id"), policy.props.get("policyArn"))}


def _stack_policy_doc(policy: StackResource) -> Optional[rules.PolicyDoc]:
    raw = policy.props.get("policy") if policy.type == IAM_POLICY else policy.props.get("policyDocument")
    return _policy_doc(f"managed policy {policy.name!r}", raw)


def _managed_doc(arn: Any, policies: list[StackResource]) -> rules.PolicyDoc:
    found = [p for p in policies if isinstance(arn, str) and arn.lower() in _policy_ids(p)]
    if found:
        return _stack_policy_doc(found[0]) or rules.PolicyDoc(f"managed policy {found[0].name!r}", None, reason="not known yet")
    return _external(arn)


def _attached(resource: StackResource, prop: str, policies: list[StackResource]) -> list[rules.PolicyDoc]:
    """The documents the ARNs of `resource.props[prop]` (one or a list) stand for: by value where known;
    where one is not known yet, every stack policy the property depends on."""
    values = as_list(resource.props.get(prop))
    docs = [_managed_doc(arn, policies) for arn in values if isinstance(arn, str)]
    if resource.props.get(prop) is UNKNOWN or any(v is UNKNOWN for v in values):
        depended = [p for p in policies if p.urn in set(resource.deps.get(prop, ()))]
        docs += [doc for p in depended if (doc := _stack_policy_doc(p)) is not None]
    return [doc for doc in docs if doc.document is not None or doc.external]


def _roles_of(resource: StackResource, prop: str, roles: list[StackResource]) -> list[StackResource]:
    """The Tavus roles `resource.props[prop]` names (one or a list): by the engine's property dependencies
    when it has them (exact, even across accounts), else by name or ARN in any case."""
    urns = set(resource.deps.get(prop, ()))
    if urns:
        return [r for r in roles if r.urn in urns]
    names = {v.lower() for v in as_list(resource.props.get(prop)) if isinstance(v, str)}
    return [r for r in roles if names & _role_ids(r)]


def tavus_grants(resources: list[StackResource], config: Mapping[str, Any]) -> list[Grant]:
    """Every policy that reaches a Tavus role, by every path, once each."""
    roles = tavus_roles(resources, config)
    policies = [r for r in resources if r.type in (IAM_POLICY, NATIVE_MANAGED_POLICY)]
    grants: list[Grant] = []
    for resource in resources:
        if resource.type in (ROLE_POLICY, NATIVE_ROLE_POLICY):
            raw = resource.props.get("policy" if resource.type == ROLE_POLICY else "policyDocument")
            name = resource.props.get("name") or resource.props.get("policyName") or resource.name
            doc = _policy_doc(f"inline policy {name!r}", raw)
            for role in _roles_of(resource, "role" if resource.type == ROLE_POLICY else "roleName", roles):
                if doc is not None:
                    grants.append(Grant(role, resource, doc))
        elif resource.type in (ATTACHMENT, POLICY_ATTACHMENT, EXCLUSIVE_ATTACHMENTS):
            role_prop = {ATTACHMENT: "role", POLICY_ATTACHMENT: "roles", EXCLUSIVE_ATTACHMENTS: "roleName"}[resource.type]
            arn_prop = "policyArns" if resource.type == EXCLUSIVE_ATTACHMENTS else "policyArn"
            for role in _roles_of(resource, role_prop, roles):
                grants += [Grant(role, resource, doc) for doc in _attached(resource, arn_prop, policies)]
        elif resource.type == NATIVE_MANAGED_POLICY:
            doc = _stack_policy_doc(resource)
            for role in _roles_of(resource, "roles", roles):
                if doc is not None:
                    grants.append(Grant(role, resource, doc))
    for role in roles:
        for doc in embedded_docs(role.type, role.props, policies) or []:
            # pulumi-aws reports RolePolicy and attachments in the role's own outputs too: count each once.
            if not any(g.role is role and (g.doc.document == doc.document if doc.document else g.doc.label == doc.label) for g in grants):
                grants.append(Grant(role, role, doc))
    return _dedupe(grants)


def _dedupe(grants: list[Grant]) -> list[Grant]:
    unique: list[Grant] = []
    for grant in grants:
        if not any(g.role is grant.role and g.doc == grant.doc for g in unique):
            unique.append(grant)
    return unique


def check_permissions(resources: list[StackResource], config: Mapping[str, Any]) -> Iterator[tuple[StackResource, Finding]]:
    by_role: dict[str, list[Grant]] = {}
    for grant in tavus_grants(resources, config):
        by_role.setdefault(grant.role.urn, []).append(grant)
    for grants in by_role.values():
        docs = [g.doc for g in grants]
        buckets, ambiguous = rules.writer_scope(docs)
        if ambiguous:
            yield grants[0].role, ambiguous
        keys = bucket_keys(resources, buckets)
        if keys is None and len(rules.keys_named(docs)) > 1:
            yield grants[0].role, Finding(rules.PERMISSIONS.id, f"may use {len(rules.keys_named(docs))} KMS keys "
                                          f"({', '.join(sorted(rules.keys_named(docs)))}); a bucket has one", "grant the use of the bucket's key only")
        for grant in grants:
            for finding in rules.permission_findings([grant.doc], buckets, keys if keys is not None else None):
                if "KMS keys" not in finding.problem:
                    yield grant.source, finding


# --- the buckets Tavus writes to ---------------------------------------------------------------------------


def _bucket_ids(bucket: StackResource) -> set[str]:
    return known_strings(bucket.props.get("bucket"), bucket.props.get("bucketName"), bucket.props.get("id"), bucket.props.get("arn"))


def _bucket_name(bucket: StackResource) -> Optional[str]:
    name = bucket.props.get("bucket") if bucket.type in AWS_BUCKETS else bucket.props.get("bucketName")
    return name if isinstance(name, str) else None


def recording_buckets(resources: list[StackResource], config: Mapping[str, Any]) -> list[StackResource]:
    """The buckets of this stack a Tavus role is granted on."""
    named = rules.buckets_named(g.doc for g in tavus_grants(resources, config))
    return [b for b in resources if b.type in BUCKETS and (_bucket_ids(b) & named)]


def settings_of(bucket: StackResource, resources: list[StackResource], types: Iterable[str]) -> Optional[list[StackResource]]:
    """The resources of `types` that configure `bucket`; None while one of them (or the bucket's own
    name) is not known yet, so a missing setting cannot be told from an unknown one."""
    candidates = [r for r in resources if r.type in types]
    matches = [_configures(r, bucket) for r in candidates]
    found = [r for r, match in zip(candidates, matches) if match]
    if not found and (None in matches or bucket.props.get("bucket") is UNKNOWN):
        return None
    return found


def _configures(setting: StackResource, bucket: StackResource) -> Optional[bool]:
    """Whether `setting` names `bucket`: by its known name when both are known (a dependency on the bucket does not
    make another bucket's name this one: `bucket=b.id.apply(lambda _: "decoy")`, redteam19b #4), else by the
    engine's dependency on it; None while neither can tell."""
    value, ids = setting.props.get("bucket"), _bucket_ids(bucket)
    if isinstance(value, str) and value and ids:
        return value in ids
    match = referenced(setting, "bucket", [bucket], _bucket_ids)
    return None if match is None else bool(match)


def _sse_defaults(bucket: StackResource, resources: list[StackResource]) -> Optional[list[Any]]:
    """The default-encryption rules of a bucket, from its own props or its SSE resource; None when neither."""
    if bucket.type == NATIVE_BUCKET:
        found = get(bucket.props, "bucketEncryption", "serverSideEncryptionConfiguration")
        return [get(r, "serverSideEncryptionByDefault") for r in as_list(found)] if found is not None else None
    inline = get(bucket.props, "serverSideEncryptionConfiguration", "rule")
    if inline is not None:
        return [get(r, "applyServerSideEncryptionByDefault") for r in as_list(inline)]
    settings = settings_of(bucket, resources, ENCRYPTIONS)
    if settings is None:
        return None
    # None set: S3 encrypts every new bucket with SSE-S3 (since January 2023), which needs no key grant.
    return [get(rule, "applyServerSideEncryptionByDefault") for s in settings for rule in as_list(s.props.get("rules"))]


def _key_ids(key: StackResource, resources: list[StackResource]) -> set[str]:
    ids = known_strings(key.props.get("arn"), key.props.get("keyId"), key.props.get("id"))
    aliases = [a for a in resources if a.type == KMS_ALIAS and (key.urn in a.deps.get("targetKeyId", ()) or a.props.get("targetKeyId") in ids)]
    return ids | {name for a in aliases for name in known_strings(a.props.get("name"), a.props.get("arn"))}


def bucket_keys(resources: list[StackResource], bucket_names: set[str]) -> Optional[list[str]]:
    """The key ARNs the named buckets encrypt with: [] when they use SSE-S3, None when the stack does not
    show it (an existing bucket, a key named by an id or alias of no key in the stack, or not known yet)."""
    buckets = [b for b in resources if b.type in BUCKETS and _bucket_ids(b) & bucket_names]
    if not buckets:
        return None
    keys: list[str] = []
    for bucket in buckets:
        defaults = _sse_defaults(bucket, resources)
        if defaults is None or has_unknown(defaults):
            return None
        for default in defaults:
            key = get(default, "kmsMasterKeyId") or get(default, "kmsMasterKeyID")
            if key is None:
                continue
            arns = [k.props.get("arn") for k in resources if k.type in KMS_KEYS and key in _key_ids(k, resources)]
            if isinstance(key, str) and key.startswith("arn:") and ":key/" in key:
                keys.append(key)
            elif arns and isinstance(arns[0], str):
                keys.append(arns[0])
            else:
                return None
    return keys


def _own_buckets(resources: list[StackResource]) -> set[str]:
    return {name for b in resources if b.type in BUCKETS if (name := _bucket_name(b))}


def _retention(bucket: StackResource, resources: list[StackResource], config: Mapping[str, Any]) -> Any:
    """The retention the bucket's component declares, else the pack's configured one, else none; UNKNOWN
    while the component's is not known."""
    component = next((r for r in resources if r.urn == bucket.parent and r.type == COMPONENT), None)
    declared = component.props.get("retentionDays") if component else None
    if declared is UNKNOWN:
        return UNKNOWN
    value = declared if isinstance(declared, (int, float)) else config.get(RETENTION_KEY)
    return int(value) if isinstance(value, (int, float)) and value > 0 else None


def _bucket_documents(bucket: StackResource, resources: list[StackResource]) -> Iterator[tuple[StackResource, str, Any, bool]]:
    """(where to report, what it is, the document, whether it reaches the bucket whole) for each policy on it."""
    if bucket.type in AWS_BUCKETS:
        yield bucket, "bucket policy", document(bucket.props.get("policy")), False
    for setting in settings_of(bucket, resources, (*BUCKET_POLICIES, *ACCESS_POINTS)) or []:
        is_access_point = setting.type in ACCESS_POINTS
        prop = ACCESS_POINTS[setting.type] if is_access_point else BUCKET_POLICIES[setting.type]
        yield setting, "access point policy" if is_access_point else "bucket policy", document(setting.props.get(prop)), is_access_point


def check_bucket_access(resources: list[StackResource], config: Mapping[str, Any]) -> Iterator[tuple[StackResource, Finding]]:
    own = _own_accounts(config)
    for bucket in recording_buckets(resources, config):
        name = _bucket_name(bucket)
        if name is None:
            continue
        for where, what, doc, whole in _bucket_documents(bucket, resources):
            if isinstance(doc, Malformed):
                yield where, Finding(rules.BUCKET_ACCESS.id, f"has a {what} that is not one strict JSON object ({doc.reason}), so "
                                     "who it admits cannot be proved", "write it as plain JSON, each key once")
            elif isinstance(doc, dict):
                for finding in rules.bucket_policy_findings(doc, name, own, what, whole):
                    yield where, finding
        if bucket.type in AWS_BUCKETS:
            for finding in rules.acl_findings(bucket.props.get("acl"), as_list(bucket.props.get("grants"))):
                yield bucket, finding
        for acl in settings_of(bucket, resources, ACLS) or []:
            grants = as_list(get(acl.props, "accessControlPolicy", "grants"))
            for finding in rules.acl_findings(acl.props.get("acl"), grants, get(acl.props, "accessControlPolicy", "owner", "id")):
                yield acl, finding


def check_tavus_direct(props: dict[str, Any], config: Mapping[str, Any]) -> Iterable[Finding]:
    """Any bucket or access point policy, on its own: an Allow to Tavus's account (as a principal, or '*'
    narrowed to it by a condition) bypasses the role and its ExternalId."""
    doc = document(props.get("policy") if "policy" in props else props.get("policyDocument"))
    if not isinstance(doc, dict):
        return []
    bucket = props.get("bucket")
    where = f"bucket {bucket}" if isinstance(bucket, str) else "the bucket"
    found = []
    for statement in rules.statements(doc):
        if not isinstance(statement, Mapping) or rules.is_deny(statement):
            continue
        entries = rules.principal_entries(statement.get("Principal")) or []
        direct = [value for kind, value in entries if kind == "AWS" and rules.names_tavus(value)]
        condition = statement.get("Condition")
        narrowed = any(value == "*" for _, value in entries) and any(
            rules.could_be_tavus(v) for key in ("aws:PrincipalAccount", "aws:PrincipalArn") for v in _condition_values(condition, key))
        for value in direct or (["'*' narrowed to Tavus's account"] if narrowed else []):
            found.append(Finding(rules.BUCKET_ACCESS.id, f"lets Tavus's account ({value}) reach {where} directly, without the writer role "
                                 "and its ExternalId", "remove that statement: Tavus writes through its role"))
    return found


def _condition_values(condition: Any, key: str) -> list[Any]:
    if not isinstance(condition, Mapping):
        return []
    return [v for block in condition.values() if isinstance(block, Mapping)
            for name, values in block.items() if isinstance(name, str) and name.lower() == key.lower() for v in as_list(values)]


def _replication_rules(bucket: StackResource, resources: list[StackResource]) -> Iterator[tuple[StackResource, list[Any]]]:
    inline = get(bucket.props, "replicationConfiguration", "rules")
    if isinstance(inline, list):
        yield bucket, inline
    for setting in settings_of(bucket, resources, REPLICATIONS) or []:
        if isinstance(setting.props.get("rules"), list):
            yield setting, setting.props["rules"]


def check_replication(resources: list[StackResource], config: Mapping[str, Any]) -> Iterator[tuple[StackResource, Finding]]:
    own, own_buckets = _own_accounts(config), _own_buckets(resources)
    for bucket in recording_buckets(resources, config):
        for where, rule_list in _replication_rules(bucket, resources):
            if has_unknown(rule_list):
                continue
            for finding in rules.replication_findings(rule_list, own, own_buckets):
                yield where, finding


def _lifecycle_rules(bucket: StackResource, resources: list[StackResource]) -> Iterator[tuple[StackResource, list[Any]]]:
    inline = get(bucket.props, "lifecycleConfiguration", "rules") if bucket.type == NATIVE_BUCKET else bucket.props.get("lifecycleRules")
    if isinstance(inline, list):
        yield bucket, inline
    for setting in settings_of(bucket, resources, LIFECYCLES) or []:
        if isinstance(setting.props.get("rules"), list):
            yield setting, setting.props["rules"]


def check_lifecycle(resources: list[StackResource], config: Mapping[str, Any]) -> Iterator[tuple[StackResource, Finding]]:
    for bucket in recording_buckets(resources, config):
        retention = _retention(bucket, resources, config)
        if retention is UNKNOWN:
            continue
        for where, rule_list in _lifecycle_rules(bucket, resources):
            if not has_unknown(rule_list):
                for finding in rules.lifecycle_findings(rule_list, retention):
                    yield where, finding



def _cold_after(bucket: StackResource, resources: list[StackResource], config: Mapping[str, Any]) -> Any:
    """The coldAfterDays the bucket's component declares, else the pack's configured one, else none; UNKNOWN
    while the component's is not known."""
    component = next((r for r in resources if r.urn == bucket.parent and r.type == COMPONENT), None)
    declared = component.props.get(COLD_KEY) if component else None
    if declared is UNKNOWN:
        return UNKNOWN
    value = declared if isinstance(declared, (int, float)) and not isinstance(declared, bool) else config.get(COLD_KEY)
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0 else None


def _tiering_configurations(bucket: StackResource, resources: list[StackResource]) -> Iterator[tuple[StackResource, list[Any]]]:
    """The bucket's Intelligent-Tiering configurations: aws-native's own property, and pulumi-aws's resources."""
    inline = bucket.props.get("intelligentTieringConfigurations") if bucket.type == NATIVE_BUCKET else None
    if isinstance(inline, list):
        yield bucket, inline
    for setting in settings_of(bucket, resources, INTELLIGENT_TIERINGS) or []:
        # Its bucket may be unknown (bound through the engine's dependencies): only what it sets must be known.
        yield setting, [{k: v for k, v in setting.props.items() if k != "bucket"}]


def check_cold_tier(resources: list[StackResource], config: Mapping[str, Any]) -> Iterator[tuple[StackResource, Finding]]:
    for bucket in recording_buckets(resources, config):
        # An archive tier is found whatever the lifecycle: a writer may upload into INTELLIGENT_TIERING itself.
        for where, configurations in _tiering_configurations(bucket, resources):
            for finding in rules.intelligent_tiering_findings([c for c in configurations if not has_unknown(c)]):
                yield where, finding
        cold = _cold_after(bucket, resources, config)
        lists = list(_lifecycle_rules(bucket, resources))
        if cold is UNKNOWN or any(has_unknown(rule_list) for _, rule_list in lists):
            continue
        for where, rule_list in lists:
            for finding in rules.cold_tier_findings(rule_list, None):
                yield where, finding
        # The stack's move may sit in any of the bucket's lifecycle documents.
        missing = rules.cold_tier_findings([r for _, rule_list in lists for r in rule_list if not rules.cold_tier_findings([r], None)], cold)
        for finding in missing:
            yield (lists[0][0] if lists else bucket), finding


def _log_bucket(bucket: StackResource, resources: list[StackResource]) -> bool:
    """A bucket a CloudTrail trail of the stack delivers its logs to (the kit's audit log bucket)."""
    return any(referenced(trail, "s3BucketName", [bucket], _bucket_ids) for trail in resources if trail.type in TRAILS)


def _encryption_rules(bucket: StackResource, resources: list[StackResource]) -> Iterator[tuple[StackResource, Any]]:
    """(where to report, its default-encryption rules) for each encryption setting of the bucket: aws-native's
    bucketEncryption, the bucket's inline serverSideEncryptionConfiguration, or its SSE resources."""
    if bucket.type == NATIVE_BUCKET:
        found = get(bucket.props, "bucketEncryption", "serverSideEncryptionConfiguration")
        if found is not None:
            yield bucket, found
        return
    inline = get(bucket.props, "serverSideEncryptionConfiguration", "rule")
    if inline is not None:
        yield bucket, inline
    for setting in settings_of(bucket, resources, ENCRYPTIONS) or []:
        yield setting, setting.props.get("rules")


def check_encryption(resources: list[StackResource], config: Mapping[str, Any]) -> Iterator[tuple[StackResource, Finding]]:
    """Each encryption setting the stack gives a recordings bucket blocks SSE-C uploads. None given: S3's own
    setting stays, which the pack cannot see (verify reads it)."""
    for bucket in kit_buckets(resources, config):
        for where, rule_list in _encryption_rules(bucket, resources):
            if has_unknown(rule_list):
                continue
            for finding in rules.sse_c_findings(as_list(rule_list)):
                yield where, finding


def kit_buckets(resources: list[StackResource], config: Mapping[str, Any]) -> list[StackResource]:
    """The buckets recordings are written to: those a Tavus role is granted on, and those of an
    S3RecordingStorage (a revoked stack has no role, and its bucket still holds the recordings), not a trail's logs."""
    components = {r.urn: r for r in resources if r.type == COMPONENT}
    granted = recording_buckets(resources, config)
    own = [b for b in resources if b.type in BUCKETS and b.parent in components and b not in granted and _recordings_of(b, components[b.parent], resources)]
    return granted + own


def _recordings_of(bucket: StackResource, component: StackResource, resources: list[StackResource]) -> bool:
    """Whether a bucket of the component is the one it keeps recordings in: the one its bucket_name or bucket_arn
    output names (not its audit log bucket); while those are not known, any bucket no trail of the stack logs into."""
    named = known_strings(component.props.get("bucket_name"), component.props.get("bucket_arn"))
    if named:
        return bool(_bucket_ids(bucket) & named)
    return not _log_bucket(bucket, resources)


def _component_of(bucket: StackResource, resources: list[StackResource]) -> Optional[StackResource]:
    return next((r for r in resources if r.urn == bucket.parent and r.type == COMPONENT), None)


def _positive_int(value: Any) -> Optional[int]:
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0 else None


def _worm_mode(value: Any) -> Optional[str]:
    return value.lower() if isinstance(value, str) and value.lower() in ("governance", "compliance") else None


def _lock_configs(bucket: StackResource, resources: list[StackResource]) -> Optional[list[tuple[StackResource, Any]]]:
    """(where to report, the Object Lock configuration) for each on the bucket: its own resources, else the
    bucket's inline one; None while one is not known yet."""
    settings = settings_of(bucket, resources, OBJECT_LOCKS)
    if settings is None:
        return None
    if settings:
        return [(s, {k: s.props.get(k) for k in ("objectLockEnabled", "rule")}) for s in settings]
    inline = bucket.props.get("objectLockConfiguration")
    if inline is UNKNOWN:
        return None
    # aws-native and pulumi-aws also carry a top-level switch beside (or instead of) the inline block.
    enabled = flag(bucket.props.get("objectLockEnabled"))
    if isinstance(inline, dict) and (inline.get("objectLockEnabled") or inline.get("rule")):
        return [(bucket, {"objectLockEnabled": inline.get("objectLockEnabled") or ("Enabled" if enabled is True else None),
                          "rule": inline.get("rule")})]
    return [(bucket, {"objectLockEnabled": "Enabled"} if enabled is True else None)]


LOCK_FIX = ("add aws.s3.BucketObjectLockConfiguration(bucket=<bucket>.id, object_lock_enabled='Enabled', "
            "rule={'default_retention': {'mode': <immutableMode in capitals>, 'days': <immutableDays>}})")


def check_object_lock(resources: list[StackResource], config: Mapping[str, Any]) -> Iterator[tuple[StackResource, Finding]]:
    """At least the stack's immutableDays (where no component declares them, the pack's), in compliance mode when
    the stack or the pack says compliance."""
    required_mode = _worm_mode(config.get(IMMUTABLE_MODE_KEY))
    for bucket in kit_buckets(resources, config):
        component = _component_of(bucket, resources)
        declared_days = component.props.get(IMMUTABLE_DAYS_KEY) if component else None
        declared_mode = component.props.get(IMMUTABLE_MODE_KEY) if component else None
        if UNKNOWN in (declared_days, declared_mode):
            continue
        days = _positive_int(declared_days) or _positive_int(config.get(IMMUTABLE_DAYS_KEY))
        mode = "compliance" if "compliance" in (required_mode, _worm_mode(declared_mode)) else None
        configs = _lock_configs(bucket, resources) if days or mode else []
        if configs is None or any(has_unknown(c) for _, c in configs):
            continue
        for where, lock in configs:
            for finding in rules.object_lock_findings(lock, days, mode, LOCK_FIX):
                yield where, finding


def _trail(trail: StackResource, bucket: StackResource) -> Optional[rules.Trail]:
    """A stack's trail as the rule judges it for `bucket`; None while what it logs is not known yet."""
    props = trail.props
    wanted = [props.get(k) for k in ("advancedEventSelectors", "eventSelectors", "enableLogFileValidation", "enableLogging",
                                     "isMultiRegionTrail")]
    if any(has_unknown(v) for v in wanted):
        return None
    advanced, basic, validation, logging, multi_region = wanted
    # A single-region trail logs the data events of its own region only (pulumi-aws v7 gives both a `region`).
    home, region = props.get("homeRegion") or props.get("region"), bucket.props.get("region")
    elsewhere = (f"logs only {home}, and the bucket is in {region} (a single-region trail logs its own region's data events)"
                 if flag(multi_region) is not True and isinstance(home, str) and isinstance(region, str) and home != region else None)
    return rules.Trail(
        name=props["name"] if isinstance(props.get("name"), str) else trail.name,
        advanced=as_list(advanced), basic=as_list(basic),
        # pulumi-aws's defaults: validation off, logging on.
        validation=flag(validation) is True, logging=flag(logging) is not False, elsewhere=elsewhere,
    )


def _trail_destination(trail: StackResource, resources: list[StackResource]) -> Optional[list[Finding]]:
    """The trail logs into a bucket of this stack, with no KMS key or one of this stack (redteam19b #6): logs in
    another account's bucket, or under another's key, are kept or read at someone else's will. By known value
    when both are known (a dependency does not make another name this one), else by dependency; None while
    neither can tell."""
    name = trail.props["name"] if isinstance(trail.props.get("name"), str) else trail.name
    fix = "log into the stack's own log bucket (auditLogs creates one) and leave kmsKeyId unset, or define that bucket or key in this stack"
    found: list[Finding] = []
    checks = (("s3BucketName", [r for r in resources if r.type in BUCKETS], _bucket_ids, "its logs into bucket"),
              ("kmsKeyId", [r for r in resources if r.type in KMS_KEYS], lambda k: _key_ids(k, resources), "its logs with KMS key"))
    for prop, candidates, ids, what in checks:
        value = trail.props.get(prop)
        if value is None or value == "":
            continue
        bound = any(c.urn in trail.deps.get(prop, ()) for c in candidates)
        if not isinstance(value, str):
            if has_unknown(value) and not bound:
                return None
            continue
        if any(value in ids(c) for c in candidates):
            continue
        if any(not ids(c) for c in candidates):  # a name not known yet may be this one
            return None
        verb = "delivers" if prop == "s3BucketName" else "encrypts"
        found.append(Finding(rules.AUDIT_TRAIL.id, f"trail {name} {verb} {what} {value!r}, which this stack does not define: whoever "
                                                   "controls it decides how long the logs are kept and who reads them", fix))
    return found


def _log_lifecycle(trail: StackResource, resources: list[StackResource], retention: Any) -> list[Finding]:
    """Lifecycle rules of the bucket the trail logs into that expire current logs sooner than the recordings'
    retention (at all, without one): the logs must outlive the recordings they are about (redteam19b #2)."""
    if retention is UNKNOWN:
        return []
    value, urns = trail.props.get("s3BucketName"), set(trail.deps.get("s3BucketName", ()))
    logs = [b for b in resources if b.type in BUCKETS and ((isinstance(value, str) and value in _bucket_ids(b))
                                                           or (not isinstance(value, str) and b.urn in urns))]
    found: list[Finding] = []
    for log_bucket in logs:
        for _, rule_list in _lifecycle_rules(log_bucket, resources):
            if has_unknown(rule_list):
                continue
            for finding in rules.lifecycle_findings(rule_list, retention):
                problem = finding.problem.replace("every current recording", "every current audit log").replace("current recordings", "current audit logs")
                found.append(Finding(rules.AUDIT_TRAIL.id, f"log bucket '{log_bucket.name}' of the trail {problem}: the logs must outlive the "
                                                           "recordings they are about", "remove that expiration from the log bucket's lifecycle rules"))
    return found


def check_audit_trail(resources: list[StackResource], config: Mapping[str, Any]) -> Iterator[tuple[StackResource, Finding]]:
    """With the stack's auditLogs (or the pack's requireAuditLogs), one of the stack's trails logs every read and write."""
    required = flag(config.get(REQUIRE_AUDIT_KEY)) is True
    trails = [r for r in resources if r.type in TRAILS]
    for bucket in kit_buckets(resources, config):
        component = _component_of(bucket, resources)
        asked = flag(component.props.get("auditLogs")) if component else None
        arn = bucket.props.get("arn")
        if asked is UNKNOWN or not (asked is True or required) or not isinstance(arn, str):
            continue
        judged = [(r, _trail(r, bucket), _trail_destination(r, resources)) for r in trails]
        if any(t is None or d is None for _, t, d in judged):
            continue
        retention = _retention(bucket, resources, config)
        found = [(where, rules.trail_findings(t, arn) + (d or []) + _log_lifecycle(where, resources, retention))
                 for where, t, d in judged if t is not None]
        if found and not all(findings for _, findings in found):
            continue  # one trail logs it all
        yield from ((where, f) for where, findings in found for f in findings)
        if not found:
            yield from ((bucket, f) for f in rules.audit_trail_findings([], arn))


def check_keys(resources: list[StackResource], config: Mapping[str, Any]) -> Iterator[tuple[StackResource, Finding]]:
    buckets = recording_buckets(resources, config)
    used = {key for b in buckets for default in (_sse_defaults(b, resources) or [])
            if isinstance(key := get(default, "kmsMasterKeyId") or get(default, "kmsMasterKeyID"), str)}
    for key in (r for r in resources if r.type in KMS_KEYS):
        ids = _key_ids(key, resources)
        by_dependency = any(key.urn in deps for r in resources if r.type in (*ENCRYPTIONS, *BUCKETS) for deps in r.deps.values())
        if ids & used or by_dependency:
            shown = key.props.get("arn") if isinstance(key.props.get("arn"), str) else key.name
            for finding in rules.key_findings(str(shown), flag(key.props.get(KMS_KEYS[key.type]))):
                yield key, finding


def check_versioning(resources: list[StackResource], config: Mapping[str, Any]) -> Iterator[tuple[StackResource, Finding]]:
    fix = "add aws.s3.BucketVersioning(bucket=<bucket>.id, versioning_configuration={'status': 'Enabled'})"
    for bucket in (r for r in resources if r.type in BUCKETS):
        if bucket.type == NATIVE_BUCKET:
            status = get(bucket.props, "versioningConfiguration", "status")
            if status not in ("Enabled", UNKNOWN):
                yield bucket, Finding(rules.VERSIONING.id, f"has versioning {status or 'off'}; Tavus's recorder (Daily) only writes to versioned buckets",
                                      "set versioning_configuration={'status': 'Enabled'}")
            continue
        if flag(get(bucket.props, "versioning", "enabled")) is True:  # pulumi-aws's deprecated inline form
            continue
        settings = settings_of(bucket, resources, VERSIONINGS)
        if settings is None:
            continue
        if not settings:
            yield bucket, Finding(rules.VERSIONING.id, "has no versioning; Tavus's recorder (Daily) only writes to versioned buckets", fix)
        for setting in settings:
            status = get(setting.props, "versioningConfiguration", "status")
            if status not in ("Enabled", UNKNOWN):
                yield setting, Finding(
                    rules.VERSIONING.id,
                    f"sets versioning of bucket '{bucket.name}' to {status!r}; Tavus's recorder (Daily) only writes to versioned buckets",
                    "set versioning_configuration status to 'Enabled'",
                )


def _blocks_all(props: Any) -> Any:
    values = [flag(get(props, f)) for f in PUBLIC_ACCESS_FLAGS]
    if UNKNOWN in values:
        return UNKNOWN
    return all(v is True for v in values)


def check_public_access_block(resources: list[StackResource], config: Mapping[str, Any]) -> Iterator[tuple[StackResource, Finding]]:
    # The account's own block covers every bucket in it.
    account_blocks = [_blocks_all(r.props) for r in resources if r.type == ACCOUNT_PUBLIC_ACCESS_BLOCK]
    if True in account_blocks or UNKNOWN in account_blocks:
        return
    fix = ("add aws.s3.BucketPublicAccessBlock with all four of block_public_acls, block_public_policy, "
           "ignore_public_acls and restrict_public_buckets set to True (or an aws.s3.AccountPublicAccessBlock)")
    for bucket in (r for r in resources if r.type in BUCKETS):
        if bucket.type == NATIVE_BUCKET:
            if _blocks_all(bucket.props.get("publicAccessBlockConfiguration") or {}) is False:
                yield bucket, Finding(rules.PUBLIC_ACCESS_BLOCK.id, "does not block public access (all four publicAccessBlockConfiguration "
                                      "settings must be true), so recordings could be made public", fix)
            continue
        settings = settings_of(bucket, resources, (PUBLIC_ACCESS_BLOCK,))
        if settings is None:
            continue
        if not settings:
            yield bucket, Finding(
                rules.PUBLIC_ACCESS_BLOCK.id,
                "has no public access block (and the stack sets no account-wide one), so a bucket policy or ACL could make recordings public",
                fix,
            )
        for setting in settings:
            # Absent means false: the provider's default.
            off = [f for f in PUBLIC_ACCESS_FLAGS if flag(setting.props.get(f)) not in (True, UNKNOWN)]
            if off:
                yield setting, Finding(
                    rules.PUBLIC_ACCESS_BLOCK.id,
                    f"leaves {off} off for bucket '{bucket.name}', so recordings could be made public",
                    "set all four of block_public_acls, block_public_policy, ignore_public_acls and restrict_public_buckets to True",
                )


EXTERNAL_ID_SCHEMA = PolicyConfigSchema(
    properties={
        EXTERNAL_ID_KEY: {
            "type": "string",
            "minLength": 1,
            "description": "The sts:ExternalId a role trusting Tavus must require (the stack's externalId; Tavus's guide: "
            "tavus). Unset: any one value; a role asking for 'tavus' (or this value) counts as Tavus's either way.",
        }
    }
)
OWN_ACCOUNTS_SCHEMA = PolicyConfigSchema(
    properties={
        OWN_ACCOUNTS_KEY: {
            "type": "array",
            "items": {"type": "string", "pattern": r"^\d{12}$"},
            "description": "Your AWS account ids: the only accounts a recordings bucket may be shared with or replicated to.",
        }
    }
)
RETENTION_SCHEMA = PolicyConfigSchema(
    properties={
        RETENTION_KEY: {
            "type": "integer",
            "minimum": 1,
            "description": "Days recordings must be kept where no S3RecordingStorage declares its own retentionDays.",
        }
    }
)
COLD_SCHEMA = PolicyConfigSchema(
    properties={
        COLD_KEY: {
            "type": "integer",
            "minimum": 1,
            "description": "Days after which recordings must move to GLACIER_IR where no S3RecordingStorage declares its own coldAfterDays.",
        }
    }
)
OBJECT_LOCK_SCHEMA = PolicyConfigSchema(
    properties={
        IMMUTABLE_DAYS_KEY: {
            "type": "integer",
            "minimum": 1,
            "maximum": 36500,
            "description": "Days every recording must stay locked (S3 Object Lock default retention, at least) where no "
            "S3RecordingStorage declares its own immutableDays.",
        },
        IMMUTABLE_MODE_KEY: {
            "type": "string",
            "enum": ["governance", "compliance"],
            "description": "compliance: every recordings bucket must lock in COMPLIANCE mode (nobody can delete early), "
            "even where its stack asks governance. governance: either mode.",
        },
    }
)
AUDIT_SCHEMA = PolicyConfigSchema(
    properties={
        REQUIRE_AUDIT_KEY: {
            "type": "boolean",
            "description": "true: every recordings bucket must have its object reads and writes logged by a CloudTrail trail "
            "of the stack, even where the stack does not set auditLogs.",
        }
    }
)
ROLE_TYPES = list(ROLES)

AWS_POLICIES = [
    resource_policy(rules.TRUST, ROLE_TYPES, check_trust, EXTERNAL_ID_SCHEMA),
    resource_policy(rules.MAX_SESSION, ROLE_TYPES, check_session, EXTERNAL_ID_SCHEMA),
    resource_policy(rules.PERMISSIONS, ROLE_TYPES, check_embedded_permissions, EXTERNAL_ID_SCHEMA),
    stack_policy(rules.PERMISSIONS, check_permissions, EXTERNAL_ID_SCHEMA, also_resource_policy=True),
    stack_policy(rules.LEAST_PRIVILEGE, check_permissions, EXTERNAL_ID_SCHEMA),
    resource_policy(rules.BUCKET_ACCESS, [*BUCKET_POLICIES, *ACCESS_POINTS], check_tavus_direct),
    stack_policy(rules.BUCKET_ACCESS, check_bucket_access, OWN_ACCOUNTS_SCHEMA, also_resource_policy=True),
    stack_policy(rules.REPLICATION, check_replication, OWN_ACCOUNTS_SCHEMA),
    stack_policy(rules.LIFECYCLE, check_lifecycle, RETENTION_SCHEMA),
    stack_policy(rules.KEY, check_keys),
    stack_policy(rules.VERSIONING, check_versioning),
    stack_policy(rules.PUBLIC_ACCESS_BLOCK, check_public_access_block),
    resource_policy(rules.FORCE_DESTROY, AWS_BUCKETS, force_destroy_check(rules.FORCE_DESTROY)),
    stack_policy(rules.COLD_TIER, check_cold_tier, COLD_SCHEMA),
    stack_policy(rules.OBJECT_LOCK, check_object_lock, OBJECT_LOCK_SCHEMA),
    stack_policy(rules.AUDIT_TRAIL, check_audit_trail, AUDIT_SCHEMA),
    stack_policy(rules.ENCRYPTION, check_encryption),
]

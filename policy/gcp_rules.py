"""Google Cloud: the pack's policies, judged by the shared rules in `tavus_recording.rules.gcp`.

What one resource shows is a resource policy, run before that resource is created: a provider's
condition, issuer and mapping; a grant to a workload pool's identities (the account it is on is then a
writer); a bucket's own settings. What needs the stack (who else reaches a writer, what it holds, its
keys, its buckets' access, lifecycle, retention and copies) is a stack policy, run at preview and
after the update's steps.

A service account is a writer when a workload identity pool's identity (principal:// or
principalSet:// of a pool) may act as it; the recordings buckets are those a writer is granted on.
With the default config every such writer is judged.
"""

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Callable, Optional

from pulumi_policy import PolicyConfigSchema

from gcp_stack import (
    BUCKET,
    HMAC_KEY,
    IAM,
    KEY,
    POOL,
    PROVIDER,
    TRANSFER_JOB,
    GcsStack,
    RawGrant,
    StackGrant,
    Writer,
    bucket_name,
    bucket_resources,
    declared_days,
    gcs_stack,
    is_pool_identity,
    judged,
    known,
    on_writer,
    own_projects,
    raw_grants,
    recording_buckets,
    writer_grants,
)
from rule_kit import UNKNOWN, StackResource, flag, force_destroy_check, get, has_unknown, resource_policy, stack_policy
from tavus_recording.rules import gcp as rules
from tavus_recording.rules.findings import Finding, Rule
from tavus_recording.rules.iam import as_list

SUBJECT_KEY = "subject"
ISSUER_KEY = "issuer"
OWN_PROJECTS_KEY = "ownProjects"
RETENTION_KEY = "retentionDays"
IMMUTABLE_KEY = "immutableDays"
HARMLESS_KEY = "harmlessRoles"

Pairs = Iterator[tuple[StackResource, Finding]]


def _text(config: Mapping[str, Any], key: str) -> Optional[str]:
    value = config.get(key)
    return value if isinstance(value, str) and value else None


def _own(config: Mapping[str, Any]) -> list[str]:
    return [p for p in as_list(config.get(OWN_PROJECTS_KEY)) if isinstance(p, str)]


def _harmless(config: Mapping[str, Any]) -> set[str]:
    return {r for r in as_list(config.get(HARMLESS_KEY)) if isinstance(r, str)}


# --- the provider ---------------------------------------------------------------------------------


def check_condition(props: dict[str, Any], config: Mapping[str, Any]) -> Iterable[Finding]:
    condition, mapping = props.get("attributeCondition"), props.get("attributeMapping")
    if condition is UNKNOWN:
        return []
    found = rules.condition_findings(condition, mapping, _text(config, SUBJECT_KEY))
    # An attribute not mapped yet may be the one the condition names: judged again once known.
    return [] if found and has_unknown(mapping) else found


def check_issuer(props: dict[str, Any], config: Mapping[str, Any]) -> Iterable[Finding]:
    if has_unknown(get(props, "oidc", "issuerUri")) or props.get("oidc") is UNKNOWN:
        return []
    return rules.issuer_findings(props, _text(config, ISSUER_KEY))


def check_mapping(props: dict[str, Any], config: Mapping[str, Any]) -> Iterable[Finding]:
    mapping = props.get("attributeMapping")
    if mapping is UNKNOWN or get(mapping, "google.subject") is UNKNOWN:
        return []
    return rules.mapping_findings(mapping)


def _issuer(provider: StackResource) -> Any:
    """Whose tokens a provider takes: its OIDC issuer, else the kind of provider it is; UNKNOWN while unknown."""
    oidc = provider.props.get("oidc")
    if has_unknown(oidc):
        return UNKNOWN
    uri = get(oidc, "issuerUri")
    if isinstance(uri, str):
        return uri
    return next((kind for kind in ("aws", "saml", "x509") if provider.props.get(kind) is not None), "(no issuer)")


def _pool_of(stack: GcsStack, provider: StackResource) -> Optional[str]:
    """Which pool a provider is in: the pool it depends on, else its pool id (and project)."""
    pools = [p for p in stack.of_type(POOL) if p.urn in provider.deps.get("workloadIdentityPoolId", ())]
    if pools:
        name = pools[0].props.get("name")
        return name if isinstance(name, str) else pools[0].urn
    pool_id, project = provider.props.get("workloadIdentityPoolId"), provider.props.get("project")
    if not isinstance(pool_id, str) or project is UNKNOWN:
        return None
    return f"{project}/{pool_id}" if isinstance(project, str) else pool_id


def check_pool_issuers(resources: list[StackResource], config: Mapping[str, Any]) -> Pairs:
    """Every provider of one pool trusts one issuer (each mints the same principals)."""
    stack = gcs_stack(resources)
    pools: dict[str, list[StackResource]] = {}
    for provider in stack.of_type(PROVIDER):
        pool = _pool_of(stack, provider)
        if pool is not None:
            pools.setdefault(pool, []).append(provider)
    for pool, providers in pools.items():
        issuers = [_issuer(p) for p in providers]
        if UNKNOWN in issuers:
            continue
        for provider in providers:
            for finding in rules.pool_issuer_findings(issuers, pool):
                yield provider, finding


# --- grants one resource shows ---------------------------------------------------------------------


def _accepted(grants: Iterable[rules.Grant], subject: Optional[str]) -> Optional[set[str]]:
    """Tavus's principals among `grants`: with a configured subject, that subject in any pool."""
    if subject is None:
        return None
    return {g.member for g in grants if (one := rules.single_subject(g.member)) and one[1] == subject}


def _resource_type(props: dict[str, Any]) -> Optional[str]:
    """Which IAM resource `props` are (a resource check sees props only): the family by the property
    naming the target, the kind by how the grant is given."""
    kind = "IAMPolicy" if "policyData" in props else ("IAMBinding" if "members" in props else "IAMMember")
    return next((t for t, (_, prop) in IAM.items() if prop in props and t.endswith(kind)), None)


def _grants(resource_type: str, props: dict[str, Any]) -> list[rules.Grant]:
    """The grants one resource makes whose role and member are known (its target only labels them)."""
    return [g for raw in raw_grants(resource_type, props)
            if (g := known(raw if raw.target is not UNKNOWN else RawGrant(raw.role, raw.member, raw.scope, None, raw.conditional)))]


def check_pool_impersonation(resource_type: str) -> Callable[[dict[str, Any], Mapping[str, Any]], Iterable[Finding]]:
    """A grant a pool's identity holds on an account (which makes it a writer: judge everyone on it),
    or project-wide (on every account of the project)."""

    def check(props: dict[str, Any], config: Mapping[str, Any]) -> Iterable[Finding]:
        grants = _grants(resource_type, props)
        harmless = _harmless(config)
        pooled = [g for g in grants if rules.pool_of(g.member) and rules.can_impersonate(g.role, {}, harmless)]
        if not pooled:
            return []
        subject = _text(config, SUBJECT_KEY)
        fix = rules.impersonation_fix(subject)
        if IAM[resource_type][0] == rules.PROJECT:
            writer = f"(any service account of project {pooled[0].target})"
            return rules.impersonation_findings(pooled, writer, _accepted(pooled, subject), harmless=harmless, fix=fix)
        writer = pooled[0].target or "(this account)"
        return rules.impersonation_findings(grants, writer, _accepted(grants, subject), harmless=harmless, fix=fix)

    return check


def check_pool_grants(resource_type: str) -> Callable[[dict[str, Any], Mapping[str, Any]], Iterable[Finding]]:
    def check(props: dict[str, Any], config: Mapping[str, Any]) -> Iterable[Finding]:
        return rules.pool_grant_findings(_grants(resource_type, props), harmless=_harmless(config))

    return check


def check_bucket_public_access(props: dict[str, Any], config: Mapping[str, Any]) -> Iterable[Finding]:
    value = props.get("publicAccessPrevention")
    return [] if value is UNKNOWN else rules.public_access_prevention_findings(value)


def check_uniform_access(props: dict[str, Any], config: Mapping[str, Any]) -> Iterable[Finding]:
    enabled = flag(props.get("uniformBucketLevelAccess"))
    return [] if enabled is UNKNOWN else rules.uniform_access_findings(enabled)


# --- the stack ----------------------------------------------------------------------------------------


def _not_reported_alone(pairs: Iterable[tuple[StackResource, Finding]], rule: Rule,
                        alone: Optional[Callable[[StackResource, Mapping[str, Any]], Iterable[Finding]]] = None) -> Pairs:
    """Each (resource, finding) once, leaving out what the rule's resource policy reports on that resource."""
    seen: set[tuple[str, str]] = set()
    for resource, finding in pairs:
        if finding.rule != rule.id or (resource.urn, finding.problem) in seen:
            continue
        seen.add((resource.urn, finding.problem))
        # The resource policy is configured on its own: what it reports unconfigured is what it surely reports.
        if alone is not None and finding in list(alone(resource, {})):
            continue
        yield resource, finding


def _alone_impersonation(resource: StackResource, config: Mapping[str, Any]) -> Iterable[Finding]:
    return check_pool_impersonation(resource.type)(resource.props, config) if resource.type in IAM else []


def _alone_pool_grants(resource: StackResource, config: Mapping[str, Any]) -> Iterable[Finding]:
    return check_pool_grants(resource.type)(resource.props, config) if resource.type in IAM else []


def _stack_accepted(stack: GcsStack, config: Mapping[str, Any]) -> Optional[set[str]]:
    subject = _text(config, SUBJECT_KEY)
    grants = [g for sg in stack.grants if (g := judged(stack, sg))]
    return _accepted(grants, subject)


def _known_target(grant: StackGrant, writer: Writer) -> Optional[str]:
    """The writer's name for an account-level grant whose target is known only through its dependency."""
    return writer.label if grant.raw.scope == rules.SERVICE_ACCOUNT and grant.raw.target is UNKNOWN else None


def impersonation_pairs(resources: list[StackResource], config: Mapping[str, Any]) -> Pairs:
    stack = gcs_stack(resources)
    accepted, harmless = _stack_accepted(stack, config), _harmless(config)
    own = own_projects(stack, _own(config))
    pairs = []
    for writer in stack.writers:
        reaching = [(sg, g) for sg in stack.grants if on_writer(stack, writer, sg) and (g := judged(stack, sg, _known_target(sg, writer)))]
        # Every grant on the account judged together, so a second federated subject shows across resources.
        judged_pairs = rules.impersonation_by_grant([g for _, g in reaching], writer.label, accepted, stack.custom_roles, harmless,
                                                    rules.impersonation_fix(_text(config, SUBJECT_KEY)), own)
        for grant, finding in judged_pairs:
            pairs += [(sg.source, finding) for sg, g in reaching if g is grant]
    return _not_reported_alone(pairs, rules.IMPERSONATION, _alone_impersonation)


def _writer_for_key(stack: GcsStack, resource: StackResource, prop: str) -> Optional[Writer]:
    value = resource.props.get(prop)
    deps = set(resource.deps.get(prop, ()))
    for writer in stack.writers:
        if writer.account is not None and writer.account.urn in deps:
            return writer
        if isinstance(value, str) and isinstance(writer.email, str):
            named = value.split("/serviceAccounts/")[-1].lower()
            if named == writer.email or (writer.account and named in {str(writer.account.props.get("uniqueId"))}):
                return writer
    return None


def key_pairs(resources: list[StackResource], config: Mapping[str, Any]) -> Pairs:
    stack = gcs_stack(resources)
    for key in stack.of_type(KEY):
        writer = _writer_for_key(stack, key, "serviceAccountId")
        if writer:
            for finding in rules.key_findings(writer.label):
                yield key, finding
    for key in stack.of_type(HMAC_KEY):
        writer = _writer_for_key(stack, key, "serviceAccountEmail")
        if writer and key.props.get("state") != "DELETED":
            for finding in rules.key_findings(writer.label, "HMAC", key.props.get("state") == "INACTIVE"):
                yield key, finding


def permission_pairs(resources: list[StackResource], config: Mapping[str, Any]) -> Pairs:
    stack = gcs_stack(resources)
    pairs: list[tuple[StackResource, Finding]] = []
    for writer in stack.writers:
        held = writer_grants(stack, writer)
        buckets = rules.writer_buckets([g for _, g in held], stack.custom_roles)
        if len(buckets) > 1:
            pairs += [(writer.account or held[0][0].source, f) for f in rules.bucket_count_findings(buckets)]
        for source, grant in held:
            pairs += [(source.source, f) for f in rules.writer_permission_findings([grant], writer.label, buckets, stack.custom_roles)]
    for grant in stack.grants:
        if is_pool_identity(stack, grant) and (judged_grant := judged(stack, grant)):
            pairs += [(grant.source, f) for f in rules.pool_grant_findings([judged_grant], stack.custom_roles, _harmless(config))]
    return iter(pairs)


def check_permissions(resources: list[StackResource], config: Mapping[str, Any]) -> Pairs:
    return _not_reported_alone(permission_pairs(resources, config), rules.PERMISSIONS, _alone_pool_grants)


def check_least_privilege(resources: list[StackResource], config: Mapping[str, Any]) -> Pairs:
    return _not_reported_alone(permission_pairs(resources, config), rules.LEAST_PRIVILEGE)


def check_keys(resources: list[StackResource], config: Mapping[str, Any]) -> Pairs:
    return _not_reported_alone(key_pairs(resources, config), rules.KEYS)


def check_bucket_access(resources: list[StackResource], config: Mapping[str, Any]) -> Pairs:
    stack = gcs_stack(resources)
    own = own_projects(stack, _own(config))
    writers = {w.email for w in stack.writers if isinstance(w.email, str)}
    names = recording_buckets(stack)
    buckets = {b.props.get("name"): b for b in bucket_resources(stack, names)}
    projects = {p for b in buckets.values() if isinstance(p := b.props.get("project"), str)}
    projects |= {w.project for w in stack.writers if w.project}
    pairs = []
    for grant in stack.grants:
        if grant.raw.scope == rules.BUCKET:
            if bucket_name(stack, grant) not in names:
                continue
        elif grant.raw.scope != rules.PROJECT or grant.raw.target not in projects:
            continue
        judged_grant = judged(stack, grant)
        if judged_grant is None:
            continue
        judged_grant = rules.Grant(judged_grant.role, judged_grant.member, judged_grant.scope,
                                   bucket_name(stack, grant) or judged_grant.target, judged_grant.conditional)
        pairs += [(grant.source, f) for f in rules.bucket_access_findings([judged_grant], writers, own, stack.custom_roles, _harmless(config))]
    return _not_reported_alone(pairs, rules.BUCKET_ACCESS)


def _recording_bucket_resources(stack: GcsStack) -> list[StackResource]:
    return bucket_resources(stack, recording_buckets(stack))


def check_lifecycle(resources: list[StackResource], config: Mapping[str, Any]) -> Pairs:
    stack = gcs_stack(resources)
    for bucket in _recording_bucket_resources(stack):
        lifecycle = bucket.props.get("lifecycleRules")
        if has_unknown(lifecycle):
            continue
        retention = declared_days(stack, bucket, RETENTION_KEY, config)
        for finding in rules.lifecycle_findings(as_list(lifecycle), retention):
            yield bucket, finding


def check_retention(resources: list[StackResource], config: Mapping[str, Any]) -> Pairs:
    stack = gcs_stack(resources)
    for bucket in _recording_bucket_resources(stack):
        policy = bucket.props.get("retentionPolicy")
        if has_unknown(policy):
            continue
        for finding in rules.retention_findings(policy, declared_days(stack, bucket, IMMUTABLE_KEY, config)):
            yield bucket, finding


def check_transfer(resources: list[StackResource], config: Mapping[str, Any]) -> Pairs:
    stack = gcs_stack(resources)
    recordings = set(recording_buckets(stack))
    own_buckets = {n for b in stack.of_type(BUCKET) if isinstance(n := b.props.get("name"), str)}
    for job in stack.of_type(TRANSFER_JOB):
        if has_unknown(job.props.get("transferSpec")) or has_unknown(job.props.get("replicationSpec")):
            # A bucket not named yet: judged once it is.
            continue
        for finding in rules.transfer_findings(job.props, recordings, own_buckets):
            yield job, finding


# --- config and the policies ------------------------------------------------------------------------------


def _schema(**properties: dict[str, Any]) -> PolicyConfigSchema:
    return PolicyConfigSchema(properties=properties)


SUBJECT = {"type": "string", "minLength": 1, "description": "Tavus's OIDC subject (the stack's tavusOidcSubject). Unset: any "
                                                             "one subject pins a condition and may be impersonated."}
ISSUER = {"type": "string", "minLength": 1, "description": "Tavus's OIDC issuer (the stack's tavusOidcIssuer). Unset: any https issuer."}
OWN_PROJECTS = {"type": "array", "items": {"type": "string"}, "description": "Your project ids and numbers, beside those the stack "
                                                                            "builds in: service accounts of other projects may not reach recordings."}
RETENTION = {"type": "integer", "minimum": 1, "description": "Days recordings must be kept where no GcsRecordingStorage declares its own."}
IMMUTABLE = {"type": "integer", "minimum": 1, "description": "Days of retention policy a recordings bucket must keep, where no "
                                                             "GcsRecordingStorage declares its own."}
HARMLESS = {"type": "array", "items": {"type": "string"}, "description": "Predefined roles you vouch carry no way to act as a service "
                                                                        "account or reach Cloud Storage, beside the pack's own list."}

IAM_TYPES = list(IAM)
SA_AND_PROJECT_IAM = [t for t, (scope, _) in IAM.items() if scope in (rules.SERVICE_ACCOUNT, rules.PROJECT)]


def _by_type(make: Callable[[str], Callable[[dict[str, Any], Mapping[str, Any]], Iterable[Finding]]]
             ) -> Callable[[dict[str, Any], Mapping[str, Any]], Iterable[Finding]]:
    """One resource check for all IAM types: the props tell which one they are."""

    def check(props: dict[str, Any], config: Mapping[str, Any]) -> Iterable[Finding]:
        resource_type = _resource_type(props)
        return make(resource_type)(props, config) if resource_type else []

    return check


GCP_POLICIES = [
    resource_policy(rules.PROVIDER_CONDITION, [PROVIDER], check_condition, _schema(subject=SUBJECT)),
    resource_policy(rules.PROVIDER_ISSUER, [PROVIDER], check_issuer, _schema(issuer=ISSUER)),
    stack_policy(rules.PROVIDER_ISSUER, check_pool_issuers, also_resource_policy=True),
    resource_policy(rules.PROVIDER_MAPPING, [PROVIDER], check_mapping),
    resource_policy(rules.IMPERSONATION, SA_AND_PROJECT_IAM, _by_type(check_pool_impersonation), _schema(subject=SUBJECT, harmlessRoles=HARMLESS)),
    stack_policy(rules.IMPERSONATION, impersonation_pairs, _schema(subject=SUBJECT, harmlessRoles=HARMLESS, ownProjects=OWN_PROJECTS),
                 also_resource_policy=True),
    stack_policy(rules.KEYS, check_keys),
    resource_policy(rules.PERMISSIONS, IAM_TYPES, _by_type(check_pool_grants), _schema(harmlessRoles=HARMLESS)),
    stack_policy(rules.PERMISSIONS, check_permissions, _schema(harmlessRoles=HARMLESS), also_resource_policy=True),
    stack_policy(rules.LEAST_PRIVILEGE, check_least_privilege),
    stack_policy(rules.BUCKET_ACCESS, check_bucket_access, _schema(ownProjects=OWN_PROJECTS, harmlessRoles=HARMLESS)),
    stack_policy(rules.LIFECYCLE, check_lifecycle, _schema(retentionDays=RETENTION)),
    stack_policy(rules.RETENTION, check_retention, _schema(immutableDays=IMMUTABLE)),
    stack_policy(rules.TRANSFER, check_transfer),
    resource_policy(rules.PUBLIC_ACCESS_PREVENTION, [BUCKET], check_bucket_public_access),
    resource_policy(rules.UNIFORM_ACCESS, [BUCKET], check_uniform_access),
    resource_policy(rules.FORCE_DESTROY, [BUCKET], force_destroy_check(rules.FORCE_DESTROY)),
]

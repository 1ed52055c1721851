"""Google Cloud: the pack's policies, judged by the shared rules in `tavus_recording.rules.gcp`.

What one resource shows is a resource policy, run before that resource is created: a provider's
condition, issuer and mapping; a grant to a workload pool's identities (the account it is on is then a
writer); a bucket's own settings. What needs the stack (who else reaches a writer, what it holds, its
keys, its buckets' access, lifecycle, retention and copies) is a stack policy, run at preview and
after the update's steps.

A service account is a writer when a workload identity pool's identity (principal:// or
principalSet:// of a pool) may act as it; the recordings buckets are those a writer is granted on.
With the default config every such writer is judged (a finding about an account no configured Tavus
principal acts as says how to keep another federation out: a separate stack, or the policy disabled).
Tavus's principal is taken only from a pool the stack defines; a project named by number counts as the
writer's unless the stack shows it is another; a policy document that cannot be read strictly is refused.
"""

import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Callable, Optional

from pulumi_policy import PolicyConfigSchema

from gcp_stack import (
    ACLS,
    BATCH_JOB,
    BUCKET,
    HMAC_KEY,
    IAM,
    KEY,
    POOL,
    PROVIDER,
    TRANSFER_JOB,
    GcsStack,
    PoolRef,
    RawGrant,
    StackGrant,
    Writer,
    bucket_name,
    bucket_resources,
    component_of,
    copied_into,
    grant_pool,
    declared_days,
    gcs_stack,
    is_pool_identity,
    judged,
    known,
    may_be_same_pool,
    named_bucket,
    on_writer,
    own_pool_paths,
    own_projects,
    path_ref,
    policy_problem,
    pool_ref,
    raw_grants,
    recording_buckets,
    same_project,
    stack_pools,
    transfer_source,
    unreadable,
    writer_grants,
)
from rule_kit import UNKNOWN, StackResource, flag, force_destroy_check, get, has_unknown, resource_policy, stack_policy
from tavus_recording.rules import cel
from tavus_recording.rules import gcp as rules
from tavus_recording.rules.findings import Finding, Rule
from tavus_recording.rules.iam import as_list

SUBJECT_KEY = "subject"
ISSUER_KEY = "issuer"
OWN_PROJECTS_KEY = "ownProjects"
OWN_DOMAINS_KEY = "ownDomains"
RETENTION_KEY = "retentionDays"
IMMUTABLE_KEY = "immutableDays"
MODE_KEY = "immutableMode"
COMPLIANCE = "compliance"
COLD_KEY = "coldAfterDays"
KMS_KEY = "kmsKeyName"
AGENT_KEY = "storageServiceAgent"
REQUIRE_KEY_KEY = "requireCustomerKey"
# The stack's grants on Cloud KMS keys: resource type -> how its members are given.
KMS_MEMBER = "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember"
KMS_BINDING = "gcp:kms/cryptoKeyIAMBinding:CryptoKeyIAMBinding"
KMS_POLICY = "gcp:kms/cryptoKeyIAMPolicy:CryptoKeyIAMPolicy"
HARMLESS_KEY = "harmlessRoles"
AUDIT_KEY = "auditLogs"
REQUIRE_AUDIT_KEY = "requireAuditLogs"
AUDIT_CONFIG = "gcp:projects/iAMAuditConfig:IAMAuditConfig"
PROJECT_POLICY = "gcp:projects/iAMPolicy:IAMPolicy"

# The pack judges every account a pool can act as like Tavus's writer (the rules' spec): a stack that
# also federates something else is told how to keep that out of Tavus's guardrails.
OTHER_FEDERATION = ("(if this account serves another federation, not Tavus, deploy it from a separate stack, or disable "
                    "{policy} for this stack)")

Pairs = Iterator[tuple[StackResource, Finding]]


def _text(config: Mapping[str, Any], key: str) -> Optional[str]:
    value = config.get(key)
    return value if isinstance(value, str) and value else None


def _own(config: Mapping[str, Any]) -> list[str]:
    return [p for p in as_list(config.get(OWN_PROJECTS_KEY)) if isinstance(p, str)]


def _domains(config: Mapping[str, Any]) -> Optional[set[str]]:
    """Your domains (lowercase), or None when not configured (people, groups and domains are then not judged)."""
    if OWN_DOMAINS_KEY not in config or config.get(OWN_DOMAINS_KEY) is None:
        return None
    return {d.lower().lstrip("@") for d in as_list(config.get(OWN_DOMAINS_KEY)) if isinstance(d, str) and d}


def _harmless(config: Mapping[str, Any]) -> set[str]:
    return {r for r in as_list(config.get(HARMLESS_KEY)) if isinstance(r, str)}


def _for_other_federations(finding: Finding, tavus: bool) -> Finding:
    """The finding, its fix saying how to exempt another federation unless the account is provably Tavus's
    writer (Tavus's configured principal acts as it)."""
    if tavus:
        return finding
    # The rules with a resource policy too report these from their `.stack` policy.
    stack_policy_name = finding.rule + (".stack" if finding.rule in (rules.IMPERSONATION.id, rules.PERMISSIONS.id) else "")
    hint = OTHER_FEDERATION.format(policy=stack_policy_name)
    return Finding(finding.rule, finding.problem, f"{finding.fix} {hint}", finding.unknown)


def _is_tavus_writer(stack: GcsStack, writer: Writer, accepted: Optional[set[str]]) -> bool:
    return accepted is not None and any(
        g.raw.scope == rules.SERVICE_ACCOUNT and g.raw.member in accepted and on_writer(stack, writer, g) for g in stack.grants)


# --- the provider ---------------------------------------------------------------------------------


def _assumed_mapping(condition: Any, mapping: Any) -> Any:
    """The mapping most favourable to `condition` while some of it is unknown: every attribute not known
    yet taken as mapped from exactly the subject claim (what no real mapping can beat)."""
    if not has_unknown(mapping):
        return mapping
    if isinstance(mapping, dict):
        # Its attributes are known, only some of their expressions are not.
        return {k: "assertion.sub" if has_unknown(v) else v for k, v in mapping.items()}
    try:
        named = cel.named_attributes(condition) if isinstance(condition, str) else set()
    except cel.NotProvable:
        named = set()
    return {attribute: "assertion.sub" for attribute in named}


def check_condition(props: dict[str, Any], config: Mapping[str, Any]) -> Iterable[Finding]:
    condition, mapping = props.get("attributeCondition"), props.get("attributeMapping")
    if condition is UNKNOWN:
        return []
    # An attribute not mapped yet may be the one the condition names: what fails even so fails whatever it maps.
    return rules.condition_findings(condition, _assumed_mapping(condition, mapping), _text(config, SUBJECT_KEY))


def check_issuer(props: dict[str, Any], config: Mapping[str, Any]) -> Iterable[Finding]:
    oidc = props.get("oidc")
    if oidc is UNKNOWN:
        return []
    if has_unknown(get(props, "oidc", "issuerUri")):
        # Inline keys are a violation whatever the issuer turns out to be.
        jwks = get(oidc, "jwksJson")
        return rules.jwks_findings(oidc) if isinstance(oidc, dict) and not has_unknown(jwks) else []
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


def _provider_pool(stack: GcsStack, provider: StackResource) -> Optional[PoolRef]:
    """Which pool a provider is in: the pool it depends on, else the pool its own name says, else its pool id
    (and project); None when none is known yet."""
    for pool in stack.of_type(POOL):
        if pool.urn in provider.deps.get("workloadIdentityPoolId", ()):
            return pool_ref(pool)
    name = provider.props.get("name")
    if isinstance(name, str) and (ref := path_ref(name.split("/providers/")[0])):
        return ref
    pool_id, project = provider.props.get("workloadIdentityPoolId"), provider.props.get("project")
    if not isinstance(pool_id, str) or project is UNKNOWN:
        return None
    return PoolRef(pool_id, project)


def check_pool_issuers(resources: list[StackResource], config: Mapping[str, Any]) -> Pairs:
    """Every provider of one pool trusts one issuer (each mints the same principals). A provider that may be
    in a pool of the stack (a name not known yet, a project that cannot be told apart) is judged with it."""
    stack = gcs_stack(resources)
    pools = stack_pools(stack)
    groups: dict[str, list[StackResource]] = {pool.urn or pool.label: [] for pool in pools}
    labels = {pool.urn or pool.label: pool.label for pool in pools}
    for provider in stack.of_type(PROVIDER):
        ref = _provider_pool(stack, provider)
        if ref is None:
            continue
        homes = [pool.urn or pool.label for pool in pools if may_be_same_pool(stack, pool, ref) is not False]
        for key in homes or [ref.label]:
            groups.setdefault(key, []).append(provider)
    for key, providers in groups.items():
        issuers = [_issuer(p) for p in providers]
        if UNKNOWN in issuers:
            continue
        for provider in providers:
            for finding in rules.pool_issuer_findings(issuers, labels.get(key, key)):
                yield provider, finding


# --- grants one resource shows ---------------------------------------------------------------------


def _accepted(grants: Iterable[rules.Grant], subject: Optional[str]) -> Optional[set[str]]:
    """Tavus's principals among `grants`: with a configured subject, that subject in any pool (which pool is
    the stack's to tell: `own_pool_paths`)."""
    if subject is None:
        return None
    return {g.member for g in grants if (one := rules.single_subject(g.member)) and one[1] == subject}


# The property that tells each IAM family apart, most specific first (a pool's or a managed folder's
# IAM also carries `project` or `bucket`).
_FAMILIES = ("managedFolder", "workloadIdentityPoolId", "serviceAccountId", "bucket", "project")


def _resource_type(props: dict[str, Any]) -> Optional[str]:
    """Which IAM resource `props` are (a resource check sees props only): the family by the property
    naming the target, the kind by how the grant is given."""
    kind = "policy" if "policyData" in props else ("binding" if "members" in props else "member")
    family = next((prop for prop in _FAMILIES if prop in props), None)
    for resource_type, (_, prop) in IAM.items():
        folder = "managedFolder" in resource_type
        if resource_type.lower().endswith(kind) and (family == "managedFolder") == folder and (folder or prop == family):
            return resource_type
    return None


def _grants(resource_type: str, props: dict[str, Any]) -> list[rules.Grant]:
    """The grants one resource makes whose role and member are known (its target only labels them)."""
    return [g for raw in raw_grants(resource_type, props)
            if (g := known(raw if raw.target is not UNKNOWN else RawGrant(raw.role, raw.member, raw.scope, None, raw.conditional, raw.folder)))]


def _unreadable_policy(resource_type: str, props: dict[str, Any], rule: Rule) -> list[Finding]:
    reason = policy_problem(resource_type, props)
    return [rules.unreadable_policy_finding(rule, reason)] if reason else []


def check_pool_impersonation(resource_type: str) -> Callable[[dict[str, Any], Mapping[str, Any]], Iterable[Finding]]:
    """A grant a pool's identity holds on an account (which makes it a writer: judge everyone on it),
    or project-wide (on every account of the project); and a policy document that cannot be read strictly."""

    def check(props: dict[str, Any], config: Mapping[str, Any]) -> Iterable[Finding]:
        unreadable_policy = _unreadable_policy(resource_type, props, rules.IMPERSONATION)
        grants = _grants(resource_type, props)
        harmless = _harmless(config)
        pooled = [g for g in grants if rules.pool_of(g.member) and rules.can_impersonate(g.role, {}, harmless)]
        if not pooled:
            return unreadable_policy
        subject = _text(config, SUBJECT_KEY)
        fix = rules.impersonation_fix(subject)
        if IAM[resource_type][0] == rules.PROJECT:
            writer = f"(any service account of project {pooled[0].target})"
            return unreadable_policy + rules.impersonation_findings(pooled, writer, _accepted(pooled, subject), harmless=harmless, fix=fix)
        writer = pooled[0].target or "(this account)"
        return unreadable_policy + rules.impersonation_findings(grants, writer, _accepted(grants, subject), harmless=harmless, fix=fix)

    return check


def check_pool_grants(resource_type: str) -> Callable[[dict[str, Any], Mapping[str, Any]], Iterable[Finding]]:
    def check(props: dict[str, Any], config: Mapping[str, Any]) -> Iterable[Finding]:
        # Account and project policy documents are the impersonation policy's to refuse; the others are this one's.
        unreadable_policy = [] if IAM[resource_type][0] in (rules.SERVICE_ACCOUNT, rules.PROJECT) else (
            _unreadable_policy(resource_type, props, rules.PERMISSIONS))
        return unreadable_policy + rules.pool_grant_findings(_grants(resource_type, props), harmless=_harmless(config))

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
        if alone is not None and finding.problem in {f.problem for f in alone(resource, {})}:
            continue
        yield resource, finding


def _alone_impersonation(resource: StackResource, config: Mapping[str, Any]) -> Iterable[Finding]:
    return check_pool_impersonation(resource.type)(resource.props, config) if resource.type in IAM else []


def _alone_pool_grants(resource: StackResource, config: Mapping[str, Any]) -> Iterable[Finding]:
    return check_pool_grants(resource.type)(resource.props, config) if resource.type in IAM else []


def _stack_accepted(stack: GcsStack, config: Mapping[str, Any]) -> Optional[set[str]]:
    """Tavus's principals in the stack's grants (on whatever account, named yet or not)."""
    subject = _text(config, SUBJECT_KEY)
    grants = [g for sg in stack.grants if (g := judged(stack, sg, "(not named yet)" if sg.raw.target is UNKNOWN else None))]
    return _accepted(grants, subject)


def _known_target(stack: GcsStack, grant: StackGrant, writer: Writer) -> Optional[str]:
    """What an account- or pool-level grant is on, when its target is known only through its dependency."""
    if grant.raw.target is not UNKNOWN:
        return None
    if grant.raw.scope == rules.SERVICE_ACCOUNT:
        return writer.label
    return grant_pool(stack, grant).label if grant.raw.scope == rules.POOL else None


def impersonation_pairs(resources: list[StackResource], config: Mapping[str, Any]) -> Pairs:
    stack = gcs_stack(resources)
    accepted, harmless = _stack_accepted(stack, config), _harmless(config)
    own = own_projects(stack, _own(config))
    members = [g.raw.member for g in stack.grants if isinstance(g.raw.member, str) and rules.pool_of(g.raw.member)]
    own_pools = own_pool_paths(stack, [p for m in members if (p := rules.pool_of(m))])
    fix = rules.impersonation_fix(_text(config, SUBJECT_KEY))
    pairs = []
    for writer in stack.writers:
        reaching = [(sg, g) for sg in stack.grants if on_writer(stack, writer, sg) and (g := judged(stack, sg, _known_target(stack, sg, writer)))]
        # Every grant on the account judged together, so a second federated subject shows across resources.
        judged_pairs = rules.impersonation_by_grant([g for _, g in reaching], writer.label, accepted, stack.custom_roles, harmless,
                                                    fix, own, own_pools)
        tavus = _is_tavus_writer(stack, writer, accepted)
        for grant, finding in judged_pairs:
            pairs += [(sg.source, _for_other_federations(finding, tavus)) for sg, g in reaching if g is grant]
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
    accepted = _stack_accepted(stack, config)
    pairs: list[tuple[StackResource, Finding]] = []
    for writer in stack.writers:
        tavus = _is_tavus_writer(stack, writer, accepted)
        held = writer_grants(stack, writer)
        buckets = rules.writer_buckets([g for _, g in held], stack.custom_roles)
        if len(buckets) > 1:
            pairs += [(writer.account or held[0][0].source, _for_other_federations(f, tavus))
                      for f in rules.bucket_count_findings(buckets)]
        for source, grant in held:
            pairs += [(source.source, _for_other_federations(f, tavus))
                      for f in rules.writer_permission_findings([grant], writer.label, buckets, stack.custom_roles)]
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


def _reached_buckets(stack: GcsStack) -> list[str]:
    """The recordings buckets, and the stack's buckets transfer jobs copy recordings into."""
    recordings = recording_buckets(stack)
    return recordings + copied_into(stack, recordings)


def _on_project_of(stack: GcsStack, target: Any, projects: Iterable[str]) -> bool:
    """Whether a project-wide grant's target may be one of `projects` (by id or number; a name that cannot be
    told apart, or read, may be)."""
    if unreadable(target):
        return True
    return isinstance(target, str) and any(same_project(stack, target, p) is not False for p in projects)


def _acl_findings(stack: GcsStack, acl: StackResource, names: set[str], own: set[str]) -> list[Finding]:
    bucket = named_bucket(stack, acl, "bucket")
    if bucket not in names:
        return []
    obj = acl.props.get("object")
    kind = acl.type.split(":")[-1]
    what = (f"{'the default object ACL' if 'Default' in kind else 'an ACL'} of bucket {bucket}" if not isinstance(obj, str) or "Default" in kind
            else f"an ACL of object {obj} in bucket {bucket}")
    found: list[Finding] = []
    if ACLS[acl.type] == "roleEntities":
        entries = acl.props.get("roleEntities")
        if not has_unknown(entries):
            found += rules.acl_findings(rules.role_entities(as_list(entries)), own, what)
        for key in ("predefinedAcl", "defaultAcl"):
            value = acl.props.get(key)
            if value is not UNKNOWN:
                found += rules.predefined_acl_findings(value, what if key == "predefinedAcl" else f"the default object ACL of bucket {bucket}")
    elif not has_unknown(acl.props.get("entity")):
        found += rules.acl_findings([(acl.props.get("role"), acl.props.get("entity"))], own, what)
    return found


def check_bucket_access(resources: list[StackResource], config: Mapping[str, Any]) -> Pairs:
    stack = gcs_stack(resources)
    own = own_projects(stack, _own(config))
    domains = _domains(config)
    writers = {w.email for w in stack.writers if isinstance(w.email, str)}
    names = _reached_buckets(stack)
    buckets = {b.props.get("name"): b for b in bucket_resources(stack, names)}
    projects = {p for b in buckets.values() for p in (b.props.get("project"), b.props.get("projectNumber")) if isinstance(p, str)}
    projects |= {w.project for w in stack.writers if w.project}
    pairs = []
    for grant in stack.grants:
        bucket = bucket_name(stack, grant) if grant.raw.scope == rules.BUCKET else None
        if grant.raw.scope == rules.BUCKET:
            if bucket not in names:
                continue
        elif grant.raw.scope != rules.PROJECT or not _on_project_of(stack, grant.raw.target, projects):
            continue
        judged_grant = judged(stack, grant, bucket)
        if judged_grant is None:
            continue
        pairs += [(grant.source, f) for f in rules.bucket_access_findings([judged_grant], writers, own, stack.custom_roles,
                                                                          _harmless(config), own_domains=domains)]
    for acl in stack.of_type(*ACLS):
        pairs += [(acl, f) for f in _acl_findings(stack, acl, set(names), own)]
    return _not_reported_alone(pairs, rules.BUCKET_ACCESS)


def _recording_bucket_resources(stack: GcsStack) -> list[StackResource]:
    return bucket_resources(stack, recording_buckets(stack))


def _batch_buckets(stack: GcsStack, job: StackResource, recordings: set[str]) -> list[str]:
    """The recordings buckets a Storage Batch Operations job names (its bucketList, by value or dependency)."""
    listed = get(job.props.get("bucketList"), "buckets")
    found = [b for entry in as_list(listed) if isinstance(b := get(entry, "bucket"), str) and b in recordings]
    if has_unknown(listed):
        found += [n for b in bucket_resources(stack, recordings) if b.urn in job.deps.get("bucketList", ())
                  if isinstance(n := b.props.get("name"), str)]
    return found


def check_lifecycle(resources: list[StackResource], config: Mapping[str, Any]) -> Pairs:
    stack = gcs_stack(resources)
    for bucket in _recording_bucket_resources(stack):
        lifecycle = bucket.props.get("lifecycleRules")
        if has_unknown(lifecycle):
            continue
        retention = declared_days(stack, bucket, RETENTION_KEY, config)
        for finding in rules.lifecycle_findings(as_list(lifecycle), retention):
            yield bucket, finding
    recordings = set(recording_buckets(stack))
    for job in stack.of_type(BATCH_JOB):
        if job.props.get("deleteObject") is UNKNOWN:
            continue
        for finding in rules.batch_job_findings(job.props, _batch_buckets(stack, job, recordings)):
            yield job, finding


def _compliance(stack: GcsStack, bucket: StackResource, config: Mapping[str, Any]) -> Any:
    """Whether the bucket's retention must be locked: its component's immutableMode (the mode in force) or the
    pack's is compliance (the pack's is an organisation's floor, so it holds whatever the stack says); UNKNOWN
    while the component's is not known."""
    component = component_of(stack, bucket)
    declared = component.props.get(MODE_KEY) if component is not None else None
    if config.get(MODE_KEY) == COMPLIANCE:
        return True
    return UNKNOWN if declared is UNKNOWN else declared == COMPLIANCE


def check_retention(resources: list[StackResource], config: Mapping[str, Any]) -> Pairs:
    stack = gcs_stack(resources)
    for bucket in _recording_bucket_resources(stack):
        policy, compliance = bucket.props.get("retentionPolicy"), _compliance(stack, bucket, config)
        if has_unknown(policy) or compliance is UNKNOWN:
            continue
        for finding in rules.retention_findings(policy, declared_days(stack, bucket, IMMUTABLE_KEY, config), compliance):
            yield bucket, finding



def check_cold_tier(resources: list[StackResource], config: Mapping[str, Any]) -> Pairs:
    stack = gcs_stack(resources)
    for bucket in _recording_bucket_resources(stack):
        lifecycle = bucket.props.get("lifecycleRules")
        if has_unknown(lifecycle):
            continue
        # pulumi-gcp's inputs: a 0 counts only with its send*IfZero flag.
        for finding in rules.cold_tier_findings(as_list(lifecycle), declared_days(stack, bucket, COLD_KEY, config), pulumi=True):
            yield bucket, finding


def _declared_key(stack: GcsStack, bucket: StackResource) -> Any:
    component = component_of(stack, bucket)
    return component.props.get(KMS_KEY) if component is not None else None


def check_encryption_key(resources: list[StackResource], config: Mapping[str, Any]) -> Pairs:
    stack = gcs_stack(resources)
    for bucket in _recording_bucket_resources(stack):
        encryption, wanted = bucket.props.get("encryption"), _declared_key(stack, bucket)
        if has_unknown(encryption) or has_unknown(wanted):
            continue
        wanted = wanted if isinstance(wanted, str) and wanted else None
        require = config.get(REQUIRE_KEY_KEY) is True
        for finding in rules.encryption_key_findings(encryption, wanted, require):
            yield bucket, finding
        # The writer picks each upload's encryption: the bucket must refuse the kinds that escape the customer's key.
        for finding in rules.upload_key_findings(encryption, bool(wanted or require)):
            yield bucket, finding


def _key_grants(stack: GcsStack, key: str, project: Optional[str] = None) -> Optional[list[rules.Grant]]:
    """The stack's grants on Cloud KMS key `key` (named in full, or in pulumi-gcp's short forms, whose project-less
    one is in `project`); None while one that may be on it is not known yet."""
    grants: list[rules.Grant] = []
    for resource in stack.of_type(KMS_MEMBER, KMS_BINDING, KMS_POLICY):
        props = resource.props
        if props.get("cryptoKeyId") is UNKNOWN:
            return None
        if rules.kms_key_name(str(props.get("cryptoKeyId")), project) != key:
            continue
        if resource.type == KMS_POLICY:
            policy = props.get("policyData")
            if has_unknown(policy):
                return None
            grants += rules.policy_grants(json.loads(policy) if isinstance(policy, str) else policy, rules.OTHER, key)
            continue
        members = [props.get("member")] if resource.type == KMS_MEMBER else as_list(props.get("members"))
        if has_unknown(members) or props.get("role") is UNKNOWN:
            return None
        grants += [rules.Grant(str(props.get("role")), m, rules.OTHER, key, bool(props.get("condition"))) for m in members if isinstance(m, str)]
    return grants


def check_service_agent(resources: list[StackResource], config: Mapping[str, Any]) -> Pairs:
    """A bucket whose component declares kmsKeyName: the stack itself grants the storage agent the key."""
    stack = gcs_stack(resources)
    for bucket in _recording_bucket_resources(stack):
        key = _declared_key(stack, bucket)
        if not isinstance(key, str) or not key:
            continue
        project = bucket.props.get("project")
        grants = _key_grants(stack, key, project if isinstance(project, str) else None)
        if grants is None:
            continue
        # The agent the component looked up for the bucket's project, when it says (else any project's agent counts).
        component = component_of(stack, bucket)
        agent = component.props.get(AGENT_KEY) if component is not None else None
        for finding in rules.service_agent_findings(grants, key, agent if isinstance(agent, str) and agent else None):
            yield bucket, finding


def _audit_sources(stack: GcsStack, bucket: StackResource) -> Optional[list[tuple[StackResource, list[Any]]]]:
    """The stack's audit configs (IAMAuditConfig, and a project IAMPolicy's auditConfigs) that may be on the bucket's
    project, each with the resource holding it; None while one that may be is not known yet. A project named
    another way than the bucket's counts unless the stack shows it is another project."""
    project = bucket.props.get("project")
    sources: list[tuple[StackResource, list[Any]]] = []
    for resource in stack.of_type(AUDIT_CONFIG, PROJECT_POLICY):
        target = resource.props.get("project")
        if has_unknown(target):
            if bucket.urn not in resource.deps.get("project", ()):
                return None
        elif same_project(stack, target, project) is False:
            continue
        if resource.type == AUDIT_CONFIG:
            entry = {"service": resource.props.get("service"), "auditLogConfigs": resource.props.get("auditLogConfigs")}
            if has_unknown(entry):
                return None
            sources.append((resource, [entry]))
            continue
        policy = resource.props.get("policyData")
        if has_unknown(policy):
            return None
        try:
            document = json.loads(policy) if isinstance(policy, str) else policy
        except ValueError:
            continue  # refused as unreadable by the impersonation policy
        if isinstance(document, Mapping):
            sources.append((resource, as_list(document.get("auditConfigs"))))
    return sources


def check_data_access_logs(resources: list[StackResource], config: Mapping[str, Any]) -> Pairs:
    """A recordings bucket whose component asks for auditLogs (or any, with requireAuditLogs): the stack must log
    Cloud Storage's reads and writes in its project, exempting nobody. What the project already logs outside the
    stack is not seen here (the kit merges it into its own IAMAuditConfig); verify reads it live."""
    stack = gcs_stack(resources)
    required_by_config = config.get(REQUIRE_AUDIT_KEY) is True
    for bucket in _recording_bucket_resources(stack):
        component = component_of(stack, bucket)
        asked = component.props.get(AUDIT_KEY) if component is not None else None
        if asked is UNKNOWN or not (asked is True or required_by_config):
            continue
        sources = _audit_sources(stack, bucket)
        if sources is None:
            continue
        project = bucket.props.get("project")
        fix = rules.audit_log_fix(project if isinstance(project, str) else None)
        for finding in rules.audit_gap_findings([c for _, configs in sources for c in configs], fix):
            yield bucket, finding
        for resource, configs in sources:
            for finding in rules.audit_exemption_findings(configs):
                yield resource, finding


def check_transfer(resources: list[StackResource], config: Mapping[str, Any]) -> Pairs:
    stack = gcs_stack(resources)
    recordings = set(recording_buckets(stack))
    own_buckets = {n for b in stack.of_type(BUCKET) if isinstance(n := b.props.get("name"), str)}
    for job in stack.of_type(TRANSFER_JOB):
        props = dict(job.props)
        for key in ("transferSpec", "replicationSpec"):
            spec = props.get(key)
            if spec is None:
                continue
            source = transfer_source(stack, job, key, recordings)
            sink = get(spec, "gcsDataSink")
            if source is UNKNOWN or has_unknown(sink) or has_unknown(get(spec, "posixDataSink")) or has_unknown(get(spec, "transferOptions")):
                # A bucket not named yet (and not a recordings bucket by dependency): judged once it is.
                props[key] = None
                continue
            if isinstance(spec, dict):
                data_source = spec.get("gcsDataSource")
                props[key] = {**spec, "gcsDataSource": {**(data_source if isinstance(data_source, dict) else {}), "bucketName": source}}
        for finding in rules.transfer_findings(props, recordings, own_buckets):
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
MODE = {"type": "string", "enum": ["governance", COMPLIANCE], "description": "compliance: every recordings bucket's retention "
                                                                             "policy must be locked, whatever the stack's own "
                                                                             "immutableMode; governance: as the stack asks."}
COLD = {"type": "integer", "minimum": 1, "description": "Days after which live recordings must move to NEARLINE, where no "
                                                         "GcsRecordingStorage declares its own coldAfterDays."}
REQUIRE_KEY = {"type": "boolean", "description": "Every recordings bucket must encrypt with a Cloud KMS key by default "
                                                 "(kmsKeyName), not Google's."}
REQUIRE_AUDIT = {"type": "boolean", "description": "Every recordings bucket's project must log Cloud Storage's reads and "
                                                   "writes (DATA_READ, DATA_WRITE), even where the stack sets no auditLogs."}
HARMLESS = {"type": "array", "items": {"type": "string"}, "description": "Predefined roles you vouch carry no way to act as a service "
                                                                        "account or reach Cloud Storage, beside the pack's own list."}
OWN_DOMAINS = {"type": "array", "items": {"type": "string"}, "description": "Your organisation's domains: a user, group or domain of "
                                                                           "another domain may not reach the recordings. Unset: people, "
                                                                           "groups and domains are not judged."}

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
    stack_policy(rules.BUCKET_ACCESS, check_bucket_access, _schema(ownProjects=OWN_PROJECTS, harmlessRoles=HARMLESS, ownDomains=OWN_DOMAINS)),
    stack_policy(rules.LIFECYCLE, check_lifecycle, _schema(retentionDays=RETENTION)),
    stack_policy(rules.RETENTION, check_retention, _schema(immutableDays=IMMUTABLE, immutableMode=MODE)),
    stack_policy(rules.TRANSFER, check_transfer),
    resource_policy(rules.PUBLIC_ACCESS_PREVENTION, [BUCKET], check_bucket_public_access),
    resource_policy(rules.UNIFORM_ACCESS, [BUCKET], check_uniform_access),
    resource_policy(rules.FORCE_DESTROY, [BUCKET], force_destroy_check(rules.FORCE_DESTROY)),
    stack_policy(rules.COLD_TIER, check_cold_tier, _schema(coldAfterDays=COLD)),
    stack_policy(rules.ENCRYPTION_KEY, check_encryption_key, _schema(requireCustomerKey=REQUIRE_KEY)),
    stack_policy(rules.SERVICE_AGENT, check_service_agent),
    stack_policy(rules.DATA_ACCESS_LOGS, check_data_access_logs, _schema(requireAuditLogs=REQUIRE_AUDIT)),
]

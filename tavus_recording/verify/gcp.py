"""`verify` for a Cloud Storage destination: will Tavus be able to write to the bucket, right now, and
is it still only Tavus who can?

Tavus presents an OIDC token to Google's STS; the pool's provider accepts it only from Tavus's
issuer and for Tavus's subject; the federated principal that results impersonates the writer
service account, which may create objects in the bucket. verify reads each link with the caller's
own credentials (`gcp_reads`) and judges it with the guardrails' shared rules
(`tavus_recording.rules.gcp`), the same the policy pack judges the stack with before a deploy, so a
finding reads the same on both sides. It only reads, and only what the stack's outputs name (and
the project they are in).

A read the caller may not make (HTTP 403) makes only the checks that depend on it unknown; a
resource that is missing fails its own check and skips those that need it. With no credentials at
all, or no cloud to reach on the first read, verify cannot run (`CannotVerify`).

After that first read, the reads go out together in dependency rounds (`_read_ahead`); the checks
then take each answer in their own order, so the report is exactly what reading one after another gives.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass, replace
from functools import partial
from typing import Any, Callable, Iterable, Mapping, Optional, Sequence

import google.auth.exceptions
from google.auth.credentials import Credentials
from google.auth.transport.requests import AuthorizedSession

from components import gcp_policy, tavus
from tavus_recording.rules import gcp as rules
from tavus_recording.rules.findings import Finding
from tavus_recording.rules.iam import as_list
from tavus_recording.verify import gcp_reads
from tavus_recording.verify.gcp_reads import (
    CRM_URL,
    IAM_URL,
    KMS_URL,
    LOGIN_FIX,
    READ_PERMISSIONS,
    READER_ROLES,
    STORAGE_URL,
    Destination,
    Json,
    MissingOutputs,
    Read,
    Reader,
    Unreadable,
    destination,
    reader_role_command,
)
from tavus_recording.verify.report import (
    UNMANAGED_BUCKET,
    CannotVerify,
    Check,
    failed,
    from_findings,
    passed,
    restore,
    skipped,
    storage_fix,
    storage_managed,
    unknown,
)

__all__ = ["CHECK_IDS", "READ_PERMISSIONS", "READER_ROLES", "MissingOutputs", "reader_role_command", "verify"]

POOL_STATE = "gcs.pool.state"
PROVIDER_STATE = "gcs.provider.state"
PROVIDER_ISSUER = rules.PROVIDER_ISSUER.id
PROVIDER_MAPPING = rules.PROVIDER_MAPPING.id
PROVIDER_CONDITION = rules.PROVIDER_CONDITION.id
ACCOUNT_STATE = "gcs.service_account.state"
IMPERSONATION = rules.IMPERSONATION.id
KEYS = rules.KEYS.id
PERMISSIONS = rules.PERMISSIONS.id
LEAST_PRIVILEGE = rules.LEAST_PRIVILEGE.id
BUCKET_PROJECT = "gcs.bucket.project"
VERSIONING = "gcs.bucket.versioning"
UNIFORM_ACCESS = rules.UNIFORM_ACCESS.id
PUBLIC_ACCESS_PREVENTION = rules.PUBLIC_ACCESS_PREVENTION.id
WRITER = "gcs.bucket.writer"
BUCKET_ACCESS = rules.BUCKET_ACCESS.id
LIFECYCLE = rules.LIFECYCLE.id
RETENTION = rules.RETENTION.id
COLD_TIER = rules.COLD_TIER.id
ENCRYPTION_KEY = rules.ENCRYPTION_KEY.id
SERVICE_AGENT = rules.SERVICE_AGENT.id
DATA_ACCESS_LOGS = rules.DATA_ACCESS_LOGS.id
# Every run reports exactly these, in this order (the path a token takes, who else can take it, then the bucket).
CHECK_IDS: tuple[str, ...] = (
    POOL_STATE,
    PROVIDER_STATE,
    PROVIDER_ISSUER,
    PROVIDER_MAPPING,
    PROVIDER_CONDITION,
    ACCOUNT_STATE,
    IMPERSONATION,
    KEYS,
    PERMISSIONS,
    LEAST_PRIVILEGE,
    BUCKET_PROJECT,
    VERSIONING,
    UNIFORM_ACCESS,
    PUBLIC_ACCESS_PREVENTION,
    WRITER,
    BUCKET_ACCESS,
    LIFECYCLE,
    RETENTION,
    COLD_TIER,
    ENCRYPTION_KEY,
    SERVICE_AGENT,
    DATA_ACCESS_LOGS,
)
PROVIDER_IDS = (PROVIDER_STATE, PROVIDER_ISSUER, PROVIDER_MAPPING, PROVIDER_CONDITION)
BUCKET_IDS = (BUCKET_PROJECT, VERSIONING, UNIFORM_ACCESS, PUBLIC_ACCESS_PREVENTION, LIFECYCLE, RETENTION, COLD_TIER, ENCRYPTION_KEY)
# What the bucket's and the project's IAM policies decide.
GRANT_IDS = (PERMISSIONS, LEAST_PRIVILEGE, BUCKET_ACCESS)

# Every `restore(...)` fix starts so: the stack manages the setting, `--refresh` sees the drift.
PULUMI_UP = "run `pulumi up --refresh` for this stack"
# Stands in a fix for Tavus's subject when the stack does not export it (Tavus's recording guide, GCS tab).
SUBJECT_PLACEHOLDER = "TAVUS_SUBJECT"
SECONDS_PER_DAY = 86400


# --- the checks that are not the shared rules' (is the path there at all?)


def _cannot_judge(ids: Sequence[str], problem: Unreadable, when_missing: Optional[Callable[[], Check]] = None) -> list[Check]:
    """The checks `ids` when their read failed: a missing resource fails the first, the rest are skipped."""
    if problem.kind == "missing":
        if when_missing is None:
            return skipped(list(ids), problem.detail)
        return [when_missing(), *skipped(list(ids[1:]), problem.detail)]
    return [unknown(check_id, problem.detail, problem.fix) for check_id in ids]


def _state_problem(resource: Json, kind: str, name: str) -> Optional[str]:
    """Why a pool or provider cannot exchange tokens, if it cannot (`disabled` is absent when false)."""
    state = resource.get("state", "STATE_UNSPECIFIED")
    if state == "DELETED":
        purge = f" (purged after {resource['expireTime']})" if resource.get("expireTime") else ""
        return f"{kind} {name} is soft-deleted{purge}"
    if resource.get("disabled") is True:
        return f"{kind} {name} is disabled"
    if state != "ACTIVE":
        return f"{kind} {name} is in state {state}"
    return None


def judge_pool(pool: Json, dest: Destination) -> Check:
    problem = _state_problem(pool, "pool", dest.pool_name)
    if problem is None:
        return passed(POOL_STATE, f"pool {dest.pool_name} is ACTIVE and enabled, as Tavus's token exchange needs")
    base = f"gcloud iam workload-identity-pools {{}} {dest.pool_id} --project={dest.project_number} --location=global"
    fix = base.format("undelete") if pool.get("state") == "DELETED" else f"{base.format('update')} --no-disabled"
    return failed(POOL_STATE, f"{problem}: Google refuses every token exchange through it, Tavus's included.",
                  f"{fix}, or {restore('workload identity pool')}")


def _provider_command(dest: Destination, verb: str) -> str:
    return (
        f"gcloud iam workload-identity-pools providers {verb} {dest.provider_id} "
        f"--workload-identity-pool={dest.pool_id} --project={dest.project_number} --location=global"
    )


def judge_provider_state(provider: Json, dest: Destination) -> Check:
    problem = _state_problem(provider, "provider", dest.provider_name)
    if problem is None:
        return passed(PROVIDER_STATE, f"provider {dest.provider_name} is ACTIVE and enabled")
    if provider.get("state") == "DELETED":
        fix = _provider_command(dest, "undelete")
    else:
        fix = f"{_provider_command(dest, 'update-oidc')} --no-disabled"
    return failed(PROVIDER_STATE, f"{problem}: Tavus's tokens cannot be exchanged through it.",
                  f"{fix}, or {restore('workload identity provider')}")


def judge_account(account: Json, dest: Destination) -> Check:
    if account.get("disabled") is True:
        return failed(
            ACCOUNT_STATE,
            f"service account {dest.email} is disabled: Tavus can impersonate it but gets no token to write with.",
            f"gcloud iam service-accounts enable {dest.email} --project={account.get('projectId') or dest.project_id}",
        )
    return passed(ACCOUNT_STATE, f"service account {dest.email} exists and is enabled")


def _missing_account(dest: Destination) -> Check:
    return failed(
        ACCOUNT_STATE,
        f"service account {dest.email} does not exist: Tavus has no account to impersonate.",
        f"{restore('writer service account')}; a deleted account can be restored within 30 days with "
        "`gcloud iam service-accounts undelete <unique id>` (its id is in the audit log)",
    )


def _bucket_fix(managed: bool, restore_fix: str, direct: str) -> str:
    return storage_fix(managed, restore_fix, direct, UNMANAGED_BUCKET)


def _update_bucket(dest: Destination, flag: str, what: str, managed: bool) -> str:
    """The gcloud line that sets `flag` on the bucket, or the refresh for the kit's bucket."""
    command = f"gcloud storage buckets update gs://{dest.bucket} {flag}"
    return _bucket_fix(managed, f"{command}, or {restore(what)}", command)


def judge_bucket_project(bucket: Json, dest: Destination, managed: bool = True) -> Check:
    found = bucket.get("projectNumber")
    if found == dest.project_number:
        return passed(BUCKET_PROJECT, f"bucket {dest.bucket} exists in project number {found}, where the pool is")
    return failed(
        BUCKET_PROJECT,
        f"bucket {dest.bucket} is in project number {found}, but the pool is in {dest.project_number}: "
        "recording_storage mixes two projects' resources.",
        _bucket_fix(
            managed,
            f"point bucket_name and workload_identity_provider at one deployment ({restore('outputs')})",
            f"check the name given in existingBucket: it must name a bucket in project {dest.project_id}, where the pool is",
        ),
    )


def _missing_bucket(dest: Destination, managed: bool = True) -> Check:
    return failed(
        BUCKET_PROJECT,
        f"bucket {dest.bucket} does not exist: Tavus has nowhere to write.",
        _bucket_fix(
            managed,
            f"{restore('bucket')} (the kit keeps the bucket on destroy, so it was deleted outside Pulumi or the name is wrong)",
            f"check the name given in existingBucket (gcloud storage buckets describe gs://{dest.bucket}), or create that bucket",
        ),
    )


def judge_versioning(bucket: Json, dest: Destination, managed: bool = True) -> Check:
    if (bucket.get("versioning") or {}).get("enabled") is True:
        return passed(VERSIONING, f"versioning is on for {dest.bucket}: an overwritten recording keeps its earlier version")
    return failed(
        VERSIONING,
        f"versioning is off for {dest.bucket}: the kit keeps every version of a recording.",
        _update_bucket(dest, "--versioning", "bucket versioning", managed),
    )


def judge_writer(policy: Json, dest: Destination) -> Check:
    """Whether the writer may create objects at all (what else it may do is PERMISSIONS')."""
    grants = [g for g in rules.policy_grants(policy, rules.BUCKET, dest.bucket) if rules.is_member(g.member, dest.email)]
    if any(g.role == gcp_policy.WRITER_ROLE and not g.conditional for g in grants):
        return passed(WRITER, f"{dest.writer_member} holds {gcp_policy.WRITER_ROLE} on the bucket")
    where = " except under a condition" if any(g.role == gcp_policy.WRITER_ROLE for g in grants) else ""
    others = sorted({g.role for g in grants} - {gcp_policy.WRITER_ROLE})
    # Another role may still let it write; that is PERMISSIONS' to judge.
    then = f" (it holds {', '.join(others)} instead)" if others else ", so Tavus cannot create objects"
    grant = restore("writer's grant on the bucket")
    return failed(
        WRITER,
        f"{dest.writer_member} does not hold {gcp_policy.WRITER_ROLE} on the bucket{where}{then}.",
        f"{grant}, or gcloud storage buckets add-iam-policy-binding gs://{dest.bucket} "
        f"--member={dest.writer_member} --role={gcp_policy.WRITER_ROLE}",
    )


# --- the provider, by the shared rules


def _about(subject: str, findings: Iterable[Finding]) -> list[Finding]:
    """Each finding's problem said of `subject`, as the pack says it of the resource."""
    return [Finding(f.rule, f"{subject} {f.problem}", f.fix, f.unknown) for f in findings]


def _with_fix(findings: Iterable[Finding], fix: str) -> list[Finding]:
    return [Finding(f.rule, f.problem, fix, f.unknown) for f in findings]


def _default_audiences(dest: Destination) -> tuple[str, str]:
    """What an OIDC token must carry as `aud` when the provider lists no allowed audiences."""
    return (f"//iam.googleapis.com/{dest.provider_name}", f"https://iam.googleapis.com/{dest.provider_name}")


def _audience_findings(oidc: Mapping[str, Any], dest: Destination) -> list[Finding]:
    """Whether Tavus's tokens can get in at all: their audience must be allowed (verify only)."""
    # proto3 JSON leaves an empty list out; a null (or anything but a list) is read the same.
    listed = oidc.get("allowedAudiences")
    audiences = [a for a in listed if isinstance(a, str)] if isinstance(listed, list) else []
    update = _provider_command(dest, "update-oidc")
    if dest.audience is not None and dest.audience not in audiences:
        return [Finding(PROVIDER_ISSUER, f"allows audiences {audiences}, which lack Tavus's audience {dest.audience!r}",
                        f"{restore('workload identity provider')}, or {update} --allowed-audiences={shlex.quote(dest.audience)}")]
    if dest.audience is None and audiences and not set(audiences) & set(_default_audiences(dest)):
        return [Finding(PROVIDER_ISSUER, f"allows audiences {audiences}, but no tavus_oidc_audience is configured, so Tavus's tokens carry "
                                         f"the provider's own name ({_default_audiences(dest)[0]}), which that list rejects",
                        f"{restore('workload identity provider')}, or {update} --clear-allowed-audiences")]
    return []


def _other_providers(providers: Read, dest: Destination) -> list[Json]:
    """The pool's providers besides Tavus's (soft-deleted ones exchange nothing)."""
    listed = providers.get("workloadIdentityPoolProviders") if isinstance(providers, dict) else None
    return [p for p in listed or [] if isinstance(p, dict) and p.get("name") != dest.provider_name and p.get("state") != "DELETED"]


def _delete_provider(provider: Json, dest: Destination) -> str:
    provider_id = str(provider.get("name", "")).rsplit("/", 1)[-1]
    return (f"delete it (gcloud iam workload-identity-pools providers delete {provider_id} --workload-identity-pool={dest.pool_id} "
            f"--project={dest.project_number} --location=global): Tavus's pool needs only Tavus's provider")


def _others(rule_id: str, providers: Read, dest: Destination, judge: Callable[[Json], list[Finding]]) -> list[Finding]:
    """What `judge` finds in the pool's other providers (each mints Tavus's principal too), or unknown."""
    if isinstance(providers, Unreadable):
        return [Finding(rule_id, f"may share its pool with other providers: {providers.detail}", providers.fix, unknown=True)]
    found: list[Finding] = []
    for other in _other_providers(providers, dest):
        found += _about(f"provider {other.get('name')}", _with_fix(judge(other), _delete_provider(other, dest)))
    return found


def judge_issuer(provider: Json, dest: Destination, providers: Optional[Read] = None) -> Check:
    fix = restore("workload identity provider")
    if dest.issuer:
        fix += f", or {_provider_command(dest, 'update-oidc')} --issuer-uri={shlex.quote(dest.issuer)}"
    found = rules.issuer_findings(provider, dest.issuer, fix)
    oidc = provider.get("oidc")
    if isinstance(oidc, dict):
        found += _audience_findings(oidc, dest)
        if dest.issuer is None:
            found.append(Finding(PROVIDER_ISSUER, f"trusts issuer {oidc.get('issuerUri')!r}, but the stack exports no tavus_oidc_issuer to "
                                                  "compare it with, so verify cannot tell whether it is Tavus's",
                                 "export tavus_oidc_issuer (and tavus_oidc_subject) from the program, as this kit's __main__.py does, "
                                 "or compare the issuer with Tavus's recording guide (GCS tab)", unknown=True))
    audience = f"audience {dest.audience!r}" if dest.audience else "the provider's own name as audience"
    issuer = oidc.get("issuerUri") if isinstance(oidc, dict) else None
    found = _about(f"provider {dest.provider_name}", found)
    if providers is not None:
        # Without Tavus's issuer to hold them to, the pool's providers must at least agree on one.
        found += _others(PROVIDER_ISSUER, providers, dest, lambda other: rules.issuer_findings(other, dest.issuer or issuer))
    return from_findings(PROVIDER_ISSUER, found, f"the provider trusts Tavus's issuer {issuer!r}, with {audience}, and is its pool's only provider")


def judge_mapping(provider: Json, dest: Destination, providers: Optional[Read] = None) -> Check:
    fix = f"{restore('workload identity provider')}, or {_provider_command(dest, 'update-oidc')} --attribute-mapping=google.subject=assertion.sub"
    found = _about(f"provider {dest.provider_name}", rules.mapping_findings(provider.get("attributeMapping"), fix))
    if providers is not None:
        found += _others(PROVIDER_MAPPING, providers, dest, lambda other: rules.mapping_findings(other.get("attributeMapping")))
    return from_findings(PROVIDER_MAPPING, found, "attributeMapping maps google.subject from assertion.sub, the token's subject")


def pinned_subject(provider: Json) -> Optional[str]:
    """The one subject the provider's condition provably requires, if exactly one."""
    subjects = rules.pinned_subjects(provider.get("attributeCondition"), provider.get("attributeMapping"))
    return subjects[0] if subjects and len(subjects) == 1 and subjects[0] else None


def judge_condition(provider: Json, dest: Destination, providers: Optional[Read] = None) -> Check:
    condition = provider.get("attributeCondition")
    fix = (f"{restore('workload identity provider')}, or {_provider_command(dest, 'update-oidc')} "
           f"--attribute-condition={shlex.quote(gcp_policy.attribute_condition(dest.subject or SUBJECT_PLACEHOLDER))}")
    found = _about(f"provider {dest.provider_name}", rules.condition_findings(condition, provider.get("attributeMapping"), dest.subject, fix))
    if providers is not None:
        subject = dest.subject or pinned_subject(provider)
        found += _others(PROVIDER_CONDITION, providers, dest,
                         lambda other: rules.condition_findings(other.get("attributeCondition"), other.get("attributeMapping"), subject))
    if dest.subject is not None:
        passing = f"attributeCondition requires Tavus's subject {dest.subject!r}: {condition}"
    else:
        passing = (f"attributeCondition admits only subject {pinned_subject(provider)!r} (the stack exports no tavus_oidc_subject, so "
                   f"{IMPERSONATION} holds the service account's binding to this subject)")
    return from_findings(PROVIDER_CONDITION, found, passing)


# --- who can act as the writer, and its keys


def _remove_fix(grant: rules.Grant, dest: Destination) -> str:
    """How to take one grant away: the kit's binding by a refresh, anything else directly."""
    member, condition = shlex.quote(grant.member), " --all" if grant.conditional else ""
    if grant.scope == rules.SERVICE_ACCOUNT and grant.role == gcp_policy.IMPERSONATION_ROLE:
        return restore(f"impersonation binding (authoritative for {gcp_policy.IMPERSONATION_ROLE})")
    if grant.scope == rules.SERVICE_ACCOUNT:
        return (f"gcloud iam service-accounts remove-iam-policy-binding {grant.target} --project={dest.project_id} "
                f"--member={member} --role={grant.role}{condition}")
    if grant.scope == rules.PROJECT:
        return f"gcloud projects remove-iam-policy-binding {grant.target} --member={member} --role={grant.role}{condition}"
    if grant.folder:
        folder = shlex.quote(f"gs://{grant.target}/{grant.folder}")
        return f"gcloud storage managed-folders remove-iam-policy-binding {folder} --member={member} --role={grant.role}{condition}"
    return f"gcloud storage buckets remove-iam-policy-binding gs://{grant.target} --member={member} --role={grant.role}{condition}"


def _unread(rule_id: str, read: Read) -> list[Finding]:
    """An unknown finding for a policy that could not be read (nothing when it was)."""
    if isinstance(read, Unreadable):
        return [Finding(rule_id, f"cannot be fully judged: {read.detail}", read.fix, unknown=True)]
    return []


def _grants(read: Read, scope: str, target: str) -> list[rules.Grant]:
    return rules.policy_grants(read, scope, target) if isinstance(read, dict) else []


def judge_impersonation(account_policy: Json, project_policy: Read, dest: Destination, subject: Optional[str], source: str) -> Check:
    grants = _grants(account_policy, rules.SERVICE_ACCOUNT, dest.email) + _grants(project_policy, rules.PROJECT, dest.project_id)
    accepted = {dest.principal(subject)} if subject else None
    own = {dest.project_id, dest.project_number}
    pairs = rules.impersonation_by_grant(grants, dest.email, accepted, own_projects=own)
    found = [Finding(f.rule, f.problem, _remove_fix(g, dest)) for g, f in pairs]
    if subject is None:
        holders = sorted({g.member for g in grants if g.role == gcp_policy.IMPERSONATION_ROLE}) or ["nobody"]
        found.append(Finding(IMPERSONATION, f"grants {gcp_policy.IMPERSONATION_ROLE} to {', '.join(holders)}, but verify cannot tell which "
                                            "subject is Tavus's: the stack exports no tavus_oidc_subject and the provider's condition "
                                            "does not pin one", "export tavus_oidc_subject from the program, as this kit's __main__.py does",
                             unknown=True))
    else:
        expected = dest.principal(subject)
        held = [g for g in grants if g.scope == rules.SERVICE_ACCOUNT and g.role == gcp_policy.IMPERSONATION_ROLE and g.member == expected]
        if not any(not g.conditional for g in held):
            where = " except under a condition" if held else ""
            found.append(Finding(IMPERSONATION, f"does not grant {gcp_policy.IMPERSONATION_ROLE} on service account {dest.email} to "
                                                f"{expected} (the subject from {source}){where}, so Tavus cannot act as the writer",
                                 restore(f"impersonation binding (authoritative for {gcp_policy.IMPERSONATION_ROLE})")))
    found += _unread(IMPERSONATION, project_policy)
    return from_findings(IMPERSONATION, _about("IAM", found),
                         f"{gcp_policy.IMPERSONATION_ROLE} on {dest.email} is held by exactly {dest.principal(subject or '')}, and nobody "
                         "else holds a role on the account or its project that can act as it")


def judge_keys(keys: Read, hmac_keys: Read, dest: Destination) -> Check:
    found: list[Finding] = []
    for key in (keys.get("keys") or []) if isinstance(keys, dict) else []:
        key_id = str(key.get("name", "")).rsplit("/", 1)[-1]
        fix = f"gcloud iam service-accounts keys delete {key_id} --iam-account={dest.email}"
        found += _about(f"key {key_id}", rules.key_findings(dest.email, str(key.get("keyType")), key.get("disabled") is True, fix))
    for key in (hmac_keys.get("items") or []) if isinstance(hmac_keys, dict) else []:
        if key.get("state") == "DELETED":
            continue
        access_id = str(key.get("accessId"))
        fix = f"gcloud storage hmac update {access_id} --deactivate, then gcloud storage hmac delete {access_id}"
        found += _about(f"HMAC key {access_id}", rules.key_findings(dest.email, "HMAC", key.get("state") == "INACTIVE", fix))
    found += _unread(KEYS, keys) + _unread(KEYS, hmac_keys)
    return from_findings(KEYS, found, f"service account {dest.email} has no user-managed key and no HMAC key")


# --- what the writer can do, and who else reaches the recordings


def _policy_grants(bucket_policy: Json, project_policy: Json, dest: Destination, folder_grants: Sequence[rules.Grant] = ()) -> list[rules.Grant]:
    return _grants(bucket_policy, rules.BUCKET, dest.bucket) + list(folder_grants) + _grants(project_policy, rules.PROJECT, dest.project_id)


def folder_grants(folders: Read, policies: Mapping[str, Read], dest: Destination) -> tuple[list[rules.Grant], list[Unreadable]]:
    """The grants of the bucket's managed folders' IAM policies (each on every object under its folder), and
    what could not be read of them (a folder deleted since it was listed is no longer there)."""
    if isinstance(folders, Unreadable):
        return [], [] if folders.kind == "missing" else [folders]
    grants: list[rules.Grant] = []
    unread: list[Unreadable] = []
    listed = folders.get("items")
    for item in listed if isinstance(listed, list) else ([] if listed is None else [listed]):
        name = item.get("name") if isinstance(item, dict) else None
        if not isinstance(name, str) or not name:
            unread.append(Unreadable("error", f"bucket {dest.bucket} lists a managed folder without a name ({item!r})"))
            continue
        policy = policies.get(name)
        if policy is None:
            unread.append(Unreadable("error", f"the IAM policy of managed folder {name} of bucket {dest.bucket} was not read"))
        elif isinstance(policy, Unreadable):
            if policy.kind != "missing":
                unread.append(policy)
        else:
            grants += rules.policy_grants(policy, rules.BUCKET, dest.bucket, name)
    return grants, unread


def judge_permissions(bucket_policy: Json, project_policy: Json, dest: Destination, folders: Sequence[rules.Grant] = ()) -> list[Check]:
    """PERMISSIONS and LEAST_PRIVILEGE, from the bucket's (and its managed folders') and the project's IAM policies."""
    grants = _policy_grants(bucket_policy, project_policy, dest, folders)
    found: list[Finding] = []
    for grant in grants:
        if rules.is_member(grant.member, dest.email):
            found += _with_fix(rules.writer_permission_findings([grant], dest.email, {dest.bucket}), _remove_fix(grant, dest))
        found += _with_fix(rules.pool_grant_findings([grant]), _remove_fix(grant, dest))
    found = _about("IAM", found)
    return [
        from_findings(PERMISSIONS, found, f"Tavus's writer holds nothing beyond {gcp_policy.WRITER_ROLE} on bucket {dest.bucket}, nothing "
                                          "project-wide, and no pool identity holds a role of its own there (grants on other resources "
                                          "are not read)"),
        from_findings(LEAST_PRIVILEGE, found, f"Tavus's writer holds no read beyond {gcp_policy.WRITER_ROLE} on bucket {dest.bucket}"),
    ]


def judge_bucket_access(bucket_policy: Json, project_policy: Json, dest: Destination, folders: Sequence[rules.Grant] = ()) -> Check:
    own = {dest.project_id, dest.project_number}
    found: list[Finding] = []
    for grant in _policy_grants(bucket_policy, project_policy, dest, folders):
        found += _with_fix(rules.bucket_access_findings([grant], {dest.email.lower()}, own), _remove_fix(grant, dest))
    return from_findings(BUCKET_ACCESS, _about("IAM", found), f"nobody public, federated or outside project {dest.project_id} reaches "
                                                              f"bucket {dest.bucket} through its, its managed folders' or the project's "
                                                              "IAM policy")


def _grant_checks(bucket_policy: Read, project_policy: Read, dest: Destination, folders: Read, folder_policies: Mapping[str, Read]) -> list[Check]:
    """PERMISSIONS, LEAST_PRIVILEGE and BUCKET_ACCESS: unknown when either policy is unreadable, and at least
    unknown when a managed folder's cannot be read."""
    if isinstance(bucket_policy, Unreadable):
        return _cannot_judge(GRANT_IDS, bucket_policy)
    if isinstance(project_policy, Unreadable):
        return _cannot_judge(GRANT_IDS, project_policy)
    grants, unread = folder_grants(folders, folder_policies, dest)
    checks = [*judge_permissions(bucket_policy, project_policy, dest, grants), judge_bucket_access(bucket_policy, project_policy, dest, grants)]
    if not unread:
        return checks
    # What a folder's policy could not say is unknown, never passing; a failure seen elsewhere still fails.
    return [check if check.ok is False else unknown(check.id, "; ".join(dict.fromkeys(u.detail for u in unread)),
                                                      "; ".join(dict.fromkeys(u.fix for u in unread if u.fix)))
            for check in checks]


# --- the bucket's own settings, and whether recordings last


def judge_uniform_access(bucket: Json, dest: Destination, managed: bool = True) -> Check:
    enabled = ((bucket.get("iamConfiguration") or {}).get("uniformBucketLevelAccess") or {}).get("enabled")
    found = rules.uniform_access_findings(enabled, _update_bucket(dest, "--uniform-bucket-level-access", "bucket access settings", managed))
    return from_findings(UNIFORM_ACCESS, _about(f"bucket {dest.bucket}", found), "uniform bucket-level access is on: only IAM decides who "
                                                                                "reads and writes")


def judge_public_access_prevention(bucket: Json, dest: Destination, managed: bool = True) -> Check:
    value = (bucket.get("iamConfiguration") or {}).get("publicAccessPrevention")
    fix = _update_bucket(dest, "--public-access-prevention", "bucket access settings", managed)
    return from_findings(PUBLIC_ACCESS_PREVENTION, _about(f"bucket {dest.bucket}", rules.public_access_prevention_findings(value, fix)),
                         "public access prevention is enforced: recordings cannot be made public")


def _days(outputs: Mapping[str, Any], key: str) -> Optional[int]:
    value = outputs.get(key)
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0 else None


def judge_lifecycle(bucket: Json, dest: Destination, outputs: Mapping[str, Any], managed: bool = True) -> Check:
    # `retention_days` null: the stack keeps recordings; absent: a stack deployed before that output.
    known = "retention_days" in outputs
    retention = _days(outputs, "retention_days")
    lifecycle = bucket.get("lifecycle")
    rule_list = (lifecycle.get("rule") if isinstance(lifecycle, dict) else None) or []
    fix = _bucket_fix(managed, restore("bucket lifecycle rules"),
                      f"gcloud storage buckets update gs://{dest.bucket} --lifecycle-file=FILE (the rules without that one)")
    found = rules.lifecycle_findings(rule_list, retention, known, fix)
    keeps = f"sooner than the stack's {retention} days" if retention else "(the stack keeps them: no retentionDays)"
    return from_findings(LIFECYCLE, _about(f"bucket {dest.bucket}", found), f"no lifecycle rule deletes live recordings {keeps}")


def judge_retention(bucket: Json, dest: Destination, outputs: Mapping[str, Any], managed: bool = True) -> Check:
    asked = _days(outputs, "immutable_days")
    # The mode in force (null without immutable_days); compliance asks for a locked policy.
    compliance = outputs.get("immutable_mode") == "compliance"
    policy = bucket.get("retentionPolicy")
    seconds = (asked or 0) * SECONDS_PER_DAY
    fix = _bucket_fix(managed, restore("bucket retention policy"), f"gcloud storage buckets update gs://{dest.bucket} --retention-period={seconds}s")
    lock = f"gcloud storage buckets update gs://{dest.bucket} --lock-retention-period (irreversible)"
    lock_fix = _bucket_fix(managed, f"{restore('locked bucket retention policy')}, or {lock}", lock)
    found = rules.retention_findings(policy, asked, compliance, fix, lock_fix)
    if not asked:
        wanted = "the stack asks for none (no immutable_days output)"
    else:
        wanted = f"at least the {asked} days the stack asks for" + (", locked (immutableMode compliance)" if compliance else "")
    return from_findings(RETENTION, _about(f"bucket {dest.bucket}", found), f"bucket {dest.bucket} has {rules.describe_retention(policy)}: {wanted}")


def judge_cold_tier(bucket: Json, dest: Destination, outputs: Mapping[str, Any], managed: bool = True) -> Check:
    cold = _days(outputs, "cold_after_days")
    lifecycle = bucket.get("lifecycle")
    rule_list = (lifecycle.get("rule") if isinstance(lifecycle, dict) else None) or []
    found = [Finding(f.rule, f.problem, _bucket_fix(managed, restore("bucket lifecycle rules"), f.fix), f.unknown)
             for f in rules.cold_tier_findings(rule_list, cold)]
    # What was read is the lifecycle rules: which class an upload picks is not among them.
    moved = (f"a lifecycle rule of bucket {dest.bucket} moves live STANDARD recordings to NEARLINE at age {cold}, as the stack asks, "
             "and no rule moves them to a cheaper class by then or sooner" if cold else
             "the stack asks for no move (no coldAfterDays)")
    return from_findings(COLD_TIER, _about(f"bucket {dest.bucket}", found), moved)


def judge_encryption_key(bucket: Json, dest: Destination, outputs: Mapping[str, Any], managed: bool = True) -> Check:
    wanted = outputs.get("kms_key_name")
    wanted = wanted if isinstance(wanted, str) and wanted else None
    fix = _bucket_fix(managed, restore("bucket default key"),
                      f"gcloud storage buckets update gs://{dest.bucket} --default-encryption-key={wanted}" if wanted else
                      "set kmsKeyName in the stack")
    encryption = bucket.get("encryption")
    found = rules.encryption_key_findings(encryption, wanted, fix=fix, same=_key_spellings(wanted, bucket, dest))
    # The writer picks each upload's encryption; the bucket refuses the kinds that escape the customer's key. An
    # existing bucket is held to it too (its fix is the direct one): Tavus writes there all the same.
    enforced = {"csekEnforcement": {"restrictionMode": rules.RESTRICTED}}
    if wanted:
        enforced["gmekEnforcement"] = {"restrictionMode": rules.RESTRICTED}
    direct = (f"gcloud storage buckets update gs://{dest.bucket} --encryption-enforcement-file=FILE, FILE holding "
              f"{json.dumps(enforced)}")
    enforce_fix = _bucket_fix(managed, f"{restore('bucket encryption enforcement')}, or {direct}", direct)
    found += rules.upload_key_findings(encryption, bool(wanted), enforce_fix, enforce_fix)
    key = rules.default_key(encryption)
    refused = "a key the writer brings (CSEK)" + (" or Google-managed keys" if wanted else "")
    default = (f"bucket {dest.bucket}'s default key is {key}, as the stack asks" if wanted else
               f"bucket {dest.bucket} uses Google-managed keys by default (the stack sets no kmsKeyName)")
    return from_findings(ENCRYPTION_KEY, _about(f"bucket {dest.bucket}", found),
                         f"{default}; uploads encrypted with {refused} are refused" + (f"; {rules.OTHER_KMS_KEY}" if wanted else ""))


def _key_spellings(wanted: Optional[str], bucket: Json, dest: Destination) -> list[str]:
    """`wanted` with its project named the other way (id or number), when that project is the stack's: Cloud
    Storage keeps the key name as it was set, and either names the same key."""
    if not wanted or not wanted.startswith("projects/"):
        return []
    _, project, rest = wanted.split("/", 2)
    number = bucket.get("projectNumber")
    numbers = {n for n in (dest.project_number, number) if isinstance(n, str) and n}
    if project == dest.project_id:
        return [f"projects/{n}/{rest}" for n in sorted(numbers)]
    if project in numbers:
        return [f"projects/{dest.project_id}/{rest}"]
    return []


def _key_project(key: str) -> str:
    return key.split("/")[1] if key.startswith("projects/") else ""


def judge_service_agent(bucket: Read, key_policy: Optional[Read], project_policy: Read, dest: Destination,
                        outputs: Mapping[str, Any], managed: bool = True) -> Check:
    """With kms_key_name, the bucket's project's Cloud Storage service agent (from the bucket's projectNumber) holds
    roles/cloudkms.cryptoKeyEncrypterDecrypter on the key (its IAM policy, or the project's when the key is in the
    stack's project); a grant on the key ring is not read."""
    key = outputs.get("kms_key_name")
    if not isinstance(key, str) or not key:
        return passed(SERVICE_AGENT, "the stack sets no kmsKeyName: Google-managed keys need no grant")
    if isinstance(bucket, Unreadable):
        return _cannot_judge([SERVICE_AGENT], bucket)[0]
    number = bucket.get("projectNumber")
    if not isinstance(number, str) or not (number.isascii() and number.isdigit()):
        return unknown(SERVICE_AGENT, f"bucket {dest.bucket} does not say its project number ({number!r}), so its Cloud Storage "
                                      "service agent cannot be named")
    agent = rules.storage_agent(number)
    direct = (f"gcloud kms keys add-iam-policy-binding {key} --member={agent} "
              f"--role={gcp_policy.KEY_USER_ROLE}")
    fix = _bucket_fix(managed, f"{restore('grant of the key to the Cloud Storage service agent')}, or {direct}", direct)
    if key_policy is None or isinstance(key_policy, Unreadable):
        if isinstance(key_policy, Unreadable) and key_policy.kind == "missing":
            return failed(SERVICE_AGENT, f"key {key} (kms_key_name) does not exist: the bucket can neither encrypt new recordings nor "
                                         "decrypt old ones", "check kmsKeyName: Cloud KMS keys are never deleted, so the name (or its project) is wrong")
        return _cannot_judge([SERVICE_AGENT], key_policy or Unreadable("error", f"the IAM policy of key {key} was not read"))[0]
    grants = rules.policy_grants(key_policy, rules.OTHER, key)
    if isinstance(project_policy, dict) and _key_project(key) in (dest.project_id, dest.project_number):
        grants += rules.policy_grants(project_policy, rules.PROJECT, dest.project_id)
    found = rules.service_agent_findings(grants, key, agent, fix)
    found = [Finding(f.rule, f"{f.problem} (its key ring's IAM policy is not read)", f.fix, f.unknown) for f in found]
    return from_findings(SERVICE_AGENT, _about(f"bucket {dest.bucket}'s default", found),
                         f"{agent.removeprefix('serviceAccount:')} holds {gcp_policy.KEY_USER_ROLE} on key {key}: the bucket can use it")


# The audit configs say which entries are written; the _Default sink routes them to the _Default bucket, and an exclusion
# on that sink (only _Required's cannot have one: Cloud Logging, "Exclusion filters"), a disabled sink or a short
# bucket retention drops or erases them. verify does not read the sink or the bucket, and says so.
DATA_ACCESS_LIMIT = ("the project's audit configs only: not the _Default sink's exclusions or filter, nor the _Default "
                     "bucket's retention, which decide whether the entries are kept; nor a folder's or the organisation's configs")


def judge_data_access_logs(project_policy: Read, dest: Destination, outputs: Mapping[str, Any]) -> Check:
    """With audit_logs, the project's own audit configs (its IAM policy's auditConfigs) log Cloud Storage's reads and
    writes, exempting nobody. Configs a folder or the organisation set for the project are not read."""
    if outputs.get("audit_logs") is not True:
        return passed(DATA_ACCESS_LOGS, "the stack asks for no Data Access audit logs (audit_logs is not true)")
    if isinstance(project_policy, Unreadable):
        return _cannot_judge([DATA_ACCESS_LOGS], project_policy)[0]
    project = dest.project_id
    edit = (f"gcloud projects get-iam-policy {project} --format=json > policy.json, {{}} in its auditConfigs, then "
            f"gcloud projects set-iam-policy {project} policy.json")
    fix = f"{restore('Cloud Storage audit config')}, or " + edit.format("add DATA_READ and DATA_WRITE for storage.googleapis.com")
    configs = as_list(project_policy.get("auditConfigs"))
    found = [Finding(f.rule, f"{f.problem} (audit configs a folder or the organisation sets are not read)", f.fix, f.unknown)
             for f in rules.audit_gap_findings(configs, fix)]
    # The kit's config keeps the exemptions it found (removing them is the owner's call): `pulumi up` would not.
    found += [Finding(f.rule, f.problem, edit.format(f.fix), f.unknown)
              for f in rules.audit_exemption_findings(configs)]
    return from_findings(DATA_ACCESS_LOGS, _about(f"project {project}", found),
                         f"project {project}'s own audit configs log every read and write of Cloud Storage (DATA_READ, DATA_WRITE), "
                         f"exempting nobody ({DATA_ACCESS_LIMIT})")


# --- all the checks from what was read


@dataclass(frozen=True)
class Reads:
    """What each read returned: the API's JSON, or why there is none."""

    pool: Read
    provider: Read
    providers: Read
    account: Read
    account_policy: Read
    keys: Read
    hmac_keys: Read
    project_policy: Read
    bucket: Read
    bucket_policy: Read
    managed_folders: Read
    # Each listed managed folder's IAM policy, by folder name.
    folder_policies: Mapping[str, Read]
    # The IAM policy of the stack's kms_key_name (None when the stack sets none).
    key_policy: Optional[Read] = None
    other_account_policies: Optional[Mapping[str, Read]] = None
    """Revoked only: the IAM policies of the other service accounts holding a role on the bucket, by email."""


def judge_all(dest: Destination, reads: Reads, outputs: Optional[Mapping[str, Any]] = None) -> list[Check]:
    """Every check in CHECK_IDS, from the reads.

    `storage_managed` False in `outputs` (an existingBucket stack): the bucket's own fixes are then the
    direct ones only (the writer's grant on it is still the stack's, so its fix keeps the refresh)."""
    outputs = outputs or {}
    managed = storage_managed(outputs)
    checks: list[Check] = []

    if isinstance(reads.pool, Unreadable):
        checks += _cannot_judge([POOL_STATE], reads.pool,
                                lambda: failed(POOL_STATE, f"pool {dest.pool_name} does not exist (or was purged).", restore("workload identity pool")))
    else:
        checks.append(judge_pool(reads.pool, dest))

    if isinstance(reads.provider, Unreadable):
        checks += _cannot_judge(PROVIDER_IDS, reads.provider,
                                lambda: failed(PROVIDER_STATE, f"provider {dest.provider_name} does not exist (or was purged).",
                                               restore("workload identity provider")))
    else:
        checks += [judge_provider_state(reads.provider, dest), judge_issuer(reads.provider, dest, reads.providers),
                   judge_mapping(reads.provider, dest, reads.providers), judge_condition(reads.provider, dest, reads.providers)]

    if isinstance(reads.account, Unreadable):
        checks += _cannot_judge([ACCOUNT_STATE], reads.account, lambda: _missing_account(dest))
    else:
        checks.append(judge_account(reads.account, dest))

    # Without the subject output, the provider's condition says which subject the binding must name.
    subject, source = dest.subject, "the tavus_oidc_subject output"
    if subject is None and isinstance(reads.provider, dict):
        subject, source = pinned_subject(reads.provider), "the provider's attribute condition"
    if isinstance(reads.account_policy, Unreadable):
        checks += _cannot_judge([IMPERSONATION], reads.account_policy)
    else:
        checks.append(judge_impersonation(reads.account_policy, reads.project_policy, dest, subject, source))
    if isinstance(reads.keys, Unreadable) and reads.keys.kind == "missing":
        checks += _cannot_judge([KEYS], reads.keys)
    else:
        checks.append(judge_keys(reads.keys, reads.hmac_keys, dest))

    grant_checks = _grant_checks(reads.bucket_policy, reads.project_policy, dest, reads.managed_folders, reads.folder_policies)
    checks += grant_checks[:2]

    if isinstance(reads.bucket, Unreadable):
        bucket_checks = _cannot_judge(BUCKET_IDS, reads.bucket, lambda: _missing_bucket(dest, managed))
    else:
        bucket_checks = [
            judge_bucket_project(reads.bucket, dest, managed),
            judge_versioning(reads.bucket, dest, managed),
            judge_uniform_access(reads.bucket, dest, managed),
            judge_public_access_prevention(reads.bucket, dest, managed),
            judge_lifecycle(reads.bucket, dest, outputs, managed),
            judge_retention(reads.bucket, dest, outputs, managed),
            judge_cold_tier(reads.bucket, dest, outputs, managed),
            judge_encryption_key(reads.bucket, dest, outputs, managed),
        ]
    checks += bucket_checks[:4]
    if isinstance(reads.bucket_policy, Unreadable):
        checks += _cannot_judge([WRITER], reads.bucket_policy)
    else:
        checks.append(judge_writer(reads.bucket_policy, dest))
    checks += [grant_checks[2], *bucket_checks[4:]]
    checks.append(judge_service_agent(reads.bucket, reads.key_policy, reads.project_policy, dest, outputs, managed))
    checks.append(judge_data_access_logs(reads.project_policy, dest, outputs))
    return checks


def _folder_names(folders: Read) -> list[str]:
    listed = folders.get("items") if isinstance(folders, dict) else None
    names = [item.get("name") for item in listed if isinstance(item, dict)] if isinstance(listed, list) else []
    return list(dict.fromkeys(n for n in names if isinstance(n, str) and n))


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _kms_key(outputs: Mapping[str, Any]) -> Optional[str]:
    key = outputs.get("kms_key_name")
    return key if isinstance(key, str) and key else None


def _read_ahead(reader: Reader, dest: Destination, outputs: Mapping[str, Any], revoked: bool) -> None:
    """Issue the reads `verify` makes after the pool's, a round at a time: a read goes out once the reads that decide
    whether (and what) it reads have answered. Round 2: the ten reads the stack's outputs name; round 3: each managed
    folder's policy, the kms key's (it needs nothing, but a round sends ten at once and verify asks for it after the
    folders') and (revoked) the policies of the other service accounts the bucket's own policy names; round 4 (revoked,
    only with folders): those of the accounts only a folder's policy names."""
    answers = reader.issue([
        Reader.provider, Reader.providers, Reader.account, Reader.account_policy, Reader.keys, Reader.hmac_keys,
        Reader.project_policy, Reader.bucket, Reader.bucket_policy, Reader.managed_folders,
    ])
    bucket_policy, folders = answers[8], answers[9]
    names = _folder_names(folders)
    third: list[Callable[[Reader], Read]] = [partial(Reader.managed_folder_policy, folder=name) for name in names]
    if (key := _kms_key(outputs)) is not None:
        third.append(partial(Reader.key_policy, key=key))
    if not revoked:
        reader.issue(third)
        return
    from tavus_recording.verify.gcp_revoked import MAX_OTHER_ACCOUNTS, bucket_accounts

    # With no folder policy in yet, the accounts the bucket's policy names: the first of the list verify reads.
    early = bucket_accounts(bucket_policy, folders, {}, dest)[:MAX_OTHER_ACCOUNTS]
    answers = reader.issue(third + [partial(Reader.other_account_policy, email=email) for email in early])
    if names:
        policies = dict(zip(names, answers))
        later = [e for e in bucket_accounts(bucket_policy, folders, policies, dest)[:MAX_OTHER_ACCOUNTS] if e not in early]
        reader.issue([partial(Reader.other_account_policy, email=email) for email in later])


def verify(
    storage: tavus.GcsRecordingStorageConfig,
    outputs: Mapping[str, Any],
    *,
    credentials: Optional[Credentials] = None,
    iam_url: str = IAM_URL,
    storage_url: str = STORAGE_URL,
    crm_url: str = CRM_URL,
    kms_url: str = KMS_URL,
) -> list[Check]:
    """Check the deployed destination; every id in CHECK_IDS, in order (a revoked stack's: gcp_revoked.REVOKED_CHECK_IDS).

    Raises MissingOutputs for outputs that name nothing readable, and CannotVerify when there are no
    credentials at all or the first read finds no cloud (or no usable credentials) to ask."""
    dest = destination(storage, outputs)
    if credentials is None:
        try:
            credentials = gcp_reads.default_credentials()
        except (google.auth.exceptions.GoogleAuthError, ValueError) as exc:
            raise CannotVerify(_one_line(f"no Google credentials to read with ({str(exc)[:gcp_reads.MAX_MESSAGE]}): {LOGIN_FIX}")) from None
    with AuthorizedSession(credentials, refresh_timeout=gcp_reads.TIMEOUT_SECONDS) as session:
        reader = Reader(session, dest, iam_url, storage_url, crm_url, kms_url)
        pool = reader.pool()
        if isinstance(pool, Unreadable) and pool.kind in ("unreachable", "credentials"):
            raise CannotVerify(_one_line(f"{pool.detail}; {pool.fix}"))
        revoked = outputs.get("tavus_access") == tavus.TAVUS_ACCESS_REVOKED
        _read_ahead(reader, dest, outputs, revoked)
        # What was read ahead is taken here, one read after another, as if read now.
        reads = Reads(
            pool=pool,
            provider=reader.provider(),
            providers=reader.providers(),
            account=reader.account(),
            account_policy=reader.account_policy(),
            keys=reader.keys(),
            hmac_keys=reader.hmac_keys(),
            project_policy=reader.project_policy(),
            bucket=reader.bucket(),
            bucket_policy=reader.bucket_policy(),
            managed_folders=(folders := reader.managed_folders()),
            folder_policies={name: reader.managed_folder_policy(name) for name in _folder_names(folders)},
            key_policy=reader.key_policy(key) if (key := _kms_key(outputs)) is not None else None,
        )
        if revoked:
            # Only a revoked stack asks who can act as the other service accounts with a bucket role (gcp_revoked).
            from tavus_recording.verify.gcp_revoked import MAX_OTHER_ACCOUNTS, bucket_accounts

            emails = bucket_accounts(reads.bucket_policy, reads.managed_folders, reads.folder_policies, dest)[:MAX_OTHER_ACCOUNTS]
            reads = replace(reads, other_account_policies={e: reader.other_account_policy(e) for e in emails})
    if revoked:
        from tavus_recording.verify.gcp_revoked import judge_revoked  # it builds on this module's judges

        return judge_revoked(dest, reads, outputs)
    return judge_all(dest, reads, outputs)

"""`verify` for a Cloud Storage stack whose Tavus access is revoked (`tavus_access: revoked`): the other way
round, nothing lets Tavus in.

Such a stack exports no recording_storage; what it still exports (bucket_name, workload_identity_provider,
service_account_email) names what verify reads, the same reads as a granted stack's. Tavus is cut off when:
- the pool is disabled, soft-deleted or gone: no token is exchanged through it, and tokens it already issued
  stop working ("You cannot use a disabled pool to exchange tokens, or use existing tokens to access
  resources", pulumi_gcp/iam/workload_identity_pool.py, `disabled`);
- Tavus's provider is disabled, soft-deleted or gone (a disabled provider exchanges nothing, though tokens it
  issued live on: workload_identity_pool_provider.py, `disabled`; the pool's state covers those);
- no federated identity (a principal or principalSet of any pool: another pool could trust Tavus's issuer too)
  holds a role that can act as the writer, on it or project-wide;
- neither the writer (whose access tokens minted before the cut live up to an hour) nor a federated identity
  holds a role on the bucket, its managed folders, or project-wide that reaches storage.
The bucket's own settings are still checked: a revoked stack keeps every recording and every setting.
"""

from __future__ import annotations

import re
from typing import Any, Mapping, Optional

from components import tavus
from tavus_recording.rules import gcp as rules
from tavus_recording.rules.findings import Finding
from tavus_recording.verify import gcp as verify_gcp
from tavus_recording.verify.gcp_reads import Destination, Read, Unreadable
from tavus_recording.verify.outputs import OutputsError
from tavus_recording.verify.report import Check, from_findings, restore, storage_managed

ACCESS_REVOKED = "gcs.access.revoked"
# Every revoked run reports exactly these, in this order: the cut, then the bucket that keeps the recordings.
REVOKED_CHECK_IDS: tuple[str, ...] = (ACCESS_REVOKED, *verify_gcp.BUCKET_IDS, verify_gcp.SERVICE_AGENT, verify_gcp.BUCKET_ACCESS,
                                      verify_gcp.DATA_ACCESS_LOGS)

_ACCOUNT_PROJECT = re.compile(r"@(?P<project>[a-z][a-z0-9-]{4,28}[a-z0-9])\.iam\.gserviceaccount\.com$")
# What the README's incident runbook says to run when this check fails.
_RUNBOOK = "README: Incident: cut Tavus off"


def revoked_storage(outputs: Mapping[str, Any], source: str) -> tavus.GcsRecordingStorageConfig:
    """What verify reads of a revoked stack, from the outputs it still exports (the writer's project from its email)."""
    names = {key: outputs.get(key) for key in ("bucket_name", "workload_identity_provider", "service_account_email")}
    missing = [key for key, value in names.items() if not isinstance(value, str) or not value]
    email = names["service_account_email"]
    match = _ACCOUNT_PROJECT.search(email) if isinstance(email, str) else None
    if missing or match is None:
        what = f"lack {', '.join(missing)}" if missing else "name a writer service account that is not <id>@<project>.iam.gserviceaccount.com"
        raise OutputsError(f"this stack's Tavus access is revoked ({source} has tavus_access: revoked), but its outputs {what}, so verify "
                           "cannot tell what to check; run `pulumi up` with this version of the kit, or see " + _RUNBOOK)
    return tavus.GcsRecordingStorageConfig(bucket_name=str(names["bucket_name"]), project_id=match.group("project"),
                                           workload_identity_provider=str(names["workload_identity_provider"]),
                                           service_account_email=str(email))


# --- the cut


def _finding(problem: str, fix: str) -> Finding:
    return Finding(ACCESS_REVOKED, problem, fix)


def _unread(read: Read) -> list[Finding]:
    """An unknown finding for a read that could not be made (a missing resource lets nobody in: nothing)."""
    if isinstance(read, Unreadable) and read.kind != "missing":
        return [Finding(ACCESS_REVOKED, f"cannot be told: {read.detail}", read.fix, unknown=True)]
    return []


def _state_findings(resource: Read, kind: str, name: str, command: str) -> list[Finding]:
    """A pool or provider that still exchanges tokens: ACTIVE and not disabled."""
    if not isinstance(resource, dict):
        return _unread(resource)
    if resource.get("state") == "DELETED" or resource.get("disabled") is True:
        return []
    return [_finding(f"{kind} {name} is {resource.get('state', 'STATE_UNSPECIFIED')} and enabled: Tavus's tokens can still be "
                     "exchanged through it", f"{restore(f'disabled {kind}')}, or {command} --disabled")]


def _federated_or_writer(grant: rules.Grant, dest: Destination) -> Optional[str]:
    """Who `grant` lets in: Tavus's writer, a federated identity (Tavus's pool's, or another's), or None."""
    if rules.is_member(grant.member, dest.email):
        return f"{grant.member} (Tavus's writer)"
    pool = rules.pool_of(grant.member)
    if pool is None:
        return None
    # Principals name the pool's project by number; by id is read as the same pool.
    ours = pool.lower() in (dest.pool_name.lower(), dest.pool_name.replace(dest.project_number, dest.project_id, 1).lower())
    return f"{grant.member} (" + ("of Tavus's pool" if ours else "a federated identity: its pool may trust Tavus's issuer too") + ")"


def grant_findings(account_policy: Read, project_policy: Read, bucket_policy: Read, folder_grants: list[rules.Grant],
                   dest: Destination) -> list[Finding]:
    """Grants that still let Tavus act as the writer, or let the writer or a federated identity reach the bucket."""
    found: list[Finding] = []
    grants = [*verify_gcp._grants(account_policy, rules.SERVICE_ACCOUNT, dest.email),
              *verify_gcp._grants(project_policy, rules.PROJECT, dest.project_id),
              *verify_gcp._grants(bucket_policy, rules.BUCKET, dest.bucket), *folder_grants]
    for grant in grants:
        who = _federated_or_writer(grant, dest)
        if who is None:
            continue
        where = grant.on + (" (under a condition)" if grant.conditional else "")
        writer = rules.is_member(grant.member, dest.email)
        if grant.scope in (rules.SERVICE_ACCOUNT, rules.PROJECT) and not writer and rules.can_impersonate(grant.role):
            found.append(_finding(f"grants {who} {grant.role} on {where}, which can act as the writer {dest.email}",
                                  verify_gcp._remove_fix(grant, dest)))
        elif grant.scope == rules.BUCKET or (grant.scope == rules.PROJECT and rules.reaches_storage(grant.role)):
            found.append(_finding(f"grants {who} {grant.role} on {where}, which reaches the recordings in bucket {dest.bucket}",
                                  verify_gcp._remove_fix(grant, dest)))
    for read in (account_policy, project_policy, bucket_policy):
        found += _unread(read)
    return found


# The second hop (red team 19b #5): a federated identity, or anyone outside the project, that can act as another service
# account holding a role on the bucket reaches the recordings through it. Such accounts are few; reading more than this
# many is a sign of something else, and the rest are unknown.
MAX_OTHER_ACCOUNTS = 20
# Google-managed service agents (service-<n>@gs-project-accounts..., service-<n>@gcp-sa-<api>...) take no grant from you.
_AGENT = re.compile(r"@(gs-project-accounts|gcp-sa-[a-z0-9-]+)\.iam\.gserviceaccount\.com$", re.IGNORECASE)


def _bucket_grants(bucket_policy: Read, folders: Read, folder_policies: Mapping[str, Read], dest: Destination) -> list[rules.Grant]:
    return [*verify_gcp._grants(bucket_policy, rules.BUCKET, dest.bucket), *verify_gcp.folder_grants(folders, folder_policies, dest)[0]]


def bucket_accounts(bucket_policy: Read, folders: Read, folder_policies: Mapping[str, Read], dest: Destination) -> list[str]:
    """The service accounts but the writer and Google's agents that hold a role on the bucket or its managed folders."""
    emails: list[str] = []
    for grant in _bucket_grants(bucket_policy, folders, folder_policies, dest):
        email = rules.account_email(grant.member)
        if email and not rules.is_member(grant.member, dest.email) and not _AGENT.search(email) and email.lower() not in emails:
            emails.append(email.lower())
    return emails


def second_hop_findings(reads: verify_gcp.Reads, dest: Destination) -> list[Finding]:
    """Who outside the project (a federated identity above all) can act as a service account holding a bucket role."""
    holders = _bucket_grants(reads.bucket_policy, reads.managed_folders, reads.folder_policies, dest)
    emails = bucket_accounts(reads.bucket_policy, reads.managed_folders, reads.folder_policies, dest)
    policies = reads.other_account_policies or {}
    own = {dest.project_id, dest.project_number}
    found: list[Finding] = []
    for email in emails:
        roles = ", ".join(sorted({g.role for g in holders if rules.is_member(g.member, email)}))
        holds = f"service account {email}, which holds {roles} on bucket {dest.bucket}"
        policy = policies.get(email)
        if policy is None:
            found.append(Finding(ACCESS_REVOKED, f"cannot be told for {holds}: its IAM policy was not read (more than "
                                                 f"{MAX_OTHER_ACCOUNTS} service accounts hold a bucket role)",
                                 f"gcloud iam service-accounts get-iam-policy {email}", unknown=True))
            continue
        if isinstance(policy, Unreadable):
            if policy.kind != "missing":
                found.append(Finding(ACCESS_REVOKED, f"whether anyone outside project {dest.project_id} can act as {holds} cannot be "
                                                     f"told: {policy.detail}", policy.fix, unknown=True))
            continue
        for grant in verify_gcp._grants(policy, rules.SERVICE_ACCOUNT, email):
            why = rules.outsider(grant.member, own) if rules.can_impersonate(grant.role) else None
            if why is not None:
                where = " (under a condition)" if grant.conditional else ""
                found.append(_finding(f"grants {grant.member} {grant.role} on {holds}{where}: {why} can act as it and reach "
                                      "the recordings", f"remove the binding: gcloud iam service-accounts remove-iam-policy-binding "
                                                        f"{email} --member={grant.member} --role={grant.role}"))
    return found


def judge_access_revoked(dest: Destination, reads: verify_gcp.Reads) -> Check:
    pool_command = f"gcloud iam workload-identity-pools update {dest.pool_id} --project={dest.project_number} --location=global"
    found = _state_findings(reads.pool, "pool", dest.pool_name, pool_command)
    found += _state_findings(reads.provider, "provider", dest.provider_name, verify_gcp._provider_command(dest, "update-oidc"))
    folders, unread_folders = verify_gcp.folder_grants(reads.managed_folders, reads.folder_policies, dest)
    found += grant_findings(reads.account_policy, reads.project_policy, reads.bucket_policy, folders, dest)
    found += [Finding(ACCESS_REVOKED, f"cannot be told: {u.detail}", u.fix, unknown=True) for u in unread_folders]
    found += second_hop_findings(reads, dest)
    return from_findings(ACCESS_REVOKED, [Finding(f.rule, f"IAM {f.problem}" if f.problem.startswith("grants") else f.problem, f.fix, f.unknown)
                                          for f in found],
                         f"pool {dest.pool_name} and its provider exchange no token (tokens the pool issued no longer work), nobody "
                         f"federated can act as {dest.email}, and neither it nor any federated identity holds a role on bucket "
                         f"{dest.bucket}, its managed folders or project {dest.project_id} that reaches the recordings, nor can anyone "
                         "federated or outside the project act as another service account that holds a role on the bucket")


def judge_revoked(dest: Destination, reads: verify_gcp.Reads, outputs: Optional[Mapping[str, Any]] = None) -> list[Check]:
    """Every check in REVOKED_CHECK_IDS, from the same reads as a granted stack's."""
    outputs = outputs or {}
    managed = storage_managed(outputs)
    if isinstance(reads.bucket, Unreadable):
        bucket_checks = verify_gcp._cannot_judge(verify_gcp.BUCKET_IDS, reads.bucket, lambda: verify_gcp._missing_bucket(dest, managed))
    else:
        bucket = reads.bucket
        bucket_checks = [
            verify_gcp.judge_bucket_project(bucket, dest, managed),
            verify_gcp.judge_versioning(bucket, dest, managed),
            verify_gcp.judge_uniform_access(bucket, dest, managed),
            verify_gcp.judge_public_access_prevention(bucket, dest, managed),
            verify_gcp.judge_lifecycle(bucket, dest, outputs, managed),
            verify_gcp.judge_retention(bucket, dest, outputs, managed),
            verify_gcp.judge_cold_tier(bucket, dest, outputs, managed),
            verify_gcp.judge_encryption_key(bucket, dest, outputs, managed),
        ]
    grant_checks = verify_gcp._grant_checks(reads.bucket_policy, reads.project_policy, dest, reads.managed_folders, reads.folder_policies)
    return [judge_access_revoked(dest, reads), *bucket_checks,
            verify_gcp.judge_service_agent(reads.bucket, reads.key_policy, reads.project_policy, dest, outputs, managed),
            grant_checks[2], verify_gcp.judge_data_access_logs(reads.project_policy, dest, outputs)]




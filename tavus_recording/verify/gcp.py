"""`verify` for a Cloud Storage destination: will Tavus be able to write to the bucket, right now?

Tavus presents an OIDC token to Google's STS; the pool's provider accepts it only from Tavus's
issuer and for Tavus's subject; the federated principal that results impersonates the writer
service account, which may create objects in the bucket. verify reads each link with the caller's
own credentials (Application Default Credentials: GOOGLE_APPLICATION_CREDENTIALS or
`gcloud auth application-default login`) and judges it against what the kit deploys
(`components.gcp_policy`). It only reads, and only the resources the stack's outputs name.

The judges are pure functions over the APIs' own JSON; the reads sit on top of them. A read the
caller may not make (HTTP 403) or an endpoint that cannot be reached makes only the checks that
depend on it unknown; a resource that is missing fails its own check and skips those that need it.
Workload identity pools have no client library, so IAM is read through plain REST on an
`AuthorizedSession`; the bucket through google-cloud-storage.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass
from typing import Any, Callable, Literal, Mapping, Optional, Sequence, Union
from urllib.parse import quote

import google.auth
import google.auth.exceptions
import requests
from google.api_core.exceptions import GoogleAPICallError
from google.auth.credentials import Credentials
from google.auth.transport.requests import AuthorizedSession
from google.cloud import storage as gcs

from components import gcp_policy, tavus
from tavus_recording.verify.outputs import OutputsError
from tavus_recording.verify.report import UNMANAGED_BUCKET, Check, failed, passed, skipped, storage_fix, storage_managed, unknown

IAM_URL = "https://iam.googleapis.com"
STORAGE_URL = "https://storage.googleapis.com"
SCOPES = ("https://www.googleapis.com/auth/cloud-platform",)
# Per request (connect, then read): an unreachable endpoint turns into "unknown" within seconds.
TIMEOUT_SECONDS = 8.0
MAX_MESSAGE = 300

POOL_STATE = "gcs.pool.state"
PROVIDER_STATE = "gcs.provider.state"
PROVIDER_ISSUER = "gcs.provider.issuer"
PROVIDER_MAPPING = "gcs.provider.mapping"
PROVIDER_CONDITION = "gcs.provider.condition"
ACCOUNT_STATE = "gcs.service_account.state"
IMPERSONATION = "gcs.service_account.impersonation"
BUCKET_PROJECT = "gcs.bucket.project"
VERSIONING = "gcs.bucket.versioning"
UNIFORM_ACCESS = "gcs.bucket.uniform_access"
PUBLIC_ACCESS_PREVENTION = "gcs.bucket.public_access_prevention"
WRITER = "gcs.bucket.writer"
# Every run reports exactly these, in this order (the path a token takes, then the bucket).
CHECK_IDS: tuple[str, ...] = (
    POOL_STATE,
    PROVIDER_STATE,
    PROVIDER_ISSUER,
    PROVIDER_MAPPING,
    PROVIDER_CONDITION,
    ACCOUNT_STATE,
    IMPERSONATION,
    BUCKET_PROJECT,
    VERSIONING,
    UNIFORM_ACCESS,
    PUBLIC_ACCESS_PREVENTION,
    WRITER,
)
PROVIDER_IDS = (PROVIDER_STATE, PROVIDER_ISSUER, PROVIDER_MAPPING, PROVIDER_CONDITION)
BUCKET_IDS = (BUCKET_PROJECT, VERSIONING, UNIFORM_ACCESS, PUBLIC_ACCESS_PREVENTION)

# The one permission each read needs (from each method's API reference), nothing more.
POOL_GET = "iam.workloadIdentityPools.get"
PROVIDER_GET = "iam.workloadIdentityPoolProviders.get"
ACCOUNT_GET = "iam.serviceAccounts.get"
ACCOUNT_POLICY_GET = "iam.serviceAccounts.getIamPolicy"
BUCKET_GET = "storage.buckets.get"
BUCKET_POLICY_GET = "storage.buckets.getIamPolicy"
READ_PERMISSIONS: tuple[str, ...] = (
    POOL_GET,
    PROVIDER_GET,
    ACCOUNT_GET,
    ACCOUNT_POLICY_GET,
    BUCKET_GET,
    BUCKET_POLICY_GET,
)
# A predefined role that holds each permission, for a caller who would rather not create a
# custom role (`reader_role_command` creates one with exactly READ_PERMISSIONS).
READER_ROLES: dict[str, str] = {
    POOL_GET: "roles/iam.workloadIdentityPoolViewer",
    PROVIDER_GET: "roles/iam.workloadIdentityPoolViewer",
    ACCOUNT_GET: "roles/iam.serviceAccountViewer",
    ACCOUNT_POLICY_GET: "roles/iam.securityReviewer",
    BUCKET_GET: "roles/storage.legacyBucketReader",
    BUCKET_POLICY_GET: "roles/iam.securityReviewer",
}

LOGIN_FIX = "gcloud auth application-default login (or point GOOGLE_APPLICATION_CREDENTIALS at a credentials file), then run verify again"
PULUMI_UP = "run `pulumi up` for this stack to restore the kit's settings"
# Stands in a fix for Tavus's subject when the stack does not export it (Tavus's recording guide, GCS tab).
SUBJECT_PLACEHOLDER = "TAVUS_SUBJECT"
# Anyone on the internet / anyone with a Google account.
PUBLIC_MEMBERS = ("allUsers", "allAuthenticatedUsers")

_PROVIDER_NAME = re.compile(
    r"^projects/(?P<number>\d+)/locations/global/workloadIdentityPools/(?P<pool>[^/]+)/providers/(?P<provider>[^/]+)$"
)
_ACCOUNT_PROJECT = re.compile(r"@(?P<project>[a-z][a-z0-9-]*[a-z0-9])\.iam\.gserviceaccount\.com$")
# The kit's condition: `assertion.sub == <JSON string>` (see gcp_policy.attribute_condition).
_PINNED_SUBJECT = re.compile(r'^assertion\.sub == (".*")$')
_REQUEST_LINE = re.compile(r"^[A-Z]+ \S+: ")

Json = dict[str, Any]


class MissingOutputs(OutputsError, ValueError):
    """The stack's outputs do not name the resources verify must read."""


def reader_role_command(project_id: str, role_id: str = "tavusRecordingVerifier") -> str:
    """A gcloud line creating a custom role with exactly the permissions verify reads with."""
    return (
        f"gcloud iam roles create {role_id} --project={shlex.quote(project_id)} "
        f"--title='Tavus recording verify' --permissions={','.join(READ_PERMISSIONS)}"
    )


# --- what the stack says was deployed


@dataclass(frozen=True)
class Destination:
    """The resources `recording_storage` names, and what Tavus presents (when the stack exports it)."""

    bucket: str
    project_id: str
    project_number: str
    pool_id: str
    provider_id: str
    email: str
    issuer: Optional[str] = None
    subject: Optional[str] = None
    audience: Optional[str] = None

    @property
    def pool_name(self) -> str:
        return f"projects/{self.project_number}/locations/global/workloadIdentityPools/{self.pool_id}"

    @property
    def provider_name(self) -> str:
        return f"{self.pool_name}/providers/{self.provider_id}"

    @property
    def account_project(self) -> str:
        """The account's project from its email; `-` (any project) for accounts named otherwise."""
        match = _ACCOUNT_PROJECT.search(self.email)
        return match.group("project") if match else "-"

    @property
    def writer_member(self) -> str:
        return f"serviceAccount:{self.email}"

    def principal(self, subject: str) -> str:
        return gcp_policy.workload_principal(self.pool_name, subject)


def _text(value: Any) -> Optional[str]:
    return value if isinstance(value, str) and value else None


def destination(storage: tavus.GcsRecordingStorageConfig, outputs: Mapping[str, Any]) -> Destination:
    """What verify reads, from `recording_storage` and the federation outputs beside it."""
    match = _PROVIDER_NAME.match(storage.workload_identity_provider)
    if not match:
        raise MissingOutputs(
            f"recording_storage.workload_identity_provider is {storage.workload_identity_provider!r}: expected "
            "projects/<project number>/locations/global/workloadIdentityPools/<pool>/providers/<provider>, "
            "the provider's `name` (as this kit exports it)"
        )
    return Destination(
        bucket=storage.bucket_name,
        project_id=storage.project_id,
        project_number=match.group("number"),
        pool_id=match.group("pool"),
        provider_id=match.group("provider"),
        email=storage.service_account_email,
        issuer=_text(outputs.get("tavus_oidc_issuer")),
        subject=_text(outputs.get("tavus_oidc_subject")),
        audience=_text(outputs.get("tavus_oidc_audience")),
    )


# --- why a read gave nothing


@dataclass(frozen=True)
class Unreadable:
    """A read that returned nothing: the resource is missing, or the caller could not tell."""

    kind: Literal["missing", "denied", "unreachable", "credentials", "error"]
    detail: str
    fix: str = ""


Read = Union[Json, Unreadable]


def _cannot_judge(ids: Sequence[str], problem: Unreadable, when_missing: Optional[Callable[[], Check]] = None) -> list[Check]:
    """The checks `ids` when their read failed: a missing resource fails the first, the rest are skipped."""
    if problem.kind == "missing":
        if when_missing is None:
            return skipped(list(ids), problem.detail)
        return [when_missing(), *skipped(list(ids[1:]), problem.detail)]
    return [unknown(check_id, problem.detail, problem.fix) for check_id in ids]


# --- judges: the APIs' JSON in, one check out


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
    return failed(POOL_STATE, f"{problem}: Google refuses every token exchange through it, Tavus's included.", f"{fix}, or {PULUMI_UP}")


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
    return failed(PROVIDER_STATE, f"{problem}: Tavus's tokens cannot be exchanged through it.", f"{fix}, or {PULUMI_UP}")


def _default_audiences(dest: Destination) -> tuple[str, str]:
    """What an OIDC token must carry as `aud` when the provider lists no allowed audiences."""
    return (f"//iam.googleapis.com/{dest.provider_name}", f"https://iam.googleapis.com/{dest.provider_name}")


def judge_issuer(provider: Json, dest: Destination) -> Check:
    oidc = provider.get("oidc")
    if not isinstance(oidc, dict):
        kind = next((key for key in ("aws", "saml") if key in provider), "no identity provider")
        return failed(
            PROVIDER_ISSUER,
            f"provider {dest.provider_name} is configured for {kind}, not OIDC: Tavus presents OIDC tokens.",
            f"{PULUMI_UP} (the kit's provider is OIDC with Tavus's issuer)",
        )
    found = oidc.get("issuerUri", "")
    audiences = [a for a in oidc.get("allowedAudiences", []) if isinstance(a, str)]
    if dest.issuer is None:
        return unknown(
            PROVIDER_ISSUER,
            f"the provider trusts issuer {found!r}, but the stack exports no tavus_oidc_issuer to compare it with, "
            "so verify cannot tell whether it is Tavus's.",
            "export tavus_oidc_issuer (and tavus_oidc_subject) from the program, as this kit's __main__.py does, "
            "or compare the issuer with Tavus's recording guide (GCS tab)",
        )
    problems: list[str] = []
    fixes: list[str] = []
    if found != dest.issuer:
        problems.append(f"the provider trusts issuer {found!r}, but Tavus's tokens come from {dest.issuer!r}")
        fixes.append(f"{_provider_command(dest, 'update-oidc')} --issuer-uri={shlex.quote(dest.issuer)}")
    if dest.audience is not None:
        if dest.audience not in audiences:
            problems.append(f"allowedAudiences is {audiences} and lacks Tavus's audience {dest.audience!r}")
            fixes.append(f"{_provider_command(dest, 'update-oidc')} --allowed-audiences={shlex.quote(dest.audience)}")
    elif audiences and not set(audiences) & set(_default_audiences(dest)):
        problems.append(
            f"allowedAudiences is {audiences}, but no tavus_oidc_audience is configured, so Tavus's tokens carry "
            f"the provider's own name ({_default_audiences(dest)[0]}), which that list rejects"
        )
        fixes.append(f"{_provider_command(dest, 'update-oidc')} --clear-allowed-audiences")
    if problems:
        return failed(PROVIDER_ISSUER, "; ".join(problems) + ".", "; or ".join([PULUMI_UP, *fixes]))
    audience = f"audience {dest.audience!r}" if dest.audience else "the provider's own name as audience"
    return passed(PROVIDER_ISSUER, f"the provider trusts Tavus's issuer {found!r}, with {audience}")


def judge_mapping(provider: Json, dest: Destination) -> Check:
    mapping = provider.get("attributeMapping") or {}
    found = mapping.get("google.subject") if isinstance(mapping, dict) else None
    if isinstance(found, str) and found.strip() == gcp_policy.ATTRIBUTE_MAPPING["google.subject"]:
        return passed(PROVIDER_MAPPING, "attributeMapping maps google.subject to assertion.sub, the token's subject")
    shown = "is missing" if found is None else f"is {found!r}"
    return failed(
        PROVIDER_MAPPING,
        f"attributeMapping's google.subject {shown}; Tavus's principal is named after the token's subject, "
        "so it must be assertion.sub.",
        f"{PULUMI_UP}, or {_provider_command(dest, 'update-oidc')} --attribute-mapping=google.subject=assertion.sub",
    )


def pinned_subject(provider: Json) -> Optional[str]:
    """The one subject the provider's condition admits, when it has exactly the kit's form."""
    condition = provider.get("attributeCondition")
    if not isinstance(condition, str):
        return None
    condition = condition.strip()
    match = _PINNED_SUBJECT.match(condition)
    if not match:
        return None
    try:
        subject = json.loads(match.group(1))
    except ValueError:
        return None
    # The round trip rejects anything the pattern let through that is not one string literal.
    return subject if isinstance(subject, str) and gcp_policy.attribute_condition(subject) == condition else None


def judge_condition(provider: Json, dest: Destination) -> Check:
    condition = (provider.get("attributeCondition") or "").strip()

    def condition_fix(subject: str) -> str:
        return (
            f"{PULUMI_UP}, or {_provider_command(dest, 'update-oidc')} "
            f"--attribute-condition={shlex.quote(gcp_policy.attribute_condition(subject))}"
        )

    if not condition:
        return failed(
            PROVIDER_CONDITION,
            "the provider has no attributeCondition: it admits every token its issuer signs, not only Tavus's subject.",
            condition_fix(dest.subject or SUBJECT_PLACEHOLDER),
        )
    if dest.subject is not None:
        expected = gcp_policy.attribute_condition(dest.subject)
        if condition == expected:
            return passed(PROVIDER_CONDITION, f"attributeCondition admits only Tavus's subject: {condition}")
        return failed(
            PROVIDER_CONDITION,
            f"attributeCondition is {condition!r}; Tavus needs exactly {expected!r}, which admits its subject and nothing else.",
            condition_fix(dest.subject),
        )
    subject = pinned_subject(provider)
    if subject is not None:
        return passed(
            PROVIDER_CONDITION,
            f"attributeCondition admits only subject {subject!r} (the stack exports no tavus_oidc_subject, so "
            f"{IMPERSONATION} holds the service account's binding to this subject)",
        )
    return failed(
        PROVIDER_CONDITION,
        f"attributeCondition {condition!r} does not pin one subject; the kit's form is assertion.sub == \"<subject>\".",
        condition_fix(SUBJECT_PLACEHOLDER),
    )


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
        f"{PULUMI_UP}; a deleted account can be restored within 30 days with "
        "`gcloud iam service-accounts undelete <unique id>` (its id is in the audit log)",
    )


@dataclass(frozen=True)
class Grant:
    role: str
    members: tuple[str, ...]
    conditional: bool


def grants(policy: Json) -> list[Grant]:
    """A policy's bindings (absent when there are none)."""
    found: list[Grant] = []
    for binding in policy.get("bindings") or []:
        if isinstance(binding, dict) and isinstance(binding.get("role"), str):
            members = tuple(m for m in binding.get("members") or [] if isinstance(m, str))
            found.append(Grant(binding["role"], members, bool(binding.get("condition"))))
    return found


def judge_impersonation(policy: Json, dest: Destination, subject: Optional[str], subject_source: str) -> Check:
    all_grants = grants(policy)
    impersonators = {m for g in all_grants if g.role == gcp_policy.IMPERSONATION_ROLE for m in g.members}
    unconditional = {m for g in all_grants if g.role == gcp_policy.IMPERSONATION_ROLE and not g.conditional for m in g.members}
    others = [g for g in all_grants if g.role != gcp_policy.IMPERSONATION_ROLE and g.members]
    if subject is None:
        return unknown(
            IMPERSONATION,
            f"{gcp_policy.IMPERSONATION_ROLE} is held by {sorted(impersonators) or 'nobody'}, but verify cannot tell "
            "which subject is Tavus's: the stack exports no tavus_oidc_subject and the provider's condition "
            "does not pin one.",
            "export tavus_oidc_subject from the program, as this kit's __main__.py does",
        )
    expected = dest.principal(subject)
    problems: list[str] = []
    if expected not in unconditional:
        where = " only under a condition" if expected in impersonators else ""
        problems.append(f"{gcp_policy.IMPERSONATION_ROLE} is not granted{where} to {expected} (the subject from {subject_source})")
    wide = sorted(m for m in impersonators if m.startswith("principalSet://"))
    if wide:
        problems.append(f"it is granted to {', '.join(wide)}: a set of identities, not only Tavus's subject")
    extra = sorted(impersonators - {expected} - set(wide))
    if extra:
        problems.append(f"it is also granted to {', '.join(extra)}")
    if others:
        problems.append("the account also grants " + "; ".join(f"{g.role} to {', '.join(g.members)}" for g in others))
    if not problems:
        return passed(
            IMPERSONATION,
            f"{gcp_policy.IMPERSONATION_ROLE} on {dest.email} is held by exactly {expected}, and the account grants nothing else",
        )
    fixes: list[str] = []
    if expected not in unconditional or wide or extra:
        fixes.append(f"{PULUMI_UP} (its binding is authoritative for {gcp_policy.IMPERSONATION_ROLE})")
    fixes += [
        f"gcloud iam service-accounts remove-iam-policy-binding {dest.email} --project={dest.project_id} "
        f"--member={shlex.quote(member)} --role={g.role}"
        for g in others
        for member in g.members
    ]
    return failed(
        IMPERSONATION,
        "; ".join(problems) + f". Tavus needs {gcp_policy.IMPERSONATION_ROLE} for exactly {expected}, "
        "and nobody else should be able to act as the writer.",
        "; ".join(fixes),
    )


def _bucket_fix(managed: bool, restore: str, direct: str) -> str:
    return storage_fix(managed, restore, direct, UNMANAGED_BUCKET)


def _update_bucket(dest: Destination, flag: str, managed: bool) -> str:
    """The gcloud line that sets `flag` on the bucket, or `pulumi up` for the kit's bucket."""
    command = f"gcloud storage buckets update gs://{dest.bucket} {flag}"
    return _bucket_fix(managed, f"{command}, or {PULUMI_UP}", command)


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
            f"point bucket_name and workload_identity_provider at one deployment ({PULUMI_UP})",
            f"check the name given in existingBucket: it must name a bucket in project {dest.project_id}, where the pool is",
        ),
    )


def _missing_bucket(dest: Destination, managed: bool = True) -> Check:
    return failed(
        BUCKET_PROJECT,
        f"bucket {dest.bucket} does not exist: Tavus has nowhere to write.",
        _bucket_fix(
            managed,
            f"{PULUMI_UP} (the kit keeps the bucket on destroy, so it was deleted outside Pulumi or the name is wrong)",
            f"check the name given in existingBucket (gcloud storage buckets describe gs://{dest.bucket}), or create that bucket",
        ),
    )


def judge_versioning(bucket: Json, dest: Destination, managed: bool = True) -> Check:
    if (bucket.get("versioning") or {}).get("enabled") is True:
        return passed(VERSIONING, f"versioning is on for {dest.bucket}: an overwritten recording keeps its earlier version")
    return failed(
        VERSIONING,
        f"versioning is off for {dest.bucket}: the kit keeps every version of a recording.",
        _update_bucket(dest, "--versioning", managed),
    )


def judge_uniform_access(bucket: Json, dest: Destination, managed: bool = True) -> Check:
    iam = bucket.get("iamConfiguration") or {}
    if (iam.get("uniformBucketLevelAccess") or {}).get("enabled") is True:
        return passed(UNIFORM_ACCESS, "uniform bucket-level access is on: only IAM decides who reads and writes")
    return failed(
        UNIFORM_ACCESS,
        f"uniform bucket-level access is off for {dest.bucket}: object ACLs can grant access the bucket's IAM policy does not show.",
        _update_bucket(dest, "--uniform-bucket-level-access", managed),
    )


def judge_public_access_prevention(bucket: Json, dest: Destination, managed: bool = True) -> Check:
    found = (bucket.get("iamConfiguration") or {}).get("publicAccessPrevention")
    if found == "enforced":
        return passed(PUBLIC_ACCESS_PREVENTION, "public access prevention is enforced: recordings cannot be made public")
    return failed(
        PUBLIC_ACCESS_PREVENTION,
        f"public access prevention is {found or 'unset'!r} for {dest.bucket}, not 'enforced': a grant to allUsers would make recordings public.",
        _update_bucket(dest, "--public-access-prevention", managed),
    )


def judge_writer(policy: Json, dest: Destination) -> Check:
    all_grants = grants(policy)
    writer = dest.writer_member.lower()
    held = {g.role for g in all_grants if not g.conditional and writer in (m.lower() for m in g.members)}
    conditional = {g.role for g in all_grants if g.conditional and writer in (m.lower() for m in g.members)}
    public = [(g.role, m) for g in all_grants for m in g.members if m in PUBLIC_MEMBERS]
    problems: list[str] = []
    fixes: list[str] = []
    if gcp_policy.WRITER_ROLE not in held:
        where = " except under a condition" if gcp_policy.WRITER_ROLE in conditional else ""
        problems.append(f"{dest.writer_member} does not hold {gcp_policy.WRITER_ROLE} on the bucket{where}, so Tavus cannot create objects")
        fixes.append(
            f"{PULUMI_UP}, or gcloud storage buckets add-iam-policy-binding gs://{dest.bucket} "
            f"--member={dest.writer_member} --role={gcp_policy.WRITER_ROLE}"
        )
    broader = sorted((held | conditional) - {gcp_policy.WRITER_ROLE})
    if broader:
        problems.append(f"{dest.writer_member} also holds {', '.join(broader)}: more than the object creation Tavus needs")
    removals = [(role, dest.writer_member) for role in broader] + public
    if public:
        problems.append("the bucket grants " + "; ".join(f"{role} to {member}" for role, member in public))
    fixes += [
        f"gcloud storage buckets remove-iam-policy-binding gs://{dest.bucket} --member={member} --role={role}"
        for role, member in removals
    ]
    if problems:
        return failed(
            WRITER,
            "; ".join(problems) + f". Tavus needs {gcp_policy.WRITER_ROLE} for {dest.writer_member} and no public grant.",
            "; ".join(fixes),
        )
    return passed(WRITER, f"{dest.writer_member} holds {gcp_policy.WRITER_ROLE} and nothing more on the bucket, and nothing is public")


# --- all the checks from what was read


@dataclass(frozen=True)
class Reads:
    """What each read returned: the API's JSON, or why there is none."""

    pool: Read
    provider: Read
    account: Read
    account_policy: Read
    bucket: Read
    bucket_policy: Read


def judge_all(dest: Destination, reads: Reads, managed: bool = True) -> list[Check]:
    """Every check in CHECK_IDS, from the reads.

    `managed` is False for a bucket named with existingBucket: the bucket's own fixes are then the
    direct ones only (the writer's grant on it is still the stack's, so its fix keeps `pulumi up`).
    """
    checks: list[Check] = []

    if isinstance(reads.pool, Unreadable):
        checks += _cannot_judge(
            [POOL_STATE],
            reads.pool,
            lambda: failed(POOL_STATE, f"pool {dest.pool_name} does not exist (or was purged).", PULUMI_UP),
        )
    else:
        checks.append(judge_pool(reads.pool, dest))

    if isinstance(reads.provider, Unreadable):
        checks += _cannot_judge(
            PROVIDER_IDS,
            reads.provider,
            lambda: failed(PROVIDER_STATE, f"provider {dest.provider_name} does not exist (or was purged).", PULUMI_UP),
        )
    else:
        checks += [
            judge_provider_state(reads.provider, dest),
            judge_issuer(reads.provider, dest),
            judge_mapping(reads.provider, dest),
            judge_condition(reads.provider, dest),
        ]

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
        checks.append(judge_impersonation(reads.account_policy, dest, subject, source))

    if isinstance(reads.bucket, Unreadable):
        checks += _cannot_judge(BUCKET_IDS, reads.bucket, lambda: _missing_bucket(dest, managed))
    else:
        checks += [
            judge_bucket_project(reads.bucket, dest, managed),
            judge_versioning(reads.bucket, dest, managed),
            judge_uniform_access(reads.bucket, dest, managed),
            judge_public_access_prevention(reads.bucket, dest, managed),
        ]

    if isinstance(reads.bucket_policy, Unreadable):
        checks += _cannot_judge([WRITER], reads.bucket_policy)
    else:
        checks.append(judge_writer(reads.bucket_policy, dest))
    return checks


# --- the reads


class _HttpStatus(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"HTTP {status}: {message}")
        self.status = status
        self.message = message


def _api_message(text: str) -> str:
    """Google's `error.message`, else the raw body, cut short."""
    try:
        error = json.loads(text).get("error")
        message = error.get("message") if isinstance(error, dict) else error
    except (ValueError, AttributeError):
        message = None
    return (message if isinstance(message, str) else text.strip())[:MAX_MESSAGE]


# Google answers 403 for a refusal that is not about the permission: user credentials without a
# quota project, or the API disabled in the quota project. Saying "denied" there would mislead.
_NOT_A_PERMISSION = re.compile(r"quota project|has not been used in project|SERVICE_DISABLED|API .*is disabled", re.IGNORECASE)


def _status_problem(status: int, message: str, permission: str, what: str, dest: Destination) -> Unreadable:
    if status == 404:
        return Unreadable("missing", f"{what} does not exist")
    if status == 403 and _NOT_A_PERMISSION.search(message):
        service = "storage.googleapis.com" if permission.startswith("storage.") else "iam.googleapis.com"
        return Unreadable(
            "denied",
            f"Google refused to read {what}, not for want of {permission}: {message}",
            f"gcloud auth application-default set-quota-project {dest.project_id}, and make sure {service} is "
            f"enabled there (gcloud services enable {service} --project={dest.project_id})",
        )
    if status == 403:
        return Unreadable(
            "denied",
            f"{permission} denied: could not read {what} (Google says: {message})",
            f"grant the account verify runs as {permission} (in {READER_ROLES[permission]}, or a custom role "
            "with verify's READ_PERMISSIONS), or run verify as someone who has it",
        )
    if status == 401:
        return Unreadable("credentials", f"Google refused the credentials (HTTP 401) when reading {what}: {message}", LOGIN_FIX)
    return Unreadable("error", f"HTTP {status} when reading {what}: {message}", "run verify again; if it persists, check Google Cloud's status page")


class _Reader:
    """The six reads; each returns the API's JSON or an `Unreadable`, never raises."""

    def __init__(
        self, credentials: Credentials, session: AuthorizedSession, dest: Destination, iam_url: str, storage_url: str
    ) -> None:
        self._credentials = credentials
        self._session = session
        self._dest = dest
        self._iam_url = iam_url.rstrip("/")
        self._storage_url = storage_url.rstrip("/")
        self._client: Optional[gcs.Client] = None
        # An endpoint that failed to answer, or credentials that failed, are not tried again.
        self._blocked: dict[str, Unreadable] = {}

    def _guarded(self, endpoint: str, permission: str, what: str, call: Callable[[], Json]) -> Read:
        blocked = self._blocked.get(endpoint) or self._blocked.get("credentials")
        if blocked is not None:
            return blocked
        try:
            return call()
        except _HttpStatus as exc:
            problem = _status_problem(exc.status, exc.message, permission, what, self._dest)
        except GoogleAPICallError as exc:
            # The client prefixes Google's message with the request line; the message is what matters.
            message = _REQUEST_LINE.sub("", str(exc.message))[:MAX_MESSAGE]
            problem = _status_problem(exc.code or 0, message, permission, what, self._dest)
        except google.auth.exceptions.GoogleAuthError as exc:
            problem = Unreadable("credentials", f"could not get an access token to read {what}: {str(exc)[:MAX_MESSAGE]}", LOGIN_FIX)
        except requests.exceptions.Timeout:
            problem = self._unreachable(endpoint, what, f"no answer within {TIMEOUT_SECONDS:g} s")
        except requests.exceptions.RequestException as exc:
            problem = self._unreachable(endpoint, what, f"connection failed: {type(exc).__name__}")
        except Exception as exc:  # noqa: BLE001 (an SDK surprise must not end verify; the check says what it was)
            problem = Unreadable("error", f"reading {what} failed: {type(exc).__name__}: {str(exc)[:MAX_MESSAGE]}")
        if problem.kind == "unreachable":
            self._blocked[endpoint] = problem
        elif problem.kind == "credentials":
            self._blocked["credentials"] = problem
        return problem

    def _unreachable(self, endpoint: str, what: str, reason: str) -> Unreadable:
        return Unreadable(
            "unreachable",
            f"{endpoint} could not be reached ({reason}), so {what} was not read",
            f"check that {endpoint} is reachable from here (proxy, firewall, VPC Service Controls), then run verify again",
        )

    def _iam(self, method: str, path: str, body: Optional[Json] = None) -> Json:
        # google-auth leaves `timeout` unannotated, so its int default reads as its type; requests takes a float.
        response = self._session.request(
            method, f"{self._iam_url}/v1/{path}", json=body, timeout=TIMEOUT_SECONDS  # pyright: ignore[reportArgumentType]
        )
        if response.status_code != 200:
            raise _HttpStatus(response.status_code, _api_message(response.text))
        data = response.json()
        if not isinstance(data, dict):
            raise ValueError(f"expected a JSON object, got {type(data).__name__}")
        return data

    def _storage(self) -> gcs.Client:
        if self._client is None:
            # The session carries the credentials and the refresh timeout; the client adds the Storage API.
            self._client = gcs.Client(
                project=self._dest.project_id,
                credentials=self._credentials,
                client_options={"api_endpoint": self._storage_url},
                _http=self._session,
            )
        return self._client

    def pool(self) -> Read:
        return self._guarded(self._iam_url, POOL_GET, f"pool {self._dest.pool_name}", lambda: self._iam("GET", self._dest.pool_name))

    def provider(self) -> Read:
        return self._guarded(
            self._iam_url, PROVIDER_GET, f"provider {self._dest.provider_name}", lambda: self._iam("GET", self._dest.provider_name)
        )

    def _account_path(self) -> str:
        # `projects/-/` answers 403 for a missing account; naming its project gives an honest 404.
        return f"projects/{self._dest.account_project}/serviceAccounts/{quote(self._dest.email, safe='@')}"

    def account(self) -> Read:
        return self._guarded(
            self._iam_url, ACCOUNT_GET, f"service account {self._dest.email}", lambda: self._iam("GET", self._account_path())
        )

    def account_policy(self) -> Read:
        return self._guarded(
            self._iam_url,
            ACCOUNT_POLICY_GET,
            f"the IAM policy of service account {self._dest.email}",
            lambda: self._iam("POST", f"{self._account_path()}:getIamPolicy", {"options": {"requestedPolicyVersion": 3}}),
        )

    def bucket(self) -> Read:
        def read() -> Json:
            # The Storage client's `timeout` and `retry` are unannotated, so their defaults (an int, a Retry) read as their
            # types; it documents Optional[float] and "None disables retries".
            found = self._storage().get_bucket(
                self._dest.bucket, timeout=TIMEOUT_SECONDS, retry=None  # pyright: ignore[reportArgumentType]
            )
            return bucket_json(found)

        return self._guarded(self._storage_url, BUCKET_GET, f"bucket {self._dest.bucket}", read)

    def bucket_policy(self) -> Read:
        def read() -> Json:
            bucket = self._storage().bucket(self._dest.bucket)
            # As in bucket(): the documented types are Optional[float] and Optional[Retry].
            policy = bucket.get_iam_policy(
                requested_policy_version=3, timeout=TIMEOUT_SECONDS, retry=None  # pyright: ignore[reportArgumentType]
            )
            return dict(policy.to_api_repr())

        return self._guarded(self._storage_url, BUCKET_POLICY_GET, f"the IAM policy of bucket {self._dest.bucket}", read)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


def bucket_json(bucket: gcs.Bucket) -> Json:
    """The fields verify judges, in the JSON API's shape, from the client's public accessors."""
    iam = bucket.iam_configuration
    number = bucket.project_number
    return {
        "name": bucket.name,
        "projectNumber": None if number is None else str(number),
        "versioning": {"enabled": bool(bucket.versioning_enabled)},
        "iamConfiguration": {
            "uniformBucketLevelAccess": {"enabled": bool(iam.uniform_bucket_level_access_enabled)},
            "publicAccessPrevention": iam.get("publicAccessPrevention"),
        },
    }


def _default_credentials() -> Credentials:
    """Application Default Credentials (google.auth.default's own annotation names a module it never imports)."""
    credentials, _ = google.auth.default(scopes=list(SCOPES))
    return credentials


def verify(
    storage: tavus.GcsRecordingStorageConfig,
    outputs: Mapping[str, Any],
    *,
    credentials: Optional[Credentials] = None,
    iam_url: str = IAM_URL,
    storage_url: str = STORAGE_URL,
) -> list[Check]:
    """Check the deployed destination; every id in CHECK_IDS, in order. Raises only MissingOutputs.

    `storage_managed` False in `outputs` (an existingBucket stack) keeps `pulumi up` out of the bucket's
    fixes; absent (a stack deployed before that output) means the kit made the bucket.
    """
    dest = destination(storage, outputs)
    if credentials is None:
        try:
            credentials = _default_credentials()
        except (google.auth.exceptions.GoogleAuthError, ValueError) as exc:
            return [unknown(check_id, f"no Google credentials to read with ({str(exc)[:MAX_MESSAGE]})", LOGIN_FIX) for check_id in CHECK_IDS]
    with AuthorizedSession(credentials, refresh_timeout=TIMEOUT_SECONDS) as session:
        reader = _Reader(credentials, session, dest, iam_url, storage_url)
        try:
            reads = Reads(
                pool=reader.pool(),
                provider=reader.provider(),
                account=reader.account(),
                account_policy=reader.account_policy(),
                bucket=reader.bucket(),
                bucket_policy=reader.bucket_policy(),
            )
        finally:
            reader.close()
    return judge_all(dest, reads, managed=storage_managed(outputs))

"""The trust and bucket settings for a Cloud Storage destination, as pure functions.

Tavus reaches the bucket through workload identity federation: it presents an OIDC token from
its issuer, the pool's provider accepts it only for Tavus's subject, and the resulting principal
may impersonate one writer service account that can create objects in one bucket.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Optional

from components.lifecycle import ABORT_MULTIPART_AFTER_DAYS
from components.naming import gcp_id

if TYPE_CHECKING:
    # Types only: this module stays importable without the GCP SDK (the policy pack reads it).
    from pulumi_gcp.iam import WorkloadIdentityPoolProviderOidcArgsDict
    from pulumi_gcp.storage import BucketLifecycleRuleArgsDict

# The token exchange needs STS, impersonation needs IAM Credentials, pools need IAM.
IAM_SERVICES: tuple[str, ...] = (
    "iam.googleapis.com",
    "iamcredentials.googleapis.com",
    "sts.googleapis.com",
)
# A bucket the kit creates needs the Storage API too.
STORAGE_SERVICE = "storage.googleapis.com"
REQUIRED_SERVICES: tuple[str, ...] = (*IAM_SERVICES, STORAGE_SERVICE)
# Lets the federated principal act as the writer service account.
IMPERSONATION_ROLE = "roles/iam.workloadIdentityUser"
# storage.objects.create on the bucket: Tavus writes recordings and nothing else.
WRITER_ROLE = "roles/storage.objectCreator"

ATTRIBUTE_MAPPING = {"google.subject": "assertion.sub"}
DEFAULT_PROVIDER_ID = "tavus"


def attribute_condition(subject: str) -> str:
    """CEL that admits only tokens whose subject is Tavus's (a JSON string is a valid CEL literal)."""
    return f"assertion.sub == {json.dumps(subject)}"


def workload_principal(pool_name: str, subject: str) -> str:
    """The single federated identity allowed to impersonate the writer (never a principalSet)."""
    return f"principal://iam.googleapis.com/{pool_name}/subject/{subject}"


def oidc(issuer: str, audience: Optional[str] = None) -> WorkloadIdentityPoolProviderOidcArgsDict:
    """The provider's OIDC settings; without an audience GCP expects the provider's own name."""
    settings: WorkloadIdentityPoolProviderOidcArgsDict = {"issuer_uri": issuer}
    if audience:
        settings["allowed_audiences"] = [audience]
    return settings


def default_pool_id(component: str, stack: str) -> str:
    """A pool id unique per stack and component in one project (4-32 chars, not `gcp-`...)."""
    return gcp_id(component, stack, min_length=4, max_length=32)


def default_service_account_id(component: str, stack: str) -> str:
    """A writer account id unique per stack and component in one project (6-30 chars, a letter first)."""
    return gcp_id(component, stack, min_length=6, max_length=30)


def bucket_in_project(bucket: Any, project: Any) -> str:
    """The existing bucket's name, once its project number is the provider project's; else a RunError,
    since the writer and its grant are made in gcp:project and Tavus is told that project."""
    if str(bucket.project_number) == str(project.number):
        return bucket.name
    import pulumi  # only here: the rest of this module is pure

    raise pulumi.RunError(
        f"tavus-recording:existingBucket: bucket {bucket.name} is in project number {bucket.project_number}, not in "
        f"gcp:project {project.project_id} (number {project.number}); the writer service account and its grant are made "
        "in gcp:project, and recording_storage.project_id names it. Set gcp:project to the bucket's project, or name a "
        "bucket of this project."
    )


def lifecycle_rules(noncurrent_version_days: int, retention_days: Optional[int] = None) -> list[BucketLifecycleRuleArgsDict]:
    """Lifecycle rules, in the shape of `gcp.storage.Bucket` lifecycle_rules."""
    rules: list[BucketLifecycleRuleArgsDict] = [
        {
            "action": {"type": "Delete"},
            "condition": {"days_since_noncurrent_time": noncurrent_version_days, "with_state": "ARCHIVED"},
        },
        {
            "action": {"type": "AbortIncompleteMultipartUpload"},
            "condition": {"age": ABORT_MULTIPART_AFTER_DAYS},
        },
    ]
    if retention_days:
        rules.append({"action": {"type": "Delete"}, "condition": {"age": retention_days, "with_state": "LIVE"}})
    return rules

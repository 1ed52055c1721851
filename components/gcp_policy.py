"""The trust and bucket settings for a Cloud Storage destination, as pure functions.

Tavus reaches the bucket through workload identity federation: it presents an OIDC token from
its issuer, the pool's provider accepts it only for Tavus's subject, and the resulting principal
may impersonate one writer service account that can create objects in one bucket.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any, Optional

from components.lifecycle import ABORT_MULTIPART_AFTER_DAYS, COLD_CLASS
from components.naming import gcp_id

if TYPE_CHECKING:
    # Types only: this module stays importable without the GCP SDK (the policy pack reads it).
    from pulumi import Input
    from pulumi_gcp.iam import WorkloadIdentityPoolProviderOidcArgsDict
    from pulumi_gcp.projects import IAMAuditConfigAuditLogConfigArgsDict
    from pulumi_gcp.storage import (
        BucketEncryptionArgsDict,
        BucketLifecycleRuleArgsDict,
        BucketRetentionPolicyArgsDict,
        BucketVersioningArgsDict,
    )

# The token exchange needs STS, impersonation needs IAM Credentials, pools need IAM.
IAM_API = "iam.googleapis.com"
IAM_SERVICES: tuple[str, ...] = (
    IAM_API,
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

# A bucket's default Cloud KMS key is used by Cloud Storage itself, through the project's Cloud Storage service
# agent, which must be allowed to use the key (pulumi-gcp storage/_inputs.py, encryption.default_kms_key_name: "the
# IAM policy for the specified key must permit the automatic Google Cloud Storage service account"). Tavus's
# writer needs no grant on the key: it never calls Cloud KMS.
KEY_USER_ROLE = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
DEFAULT_LOCATION = "US"
KMS_KEY_NAME_FORM = "projects/<project>/locations/<location>/keyRings/<key ring>/cryptoKeys/<key>"
# Key ring and key ids: 1-63 letters, digits, _ and - (https://cloud.google.com/kms/docs/resource-hierarchy);
# a project by id (domain-scoped ids have . and :) or number.
_KMS_KEY_NAME = re.compile(
    r"^projects/[a-z0-9][a-z0-9.:-]{0,99}/locations/(?P<location>[a-z0-9-]{1,63})/keyRings/[\w-]{1,63}/cryptoKeys/[\w-]{1,63}$",
    re.ASCII,
)
# The key must be in the bucket's location, though it may be in another project (Cloud Storage CMEK docs,
# using-customer-managed-keys: the key ring "must be in the same location as the data it encrypts"). Cloud KMS
# spells the multi-regions us, europe and asia where Cloud Storage says US, EU and ASIA.
_KMS_MULTI_REGIONS = {"us": "us", "eu": "europe", "asia": "asia"}
# A predefined dual-region: the KMS location of the same name, or the multi-region that holds it. Not confirmed
# in Google's docs read here; both are accepted, so a valid key is never refused (a wrong one fails at `pulumi up`).
_DUAL_REGION_MULTI_REGIONS = {"asia1": "asia", "eur4": "europe", "eur5": "europe", "eur7": "europe", "eur8": "europe",
                              "nam4": "us"}


def kms_key_name_problem(name: str) -> Optional[str]:
    """What is wrong with `name` as a bucket's default key (a key, not one of its versions), or None."""
    if "/cryptoKeyVersions/" in name:
        return "names a key version; Cloud Storage encrypts with the key's primary version, so drop /cryptoKeyVersions/..."
    if not _KMS_KEY_NAME.match(name):
        return "is not a Cloud KMS key name"
    return None


def kms_key_location(name: str) -> str:
    """The `locations/<location>` of a key name that has no problem."""
    match = _KMS_KEY_NAME.match(name)
    return match["location"] if match else ""


def kms_locations_for(bucket_location: str) -> tuple[str, ...]:
    """The Cloud KMS locations a key for a bucket in `bucket_location` may be in."""
    location = bucket_location.lower()
    if location in _KMS_MULTI_REGIONS:
        return (_KMS_MULTI_REGIONS[location],)
    if location in _DUAL_REGION_MULTI_REGIONS:
        return (location, _DUAL_REGION_MULTI_REGIONS[location])
    return (location,)


# The writer, not the bucket, picks an upload's encryption: a customer-supplied key (CSEK) makes a recording that
# only the key's holder can read, and with a default Cloud KMS key a Google-managed one would bypass it. Cloud Storage
# refuses either per bucket for new objects (docs.cloud.google.com/storage/docs/encryption/enforce-encryption-types;
# JSON API encryption.<kind>EncryptionEnforcementConfig.restrictionMode). terraform-provider-google's
# TestAccStorageBucket_encryptionCsek sets the CSEK one on an existing bucket with no default key, in place.
RESTRICTED = "FullyRestricted"
NOT_RESTRICTED = "NotRestricted"


def bucket_encryption(kms_key_name: Optional[Input[str]]) -> BucketEncryptionArgsDict:
    """The bucket's `encryption`: uploads with a customer-supplied key are refused; with `kms_key_name`, that is the
    default key and uploads with Google-managed keys are refused too. Without it Google-managed keys stay allowed,
    said outright so that dropping kmsKeyName later also lifts that refusal."""
    encryption: BucketEncryptionArgsDict = {
        "customer_supplied_encryption_enforcement_config": {"restriction_mode": RESTRICTED},
        "google_managed_encryption_enforcement_config": {"restriction_mode": RESTRICTED if kms_key_name else NOT_RESTRICTED},
    }
    if kms_key_name:
        encryption["default_kms_key_name"] = kms_key_name
    return encryption

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


def lifecycle_rules(
    noncurrent_version_days: int, retention_days: Optional[int] = None, cold_after_days: Optional[int] = None
) -> list[BucketLifecycleRuleArgsDict]:
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
    if cold_after_days:
        # Live objects still in the bucket's default class (the kit's bucket is STANDARD), so the rule never
        # applies twice; noncurrent versions are left where they are, deleted too soon to repay the minimum.
        rules.append(
            {
                "action": {"type": "SetStorageClass", "storage_class": COLD_CLASS["gcs"]},
                "condition": {"age": cold_after_days, "matches_storage_classes": ["STANDARD"], "with_state": "LIVE"},
            }
        )
    return rules


# --- WORM: a bucket retention policy (immutableDays, immutableMode)

SECONDS_PER_DAY = 86400


def retention_policy(immutable_days: Optional[int], mode: Optional[str]) -> Optional[BucketRetentionPolicyArgsDict]:
    """The bucket's `retention_policy`: nothing can be deleted or replaced until it is `immutable_days` old; locked
    (irreversible) only in compliance mode. None when WORM is off. pulumi-gcp v10 types the period as a string of
    seconds (storage/_inputs.py, BucketRetentionPolicyArgsDict.retention_period)."""
    if immutable_days is None:
        return None
    return {"retention_period": str(immutable_days * SECONDS_PER_DAY), "is_locked": mode == "compliance"}


def versioning(immutable_days: Optional[int]) -> BucketVersioningArgsDict:
    """Object Versioning: on, except beside a retention policy. Cloud Storage refuses the two together (Sonar
    RSPEC-6412: "Object versioning cannot be enabled on a bucket with a retention policy"; Google's
    terraform-google-modules/terraform-example-foundation#898 calls them mutually exclusive), and under the policy
    a replace or delete of a recording younger than the period fails anyway (cloud.google.com/storage/docs/bucket-lock:
    objects "can only be deleted or replaced once their age is greater than the retention period")."""
    return {"enabled": immutable_days is None}


# --- Data Access audit logs (auditLogs)

# Object reads (DATA_READ) and creates, changes and deletes (DATA_WRITE) of Cloud Storage
# (cloud.google.com/storage/docs/audit-logging); ADMIN_READ is the third type a config may hold.
AUDIT_SERVICE = STORAGE_SERVICE
ALL_SERVICES = "allServices"
AUDIT_LOG_TYPES: tuple[str, ...] = ("DATA_READ", "DATA_WRITE")
_KNOWN_LOG_TYPES = ("ADMIN_READ", "DATA_READ", "DATA_WRITE")


def _policy(policy_data: Any) -> dict[str, Any]:
    """A project IAM policy as the provider's data source gives it: JSON text (policy_data) or a mapping."""
    if isinstance(policy_data, str):
        try:
            policy_data = json.loads(policy_data) if policy_data.strip() else {}
        except ValueError:
            raise ValueError("the project's IAM policy (gcp.projects.get_iam_policy policy_data) is not JSON; "
                             "the kit will not replace its Cloud Storage audit config without reading it") from None
    if policy_data is None:
        return {}
    if not isinstance(policy_data, dict):
        raise ValueError(f"the project's IAM policy is a {type(policy_data).__name__}, not an object")
    return policy_data


def existing_audit_log_configs(policy_data: Any, service: str = AUDIT_SERVICE) -> dict[str, list[str]]:
    """The log types the project's IAM policy already enables for `service`, each with its exempted members."""
    configs: dict[str, set[str]] = {}
    for entry in _policy(policy_data).get("auditConfigs") or []:
        if not isinstance(entry, dict) or entry.get("service") != service:
            continue
        for config in entry.get("auditLogConfigs") or []:
            log_type = config.get("logType") if isinstance(config, dict) else None
            if log_type in _KNOWN_LOG_TYPES:
                members = config.get("exemptedMembers") or []
                configs.setdefault(log_type, set()).update(m for m in members if isinstance(m, str) and m)
    return {log_type: sorted(members) for log_type, members in configs.items()}


def merged_audit_log_configs(policy_data: Any) -> list[IAMAuditConfigAuditLogConfigArgsDict]:
    """The `audit_log_configs` of the kit's IAMAuditConfig for Cloud Storage: what the project already has for the
    service (every log type, every exemption) plus DATA_READ and DATA_WRITE.

    IAMAuditConfig is authoritative per service: it replaces the project's whole entry for the service
    (terraform-provider-google tpgiamresource/resource_iam_audit_config.go, removeAllAuditConfigsWithService), so
    anything not passed on here would be lost. Exemptions are kept (removing them is the owner's call) and the
    plan names them: exempted members' reads and writes are not logged."""
    configs = existing_audit_log_configs(policy_data)
    for log_type in AUDIT_LOG_TYPES:
        configs.setdefault(log_type, [])
    merged: list[IAMAuditConfigAuditLogConfigArgsDict] = []
    for log_type in sorted(configs):
        config: IAMAuditConfigAuditLogConfigArgsDict = {"log_type": log_type}
        if configs[log_type]:
            config["exempted_members"] = configs[log_type]
        merged.append(config)
    return merged

"""The keys of a Cloud Storage stack, and what Google Cloud accepts for each."""

from __future__ import annotations

from typing import ClassVar, Optional

from pydantic import Field, ValidationInfo, field_validator

from components import gcp_policy
from components.lifecycle import DEFAULT_NONCURRENT_VERSION_DAYS
from components.locations import GCS_DUAL_REGIONS, GCS_LOCATIONS, GCS_LOCATIONS_AS_OF, GCS_MULTI_REGIONS
from components.naming import (
    GCP_PROJECT_RULES,
    GCS_BUCKET_RULES,
    SERVICE_ACCOUNT_ID_RULES,
    WORKLOAD_ID_RULES,
    gcp_project_id_problem,
    gcs_bucket_name_problem,
    service_account_id_problem,
    workload_identity_id_problem,
)
from components.settings.common import (
    NAMESPACE,
    FlagOn,
    NameRules,
    OptionalText,
    SettingsBase,
    checked,
    checked_name,
    did_you_mean,
    qualified,
    required_for,
)

GCP_PROJECT_KEY = "gcp:project"
_LOCATIONS = {location.lower(): location for location in GCS_LOCATIONS}
_BUCKET_EXPECTED = f"a Cloud Storage bucket name is {GCS_BUCKET_RULES}"
# Ids the kit creates, by settings field: what is wrong with one, and the rules to quote.
_ID_RULES: NameRules = {
    "workload_identity_pool_id": (workload_identity_id_problem, WORKLOAD_ID_RULES),
    "workload_identity_provider_id": (workload_identity_id_problem, WORKLOAD_ID_RULES),
    "service_account_id": (service_account_id_problem, SERVICE_ACCOUNT_ID_RULES),
}


# Validators name the module's own providers: pydantic binds them to the composed model's class.
_PROVIDERS = ("gcs",)

class GcsSettings(SettingsBase):
    PROVIDERS: ClassVar[tuple[str, ...]] = _PROVIDERS
    REGION_KEY: ClassVar[str] = f"{NAMESPACE}:location"
    IGNORED_BESIDE: ClassVar[dict[str, tuple[str, ...]]] = {
        "existing_bucket": ("bucket_name", "location", "retention_days", "noncurrent_version_days", "cold_after_days",
                            # An existing bucket keeps its own key: the kit changes none of its settings.
                            "kms_key_name", "immutable_days", "immutable_mode", "audit_logs"),
    }

    gcp_project: OptionalText = Field(default=None, alias=GCP_PROJECT_KEY, validate_default=True)
    bucket_name: OptionalText = None
    existing_bucket: OptionalText = None
    location: OptionalText = None
    # After location, so its validator sees the bucket's location.
    kms_key_name: OptionalText = None
    workload_identity_pool_id: OptionalText = None
    workload_identity_provider_id: OptionalText = None
    service_account_id: OptionalText = None
    # false: the project's services are the platform team's (enabled centrally, serviceusage denied to deployers).
    manage_apis: FlagOn = True

    @field_validator("gcp_project")
    @classmethod
    def _gcp_project(cls, value: Optional[str], info: ValidationInfo) -> Optional[str]:
        project = required_for(value, info, _PROVIDERS, "the project id the bucket and trust are created in")
        if project is None:
            return value
        return checked(project, gcp_project_id_problem, f"expected {GCP_PROJECT_RULES}")

    @field_validator("bucket_name", "existing_bucket")
    @classmethod
    def _gcs_bucket(cls, value: Optional[str], info: ValidationInfo) -> Optional[str]:
        if value is None or info.data.get("provider") not in _PROVIDERS:
            return value
        checked(value, gcs_bucket_name_problem, _BUCKET_EXPECTED)
        if info.field_name == "bucket_name" and "." in value:
            # Google creates a dotted name only for someone who has verified the domain it reads as.
            raise ValueError(
                "has dots, so Google creates it only for a verified owner of that domain (Search Console), and "
                "`pulumi up` would fail after the rest is built; use hyphens instead (e.g. "
                f"{value.replace('.', '-')!r}), or create it yourself and name it with existingBucket"
            )
        return value

    @field_validator("location")
    @classmethod
    def _location(cls, value: Optional[str], info: ValidationInfo) -> Optional[str]:
        # Google reports locations in upper case and takes them in any.
        if value is None or info.data.get("provider") not in _PROVIDERS or value.lower() in _LOCATIONS:
            return value
        raise ValueError(
            f"is not a Cloud Storage location{did_you_mean(value.lower(), _LOCATIONS)}; expected a multi-region "
            f"({', '.join(GCS_MULTI_REGIONS)}), a dual-region ({', '.join(GCS_DUAL_REGIONS)}) or a region such as "
            f"us-central1 (the kit's list is from {GCS_LOCATIONS_AS_OF}: https://cloud.google.com/storage/docs/locations)"
        )

    @field_validator("kms_key_name")
    @classmethod
    def _kms_key_name(cls, value: Optional[str], info: ValidationInfo) -> Optional[str]:
        if value is None or info.data.get("provider") not in _PROVIDERS:
            return value
        checked(value, gcp_policy.kms_key_name_problem, f"expected {gcp_policy.KMS_KEY_NAME_FORM}")
        # Beside an existing bucket it is refused as ignored; a bad location is reported on its own key.
        if info.data.get("existing_bucket") or "location" not in info.data:
            return value
        bucket_location = info.data["location"] or gcp_policy.DEFAULT_LOCATION
        key_location = gcp_policy.kms_key_location(value)
        allowed = gcp_policy.kms_locations_for(bucket_location)
        if key_location not in allowed:
            raise ValueError(
                f"is a key in {key_location!r}, but {NAMESPACE}:location puts the bucket in {bucket_location}; Cloud Storage "
                f"takes a default key from the bucket's own location: expected a key ring in {' or '.join(map(repr, allowed))}"
            )
        return value

    @field_validator(*_ID_RULES)
    @classmethod
    def _id(cls, value: Optional[str], info: ValidationInfo) -> Optional[str]:
        return checked_name(_ID_RULES, value, info)

    def key_problems(self) -> list[tuple[str, str]]:
        # Called on the whole stack's settings, which carry the shared keys too.
        immutable_days, noncurrent_days = (getattr(self, k, None) for k in ("immutable_days", "noncurrent_version_days"))
        if immutable_days is None or noncurrent_days is None or self.existing_bucket:
            return []  # beside an existing bucket both are refused as ignored already
        return [(
            qualified("noncurrentVersionDays"),
            f"cannot be used with {qualified('immutableDays')} on gcs: Cloud Storage refuses Object Versioning on a bucket with a "
            "retention policy, so the kit turns versioning off and no recording ever becomes a noncurrent version (versions left "
            f"from before are deleted after {DEFAULT_NONCURRENT_VERSION_DAYS} days); remove one of the two",
        )]

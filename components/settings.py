"""The stack configuration schema, and the one readable RunError a bad stack gets.

Every key is validated here, before `__main__.py` registers any resource. Keys live in the
`tavus-recording:` namespace (declared in Pulumi.yaml); provider keys such as `aws:region` keep
their own namespace. Pulumi hands a program every declared key, defaults included, so an optional
key's "absent" is its Pulumi.yaml default: "" for text, 0 for a number of days and {} for `tags`. The
kit's own defaults (30 days, `US`, `recordings`, ...) are applied by the components, so a key the user
did not set is never mistaken for one they did.
"""

from __future__ import annotations

import difflib
import json
import re
from functools import lru_cache
from urllib.parse import urlsplit
from typing import Annotated, Any, Mapping, Optional, TypeVar

import pulumi
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from components.naming import (
    CONTAINER_RULES,
    GCP_PROJECT_RULES,
    GCS_BUCKET_RULES,
    RESOURCE_GROUP_RULES,
    S3_BUCKET_RULES,
    SERVICE_ACCOUNT_ID_RULES,
    STORAGE_ACCOUNT_RULES,
    WORKLOAD_ID_RULES,
    container_name_problem,
    gcp_project_id_problem,
    gcs_bucket_name_problem,
    resource_group_name_problem,
    s3_bucket_name_problem,
    s3_existing_bucket_name_problem,
    service_account_id_problem,
    storage_account_name_problem,
    workload_identity_id_problem,
)
from components.tags import TAGS_PROBLEM, with_default
from components.tavus import DEFAULT_EXTERNAL_ID, PROVIDERS, Provider

NAMESPACE = "tavus-recording"
AWS_REGION_KEY = "aws:region"
GCP_PROJECT_KEY = "gcp:project"
AZURE_LOCATION_KEY = "azure-native:location"
# Provider keys this kit reads; everything else outside our namespace is Pulumi's business.
PROVIDER_KEYS = (AWS_REGION_KEY, GCP_PROJECT_KEY, AZURE_LOCATION_KEY)

# Regions outside the standard partition cannot trust an account that lives in it.
_OTHER_PARTITION_PREFIXES = ("cn-", "us-gov-", "us-iso", "eu-isoe-", "eusc-")
_KMS_KEY_ARN = re.compile(
    r"^arn:aws:kms:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):key/"
    r"(?:mrk-[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$"
)
_EXTERNAL_ID = re.compile(r"^[\w+=,.@:/-]{2,1224}$", re.ASCII)
# GCS multi-regions and predefined dual-regions, or a region such as us-central1.
_GCS_LOCATION = re.compile(r"^(?:US|EU|ASIA|NAM4|EUR4|EUR5|EUR7|EUR8|ASIA1|[a-z]+-[a-z]+[0-9]+)$", re.IGNORECASE)
_AZURE_LOCATION = re.compile(r"^[a-z][a-z0-9]+$")
# Google caps the mapped google.subject at 127 bytes; Entra caps a federated subject at 600.
_MAX_SUBJECT_BYTES = {"gcs": 127, "azure_blob": 600}


_FEDERATED = ("gcs", "azure_blob")
_FROM_TAVUS = "Tavus's recording guide gives it (GCS and Azure tabs)"


def _required(value: Optional[str], info: ValidationInfo, providers: tuple[str, ...], what: str) -> Optional[str]:
    """A provider-specific key's value to check (it applies here and is set), or None where it does not
    apply; unset where it applies is an error."""
    provider = info.data.get("provider")
    if provider not in providers:
        return None
    if value is None:
        raise ValueError(f"is required for provider {provider}: {what}")
    return value


def _checked(value: str, problem_of: Any, expected: str) -> str:
    problem = problem_of(value)
    if problem:
        raise ValueError(f"{problem}; {expected}")
    return value


def _blank_is_absent(value: Any) -> Any:
    return None if value == "" else value


def _zero_is_absent(value: Any) -> Any:
    return None if value in (0, "0", "") else value


def _external_id(value: str) -> str:
    if not _EXTERNAL_ID.match(value):
        raise ValueError(
            "is not a valid ExternalId; expected 2-1224 characters of letters, digits and + = , . @ : / - _ "
            f"(Tavus's guide uses '{DEFAULT_EXTERNAL_ID}')"
        )
    return value


def _tags_object(value: Any) -> Any:
    """Pulumi hands an object-typed key over as JSON text; tags are strings to strings."""
    if value in (None, ""):
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            value = None
    if not isinstance(value, dict):
        raise ValueError("is not an object; expected keys and values that are strings, e.g. {team: recordings}")
    for key, tag in value.items():
        if not isinstance(tag, str):
            raise ValueError(f"has {key!r} set to {tag!r}; expected a string (quote it in the stack file)")
    return value


OptionalText = Annotated[Optional[str], BeforeValidator(_blank_is_absent)]
DayCount = Annotated[Optional[Annotated[int, Field(ge=1)]], BeforeValidator(_zero_is_absent)]

# Names the kit creates, by settings field: what is wrong with one, and the rules to quote.
_NAME_RULES = {
    "workload_identity_pool_id": (workload_identity_id_problem, WORKLOAD_ID_RULES),
    "workload_identity_provider_id": (workload_identity_id_problem, WORKLOAD_ID_RULES),
    "service_account_id": (service_account_id_problem, SERVICE_ACCOUNT_ID_RULES),
    "storage_account": (storage_account_name_problem, STORAGE_ACCOUNT_RULES),
    "existing_storage_account": (storage_account_name_problem, STORAGE_ACCOUNT_RULES),
    "container": (container_name_problem, CONTAINER_RULES),
    "existing_container": (container_name_problem, CONTAINER_RULES),
    "resource_group_name": (resource_group_name_problem, RESOURCE_GROUP_RULES),
}


_GCS_BUCKET_NAME = (gcs_bucket_name_problem, f"a Cloud Storage bucket name is {GCS_BUCKET_RULES}")
# Bucket names by settings field and provider: what is wrong with one, and what is expected.
_BUCKET_NAME_RULES = {
    "bucket_name": {"s3": (s3_bucket_name_problem, f"an S3 bucket name is {S3_BUCKET_RULES}"), "gcs": _GCS_BUCKET_NAME},
    # Old us-east-1 buckets may keep names S3 no longer lets anyone create.
    "existing_bucket": {"s3": (s3_existing_bucket_name_problem, "expected the name of an existing S3 bucket"), "gcs": _GCS_BUCKET_NAME},
}


class StackSettings(BaseModel):
    """One stack's configuration, by its config key names (the aliases)."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, alias_generator=to_camel, populate_by_name=False
    )

    provider: Provider
    aws_region: OptionalText = Field(default=None, alias=AWS_REGION_KEY, validate_default=True)
    gcp_project: OptionalText = Field(default=None, alias=GCP_PROJECT_KEY, validate_default=True)
    azure_location: OptionalText = Field(default=None, alias=AZURE_LOCATION_KEY, validate_default=True)
    bucket_name: OptionalText = None
    existing_bucket: OptionalText = None
    retention_days: DayCount = None
    noncurrent_version_days: DayCount = None
    external_id: Annotated[str, AfterValidator(_external_id)] = DEFAULT_EXTERNAL_ID
    kms_key_arn: OptionalText = None
    location: OptionalText = None
    storage_account: OptionalText = None
    existing_storage_account: OptionalText = None
    container: OptionalText = None
    existing_container: OptionalText = None
    resource_group_name: OptionalText = None
    sku_name: OptionalText = None
    tavus_oidc_issuer: OptionalText = Field(default=None, validate_default=True)
    tavus_oidc_subject: OptionalText = Field(default=None, validate_default=True)
    tavus_oidc_audience: OptionalText = None
    workload_identity_pool_id: OptionalText = None
    workload_identity_provider_id: OptionalText = None
    service_account_id: OptionalText = None
    # Last, so the provider and every other key are known when tags are judged by its cloud's rules.
    tags: Annotated[dict[str, str], BeforeValidator(_tags_object)] = Field(default_factory=dict)

    @field_validator("aws_region")
    @classmethod
    def _aws_region(cls, value: Optional[str], info: ValidationInfo) -> Optional[str]:
        checked = _required(value, info, ("s3",), "the region the bucket is created in, e.g. us-east-1")
        if checked is None:
            return value
        if checked.startswith(_OTHER_PARTITION_PREFIXES):
            raise ValueError(
                "is outside the standard AWS partition; Tavus's recording account cannot be trusted "
                "from China, GovCloud or isolated regions"
            )
        regions = aws_regions()
        if checked not in regions:
            raise ValueError(f"is not an AWS region{_did_you_mean(checked, regions)}; expected e.g. us-east-1")
        return checked

    @field_validator("gcp_project")
    @classmethod
    def _gcp_project(cls, value: Optional[str], info: ValidationInfo) -> Optional[str]:
        checked = _required(value, info, ("gcs",), "the project id the bucket and trust are created in")
        if checked is None:
            return value
        return _checked(checked, gcp_project_id_problem, f"expected {GCP_PROJECT_RULES}")

    @field_validator("azure_location")
    @classmethod
    def _azure_location(cls, value: Optional[str], info: ValidationInfo) -> Optional[str]:
        checked = _required(value, info, ("azure_blob",), "the Azure region, e.g. eastus or westeurope")
        if checked is None:
            return value
        if not _AZURE_LOCATION.match(checked):
            normal = re.sub(r"\s+", "", checked.lower())
            raise ValueError(f"is not an Azure region name; expected the short form, e.g. {normal or 'eastus'}")
        return checked

    @field_validator("bucket_name", "existing_bucket")
    @classmethod
    def _bucket(cls, value: Optional[str], info: ValidationInfo) -> Optional[str]:
        rule = _BUCKET_NAME_RULES[str(info.field_name)].get(str(info.data.get("provider")))
        return value if value is None or rule is None else _checked(value, *rule)

    @field_validator("location")
    @classmethod
    def _location(cls, value: Optional[str], info: ValidationInfo) -> Optional[str]:
        if value is not None and info.data.get("provider") == "gcs" and not _GCS_LOCATION.match(value):
            raise ValueError("is not a Cloud Storage location; expected a multi-region (US, EU, ASIA), "
                             "a dual-region (NAM4, EUR4, ...) or a region such as us-central1")
        return value

    @field_validator("tavus_oidc_issuer")
    @classmethod
    def _issuer(cls, value: Optional[str], info: ValidationInfo) -> Optional[str]:
        checked = _required(value, info, _FEDERATED, _FROM_TAVUS)
        if checked is None:
            return value
        # Kept exactly as given: it must equal the `iss` claim of Tavus's tokens, so no normalizing.
        url = urlsplit(checked)
        if url.scheme != "https" or not url.hostname or url.query or url.fragment or any(c.isspace() for c in checked):
            raise ValueError(f"is not an https issuer URL; expected e.g. https://issuer.example.com ({_FROM_TAVUS})")
        return checked

    @field_validator("tavus_oidc_subject")
    @classmethod
    def _subject(cls, value: Optional[str], info: ValidationInfo) -> Optional[str]:
        checked = _required(value, info, _FEDERATED, _FROM_TAVUS)
        if checked is None:
            return value
        limit = _MAX_SUBJECT_BYTES[info.data["provider"]]
        if len(checked.encode()) > limit or not checked.isprintable():
            raise ValueError(f"is not a usable subject; expected at most {limit} bytes of printable text")
        return checked

    @field_validator("sku_name")
    @classmethod
    def _sku(cls, value: Optional[str], info: ValidationInfo) -> Optional[str]:
        if value is None or info.data.get("provider") != "azure_blob":
            return value
        skus = azure_standard_skus()
        if value not in skus:
            raise ValueError(f"is not a standard storage SKU{_did_you_mean(value, skus)}; expected one of {', '.join(skus)}")
        return value

    @field_validator("kms_key_arn")
    @classmethod
    def _kms_key_arn(cls, value: Optional[str], info: ValidationInfo) -> Optional[str]:
        if value is None:
            return value
        if ":alias/" in value:
            raise ValueError("is an alias ARN; IAM grants need the key ARN (arn:aws:kms:<region>:<account>:key/<key-id>)")
        match = _KMS_KEY_ARN.match(value)
        if not match:
            raise ValueError("is not a KMS key ARN; expected arn:aws:kms:<region>:<account>:key/<key-id>")
        region = info.data.get("aws_region")
        # An existing bucket's region is looked up at deploy time, so only a created bucket is checked here.
        if region and match["region"] != region and not info.data.get("existing_bucket"):
            raise ValueError(
                f"is in {match['region']} but the bucket is in {region}; SSE-KMS needs a key in the bucket's region"
            )
        return value

    @field_validator(*list(_NAME_RULES))
    @classmethod
    def _name(cls, value: Optional[str], info: ValidationInfo) -> Optional[str]:
        # pydantic always names the field it validates (field_name is Optional only for model validators).
        problem_of, rules = _NAME_RULES[str(info.field_name)]
        return value if value is None else _checked(value, problem_of, f"expected {rules}")

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        provider = info.data.get("provider")
        problem = TAGS_PROBLEM[provider](with_default(value)) if provider in TAGS_PROBLEM else None
        if problem:
            raise ValueError(problem)
        return value

    def _is_set(self, name: str) -> bool:
        return getattr(self, name) != type(self).model_fields[name].get_default(call_default_factory=True)

    @model_validator(mode="after")
    def _keys_make_sense_together(self) -> "StackSettings":
        # A value for another cloud is a mistake worth stopping for (e.g. `location` meant as the AWS
        # region), and so is one that an existing bucket would silently ignore; keys left at their
        # Pulumi.yaml default are fine.
        problems = [
            _misplaced(name, providers, self.provider)
            for name, providers in KEY_PROVIDERS.items()
            if self.provider not in providers and self._is_set(name)
        ]
        for existing, ignored in _IGNORED_BESIDE.items():
            if self._is_set(existing):
                problems += [
                    _ignored(name, existing)
                    for name in ignored
                    if self._is_set(name) and self.provider in KEY_PROVIDERS.get(name, PROVIDERS)
                ]
        if self.provider == "azure_blob":
            problems += [
                _needed(name, with_key)
                for name, with_key in _NEEDED_WITH
                if self._is_set(with_key) and not self._is_set(name)
            ]
        if problems:
            raise _KeyProblems(problems)
        return self


# Which providers each provider-specific key applies to; the rest apply to all.
KEY_PROVIDERS: dict[str, tuple[str, ...]] = {
    "bucket_name": ("s3", "gcs"),
    "existing_bucket": ("s3", "gcs"),
    "external_id": ("s3",),
    "kms_key_arn": ("s3",),
    "location": ("gcs",),
    "workload_identity_pool_id": ("gcs",),
    "workload_identity_provider_id": ("gcs",),
    "service_account_id": ("gcs",),
    "storage_account": ("azure_blob",),
    "existing_storage_account": ("azure_blob",),
    "container": ("azure_blob",),
    "existing_container": ("azure_blob",),
    "resource_group_name": ("azure_blob",),
    "sku_name": ("azure_blob",),
    "tavus_oidc_issuer": ("gcs", "azure_blob"),
    "tavus_oidc_subject": ("gcs", "azure_blob"),
    "tavus_oidc_audience": ("gcs", "azure_blob"),
}


# `location` is GCS's; on the other clouds the region has its own provider key.
_REGION_HINTS = {"s3": f" (the region is {AWS_REGION_KEY})", "azure_blob": f" (the region is {AZURE_LOCATION_KEY})"}


# Keys that shape storage the kit creates, which an existing bucket or account would silently ignore.
# kmsKeyArn stays allowed beside an existing S3 bucket: the role still needs the grant on its key.
_IGNORED_BESIDE: dict[str, tuple[str, ...]] = {
    "existing_bucket": ("bucket_name", "location", "retention_days", "noncurrent_version_days"),
    "existing_storage_account": ("storage_account", "sku_name", "container", "retention_days", "noncurrent_version_days"),
}
# (key, the key it is required with): an existing Azure container is named by group, account and container.
_NEEDED_WITH = (
    ("existing_container", "existing_storage_account"),
    ("existing_storage_account", "existing_container"),
    ("resource_group_name", "existing_storage_account"),
)
_EXISTING_WHAT = {"existing_bucket": "bucket", "existing_storage_account": "storage account"}


def _misplaced(name: str, providers: tuple[str, ...], provider: str) -> tuple[str, str]:
    return (
        config_key(name),
        f"applies only to provider {' or '.join(providers)}, but this stack's provider is {provider}; "
        "remove it from the stack" + (_REGION_HINTS.get(provider, "") if name == "location" else ""),
    )


def _ignored(name: str, existing: str) -> tuple[str, str]:
    what = _EXISTING_WHAT[existing]
    return (
        config_key(name),
        f"cannot be used with {config_key(existing)}: with an existing {what} the kit creates no storage and "
        f"changes none of its settings, so this value would be ignored; remove one of the two",
    )


def _needed(name: str, with_key: str) -> tuple[str, str]:
    group, account, container = (config_key(k) for k in ("resource_group_name", "existing_storage_account", "existing_container"))
    return (
        config_key(name),
        f"is required with {config_key(with_key)}: the kit finds an existing container by {group}, {account} and {container}",
    )


class _KeyProblems(ValueError):
    """Problems that involve more than one key, each already worded as (config key, what is wrong)."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("keys that do not go together")
        self.problems = problems


def _qualified(alias: str) -> str:
    return alias if ":" in alias else f"{NAMESPACE}:{alias}"


def _bare(key: str) -> str:
    return key.removeprefix(f"{NAMESPACE}:")


ArgsT = TypeVar("ArgsT")


def args_for(settings: StackSettings, args_type: type[ArgsT]) -> ArgsT:
    """A component's args (a TypedDict whose keys are settings fields) from the settings that are set."""
    values = {key: getattr(settings, key) for key in args_type.__annotations__}
    return args_type(**{key: value for key, value in values.items() if value is not None})


def config_key(field_name: str) -> str:
    """The full config key of a settings field, e.g. `tavus-recording:bucketName`."""
    return _qualified(StackSettings.model_fields[field_name].alias or to_camel(field_name))


def known_keys() -> list[str]:
    """Every config key this kit reads, fully qualified."""
    return [config_key(name) for name in StackSettings.model_fields]


@lru_cache(maxsize=1)
def aws_regions() -> tuple[str, ...]:
    """The standard-partition regions pulumi-aws knows, from its own Region enum."""
    # Imported here so GCS and Azure stacks never load the AWS SDK.
    import pulumi_aws

    return tuple(r.value for r in pulumi_aws.Region if not r.value.startswith(_OTHER_PARTITION_PREFIXES))


@lru_cache(maxsize=1)
def azure_standard_skus() -> tuple[str, ...]:
    """The Standard general-purpose v2 SKUs, from azure-native's own SkuName enum."""
    # Imported here so S3 and GCS stacks never load the Azure SDK.
    from pulumi_azure_native.storage import SkuName

    return tuple(sku.value for sku in SkuName if sku.value.startswith("Standard_"))


def _closest(word: str, candidates: Any) -> Optional[str]:
    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return close[0] if close else None


def _did_you_mean(word: str, candidates: Any) -> str:
    close = _closest(word, candidates)
    return f" (did you mean '{close}'?)" if close else ""


def _problem(error: Mapping[str, Any]) -> tuple[str, str]:
    """(config key, what is wrong) for one pydantic error."""
    loc = str(error["loc"][0]) if error["loc"] else "provider"
    # pydantic reports a field by its alias, or by its name when a default was validated.
    key = config_key(loc) if loc in StackSettings.model_fields else _qualified(loc)
    kind = error["type"]
    found = error.get("input")
    if kind == "extra_forbidden":
        bare = {_bare(known): known for known in known_keys()}
        close = _closest(loc, bare)
        suggestion = f" (did you mean '{bare[close]}'?)" if close else ""
        return key, f"is not a key this kit knows{suggestion}; the keys are listed in Pulumi.yaml"
    if kind == "missing":
        return key, f"is required: one of {', '.join(PROVIDERS)}"
    if kind == "literal_error":
        return key, f"is {found!r}; expected one of {', '.join(PROVIDERS)}"
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return key, f"is {found!r}; expected a whole number of days"
    if kind == "greater_than_equal":
        return key, f"is {found!r}; expected a whole number of days, at least {error['ctx']['ge']}"
    message = str(error["ctx"]["error"]) if kind == "value_error" else error["msg"]
    # Tags name the offending tag themselves; their JSON text would only be noise.
    return key, message if found in (None, "") or loc == "tags" else f"{found!r} {message}"


def _problems(exc: ValidationError) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    for error in exc.errors():
        cause = (error.get("ctx") or {}).get("error")
        if isinstance(cause, _KeyProblems):
            problems.extend(cause.problems)
        else:
            problems.append(_problem(error))
    return problems


def parse_settings(config: Mapping[str, Any]) -> StackSettings:
    """Validate a Pulumi config map (full keys to values) into settings, or raise one RunError."""
    prefix = f"{NAMESPACE}:"
    values = {key[len(prefix):]: value for key, value in config.items() if key.startswith(prefix)}
    values.update({key: config[key] for key in PROVIDER_KEYS if key in config})
    try:
        return StackSettings.model_validate(values)
    except ValidationError as exc:
        lines = "\n".join(f"  - {key}: {what}" for key, what in _problems(exc))
        raise pulumi.RunError(
            f"invalid stack configuration:\n{lines}\n"
            "Fix it with `pulumi config set <key> <value>` (or in stacks/Pulumi.<stack>.yaml); "
            "README.md describes every key."
        ) from None


def current_config() -> dict[str, Any]:
    """The config map Pulumi gave this program (the engine's PULUMI_CONFIG, plus any set in-process)."""
    from pulumi.runtime import config as runtime_config

    return {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}


def load_settings() -> StackSettings:
    """This stack's settings, read once at the program's edge."""
    return parse_settings(current_config())

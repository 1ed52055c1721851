"""The keys of an Azure Blob stack, and what Azure accepts for each."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import ClassVar, Optional

from pydantic import Field, ValidationInfo, field_validator
from pydantic.alias_generators import to_camel

from components import azure_policy
from components.locations import AZURE_LOCATIONS, AZURE_LOCATIONS_AS_OF
from components.naming import (
    CONTAINER_RULES,
    RESOURCE_GROUP_RULES,
    STORAGE_ACCOUNT_RULES,
    container_name_problem,
    resource_group_name_problem,
    storage_account_name_problem,
)
from components.settings.common import NameRules, OptionalText, SettingsBase, checked, checked_name, did_you_mean, qualified, required_for

AZURE_LOCATION_KEY = "azure-native:location"
# Names the kit creates or looks up, by settings field: what is wrong with one, and the rules to quote.
_NAME_RULES: NameRules = {
    "storage_account": (storage_account_name_problem, STORAGE_ACCOUNT_RULES),
    "existing_storage_account": (storage_account_name_problem, STORAGE_ACCOUNT_RULES),
    "container": (container_name_problem, CONTAINER_RULES),
    "existing_container": (container_name_problem, CONTAINER_RULES),
    "resource_group_name": (resource_group_name_problem, RESOURCE_GROUP_RULES),
}
# (key, the key it is required with): an existing container is named by group, account and container.
_NEEDED_WITH = (
    ("existing_container", "existing_storage_account"),
    ("existing_storage_account", "existing_container"),
    ("resource_group_name", "existing_storage_account"),
)


@lru_cache(maxsize=1)
def azure_standard_skus() -> tuple[str, ...]:
    """The Standard general-purpose v2 SKUs, from azure-native's own SkuName enum."""
    # Imported here so S3 and GCS stacks never load the Azure SDK.
    from pulumi_azure_native.storage import SkuName

    return tuple(sku.value for sku in SkuName if sku.value.startswith("Standard_"))


def _key(field_name: str) -> str:
    return qualified(to_camel(field_name))


# Validators name the module's own providers: pydantic binds them to the composed model's class.
_PROVIDERS = ("azure_blob",)

class AzureSettings(SettingsBase):
    PROVIDERS: ClassVar[tuple[str, ...]] = _PROVIDERS
    REGION_KEY: ClassVar[str] = AZURE_LOCATION_KEY
    # Keys that shape storage the kit creates, which an existing account would silently ignore.
    IGNORED_BESIDE: ClassVar[dict[str, tuple[str, ...]]] = {
        "existing_storage_account": ("storage_account", "sku_name", "container", "retention_days", "noncurrent_version_days", "cold_after_days",
                                     # An existing account keeps its own encryption: the kit changes none of its settings.
                                     "key_vault_key_uri", "immutable_days", "immutable_mode", "audit_logs"),
    }

    azure_location: OptionalText = Field(default=None, alias=AZURE_LOCATION_KEY, validate_default=True)
    storage_account: OptionalText = None
    existing_storage_account: OptionalText = None
    container: OptionalText = None
    existing_container: OptionalText = None
    resource_group_name: OptionalText = None
    sku_name: OptionalText = None
    key_vault_key_uri: OptionalText = None

    @field_validator("key_vault_key_uri")
    @classmethod
    def _key_vault_key_uri(cls, value: Optional[str], info: ValidationInfo) -> Optional[str]:
        if value is None or info.data.get("provider") not in _PROVIDERS:
            return value
        return checked(value, azure_policy.key_vault_key_problem, f"expected {azure_policy.KEY_VAULT_KEY_URI_FORM}")

    @field_validator("azure_location")
    @classmethod
    def _azure_location(cls, value: Optional[str], info: ValidationInfo) -> Optional[str]:
        location = required_for(value, info, _PROVIDERS, "the Azure region, e.g. eastus or westeurope")
        if location is None or location in AZURE_LOCATIONS:
            return location
        # `West Europe` is the display name of `westeurope`.
        normal = re.sub(r"\s+", "", location.lower())
        suggestion = normal if normal in AZURE_LOCATIONS else None
        hint = f" (did you mean '{suggestion}'?)" if suggestion else did_you_mean(normal, AZURE_LOCATIONS)
        raise ValueError(
            f"is not an Azure region{hint}; expected a public-cloud region's short name, e.g. eastus or westeurope "
            f"(`az account list-locations -o table`; the kit's list is from {AZURE_LOCATIONS_AS_OF})"
        )

    @field_validator(*_NAME_RULES)
    @classmethod
    def _name(cls, value: Optional[str], info: ValidationInfo) -> Optional[str]:
        return checked_name(_NAME_RULES, value, info)

    @field_validator("sku_name")
    @classmethod
    def _sku(cls, value: Optional[str], info: ValidationInfo) -> Optional[str]:
        if value is None or info.data.get("provider") not in _PROVIDERS:
            return value
        skus = azure_standard_skus()
        if value not in skus:
            raise ValueError(f"is not a standard storage SKU{did_you_mean(value, skus)}; expected one of {', '.join(skus)}")
        return value

    def key_problems(self) -> list[tuple[str, str]]:
        group, account, container = (_key(k) for k in ("resource_group_name", "existing_storage_account", "existing_container"))
        return [
            (
                _key(name),
                f"is required with {_key(with_key)}: the kit finds an existing container by {group}, {account} and {container}",
            )
            for name, with_key in _NEEDED_WITH
            if getattr(self, with_key) is not None and getattr(self, name) is None
        ]

"""The stack configuration schema: common keys in `common`, each cloud's in its own module
(`aws`, `gcp`, `azure`, and `federation` for the token GCS and Azure trust), composed and judged
together in `stack`. A bad stack gets one RunError naming every bad key.
"""

from components.settings.aws import AWS_REGION_KEY, aws_regions
from components.settings.azure import AZURE_LOCATION_KEY, azure_standard_skus
from components.settings.common import NAMESPACE
from components.settings.gcp import GCP_PROJECT_KEY
from components.settings.stack import (
    KEY_PROVIDERS,
    PROVIDER_KEYS,
    PROVIDER_SETTINGS,
    StackSettings,
    args_for,
    config_key,
    current_config,
    known_keys,
    load_settings,
    parse_settings,
    secret_fields,
)

__all__ = [
    "AWS_REGION_KEY",
    "AZURE_LOCATION_KEY",
    "GCP_PROJECT_KEY",
    "KEY_PROVIDERS",
    "NAMESPACE",
    "PROVIDER_KEYS",
    "PROVIDER_SETTINGS",
    "StackSettings",
    "args_for",
    "aws_regions",
    "azure_standard_skus",
    "config_key",
    "current_config",
    "known_keys",
    "load_settings",
    "parse_settings",
    "secret_fields",
]

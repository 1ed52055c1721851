"""Stack config maps as the Pulumi CLI would pass them, from the example stack files."""

from __future__ import annotations

from tavus_recording.stack_files import load_stack_config


def stack_config(stack: str, **overrides: str) -> dict[str, str]:
    """A stack file's config map with keys overridden (bare names are `tavus-recording:` keys)."""
    config = dict(load_stack_config(stack).config)
    for key, value in overrides.items():
        config[key if ":" in key else f"tavus-recording:{key}"] = value
    return config


def s3_config(**overrides: str) -> dict[str, str]:
    """The `dev` stack (S3) with overrides."""
    return stack_config("dev", **overrides)


def gcs_config(**overrides: str) -> dict[str, str]:
    """The `gcs` example stack with overrides."""
    return stack_config("gcs", **overrides)


def azure_config(**overrides: str) -> dict[str, str]:
    """The `azure` example stack with overrides."""
    return stack_config("azure", **overrides)

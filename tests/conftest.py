"""Shared fixtures: stack config maps as the Pulumi CLI would pass them."""

from __future__ import annotations

import pytest

from components.stack_files import load_stack_config


def s3_config(**overrides: str) -> dict[str, str]:
    """The `dev` stack's config map with `tavus-recording:` keys overridden (camelCase names)."""
    config = dict(load_stack_config("dev").config)
    for key, value in overrides.items():
        config[key if ":" in key else f"tavus-recording:{key}"] = value
    return config


@pytest.fixture
def dev_config() -> dict[str, str]:
    return s3_config()

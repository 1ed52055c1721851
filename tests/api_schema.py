"""Tavus's published OpenAPI for POST /v2/conversations (shared/seeds/002), for tests to validate against."""

from __future__ import annotations

import functools
import re
from typing import Any

import yaml
from jsonschema import Draft7Validator

from components.stack_files import PROJECT_DIR

SEEDS = PROJECT_DIR.parent / "shared" / "seeds"


@functools.cache
def openapi() -> dict[str, Any]:
    """The OpenAPI document embedded in the create-conversation reference page."""
    pages = sorted(SEEDS.glob("002_*.txt"))
    # CI clones the project with shared/ beside it; a lone clone has no seeds to test against.
    assert pages, f"Tavus's API reference (seeds/002_*.txt) is not in {SEEDS}: check out shared/ beside the project"
    page = pages[0]
    match = re.search(r"^````yaml[^\n]*\n(.*?)^````", page.read_text(), re.S | re.M)
    assert match, f"no OpenAPI block in {page}"
    return yaml.safe_load(match.group(1))


def request_validator() -> Draft7Validator:
    """Validates a create-conversation request body; `$ref`s resolve inside the document."""
    spec = openapi()
    body = spec["paths"]["/v2/conversations"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    return Draft7Validator({**body, "components": spec["components"]})


def recording_storage_fields() -> set[str]:
    return set(openapi()["components"]["schemas"]["recording_storage_config"]["properties"])

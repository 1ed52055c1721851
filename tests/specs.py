"""The third-party specifications the tests validate against, from tests/fixtures/ (see its README)."""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any

from jsonschema import Draft7Validator

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def _load(name: str) -> dict[str, Any]:
    # Go's named groups `(?<name>...)` are Python's `(?P<name>...)`.
    return json.loads(re.sub(r"\(\?<(?=[A-Za-z_])", "(?P<", (FIXTURES / name).read_text()))


@functools.cache
def tavus_request_schema() -> dict[str, Any]:
    """POST /v2/conversations' request body; its `$ref`s resolve inside the document."""
    return _load("tavus-create-conversation.request.json")


def request_validator() -> Draft7Validator:
    """Validates a create-conversation request body."""
    return Draft7Validator(tavus_request_schema())


def recording_storage_fields() -> set[str]:
    return set(tavus_request_schema()["components"]["schemas"]["recording_storage_config"]["properties"])


def package_metaschema() -> dict[str, Any]:
    """Pulumi's package metaschema (JSON Schema 2020-12)."""
    return _load("pulumi-package.schema.json")


def project_metaschema() -> dict[str, Any]:
    """Pulumi's project metaschema: Pulumi.yaml, its config declarations and template section."""
    return _load("pulumi-project.schema.json")

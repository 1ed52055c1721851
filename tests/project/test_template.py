"""Pulumi.yaml as a `pulumi new` template: a valid project whose prompts lead to a stack that builds.

There is no Pulumi CLI here, so `pulumi new` is stood in for by what it does with the template
(pulumi/pulumi pkg/cmd/pulumi/newcmd/config.go): ask each template key, sorted by namespace then
name, take the answer or the default, and save only non-empty values to the new stack's file.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, Mapping

import pytest
import yaml
from jsonschema.validators import validator_for
from specs import project_metaschema

from components import tavus
from tavus_recording.mock_engine import run_program
from components.settings import known_keys
from tavus_recording.stack_files import PROJECT_DIR, load_stack_config
from tavus_recording.new_stack import PROVIDER_KEY, REQUIRED_KEYS

PROJECT = yaml.safe_load((PROJECT_DIR / "Pulumi.yaml").read_text())
TEMPLATE = PROJECT["template"]


def project_validator() -> Any:
    schema = project_metaschema()
    return validator_for(schema)(schema)


def test_pulumi_yaml_is_a_valid_project_with_a_template():
    validator = project_validator()
    assert [error.message for error in validator.iter_errors(PROJECT)] == []
    assert TEMPLATE["displayName"] and TEMPLATE["description"]
    # The metaschema really checks the template section: a misspelt field is refused.
    broken = {**PROJECT, "template": {**TEMPLATE, "configs": TEMPLATE["config"]}}
    assert not validator.is_valid(broken)


def test_the_template_asks_for_the_provider_first_with_a_valid_default():
    key, prompt = next(iter(TEMPLATE["config"].items()))
    assert key == PROVIDER_KEY
    assert prompt["default"] in tavus.PROVIDERS
    assert all(provider in prompt["description"] for provider in tavus.PROVIDERS)


def test_every_template_key_is_a_key_the_kit_reads():
    assert set(TEMPLATE["config"]) <= set(known_keys())


def test_every_prompt_is_described_and_defaults_are_text():
    for key, prompt in TEMPLATE["config"].items():
        assert prompt["description"].strip(), key
        # Pulumi reads a template default into a string; a YAML number would not load.
        assert isinstance(prompt.get("default", ""), str), key
    assert TEMPLATE["config"]["aws:region"]["default"] == "us-east-1"


@pytest.mark.parametrize("provider", tavus.PROVIDERS)
def test_the_template_asks_for_what_each_provider_requires_and_says_for_which(provider):
    # Pulumi asks in key order (aws:, azure-native:, gcp:, then ours), not file order, so each
    # cloud's question must say which provider it is for.
    for key in REQUIRED_KEYS[provider]:
        assert key in TEMPLATE["config"], key
        assert provider in TEMPLATE["config"][key]["description"], key


def pulumi_new_config(answers: Mapping[str, str]) -> dict[str, str]:
    """The stack config `pulumi new` saves: each key's answer or default; empty values are not saved."""
    config: dict[str, str] = {}
    for key in sorted(TEMPLATE["config"], key=lambda k: tuple(k.split(":", 1))):
        value = answers.get(key, TEMPLATE["config"][key].get("default", ""))
        if value:
            config[key] = value
    return config


def new_project(tmp_path: Path, config: Mapping[str, str]) -> Path:
    """A project as `pulumi new` leaves it: the kit's files and a new stack `prod` with `config`."""
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(PROJECT_DIR / name, tmp_path / name)
    (tmp_path / "stacks").mkdir()
    (tmp_path / "stacks" / "Pulumi.prod.yaml").write_text(yaml.safe_dump({"config": dict(config)}))
    return tmp_path


FEDERATION = {
    "tavus-recording:tavusOidcIssuer": "https://issuer.example",
    "tavus-recording:tavusOidcSubject": "tavus-recording-writer",
}


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        # `pulumi new --yes`: every default.
        ({}, {"provider": "s3", "bucket_region": "us-east-1"}),
        ({PROVIDER_KEY: "gcs", "gcp:project": "acme-recordings", **FEDERATION}, {"provider": "gcs", "project_id": "acme-recordings"}),
        ({PROVIDER_KEY: "azure_blob", "azure-native:location": "westeurope", **FEDERATION}, {"provider": "azure_blob", "container": "recordings"}),
    ],
    ids=["defaults", "gcs", "azure"],
)
def test_a_stack_made_from_the_template_builds(tmp_path, answers, expected):
    # aws:region keeps its default on every cloud; it must not get in a GCS or Azure stack's way.
    project_dir = new_project(tmp_path, pulumi_new_config(answers))
    stack = load_stack_config("prod", project_dir)
    outputs = run_program(stack.config, stack="prod", program=project_dir / "__main__.py").outputs
    assert expected.items() <= outputs["recording_storage"].items()
    tavus.ConversationProperties.model_validate(outputs["conversation_properties"])

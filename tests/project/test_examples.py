"""The examples in other Pulumi languages use only what the package schema offers.

No Pulumi CLI here to run `pulumi package add` or generate the TypeScript SDK: instead every type
token, property and output the examples use is checked against the schema the plugin serves, with
the type the SDK would demand, and the projects against Pulumi's project metaschema.
"""

import json
import re
from pathlib import Path
from typing import Any, Optional

import pytest
import yaml
from jsonschema import Draft202012Validator
from specs import project_metaschema

from tavus_recording.package import package_schema
from tavus_recording.stack_files import PROJECT_DIR

EXAMPLES = PROJECT_DIR / "examples"
PROVIDER_DIR = PROJECT_DIR / "provider"
# The JSON types each schema type accepts (TypeScript has one `number` type for both).
ACCEPTS = {
    "string": {"string"},
    "integer": {"integer", "number"},
    "number": {"integer", "number"},
    "boolean": {"boolean"},
    "object": {"object"},
    "array": {"array"},
}


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return package_schema()


def full_token(token: str) -> str:
    # Pulumi YAML accepts `pkg:Type` for `pkg:index:Type`.
    parts = token.split(":")
    return f"{parts[0]}:index:{parts[1]}" if len(parts) == 2 else token


def check_resource(schema: dict[str, Any], token: str, properties: dict[str, Optional[str]]) -> list[str]:
    """What is wrong with creating `token` with these properties (name -> JSON type, None if unknown)."""
    spec = schema["resources"].get(full_token(token))
    if spec is None:
        return [f"{token} is not a resource of the package"]
    inputs = spec["inputProperties"]
    problems = [f"{token}: no input {name}" for name in properties if name not in inputs]
    problems += [
        f"{token}.{name} is {kind}; the schema wants {inputs[name]['type']}"
        for name, kind in properties.items()
        if name in inputs and kind is not None and kind not in ACCEPTS[inputs[name]["type"]]
    ]
    problems += [f"{token}: required input {name} missing" for name in spec.get("requiredInputs", []) if name not in properties]
    return problems


def project_errors(path: Path) -> list[str]:
    project = yaml.safe_load(path.read_text())
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in Draft202012Validator(project_metaschema()).iter_errors(project)]


@pytest.mark.parametrize("example", ["yaml", "typescript"])
def test_example_is_a_valid_project_that_adds_this_package(example):
    path = EXAMPLES / example / "Pulumi.yaml"
    assert project_errors(path) == []
    source = yaml.safe_load(path.read_text())["packages"]["tavus-recording"]
    # The local path `pulumi package add ../../provider` records: this repository's plugin.
    assert (path.parent / source).resolve() == PROVIDER_DIR
    assert (PROVIDER_DIR / "PulumiPlugin.yaml").exists()


# --- Pulumi YAML


def yaml_type(value: Any) -> Optional[str]:
    if isinstance(value, str) and re.fullmatch(r"\$\{[^}]+\}", value):
        return None  # another resource's output: any type
    for kind, python in (("boolean", bool), ("integer", int), ("number", float), ("string", str), ("object", dict), ("array", list)):
        if isinstance(value, python):
            return kind
    return None


def test_yaml_example_creates_one_s3_destination_the_schema_allows(schema):
    program = yaml.safe_load((EXAMPLES / "yaml" / "Pulumi.yaml").read_text())
    ours = {name: r for name, r in program["resources"].items() if r["type"].startswith("tavus-recording:")}
    assert [full_token(r["type"]) for r in ours.values()] == ["tavus-recording:index:S3RecordingStorage"]
    for spec in ours.values():
        properties = {name: yaml_type(value) for name, value in spec.get("properties", {}).items()}
        assert check_resource(schema, spec["type"], properties) == []


def test_yaml_example_exports_recording_storage_from_a_real_output(schema):
    program = yaml.safe_load((EXAMPLES / "yaml" / "Pulumi.yaml").read_text())
    match = re.fullmatch(r"\$\{(\w[\w-]*)\.(\w+)\}", program["outputs"]["recording_storage"])
    assert match, program["outputs"]["recording_storage"]
    resource, output = match.groups()
    token = full_token(program["resources"][resource]["type"])
    assert output in schema["resources"][token]["properties"]


# --- TypeScript

INDEX_TS = EXAMPLES / "typescript" / "index.ts"


def ts_type(expression: str) -> Optional[str]:
    """The JSON type of a TypeScript argument, for the expressions the example uses."""
    patterns = [
        (r'"[^"]*"|\'[^\']*\'|`[^`]*`', "string"),
        (r"\d+", "integer"),
        (r"\d+\.\d+", "number"),
        (r"true|false", "boolean"),
        (r"config\.(require|get)(Secret)?\(.*\)", "string"),
        (r"config\.(require|get)(Secret)?Number\(.*\)", "number"),
        (r"config\.(require|get)(Secret)?Boolean\(.*\)", "boolean"),
    ]
    return next((kind for pattern, kind in patterns if re.fullmatch(pattern, expression)), None)


def ts_resources(source: str) -> list[tuple[str, str, dict[str, str]]]:
    """(variable, class, {property: expression}) of each `const v = new <sdk>.Class("name", {...})`."""
    imported = re.search(r'^import \* as (\w+) from "@pulumi/tavus-recording";$', source, re.M)
    assert imported, "the example does not import the generated SDK"
    alias = imported.group(1)
    found = []
    pattern = rf'const (\w+) = new {alias}\.(\w+)\(\s*"[^"]+",\s*\{{(.*?)\}}\s*\);'
    for variable, cls, body in re.findall(pattern, source, re.S):
        lines = [line.split("//")[0].strip() for line in body.splitlines()]
        pairs = [re.fullmatch(r"(\w+):\s*(.+?),?", line) for line in lines if line]
        assert all(pairs), f"unparsed line in {cls}'s arguments: {lines}"
        found.append((variable, cls, {m.group(1): m.group(2) for m in pairs if m}))
    return found


def test_typescript_example_imports_the_generated_sdk(schema):
    # The Node.js SDK `pulumi package add` generates is `@pulumi/<package name>`, in sdks/<package name>.
    module = f"@pulumi/{schema['name']}"
    assert re.search(rf'^import \* as \w+ from "{module}";$', INDEX_TS.read_text(), re.M)
    package_json = json.loads((EXAMPLES / "typescript" / "package.json").read_text())
    assert package_json["dependencies"][module] == f"file:sdks/{schema['name']}"
    assert "index.ts" in json.loads((EXAMPLES / "typescript" / "tsconfig.json").read_text())["files"]


def test_typescript_example_creates_one_gcs_destination_the_schema_allows(schema):
    resources = ts_resources(INDEX_TS.read_text())
    assert [cls for _, cls, _ in resources] == ["GcsRecordingStorage"]
    for _, cls, arguments in resources:
        kinds = {name: ts_type(expression) for name, expression in arguments.items()}
        assert [name for name, kind in kinds.items() if kind is None] == [], "an argument this test cannot type"
        assert check_resource(schema, f"tavus-recording:index:{cls}", kinds) == []


def test_typescript_example_exports_recording_storage_from_a_real_output(schema):
    source = INDEX_TS.read_text()
    variables = {variable: cls for variable, cls, _ in ts_resources(source)}
    match = re.search(r"^export const recording_storage = (\w+)\.(\w+);$", source, re.M)
    assert match
    variable, output = match.groups()
    assert output in schema["resources"][f"tavus-recording:index:{variables[variable]}"]["properties"]


def test_the_checks_catch_what_the_sdk_would_reject(schema):
    # The checks above can fail: a wrong type, an unknown input and a missing required input.
    assert check_resource(schema, "tavus-recording:S3RecordingStorage", {"retentionDays": "string", "bucketNme": "string"}) == [
        "tavus-recording:S3RecordingStorage: no input bucketNme",
        "tavus-recording:S3RecordingStorage.retentionDays is string; the schema wants integer",
    ]
    assert check_resource(schema, "tavus-recording:index:GcsRecordingStorage", {"tavusOidcIssuer": "string"}) == [
        "tavus-recording:index:GcsRecordingStorage: required input tavusOidcSubject missing"
    ]
    assert check_resource(schema, "tavus-recording:index:Nope", {}) == ["tavus-recording:index:Nope is not a resource of the package"]

"""The component package: the plugin started as the Pulumi CLI starts it, the schema it serves, and
`construct` driven as the engine drives it.

No Pulumi CLI here: the tests make the CLI's calls themselves (start `python provider <engine>`,
read the port, GetSchema over gRPC) and check the schema against Pulumi's own metaschema, which is
what `pulumi package add` validates before generating an SDK.
"""

import json
import sys
import tomllib
from collections.abc import Iterator
from typing import Any

import grpc
import pulumi
import pytest
from google.protobuf import empty_pb2, struct_pb2
from jsonschema import Draft202012Validator
from specs import package_metaschema
from pulumi.errors import InputPropertiesError, InputPropertyError
from pulumi.provider.server import ProviderServicer
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc
from pulumi.runtime.settings import SETTINGS
from pulumi.runtime.sync_await import _sync_await

from bounded_cli import cli_in_process
from tavus_recording.mock_engine import resolve, run_component
from tavus_recording.package import package_schema, provider, schema_json
from tavus_recording.stack_files import PROJECT_DIR
from fakes.plugin_process import plugin_channel as serving_plugin

TOKEN = "tavus-recording:index:{}"
COMPONENTS = ["S3RecordingStorage", "GcsRecordingStorage", "AzureBlobRecordingStorage"]
FEDERATED = ["GcsRecordingStorage", "AzureBlobRecordingStorage"]
# The child resource holding each component's lifecycle, and the argument that carries it.
LIFECYCLE = {
    "S3RecordingStorage": ("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "rules"),
    "GcsRecordingStorage": ("gcp:storage/bucket:Bucket", "lifecycle_rules"),
    "AzureBlobRecordingStorage": ("azure-native:storage:ManagementPolicy", "policy"),
}
FEDERATION_INPUTS = {"tavusOidcIssuer": "https://tokens.tavus.example", "tavusOidcSubject": "tavus-recorder"}
# A URN the engine would list as the input's dependency: the value is another resource's output.
UPSTREAM = "urn:pulumi:test::consumer::random:index/randomInteger:RandomInteger::days"
PLUGIN_START_SECONDS = 30


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return package_schema()


def resource(schema: dict[str, Any], component: str) -> dict[str, Any]:
    return schema["resources"][TOKEN.format(component)]


# --- the plugin, started the CLI's way


@pytest.fixture(scope="module")
def plugin_channel() -> Iterator[grpc.Channel]:
    """`python provider <engine address>` as the language host runs it; yields a channel to its port."""
    # The host only records the engine address at startup (pulumi.provider.server.main); it dials
    # the engine during Construct, which these tests drive in-process instead.
    with serving_plugin([sys.executable, "provider", "127.0.0.1:1"], PROJECT_DIR, PLUGIN_START_SECONDS) as channel:
        yield channel


def test_plugin_started_as_the_cli_does_serves_package_schema(plugin_channel, schema):
    stub = provider_pb2_grpc.ResourceProviderStub(plugin_channel)
    served = stub.GetSchema(provider_pb2.GetSchemaRequest(version=0), timeout=10).schema
    assert json.loads(served) == schema
    assert json.loads(schema_json()) == schema
    # `tavus-recording schema` prints what the plugin serves (in this process: the plugin above is the process of its own).
    printed = cli_in_process("schema")
    assert printed.returncode == 0, printed.stderr
    assert json.loads(printed.stdout) == json.loads(served)


def test_plugin_reports_the_pyproject_version(plugin_channel, schema):
    pyproject = tomllib.loads((PROJECT_DIR / "pyproject.toml").read_text())
    stub = provider_pb2_grpc.ResourceProviderStub(plugin_channel)
    info = stub.GetPluginInfo(empty_pb2.Empty(), timeout=10)
    assert info.version == pyproject["project"]["version"]
    assert (schema["name"], schema["version"]) == ("tavus-recording", pyproject["project"]["version"])


# --- the schema


def _drop_nulls(value: Any) -> Any:
    # The CLI unmarshals into Go structs with omitempty, so a null is as good as absent.
    if isinstance(value, dict):
        return {k: _drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_nulls(v) for v in value]
    return value


def test_schema_passes_pulumis_package_metaschema(schema):
    validator = Draft202012Validator(package_metaschema(), format_checker=Draft202012Validator.FORMAT_CHECKER)
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(_drop_nulls(schema))]
    assert errors == []


def test_the_package_has_exactly_the_three_components(schema):
    assert sorted(schema["resources"]) == sorted(TOKEN.format(c) for c in COMPONENTS)
    assert all(resource(schema, c)["isComponent"] for c in COMPONENTS)


@pytest.mark.parametrize("component", COMPONENTS)
def test_every_input_and_output_is_documented(schema, component):
    spec = resource(schema, component)
    assert spec.get("description")
    undocumented = [
        f"{kind}.{name}"
        for kind in ("inputProperties", "properties")
        for name, prop in spec[kind].items()
        if not prop.get("description", "").strip()
    ]
    assert undocumented == []


@pytest.mark.parametrize("component", COMPONENTS)
def test_day_counts_are_integers(schema, component):
    inputs = resource(schema, component)["inputProperties"]
    assert inputs["retentionDays"]["type"] == "integer"
    assert inputs["noncurrentVersionDays"]["type"] == "integer"


@pytest.mark.parametrize("component", COMPONENTS)
def test_every_input_takes_another_resources_output(schema, component):
    # A `plain` input could not be given an output (the analyzer makes one of a field not in pulumi.Input).
    inputs = resource(schema, component)["inputProperties"]
    assert [name for name, prop in inputs.items() if prop.get("plain")] == []


@pytest.mark.parametrize("component", FEDERATED)
def test_tavus_issuer_and_subject_are_required_for_federated_clouds(schema, component):
    assert sorted(resource(schema, component)["requiredInputs"]) == ["tavusOidcIssuer", "tavusOidcSubject"]


def test_every_s3_input_is_optional(schema):
    spec = resource(schema, "S3RecordingStorage")
    assert spec["inputProperties"]
    assert spec.get("requiredInputs", []) == []


@pytest.mark.parametrize("component", COMPONENTS)
def test_each_component_outputs_recording_storage(schema, component):
    spec = resource(schema, component)
    assert spec["properties"]["recordingStorage"]["type"] == "object"
    assert spec["properties"]["recordingStorage"]["additionalProperties"]["type"] == "string"
    assert "recordingStorage" in spec["required"]


# --- construct, as the engine drives it


@pytest.fixture(scope="module")
def hosted() -> Any:
    return provider()


def _request(component: str, inputs: dict[str, Any], from_outputs: tuple[str, ...] = ()) -> provider_pb2.ConstructRequest:
    """A ConstructRequest as the engine sends it: numbers are protobuf doubles, and an input computed
    from another resource lists that resource as a dependency."""
    struct = struct_pb2.Struct()
    struct.update(inputs)
    dependencies = {key: provider_pb2.ConstructRequest.PropertyDependencies(urns=[UPSTREAM]) for key in from_outputs}
    return provider_pb2.ConstructRequest(
        type=TOKEN.format(component), name="rec", inputs=struct, inputDependencies=dependencies
    )


def _construct(hosted: Any, request: provider_pb2.ConstructRequest) -> tuple[Any, dict[str, Any]]:
    """Run `construct` on the mock engine; returns its result and the Python arguments of each child."""
    children: dict[str, dict[str, Any]] = {}

    def record(args: pulumi.ResourceTransformationArgs) -> None:
        children[args.type_] = args.props

    def build() -> Any:
        # The provider server's own decoding: plain values, or Outputs where there are dependencies.
        inputs = _sync_await(ProviderServicer._construct_inputs(request.inputs, request.inputDependencies))
        options = ProviderServicer._construct_options(request).merge(pulumi.ResourceOptions(transformations=[record]))
        return hosted.construct(request.name, request.type, inputs, options)

    try:
        _, result = run_component(build)
    finally:
        # A refused construct leaves its failed outputs tracked for "program exit" (as the SDK's own
        # test helper knows); the next run would await them again.
        SETTINGS.outputs.clear()
        SETTINGS.rpc_manager.clear()
    return result, children


def _numbers(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [n for v in value.values() for n in _numbers(v)]
    if isinstance(value, list):
        return [n for v in value for n in _numbers(v)]
    return [value] if isinstance(value, (int, float)) and not isinstance(value, bool) else []


@pytest.mark.parametrize("from_outputs", [(), ("retentionDays", "noncurrentVersionDays")], ids=["floats", "outputs"])
@pytest.mark.parametrize("component", COMPONENTS)
def test_day_counts_reach_the_lifecycle_as_integers(hosted, component, from_outputs):
    inputs = {"retentionDays": 30, "noncurrentVersionDays": 45, **(FEDERATION_INPUTS if component in FEDERATED else {})}
    request = _request(component, inputs, from_outputs)
    assert request.inputs["retentionDays"] == 30.0  # a float on the wire, as from TypeScript or YAML

    result, children = _construct(hosted, request)

    child, argument = LIFECYCLE[component]
    numbers = _numbers(resolve(children[child][argument]))
    assert {30, 45} <= set(numbers)
    assert [n for n in numbers if not isinstance(n, int)] == []
    assert resolve(result.state["recordingStorage"])["provider"] == {
        "S3RecordingStorage": "s3",
        "GcsRecordingStorage": "gcs",
        "AzureBlobRecordingStorage": "azure_blob",
    }[component]


@pytest.mark.parametrize("from_outputs", [(), ("retentionDays",)], ids=["float", "output"])
def test_a_fractional_day_count_is_refused_naming_the_property(hosted, from_outputs):
    request = _request("S3RecordingStorage", {"retentionDays": 30.5}, from_outputs)
    with pytest.raises(InputPropertiesError) as refused:
        _construct(hosted, request)
    assert refused.value.errors == [{"property_path": "retentionDays", "reason": "30.5 is not a whole number"}]


def test_a_missing_required_input_is_still_refused(hosted):
    request = _request("GcsRecordingStorage", {"tavusOidcIssuer": "https://tokens.tavus.example", "retentionDays": 30})
    with pytest.raises(InputPropertyError) as refused:
        _construct(hosted, request)
    assert refused.value.property_path == "tavusOidcSubject"

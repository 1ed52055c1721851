"""The Pulumi package `tavus-recording`: the three components, hosted for every Pulumi language.

`provider/__main__.py` serves `provider()` to the Pulumi CLI; `package_schema()` is the schema it answers
GetSchema with, inferred by the SDK's analyzer from the components' type annotations and docstrings.
"""

import json
from typing import Any, Optional

import pulumi
from pulumi.errors import InputPropertiesError
from pulumi.provider.experimental.analyzer import ComponentDefinition, PropertyType
from pulumi.provider.experimental.component import ComponentProvider

from tavus_recording import installed_version

PACKAGE_NAME = "tavus-recording"


def _integer_input(name: str, value: Any) -> pulumi.Input[Optional[int]]:
    """An integer input as a component expects it: an int, or an Output of one.

    Every number crosses the wire as a float (30.0), and a value from another resource arrives as
    an Output, which the SDK's own `int()` coercion cannot take.
    """
    if isinstance(value, (int, float)):
        return _whole(name, value)
    # An Output (or unknown during preview): checked once it resolves.
    return pulumi.Output.from_input(value).apply(lambda resolved: None if resolved is None else _whole(name, resolved))


def _whole(name: str, value: Any) -> int:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and float(value).is_integer():
        return int(value)
    reason = f"{value!r} is not a whole number"
    # InputPropertiesError reaches the CLI as a property error on `name`, with no stack trace.
    raise InputPropertiesError(f"{name}: {reason}", [{"property_path": name, "reason": reason}])


class RecordingStorageProvider(ComponentProvider):
    """The SDK's component provider, with integer inputs that work from every language.

    The SDK's `map_inputs` calls `int()` on an integer input, which fails for an Output (TypeScript
    `retentionDays: someOutput`), and then passes on the raw float anyway; integer inputs are
    coerced here instead.
    """

    def map_inputs(self, inputs: pulumi.Inputs, component_def: ComponentDefinition) -> pulumi.Inputs:
        integers = {
            key: value
            for key, value in inputs.items()
            if value is not None and key in component_def.inputs and component_def.inputs[key].type == PropertyType.INTEGER
        }
        # The SDK still checks the rest (required inputs, enums); a stand-in keeps a required integer present.
        mapped = dict(super().map_inputs({**inputs, **dict.fromkeys(integers, 0)}, component_def))
        for key, value in integers.items():
            mapped[component_def.inputs_mapping[key]] = _integer_input(key, value)
        return mapped


def provider() -> RecordingStorageProvider:
    """The provider the plugin serves: all three components, named and versioned as the package."""
    # Hosting needs every cloud's component; the program itself imports only its own cloud's SDK.
    from components.aws import S3RecordingStorage
    from components.azure import AzureBlobRecordingStorage
    from components.gcp import GcsRecordingStorage

    return RecordingStorageProvider(
        [S3RecordingStorage, GcsRecordingStorage, AzureBlobRecordingStorage],
        PACKAGE_NAME,
        version=installed_version(),
    )


def package_schema() -> dict[str, Any]:
    """The package schema, exactly as the plugin serves it to the Pulumi CLI (GetSchema)."""
    return json.loads(provider().schema or "{}")


def schema_json() -> str:
    """The package schema as indented JSON, for `tavus-recording schema`."""
    return json.dumps(package_schema(), indent=2)

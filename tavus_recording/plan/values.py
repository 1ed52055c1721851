"""Values as the plan shows them: each with its real type, in a stable order (keys sorted, whole numbers
as ints: the engine's protobuf carries every number as a double), and a JSON document given as a string (a
policy document) decoded for reading.
"""

from __future__ import annotations

import json
from typing import Any, Iterable, Mapping


def plain(value: Any) -> Any:
    """A value with its real type, in a stable order: keys sorted, whole floats (protobuf numbers) as ints."""
    if isinstance(value, Mapping):
        return {str(k): plain(value[k]) for k in sorted(value, key=str)}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def decoded(value: Any) -> Any:
    """A JSON document given as a string (an IAM or trust policy), decoded; None if the value is not one."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            decoded = json.loads(value)
        except ValueError:
            return None
        return decoded if isinstance(decoded, (dict, list)) else None
    return None


def decoded_inputs(inputs: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Every input (at any depth, by dotted path) given as a JSON-document string, decoded for reading."""
    found: dict[str, Any] = {}
    for key in sorted(inputs):
        value, path = inputs[key], f"{prefix}{key}"
        document = decoded(value)
        if document is not None:
            found[path] = plain(document)
        elif isinstance(value, Mapping):
            found.update(decoded_inputs(value, path + "."))
    return found


def strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
        document = decoded(value)
        if document is not None:
            yield from strings(document)
    elif isinstance(value, Mapping):
        for v in value.values():
            yield from strings(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from strings(v)

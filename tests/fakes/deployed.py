"""A mock-engine run made concrete, as a real deployment would answer: verify's healthy fixtures."""

from __future__ import annotations

from typing import Any, Mapping


def realise(value: Any, placeholders: Mapping[str, str]) -> Any:
    """`<...>` placeholders replaced throughout; whole floats (Pulumi's numbers) as the ints APIs send."""
    if isinstance(value, str):
        for placeholder, concrete in placeholders.items():
            value = value.replace(placeholder, concrete)
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {key: realise(item, placeholders) for key, item in value.items()}
    if isinstance(value, list):
        return [realise(item, placeholders) for item in value]
    return value

"""What every rule of the pack shares: values the engine does not know yet, IAM-style JSON documents,
references between resources, and turning pure checks into pulumi-policy policies.

Rules are pure functions over plain values: `(props, config) -> findings` for one resource,
`(resources, config) -> (resource, finding) pairs` for a stack. The wrappers here read the engine's
arguments once, so no rule ever touches pulumi-policy's proxies.

Unknown values (`pulumi preview` before a resource exists): pulumi-policy hands the rules proxies that
raise `UnknownValueError` on reading such a value, and its server turns an uncaught one into an
advisory "can't run policy during preview" note. Instead, `plain` replaces every unknown value by
`UNKNOWN`, and each rule skips a check whose input is `UNKNOWN`: nothing is reported for a value that
is not known yet, and the same rule judges it on the next preview or `pulumi up`, once it is known.
"""

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Optional

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import (
    UNKNOWN_ARCHIVE_VALUE,
    UNKNOWN_ARRAY_VALUE,
    UNKNOWN_ASSET_VALUE,
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_NUMBER_VALUE,
    UNKNOWN_OBJECT_VALUE,
    UNKNOWN_STRING_VALUE,
    UnknownValueError,
)


MANDATORY = EnforcementLevel.MANDATORY
ADVISORY = EnforcementLevel.ADVISORY


class _Unknown:
    """A value the engine knows only after the deploy."""

    def __repr__(self) -> str:
        return "<unknown until deploy>"


UNKNOWN: Any = _Unknown()

# How the engine encodes an unknown value on the wire, per type.
_UNKNOWN_SENTINELS = frozenset(
    {
        UNKNOWN_ARCHIVE_VALUE,
        UNKNOWN_ARRAY_VALUE,
        UNKNOWN_ASSET_VALUE,
        UNKNOWN_BOOLEAN_VALUE,
        UNKNOWN_NUMBER_VALUE,
        UNKNOWN_OBJECT_VALUE,
        UNKNOWN_STRING_VALUE,
    }
)


def plain(value: Any) -> Any:
    """`value` as plain dicts and lists, every unknown value replaced by `UNKNOWN`."""
    if isinstance(value, str):
        return UNKNOWN if value in _UNKNOWN_SENTINELS else value
    if isinstance(value, Mapping):
        return {key: _read(lambda: value[key]) for key in value}
    if isinstance(value, Sequence) and not isinstance(value, (bytes, bytearray)):
        return [_read(lambda: value[index]) for index in range(len(value))]
    return value


def _read(get: Callable[[], Any]) -> Any:
    try:
        return plain(get())
    except UnknownValueError:
        return UNKNOWN


def has_unknown(value: Any) -> bool:
    if value is UNKNOWN:
        return True
    if isinstance(value, dict):
        return any(has_unknown(item) for item in value.values())
    if isinstance(value, list):
        return any(has_unknown(item) for item in value)
    return False


def get(value: Any, *path: str) -> Any:
    """`value[path...]`: `UNKNOWN` if a step is unknown, None if one is missing."""
    for key in path:
        if value is UNKNOWN:
            return UNKNOWN
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def flag(value: Any) -> Any:
    """A boolean property: True, False, None (absent) or `UNKNOWN`; "true"/"false" strings count."""
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return value


def document(value: Any) -> Any:
    """An IAM-style document given as a JSON string or an object: a dict, `UNKNOWN` while any part
    of it is unknown, or None when absent or not a JSON object (the cloud rejects those itself)."""
    if has_unknown(value):
        return UNKNOWN
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    return value if isinstance(value, dict) else None


def allows(statement: dict[str, Any]) -> bool:
    # Deny statements only take access away.
    return statement.get("Effect") != "Deny"


def known_text(value: Any) -> Optional[str]:
    return value if isinstance(value, str) else None


# --- resources and the references between them


_AZURE_VERSIONED = re.compile(r"^(azure-native:[^:/]+)/v[0-9a-z]+:")


def base_type(token: str) -> str:
    """azure-native also publishes each resource per API version (`azure-native:storage/v20230101:
    StorageAccount`); the rules judge every version alike."""
    return _AZURE_VERSIONED.sub(r"\1:", token)


@dataclass(frozen=True)
class Finding:
    """What is wrong with a resource and how to fix it."""

    problem: str
    fix: str


def message(resource_type: str, name: str, urn: str, finding: Finding) -> str:
    return f"'{name}' ({resource_type}, {urn}) {finding.problem}. Fix: {finding.fix}."


@dataclass(frozen=True)
class StackResource:
    """A resource as stack rules see it: its outputs, plain, and what each property depends on."""

    type: str
    name: str
    urn: str
    props: dict[str, Any]
    # property name -> URNs of the resources its value came from (the engine's propertyDependencies)
    deps: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


def referenced(
    resource: StackResource,
    prop: str,
    candidates: Iterable[StackResource],
    identities: Callable[[StackResource], set[str]],
) -> Optional[list[StackResource]]:
    """The candidates `resource.props[prop]` names, by value or through the engine's property
    dependencies (which hold even while the value is unknown); None when neither can tell yet."""
    value = resource.props.get(prop)
    urns = set(resource.deps.get(prop, ()))
    if value is UNKNOWN and not urns:
        return None
    return [c for c in candidates if c.urn in urns or (isinstance(value, str) and value in identities(c))]


def known_strings(*values: Any) -> set[str]:
    return {v for v in values if isinstance(v, str) and v}


# --- policies from pure checks

ResourceCheck = Callable[[dict[str, Any], Mapping[str, Any]], Iterable[Finding]]
StackCheck = Callable[[list[StackResource], Mapping[str, Any]], Iterable[tuple[StackResource, Finding]]]


def resource_policy(
    name: str,
    description: str,
    types: Iterable[str],
    check: ResourceCheck,
    level: EnforcementLevel,
    config_schema: Optional[PolicyConfigSchema] = None,
) -> ResourceValidationPolicy:
    """A policy that runs `check` on each resource of `types` (the engine's type tokens)."""
    wanted = frozenset(types)

    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if base_type(args.resource_type) not in wanted:
            return
        for finding in check(plain(args.props), args.get_config()):
            report_violation(message(args.resource_type, args.name, args.urn, finding), None)

    return ResourceValidationPolicy(
        name=name,
        description=description,
        validate=validate,
        enforcement_level=level,
        config_schema=config_schema,
    )


def stack_policy(
    name: str,
    description: str,
    check: StackCheck,
    level: EnforcementLevel,
    config_schema: Optional[PolicyConfigSchema] = None,
) -> StackValidationPolicy:
    """A policy that runs `check` on the whole stack, for rules that correlate resources."""

    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        resources = [
            StackResource(
                type=base_type(r.resource_type),
                name=r.name,
                urn=r.urn,
                props=plain(r.props),
                deps={prop: tuple(dep.urn for dep in deps) for prop, deps in r.property_dependencies.items()},
            )
            for r in args.resources
        ]
        for resource, finding in check(resources, args.get_config()):
            report_violation(message(resource.type, resource.name, resource.urn, finding), resource.urn)

    return StackValidationPolicy(
        name=name,
        description=description,
        validate=validate,
        enforcement_level=level,
        config_schema=config_schema,
    )


# S3 and GCS buckets both take `forceDestroy`.
def check_force_destroy(props: dict[str, Any], config: Mapping[str, Any]) -> Iterable[Finding]:
    if flag(props.get("forceDestroy")) is True:
        return [
            Finding(
                "sets forceDestroy, so `pulumi destroy` deletes every recording in it",
                "remove force_destroy (default False); keep the bucket with retain_on_delete",
            )
        ]
    return []

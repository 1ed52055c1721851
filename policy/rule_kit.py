"""What every rule of the pack shares: values the engine does not know yet, IAM-style JSON documents,
references between resources, and turning pure checks into pulumi-policy policies.

Rules are pure functions over plain values (`tavus_recording.rules`, shared with `verify`): the checks
here are `(props, config) -> findings` for one resource, `(resources, config) -> (resource, finding)
pairs` for a stack. The wrappers read the engine's arguments once, so no rule ever touches
pulumi-policy's proxies, and each policy is named by the rule it reports (a rule that also needs the
whole stack has a second, stack policy named `<rule id>.stack`).

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

from tavus_recording.rules.findings import ADVISORY, MANDATORY, Finding, Rule, violations

MANDATORY_LEVEL = EnforcementLevel.MANDATORY
ADVISORY_LEVEL = EnforcementLevel.ADVISORY


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


@dataclass(frozen=True)
class Malformed:
    """A document given as text that is not one strict JSON object: what a reader makes of it depends on
    the reader (duplicate keys: the last or the first wins; a byte-order mark), so nothing is proved."""

    reason: str


def _strict_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    repeated = sorted({key for key in keys if keys.count(key) > 1})
    if repeated:
        raise ValueError(f"the key {repeated[0]!r} appears twice")
    return dict(pairs)


def document(value: Any) -> Any:
    """An IAM-style document given as a JSON string or an object: a dict, `UNKNOWN` while any part of it
    is unknown, a `Malformed` for text that is not one strict JSON object, or None when absent."""
    if has_unknown(value):
        return UNKNOWN
    if isinstance(value, str):
        try:
            value = json.loads(value, object_pairs_hook=_strict_object)
        except ValueError as error:
            return Malformed(str(error).split(":")[0] if "appears twice" not in str(error) else str(error))
        if not isinstance(value, dict):
            return Malformed("not a JSON object")
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
    # The URN of its parent (a component such as S3RecordingStorage), or "".
    parent: str = ""


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


LEVELS = {MANDATORY: MANDATORY_LEVEL, ADVISORY: ADVISORY_LEVEL}


def _reported(findings: Iterable[Finding], rule: Rule) -> list[Finding]:
    # Unknowns (a document that cannot be read yet) are judged again once known; other rules' findings
    # are their own policies' to report.
    return [f for f in violations(findings) if f.rule == rule.id]


def resource_policy(
    rule: Rule,
    types: Iterable[str],
    check: ResourceCheck,
    config_schema: Optional[PolicyConfigSchema] = None,
) -> ResourceValidationPolicy:
    """The policy of `rule` that runs `check` on each resource of `types` (the engine's type tokens),
    before that resource's step."""
    wanted = frozenset(types)

    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if base_type(args.resource_type) not in wanted:
            return
        for finding in _reported(check(plain(args.props), args.get_config()), rule):
            report_violation(message(args.resource_type, args.name, args.urn, finding), None)

    return ResourceValidationPolicy(
        name=rule.id,
        description=rule.why,
        validate=validate,
        enforcement_level=LEVELS[rule.level],
        config_schema=config_schema,
    )


def stack_resources(args: StackValidationArgs) -> list[StackResource]:
    return [
        StackResource(
            type=base_type(r.resource_type),
            name=r.name,
            urn=r.urn,
            props=plain(r.props),
            deps={prop: tuple(dep.urn for dep in deps) for prop, deps in r.property_dependencies.items()},
            parent=r.parent.urn if r.parent is not None else "",
        )
        for r in args.resources
    ]


def stack_policy(
    rule: Rule,
    check: StackCheck,
    config_schema: Optional[PolicyConfigSchema] = None,
    also_resource_policy: bool = False,
) -> StackValidationPolicy:
    """The policy of `rule` that runs `check` on the whole stack, for what only correlating resources
    shows; named `<rule id>.stack` when the rule also has a resource policy."""

    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        for resource, finding in check(stack_resources(args), args.get_config()):
            if finding in _reported([finding], rule):
                report_violation(message(resource.type, resource.name, resource.urn, finding), resource.urn)

    return StackValidationPolicy(
        name=f"{rule.id}.stack" if also_resource_policy else rule.id,
        description=rule.why,
        validate=validate,
        enforcement_level=LEVELS[rule.level],
        config_schema=config_schema,
    )


def force_destroy_check(rule: Rule) -> ResourceCheck:
    """S3 and GCS buckets both take `forceDestroy`: a finding under `rule` when it is on."""

    def check(props: dict[str, Any], config: Mapping[str, Any]) -> Iterable[Finding]:
        if flag(props.get("forceDestroy")) is True:
            return [
                Finding(
                    rule.id,
                    "sets forceDestroy, so `pulumi destroy` deletes every recording in it",
                    "remove force_destroy (default False); keep the bucket with retain_on_delete",
                )
            ]
        return []

    return check

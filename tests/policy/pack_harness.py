"""The engine's side of the pack, for the tests: every policy of policy/ called as the engine calls it.

No Pulumi CLI here: the tests hand protobuf requests (what the engine sends over gRPC) to
pulumi-policy's own servicer, so the props each rule reads went through the SDK's deserialisation
and unknown-value proxies, levels and config through its `Configure`. Unknown values are the wire
sentinels the engine sends during a preview.
"""

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Union

from google.protobuf import json_format, struct_pb2
from pulumi.runtime import proto
from pulumi_policy import EnforcementLevel
from pulumi_policy.policy import _PolicyAnalyzerServicer
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE


POLICY_DIR = Path(__file__).resolve().parents[2] / "policy"
# As the CLI runs the pack: its directory on sys.path (runpy of __main__.py).
sys.path.insert(0, str(POLICY_DIR))

from policies import PACK_NAME, POLICIES  # noqa: E402

UNKNOWN = UNKNOWN_STRING_VALUE
LEVELS = {
    proto.ADVISORY: "advisory",
    proto.MANDATORY: "mandatory",
    proto.REMEDIATE: "remediate",
    proto.DISABLED: "disabled",
}
PROTO_LEVELS = {name: value for value, name in LEVELS.items()}


# --- the engine's side


def urn(type_: str, name: str) -> str:
    return f"urn:pulumi:dev::tavus-recording::{type_}::{name}"


@dataclass(frozen=True)
class Diagnostic:
    policy: str
    level: str
    message: str
    urn: str


@dataclass
class Resource:
    """A resource as the engine describes it to a stack policy."""

    type: str
    name: str
    props: dict[str, Any]
    # property -> names (in this stack) of the resources its value came from
    deps: dict[str, list[str]] = field(default_factory=dict)
    # The parent's URN (a component), or "".
    parent: str = ""

    @property
    def urn(self) -> str:
        return urn(self.type, self.name)


def _struct(props: dict[str, Any]) -> struct_pb2.Struct:
    return json_format.ParseDict(props, struct_pb2.Struct())


def servicer(config: Optional[dict[str, Union[str, dict[str, Any]]]] = None) -> _PolicyAnalyzerServicer:
    """The pack's analyzer, configured as the engine does from a --policy-pack-config file."""
    analyzer = _PolicyAnalyzerServicer(PACK_NAME, "0.1.0", POLICIES, EnforcementLevel.ADVISORY)
    request = proto.ConfigureAnalyzerRequest()
    for name, value in (config or {}).items():
        settings = {"enforcementLevel": value} if isinstance(value, str) else dict(value)
        level = settings.pop("enforcementLevel", None)
        policy_config = proto.PolicyConfig(properties=_struct(settings))
        if level:
            policy_config.enforcementLevel = PROTO_LEVELS[level]
        else:  # the engine always sends a level: the policy's own, filled in from GetAnalyzerInfo
            policy_config.enforcementLevel = PROTO_LEVELS[_default_level(name)]
        request.policyConfig[name].CopyFrom(policy_config)
    analyzer.Configure(request, None)
    return analyzer


def _default_level(name: str) -> str:
    return next(p.enforcement_level.value for p in POLICIES if p.name == name)


def _diagnostics(response: Any) -> list[Diagnostic]:
    return [Diagnostic(d.policyName, LEVELS[d.enforcementLevel], d.message, d.urn) for d in response.diagnostics]


def analyze(type_: str, props: dict[str, Any], name: str = "subject", config: Optional[dict] = None) -> list[Diagnostic]:
    """Every resource policy on one resource (the engine's Analyze call)."""
    request = proto.AnalyzeRequest(type=type_, properties=_struct(props), urn=urn(type_, name), name=name)
    return _diagnostics(servicer(config).Analyze(request, None))


def analyze_stack(resources: list[Resource], config: Optional[dict] = None) -> list[Diagnostic]:
    """Every stack policy on a whole stack (the engine's AnalyzeStack call)."""
    by_name = {r.name: r for r in resources}
    request = proto.AnalyzeStackRequest()
    for r in resources:
        analyzed = request.resources.add(type=r.type, properties=_struct(r.props), urn=r.urn, name=r.name, parent=r.parent)
        for prop, names in r.deps.items():
            analyzed.propertyDependencies[prop].urns.extend(by_name[n].urn for n in names)
            analyzed.dependencies.extend(by_name[n].urn for n in names)
    return _diagnostics(servicer(config).AnalyzeStack(request, None))


def policies_reported(diagnostics: list[Diagnostic]) -> set[str]:
    return {d.policy for d in diagnostics}


def only(diagnostics: list[Diagnostic], policy: str) -> Diagnostic:
    assert policies_reported(diagnostics) == {policy}, diagnostics
    assert len(diagnostics) == 1, diagnostics
    return diagnostics[0]


def assert_resource_case(policy: str, type_: str, passing: dict, violating: dict, unknown: dict) -> None:
    """A resource policy passes `passing`, reports exactly itself on `violating`, and waits on `unknown`."""
    assert analyze(type_, passing) == []
    diagnostic = only(analyze(type_, violating, name="under-test"), policy)
    # Names the resource, says what is wrong (after the description the SDK puts first) and the fix.
    assert diagnostic.level == _default_level(policy)
    assert f"'under-test' ({type_}, {urn(type_, 'under-test')})" in diagnostic.message
    assert diagnostic.message.startswith(next(p.description for p in POLICIES if p.name == policy))
    assert "Fix: " in diagnostic.message
    # Unknown during a preview: no violation and no "can't run policy" note either.
    assert analyze(type_, unknown) == []

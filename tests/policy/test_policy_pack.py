"""The pack in policy/ started as the Pulumi CLI starts a Python policy pack, and the files it ships.

No Pulumi CLI here: the test makes the CLI's calls itself. The Python language host runs
`python -u -m pulumi.policy <engine address> <pack directory>` in the pack's directory; `__main__.py`
then builds the PolicyPack, which serves the Analyzer on a loopback port and prints it. The engine
address is only recorded at startup, so a dead loopback one will do.
"""

import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from google.protobuf import empty_pb2, json_format
from jsonschema import Draft7Validator
from pulumi.runtime import proto
from pulumi.runtime.proto import analyzer_pb2_grpc

from components import aws_policy
from fakes.plugin_process import plugin_channel
from pack_harness import LEVELS, POLICY_DIR, POLICIES, PROTO_LEVELS, _struct, urn

START_SECONDS = 30
ENGINE = "127.0.0.1:1"
CLOUD_SDKS = ("pulumi_aws", "pulumi_gcp", "pulumi_azure_native")


@pytest.fixture(scope="module")
def analyzer() -> Iterator[analyzer_pb2_grpc.AnalyzerStub]:
    argv = [sys.executable, "-u", "-m", "pulumi.policy", ENGINE, "."]
    with plugin_channel(argv, POLICY_DIR, START_SECONDS) as channel:
        yield analyzer_pb2_grpc.AnalyzerStub(channel)


def config_properties(policy_info: Any) -> dict[str, Any]:
    return json_format.MessageToDict(policy_info.configSchema).get("properties", {})


def test_the_pack_lists_every_policy_with_its_level_and_description(analyzer):
    info = analyzer.GetAnalyzerInfo(empty_pb2.Empty(), timeout=10)
    assert info.name == "tavus-recording" and info.supportsConfig
    served = {p.name: p for p in info.policies}
    assert list(served) == [p.name for p in POLICIES]
    for policy in POLICIES:
        listed = served[policy.name]
        assert LEVELS[listed.enforcementLevel] == policy.enforcement_level.value
        assert listed.description == policy.description
    assert {LEVELS[p.enforcementLevel] for p in info.policies} == {"mandatory", "advisory"}
    # Unset, any one ExternalId pins the trust (the kit can make one per stack); set, exactly that one.
    assert "default" not in config_properties(served["aws.role.trust"])["externalId"]


def test_the_running_pack_analyzes_and_takes_its_config_over_grpc(analyzer):
    props = {"assumeRolePolicy": json.dumps(aws_policy.trust_policy("acme")), "maxSessionDuration": 43200}
    request = proto.AnalyzeRequest(type="aws:iam/role:Role", properties=_struct(props), urn=urn("aws:iam/role:Role", "w"), name="w")
    assert list(analyzer.Analyze(request, timeout=10).diagnostics) == []

    configure = proto.ConfigureAnalyzerRequest()
    configure.policyConfig["aws.role.trust"].CopyFrom(
        proto.PolicyConfig(enforcementLevel=PROTO_LEVELS["mandatory"], properties=_struct({"externalId": "tavus"}))
    )
    analyzer.Configure(configure, timeout=10)
    try:
        [diagnostic] = analyzer.Analyze(request, timeout=10).diagnostics
        assert diagnostic.policyName == "aws.role.trust" and LEVELS[diagnostic.enforcementLevel] == "mandatory"
        assert "Tavus sends 'tavus'" in diagnostic.message
    finally:
        analyzer.Configure(proto.ConfigureAnalyzerRequest(), timeout=10)


def test_the_example_config_sets_every_policy_to_its_default_and_passes_its_schema(analyzer):
    example = json.loads((POLICY_DIR / "config.example.json").read_text())
    assert list(example) == [p.name for p in POLICIES]
    info = {p.name: p for p in analyzer.GetAnalyzerInfo(empty_pb2.Empty(), timeout=10).policies}
    for name, value in example.items():
        settings = {"enforcementLevel": value} if isinstance(value, str) else dict(value)
        assert settings.pop("enforcementLevel") == LEVELS[info[name].enforcementLevel]
        # What the CLI validates a policy's properties against (enforcementLevel taken out first).
        properties = config_properties(info[name])
        Draft7Validator({"type": "object", "properties": properties, "additionalProperties": False}).validate(settings)
    assert example["aws.role.trust"]["externalId"] == aws_policy.DEFAULT_EXTERNAL_ID


def test_pack_project_files_are_what_the_cli_reads():
    project = yaml.safe_load((POLICY_DIR / "PulumiPolicy.yaml").read_text())
    assert project["runtime"]["name"] == "python" and project["runtime"]["options"]["virtualenv"] == "venv"
    requirements = [
        line.strip()
        for line in (POLICY_DIR / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert requirements == ["pulumi-policy>=1.21,<2", "-e .."]


def test_policies_import_without_a_cloud_sdk_or_a_server():
    probe = (
        "import sys; sys.path.insert(0, '.'); import policies; "
        f"print(len(policies.POLICIES), sorted(m for m in sys.modules if m.split('.')[0] in {CLOUD_SDKS!r}))"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=POLICY_DIR, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [str(len(POLICIES)), "[]"]

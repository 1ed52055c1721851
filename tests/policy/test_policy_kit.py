"""The pack on what the kit itself builds: no false alarms on any example stack.

Each stack's program runs on the mock engine (`tavus_recording.mock_engine`), which records every
registration with its inputs under the engine's (camelCase) names and the outputs the mocks compute.
Resource policies see the inputs, as the engine's Analyze does; stack policies see the outputs, as
AnalyzeStack does after the deploy. Then one property of one resource is flipped, to show that the
same path does report, and only the policy that owns that property.
"""

import copy
from collections.abc import Callable
from typing import Any

import pytest
from pulumi.runtime import proto

from tavus_recording.mock_engine import ProgramRun, Registration, run_program
from tavus_recording.stack_files import load_stack_config
from pack_harness import Diagnostic, _diagnostics, _struct, servicer

STACKS = ["dev", "s3-kms", "gcs", "azure", "s3-existing", "gcs-existing", "azure-existing"]


def full_urn(stack: str, registration: Registration) -> str:
    return f"urn:pulumi:{stack}::tavus-recording::{registration.type}::{registration.name}"


def analyze_run(stack: str, run: ProgramRun) -> list[Diagnostic]:
    """Every policy of the pack on every resource the run registered, then on the whole stack."""
    analyzer = servicer()
    diagnostics: list[Diagnostic] = []
    for r in run.registrations:
        request = proto.AnalyzeRequest(type=r.type, properties=_struct(r.inputs), urn=full_urn(stack, r), name=r.name)
        diagnostics += _diagnostics(analyzer.Analyze(request, None))
    request = proto.AnalyzeStackRequest()
    urns = {r.urn: full_urn(stack, r) for r in run.registrations}
    for r in run.registrations:
        request.resources.add(type=r.type, properties=_struct(r.outputs), urn=urns[r.urn], name=r.name, parent=urns.get(r.parent, ""))
    return diagnostics + _diagnostics(analyzer.AnalyzeStack(request, None))


@pytest.fixture(scope="module")
def runs() -> dict[str, ProgramRun]:
    return {stack: run_program(load_stack_config(stack).config, stack=stack) for stack in STACKS}


@pytest.mark.parametrize("stack", STACKS)
def test_the_kits_example_stacks_have_no_violations(runs, stack):
    run = runs[stack]
    # The resources the policies are about are there, with the engine's property names.
    assert any(r.inputs for r in run.registrations if r.custom)
    assert analyze_run(stack, run) == []


def _set(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(props: dict[str, Any]) -> None:
        if value is None:
            props.pop(key, None)
        else:
            props[key] = value

    return change


FLIPS = [
    ("dev", "aws:iam/role:Role", _set("maxSessionDuration", None), "aws.role.max_session"),
    ("dev", "aws:s3/bucketVersioning:BucketVersioning", _set("versioningConfiguration", {"status": "Suspended"}),
     "aws.bucket.versioning"),
    ("s3-kms", "aws:iam/rolePolicy:RolePolicy",
     lambda props: props.update(policy=props["policy"].replace('"s3:GetObject"', '"s3:DeleteObject"')),
     "aws.role.permissions.stack"),
    ("s3-kms", "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
     lambda props: props["rules"][-2]["expiration"].update(days=1), "aws.bucket.lifecycle"),
    ("gcs", "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider", _set("attributeCondition", None),
     "gcs.provider.condition"),
    ("gcs", "gcp:serviceaccount/iAMBinding:IAMBinding",
     lambda props: props.update(members=[m.replace("principal://", "principalSet://").rsplit("/subject/", 1)[0] + "/*"
                                         for m in props["members"]]),
     "gcs.service_account.impersonation"),
    ("azure", "azure-native:authorization:RoleAssignment",
     lambda props: props.update(scope=props["scope"].split("/blobServices/")[0]),
     "azure.identity.role_assignments"),
    ("azure", "azure-native:storage:StorageAccount", _set("allowSharedKeyAccess", None), "azure.account.shared_key"),
]


@pytest.mark.parametrize("stack, type_, change, policy", FLIPS, ids=[f[3] for f in FLIPS])
def test_one_flipped_property_is_reported_by_exactly_its_policy(runs, stack, type_, change, policy):
    run = copy.deepcopy(runs[stack])
    target = run.one(type_)
    change(target.inputs)
    change(target.outputs)
    diagnostics = analyze_run(stack, run)
    assert {d.policy for d in diagnostics} == {policy}, diagnostics
    assert len(diagnostics) == 1
    assert f"'{target.name}'" in diagnostics[0].message

"""`manageApis` (GCS): false leaves the project's services to the platform team, and nothing else changes."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pytest

from components.gcp import GcsRecordingStorage
from components.settings import parse_settings
from settings_checks import error_for, problem_line
from stack_configs import gcs_config, s3_config, stack_config
from tavus_recording.mock_engine import ProgramRun, run_component, run_program

SERVICE = "gcp:projects/service:Service"
FEDERATION = {"tavus_oidc_issuer": "https://issuer.tavus.example", "tavus_oidc_subject": "tavus-recording-writer"}
CONFIG = {"gcp:project": "acme-recordings"}


def build(**args: Any) -> ProgramRun:
    return run_component(lambda: GcsRecordingStorage("rec", {**FEDERATION, **args}), config=CONFIG)[0]


def _shape(run: ProgramRun, services: set[str]) -> list[tuple]:
    """Every resource but the services, with its inputs, options and dependencies other than the services."""
    return sorted((r.type, r.name, json.dumps(r.inputs, sort_keys=True, default=str), r.retain_on_delete,
                   sorted(d for d in r.depends_on if d not in services))
                  for r in run.registrations if r.type != SERVICE)


@pytest.mark.parametrize(("text", "value"), [("", True), ("true", True), ("True", True), ("false", False), ("False", False)])
def test_manage_apis_is_on_unless_set_false(text, value):
    assert parse_settings(gcs_config(manageApis=text)).manage_apis is value


@pytest.mark.parametrize("text", ["no", "0", "off", "FALSE", "false "])
def test_manage_apis_in_any_other_spelling_is_refused(text):
    assert "expected true or false" in problem_line(error_for(gcs_config(manageApis=text)), "tavus-recording:manageApis")


def test_manage_apis_is_a_gcs_key():
    line = problem_line(error_for(s3_config(manageApis="false")), "tavus-recording:manageApis")
    assert "applies only to provider gcs" in line


@pytest.mark.parametrize("existing", [{}, {"existing_bucket": "acme-existing"}])
def test_without_managed_apis_no_service_is_registered_and_nothing_else_changes(existing):
    managed, left = build(**existing), build(manage_apis=False, **existing)
    services = {r.urn for r in managed.find(SERVICE)}
    # A bucket the kit creates needs the Storage API too; an existing one means it is on already.
    assert len(services) == (3 if existing else 4)
    assert left.find(SERVICE) == []
    assert _shape(left, services) == _shape(managed, services)


def test_with_managed_apis_the_trust_waits_for_the_iam_apis_and_the_bucket_for_storage():
    run = build()
    by_name = {r.inputs.get("service"): r.urn for r in run.find(SERVICE)}
    bucket = run.one("gcp:storage/bucket:Bucket")
    assert by_name["storage.googleapis.com"] in bucket.depends_on
    pool = run.one("gcp:iam/workloadIdentityPool:WorkloadIdentityPool")
    assert by_name["iam.googleapis.com"] in pool.depends_on


@pytest.mark.parametrize("value", ["false", 0, pulumi.Output.from_input(False)])
def test_the_component_refuses_a_manage_apis_it_cannot_decide_on(value):
    with pytest.raises(ValueError, match="manage_apis is .*expected a plain True or False"):
        build(manage_apis=value)


def test_the_program_passes_manage_apis_through():
    run = run_program(stack_config("gcs", manageApis="false"), stack="gcs")
    assert run.find(SERVICE) == []
    assert run_program(stack_config("gcs"), stack="gcs").find(SERVICE)


def test_the_plan_says_which_services_must_already_be_on():
    from tavus_recording.plan.summary import summary

    left = summary(run_program(stack_config("gcs", manageApis="false"), stack="gcs"))["lines"]
    line = next(line for line in left if line.startswith("Project services:"))
    assert "storage.googleapis.com" in line and "sts.googleapis.com" in line and "SERVICE_DISABLED" in line
    existing = summary(run_program(stack_config("gcs-existing", manageApis="false"), stack="gcs-existing"))["lines"]
    assert "storage.googleapis.com" not in next(line for line in existing if line.startswith("Project services:"))
    managed = summary(run_program(stack_config("gcs"), stack="gcs"))["lines"]
    assert not any(line.startswith("Project services:") for line in managed)

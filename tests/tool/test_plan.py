"""`tavus-recording plan` as a reviewable artifact (issue 17): the same bytes on every run, nothing on
stderr, outputs with their real types, placeholders and mock ids marked, a summary read from the stack.

Each stack file is planned in separate processes, twice per form (text and --json), with a different
hash seed each time, two processes at a time.
"""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from components.azure_policy import STORAGE_BLOB_DATA_CONTRIBUTOR
from components.tavus import TAVUS_AWS_ACCOUNT_ID
from tavus_recording.mock_engine import PLACEHOLDERS, ProgramRun, run_program, stand_in_id
from tavus_recording.plan import example_values, ordered
from tavus_recording.stack_files import PROJECT_DIR, load_stack_config, stack_names

STACKS = stack_names()
FORMS = {"text": (), "json": ("--json",)}


def plan_process(stack: str, *flags: str, seed: str = "0") -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONHASHSEED": seed}
    return subprocess.run(
        [sys.executable, "-m", "tavus_recording", "plan", "--stack", stack, *flags],
        cwd=PROJECT_DIR, capture_output=True, text=True, env=env,
    )


@pytest.fixture(scope="module")
def runs() -> dict[tuple[str, str], list[subprocess.CompletedProcess]]:
    """Every stack, both forms, twice (hash seeds 1 and 2): 2 cores, 2 processes at a time."""
    jobs = [(stack, form, seed) for stack in STACKS for form in FORMS for seed in ("1", "2")]
    with ThreadPoolExecutor(max_workers=2) as pool:
        done = list(pool.map(lambda job: plan_process(job[0], *FORMS[job[1]], seed=job[2]), jobs))
    found: dict[tuple[str, str], list[subprocess.CompletedProcess]] = {}
    for (stack, form, _), result in zip(jobs, done):
        found.setdefault((stack, form), []).append(result)
    return found


@pytest.fixture(scope="module")
def documents(runs) -> dict[str, dict[str, Any]]:
    return {stack: json.loads(runs[(stack, "json")][0].stdout) for stack in STACKS}


@pytest.fixture(scope="module")
def program_runs() -> dict[str, ProgramRun]:
    return {stack: run_program(load_stack_config(stack).config, stack=stack) for stack in STACKS}


def setting(stack: str, key: str) -> str | None:
    """A stack's value for `key` (tavus-recording: keys by their bare name), None when unset."""
    config = load_stack_config(stack).config
    return config.get(key if ":" in key else f"tavus-recording:{key}") or None


def test_every_example_stack_is_planned():
    assert {"dev", "s3-kms", "s3-existing", "gcs", "gcs-existing", "azure", "azure-existing"} <= set(STACKS)


# --- the same bytes, and nothing on stderr


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("stack", STACKS)
def test_plan_gives_the_same_bytes_on_every_run_and_nothing_on_stderr(runs, stack, form):
    first, second = runs[(stack, form)]
    for result in (first, second):
        assert result.returncode == 0, result.stderr
        # Not even an asyncio "Exception ignored" or "Task was destroyed but it is pending!" line.
        assert result.stderr == ""
    assert first.stdout == second.stdout


def test_resources_come_parent_first_then_by_dependency_then_by_type_and_name(program_runs):
    for stack, run in program_runs.items():
        order = [r.urn for r in ordered(run.registrations)]
        shuffled = list(run.registrations)
        random.Random(stack).shuffle(shuffled)
        assert [r.urn for r in ordered(shuffled)] == order, stack
        position = {urn: i for i, urn in enumerate(order)}
        for r in run.registrations:
            if r.parent in position:
                assert position[r.parent] < position[r.urn], (stack, r.urn)
            for dep in r.depends_on:
                siblings = {s.urn for s in run.registrations if s.parent == r.parent}
                if dep in siblings:
                    assert position[dep] < position[r.urn], (stack, r.urn, dep)


def test_depends_on_is_sorted(documents):
    for stack, document in documents.items():
        for resource in document["resources"]:
            assert resource["depends_on"] == sorted(resource["depends_on"]), (stack, resource["name"])


# --- real types


def json_type(value: Any) -> type:
    return {bool: bool, int: int, float: float, str: str, type(None): type(None)}.get(
        type(value), dict if isinstance(value, dict) else list
    )


@pytest.mark.parametrize("stack", STACKS)
def test_json_outputs_keep_the_types_the_program_exports(documents, program_runs, stack):
    exported, printed = program_runs[stack].outputs, documents[stack]["outputs"]
    assert list(printed) == list(exported)
    for name, value in exported.items():
        assert json_type(printed[name]) is json_type(value), name
    # The contract's example: a JSON-string output stays a string, the same object as recording_storage.
    assert isinstance(printed["recording_storage_json"], str)
    assert json.loads(printed["recording_storage_json"]) == printed["recording_storage"]
    assert isinstance(printed["storage_managed"], bool)
    retention = setting(stack, "retentionDays")
    assert printed["retention_days"] == (int(retention) if retention and retention != "0" else None)


def test_json_keeps_a_policy_given_as_a_string_a_string_and_decodes_it_beside(documents, runs):
    role = next(r for r in documents["dev"]["resources"] if r["type"] == "aws:iam/role:Role")
    sent = role["inputs"]["assumeRolePolicy"]
    assert isinstance(sent, str)
    assert role["decoded_inputs"] == {"assumeRolePolicy": json.loads(sent)}
    grant = next(r for r in documents["dev"]["resources"] if r["type"] == "aws:iam/rolePolicy:RolePolicy")
    assert isinstance(grant["inputs"]["policy"], str) and grant["decoded_inputs"]["policy"]["Statement"]
    # Inputs that are not documents are not decoded; whole numbers are ints.
    assert role["inputs"]["maxSessionDuration"] == 43200 and isinstance(role["inputs"]["maxSessionDuration"], int)
    # The text form shows the document decoded, and says it is a string.
    text = runs[("dev", "text")][0].stdout
    assert "assumeRolePolicy (a JSON string, shown decoded):" in text
    assert '"sts:ExternalId": "tavus"' in text


# --- placeholders and mock ids


@pytest.mark.parametrize("stack", STACKS)
def test_every_placeholder_shown_is_listed_with_what_it_stands_for(documents, runs, stack):
    document = documents[stack]
    shown = set(re.findall(r"<[^<>\s][^<>]*>", json.dumps({k: document[k] for k in ("resources", "reads", "outputs")})))
    listed = {p["placeholder"]: p for p in document["placeholders"]}
    assert shown <= set(listed)
    for token in shown:
        assert listed[token]["stands_for"] == PLACEHOLDERS[token]
    text = runs[(stack, "text")][0].stdout
    placeholders = text.split("Placeholders in this plan:", 1)[1].split("\nResources (", 1)[0]
    assert all(f"  {token}  " in placeholders for token in shown)


@pytest.mark.parametrize("stack", STACKS)
def test_an_example_issuer_from_the_stack_file_is_marked_as_one(documents, runs, stack):
    issuer = setting(stack, "tavusOidcIssuer")
    if setting(stack, "provider") == "s3":
        assert issuer is None
        return
    assert issuer and example_values([issuer]) == [issuer]  # the examples use a reserved domain
    listed = {p["placeholder"]: p for p in documents[stack]["placeholders"]}
    assert listed[issuer]["kind"] == "example from the stack file"
    access = next(line for line in documents[stack]["summary"]["lines"] if line.startswith("Access:"))
    assert f"{issuer} (an example from the stack file" in access
    assert f"  {issuer}  (example from the stack file)" in runs[(stack, "text")][0].stdout


def test_real_issuers_are_not_taken_for_examples():
    assert example_values(["https://accounts.google.com", "https://login.microsoftonline.com/x/v2.0",
                           "https://tavus.example.org.evil.com"]) == []
    assert example_values(["https://example.com/x", "https://a.test", "http://localhost:8080"]) == [
        "http://localhost:8080", "https://a.test", "https://example.com/x"]


@pytest.mark.parametrize("stack", STACKS)
def test_mock_ids_are_flagged_in_json_and_text(documents, runs, stack):
    text = runs[(stack, "text")][0].stdout
    for resource in documents[stack]["resources"]:
        if resource["id"] is None:
            assert resource["id_is_mock"] is False  # a component has no id
            continue
        stand_in = resource["id"] == stand_in_id(resource["name"])
        assert resource["id_is_mock"] is stand_in, resource["name"]
        assert f"({'mock id' if stand_in else 'id'}: {resource['id']})" in text
    if any(r["id_is_mock"] for r in documents[stack]["resources"]):
        assert "A 'mock id' is the mock engine's stand-in" in text


# --- summary


def summary_lines(documents, stack: str) -> dict[str, str]:
    """The summary's lines by their first word ("Data", "Access", "Kept", ...)."""
    return {line.split(" ", 1)[0].rstrip(":"): line for line in documents[stack]["summary"]["lines"]}


@pytest.mark.parametrize("stack", STACKS)
def test_summary_is_on_top_of_the_text_and_in_the_json(documents, runs, stack):
    text = runs[(stack, "text")][0].stdout
    lines = documents[stack]["summary"]["lines"]
    block = "Summary:\n" + "\n".join(f"  {line}" for line in lines)
    assert block in text
    assert text.index("Summary:") < text.index("Resources (")
    assert 4 <= len(lines) <= 8  # a few lines
    assert documents[stack]["summary"]["provider"] == setting(stack, "provider")
    assert "Nobody else is granted anything by this stack." in lines


@pytest.mark.parametrize("stack", [s for s in STACKS if setting(s, "provider") == "s3"])
def test_s3_summary_names_the_bucket_the_role_and_tavus(documents, stack):
    lines = summary_lines(documents, stack)
    storage = documents[stack]["outputs"]["recording_storage"]
    existing = setting(stack, "existingBucket")
    bucket = existing or setting(stack, "bucketName") or storage["bucket_name"]
    assert storage["bucket_name"] == bucket
    if existing:
        assert lines["Data"].startswith(f"Data: existing S3 bucket {existing} ")
        assert lines["Kept"].endswith("nothing; this stack's storage is not its own, and stays as it is.")
    else:
        assert lines["Data"] == f"Data: S3 bucket {bucket} in {setting(stack, 'aws:region')}, created by this stack."
        assert "with the recordings): Bucket tavus-recordings-bucket, BucketVersioning" in lines["Kept"]
    role = storage["assume_role_arn"].rsplit("/", 1)[-1]
    access = lines["Access"]
    assert access.startswith(
        f"Access: Tavus's AWS account {TAVUS_AWS_ACCOUNT_ID} may assume role {role} "
        f"(ExternalId '{setting(stack, 'externalId')}'; sessions up to 12 h), then: s3:PutObject"
    )
    assert f"on bucket {bucket} only" in access
    kms = setting(stack, "kmsKeyArn")
    assert (f"kms:GenerateDataKey, kms:Decrypt on {kms}" in access) if kms else ("kms:" not in access)


@pytest.mark.parametrize("stack", [s for s in STACKS if setting(s, "provider") == "gcs"])
def test_gcs_summary_names_the_subject_issuer_service_account_and_bucket(documents, stack):
    lines = summary_lines(documents, stack)
    outputs = documents[stack]["outputs"]
    existing = setting(stack, "existingBucket")
    bucket, project = outputs["bucket_name"], setting(stack, "gcp:project")
    if existing:
        assert bucket == existing and lines["Data"].startswith(f"Data: existing Cloud Storage bucket {existing} (project {project}")
    else:
        location = setting(stack, "location") or "US"
        assert lines["Data"] == f"Data: Cloud Storage bucket {bucket} in {location} (project {project}), created by this stack."
    assert lines["Access"].startswith(
        f"Access: the OIDC subject '{setting(stack, 'tavusOidcSubject')}' from issuer {setting(stack, 'tavusOidcIssuer')} "
    )
    assert f"may act as service account {outputs['service_account_email']} (roles/iam.workloadIdentityUser" in lines["Access"]
    assert lines["Access"].endswith(f"which has roles/storage.objectCreator on bucket {bucket} only.")


@pytest.mark.parametrize("stack", [s for s in STACKS if setting(s, "provider") == "azure_blob"])
def test_azure_summary_names_the_credential_identity_and_container(documents, stack):
    lines = summary_lines(documents, stack)
    outputs = documents[stack]["outputs"]
    container = setting(stack, "existingContainer") or setting(stack, "container")
    assert outputs["container"] == container
    if setting(stack, "existingStorageAccount"):
        assert lines["Data"].startswith(
            f"Data: existing container {container} in storage account {setting(stack, 'existingStorageAccount')} "
            f"(resource group {setting(stack, 'resourceGroupName')})"
        )
    else:
        assert lines["Data"].startswith(f"Data: container {container} in storage account {outputs['storage_account']} ")
        assert f", {setting(stack, 'azure-native:location')}), created by this stack." in lines["Data"]
    access = lines["Access"]
    assert access.startswith(f"Access: tokens from issuer {setting(stack, 'tavusOidcIssuer')} ")
    assert f"with subject '{setting(stack, 'tavusOidcSubject')}' (audience api://AzureADTokenExchange)" in access
    assert access.endswith(f"which has Storage Blob Data Contributor on container {container} only.")
    assert STORAGE_BLOB_DATA_CONTRIBUTOR  # the role the summary names by its GUID


@pytest.mark.parametrize("stack", STACKS)
def test_summary_says_which_inputs_of_kept_storage_must_never_change(documents, stack):
    summary = documents[stack]["summary"]
    kept = [r for r in documents[stack]["resources"] if r["retain_on_delete"]]
    assert summary["kept_on_destroy"] == [{"type": r["type"], "name": r["name"]} for r in kept]
    never = next((line for line in summary["lines"] if line.startswith("Never change")), None)
    if not kept:
        assert never is None and summary["never_change"] == []
        return
    assert never is not None and "`plan --previous` checks a change" in never
    for fixed in summary["never_change"]:
        assert f"{fixed['name']}: {', '.join(fixed['inputs'])}" in never
    # A name the stack sets (not auto-named) is still taken after a destroy.
    named = [r for r in kept if r["replaced_if_changed"] and next(iter(r["replaced_if_changed"].values())) is not None]
    assert ("outlives `pulumi destroy`" in never) == bool(named)
    if setting(stack, "bucketName"):
        assert named
    names = {f["type"]: f["inputs"] for f in summary["never_change"]}
    region_key = {"s3": "region", "gcs": "location", "azure_blob": "location"}[summary["provider"]]
    assert any(region_key in inputs for inputs in names.values())

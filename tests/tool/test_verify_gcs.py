"""`verify` for Cloud Storage: the kit's own deployment passes every check, and each drift fails its own.

The healthy destination is what the program deploys for the `gcs` example stack, run on Pulumi's
mock engine and written out as Google's APIs would answer for it, in a project as Google keeps one
(an owner, Google's own agents); a local fake of the IAM v1, Resource Manager v1 and Storage JSON v1
APIs (tests/fakes/gcp_api.py) serves it to the real google-auth session over plain HTTP on 127.0.0.1.

Each drift an attacker (or a hurried admin) could make must fail its check, or be plainly unknown:
never pass.
"""

from __future__ import annotations

import copy
import functools
import json
import re
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Optional

import pytest
from fakes import gcp_api as api
from fakes import deployed
from fakes.loopback import closed_port
from google.oauth2.credentials import Credentials
from typer.testing import CliRunner

from components import gcp_policy, tavus
from tavus_recording.cli import app
from tavus_recording.mock_engine import run_program
from tavus_recording.verify import gcp as verify_gcp
from tavus_recording.verify import gcp_reads
from tavus_recording.verify.gcp import (
    ACCOUNT_STATE,
    BUCKET_ACCESS,
    BUCKET_IDS,
    BUCKET_PROJECT,
    CHECK_IDS,
    DATA_ACCESS_LOGS,
    GRANT_IDS,
    IMPERSONATION,
    KEYS,
    LEAST_PRIVILEGE,
    LIFECYCLE,
    PERMISSIONS,
    POOL_STATE,
    PROVIDER_CONDITION,
    PROVIDER_IDS,
    PROVIDER_ISSUER,
    PROVIDER_MAPPING,
    PROVIDER_STATE,
    PUBLIC_ACCESS_PREVENTION,
    READ_PERMISSIONS,
    RETENTION,
    UNIFORM_ACCESS,
    VERSIONING,
    WRITER,
    MissingOutputs,
)
from tavus_recording.verify.outputs import OutputsError
from tavus_recording.verify.report import CannotVerify, Check
from stack_configs import gcs_config

# What the mock engine leaves as placeholders, made concrete as a real deployment would.
PROJECT_NUMBER = "428173025661"
PLACEHOLDERS = {"<project-number>": PROJECT_NUMBER, "<random>": "7c1e9a2", "<unique-id>": "104729384756102938475"}
TOKEN = "ya29.fake-access-token"
OTHER_PROJECT_SA = "serviceAccount:spy@other-project-42.iam.gserviceaccount.com"


def project_bindings(project_number: str) -> list[dict[str, Any]]:
    """A project as Google keeps one: a person as owner, Google's APIs agent as editor, an agent's role, auditors."""
    return [
        {"role": "roles/owner", "members": ["user:admin@acme.example"]},
        {"role": "roles/editor", "members": [f"serviceAccount:{project_number}@cloudservices.gserviceaccount.com"]},
        {"role": "roles/cloudbuild.serviceAgent", "members": [f"serviceAccount:service-{project_number}@gcp-sa-cloudbuild.iam.gserviceaccount.com"]},
        {"role": "roles/viewer", "members": ["group:auditors@acme.example"]},
    ]


def realise(value: Any) -> Any:
    return deployed.realise(value, PLACEHOLDERS)


def api_lifecycle_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """A pulumi-gcp lifecycle rule as the JSON API returns it (`withState` becomes `isLive`)."""
    condition = dict(rule["condition"])
    state = condition.pop("withState", "ANY")
    if state != "ANY":
        condition["isLive"] = state == "LIVE"
    return {"action": rule["action"], "condition": condition}


@dataclass
class Kit:
    """The `gcs` example stack as deployed: its outputs, and Google's view of its resources."""

    outputs: dict[str, Any]
    storage: tavus.GcsRecordingStorageConfig
    state: api.GcpState

    @property
    def pool(self) -> str:
        return self.storage.workload_identity_provider.split("/providers/")[0]

    @property
    def provider(self) -> str:
        return self.storage.workload_identity_provider

    @property
    def email(self) -> str:
        return self.storage.service_account_email

    @property
    def bucket(self) -> str:
        return self.storage.bucket_name

    @property
    def principal(self) -> str:
        return gcp_policy.workload_principal(self.pool, self.outputs["tavus_oidc_subject"])

    @property
    def project(self) -> str:
        return self.storage.project_id

    @property
    def pool_set(self) -> str:
        return f"principalSet://iam.googleapis.com/{self.pool}/*"


@pytest.fixture(scope="module")
def kit() -> Kit:
    return build_kit()


def build_kit() -> Kit:
    """The kit's `gcs` stack run on the mock engine, and Google's view of what it deployed."""
    run = run_program(gcs_config(), stack="gcs")
    outputs = realise(run.outputs)
    assert "<" not in json.dumps(outputs), "a placeholder the test does not know"
    storage = tavus.GcsRecordingStorageConfig.model_validate(outputs["recording_storage"])

    def one(type_: str) -> dict[str, Any]:
        return realise(run.one(type_).outputs)

    pool = one("gcp:iam/workloadIdentityPool:WorkloadIdentityPool")
    provider = one("gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider")
    account = one("gcp:serviceaccount/account:Account")
    impersonation = one("gcp:serviceaccount/iAMBinding:IAMBinding")
    bucket = one("gcp:storage/bucket:Bucket")
    writer = one("gcp:storage/bucketIAMMember:BucketIAMMember")
    oidc = provider["oidc"]
    state = api.GcpState(
        pools={pool["name"]: api.pool(pool["name"], display_name=pool["displayName"], description=pool["description"])},
        providers={
            provider["name"]: api.provider(
                provider["name"],
                issuer=oidc["issuerUri"],
                allowed_audiences=oidc.get("allowedAudiences"),
                attribute_mapping=provider["attributeMapping"],
                attribute_condition=provider["attributeCondition"],
                display_name=provider["displayName"],
            )
        },
        service_accounts={
            account["email"]: api.service_account(
                account["email"],
                project_id=storage.project_id,
                unique_id=account["uniqueId"],
                display_name=account["displayName"],
                description=account["description"],
            )
        },
        service_account_policies={
            account["email"]: api.iam_policy([{"role": impersonation["role"], "members": impersonation["members"]}])
        },
        # Every account has Google-managed keys; the kit creates no other.
        service_account_keys={account["email"]: [api.service_account_key(storage.project_id, account["email"], "5f0c1d2e3a4b")]},
        project_policies={storage.project_id: api.iam_policy(project_bindings(PROJECT_NUMBER))},
        buckets={
            bucket["name"]: api.bucket(
                bucket["name"],
                project_number=PROJECT_NUMBER,
                location=bucket["location"],
                versioning=bucket["versioning"]["enabled"],
                uniform_access=bucket["uniformBucketLevelAccess"],
                public_access_prevention=bucket["publicAccessPrevention"],
                lifecycle_rules=[api_lifecycle_rule(rule) for rule in bucket["lifecycleRules"]],
                encryption=bucket.get("encryption"),
            )
        },
        bucket_policies={
            bucket["name"]: api.bucket_policy(
                bucket["name"], [*api.legacy_bindings(PROJECT_NUMBER), {"role": writer["role"], "members": [writer["member"]]}]
            )
        },
    )
    return Kit(outputs=outputs, storage=storage, state=state)


@pytest.fixture
def fake(kit: Kit) -> Iterator[api.FakeGcp]:
    with api.running(api.FakeGcp(copy.deepcopy(kit.state))) as served:
        yield served


def verify(kit: Kit, fake: api.FakeGcp, outputs: Optional[dict[str, Any]] = None) -> list[Check]:
    return verify_gcp.verify(
        kit.storage,
        kit.outputs if outputs is None else outputs,
        credentials=Credentials(token=TOKEN),
        iam_url=fake.url,
        storage_url=fake.url,
        crm_url=fake.url,
        kms_url=fake.url,
    )


def by_id(checks: list[Check]) -> dict[str, Check]:
    assert [check.id for check in checks] == list(CHECK_IDS)
    return {check.id: check for check in checks}


def assert_only(checks: list[Check], ok: Optional[bool], ids: tuple[str, ...] | list[str], *mentions: str) -> None:
    """Exactly `ids` have `ok` (each detail naming `mentions`); every other check passes."""
    found = by_id(checks)
    for check_id, check in found.items():
        if check_id in ids:
            assert check.ok is ok, check
            for mention in mentions:
                assert mention in check.detail, (mention, check.detail)
            if ok is False:
                assert check.fix, check
        else:
            assert check.ok is True, check


# --- the healthy deployment


def test_the_kits_deployment_passes_every_check(kit: Kit, fake: api.FakeGcp):
    checks = verify(kit, fake)
    assert [check.id for check in checks] == list(CHECK_IDS)
    assert [check for check in checks if check.ok is not True] == []
    details = by_id(checks)
    assert kit.principal in details[IMPERSONATION].detail
    assert gcp_policy.WRITER_ROLE in details[WRITER].detail
    assert "365 days" in details[LIFECYCLE].detail and "no retention policy" in details[RETENTION].detail


def test_reads_are_the_documented_calls_with_the_callers_token(kit: Kit, fake: api.FakeGcp):
    verify(kit, fake)
    account = f"/v1/projects/{kit.project}/serviceAccounts/{kit.email}"
    # The pool first and alone (it decides whether verify can run); the rest go out together, so in no fixed order.
    assert (fake.received[0].method, fake.received[0].path) == ("GET", f"/v1/{kit.pool}")
    assert sorted((r.method, r.path) for r in fake.received[1:]) == sorted([
        ("GET", f"/v1/{kit.provider}"),
        ("GET", f"/v1/{kit.pool}/providers"),
        ("GET", account),
        ("POST", f"{account}:getIamPolicy"),
        ("GET", f"{account}/keys"),
        ("GET", f"/storage/v1/projects/{kit.project}/hmacKeys"),
        ("POST", f"/v1/projects/{kit.project}:getIamPolicy"),
        ("GET", f"/storage/v1/b/{kit.bucket}"),
        ("GET", f"/storage/v1/b/{kit.bucket}/iam"),
        ("GET", f"/storage/v1/b/{kit.bucket}/managedFolders"),
    ])
    assert all(r.headers.get("authorization") == f"Bearer {TOKEN}" for r in fake.received)
    asked = {(r.method, r.path): r for r in fake.received}
    # Version 3, so conditional bindings come back with their conditions rather than an error.
    assert (asked["POST", f"{account}:getIamPolicy"].body == asked["POST", f"/v1/projects/{kit.project}:getIamPolicy"].body
            == {"options": {"requestedPolicyVersion": 3}})
    assert asked["GET", f"/storage/v1/b/{kit.bucket}/iam"].query["optionsRequestedPolicyVersion"] == ["3"]
    # Only the writer's HMAC keys are asked for.
    assert asked["GET", f"/storage/v1/projects/{kit.project}/hmacKeys"].query["serviceAccountEmail"] == [kit.email]


def test_each_managed_folders_policy_is_read_with_its_name_escaped(kit: Kit, fake: api.FakeGcp):
    add_folder(kit, fake.state, "rec/2026/")
    fake.state.managed_folders_page_size = 1
    add_folder(kit, fake.state, "other/")
    assert all(check.ok for check in verify(kit, fake))
    reads = [r for r in fake.received if "managedFolders" in r.path]
    # The list's pages one after another; then the folders' policies, which go out together (so in no fixed order).
    assert [(r.path, r.query.get("pageToken")) for r in reads[:2]] == [
        (f"/storage/v1/b/{kit.bucket}/managedFolders", None),
        (f"/storage/v1/b/{kit.bucket}/managedFolders", ["1"]),
    ]
    assert sorted((r.path, r.query.get("pageToken")) for r in reads[2:]) == [
        (f"/storage/v1/b/{kit.bucket}/managedFolders/other//iam", None),
        (f"/storage/v1/b/{kit.bucket}/managedFolders/rec/2026//iam", None),
    ]
    assert all(r.query.get("optionsRequestedPolicyVersion") == ["3"] for r in reads[2:])


# --- the schema guard: the fake answers only with fields Google's discovery documents define


def schema_problems(value: Any, schema: dict[str, Any], schemas: dict[str, Any], where: str) -> list[str]:
    """Fields of `value` (recursively) that the discovery schema does not define, or of the wrong JSON type."""
    if "$ref" in schema:
        schema = schemas[schema["$ref"]]
    kind = schema.get("type")
    if kind == "object":
        if not isinstance(value, dict):
            return [f"{where}: {value!r} is not an object"]
        problems: list[str] = []
        properties, extra = schema.get("properties"), schema.get("additionalProperties")
        for key, item in value.items():
            sub = properties.get(key) if properties is not None and key in properties else extra
            if sub is None:
                problems.append(f"{where}.{key}: not in the schema")
            else:
                problems += schema_problems(item, sub, schemas, f"{where}.{key}")
        return problems
    if kind == "array":
        if not isinstance(value, list):
            return [f"{where}: {value!r} is not an array"]
        return [p for i, item in enumerate(value) for p in schema_problems(item, schema["items"], schemas, f"{where}[{i}]")]
    # int64/uint64 travel as JSON strings; that is what `type: string` with a `format` says.
    expected = {"string": str, "boolean": bool, "integer": int}.get(kind or "")
    if expected is None:
        return []
    if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
        return [f"{where}: {value!r} is not a {kind}"]
    if "enum" in schema and value not in schema["enum"]:
        return [f"{where}: {value!r} is not one of {schema['enum']}"]
    return []


def test_the_schema_guard_catches_unknown_fields_and_wrong_types():
    storage_schemas = api.schemas("storage")
    bucket = api.bucket("b", project_number="1")
    assert schema_problems(bucket, storage_schemas["Bucket"], storage_schemas, "Bucket") == []
    bucket["projectNumber"] = 1  # the API sends uint64 as a string
    bucket["iamConfiguration"]["uniformAccess"] = True
    assert schema_problems(bucket, storage_schemas["Bucket"], storage_schemas, "Bucket") == [
        "Bucket.projectNumber: 1 is not a string",
        "Bucket.iamConfiguration.uniformAccess: not in the schema",
    ]
    iam_schemas = api.schemas("iam")
    assert schema_problems({"state": "ENABLED"}, iam_schemas["WorkloadIdentityPool"], iam_schemas, "Pool") == [
        "Pool.state: 'ENABLED' is not one of ['STATE_UNSPECIFIED', 'ACTIVE', 'DELETED']"
    ]


def test_every_field_the_fake_answers_is_in_googles_published_schema(kit: Kit, fake: api.FakeGcp):
    for name in ("google_iam_v1.json", "google_cloudresourcemanager_v1.json", "google_storage_v1.json"):
        source = json.loads((api.SCHEMAS / name).read_text())["source"]
        assert source["repository"] == "googleapis/google-api-python-client" and re.fullmatch(r"[0-9a-f]{40}", source["commit"])
    verify(kit, fake)
    # The same reads again with every optional field the fake can send: soft-deleted, disabled, conditions.
    state = fake.state
    state.pools[kit.pool] = api.pool(kit.pool, display_name="Tavus recording", state="DELETED", disabled=True)
    state.providers[kit.provider] = api.provider(
        kit.provider,
        issuer="https://issuer.example",
        allowed_audiences=["tavus"],
        attribute_mapping=gcp_policy.ATTRIBUTE_MAPPING,
        attribute_condition="true",
        state="DELETED",
        disabled=True,
    )
    state.service_accounts[kit.email]["disabled"] = True
    conditional = {"role": "roles/iam.serviceAccountUser", "members": ["user:a@example.com"], "condition": {"title": "t", "expression": "true"}}
    state.service_account_policies[kit.email] = api.iam_policy([conditional], version=3)
    state.project_policies[kit.project]["bindings"].append(conditional)
    state.bucket_policies[kit.bucket]["bindings"].append(conditional)
    state.service_account_keys[kit.email].append(api.service_account_key(kit.project, kit.email, "9a8b", key_type="USER_MANAGED", disabled=True))
    state.hmac_keys[kit.project] = [api.hmac_key(kit.project, kit.email, "GOOG1EXAMPLE", state="INACTIVE")]
    state.buckets[kit.bucket] = api.bucket(kit.bucket, project_number=PROJECT_NUMBER, retention_seconds=86400, retention_locked=True)
    add_folder(kit, state, "rec/", [conditional])
    add_folder(kit, state, "empty/")
    verify(kit, fake)
    answered = [r for r in fake.received if r.schema is not None]
    assert len(answered) == 24
    assert {r.schema for r in answered} >= {("storage", "ManagedFolders"), ("storage", "Policy")}
    for received in answered:
        assert received.schema is not None
        api_name, schema_name = received.schema
        schemas = api.schemas(api_name)
        assert schema_problems(received.answer, schemas[schema_name], schemas, schema_name) == [], received.path


# --- each drift fails its own check


def _provider(kit: Kit, state: api.GcpState) -> dict[str, Any]:
    return state.providers[kit.provider]


def _account_bindings(kit: Kit, state: api.GcpState) -> list[dict[str, Any]]:
    return state.service_account_policies[kit.email]["bindings"]


def _project_bindings(kit: Kit, state: api.GcpState) -> list[dict[str, Any]]:
    return state.project_policies[kit.project]["bindings"]


def _bucket_bindings(kit: Kit, state: api.GcpState) -> list[dict[str, Any]]:
    return state.bucket_policies[kit.bucket]["bindings"]


def _writer_binding(kit: Kit, state: api.GcpState) -> dict[str, Any]:
    return next(b for b in _bucket_bindings(kit, state) if b["role"] == gcp_policy.WRITER_ROLE)


def _condition(condition: str) -> Callable[[Kit, api.GcpState], None]:
    return lambda k, s: _provider(k, s).update(attributeCondition=condition)


def _lifecycle(*rules: dict[str, Any]) -> Callable[[Kit, api.GcpState], None]:
    return lambda k, s: s.buckets[k.bucket].setdefault("lifecycle", {"rule": []})["rule"].extend(rules)


def _grant(where: Callable[[Kit, api.GcpState], list[dict[str, Any]]], role: str, member: Callable[[Kit], str]) -> Callable[[Kit, api.GcpState], None]:
    return lambda k, s: where(k, s).append({"role": role, "members": [member(k)]})


def add_folder(kit: Kit, state: api.GcpState, name: str, bindings: Optional[list[dict[str, Any]]] = None) -> None:
    """A managed folder of the kit's bucket, with an IAM policy of `bindings` (none: the policy of a new folder)."""
    state.managed_folders.setdefault(kit.bucket, []).append(api.managed_folder(kit.bucket, name))
    state.managed_folder_policies[(kit.bucket, name)] = api.managed_folder_policy(kit.bucket, name, bindings or [])


def _folder_grant(role: str, member: Callable[[Kit], str]) -> Callable[[Kit, api.GcpState], None]:
    return lambda k, s: add_folder(k, s, "recordings/", [{"role": role, "members": [member(k)]}])


SUBJECT = "tavus-recording-writer"
Drift = Callable[[Kit, api.GcpState], None]
# name -> (the change, the checks it fails, what their details must name)
DRIFTS: dict[str, tuple[Drift, tuple[str, ...], tuple[str, ...]]] = {
    "pool disabled": (lambda k, s: s.pools[k.pool].update(disabled=True), (POOL_STATE,), ("disabled",)),
    "pool soft-deleted": (
        lambda k, s: s.pools[k.pool].update(state="DELETED", expireTime="2026-12-23T10:00:00Z"),
        (POOL_STATE,),
        ("soft-deleted", "2026-12-23"),
    ),
    "provider disabled": (lambda k, s: _provider(k, s).update(disabled=True), (PROVIDER_STATE,), ("disabled",)),
    "provider soft-deleted": (lambda k, s: _provider(k, s).update(state="DELETED"), (PROVIDER_STATE,), ("soft-deleted",)),
    "another issuer": (
        lambda k, s: _provider(k, s)["oidc"].update(issuerUri="https://token.actions.githubusercontent.com"),
        (PROVIDER_ISSUER,),
        ("https://token.actions.githubusercontent.com", "https://tavus-issuer.example"),
    ),
    "an issuer with user info before its host": (
        lambda k, s: _provider(k, s)["oidc"].update(issuerUri="https://tavus-issuer.example@evil.example"),
        (PROVIDER_ISSUER,),
        ("user info",),
    ),
    "a plain http issuer": (
        lambda k, s: _provider(k, s)["oidc"].update(issuerUri="http://tavus-issuer.example"),
        (PROVIDER_ISSUER,),
        ("not an https URL",),
    ),
    "an audience Tavus's tokens do not carry": (
        lambda k, s: _provider(k, s)["oidc"].update(allowedAudiences=["sts.amazonaws.com"]),
        (PROVIDER_ISSUER,),
        ("sts.amazonaws.com",),
    ),
    "subject mapping missing": (
        lambda k, s: _provider(k, s).update(attributeMapping={"attribute.repository": "assertion.repository"}),
        (PROVIDER_MAPPING,),
        ("does not map google.subject",),
    ),
    "subject mapped from another claim": (
        lambda k, s: _provider(k, s).update(attributeMapping={"google.subject": "assertion.email"}),
        (PROVIDER_MAPPING,),
        ("assertion.email",),
    ),
    "subject mapped from a constant": (
        lambda k, s: _provider(k, s).update(attributeMapping={"google.subject": f"'{SUBJECT}'"}),
        (PROVIDER_MAPPING,),
        (f"'{SUBJECT}'",),
    ),
    "no condition": (lambda k, s: _provider(k, s).pop("attributeCondition"), (PROVIDER_CONDITION,), ("has no attribute condition",)),
    "a broader condition": (_condition('assertion.sub.startsWith("tavus")'), (PROVIDER_CONDITION,), ('assertion.sub.startsWith("tavus")',)),
    "a condition with an escape hatch": (_condition(f'assertion.sub == "{SUBJECT}" || true'), (PROVIDER_CONDITION,), ("'||'",)),
    "a condition that any subject meets": (_condition("assertion.sub != ''"), (PROVIDER_CONDITION,), ("does not require",)),
    "a condition negated twice": (_condition(f"!(assertion.sub != '{SUBJECT}')"), (PROVIDER_CONDITION,), ("does not require",)),
    "a ternary condition": (_condition(f"assertion.sub == '{SUBJECT}' ? true : true"), (PROVIDER_CONDITION,), ("'?'",)),
    "a condition pinning another subject": (_condition("assertion.sub == 'someone-else'"), (PROVIDER_CONDITION,), ("'someone-else'",)),
    "a condition with a comment": (_condition(f"assertion.sub == '{SUBJECT}' // || true"), (PROVIDER_CONDITION,), ("comment",)),
    "a provider with its own signing keys": (
        lambda k, s: _provider(k, s)["oidc"].update(jwksJson='{"keys": [{"kty": "RSA", "kid": "mallory"}]}'),
        (PROVIDER_ISSUER,),
        ("jwksJson",),
    ),
    "a second provider in the pool, for another issuer": (
        lambda k, s: s.providers.update({f"{k.pool}/providers/github": api.provider(
            f"{k.pool}/providers/github", issuer="https://token.actions.githubusercontent.com", attribute_mapping=gcp_policy.ATTRIBUTE_MAPPING,
            attribute_condition=gcp_policy.attribute_condition(SUBJECT))}),
        (PROVIDER_ISSUER,),
        ("providers/github", "https://token.actions.githubusercontent.com"),
    ),
    "a second, unpinned provider in the pool": (
        lambda k, s: s.providers.update({f"{k.pool}/providers/open": api.provider(
            f"{k.pool}/providers/open", issuer="https://tavus-issuer.example", attribute_mapping=gcp_policy.ATTRIBUTE_MAPPING)}),
        (PROVIDER_CONDITION,),
        ("providers/open", "has no attribute condition"),
    ),
    "service account disabled": (lambda k, s: s.service_accounts[k.email].update(disabled=True), (ACCOUNT_STATE,), ("disabled",)),
    "impersonation by the whole pool": (
        lambda k, s: _account_bindings(k, s)[0].update(members=[k.pool_set]),
        (IMPERSONATION,),
        ("every identity of pool", "does not grant"),
    ),
    "the whole pool beside Tavus's subject": (
        lambda k, s: _account_bindings(k, s)[0]["members"].append(k.pool_set),
        (IMPERSONATION,),
        ("every identity of pool",),
    ),
    "an attribute of the pool beside Tavus's subject": (
        lambda k, s: _account_bindings(k, s)[0]["members"].append(f"principalSet://iam.googleapis.com/{k.pool}/attribute.aud/x"),
        (IMPERSONATION,),
        ("whose attribute.aud is 'x'",),
    ),
    "another subject of the pool beside Tavus's": (
        lambda k, s: _account_bindings(k, s)[0]["members"].append(gcp_policy.workload_principal(k.pool, "someone-else")),
        (IMPERSONATION,),
        ("subject/someone-else",),
    ),
    "an extra impersonator": (
        lambda k, s: _account_bindings(k, s)[0]["members"].append("user:mallory@example.com"),
        (IMPERSONATION,),
        ("user:mallory@example.com",),
    ),
    "another role on the account": (
        _grant(_account_bindings, "roles/iam.serviceAccountTokenCreator", lambda k: "group:ops@example.com"),
        (IMPERSONATION,),
        ("roles/iam.serviceAccountTokenCreator", "group:ops@example.com"),
    ),
    "a role verify cannot prove harmless on the account": (
        _grant(_account_bindings, "roles/cloudfunctions.admin", lambda k: "user:dev@acme.example"),
        (IMPERSONATION,),
        ("roles/cloudfunctions.admin",),
    ),
    "impersonation only under a condition": (
        lambda k, s: _account_bindings(k, s)[0].update(condition={"title": "office hours", "expression": "request.time.getHours('UTC') < 18"}),
        (IMPERSONATION,),
        ("except under a condition",),
    ),
    "a group that can mint tokens project-wide": (
        _grant(_project_bindings, "roles/iam.serviceAccountTokenCreator", lambda k: "group:ops@acme.example"),
        (IMPERSONATION,),
        ("group:ops@acme.example", "project acme-recordings-prod"),
    ),
    "the whole pool project-wide": (
        _grant(_project_bindings, "roles/iam.workloadIdentityUser", lambda k: k.pool_set),
        (IMPERSONATION,),
        ("every identity of pool",),
    ),
    "another project's account as editor": (
        _grant(_project_bindings, "roles/editor", lambda k: OTHER_PROJECT_SA),
        (IMPERSONATION, BUCKET_ACCESS),
        (OTHER_PROJECT_SA,),
    ),
    "a user-managed key": (
        lambda k, s: s.service_account_keys[k.email].append(api.service_account_key(k.project, k.email, "0a1b2c", key_type="USER_MANAGED")),
        (KEYS,),
        ("key 0a1b2c", "user-managed"),
    ),
    "a disabled user-managed key": (
        lambda k, s: s.service_account_keys[k.email].append(
            api.service_account_key(k.project, k.email, "0a1b2c", key_type="USER_MANAGED", disabled=True)),
        (KEYS,),
        ("enable it again",),
    ),
    "an HMAC key": (
        lambda k, s: s.hmac_keys.setdefault(k.project, []).append(api.hmac_key(k.project, k.email, "GOOG1EXAMPLEKEY")),
        (KEYS,),
        ("HMAC key GOOG1EXAMPLEKEY",),
    ),
    "versioning off": (lambda k, s: s.buckets[k.bucket]["versioning"].update(enabled=False), (VERSIONING,), ("off",)),
    "uniform access off": (
        lambda k, s: s.buckets[k.bucket]["iamConfiguration"]["uniformBucketLevelAccess"].update(enabled=False),
        (UNIFORM_ACCESS,),
        ("off",),
    ),
    "public access prevention inherited": (
        lambda k, s: s.buckets[k.bucket]["iamConfiguration"].update(publicAccessPrevention="inherited"),
        (PUBLIC_ACCESS_PREVENTION,),
        ("'inherited'",),
    ),
    "lifecycle deleting live recordings early": (
        _lifecycle({"action": {"type": "Delete"}, "condition": {"age": 30, "isLive": True}}),
        (LIFECYCLE,),
        ("30 days after they land", "365 days"),
    ),
    "lifecycle deleting every version by date": (
        _lifecycle({"action": {"type": "Delete"}, "condition": {"createdBefore": "2027-01-01"}}),
        (LIFECYCLE,),
        ("createdBefore", "without waiting"),
    ),
    "lifecycle deleting by prefix": (
        _lifecycle({"action": {"type": "Delete"}, "condition": {"age": 1, "matchesPrefix": ["rec"]}}),
        (LIFECYCLE,),
        ("matchesPrefix",),
    ),
    "lifecycle with an action verify does not know": (
        _lifecycle({"action": {"type": "Obliterate"}, "condition": {"age": 2}}),
        (LIFECYCLE,),
        ("Obliterate",),
    ),
    "writer without objectCreator": (
        lambda k, s: _bucket_bindings(k, s).remove(_writer_binding(k, s)),
        (WRITER,),
        ("does not hold roles/storage.objectCreator",),
    ),
    "writer holding storage.admin too": (
        _grant(_bucket_bindings, "roles/storage.admin", lambda k: f"serviceAccount:{k.email}"),
        (PERMISSIONS,),
        ("roles/storage.admin", "delete or change"),
    ),
    "writer holding objectAdmin instead": (
        lambda k, s: _writer_binding(k, s).update(role="roles/storage.objectAdmin"),
        (WRITER, PERMISSIONS),
        ("roles/storage.objectAdmin",),
    ),
    "writer reading too": (
        _grant(_bucket_bindings, "roles/storage.objectViewer", lambda k: f"serviceAccount:{k.email}"),
        (LEAST_PRIVILEGE,),
        ("roles/storage.objectViewer", "a read Tavus does not need"),
    ),
    "writer acting project-wide": (
        _grant(_project_bindings, "roles/logging.logWriter", lambda k: f"serviceAccount:{k.email}"),
        (PERMISSIONS,),
        ("project-wide",),
    ),
    "writer with a custom role": (
        _grant(_bucket_bindings, "projects/acme-recordings-prod/roles/recorder", lambda k: f"serviceAccount:{k.email}"),
        (PERMISSIONS,),
        ("custom role",),
    ),
    "the pool's identities on the bucket": (
        _grant(_bucket_bindings, "roles/storage.objectAdmin", lambda k: k.pool_set),
        (PERMISSIONS, BUCKET_ACCESS),
        ("every identity of pool",),
    ),
    "Tavus's subject on the bucket directly": (
        _grant(_bucket_bindings, "roles/storage.objectCreator", lambda k: k.principal),
        (PERMISSIONS, BUCKET_ACCESS),
        ("subject/tavus-recording-writer",),
    ),
    "allUsers on the bucket": (
        _grant(_bucket_bindings, "roles/storage.objectViewer", lambda k: "allUsers"),
        (BUCKET_ACCESS,),
        ("allUsers",),
    ),
    "allAuthenticatedUsers on the bucket": (
        _grant(_bucket_bindings, "roles/storage.legacyBucketReader", lambda k: "allAuthenticatedUsers"),
        (BUCKET_ACCESS,),
        ("allAuthenticatedUsers",),
    ),
    "another project's account on the bucket": (
        _grant(_bucket_bindings, "roles/storage.objectViewer", lambda k: OTHER_PROJECT_SA),
        (BUCKET_ACCESS,),
        ("other-project-42",),
    ),
    "another project's account reading project-wide": (
        _grant(_project_bindings, "roles/storage.objectViewer", lambda k: OTHER_PROJECT_SA),
        (BUCKET_ACCESS,),
        ("other-project-42",),
    ),
    "bucket in another project": (
        lambda k, s: s.buckets[k.bucket].update(projectNumber="999999999999"),
        (BUCKET_PROJECT,),
        ("999999999999", PROJECT_NUMBER),
    ),
    "another project's account on a managed folder": (
        _folder_grant("roles/storage.objectViewer", lambda k: OTHER_PROJECT_SA),
        (BUCKET_ACCESS,),
        ("managed folder recordings/", "other-project-42"),
    ),
    "writer deleting under a managed folder": (
        _folder_grant("roles/storage.objectAdmin", lambda k: f"serviceAccount:{k.email}"),
        (PERMISSIONS,),
        ("managed folder recordings/", "roles/storage.objectAdmin"),
    ),
    "the public on a managed folder": (
        _folder_grant("roles/storage.objectViewer", lambda k: "allUsers"),
        (BUCKET_ACCESS,),
        ("allUsers",),
    ),
}


@pytest.mark.parametrize("drift", list(DRIFTS))
def test_each_drift_fails_its_own_check(kit: Kit, fake: api.FakeGcp, drift: str):
    change, check_ids, mentions = DRIFTS[drift]
    change(kit, fake.state)
    assert_only(verify(kit, fake), False, check_ids, *mentions)


# Look-alikes of the kit's trust that are just as safe: each must pass.
SAFE_CONDITIONS = [
    f"assertion['sub'] == '{SUBJECT}'",
    f"'{SUBJECT}' == assertion.sub",
    f"(assertion.sub == \"{SUBJECT}\")",
    f"assertion.sub == '{SUBJECT}' && assertion.aud.startsWith('//iam')",
    f"(assertion.iss == 'https://tavus-issuer.example' || true) && assertion.sub == '{SUBJECT}'",
    "assertion.sub == 'tavus\\x2drecording-writer'",
]


@pytest.mark.parametrize("condition", SAFE_CONDITIONS)
def test_a_condition_that_provably_pins_tavuss_subject_passes(kit: Kit, fake: api.FakeGcp, condition: str):
    _provider(kit, fake.state)["attributeCondition"] = condition
    assert all(check.ok for check in verify(kit, fake)), condition


def test_a_condition_on_a_mapped_subject_passes_only_when_mapped_from_the_sub_claim(kit: Kit, fake: api.FakeGcp):
    _provider(kit, fake.state)["attributeCondition"] = f"google.subject == '{SUBJECT}'"
    assert all(check.ok for check in verify(kit, fake))
    _provider(kit, fake.state)["attributeMapping"] = {"google.subject": "assertion.email"}
    assert_only(verify(kit, fake), False, (PROVIDER_MAPPING, PROVIDER_CONDITION))


def test_a_missing_service_account_fails_and_skips_its_policy_and_keys(kit: Kit, fake: api.FakeGcp):
    del fake.state.service_accounts[kit.email]
    checks = by_id(verify(kit, fake))
    assert checks[ACCOUNT_STATE].ok is False and "does not exist" in checks[ACCOUNT_STATE].detail
    for check_id in (IMPERSONATION, KEYS):
        assert checks[check_id].ok is None and "not checked" in checks[check_id].detail
    assert all(c.ok is True for i, c in checks.items() if i not in (ACCOUNT_STATE, IMPERSONATION, KEYS))


def test_a_missing_provider_fails_and_skips_what_it_would_configure(kit: Kit, fake: api.FakeGcp):
    del fake.state.providers[kit.provider]
    checks = by_id(verify(kit, fake))
    assert checks[PROVIDER_STATE].ok is False and "does not exist" in checks[PROVIDER_STATE].detail
    assert [checks[i].ok for i in PROVIDER_IDS[1:]] == [None, None, None]
    assert all(c.ok is True for i, c in checks.items() if i not in PROVIDER_IDS)


def test_a_missing_bucket_fails_and_skips_the_bucket_checks(kit: Kit, fake: api.FakeGcp):
    del fake.state.buckets[kit.bucket]
    checks = by_id(verify(kit, fake))
    assert checks[BUCKET_PROJECT].ok is False and f"bucket {kit.bucket} does not exist" in checks[BUCKET_PROJECT].detail
    for check_id in (*BUCKET_IDS[1:], WRITER, *GRANT_IDS):
        assert checks[check_id].ok is None and "not checked" in checks[check_id].detail, checks[check_id]
    assert all(c.ok is True for i, c in checks.items() if i not in (*BUCKET_IDS, WRITER, *GRANT_IDS))


def test_an_audience_set_in_the_stack_must_be_allowed_by_the_provider(kit: Kit, fake: api.FakeGcp):
    outputs = {**kit.outputs, "tavus_oidc_audience": "tavus-recordings"}
    assert_only(verify(kit, fake, outputs), False, (PROVIDER_ISSUER,), "lack Tavus's audience 'tavus-recordings'")
    _provider(kit, fake.state)["oidc"]["allowedAudiences"] = ["tavus-recordings"]
    assert all(check.ok for check in verify(kit, fake, outputs))


# --- will the recordings last


def test_a_retention_policy_removed_or_shortened_fails(kit: Kit, fake: api.FakeGcp):
    # A stack that asks for WORM (immutable_days) and a bucket that keeps it: healthy.
    outputs = {**kit.outputs, "immutable_days": 30}
    fake.state.buckets[kit.bucket]["retentionPolicy"] = {"retentionPeriod": str(30 * 86400), "effectiveTime": "2026-11-22T10:00:00.000Z"}
    checks = by_id(verify(kit, fake, outputs))
    assert checks[RETENTION].ok is True and "30 days" in checks[RETENTION].detail
    fake.state.buckets[kit.bucket]["retentionPolicy"]["retentionPeriod"] = str(7 * 86400)
    assert_only(verify(kit, fake, outputs), False, (RETENTION,), "7 days", "shorter than the 30 days")
    del fake.state.buckets[kit.bucket]["retentionPolicy"]
    assert_only(verify(kit, fake, outputs), False, (RETENTION,), "no retention policy")
    assert verify_gcp.PULUMI_UP in by_id(verify(kit, fake, outputs))[RETENTION].fix
    # A bucket the stack only looked up gets the direct fix.
    fix = by_id(verify(kit, fake, {**unmanaged(kit), "immutable_days": 30}))[RETENTION].fix
    assert fix == f"gcloud storage buckets update gs://{kit.bucket} --retention-period=2592000s {UNMANAGED}"


@pytest.mark.parametrize("period", [str(30 * 86400), 30 * 86400, str(31 * 86400)])
def test_a_compliance_stack_needs_its_policy_locked_and_governance_allows_a_lock(kit: Kit, fake: api.FakeGcp, period: Any):
    compliance = {**kit.outputs, "immutable_days": 30, "immutable_mode": "compliance"}
    governance = {**compliance, "immutable_mode": "governance"}
    policy = {"retentionPeriod": period, "effectiveTime": "2026-11-22T10:00:00.000Z"}
    fake.state.buckets[kit.bucket]["retentionPolicy"] = policy
    # The JSON API leaves isLocked out of an unlocked policy; false is the same.
    assert_only(verify(kit, fake, compliance), False, (RETENTION,), "not locked", "compliance")
    assert by_id(verify(kit, fake, governance))[RETENTION].ok is True
    policy["isLocked"] = False
    assert_only(verify(kit, fake, compliance), False, (RETENTION,), "not locked")
    fix = by_id(verify(kit, fake, compliance))[RETENTION].fix
    assert verify_gcp.PULUMI_UP in fix and f"gcloud storage buckets update gs://{kit.bucket} --lock-retention-period" in fix
    policy["isLocked"] = True
    fake.received.clear()  # a fresh request budget for the fake
    checks = by_id(verify(kit, fake, compliance))
    assert checks[RETENTION].ok is True and "(locked)" in checks[RETENTION].detail and "locked (immutableMode compliance)" in checks[RETENTION].detail
    # A locked policy is stricter than governance asks: it passes too.
    assert by_id(verify(kit, fake, governance))[RETENTION].ok is True


def test_a_locked_policy_shortened_or_removed_still_fails_and_a_compliance_bucket_the_stack_only_looked_up_gets_the_lock_command(
        kit: Kit, fake: api.FakeGcp):
    compliance = {**kit.outputs, "immutable_days": 30, "immutable_mode": "compliance"}
    fake.state.buckets[kit.bucket]["retentionPolicy"] = {"retentionPeriod": str(29 * 86400), "isLocked": True}
    assert_only(verify(kit, fake, compliance), False, (RETENTION,), "29 days (locked)", "shorter than the 30 days")
    fake.state.buckets[kit.bucket]["retentionPolicy"] = {"retentionPeriod": str(30 * 86400)}
    fix = by_id(verify(kit, fake, {**unmanaged(kit), "immutable_days": 30, "immutable_mode": "compliance"}))[RETENTION].fix
    assert fix == f"gcloud storage buckets update gs://{kit.bucket} --lock-retention-period (irreversible) {UNMANAGED}"
    fake.state.buckets[kit.bucket]["retentionPolicy"] = {"retentionPeriod": "not a number", "isLocked": True}
    assert_only(verify(kit, fake, compliance), False, (RETENTION,), "no retention policy")


# --- is every read and write logged (audit_logs)


def audit_configs(kit: Kit, fake: api.FakeGcp, *configs: dict[str, Any]) -> None:
    fake.state.project_policies[kit.project]["auditConfigs"] = list(configs)


def storage_audit(*log_types: str, service: str = "storage.googleapis.com", exempt: Optional[dict[str, list[str]]] = None) -> dict[str, Any]:
    """An auditConfigs entry as the Resource Manager API returns it (exemptedMembers left out when empty)."""
    exempt = exempt or {}
    return {"service": service, "auditLogConfigs": [{"logType": t, **({"exemptedMembers": exempt[t]} if t in exempt else {})} for t in log_types]}


def test_a_stack_that_asks_for_audit_logs_passes_with_the_kits_config_and_fails_without_it(kit: Kit, fake: api.FakeGcp):
    outputs = {**kit.outputs, "audit_logs": True}
    # What the kit's IAMAuditConfig deploys, merged with an ADMIN_READ the project had.
    audit_configs(kit, fake, storage_audit("ADMIN_READ", "DATA_READ", "DATA_WRITE"))
    checks = by_id(verify(kit, fake, outputs))
    assert checks[DATA_ACCESS_LOGS].ok is True and "exempting nobody" in checks[DATA_ACCESS_LOGS].detail
    # The pass says what was read: the configs, not the sink or the bucket the entries go through (red team 19b #2).
    assert f"project {kit.project}'s own audit configs log" in checks[DATA_ACCESS_LOGS].detail
    assert "not the _Default sink's exclusions or filter, nor the _Default bucket's retention" in checks[DATA_ACCESS_LOGS].detail
    assert not [r for r in fake.received if "/sinks" in r.path or "/buckets/_Default" in r.path]
    fake.received.clear()
    audit_configs(kit, fake)
    assert_only(verify(kit, fake, outputs), False, (DATA_ACCESS_LOGS,), "does not log DATA_READ and DATA_WRITE", "are not read")
    fix = by_id(verify(kit, fake, outputs))[DATA_ACCESS_LOGS].fix
    assert verify_gcp.PULUMI_UP in fix and f"gcloud projects set-iam-policy {kit.project} policy.json" in fix


@pytest.mark.parametrize("configs, missing", [
    ([storage_audit("DATA_WRITE")], "DATA_READ"),
    ([storage_audit("DATA_READ")], "DATA_WRITE"),
    ([storage_audit("ADMIN_READ")], "DATA_READ and DATA_WRITE"),
    ([storage_audit("data_read", "data_write")], "DATA_READ and DATA_WRITE"),
    ([storage_audit("DATA_READ", "DATA_WRITE", service="bigquery.googleapis.com")], "DATA_READ and DATA_WRITE"),
    ([storage_audit("DATA_READ", "DATA_WRITE", service="storage.googleapis.com.evil")], "DATA_READ and DATA_WRITE"),
])
def test_a_data_log_type_missing_fails(kit: Kit, fake: api.FakeGcp, configs: list[dict[str, Any]], missing: str):
    audit_configs(kit, fake, *configs)
    assert_only(verify(kit, fake, {**kit.outputs, "audit_logs": True}), False, (DATA_ACCESS_LOGS,), f"does not log {missing} ")


@pytest.mark.parametrize("configs", [
    [storage_audit("DATA_READ", "DATA_WRITE", service="allServices")],
    [storage_audit("DATA_READ", service="allServices"), storage_audit("DATA_WRITE")],
    [storage_audit("DATA_WRITE", "ADMIN_READ", service="allServices"), storage_audit("DATA_READ", "DATA_WRITE")],
])
def test_all_services_covers_cloud_storage(kit: Kit, fake: api.FakeGcp, configs: list[dict[str, Any]]):
    audit_configs(kit, fake, *configs)
    assert by_id(verify(kit, fake, {**kit.outputs, "audit_logs": True}))[DATA_ACCESS_LOGS].ok is True


@pytest.mark.parametrize("service", ["storage.googleapis.com", "allServices"])
@pytest.mark.parametrize("log_type", ["DATA_READ", "DATA_WRITE"])
def test_an_exemption_of_the_writer_fails_naming_it(kit: Kit, fake: api.FakeGcp, service: str, log_type: str):
    writer = f"serviceAccount:{kit.email}"
    audit_configs(kit, fake, storage_audit("DATA_READ", "DATA_WRITE", service=service, exempt={log_type: [writer, "user:ops@acme.example"]}))
    checks = by_id(verify(kit, fake, {**kit.outputs, "audit_logs": True}))
    check = checks[DATA_ACCESS_LOGS]
    assert check.ok is False and writer in check.detail and "user:ops@acme.example" in check.detail and log_type in check.detail
    # `pulumi up` keeps an exemption the project had: the fix is the direct edit.
    assert verify_gcp.PULUMI_UP not in check.fix and f"remove {writer}" in check.fix


def test_audit_logs_not_asked_for_pass_whatever_the_project_logs_and_an_unreadable_policy_is_unknown(kit: Kit, fake: api.FakeGcp):
    audit_configs(kit, fake, storage_audit("DATA_WRITE", exempt={"DATA_WRITE": ["user:ops@acme.example"]}))
    assert by_id(verify(kit, fake, {**kit.outputs, "audit_logs": False}))[DATA_ACCESS_LOGS].ok is True
    assert by_id(verify(kit, fake, {k: v for k, v in kit.outputs.items() if k != "audit_logs"}))[DATA_ACCESS_LOGS].ok is True
    fake.received.clear()
    fake.fail(f"/v1/projects/{kit.project}:getIamPolicy", 403)
    check = by_id(verify(kit, fake, {**kit.outputs, "audit_logs": True}))[DATA_ACCESS_LOGS]
    assert check.ok is None and "resourcemanager.projects.getIamPolicy denied" in check.detail


def test_the_stacks_cold_move_passes_and_its_drift_fails(kit: Kit, fake: api.FakeGcp):
    outputs = {**kit.outputs, "cold_after_days": 60}
    # The kit's bucket has no move yet: the stack asks for one.
    assert_only(verify(kit, fake, outputs), False, (verify_gcp.COLD_TIER,), "no lifecycle rule moving live recordings to NEARLINE at age 60")
    move = {"action": {"type": "SetStorageClass", "storageClass": "NEARLINE"},
            "condition": {"age": 60, "matchesStorageClass": ["STANDARD"], "isLive": True}}
    fake.state.buckets[kit.bucket].setdefault("lifecycle", {"rule": []})["rule"].append(move)
    assert_only(verify(kit, fake, outputs), True, ())
    # Moved for archived versions too (no isLive), or at another age: not the stack's move.
    move["condition"] = {"age": 60, "matchesStorageClass": ["STANDARD"]}
    assert_only(verify(kit, fake, outputs), False, (verify_gcp.COLD_TIER,), "at age 60")
    assert verify_gcp.PULUMI_UP in by_id(verify(kit, fake, outputs))[verify_gcp.COLD_TIER].fix


@pytest.mark.parametrize("narrowing", [{"daysSinceCustomTime": 0}, {"daysSinceNoncurrentTime": 0}, {"customTimeBefore": "2030-01-01"},
                                       {"noncurrentTimeBefore": "2030-01-01"}])
def test_a_move_narrowed_to_objects_with_a_custom_time_or_to_noncurrent_ones_is_not_the_stacks(kit: Kit, fake: api.FakeGcp,
                                                                                             narrowing: dict[str, Any]):
    outputs = {**kit.outputs, "cold_after_days": 60}
    move = {"action": {"type": "SetStorageClass", "storageClass": "NEARLINE"},
            "condition": {"age": 60, "matchesStorageClass": ["STANDARD"], "isLive": True, **narrowing}}
    fake.state.buckets[kit.bucket].setdefault("lifecycle", {"rule": []})["rule"].append(move)
    assert_only(verify(kit, fake, outputs), False, (verify_gcp.COLD_TIER,), "no lifecycle rule moving live recordings to NEARLINE")


@pytest.mark.parametrize("other,reported", [
    ({"action": {"type": "SetStorageClass", "storageClass": "COLDLINE"}, "condition": {"age": 30, "isLive": True}}, True),
    ({"action": {"type": "SetStorageClass", "storageClass": "ARCHIVE"}, "condition": {"age": 60}}, True),
    ({"action": {"type": "SetStorageClass", "storageClass": "ARCHIVE"}, "condition": {"age": 365, "isLive": True}}, False),
    ({"action": {"type": "SetStorageClass", "storageClass": "ARCHIVE"}, "condition": {"age": 1, "isLive": False}}, False),
])
def test_a_cheaper_move_by_the_stacks_age_takes_its_place_and_the_pass_says_what_was_read(kit: Kit, fake: api.FakeGcp,
                                                                                        other: dict[str, Any], reported: bool):
    outputs = {**kit.outputs, "cold_after_days": 60}
    move = {"action": {"type": "SetStorageClass", "storageClass": "NEARLINE"},
            "condition": {"age": 60, "matchesStorageClass": ["STANDARD"], "isLive": True}}
    fake.state.buckets[kit.bucket].setdefault("lifecycle", {"rule": []})["rule"].extend([move, other])
    if reported:
        assert_only(verify(kit, fake, outputs), False, (verify_gcp.COLD_TIER,), f"to {other['action']['storageClass']}",
                    "instead of the stack's move to NEARLINE at age 60")
        assert verify_gcp.PULUMI_UP in by_id(verify(kit, fake, outputs))[verify_gcp.COLD_TIER].fix
    else:
        detail = by_id(verify(kit, fake, outputs))[verify_gcp.COLD_TIER].detail
        assert_only(verify(kit, fake, outputs), True, ())
        assert "a lifecycle rule of bucket" in detail and "NEARLINE at age 60" in detail


STORAGE_AGENT = f"serviceAccount:service-{PROJECT_NUMBER}@gs-project-accounts.iam.gserviceaccount.com"


def key_grant(member: str = STORAGE_AGENT, role: str = gcp_policy.KEY_USER_ROLE, **extra: Any) -> dict[str, Any]:
    return {"role": role, "members": [member], **extra}


def keyed_encryption(key: str) -> dict[str, Any]:
    """The bucket's encryption as the kit sets it with kmsKeyName: the key, and CSEK and Google-managed keys refused."""
    restricted = {"restrictionMode": "FullyRestricted", "effectiveTime": "2026-11-22T10:00:00.000Z"}
    return {"defaultKmsKeyName": key, "customerSuppliedEncryptionEnforcementConfig": dict(restricted),
            "googleManagedEncryptionEnforcementConfig": dict(restricted)}


def test_the_buckets_default_key_is_the_stacks(kit: Kit, fake: api.FakeGcp):
    key = f"projects/{kit.project}/locations/us/keyRings/rec/cryptoKeys/recordings"
    outputs = {**kit.outputs, "kms_key_name": key}
    # What the kit's CryptoKeyIAMMember grants.
    fake.state.key_policies[key] = api.iam_policy([key_grant()])
    assert_only(verify(kit, fake, outputs), False, (verify_gcp.ENCRYPTION_KEY,), "Google-managed keys", f"not the stack's {key}")
    fake.state.buckets[kit.bucket]["encryption"] = keyed_encryption(key)
    checks = by_id(verify(kit, fake, outputs))
    assert all(c.ok for c in checks.values()) and key in checks[verify_gcp.ENCRYPTION_KEY].detail
    fake.state.buckets[kit.bucket]["encryption"] = keyed_encryption(key.replace("recordings", "other"))
    assert_only(verify(kit, fake, outputs), False, (verify_gcp.ENCRYPTION_KEY,), "cryptoKeys/other")
    fix = by_id(verify(kit, fake, {**unmanaged(kit), "kms_key_name": key}))[verify_gcp.ENCRYPTION_KEY].fix
    assert fix == f"gcloud storage buckets update gs://{kit.bucket} --default-encryption-key={key} {UNMANAGED}"


KEY = "projects/acme-keys/locations/us/keyRings/rec/cryptoKeys/recordings"


@pytest.fixture
def keyed(kit: Kit, fake: api.FakeGcp) -> dict[str, Any]:
    """The stack with kmsKeyName (a key in another project), deployed: the bucket's default key and the agent's grant."""
    fake.state.buckets[kit.bucket]["encryption"] = keyed_encryption(KEY)
    fake.state.key_policies[KEY] = api.iam_policy([key_grant(), key_grant("group:kms-admins@acme.example", "roles/cloudkms.admin")])
    return {**kit.outputs, "kms_key_name": KEY}


def test_the_storage_agents_grant_on_the_key_passes_and_is_read_with_the_api_version(kit: Kit, fake: api.FakeGcp, keyed: dict[str, Any]):
    checks = by_id(verify(kit, fake, keyed))
    assert [c for c in checks.values() if c.ok is not True] == []
    assert STORAGE_AGENT.removeprefix("serviceAccount:") in checks[verify_gcp.SERVICE_AGENT].detail
    [read] = [r for r in fake.received if r.path.endswith(":getIamPolicy") and "cryptoKeys" in r.path]
    assert read.method == "GET" and read.query == {"options.requestedPolicyVersion": ["3"]} and read.schema == ("cloudkms", "Policy")
    schemas = api.schemas("cloudkms")  # google.iam.v1.Policy, as Resource Manager's document spells it
    assert schema_problems(read.answer, schemas["Policy"], schemas, "Policy") == []


@pytest.mark.parametrize("bindings", [
    [],
    [key_grant(role="roles/cloudkms.cryptoKeyEncrypter")],
    [key_grant(role="roles/cloudkms.cryptoKeyDecrypter")],
    [key_grant(condition={"title": "t", "expression": "request.time < timestamp('2030-01-01T00:00:00Z')"})],
    [key_grant("serviceAccount:service-999999999999@gs-project-accounts.iam.gserviceaccount.com")],
    [key_grant(f"serviceAccount:{PROJECT_NUMBER}@cloudservices.gserviceaccount.com")],
    [key_grant("serviceAccount:tavus-recordings-gcs@acme-recordings-prod.iam.gserviceaccount.com")],
])
def test_a_key_the_storage_agent_cannot_use_fails(kit: Kit, fake: api.FakeGcp, keyed: dict[str, Any], bindings: list[dict[str, Any]]):
    fake.state.key_policies[KEY] = api.iam_policy(bindings, version=3)
    assert_only(verify(kit, fake, keyed), False, (verify_gcp.SERVICE_AGENT,), f"service-{PROJECT_NUMBER}@gs-project-accounts", KEY)
    fix = by_id(verify(kit, fake, keyed))[verify_gcp.SERVICE_AGENT].fix
    assert verify_gcp.PULUMI_UP in fix and f"gcloud kms keys add-iam-policy-binding {KEY} --member={STORAGE_AGENT}" in fix


def test_a_project_wide_grant_counts_only_in_the_key_s_own_project(kit: Kit, fake: api.FakeGcp, keyed: dict[str, Any]):
    own_key = KEY.replace("acme-keys", kit.project)
    fake.state.key_policies = {KEY: api.iam_policy([]), own_key: api.iam_policy([])}
    fake.state.project_policies[kit.project]["bindings"].append(key_grant())
    assert by_id(verify(kit, fake, keyed))[verify_gcp.SERVICE_AGENT].ok is False
    fake.received.clear()
    fake.state.buckets[kit.bucket]["encryption"] = keyed_encryption(own_key)
    assert by_id(verify(kit, fake, {**keyed, "kms_key_name": own_key}))[verify_gcp.SERVICE_AGENT].ok is True


def test_a_key_that_cannot_be_read_is_unknown_and_a_missing_key_fails(kit: Kit, fake: api.FakeGcp, keyed: dict[str, Any]):
    fake.fail(f"/v1/{KEY}:getIamPolicy", 403)
    check = by_id(verify(kit, fake, keyed))[verify_gcp.SERVICE_AGENT]
    assert check.ok is None and "cloudkms.cryptoKeys.getIamPolicy denied" in check.detail and "cloudkms.cryptoKeys.getIamPolicy" in check.fix
    fake.received.clear()
    fake.errors.clear()
    del fake.state.key_policies[KEY]
    assert_only(verify(kit, fake, keyed), False, (verify_gcp.SERVICE_AGENT,), "does not exist")
    # No key asked for: nothing read, nothing needed.
    fake.received.clear()
    assert by_id(verify(kit, fake))[verify_gcp.SERVICE_AGENT].ok is True
    assert not [r for r in fake.received if "cryptoKeys" in r.path]


def test_without_retention_days_any_deletion_of_live_recordings_fails(kit: Kit, fake: api.FakeGcp):
    # The kit's own rule deletes after 365 days: a stack that keeps recordings (null) must not have it.
    assert_only(verify(kit, fake, {**kit.outputs, "retention_days": None}), False, (LIFECYCLE,), "for good")


def test_a_stack_from_before_retention_days_makes_a_live_deletion_unknown_never_passing(kit: Kit, fake: api.FakeGcp):
    outputs = {name: value for name, value in kit.outputs.items() if name != "retention_days"}
    assert_only(verify(kit, fake, outputs), None, (LIFECYCLE,), "do not say its retention")


@pytest.mark.parametrize(
    "rule",
    [
        {"action": {"type": "Delete"}, "condition": {"numNewerVersions": 3}},
        {"action": {"type": "Delete"}, "condition": {"daysSinceNoncurrentTime": 7, "matchesPrefix": ["rec"]}},
        {"action": {"type": "Delete"}, "condition": {"age": 1, "isLive": False}},
        {"action": {"type": "Delete"}, "condition": {"age": 400}},
        {"action": {"type": "SetStorageClass", "storageClass": "NEARLINE"}, "condition": {"age": 30}},
    ],
)
def test_lifecycle_rules_that_spare_live_recordings_pass(kit: Kit, fake: api.FakeGcp, rule: dict[str, Any]):
    _lifecycle(rule)(kit, fake.state)
    assert all(check.ok for check in verify(kit, fake)), rule


# --- reads the caller may not make, and clouds that do not answer


READS: dict[str, tuple[Callable[[Kit], str], tuple[str, ...], str]] = {
    "pool": (lambda k: f"/v1/{k.pool}", (POOL_STATE,), "iam.workloadIdentityPools.get"),
    "provider": (lambda k: f"/v1/{k.provider}", PROVIDER_IDS, "iam.workloadIdentityPoolProviders.get"),
    "the pool's providers": (lambda k: f"/v1/{k.pool}/providers", PROVIDER_IDS[1:], "iam.workloadIdentityPoolProviders.list"),
    "service account": (
        lambda k: f"/v1/projects/{k.project}/serviceAccounts/{k.email}",
        (ACCOUNT_STATE,),
        "iam.serviceAccounts.get",
    ),
    "service account policy": (
        lambda k: f"/v1/projects/{k.project}/serviceAccounts/{k.email}:getIamPolicy",
        (IMPERSONATION,),
        "iam.serviceAccounts.getIamPolicy",
    ),
    "service account keys": (lambda k: f"/v1/projects/{k.project}/serviceAccounts/{k.email}/keys", (KEYS,), "iam.serviceAccountKeys.list"),
    "HMAC keys": (lambda k: f"/storage/v1/projects/{k.project}/hmacKeys", (KEYS,), "storage.hmacKeys.list"),
    "project policy": (lambda k: f"/v1/projects/{k.project}:getIamPolicy", (IMPERSONATION, *GRANT_IDS), "resourcemanager.projects.getIamPolicy"),
    # (the stack sets kmsKeyName here: the test adds it; the service agent is named from the bucket's project number)
    "bucket": (lambda k: f"/storage/v1/b/{k.bucket}", (*BUCKET_IDS, verify_gcp.SERVICE_AGENT), "storage.buckets.get"),
    "bucket policy": (lambda k: f"/storage/v1/b/{k.bucket}/iam", (WRITER, *GRANT_IDS), "storage.buckets.getIamPolicy"),
    "managed folders": (lambda k: f"/storage/v1/b/{k.bucket}/managedFolders", GRANT_IDS, "storage.managedFolders.list"),
    # (read only when the bucket has a managed folder: the test adds one)
    "a managed folder's policy": (lambda k: f"/storage/v1/b/{k.bucket}/managedFolders/recordings//iam", GRANT_IDS,
                                  "storage.managedFolders.getIamPolicy"),
    "the key's policy": (lambda k: f"/v1/{KEY}:getIamPolicy", (verify_gcp.SERVICE_AGENT,), "cloudkms.cryptoKeys.getIamPolicy"),
}


@pytest.mark.parametrize("read", list(READS))
def test_a_denied_read_makes_only_its_checks_unknown_naming_the_permission(kit: Kit, fake: api.FakeGcp, read: str):
    path, ids, permission = READS[read]
    add_folder(kit, fake.state, "recordings/")
    fake.state.buckets[kit.bucket]["encryption"] = keyed_encryption(KEY)
    fake.state.key_policies[KEY] = api.iam_policy([key_grant()])
    fake.fail(path(kit), 403)
    checks = verify(kit, fake, {**kit.outputs, "kms_key_name": KEY})
    assert_only(checks, None, ids, f"{permission} denied")
    assert all(permission in check.fix for check in checks if check.id in ids)
    # Google's own words are kept.
    assert all("does not have" in check.detail or "denied on resource" in check.detail or "does not have permission" in check.detail
               for check in checks if check.id in ids)
    assert all(fake.url not in check.detail for check in checks)
    assert set(READ_PERMISSIONS) == {permission for _, _, permission in READS.values()}


def test_a_denied_read_never_hides_a_failure_it_could_see(kit: Kit, fake: api.FakeGcp):
    # The project's policy is unreadable, but the account's own shows an impersonator: that fails, not "unknown".
    fake.fail(f"/v1/projects/{kit.project}:getIamPolicy", 403)
    _account_bindings(kit, fake.state)[0]["members"].append("user:mallory@example.com")
    checks = by_id(verify(kit, fake))
    assert checks[IMPERSONATION].ok is False and "user:mallory@example.com" in checks[IMPERSONATION].detail


def test_a_managed_folder_verify_cannot_read_never_hides_a_failure_it_could_see(kit: Kit, fake: api.FakeGcp):
    add_folder(kit, fake.state, "recordings/")
    fake.fail(f"/storage/v1/b/{kit.bucket}/managedFolders/recordings//iam", 500)
    _grant(_bucket_bindings, "roles/storage.objectViewer", lambda k: OTHER_PROJECT_SA)(kit, fake.state)
    checks = by_id(verify(kit, fake))
    assert checks[BUCKET_ACCESS].ok is False and "other-project-42" in checks[BUCKET_ACCESS].detail
    assert checks[PERMISSIONS].ok is None and "HTTP 500" in checks[PERMISSIONS].detail


def test_more_managed_folders_than_verify_reads_are_unknown_saying_so(kit: Kit, fake: api.FakeGcp, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(gcp_reads, "MAX_MANAGED_FOLDERS", 2)
    fake.state.managed_folders_page_size = 2
    for name in ("a/", "b/", "c/"):
        add_folder(kit, fake.state, name)
    assert_only(verify(kit, fake), None, GRANT_IDS, "more than 2 managed folders")
    # No folder's policy was read: verify stops at the list.
    assert not [r for r in fake.received if r.path.endswith("/iam") and "managedFolders" in r.path]


def test_a_managed_folder_deleted_between_the_list_and_its_policy_is_gone(kit: Kit, fake: api.FakeGcp):
    add_folder(kit, fake.state, "recordings/")
    fake.fail(f"/storage/v1/b/{kit.bucket}/managedFolders/recordings//iam", 404)
    assert all(check.ok for check in verify(kit, fake))


def test_a_grant_on_a_managed_folder_is_removed_from_the_folder(kit: Kit, fake: api.FakeGcp):
    _folder_grant("roles/storage.objectViewer", lambda k: OTHER_PROJECT_SA)(kit, fake.state)
    fix = by_id(verify(kit, fake))[BUCKET_ACCESS].fix
    assert fix == (f"gcloud storage managed-folders remove-iam-policy-binding gs://{kit.bucket}/recordings/ --member={OTHER_PROJECT_SA} "
                   "--role=roles/storage.objectViewer")


def test_the_reader_role_command_names_every_permission_verify_reads_with(kit: Kit):
    command = verify_gcp.reader_role_command(kit.project)
    assert command.endswith("--permissions=" + ",".join(READ_PERMISSIONS))
    assert set(verify_gcp.READER_ROLES) == set(READ_PERMISSIONS)


# Google's words when user credentials lack a quota project, and when the API is off in it.
NO_QUOTA_PROJECT = (
    "Your application is authenticating by using local Application Default Credentials. The iam.googleapis.com "
    "API requires a quota project, which is not set by default."
)
API_DISABLED = (
    "Identity and Access Management (IAM) API has not been used in project 32555940559 before or it is disabled."
)


@pytest.mark.parametrize("message", [NO_QUOTA_PROJECT, API_DISABLED])
def test_a_403_that_is_not_about_permissions_says_what_it_is(kit: Kit, fake: api.FakeGcp, message: str):
    fake.fail(f"/v1/{kit.pool}", 403, message)
    check = by_id(verify(kit, fake))[POOL_STATE]
    assert check.ok is None
    assert message in check.detail and "not for want of iam.workloadIdentityPools.get" in check.detail
    assert f"gcloud auth application-default set-quota-project {kit.project}" in check.fix


def test_an_unreachable_cloud_cannot_be_verified_and_says_so_in_one_line_quickly(kit: Kit):
    with closed_port() as port:
        closed = f"http://127.0.0.1:{port}"
        started = time.monotonic()
        with pytest.raises(CannotVerify) as raised:
            verify_gcp.verify(kit.storage, kit.outputs, credentials=Credentials(token=TOKEN), iam_url=closed, storage_url=closed, crm_url=closed)
    assert time.monotonic() - started < 5
    assert f"{closed} could not be reached" in str(raised.value) and "\n" not in str(raised.value)


def test_a_cloud_that_does_not_answer_is_tried_once_and_given_up_on(kit: Kit, fake: api.FakeGcp, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(gcp_reads, "TIMEOUT_SECONDS", 0.3)
    fake.delay = 2.0
    started = time.monotonic()
    with pytest.raises(CannotVerify) as raised:
        verify(kit, fake)
    assert time.monotonic() - started < 1.5
    assert "no answer within 0.3 s" in str(raised.value)
    assert len(fake.received) == 1


def test_without_credentials_verify_cannot_run_and_says_how_to_log_in(kit: Kit, monkeypatch: pytest.MonkeyPatch, tmp_path):
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "missing.json"))
    with pytest.raises(CannotVerify) as raised:
        verify_gcp.verify(kit.storage, kit.outputs, iam_url="http://127.0.0.1:9", storage_url="http://127.0.0.1:9")
    assert "gcloud auth application-default login" in str(raised.value) and "\n" not in str(raised.value)


def test_application_default_credentials_are_used_when_none_are_given(kit: Kit, fake: api.FakeGcp, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr("google.auth.default", lambda scopes=None: (Credentials(token="adc-token"), None))
    checks = verify_gcp.verify(kit.storage, kit.outputs, iam_url=fake.url, storage_url=fake.url, crm_url=fake.url)
    assert all(check.ok for check in checks)
    assert {r.headers["authorization"] for r in fake.received} == {"Bearer adc-token"}


def test_refused_credentials_stop_the_reads_and_say_how_to_log_in(kit: Kit, fake: api.FakeGcp):
    fake.fail(f"/v1/{kit.pool}", 401)  # an expired token that cannot be refreshed
    with pytest.raises(CannotVerify) as raised:
        verify(kit, fake)
    assert "gcloud auth application-default login" in str(raised.value)
    assert len(fake.received) == 1


def test_a_cloud_lost_after_the_first_read_makes_only_the_rest_unknown(kit: Kit, fake: api.FakeGcp):
    # The first read answered: verify runs, and what it could not read is unknown, never passing.
    fake.fail(f"/v1/projects/{kit.project}/serviceAccounts/{kit.email}:getIamPolicy", 503)
    checks = by_id(verify(kit, fake))
    assert checks[IMPERSONATION].ok is None and "HTTP 503" in checks[IMPERSONATION].detail


# --- an existing bucket (existingBucket): the stack does not manage it, only the writer's grant on it

UNMANAGED = "(this stack does not manage the bucket: it was named with existingBucket)"
# Each drift of the bucket itself, and the direct fix its check must give when the stack only looked it up.
DIRECT_FIXES = {
    "versioning off": "gcloud storage buckets update gs://{bucket} --versioning",
    "uniform access off": "gcloud storage buckets update gs://{bucket} --uniform-bucket-level-access",
    "public access prevention inherited": "gcloud storage buckets update gs://{bucket} --public-access-prevention",
    "bucket in another project": "check the name given in existingBucket: it must name a bucket in project {project}, where the pool is",
    "lifecycle deleting live recordings early": "gcloud storage buckets update gs://{bucket} --lifecycle-file=FILE (the rules without that one)",
}


def unmanaged(kit: Kit) -> dict[str, Any]:
    """The outputs of an existingBucket stack: the program exports storage_managed false."""
    return {**kit.outputs, "storage_managed": False}


def test_every_drift_of_the_bucket_itself_has_its_direct_fix():
    # (The retention policy's is tested on its own: the kit's stack asks for none.)
    assert {DRIFTS[name][1][0] for name in DIRECT_FIXES} == set(BUCKET_IDS) - {RETENTION, verify_gcp.COLD_TIER, verify_gcp.ENCRYPTION_KEY}


@pytest.mark.parametrize("drift", list(DIRECT_FIXES))
def test_an_existing_buckets_drift_gets_only_the_direct_fix_while_trust_and_grant_keep_pulumi_up(kit: Kit, fake: api.FakeGcp, drift: str):
    for name in (drift, "subject mapped from another claim", "writer without objectCreator"):
        change, _, _ = DRIFTS[name]
        change(kit, fake.state)
    (check_id,) = DRIFTS[drift][1]
    checks = verify(kit, fake, unmanaged(kit))
    assert_only(checks, False, (check_id, PROVIDER_MAPPING, WRITER))
    found = by_id(checks)
    fix = found[check_id].fix
    assert fix == f"{DIRECT_FIXES[drift].format(bucket=kit.bucket, project=kit.project)} {UNMANAGED}"
    assert "pulumi" not in fix
    # The provider and the writer's grant on the bucket are the stack's own: a refresh restores them.
    assert found[PROVIDER_MAPPING].fix.startswith(verify_gcp.PULUMI_UP)
    assert found[WRITER].fix.startswith(verify_gcp.PULUMI_UP)


def test_a_missing_existing_bucket_says_to_check_the_name_given_in_existing_bucket(kit: Kit, fake: api.FakeGcp):
    del fake.state.buckets[kit.bucket]
    fix = by_id(verify(kit, fake, unmanaged(kit)))[BUCKET_PROJECT].fix
    assert fix.startswith("check the name given in existingBucket") and f"gs://{kit.bucket}" in fix and fix.endswith(UNMANAGED)
    assert "pulumi" not in fix


@pytest.mark.parametrize("drift", list(DIRECT_FIXES))
def test_a_stack_without_the_storage_managed_output_keeps_the_kits_fixes(kit: Kit, fake: api.FakeGcp, drift: str):
    # Stacks deployed before storage_managed existed made their own bucket: a refresh restores it.
    change, (check_id,), _ = DRIFTS[drift]
    change(kit, fake.state)
    assert kit.outputs["storage_managed"] is True
    before = {name: value for name, value in kit.outputs.items() if name != "storage_managed"}
    fix = by_id(verify(kit, fake, before))[check_id].fix
    assert fix == by_id(verify(kit, fake))[check_id].fix
    assert verify_gcp.PULUMI_UP in fix and "existingBucket" not in fix


# --- a stack that does not export Tavus's issuer and subject (the component in someone's own program)


def component_outputs(kit: Kit) -> dict[str, Any]:
    return {name: value for name, value in kit.outputs.items() if not name.startswith("tavus_oidc_")}


def test_without_the_federation_outputs_the_binding_must_match_the_condition(kit: Kit, fake: api.FakeGcp):
    checks = by_id(verify(kit, fake, component_outputs(kit)))
    assert checks[PROVIDER_ISSUER].ok is None and "https://tavus-issuer.example" in checks[PROVIDER_ISSUER].detail
    assert checks[PROVIDER_CONDITION].ok is True and f"'{SUBJECT}'" in checks[PROVIDER_CONDITION].detail
    assert checks[IMPERSONATION].ok is True
    assert all(c.ok is True for i, c in checks.items() if i != PROVIDER_ISSUER)

    _account_bindings(kit, fake.state)[0]["members"] = [gcp_policy.workload_principal(kit.pool, "someone-else")]
    checks = by_id(verify(kit, fake, component_outputs(kit)))
    assert checks[IMPERSONATION].ok is False
    assert "the provider's attribute condition" in checks[IMPERSONATION].detail
    assert "someone-else" in checks[IMPERSONATION].detail


def test_without_any_subject_to_go_by_impersonation_is_unknown_never_passing(kit: Kit, fake: api.FakeGcp):
    _provider(kit, fake.state)["attributeCondition"] = "assertion.sub.startsWith('tavus')"
    checks = by_id(verify(kit, fake, component_outputs(kit)))
    assert checks[IMPERSONATION].ok is None and "cannot tell which subject" in checks[IMPERSONATION].detail
    assert checks[PROVIDER_CONDITION].ok is False


@pytest.mark.parametrize(
    ("condition", "subject"),
    [
        (gcp_policy.attribute_condition(SUBJECT), SUBJECT),
        (gcp_policy.attribute_condition('odd "quoted" sub'), 'odd "quoted" sub'),
        ("assertion.sub == 'a'", "a"),
        ('assertion.sub=="a"', "a"),
        # The same subject, spelt with CEL's escapes.
        ('assertion.sub == "tavus\\u002drecording-writer"', SUBJECT),
        ('assertion.sub == "a" && assertion.aud == "b"', "a"),
        ('assertion.sub == "a" || assertion.sub == "b"', None),
        ('assertion.sub == "a" && assertion.sub == "b"', None),
        ("assertion.sub == ''", None),
        ("true", None),
    ],
)
def test_only_a_condition_that_provably_requires_one_subject_pins_it(condition: str, subject: Optional[str]):
    assert verify_gcp.pinned_subject({"attributeCondition": condition}) == subject


def test_a_provider_name_verify_cannot_read_is_an_outputs_error(kit: Kit):
    storage = kit.storage.model_copy(update={"workload_identity_provider": "projects/acme/locations/global/workloadIdentityPools/p/providers/t"})
    with pytest.raises(MissingOutputs) as raised:
        verify_gcp.verify(storage, kit.outputs, credentials=Credentials(token=TOKEN), iam_url="http://127.0.0.1:9")
    assert isinstance(raised.value, OutputsError) and "project number" in str(raised.value)


# --- through the CLI


def _at_fake(fake: api.FakeGcp, **credentials: Any) -> Any:
    return functools.partial(verify_gcp.verify, iam_url=fake.url, storage_url=fake.url, crm_url=fake.url, **credentials)


def test_the_cli_reports_the_checks_and_exits_by_them(kit: Kit, fake: api.FakeGcp, monkeypatch: pytest.MonkeyPatch, tmp_path):
    # The CLI calls verify(storage, outputs); point it at the fake with the caller's token.
    monkeypatch.setattr(verify_gcp, "verify", _at_fake(fake, credentials=Credentials(token=TOKEN)))
    outputs_file = tmp_path / "outputs.json"
    outputs_file.write_text(json.dumps(kit.outputs))
    runner = CliRunner()

    healthy = runner.invoke(app, ["verify", "--outputs", str(outputs_file), "--json"])
    assert healthy.exit_code == 0, healthy.output
    report = json.loads(healthy.output)
    assert report["provider"] == "gcs" and report["ok"] is True
    assert [check["id"] for check in report["checks"]] == list(CHECK_IDS)

    fake.state.buckets[kit.bucket]["versioning"]["enabled"] = False
    drifted = runner.invoke(app, ["verify", "--outputs", str(outputs_file)])
    assert drifted.exit_code == 1
    assert f"gcloud storage buckets update gs://{kit.bucket} --versioning" in drifted.output


def test_the_cli_exits_2_with_one_line_when_there_are_no_credentials(kit: Kit, fake: api.FakeGcp, monkeypatch: pytest.MonkeyPatch, tmp_path):
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "missing.json"))
    monkeypatch.setattr(verify_gcp, "verify", _at_fake(fake))
    outputs_file = tmp_path / "outputs.json"
    outputs_file.write_text(json.dumps(kit.outputs))
    result = CliRunner().invoke(app, ["verify", "--outputs", str(outputs_file)])
    assert result.exit_code == 2
    assert "gcloud auth application-default login" in result.output and "Traceback" not in result.output
    assert fake.received == []

"""`verify` for a Cloud Storage stack whose Tavus access is revoked: the revoked `gcs` example stack, run on
the mock engine and served by the local fake of Google's APIs, passes; each way back in an attacker (or a
hurried admin re-granting by hand) could leave fails `gcs.access.revoked`, and what cannot be read is unknown."""

from __future__ import annotations

import copy
import json
from typing import Any, Iterator

import pytest
import test_verify_gcs as tv
from fakes import gcp_api as api
from google.oauth2.credentials import Credentials
from typer.testing import CliRunner

from components import gcp_policy
from stack_configs import gcs_config
from tavus_recording.cli import app
from tavus_recording.mock_engine import run_program
from tavus_recording.verify import gcp as verify_gcp
from tavus_recording.verify.gcp_revoked import ACCESS_REVOKED, REVOKED_CHECK_IDS
from tavus_recording.verify.outputs import OutputsError, recording_storage
from tavus_recording.verify.report import Check

Kit = tv.Kit


@pytest.fixture(scope="module")
def kit() -> Kit:
    """The revoked stack: its real outputs, and Google's view after `pulumi up` (pool and provider disabled, the
    impersonation binding and the writer's bucket grant gone; everything else as granted)."""
    granted = tv.build_kit()
    outputs = tv.realise(run_program(gcs_config(tavusAccess="revoked"), stack="gcs").outputs)
    assert "recording_storage" not in outputs and outputs["tavus_access"] == "revoked"
    state = copy.deepcopy(granted.state)
    for resource in (*state.pools.values(), *state.providers.values()):
        resource["disabled"] = True
    state.service_account_policies = {email: api.iam_policy([]) for email in state.service_account_policies}
    for name, policy in state.bucket_policies.items():
        policy["bindings"] = [b for b in policy["bindings"] if b["role"] != gcp_policy.WRITER_ROLE]
    storage = recording_storage(outputs, "test")
    assert storage == granted.storage  # the same names the granted stack exported
    return Kit(outputs=outputs, storage=granted.storage, state=state)


@pytest.fixture
def fake(kit: Kit) -> Iterator[api.FakeGcp]:
    with api.running(api.FakeGcp(copy.deepcopy(kit.state))) as served:
        yield served


def verify(kit: Kit, fake: api.FakeGcp, outputs: dict[str, Any] | None = None) -> dict[str, Check]:
    checks = verify_gcp.verify(kit.storage, kit.outputs if outputs is None else outputs, credentials=Credentials(token=tv.TOKEN),
                               iam_url=fake.url, storage_url=fake.url, crm_url=fake.url, kms_url=fake.url)
    assert [c.id for c in checks] == list(REVOKED_CHECK_IDS)
    return {c.id: c for c in checks}


def access(kit: Kit, fake: api.FakeGcp) -> Check:
    checks = verify(kit, fake)
    assert all(c.ok is True for i, c in checks.items() if i != ACCESS_REVOKED), checks
    return checks[ACCESS_REVOKED]


def test_the_revoked_stack_passes_every_check(kit: Kit, fake: api.FakeGcp):
    checks = verify(kit, fake)
    assert [c for c in checks.values() if c.ok is not True] == []
    assert "exchange no token" in checks[ACCESS_REVOKED].detail


def test_the_cli_verifies_a_revoked_stack_instead_of_stopping(kit: Kit, fake: api.FakeGcp, tmp_path, monkeypatch):
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(kit.outputs))
    real = verify_gcp.verify
    monkeypatch.setattr(verify_gcp, "verify", lambda storage, outputs: real(
        storage, outputs, credentials=Credentials(token=tv.TOKEN), iam_url=fake.url, storage_url=fake.url, crm_url=fake.url,
        kms_url=fake.url))
    result = CliRunner().invoke(app, ["verify", "--outputs", str(path), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert [c["id"] for c in report["checks"]] == list(REVOKED_CHECK_IDS) and report["ok"] is True


@pytest.mark.parametrize("where", ["pool", "provider"])
def test_a_pool_or_provider_enabled_again_fails(kit: Kit, fake: api.FakeGcp, where: str):
    resources = fake.state.pools if where == "pool" else fake.state.providers
    for resource in resources.values():
        resource.pop("disabled")  # the API leaves `disabled` out when false
    check = access(kit, fake)
    assert check.ok is False and f"{where} projects/" in check.detail and "ACTIVE and enabled" in check.detail
    assert "--disabled" in check.fix and tv.verify_gcp.PULUMI_UP in check.fix


@pytest.mark.parametrize("state", ["DELETED"])
def test_a_soft_deleted_or_purged_pool_and_provider_let_nobody_in(kit: Kit, fake: api.FakeGcp, state: str):
    for resource in (*fake.state.pools.values(), *fake.state.providers.values()):
        resource.pop("disabled")
        resource["state"] = state
    assert access(kit, fake).ok is True
    fake.received.clear()
    fake.state.pools.clear()
    fake.state.providers.clear()
    assert access(kit, fake).ok is True


def _principal(kit: Kit, subject: str = "tavus-recording-writer") -> str:
    return gcp_policy.workload_principal(kit.pool, subject)


IMPERSONATORS = {
    "the kit's binding back": lambda k: (gcp_policy.IMPERSONATION_ROLE, _principal(k)),
    "the pool's principalSet": lambda k: (gcp_policy.IMPERSONATION_ROLE, k.pool_set),
    "another subject of the pool": lambda k: (gcp_policy.IMPERSONATION_ROLE, _principal(k, "mallory")),
    "token creator": lambda k: ("roles/iam.serviceAccountTokenCreator", _principal(k)),
    "another pool's principal": lambda k: (gcp_policy.IMPERSONATION_ROLE, k.pool_set.replace("/tavus-recordings-gcs/", "/other-pool/")),
    "the pool named by project id": lambda k: (gcp_policy.IMPERSONATION_ROLE, _principal(k).replace(tv.PROJECT_NUMBER, k.project)),
    "upper-case scheme": lambda k: (gcp_policy.IMPERSONATION_ROLE, _principal(k).replace("principal://", "PRINCIPAL://")),
}


@pytest.mark.parametrize("attack", list(IMPERSONATORS))
def test_a_federated_identity_that_can_act_as_the_writer_fails(kit: Kit, fake: api.FakeGcp, attack: str):
    role, member = IMPERSONATORS[attack](kit)
    fake.state.service_account_policies[kit.email] = api.iam_policy([{"role": role, "members": [member]}])
    check = access(kit, fake)
    assert check.ok is False and member in check.detail and "can act as the writer" in check.detail


@pytest.mark.parametrize("attack", ["the kit's binding back", "the pool's principalSet", "another pool's principal"])
def test_a_project_wide_impersonation_grant_fails_and_a_conditional_one_too(kit: Kit, fake: api.FakeGcp, attack: str):
    role, member = IMPERSONATORS[attack](kit)
    binding = {"role": role, "members": [member], "condition": {"title": "office hours", "expression": "request.time < timestamp('2030-01-01T00:00:00Z')"}}
    fake.state.project_policies[kit.project]["bindings"].append(binding)
    check = verify(kit, fake)[ACCESS_REVOKED]
    assert check.ok is False and "(under a condition)" in check.detail and f"project {kit.project}" in check.detail


BUCKET_GRANTS = {
    "the writer's grant back": lambda k: (gcp_policy.WRITER_ROLE, f"serviceAccount:{k.email}"),
    "the writer as objectAdmin": lambda k: ("roles/storage.objectAdmin", f"serviceAccount:{k.email.upper()}"),
    "the pool's principalSet": lambda k: (gcp_policy.WRITER_ROLE, k.pool_set),
    "Tavus's principal": lambda k: ("roles/storage.objectUser", _principal(k)),
}


@pytest.mark.parametrize("attack", list(BUCKET_GRANTS))
def test_a_bucket_grant_to_the_writer_or_a_federated_identity_fails(kit: Kit, fake: api.FakeGcp, attack: str):
    role, member = BUCKET_GRANTS[attack](kit)
    fake.state.bucket_policies[kit.bucket]["bindings"].append({"role": role, "members": [member]})
    checks = verify(kit, fake)
    assert checks[ACCESS_REVOKED].ok is False and member in checks[ACCESS_REVOKED].detail
    assert f"bucket {kit.bucket}" in checks[ACCESS_REVOKED].detail and "gcloud storage buckets remove-iam-policy-binding" in checks[ACCESS_REVOKED].fix


def test_a_project_wide_storage_role_for_the_writer_or_a_managed_folder_grant_fails(kit: Kit, fake: api.FakeGcp):
    fake.state.project_policies[kit.project]["bindings"].append({"role": "roles/storage.objectCreator", "members": [f"serviceAccount:{kit.email}"]})
    check = verify(kit, fake)[ACCESS_REVOKED]
    assert check.ok is False and "reaches the recordings" in check.detail
    fake.received.clear()
    fake.state.project_policies[kit.project]["bindings"].pop()
    tv.add_folder(kit, fake.state, "recordings/", [{"role": gcp_policy.WRITER_ROLE, "members": [f"serviceAccount:{kit.email}"]}])
    check = verify(kit, fake)[ACCESS_REVOKED]
    assert check.ok is False and "managed folder recordings/" in check.detail


def test_what_cannot_reach_the_bucket_or_act_as_the_writer_passes(kit: Kit, fake: api.FakeGcp):
    # A person with an admin role, a viewer role for the writer project-wide, the writer's role on itself.
    fake.state.bucket_policies[kit.bucket]["bindings"].append({"role": "roles/storage.objectViewer", "members": ["user:ops@acme.example"]})
    fake.state.project_policies[kit.project]["bindings"].append({"role": "roles/iam.serviceAccountViewer", "members": [f"serviceAccount:{kit.email}"]})
    fake.state.service_account_policies[kit.email] = api.iam_policy([{"role": "roles/iam.serviceAccountUser", "members": ["user:ops@acme.example"]}])
    assert access(kit, fake).ok is True


READS = {
    "pool": lambda k: f"/v1/{k.pool}",
    "provider": lambda k: f"/v1/{k.provider}",
    "service account policy": lambda k: f"/v1/projects/{k.project}/serviceAccounts/{k.email}:getIamPolicy",
    "bucket policy": lambda k: f"/storage/v1/b/{k.bucket}/iam",
}


@pytest.mark.parametrize("read", list(READS))
def test_a_denied_read_makes_the_cut_unknown_never_passing(kit: Kit, fake: api.FakeGcp, read: str):
    fake.fail(READS[read](kit), 403)
    check = verify(kit, fake)[ACCESS_REVOKED]
    assert check.ok is None and "denied" in check.detail and "cannot be told" in check.detail


def test_a_denied_read_never_hides_a_failure_it_could_see(kit: Kit, fake: api.FakeGcp):
    fake.fail(READS["bucket policy"](kit), 403)
    for pool in fake.state.pools.values():
        pool.pop("disabled")
    assert verify(kit, fake)[ACCESS_REVOKED].ok is False


def test_the_bucket_is_still_held_to_the_stack(kit: Kit, fake: api.FakeGcp):
    fake.state.buckets[kit.bucket]["iamConfiguration"]["publicAccessPrevention"] = "inherited"
    checks = verify(kit, fake)
    assert checks[verify_gcp.PUBLIC_ACCESS_PREVENTION].ok is False and checks[ACCESS_REVOKED].ok is True


@pytest.mark.parametrize("drop, says", [
    ("bucket_name", "lack bucket_name"),
    ("service_account_email", "lack service_account_email"),
])
def test_revoked_outputs_that_name_nothing_stop_verify_in_one_line(kit: Kit, drop: str, says: str):
    outputs = {k: v for k, v in kit.outputs.items() if k != drop}
    with pytest.raises(OutputsError, match=says):
        recording_storage(outputs, "test")
    with pytest.raises(OutputsError, match="not <id>@<project>"):
        recording_storage({**kit.outputs, "service_account_email": "writer@example.com"}, "test")


# --- a second hop (red team 19b #5): another service account that holds a bucket role, and who can act as it


def _second_account(kit: Kit, fake: api.FakeGcp, bucket_role: str = "roles/storage.objectAdmin",
                    acting: list[dict[str, Any]] | None = None, name: str = "sa2") -> str:
    email = f"{name}@{kit.project}.iam.gserviceaccount.com"
    fake.state.service_accounts[email] = api.service_account(email, project_id=kit.project, unique_id="1" * 21)
    fake.state.service_account_policies[email] = api.iam_policy(acting or [])
    fake.state.bucket_policies[kit.bucket]["bindings"].append({"role": bucket_role, "members": [f"serviceAccount:{email}"]})
    return email


SECOND_HOPS = {
    "the pool's principalSet as workloadIdentityUser": lambda k: (gcp_policy.IMPERSONATION_ROLE, k.pool_set),
    "Tavus's principal as token creator": lambda k: ("roles/iam.serviceAccountTokenCreator", _principal(k)),
    "another pool's principal": lambda k: (gcp_policy.IMPERSONATION_ROLE, k.pool_set.replace("/tavus-recordings-gcs/", "/other-pool/")),
    "a service account of another project": lambda k: ("roles/iam.serviceAccountTokenCreator",
                                                        "serviceAccount:x@elsewhere-project.iam.gserviceaccount.com"),
    "everyone": lambda k: (gcp_policy.IMPERSONATION_ROLE, "allUsers"),
}


@pytest.mark.parametrize("attack", list(SECOND_HOPS))
def test_someone_outside_the_project_who_can_act_as_another_bucket_account_fails(kit: Kit, fake: api.FakeGcp, attack: str):
    role, member = SECOND_HOPS[attack](kit)
    email = _second_account(kit, fake, acting=[{"role": role, "members": [member]}])
    check = access(kit, fake)
    assert check.ok is False and member in check.detail
    assert f"service account {email}, which holds roles/storage.objectAdmin on bucket {kit.bucket}" in check.detail
    assert f"gcloud iam service-accounts remove-iam-policy-binding {email}" in check.fix
    assert any(r.path == f"/v1/projects/{kit.project}/serviceAccounts/{email}:getIamPolicy" for r in fake.received)


def test_another_bucket_account_only_people_of_the_project_can_act_as_passes(kit: Kit, fake: api.FakeGcp):
    # A person of the project as token creator, a federated identity with a role that cannot act as it, nobody at all.
    _second_account(kit, fake, acting=[{"role": "roles/iam.serviceAccountTokenCreator", "members": ["user:ops@acme.example"]},
                                       {"role": "roles/iam.serviceAccountViewer", "members": [kit.pool_set]}])
    _second_account(kit, fake, name="sa3")
    check = access(kit, fake)
    assert check.ok is True and "act as another service account that holds a role on the bucket" in check.detail


def test_another_bucket_accounts_policy_denied_is_unknown_naming_it(kit: Kit, fake: api.FakeGcp):
    email = _second_account(kit, fake)
    fake.fail(f"/v1/projects/{kit.project}/serviceAccounts/{email}:getIamPolicy", 403)
    check = access(kit, fake)
    assert check.ok is None and f"can act as service account {email}" in check.detail and "cannot be told" in check.detail

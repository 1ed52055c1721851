"""`verify` for Cloud Storage issues its independent reads together, in dependency rounds, and reports exactly what
reading one after another reports.

Rounds: the pool alone (it decides whether verify can run at all); then the ten reads the stack's outputs name; then
each managed folder's IAM policy, the kms key's, and (revoked) those of the other service accounts the bucket's policy
names; then (revoked, with folders) those only a folder's policy names. The fake (tests/fakes/gcp_api.py) is served here through a handler
that counts the requests in flight and can hold chosen paths past verify's timeout.

Each state is verified three ways: one read after another (the read-ahead switched off: verify's code path before the
rounds), the rounds on one thread (`together.MAX_AT_ONCE` 1), and the rounds as they run; the checks (ids, ok,
detail, fix, order) must be identical, and so must the requests made, but where an endpoint fails mid-run.
"""

from __future__ import annotations

import copy
import time
from contextlib import contextmanager
from http.server import ThreadingHTTPServer
from typing import Any, Callable, Iterator, Optional
from urllib.parse import unquote, urlsplit

import pytest
import test_verify_gcs as tv  # module objects only: its tests are not collected here
from fakes import gcp_api as api
from fakes.read_rounds import MODES, Traffic, assert_same, mode, requests_made, timed
from fakes import loopback
from fakes.loopback import serving
from google.oauth2.credentials import Credentials

from components import gcp_policy
from stack_configs import gcs_config
from tavus_recording.mock_engine import run_program
from tavus_recording.verify import gcp as verify_gcp
from tavus_recording.verify import gcp_reads, together
from tavus_recording.verify.report import Check

Kit = tv.Kit
Drift = Callable[[Kit, api.FakeGcp], Optional[dict[str, Any]]]
# What a report is made of, in its order.
Report = list[tuple[str, Optional[bool], str, str]]
# The request latency the slowed fake adds: far above what a request costs here, so rounds show in the wall time.
DELAY = 0.5


@contextmanager
def served(fake: api.FakeGcp, hang: Callable[[str], bool] = lambda path: False, hang_seconds: float = 3.0) -> Iterator[Traffic]:
    """Serve `fake` on loopback through a handler that counts requests in flight and holds those whose path `hang`
    picks for `hang_seconds` before answering (an endpoint that stopped answering)."""
    traffic = Traffic()
    base = api._handler(fake)

    class Counted(base):  # type: ignore[misc, valid-type]
        def _counted(self, serve: Callable[[], None]) -> None:
            path = unquote(urlsplit(self.path).path)
            with traffic.handling(path):
                if hang(path):
                    time.sleep(hang_seconds)
                serve()

        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            self._counted(super().do_GET)

        def do_POST(self) -> None:  # noqa: N802
            self._counted(super().do_POST)

    with serving(ThreadingHTTPServer(("127.0.0.1", 0), Counted)) as port:
        fake.url = f"http://127.0.0.1:{port}"
        yield traffic


def verify(kit: Kit, fake: api.FakeGcp, outputs: Optional[dict[str, Any]] = None, **urls: str) -> list[Check]:
    where = {"iam_url": fake.url, "storage_url": fake.url, "crm_url": fake.url, "kms_url": fake.url, **urls}
    return verify_gcp.verify(kit.storage, kit.outputs if outputs is None else outputs, credentials=Credentials(token=tv.TOKEN), **where)


def report(checks: list[Check], fake: api.FakeGcp) -> Report:
    """Each check as the report gives it (the fake's address, new each run, said alike)."""
    return [(c.id, c.ok, c.detail.replace(fake.url, "<fake>"), c.fix.replace(fake.url, "<fake>")) for c in checks]


def each_way(kit: Kit, drift: Optional[Drift] = None, **urls: str) -> dict[str, tuple[Report, list[tuple[str, str, str]], float]]:
    """The report, the requests and the seconds of verifying `kit` after `drift`, in each mode, each on a fresh fake."""
    found: dict[str, tuple[Report, list[tuple[str, str, str]], float]] = {}
    for name in MODES:
        fake = api.FakeGcp(copy.deepcopy(kit.state))
        outputs = drift(kit, fake) if drift else None
        with served(fake), mode(name, verify_gcp):
            started = time.monotonic()
            checks = verify(kit, fake, outputs, **urls)
            found[name] = (report(checks, fake), requests_made(fake.received), time.monotonic() - started)
    return found


@pytest.fixture(scope="module")
def kit() -> Kit:
    return tv.build_kit()


@pytest.fixture(scope="module")
def revoked_kit(kit: Kit) -> Kit:
    """The stack with Tavus's access revoked, as `pulumi up` leaves it (as tests/tool/test_verify_gcs_revoked.py)."""
    outputs = tv.realise(run_program(gcs_config(tavusAccess="revoked"), stack="gcs").outputs)
    state = copy.deepcopy(kit.state)
    for resource in (*state.pools.values(), *state.providers.values()):
        resource["disabled"] = True
    state.service_account_policies = {email: api.iam_policy([]) for email in state.service_account_policies}
    for policy in state.bucket_policies.values():
        policy["bindings"] = [b for b in policy["bindings"] if b["role"] != gcp_policy.WRITER_ROLE]
    return Kit(outputs=outputs, storage=kit.storage, state=state)


# --- states to verify each way


def other_account(kit: Kit, state: api.GcpState, name: str, acting: Optional[list[dict[str, Any]]] = None) -> str:
    """Another service account of the project, with an IAM policy of `acting`."""
    email = f"{name}@{kit.project}.iam.gserviceaccount.com"
    state.service_accounts[email] = api.service_account(email, project_id=kit.project, unique_id="1" * 21)
    state.service_account_policies[email] = api.iam_policy(acting or [])
    return email


def folders_and_accounts(kit: Kit, fake: api.FakeGcp) -> None:
    """A bucket role for another account, two managed folders (one granting a third account), and that account able
    to be acted as by Tavus's pool: every round has reads, the revoked one's fourth included."""
    state = fake.state
    second = other_account(kit, state, "sa2")
    state.bucket_policies[kit.bucket]["bindings"].append({"role": "roles/storage.objectViewer", "members": [f"serviceAccount:{second}"]})
    third = other_account(kit, state, "sa3", [{"role": gcp_policy.IMPERSONATION_ROLE, "members": [kit.pool_set]}])
    tv.add_folder(kit, state, "rec/2026/", [{"role": "roles/storage.objectAdmin", "members": [f"serviceAccount:{third}"]}])
    tv.add_folder(kit, state, "other/")


def keyed(kit: Kit, fake: api.FakeGcp) -> dict[str, Any]:
    fake.state.buckets[kit.bucket]["encryption"] = tv.keyed_encryption(tv.KEY)
    fake.state.key_policies[tv.KEY] = api.iam_policy([tv.key_grant()])
    return {**kit.outputs, "kms_key_name": tv.KEY}


def drifted(kit: Kit, fake: api.FakeGcp) -> dict[str, Any]:
    """Several drifts at once, each read by a different round."""
    state = fake.state
    folders_and_accounts(kit, fake)
    state.buckets[kit.bucket]["versioning"] = {"enabled": False}
    state.providers[f"{kit.pool}/providers/other"] = api.provider(f"{kit.pool}/providers/other", issuer="https://evil.example")
    state.hmac_keys[kit.project] = [api.hmac_key(kit.project, kit.email, "GOOG1EXAMPLE")]
    state.project_policies[kit.project]["bindings"].append({"role": "roles/storage.admin", "members": [tv.OTHER_PROJECT_SA]})
    outputs = keyed(kit, fake)
    state.key_policies[tv.KEY] = api.iam_policy([])  # the service agent lost its grant on the key
    return outputs


def missing_bucket(kit: Kit, fake: api.FakeGcp) -> None:
    del fake.state.buckets[kit.bucket]


def missing_account_and_provider(kit: Kit, fake: api.FakeGcp) -> None:
    del fake.state.service_accounts[kit.email]
    del fake.state.providers[kit.provider]


# Reads answered 403, one in each round (the provider's, the writer's policy; a folder's, another account's).
DENIED_PATHS: tuple[Callable[[Kit], str], ...] = (
    lambda k: f"/v1/{k.provider}",
    lambda k: f"/v1/projects/{k.project}/serviceAccounts/{k.email}:getIamPolicy",
    lambda k: f"/storage/v1/b/{k.bucket}/iam",
    lambda k: f"/storage/v1/b/{k.bucket}/managedFolders/rec/2026//iam",
    lambda k: f"/v1/projects/{k.project}/serviceAccounts/sa3@{k.project}.iam.gserviceaccount.com:getIamPolicy",
)


def denied(drift: Optional[Drift], status: int = 403, paths: tuple[Callable[[Kit], str], ...] = DENIED_PATHS) -> Drift:
    """`drift`, then `paths` answered `status`."""

    def apply(kit: Kit, fake: api.FakeGcp) -> Optional[dict[str, Any]]:
        outputs = drift(kit, fake) if drift else None
        for path in paths:
            fake.fail(path(kit), status)
        return outputs

    return apply


STATES: dict[str, Optional[Drift]] = {
    "healthy": None,
    "folders and other accounts": folders_and_accounts,
    "a kms key": keyed,
    "drifted": drifted,
    "a missing bucket": missing_bucket,
    "a missing account and provider": missing_account_and_provider,
    "denied": denied(folders_and_accounts),
    "drifted and denied": denied(drifted),
}


# --- (a) the reads overlap


def test_a_healthy_verify_takes_two_round_trips_not_eleven(kit: Kit):
    fake = api.FakeGcp(copy.deepcopy(kit.state), delay=DELAY)
    with served(fake) as traffic:
        checks, seconds = timed(lambda: verify(kit, fake))
    assert [c for c in checks if c.ok is not True] == []
    # The pool, then the ten reads the outputs name (no managed folder, no key): all ten in flight at once.
    assert len(fake.received) == 11
    traffic.assert_rounds(most=10, round_trips=2)
    assert seconds < 11 * DELAY / 2, seconds  # half of one after another, however busy the machine


def test_a_kms_key_and_folders_take_three_round_trips(kit: Kit):
    fake = api.FakeGcp(copy.deepcopy(kit.state), delay=DELAY)
    outputs = keyed(kit, fake)
    tv.add_folder(kit, fake.state, "a/")
    tv.add_folder(kit, fake.state, "b/")
    with served(fake) as traffic:
        checks, seconds = timed(lambda: verify(kit, fake, outputs))
    assert [c for c in checks if c.ok is not True] == []
    # The pool; the ten the outputs name; the two folders' policies with the key's (a round sends at most ten at once).
    assert len(fake.received) == 1 + 10 + 3
    traffic.assert_rounds(most=10, round_trips=3)
    assert seconds < 14 * DELAY / 2, seconds


def test_a_revoked_stack_with_folders_takes_four_round_trips(revoked_kit: Kit):
    fake = api.FakeGcp(copy.deepcopy(revoked_kit.state), delay=DELAY)
    folders_and_accounts(revoked_kit, fake)
    with served(fake) as traffic:
        checks, seconds = timed(lambda: verify(revoked_kit, fake))
    cut = checks[0]
    assert cut.ok is False and "sa3@" in cut.detail and revoked_kit.pool_set in cut.detail
    # Pool; the outputs' ten; two folder policies and sa2's (the bucket's policy names it); sa3's (only a folder names it).
    assert len(fake.received) == 1 + 10 + 3 + 1
    traffic.assert_rounds(most=10, round_trips=4)
    assert seconds < 15 * DELAY / 2, seconds


# --- (b) the same report, and the same requests, however the reads are issued


@pytest.mark.parametrize("state", list(STATES))
def test_each_way_of_reading_gives_the_same_report_and_requests(kit: Kit, state: str):
    checks = assert_same(each_way(kit, STATES[state]))
    assert [check_id for check_id, *_ in checks] == list(verify_gcp.CHECK_IDS)
    if "denied" in state:
        assert sum(ok is None for _, ok, _, _ in checks) >= 4, checks


@pytest.mark.parametrize("state", ["healthy", "folders and other accounts", "drifted", "denied", "a missing bucket"])
def test_a_revoked_stack_gives_the_same_report_and_requests_each_way(revoked_kit: Kit, state: str):
    checks = assert_same(each_way(revoked_kit, STATES[state]))
    if state == "folders and other accounts":
        assert checks[0][1] is False and "sa3@" in checks[0][2]


def test_credentials_refused_mid_run_give_the_same_report_each_way(kit: Kit):
    # Google stops taking the token after the pool was read (401), and it cannot be refreshed: the first such read in
    # verify's order (the provider's) is what every later read is, however the reads went out.
    drift = denied(folders_and_accounts, 401, (lambda k: f"/v1/{k.provider}", lambda k: f"/storage/v1/b/{k.bucket}"))
    checks = assert_same(each_way(kit, drift), requests=False)
    refused = f"could not get an access token to read provider {kit.provider}"
    assert all(ok is None and refused in detail for _, ok, detail, _ in checks[1:-2]), checks


# --- (c) an endpoint that stops answering costs one timeout, and changes nothing in the report

TIMEOUT = 1.0
# What a run that waits out one timeout may take beyond it: under the second timeout a batch more would cost.
OVER = 0.8


@contextmanager
def silent_listener() -> Iterator[str]:
    with loopback.silent_listener() as port:
        yield f"http://127.0.0.1:{port}"


def test_a_storage_and_a_resource_manager_endpoint_that_never_answer_cost_one_timeout_together(kit: Kit, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(gcp_reads, "TIMEOUT_SECONDS", TIMEOUT)
    with silent_listener() as storage, silent_listener() as crm:
        found = each_way(kit, keyed, storage_url=storage, crm_url=crm)
    checks = assert_same(found, requests=False)
    assert any(ok is None and f"{storage} could not be reached" in detail for _, ok, detail, _ in checks)
    assert any(ok is None and f"{crm} could not be reached" in detail for _, ok, detail, _ in checks)
    # One after another: a timeout for Resource Manager, then one for storage; in rounds, both at once.
    assert found["one after another"][2] >= 2 * TIMEOUT
    assert found["rounds"][2] < TIMEOUT + OVER, found["rounds"][2]


def test_many_folder_policies_that_never_answer_cost_one_timeout_not_one_per_batch(kit: Kit, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(gcp_reads, "TIMEOUT_SECONDS", TIMEOUT)
    folders = [f"f{i:02d}/" for i in range(3 * together.MAX_AT_ONCE)]
    reports: dict[str, Report] = {}
    for name in ("one after another", "rounds"):
        fake = api.FakeGcp(copy.deepcopy(kit.state))
        for folder in folders:
            tv.add_folder(kit, fake.state, folder)
        with served(fake, hang=lambda path: "/managedFolders/" in path and path.endswith("/iam")) as traffic, mode(name, verify_gcp):
            started = time.monotonic()
            reports[name] = report(verify(kit, fake), fake)
            seconds = time.monotonic() - started
        asked = [path for path in traffic.paths if "/managedFolders/" in path and path.endswith("/iam")]
        if name == "rounds":
            # The first ten went out at once; once they timed out, the other twenty were not sent.
            assert len(asked) == together.MAX_AT_ONCE, asked
            assert seconds < TIMEOUT + OVER, seconds
        else:
            assert len(asked) == 1, asked
    assert reports["rounds"] == reports["one after another"]
    grants = {check_id: detail for check_id, _, detail, _ in reports["rounds"]}[verify_gcp.PERMISSIONS]
    assert "could not be reached" in grants and "managed folder f00/" in grants, grants

"""`verify` for Azure Blob issues its independent reads together, in dependency rounds, and reports exactly what
reading one after another reports.

Rounds: the identity and the account; what each decides (the identity's credentials, assignments, those over it and
its attachments; the account's blob service, lifecycle, replication, diagnostic settings, the log account's lifecycle,
the container); the custom roles of the identity's listings and what the container decides (immutability, the
assignments over it); the custom roles only the container's listing names. The fake (tests/fakes/azure_api.py) is
served here through a handler that adds a latency, counts the requests in flight and can hold chosen paths past the
client's read timeout.

Each state is verified three ways: one read after another (the read-ahead switched off: verify's code path before the
rounds), the rounds on one thread (`together.MAX_AT_ONCE` 1), and the rounds as they run; the checks (ids, ok,
detail, fix, order) must be identical, and so must the requests made, but where the endpoint fails mid-run.
"""

from __future__ import annotations

import ssl
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator, Optional
from urllib.parse import unquote, urlsplit

import pytest
import test_verify_azure as tv  # module objects only: its tests are not collected here
import trustme
from fakes import azure_api as arm
from fakes.read_rounds import MODES, Traffic, assert_same, mode, requests_made, timed
from fakes.loopback import TlsServer, serving

from stack_configs import azure_config
from tavus_recording.mock_engine import run_program
from tavus_recording.verify import azure as verify_azure
from tavus_recording.verify import azure_reads
from tavus_recording.verify.outputs import recording_storage
from tavus_recording.verify.report import Check

Kit = tv.Kit
Drift = Callable[[arm.ArmState, Kit], None]
Report = list[tuple[str, Optional[bool], str, str]]
Requests = list[tuple[str, str, str]]
# The request latency the slowed fake adds: far above what a request costs here, so rounds show in the wall time.
DELAY = 0.5
CUSTOM_2 = "5a5a5a5a-0000-4000-8000-000000000002"


@contextmanager
def served(state: arm.ArmState, workdir: Path, ca: trustme.CA, delay: float = 0.0,
           hang: Callable[[str], bool] = lambda path: False, hang_seconds: float = 3.0) -> Iterator[tuple[arm.FakeArm, Traffic]]:
    """`arm.running`, through a handler that waits `delay` before each answer (`hang_seconds` for the paths `hang`
    picks: an endpoint that stopped answering) and counts the requests in flight."""
    traffic = Traffic()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    ca_path = workdir / "fake-arm-ca.pem"
    ca.cert_pem.write_to_path(str(ca_path))
    fake = arm.FakeArm(state=state, ca_path=ca_path)
    base = arm._handler(fake)

    class Slowed(base):  # type: ignore[misc, valid-type]
        def _slowed(self, serve: Callable[[], None]) -> None:
            path = unquote(urlsplit(self.path).path)
            with traffic.handling(path):
                time.sleep(hang_seconds if hang(path) else delay)
                serve()

        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            self._slowed(super().do_GET)

        def do_POST(self) -> None:  # noqa: N802
            self._slowed(super().do_POST)

    with serving(TlsServer(Slowed, context)) as port:
        fake.url = f"https://127.0.0.1:{port}"
        yield fake, traffic


def verify(kit: Kit, fake: arm.FakeArm, outputs: Optional[dict[str, Any]] = None, **client: Any) -> list[Check]:
    outputs = kit.outputs if outputs is None else outputs
    storage = recording_storage(outputs, "test")
    return verify_azure.verify(storage, outputs, credential=arm.StaticCredential(tv.TOKEN),  # type: ignore[arg-type]
                               **{"base_url": fake.url, **tv.FAST, "connection_verify": str(fake.ca_path), **client})


def report(checks: list[Check], fake: arm.FakeArm) -> Report:
    """Each check as the report gives it (the fake's address, new each run, said alike)."""
    port = fake.url.rsplit(":", 1)[1]

    def alike(text: str) -> str:
        return text.replace(fake.url, "<fake>").replace(f"port={port}", "port=<port>")

    return [(c.id, c.ok, alike(c.detail), alike(c.fix)) for c in checks]


def each_way(kit: Kit, workdir: Path, ca: trustme.CA, drift: Optional[Drift] = None, outputs: Optional[dict[str, Any]] = None,
             hang: Callable[[str], bool] = lambda path: False, **client: Any) -> dict[str, tuple[Report, Requests, float]]:
    """The report, the requests and the seconds of verifying `kit` after `drift`, in each mode, each on a fresh fake."""
    found: dict[str, tuple[Report, Requests, float]] = {}
    for name in MODES:
        state = kit.state()
        if drift:
            drift(state, kit)
        with served(state, workdir, ca, hang=hang) as (fake, _), mode(name, verify_azure):
            started = time.monotonic()
            checks = verify(kit, fake, outputs, **client)
            found[name] = (report(checks, fake), requests_made(fake.received, fold_case=True), time.monotonic() - started)
    return found


@pytest.fixture(scope="module")
def kit() -> Kit:
    return tv.deploy(azure_config())


@pytest.fixture(scope="module")
def worm_kit() -> Kit:
    """WORM and audit logs asked for: the diagnostic settings, the log account's lifecycle and the immutability policy
    are read too."""
    return tv.deploy(azure_config(immutableDays="30", auditLogs="true"))


@pytest.fixture(scope="module")
def revoked_kit(kit: Kit) -> Kit:
    """The stack after `tavusAccess: revoked` and `pulumi up` (as tests/tool/test_verify_azure_revoked.py)."""
    outputs = tv.realise(run_program(azure_config(tavusAccess="revoked"), stack="azure").outputs)
    kept = [r for r in kit.resources if r["type"] not in (arm.FEDERATED_CREDENTIAL_TYPE, arm.ROLE_ASSIGNMENT_TYPE)]
    return Kit(outputs=outputs, resources=kept)


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


# --- states to verify each way


def custom_roles(state: arm.ArmState, kit: Kit) -> None:
    """A custom role the identity holds (read in the third round) and one only a stranger holds on the container (the
    fourth)."""
    tv.custom_role([f"{tv.BLOBS}/*"])(state, kit)
    state.put(arm.role_definition(tv.SUBSCRIPTION, CUSTOM_2, role_name="recordings-reader", actions=[], data_actions=[f"{tv.BLOBS}/read"]))
    tv.grant(lambda kit: kit.container_id, CUSTOM_2, replace=False, principal=tv.STRANGER)(state, kit)


def drifted(state: arm.ArmState, kit: Kit) -> None:
    custom_roles(state, kit)
    tv.add_credential(state, kit)
    tv.set_account(allowSharedKeyAccess=True)(state, kit)
    tv.shorten_retention(state, kit)
    tv.replicate_to(lambda kit: tv.FOREIGN_ACCOUNT)(state, kit)
    tv.grant(lambda kit: kit.identity_id, tv.MIO, replace=False, principal=tv.STRANGER)(state, kit)


def denied(state: arm.ArmState, kit: Kit) -> None:
    """Reads of every round answered 403."""
    custom_roles(state, kit)
    state.deny(tv.associated(kit), azure_reads.ASSOCIATED_RESOURCES_LIST)
    state.deny(f"/subscriptions/{tv.SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/{tv.CUSTOM}",
               azure_reads.ROLE_DEFINITIONS_READ)
    state.deny(f"{kit.account_id}/objectReplicationPolicies", azure_reads.OBJECT_REPLICATION_READ)
    state.deny(kit.container_id, azure_reads.CONTAINER_READ)


def identity_denied(state: arm.ArmState, kit: Kit) -> None:
    state.deny(kit.identity_id, azure_reads.IDENTITY_READ)
    state.deny(kit.account_id, azure_reads.ACCOUNT_READ)


def missing_container_with_custom_roles(state: arm.ArmState, kit: Kit) -> None:
    custom_roles(state, kit)
    state.remove(kit.container_id)


STATES: dict[str, Optional[Drift]] = {
    "healthy": None,
    "custom roles": custom_roles,
    "drifted": drifted,
    "denied": denied,
    "the identity and the account denied": identity_denied,
    "a missing identity": lambda state, kit: state.remove(kit.identity_id),
    "a missing account": lambda state, kit: state.remove(kit.account_id),
    "a missing container": lambda state, kit: state.remove(kit.container_id),
    "a missing container and custom roles": lambda state, kit: missing_container_with_custom_roles(state, kit),
}


# --- (a) the reads overlap


def test_a_healthy_verify_takes_three_round_trips_not_eleven(kit: Kit, tmp_path: Path, ca: trustme.CA):
    with served(kit.state(), tmp_path, ca, delay=DELAY) as (fake, traffic):
        checks, seconds = timed(lambda: verify(kit, fake))
    assert [c for c in checks if c.ok is not True] == []
    # The identity and the account; the eight reads they decide; the assignments over the container.
    assert len(fake.received) == 11
    traffic.assert_rounds(most=8, round_trips=3)
    assert seconds < 11 * DELAY / 2, seconds  # half of one after another, however busy the machine


def test_a_worm_and_audit_stack_with_custom_roles_takes_four_round_trips(worm_kit: Kit, tmp_path: Path, ca: trustme.CA):
    state = worm_kit.state()
    custom_roles(state, worm_kit)
    with served(state, tmp_path, ca, delay=DELAY) as (fake, traffic):
        checks, seconds = timed(lambda: verify(worm_kit, fake))
    found = {c.id: c for c in checks}
    assert found["azure.container.access"].ok is False and "recordings-reader" in found["azure.container.access"].detail
    # 2; 10 (the diagnostic settings and the log account's lifecycle too); immutability, over the container and the
    # identity's custom role; the stranger's custom role.
    assert len(fake.received) == 2 + 10 + 3 + 1
    traffic.assert_rounds(most=10, round_trips=4)
    assert seconds < 16 * DELAY / 2, seconds


# --- (b) the same report, and the same requests, however the reads are issued


@pytest.mark.parametrize("state", list(STATES))
def test_each_way_of_reading_gives_the_same_report_and_requests(kit: Kit, tmp_path: Path, ca: trustme.CA, state: str):
    checks = assert_same(each_way(kit, tmp_path, ca, STATES[state]))
    assert [check_id for check_id, *_ in checks] == list(verify_azure.CHECK_IDS)
    if "denied" in state:
        assert sum(ok is None for _, ok, _, _ in checks) >= 3, checks


@pytest.mark.parametrize("state", ["healthy", "custom roles", "denied", "a missing container"])
def test_a_worm_and_audit_stack_gives_the_same_report_and_requests_each_way(worm_kit: Kit, tmp_path: Path, ca: trustme.CA, state: str):
    assert_same(each_way(worm_kit, tmp_path, ca, STATES[state]))


@pytest.mark.parametrize("state", ["healthy", "custom roles", "denied", "a missing identity", "a missing account"])
def test_a_revoked_stack_gives_the_same_report_and_requests_each_way(revoked_kit: Kit, tmp_path: Path, ca: trustme.CA, state: str):
    checks = assert_same(each_way(revoked_kit, tmp_path, ca, STATES[state]))
    if state == "custom roles":
        assert checks[0][1] is False and "recordings-admin" in checks[0][2], checks[0]


# --- (c) an endpoint that stops answering costs one timeout, and changes nothing in the report

TIMEOUT = 1
# What a run that waits out one timeout may take beyond it: under a second timeout.
OVER = 0.8


def test_storage_reads_that_never_answer_cost_one_timeout_and_the_same_report(kit: Kit, tmp_path: Path, ca: trustme.CA):
    # ARM answers the identity and the account, then nothing under the account: the first such read in verify's order
    # (the blob service) makes the endpoint unreachable for every read after it, however the reads went out.
    found = each_way(kit, tmp_path, ca, hang=lambda path: path.lower().startswith(kit.account_id.lower() + "/"), read_timeout=TIMEOUT)
    checks = assert_same(found, requests=False)
    by_id = {check_id: (ok, detail) for check_id, ok, detail, _ in checks}
    assert by_id["azure.identity.federation"][0] is True and by_id["azure.account.exists"][0] is True
    read_under = set(verify_azure.UNDER_ACCOUNT_IDS) - {verify_azure.DIAGNOSTIC_LOGS, verify_azure.IMMUTABILITY}  # neither asked for
    assert all(by_id[i][0] is None and "unreachable" in by_id[i][1] for i in read_under), by_id
    assert found["rounds"][2] < TIMEOUT + OVER, found["rounds"][2]


def test_an_endpoint_lost_after_the_first_round_stops_every_later_read(kit: Kit, tmp_path: Path, ca: trustme.CA):
    # Everything past the identity and the account hangs: one timeout for the second round, and no read after it.
    first_round = {kit.identity_id.lower(), kit.account_id.lower()}
    state = kit.state()
    tv.custom_role([f"{tv.BLOBS}/*"])(state, kit)
    with served(state, tmp_path, ca, hang=lambda path: path.lower() not in first_round) as (fake, traffic):
        checks, seconds = timed(lambda: verify(kit, fake, read_timeout=TIMEOUT))
    assert seconds < TIMEOUT + OVER, seconds
    assert len(traffic.paths) == 2 + 8  # the first round, then the second round's eight: nothing after
    # The identity's own read answered; the account's, in verify's order after the identity's credentials, is unknown too.
    assert {c.id for c in checks if c.ok is not None} == {"azure.identity.exists", "azure.identity.ids", verify_azure.DIAGNOSTIC_LOGS,
                                                          verify_azure.IMMUTABILITY}

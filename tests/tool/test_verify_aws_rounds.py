"""`verify` for S3 issues its independent reads together, in dependency rounds, and judges exactly what reading one after
another judges.

Against a moto server with real boto3 calls: a slow link (each request held back, tests/fakes/aws_request_log.py) shows
how many round trips a run waits for one after another; the same stacks verified one read at a time (the reader's
rounds switched off), with one read in flight, and with the default number give the same report, check for check,
word for word; each (service, region) gets one client, made on the calling thread; and an endpoint that never
answers is waited for about once, not once per read.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any, Callable

import boto3
import pytest
import test_verify_aws as base  # its fixtures and helpers (its tests are not collected here)
import test_verify_aws_revoked as revoked_base
from botocore.config import Config
from fakes.aws_destination import BUCKET, INLINE_POLICY_NAME, REGION, ROLE_NAME, DenyingReader, deploy_destination
from fakes.aws_request_log import DeadEndpoint, RequestLog
from fakes.loopback import closed_port
from moto.core import DEFAULT_ACCOUNT_ID

from components import tavus
from tavus_recording.verify import aws as verify_aws
from tavus_recording.verify import aws_reads, aws_revoked, together
from tavus_recording.verify.report import CannotVerify, Check

moto, shared_session, aws, outputs = base.moto, base.shared_session, base.aws, base.outputs
iam, s3 = base.iam, base.s3
BUCKET_ARN = f"arn:aws:s3:::{BUCKET}"
# The added time the issue allows a healthy stack's verify behind a link adding 100 ms per request.
LINK_DELAY = 0.1
ADDED_AT_MOST = 0.6
# Reads the rounds may make that reading one after another would not, for some state: the role's and its policy lists
# and the organization's, asked for in the first round beside the caller's identity and the bucket's location, which
# may turn out to rule them out (another account's credentials, the role or the bucket missing); a level's parent,
# asked for with its policies, which may turn out unreadable. All are in the reader policy.
SPECULATIVE = {"GetRole", "ListRolePolicies", "ListAttachedRolePolicies", "DescribeOrganization", "ListParents"}


def report(checks: list[Check]) -> list[tuple[str, Any, str, str]]:
    return [(check.id, check.ok, check.detail, check.fix) for check in checks]


def verify(outputs: dict[str, Any], session: boto3.Session) -> list[Check]:
    from tavus_recording.verify.outputs import recording_storage

    storage = recording_storage(outputs, "test")
    assert isinstance(storage, tavus.S3RecordingStorageConfig)
    return verify_aws.verify(storage, outputs, session)


def one_by_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """The reader without rounds: every read made when the checks ask for it, as before rounds."""
    monkeypatch.setattr(aws_reads.Reader, "in_rounds", lambda self, run: run())


def logged_session(delay: float = 0.0) -> tuple[boto3.Session, RequestLog]:
    session = boto3.Session()
    return session, RequestLog(delay).install(session)


def three_ways(outputs: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> dict[str, tuple[list[Any], RequestLog]]:
    """The report and the calls made: one read at a time without rounds, in rounds one read in flight, in rounds."""
    found = {}
    for way in ("one by one", "rounds, one in flight", "rounds"):
        with monkeypatch.context() as patch:
            if way == "one by one":
                one_by_one(patch)
            elif way == "rounds, one in flight":
                patch.setattr(together, "MAX_AT_ONCE", 1)
            session, log = logged_session()
            found[way] = (report(verify(outputs, session)), log)
    return found


def assert_same_everywhere(outputs: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    found = three_ways(outputs, monkeypatch)
    expected, sequential = found["one by one"]
    for way, (checks, log) in found.items():
        assert checks == expected, way
        assert log.operations() - sequential.operations() <= SPECULATIVE, way
    return expected


# --- round trips waited for -----------------------------------------------------------------------------------------


def timed(run: Callable[[], Any]) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def behind_a_slow_link(outputs: dict[str, Any], round_trips: int) -> tuple[float, RequestLog, list[Check]]:
    """The seconds a delay of LINK_DELAY per request adds to verify, and the log of the delayed run, after a warm-up
    that loads the service models. A busy machine only adds time and splits batches (a thread started late), never
    takes them away, so this is the best of up to three tries: the first within `round_trips` and ADDED_AT_MOST,
    else the last. Reading one after another (17 round trips, 1.8 s added) fails every try."""
    session, log = logged_session()
    checks = verify(outputs, session)
    for _ in range(3):
        log.delay = 0.0
        direct = timed(lambda: verify(outputs, session))
        log.delay = LINK_DELAY
        log.clear()
        added = timed(lambda: verify(outputs, session)) - direct
        if log.sequential_latencies() <= round_trips and added <= ADDED_AT_MOST:
            break
    return added, log, checks


def test_a_healthy_stack_waits_for_two_round_trips(aws):
    added, log, checks = behind_a_slow_link(deploy_destination(aws), round_trips=2)
    assert all(check.ok is True for check in checks), [c for c in checks if c.ok is not True]
    # Round 1: who the caller is, where the bucket is, the role and its policy lists, the organization; round 2: every
    # bucket setting in the bucket's region, the inline policy.
    assert log.sequential_latencies() == 2, log.rounds()
    assert log.most_in_flight >= 6
    assert added <= ADDED_AT_MOST, added


def test_a_stack_with_every_option_waits_for_at_most_five(aws):
    key = aws.client("kms", region_name=REGION).create_key()["KeyMetadata"]["Arn"]
    outputs = deploy_destination(aws, kms_key_arn=key, retention_days=365, cold_after_days=30, immutable_days=30, audit_logs=True)
    added, log, checks = behind_a_slow_link(outputs, round_trips=5)
    assert all(check.ok is True for check in checks), [c for c in checks if c.ok is not True]
    # Round 2 holds more reads than go out at once (together.MAX_AT_ONCE): two round trips (three, when moto's answers
    # spread out); round 3, the key and the trail's status, selectors and log bucket.
    assert log.sequential_latencies() <= 5, log.rounds()
    assert added <= ADDED_AT_MOST, added


def test_a_revoked_stack_waits_for_two_round_trips(aws):
    outputs = revoked_base.revoke(deploy_destination(aws, retention_days=365))
    revoked_base.delete_role(aws)
    added, log, checks = behind_a_slow_link(outputs, round_trips=2)
    assert all(check.ok is True for check in checks), [c for c in checks if c.ok is not True]
    assert log.sequential_latencies() == 2, log.rounds()
    assert added <= ADDED_AT_MOST, added


def overlapping(log: RequestLog, operation: str) -> bool:
    """Every request of `operation` was on the wire while each other one was."""
    spans = [(start, end) for start, end, name in log.spans if name == operation]
    return len(spans) > 1 and all(a_start < b_end and b_start < a_end for a_start, a_end in spans for b_start, b_end in spans)


def test_roles_trusting_tavus_in_a_revoked_stack_are_read_together(aws):
    outputs = revoked_base.revoke(deploy_destination(aws, retention_days=365))
    revoked_base.delete_role(aws)
    for name in ("left-a", "left-b", "left-c"):
        revoked_base.role_with(aws, name, {"AWS": tavus.TAVUS_AWS_ACCOUNT_ID}, ["s3:GetBucketLocation"], BUCKET_ARN)
    session, log = logged_session(LINK_DELAY)
    checks = verify(outputs, session)
    assert all(check.ok is True for check in checks), [c for c in checks if c.ok is not True]
    # ListRoles; then each role's GetRole and policy lists, and the organization, beside the bucket's settings: 19
    # reads, more than go out at once (two round trips, or three when moto, answering in this process one request at
    # a time, spreads a batch's answers out); then the roles' inline policies. One read after another: 17.
    assert overlapping(log, "GetRolePolicy"), log.rounds()
    assert log.sequential_latencies() <= 6, log.rounds()


# --- the same report, whichever way it is read --------------------------------------------------------------------------


@pytest.mark.parametrize("drift", list(base.DRIFTS))
def test_every_drift_reports_the_same_read_in_rounds(aws, monkeypatch, drift):
    outputs = deploy_destination(aws)
    base.DRIFTS[drift][0](aws)
    checks = assert_same_everywhere(outputs, monkeypatch)
    assert any(ok is not True for _, ok, _, _ in checks)


def _delete_role(session: boto3.Session) -> None:
    iam(session).delete_role_policy(RoleName=ROLE_NAME, PolicyName=INLINE_POLICY_NAME)
    iam(session).delete_role(RoleName=ROLE_NAME)


def _delete_bucket(session: boto3.Session) -> None:
    s3(session).delete_bucket(Bucket=BUCKET)


def _drift_several(session: boto3.Session) -> None:
    s3(session).put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Suspended"})
    s3(session).delete_public_access_block(Bucket=BUCKET)
    s3(session).put_bucket_lifecycle_configuration(
        Bucket=BUCKET, LifecycleConfiguration={"Rules": [{"ID": "shred", "Status": "Enabled", "Filter": {}, "Expiration": {"Days": 1}}]})


def _replicate_to_own_buckets(session: boto3.Session) -> None:
    rules = []
    for priority, name in enumerate(("copy-one", "copy-two"), 1):
        s3(session).create_bucket(Bucket=name)
        s3(session).put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
        rules.append({"ID": name, "Status": "Enabled", "Priority": priority, "Filter": {}, "DeleteMarkerReplication": {"Status": "Disabled"},
                      "Destination": {"Bucket": f"arn:aws:s3:::{name}"}})
    s3(session).put_bucket_replication(Bucket=BUCKET, ReplicationConfiguration={"Role": base.ROLE_ARN, "Rules": rules})


def _organization_two_levels(session: boto3.Session) -> None:
    """SCPs on an OU the account sits in and on the account (two of them), under the root."""
    organizations = session.client("organizations", region_name="us-east-1")
    organizations.create_organization(FeatureSet="ALL")
    root = organizations.list_roots()["Roots"][0]["Id"]
    unit = organizations.create_organizational_unit(ParentId=root, Name="recordings")["OrganizationalUnit"]["Id"]
    organizations.move_account(AccountId=DEFAULT_ACCOUNT_ID, SourceParentId=root, DestinationParentId=unit)
    for target, name in ((unit, "unit-guard"), (DEFAULT_ACCOUNT_ID, "account-guard"), (DEFAULT_ACCOUNT_ID, "account-extra")):
        allow_all = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
        policy = organizations.create_policy(Name=name, Description="", Type="SERVICE_CONTROL_POLICY", Content=json.dumps(allow_all))
        organizations.attach_policy(PolicyId=policy["Policy"]["PolicySummary"]["Id"], TargetId=target)


def _attached_and_boundary(session: boto3.Session) -> None:
    base.attach(session, "extra-one", base.allow(["s3:GetBucketLocation"], BUCKET_ARN))
    base.attach(session, "extra-two", base.allow(["s3:PutObject"], f"{BUCKET_ARN}/*"))
    boundary = iam(session).create_policy(PolicyName="boundary", PolicyDocument=json.dumps(base.allow(["s3:*"], "*")))["Policy"]["Arn"]
    iam(session).put_role_permissions_boundary(RoleName=ROLE_NAME, PermissionsBoundary=boundary)


def _customer_key(session: boto3.Session) -> dict[str, Any]:
    key = session.client("kms", region_name=REGION).create_key()["KeyMetadata"]["Arn"]
    return deploy_destination(session, kms_key_arn=key, retention_days=365)


STATES: dict[str, Callable[[boto3.Session], Any]] = {
    "healthy": lambda session: None,
    "several bucket settings drifted": _drift_several,
    "role missing": _delete_role,
    "bucket missing": _delete_bucket,
    "replication to own buckets (HeadBucket)": _replicate_to_own_buckets,
    "an organization two levels up": _organization_two_levels,
    "attached policies and a boundary": _attached_and_boundary,
    "many inline policies": lambda session: [base.set_writer_policy(session, base.allow(["s3:PutObject"], f"{BUCKET_ARN}/*"))] + [
        iam(session).put_role_policy(RoleName=ROLE_NAME, PolicyName=f"extra-{n}", PolicyDocument=json.dumps(base.allow(["s3:GetObject"], "*")))
        for n in range(12)],
}


@pytest.mark.parametrize("state", list(STATES))
def test_each_state_reports_the_same_read_in_rounds(aws, monkeypatch, state):
    outputs = deploy_destination(aws)
    STATES[state](aws)
    assert_same_everywhere(outputs, monkeypatch)


@pytest.mark.parametrize("options", [
    {"retention_days": 365, "cold_after_days": 30, "immutable_days": 30, "audit_logs": True},
    {"retention_days": 30, "immutable_days": 1, "immutable_mode": "compliance"},
    {"region": "eu-west-1", "audit_logs": True},
])
def test_stacks_with_options_report_the_same_read_in_rounds(aws, monkeypatch, options):
    assert_same_everywhere(deploy_destination(aws, **options), monkeypatch)


def test_a_stack_with_a_customer_key_reports_the_same_read_in_rounds(aws, monkeypatch):
    assert_same_everywhere(_customer_key(aws), monkeypatch)


def test_a_missing_trail_and_log_bucket_report_the_same_read_in_rounds(aws, monkeypatch):
    outputs = deploy_destination(aws, retention_days=365, audit_logs=True)
    aws.client("cloudtrail", region_name=REGION).delete_trail(Name=outputs["audit_trail_arn"])
    assert_same_everywhere(outputs, monkeypatch)


def test_a_bucket_in_another_region_than_the_outputs_say_reports_the_same(aws, monkeypatch):
    outputs = deploy_destination(aws, region="eu-west-1")
    storage = {**outputs["recording_storage"], "bucket_region": "us-west-2"}
    assert_same_everywhere({**outputs, "recording_storage": storage}, monkeypatch)


def test_credentials_of_another_account_report_the_same_read_in_rounds(aws, monkeypatch):
    outputs = deploy_destination(aws)
    _organization_two_levels(aws)
    with monkeypatch.context() as patch:
        patch.setenv("MOTO_ACCOUNT_ID", base.OTHER_ACCOUNT)  # moto routes the setup calls to that account
        trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": DEFAULT_ACCOUNT_ID}, "Action": "sts:AssumeRole"}]}
        iam(aws).create_role(RoleName="auditor", AssumeRolePolicyDocument=json.dumps(trust))
        # A role of the writer's name there too, with a policy: nothing of it may be read past the first round.
        iam(aws).create_role(RoleName=ROLE_NAME, AssumeRolePolicyDocument=json.dumps(trust))
        iam(aws).put_role_policy(RoleName=ROLE_NAME, PolicyName="any", PolicyDocument=json.dumps(base.allow(["s3:GetObject"], "*")))
    credentials = aws.client("sts", region_name=REGION).assume_role(RoleArn=f"arn:aws:iam::{base.OTHER_ACCOUNT}:role/auditor",
                                                                    RoleSessionName="auditor")["Credentials"]
    keys = {"AWS_ACCESS_KEY_ID": credentials["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": credentials["SecretAccessKey"],
            "AWS_SESSION_TOKEN": credentials["SessionToken"]}
    for name, value in keys.items():
        monkeypatch.setenv(name, value)
    checks = assert_same_everywhere(outputs, monkeypatch)
    assert dict((check_id, ok) for check_id, ok, _, _ in checks)["aws.caller.account"] is False


@pytest.mark.parametrize("operation", ["get_caller_identity", "get_bucket_location", "get_role", "list_role_policies", "get_role_policy",
                                       "list_attached_role_policies", "get_bucket_encryption", "get_bucket_policy",
                                       "get_bucket_lifecycle_configuration", "describe_organization", "get_object_lock_configuration",
                                       "get_trail", "get_trail_status"])
def test_a_denied_read_reports_the_same_read_in_rounds(aws, monkeypatch, operation):
    outputs = deploy_destination(aws, retention_days=365, immutable_days=30, audit_logs=True)
    monkeypatch.setattr(verify_aws, "Reader", lambda session: DenyingReader(session, operation))
    checks = assert_same_everywhere(outputs, monkeypatch)
    assert any(f"{verify_aws.ACTIONS[operation]} denied" in detail for _, _, detail, _ in checks)


@pytest.mark.parametrize("state", ["revoked", "left behind", "hand-made roles"])
def test_revoked_stacks_report_the_same_read_in_rounds(aws, monkeypatch, state):
    outputs = revoked_base.revoke(deploy_destination(aws, retention_days=365))
    if state != "left behind":
        revoked_base.delete_role(aws)
    if state == "hand-made roles":
        revoked_base.role_with(aws, "hand-made", {"AWS": tavus.TAVUS_AWS_ACCOUNT_ID}, ["s3:GetBucketLocation"], BUCKET_ARN)
        revoked_base.role_with(aws, "writer-again", {"AWS": tavus.TAVUS_AWS_ACCOUNT_ID}, ["s3:PutObject"], f"{BUCKET_ARN}/*")
        _attached_and_boundary_on(aws, "hand-made")
    assert_same_everywhere(outputs, monkeypatch)


def _attached_and_boundary_on(session: boto3.Session, role: str) -> None:
    arn = iam(session).create_policy(PolicyName="reader", PolicyDocument=json.dumps(base.allow(["s3:GetObject"], f"{BUCKET_ARN}/*")))["Policy"]["Arn"]
    iam(session).attach_role_policy(RoleName=role, PolicyArn=arn)
    boundary = iam(session).create_policy(PolicyName="edge", PolicyDocument=json.dumps(base.allow(["s3:List*"], "*")))["Policy"]["Arn"]
    iam(session).put_role_permissions_boundary(RoleName=role, PermissionsBoundary=boundary)


def test_a_denied_read_in_a_revoked_stack_reports_the_same(aws, monkeypatch):
    outputs = revoked_base.revoke(deploy_destination(aws, retention_days=365))
    revoked_base.role_with(aws, "hand-made", {"AWS": tavus.TAVUS_AWS_ACCOUNT_ID}, ["s3:GetBucketLocation"], BUCKET_ARN)
    monkeypatch.setattr(aws_revoked, "Reader", lambda session: DenyingReader(session, "list_role_policies"))
    checks = assert_same_everywhere(outputs, monkeypatch)
    assert any("iam:ListRolePolicies denied" in detail for _, _, detail, _ in checks)


# --- clients --------------------------------------------------------------------------------------------------------------


def test_one_client_per_service_and_region_made_on_the_calling_thread_and_closed(aws, monkeypatch):
    key = aws.client("kms", region_name="eu-west-1").create_key()["KeyMetadata"]["Arn"]
    outputs = deploy_destination(aws, kms_key_arn=key, region="eu-west-1", retention_days=365, immutable_days=30, audit_logs=True)
    _attached_and_boundary(aws)
    session = boto3.Session()
    made: list[tuple[str, str, str]] = []
    closed: list[str] = []
    make = session.client

    def client(service: str, *args: Any, **kwargs: Any) -> Any:
        made.append((service, kwargs.get("region_name", ""), threading.current_thread().name))
        answer = make(service, *args, **kwargs)
        close = answer.close
        answer.close = lambda: (closed.append(service), close())
        return answer

    monkeypatch.setattr(session, "client", client)
    log = RequestLog(LINK_DELAY / 4).install(session)
    checks = verify(outputs, session)
    assert [check.id for check in checks] == list(verify_aws.CHECK_IDS)
    assert log.most_in_flight > 1  # the reads did overlap
    pairs = [(service, region) for service, region, _ in made]
    assert sorted(pairs) == sorted(set(pairs)), pairs
    assert {"sts", "iam", "organizations", "s3", "kms", "cloudtrail"} == {service for service, _ in pairs}
    assert ("s3", "eu-west-1") in pairs and ("s3", "us-east-1") in pairs
    assert {thread for _, _, thread in made} == {threading.current_thread().name}
    # Closed when verify is done: reads in rounds open several connections per endpoint, none left to the collector.
    assert sorted(closed) == sorted(service for service, _ in pairs)


# --- an endpoint that does not answer -------------------------------------------------------------------------------------


def test_an_unreachable_endpoint_still_stops_verify_within_seconds(outputs, monkeypatch):
    with closed_port() as port:
        monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{port}")
        started = time.monotonic()
        with pytest.raises(CannotVerify, match="cannot reach AWS") as caught:
            verify(outputs, boto3.Session())
        revoked = revoked_base.revoke(outputs)
        with pytest.raises(CannotVerify, match="cannot reach AWS"):
            verify(revoked, boto3.Session())
    assert time.monotonic() - started < 10
    assert "\n" not in str(caught.value)


WAIT = 2.0


@pytest.fixture
def one_attempt(monkeypatch):
    """One attempt per read (no retry), so each read of a dead endpoint waits exactly WAIT."""
    monkeypatch.setattr(aws_reads, "CLIENT_CONFIG", Config(connect_timeout=3, read_timeout=10, retries={"total_max_attempts": 1, "mode": "standard"}))


def dead_session(outputs: dict[str, Any], dead: Callable[[str], bool]) -> tuple[boto3.Session, DeadEndpoint]:
    """A session whose service models are loaded (a verify run first), then whose `dead` requests never answer."""
    session = boto3.Session()
    verify(outputs, session)
    return session, DeadEndpoint(WAIT, dead).install(session)


def test_a_dead_endpoint_is_waited_for_once_when_nothing_answers(outputs, one_attempt):
    session, endpoint = dead_session(outputs, lambda operation: True)
    started = time.monotonic()
    with pytest.raises(CannotVerify, match="cannot reach AWS"):
        verify(outputs, session)
    elapsed = time.monotonic() - started
    # The first round's reads wait together: one wait, as one after another the first read's wait ended verify too
    # (a second would mean a read waited after the first round).
    assert endpoint.waits >= 2
    assert endpoint.waits_one_after_another() == 1, endpoint.spans
    assert elapsed < 4 * WAIT, elapsed  # and verify adds no wait of its own (a busy machine adds some seconds)


def dead_bucket_settings(operation: str) -> bool:
    """S3 answers where the bucket is, then never again."""
    return operation != "GetBucketLocation" and operation.startswith(("GetBucket", "GetPublicAccessBlock", "ListBucket", "GetObjectLock"))


@pytest.mark.parametrize("at_once", [10, 3])
def test_a_round_that_meets_a_dead_endpoint_waits_about_once(outputs, monkeypatch, one_attempt, at_once):
    """The bucket round's reads all go to a dead endpoint: those in flight wait together, the rest are not sent."""
    monkeypatch.setattr(together, "MAX_AT_ONCE", at_once)
    session, endpoint = dead_session(outputs, dead_bucket_settings)
    started = time.monotonic()
    checks = report(verify(outputs, session))
    elapsed = time.monotonic() - started
    assert endpoint.waits <= at_once
    # One wait; the reads of the round sent one batch after another would wait three times with 3 at once.
    assert endpoint.waits_one_after_another() == 1, endpoint.spans
    assert elapsed < 4 * WAIT, elapsed
    unknown = [check_id for check_id, ok, detail, _ in checks if ok is None and "did not answer" in detail]
    assert len(unknown) >= 8, checks
    # The same report as one read after another, which waits once and then tries that endpoint no more.
    with monkeypatch.context() as patch:
        one_by_one(patch)
        sequential_session, sequential_endpoint = dead_session(outputs, dead_bucket_settings)
        assert report(verify(outputs, sequential_session)) == checks
    assert sequential_endpoint.waits == 1

"""`verify --tavus`: the test-mode handshake with the Tavus API, against a local fake of it."""

from __future__ import annotations

import time

import pytest
from specs import recording_storage_fields, request_validator
from fakes.tavus_api import PROPERTIES, REPLICA, S3, FakeTavus, running

from tavus_recording.verify import tavus_api

API_KEY = "tvs-secret-key-0123456789"


def handshake(fake: FakeTavus, timeout: float = 5.0):
    return tavus_api.handshake(PROPERTIES, api_key=API_KEY, replica_id=REPLICA, api_url=fake.url, timeout=timeout)


def test_request_is_a_test_mode_conversation_with_the_stacks_properties():
    with running() as fake:
        check = handshake(fake)
    assert check.ok is True and check.id == "tavus.accepted"
    (request,) = fake.received
    assert (request.method, request.path) == ("POST", "/v2/conversations")
    assert request.headers["x-api-key"] == API_KEY
    assert request.headers["content-type"] == "application/json"
    body = request.body
    assert body["test_mode"] is True and body["replica_id"] == REPLICA
    assert body["conversation_name"].startswith("tavus-recording verify ")
    assert body["properties"] == {"enable_recording": True, "recording_storage": S3}
    # The body is a valid request by Tavus's published schema, and uses only its field names.
    errors = [error.message for error in request_validator().iter_errors(body)]
    assert errors == []
    assert set(body["properties"]["recording_storage"]) <= recording_storage_fields()


def test_the_schema_check_can_fail():
    # The validator really enforces the published types: a string flag is refused.
    body = {"replica_id": REPLICA, "test_mode": "yes", "properties": {"recording_storage": {"provider": "ftp"}}}
    assert len(list(request_validator().iter_errors(body))) == 2


def test_accepted_says_test_mode_may_not_touch_the_storage():
    with running() as fake:
        check = handshake(fake)
    assert "test-mode conversation c123456" in check.detail
    assert "may not exercise the storage" in check.detail


@pytest.mark.parametrize(
    ("status", "answer", "quoted", "hint"),
    [
        (400, {"error": "Unable to assume role with given parameters"}, "HTTP 400: Unable to assume role", "maximum session is 43200 s"),
        (400, {"error": "There was an error creating the conversation"}, "HTTP 400: There was an error", "conversation_properties"),
        (401, {"message": "Invalid access token"}, "HTTP 401: Invalid access token", "TAVUS_API_KEY"),
        (429, {"message": "Too many requests"}, "HTTP 429: Too many requests", "rate-limiting"),
        (503, {"error": "Service unavailable"}, "HTTP 503: Service unavailable", "try again later"),
    ],
)
def test_refusals_quote_the_api_and_point_at_the_fix(status, answer, quoted, hint):
    with running(FakeTavus(status=status, answer=answer)) as fake:
        check = handshake(fake)
    assert check.ok is False
    assert quoted in check.detail
    assert hint in check.fix


def test_assume_role_refusal_names_the_trust_settings():
    with running(FakeTavus(status=400, answer={"error": "unable to assume role with given parameters"})) as fake:
        check = handshake(fake)
    assert "291871421005" in check.fix and "ExternalId" in check.fix


def test_a_timeout_fails_within_the_clients_limit():
    with running(FakeTavus(delay=3.0)) as fake:
        started = time.monotonic()
        check = handshake(fake, timeout=0.5)
        elapsed = time.monotonic() - started
    assert check.ok is False and "no answer from" in check.detail and "timed out" in check.detail
    assert elapsed < 2.5


def test_a_refused_connection_fails():
    with running() as fake:
        url = fake.url
    # The fake has stopped: nothing listens on its port any more.
    check = tavus_api.handshake(PROPERTIES, api_key=API_KEY, replica_id=REPLICA, api_url=url, timeout=2)
    assert check.ok is False and "Connection refused" in check.detail


def test_the_key_never_appears_in_the_report_even_when_echoed():
    with running(FakeTavus(status=401, answer={"message": f"Invalid access token {API_KEY}"})) as fake:
        check = handshake(fake)
    assert API_KEY not in check.detail + check.fix and "***" in check.detail
    assert API_KEY not in str(check.as_json())

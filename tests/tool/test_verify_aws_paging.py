"""A listing that never ends costs verify a bounded number of pages and makes what needed it unknown, never ok.

The attack (found by a red team of issue 20): an endpoint (a hostile proxy behind AWS_ENDPOINT_URL, or a fault) that
answers every IAM page "truncated, next page: the same marker". Before, `_paged` read it for ever one read at a
time, and in rounds looped for ever over the answer it already had (no request, so no timeout to stop it).
"""

from __future__ import annotations

import threading
from typing import Any, Callable

import boto3
import pytest
import test_verify_aws as base  # its fixtures (its tests are not collected here)
from fakes.aws_destination import deploy_destination

from tavus_recording.verify import aws as verify_aws
from tavus_recording.verify import aws_reads
from tavus_recording.verify.aws_reads import Unread
from tavus_recording.verify.outputs import recording_storage

moto, shared_session, aws = base.moto, base.shared_session, base.aws
ROLE_CHECKS = (verify_aws.ROLE_PERMISSIONS, verify_aws.ROLE_LEAST_PRIVILEGE, verify_aws.ROLE_CAN_WRITE)


def verify_within(outputs: dict[str, Any], session: boto3.Session, seconds: float) -> dict[str, Any]:
    """verify's checks by id, or a failure if it has not ended within `seconds` (run on a thread of its own)."""
    done: dict[str, Any] = {}

    def run() -> None:
        done["checks"] = verify_aws.verify(recording_storage(outputs, "test"), outputs, session)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), f"verify still running after {seconds} s"
    return {check.id: check for check in done["checks"]}


def answering(session: boto3.Session, operation: str, marker: Callable[[int], str]) -> list[int]:
    """Every `operation` answer says "truncated", with marker(n) for the n-th answer; the answers counted."""
    calls: list[int] = []

    def after(parsed: dict[str, Any], model: Any, **_: Any) -> None:
        if model.name == operation:
            calls.append(1)
            parsed["IsTruncated"], parsed["Marker"] = True, marker(len(calls))

    session.events.register("after-call", after)
    return calls


@pytest.mark.parametrize("way", ["rounds", "one by one"])
def test_a_listing_that_repeats_its_marker_ends_and_is_unknown(aws, monkeypatch, way):
    # ListRolePolicies: moto pages it by the marker it is given (ListAttachedRolePolicies fails on a marker of its own).
    outputs = deploy_destination(aws)
    session = boto3.Session()
    calls = answering(session, "ListRolePolicies", lambda n: "same")
    if way == "one by one":
        monkeypatch.setattr(aws_reads.Reader, "in_rounds", lambda self, run: run())
    checks = verify_within(outputs, session, 30)
    assert len(calls) <= 3, len(calls)  # the first page, the marker's page once (twice with the rounds' read-ahead)
    for check_id in ROLE_CHECKS:
        assert checks[check_id].ok is None, checks[check_id]
        assert "gave the same page marker twice" in checks[check_id].detail, checks[check_id]


def test_a_listing_whose_markers_never_stop_ends_after_its_pages(aws, monkeypatch):
    outputs = deploy_destination(aws)
    session = boto3.Session()
    monkeypatch.setattr(aws_reads, "IAM_PAGES", 5)
    calls = answering(session, "ListRolePolicies", lambda n: f"page-{n}")
    checks = verify_within(outputs, session, 30)
    assert len(calls) <= 2 * 5, len(calls)
    assert checks[verify_aws.ROLE_PERMISSIONS].ok is None
    assert "iam:ListRolePolicies did not end within 5 pages" in checks[verify_aws.ROLE_PERMISSIONS].detail


class PagedReader:
    """A reader whose every page of `operation` is truncated, with the marker `token(n)` for the n-th call."""

    def __init__(self, token: Callable[[int], str], key: str, marker: str, items: str) -> None:
        self.token, self.key, self.marker, self.items, self.calls = token, key, marker, items, 0

    def call(self, service: str, region: str, operation: str, **kwargs: Any) -> Any:
        self.calls += 1
        return {self.items: [f"item-{self.calls}"], "IsTruncated": True, self.key: self.token(self.calls)}


def test_the_iam_pager_counts_every_page_it_read_and_refuses_a_repeat():
    ends = PagedReader(lambda n: f"m{n}" if n < 3 else "", "Marker", "Marker", "PolicyNames")
    assert aws_reads._paged(ends, "list_role_policies", "PolicyNames", RoleName="r") == ["item-1", "item-2", "item-3"]  # type: ignore[arg-type]
    loops = PagedReader(lambda n: "m1" if n < 3 else "m2", "Marker", "Marker", "PolicyNames")
    answer = aws_reads._paged(loops, "list_role_policies", "PolicyNames", RoleName="r")  # type: ignore[arg-type]
    assert isinstance(answer, Unread) and loops.calls == 2
    assert answer.detail == "iam:ListRolePolicies gave the same page marker twice: a listing that never ends"


@pytest.mark.parametrize("tokens, calls", [
    (lambda n: "t", 2),  # the same token again
    (lambda n: f"t{n % 3}", 4),  # a cycle of three
])
def test_the_tiering_pager_refuses_a_token_it_was_given_before(tokens, calls):
    reader = PagedReader(tokens, "NextContinuationToken", "ContinuationToken", "IntelligentTieringConfigurationList")
    answer = verify_aws._tiering_configurations(reader, "us-east-1", "b")  # type: ignore[arg-type]
    assert isinstance(answer, Unread) and "same page token twice" in answer.detail
    assert reader.calls == calls

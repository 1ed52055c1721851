"""What the GCS and Azure rounds tests share: the three ways `verify` may issue its reads, the requests a fake
received, and what a fake's handler saw (requests in flight, the most at once, the round trips one after another).

Round trips are counted from when the handler held each request (arrival to answer), not from the wall time of a
run: a busy machine lengthens a run, but a request the client sent only after another was answered still arrives
after that answer, and requests sent together still overlap while the fake holds each for its delay.
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Callable, Iterable, Iterator, TypeVar

import pytest
from fakes.aws_request_log import one_after_another

from tavus_recording.verify import together

MODES = ("one after another", "rounds on one thread", "rounds")
T = TypeVar("T")


def timed(run: Callable[[], T]) -> tuple[T, float]:
    """What `run` returned, and the seconds it took."""
    started = time.monotonic()
    value = run()
    return value, time.monotonic() - started


@contextmanager
def mode(name: str, verifier: ModuleType) -> Iterator[None]:
    """`verifier` (verify.gcp or verify.azure) reading the way `name` says, for the duration."""
    with pytest.MonkeyPatch.context() as patch:
        if name == "one after another":
            # verify's reads as they were before the rounds: each made when its check asks for it.
            patch.setattr(verifier, "_read_ahead", lambda *args, **kwargs: None)
        elif name == "rounds on one thread":
            patch.setattr(together, "MAX_AT_ONCE", 1)
        yield


def assert_same(found: dict[str, tuple[Any, Any, float]], requests: bool = True) -> Any:
    """`found`: each mode's (report, requests, seconds). Every way gave the same report (and, unless an endpoint
    failed mid-run, made the same requests); that report."""
    first = found["one after another"]
    for name in MODES:
        assert found[name][0] == first[0], name
        if requests:
            assert found[name][1] == first[1], name
    return first[0]


def requests_made(received: Iterable[Any], fold_case: bool = False) -> list[tuple[str, str, str]]:
    """The requests, as a sorted list (rounds change their order, never which they are); ARM's paths case-folded."""
    return sorted((r.method, r.path.lower() if fold_case else r.path, repr(sorted(r.query.items()))) for r in received)


@dataclass
class Traffic:
    """What the fake saw: requests in flight now, the most at once, every path asked as it arrived, and when each
    request was held (arrival to answer)."""

    in_flight: int = 0
    most: int = 0
    paths: list[str] = field(default_factory=list)
    spans: list[tuple[float, float, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @contextmanager
    def handling(self, path: str) -> Iterator[None]:
        """Around the handler's work on one request for `path`."""
        with self.lock:
            self.in_flight += 1
            self.most = max(self.most, self.in_flight)
            self.paths.append(path)
        start = time.monotonic()
        try:
            yield
        finally:
            with self.lock:
                self.in_flight -= 1
                self.spans.append((start, time.monotonic(), path))

    def round_trips(self) -> int:
        """The longest chain of requests each of which arrived after the one before it was answered."""
        return len(one_after_another(self.spans))

    def assert_rounds(self, most: int, round_trips: int) -> None:
        """`most` requests were held at once, and `round_trips` came one after another."""
        assert self.most == most, self.most
        assert self.round_trips() == round_trips, self.rounds()

    def rounds(self) -> list[list[str]]:
        """The paths asked, by round trip (for a failing test's message)."""
        return one_after_another(self.spans)

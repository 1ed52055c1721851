"""Every AWS call a boto3 session's clients make, and when each request was on the wire, with an optional delay per
request (a slow link, as a real cloud's round trip is).

`RequestLog(delay).install(session)` hooks the session's botocore events, so every client made from it afterwards is
seen: `before-parameter-build` names each API call with its parameters (once per call, retries or not), and
`before-send` holds each request for `delay` seconds on the calling thread before it goes out, noting when. From
those spans, `sequential_latencies()` is the longest chain of requests each sent only after the one before it was
answered: the round trips a run waits for one after another. Nothing is changed in what is sent or answered.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any


class RequestLog:
    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.calls: list[tuple[str, str]] = []
        self.spans: list[tuple[float, float, str]] = []
        self.in_flight = 0
        self.most_in_flight = 0
        self._lock = threading.Lock()

    def install(self, session: Any) -> "RequestLog":
        session.events.register("before-parameter-build", self._called)
        session.events.register("before-send", self._send)
        return self

    def clear(self) -> None:
        with self._lock:
            self.calls.clear()
            self.spans.clear()
            self.most_in_flight = 0

    def operations(self) -> set[str]:
        return {name for name, _ in self.calls}

    def sequential_latencies(self) -> int:
        """The longest chain of requests in which each started after the previous one ended."""
        return len(self.rounds())

    def _called(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        with self._lock:
            self.calls.append((model.name, json.dumps(params, sort_keys=True, default=str)))

    def rounds(self) -> list[list[str]]:
        """The operations sent, grouped by how many round trips came before each (for a failing test's message)."""
        return one_after_another(self.spans)

    def _send(self, event_name: str, **_: Any) -> None:
        with self._lock:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        start = time.monotonic()
        time.sleep(self.delay)
        with self._lock:
            self.in_flight -= 1
            self.spans.append((start, time.monotonic(), event_name.rsplit(".", 1)[-1]))
        return None  # botocore sends the request itself


def one_after_another(spans: list[tuple[float, float, str]]) -> list[list[str]]:
    """The names of (start, end, name) spans grouped by how many spans, one after another, ended before each began."""
    spans = sorted(spans)
    depth: list[int] = []
    for index, (start, _, _) in enumerate(spans):
        depth.append(1 + max((depth[j] for j in range(index) if spans[j][1] <= start), default=0))
    return [[name for (_, _, name), d in zip(spans, depth) if d == level] for level in range(1, max(depth, default=0) + 1)]


class DeadEndpoint:
    """An endpoint that never answers, as a firewall dropping packets makes one: each request the `dead(operation)`
    predicate picks waits `wait` seconds (the connect timeout) and fails with botocore's ConnectTimeoutError; the
    others go out as usual. `waits` counts the requests that waited, `spans` holds when each wait began and ended."""

    def __init__(self, wait: float, dead: Any) -> None:
        self.wait = wait
        self.dead = dead
        self.waits = 0
        self.spans: list[tuple[float, float, str]] = []
        self._lock = threading.Lock()

    def waits_one_after_another(self) -> int:
        """How many waits a run sat through one after another: 1 when every wait overlapped every other."""
        return len(one_after_another(self.spans))

    def install(self, session: Any) -> "DeadEndpoint":
        session.events.register("before-send", self._send)
        return self

    def _send(self, request: Any, event_name: str, **_: Any) -> None:
        from botocore.exceptions import ConnectTimeoutError

        if not self.dead(event_name.rsplit(".", 1)[-1]):
            return None
        with self._lock:
            self.waits += 1
        start = time.monotonic()
        time.sleep(self.wait)
        with self._lock:
            self.spans.append((start, time.monotonic(), event_name.rsplit(".", 1)[-1]))
        raise ConnectTimeoutError(endpoint_url=request.url)

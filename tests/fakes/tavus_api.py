"""A local stand-in for the Tavus API's POST /v2/conversations, answering as the API documents.

Listens on 127.0.0.1 only, answers a bounded number of requests, and stops when its context manager
ends or after LIFETIME_SECONDS, whichever comes first. Each test sets the answer (status and JSON body) or a delay longer than the client waits.
"""

from __future__ import annotations

import json
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator, Optional

from fakes.loopback import MAX_REQUESTS, SOCKET_TIMEOUT_SECONDS, send_json, serving


# Shapes from the API reference (seeds/002): 200 returns the conversation, 400 `error`, 401 `message`.
CREATED = {
    "conversation_id": "c123456",
    "conversation_name": "tavus-recording verify",
    "conversation_url": "https://tavus.daily.co/c123456",
    "status": "ended",
    "callback_url": "",
    "created_at": "2026-11-23T11:00:00.000000Z",
}


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class FakeTavus:
    url: str = ""
    status: int = 200
    answer: Any = field(default_factory=lambda: dict(CREATED))
    delay: float = 0.0
    received: list[Received] = field(default_factory=list)


def _handler(fake: FakeTavus) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        timeout = SOCKET_TIMEOUT_SECONDS

        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            if len(fake.received) >= MAX_REQUESTS:
                self.send_error(503, "fake Tavus API: request budget spent")
                return
            fake.received.append(
                Received("POST", self.path, {k.lower(): v for k, v in self.headers.items()}, json.loads(raw or b"null"))
            )
            if fake.delay:
                time.sleep(fake.delay)
            send_json(self, fake.status, fake.answer)

        def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
            pass

    return Handler


@contextmanager
def running(fake: Optional[FakeTavus] = None) -> Iterator[FakeTavus]:
    """Serve `fake` on a loopback port until the block ends."""
    fake = fake or FakeTavus()
    with serving(ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))) as port:
        fake.url = f"http://127.0.0.1:{port}"
        yield fake

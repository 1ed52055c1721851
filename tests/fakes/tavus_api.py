"""A local stand-in for the Tavus API's POST /v2/conversations, answering as the API documents.

Listens on 127.0.0.1 only, answers a bounded number of requests, and stops when its context manager
ends or after LIFETIME_SECONDS, whichever comes first. Each test sets the answer (status and JSON body,
or raw bytes), extra headers (a redirect's Location) or a delay longer than the client waits.
"""

from __future__ import annotations

import json
import ssl
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator, Optional

import trustme

from components import tavus
from fakes.loopback import MAX_REQUESTS, SOCKET_TIMEOUT_SECONDS, TlsServer, send_json, serving


# A destination the tests send, and the replica they name.
REPLICA = "r90bbd427f71"
S3 = tavus.S3RecordingStorageConfig(
    bucket_name="acme-tavus-recordings",
    bucket_region="eu-west-1",
    assume_role_arn="arn:aws:iam::111122223333:role/tavus-recordings-writer",
    external_id="tavus",
).model_dump()
PROPERTIES = tavus.conversation_properties(S3)

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
    # Sent as they are, instead of `answer` as JSON: text, HTML, a half-written object.
    raw: Optional[bytes] = None
    headers: dict[str, str] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)


def _json_or_text(raw: bytes) -> Any:
    try:
        return json.loads(raw or b"null")
    except ValueError:
        return raw.decode("utf-8", "replace")


def send_raw(handler: BaseHTTPRequestHandler, status: int, payload: bytes, headers: dict[str, str]) -> None:
    try:
        handler.send_response(status)
        handler.send_header("Content-Type", "text/plain; charset=utf-8")
        handler.send_header("Content-Length", str(len(payload)))
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(payload)
    except OSError:  # the client gave up reading
        pass


def _handler(fake: FakeTavus) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        timeout = SOCKET_TIMEOUT_SECONDS

        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            self._answer("POST")

        def do_GET(self) -> None:  # noqa: N802 (a followed 301/302/303 arrives as a GET)
            self._answer("GET")

        def _answer(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            if len(fake.received) >= MAX_REQUESTS:
                self.send_error(503, "fake Tavus API: request budget spent")
                return
            fake.received.append(
                Received(method, self.path, {k.lower(): v for k, v in self.headers.items()}, _json_or_text(raw))
            )
            if fake.delay:
                time.sleep(fake.delay)
            if fake.raw is None:
                send_json(self, fake.status, fake.answer, headers=fake.headers)
            else:
                send_raw(self, fake.status, fake.raw, fake.headers)

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


@contextmanager
def running_tls(fake: FakeTavus, ca: trustme.CA) -> Iterator[FakeTavus]:
    """Serve `fake` over https on a loopback port, with a certificate for 127.0.0.1 from `ca`."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    with serving(TlsServer(_handler(fake), context)) as port:
        fake.url = f"https://127.0.0.1:{port}"
        yield fake

"""What every fake API here shares: a loopback server that answers a bounded number of requests,
times out idle sockets, and stops by itself; JSON answers; and a port nothing answers on."""

from __future__ import annotations

import json
import socket
import ssl
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Iterator, Optional

MAX_REQUESTS = 60
SOCKET_TIMEOUT_SECONDS = 5
# A server a test forgot to stop still stops.
LIFETIME_SECONDS = 120
LISTEN_BACKLOG = 64


class TlsServer(ThreadingHTTPServer):
    """A loopback https server for `serving`: a fake of an API its client reaches over https only."""

    daemon_threads = True

    def __init__(self, handler: type[BaseHTTPRequestHandler], context: ssl.SSLContext) -> None:
        super().__init__(("127.0.0.1", 0), handler)
        self.context = context

    def finish_request(self, request: Any, client_address: Any) -> None:
        request.settimeout(SOCKET_TIMEOUT_SECONDS)
        handle_over_tls(self.context, request, lambda tls: self.RequestHandlerClass(tls, client_address, self))


def handle_over_tls(context: ssl.SSLContext, request: socket.socket, handle: Callable[[ssl.SSLSocket], Any]) -> None:
    """`handle` the connection once its TLS handshake is done, then close it; a failed handshake ends it. Called in
    the connection's own thread, so a stalled client cannot block accept()."""
    try:
        tls = context.wrap_socket(request, server_side=True)
    except (ssl.SSLError, OSError):
        return
    try:
        handle(tls)
    finally:
        try:
            tls.close()
        except OSError:
            pass


@contextmanager
def serving(server: ThreadingHTTPServer) -> Iterator[int]:
    """Run `server` (bound to 127.0.0.1) in a daemon thread until the block ends; yields its port."""
    assert server.server_address[0] == "127.0.0.1", "fakes listen on loopback only"
    # socketserver listens with a backlog of 5: a client's reads issued together (ten connects at once) would see some
    # connects dropped and retried a second later. Listening again sets the backlog.
    server.socket.listen(LISTEN_BACKLOG)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    stopper = threading.Timer(LIFETIME_SECONDS, server.shutdown)
    stopper.daemon = True
    thread.start()
    stopper.start()
    try:
        yield server.server_address[1]
    finally:
        stopper.cancel()
        server.shutdown()
        server.server_close()
        thread.join(timeout=SOCKET_TIMEOUT_SECONDS)


def send_json(
    handler: BaseHTTPRequestHandler,
    status: int,
    body: Any,
    content_type: str = "application/json",
    headers: Optional[dict[str, str]] = None,
) -> None:
    payload = json.dumps(body).encode()
    try:
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(payload)
    except OSError:  # the client gave up waiting
        pass


@contextmanager
def closed_port() -> Iterator[int]:
    """A loopback port that refuses connections: bound but not listening, so no one else can take it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        yield probe.getsockname()[1]


@contextmanager
def silent_listener(backlog: int = 32) -> Iterator[int]:
    """A loopback port that accepts connections and never answers (a black-holed endpoint)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(backlog)
        yield listener.getsockname()[1]

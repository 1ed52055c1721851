"""A reverse HTTP proxy on 127.0.0.1 that holds every request for a fixed delay before forwarding it.

It stands between a client and a local fake (moto, the GCS or Azure fakes) so a benchmark can measure
what a real cloud's round trip costs: the time a run takes through the proxy, less the time it takes
direct, is what `delay` per request added. Requests held at once are held in parallel (a thread per
connection), so reads a client issues together pay the delay together, as they would over a network.

What is forwarded, byte for byte: the method, the request target (path and query, as sent), the
headers in their order (the Host header names the upstream, as a reverse proxy's does; the hop-by-hop
ones are the proxy's own), the body; back: the status and reason, the headers, the body (framed by
Content-Length, or chunked when the upstream gave no length). An upstream that cannot be reached, or
does not answer in time, is a 502. Clients keep their connections alive (HTTP/1.1); the proxy keeps one
upstream connection per client connection and reopens it when the upstream closed it.

An https upstream (the Azure fake) is served over TLS too, with a `server_context` holding a
certificate the client already trusts (the fake's test CA), so the client's trust settings still hold.

It listens on loopback only, serves at most `max_connections` connections at once (one thread each),
times out idle and stalled sockets, and stops when its context manager ends or after `lifetime`
seconds, whichever comes first, closing the connections still open.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Optional
from urllib.parse import urlsplit

from fakes.loopback import handle_over_tls

SOCKET_TIMEOUT_SECONDS = 5
# A proxy a benchmark or test forgot to stop still stops.
LIFETIME_SECONDS = 300
MAX_CONNECTIONS = 64
# Headers about one connection, not the message (RFC 9110 7.6.1): never passed along. Expect is answered here.
HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization", "te",
                        "trailer", "transfer-encoding", "upgrade", "expect"})
COPY_BLOCK = 64 * 1024


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver's default backlog is 5: a client opening ten connections at once (verify's reads issued
    # together) would see some connects dropped and retried a second later, far more than the delay.
    request_queue_size = 128

    def __init__(self, proxy: "LatencyProxy") -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.proxy = proxy
        self.slots = threading.BoundedSemaphore(proxy.max_connections)
        self.open: set[socket.socket] = set()
        self.lock = threading.Lock()

    def process_request(self, request: Any, client_address: Any) -> None:
        # One thread per connection, at most max_connections: a further one waits for a slot, then is closed.
        if not self.slots.acquire(timeout=SOCKET_TIMEOUT_SECONDS):
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self.slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()

    def finish_request(self, request: Any, client_address: Any) -> None:
        request.settimeout(SOCKET_TIMEOUT_SECONDS)
        with self.lock:
            self.open.add(request)
        try:
            if self.proxy.server_context is None:
                self.RequestHandlerClass(request, client_address, self)
                return
            handle_over_tls(self.proxy.server_context, request, lambda tls: self.RequestHandlerClass(tls, client_address, self))
        finally:
            with self.lock:
                self.open.discard(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hung up, an upstream that broke off, or a socket closed by stop(), is no news;
        # anything else is a bug worth its traceback.
        if not isinstance(sys.exc_info()[1], (OSError, http.client.HTTPException)):
            super().handle_error(request, client_address)

    def close_open_connections(self) -> None:
        with self.lock:
            sockets = list(self.open)
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = SOCKET_TIMEOUT_SECONDS
    # Headers and body go out in separate writes: with Nagle's algorithm the body would wait for the client's
    # delayed ACK (about 40 ms on Linux), a cost per request the delay alone should be. http.client sets it upstream.
    disable_nagle_algorithm = True
    upstream: Optional[http.client.HTTPConnection] = None

    @property
    def proxy(self) -> "LatencyProxy":
        assert isinstance(self.server, _Server)
        return self.server.proxy

    def handle(self) -> None:
        try:
            super().handle()
        finally:
            if self.upstream is not None:
                self.upstream.close()

    def _forward(self) -> None:
        proxy = self.proxy
        body = self._request_body()
        if body is None:
            return
        # The whole request is in: hold it, as a network would, then send it on.
        time.sleep(proxy.delay)
        proxy._counted()
        headers = [(name, value) for name, value in self.headers.items()
                   if name.lower() not in HOP_BY_HOP and name.lower() not in ("host", "content-length")]
        headers.insert(0, ("Host", proxy.upstream_host))
        if body or self.headers.get("Content-Length") is not None or "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            headers.append(("Content-Length", str(len(body))))
        try:
            answer = self._exchange(headers, body)
        except (OSError, http.client.HTTPException) as error:
            if self.upstream is not None:
                self.upstream.close()
                self.upstream = None
            self._bad_gateway(f"{proxy.upstream}: {type(error).__name__}: {error}")
            return
        try:
            self._relay(answer)
        finally:
            answer.close()
            if answer.will_close and self.upstream is not None:
                self.upstream.close()
                self.upstream = None

    def _request_body(self) -> Optional[bytes]:
        """The request's body (de-chunked when it came chunked), or None when the request was bad (answered)."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            parts = []
            while True:
                size_line = self.rfile.readline(1024)
                try:
                    size = int(size_line.split(b";", 1)[0].strip(), 16)
                except ValueError:
                    self.send_error(400, "bad chunk size")
                    return None
                if size == 0:
                    while self.rfile.readline(1024).strip():  # trailers, then the blank line
                        pass
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline(8)
        length = self.headers.get("Content-Length")
        if length is None:
            return b""
        try:
            return self.rfile.read(int(length))
        except ValueError:
            self.send_error(400, "bad Content-Length")
            return None

    def _exchange(self, headers: list[tuple[str, str]], body: bytes) -> http.client.HTTPResponse:
        """Send the request upstream on this connection's upstream connection; reopen it once if the upstream had closed it."""
        reused = self.upstream is not None
        for attempt in (1, 2):
            if self.upstream is None:
                self.upstream = self.proxy._connect()
            try:
                self.upstream.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
                for name, value in headers:
                    self.upstream.putheader(name, value)
                self.upstream.endheaders(body or None)
                return self.upstream.getresponse()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self.upstream.close()
                self.upstream = None
                # Only a kept-alive connection the upstream closed while idle is retried; a fresh one failing is the answer.
                if not reused or attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _relay(self, answer: http.client.HTTPResponse) -> None:
        self.send_response_only(answer.status, answer.reason)
        length = answer.getheader("Content-Length")
        no_body = self.command == "HEAD" or answer.status in (204, 304) or 100 <= answer.status < 200
        for name, value in answer.getheaders():
            if name.lower() in HOP_BY_HOP or (name.lower() == "content-length" and not no_body):
                continue
            self.send_header(name, value)
        chunked = not no_body and length is None
        if chunked and self.request_version == "HTTP/1.0":
            # An HTTP/1.0 client knows no chunks: the end of the body is the end of the connection, as the upstream had it.
            chunked, self.close_connection = False, True
        elif not no_body:
            self.send_header("Transfer-Encoding" if chunked else "Content-Length", "chunked" if chunked else length or "0")
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if no_body:
            return
        while block := answer.read(COPY_BLOCK):
            self.wfile.write(b"%x\r\n%s\r\n" % (len(block), block) if chunked else block)
        if chunked:
            self.wfile.write(b"0\r\n\r\n")

    def _bad_gateway(self, detail: str) -> None:
        payload = f"latency proxy: upstream failed: {detail}\n".encode()
        self.send_response_only(502, "Bad Gateway")
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _forward

    def log_message(self, format: str, *args: Any) -> None:  # keep benchmark and test output clean
        pass


class LatencyProxy:
    """`with LatencyProxy("http://127.0.0.1:PORT", delay=0.1) as proxy:` serves `proxy.url` until the block ends."""

    def __init__(
        self,
        upstream: str,
        delay: float,
        *,
        server_context: Optional[ssl.SSLContext] = None,
        upstream_context: Optional[ssl.SSLContext] = None,
        max_connections: int = MAX_CONNECTIONS,
        lifetime: float = LIFETIME_SECONDS,
    ) -> None:
        parts = urlsplit(upstream)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"upstream must be an http(s) base URL, not {upstream!r}")
        if parts.scheme == "https" and server_context is None:
            raise ValueError("an https upstream needs a server_context: the client must reach the proxy over TLS too")
        self.upstream = upstream
        self.upstream_host = parts.netloc
        self.scheme = parts.scheme
        self.delay = delay
        self.server_context = server_context
        self.upstream_context = upstream_context
        self.max_connections = max_connections
        self.lifetime = lifetime
        self.requests = 0
        self._count_lock = threading.Lock()
        self._hostname = parts.hostname
        self._port = parts.port or (443 if parts.scheme == "https" else 80)
        self._server: Optional[_Server] = None
        self._thread: Optional[threading.Thread] = None
        self._stopper: Optional[threading.Timer] = None
        self.url = ""

    def _connect(self) -> http.client.HTTPConnection:
        if self.scheme == "https":
            return http.client.HTTPSConnection(self._hostname, self._port, timeout=SOCKET_TIMEOUT_SECONDS,
                                               context=self.upstream_context)
        return http.client.HTTPConnection(self._hostname, self._port, timeout=SOCKET_TIMEOUT_SECONDS)

    def _counted(self) -> None:
        with self._count_lock:
            self.requests += 1

    def start(self) -> "LatencyProxy":
        server = _Server(self)
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True,
                                        name="latency-proxy")
        self._stopper = threading.Timer(self.lifetime, self.stop)
        self._stopper.daemon = True
        self._thread.start()
        self._stopper.start()
        self.url = f"{'https' if self.server_context else 'http'}://127.0.0.1:{server.server_address[1]}"
        return self

    def stop(self) -> None:
        """Stop accepting, close the connections still open, and wait (briefly) for the serving thread."""
        server, self._server = self._server, None
        if server is None:
            return
        if self._stopper is not None and self._stopper is not threading.current_thread():
            self._stopper.cancel()
        server.shutdown()
        server.server_close()
        server.close_open_connections()
        if self._thread is not None:
            self._thread.join(timeout=SOCKET_TIMEOUT_SECONDS)

    def __enter__(self) -> "LatencyProxy":
        return self.start()

    def __exit__(self, kind: Optional[type[BaseException]], error: Optional[BaseException], trace: Optional[TracebackType]) -> None:
        self.stop()

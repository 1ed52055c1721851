"""The latency proxy the verify benchmark puts in front of the fakes: it forwards faithfully, holds every
request at least its delay (kept-alive connections too), holds concurrent requests in parallel, and stops."""

from __future__ import annotations

import http.client
import socket
import ssl
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator, Optional

import boto3
import pytest
import trustme
from fakes.aws_destination import REGION, running_moto
from fakes.latency_proxy import LatencyProxy
from fakes.loopback import TlsServer, closed_port, serving

BINARY = bytes(range(256)) * 40
CHUNKS = [b"first chunk,", bytes(range(200)), b"", b"last"]


@dataclass
class Seen:
    method: str
    path: str
    headers: list[tuple[str, str]]
    body: bytes


@dataclass
class Upstream:
    url: str = ""
    seen: list[Seen] = field(default_factory=list)


def _handler(upstream: Upstream) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        timeout = 5

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            upstream.seen.append(Seen(self.command, self.path, list(self.headers.items()), body))
            route = self.path.split("?")[0]
            if route.startswith("/status/"):
                status = int(route.rsplit("/", 1)[1])
                self._send(status, b"" if status in (204, 304) else f"answer {status}".encode(),
                           [("Set-Cookie", "a=1"), ("Set-Cookie", "b=2"), ("X-Error-Code", "NoSuchThing")])
            elif route == "/bytes":
                self._send(200, BINARY, [("Content-Type", "application/octet-stream")])
            elif route == "/chunked":
                self.send_response(200)
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for chunk in CHUNKS:
                    if chunk:
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.write(b"0\r\n\r\n")
            elif route == "/close-delimited":
                # An HTTP/1.0-style answer: no length, the end of the body is the end of the connection.
                self.send_response(200)
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(BINARY)
                self.close_connection = True
            elif route == "/then-hang-up":
                # Says nothing of closing, then closes: the proxy's kept upstream connection is dead for the next request.
                self._send(200, b"bye", [])
                self.close_connection = True
            else:
                self._send(200, b"echo:" + body, [("X-Upstream", "yes")])

        def _send(self, status: int, body: bytes, headers: list[tuple[str, str]]) -> None:
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


# socketserver listens with a backlog of 5; the concurrency test opens more connections than that at once.
class _Plain(ThreadingHTTPServer):
    request_queue_size = 64


class _Tls(TlsServer):
    request_queue_size = 64


@contextmanager
def upstream_server(context: Optional[ssl.SSLContext] = None) -> Iterator[Upstream]:
    upstream = Upstream()
    server = _Tls(_handler(upstream), context) if context else _Plain(("127.0.0.1", 0), _handler(upstream))
    with serving(server) as port:
        upstream.url = f"{'https' if context else 'http'}://127.0.0.1:{port}"
        yield upstream


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    with upstream_server() as served:
        yield served


def connect(proxy: LatencyProxy) -> http.client.HTTPConnection:
    return http.client.HTTPConnection("127.0.0.1", int(proxy.url.rsplit(":", 1)[1]), timeout=5)


def fetch(conn: http.client.HTTPConnection, method: str, path: str, body: Optional[bytes] = None,
          headers: Optional[dict[str, str]] = None) -> tuple[http.client.HTTPResponse, bytes]:
    conn.request(method, path, body=body, headers=headers or {})
    answer = conn.getresponse()
    return answer, answer.read()


# --- faithful forwarding


def test_method_target_headers_and_body_arrive_as_sent_with_the_upstreams_host(upstream: Upstream):
    with LatencyProxy(upstream.url, 0) as proxy:
        conn = connect(proxy)
        conn.putrequest("PUT", "/echo/a%2Fb/c%20d?x=1&y=%2B&empty=", skip_host=True, skip_accept_encoding=True)
        for name, value in [("Host", "bucket.example"), ("X-Amz-Meta-One", "1"), ("X-Twice", "a"), ("X-Twice", "b"),
                            ("Content-Type", "application/octet-stream"), ("Content-Length", str(len(BINARY)))]:
            conn.putheader(name, value)
        conn.endheaders(BINARY)
        answer = conn.getresponse()
        body = answer.read()
    assert (answer.status, body, answer.getheader("X-Upstream")) == (200, b"echo:" + BINARY, "yes")
    (seen,) = upstream.seen
    assert (seen.method, seen.path, seen.body) == ("PUT", "/echo/a%2Fb/c%20d?x=1&y=%2B&empty=", BINARY)
    assert seen.headers == [("Host", upstream.url.removeprefix("http://")), ("X-Amz-Meta-One", "1"), ("X-Twice", "a"),
                            ("X-Twice", "b"), ("Content-Type", "application/octet-stream"), ("Content-Length", str(len(BINARY)))]


@pytest.mark.parametrize("status", [201, 301, 403, 404, 409, 500, 503])
def test_statuses_reasons_headers_and_error_bodies_come_back_as_the_upstream_sent_them(upstream: Upstream, status: int):
    with LatencyProxy(upstream.url, 0) as proxy:
        answer, body = fetch(connect(proxy), "GET", f"/status/{status}")
    assert (answer.status, answer.reason, body) == (status, http.client.responses[status], f"answer {status}".encode())
    assert answer.msg.get_all("Set-Cookie") == ["a=1", "b=2"]
    assert answer.getheader("X-Error-Code") == "NoSuchThing"


def test_head_keeps_the_content_length_sends_no_body_and_the_connection_stays_usable(upstream: Upstream):
    with LatencyProxy(upstream.url, 0) as proxy:
        conn = connect(proxy)
        head, head_body = fetch(conn, "HEAD", "/bytes")
        after, after_body = fetch(conn, "GET", "/bytes")
        empty, _ = fetch(conn, "GET", "/status/204")
        last, last_body = fetch(conn, "POST", "/echo", b"still in step")
    assert (head.status, head.getheader("Content-Length"), head_body) == (200, str(len(BINARY)), b"")
    assert (after.status, after_body) == (200, BINARY)
    assert empty.status == 204
    assert (last.status, last_body) == (200, b"echo:still in step")
    assert [seen.method for seen in upstream.seen] == ["HEAD", "GET", "GET", "POST"]


def test_chunked_and_close_delimited_answers_arrive_whole_on_a_kept_alive_connection(upstream: Upstream):
    with LatencyProxy(upstream.url, 0) as proxy:
        conn = connect(proxy)
        chunked, chunked_body = fetch(conn, "GET", "/chunked")
        closing, closing_body = fetch(conn, "GET", "/close-delimited")
        after, after_body = fetch(conn, "GET", "/bytes")
    assert (chunked.status, chunked_body) == (200, b"".join(CHUNKS))
    assert (closing.status, closing_body) == (200, BINARY)
    assert (after.status, after_body) == (200, BINARY)


def test_an_http_1_0_client_gets_a_body_of_unknown_length_up_to_the_close_not_in_chunks(upstream: Upstream):
    with LatencyProxy(upstream.url, 0) as proxy:
        port = int(proxy.url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
            raw.sendall(b"GET /close-delimited HTTP/1.0\r\n\r\n")
            received = b""
            while block := raw.recv(65536):
                received += block
    head, body = received.split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 200 ")
    assert b"chunked" not in head.lower() and b"connection: close" in head.lower()
    assert body == BINARY


def test_a_chunked_request_body_reaches_the_upstream_whole(upstream: Upstream):
    with LatencyProxy(upstream.url, 0) as proxy:
        conn = connect(proxy)
        conn.request("POST", "/echo", body=iter([b"one,", bytes(range(100)), b",three"]), encode_chunked=True)
        answer = conn.getresponse()
        body = answer.read()
    expected = b"one," + bytes(range(100)) + b",three"
    assert (answer.status, body) == (200, b"echo:" + expected)
    assert upstream.seen[0].body == expected
    assert ("Content-Length", str(len(expected))) in upstream.seen[0].headers


def test_an_upstream_that_closed_its_kept_connection_is_reached_again(upstream: Upstream):
    with LatencyProxy(upstream.url, 0) as proxy:
        conn = connect(proxy)
        first, _ = fetch(conn, "GET", "/then-hang-up")
        time.sleep(0.1)
        second, second_body = fetch(conn, "POST", "/echo", b"again")
    assert (first.status, second.status, second_body) == (200, 200, b"echo:again")


def test_an_upstream_nothing_answers_on_is_a_bad_gateway():
    with closed_port() as port, LatencyProxy(f"http://127.0.0.1:{port}", 0) as proxy:
        conn = connect(proxy)
        answer, body = fetch(conn, "GET", "/anything")
        head, head_body = fetch(conn, "HEAD", "/anything")
    assert (answer.status, head.status, head_body) == (502, 502, b"")
    assert b"latency proxy: upstream failed" in body


def test_an_https_upstream_is_served_over_tls_the_client_already_trusts(tmp_path: Path):
    ca = trustme.CA()
    upstream_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(upstream_context)
    proxy_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(proxy_context)
    trusting = ssl.create_default_context()
    ca.configure_trust(trusting)
    with upstream_server(upstream_context) as upstream, \
            LatencyProxy(upstream.url, 0, server_context=proxy_context, upstream_context=trusting) as proxy:
        assert proxy.url.startswith("https://127.0.0.1:")
        port = int(proxy.url.rsplit(":", 1)[1])
        conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=5, context=trusting)
        answer, body = fetch(conn, "POST", "/echo", b"over tls")
        stranger = http.client.HTTPSConnection("127.0.0.1", port, timeout=5, context=ssl.create_default_context())
        with pytest.raises(ssl.SSLCertVerificationError):
            fetch(stranger, "GET", "/echo")
    assert (answer.status, body) == (200, b"echo:over tls")
    assert [seen.body for seen in upstream.seen] == [b"over tls"]
    with pytest.raises(ValueError, match="server_context"):
        LatencyProxy("https://127.0.0.1:1", 0)


def test_an_sdk_reads_and_writes_a_fake_cloud_through_it(monkeypatch: pytest.MonkeyPatch):
    with running_moto() as moto, LatencyProxy(moto.url, 0) as proxy:
        for name, value in {**moto.environment, "AWS_ENDPOINT_URL": proxy.url}.items():
            monkeypatch.setenv(name, value)
        s3 = boto3.Session().client("s3", region_name=REGION)
        s3.create_bucket(Bucket="through-the-proxy")
        s3.put_object(Bucket="through-the-proxy", Key="a b/c.bin", Body=BINARY)
        got = s3.get_object(Bucket="through-the-proxy", Key="a b/c.bin")["Body"].read()
        head = s3.head_object(Bucket="through-the-proxy", Key="a b/c.bin")
        with pytest.raises(s3.exceptions.NoSuchKey):
            s3.get_object(Bucket="through-the-proxy", Key="missing")
        assert (got, head["ContentLength"]) == (BINARY, len(BINARY))
        assert proxy.requests == 5


# --- the delay


def test_every_request_is_held_at_least_the_delay_also_on_a_kept_alive_connection(upstream: Upstream):
    delay = 0.2
    with LatencyProxy(upstream.url, delay) as proxy:
        conn = connect(proxy)
        times, sockets = [], []
        for n in range(3):
            started = time.perf_counter()
            answer, body = fetch(conn, "POST", "/echo", str(n).encode())
            times.append(time.perf_counter() - started)
            sockets.append(conn.sock)
            assert (answer.status, body) == (200, f"echo:{n}".encode())
        assert all(sock is sockets[0] for sock in sockets), "the client's connection was kept alive"
        assert proxy.requests == 3
    assert min(times) >= delay, times


def test_concurrent_requests_are_held_in_parallel_not_one_after_another(upstream: Upstream):
    delay, clients = 0.4, 16
    with LatencyProxy(upstream.url, delay) as proxy:
        answers: list[tuple[int, bytes, float]] = []
        lock = threading.Lock()
        start = threading.Barrier(clients)

        def one(n: int) -> None:
            conn = connect(proxy)
            start.wait(timeout=5)
            began = time.perf_counter()
            answer, body = fetch(conn, "POST", "/echo", str(n).encode())
            with lock:
                answers.append((answer.status, body, time.perf_counter() - began))

        started = time.perf_counter()
        threads = [threading.Thread(target=one, args=(n,)) for n in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=10)
        elapsed = time.perf_counter() - started
    assert sorted(body for _, body, _ in answers) == sorted(f"echo:{n}".encode() for n in range(clients))
    assert all(seconds >= delay for _, _, seconds in answers)
    # One after another would be clients * delay (6.4 s); together it is one delay and some overhead.
    assert elapsed < 2 * delay, elapsed


# --- stopping


def test_it_stops_when_the_block_ends_closing_kept_alive_connections(upstream: Upstream):
    with LatencyProxy(upstream.url, 0) as proxy:
        conn = connect(proxy)
        answer, _ = fetch(conn, "GET", "/bytes")
        assert proxy.url.startswith("http://127.0.0.1:")
        port = int(proxy.url.rsplit(":", 1)[1])
    assert answer.status == 200
    conn.sock.settimeout(5)
    assert conn.sock.recv(1) == b"", "the kept-alive connection was closed"
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=5)


def test_it_stops_by_itself_after_its_lifetime(upstream: Upstream):
    started = time.monotonic()
    proxy = LatencyProxy(upstream.url, 0, lifetime=1.0).start()
    port = int(proxy.url.rsplit(":", 1)[1])
    try:
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
    except ConnectionRefusedError:  # only once its lifetime is over (a busy machine can take that long to get here)
        assert time.monotonic() - started >= 1.0
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=5).close()
        except ConnectionRefusedError:
            break
        time.sleep(0.05)
    else:
        pytest.fail("the proxy still answered after its lifetime")
    proxy.stop()  # a second stop is harmless


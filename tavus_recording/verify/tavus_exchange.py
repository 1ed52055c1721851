"""The HTTP exchange of `verify --tavus`: one POST over one connection of its own (TLS for https,
through the environment's https proxy by CONNECT), following no redirect, with a size cap on the
answer and one deadline for all of it, kept by running it in a worker thread."""

from __future__ import annotations

import base64
import http.client
import ipaddress
import socket
import ssl
import threading
import time
import urllib.request
from dataclasses import dataclass
from typing import Any, Optional
from urllib.parse import unquote, urlsplit

from tavus_recording import installed_version
from tavus_recording.verify.tavus_settings import Endpoint

# The proxy's answer to CONNECT is a few lines.
MAX_PROXY_ANSWER = 16 * 1024


@dataclass(frozen=True)
class Answer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def default_tls_context() -> ssl.SSLContext:
    """The system's trusted CAs, hostname checking, TLS 1.2 or later."""
    return ssl.create_default_context()


class _Connection:
    """The socket of one exchange. `close` may come from another thread, at the deadline: a shutdown
    wakes a read or a TLS handshake blocked on it, however slowly the server drips."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._socket: Optional[socket.socket] = None
        self._closed = False

    def attach(self, sock: socket.socket) -> socket.socket:
        with self._lock:
            if self._closed:
                sock.close()
                raise TimeoutError("timed out")
            self._socket = sock
        return sock

    def close(self) -> None:
        with self._lock:
            self._closed, sock = True, self._socket
        if sock is not None:
            try:
                socket.socket.shutdown(sock, socket.SHUT_RDWR)  # the plain socket's, also under TLS
            except OSError:
                pass


def _proxy(target: Endpoint) -> Optional[tuple[str, int, Optional[str]]]:
    """The https proxy the environment names for this host (HTTPS_PROXY and NO_PROXY, read as urllib reads
    them): its host, port and Proxy-Authorization. Plain http (loopback only) never goes through a proxy."""
    if target.plain_http:
        return None
    proxy = urllib.request.getproxies().get("https")
    if not proxy or urllib.request.proxy_bypass(target.host):
        return None
    parts = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
    if parts.scheme.lower() != "http" or not parts.hostname:
        raise OSError("HTTPS_PROXY is not an http://HOST:PORT proxy")
    try:
        port = parts.port or 80
    except ValueError:
        raise OSError("HTTPS_PROXY has a port that is not a number") from None
    auth = None
    if parts.username is not None:
        pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
        auth = "Basic " + base64.b64encode(pair).decode()
    return parts.hostname, port, auth


def _tunnel(sock: socket.socket, target: Endpoint, auth: Optional[str]) -> None:
    """CONNECT through the proxy: it sees the host name, never the key (that travels inside TLS)."""
    request = f"CONNECT {target.authority} HTTP/1.1\r\nHost: {target.authority}\r\n"
    if auth:
        request += f"Proxy-Authorization: {auth}\r\n"
    sock.sendall((request + "\r\n").encode())
    answer = b""
    while b"\r\n\r\n" not in answer:
        chunk = sock.recv(4096)
        if not chunk or len(answer) > MAX_PROXY_ANSWER:
            raise OSError("the proxy in HTTPS_PROXY closed the connection or sent no complete answer")
        answer += chunk
    status = answer.split(b"\r\n", 1)[0].split()
    if len(status) < 2 or status[1] != b"200":
        code = status[1].decode("ascii", "replace")[:3] if len(status) > 1 else "?"
        raise OSError(f"the proxy in HTTPS_PROXY refused the tunnel (HTTP {code})")


def _open(target: Endpoint, connection: _Connection, context: Optional[ssl.SSLContext], deadline: float) -> socket.socket:
    """A connected socket to `target` (through the environment's https proxy, if any), TLS for https."""

    def left() -> float:
        return max(deadline - time.monotonic(), 0.001)

    proxy = _proxy(target)
    host, port = (proxy[0], proxy[1]) if proxy else (target.host, target.port)
    addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    if target.plain_http:
        # Plain http carries the key in clear: only to an address that stays on this machine.
        addresses = [a for a in addresses if ipaddress.ip_address(str(a[4][0]).split("%")[0]).is_loopback]
        if not addresses:
            raise OSError(f"{target.host} resolves to no loopback address")
    error: OSError = OSError("no address to connect to")
    for family, kind, proto, _, address in addresses:
        sock = connection.attach(socket.socket(family, kind, proto))
        sock.settimeout(left())
        try:
            sock.connect(address)
            break
        except OSError as failure:
            error = failure
            sock.close()
    else:
        raise error
    if proxy:
        _tunnel(sock, target, proxy[2])
    if context is None:  # plain http, to loopback
        return sock
    tls = context.wrap_socket(sock, server_hostname=target.host, do_handshake_on_connect=False)
    connection.attach(tls)  # now the deadline's shutdown reaches the handshake too
    tls.settimeout(left())
    tls.do_handshake()
    return tls


def _post(
    target: Endpoint,
    body: bytes,
    api_key: str,
    *,
    connection: _Connection,
    context: Optional[ssl.SSLContext],
    deadline: float,
    max_answer: int,
) -> Answer:
    """POST `body` with the key and read the answer: its head, and at most `max_answer` + 1 bytes of body.
    A redirect's body is not read at all."""
    sock = _open(target, connection, context, deadline)
    try:
        if context is None:
            client: http.client.HTTPConnection = http.client.HTTPConnection(target.host, target.port)
        else:
            client = http.client.HTTPSConnection(target.host, target.port, context=context)
        client.sock = sock  # already connected (and shaken hands): http.client only speaks HTTP on it
        client.request(
            "POST",
            target.path,
            body=body,
            headers={
                "x-api-key": api_key,
                "Content-Type": "application/json",
                "Accept": "application/json",
                "User-Agent": f"tavus-recording/{installed_version()} (verify --tavus)",
                "Connection": "close",
            },
        )
        response = client.getresponse()
        payload = b""
        if not 300 <= response.status < 400:
            try:
                payload = response.read(max_answer + 1)
            except http.client.IncompleteRead as cut:  # the server closed early: judge what came
                payload = bytes(cut.partial)
        return Answer(response.status, response.getheaders(), payload)
    finally:
        sock.close()


def exchange(
    target: Endpoint,
    body: bytes,
    api_key: str,
    *,
    context: Optional[ssl.SSLContext],
    timeout: float,
    max_answer: int,
) -> Answer:
    """POST `body` to `target` with the key and return the answer, all within `timeout` seconds.
    Raises TimeoutError when the deadline passes, else whatever ended the exchange early."""
    connection = _Connection()
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["answer"] = _post(
                target, body, api_key, connection=connection, context=context,
                deadline=time.monotonic() + timeout, max_answer=max_answer,
            )
        except Exception as error:  # raised below; a thread must not print a traceback
            outcome["error"] = error

    # The exchange runs in a thread so that nothing (a name lookup, a server that drips its answer a
    # byte at a time) can hold verify past the deadline; at the deadline its socket is shut.
    worker = threading.Thread(target=run, name="verify-tavus", daemon=True)
    worker.start()
    worker.join(timeout)
    # Decided before the socket is shut: shutting it wakes the worker, whose partial answer or error
    # must not be taken for the server's.
    finished = not worker.is_alive()
    connection.close()
    if finished and "answer" in outcome:
        return outcome["answer"]
    error = outcome.get("error")
    if finished and error is not None and not isinstance(error, TimeoutError):
        raise error
    # The deadline passed (or a socket's own timeout, set to the time left, fired just before it).
    raise TimeoutError(f"no answer within {timeout:g} s")

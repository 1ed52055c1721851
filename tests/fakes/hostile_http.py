"""A loopback HTTP server that misbehaves on purpose: it drips its answer a byte at a time, streams
hundreds of megabytes it never holds in memory, or sends a status line no server should. Raw sockets,
so nothing on the way tidies what it sends.

Listens on 127.0.0.1 only, serves at most MAX_CONNECTIONS, times out idle sockets, and stops when its
block ends or after LIFETIME_SECONDS, whichever comes first.
"""

from __future__ import annotations

import itertools
import socket
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator

from fakes.loopback import LIFETIME_SECONDS, SOCKET_TIMEOUT_SECONDS

MAX_CONNECTIONS = 20
# The request head and body this server reads at most: the client's request is small.
MAX_REQUEST_BYTES = 256 * 1024
CHUNK = 64 * 1024


@dataclass
class Hostile:
    # The bytes to send, in order, after the request has arrived.
    answer: Callable[[], Iterable[bytes]]
    # Seconds between two chunks: a drip.
    pause: float = 0.0
    url: str = ""
    # What arrived, and how much of the answer the client took before it hung up.
    keys: list[str] = field(default_factory=list)
    requests: int = 0
    sent: int = 0


def _read_request(conn: socket.socket) -> bytes:
    """The request's head and body (by Content-Length), bounded."""
    data = b""
    while b"\r\n\r\n" not in data and len(data) < MAX_REQUEST_BYTES:
        chunk = conn.recv(4096)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length" and value.strip().isdigit():
            length = min(int(value.strip()), MAX_REQUEST_BYTES)
    while len(body) < length:
        chunk = conn.recv(4096)
        if not chunk:
            break
        body += chunk
    return head


def _api_key(head: bytes) -> str | None:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"x-api-key":
            return value.strip().decode("latin-1")
    return None


def _serve(fake: Hostile, conn: socket.socket, stop: threading.Event) -> None:
    with conn:
        conn.settimeout(SOCKET_TIMEOUT_SECONDS)
        try:
            head = _read_request(conn)
            if not head:
                return
            fake.requests += 1
            key = _api_key(head)
            if key is not None:
                fake.keys.append(key)
            for chunk in fake.answer():
                if stop.is_set():
                    return
                conn.sendall(chunk)
                fake.sent += len(chunk)
                if fake.pause:
                    time.sleep(fake.pause)
        except OSError:  # the client hung up, as it should
            return


@contextmanager
def _accepting(serve: Callable[[socket.socket], None], stop: threading.Event) -> Iterator[str]:
    """Hand each connection to a loopback port (at most MAX_CONNECTIONS) to `serve`, in a thread of its
    own, until the block ends or LIFETIME_SECONDS pass; yields the port's http:// URL."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.05)

    def accept_loop() -> None:
        for _ in range(MAX_CONNECTIONS):
            while not stop.is_set():
                try:
                    conn, _ = listener.accept()
                    break
                except TimeoutError:
                    continue
                except OSError:
                    return
            else:
                return
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=accept_loop, daemon=True)
    stopper = threading.Timer(LIFETIME_SECONDS, stop.set)
    stopper.daemon = True
    thread.start()
    stopper.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        stopper.cancel()
        thread.join(timeout=SOCKET_TIMEOUT_SECONDS)
        listener.close()


@contextmanager
def hostile(answer: Callable[[], Iterable[bytes]], pause: float = 0.0) -> Iterator[Hostile]:
    """Serve `answer` to each request on a loopback port until the block ends."""
    fake = Hostile(answer, pause)
    stop = threading.Event()
    with _accepting(lambda conn: _serve(fake, conn, stop), stop) as url:
        fake.url = url
        yield fake


# Answers.


def once(data: bytes) -> Callable[[], Iterable[bytes]]:
    return lambda: [data]


def drip_head() -> Iterable[bytes]:
    """A status line, then a header that never ends, a byte at a time."""
    yield b"HTTP/1.1 200 OK\r\nX-Drip: "
    yield from itertools.repeat(b"a")


def drip_body() -> Iterable[bytes]:
    """A whole head promising a conversation, then its body a byte at a time, never finished."""
    yield b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n"
    yield from itertools.repeat(b" ")


def streamed(total: int, *, chunked: bool = False, length: bool = True, status: int = 200) -> Callable[[], Iterable[bytes]]:
    """`total` bytes of a JSON object that starts like a conversation, made a chunk at a time."""

    def answer() -> Iterator[bytes]:
        head = f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n"
        if chunked:
            head += "Transfer-Encoding: chunked\r\n"
        elif length:
            head += f"Content-Length: {total}\r\n"
        else:
            head += "Connection: close\r\n"
        yield (head + "\r\n").encode()
        start = b'{"conversation_id": "c123456", "padding": "'
        left = total - len(start)
        pieces = itertools.chain([start], (b"a" * min(CHUNK, left - i) for i in range(0, left, CHUNK)))
        for piece in pieces:
            yield b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece
        if chunked:
            yield b"0\r\n\r\n"

    return answer


@dataclass
class Proxy:
    url: str = ""
    # The CONNECT lines it was asked for, and every byte that went through it (to look for the key in).
    connects: list[str] = field(default_factory=list)
    carried: bytearray = field(default_factory=bytearray)


def _pipe(source: socket.socket, sink: socket.socket, proxy: Proxy, stop: threading.Event) -> None:
    try:
        while not stop.is_set():
            data = source.recv(CHUNK)
            if not data:
                break
            proxy.carried += data
            sink.sendall(data)
    except OSError:
        pass
    finally:
        for end in (source, sink):
            try:
                end.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


@contextmanager
def connect_proxy(answer: bytes = b"HTTP/1.1 200 Connection established\r\n\r\n") -> Iterator[Proxy]:
    """An https proxy on loopback: it answers CONNECT with `answer` and, on a 200, carries the bytes both
    ways to the host named (loopback only), keeping a copy of them."""
    proxy = Proxy()
    stop = threading.Event()

    def serve(client: socket.socket) -> None:
        client.settimeout(SOCKET_TIMEOUT_SECONDS)
        try:
            head = _read_request(client)
            line = head.split(b"\r\n", 1)[0].decode("latin-1")
            proxy.connects.append(line)
            client.sendall(answer)
            host, _, port = line.split()[1].rpartition(":") if answer.split()[1] == b"200" else ("", "", "")
            if host != "127.0.0.1":
                client.close()
                return
            upstream = socket.create_connection((host, int(port)), timeout=SOCKET_TIMEOUT_SECONDS)
        except (OSError, IndexError, ValueError):
            client.close()
            return
        threading.Thread(target=_pipe, args=(client, upstream, proxy, stop), daemon=True).start()
        _pipe(upstream, client, proxy, stop)

    with _accepting(serve, stop) as url:
        proxy.url = url
        yield proxy

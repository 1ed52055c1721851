"""`verify --tavus` against a hostile or broken endpoint: the key goes only to TAVUS_API_URL, in the
x-api-key header, never into output; one deadline bounds the whole exchange; a size cap bounds the
answer; no redirect is followed; only the documented conversation object counts as accepted."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import unicodedata
from pathlib import Path

import pytest
import trustme
from cpu_clock import own_cpu
from fakes import hostile_http
from fakes.key_forms import HEX_KEY, KEYS, ODD_KEY, echoes, leaked, prefix_leaked
from fakes.tavus_api import PROPERTIES, REPLICA, S3, CREATED, FakeTavus, running, running_tls
from hypothesis import HealthCheck, example, given, settings as hypothesis_settings, strategies as st
from typer.testing import CliRunner

from tavus_recording import cli
from tavus_recording.stack_files import PROJECT_DIR
from tavus_recording.verify import tavus_api, tavus_exchange, tavus_settings

# Small, so the suite stays fast; each timing test allows this much on top for a busy machine.
DEADLINE = 0.6
MARGIN = 0.8
UNPRINTABLE = ("Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn")


def handshake(url: str, key: str = ODD_KEY, **options):
    return tavus_api.handshake(PROPERTIES, api_key=key, replica_id=REPLICA, api_url=url, **{"timeout": 5.0, **options})


def clean(check, key: str = ODD_KEY) -> bool:
    """Nothing of the key and no raw control character in what the check would print."""
    shown = f"{check.detail} {check.fix}"
    return (
        leaked(shown, key) == []
        and not prefix_leaked(shown, key)
        and not any(unicodedata.category(char) in UNPRINTABLE for char in shown)
    )


# TAVUS_API_URL: https, or http to loopback only; checked before anything is sent.

BAD_URLS = [
    ("file:///etc/passwd", "https"),
    ("file://localhost/etc/passwd", "https"),
    ("data:text/plain,hello", "https"),
    ("ftp://tavusapi.com", "https"),
    ("javascript:alert(1)", "https"),
    ("gopher://127.0.0.1:70/", "https"),
    ("tavusapi.com", "https"),
    ("//tavusapi.com", "https"),
    ("https://tavus api.com", "space"),
    ("https://tavusapi.com ", "space"),
    (" https://tavusapi.com", "space"),
    ("https://tavusapi.com\n", "line break"),
    ("https://tavusapi.com\r\nX-Injected: 1", "line break"),
    ("https://tavusapi.com\t", "tab"),
    ("https://tavus\x00api.com", "control character"),
    ("https://tavus\x1b[2Japi.com", "control character"),
    ("https://tavüsapi.com", "non-ASCII"),
    ("https://tavusapi.com\u202e", "non-ASCII"),
    ("https://user:secret@tavusapi.com", "user name or password"),
    ("https://user@tavusapi.com", "user name or password"),
    (f"https://{ODD_KEY.replace('/', '').replace('%', '')}@tavusapi.com", "user name or password"),
    ("http://tavusapi.com", "loopback"),
    ("HTTP://tavusapi.com", "loopback"),
    ("http://10.0.0.1:8080", "loopback"),
    ("http://127.0.0.1.nip.io", "loopback"),
    ("http://localhost.evil.example", "loopback"),
    ("http://2130706433", "loopback"),
    ("http://[::ffff:8.8.8.8]", "loopback"),
    ("https://", "host"),
    ("https:///v2", "host"),
    ("https://tavusapi.com/?x=1", "query"),
    ("https://tavusapi.com?", "query"),
    ("https://tavusapi.com/#top", "fragment"),
    ("https://tavusapi.com:99999", "port"),
    ("https://tavusapi.com:abc", "port"),
    ("https://tavusapi.com:", "port"),
    ("https://[::1", "host"),
    ("https://tav_us$api.com", "host"),
    ("https://tavusapi.com/a b", "space"),
    ("https://tavusapi.com/%0d%0aX:1", "path"),
    # Found by a red team: what urlsplit drops after a bracketed host, and paths a server may resolve elsewhere.
    ("http://[::1]x", "host"),
    ("http://[::1]]", "host"),
    ("https://[::1]x:443", "host"),
    ("https://tavus]api.com", "host"),
    ("https://tavusapi.com//evil.com", "path"),
    ("https://tavusapi.com/..//x", "path"),
    ("https://tavusapi.com/./", "path"),
    ("https://tavusapi.com/a/../b", "path"),
    ("https://tavusapi.com/a;b=c", "path"),
]


@pytest.mark.parametrize(("url", "said"), BAD_URLS, ids=[repr(url) for url, _ in BAD_URLS])
def test_a_bad_api_url_is_refused_in_one_line(url, said):
    problem = tavus_settings.settings_problem(ODD_KEY, REPLICA, url)
    assert problem is not None and problem.startswith("TAVUS_API_URL ")
    assert said in problem
    assert "\n" not in problem and problem.isprintable()
    assert "secret" not in problem and leaked(problem, ODD_KEY) == []


@pytest.mark.parametrize("url", ["file:///etc/passwd", "data:,x", "https://tavusapi.com\n", "https://a b", "http://example.com"])
def test_a_bad_api_url_sends_nothing_and_fails_the_check(url):
    # Called as a library, with no CLI in front: still no exception, and no request anywhere.
    check = handshake(url)
    assert check.ok is False and "TAVUS_API_URL" in check.detail and clean(check)


GOOD_URLS = [
    "https://tavusapi.com",
    "https://tavusapi.com/",
    "HTTPS://TavusAPI.com",
    "https://tavusapi.com:443/",
    "https://api.example.com/tavus/proxy",
    "https://[2001:db8::1]:8443",
    "http://127.0.0.1:8080",
    "http://127.8.9.10",
    "http://localhost:5000/",
    "http://LOCALHOST",
    "http://[::1]:8080",
    None,
    "",
]


@pytest.mark.parametrize("url", GOOD_URLS)
def test_https_anywhere_and_http_to_loopback_are_allowed(url):
    assert tavus_settings.settings_problem(ODD_KEY, REPLICA, url) is None


def test_plain_http_to_loopback_is_said_in_the_check():
    with running() as fake:
        check = handshake(fake.url)
    assert check.ok is True
    assert "plain http to 127.0.0.1" in check.detail and "local testing only" in check.detail


def test_plain_http_to_ipv6_loopback_is_said_even_when_nothing_answers():
    check = handshake("http://[::1]:9", timeout=DEADLINE)
    assert check.ok is False and "plain http to ::1" in check.detail and "local testing only" in check.detail


def test_plain_http_to_localhost_connects_only_to_loopback():
    with running() as fake:
        check = handshake(fake.url.replace("127.0.0.1", "localhost"))
    assert check.ok is True and "plain http to localhost" in check.detail
    assert fake.received[0].headers["x-api-key"] == ODD_KEY


def test_https_is_checked_against_the_system_trust_and_works_with_a_trusted_ca(tmp_path):
    ca = trustme.CA()
    with running_tls(FakeTavus(), ca) as fake:
        refused = handshake(fake.url, timeout=DEADLINE * 3)
        context = tavus_exchange.default_tls_context()
        ca.configure_trust(context)
        accepted = handshake(fake.url, ssl_context=context)
    # A certificate nobody trusts is refused before the key is sent.
    assert refused.ok is False and "certificate" in refused.detail.lower()
    assert accepted.ok is True and "plain http" not in accepted.detail
    assert [r.headers["x-api-key"] for r in fake.received] == [ODD_KEY]


def test_https_goes_through_the_environments_proxy_which_never_sees_the_key(monkeypatch):
    ca = trustme.CA()
    context = tavus_exchange.default_tls_context()
    ca.configure_trust(context)
    with running_tls(FakeTavus(), ca) as fake, hostile_http.connect_proxy() as proxy:
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        monkeypatch.setenv("NO_PROXY", "")
        check = handshake(fake.url, ssl_context=context)
    assert check.ok is True, check.detail
    assert proxy.connects == [f"CONNECT {fake.url.removeprefix('https://')} HTTP/1.1"]
    # The key travelled inside TLS: the proxy carried it, but could not read it.
    assert proxy.carried and leaked(proxy.carried.decode("latin-1"), ODD_KEY) == []
    assert [r.headers["x-api-key"] for r in fake.received] == [ODD_KEY]


def test_a_proxy_refusing_the_tunnel_fails_the_check(monkeypatch):
    with hostile_http.connect_proxy(b"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n") as proxy:
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        monkeypatch.setenv("NO_PROXY", "")
        check = handshake("https://tavusapi.invalid", timeout=DEADLINE * 3)
    assert check.ok is False and "refused the tunnel (HTTP 407)" in check.detail and clean(check)


def test_plain_http_to_loopback_never_goes_through_a_proxy(monkeypatch):
    with running() as fake, hostile_http.connect_proxy() as proxy:
        for name in ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "https_proxy", "http_proxy"):
            monkeypatch.setenv(name, proxy.url)
        monkeypatch.setenv("NO_PROXY", "")
        check = handshake(fake.url)
    assert check.ok is True and proxy.connects == [] and not proxy.carried


# TAVUS_API_KEY and the replica: header-safe and JSON-safe, refused without echoing any of the key.

BAD_KEYS = [
    (HEX_KEY + "\n", "a line break at position 33"),
    (HEX_KEY + "\r\n", "a line break at position 33"),
    ("\n" + HEX_KEY, "a line break at position 1"),
    (HEX_KEY[:10] + "\n" + HEX_KEY[10:], "a line break at position 11"),
    (HEX_KEY + " ", "a space at position 33"),
    (" " + HEX_KEY, "a space at position 1"),
    (HEX_KEY[:16] + " " + HEX_KEY[16:], "a space at position 17"),
    (HEX_KEY + "\t", "a tab at position 33"),
    (HEX_KEY[:5] + "\x00" + HEX_KEY[5:], "a control character at position 6"),
    (HEX_KEY + "\x7f", "a control character at position 33"),
    (HEX_KEY[:5] + "é" + HEX_KEY[5:], "a non-ASCII character at position 6"),
    ("\ufeff" + HEX_KEY, "a non-ASCII character at position 1"),
    (HEX_KEY + "\u00a0", "a non-ASCII character at position 33"),
    ("k" * 5000, "5000 characters long"),
]


@pytest.mark.parametrize(("key", "said"), BAD_KEYS, ids=[repr(key[-6:]) for key, _ in BAD_KEYS])
def test_a_bad_key_is_refused_naming_the_problem_never_the_key(key, said):
    problem = tavus_settings.settings_problem(key, REPLICA, None)
    assert problem is not None and problem.startswith(("TAVUS_API_KEY has ", "TAVUS_API_KEY is "))
    assert said in problem
    assert "\n" not in problem and problem.isprintable()
    assert HEX_KEY[:4] not in problem and HEX_KEY[-4:] not in problem and "kkkk" not in problem


@pytest.mark.parametrize(("key", "said"), BAD_KEYS[:4], ids=["nl", "crlf", "leading-nl", "inner-nl"])
def test_a_bad_key_is_never_sent(key, said):
    with running() as fake:
        check = handshake(fake.url, key=key)
    assert check.ok is False and said in check.detail
    assert fake.received == [] and clean(check, HEX_KEY)


BAD_REPLICAS = [
    ("", "needs a replica"),
    ("r1\n", "line break"),
    ("r1\x1b[2J", "control character"),
    ("r" * 1000, "1000 characters long"),
    (" r1", "space"),
]


@pytest.mark.parametrize(("replica", "said"), BAD_REPLICAS, ids=["empty", "nl", "esc", "long", "space"])
def test_a_bad_replica_is_refused_in_one_line(replica, said):
    problem = tavus_settings.settings_problem(HEX_KEY, replica, None)
    assert problem is not None and said in problem and "\n" not in problem and problem.isprintable()
    assert "replica" in problem


# One deadline for the whole exchange.


@pytest.mark.parametrize(
    ("answer", "what"),
    [(hostile_http.drip_head, "headers"), (hostile_http.drip_body, "body")],
    ids=["drips-headers", "drips-body"],
)
def test_a_dripping_server_cannot_hold_verify_past_the_deadline(answer, what):
    with hostile_http.hostile(answer, pause=0.02) as fake:
        started = time.monotonic()
        check = handshake(fake.url, timeout=DEADLINE)
        elapsed = time.monotonic() - started
        time.sleep(0.2)
        sent = fake.sent
        time.sleep(0.3)
        # The connection was closed at the deadline, not left reading in the background.
        assert fake.sent - sent < 64, what
    assert elapsed < DEADLINE + MARGIN, what
    assert check.ok is False and "timed out" in check.detail and f"{DEADLINE:g} s" in check.detail
    assert fake.keys == [ODD_KEY]


def test_a_silent_server_fails_within_the_deadline():
    with running(FakeTavus(delay=3.0)) as fake:
        started = time.monotonic()
        check = handshake(fake.url, timeout=DEADLINE)
        elapsed = time.monotonic() - started
    assert elapsed < DEADLINE + MARGIN and check.ok is False and "timed out" in check.detail


# A cap on the answer's size.

BIG = 300 * 1024 * 1024


@pytest.mark.parametrize(
    "answer",
    [
        hostile_http.streamed(BIG),
        hostile_http.streamed(BIG, chunked=True),
        hostile_http.streamed(BIG, length=False),
        hostile_http.streamed(BIG, status=201),
    ],
    ids=["content-length", "chunked", "until-close", "201"],
)
def test_a_300_mb_answer_is_cut_at_the_cap_and_not_accepted(answer):
    with hostile_http.hostile(answer) as fake:
        started = time.monotonic()
        check = handshake(fake.url)
        elapsed = time.monotonic() - started
    assert check.ok is None and "more than 64 KiB" in check.detail and "not accepted" in check.detail
    # Read no more than the cap (and what the kernel buffered on the way), and quickly.
    assert fake.sent < 16 * 1024 * 1024 and elapsed < 5
    assert clean(check)


def test_a_300_mb_refusal_still_fails():
    with hostile_http.hostile(hostile_http.streamed(BIG, status=400)) as fake:
        check = handshake(fake.url)
    assert check.ok is False and "HTTP 400" in check.detail and len(check.detail) < 1000


def test_the_cap_is_exact():
    def answer(size: int) -> bytes:
        body = json.dumps({**CREATED, "padding": ""}).encode()
        return json.dumps({**CREATED, "padding": "a" * (size - len(body))}).encode()

    with running(FakeTavus(raw=answer(2048))) as at_cap:
        assert handshake(at_cap.url, max_answer=2048).ok is True
    with running(FakeTavus(raw=answer(2049))) as over:
        check = handshake(over.url, max_answer=2048)
    assert check.ok is None and "more than 2 KiB" in check.detail


# No redirect is followed: the key goes to TAVUS_API_URL and nowhere else.


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_to_another_origin_is_not_followed(status):
    with running() as target:
        with running(FakeTavus(status=status, answer={}, headers={"Location": f"{target.url}/v2/conversations?k=1"})) as fake:
            check = handshake(fake.url)
    assert target.received == [], "the redirect's target got a request"
    assert len(fake.received) == 1
    assert check.ok is False and f"HTTP {status}" in check.detail
    assert f"redirect to {target.url}" in check.detail and "the key was not sent there" in check.detail
    assert "?k=1" not in check.detail and "TAVUS_API_URL" in check.fix


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_a_redirect_to_the_same_origin_is_not_followed_either(status):
    with running(FakeTavus(status=status, answer={}, headers={"Location": "/v2/conversations/elsewhere"})) as fake:
        check = handshake(fake.url)
    assert len(fake.received) == 1 and check.ok is False
    assert f"redirect to {fake.url}" in check.detail and "the same address" in check.detail


@pytest.mark.parametrize(
    "location",
    [
        f"https://user:{ODD_KEY}@evil.example/x",
        f"https://evil.example/steal?key={echoes(ODD_KEY)['quote']}",
        f"https://evil.example/{echoes(ODD_KEY)['base64-urlsafe']}",
        f"https://{echoes(ODD_KEY)['hex']}.evil.example/",
        "https://evil.example\x1b[2J/",
        "javascript:alert(1)",
        "",
        "http://[broken",
        "x" * 5000,
    ],
    ids=["userinfo", "query", "path", "host", "escape", "javascript", "empty", "broken", "long"],
)
def test_a_redirects_target_is_named_clean(location):
    check = tavus_api.judge(302, {"Location": location}, b"", ODD_KEY, base_url="https://tavusapi.com")
    assert check.ok is False and "redirect" in check.detail and "not sent" in check.detail
    assert clean(check) and len(check.detail) < 600
    assert "/x" not in check.detail and "steal" not in check.detail


def test_a_redirect_without_a_location_says_so():
    check = tavus_api.judge(307, {}, b"", ODD_KEY)
    assert check.ok is False and "no Location" in check.detail


# Accepted only with the documented conversation object.


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (200, b"{}"),
        (200, b'{"conversation_id": ""}'),
        (200, b'{"conversation_id": 123}'),
        (200, b'{"conversation_id": null}'),
        (200, b"[]"),
        (200, b""),
        (204, b""),
        (200, b"<html><body>Welcome to nginx!</body></html>"),
        (200, b'{"conversation_id": "c1"'),
        (200, b"\xff\xfe\x00"),
        (200, json.dumps({"conversation_id": "c" * 1000}).encode()),
    ],
    ids=["empty-object", "empty-id", "number-id", "null-id", "list", "no-body", "204", "html", "half", "binary", "huge-id"],
)
def test_a_2xx_without_a_conversation_is_unknown(status, body):
    check = tavus_api.judge(status, {}, body, ODD_KEY)
    assert check.ok is None and f"HTTP {status}" in check.detail and "not a conversation" in check.detail
    assert "TAVUS_API_URL" in check.fix and clean(check)


@pytest.mark.parametrize("status", [200, 201])
def test_a_2xx_with_the_documented_conversation_is_accepted(status):
    check = tavus_api.judge(status, {}, json.dumps(CREATED).encode(), ODD_KEY)
    assert check.ok is True and "c123456" in check.detail


@pytest.mark.parametrize(
    "body",
    [
        {**CREATED, "status": "error", "error": "replica is not ready"},
        {"conversation_id": "c1", "status": "error", "error": "…"},
        {**CREATED, "error": {"code": 42}},
        {**CREATED, "status": "failed", "message": "recording_storage is invalid"},
        {**CREATED, "success": False, "message": "no"},
    ],
    ids=["error-and-status", "red-team", "error-object", "message-failed", "success-false"],
)
def test_a_2xx_whose_body_carries_an_error_is_not_accepted(body):
    check = tavus_api.judge(200, {}, json.dumps(body).encode(), ODD_KEY)
    assert check.ok is None and "HTTP 200" in check.detail and "with an error" in check.detail, check.detail
    assert "not accepted" in check.detail and clean(check)


def test_a_2xx_whose_message_comes_with_a_success_status_is_accepted():
    body = json.dumps({**CREATED, "status": "ended", "message": "created in test mode"}).encode()
    check = tavus_api.judge(200, {}, body, ODD_KEY)
    assert check.ok is True


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_or_infinity_in_the_answer_is_not_json(constant):
    body = f'{{"conversation_id": "c1", "cost": {constant}}}'.encode()
    check = tavus_api.judge(200, {}, body, ODD_KEY)
    assert check.ok is None and "not JSON" in check.detail and clean(check)


# Echoes of the key, in every encoding, wherever the answer puts them.

ECHO_FORMS = [(key, name, form) for key in KEYS for name, form in echoes(key).items()]
ECHO_IDS = [f"{key[:3]}-{name}" for key, name, _ in ECHO_FORMS]


def _placements(form: str) -> dict[str, tuple[int, dict[str, str], bytes]]:
    cut = tavus_api.MAX_MESSAGE
    return {
        "json-error": (400, {}, json.dumps({"error": f"Invalid key {form}"}).encode()),
        "json-message": (401, {}, json.dumps({"message": f"Invalid access token {form}"}).encode()),
        "raw-text": (401, {}, f"<h1>401</h1> key={form} rejected".encode()),
        "near-the-cut": (400, {}, json.dumps({"error": "x" * (cut - 8) + form + " more"}).encode()),
        "across-the-cut": (400, {}, ("y" * (cut - len(form) // 2) + form).encode()),
        "at-the-end-cut-short": (400, {}, json.dumps({"error": f"token {form[: max(8, len(form) // 2)]}"}).encode()),
        "conversation-id": (200, {}, json.dumps({**CREATED, "conversation_id": form}).encode()),
        "conversation-id-cut": (200, {}, json.dumps({**CREATED, "conversation_id": "c-" + form[:12]}).encode()),
        "location": (302, {"Location": f"https://evil.example/?{form}"}, b""),
        "location-host": (302, {"Location": f"https://a{form.replace('/', '').replace('%', '')}.evil.example/"}, b""),
    }


@pytest.mark.parametrize(("key", "name", "form"), ECHO_FORMS, ids=ECHO_IDS)
def test_an_echoed_key_never_reaches_the_check(key, name, form):
    for where, (status, headers, body) in _placements(form).items():
        check = tavus_api.judge(status, headers, body, key)
        assert clean(check, key), (where, check.detail)


def test_an_echo_across_the_size_cap_is_masked():
    # The reader stops at the cap inside the echo: what it kept ends with the key's first characters.
    for key in KEYS:
        for name, form in echoes(key).items():
            body = b"z" * 100 + form.encode()
            check = tavus_api.judge(400, {}, body[: 100 + len(form) // 2 + 1], key, max_answer=100 + len(form) // 2)
            assert clean(check, key), (name, check.detail)


def test_a_reversed_key_or_the_key_in_pieces_in_a_broken_status_line_is_masked():
    for key in KEYS:
        pieces = " ".join(key[i : i + 4] for i in range(0, len(key), 4))
        for line in (
            f"{key[::-1]}\r\n\r\n",  # HTTP/0.9: no status line at all
            f"HTTP/1.1 2OO {key[::-1]}\r\n\r\n",
            f"HTTP/1.1 {pieces}\r\n\r\n",
            f"{pieces}\r\n\r\n",
            f"HTTP/1.1 {'-'.join(key)}\r\n\r\n",
        ):
            with hostile_http.hostile(hostile_http.once(line.encode())) as fake:
                check = handshake(fake.url, key=key)
            assert check.ok is False and clean(check, key), (line, check.detail)
            assert leaked(check.detail, key[::-1]) == [], check.detail


@pytest.mark.parametrize("status", [200, 400])
def test_a_reversed_key_in_a_body_that_is_not_utf8_is_masked(status):
    for key in KEYS:
        for body in (b"\xff\xfe" + key[::-1].encode(), b'{"error": "' + key[::-1].encode() + b'\xc3"}'):
            check = tavus_api.judge(status, {}, body, key)
            assert check.ok is not True and clean(check, key) and leaked(check.detail, key[::-1]) == [], check.detail


def test_a_passing_checks_conversation_id_is_masked():
    for key in KEYS:
        for form in (key[::-1], echoes(key)["spaces-every-4"], echoes(key)["fullwidth"], echoes(key)["zero-width"]):
            check = tavus_api.judge(200, {}, json.dumps({**CREATED, "conversation_id": form}).encode(), key)
            assert check.ok is True and clean(check, key) and leaked(check.detail, key[::-1]) == [], check.detail


def test_the_key_in_pieces_across_a_redirect_hosts_labels_is_masked():
    location = "https://a3f9a2c1.b7d6e4a.5b8c9d0.e1f2a3b.4c5d.evil.example/x"
    check = tavus_api.judge(302, {"Location": location}, b"", HEX_KEY)
    assert check.ok is False and "redirect to https://a***.evil.example" in check.detail and clean(check, HEX_KEY)


def test_a_key_in_the_api_urls_path_is_never_printed():
    # TAVUS_API_URL is the user's, but may hold the key by mistake: every message naming it is masked.
    check = handshake(f"http://127.0.0.1:1/{HEX_KEY}", key=HEX_KEY, timeout=DEADLINE)
    assert check.ok is False and "no answer from http://127.0.0.1:1/***" in check.detail, check.detail
    assert clean(check, HEX_KEY)
    with hostile_http.hostile(hostile_http.drip_body, pause=0.02) as fake:
        check = handshake(f"{fake.url}/{HEX_KEY}", key=HEX_KEY, timeout=DEADLINE)
    assert check.ok is False and "timed out" in check.detail and clean(check, HEX_KEY), check.detail


def test_an_echo_in_a_broken_status_line_is_masked():
    for key in KEYS:
        line = f"HTTP/1.1 2OO {key} {echoes(key)['base64']}\r\n\r\n".encode()
        with hostile_http.hostile(hostile_http.once(line)) as fake:
            check = handshake(fake.url, key=key)
        assert check.ok is False and clean(check, key), check.detail


# The whole command: in every path, nothing of the key in stdout or stderr, text or --json.


@pytest.fixture
def offline(monkeypatch, tmp_path):
    """verify with the clouds' checks stood in for, an outputs file, and a short deadline."""
    monkeypatch.setattr(cli, "VERIFIERS", {provider: "fakes.verify_offline" for provider in cli.VERIFIERS})
    monkeypatch.setattr(tavus_api, "TIMEOUT_SECONDS", DEADLINE)
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps({"recording_storage": S3, "conversation_properties": PROPERTIES}))

    def run(url: str, key: str, *flags: str):
        env = {"TAVUS_API_URL": url, "TAVUS_API_KEY": key, "TAVUS_REPLICA_ID": REPLICA}
        return CliRunner().invoke(cli.app, ["verify", "--outputs", str(path), "--tavus", *flags], env=env)

    return run


def _answers(key: str):
    """Each answer the fake API gives in turn: a name, the FakeTavus fields, and verify's exit code."""
    forms = echoes(key)
    distinct = {form: name for name, form in reversed(forms.items())}  # a hex key's raw and quoted forms are one
    yield "accepted", {}, 0
    yield "accepted-id-echo", {"answer": {**CREATED, "conversation_id": forms["raw"]}}, 0
    yield "accepted-id-reversed", {"answer": {**CREATED, "conversation_id": forms["reversed"]}}, 0
    yield "non-utf8-reversed", {"status": 400, "raw": b"\xff\xfe" + forms["reversed"].encode()}, 1
    for form, name in distinct.items():
        yield f"refused-{name}", {"status": 401, "answer": {"message": f"bad {form}"}}, 1
        yield f"near-cut-{name}", {"status": 400, "raw": ("x" * (tavus_api.MAX_MESSAGE - 6) + form).encode()}, 1
    yield "redirect", {"status": 302, "headers": {"Location": f"https://{forms['hex']}.x/?{forms['raw']}"}}, 1
    yield "not-a-conversation", {"answer": {"echo": forms["base64"]}}, 1


def _hostile_answers(key: str):
    """The answers only a raw socket can give."""
    yield "timeout", hostile_http.hostile(hostile_http.drip_body, pause=0.02)
    yield "oversize", hostile_http.hostile(hostile_http.streamed(BIG))
    yield "broken-status", hostile_http.hostile(hostile_http.once(f"HTTP/1.1 {key}\r\n\r\n".encode()))
    yield "http09-reversed", hostile_http.hostile(hostile_http.once(f"{key[::-1]}\r\n\r\n".encode()))
    pieces = " ".join(key[i : i + 4] for i in range(0, len(key), 4))
    yield "broken-status-pieces", hostile_http.hostile(hostile_http.once(f"HTTP/1.1 {pieces}\r\n\r\n".encode()))


@pytest.mark.parametrize("key", KEYS, ids=["hex-key", "odd-key"])
def test_the_key_never_reaches_the_terminal_in_any_path(offline, key):
    def run(url: str, name: str, code: int) -> None:
        for flags in ((), ("--json",)):
            result = offline(url, key, *flags)
            runs.append(name)
            assert result.exit_code == code, (name, flags, result.stdout, result.stderr)
            assert result.exception is None or isinstance(result.exception, SystemExit), (name, result.exception)
            out = result.stdout + result.stderr
            assert leaked(out, key) == [] and not prefix_leaked(out, key), (name, flags, out)
            if flags:
                assert json.loads(result.stdout)["checks"][-1]["id"] == "tavus.accepted"

    runs: list[str] = []
    fake = FakeTavus()
    with running(fake):
        for name, fields, code in _answers(key):
            fake.status, fake.answer, fake.raw, fake.headers = 200, dict(CREATED), None, {}
            for field, value in fields.items():
                setattr(fake, field, value)
            run(fake.url, name, code)
    for name, serving in _hostile_answers(key):
        with serving as hostile:
            run(hostile.url, name, 1)
    assert len(runs) >= 60


# An environment variable cannot hold a NUL: those cases reach only the library.
ENV_BAD_KEYS = [(key, said) for key, said in BAD_KEYS if "\x00" not in key]
ENV_BAD_URLS = [(url, said) for url, said in BAD_URLS if "\x00" not in url]


@pytest.mark.parametrize(("key", "said"), ENV_BAD_KEYS, ids=[repr(key[-6:]) for key, _ in ENV_BAD_KEYS])
def test_a_bad_key_exits_2_in_one_line(offline, key, said):
    with running() as fake:
        for flags in ((), ("--json",)):
            result = offline(fake.url, key, *flags)
            assert result.exit_code == 2 and result.stdout == ""
            assert result.stderr.startswith("error: TAVUS_API_KEY") and said in result.stderr
            assert len(result.stderr.strip().splitlines()) == 1
            assert HEX_KEY[:6] not in result.stderr and "kkkk" not in result.stderr
    assert fake.received == []


@pytest.mark.parametrize(("url", "said"), ENV_BAD_URLS, ids=[repr(url) for url, _ in ENV_BAD_URLS])
def test_a_bad_url_exits_2_in_one_line(offline, url, said):
    result = offline(url, ODD_KEY)
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.startswith("error: TAVUS_API_URL") and said in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and leaked(result.stderr, ODD_KEY) == []


def test_a_key_with_a_trailing_newline_gives_one_line_not_a_traceback(tmp_path):
    # A real process: what a CI log would show.
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps({"recording_storage": S3, "conversation_properties": PROPERTIES}))
    with running() as fake:
        result = subprocess.run(
            [sys.executable, "-m", "fakes.verify_offline", "verify", "--outputs", str(path), "--tavus"],
            cwd=PROJECT_DIR,
            env={
                **{k: v for k, v in __import__("os").environ.items() if not k.startswith("TAVUS_")},
                "PYTHONPATH": str(Path(__file__).parents[1]),
                "TAVUS_API_URL": fake.url,
                "TAVUS_API_KEY": HEX_KEY + "\n",
                "TAVUS_REPLICA_ID": REPLICA,
            },
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip() == (
        "error: TAVUS_API_KEY has a line break at position 33: remove the whitespace around the key "
        "(the key itself is never printed)"
    )
    assert HEX_KEY[:6] not in result.stderr + result.stdout and fake.received == []


def test_an_escape_sequence_in_a_bucket_name_is_refused_and_shown_not_sent(offline, tmp_path):
    # A name with an escape sequence is no bucket name: verify refuses the outputs (exit 2), showing it escaped.
    hostile_bucket = {**S3, "bucket_name": "acme\x1b]0;owned\x07\x1b[2J\u202erecordings"}
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps({"recording_storage": hostile_bucket}))
    env = {"TAVUS_API_KEY": ODD_KEY, "TAVUS_REPLICA_ID": REPLICA}
    for flags in ((), ("--tavus",), ("--json",)):
        result = CliRunner().invoke(cli.app, ["verify", "--outputs", str(path), *flags], env=env)
        assert result.exit_code == 2
        assert result.stderr.count("\n") == 1 and "bucket_name" in result.stderr
        for raw in ("\x1b", "\u202e", "\x07"):
            assert raw not in result.output


def test_an_escape_sequence_in_the_apis_message_is_shown_not_sent(offline, tmp_path):
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps({"recording_storage": S3}))
    with running(FakeTavus(status=400, answer={"error": "bad \x1b]0;owned\x07\x1b[31mred\u202e\r\nX"})) as fake:
        env = {"TAVUS_API_URL": fake.url, "TAVUS_API_KEY": ODD_KEY, "TAVUS_REPLICA_ID": REPLICA}
        for flags in ((), ("--json",)):
            result = CliRunner().invoke(cli.app, ["verify", "--outputs", str(path), "--tavus", *flags], env=env)
            assert result.exit_code == 1
            assert "\x1b" not in result.stdout and "\u202e" not in result.stdout and "\x07" not in result.stdout
            assert "\r" not in result.stdout
            assert "red" in result.stdout


# The response handler, fuzzed: any status, headers and body give one clean check, quickly.


def _bodies(key: str):
    forms = list(echoes(key).values())
    piece = st.one_of(st.binary(max_size=40), st.sampled_from(forms).map(str.encode), st.just(b'{"conversation_id": '))
    return st.lists(piece, max_size=6).map(b"".join)


def _headers(key: str):
    forms = list(echoes(key).values())
    value = st.one_of(st.text(max_size=40), st.sampled_from(forms), st.sampled_from(forms).map(lambda f: f"https://{f}/"))
    return st.dictionaries(st.sampled_from(["Location", "Content-Type", "location", "X-Request-Id"]), value, max_size=3)


@hypothesis_settings(max_examples=300, deadline=300, suppress_health_check=[HealthCheck.too_slow])
@given(status=st.one_of(st.integers(0, 999), st.sampled_from([200, 201, 301, 302, 400, 401, 500])), headers=_headers(ODD_KEY), body=_bodies(ODD_KEY))
@example(status=302, headers={"Location": "https://" + echoes(ODD_KEY)["hex"] + "/"}, body=b"")
@example(status=200, headers={}, body=b'{"conversation_id": "' + ODD_KEY.encode() + b'"}')
@example(status=400, headers={}, body=b"x" * 295 + echoes(ODD_KEY)["json-u-escapes"].encode())
def test_fuzz_the_answer_handler(status, headers, body):
    with own_cpu() as spent:
        check = tavus_api.judge(status, headers, body, ODD_KEY)
    assert spent.seconds < 0.25
    assert check.id == "tavus.accepted" and check.ok in (True, False, None)
    assert clean(check)
    if check.ok is True:
        assert 200 <= status < 300 and json.loads(body)["conversation_id"]

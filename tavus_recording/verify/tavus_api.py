"""`verify --tavus`: ask the Tavus API itself to accept the destination, in test mode.

POST /v2/conversations with `test_mode: true` creates a conversation that no replica joins and that
starts `ended`, so it costs nothing; Tavus validates the request, including `recording_storage`.
Test mode may not exercise the storage itself: the first real recording is the final proof.

This module holds the request body, `judge` (what Tavus's answer means) and `handshake`, which ties
them to `tavus_settings` (the checked TAVUS_API_URL, TAVUS_API_KEY and replica) and `tavus_exchange`
(the HTTP exchange). The API key is the one secret verify holds, so it is handled narrowly: checked as
a header value before use; sent only in `x-api-key`, only to TAVUS_API_URL (https, or plain http to a
loopback address for local testing), over one connection that follows no redirect; the whole exchange
has one deadline and the answer a size cap; and nothing the server says is shown before
`redact.excerpt` has masked the key in it.
"""

from __future__ import annotations

import dataclasses
import http.client
import json
import ssl
import time
from typing import Annotated, Any, Iterable, Mapping, Optional, Union
from urllib.parse import urljoin, urlsplit

from pydantic import BaseModel, ConfigDict, StrictStr, StringConstraints, ValidationError

from components import tavus
from tavus_recording.verify.redact import excerpt
from tavus_recording.verify.report import Check, failed, passed, unknown
from tavus_recording.verify.tavus_exchange import default_tls_context, exchange
from tavus_recording.verify.tavus_settings import DEFAULT_API_URL, DEFAULT_PORTS, Endpoint, endpoint, origin
from tavus_recording.verify.tavus_settings import settings_problem

CHECK_ID = "tavus.accepted"
# One deadline for the whole exchange: connecting, sending, the answer's head and its body.
TIMEOUT_SECONDS = 20.0
# A conversation is well under 1 KiB; an answer larger than this is not one, and is not read further.
MAX_ANSWER_BYTES = 64 * 1024
# Longer API messages are cut in the report.
MAX_MESSAGE = 300

NOT_THE_API = "check that TAVUS_API_URL is the Tavus API (default https://tavusapi.com), then run verify --tavus again"
NO_ANSWER_FIX = "check the network and TAVUS_API_URL, then run verify --tavus again"

# Tavus's own words for a trust it cannot use, and what they mean on the customer's side.
ASSUME_ROLE_HINT = (
    "'unable to assume role' means Tavus could not assume the role: check the trust names "
    f"{tavus.TAVUS_AWS_PRINCIPAL}, requires the ExternalId in recording_storage, and that the role's "
    f"maximum session is {tavus.MAX_SESSION_SECONDS} s (run verify without --tavus to see which)"
)
STATUS_HINTS = {
    401: "the API key was refused: check TAVUS_API_KEY (Developer Portal > API Keys)",
    403: "the API key may not create conversations: check its permissions in the Developer Portal",
    404: "no such endpoint or replica: check TAVUS_API_URL and the replica id",
    429: "Tavus is rate-limiting this key: wait a minute and run verify --tavus again",
}


class CreatedConversation(BaseModel):
    """The part of the create-conversation answer (HTTP 200, the API reference's schema) verify relies on."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    conversation_id: Annotated[StrictStr, StringConstraints(min_length=1, max_length=200)]


def request_body(conversation_properties: dict[str, Any], replica_id: str) -> dict[str, Any]:
    """A test-mode create-conversation request carrying the stack's recording properties."""
    properties = tavus.ConversationProperties.model_validate(conversation_properties).model_dump()
    return {
        "replica_id": replica_id,
        "conversation_name": f"tavus-recording verify {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}",
        "test_mode": True,
        "properties": properties,
    }


# The answer: what Tavus's status, headers and body mean for the destination.

Headers = Union[Mapping[str, str], Iterable[tuple[str, str]]]


def _header(headers: Headers, name: str) -> Optional[str]:
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    for key, value in pairs:
        if str(key).lower() == name:
            return str(value)
    return None


def _size(count: int) -> str:
    return f"{count // 1024} KiB" if count % 1024 == 0 else f"{count} bytes"


def _origin(url: str) -> Optional[str]:
    """scheme://host[:port] of an http(s) URL, nothing else of it; None for anything else."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    return origin(scheme, parts.hostname, parts.port)


def _redirected(status: int, location: Optional[str], base_url: str, api_key: str) -> Check:
    fix = f"set TAVUS_API_URL to the Tavus API's own address ({DEFAULT_API_URL} unless Tavus gave you another): verify never follows a redirect"
    said = f"Tavus's address answered HTTP {status}, a redirect"
    if not location or not location.strip():
        return failed(CHECK_ID, f"{said} with no Location: verify follows no redirect, so the key was not sent anywhere else", fix)
    try:
        target, here = _origin(urljoin(base_url, location.strip())), _origin(base_url)
    except ValueError:
        target, here = None, None
    if target is None:
        return failed(CHECK_ID, f"{said} to a Location that is not an http(s) address: the key was not sent there", fix)
    shown = excerpt(target, api_key, 120)
    if target == here:
        return failed(
            CHECK_ID, f"{said} to {shown} (the same address, another path): verify follows no redirect, so the key was not sent again", fix
        )
    return failed(CHECK_ID, f"{said} to {shown}: verify follows no redirect, so the key was not sent there", fix)


def _no_constant(name: str) -> Any:
    """JSON has no NaN or Infinity: an answer that holds one is not the API's."""
    raise ValueError(f"{name} is not JSON")


def _json(text: str) -> Any:
    """`text` parsed as strict JSON (no NaN, Infinity or -Infinity); ValueError or RecursionError if it is not."""
    return json.loads(text, parse_constant=_no_constant)


# The conversation statuses Tavus documents (and a few a success could plausibly say): anything else
# next to a `message` says the request did not succeed, whatever the HTTP status.
SUCCESS_STATUSES = frozenset({"active", "ended", "created", "starting", "pending", "success", "succeeded", "ok"})


def _error_in(data: Any) -> Optional[str]:
    """What a 2xx answer's body says went wrong: its `error`, or its `message` beside a status that is not
    a success; None when it says nothing of the kind."""
    if not isinstance(data, dict):
        return None
    error = data.get("error")
    if error not in (None, "", False, [], {}):
        return error if isinstance(error, str) else json.dumps(error)
    status, message = data.get("status"), data.get("message")
    failed_status = data.get("success") is False or (
        status is not None and not (isinstance(status, str) and status.strip().lower() in SUCCESS_STATUSES)
    )
    if message not in (None, "") and failed_status:
        return message if isinstance(message, str) else json.dumps(message)
    return None


def _conversation(body: bytes) -> tuple[Optional[CreatedConversation], str, Optional[str]]:
    """The documented conversation object in `body`, or None and why not; and the error the body
    carries, if any (a 2xx that says it failed is not accepted either)."""
    if not body.strip():
        return None, "an empty answer", None
    try:
        data = _json(body.decode("utf-8"))
    except UnicodeDecodeError:
        return None, "not UTF-8 text", None
    except (ValueError, RecursionError):
        return None, "not JSON (or JSON with NaN or Infinity)", None
    said = _error_in(data)
    try:
        return CreatedConversation.model_validate(data), "", said
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(map(str, first["loc"])) or "the answer"
        return None, f"{where}: {first['msg']}", said


def _message(body: bytes, api_key: str) -> str:
    """The API's own message (`error` on 400, `message` on 401, else the raw body), key masked, printable, cut."""
    text = body.decode("utf-8", "replace").strip()
    try:
        data = _json(text)
    except (ValueError, RecursionError):
        data = None
    if isinstance(data, dict):
        for key in ("error", "message", "detail"):
            if isinstance(data.get(key), str):
                text = data[key]
                break
    return excerpt(text, api_key, MAX_MESSAGE)


def judge(
    status: int,
    headers: Headers,
    body: bytes,
    api_key: str,
    *,
    base_url: str = DEFAULT_API_URL + "/v2/conversations",
    max_answer: int = MAX_ANSWER_BYTES,
) -> Check:
    """What Tavus's answer means for the destination. `body` is what was read, at most `max_answer` + 1
    bytes: more than `max_answer` means the answer was larger and was not read to its end."""
    if 300 <= status < 400:
        return _redirected(status, _header(headers, "location"), base_url, api_key)
    oversize = len(body) > max_answer
    body = body[:max_answer]
    if 200 <= status < 300:
        if oversize:
            return unknown(
                CHECK_ID,
                f"Tavus's address answered HTTP {status} with more than {_size(max_answer)}, far more than a "
                "conversation: verify read no further, and the answer is not accepted as one",
                NOT_THE_API,
            )
        conversation, problem, said = _conversation(body)
        if said is not None:
            return unknown(
                CHECK_ID,
                f"Tavus's address answered HTTP {status}, but with an error: {excerpt(said, api_key, MAX_MESSAGE)}"
                "; verify cannot tell whether Tavus accepted the destination, and the answer is not accepted",
                "read the message above; " + NOT_THE_API,
            )
        if conversation is None:
            began = excerpt(body.decode("utf-8", "replace").strip(), api_key, 120)
            return unknown(
                CHECK_ID,
                f"Tavus's address answered HTTP {status}, but the answer is not a conversation ({excerpt(problem, api_key, 120)})"
                + (f": {began}" if began else "")
                + "; verify cannot tell whether Tavus accepted the destination",
                NOT_THE_API,
            )
        return passed(
            CHECK_ID,
            f"Tavus accepted the destination (HTTP {status}, test-mode conversation "
            f"{excerpt(conversation.conversation_id, api_key, 80)}). "
            "Test mode may not exercise the storage itself: the first real recording is the final proof.",
        )
    message = _message(body, api_key)
    if oversize:
        message += f" (the answer was longer than {_size(max_answer)}; verify read no further)"
    if "unable to assume role" in message.lower():
        hint = ASSUME_ROLE_HINT
    elif status >= 500:
        hint = "Tavus had an error of its own: try again later, and contact Tavus support if it persists"
    else:
        hint = STATUS_HINTS.get(status, "read Tavus's message above; the request body is the stack's conversation_properties")
    return failed(CHECK_ID, f"Tavus refused the destination: HTTP {status}: {message or 'no message'}", hint)


def _no_answer(target: Endpoint, error: Exception, api_key: str) -> Check:
    """A check for an exchange that failed before an answer could be judged (the deadline aside)."""
    if isinstance(error, ssl.SSLCertVerificationError):
        reason = f"its certificate is not trusted ({error.verify_message}), so the key was not sent"
    elif isinstance(error, ssl.SSLError):
        reason = f"TLS failed ({error.reason or 'no reason given'}), so the key was not sent"
    elif isinstance(error, http.client.HTTPException):
        reason = f"not an HTTP answer ({type(error).__name__}: {error})"
    elif isinstance(error, OSError):
        reason = error.strerror or str(error) or type(error).__name__
    else:  # whatever else http.client or ssl raise: named, never a traceback
        reason = f"{type(error).__name__}: {error}"
    # The whole line goes through `excerpt`: TAVUS_API_URL itself may hold the key.
    detail = excerpt(f"no answer from {target.url}: {reason}", api_key, MAX_MESSAGE + len(target.url) + 20)
    return failed(CHECK_ID, detail, NO_ANSWER_FIX)


def handshake(
    conversation_properties: dict[str, Any],
    *,
    api_key: str,
    replica_id: str,
    api_url: Optional[str] = None,
    timeout: Optional[float] = None,
    max_answer: int = MAX_ANSWER_BYTES,
    ssl_context: Optional[ssl.SSLContext] = None,
) -> Check:
    """POST the test-mode conversation and judge the answer, all within `timeout` seconds
    (TIMEOUT_SECONDS by default). The key goes only into the header, and only to TAVUS_API_URL."""
    problem = settings_problem(api_key, replica_id, api_url)
    if problem:
        return failed(CHECK_ID, problem, "set the variable named as it says, then run verify --tavus again")
    target = endpoint(api_url)
    limit = TIMEOUT_SECONDS if timeout is None else timeout
    body = json.dumps(request_body(conversation_properties, replica_id)).encode()
    # Loading the system's CAs takes a while: only for https.
    context = None if target.plain_http else (ssl_context or default_tls_context())
    try:
        answer = exchange(target, body, api_key, context=context, timeout=limit, max_answer=max_answer)
    except TimeoutError:
        check = failed(
            CHECK_ID,
            f"no answer from {excerpt(target.url, api_key, len(target.url) + 20)} within {limit:g} s: timed out "
            "(one deadline covers connecting, sending and the whole answer)",
            NO_ANSWER_FIX,
        )
    except Exception as error:
        check = _no_answer(target, error, api_key)
    else:
        check = judge(answer.status, answer.headers, answer.body, api_key, base_url=target.url, max_answer=max_answer)
    if target.plain_http:
        host = excerpt(target.host, api_key, len(target.host) + 20)
        check = dataclasses.replace(check, detail=f"{check.detail} (plain http to {host}: local testing only)")
    return check

"""`verify --tavus`: ask the Tavus API itself to accept the destination, in test mode.

POST /v2/conversations with `test_mode: true` creates a conversation that no replica joins and that
starts `ended`, so it costs nothing; Tavus validates the request, including `recording_storage`.
Test mode may not exercise the storage itself: the first real recording is the final proof.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any, Optional

from components import tavus
from tavus_recording.verify.report import Check, failed, passed

CHECK_ID = "tavus.accepted"
DEFAULT_API_URL = "https://tavusapi.com"
TIMEOUT_SECONDS = 20.0
# Longer API messages are cut in the report.
MAX_MESSAGE = 300

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


def request_body(conversation_properties: dict[str, Any], replica_id: str) -> dict[str, Any]:
    """A test-mode create-conversation request carrying the stack's recording properties."""
    properties = tavus.ConversationProperties.model_validate(conversation_properties).model_dump()
    return {
        "replica_id": replica_id,
        "conversation_name": f"tavus-recording verify {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}",
        "test_mode": True,
        "properties": properties,
    }


def _message(payload: bytes) -> str:
    """The API's own message: `error` on 400, `message` on 401, else the raw body."""
    text = payload.decode("utf-8", "replace").strip()
    try:
        data = json.loads(text)
    except ValueError:
        return text[:MAX_MESSAGE]
    if isinstance(data, dict):
        for key in ("error", "message", "detail"):
            if isinstance(data.get(key), str):
                return data[key][:MAX_MESSAGE]
    return text[:MAX_MESSAGE]


def judge(status: int, payload: bytes) -> Check:
    """What Tavus's answer means for the destination."""
    if 200 <= status < 300:
        try:
            conversation = json.loads(payload).get("conversation_id") or "?"
        except (ValueError, AttributeError):
            conversation = "?"
        return passed(
            CHECK_ID,
            f"Tavus accepted the destination (HTTP {status}, test-mode conversation {conversation}). "
            "Test mode may not exercise the storage itself: the first real recording is the final proof.",
        )
    message = _message(payload)
    if "unable to assume role" in message.lower():
        hint = ASSUME_ROLE_HINT
    elif status >= 500:
        hint = "Tavus had an error of its own: try again later, and contact Tavus support if it persists"
    else:
        hint = STATUS_HINTS.get(status, "read Tavus's message above; the request body is the stack's conversation_properties")
    return failed(CHECK_ID, f"Tavus refused the destination: HTTP {status}: {message or 'no message'}", hint)


def handshake(
    conversation_properties: dict[str, Any],
    *,
    api_key: str,
    replica_id: str,
    api_url: Optional[str] = None,
    timeout: float = TIMEOUT_SECONDS,
) -> Check:
    """POST the test-mode conversation and judge the answer. The key goes only into the header."""
    url = f"{(api_url or DEFAULT_API_URL).rstrip('/')}/v2/conversations"
    request = urllib.request.Request(
        url,
        data=json.dumps(request_body(conversation_properties, replica_id)).encode(),
        headers={"x-api-key": api_key, "Content-Type": "application/json", "Accept": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            check = judge(response.status, response.read())
    except urllib.error.HTTPError as error:
        check = judge(error.code, error.read())
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        reason = getattr(error, "reason", None) or error
        check = failed(
            CHECK_ID,
            f"no answer from {url}: {reason}",
            "check the network and TAVUS_API_URL, then run verify --tavus again",
        )
    # An API that echoes the request must not put the key into a report or a CI log.
    if api_key:
        check = Check(check.id, check.ok, check.detail.replace(api_key, "***"), check.fix)
    return check

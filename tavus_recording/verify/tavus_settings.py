"""The settings `verify --tavus` runs with: TAVUS_API_URL, TAVUS_API_KEY and the replica id, each
refused in one line (that never repeats the key or the URL) before any use, and the checked `Endpoint`."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Optional
from urllib.parse import urlsplit

DEFAULT_API_URL = "https://tavusapi.com"
DEFAULT_PORTS = {"https": 443, "http": 80}
# Tavus keys are 32 characters and replica ids about 12: far longer means the variable holds more.
MAX_KEY = 256
MAX_REPLICA = 128

NEVER_PRINTED = " (the key itself is never printed)"
URL_RULE = "https://HOST, or http:// to localhost, 127.0.0.0/8 or [::1] for local testing only"

_HOST = re.compile(r"[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*\.?")
# The API's base path: segments of RFC 3986 unreserved characters (no %-escapes, no sub-delimiters),
# none empty, `.` or `..`, with at most a trailing slash.
_PATH = re.compile(r"(?:/[A-Za-z0-9._~-]+)*/?")
# The authority of a bracketed IPv6 host: the brackets, then nothing or a port.
_BRACKETED = re.compile(r"\[[^\[\]]*\](?::[^\[\]]*)?")


def _bracketed(host: str) -> str:
    """A host as a URL writes it: an IPv6 address in brackets."""
    return f"[{host}]" if ":" in host else host


def origin(scheme: str, host: str, port: Optional[int]) -> str:
    """scheme://host[:port], without the port when it is the scheme's default (or none is given)."""
    return f"{scheme}://{_bracketed(host)}" + (f":{port}" if port and port != DEFAULT_PORTS[scheme] else "")


@dataclass(frozen=True)
class Endpoint:
    scheme: str
    # A lower-cased name or address (IPv6 without brackets), checked against `_HOST`.
    host: str
    port: int
    # The API's base path, without a trailing slash ("" for the root).
    base: str

    @property
    def plain_http(self) -> bool:
        """Plain http, which `endpoint` allows to loopback addresses only."""
        return self.scheme == "http"

    @property
    def authority(self) -> str:
        """host:port, as CONNECT names it."""
        return f"{_bracketed(self.host)}:{self.port}"

    @property
    def origin(self) -> str:
        return origin(self.scheme, self.host, self.port)

    @property
    def path(self) -> str:
        return f"{self.base}/v2/conversations"

    @property
    def url(self) -> str:
        return self.origin + self.path


class SettingsError(ValueError):
    """A Tavus setting verify refuses to use; the message names it and says what to do, in one line."""


def _bad_character(value: str) -> Optional[tuple[str, int]]:
    """The first character an HTTP header value (or a URL) should not hold: what it is and where (from 1)."""
    for position, char in enumerate(value, 1):
        if char in "\r\n":
            return "a line break", position
        if char == " ":
            return "a space", position
        if char == "\t":
            return "a tab", position
        if ord(char) < 0x20 or ord(char) == 0x7F:
            return "a control character", position
        if ord(char) > 0x7F:
            return "a non-ASCII character", position
    return None


def key_problem(api_key: str) -> Optional[str]:
    """Why TAVUS_API_KEY cannot go into a header, without a character of the key; None when it can."""
    if not api_key:
        return "--tavus needs a Tavus API key in TAVUS_API_KEY (Developer Portal > API Keys)"
    if len(api_key) > MAX_KEY:
        return (
            f"TAVUS_API_KEY is {len(api_key)} characters long, more than the {MAX_KEY} an API key can be: "
            f"check that it holds the key alone{NEVER_PRINTED}"
        )
    found = _bad_character(api_key)
    if found is None:
        return None
    what, position = found
    if what in ("a line break", "a space", "a tab"):
        around = not api_key[: position - 1].strip() or not api_key[position - 1 :].strip()
        advice = (
            "remove the whitespace around the key"
            if around
            else "a Tavus API key has none, so copy it again from the Developer Portal (API Keys)"
        )
    else:
        advice = "a Tavus API key is plain ASCII, so copy it again from the Developer Portal (API Keys)"
    return f"TAVUS_API_KEY has {what} at position {position}: {advice}{NEVER_PRINTED}"


def replica_problem(replica_id: str) -> Optional[str]:
    """Why the replica id cannot go into the request; None when it can."""
    if not replica_id:
        return "--tavus needs a replica: pass --replica-id ID or set TAVUS_REPLICA_ID"
    named = "the replica id (--replica-id or TAVUS_REPLICA_ID)"
    if len(replica_id) > MAX_REPLICA:
        return f"{named} is {len(replica_id)} characters long: give the id alone, such as r90bbd427f71"
    found = _bad_character(replica_id)
    if found is None:
        return None
    what, position = found
    return f"{named} has {what} at position {position}: give the id alone, such as r90bbd427f71"


def _port(netloc: str) -> Optional[str]:
    """The port as written after the host, or None when there is none."""
    after_host = netloc.rpartition("]")[2] if netloc.startswith("[") else netloc
    return after_host.partition(":")[2] if ":" in after_host else None


def _loopback(host: str) -> bool:
    """localhost, 127.0.0.0/8 or ::1: the hosts plain http may reach."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def endpoint(api_url: Optional[str]) -> Endpoint:
    """TAVUS_API_URL (empty or unset: the default), checked; a SettingsError says what is wrong, in one
    line that never repeats the URL (it may hold a password)."""
    text = api_url or DEFAULT_API_URL

    def refuse(problem: str) -> SettingsError:
        return SettingsError(f"TAVUS_API_URL {problem}: it must be {URL_RULE}")

    found = _bad_character(text)
    if found:
        raise refuse(f"has {found[0]} at position {found[1]}")
    try:
        parts = urlsplit(text)
    except ValueError:  # an unclosed [ of an IPv6 address
        raise refuse("has a host that is not a valid name or address") from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        shown = f"uses {scheme}: instead of https" if re.fullmatch(r"[a-z][a-z0-9+.-]{0,15}", scheme) else "does not start with https://"
        raise refuse(shown)
    if "@" in parts.netloc:
        raise SettingsError(
            "TAVUS_API_URL holds a user name or password before its host: remove it "
            "(the API key goes in TAVUS_API_KEY, and only in the x-api-key header)"
        )
    if "?" in text:
        raise refuse("has a query (?...): give the API's address alone; verify adds /v2/conversations")
    if "#" in text:
        raise refuse("has a fragment (#...): give the API's address alone")
    host = parts.hostname or ""
    if not host:
        raise refuse("has no host")
    if parts.netloc.startswith("["):
        if not _BRACKETED.fullmatch(parts.netloc):  # `[::1]x`, `[::1]]`: urlsplit drops what follows
            raise refuse("has a host that is not a valid name or address")
        try:
            valid_host = isinstance(ipaddress.ip_address(host), ipaddress.IPv6Address) and "%" not in host
        except ValueError:
            valid_host = False
    else:
        valid_host = len(host) <= 253 and bool(_HOST.fullmatch(host)) and not any(c in parts.netloc for c in "[]")
    if not valid_host:
        raise refuse("has a host that is not a valid name or address")
    written = _port(parts.netloc)
    if written is not None and not (written.isdigit() and 1 <= int(written) <= 65535):
        raise refuse("has a port that is not a number from 1 to 65535")
    segments = parts.path.strip("/").split("/")
    if not _PATH.fullmatch(parts.path) or any(segment in (".", "..") for segment in segments):
        raise refuse("has a path that is not /segment/... of letters, digits and -._~ (no %-escapes, no empty, . or .. segments)")
    if scheme == "http" and not _loopback(host):
        raise refuse("uses plain http to a host that is not loopback, which would send the key across the network in clear")
    port = int(written) if written else DEFAULT_PORTS[scheme]
    return Endpoint(scheme, host, port, parts.path.rstrip("/"))


def settings_problem(api_key: str, replica_id: str, api_url: Optional[str]) -> Optional[str]:
    """Why `--tavus` cannot run with these settings, in one line naming the variable; None when it can."""
    problem = key_problem(api_key) or replica_problem(replica_id)
    if problem:
        return problem
    try:
        endpoint(api_url)
    except SettingsError as error:
        return str(error)
    return None

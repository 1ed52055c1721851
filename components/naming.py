"""Cloud naming rules, as pure functions that say what is wrong with a name (or None)."""

from __future__ import annotations

import hashlib
import ipaddress
import re
import string
import unicodedata
from typing import Optional
from urllib.parse import urlsplit

_S3_CHARS = frozenset(string.ascii_lowercase + string.digits + ".-")
_EDGE = frozenset(string.ascii_lowercase + string.digits)
# Reserved by S3 for access points, Object Lambda, directory and table buckets, and examples.
_S3_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_S3_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")

S3_BUCKET_RULES = (
    "3-63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit, "
    "with no '..', not an IP address, not starting with 'xn--' or 'sthree-' and not ending with '-s3alias'"
)


def _bucket_name_problem(name: str, allowed: frozenset[str], max_length: int) -> Optional[str]:
    """The rules S3 and Cloud Storage share: length, characters, edges, not an IP address."""
    if not 3 <= len(name) <= max_length:
        return f"is {len(name)} characters long"
    bad = sorted(set(name) - allowed)
    if bad:
        return "contains " + ", ".join(repr(c) for c in bad)
    if name[0] not in _EDGE or name[-1] not in _EDGE:
        return "must start and end with a lowercase letter or digit"
    try:
        ipaddress.IPv4Address(name)
        return "is formatted as an IP address"
    except ValueError:
        return None


def s3_bucket_name_problem(name: str) -> Optional[str]:
    """Why `name` is not a valid general-purpose S3 bucket name, or None if it is."""
    problem = _bucket_name_problem(name, _S3_CHARS, 63)
    if problem:
        return problem
    if ".." in name:
        return "contains '..'"
    for prefix in _S3_RESERVED_PREFIXES:
        if name.startswith(prefix):
            return f"starts with the reserved prefix '{prefix}'"
    for suffix in _S3_RESERVED_SUFFIXES:
        if name.endswith(suffix):
            return f"ends with the reserved suffix '{suffix}'"
    return None


# Buckets made in us-east-1 before March 2018 may have uppercase letters, underscores and up to 255 characters.
_S3_LEGACY_NAME = re.compile(r"^[A-Za-z0-9._-]{3,255}$")


def s3_existing_bucket_name_problem(name: str) -> Optional[str]:
    """Why `name` cannot be an existing S3 bucket, or None: today's rules, or the legacy us-east-1 ones."""
    problem = s3_bucket_name_problem(name)
    if problem and _S3_LEGACY_NAME.match(name):
        return None
    return problem


GCS_BUCKET_RULES = (
    "3-63 lowercase letters, digits, hyphens, underscores and dots (up to 222 with dots, 63 between dots), "
    "starting and ending with a letter or digit, not an IP address, not starting with 'goog' "
    "and not containing 'google'"
)
_GCS_CHARS = frozenset(string.ascii_lowercase + string.digits + "-_.")


def gcs_bucket_name_problem(name: str) -> Optional[str]:
    """Why `name` is not a valid Cloud Storage bucket name, or None if it is."""
    problem = _bucket_name_problem(name, _GCS_CHARS, 222 if "." in name else 63)
    if problem:
        return problem
    if any(len(part) > 63 for part in name.split(".")):
        return "has a dot-separated part longer than 63 characters"
    if name.startswith("goog"):
        return "starts with 'goog', which Google reserves"
    if "google" in name or "g00gle" in name:
        return "contains 'google', which Google reserves"
    return None


GCP_PROJECT_RULES = "6-30 lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen"
_GCP_PROJECT = re.compile(r"^(?:[a-z][a-z0-9.-]*[a-z0-9]:)?[a-z][a-z0-9-]{4,28}[a-z0-9]$")


def gcp_project_id_problem(value: str) -> Optional[str]:
    """Why `value` is not a GCP project id (the id, not the display name or number), or None."""
    if value.isdigit():
        return "is a project number; expected the project id"
    return None if _GCP_PROJECT.match(value) else "is not a project id"


WORKLOAD_ID_RULES = "4-32 lowercase letters, digits and hyphens, not starting with 'gcp-'"
_WORKLOAD_ID = re.compile(r"^[a-z0-9-]{4,32}$")


def workload_identity_id_problem(value: str) -> Optional[str]:
    """Why `value` is not a workload identity pool or provider id, or None."""
    if value.startswith("gcp-"):
        return "starts with 'gcp-', which Google reserves"
    return None if _WORKLOAD_ID.match(value) else "is not a valid id"


SERVICE_ACCOUNT_ID_RULES = "6-30 lowercase letters, digits and hyphens, starting with a letter and ending with a letter or digit"
_SERVICE_ACCOUNT_ID = re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")


def service_account_id_problem(value: str) -> Optional[str]:
    """Why `value` is not a service account id (the part before @), or None."""
    return None if _SERVICE_ACCOUNT_ID.match(value) else "is not a valid id"


# Ids the kit derives start with this when what they are derived from cannot (a digit, `gcp-`).
_ID_PREFIX = "tavus"


def gcp_id(*parts: str, min_length: int, max_length: int, reserved: tuple[str, ...] = ("gcp-",)) -> str:
    """An id from `parts` that GCP accepts and that no other `parts` give: lowercase letters, digits
    and single hyphens, starting with a letter, ending with a letter or digit, `min_length` to
    `max_length` long, not starting with a `reserved` prefix.

    Used for default pool and service account ids, which must differ per stack and component in one
    project. When the plain text does not fit as it is (too long, too short, a digit or `gcp-` first,
    characters changed on the way), it is cut and a hash of all of `parts` is appended, so
    `production-eu-west` and `production-eu-east` (or `Prod` and `prod`) still get two ids.
    """
    joined = "-".join(parts)
    text = re.sub(r"[^a-z0-9]+", "-", joined.lower()).strip("-")
    # Kept as it is only when nothing was lost: `Prod_EU` and `prod-eu` must not meet at `prod-eu`.
    if text == joined and min_length <= len(text) <= max_length and text[0].isalpha() and not text.startswith(reserved):
        return text
    digest = hashlib.sha256("\0".join(parts).encode()).hexdigest()[:6]
    head = text if text[:1].isalpha() and not text.startswith(reserved) else f"{_ID_PREFIX}-{text}".rstrip("-")
    return f"{head[: max_length - len(digest) - 1].rstrip('-')}-{digest}"


STORAGE_ACCOUNT_RULES = "3-24 lowercase letters and digits"
_STORAGE_ACCOUNT = re.compile(r"^[a-z0-9]{3,24}$")


def storage_account_name_problem(name: str) -> Optional[str]:
    """Why `name` is not a valid Azure storage account name, or None."""
    return None if _STORAGE_ACCOUNT.match(name) else "is not a valid storage account name"


CONTAINER_RULES = "3-63 lowercase letters, digits and single hyphens, starting and ending with a letter or digit"
_CONTAINER = re.compile(r"^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,62}$")


def container_name_problem(name: str) -> Optional[str]:
    """Why `name` is not a valid Azure Blob container name, or None."""
    return None if _CONTAINER.match(name) else "is not a valid container name"


RESOURCE_GROUP_RULES = "1-90 letters, digits, underscores, hyphens, periods and parentheses, not ending with a period"
_RESOURCE_GROUP = re.compile(r"^[\w().-]{0,89}[\w()-]$")


def resource_group_name_problem(name: str) -> Optional[str]:
    """Why `name` is not a valid Azure resource group name, or None."""
    return None if _RESOURCE_GROUP.match(name) else "is not a valid resource group name"


_DNS_HOST = re.compile(r"^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$")


def issuer_problem(uri: str) -> Optional[str]:
    """Why `uri` is not an https OIDC issuer URL (a DNS host; no user info, query, fragment or white
    space), or None. One check for the settings and both clouds' guardrails: an issuer is compared
    exactly with the token's `iss`, and its signing keys are fetched from it."""
    if any(c.isspace() for c in uri):
        return "has white space in it"
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018 (raises on a port that is not a number)
        host = parts.hostname or ""
    except ValueError:
        return "is not an https URL with a host"
    if not uri.startswith("https://") or not host:
        return "is not an https URL with a host: its signing keys would be fetched without TLS"
    if "@" in parts.netloc:
        return f"has user info before its host, which is {host}"
    if not _DNS_HOST.match(host):
        return f"has a host, {host!r}, that is not a DNS name"
    if "?" in uri or "#" in uri:
        return "has a query or fragment, which no OIDC issuer has"
    return None


# Characters no setting may hold: controls (Cc: NUL, ESC, line breaks, NEL), format characters (Cf: bidi
# overrides, zero-width spaces), line and paragraph separators (Zl, Zp), and lone surrogates (Cs). They
# rewrite terminals and logs, reorder what a reviewer sees, or make two different values look alike.
_INVISIBLE = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})


def escaped(char: str) -> str:
    """`char` as a visible escape (`\\x1b`, `\\u202e`), the way Python writes it in a string."""
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def named(char: str) -> str:
    """`char` escaped, with its Unicode name where it has one: `\\u202e (RIGHT-TO-LEFT OVERRIDE)`."""
    name = unicodedata.name(char, "")
    return f"{escaped(char)} ({name})" if name else escaped(char)


def visible(text: str) -> str:
    """`text` with every character of `_INVISIBLE` escaped, so it prints as one plain line."""
    if text.isprintable():  # the common case: nothing to escape
        return text
    return "".join(escaped(c) if unicodedata.category(c) in _INVISIBLE else c for c in text)


def control_character_problem(text: str) -> Optional[str]:
    """What is wrong with `text` holding a control, format or line-separator character (the first, shown
    escaped, with its position counted from 1), or None."""
    if text.isprintable():
        return None
    index, char = next(((i, c) for i, c in enumerate(text) if unicodedata.category(c) in _INVISIBLE), (-1, ""))
    return None if index < 0 else f"has a control character, {named(char)}, at character {index + 1}"


# RFC 3986 section 2: the characters a URI may hold (unreserved, reserved, and % for percent-encoding).
_URI_CHARS = frozenset(string.ascii_letters + string.digits + "-._~:/?#[]@!$&'()*+,;=%")
_URI_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def audience_problem(audience: str) -> Optional[str]:
    """Why `audience` cannot be the `aud` of Tavus's tokens that a trust pins, or None.

    RFC 7519 section 2 (StringOrURI): an `aud` is any string, but one with a ':' must be a URI
    (RFC 3986), e.g. api://AzureADTokenExchange or https://...; without one it is a plain name. The
    cloud compares it with the token's byte for byte, so white space and non-ASCII look-alikes
    (a Cyrillic 'а' in AzureADTokenExchange) are refused: they would match no token Tavus presents.
    """
    if any(c.isspace() for c in audience):
        return "has white space in it"
    odd = next(((i, c) for i, c in enumerate(audience) if not (c.isascii() and c.isprintable())), None)
    if odd:
        return f"has a non-ASCII character, {named(odd[1])}, at character {odd[0] + 1}, which no token's audience is likely to match"
    if ":" not in audience:
        return None
    if not _URI_SCHEME.match(audience):
        return "has a ':' but is not a URI: it does not start with a scheme such as api: or https: (RFC 7519 StringOrURI)"
    bad = sorted(set(audience) - _URI_CHARS)
    if bad:
        return "has " + ", ".join(repr(c) for c in bad) + ", which a URI cannot hold (RFC 3986)"
    scheme, rest = audience.split(":", 1)
    if not rest:
        return "is a URI scheme with nothing after it"
    if scheme.lower() in ("http", "https"):
        try:
            host = urlsplit(audience).hostname
        except ValueError:
            host = None
        if not host:
            return "is an http(s) URL with no host"
    return None

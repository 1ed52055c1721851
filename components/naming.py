"""Cloud naming rules, as pure functions that say what is wrong with a name (or None)."""

from __future__ import annotations

import ipaddress
import string
from typing import Optional

_S3_CHARS = frozenset(string.ascii_lowercase + string.digits + ".-")
_S3_EDGE = frozenset(string.ascii_lowercase + string.digits)
# Reserved by S3 for access points, Object Lambda, directory and table buckets, and examples.
_S3_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_S3_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")

S3_BUCKET_RULES = (
    "3-63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit, "
    "with no '..', not an IP address, not starting with 'xn--' or 'sthree-' and not ending with '-s3alias'"
)


def s3_bucket_name_problem(name: str) -> Optional[str]:
    """Why `name` is not a valid general-purpose S3 bucket name, or None if it is."""
    if not 3 <= len(name) <= 63:
        return f"is {len(name)} characters long"
    bad = sorted(set(name) - _S3_CHARS)
    if bad:
        return "contains " + ", ".join(repr(c) for c in bad)
    if name[0] not in _S3_EDGE or name[-1] not in _S3_EDGE:
        return "must start and end with a lowercase letter or digit"
    if ".." in name:
        return "contains '..'"
    try:
        ipaddress.IPv4Address(name)
        return "is formatted as an IP address"
    except ValueError:
        pass
    for prefix in _S3_RESERVED_PREFIXES:
        if name.startswith(prefix):
            return f"starts with the reserved prefix '{prefix}'"
    for suffix in _S3_RESERVED_SUFFIXES:
        if name.endswith(suffix):
            return f"ends with the reserved suffix '{suffix}'"
    return None

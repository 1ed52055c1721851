"""The placeholders a plan shows and what each stands for: values known only after `pulumi up`, and
examples on a reserved domain that a stack file left where Tavus's issuer goes.
"""

from __future__ import annotations

import re
from typing import Any, Iterable
from urllib.parse import urlsplit

from tavus_recording.mock_engine import PLACEHOLDERS
from tavus_recording.plan.values import strings


# Hosts no one can own (RFC 2606, RFC 6761): a stack file's example, never a real issuer.
_RESERVED_HOSTS = ("example.com", "example.net", "example.org", "localhost")
_RESERVED_SUFFIXES = (".example", ".test", ".invalid", ".localhost") + tuple("." + h for h in _RESERVED_HOSTS[:3])
_PLACEHOLDER = re.compile(r"<[^<>\s][^<>]*>")


def _reserved_url(value: str) -> bool:
    if not value.startswith(("https://", "http://")):
        return False
    try:
        host = (urlsplit(value).hostname or "").lower()
    except ValueError:
        return False
    return host in _RESERVED_HOSTS or host.endswith(_RESERVED_SUFFIXES)


def example_values(values: Iterable[str]) -> list[str]:
    """URLs on a reserved example domain among `values` (an issuer a stack file left as its example)."""
    return sorted({v for v in values if _reserved_url(v)})


def placeholders(document_values: Iterable[Any]) -> list[dict[str, str]]:
    found: set[str] = set()
    texts: set[str] = set()
    for value in document_values:
        for s in strings(value):
            texts.add(s)
            found.update(_PLACEHOLDER.findall(s))
    listed = [
        {
            "placeholder": token,
            "kind": "known after deploy",
            "stands_for": PLACEHOLDERS.get(token, "a value known only after `pulumi up`"),
        }
        for token in sorted(found)
    ]
    listed += [
        {
            "placeholder": url,
            "kind": "example from the stack file",
            "stands_for": (
                "an example on a reserved domain that cannot exist (RFC 2606), where the stack file needs Tavus's "
                "OIDC issuer: replace it (and the subject beside it) with the values from Tavus's recording guide "
                "before `pulumi up`, or no token Tavus presents will match"
            ),
        }
        for url in example_values(texts)
    ]
    return listed

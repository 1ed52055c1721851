"""The workload identity pool provider: whose tokens it trusts (issuer), who a principal is (mapping) and
which tokens it admits (condition).
"""

from __future__ import annotations

from typing import Any, Collection, Mapping, Optional

from components import naming
from components.gcp_policy import attribute_condition
from tavus_recording.rules import cel
from tavus_recording.rules.findings import Finding
from tavus_recording.rules.gcp.catalog import (
    PROVIDER_CONDITION,
    PROVIDER_ISSUER,
    PROVIDER_MAPPING,
    TAVUS_SUBJECT,
)

# --- the provider ------------------------------------------------------------------------------------------


def subject_spellings(mapping: Any) -> list[tuple[cel.Token, ...]]:
    """How a condition may name the token's subject: the claim itself, or an attribute mapped from exactly it."""
    spellings = [cel.ASSERTION_SUB, cel.ASSERTION_SUB_INDEXED]
    if isinstance(mapping, Mapping):
        for attribute, expression in mapping.items():
            spelling = cel.attribute_spelling(str(attribute))
            if spelling and isinstance(expression, str) and cel.names_subject_claim(expression):
                spellings.append(spelling)
    return spellings


def pinned_subjects(condition: Any, mapping: Any = None) -> Optional[tuple[str, ...]]:
    """The subjects `condition` provably requires (empty: none pinned), or None when it cannot be read."""
    if not isinstance(condition, str) or not condition.strip():
        return ()
    try:
        # The empty subject pins nothing a token should carry.
        return tuple(s for s in cel.subject_pins(condition, subject_spellings(mapping)).subjects if s)
    except cel.NotProvable:
        return None


def condition_fix(subject: Optional[str] = None) -> str:
    return (f"set attribute_condition to {attribute_condition(subject or TAVUS_SUBJECT)} (further conditions may only be "
            "joined to it with &&)")


def condition_findings(condition: Any, mapping: Any = None, subject: Optional[str] = None, fix: Optional[str] = None) -> list[Finding]:
    """Why a provider's attribute condition is not proved to admit only `subject` (any one subject when None)."""
    fix = fix or condition_fix(subject)
    if not isinstance(condition, str) or not condition.strip():
        return [Finding(PROVIDER_CONDITION.id, "has no attribute condition, so every token its issuer signs is admitted to the pool, "
                                               "not only Tavus's", fix)]
    try:
        pins = cel.subject_pins(condition, subject_spellings(mapping)).subjects
    except cel.NotProvable as reason:
        return [Finding(PROVIDER_CONDITION.id, f"has attribute condition {condition!r}, which cannot be proved to admit only one "
                                               f"subject: {reason}", fix)]
    if not pins:
        return [Finding(PROVIDER_CONDITION.id, f"has attribute condition {condition!r}, which does not require assertion.sub == "
                                               "'<subject>' at its top level, so it admits other subjects", fix)]
    if subject is not None and subject not in pins:
        return [Finding(PROVIDER_CONDITION.id, f"has attribute condition {condition!r}, which admits subject "
                                               f"{' and '.join(repr(p) for p in pins)}, not Tavus's {subject!r}", fix)]
    if pins == ("",):
        return [Finding(PROVIDER_CONDITION.id, f"has attribute condition {condition!r}, which pins the empty subject", fix)]
    return []


def mapping_findings(mapping: Any, fix: Optional[str] = None) -> list[Finding]:
    """google.subject mapped from anything but exactly the token's `sub` claim."""
    fix = fix or "set attribute_mapping google.subject to assertion.sub"
    found = mapping.get("google.subject") if isinstance(mapping, Mapping) else None
    if isinstance(found, str) and cel.names_subject_claim(found):
        return []
    shown = "does not map google.subject" if found is None else f"maps google.subject from {found!r}, not from exactly assertion.sub"
    return [Finding(PROVIDER_MAPPING.id, f"{shown}, so principal://.../subject/<Tavus's subject> does not name the token's subject", fix)]


def issuer_problem(uri: Any) -> Optional[str]:
    """Why `uri` is not an https issuer with a DNS host and no user info, or None."""
    if not isinstance(uri, str) or not uri:
        return "no issuer"
    problem = naming.issuer_problem(uri)
    return f"issuer {uri!r}, which {problem}" if problem else None


def issuer_findings(provider: Mapping[str, Any], issuer: Optional[str] = None, fix: Optional[str] = None) -> list[Finding]:
    """A provider that is not OIDC, trusts a malformed issuer, or (with `issuer`) another one."""
    fix = fix or f"set oidc.issuer_uri to {issuer or 'the issuer in Tavus recording guide (GCS tab)'}"
    oidc = provider.get("oidc")
    if not isinstance(oidc, Mapping):
        kind = next((key for key in ("aws", "saml", "x509") if isinstance(provider.get(key), Mapping)), "no identity provider")
        return [Finding(PROVIDER_ISSUER.id, f"is configured for {kind}, not OIDC: Tavus presents OIDC tokens", fix)]
    uri = oidc.get("issuerUri")
    found: list[Finding] = []
    problem = issuer_problem(uri)
    if problem:
        found.append(Finding(PROVIDER_ISSUER.id, f"trusts {problem}", fix))
    elif issuer is not None and uri != issuer:
        found.append(Finding(PROVIDER_ISSUER.id, f"trusts issuer {uri!r}, but Tavus's tokens come from {issuer!r}", fix))
    return found + jwks_findings(oidc)


def jwks_findings(oidc: Mapping[str, Any]) -> list[Finding]:
    """Inline keys replace the issuer's published ones: whoever holds them signs as the issuer, whichever it is."""
    if not oidc.get("jwksJson"):
        return []
    uri = oidc.get("issuerUri")
    for_issuer = f" for issuer {uri!r}" if isinstance(uri, str) else ""
    return [Finding(PROVIDER_ISSUER.id, f"pins its own signing keys (jwksJson){for_issuer}, so whoever holds those keys signs tokens the "
                                        "pool takes for the issuer's", "remove oidc.jwks_json: the provider then fetches the issuer's own "
                                        "keys from its discovery document")]


def pool_issuer_findings(issuers: Collection[str], pool: str) -> list[Finding]:
    """A pool whose providers trust more than one issuer: a pool's principal for a subject is the same
    whichever provider admitted the token, so every other issuer can mint Tavus's principal."""
    distinct = sorted(set(issuers))
    if len(distinct) <= 1:
        return []
    return [Finding(PROVIDER_ISSUER.id, f"is one of the providers of pool {pool}, which together trust {len(distinct)} issuers "
                                        f"({', '.join(distinct)}): principal://.../subject/<s> is the same whichever issuer's token made it",
                    "keep one provider in the pool Tavus federates through (Tavus's issuer); give other federations a pool of their own")]

"""What Tavus's role can do: the union of every policy that reaches it, held to the writer actions on one
bucket and, with SSE-KMS, the use of its key."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Collection, Iterable, Mapping, Optional, Sequence

from components.tavus import KMS_WRITER_ACTIONS, S3_WRITER_ACTIONS
from tavus_recording.rules.aws.catalog import LEAST_PRIVILEGE, PERMISSIONS
from tavus_recording.rules.aws.statements import is_deny, label, statement_applies, statements, unknown_elements
from tavus_recording.rules.findings import Finding
from tavus_recording.rules.iam import as_list

WRITER_ACTIONS = frozenset(a.lower() for a in S3_WRITER_ACTIONS)
KMS_ACTIONS = frozenset(a.lower() for a in KMS_WRITER_ACTIONS)
# Verbs that only read; anything else an extra action does may change or delete.
_READ_VERBS = ("get", "list", "describe", "head")
_S3_ARN = re.compile(r"^arn:aws[a-z-]*:s3:::(?P<bucket>[^/]*)(?P<path>/.*)?$")
_KMS_KEY_ARN = re.compile(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[A-Za-z0-9-]+$")
FIX = (
    f"grant only {', '.join(S3_WRITER_ACTIONS)} on arn:aws:s3:::<bucket> and arn:aws:s3:::<bucket>/* "
    f"(with SSE-KMS, {' and '.join(KMS_WRITER_ACTIONS)} on its key), in one inline policy; detach the rest"
)


@dataclass(frozen=True)
class PolicyDoc:
    """One policy document that reaches a role (or bounds it)."""

    label: str
    document: Optional[Mapping[str, Any]]
    """None: not read. `external` says whether that is final (pack) or a failed read (verify)."""
    external: bool = False
    reason: str = ""
    remedy: str = ""
    """How to make an unread document readable (verify's reader policy), for the unknown it leaves."""


def s3_bucket_of(resource: Any) -> Optional[str]:
    match = _S3_ARN.match(resource) if isinstance(resource, str) else None
    return match["bucket"] if match else None


def _wildcard(text: str) -> bool:
    return "*" in text or "?" in text


def _allows(docs: Iterable[PolicyDoc]) -> Iterable[Mapping[str, Any]]:
    for doc in docs:
        for statement in statements(doc.document):
            if isinstance(statement, Mapping) and not is_deny(statement):
                yield statement


def buckets_named(docs: Iterable[PolicyDoc]) -> set[str]:
    """The bucket names the Allow statements of `docs` grant on (wildcards included, as written)."""
    return {
        bucket
        for statement in _allows(docs)
        for resource in as_list(statement.get("Resource"))
        if (bucket := s3_bucket_of(resource)) is not None
    }


def keys_named(docs: Iterable[PolicyDoc]) -> set[str]:
    """The KMS resources the Allow statements grant the writer's key actions on."""
    return {
        str(resource)
        for statement in _allows(docs)
        if any(isinstance(a, str) and a.lower() in KMS_ACTIONS for a in as_list(statement.get("Action")))
        for resource in as_list(statement.get("Resource"))
    }


def writer_scope(docs: Sequence[PolicyDoc]) -> tuple[set[str], Optional[Finding]]:
    """The bucket Tavus's grants write recordings to, and a finding when that cannot be one bucket.

    The recordings bucket is the one named bucket (no wildcard) the grants let it put objects in; any
    other bucket they name is then judged, statement by statement, as reaching further."""
    named = buckets_named(docs)
    writable = {
        b for b in named if not _wildcard(b)
        and any(statement_applies(s, "s3:PutObject", f"arn:aws:s3:::{b}/recording") for s in _allows(docs))
    }
    if len(writable) == 1:
        return writable, None
    if len(named) > 1:
        shown = ", ".join(sorted(named))
        return writable or named, Finding(PERMISSIONS.id, f"is granted on {len(named)} buckets ({shown}); Tavus writes to one", FIX)
    return named, None


def key_scope(docs: Sequence[PolicyDoc]) -> Optional[Finding]:
    """With the bucket's key not known, the grants may name one key, never two."""
    keys = keys_named(docs)
    if len(keys) > 1:
        return Finding(PERMISSIONS.id, f"may use {len(keys)} KMS keys ({', '.join(sorted(keys))}); a bucket has one", FIX)
    return None


def _in_scope(resource: Any, buckets: Collection[str], keys: Optional[Collection[str]], kms: bool) -> bool:
    if not isinstance(resource, str):
        return False
    if kms:
        return bool(_KMS_KEY_ARN.match(resource)) and (keys is None or resource in keys)
    bucket = s3_bucket_of(resource)
    return bucket is not None and not _wildcard(bucket) and bucket in buckets


def _grant_problem(action: Any, resource: Any, buckets: Collection[str], keys: Optional[Collection[str]]) -> tuple[Optional[str], bool]:
    """(why `action` on `resource` is more than the writer's, as a template with `{on}` for the resources
    it is granted on, and whether that is only advisory); (None, False) when it is within need."""
    if not isinstance(action, str):
        return f"names an action that is not text ({action!r})", False
    lowered = action.lower()
    service, _, verb = lowered.partition(":")
    if _wildcard(lowered):
        return f"allows the wildcard action {action} on {{on}}, which includes deleting and reconfiguring", False
    is_kms = service == "kms"
    if not _in_scope(resource, buckets, keys, is_kms):
        scope = f"bucket {', '.join(sorted(buckets)) or '(none)'} and its objects"
        if is_kms:
            scope = "the bucket's key" + (f" ({', '.join(sorted(keys))})" if keys else " (the bucket has no customer key)" if keys is not None else "")
        return f"allows {action} on {{on}}, beyond {scope}", False
    if lowered in WRITER_ACTIONS or lowered in KMS_ACTIONS:
        return None, False
    if service in ("s3", "kms") and verb.startswith(_READ_VERBS):
        return f"allows {action} on {{on}}, a read Tavus does not need", True
    return f"allows {action} on {{on}}, which can change or delete what Tavus only writes", False


def _statement_grants(
    statement: Mapping[str, Any], buckets: Collection[str], keys: Optional[Collection[str]]
) -> list[tuple[str, bool]]:
    """(problem, advisory) for each action of an Allow statement beyond the writer's, its resources joined."""
    resources = as_list(statement.get("Resource")) if "Resource" in statement else ["*"]
    grouped: dict[tuple[str, bool], list[str]] = {}
    for action in as_list(statement.get("Action")):
        for resource in resources:
            template, advisory = _grant_problem(action, resource, buckets, keys)
            if template:
                grouped.setdefault((template, advisory), []).append(resource if isinstance(resource, str) else repr(resource))
    return [(template.replace("{on}", " and ".join(dict.fromkeys(on))), advisory) for (template, advisory), on in grouped.items()]


def _unread(doc: PolicyDoc) -> Finding:
    if doc.external:
        return Finding(PERMISSIONS.id, f"has {doc.label}, " + (doc.reason or "whose document this stack does not define, so what it grants cannot be checked"),
                       f"detach it and {FIX}")
    return Finding(PERMISSIONS.id, f"has {doc.label}, which could not be read: {doc.reason}", doc.remedy, unknown=True)


def permission_findings(
    docs: Sequence[PolicyDoc], buckets: Optional[Collection[str]] = None, keys: Optional[Collection[str]] = None
) -> list[Finding]:
    """What every policy reaching Tavus's role grants beyond the writer actions on `buckets` (and `keys`).

    `buckets` None: the one bucket the policies write to (`writer_scope`). `keys`: the bucket's key ARNs,
    [] for a bucket without a customer key, None when not known (then one key may be granted, not two).
    """
    found: list[Finding] = []
    if buckets is None:
        buckets, ambiguous = writer_scope(docs)
        found += [ambiguous] if ambiguous else []
    if keys is None and (too_many := key_scope(docs)):
        found.append(too_many)
    for doc in docs:
        if doc.document is None:
            found.append(_unread(doc))
            continue
        for index, statement in enumerate(statements(doc.document)):
            where = f"{doc.label} {label(statement, index)}"
            if not isinstance(statement, Mapping):
                found.append(Finding(PERMISSIONS.id, f"has in {doc.label} a statement that is not an object", FIX))
                continue
            strange = unknown_elements(statement)
            if strange:
                # `action`, `Resources`...: IAM refuses the statement or reads it otherwise; not proved either way.
                found.append(Finding(PERMISSIONS.id, f"{where} has {strange}, which IAM does not define in a statement", FIX))
            if is_deny(statement):
                continue
            if "NotAction" in statement:
                found.append(Finding(PERMISSIONS.id, f"{where} allows every action except {as_list(statement['NotAction'])} (NotAction)", FIX))
            if "NotResource" in statement:
                found.append(Finding(PERMISSIONS.id, f"{where} allows on every resource except {as_list(statement['NotResource'])} (NotResource)", FIX))
            for problem, advisory in _statement_grants(statement, buckets, keys):
                found.append(Finding(LEAST_PRIVILEGE.id if advisory else PERMISSIONS.id, f"{where} {problem}", FIX))
    return found

"""Who else reaches the recordings (bucket and access point policies, ACLs, replication), and whether they
last (lifecycle, the key)."""

from __future__ import annotations

from typing import Any, Collection, Iterable, Mapping, Optional

from components.tavus import TAVUS_AWS_ACCOUNT_ID
from tavus_recording.rules.aws.catalog import BUCKET_ACCESS, KEY, LIFECYCLE, REPLICATION
from tavus_recording.rules.aws.grants import s3_bucket_of
from tavus_recording.rules.aws.statements import (
    arn,
    arn_account,
    comparisons,
    is_deny,
    label,
    names_tavus,
    pinned,
    principal_entries,
    reach,
    statements,
    unknown_elements,
)
from tavus_recording.rules.findings import Finding
from tavus_recording.rules.iam import as_list

# Canned ACLs that let anyone beyond the bucket owner read or write (S3 spells them in lower case).
SHARING_CANNED_ACLS = frozenset({"public-read", "public-read-write", "authenticated-read", "aws-exec-read", "log-delivery-write"})
_GROUPS = "acs.amazonaws.com/groups/"


def _own(account: Any, own_accounts: Optional[Collection[str]]) -> bool:
    return isinstance(account, str) and own_accounts is not None and account in own_accounts


def _service_pinned(condition: Any, own_accounts: Optional[Collection[str]]) -> bool:
    """A service principal acting only for your accounts: an exact aws:SourceAccount, or an exact
    aws:SourceArn in one of them (Like, Not and IfExists forms prove nothing)."""
    own = sorted(own_accounts or ())
    if own and pinned(condition, "aws:SourceAccount", own):
        return True
    return bool(own) and any(
        c.values and all(_own(arn_account(v), own) and "*" not in str(v) and "?" not in str(v) for v in c.values)
        for c in comparisons(condition, "aws:SourceArn")
        if c.operator in ("StringEquals", "ArnEquals")
    )


def _who_else(kind: str, value: Any, condition: Any, own_accounts: Optional[Collection[str]]) -> Optional[str]:
    """Who a principal of an Allow on the recordings is, when not proved to be your own account; None if it is."""
    own = sorted(own_accounts or ())
    if kind == "AWS" and value == "*":
        if own and pinned(condition, "aws:PrincipalAccount", own):
            return None
        if any(names_tavus(v) for c in comparisons(condition, "aws:PrincipalAccount") for v in c.values):
            return f"Tavus's account {TAVUS_AWS_ACCOUNT_ID} (directly, bypassing the writer role and its ExternalId)"
        return "any AWS principal ('*')" + (" that meets its conditions" if condition else ", anonymously")
    if kind == "AWS" and isinstance(value, str):
        if names_tavus(value):
            return f"Tavus's account {TAVUS_AWS_ACCOUNT_ID} (directly, bypassing the writer role and its ExternalId)"
        account = arn_account(value)
        if _own(account, own_accounts):
            return None
        parsed = arn(value)
        if account is None and parsed and parsed.partition != "aws":
            return f"{value}, an account in the {parsed.partition} partition"
        if account is None:
            return f"{value}, whose account cannot be told"
        if own_accounts is None:
            return f"account {account}, which the pack cannot tell is yours (list your accounts in ownAccounts)"
        return f"another account ({account})"
    if kind == "Service":
        if _service_pinned(condition, own_accounts):
            return None
        return f"the service {value!r} acting for any account (no exact aws:SourceAccount or aws:SourceArn of yours)"
    return f"the {kind} principal {value!r}"


def bucket_policy_findings(
    document: Any, bucket: str, own_accounts: Optional[Collection[str]], what: str = "bucket policy", whole: bool = False
) -> list[Finding]:
    """Who an Allow in a bucket (or, with `whole`, an access point) policy lets reach the recordings besides
    your own accounts. An Allow reaches them when any of its resources can match the bucket or any of its
    objects (`bucket/conversations/*` and `*.mp4` included); an access point's policy reaches them whole."""
    found: list[Finding] = []
    fix = (
        f"remove those statements from the {what}: Tavus writes through its role, and only your own accounts "
        f"({', '.join(sorted(own_accounts)) if own_accounts else 'name them in ownAccounts'}) may be granted"
    )
    target = f"arn:aws:s3:::{bucket}"
    for index, statement in enumerate(statements(document)):
        where = f"{what} {label(statement, index)}"
        if not isinstance(statement, Mapping):
            found.append(Finding(BUCKET_ACCESS.id, f"has a {what} statement that is not an object", fix))
            continue
        strange = unknown_elements(statement)
        if strange:
            found.append(Finding(BUCKET_ACCESS.id, f"{where} has {strange}, which IAM does not define in a statement", fix))
        if is_deny(statement):
            continue
        if not whole and reach(statement, target) == "none" and reach(statement, target, f"{target}/") == "none":
            continue
        if "NotPrincipal" in statement:
            found.append(Finding(BUCKET_ACCESS.id, f"{where} lets everyone reach the recordings except those it names (NotPrincipal)", fix))
            continue
        entries = principal_entries(statement.get("Principal"))
        if entries is None:
            found.append(Finding(BUCKET_ACCESS.id, f"{where} has a Principal that cannot be read ({statement.get('Principal')!r})", fix))
            continue
        for kind, value in entries:
            other = _who_else(kind, value, statement.get("Condition"), own_accounts)
            if other:
                found.append(Finding(BUCKET_ACCESS.id, f"{where} lets {other} reach the recordings", fix))
    return found


def lower_keys(value: Any) -> Any:
    """Pulumi's camelCase, S3's PascalCase and the Terraform shapes all read alike."""
    if isinstance(value, Mapping):
        return {str(k).lower(): lower_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [lower_keys(v) for v in value]
    return value


def _grantee(grant: Mapping[str, Any]) -> Mapping[str, Any]:
    """S3's and aws.s3.BucketAcl's `{grantee: {...}}`, or aws.s3.Bucket's flat `{type, uri, id}`."""
    nested = grant.get("grantee")
    return nested if isinstance(nested, Mapping) else grant


def acl_findings(canned: Any, grants: Optional[Iterable[Any]], owner: Optional[str] = None) -> list[Finding]:
    """A bucket ACL that reaches anyone but the bucket owner."""
    fix = "remove the ACL: set object ownership to BucketOwnerEnforced, which turns ACLs off"
    found: list[Finding] = []
    if isinstance(canned, str) and canned.lower() in SHARING_CANNED_ACLS:
        found.append(Finding(BUCKET_ACCESS.id, f"has the canned ACL {canned!r}, which opens the recordings beyond your account", fix))
    for grant in (lower_keys(g) for g in grants or ()):
        if not isinstance(grant, Mapping):
            continue
        grantee = _grantee(grant)
        uri, ident, email = grantee.get("uri"), grantee.get("id"), grantee.get("emailaddress")
        if isinstance(uri, str) and _GROUPS in uri.lower():
            found.append(Finding(BUCKET_ACCESS.id, f"has an ACL grant to the group {uri.rsplit('/', 1)[-1]}", fix))
        elif ident and ident != owner:
            found.append(Finding(BUCKET_ACCESS.id, f"has an ACL grant to canonical user {ident}, not the bucket's owner", fix))
        elif email:
            found.append(Finding(BUCKET_ACCESS.id, f"has an ACL grant to {email}", fix))
    return found


def _enabled(rule: Mapping[str, Any]) -> bool:
    status = rule.get("status")
    if status is not None:
        return str(status).lower() == "enabled"
    return str(rule.get("enabled", True)).lower() != "false"


def replication_findings(
    rules: Iterable[Any], own_accounts: Optional[Collection[str]], own_buckets: Collection[str] = ()
) -> list[Finding]:
    """Replication rules that copy recordings to a bucket not proved to be yours."""
    fix = "replicate only to your own buckets: set the destination account to one of yours, or remove the rule"
    found: list[Finding] = []
    for rule in (lower_keys(r) for r in rules):
        if not isinstance(rule, Mapping) or not _enabled(rule):
            continue
        for destination in as_list(rule.get("destination") or rule.get("destinations")):
            if not isinstance(destination, Mapping):
                continue
            bucket = destination.get("bucket") or destination.get("bucketarn")
            account = destination.get("account")
            name = s3_bucket_of(bucket)
            rule_id = rule.get("id") or "(unnamed)"
            if account is not None and not _own(str(account), own_accounts):
                found.append(Finding(REPLICATION.id, f"replicates recordings (rule {rule_id}) to {bucket} in account {account}, not yours", fix))
            elif account is None and (name is None or name not in own_buckets):
                found.append(
                    Finding(
                        REPLICATION.id,
                        f"replicates recordings (rule {rule_id}) to {bucket}, whose owner cannot be proved to be you "
                        "(no destination account, and not a bucket of this stack)",
                        fix,
                    )
                )
    return found


def _number(value: Any) -> Optional[float]:
    """A day count as IAM's providers read it: a number, or text that is one (the bridge coerces it)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return float(str(value).strip())
    except ValueError:
        return None


def _expirations(rule: Mapping[str, Any]) -> list[tuple[Any, Any]]:
    """(days, date) of each expiration of current versions: S3's and Pulumi's `Expiration {Days, Date}`,
    and CloudFormation's (aws-native) `ExpirationInDays` / `ExpirationDate` on the rule itself."""
    found = [(e.get("days"), e.get("date")) for e in as_list(rule.get("expiration")) if isinstance(e, Mapping)]
    if rule.get("expirationindays") is not None or rule.get("expirationdate") is not None:
        found.append((rule.get("expirationindays"), rule.get("expirationdate")))
    return found


def lifecycle_findings(rules: Iterable[Any], retention_days: Optional[int], retention_known: bool = True) -> list[Finding]:
    """Lifecycle rules that expire current recordings sooner than `retention_days` (or at all, when None)."""
    found: list[Finding] = []
    for rule in (lower_keys(r) for r in rules):
        if not isinstance(rule, Mapping) or not _enabled(rule):
            continue
        rule_id = rule.get("id") or "(unnamed)"
        for days_value, date in _expirations(rule):
            days = _number(days_value)
            if date:
                found.append(Finding(LIFECYCLE.id, f"expires every current recording on {date} (rule {rule_id})", _lifecycle_fix(retention_days)))
            elif days_value is not None and days is None:
                found.append(Finding(LIFECYCLE.id, f"expires current recordings after {days_value!r} days (rule {rule_id}), "
                                                   "a count that cannot be read", _lifecycle_fix(retention_days)))
            elif days is not None and days > 0:
                if not retention_known:
                    found.append(
                        Finding(
                            LIFECYCLE.id,
                            f"expires current recordings {_days(days)} after they land (rule {rule_id}); the stack's outputs do "
                            "not say its retention, to compare with",
                            "run `pulumi up` with this version of the kit, which exports retention_days",
                            unknown=True,
                        )
                    )
                elif retention_days is None or days < retention_days:
                    kept = f"keeps them {retention_days} days" if retention_days else "keeps them (no retentionDays)"
                    found.append(
                        Finding(
                            LIFECYCLE.id,
                            f"expires current recordings {_days(days)} after they land (rule {rule_id}), but the stack {kept}",
                            _lifecycle_fix(retention_days),
                        )
                    )
    return found


def _days(days: float) -> str:
    return f"{days:g} day" + ("" if days == 1 else "s")


def _lifecycle_fix(retention_days: Optional[int]) -> str:
    if retention_days:
        return f"expire current versions after no fewer than {retention_days} days (set retentionDays), or remove the rule"
    return "remove the expiration of current versions (set retentionDays if recordings should expire)"


def key_findings(key: str, enabled: Any, state: Any = None) -> list[Finding]:
    """A bucket's KMS key that cannot encrypt new recordings or decrypt old ones."""
    if state in (None, "Enabled") and enabled is not False:
        return []
    shown = state or ("disabled" if enabled is False else "unusable")
    if state == "PendingDeletion":
        problem = f"is encrypted with key {key}, which is scheduled for deletion: once deleted, every recording is unreadable"
        fix = f"aws kms cancel-key-deletion --key-id {key}, then aws kms enable-key --key-id {key}"
    else:
        problem = f"is encrypted with key {key}, which is {shown}: Tavus cannot write and nobody can read recordings"
        fix = f"aws kms enable-key --key-id {key}"
    return [Finding(KEY.id, problem, fix)]

"""Google Cloud: the workload identity trust Tavus federates through, and the buckets it writes to."""

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from components.gcp_policy import IMPERSONATION_ROLE
from rule_kit import ADVISORY, MANDATORY, UNKNOWN, Finding, check_force_destroy, document, flag, resource_policy
from tavus_recording.rules.iam import as_list

PROVIDER = "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider"
BUCKET = "gcp:storage/bucket:Bucket"
# roles/iam.workloadIdentityUser on one service account, or on every account of a project.
IAM_BINDINGS = ("gcp:serviceaccount/iAMBinding:IAMBinding", "gcp:projects/iAMBinding:IAMBinding")
IAM_MEMBERS = ("gcp:serviceaccount/iAMMember:IAMMember", "gcp:projects/iAMMember:IAMMember")
IAM_POLICIES = ("gcp:serviceaccount/iAMPolicy:IAMPolicy", "gcp:projects/iAMPolicy:IAMPolicy")
PRINCIPAL_SET = "principalSet://"
# CEL conditions that admit every token, so they pin nothing.
_TRIVIAL_CONDITIONS = frozenset({"", "true"})


def check_provider_condition(props: dict[str, Any], config: Mapping[str, Any]) -> Iterable[Finding]:
    condition = props.get("attributeCondition")
    if condition is UNKNOWN:
        return []
    if condition is None or (isinstance(condition, str) and condition.strip().lower() in _TRIVIAL_CONDITIONS):
        return [
            Finding(
                "has no attribute condition, so every token its issuer signs (any of the issuer's other "
                "customers) can federate into the pool; Google also rejects such providers for many issuers",
                "set attribute_condition to pin Tavus's subject, e.g. 'assertion.sub == \"<Tavus's subject>\"'",
            )
        ]
    return []


def _grants(props: dict[str, Any]) -> Iterator[tuple[Any, list[Any]]]:
    """(role, members) pairs of a binding, a member or an authoritative policy."""
    if "policyData" in props:
        doc = document(props.get("policyData"))
        if isinstance(doc, dict):
            for binding in as_list(doc.get("bindings")):
                if isinstance(binding, dict):
                    yield binding.get("role"), as_list(binding.get("members"))
    elif "members" in props:
        members = props.get("members")
        yield props.get("role"), [] if members is UNKNOWN else as_list(members)
    else:
        yield props.get("role"), as_list(props.get("member"))


def check_no_principal_set(props: dict[str, Any], config: Mapping[str, Any]) -> Iterable[Finding]:
    findings = []
    for role, members in _grants(props):
        if role != IMPERSONATION_ROLE:
            continue
        sets = [m for m in members if isinstance(m, str) and m.startswith(PRINCIPAL_SET)]
        if sets:
            findings.append(
                Finding(
                    f"grants {IMPERSONATION_ROLE} to {sets}, every identity of a pool (or of an attribute) "
                    "rather than Tavus's one subject",
                    "grant it to principal://iam.googleapis.com/<pool name>/subject/<Tavus's subject> only",
                )
            )
    return findings


def check_public_access_prevention(props: dict[str, Any], config: Mapping[str, Any]) -> Iterable[Finding]:
    value = props.get("publicAccessPrevention")
    if value in ("enforced", UNKNOWN):
        return []
    return [
        Finding(
            f"has publicAccessPrevention {value or 'inherited'!r}, so an IAM grant to allUsers could make recordings public",
            "set public_access_prevention='enforced'",
        )
    ]


def check_uniform_access(props: dict[str, Any], config: Mapping[str, Any]) -> Iterable[Finding]:
    if flag(props.get("uniformBucketLevelAccess")) in (True, UNKNOWN):
        return []
    return [
        Finding(
            "keeps per-object ACLs (uniformBucketLevelAccess off), so access is not decided by IAM alone",
            "set uniform_bucket_level_access=True",
        )
    ]


GCP_POLICIES = [
    resource_policy(
        "gcp-tavus-provider-condition",
        "A workload identity pool provider must have an attribute condition: without one, every token "
        "its issuer signs is admitted to the pool, not only Tavus's.",
        [PROVIDER],
        check_provider_condition,
        MANDATORY,
    ),
    resource_policy(
        "gcp-tavus-no-principal-set",
        f"{IMPERSONATION_ROLE} must never be granted to a principalSet://: a set admits every federated "
        "identity it matches, where Tavus needs its one subject.",
        [*IAM_BINDINGS, *IAM_MEMBERS, *IAM_POLICIES],
        check_no_principal_set,
        MANDATORY,
    ),
    resource_policy(
        "gcp-storage-public-access-prevention",
        "Cloud Storage buckets must enforce public access prevention: recordings are customer data.",
        [BUCKET],
        check_public_access_prevention,
        MANDATORY,
    ),
    resource_policy(
        "gcp-storage-uniform-access",
        "Cloud Storage buckets should use uniform bucket-level access, so IAM alone decides who reads recordings.",
        [BUCKET],
        check_uniform_access,
        ADVISORY,
    ),
    resource_policy(
        "gcp-storage-no-force-destroy",
        "Cloud Storage buckets should not set forceDestroy: recordings are customer data and must survive `pulumi destroy`.",
        [BUCKET],
        check_force_destroy,
        ADVISORY,
    ),
]

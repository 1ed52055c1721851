"""That recordings move to the class the stack asks for (`coldAfterDays`), and which key encrypts them
(`kmsKeyName`) and whether the bucket can use it.

Every Cloud Storage class reads in milliseconds (ARCHIVE too, at a 365-day minimum and the dearest
retrieval), so no move is refused as slow: the cost of a class is the stack's choice, shown in the plan.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Optional

from components.gcp_policy import KEY_USER_ROLE
from components.lifecycle import COLD_CLASS
from tavus_recording.rules.findings import Finding
from tavus_recording.rules.gcp.catalog import COLD_TIER, ENCRYPTION_KEY, SERVICE_AGENT
from tavus_recording.rules.gcp.lifecycle import _number
from tavus_recording.rules.gcp.vocabulary import Grant
from tavus_recording.rules.iam import as_list

COLD = COLD_CLASS["gcs"]
STORAGE_AGENT_DOMAIN = "gs-project-accounts.iam.gserviceaccount.com"
# Conditions that only say "live objects of the STANDARD class, of this age": anything else narrows the move.
_COLD_CONDITIONS = ("age", "withState", "isLive", "matchesStorageClass", "matchesStorageClasses", "noAge")


def _live_only(condition: Mapping[str, Any]) -> bool:
    state = condition.get("withState")
    return (isinstance(state, str) and state.upper() == "LIVE") or condition.get("isLive") in (True, "true")


def _is_stack_move(rule: Mapping[str, Any], cold_after_days: int) -> bool:
    action = rule.get("action")
    if not isinstance(action, Mapping) or action.get("type") != "SetStorageClass" or action.get("storageClass") != COLD:
        return False
    conditions = [c for c in as_list(rule.get("condition") or rule.get("conditions")) if isinstance(c, Mapping)]
    condition: Mapping[str, Any] = conditions[0] if conditions else {}
    classes = as_list(condition.get("matchesStorageClass") or condition.get("matchesStorageClasses"))
    narrowing = [k for k, v in condition.items()
                 if k not in _COLD_CONDITIONS and not k.startswith("send") and v not in (None, "", [], 0, False)]
    return (_number(condition.get("age")) == cold_after_days and _live_only(condition) and not narrowing
            and (not classes or "STANDARD" in classes))


def cold_tier_fix(cold_after_days: int) -> str:
    return (f"move live recordings from STANDARD to {COLD} at age {cold_after_days} (action SetStorageClass {COLD}, condition "
            f"age {cold_after_days}, matches_storage_classes [STANDARD], with_state LIVE)")


def cold_tier_findings(rules: Iterable[Any], cold_after_days: Optional[int], fix: Optional[str] = None) -> list[Finding]:
    """When the stack sets `cold_after_days`: no lifecycle rule (the API's `lifecycle.rule`, or pulumi-gcp's
    `lifecycleRules`) moves live STANDARD recordings to NEARLINE at exactly that age."""
    if not cold_after_days or any(isinstance(r, Mapping) and _is_stack_move(r, cold_after_days) for r in rules):
        return []
    return [Finding(COLD_TIER.id, f"has no lifecycle rule moving live recordings to {COLD} at age {cold_after_days} days, as the stack "
                                  "asks (coldAfterDays)", fix or cold_tier_fix(cold_after_days))]


# --- the key


def default_key(encryption: Any) -> Optional[str]:
    """A bucket's default Cloud KMS key name (the API's and pulumi-gcp's `encryption.defaultKmsKeyName`), or None."""
    key = encryption.get("defaultKmsKeyName") if isinstance(encryption, Mapping) else None
    return key if isinstance(key, str) and key else None


def encryption_key_findings(encryption: Any, wanted: Optional[str], require: bool = False, fix: Optional[str] = None) -> list[Finding]:
    """A bucket whose default key is not the stack's `wanted` one (or, with `require`, is no Cloud KMS key)."""
    actual = default_key(encryption)
    shown = f"key {actual}" if actual else "Google-managed keys (no default Cloud KMS key)"
    if wanted and actual != wanted:
        return [Finding(ENCRYPTION_KEY.id, f"encrypts new recordings with {shown}, not the stack's {wanted} (kmsKeyName)",
                        fix or f"set the bucket's default key to {wanted} (encryption.default_kms_key_name)")]
    if not wanted and require and not actual:
        return [Finding(ENCRYPTION_KEY.id, f"encrypts new recordings with {shown}, but a customer key is required (requireCustomerKey)",
                        fix or "set kmsKeyName in the stack to a Cloud KMS key in the bucket's location")]
    return []


def storage_agent(project_number: str) -> str:
    """The IAM member of a project's Cloud Storage service agent."""
    return f"serviceAccount:service-{project_number}@{STORAGE_AGENT_DOMAIN}"


def is_storage_agent(member: str) -> bool:
    local, _, domain = member.lower().removeprefix("serviceaccount:").partition("@")
    number = local.removeprefix("service-")
    return domain == STORAGE_AGENT_DOMAIN and local.startswith("service-") and number.isascii() and number.isdigit()


def service_agent_findings(grants: Iterable[Grant], key: str, agent: Optional[str] = None, fix: Optional[str] = None) -> list[Finding]:
    """The key's grants (its IAM policy, or the stack's grants on it) give `agent` (or, when it is not known,
    any project's Cloud Storage service agent) no unconditional roles/cloudkms.cryptoKeyEncrypterDecrypter."""
    holders = [g.member for g in grants if g.role == KEY_USER_ROLE and not g.conditional]
    if any(m.lower() == agent.lower() if agent else is_storage_agent(m) for m in holders):
        return []
    who = agent.removeprefix("serviceAccount:") if agent else "the project's Cloud Storage service agent"
    return [Finding(SERVICE_AGENT.id, f"is key {key}, on which {who} does not hold {KEY_USER_ROLE}, so the bucket cannot encrypt new "
                                      "recordings or decrypt old ones with it",
                    fix or f"grant {who} {KEY_USER_ROLE} on the key (gcloud kms keys add-iam-policy-binding)")]

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
# Conditions that only say "live objects of the STANDARD class, of this age".
_COLD_CONDITIONS = ("age", "withState", "isLive", "matchesStorageClass", "matchesStorageClasses")
# Name patterns, ORed within a condition: a "" pattern is met by every name.
_NAME_CONDITIONS = ("matchesPrefix", "matchesPrefixes", "matchesSuffix", "matchesSuffixes")
# Met only by noncurrent versions, whatever the value (cloud.google.com/storage/docs/lifecycle, "Conditions"); the
# Custom-Time ones only by objects that have one (Tavus sets none), so they narrow a move too.
_NONCURRENT = ("daysSinceNoncurrentTime", "noncurrentTimeBefore")
# pulumi-gcp sends a 0 only with its flag: its docs say a 0 alone "will be ignored" (send_*_if_zero, pulumi-gcp 10).
_SEND_IF_ZERO = {"age": "sendAgeIfZero", "daysSinceCustomTime": "sendDaysSinceCustomTimeIfZero",
                 "daysSinceNoncurrentTime": "sendDaysSinceNoncurrentTimeIfZero", "numNewerVersions": "sendNumNewerVersionsIfZero"}
# Priced below NEARLINE at rest: when several SetStorageClass rules match an object at once, Cloud Storage applies the
# one to the lowest-priced class (cloud.google.com/storage/docs/lifecycle, "Lifecycle configuration").
_CHEAPER = ("COLDLINE", "ARCHIVE")


def _sent(condition: Mapping[str, Any], key: str, pulumi: bool) -> bool:
    """Whether a condition is in force: any value the API answers with (a 0 too), or one pulumi-gcp sends."""
    value = condition.get(key)
    if value is None or value is False or value == "" or value == []:
        return False
    if pulumi and key in _SEND_IF_ZERO and _number(value) == 0:
        return condition.get(_SEND_IF_ZERO[key]) in (True, "true")
    return True


def _states(condition: Mapping[str, Any]) -> set[str]:
    """What each spelling of the version condition says: pulumi-gcp's `withState` (LIVE, ARCHIVED, ANY), the API's
    `isLive` (LIVE or ARCHIVED); "?" for a value neither has."""
    said: set[str] = set()
    state = condition.get("withState")
    if state is not None and state != "":
        said.add(state.upper() if isinstance(state, str) else "?")
    live = condition.get("isLive")
    if live is not None:
        said.add("LIVE" if live in (True, "true") else "ARCHIVED" if live in (False, "false") else "?")
    return said


def _condition(rule: Mapping[str, Any]) -> Mapping[str, Any]:
    conditions = [c for c in as_list(rule.get("condition") or rule.get("conditions")) if isinstance(c, Mapping)]
    return conditions[0] if conditions else {}


def _classes(condition: Mapping[str, Any]) -> list[Any]:
    return as_list(condition.get("matchesStorageClass") or condition.get("matchesStorageClasses"))


def _narrowing(condition: Mapping[str, Any], pulumi: bool) -> list[str]:
    """The conditions that leave some live STANDARD recordings out of a move (conditions are ANDed)."""
    found = []
    for key, value in condition.items():
        if key in _COLD_CONDITIONS or key.startswith("send"):
            continue
        if key in _NAME_CONDITIONS:
            patterns = as_list(value)
            if patterns and "" not in patterns:
                found.append(key)
        elif _sent(condition, key, pulumi) and not (key == "numNewerVersions" and _number(value) == 0):
            found.append(key)  # "at least 0 newer versions" is every object
    return found


def _is_stack_move(rule: Mapping[str, Any], cold_after_days: int, pulumi: bool = False) -> bool:
    action = rule.get("action")
    if not isinstance(action, Mapping) or action.get("type") != "SetStorageClass" or action.get("storageClass") != COLD:
        return False
    condition = _condition(rule)
    classes = _classes(condition)
    return (_number(condition.get("age")) == cold_after_days and _states(condition) == {"LIVE"}
            and not _narrowing(condition, pulumi) and (not classes or "STANDARD" in classes))


def _displacing_age(rule: Mapping[str, Any], cold_after_days: int, pulumi: bool) -> Optional[tuple[str, Optional[float]]]:
    """A SetStorageClass rule that may move live STANDARD recordings, at or before the stack's age, to a class
    cheaper than NEARLINE (or to NEARLINE sooner), so the stack's move never happens to them: its class and age
    (None: any age). Only a condition that keeps every live STANDARD recording out clears it."""
    action = rule.get("action")
    target = action.get("storageClass") if isinstance(action, Mapping) and action.get("type") == "SetStorageClass" else None
    target = target.upper() if isinstance(target, str) else None
    if target not in (*_CHEAPER, COLD):
        return None
    condition = _condition(rule)
    age = _number(condition.get("age")) if _sent(condition, "age", pulumi) else None
    if age is not None and (age > cold_after_days if target in _CHEAPER else age >= cold_after_days):
        return None
    classes = _classes(condition)
    newer = _number(condition.get("numNewerVersions")) if _sent(condition, "numNewerVersions", pulumi) else None
    if (_states(condition) == {"ARCHIVED"} or (classes and "STANDARD" not in classes)
            or any(_sent(condition, k, pulumi) for k in _NONCURRENT) or (newer is not None and newer > 0)):
        return None
    return target, age


def cold_tier_fix(cold_after_days: int) -> str:
    return (f"move live recordings from STANDARD to {COLD} at age {cold_after_days} (action SetStorageClass {COLD}, condition "
            f"age {cold_after_days}, matches_storage_classes [STANDARD], with_state LIVE)")


def cold_tier_findings(rules: Iterable[Any], cold_after_days: Optional[int], fix: Optional[str] = None,
                       pulumi: bool = False) -> list[Finding]:
    """When the stack sets `cold_after_days`: no lifecycle rule (the API's `lifecycle.rule`, or pulumi-gcp's
    `lifecycleRules` with `pulumi`) moves live STANDARD recordings to NEARLINE at exactly that age; or another rule
    moves them to a cheaper class by then (or to NEARLINE sooner), which Cloud Storage applies instead."""
    if not cold_after_days:
        return []
    listed = list(rules)
    found: list[Finding] = []
    if not any(isinstance(r, Mapping) and _is_stack_move(r, cold_after_days, pulumi) for r in listed):
        found.append(Finding(COLD_TIER.id, f"has no lifecycle rule moving live recordings to {COLD} at age {cold_after_days} days, as "
                                           "the stack asks (coldAfterDays)", fix or cold_tier_fix(cold_after_days)))
    for number, rule in enumerate(listed, 1):
        displacing = _displacing_age(rule, cold_after_days, pulumi) if isinstance(rule, Mapping) else None
        if displacing is None:
            continue
        target, age = displacing
        when = f"at age {age:g}" if age is not None else "at any age"
        found.append(Finding(
            COLD_TIER.id,
            f"moves live recordings to {target} {when} (lifecycle rule {number}), instead of the stack's move to {COLD} at age "
            f"{cold_after_days} (coldAfterDays): Cloud Storage applies the move to the lowest-priced class when several match, "
            "and a sooner one first",
            f"remove lifecycle rule {number}, or let it act only on objects older than {cold_after_days} days"))
    return found


# --- the key


def default_key(encryption: Any) -> Optional[str]:
    """A bucket's default Cloud KMS key name (the API's and pulumi-gcp's `encryption.defaultKmsKeyName`), or None."""
    key = encryption.get("defaultKmsKeyName") if isinstance(encryption, Mapping) else None
    return key if isinstance(key, str) and key else None


def encryption_key_findings(encryption: Any, wanted: Optional[str], require: bool = False, fix: Optional[str] = None,
                            same: Iterable[str] = ()) -> list[Finding]:
    """A bucket whose default key is not the stack's `wanted` one (nor one of its other names, `same`: the key by its
    project's number), or, with `require`, is no Cloud KMS key."""
    actual = default_key(encryption)
    shown = f"key {actual}" if actual else "Google-managed keys (no default Cloud KMS key)"
    if wanted and actual != wanted and actual not in set(same):
        return [Finding(ENCRYPTION_KEY.id, f"has {shown} as its default, not the stack's {wanted} (kmsKeyName)",
                        fix or f"set the bucket's default key to {wanted} (encryption.default_kms_key_name)")]
    if not wanted and require and not actual:
        return [Finding(ENCRYPTION_KEY.id, f"has {shown} as its default, but a customer key is required (requireCustomerKey)",
                        fix or "set kmsKeyName in the stack to a Cloud KMS key in the bucket's location")]
    return []


# Cloud Storage refuses, per bucket, new objects of an encryption kind whose enforcement config says FullyRestricted
# (the JSON API's and pulumi-gcp's encryption.<kind>EncryptionEnforcementConfig.restrictionMode; any other value, or
# none, allows them). A per-upload kmsKeyName is CMEK whatever key it names, so no bucket setting refuses another
# Cloud KMS key: the organisation policy constraints/gcp.restrictCmekCryptoKeyProjects is what limits which.
RESTRICTED = "FullyRestricted"
CSEK_FIX = "refuse them: encryption.customer_supplied_encryption_enforcement_config.restriction_mode FullyRestricted"
GMEK_FIX = "refuse them: encryption.google_managed_encryption_enforcement_config.restriction_mode FullyRestricted"
OTHER_KMS_KEY = ("a writer can still name another Cloud KMS key per upload (kmsKeyName): only the organisation policy "
                 "constraints/gcp.restrictCmekCryptoKeyProjects limits which")


def restriction(encryption: Any, kind: str) -> Optional[str]:
    """The restrictionMode of `kind` ("customerSupplied", "googleManaged", "customerManaged") in a bucket's
    encryption, or None when it has none."""
    config = encryption.get(f"{kind}EncryptionEnforcementConfig") if isinstance(encryption, Mapping) else None
    mode = config.get("restrictionMode") if isinstance(config, Mapping) else None
    return mode if isinstance(mode, str) and mode else None


def upload_key_findings(encryption: Any, customer_key: bool, csek_fix: Optional[str] = None,
                        gmek_fix: Optional[str] = None) -> list[Finding]:
    """A bucket that accepts uploads encrypted with a key the writer brings (CSEK: only that key's holder can read
    the recording) or, when a customer key is asked for (`customer_key`), with Google-managed keys (which bypass it)."""
    found: list[Finding] = []
    csek = restriction(encryption, "customerSupplied")
    if csek != RESTRICTED:
        found.append(Finding(ENCRYPTION_KEY.id, f"accepts uploads encrypted with a key the writer brings (customer-supplied, "
                                                f"CSEK; its enforcement is {csek or 'not set'}): only that key's holder "
                                                "could read such a recording", csek_fix or CSEK_FIX))
    gmek = restriction(encryption, "googleManaged")
    if customer_key and gmek != RESTRICTED:
        found.append(Finding(ENCRYPTION_KEY.id, f"accepts uploads encrypted with Google-managed keys (their enforcement is "
                                                f"{gmek or 'not set'}): a writer can leave recordings outside the customer "
                                                "key", gmek_fix or GMEK_FIX))
    return found


def kms_key_name(crypto_key_id: str, project: Optional[str] = None) -> str:
    """A Cloud KMS key's full name from pulumi-gcp's `cryptoKeyId`, which may also be `{project}/{location}/{ring}/{key}`
    or, in the provider's project (`project`, when known), `{location}/{ring}/{key}` (pulumi-gcp kms
    CryptoKeyIAMMember, crypto_key_id). Anything else is returned as it is."""
    parts = crypto_key_id.split("/")
    if crypto_key_id.startswith("projects/") or "" in parts:
        return crypto_key_id
    if len(parts) == 3 and project:
        parts = [project, *parts]
    if len(parts) == 4:
        return "projects/{}/locations/{}/keyRings/{}/cryptoKeys/{}".format(*parts)
    return crypto_key_id


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

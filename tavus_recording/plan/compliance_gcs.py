"""The plan's word on WORM retention and the audit log for one cloud (gcs): what the stack sets, in one line each."""

from __future__ import annotations

from typing import Any, Optional

from tavus_recording.mock_engine import ProgramRun, Registration
from tavus_recording.plan.replacement import get

BUCKET = "gcp:storage/bucket:Bucket"
AUDIT_CONFIG = "gcp:projects/iAMAuditConfig:IAMAuditConfig"
AUDIT_SERVICE = "storage.googleapis.com"
# Cloud Logging: ingestion into log storage is $0.50/GiB after 50 GiB free per project per month, and includes 30 days
# of storage (https://cloud.google.com/stackdriver/pricing, as transcribed by api-evangelist/google-cloud-logging
# plans/google-cloud-logging-plans-pricing.yml, read 2026-09-12); Data Access logs land in the _Default bucket
# (https://cloud.google.com/logging/docs/audit/configure-data-access), kept 30 days.
AUDIT_COST = ("Cloud Logging charges $0.50 per GiB ingested beyond the first 50 GiB per project per month, 30 days of "
              "storage included (https://cloud.google.com/stackdriver/pricing); every object read and write is one log entry")


def _seconds(value: Any) -> Optional[int]:
    """A retention period as the engine carries it (a string of seconds in pulumi-gcp v10), or None."""
    try:
        return int(str(value))
    except ValueError:
        return None


def worm(run: ProgramRun) -> tuple[Optional[dict[str, Any]], Optional[str]]:
    """WORM retention as facts and one line; (None, None) when off."""
    bucket = next(iter(run.find(BUCKET)), None)
    policy = bucket.inputs.get("retentionPolicy") if bucket else None
    if bucket is None or not isinstance(policy, dict):
        return None, None
    seconds = _seconds(policy.get("retentionPeriod"))
    if seconds is None:
        return None, None
    days = seconds // 86400
    locked = get(policy, "isLocked") is True
    versioned = get(bucket.inputs, "versioning.enabled") is True
    facts = {"kind": "bucket retention policy", "days": days, "seconds": seconds, "locked": locked,
             "mode": "compliance" if locked else "governance", "versioning": versioned}
    if locked:
        who = ("LOCKED (compliance): nobody, not even a project owner, can shorten or remove it; locking cannot be undone: "
               f"the period can only grow, and the bucket cannot be deleted until every object is older than {days} days")
    else:
        who = ("not locked (governance): anyone with storage.buckets.update on the bucket (e.g. Storage Admin) can still "
               "shorten or remove it, and then delete recordings")
    line = (f"WORM: a bucket retention policy of {days} days ({seconds} s), {who}. While it stands, no recording can be deleted "
            f"or replaced until it is {days} days old, by anyone, and an upload to the name of a younger one fails.")
    if not versioned:
        line += (" Object Versioning is off: Cloud Storage refuses it beside a retention policy, and nothing younger than "
                 "the period can be replaced or deleted anyway; noncurrent versions left from before are deleted by the "
                 "lifecycle rule.")
    return facts, line


def audit(run: ProgramRun, grants: list[Registration]) -> tuple[Optional[dict[str, Any]], Optional[str]]:
    """The audit log as facts and one line; (None, None) when off. It grants nobody anything (`grants` unchanged)."""
    config = next((c for c in run.find(AUDIT_CONFIG) if c.inputs.get("service") == AUDIT_SERVICE), None)
    if config is None:
        return None, None
    project = config.inputs.get("project")
    configs = [c for c in config.inputs.get("auditLogConfigs") or [] if isinstance(c, dict)]
    log_types = [str(c.get("logType")) for c in configs]
    exempted = {str(c.get("logType")): list(c.get("exemptedMembers") or []) for c in configs if c.get("exemptedMembers")}
    facts = {"kind": "Data Access audit logs", "service": AUDIT_SERVICE, "project": project, "log_types": log_types,
             "exempted_members": exempted, "scope": "project", "merged": True,
             "kept_on_destroy": config.retain_on_delete, "cost": AUDIT_COST}
    line = (f"Audit: Data Access audit logs ({', '.join(log_types)}) for Cloud Storage ({AUDIT_SERVICE}) in project {project}: "
            "project-wide, so every object read and write in every bucket of the project is logged, not only this one's, into "
            "Cloud Logging's _Default bucket. Google keeps one audit config per service and this one replaces it, so the kit "
            "merges: the log types and exemptions the project already has for Cloud Storage are read at `pulumi up` and kept, "
            f"not replaced{'; the config stays on `pulumi destroy` (others may rely on it)' if config.retain_on_delete else ''}. "
            f"Cost: {AUDIT_COST}.")
    if exempted:
        line += (" Exempted, so NOT logged: "
                 + "; ".join(f"{log_type}: {', '.join(members)}" for log_type, members in sorted(exempted.items()))
                 + " (kept as the project had them; remove them in the project's audit config to log these too).")
    return facts, line

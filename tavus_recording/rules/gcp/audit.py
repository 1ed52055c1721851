"""That every read and write of the recordings is logged (`auditLogs`): the project's Data Access audit
logs for Cloud Storage.

An IAM policy's `auditConfigs` (the API's JSON, which is also how pulumi-gcp's IAMAuditConfig and the
policy data of an IAMPolicy read) enable log types per service; a config for `allServices` is unioned
with the service's own (pulumi-gcp projects/iam_audit_config.py: "allServices ... will be unioned").
A member in a log type's `exemptedMembers` is not logged for it.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Optional

from components.gcp_policy import ALL_SERVICES, AUDIT_LOG_TYPES, AUDIT_SERVICE
from tavus_recording.rules.findings import Finding
from tavus_recording.rules.gcp.catalog import DATA_ACCESS_LOGS
from tavus_recording.rules.iam import as_list

# What each log type records of Cloud Storage (cloud.google.com/storage/docs/audit-logging).
_WHAT = {"DATA_READ": "reads", "DATA_WRITE": "writes"}


def audit_log_fix(project: Optional[str] = None) -> str:
    where = f" of project {project}" if project else ""
    return (f"enable DATA_READ and DATA_WRITE audit logs for {AUDIT_SERVICE}{where} (auditLogs: true in the stack, or "
            "IAM & Admin > Audit Logs > Cloud Storage), with no exempted principals")


def _covering(audit_configs: Iterable[Any]) -> list[Mapping[str, Any]]:
    """The audit configs that apply to Cloud Storage: its own and allServices (service names spelled exactly)."""
    return [c for c in audit_configs if isinstance(c, Mapping) and c.get("service") in (AUDIT_SERVICE, ALL_SERVICES)]


def _log_configs(config: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    listed = config.get("auditLogConfigs")
    return [c for c in as_list(listed) if isinstance(c, Mapping)]


def logged_types(audit_configs: Iterable[Any]) -> set[str]:
    """The log types enabled for Cloud Storage. A log type is an enum the API spells in capitals: another spelling
    ("data_read") enables nothing the guardrails can vouch for."""
    return {t for config in _covering(audit_configs) for c in _log_configs(config)
            if isinstance(t := c.get("logType"), str) and t in AUDIT_LOG_TYPES}


def audit_gap_findings(audit_configs: Iterable[Any], fix: Optional[str] = None) -> list[Finding]:
    """Cloud Storage's DATA_READ or DATA_WRITE not enabled by any of `audit_configs` (a project's, or the stack's)."""
    configs = list(audit_configs)
    missing = [t for t in AUDIT_LOG_TYPES if t not in logged_types(configs)]
    if not missing:
        return []
    what = " or ".join(_WHAT[t] for t in missing)
    return [Finding(DATA_ACCESS_LOGS.id, f"does not log {' and '.join(missing)} for {AUDIT_SERVICE} (nor for allServices): "
                                         f"{what} of recordings leave no trace of who made them", fix or audit_log_fix())]


def audit_exemption_findings(audit_configs: Iterable[Any], fix: Optional[str] = None) -> list[Finding]:
    """Members exempted from Cloud Storage's DATA_READ or DATA_WRITE: what they do is never logged."""
    found: list[Finding] = []
    for config in _covering(audit_configs):
        for log_config in _log_configs(config):
            log_type = log_config.get("logType")
            if not (isinstance(log_type, str) and log_type.upper() in AUDIT_LOG_TYPES):
                continue
            members = [m for m in as_list(log_config.get("exemptedMembers")) if m not in (None, "")]
            if not members:
                continue
            shown = ", ".join(str(m) for m in members)
            found.append(Finding(DATA_ACCESS_LOGS.id, f"exempts {shown} from {log_type.upper()} audit logs of {config.get('service')}: "
                                                      f"their {_WHAT[log_type.upper()]} of recordings are never logged",
                                 fix or f"remove {shown} from exemptedMembers of {log_type.upper()} for {config.get('service')}"))
    return found


def audit_log_findings(audit_configs: Iterable[Any], fix: Optional[str] = None, exemption_fix: Optional[str] = None) -> list[Finding]:
    """Every reason reads and writes of recordings may go unlogged under `audit_configs`."""
    configs = list(audit_configs)
    return audit_gap_findings(configs, fix) + audit_exemption_findings(configs, exemption_fix)

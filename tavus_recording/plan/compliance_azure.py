"""The plan's word on WORM retention and the audit log for one cloud (azure): what the stack sets, in one line each."""

from __future__ import annotations

from typing import Any, Optional

from tavus_recording.mock_engine import ProgramRun, Registration

POLICY = "azure-native:storage:BlobContainerImmutabilityPolicy"
DIAGNOSTIC_SETTING = "azure-native:monitor:DiagnosticSetting"
STORAGE_ACCOUNT = "azure-native:storage:StorageAccount"
COMPONENT = "tavus-recording:index:AzureBlobRecordingStorage"

# What a container-level time-based retention policy does (azure-docs immutable-storage-overview.md, "Time-based
# retention policies" and "Retention interval"; immutable-container-level-worm-policies.md, "Scenarios").
# A refused write or delete answers 409 BlobImmutableDueToPolicy (Blob service error codes).
PROTECTS = ("no blob in it can be overwritten, ever, and none can be deleted until it is {days} days old (blobs already "
            "there are covered too, counted from their creation); a write to a new blob name still succeeds, a rewrite of "
            "a name fails with 409 BlobImmutableDueToPolicy (whether Tavus's writer ever rewrites a name is not "
            "documented: check the first recordings after turning this on)")
GOVERNANCE = ("Governance: the policy is left unlocked, so anyone who may manage the account (Owner, Contributor, Storage "
              "Account Contributor) can shorten or delete it and then delete recordings, or delete the whole account with "
              "them (an unlocked policy does not stop that: immutable-container-level-worm-policies.md); Microsoft treats "
              "an unlocked policy as a testing state (immutable-storage-overview.md: lock it, typically within 24 hours, "
              "for SEC 17a-4(f)): set immutableMode: compliance for that")
# The lock is a POST with the policy's etag; azure-native exposes only the PUT (pulumi-azure-native#2840).
COMPLIANCE = ("Compliance needs one irreversible step outside Pulumi, which azure-native cannot do: after `pulumi up`, "
              "run `{commands}`. Once locked, nobody can delete the policy or shorten it; its period can be lengthened at "
              "most {extensions} times (`az storage container immutability-policy extend`, then set immutableDays to "
              "match), and the container and the account cannot be deleted while they hold blobs. `tavus-recording "
              "verify` fails this stack until the policy's state is Locked")
LIFECYCLE = ("Lifecycle: the expiry rule deletes a recording only once its WORM days are over (retentionDays is at least "
             "immutableDays), moving to Cool is allowed under WORM, and the account's versioning stays on beside it")
# Resource logs of Microsoft.Storage/storageAccounts/blobServices are "Costs To Export: Yes" (azure-docs
# azure-monitor/essentials/resource-logs-categories.md), billed under Platform Logs on the Azure Monitor pricing page;
# the Hot LRS list price is the one benchmarks/storage_cost.py uses (azure.microsoft.com/pricing/details/storage/blobs).
AUDIT_PRICE = ("Azure Monitor's per-GB Platform Logs fee for exporting these categories (azure.microsoft.com/pricing/"
               "details/monitor, Platform Logs), plus Blob storage of the logs (Hot LRS list price about $0.018 per "
               "GB-month) and their write transactions")


def _component_outputs(run: ProgramRun) -> dict[str, Any]:
    component = next(iter(run.find(COMPONENT)), None)
    return component.outputs if component else {}


def _known(value: Any) -> Optional[str]:
    """A name as the deploy will have it, or None while the plan shows a placeholder (`<random>`, `<hash ...>`)."""
    return value if isinstance(value, str) and value and "<" not in value else None


def _days(value: Any) -> Any:
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else value


def worm(run: ProgramRun) -> tuple[Optional[dict[str, Any]], Optional[str]]:
    """WORM retention as facts and one line; (None, None) when off."""
    from components.compliance import DEFAULT_WORM_MODE as GOVERNANCE_MODE, WORM_MODES
    from components.azure_policy import LOCKED_EXTENSIONS, lock_commands

    policy = next(iter(run.find(POLICY)), None)
    if policy is None:
        return None, None
    days = _days(policy.inputs.get("immutabilityPeriodSinceCreationInDays"))
    mode = _component_outputs(run).get("immutableMode") or run.outputs.get("immutable_mode") or GOVERNANCE_MODE
    group, account, container = (policy.inputs.get(k) for k in ("resourceGroupName", "accountName", "containerName"))
    compliance = mode == "compliance"
    commands = lock_commands(*(_known(v) for v in (group, account, container))) if compliance else []
    how = COMPLIANCE.format(commands="; ".join(commands), extensions=LOCKED_EXTENSIONS) if compliance else GOVERNANCE
    line = (f"WORM: container {container} has a time-based retention policy of {days} days ({mode}): "
            f"{PROTECTS.format(days=days)}. {how}. {LIFECYCLE}.")
    facts = {
        "kind": "Azure container immutability policy",
        "account": account,
        "container": container,
        "policy": policy.inputs.get("immutabilityPolicyName"),
        "mode": mode if mode in WORM_MODES else str(mode),
        "days": days,
        # What `pulumi up` leaves: created unlocked, whatever the mode; compliance needs the lock commands.
        "state_after_up": "Unlocked",
        "lock_commands": commands,
        "irreversible": (["the lock: the policy can never be deleted or shortened",
                          f"the period can be lengthened at most {LOCKED_EXTENSIONS} times"] if compliance else []),
    }
    return facts, line


def audit(run: ProgramRun, grants: list[Registration]) -> tuple[Optional[dict[str, Any]], Optional[str]]:
    """The audit log as facts and one line; (None, None) when off. Azure Monitor writes the logs as a platform
    service, with no role assignment, so it adds nothing to `grants`."""
    from components.azure_policy import AUDIT_LOG_CATEGORIES

    setting = next(iter(run.find(DIAGNOSTIC_SETTING)), None)
    if setting is None:
        return None, None
    target = str(setting.inputs.get("resourceUri") or "")
    account = target.removesuffix("/blobServices/default").rsplit("/", 1)[-1]
    destination = setting.inputs.get("storageAccountId")
    log_account = next((a for a in run.find(STORAGE_ACCOUNT) if a.id == destination), None)
    log_name = (log_account.outputs.get("name") if log_account else None) or str(destination or "").rsplit("/", 1)[-1]
    categories = [str(entry.get("category")) for entry in setting.inputs.get("logs") or []
                  if isinstance(entry, dict) and entry.get("enabled") is True]
    kept = bool(log_account and log_account.retain_on_delete)
    line = (f"Audit log: every blob read, write and delete in storage account {account} ({', '.join(categories)}: who, from "
            f"which address, which blob, when, and the result) is written by Azure Monitor diagnostic setting "
            f"{setting.inputs.get('name')} to storage account {log_name}, made for the logs in the same region"
            + (" and kept on `pulumi destroy`" if kept else "")
            + "; the logs land in containers insights-logs-storageread, -storagewrite and -storagedelete within minutes, "
            f"and nothing expires them. Cost: {AUDIT_PRICE}.")
    facts = {
        "kind": "Azure Monitor diagnostic setting",
        "name": setting.inputs.get("name"),
        "account": account,
        "categories": categories,
        "complete": sorted(categories) == sorted(AUDIT_LOG_CATEGORIES),
        "destination": {"kind": "storage account", "name": log_name, "kept_on_destroy": kept},
        "expiry": None,
    }
    return facts, line

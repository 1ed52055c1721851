"""The pack's Azure WORM and audit-log policies (issue 19), called as the engine calls them: the kit's shape
passes, each weakening is reported by exactly its policy, and values not known yet wait."""

import copy
from typing import Any, Optional

import pytest

import test_pack_azure as tz  # module objects only: its tests are not collected here
from pack_harness import UNKNOWN, Resource, analyze_stack, urn

IMMUTABILITY = "azure.container.immutability"
DIAGNOSTIC = "azure.account.diagnostic_logs"
POLICY_TYPE = "azure-native:storage:BlobContainerImmutabilityPolicy"
SETTING_TYPE = "azure-native:monitor:DiagnosticSetting"
BLOB_SERVICE = f"{tz.ACCOUNT_ID}/blobServices/default"
LOG_ACCOUNT = f"{tz.RG}/providers/Microsoft.Storage/storageAccounts/acmeaudit"
KIT_LOGS = [{"category": c, "enabled": True} for c in ("StorageRead", "StorageWrite", "StorageDelete")]


def policy(days: Any = 30, **props: Any) -> Resource:
    """The kit's immutability policy (design: name `<name>-immutability`, policy name default, no appends)."""
    return Resource(POLICY_TYPE, "tavus-recordings-immutability", {
        "accountName": "acmerecordings", "containerName": "recordings", "resourceGroupName": "media", "immutabilityPolicyName": "default",
        "immutabilityPeriodSinceCreationInDays": days, "allowProtectedAppendWrites": False, "state": "Unlocked", **props},
        deps={"containerName": ["container"], "accountName": ["acct"]})


def setting(logs: Any = None, type_: str = SETTING_TYPE, name: str = "tavus-recordings-audit", **props: Any) -> Resource:
    values = {"resourceUri": BLOB_SERVICE, "logs": KIT_LOGS if logs is None else logs, "storageAccountId": LOG_ACCOUNT, **props}
    return Resource(type_, name, {k: v for k, v in values.items() if v is not None}, deps={"resourceUri": ["acct"]})


def log_account(name: Any = "acmeaudit") -> Resource:
    """The kit's audit log account (auditLogs): a storage account of the stack with no recordings container."""
    return Resource(tz.ACCOUNT, "audit", {"name": name, "resourceGroupName": "media", "allowBlobPublicAccess": False,
                                          "allowSharedKeyAccess": False, "enableHttpsTrafficOnly": True, "minimumTlsVersion": "TLS1_2"})


def stack(*extra: Resource, days: Any = None, mode: Any = None, audit: Any = None, log: Any = "acmeaudit") -> list[Resource]:
    resources = tz.kit() + ([log_account(log)] if log else []) + list(extra)
    for resource in resources:
        if resource.type == tz.COMPONENT:
            resource.props.update(immutableDays=days, immutableMode=mode, auditLogs=audit)
    return resources


def found(resources: list[Resource], policy_name: str, config: Optional[dict] = None) -> list[Any]:
    return [d for d in analyze_stack(resources, config) if d.policy == policy_name]


# --- azure.container.immutability


def test_the_kits_policy_passes_and_a_stack_without_immutable_days_asks_for_none():
    assert found(stack(policy(30), days=30, mode="governance"), IMMUTABILITY) == []
    assert found(stack(policy(30), days=30, mode="compliance"), IMMUTABILITY) == []  # the lock is verify's to see
    assert found(stack(), IMMUTABILITY) == []
    # A longer period passes: a locked policy's period can only grow.
    assert found(stack(policy(400), days=30), IMMUTABILITY) == []


@pytest.mark.parametrize("resources, words", [
    (stack(days=30), "has no immutability policy"),
    (stack(policy(7), days=30), "fewer than the 30"),
    (stack(policy("30"), days=30), "period cannot be read"),
    (stack(policy(30, allowProtectedAppendWrites=True), days=30), "allowProtectedAppendWrites"),
    (stack(policy(30, allowProtectedAppendWritesAll=True), days=30), "allowProtectedAppendWritesAll"),
    # A policy on another container of the account is not the recordings'.
    (stack(Resource(POLICY_TYPE, "other", {"accountName": "acmerecordings", "containerName": "invoices",
                                           "immutabilityPeriodSinceCreationInDays": 30}), days=30), "has no immutability policy"),
    # Nor one on a container of the same name in another account.
    (stack(Resource(POLICY_TYPE, "elsewhere", {"accountName": "otheraccount", "containerName": "recordings",
                                               "immutabilityPeriodSinceCreationInDays": 30}), days=30), "has no immutability policy"),
], ids=["none", "shorter", "not a number", "appends", "appends to every blob", "another container", "another account"])
def test_a_missing_shorter_or_appendable_policy_is_reported_mandatory(resources, words):
    diagnostics = found(resources, IMMUTABILITY)
    assert len(diagnostics) == 1 and diagnostics[0].level == "mandatory" and words in diagnostics[0].message, diagnostics


def test_the_finding_is_on_the_policy_or_the_container_it_is_missing_from():
    (missing,) = found(stack(days=30), IMMUTABILITY)
    assert missing.urn == urn(tz.CONTAINER_TYPE, "container")
    (short,) = found(stack(policy(7), days=30), IMMUTABILITY)
    assert short.urn == urn(POLICY_TYPE, "tavus-recordings-immutability")


def test_a_policy_named_by_value_counts_like_one_named_by_reference():
    by_value = Resource(POLICY_TYPE, "by-value", {"accountName": "AcmeRecordings", "containerName": "recordings",
                                                  "immutabilityPeriodSinceCreationInDays": 30})
    assert found(stack(by_value, days=30), IMMUTABILITY) == []


DECOYS = {
    "another container of the account": {"containerName": "decoy"},
    "the container's name in another account": {"accountName": "otheracct"},
    "both elsewhere": {"containerName": "decoy", "accountName": "otheracct"},
    "an empty container name": {"containerName": ""},
}


@pytest.mark.parametrize("names", DECOYS.values(), ids=DECOYS.keys())
def test_a_policy_bound_by_dependency_but_named_for_another_container_does_not_count(names):
    # container_name=container.name.apply(lambda _: "decoy"): the dependency stays, the policy lands elsewhere.
    (diagnostic,) = found(stack(policy(30, **names), days=30), IMMUTABILITY)
    assert "has no immutability policy" in diagnostic.message and diagnostic.urn == urn(tz.CONTAINER_TYPE, "container")


def test_known_names_in_other_casing_or_unknown_names_bound_by_dependency_count():
    assert found(stack(policy(30, containerName="RECORDINGS", accountName="AcmeRecordings"), days=30), IMMUTABILITY) == []
    assert found(stack(policy(30, containerName=UNKNOWN), days=30), IMMUTABILITY) == []
    assert found(stack(policy(7, containerName=UNKNOWN), days=30), IMMUTABILITY)  # bound by dependency: judged
    # An unknown account bound to no account of the container: waits.
    unbound = policy(7, accountName=UNKNOWN)
    unbound.deps["accountName"] = []
    assert found(stack(unbound, days=30), IMMUTABILITY) == []


def test_values_not_known_yet_wait():
    assert found(stack(policy(UNKNOWN), days=30), IMMUTABILITY) == []
    assert found(stack(policy(30, containerName=UNKNOWN, accountName=UNKNOWN), days=30), IMMUTABILITY) == []
    assert found(stack(policy(7), days=UNKNOWN), IMMUTABILITY) == []


def test_the_pack_config_sets_a_minimum_where_the_stack_declares_none_and_can_require_compliance():
    config = {IMMUTABILITY: {"immutableDays": 60}}
    component = [r for r in stack() if r.type == tz.COMPONENT][0]
    without = [r for r in tz.kit(component=False)]
    assert "has no immutability policy" in found(without, IMMUTABILITY, config)[0].message
    assert found(without + [policy(60)], IMMUTABILITY, config) == []
    # The stack's own immutableDays wins over the config's; a component that declares none gets the config's.
    assert found(stack(policy(30), days=30), IMMUTABILITY, config) == []
    assert component.props["immutableDays"] is None
    assert "fewer than the 60" in found(stack(policy(30)), IMMUTABILITY, config)[0].message
    compliance = {IMMUTABILITY: {"immutableMode": "compliance"}}
    (weak,) = found(stack(policy(30), days=30, mode="governance"), IMMUTABILITY, compliance)
    assert "compliance mode is required" in weak.message and weak.urn == urn(tz.COMPONENT, "tavus-recordings")
    assert found(stack(policy(30), days=30, mode="compliance"), IMMUTABILITY, compliance) == []


# --- azure.account.diagnostic_logs


def test_the_kits_setting_passes_and_a_stack_without_audit_logs_asks_for_none():
    assert found(stack(setting(), audit=True), DIAGNOSTIC) == []
    assert found(stack(audit=False), DIAGNOSTIC) == []
    assert found(stack(setting(logs=[{"categoryGroup": "allLogs", "enabled": True}]), audit=True), DIAGNOSTIC) == []
    # Two settings that together log all three, each to the log account.
    split = [setting(logs=KIT_LOGS[:1], name="reads"), setting(logs=KIT_LOGS[1:], name="writes")]
    assert found(stack(*split, audit=True), DIAGNOSTIC) == []


ELSEWHERE = {
    "an account in another subscription": f"/subscriptions/{'9' * 8}-0000-4000-8000-{'0' * 12}/resourceGroups/x/providers/"
                                          "Microsoft.Storage/storageAccounts/evil",
    "the recordings account itself": tz.ACCOUNT_ID,
    "an account not in the stack, named by name": "evil",
}


@pytest.mark.parametrize("where", ELSEWHERE.values(), ids=ELSEWHERE.keys())
def test_a_setting_sending_anywhere_but_a_log_account_of_the_stack_is_reported(where):
    (diagnostic,) = found(stack(setting(storageAccountId=where), audit=True), DIAGNOSTIC)
    assert "not a log account of this stack" in diagnostic.message and diagnostic.urn == urn(tz.ACCOUNT, "acct")


OTHER_DESTINATIONS = {
    "a marketplace partner alone": {"storageAccountId": None, "marketplacePartnerId": "x"},
    "a workspace alone": {"storageAccountId": None, "workspaceId": f"{tz.RG}/providers/Microsoft.OperationalInsights/workspaces/w"},
    "an event hub alone": {"storageAccountId": None, "eventHubAuthorizationRuleId": f"{tz.RG}/providers/Microsoft.EventHub/namespaces/n/"
                                                                                   "authorizationRules/r"},
}


@pytest.mark.parametrize("props", OTHER_DESTINATIONS.values(), ids=OTHER_DESTINATIONS.keys())
def test_a_destination_that_is_no_storage_account_of_the_stack_is_reported(props):
    (diagnostic,) = found(stack(setting(**props), audit=True), DIAGNOSTIC)
    assert "not a log account of this stack" in diagnostic.message
    # Beside a setting to the log account, it adds nothing and takes nothing away.
    assert found(stack(setting(), setting(name="copy", **props), audit=True), DIAGNOSTIC) == []


def test_the_log_account_by_dependency_waits_only_while_its_id_is_unknown():
    bound = setting(storageAccountId=UNKNOWN)
    bound.deps["storageAccountId"] = ["audit"]
    assert found(stack(bound, audit=True, log=UNKNOWN), DIAGNOSTIC) == []
    assert found(stack(setting(storageAccountId=LOG_ACCOUNT.upper()), audit=True), DIAGNOSTIC) == []
    # Unknown and bound to nothing of the stack: waits; a name no account of the stack has, with a name unknown: waits.
    assert found(stack(setting(storageAccountId=UNKNOWN), audit=True), DIAGNOSTIC) == []
    assert found(stack(setting(storageAccountId="evil"), audit=True, log=UNKNOWN), DIAGNOSTIC) == []
    # Unknown and bound only to the recordings account: waits too (only a log account's dependency binds).
    to_recordings = setting(storageAccountId=UNKNOWN)
    to_recordings.deps["storageAccountId"] = ["acct"]
    assert found(stack(to_recordings, audit=True), DIAGNOSTIC) == []


ATTACKS = {
    "no setting": ([], "has no diagnostic setting"),
    "reads off": ([setting(logs=[{**KIT_LOGS[0], "enabled": False}, *KIT_LOGS[1:]])], "StorageRead (reads)"),
    "reads left out": ([setting(logs=KIT_LOGS[1:])], "StorageRead (reads)"),
    "the audit group instead": ([setting(logs=[{"categoryGroup": "audit", "enabled": True}])], "category group audit"),
    "allLogs disabled": ([setting(logs=[{"categoryGroup": "allLogs", "enabled": False}])], "StorageWrite (writes)"),
    "no destination": ([setting(storageAccountId=None)], "names no destination"),
    "an empty workspace id": ([setting(storageAccountId=None, workspaceId="")], "names no destination"),
    "on the account, not its blob service": ([setting(resourceUri=tz.ACCOUNT_ID)], "has no diagnostic setting"),
    "on another account's blob service": ([setting(resourceUri=BLOB_SERVICE.replace("acmerecordings", "other"))], "has no diagnostic"),
}


@pytest.mark.parametrize("extra, words", ATTACKS.values(), ids=ATTACKS.keys())
def test_a_missing_or_partial_setting_is_reported_on_the_account(extra, words):
    diagnostics = found(stack(*extra, audit=True), DIAGNOSTIC)
    assert len(diagnostics) == 1 and words in diagnostics[0].message, diagnostics
    assert diagnostics[0].level == "mandatory" and diagnostics[0].urn == urn(tz.ACCOUNT, "acct")


def test_the_classic_providers_setting_is_read_too():
    classic = Resource("azure:monitoring/diagnosticSetting:DiagnosticSetting", "classic", {
        "targetResourceId": BLOB_SERVICE, "storageAccountId": LOG_ACCOUNT,
        "enabledLogs": [{"category": "StorageRead"}, {"category": "StorageWrite"}, {"category": "StorageDelete"}]})
    assert found(stack(classic, audit=True), DIAGNOSTIC) == []
    classic.props["enabledLogs"] = [{"category": "StorageWrite"}]
    assert "StorageRead" in found(stack(classic, audit=True), DIAGNOSTIC)[0].message


def test_require_audit_logs_applies_where_the_stack_sets_none_and_unknowns_wait():
    config = {DIAGNOSTIC: {"requireAuditLogs": True}}
    assert found(stack(audit=False), DIAGNOSTIC, config)
    assert found(stack(setting(), audit=False), DIAGNOSTIC, config) == []
    assert found(stack(setting(resourceUri=UNKNOWN), audit=True), DIAGNOSTIC) == []  # by dependency on the account
    assert found(stack(setting(logs=UNKNOWN), audit=True), DIAGNOSTIC) == []
    assert found(stack(audit=UNKNOWN), DIAGNOSTIC) == []


# --- what the kit itself builds (the mock engine's registrations, as test_policy_kit analyzes them)


@pytest.mark.parametrize("settings_", [{"immutableDays": "30", "auditLogs": "true"},
                                       {"immutableDays": "30", "immutableMode": "compliance", "auditLogs": "true"}],
                         ids=["governance", "compliance"])
def test_the_kits_worm_and_audit_stack_passes_and_dropping_either_resource_is_reported(settings_):
    from stack_configs import azure_config
    from tavus_recording.mock_engine import run_program
    from test_policy_kit import analyze_run

    run = run_program(azure_config(**settings_), stack="azure")
    assert analyze_run("azure", run) == []
    for dropped, policy_name in ((POLICY_TYPE, IMMUTABILITY), (SETTING_TYPE, DIAGNOSTIC)):
        assert any(r.type == dropped for r in run.registrations)
        without = copy.copy(run)
        without.registrations = [r for r in run.registrations if r.type != dropped]
        assert {d.policy for d in analyze_run("azure", without)} == {policy_name}


# --- azure.account.encryption_key: the account reaches its key as the component's own encryption identity


def test_the_pack_holds_the_accounts_encryption_identity_to_the_components_own():
    import test_pack_cold_keys as tk

    def keyed(identity: str, own: Any) -> list[Resource]:
        resources = tk.azure_stack([], encryption=tk.encryption(identity), key_uri=tk.KEY_URI)
        for resource in resources:
            if resource.type == tz.COMPONENT:
                resource.props["encryption_identity_id"] = own
        return resources

    assert found(keyed(tk.ENCRYPTION_ID, tk.ENCRYPTION_ID), "azure.account.encryption_key") == []
    assert found(keyed(tk.ENCRYPTION_ID.upper().replace("/SUBSCRIPTIONS/", "/subscriptions/"), tk.ENCRYPTION_ID), "azure.account.encryption_key") == []
    other = tk.ENCRYPTION_ID.replace("/enc", "/someone-elses")
    (diagnostic,) = found(keyed(other, tk.ENCRYPTION_ID), "azure.account.encryption_key")
    assert f"not the stack's own encryption identity {tk.ENCRYPTION_ID}" in diagnostic.message
    # Not known yet (a first preview): judged once it is.
    assert found(keyed(other, UNKNOWN), "azure.account.encryption_key") == []

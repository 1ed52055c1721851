"""`verify` for an Azure Blob destination: will Tavus be able to write to the container, right now, and
can only Tavus?

Reads the managed identity, its federated credentials, the resources it is attached to, every role
assignment of the identity (its groups' included) and every one over the identity and over the container
(with the definitions of the custom roles among them), the storage account, its blob service, lifecycle
and object replication policies, and the container, through Azure Resource Manager, with the caller's own
credentials (`DefaultAzureCredential`), and judges them with the shared rules the policy pack also uses
(`tavus_recording.rules.azure`): a finding reads the same before a deploy and after it. Reads only: it
never writes (its one POST is ARM's listAssociatedResources action, a read), and never searches the
subscription (the stack's outputs name every resource).

A read the caller may not make (HTTP 403) makes only the checks that depend on it unknown, never
passing; a resource that is missing fails its own check and skips those that need it. No credential
at all, or no Resource Manager to reach, is `CannotVerify`.

The reads go out together in dependency rounds (`_read_ahead`), through one client per service; the
checks then take each answer in their own order, so the report is exactly what reading one after another gives.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import partial
from typing import Any, Callable, Iterable, Mapping, Optional, Sequence, TypeVar

from azure.core.credentials import TokenCredential
from azure.identity import DefaultAzureCredential
from azure.mgmt.authorization import AuthorizationManagementClient
from azure.mgmt.msi import ManagedServiceIdentityClient
from azure.mgmt.storage import StorageManagementClient

from components import azure_policy, tavus
from tavus_recording.rules import azure as rules
from tavus_recording.rules.azure_rbac import BUILTIN_ROLES, ContainerRef, Role, account_subscription, account_name, container_of, role_guid
from tavus_recording.rules.findings import Finding
from tavus_recording.verify.azure_reads import (
    ASSOCIATED_RESOURCES_API_VERSION,
    ASSOCIATED_RESOURCES_LIST,
    LOGIN_FIX,
    ROLE_DEFINITIONS_READ,
    AccountSettings,
    Arm,
    ContainerFacts,
    ImmutabilityFacts,
    NotFound,
    Read,
    Reads,
    Unreadable,
    short,
)
from tavus_recording.verify.outputs import OutputsError
from tavus_recording.verify.report import CannotVerify, Check, failed, from_findings, passed, restore, skipped, storage_fix, storage_managed, unknown

ARM_ENDPOINT = "https://management.azure.com"

IDENTITY_EXISTS = "azure.identity.exists"
IDENTITY_IDS = "azure.identity.ids"
FEDERATION = rules.FEDERATION.id
OPERATORS = rules.OPERATORS.id
ROLE_ASSIGNMENTS = rules.ROLE_ASSIGNMENTS.id
LEAST_PRIVILEGE = rules.LEAST_PRIVILEGE.id
ACCOUNT_EXISTS = "azure.account.exists"
TLS = rules.TLS.id
HTTPS_ONLY = rules.HTTPS_ONLY.id
PUBLIC_ACCESS = rules.PUBLIC_ACCESS.id
SHARED_KEY = rules.SHARED_KEY.id
NETWORK = "azure.account.network"
VERSIONING = "azure.account.versioning"
LIFECYCLE = rules.LIFECYCLE.id
COLD_TIER = rules.COLD_TIER.id
ENCRYPTION_KEY = rules.ENCRYPTION_KEY.id
REPLICATION = rules.REPLICATION.id
CONTAINER_EXISTS = "azure.container.exists"
CONTAINER_PUBLIC = rules.CONTAINER_PUBLIC.id
CONTAINER_ACCESS = rules.CONTAINER_ACCESS.id
IMMUTABILITY = rules.IMMUTABILITY.id
DIAGNOSTIC_LOGS = rules.DIAGNOSTIC_LOGS.id
# Every run reports exactly these, in this order.
CHECK_IDS: tuple[str, ...] = (
    IDENTITY_EXISTS,
    IDENTITY_IDS,
    FEDERATION,
    OPERATORS,
    ROLE_ASSIGNMENTS,
    LEAST_PRIVILEGE,
    ACCOUNT_EXISTS,
    TLS,
    HTTPS_ONLY,
    PUBLIC_ACCESS,
    SHARED_KEY,
    NETWORK,
    ENCRYPTION_KEY,
    VERSIONING,
    LIFECYCLE,
    COLD_TIER,
    REPLICATION,
    DIAGNOSTIC_LOGS,
    CONTAINER_EXISTS,
    CONTAINER_PUBLIC,
    IMMUTABILITY,
    CONTAINER_ACCESS,
)
IDENTITY_GRANT_IDS = (ROLE_ASSIGNMENTS, LEAST_PRIVILEGE)
ACCOUNT_SETTING_IDS = (TLS, HTTPS_ONLY, PUBLIC_ACCESS, SHARED_KEY, NETWORK, ENCRYPTION_KEY)
UNDER_ACCOUNT_IDS = (VERSIONING, LIFECYCLE, COLD_TIER, REPLICATION, DIAGNOSTIC_LOGS, CONTAINER_EXISTS, CONTAINER_PUBLIC, IMMUTABILITY,
                     CONTAINER_ACCESS)

# Few retries and short timeouts: an unreachable endpoint should turn into "unknown" within seconds.
CLIENT_DEFAULTS: dict[str, Any] = {"retry_total": 1, "retry_backoff_factor": 0.3, "connection_timeout": 5, "read_timeout": 20}

_IDENTITY_ID = re.compile(
    r"/subscriptions/(?P<subscription>[^/]+)/resourceGroups/(?P<group>[^/]+)"
    r"/providers/Microsoft\.ManagedIdentity/userAssignedIdentities/(?P<name>[^/]+)",
    re.IGNORECASE,
)

T = TypeVar("T")


class MissingOutputs(OutputsError, ValueError):
    """The stack's outputs lack what verify needs to find the Azure resources without searching."""


# --- what the stack says was deployed


@dataclass(frozen=True)
class IdentityRef:
    id: str
    subscription_id: str
    resource_group: str
    name: str


@dataclass(frozen=True)
class Destination:
    """The deployed destination as the stack's outputs describe it."""

    subscription_id: str
    resource_group: str
    account: str
    container: str
    client_id: str
    tenant_id: str
    identity: IdentityRef
    issuer: Optional[str]
    subject: Optional[str]
    audience: str
    retention_days: Optional[int] = None
    retention_known: bool = True
    """False for a stack deployed before the `retention_days` output: lifecycle deletes are then unknown."""
    cold_after_days: Optional[int] = None
    key_vault_key_uri: Optional[str] = None
    encryption_identity_id: Optional[str] = None
    """The identity the account reaches its Key Vault key as (the kit's own, not the writer); None without a key."""
    encryption_identity_known: bool = True
    """False for a stack deployed before the `encryption_identity_id` output."""
    immutable_days: Optional[int] = None
    immutable_mode: Optional[str] = None
    """The WORM mode in force (governance or compliance), when immutable_days is set."""
    audit_logs: bool = False
    audit_log_account: Optional[str] = None
    """The stack's log account (its name, in the stack's resource group); None for a stack deployed before that output."""

    @property
    def subscription_scope(self) -> str:
        return f"/subscriptions/{self.subscription_id}"

    @property
    def group_scope(self) -> str:
        return f"{self.subscription_scope}/resourceGroups/{self.resource_group}"

    @property
    def account_id(self) -> str:
        # The kit creates the account in the stack's resource group.
        return f"{self.group_scope}/providers/Microsoft.Storage/storageAccounts/{self.account}"

    @property
    def container_scope(self) -> str:
        """The container Tavus writes to (recording_storage's), as an ARM scope."""
        return f"{self.account_id}/blobServices/default/containers/{self.container}"

    @property
    def container_ref(self) -> ContainerRef:
        ref = container_of(self.container_scope)
        assert ref is not None
        return ref

    @property
    def token(self) -> rules.Token:
        return rules.Token(self.issuer, self.subject, self.audience)


def _text_output(outputs: Mapping[str, Any], name: str) -> Optional[str]:
    value = outputs.get(name)
    return value.strip() if isinstance(value, str) and value.strip() else None


def parse_identity_id(value: str) -> Optional[IdentityRef]:
    match = _IDENTITY_ID.fullmatch(value.strip().rstrip("/"))
    if not match:
        return None
    return IdentityRef(match.group(0), match.group("subscription"), match.group("group"), match.group("name"))


def _retention(outputs: Mapping[str, Any]) -> tuple[Optional[int], bool]:
    if "retention_days" not in outputs:
        return None, False
    value = outputs["retention_days"]
    return (int(value), True) if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0 else (None, True)


def destination(storage: tavus.AzureBlobRecordingStorageConfig, outputs: Mapping[str, Any]) -> Destination:
    """What verify checks, from recording_storage and the stack's other outputs."""
    required = ("subscription_id", "resource_group_name", "identity_id")
    missing = [name for name in required if _text_output(outputs, name) is None]
    if missing:
        raise MissingOutputs(
            f"the stack's outputs lack {', '.join(missing)}, which verify needs to find the Azure resources: "
            "run `pulumi up` with this version of the kit, which exports them"
        )
    identity_id = _text_output(outputs, "identity_id") or ""
    identity = parse_identity_id(identity_id)
    if identity is None:
        raise MissingOutputs(
            f"identity_id {identity_id!r} is not a user-assigned identity's resource id "
            "(/subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.ManagedIdentity/userAssignedIdentities/<name>): "
            "run `pulumi up` with this version of the kit"
        )
    retention_days, retention_known = _retention(outputs)
    return Destination(
        subscription_id=_text_output(outputs, "subscription_id") or "",
        resource_group=_text_output(outputs, "resource_group_name") or "",
        account=storage.storage_account,
        container=storage.container,
        client_id=storage.client_id,
        tenant_id=storage.tenant_id,
        identity=identity,
        issuer=_text_output(outputs, "tavus_oidc_issuer"),
        subject=_text_output(outputs, "tavus_oidc_subject"),
        audience=_text_output(outputs, "tavus_oidc_audience") or azure_policy.DEFAULT_AUDIENCE,
        retention_days=retention_days,
        retention_known=retention_known,
        cold_after_days=_cold_after(outputs),
        key_vault_key_uri=_text_output(outputs, "key_vault_key_uri"),
        encryption_identity_id=_text_output(outputs, "encryption_identity_id"),
        encryption_identity_known="encryption_identity_id" in outputs,
        immutable_days=_positive(outputs, "immutable_days"),
        immutable_mode=_text_output(outputs, "immutable_mode"),
        audit_logs=outputs.get("audit_logs") is True,
        audit_log_account=_text_output(outputs, "audit_log_account"),
    )


def _cold_after(outputs: Mapping[str, Any]) -> Optional[int]:
    return _positive(outputs, "cold_after_days")


def _positive(outputs: Mapping[str, Any], name: str) -> Optional[int]:
    value = outputs.get(name)
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


# --- fixes: verify's own (the pack's say what to change in the program)

# An account named with existingStorageAccount, and its container named with existingContainer, are
# only looked up: `pulumi up` changes none of their settings.
UNMANAGED_ACCOUNT = "this stack does not manage the storage account: it was named with existingStorageAccount"
UNMANAGED_CONTAINER = "this stack does not manage the container: it was named with existingContainer"


def _restore_or(what: str, cli: str, managed: bool = True, unmanaged: str = UNMANAGED_ACCOUNT) -> str:
    """`pulumi up --refresh`, or the az line, for what the stack manages; only the az line otherwise."""
    return storage_fix(managed, f"{restore(what)}, or: {cli}", cli, unmanaged)


def _delete(assignment: rules.Assignment) -> str:
    return f"az role assignment delete --ids {assignment.ref}"


def _about(judged: Iterable[rules.Judged], name: Callable[[Any], str], fix: Callable[[Any, Finding], str]) -> list[Finding]:
    """The shared findings, each with its record named first and verify's own fix."""
    return [replace(finding, problem=f"{name(record)} {finding.problem}", fix=fix(record, finding)) for record, finding in judged]


# --- judges of verify's own checks (the rest are the shared rules')


def judge_identity_ids(client_id: Optional[str], tenant_id: Optional[str], dest: Destination) -> Check:
    wrong: list[str] = []
    if (client_id or "").lower() != dest.client_id.lower():
        wrong.append(f"client id {client_id} (recording_storage has {dest.client_id})")
    if (tenant_id or "").lower() != dest.tenant_id.lower():
        wrong.append(f"tenant id {tenant_id} (recording_storage has {dest.tenant_id})")
    if wrong:
        return failed(
            IDENTITY_IDS,
            f"identity {dest.identity.name} has {' and '.join(wrong)}: Tavus asks Entra for a token with "
            "recording_storage's ids, so it would get none for this identity.",
            "run `pulumi up` on this stack and give Tavus the recording_storage it outputs "
            "(the identity was probably re-created, which gives it a new client id)",
        )
    return passed(IDENTITY_IDS, f"identity {dest.identity.name} has client id {client_id} and tenant {tenant_id}, as in recording_storage.")


def judge_federation(credentials: Sequence[rules.Credential], dest: Destination) -> Check:
    """Exactly one federated credential, trusting exactly Tavus's issuer, subject and audience."""
    ref = dest.identity
    where = f"-g {ref.resource_group} --identity-name {ref.name}"
    wanted = f"issuer {dest.issuer}, subject {dest.subject}, audiences [{dest.audience}]"
    wanted_cli = f"--issuer {dest.issuer} --subject {dest.subject} --audiences {dest.audience}"
    extra = {c.name for c in rules.extra_credentials(credentials, dest.token)} if len(credentials) > 1 else set()

    def fix(credential: Optional[rules.Credential], finding: Finding) -> str:
        if credential is None and credentials:
            names = sorted(extra)
            return ("delete them: " + "; ".join(f"az identity federated-credential delete {where} --name {n} --yes" for n in names)
                    + " (keep the one `pulumi up` manages)")
        if credential is None:
            return _restore_or("federated credential", f"az identity federated-credential create {where} --name tavus {wanted_cli}")
        return _restore_or("federated credential", f"az identity federated-credential update {where} --name {credential.name} {wanted_cli}")

    # A credential beyond Tavus's is to be deleted, whatever else is wrong with it: the count says so once.
    judged = [(c, f) for c, f in rules.federation_findings(credentials, dest.token, require=True) if c is None or c.name not in extra]
    findings = _about(judged, lambda c: f"federated credential {c.name}" if c else f"identity {ref.name}", fix)
    if dest.issuer is None or dest.subject is None:
        findings.append(Finding(FEDERATION, f"identity {ref.name}'s credentials cannot be compared with Tavus's token: the stack's "
                                "outputs lack tavus_oidc_issuer or tavus_oidc_subject",
                                "run `pulumi up` with this version of the kit, which exports them", unknown=True))
    names = ", ".join(c.name for c in credentials)
    return from_findings(FEDERATION, findings, f"one federated credential ({names}) trusts exactly Tavus's token: {wanted}.")


def associated_fix(dest: Destination) -> str:
    """How to let verify list the resources the identity is attached to: Reader does not hold the action."""
    ref = dest.identity
    return (f"verify needs {ASSOCIATED_RESOURCES_LIST} on identity {ref.name}, which Reader does not include: give your principal a "
            f"custom role with that action alone at {ref.id}, or look at the identity's Associated resources in the portal")


def judge_operators(assignments: Sequence[rules.Assignment], principal_id: str, definitions: rules.Definitions,
                    dest: Destination, attached: Read[list[rules.Attached]]) -> Check:
    ref = dest.identity
    identity = (ref.subscription_id.lower(), ref.resource_group.lower(), ref.name.lower())
    judged = rules.operator_findings(assignments, identity, {principal_id.lower()}, definitions)
    findings = _about(judged, lambda a: f"role assignment {a.name}", lambda a, f: f"remove it: {_delete(a)}" if not f.unknown else "")
    if isinstance(attached, list):
        findings += _about(rules.attachment_findings(attached), lambda r: f"resource {r.name} ({r.type}, {r.ref})",
                           lambda r, f: f"{f.fix} (its Identity settings; identity {ref.id})")
    else:
        reason = attached.reason if isinstance(attached, Unreadable) else f"identity {ref.name} not found ({attached.message})"
        fix = attached.fix if isinstance(attached, Unreadable) else ""
        findings.append(Finding(OPERATORS, f"the resources identity {ref.name} is attached to could not be listed: {reason}", fix,
                                unknown=True))
    admins = rules.subscription_admins(assignments, identity, {principal_id.lower()}, definitions)
    listed = (f" Not counted: {len(admins)} administrator(s) of subscription {ref.subscription_id} or above "
              f"({', '.join(sorted({str(a.principal) for a in admins}))}), who administer every identity in it." if admins else "")
    return from_findings(OPERATORS, findings, f"nobody else can act as identity {ref.name}: no resource runs as it, no identity "
                                              f"operator at any scope, and no Owner, Contributor or User Access Administrator on it or "
                                              f"resource group {ref.resource_group}.{listed}")


def judge_grants(assignments: Sequence[rules.Assignment], principal_id: str, definitions: rules.Definitions,
                 dest: Destination) -> list[Check]:
    """Storage Blob Data Contributor on exactly the container, and nothing else, at any scope."""
    create = (f"az role assignment create --assignee-object-id {principal_id} --assignee-principal-type {azure_policy.PRINCIPAL_TYPE} "
              f"--role {azure_policy.STORAGE_BLOB_DATA_CONTRIBUTOR} --scope {dest.container_scope}")

    def fix(assignment: Optional[rules.Assignment], finding: Finding) -> str:
        if finding.unknown:
            return f"let verify read the role's definition ({ROLE_DEFINITIONS_READ}, in Reader)"
        return f"remove it: {_delete(assignment)}" if assignment else _restore_or("role assignment", create)

    def name(assignment: Optional[rules.Assignment]) -> str:
        if assignment is None:
            return f"identity {dest.identity.name}"
        if str(assignment.principal).lower() != principal_id.lower():
            # ARM's assignedTo() lists the assignments of the groups the identity is a member of, too.
            return f"role assignment {assignment.name} (of group {assignment.principal}, which identity {dest.identity.name} is in)"
        return f"role assignment {assignment.name}"

    judged = rules.grant_findings(assignments, dest.container_ref, definitions, require_write=True)
    findings = _about(judged, name, fix)
    needed = f"Storage Blob Data Contributor ({azure_policy.STORAGE_BLOB_DATA_CONTRIBUTOR}) on container {dest.container}"
    return [
        from_findings(ROLE_ASSIGNMENTS, findings, f"the identity holds only {needed} in subscription {dest.subscription_id} "
                                                  "(RBAC changes can take minutes to reach the data plane)."),
        from_findings(LEAST_PRIVILEGE, findings, f"the identity holds no role beyond {needed}."),
    ]


def judge_access(assignments: Sequence[rules.Assignment], principal_id: str, definitions: rules.Definitions, dest: Destination) -> Check:
    judged = rules.access_findings(assignments, dest.container_ref, {principal_id.lower()}, definitions)
    findings = _about(judged, lambda a: f"role assignment {a.name}", lambda a, f: f"remove it: {_delete(a)}" if not f.unknown else "")
    admins = rules.container_admins(assignments, dest.container_ref, {principal_id.lower()}, definitions)
    listed = (f" Not counted: {len(admins)} administrator(s) of subscription {dest.subscription_id} or above "
              f"({', '.join(sorted({str(a.principal) for a in admins}))}), who administer every account in it." if admins else "")
    return from_findings(CONTAINER_ACCESS, findings, f"no principal but the identity holds a role that reaches container "
                                                     f"{dest.container} or controls its account (at the container, its account, group, "
                                                     f"subscription or above).{listed}")


def _account_findings(settings: AccountSettings, dest: Destination, managed: bool) -> list[Finding]:
    where = f"-g {dest.resource_group} -n {dest.account}"
    clis = {
        TLS: f"az storage account update {where} --min-tls-version {rules.TLS_NEEDED}",
        HTTPS_ONLY: f"az storage account update {where} --https-only true",
        PUBLIC_ACCESS: f"az storage account update {where} --allow-blob-public-access false",
        SHARED_KEY: f"az storage account update {where} --allow-shared-key-access false",
    }
    found = (rules.tls_findings(settings.minimum_tls_version) + rules.https_findings(settings.https_only)
             + rules.public_access_findings(settings.allow_blob_public_access) + rules.shared_key_findings(settings.allow_shared_key_access))
    return [replace(f, problem=f"account {dest.account} {f.problem}", fix=_restore_or("storage account settings", clis[f.rule], managed))
            for f in found]


def judge_network(public_network_access: Optional[str], default_action: Optional[str], dest: Destination, managed: bool = True) -> Check:
    """Tavus writes from its own cloud, over the internet: the account must accept requests from outside."""
    where = f"-g {dest.resource_group} -n {dest.account}"
    if (public_network_access or "Enabled") != "Enabled":
        enable = f"az storage account update {where} --public-network-access Enabled"
        return failed(
            NETWORK,
            f"account {dest.account} public network access is {public_network_access}: Tavus writes from outside "
            "your networks, so every request it makes is refused.",
            storage_fix(managed, enable, enable, UNMANAGED_ACCOUNT),
        )
    if (default_action or "Allow") != "Allow":
        allow = f"az storage account update {where} --default-action Allow"
        return failed(
            NETWORK,
            f"account {dest.account} firewall default action is {default_action}: requests from addresses no rule "
            "allows, such as Tavus's, are refused.",
            storage_fix(managed, f"{allow} (the kit leaves the firewall open; access is limited by the role assignment)", allow,
                        UNMANAGED_ACCOUNT),
        )
    return passed(NETWORK, f"account {dest.account} accepts requests from outside your networks, where Tavus writes from.")


def judge_versioning(enabled: Optional[bool], dest: Destination, managed: bool = True) -> Check:
    if enabled is True:
        return passed(VERSIONING, f"blob versioning is on in account {dest.account}.")
    return failed(
        VERSIONING,
        f"blob versioning is {'off' if enabled is False else 'not set (off)'} in account {dest.account}: "
        "an overwritten or deleted recording cannot be recovered; the kit turns it on.",
        _restore_or("blob versioning",
                    f"az storage account blob-service-properties update -g {dest.resource_group} --account-name {dest.account} "
                    "--enable-versioning true", managed),
    )


def judge_cold_tier(rule_list: Sequence[Any], dest: Destination, managed: bool = True) -> Check:
    cold = dest.cold_after_days
    found = rules.cold_tier_findings(rule_list, dest.container, cold)
    findings = [replace(f, problem=f"the lifecycle policy of account {dest.account} {f.problem}",
                        fix=_restore_or("lifecycle policy", f.fix, managed)) for f in found]
    # What was read is the lifecycle policy: an upload can still pick its own tier (x-ms-access-tier), which it does not show.
    moved = (f", and a rule over container {dest.container} moves current recordings to Cool {cold} days after they are written, "
             "as the stack asks, with no move to Cold by then or sooner" if cold else "; the stack asks for no move (no coldAfterDays)")
    return from_findings(COLD_TIER, findings, f"no lifecycle rule of account {dest.account} moves recordings to Archive{moved} "
                                              "(lifecycle rules only: an upload can still set its own tier).")


def judge_encryption_key(encryption: Any, dest: Destination, managed: bool = True) -> Check:
    found = rules.encryption_key_findings(encryption, dest.key_vault_key_uri, dest.identity.id, own_identity=dest.encryption_identity_id)
    findings = [replace(f, problem=f"account {dest.account} {f.problem}", fix=_restore_or("account encryption", f.fix, managed)) for f in found]
    if dest.key_vault_key_uri and not dest.encryption_identity_id:
        # Without it, only "not the writer" can be told, not that the identity is the stack's own.
        why = "do not name" if dest.encryption_identity_known else "predate"
        findings.append(Finding(ENCRYPTION_KEY, f"the identity account {dest.account} reaches its key as cannot be compared with the "
                                f"stack's: its outputs {why} encryption_identity_id",
                                "run `pulumi up` with this version of the kit, which exports encryption_identity_id", unknown=True))
    uses = f"the stack's key {dest.key_vault_key_uri}" if dest.key_vault_key_uri else "Microsoft-managed keys (the stack sets no keyVaultKeyUri)"
    # What was read is the account's default: a writer can still pick an encryption scope or its own key per upload.
    return from_findings(ENCRYPTION_KEY, findings, f"account {dest.account}'s default key is {uses} (the account's default only: "
                                                   f"{rules.WRITER_CHOSEN_KEYS}).")


def judge_lifecycle(rule_list: Sequence[Any], dest: Destination, managed: bool = True) -> Check:
    found = rules.lifecycle_findings(rule_list, dest.container, dest.retention_days, dest.retention_known)
    cli = f"az storage account management-policy show -g {dest.resource_group} --account-name {dest.account}, then update it"
    findings = [replace(f, problem=f"the lifecycle policy of account {dest.account} {f.problem}",
                        fix=f.fix if f.unknown else _restore_or("lifecycle policy", f"{f.fix}: {cli}", managed)) for f in found]
    kept = f"sooner than {dest.retention_days} days" if dest.retention_days else "at all (no retentionDays)"
    return from_findings(LIFECYCLE, findings, f"no lifecycle rule of account {dest.account} deletes current recordings {kept}.")


def judge_immutability(found: Optional[ImmutabilityFacts], dest: Destination, managed: bool = True, version_worm: bool = False) -> Check:
    """The container's immutability policy against immutable_days and immutable_mode (compliance: Locked); with
    version-level immutability on the container (`version_worm`), unknown at best: each blob version's own policy takes
    precedence over the container's, and verify reads no blob."""
    days, mode = dest.immutable_days, dest.immutable_mode
    if not days:
        return passed(IMMUTABILITY, f"the stack asks for no immutability policy on container {dest.container} (no immutable_days).")
    where = f"--resource-group {dest.resource_group} --account-name {dest.account} --container-name {dest.container}"
    create = f"az storage container immutability-policy create {where} --period {days} --allow-protected-append-writes false"
    etag = found.etag if found is not None and found.etag else "<etag from az storage container immutability-policy show>"
    lock = f"az storage container immutability-policy lock {where} --if-match '{etag}' (irreversible)"
    judged = rules.immutability_findings(found.properties if found is not None else None, days, mode, live=True)
    findings = [replace(f, problem=f"container {dest.container} {f.problem}",
                        # `pulumi up` cannot lock a policy (azure-native has no lock): only the az line can.
                        fix=(lock if "not Locked" in f.problem else _restore_or("immutability policy", create, managed)))
                for f in judged]
    if version_worm:
        # "The object-level immutability policy has higher precedence than the container-level immutability policy"
        # (Azure Storage, immutable-storage-overview.md), and an Unlocked version policy can be shortened or deleted
        # (Set Blob Immutability Policy, Delete Blob Immutability Policy). Which data action that takes is not
        # confirmed, and per-version policies are data-plane reads verify does not make: unknown, not a pass.
        findings.append(Finding(IMMUTABILITY, f"container {dest.container} has version-level immutability on "
                                              "(immutableStorageWithVersioning enabled): each blob version's own policy "
                                              "overrides this container policy and, unlocked, can be shortened; verify reads "
                                              "no blob version's policy",
                                f"check the versions' own policies (az storage blob show --account-name {dest.account} -c "
                                f"{dest.container} -n <blob> --version-id <id> --auth-mode login): none may end sooner than "
                                f"{days} days after the version was written", unknown=True))
    state = (found.properties.get("state") if found is not None else None) or "?"
    return from_findings(IMMUTABILITY, findings, f"container {dest.container} keeps blobs unchangeable for at least {days} days "
                                                 f"(policy {state}, no protected append writes, mode {mode or 'governance'}).")


def log_destination_problem(properties: Any, dest: Destination) -> Optional[str]:
    """Why a setting's destination is not the stack's: its log account (by name, in the stack's subscription), or for a
    stack deployed before the audit_log_account output at least a resource in the stack's subscription. None when it is."""
    subscription = dest.subscription_id.lower()
    sent_to = rules.setting_destination(properties)
    if dest.audit_log_account:
        storage = rules.storage_destination(properties)
        if account_name(storage) == dest.audit_log_account.lower() and account_subscription(storage) == subscription:
            return None
        return (f"sends them to {sent_to}, not the stack's log account {dest.audit_log_account} in subscription "
                f"{dest.subscription_id}")
    if subscription in rules.destination_subscriptions(properties).values():
        return None
    return f"sends them to {sent_to}, outside subscription {dest.subscription_id}"


def judge_diagnostic_logs(settings: Sequence[rules.DiagnosticSetting], dest: Destination,
                          log_rules: Optional[Read[list[Any]]] = None) -> Check:
    """The blob service's settings must send the three categories to the stack's log account, whose management policy
    (`log_rules`, read when the outputs name it) must delete none of them."""
    if not dest.audit_logs:
        return passed(DIAGNOSTIC_LOGS, f"the stack asks for no audit logs of account {dest.account} (audit_logs false).")
    own = (f"the stack's log account {dest.audit_log_account}" if dest.audit_log_account
           else f"a destination in subscription {dest.subscription_id}")
    findings = [replace(f, problem=f"account {dest.account} {f.problem}", fix=_restore_or("diagnostic setting", f.fix))
                for f in rules.diagnostic_findings(settings, True, elsewhere=lambda p: log_destination_problem(p, dest),
                                                   where=f"to {own}")]
    cli = f"az storage account management-policy show -g {dest.resource_group} --account-name {dest.audit_log_account}, then update it"
    if isinstance(log_rules, Unreadable):
        findings.append(Finding(DIAGNOSTIC_LOGS, f"whether log account {dest.audit_log_account} deletes the logs cannot be told: "
                                                 f"{log_rules.reason}", log_rules.fix, unknown=True))
    elif isinstance(log_rules, NotFound):
        findings.append(Finding(DIAGNOSTIC_LOGS, f"log account {dest.audit_log_account} was not found ({log_rules.message}): the logs "
                                                 "have nowhere to go", restore("audit log account")))
    elif log_rules is not None:
        findings += [replace(f, problem=f"the lifecycle policy of log account {dest.audit_log_account} {f.problem}",
                             fix=f"{f.fix}: {cli}") for f in rules.log_deletion_findings(log_rules)]
    names = ", ".join(f"{s.name} (to {rules.setting_destination(s.properties)})" for s in settings
                      if rules.logged_categories(s.properties) and log_destination_problem(s.properties, dest) is None)
    kept = (f", and no lifecycle rule of log account {dest.audit_log_account} deletes them" if dest.audit_log_account
            else " (the outputs predate audit_log_account: the log account's lifecycle rules were not read)")
    # What was read is configuration: whether Azure Monitor delivers into the account is not shown by any read.
    return from_findings(DIAGNOSTIC_LOGS, findings, f"account {dest.account}'s blob service has a diagnostic setting that sends "
                                                    f"every read, write and delete to {own}: {names}{kept} (settings and lifecycle "
                                                    "rules only: not that logs arrive).")


def judge_replication(policies: Sequence[rules.Replication], dest: Destination) -> Check:
    subscription = dest.subscription_id.lower()

    def is_own(policy: rules.Replication) -> bool:
        # Only a full resource id in the recordings account's own subscription is provably yours.
        return account_subscription(policy.destination) == subscription

    judged = rules.replication_findings(policies, lambda p: account_name(p.source) == dest.account.lower(), dest.container, is_own)
    delete = f"az storage account or-policy delete -g {dest.resource_group} --account-name {dest.account} --policy-id"
    findings = _about(judged, lambda p: f"object replication policy {p.name}", lambda p, f: f"{f.fix}: {delete} {p.name}")
    return from_findings(REPLICATION, findings, f"no object replication copies container {dest.container} to an account outside "
                                                f"subscription {dest.subscription_id}.")


def judge_container(public_access: Optional[str], dest: Destination, managed: bool = True) -> list[Check]:
    cli = f"az storage container-rm update -g {dest.resource_group} --storage-account {dest.account} -n {dest.container} --public-access off"
    findings = [replace(f, problem=f"container {dest.container} {f.problem}", fix=_restore_or("container", cli, managed, UNMANAGED_CONTAINER))
                for f in rules.container_public_findings(public_access)]
    return [
        passed(CONTAINER_EXISTS, f"container {dest.container} exists in account {dest.account}."),
        from_findings(CONTAINER_PUBLIC, findings, f"container {dest.container} is private."),
    ]


def missing_container(message: str, dest: Destination, managed: bool = True) -> list[Check]:
    create = f"az storage container-rm create -g {dest.resource_group} --storage-account {dest.account} -n {dest.container} --public-access off"
    return [
        failed(
            CONTAINER_EXISTS,
            f"container {dest.container} was not found in account {dest.account} ({message}): Tavus has nowhere to write.",
            storage_fix(managed, _restore_or("container", create), f"check the name given in existingContainer, or create the container: {create}",
                        UNMANAGED_CONTAINER),
        ),
        *skipped([CONTAINER_PUBLIC, IMMUTABILITY, CONTAINER_ACCESS], f"container {dest.container} not found"),
    ]


def missing_account(message: str, dest: Destination, managed: bool = True) -> list[Check]:
    return [
        failed(
            ACCOUNT_EXISTS,
            f"storage account {dest.account} was not found in resource group {dest.resource_group} ({message}): "
            "Tavus has nowhere to write.",
            storage_fix(
                managed,
                "run `pulumi up --refresh` on this stack to re-create it (the kit keeps accounts on destroy, so check whether it was "
                "deleted by hand)",
                "check the names given in existingStorageAccount and resourceGroupName, "
                f"e.g. with az storage account show -g {dest.resource_group} -n {dest.account}",
                UNMANAGED_ACCOUNT,
            ),
        ),
        *skipped([*ACCOUNT_SETTING_IDS, *UNDER_ACCOUNT_IDS], f"storage account {dest.account} not found"),
    ]


# --- reading and judging


def _reader_fix(dest: Destination) -> str:
    return (
        "verify needs read access; the built-in Reader role holds every action it reads: "
        f"az role assignment create --assignee <your-object-id> --role Reader --scope {dest.subscription_scope}"
    )


def _outcome(check_ids: Sequence[str], result: Read[T], judge: Callable[[T], list[Check]], missing: str = "") -> list[Check]:
    """The checks of one read: unknown when unreadable, skipped when missing, else judged."""
    if isinstance(result, Unreadable):
        return [unknown(check_id, result.reason, result.fix) for check_id in check_ids]
    if isinstance(result, NotFound):
        return skipped(list(check_ids), f"{missing or 'not found'} ({result.message})")
    return judge(result)


def _custom_roles(*listings: Any) -> dict[str, str]:
    """The roles the listings name that are not built in, by guid: the id each is first named by."""
    ids: dict[str, str] = {}
    for listing in listings:
        if isinstance(listing, list):
            for assignment in listing:
                guid = role_guid(assignment.role)
                if guid and guid not in BUILTIN_ROLES:
                    ids.setdefault(guid, str(assignment.role))
    return ids


def _definitions(arm: Arm, *listings: Listing) -> rules.Definitions:
    """The definitions of every role the listings name that is not built in: read once each."""
    found: dict[str, Role | str] = {}
    for guid, role_id in _custom_roles(*listings).items():
        result = arm.role(role_id)
        found[guid] = result if isinstance(result, Role) else (result.reason if isinstance(result, Unreadable)
                                                               else f"its definition was not found: {result.message}")
    return found


Listing = Optional[Read[list[rules.Assignment]]]
"""Role assignments as listed, or None when nothing needs them (what they are about is missing)."""


Attachments = Optional[Read[list[rules.Attached]]]
"""The resources the identity is attached to, or None when the identity is missing."""


def _identity_checks(dest: Destination, arm: Arm) -> tuple[list[Check], Optional[str], Listing, Listing, Attachments]:
    """The identity's checks but those that need role definitions; its principal id, two listings and its
    attachments."""
    ref = dest.identity
    identity = arm.identity(ref.resource_group, ref.name)
    if isinstance(identity, NotFound):
        return [
            failed(
                IDENTITY_EXISTS,
                f"managed identity {ref.name} was not found in resource group {ref.resource_group} ({identity.message}): "
                "Tavus has no identity to sign in as.",
                "run `pulumi up --refresh` on this stack to re-create it, then give Tavus the new recording_storage (its client id changes)",
            ),
            *skipped([IDENTITY_IDS, FEDERATION, OPERATORS, *IDENTITY_GRANT_IDS], f"identity {ref.name} not found"),
        ], None, None, None, None
    checks: list[Check] = []
    if isinstance(identity, Unreadable):
        checks += [unknown(check_id, identity.reason, identity.fix) for check_id in (IDENTITY_EXISTS, IDENTITY_IDS)]
    else:
        checks.append(passed(IDENTITY_EXISTS, f"managed identity {ref.name} exists in resource group {ref.resource_group}."))
        checks.append(judge_identity_ids(identity.client_id, identity.tenant_id, dest))
    checks += _outcome([FEDERATION], arm.credentials(ref.resource_group, ref.name), lambda found: [judge_federation(found, dest)],
                       f"identity {ref.name} not found")
    # Role assignments are listed by the identity's principal id, which only the identity read gives.
    if isinstance(identity, Unreadable):
        checks += [unknown(check_id, f"needs the identity's principal id: {identity.reason}", identity.fix)
                   for check_id in (OPERATORS, *IDENTITY_GRANT_IDS)]
        return checks, None, None, None, None
    if not identity.principal_id:
        checks += [unknown(check_id, f"identity {ref.name} reports no principal id, so its role assignments cannot be told.")
                   for check_id in (OPERATORS, *IDENTITY_GRANT_IDS)]
        return checks, None, None, None, None
    return (checks, identity.principal_id, arm.assignments_of(identity.principal_id), arm.assignments_over(ref.id),
            arm.associated(ref.resource_group, ref.name, associated_fix(dest)))


def _storage_checks(dest: Destination, arm: Arm, managed: bool) -> tuple[list[Check], Listing]:
    """The account's and the container's checks but who else reaches it; that listing."""
    group, account_name_ = dest.resource_group, dest.account
    account = arm.account(group, account_name_)
    if isinstance(account, NotFound):
        return missing_account(account.message, dest, managed), None
    checks: list[Check] = []
    if isinstance(account, Unreadable):
        checks += [unknown(check_id, account.reason, account.fix) for check_id in (ACCOUNT_EXISTS, *ACCOUNT_SETTING_IDS)]
    else:
        findings = _account_findings(account, dest, managed)
        checks += [
            passed(ACCOUNT_EXISTS, f"storage account {account_name_} exists in resource group {group}."),
            from_findings(TLS, findings, f"account {account_name_} accepts {account.minimum_tls_version} or newer only."),
            from_findings(HTTPS_ONLY, findings, f"account {account_name_} accepts HTTPS only."),
            from_findings(PUBLIC_ACCESS, findings, f"account {account_name_} forbids anonymous blob access (allowBlobPublicAccess false)."),
            from_findings(SHARED_KEY, findings, f"account {account_name_} refuses account keys and SAS (allowSharedKeyAccess false): "
                                                "Entra ID only."),
            judge_network(account.public_network_access, account.default_action, dest, managed),
            judge_encryption_key(account.encryption, dest, managed),
        ]
    checks += _outcome([VERSIONING], arm.versioning(group, account_name_), lambda on: [judge_versioning(on, dest, managed)],
                       "blob service not found")
    lifecycle = arm.lifecycle_rules(group, account_name_)
    if isinstance(lifecycle, NotFound) and lifecycle.code == "ManagementPolicyNotFound":
        lifecycle = []  # the account has no lifecycle policy: nothing deletes recordings
    checks += _outcome([LIFECYCLE, COLD_TIER], lifecycle, lambda found: [judge_lifecycle(found, dest, managed),
                                                                         judge_cold_tier(found, dest, managed)],
                       "lifecycle policy not found")
    checks += _outcome([REPLICATION], arm.replication(group, account_name_), lambda found: [judge_replication(found, dest)],
                       "object replication policies not found")
    # Read only when the stack asks for them: nothing else to compare a setting or a policy with.
    settings: Read[list[rules.DiagnosticSetting]] = (arm.diagnostic_settings(f"{dest.account_id}/blobServices/default")
                                                     if dest.audit_logs else [])
    log_rules: Optional[Read[list[Any]]] = None
    if dest.audit_logs and dest.audit_log_account:
        # The management-policy read the recordings account gets, on the log account (same resource group).
        log_rules = arm.lifecycle_rules(group, dest.audit_log_account)
        if isinstance(log_rules, NotFound) and log_rules.code == "ManagementPolicyNotFound":
            log_rules = []
    checks += _outcome([DIAGNOSTIC_LOGS], settings, lambda found: [judge_diagnostic_logs(found, dest, log_rules)],
                       "blob service not found")
    container = arm.container(group, account_name_, dest.container)
    if isinstance(container, NotFound):
        return checks + missing_container(container.message, dest, managed), None
    checks += _outcome([CONTAINER_EXISTS, CONTAINER_PUBLIC], container,
                       lambda facts: judge_container(facts.public_access, dest, managed))
    version_worm = isinstance(container, ContainerFacts) and container.version_worm
    policy: Read[Optional[ImmutabilityFacts]] = (arm.immutability(group, account_name_, dest.container) if dest.immutable_days
                                                 else None)
    checks += _outcome([IMMUTABILITY], policy, lambda found: [judge_immutability(found, dest, managed, version_worm)],
                       "container not found")
    return checks, arm.assignments_over(dest.container_scope)


def _rbac_checks(dest: Destination, arm: Arm, principal_id: Optional[str], own: Listing, over_identity: Listing,
                 over_container: Listing, attached: Attachments = None) -> list[Check]:
    """The checks that judge role assignments, once every listing is in and its custom roles are read."""
    definitions = _definitions(arm, own, over_identity, over_container)
    checks: list[Check] = []
    if principal_id is not None and own is not None and over_identity is not None:
        attachments: Read[list[rules.Attached]] = attached if attached is not None else Unreadable("not listed")
        checks += _outcome([OPERATORS], over_identity,
                           lambda found: [judge_operators(found, principal_id, definitions, dest, attachments)])
        checks += _outcome(list(IDENTITY_GRANT_IDS), own, lambda found: judge_grants(found, principal_id, definitions, dest))
    if over_container is not None:
        if principal_id is None:
            checks.append(unknown(CONTAINER_ACCESS, "needs the identity's principal id, to tell Tavus's assignments from others'"))
        else:
            checks += _outcome([CONTAINER_ACCESS], over_container, lambda found: [judge_access(found, principal_id, definitions, dest)])
    return checks


Ahead = Callable[[Arm], Any]


def _read_ahead(dest: Destination, arm: Arm, revoked: bool) -> None:
    """Issue the reads the checks below make, a round at a time: a read goes out once the reads that decide whether (and
    what) it reads have answered, and each round lists its reads in the order the checks ask for them.

    Round 1: the identity and the account. Round 2: what the identity decides (its credentials; with a principal id,
    its assignments, those over it and its attachments, a revoked stack's its own assignments only) and what the
    account decides (blob service, lifecycle, replication, diagnostic settings and the log account's lifecycle when
    audit logs are asked for, the container). Round 3: the custom roles of the identity's listings (a revoked stack
    reads these before the account's), and what the container decides (immutability, the assignments over it).
    Round 4: the custom roles only the container's listing names (a revoked stack reads all of its again, as its
    checks ask twice)."""
    ref, group, account = dest.identity, dest.resource_group, dest.account
    identity, found = arm.issue([lambda a: a.identity(ref.resource_group, ref.name), lambda a: a.account(group, account)])
    second: list[Ahead] = []
    principal: Optional[str] = None
    if not isinstance(identity, NotFound):
        second.append(lambda a: a.credentials(ref.resource_group, ref.name))
        if not isinstance(identity, Unreadable) and identity.principal_id:
            principal = str(identity.principal_id)
            second.append(lambda a: a.assignments_of(str(principal)))
            if not revoked:
                second += [lambda a: a.assignments_over(ref.id), lambda a: a.associated(ref.resource_group, ref.name, associated_fix(dest))]
    under: list[Ahead] = []
    if not isinstance(found, NotFound):
        under += [lambda a: a.versioning(group, account), lambda a: a.lifecycle_rules(group, account), lambda a: a.replication(group, account)]
        if dest.audit_logs:
            under.append(lambda a: a.diagnostic_settings(f"{dest.account_id}/blobServices/default"))
        if dest.audit_logs and dest.audit_log_account:
            under.append(lambda a: a.lifecycle_rules(group, str(dest.audit_log_account)))
        under.append(lambda a: a.container(group, account, dest.container))
    answers = arm.issue(second + under)
    # The role assignments among them: the identity's own, and (granted) those over it.
    listings = answers[1:2 if revoked else 3] if principal else []
    container = answers[-1] if under else NotFound("")
    first_roles = _custom_roles(*listings)
    roles: list[Ahead] = [partial(Arm.role, role_id=role_id) for role_id in first_roles.values()]
    contained: list[Ahead] = []
    if not isinstance(container, NotFound):
        if dest.immutable_days:
            contained.append(lambda a: a.immutability(group, account, dest.container))
        contained.append(lambda a: a.assignments_over(dest.container_scope))
    answers = arm.issue(roles + contained if revoked else contained + roles)
    if contained:
        over_container = answers[-1] if revoked else answers[len(contained) - 1]
        later = (_custom_roles(over_container) if revoked
                 else {g: r for g, r in _custom_roles(*listings, over_container).items() if g not in first_roles})
        arm.issue([partial(Arm.role, role_id=role_id) for role_id in later.values()])


def _token_problem(credential: TokenCredential, scope: str) -> Optional[str]:
    """Ask for a token once up front, so a missing login is one clear answer instead of eighteen."""
    try:
        credential.get_token(scope)
    except Exception as exc:  # noqa: BLE001 (every credential fails differently)
        return short(exc)
    return None


def verify(
    storage: tavus.AzureBlobRecordingStorageConfig,
    outputs: Mapping[str, Any],
    *,
    credential: Optional[TokenCredential] = None,
    base_url: str = ARM_ENDPOINT,
    **client_kwargs: Any,
) -> list[Check]:
    """Check the deployed destination against Azure; one `Check` per id in `CHECK_IDS`, in that order.

    Raises `MissingOutputs` when the outputs do not name the subscription, group and identity, and
    `CannotVerify` when no credential gets a token or Resource Manager cannot be reached at all.
    `client_kwargs` go to every management client (e.g. `connection_verify`, timeouts, retries).
    `storage_managed` False in `outputs` (an existingStorageAccount stack) keeps `pulumi up` out of the
    account's and the container's fixes; absent (a stack deployed before that output) means the kit made them.
    """
    dest = destination(storage, outputs)
    managed = storage_managed(outputs)
    revoked = outputs.get("tavus_access") == tavus.TAVUS_ACCESS_REVOKED
    endpoint = base_url.rstrip("/")
    # Tokens for ARM are asked for its own audience, in every cloud.
    scope = f"{endpoint}/.default"
    owned = credential is None
    try:
        if credential is None:
            credential = DefaultAzureCredential()
        problem = _token_problem(credential, scope)
        if problem is not None:
            raise CannotVerify(f"no Azure credential could get a token ({problem}): {LOGIN_FIX}")
        return _read_and_judge(dest, credential, endpoint, scope, {**CLIENT_DEFAULTS, **client_kwargs}, managed, revoked)
    finally:
        close = getattr(credential, "close", None) if owned else None
        if callable(close):
            close()


def _read_and_judge(
    dest: Destination, credential: TokenCredential, endpoint: str, scope: str, kwargs: dict[str, Any], managed: bool = True,
    revoked: bool = False,
) -> list[Check]:
    common: dict[str, Any] = {"base_url": endpoint, "credential_scopes": [scope], **kwargs}
    reads = Reads(endpoint, _reader_fix(dest))
    try:
        msi = ManagedServiceIdentityClient(credential, dest.identity.subscription_id, **common)
        msi_associated = ManagedServiceIdentityClient(credential, dest.identity.subscription_id,
                                                      api_version=ASSOCIATED_RESOURCES_API_VERSION, **common)
        authorization = AuthorizationManagementClient(credential, dest.subscription_id, **common)
        storage = StorageManagementClient(credential, dest.subscription_id, **common)
    except Exception as exc:  # noqa: BLE001 (a client that cannot even be built is no cloud to read)
        raise CannotVerify(f"verify could not set up the Azure clients: {type(exc).__name__}: {short(exc)}") from None
    with msi, msi_associated, authorization, storage:
        arm = Arm(reads, msi, authorization, storage, msi_associated)
        _read_ahead(dest, arm, revoked)
        # What was read ahead is taken below, one read after another, as if read then.
        if revoked:
            # tavus_access: revoked: nothing may let Tavus in (azure_revoked), then the storage's own checks.
            from tavus_recording.verify.azure_revoked import REVOKED_CHECK_IDS, judge_access_revoked

            ids = REVOKED_CHECK_IDS
            cut, principal_id = judge_access_revoked(dest, arm)
            checks, own, over_identity, attached = [cut], None, None, None
        else:
            ids = CHECK_IDS
            checks, principal_id, own, over_identity, attached = _identity_checks(dest, arm)
        if reads.down is not None and not reads.answered:
            raise CannotVerify(f"Azure Resource Manager cannot be reached: {reads.down.reason}; {reads.down.fix}")
        storage_checks, over_container = _storage_checks(dest, arm, managed)
        checks += storage_checks + _rbac_checks(dest, arm, principal_id, own, over_identity, over_container, attached)
    # The report always lists the same ids, in the same order.
    order = {check_id: index for index, check_id in enumerate(ids)}
    return sorted(checks, key=lambda check: order[check.id])

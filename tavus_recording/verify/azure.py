"""`verify` for an Azure Blob destination: will Tavus be able to write to the container, right now?

Reads the managed identity, its federated credentials, its role assignments, the storage account,
its blob service and the container through Azure Resource Manager, with the caller's own
credentials (`az login`, environment variables or a managed identity, through
`DefaultAzureCredential`), and judges each against what the kit deploys. Reads only: it never
writes, and never searches the subscription (the stack's outputs name every resource).

The judges are pure functions over small normalised records; the SDK calls sit on top of them. A read
the caller may not make (HTTP 403) or an endpoint that cannot be reached makes only the checks that
depend on it unknown; a resource that is missing fails its own check and skips those that need it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from typing import Any, Callable, Iterable, Mapping, Optional, Sequence, TypeVar, Union

from azure.core.credentials import TokenCredential
from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceResponseError,
)
from azure.identity import DefaultAzureCredential
from azure.mgmt.authorization import AuthorizationManagementClient
from azure.mgmt.authorization.v2022_04_01.operations import RoleAssignmentsOperations
from azure.mgmt.msi import ManagedServiceIdentityClient
from azure.mgmt.storage import StorageManagementClient

from components import azure_policy, tavus
from tavus_recording.verify.outputs import OutputsError
from tavus_recording.verify.report import Check, failed, passed, skipped, storage_fix, storage_managed, unknown

ARM_ENDPOINT = "https://management.azure.com"

IDENTITY_EXISTS = "azure.identity.exists"
IDENTITY_IDS = "azure.identity.ids"
FEDERATION = "azure.identity.federation"
ROLE_ASSIGNMENTS = "azure.identity.role_assignments"
ACCOUNT_EXISTS = "azure.account.exists"
TLS = "azure.account.tls"
HTTPS_ONLY = "azure.account.https_only"
PUBLIC_ACCESS = "azure.account.public_access"
SHARED_KEY = "azure.account.shared_key"
NETWORK = "azure.account.network"
VERSIONING = "azure.account.versioning"
CONTAINER = "azure.container.exists_private"
# Every run reports exactly these, in this order.
CHECK_IDS: tuple[str, ...] = (
    IDENTITY_EXISTS,
    IDENTITY_IDS,
    FEDERATION,
    ROLE_ASSIGNMENTS,
    ACCOUNT_EXISTS,
    TLS,
    HTTPS_ONLY,
    PUBLIC_ACCESS,
    SHARED_KEY,
    NETWORK,
    VERSIONING,
    CONTAINER,
)
ACCOUNT_SETTING_IDS = (TLS, HTTPS_ONLY, PUBLIC_ACCESS, SHARED_KEY, NETWORK)

# The ARM actions verify reads with. The built-in Reader role (acdd72a7-3385-48ef-bd42-f606fba81ae7)
# grants `*/read`, which covers all of them.
IDENTITY_READ = "Microsoft.ManagedIdentity/userAssignedIdentities/read"
FEDERATED_CREDENTIALS_READ = "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/read"
ROLE_ASSIGNMENTS_READ = "Microsoft.Authorization/roleAssignments/read"
ACCOUNT_READ = "Microsoft.Storage/storageAccounts/read"
BLOB_SERVICE_READ = "Microsoft.Storage/storageAccounts/blobServices/read"
CONTAINER_READ = "Microsoft.Storage/storageAccounts/blobServices/containers/read"
READ_PERMISSIONS: tuple[str, ...] = (
    IDENTITY_READ,
    FEDERATED_CREDENTIALS_READ,
    ROLE_ASSIGNMENTS_READ,
    ACCOUNT_READ,
    BLOB_SERVICE_READ,
    CONTAINER_READ,
)
READER_ROLE = "acdd72a7-3385-48ef-bd42-f606fba81ae7"

# Few retries and short timeouts: an unreachable endpoint should turn into "unknown" within seconds.
CLIENT_DEFAULTS: dict[str, Any] = {"retry_total": 1, "retry_backoff_factor": 0.3, "connection_timeout": 5, "read_timeout": 20}
# Built-in roles a drifted assignment is likely to name, so the report can say which it found.
ROLE_NAMES = {
    azure_policy.STORAGE_BLOB_DATA_CONTRIBUTOR: "Storage Blob Data Contributor",
    "b7e6dc6d-f1e8-4753-8033-0f276bb0955b": "Storage Blob Data Owner",
    "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1": "Storage Blob Data Reader",
    "8e3af657-a8ff-443c-a33c-1d7d6fd4b9e4": "Owner",
    "b24988ac-6180-42a0-ab88-20f7382dd24c": "Contributor",
    READER_ROLE: "Reader",
}
TLS_NEEDED = "TLS1_2"
MAX_MESSAGE = 300
LOGIN_FIX = (
    "sign in with `az login` (or set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET, "
    "or run where a managed identity is available), then run verify again"
)

_IDENTITY_ID = re.compile(
    r"/subscriptions/(?P<subscription>[^/]+)/resourceGroups/(?P<group>[^/]+)"
    r"/providers/Microsoft\.ManagedIdentity/userAssignedIdentities/(?P<name>[^/]+)",
    re.IGNORECASE,
)
_DENIED_ACTION = re.compile(r"perform action '([^']+)'")

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


def _text_output(outputs: Mapping[str, Any], name: str) -> Optional[str]:
    value = outputs.get(name)
    return value.strip() if isinstance(value, str) and value.strip() else None


def parse_identity_id(value: str) -> Optional[IdentityRef]:
    match = _IDENTITY_ID.fullmatch(value.strip().rstrip("/"))
    if not match:
        return None
    return IdentityRef(match.group(0), match.group("subscription"), match.group("group"), match.group("name"))


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
    )


# --- what Azure answered, normalised


@dataclass(frozen=True)
class FederatedCredential:
    name: str
    issuer: Optional[str]
    subject: Optional[str]
    audiences: tuple[str, ...]


@dataclass(frozen=True)
class RoleGrant:
    id: str
    role_definition_id: str
    scope: str


@dataclass(frozen=True)
class AccountSettings:
    minimum_tls_version: Optional[str]
    https_only: Optional[bool]
    allow_blob_public_access: Optional[bool]
    allow_shared_key_access: Optional[bool]
    public_network_access: Optional[str]
    # networkAcls.defaultAction: what the firewall does with addresses no rule names.
    default_action: Optional[str]


@dataclass(frozen=True)
class Unreadable:
    """A read that could not be made: denied, unreachable, or no token. The checks it feeds are unknown."""

    reason: str
    fix: str = ""


@dataclass(frozen=True)
class NotFound:
    """The resource does not exist (HTTP 404); `message` is ARM's."""

    message: str


Read = Union[T, Unreadable, NotFound]


def _text(value: Any) -> Optional[str]:
    """An SDK enum or string as its wire value."""
    if value is None:
        return None
    return str(value.value) if isinstance(value, Enum) else str(value)


def _short(message: object) -> str:
    text = " ".join(str(message).split())
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 1] + "…"


def same_arm_id(a: Optional[str], b: Optional[str]) -> bool:
    """ARM ids compare case-insensitively."""
    return a is not None and b is not None and a.strip().rstrip("/").lower() == b.strip().rstrip("/").lower()


def _role_guid(role_definition_id: str) -> str:
    return role_definition_id.rstrip("/").rsplit("/", 1)[-1].lower()


# --- judges: pure, one per check


def _or_pulumi_up(cli: str) -> str:
    return f"run `pulumi up` on this stack to restore the kit's setting, or: {cli}"


# An account named with existingStorageAccount, and its container named with existingContainer, are
# only looked up: `pulumi up` changes none of their settings.
UNMANAGED_ACCOUNT = "this stack does not manage the storage account: it was named with existingStorageAccount"
UNMANAGED_CONTAINER = "this stack does not manage the container: it was named with existingContainer"


def _storage_fix(managed: bool, restore: str, direct: str, unmanaged: str = UNMANAGED_ACCOUNT) -> str:
    return storage_fix(managed, restore, direct, unmanaged)


def _restore_or(cli: str, managed: bool, unmanaged: str = UNMANAGED_ACCOUNT) -> str:
    """`pulumi up`, or the az line, for the kit's storage; only the az line for an existing one."""
    return _storage_fix(managed, _or_pulumi_up(cli), cli, unmanaged)


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


def _trusts_tavus(credential: FederatedCredential, dest: Destination) -> bool:
    return (credential.issuer, credential.subject, list(credential.audiences)) == (dest.issuer, dest.subject, [dest.audience])


def judge_federation(credentials: Sequence[FederatedCredential], dest: Destination) -> Check:
    """Exactly one federated credential, trusting exactly Tavus's issuer, subject and audience."""
    ref = dest.identity
    wanted = f"issuer {dest.issuer}, subject {dest.subject}, audiences [{dest.audience}]"
    where = f"-g {ref.resource_group} --identity-name {ref.name}"
    wanted_cli = f"--issuer {dest.issuer} --subject {dest.subject} --audiences {dest.audience}"
    if not credentials:
        return failed(
            FEDERATION,
            f"identity {ref.name} has no federated credential: Tavus's token ({wanted}) cannot be exchanged for it.",
            _or_pulumi_up(f"az identity federated-credential create {where} --name tavus {wanted_cli}"),
        )
    if len(credentials) > 1:
        # Name the ones that are not Tavus's trust; if every one is, all but the first are duplicates.
        others = [c for c in credentials if not _trusts_tavus(c, dest)]
        others = others if len(others) < len(credentials) else list(credentials[1:])
        names = ", ".join(f"{c.name} (issuer {c.issuer}, subject {c.subject})" for c in others)
        return failed(
            FEDERATION,
            f"identity {ref.name} has {len(credentials)} federated credentials; besides Tavus's ({wanted}) it trusts "
            f"{names}: whoever holds such a token can act as the identity and write to the container.",
            "delete them: "
            + "; ".join(f"az identity federated-credential delete {where} --name {c.name} --yes" for c in others)
            + " (keep the one `pulumi up` manages)",
        )
    (credential,) = credentials
    if dest.issuer is None or dest.subject is None:
        return unknown(
            FEDERATION,
            f"credential {credential.name} trusts issuer {credential.issuer}, subject {credential.subject}, but the stack's "
            "outputs lack tavus_oidc_issuer or tavus_oidc_subject to compare them with.",
            "run `pulumi up` with this version of the kit, which exports them",
        )
    wrong: list[str] = []
    if credential.issuer != dest.issuer:
        wrong.append(f"issuer {credential.issuer} (Tavus's is {dest.issuer})")
    if credential.subject != dest.subject:
        wrong.append(f"subject {credential.subject} (Tavus's is {dest.subject})")
    if list(credential.audiences) != [dest.audience]:
        wrong.append(f"audiences {list(credential.audiences)} (Tavus's token has [{dest.audience}])")
    if wrong:
        return failed(
            FEDERATION,
            f"federated credential {credential.name} trusts {'; '.join(wrong)}: Entra would refuse Tavus's token.",
            _or_pulumi_up(f"az identity federated-credential update {where} --name {credential.name} {wanted_cli}"),
        )
    return passed(FEDERATION, f"one federated credential ({credential.name}) trusts exactly Tavus's token: {wanted}.")


def _scope_label(scope: str, dest: Destination) -> str:
    for label, known in (
        (f"container {dest.container}", dest.container_scope),
        (f"storage account {dest.account}", dest.account_id),
        (f"resource group {dest.resource_group}", dest.group_scope),
        (f"subscription {dest.subscription_id}", dest.subscription_scope),
    ):
        if same_arm_id(scope, known):
            return label
    return f"scope {scope}"


def _role_label(grant: RoleGrant) -> str:
    guid = _role_guid(grant.role_definition_id)
    return ROLE_NAMES.get(guid, f"role {guid}")


def judge_role_assignments(grants: Sequence[RoleGrant], principal_id: str, dest: Destination) -> Check:
    """Storage Blob Data Contributor on exactly the container, and nothing else."""
    def is_kit_grant(grant: RoleGrant) -> bool:
        return _role_guid(grant.role_definition_id) == azure_policy.STORAGE_BLOB_DATA_CONTRIBUTOR and same_arm_id(
            grant.scope, dest.container_scope
        )

    needed = f"Storage Blob Data Contributor ({azure_policy.STORAGE_BLOB_DATA_CONTRIBUTOR}) on container {dest.container}"
    kit = [grant for grant in grants if is_kit_grant(grant)]
    extra = [grant for grant in grants if not is_kit_grant(grant)]
    problems: list[str] = []
    fixes: list[str] = []
    if not kit:
        problems.append(f"no assignment of {needed} to the identity (principal {principal_id}): Tavus cannot write blobs.")
        fixes.append(
            _or_pulumi_up(
                f"az role assignment create --assignee-object-id {principal_id} --assignee-principal-type "
                f"{azure_policy.PRINCIPAL_TYPE} --role {azure_policy.STORAGE_BLOB_DATA_CONTRIBUTOR} --scope {dest.container_scope}"
            )
        )
    if extra:
        found = "; ".join(f"{_role_label(g)} at {_scope_label(g.scope, dest)}" for g in extra)
        problems.append(
            f"{'It holds' if problems else 'the identity holds'} more than Tavus needs ({needed}): {found}; "
            "whoever holds Tavus's token gets that access too."
        )
        fixes.append(f"remove {'it' if len(extra) == 1 else 'them'}: az role assignment delete --ids {' '.join(g.id for g in extra)}")
    if problems:
        return failed(ROLE_ASSIGNMENTS, " ".join(problems), "; ".join(fixes))
    return passed(
        ROLE_ASSIGNMENTS,
        f"the identity holds only {needed} (RBAC changes can take minutes to reach the data plane).",
    )


def _tls_rank(version: Optional[str]) -> int:
    match = re.fullmatch(r"TLS1_(\d+)", version or "", re.IGNORECASE)
    return int(match.group(1)) if match else -1


def judge_tls(version: Optional[str], dest: Destination, managed: bool = True) -> Check:
    if _tls_rank(version) >= _tls_rank(TLS_NEEDED):
        return passed(TLS, f"account {dest.account} accepts {version} or newer (the kit sets {TLS_NEEDED}).")
    found = version or "not set, which Azure treats as TLS1_0"
    return failed(
        TLS,
        f"account {dest.account} minimum TLS version is {found}: the kit requires {TLS_NEEDED} or newer.",
        _restore_or(f"az storage account update -g {dest.resource_group} -n {dest.account} --min-tls-version {TLS_NEEDED}", managed),
    )


def judge_https_only(https_only: Optional[bool], dest: Destination, managed: bool = True) -> Check:
    if https_only is True:
        return passed(HTTPS_ONLY, f"account {dest.account} accepts HTTPS only.")
    return failed(
        HTTPS_ONLY,
        f"account {dest.account} supportsHttpsTrafficOnly is {https_only}: it accepts plain HTTP; the kit requires HTTPS only.",
        _restore_or(f"az storage account update -g {dest.resource_group} -n {dest.account} --https-only true", managed),
    )


def judge_public_access(allowed: Optional[bool], dest: Destination, managed: bool = True) -> Check:
    if allowed is False:
        return passed(PUBLIC_ACCESS, f"account {dest.account} forbids anonymous blob access (allowBlobPublicAccess false).")
    found = "true" if allowed else "not set (accounts created before late 2023 then allow it)"
    return failed(
        PUBLIC_ACCESS,
        f"account {dest.account} allowBlobPublicAccess is {found}: a container could be opened to anyone; "
        "recordings need it false.",
        _restore_or(f"az storage account update -g {dest.resource_group} -n {dest.account} --allow-blob-public-access false", managed),
    )


def judge_shared_key(allowed: Optional[bool], dest: Destination, managed: bool = True) -> Check:
    if allowed is False:
        return passed(SHARED_KEY, f"account {dest.account} refuses account keys and SAS (allowSharedKeyAccess false): Entra ID only.")
    found = "true" if allowed else "not set, which Azure treats as true"
    return failed(
        SHARED_KEY,
        f"account {dest.account} allowSharedKeyAccess is {found}: account keys and SAS tokens bypass the role "
        "assignment; the kit requires false.",
        _restore_or(f"az storage account update -g {dest.resource_group} -n {dest.account} --allow-shared-key-access false", managed),
    )


def judge_network(public_network_access: Optional[str], default_action: Optional[str], dest: Destination, managed: bool = True) -> Check:
    """Tavus writes from its own cloud, over the internet: the account must accept requests from outside."""
    where = f"-g {dest.resource_group} -n {dest.account}"
    if (public_network_access or "Enabled") != "Enabled":
        enable = f"az storage account update {where} --public-network-access Enabled"
        return failed(
            NETWORK,
            f"account {dest.account} public network access is {public_network_access}: Tavus writes from outside "
            "your networks, so every request it makes is refused.",
            _storage_fix(managed, enable, enable),
        )
    if (default_action or "Allow") != "Allow":
        allow = f"az storage account update {where} --default-action Allow"
        return failed(
            NETWORK,
            f"account {dest.account} firewall default action is {default_action}: requests from addresses no rule "
            "allows, such as Tavus's, are refused.",
            _storage_fix(managed, f"{allow} (the kit leaves the firewall open; access is limited by the role assignment)", allow),
        )
    return passed(NETWORK, f"account {dest.account} accepts requests from outside your networks, where Tavus writes from.")


def judge_versioning(enabled: Optional[bool], dest: Destination, managed: bool = True) -> Check:
    if enabled is True:
        return passed(VERSIONING, f"blob versioning is on in account {dest.account}.")
    return failed(
        VERSIONING,
        f"blob versioning is {'off' if enabled is False else 'not set (off)'} in account {dest.account}: "
        "an overwritten or deleted recording cannot be recovered; the kit turns it on.",
        _restore_or(
            f"az storage account blob-service-properties update -g {dest.resource_group} --account-name {dest.account} --enable-versioning true",
            managed,
        ),
    )


def judge_container(public_access: Optional[str], dest: Destination, managed: bool = True) -> Check:
    if public_access in (None, "None"):
        return passed(CONTAINER, f"container {dest.container} exists in account {dest.account} and is private.")
    return failed(
        CONTAINER,
        f"container {dest.container} has public access {public_access}: anyone can read its recordings without signing in.",
        _restore_or(
            f"az storage container-rm update -g {dest.resource_group} --storage-account {dest.account} -n {dest.container} --public-access off",
            managed,
            UNMANAGED_CONTAINER,
        ),
    )


def missing_container(message: str, dest: Destination, managed: bool = True) -> Check:
    create = f"az storage container-rm create -g {dest.resource_group} --storage-account {dest.account} -n {dest.container} --public-access off"
    return failed(
        CONTAINER,
        f"container {dest.container} was not found in account {dest.account} ({message}): Tavus has nowhere to write.",
        _storage_fix(
            managed, _or_pulumi_up(create), f"check the name given in existingContainer, or create the container: {create}", UNMANAGED_CONTAINER
        ),
    )


def missing_account(message: str, dest: Destination, managed: bool = True) -> Check:
    return failed(
        ACCOUNT_EXISTS,
        f"storage account {dest.account} was not found in resource group {dest.resource_group} ({message}): "
        "Tavus has nowhere to write.",
        _storage_fix(
            managed,
            "run `pulumi up` on this stack to re-create it (the kit keeps accounts on destroy, so check whether it was deleted by hand)",
            "check the names given in existingStorageAccount and resourceGroupName, "
            f"e.g. with az storage account show -g {dest.resource_group} -n {dest.account}",
        ),
    )


# --- reading through the SDK


def _reader_fix(dest: Destination) -> str:
    return (
        "verify needs read access; the built-in Reader role holds every action it reads: "
        f"az role assignment create --assignee <your-object-id> --role Reader --scope {dest.subscription_scope}"
    )


class Reads:
    """Runs each read, turning SDK errors into `NotFound` or `Unreadable`; never raises."""

    def __init__(self, endpoint: str, dest: Destination) -> None:
        self.endpoint = endpoint
        self.dest = dest
        # Once the endpoint is unreachable, later reads report it at once instead of waiting again.
        self.down: Optional[Unreadable] = None

    def run(self, action: str, call: Callable[[], T]) -> Read[T]:
        if self.down is not None:
            return self.down
        try:
            return call()
        except ResourceNotFoundError as exc:
            return NotFound(_short(_error_text(exc)))
        except ClientAuthenticationError as exc:
            return Unreadable(f"{action}: Azure refused the credential ({_short(_error_text(exc))})", LOGIN_FIX)
        except HttpResponseError as exc:
            return self._http_error(action, exc)
        except (ServiceRequestError, ServiceResponseError) as exc:
            self.down = Unreadable(
                f"{self.endpoint} unreachable ({_short(exc.message)})",
                f"check that {self.endpoint} is reachable from here (network, proxy, DNS), then run verify again",
            )
            return self.down
        except Exception as exc:  # noqa: BLE001 (no SDK error may end verify)
            return Unreadable(f"{action} failed: {type(exc).__name__}: {_short(exc)}")

    def _http_error(self, action: str, exc: HttpResponseError) -> Unreadable:
        if exc.status_code == 403:
            match = _DENIED_ACTION.search(_error_text(exc))
            return Unreadable(
                f"{match.group(1) if match else action} denied ({_error_code(exc) or 'HTTP 403'})", _reader_fix(self.dest)
            )
        return Unreadable(f"{action} failed: HTTP {exc.status_code} {_error_code(exc) or ''} {_short(_error_text(exc))}".strip())


def _error_code(exc: HttpResponseError) -> Optional[str]:
    error = exc.error
    return error.code if error is not None and error.code else None


def _error_text(exc: HttpResponseError) -> str:
    error = exc.error
    return str(error.message) if error is not None and error.message else str(exc.message)


def _outcome(check_id: str, result: Read[T], judge: Callable[[T], Check], missing: str = "") -> Check:
    """The check for one read: unknown when unreadable, skipped when a parent is missing, else judged."""
    if isinstance(result, Unreadable):
        return unknown(check_id, result.reason, result.fix)
    if isinstance(result, NotFound):
        return skipped([check_id], f"{missing or 'not found'} ({result.message})")[0]
    return judge(result)


def _unreadable(check_ids: Iterable[str], problem: Unreadable) -> list[Check]:
    return [unknown(check_id, problem.reason, problem.fix) for check_id in check_ids]


def _identity_checks(
    dest: Destination, reads: Reads, msi: ManagedServiceIdentityClient, authorization: AuthorizationManagementClient
) -> list[Check]:
    ref = dest.identity
    identity = reads.run(IDENTITY_READ, lambda: msi.user_assigned_identities.get(ref.resource_group, ref.name))
    if isinstance(identity, NotFound):
        return [
            failed(
                IDENTITY_EXISTS,
                f"managed identity {ref.name} was not found in resource group {ref.resource_group} ({identity.message}): "
                "Tavus has no identity to sign in as.",
                "run `pulumi up` on this stack to re-create it, then give Tavus the new recording_storage (its client id changes)",
            ),
            *skipped([IDENTITY_IDS, FEDERATION, ROLE_ASSIGNMENTS], f"identity {ref.name} not found"),
        ]
    checks: list[Check] = []
    if isinstance(identity, Unreadable):
        checks += _unreadable([IDENTITY_EXISTS, IDENTITY_IDS], identity)
    else:
        checks.append(passed(IDENTITY_EXISTS, f"managed identity {ref.name} exists in resource group {ref.resource_group}."))
        checks.append(judge_identity_ids(identity.client_id, identity.tenant_id, dest))

    credentials = reads.run(
        FEDERATED_CREDENTIALS_READ,
        lambda: [
            FederatedCredential(c.name or "", c.issuer, c.subject, tuple(c.audiences or ()))
            for c in msi.federated_identity_credentials.list(ref.resource_group, ref.name)
        ],
    )
    checks.append(_outcome(FEDERATION, credentials, lambda found: judge_federation(found, dest), f"identity {ref.name} not found"))

    # Role assignments are listed by the identity's principal id, which only the identity read gives.
    if isinstance(identity, Unreadable):
        checks.append(unknown(ROLE_ASSIGNMENTS, f"needs the identity's principal id: {identity.reason}", identity.fix))
        return checks
    principal_id: Optional[str] = identity.principal_id
    if not principal_id:
        checks.append(unknown(ROLE_ASSIGNMENTS, f"identity {ref.name} reports no principal id, so its role assignments cannot be listed."))
        return checks
    grants = reads.run(
        ROLE_ASSIGNMENTS_READ,
        lambda: [
            RoleGrant(a.id or "", a.role_definition_id or "", a.scope or "")
            # At, above and below the subscription, for this principal only.
            for a in _role_assignments(authorization).list_for_subscription(filter=f"principalId eq '{principal_id}'")
        ],
    )
    checks.append(_outcome(ROLE_ASSIGNMENTS, grants, lambda found: judge_role_assignments(found, principal_id, dest)))
    return checks


def _role_assignments(authorization: AuthorizationManagementClient) -> RoleAssignmentsOperations:
    """The client's role assignment operations, at its default api-version, 2022-04-01."""
    # The multi-API client builds the operations class of the api-version it was given (its type is
    # the union of them all), and those before 2020-10-01-preview have no list_for_subscription.
    operations = authorization.role_assignments
    if not isinstance(operations, RoleAssignmentsOperations):
        raise TypeError(f"expected the 2022-04-01 role assignment operations, got {type(operations).__module__}")
    return operations


def _storage_checks(dest: Destination, reads: Reads, storage: StorageManagementClient, managed: bool = True) -> list[Check]:
    """The account's and the container's checks; `managed` is False for an existingStorageAccount stack."""
    group, account_name = dest.resource_group, dest.account
    account = reads.run(ACCOUNT_READ, lambda: storage.storage_accounts.get_properties(group, account_name))
    if isinstance(account, NotFound):
        return [
            missing_account(account.message, dest, managed),
            *skipped([*ACCOUNT_SETTING_IDS, VERSIONING, CONTAINER], f"storage account {account_name} not found"),
        ]
    checks: list[Check] = []
    if isinstance(account, Unreadable):
        checks += _unreadable([ACCOUNT_EXISTS, *ACCOUNT_SETTING_IDS], account)
    else:
        # Flattened attributes: the same names on every SDK generation (msrest and typespec models).
        settings = AccountSettings(
            _text(account.minimum_tls_version),
            account.enable_https_traffic_only,
            account.allow_blob_public_access,
            account.allow_shared_key_access,
            _text(account.public_network_access),
            _text(account.network_rule_set.default_action) if account.network_rule_set else None,
        )
        checks += [
            passed(ACCOUNT_EXISTS, f"storage account {account_name} exists in resource group {group}."),
            judge_tls(settings.minimum_tls_version, dest, managed),
            judge_https_only(settings.https_only, dest, managed),
            judge_public_access(settings.allow_blob_public_access, dest, managed),
            judge_shared_key(settings.allow_shared_key_access, dest, managed),
            judge_network(settings.public_network_access, settings.default_action, dest, managed),
        ]

    service = reads.run(BLOB_SERVICE_READ, lambda: storage.blob_services.get_service_properties(group, account_name))
    checks.append(
        _outcome(VERSIONING, service, lambda found: judge_versioning(found.is_versioning_enabled, dest, managed), "blob service not found")
    )

    container = reads.run(CONTAINER_READ, lambda: storage.blob_containers.get(group, account_name, dest.container))
    if isinstance(container, NotFound):
        checks.append(missing_container(container.message, dest, managed))
    else:
        checks.append(_outcome(CONTAINER, container, lambda found: judge_container(_text(found.public_access), dest, managed)))
    return checks


def _token_problem(credential: TokenCredential, scope: str) -> Optional[Unreadable]:
    """Ask for a token once up front, so a missing login is one clear answer instead of eleven."""
    try:
        credential.get_token(scope)
    except Exception as exc:  # noqa: BLE001 (every credential fails differently)
        return Unreadable(f"no Azure credential could get a token ({_short(exc)})", LOGIN_FIX)
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

    Raises `MissingOutputs` when the outputs do not name the subscription, group and identity.
    `client_kwargs` go to every management client (e.g. `connection_verify`, timeouts, retries).
    `storage_managed` False in `outputs` (an existingStorageAccount stack) keeps `pulumi up` out of the
    account's and the container's fixes; absent (a stack deployed before that output) means the kit made them.
    """
    dest = destination(storage, outputs)
    managed = storage_managed(outputs)
    endpoint = base_url.rstrip("/")
    # Tokens for ARM are asked for its own audience, in every cloud.
    scope = f"{endpoint}/.default"
    owned = credential is None
    try:
        if credential is None:
            credential = DefaultAzureCredential()
        problem = _token_problem(credential, scope)
        if problem is not None:
            return _unreadable(CHECK_IDS, problem)
        return _read_and_judge(dest, credential, endpoint, scope, {**CLIENT_DEFAULTS, **client_kwargs}, managed)
    except Exception as exc:  # noqa: BLE001 (a client that cannot even be built still gives a report)
        return _unreadable(CHECK_IDS, Unreadable(f"verify could not talk to Azure: {type(exc).__name__}: {_short(exc)}"))
    finally:
        close = getattr(credential, "close", None) if owned else None
        if callable(close):
            close()


def _read_and_judge(
    dest: Destination, credential: TokenCredential, endpoint: str, scope: str, kwargs: dict[str, Any], managed: bool = True
) -> list[Check]:
    common: dict[str, Any] = {"base_url": endpoint, "credential_scopes": [scope], **kwargs}
    reads = Reads(endpoint, dest)
    with (
        ManagedServiceIdentityClient(credential, dest.identity.subscription_id, **common) as msi,
        AuthorizationManagementClient(credential, dest.subscription_id, **common) as authorization,
        StorageManagementClient(credential, dest.subscription_id, **common) as storage,
    ):
        checks = _identity_checks(dest, reads, msi, authorization) + _storage_checks(dest, reads, storage, managed)
    # The report always lists the same ids, in the same order.
    order = {check_id: index for index, check_id in enumerate(CHECK_IDS)}
    return sorted(checks, key=lambda check: order[check.id])

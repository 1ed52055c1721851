"""`verify` for an Azure Blob stack whose Tavus access is revoked (`tavus_access: revoked`): the other way round,
nothing lets Tavus in.

Such a stack exports no recording_storage; what it still exports (storage_account, container, tenant_id,
client_id, subscription_id, resource_group_name, identity_id) names what verify reads, the same reads as a granted
stack's. Tavus is cut off when:
- Tavus's managed identity has no federated credential: no token of Tavus's is exchanged for one of the identity
  (the revoked stack deletes it; the identity stays, so a re-grant keeps its client id);
- the identity (through its groups too: ARM's assignedTo()) holds no role at the container, its account, resource
  group, subscription or above that reads, writes or deletes blobs or controls the account: the tokens Tavus
  already holds are refused at authorization once RBAC catches up (minutes).
A deleted identity lets nobody in. A read that is denied makes the check unknown, never passing. The account's and
the container's own checks still run: a revoked stack keeps every recording and every setting.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Mapping, Optional

from components import tavus
from tavus_recording.rules import azure as rules
from tavus_recording.rules.findings import Finding
from tavus_recording.verify import azure as verify_azure
from tavus_recording.verify.azure_reads import Arm, NotFound, Unreadable
from tavus_recording.verify.outputs import OutputsError
from tavus_recording.verify.report import Check, from_findings

ACCESS_REVOKED = rules.ACCESS_REVOKED
# Every revoked run reports exactly these, in this order: the cut, then the account and container that keep the recordings.
REVOKED_CHECK_IDS: tuple[str, ...] = (ACCESS_REVOKED, *verify_azure.CHECK_IDS[verify_azure.CHECK_IDS.index(verify_azure.ACCOUNT_EXISTS):])
_RUNBOOK = "README: Incident: cut Tavus off"
_NAMES = ("storage_account", "container", "tenant_id", "client_id")


def revoked_storage(outputs: Mapping[str, Any], source: str) -> tavus.AzureBlobRecordingStorageConfig:
    """What verify reads of a revoked stack, from the outputs it still exports."""
    missing = [key for key in _NAMES if not isinstance(outputs.get(key), str) or not outputs[key].strip()]
    if missing:
        raise OutputsError(f"this stack's Tavus access is revoked ({source} has tavus_access: revoked), but its outputs lack "
                           f"{', '.join(missing)}, so verify cannot tell what to check; run `pulumi up` with this version of the kit, "
                           f"or see {_RUNBOOK}")
    account, container, tenant, client = (str(outputs[key]).strip() for key in _NAMES)
    return tavus.AzureBlobRecordingStorageConfig(storage_account=account, container=container, tenant_id=tenant, client_id=client)


def _unread(read: Any, what: str) -> list[Finding]:
    if isinstance(read, Unreadable):
        return [Finding(ACCESS_REVOKED, f"cannot be told: {what} could not be read ({read.reason})", read.fix, unknown=True)]
    return []


# Another identity (or app registration) with a federated credential for Tavus's issuer and subject would let Tavus's
# tokens in as well; finding one means listing every identity's credentials in the tenant (one ARM read per identity),
# which verify does not do (red team 19b #5): the pass says so.
OTHER_IDENTITIES = ("(only this identity was read: another identity or app registration that trusts Tavus's issuer is not "
                    "searched for)")


def judge_access_revoked(dest: verify_azure.Destination, arm: Arm) -> tuple[Check, Optional[str]]:
    """The cut, and the identity's principal id ("" when the identity is gone, None when it could not be read)."""
    ref = dest.identity
    where = f"-g {ref.resource_group} --identity-name {ref.name}"
    identity = arm.identity(ref.resource_group, ref.name)
    if isinstance(identity, NotFound):
        return from_findings(ACCESS_REVOKED, [], f"managed identity {ref.name} no longer exists: nobody can sign in as it "
                                                 f"{OTHER_IDENTITIES}."), ""
    found: list[Finding] = _unread(identity, f"identity {ref.name}")
    credentials = arm.credentials(ref.resource_group, ref.name)
    found += _unread(credentials, f"the federated credentials of identity {ref.name}")
    if isinstance(credentials, list):
        found += [replace(f, problem=f"federated credential {c.name} of identity {ref.name} {f.problem}",
                          fix=f"run `pulumi up --refresh` for this stack (revoked, it deletes the credential), or: az identity "
                              f"federated-credential delete {where} --name {c.name} --yes")
                  for c, f in rules.revoked_credential_findings(credentials)]
    principal = None if isinstance(identity, Unreadable) else identity.principal_id
    if principal:
        own = arm.assignments_of(principal)
        found += _unread(own, f"the role assignments of identity {ref.name}")
        if isinstance(own, list):
            definitions = verify_azure._definitions(arm, own)
            found += [replace(f, problem=f"identity {ref.name} {f.problem}" + ("" if str(a.principal).lower() == principal.lower()
                                                                               else f" (through group {a.principal})"),
                              fix=f.fix and f"run `pulumi up --refresh` for this stack (revoked, it deletes the kit's assignment), or: "
                                            f"{verify_azure._delete(a)}")
                      for a, f in rules.revoked_grant_findings(own, dest.container_ref, definitions)]
    elif not isinstance(identity, Unreadable):
        found.append(Finding(ACCESS_REVOKED, f"cannot be told: identity {ref.name} reports no principal id, so its role assignments "
                                             "cannot be listed", "", unknown=True))
    passing = (f"identity {ref.name} has no federated credential (no token of Tavus's signs in as it) and no role at container "
               f"{dest.container}, its account, resource group, subscription or above that reaches the recordings "
               f"{OTHER_IDENTITIES}.")
    return from_findings(ACCESS_REVOKED, found, passing), principal


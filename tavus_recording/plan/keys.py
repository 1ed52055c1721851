"""The plan's word on customer-managed keys: which key encrypts the recordings, and who may use it.

GCS: the bucket's default Cloud KMS key, used by the project's Cloud Storage service agent, which the stack grants.
Azure: the account's Key Vault key, used through an identity the stack makes for it; the grant on the key is the
user's to make (the key's URI does not name the vault's subscription and resource group), so the plan says how.
"""

from __future__ import annotations

from typing import Any, Optional

from tavus_recording.mock_engine import ProgramRun, Registration
from tavus_recording.plan.replacement import get

GCS_KEY_GRANT = "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember"


S3_ENCRYPTION = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"


def s3_key(run: ProgramRun, bucket: Any) -> Optional[str]:
    """The recordings bucket's default encryption and whether uploads under a key the writer brings (SSE-C) are
    blocked, in one line; None when the stack sets no encryption on it (an existing bucket)."""
    setting = next((r for r in run.find(S3_ENCRYPTION) if r.inputs.get("bucket") == bucket), None)
    rules = setting.inputs.get("rules") if setting else None
    if not isinstance(rules, list) or not rules or not isinstance(rules[0], dict):
        return None
    default = rules[0].get("applyServerSideEncryptionByDefault") or {}
    key = default.get("kmsMasterKeyId")
    how = f"SSE-KMS with key {key}" if key else "SSE-S3 (keys S3 manages)"
    blocked = "SSE-C" in (rules[0].get("blockedEncryptionTypes") or [])
    return (f"Key: the bucket encrypts recordings by default with {how}; uploads encrypted with a key the writer brings "
            f"(SSE-C) {'are blocked, so no recording lands under a key you do not hold' if blocked else 'are NOT blocked'}.")


def gcs_key(run: ProgramRun, grants: list[Registration]) -> tuple[Optional[dict[str, Any]], Optional[str]]:
    """The bucket's default key and who may use it, as facts and one line, with the uploads the bucket refuses
    (without a key: no facts, and the line on those alone; (None, None) when no bucket is made).
    The grant is added to `grants`, the ones the summary accounts for."""
    from components.gcp_policy import KEY_USER_ROLE

    bucket = next(iter(run.find("gcp:storage/bucket:Bucket")), None)
    if bucket is None:
        return None, None
    key = get(bucket.inputs, "encryption.defaultKmsKeyName")
    refused = _gcs_refused(bucket.inputs)
    if not key:
        return None, (f"Key: Google-managed keys (no kmsKeyName); uploads encrypted with {refused} are refused, so no "
                      "recording lands under a key you do not hold." if refused else None)
    users = [g for g in run.find(GCS_KEY_GRANT) if g.inputs.get("cryptoKeyId") == key and g.inputs.get("role") == KEY_USER_ROLE]
    grants.extend(users)
    members = [str(g.inputs.get("member")) for g in users]
    who = (f"the project's Cloud Storage service agent ({', '.join(m.removeprefix('serviceAccount:') for m in members)}) "
           f"has {KEY_USER_ROLE} on that key only, granted before the bucket is made and kept on destroy with it"
           if members else "nobody is granted its use by this stack")
    line = (f"Key: the bucket's default key is Cloud KMS key {key}; {who}. Tavus's writer needs no grant on the key "
            f"(Cloud Storage encrypts for it). {f'Uploads encrypted with {refused} are refused. ' if refused else ''}"
            "A writer can still name another Cloud KMS key per upload: only the organisation policy "
            "constraints/gcp.restrictCmekCryptoKeyProjects limits which. Disabling or destroying the key makes every "
            "recording unreadable.")
    return {"kind": "Cloud KMS", "name": key, "users": [{"member": m, "role": KEY_USER_ROLE} for m in members]}, line


def _gcs_refused(inputs: dict[str, Any]) -> str:
    """The encryptions the bucket refuses for new uploads, in words ("" when none), from its enforcement settings."""
    from components.gcp_policy import RESTRICTED

    kinds = [what for field, what in (("customerSupplied", "a key the writer brings (customer-supplied, CSEK)"),
                                      ("googleManaged", "Google-managed keys"))
             if get(inputs, f"encryption.{field}EncryptionEnforcementConfig.restrictionMode") == RESTRICTED]
    return " or ".join(kinds)


def azure_key(run: ProgramRun) -> tuple[Optional[dict[str, Any]], Optional[str]]:
    """The account's Key Vault key, the identity it is reached as, and the grant to make; (None, None) without one."""
    from components.azure_policy import KEY_VAULT_CRYPTO_SERVICE_ENCRYPTION_USER, VAULT_REQUIREMENTS

    account = next(iter(run.find("azure-native:storage:StorageAccount")), None)
    encryption = account.inputs.get("encryption") if account else None
    if not isinstance(encryption, dict) or str(encryption.get("keySource", "")).lower() != "microsoft.keyvault":
        return None, None
    vault_uri = get(encryption, "keyVaultProperties.keyVaultUri")
    name = get(encryption, "keyVaultProperties.keyName")
    version = get(encryption, "keyVaultProperties.keyVersion")
    identity_id = get(encryption, "encryptionIdentity.encryptionUserAssignedIdentity")
    identity = next((i for i in run.find("azure-native:managedidentity:UserAssignedIdentity") if i.id == identity_id), None)
    identity_name = identity.outputs.get("name") if identity else identity_id
    principal = identity.outputs.get("principalId") if identity else None
    vault = str(vault_uri or "").removeprefix("https://").split(".", 1)[0]
    which = f"version {version}" if version else "its newest version, which Azure Storage looks for daily"
    grant = (f"az role assignment create --role {KEY_VAULT_CRYPTO_SERVICE_ENCRYPTION_USER} --assignee-object-id {principal} "
             f"--assignee-principal-type ServicePrincipal --scope \"$(az keyvault show --name {vault} --query id -o tsv)/keys/{name}\"")
    line = (f"Key: the storage account encrypts with Key Vault key {name} in {vault_uri} ({which}), reached as managed "
            f"identity {identity_name} (principal {principal}), made for this alone and not Tavus's. The kit cannot grant "
            "it the key (the URI does not name the vault's subscription and resource group): before the account can be "
            "made, grant it Key Vault Crypto Service Encryption User on the key (`pulumi up` makes the identity, then "
            f"stops at the account until the grant exists; run it again after): {grant}. Azure Storage needs "
            f"{VAULT_REQUIREMENTS}. Disabling or deleting the key "
            "makes every recording unreadable.")
    facts = {"kind": "Key Vault", "vault_uri": vault_uri, "name": name, "version": version, "identity": identity_name,
             "principal_id": principal, "role_to_grant": KEY_VAULT_CRYPTO_SERVICE_ENCRYPTION_USER, "grant_command": grant}
    return facts, line

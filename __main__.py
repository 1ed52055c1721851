"""The tavus-recording program: read the stack config, build one destination, export what Tavus needs."""

import sys

# Pulumi may make .venv with whatever `python3` is first on PATH; say so before an import fails.
if sys.version_info < (3, 11):
    sys.exit(
        "tavus-recording needs Python 3.11 or newer, but Pulumi runs it with Python "
        f"{sys.version_info.major}.{sys.version_info.minor} ({sys.executable}): delete .venv and run `make setup` "
        "with a newer python3 on PATH (or set PULUMI_PYTHON_CMD to one)"
    )

import pulumi  # noqa: E402  (after the version check, which must run on any Python)

from components import tavus  # noqa: E402
from components.settings import StackSettings, args_for, config_key, load_settings, secret_fields  # noqa: E402

# The component's name prefixes every child (bucket, role, ...), and so auto-named buckets.
COMPONENT_NAME = "tavus-recordings"


def build_s3(settings: StackSettings) -> pulumi.Output:
    # Imported only for s3, so GCS and Azure stacks never load the AWS SDK.
    from components.aws import S3RecordingStorage, S3RecordingStorageArgs

    storage = S3RecordingStorage(COMPONENT_NAME, args_for(settings, S3RecordingStorageArgs, SECRETS))
    for name in ("bucket_name", "bucket_arn") + (() if revoked(settings) else ("role_arn",)):
        export(name, getattr(storage, name))
    if settings.audit_logs:  # verify reads the trail and its log bucket by these
        for name in ("audit_trail_arn", "audit_log_bucket"):
            export(name, getattr(storage, name))
    # The deprecated flat fields carry no ExternalId: Tavus can only use them with its default one.
    if settings.external_id == tavus.DEFAULT_EXTERNAL_ID and not revoked(settings):
        export("legacy_properties", storage.recording_storage.apply(tavus.legacy_properties))
    return storage.recording_storage


def export(name: str, value: object) -> None:
    """A stack output; a secret one when any setting is: it may have been made from it."""
    pulumi.export(name, pulumi.Output.secret(value) if SECRETS else value)


def export_federation(settings: StackSettings) -> None:
    """The token Tavus presents, so `verify` can compare the live trust with what was asked for."""
    export("tavus_oidc_issuer", settings.tavus_oidc_issuer)
    export("tavus_oidc_subject", settings.tavus_oidc_subject)
    if settings.tavus_oidc_audience:
        export("tavus_oidc_audience", settings.tavus_oidc_audience)


def build_gcs(settings: StackSettings) -> pulumi.Output:
    from components.gcp import GcsRecordingStorage, GcsRecordingStorageArgs

    storage = GcsRecordingStorage(COMPONENT_NAME, args_for(settings, GcsRecordingStorageArgs, SECRETS))
    for name in ("bucket_name", "workload_identity_provider", "service_account_email"):
        export(name, getattr(storage, name))
    export_federation(settings)
    # verify holds the bucket's default key to it: none (null) means Google-managed keys.
    pulumi.export("kms_key_name", settings.kms_key_name)
    return storage.recording_storage


def build_azure_blob(settings: StackSettings) -> pulumi.Output:
    from components.azure import AzureBlobRecordingStorage, AzureBlobRecordingStorageArgs

    storage = AzureBlobRecordingStorage(COMPONENT_NAME, args_for(settings, AzureBlobRecordingStorageArgs, SECRETS))
    names = ("storage_account", "container", "container_id", "client_id", "tenant_id")
    # verify reads the identity by these, so it never has to search the subscription.
    for name in names + ("subscription_id", "resource_group_name", "identity_id"):
        export(name, getattr(storage, name))
    export_federation(settings)
    # verify holds the account's encryption to it: none (null) means Microsoft-managed keys.
    pulumi.export("key_vault_key_uri", settings.key_vault_key_uri)
    # ...and the identity the account uses the key as: none (null) without a key.
    export("encryption_identity_id", storage.encryption_identity_id)
    if settings.audit_logs:
        # verify reads the log account by it.
        export("audit_log_account", storage.audit_log_account)
    return storage.recording_storage


def revoked(settings: StackSettings) -> bool:
    """tavusAccess: revoked, the trust and the grant removed: nothing that lets Tavus write is exported."""
    return settings.tavus_access == tavus.TAVUS_ACCESS_REVOKED


def storage_managed(settings: StackSettings) -> bool:
    """False when the stack grants on storage that already exists: it then creates and changes none of it."""
    existing = settings.existing_storage_account if settings.provider == "azure_blob" else settings.existing_bucket
    return not existing


BUILDERS = {"s3": build_s3, "gcs": build_gcs, "azure_blob": build_azure_blob}
# The pip extra that brings each provider's SDK.
EXTRAS = {"s3": "aws", "gcs": "gcp", "azure_blob": "azure"}

settings = load_settings()
SECRETS = secret_fields()
build = BUILDERS.get(settings.provider)
if build is None:
    raise pulumi.RunError(
        f"{config_key('provider')}: '{settings.provider}' is a Tavus provider this version of the kit "
        f"cannot build yet; it builds: {', '.join(BUILDERS)}"
    )
try:
    recording_storage = build(settings)
except ModuleNotFoundError as missing:
    extra = EXTRAS[settings.provider]
    raise pulumi.RunError(
        f"provider {settings.provider} needs the {missing.name} package, which is not installed: "
        f"run `make setup CLOUDS={extra}` (or pip install -e '.[{extra}]') and try again"
    ) from None
if revoked(settings):
    # No recording_storage, conversation_properties or recording_storage_json: an app that still reads one
    # fails loudly at `pulumi stack output` instead of sending Tavus a destination it may no longer write to.
    pulumi.export("tavus_access", tavus.TAVUS_ACCESS_REVOKED)
else:
    export("recording_storage", recording_storage)
    export("conversation_properties", recording_storage.apply(tavus.conversation_properties))
    export("recording_storage_json", recording_storage.apply(tavus.recording_storage_json))
# verify reads it: `pulumi up` cannot restore a setting on storage the stack does not manage.
pulumi.export("storage_managed", storage_managed(settings))
# verify holds lifecycle rules to it: none (null) means recordings are kept.
pulumi.export("retention_days", settings.retention_days)
# verify holds lifecycle transitions to it: none (null) means recordings stay in their first class.
pulumi.export("cold_after_days", settings.cold_after_days)
# verify holds WORM retention to these: none (null) means recordings can be deleted and overwritten.
pulumi.export("immutable_days", settings.immutable_days)
pulumi.export("immutable_mode", settings.worm_mode)
# verify holds the audit log to it.
pulumi.export("audit_logs", settings.audit_logs)

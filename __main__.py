"""The tavus-recording program: read the stack config, build one destination, export what Tavus needs."""

import pulumi

from components import tavus
from components.settings import StackSettings, args_for, config_key, load_settings

# The component's name prefixes every child (bucket, role, ...), and so auto-named buckets.
COMPONENT_NAME = "tavus-recordings"


def build_s3(settings: StackSettings) -> pulumi.Output:
    # Imported only for s3, so GCS and Azure stacks never load the AWS SDK.
    from components.aws import S3RecordingStorage, S3RecordingStorageArgs

    storage = S3RecordingStorage(COMPONENT_NAME, args_for(settings, S3RecordingStorageArgs))
    for name in ("bucket_name", "bucket_arn", "role_arn"):
        pulumi.export(name, getattr(storage, name))
    pulumi.export("legacy_properties", storage.recording_storage.apply(tavus.legacy_properties))
    return storage.recording_storage


def export_federation(settings: StackSettings) -> None:
    """The token Tavus presents, so `verify` can compare the live trust with what was asked for."""
    pulumi.export("tavus_oidc_issuer", settings.tavus_oidc_issuer)
    pulumi.export("tavus_oidc_subject", settings.tavus_oidc_subject)
    if settings.tavus_oidc_audience:
        pulumi.export("tavus_oidc_audience", settings.tavus_oidc_audience)


def build_gcs(settings: StackSettings) -> pulumi.Output:
    from components.gcp import GcsRecordingStorage, GcsRecordingStorageArgs

    storage = GcsRecordingStorage(COMPONENT_NAME, args_for(settings, GcsRecordingStorageArgs))
    for name in ("bucket_name", "workload_identity_provider", "service_account_email"):
        pulumi.export(name, getattr(storage, name))
    export_federation(settings)
    return storage.recording_storage


def build_azure_blob(settings: StackSettings) -> pulumi.Output:
    from components.azure import AzureBlobRecordingStorage, AzureBlobRecordingStorageArgs

    storage = AzureBlobRecordingStorage(COMPONENT_NAME, args_for(settings, AzureBlobRecordingStorageArgs))
    names = ("storage_account", "container", "container_id", "client_id", "tenant_id")
    # verify reads the identity by these, so it never has to search the subscription.
    for name in names + ("subscription_id", "resource_group_name", "identity_id"):
        pulumi.export(name, getattr(storage, name))
    export_federation(settings)
    return storage.recording_storage


def storage_managed(settings: StackSettings) -> bool:
    """False when the stack grants on storage that already exists: it then creates and changes none of it."""
    existing = settings.existing_storage_account if settings.provider == "azure_blob" else settings.existing_bucket
    return not existing


BUILDERS = {"s3": build_s3, "gcs": build_gcs, "azure_blob": build_azure_blob}
# The pip extra that brings each provider's SDK.
EXTRAS = {"s3": "aws", "gcs": "gcp", "azure_blob": "azure"}

settings = load_settings()
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
pulumi.export("recording_storage", recording_storage)
pulumi.export("conversation_properties", recording_storage.apply(tavus.conversation_properties))
pulumi.export("recording_storage_json", recording_storage.apply(tavus.recording_storage_json))
# verify reads it: `pulumi up` cannot restore a setting on storage the stack does not manage.
pulumi.export("storage_managed", storage_managed(settings))

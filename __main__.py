"""The tavus-recording program: read the stack config, build one destination, export what Tavus needs."""

import pulumi

from components import tavus
from components.settings import StackSettings, config_key, load_settings

# The component's name prefixes every child (bucket, role, ...), and so auto-named buckets.
COMPONENT_NAME = "tavus-recordings"


def build_s3(settings: StackSettings) -> pulumi.Output:
    # Imported only for s3, so GCS and Azure stacks never load the AWS SDK.
    from components.aws import S3RecordingStorage

    storage = S3RecordingStorage(
        COMPONENT_NAME,
        {
            "bucket_name": settings.bucket_name,
            "external_id": settings.external_id,
            "kms_key_arn": settings.kms_key_arn,
            "retention_days": settings.retention_days,
            "noncurrent_version_days": settings.noncurrent_version_days,
        },
    )
    pulumi.export("bucket_name", storage.bucket_name)
    pulumi.export("bucket_arn", storage.bucket_arn)
    pulumi.export("role_arn", storage.role_arn)
    pulumi.export("legacy_properties", storage.recording_storage.apply(tavus.legacy_properties))
    return storage.recording_storage


BUILDERS = {"s3": build_s3}

settings = load_settings()
build = BUILDERS.get(settings.provider)
if build is None:
    raise pulumi.RunError(
        f"{config_key('provider')}: '{settings.provider}' is a Tavus provider this version of the kit "
        f"cannot build yet; it builds: {', '.join(BUILDERS)}"
    )
recording_storage = build(settings)
pulumi.export("recording_storage", recording_storage)
pulumi.export("conversation_properties", recording_storage.apply(tavus.conversation_properties))

"""Pulumi components that give Tavus a recording destination in a bucket you own.

Each cloud's component is imported on first use, so an AWS-only install never loads the GCP or
Azure SDKs: `from components import S3RecordingStorage`.
"""

from importlib import import_module
from typing import Any

_COMPONENTS = {
    "S3RecordingStorage": "components.aws",
    "S3RecordingStorageArgs": "components.aws",
    "GcsRecordingStorage": "components.gcp",
    "GcsRecordingStorageArgs": "components.gcp",
    "AzureBlobRecordingStorage": "components.azure",
    "AzureBlobRecordingStorageArgs": "components.azure",
}

__all__ = sorted(_COMPONENTS)


def __getattr__(name: str) -> Any:
    if name in _COMPONENTS:
        return getattr(import_module(_COMPONENTS[name]), name)
    raise AttributeError(f"module 'components' has no attribute {name!r}")

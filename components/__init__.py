"""Pulumi components that give Tavus a recording destination in a bucket you own.

Each cloud's component is imported on first use, so an AWS-only install never loads the GCP or
Azure SDKs: `from components import S3RecordingStorage`.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    # For type checkers only: at run time `__getattr__` imports each on first use.
    from components.aws import S3RecordingStorage, S3RecordingStorageArgs
    from components.azure import AzureBlobRecordingStorage, AzureBlobRecordingStorageArgs
    from components.gcp import GcsRecordingStorage, GcsRecordingStorageArgs

_COMPONENTS = {
    "S3RecordingStorage": "components.aws",
    "S3RecordingStorageArgs": "components.aws",
    "GcsRecordingStorage": "components.gcp",
    "GcsRecordingStorageArgs": "components.gcp",
    "AzureBlobRecordingStorage": "components.azure",
    "AzureBlobRecordingStorageArgs": "components.azure",
}

# Spelled out (the keys of _COMPONENTS, sorted) so type checkers can read it.
__all__ = [
    "AzureBlobRecordingStorage",
    "AzureBlobRecordingStorageArgs",
    "GcsRecordingStorage",
    "GcsRecordingStorageArgs",
    "S3RecordingStorage",
    "S3RecordingStorageArgs",
]


def __getattr__(name: str) -> Any:
    if name in _COMPONENTS:
        return getattr(import_module(_COMPONENTS[name]), name)
    raise AttributeError(f"module 'components' has no attribute {name!r}")

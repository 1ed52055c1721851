"""The tavus-recording component package: hosts S3RecordingStorage, GcsRecordingStorage and
AzureBlobRecordingStorage for Pulumi programs in any language.

The Pulumi CLI starts it as `python provider <engine address>`, reads the port it prints, then asks
it for the schema (GetSchema) and to build components (Construct).
"""

import sys

from pulumi.provider import main

from tavus_recording.package import provider

if __name__ == "__main__":
    # What `component_provider_host` does, with the provider that also takes integer inputs as
    # Outputs (see tavus_recording.package).
    main(provider(), sys.argv[1:])

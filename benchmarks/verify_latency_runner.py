"""One side of benchmarks/verify_latency.py: runs one cloud's `verify` on command and says how long each took.

Started with PYTHONPATH set to a tree of the kit (the working tree, or the one before issue 20), so the
`tavus_recording` and `components` it imports are that tree's; its first line says which files those are.
It reads a spec (JSON: cloud, its endpoints by name, outputs, and for Azure the CA file the fake's
certificate is under), then, for each line "run NAME" on stdin, verifies the healthy stack against the
endpoint NAME once and prints one JSON line: the seconds `verify` took, and the checks that did not pass
(none, on a healthy stack). It never imports the tests' fakes: only the kit's verify code differs
between the two trees.

The protocol lines go to the real stdout; anything else printed goes to stderr.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any, Callable, TextIO

Verify = Callable[[str], list[Any]]

TOKEN = "fake-token-0123456789"


def _aws(spec: dict[str, Any]) -> Verify:
    import boto3

    from components import tavus
    from tavus_recording.verify import aws

    storage = tavus.S3RecordingStorageConfig.model_validate(spec["outputs"]["recording_storage"])
    # One session for every run, as one `verify` has one: botocore loads each service model once (in the warm-up run).
    session = boto3.Session()

    def verify(url: str) -> list[Any]:
        # botocore reads the endpoint from the environment as each client is made, as a user's shell would set it.
        os.environ["AWS_ENDPOINT_URL"] = url
        return aws.verify(storage, spec["outputs"], session)

    return verify


def _gcs(spec: dict[str, Any]) -> Verify:
    from google.oauth2.credentials import Credentials

    from components import tavus
    from tavus_recording.verify import gcp

    storage = tavus.GcsRecordingStorageConfig.model_validate(spec["outputs"]["recording_storage"])
    return lambda url: gcp.verify(storage, spec["outputs"], credentials=Credentials(token=TOKEN), iam_url=url, storage_url=url,
                              crm_url=url, kms_url=url)


class _StaticCredential:
    """A TokenCredential whose token the fake accepts; no Entra ID round trip, as in the tests."""

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        from azure.core.credentials import AccessToken

        return AccessToken(TOKEN, int(time.time()) + 3600)

    def get_token_info(self, *scopes: str, options: Any = None) -> Any:
        from azure.core.credentials import AccessTokenInfo

        return AccessTokenInfo(TOKEN, int(time.time()) + 3600)


def _azure(spec: dict[str, Any]) -> Verify:
    from components import tavus
    from tavus_recording.verify import azure

    storage = tavus.AzureBlobRecordingStorageConfig.model_validate(spec["outputs"]["recording_storage"])
    # The kit's own client defaults (timeouts, one retry); only the endpoint and the fake's CA are the benchmark's.
    return lambda url: azure.verify(storage, spec["outputs"], credential=_StaticCredential(), base_url=url,  # type: ignore[arg-type]
                                connection_verify=spec["ca_path"])


CLOUDS = {"aws": ("tavus_recording.verify.aws", _aws), "gcs": ("tavus_recording.verify.gcp", _gcs),
          "azure": ("tavus_recording.verify.azure", _azure)}


def main(spec_path: str, out: TextIO) -> int:
    with open(spec_path) as spec_file:
        spec = json.load(spec_file)
    module_name, prepare = CLOUDS[spec["cloud"]]
    verify = prepare(spec)
    import components

    files = {"verify": sys.modules[module_name].__file__, "components": components.__file__}
    out.write(json.dumps({"ready": True, "files": files}) + "\n")
    out.flush()
    for line in sys.stdin:
        command, _, endpoint = line.strip().partition(" ")
        if command != "run" or endpoint not in spec["urls"]:
            break
        started = time.perf_counter()
        try:
            checks = verify(spec["urls"][endpoint])
        except Exception as error:  # noqa: BLE001 - reported to the benchmark, which stops
            out.write(json.dumps({"error": f"{type(error).__name__}: {error}"}) + "\n")
            out.flush()
            return 1
        seconds = time.perf_counter() - started
        out.write(json.dumps({"seconds": seconds, "not_ok": [check.id for check in checks if check.ok is not True]}) + "\n")
        out.flush()
    return 0


if __name__ == "__main__":
    # The protocol keeps the real stdout; a library that prints cannot break it.
    protocol = os.fdopen(os.dup(sys.stdout.fileno()), "w")
    sys.stdout = sys.stderr
    sys.exit(main(sys.argv[1], protocol))

"""Read a deployed stack's outputs: from a file, or from `pulumi stack output` for a stack."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any, Optional

from pydantic import TypeAdapter, ValidationError

from components import tavus

_STORAGE = TypeAdapter(tavus.RecordingStorage)
# Long enough for a remote backend, short enough that a hung CLI does not hang verify.
PULUMI_TIMEOUT_SECONDS = 60


class OutputsError(Exception):
    """The outputs could not be read; the message says what is missing and how to fix it."""


def _command(stack: str) -> list[str]:
    return ["pulumi", "stack", "output", "--json", "--show-secrets", "--stack", stack]


def read_outputs(stack: str = "dev", outputs_file: Optional[Path] = None, cwd: Optional[Path] = None) -> dict[str, Any]:
    """The stack's outputs as `pulumi stack output --json --show-secrets` prints them."""
    if outputs_file is not None:
        try:
            text = outputs_file.read_text()
        except OSError as exc:
            raise OutputsError(f"cannot read outputs file {outputs_file}: {exc.strerror}") from None
        source = str(outputs_file)
    else:
        command = _command(stack)
        try:
            done = subprocess.run(
                command, cwd=cwd, capture_output=True, text=True, timeout=PULUMI_TIMEOUT_SECONDS, check=False
            )
        except FileNotFoundError:
            raise OutputsError(
                "the Pulumi CLI is not installed, so the stack's outputs cannot be read: install it "
                f"(https://www.pulumi.com/docs/install/) or pass --outputs FILE, written by `{' '.join(command)}`"
            ) from None
        except subprocess.TimeoutExpired:
            raise OutputsError(f"`{' '.join(command)}` did not answer in {PULUMI_TIMEOUT_SECONDS} s") from None
        if done.returncode != 0:
            reason = (done.stderr.strip().splitlines() or ["no message"])[-1]
            raise OutputsError(f"`{' '.join(command)}` failed: {reason}")
        text, source = done.stdout, f"stack {stack}"
    try:
        outputs = json.loads(text)
    except ValueError:
        raise OutputsError(f"{source} is not JSON: expected what `pulumi stack output --json --show-secrets` prints") from None
    if not isinstance(outputs, dict):
        raise OutputsError(f"{source} is not a JSON object of stack outputs")
    return outputs


def recording_storage(outputs: dict[str, Any], source: str) -> tavus.S3RecordingStorageConfig | tavus.GcsRecordingStorageConfig | tavus.AzureBlobRecordingStorageConfig:
    """The stack's `recording_storage`, checked against the API's shape."""
    value = outputs.get("recording_storage")
    if value is None:
        raise OutputsError(
            f"{source} has no recording_storage output: deploy the stack with `pulumi up` first, "
            "or point --outputs at this project's stack outputs"
        )
    if isinstance(value, str):  # `[secret]` when --show-secrets was left out
        raise OutputsError(f"recording_storage in {source} is {value!r}, not an object: run pulumi stack output with --show-secrets")
    try:
        return _STORAGE.validate_python(value)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'][1:])) or 'provider'}: {e['msg']}" for e in exc.errors())
        raise OutputsError(f"recording_storage in {source} is not a valid Tavus recording_storage ({problems})") from None

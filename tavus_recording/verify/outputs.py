"""Read a deployed stack's outputs: from a file, or from `pulumi stack output` for a stack.

Both go through the bounded readers (input_files): a regular file of at most MAX_JSON_BYTES, or at most
that much of what the Pulumi CLI prints, as strict UTF-8 JSON. The copies of `recording_storage` the
outputs carry must agree with it, so `--tavus` and the cloud checks judge the same destination.
"""

from __future__ import annotations

import os
import subprocess
import threading
from importlib import import_module
from pathlib import Path
from typing import IO, Any, Optional

from pydantic import TypeAdapter, ValidationError

from components import tavus
from tavus_recording.input_files import MAX_JSON_BYTES, InputFileError, decode, describe, parse_json, read_json_file
from tavus_recording.terminal import printable
from tavus_recording.verify.redact import excerpt, redact

_STORAGE = TypeAdapter(tavus.RecordingStorage)
# Long enough for a remote backend, short enough that a hung CLI does not hang verify.
PULUMI_TIMEOUT_SECONDS = 60
# What the refusals say to give instead.
HINT = "expected what `pulumi stack output --json --show-secrets` prints"
# Of what the Pulumi CLI says on stderr, only the end is kept: its last line says why it failed.
MAX_MESSAGE_BYTES = 64 << 10


# How much of a value, a key or the Pulumi CLI's message a refusal quotes, and how long it may be in all.
MAX_QUOTED = 200
MAX_REASON = 300
MAX_MESSAGE = 6000


def _secret() -> str:
    return os.environ.get("TAVUS_API_KEY", "")


def shown(text: str, limit: int = MAX_QUOTED) -> str:
    """What a refusal quotes of `text` from outside: the Tavus API key masked in any spelling, control
    characters (newlines too) escaped, cut to `limit` characters. Only the start is looked at (a cut key at
    its end is masked too), so a 3 MB value costs no more than a short one."""
    head = text[: limit * 2 + 256]
    quoted = excerpt(head, _secret(), limit)
    if len(head) < len(text) and not quoted.endswith("…"):
        quoted = quoted[: max(limit - 1, 0)] + "…"
    return quoted


def _repr(value: Any, limit: int = MAX_QUOTED) -> str:
    """`value` as Python writes it (quotes around text), for a refusal: see `shown`."""
    if isinstance(value, str):
        return shown(repr(value[: limit * 2 + 256]), limit)
    if isinstance(value, (dict, list)):
        return describe(value)
    return shown(repr(value), limit)


class OutputsError(Exception):
    """The outputs could not be read; the message, one printable line of bounded length, says what is
    missing and how to fix it."""

    def __init__(self, message: str) -> None:
        # Its parts from outside were quoted through `shown`; this is the last word, for whatever was not.
        if len(message) > MAX_MESSAGE:  # its start and its end (what to do), each redacted on its own
            message = f"{redact(message[: MAX_MESSAGE // 2], _secret())}…{redact(message[-(MAX_MESSAGE // 2 - 1):], _secret())}"
        else:
            message = redact(message, _secret())
        line = printable(message)
        if len(line) > MAX_MESSAGE:  # escapes made it longer
            line = line[: MAX_MESSAGE // 2] + "…" + line[-(MAX_MESSAGE // 2 - 1):]
        super().__init__(line)


def _command(stack: str) -> list[str]:
    return ["pulumi", "stack", "output", "--json", "--show-secrets", "--stack", stack]


def _child_environment() -> dict[str, str]:
    """This process's environment without the Tavus settings: the Pulumi CLI needs none of them, and what
    it does not have it cannot print (its error messages may quote its environment)."""
    return {name: value for name, value in os.environ.items() if not name.upper().startswith("TAVUS_")}


class _Drain(threading.Thread):
    """Reads a child's pipe to its end, keeping at most `keep` bytes: the first ones (`on_full` is called
    once there are more), or the last ones."""

    def __init__(self, pipe: IO[bytes], keep: int, on_full: Optional[Any] = None) -> None:
        super().__init__(daemon=True)
        self.pipe, self.keep, self.on_full = pipe, keep, on_full
        self.data = bytearray()
        self.overflowed = False

    def run(self) -> None:
        descriptor = self.pipe.fileno()
        try:
            while chunk := os.read(descriptor, 1 << 16):
                self.data += chunk
                if len(self.data) > self.keep:
                    if self.on_full is not None:
                        self.overflowed = True
                        self.on_full()
                        return
                    del self.data[: len(self.data) - self.keep]
        except OSError:  # the pipe closed under us: what was read is what there is
            pass


def _pulumi_output(stack: str, cwd: Optional[Path]) -> bytes:
    """What `pulumi stack output` prints for `stack`: at most MAX_JSON_BYTES, within PULUMI_TIMEOUT_SECONDS."""
    command = _command(stack)
    shown_command = printable(" ".join(command))
    try:
        process = subprocess.Popen(
            command, cwd=cwd, env=_child_environment(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
    except FileNotFoundError:
        raise OutputsError(
            "the Pulumi CLI is not installed, so the stack's outputs cannot be read: install it "
            f"(https://www.pulumi.com/docs/install/) or pass --outputs FILE, written by `{shown_command}`"
        ) from None
    assert process.stdout is not None and process.stderr is not None
    # Both pipes drained at once (a child blocked writing one never exits), each bounded.
    out = _Drain(process.stdout, MAX_JSON_BYTES, on_full=process.kill)
    err = _Drain(process.stderr, MAX_MESSAGE_BYTES)
    out.start()
    err.start()
    try:
        process.wait(timeout=PULUMI_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise OutputsError(f"`{shown_command}` did not answer in {PULUMI_TIMEOUT_SECONDS} s") from None
    finally:
        # A grandchild may hold a pipe open after the CLI exits: wait a little, then go on without it.
        out.join(5)
        err.join(5)
        process.stdout.close()
        process.stderr.close()
    if out.overflowed:
        raise OutputsError(
            f"`{shown_command}` printed more than {MAX_JSON_BYTES >> 20} MiB, far more than a stack's outputs: "
            "is the `pulumi` on PATH the Pulumi CLI?"
        )
    if process.returncode != 0:
        # The last line that says anything, split at newlines only: a `\r` in it is shown, not obeyed.
        lines = [line for line in bytes(err.data).decode("utf-8", "replace").split("\n") if line.strip()]
        reason = shown(lines[-1].strip(), MAX_REASON) if lines else "no message"
        raise OutputsError(f"`{shown_command}` failed: {reason}")
    return bytes(out.data)


def read_outputs(stack: str = "dev", outputs_file: Optional[Path] = None, cwd: Optional[Path] = None) -> dict[str, Any]:
    """The stack's outputs as `pulumi stack output --json --show-secrets` prints them."""
    try:
        if outputs_file is not None:
            source = str(outputs_file)
            outputs = read_json_file(outputs_file, HINT, MAX_JSON_BYTES, source)
        else:
            source = f"stack {stack}"
            outputs = parse_json(decode(_pulumi_output(stack, cwd), source), source, HINT)
    except InputFileError as exc:
        raise OutputsError(str(exc)) from None
    if not isinstance(outputs, dict):
        raise OutputsError(f"{source} is not a JSON object of stack outputs")
    return outputs


# tavus_access: revoked exports no recording_storage. A cloud whose verify checks such a stack the other way
# round (nothing lets Tavus in) is listed here: an output only its stacks export -> its module, whose
# `revoked_storage(outputs, source)` rebuilds what it reads from the outputs left (its `verify` sees
# tavus_access and judges so). A cloud not listed stops with exit 2.
REVOKED_VERIFIERS: dict[str, str] = {
    "workload_identity_provider": "tavus_recording.verify.gcp_revoked",
    "identity_id": "tavus_recording.verify.azure_revoked",
    "bucket_arn": "tavus_recording.verify.aws_revoked",
}


def revoked_storage(outputs: dict[str, Any], source: str) -> Optional[tavus.S3RecordingStorageConfig | tavus.GcsRecordingStorageConfig | tavus.AzureBlobRecordingStorageConfig]:
    """What a revoked stack's verify reads, from its cloud's module in REVOKED_VERIFIERS; None for a cloud not listed."""
    module = next((m for marker, m in REVOKED_VERIFIERS.items() if marker in outputs), None)
    if module is None:
        return None
    try:
        verifier = import_module(module)
    except ModuleNotFoundError as missing:  # the cloud's SDK is an extra
        raise OutputsError(f"verifying this revoked stack needs the {missing.name} package: run `make setup` with its cloud in "
                           "CLOUDS (or pip install -e '.[<cloud>]')") from None
    return verifier.revoked_storage(outputs, source)


def recording_storage(outputs: dict[str, Any], source: str) -> tavus.S3RecordingStorageConfig | tavus.GcsRecordingStorageConfig | tavus.AzureBlobRecordingStorageConfig:
    """The stack's `recording_storage`, checked against the API's shape."""
    value = outputs.get("recording_storage")
    if outputs.get("tavus_access") == tavus.TAVUS_ACCESS_REVOKED:
        revoked = revoked_storage(outputs, source)
        if revoked is not None:
            return revoked
        raise OutputsError(
            f"this stack's Tavus access is revoked ({source} has tavus_access: revoked): it exports no recording_storage "
            "and verify cannot yet check that nothing lets Tavus in; to let Tavus write again, set tavusAccess to granted "
            "and run `pulumi up` (README: Incident: cut Tavus off)"
        )
    if value is None:
        raise OutputsError(
            f"{source} has no recording_storage output: deploy the stack with `pulumi up` first, "
            "or point --outputs at this project's stack outputs"
        )
    if isinstance(value, str):  # `[secret]` when --show-secrets was left out
        raise OutputsError(
            f"recording_storage in {source} is {_repr(value)}, not an object: run pulumi stack output with --show-secrets"
        )
    try:
        return _STORAGE.validate_python(value)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False)
        problems = "; ".join(
            f"{shown('.'.join(map(str, e['loc'][1:])) or 'provider', 100)}: {shown(e['msg'])}" for e in errors[:5]
        ) + (f"; and {len(errors) - 5} more" if len(errors) > 5 else "")
        raise OutputsError(f"recording_storage in {source} is not a valid Tavus recording_storage ({problems})") from None


def _disagreement(copy_name: str, copy: Any, storage: dict[str, Any]) -> Optional[str]:
    """How `copy` (the output `copy_name`) differs from `recording_storage`, at its first differing field, or None."""
    if not isinstance(copy, dict):
        return f"{copy_name} is {describe(copy)}, but recording_storage is an object"
    for field in [*storage, *(name for name in copy if name not in storage)]:
        name = shown(str(field), 100)
        if field not in copy:
            return f"{copy_name}.{name} is missing, but recording_storage.{name} is {_repr(storage[field])}"
        if field not in storage:
            return f"{copy_name}.{name} is {_repr(copy[field])}, but recording_storage.{name} is not set"
        if type(copy[field]) is not type(storage[field]) or copy[field] != storage[field]:
            return f"{copy_name}.{name} is {_repr(copy[field])}, but recording_storage.{name} is {_repr(storage[field])}"
    return None


def tavus_properties(
    outputs: dict[str, Any],
    storage: tavus.S3RecordingStorageConfig | tavus.GcsRecordingStorageConfig | tavus.AzureBlobRecordingStorageConfig,
    source: str,
) -> dict[str, Any]:
    """The conversation_properties `verify --tavus` sends: built from `storage` (what the cloud checks read),
    once the outputs' own copies of it (conversation_properties, recording_storage_json) agree with it."""
    expected = storage.model_dump()
    problem: Optional[str] = None
    properties = outputs.get("conversation_properties")
    if properties is not None:
        if not isinstance(properties, dict):
            problem = f"conversation_properties is {describe(properties)}, not an object"
        elif "enable_recording" in properties and properties["enable_recording"] is not True:
            problem = f"conversation_properties.enable_recording is {_repr(properties['enable_recording'])}, not true"
        elif "recording_storage" in properties:
            problem = _disagreement("conversation_properties.recording_storage", properties["recording_storage"], expected)
    as_json = outputs.get("recording_storage_json")
    if problem is None and as_json is not None:
        if not isinstance(as_json, str):
            problem = f"recording_storage_json is {describe(as_json)}, not the JSON text of recording_storage"
        else:
            try:
                parsed = parse_json(as_json, f"{source}: recording_storage_json", "it should be recording_storage as JSON text")
            except InputFileError as exc:
                raise OutputsError(str(exc)) from None
            problem = _disagreement("recording_storage_json", parsed, expected)
    if problem is not None:
        raise OutputsError(
            f"{source}: {problem}: the outputs disagree, so Tavus and the cloud checks would be asked about different "
            "destinations; write the file again with `pulumi stack output --json --show-secrets`"
        )
    return tavus.conversation_properties(expected)

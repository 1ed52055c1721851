"""The offline plan, rendered: every resource a stack registers on the mock engine, and its outputs.

`plan_document` is the JSON form (`--json`); `render_text` the one a reviewer reads.
"""

from __future__ import annotations

import json
from typing import Any

from tavus_recording.mock_engine import PLACEHOLDER_NOTE, ProgramRun, Read, Registration

# Lookups of storage the user already has, and what the reviewer should know about each.
EXISTING_STORAGE = {
    "aws:s3/getBucket:getBucket": (
        "an existing S3 bucket, not managed by this stack: no setting on it is created, changed or deleted. "
        "Tavus needs versioning on; after `pulumi up`, `verify` checks it with public access, encryption and TLS."
    ),
    "gcp:storage/getBucket:getBucket": (
        "an existing Cloud Storage bucket, not managed by this stack: only the writer's objectCreator grant is added."
    ),
    "azure-native:storage:getBlobContainer": (
        "an existing container, not managed by this stack: only the identity's role assignment on it is added."
    ),
}


def _plain(value: Any) -> Any:
    """Values for display: JSON documents decoded, whole floats (protobuf numbers) as ints."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.startswith("{"):
        try:
            return _plain(json.loads(value))
        except ValueError:
            return value
    return value


def plan_document(stack: str, run: ProgramRun, stack_file: str) -> dict[str, Any]:
    """The plan as one JSON-able object: `resources` (each with `type` and `name`) and `outputs`."""
    return {
        "project": "tavus-recording",
        "stack": stack,
        "stack_file": stack_file,
        "note": PLACEHOLDER_NOTE,
        "resources": [
            {
                "type": r.type,
                "name": r.name,
                "parent": r.parent,
                "retain_on_delete": r.retain_on_delete,
                "protect": r.protect,
                "depends_on": r.depends_on,
                "id": r.id if r.custom else None,
                "inputs": _plain(r.inputs),
            }
            for r in run.registrations
        ],
        "reads": [
            {"token": read.token, "args": _plain(read.args), "note": EXISTING_STORAGE.get(read.token)} for read in run.reads
        ],
        "outputs": _plain(run.outputs),
    }


def _indent(text: str, prefix: str) -> str:
    return "\n".join(prefix + line for line in text.splitlines())


def _render_value(key: str, value: Any, prefix: str) -> str:
    if isinstance(value, (dict, list)):
        return f"{prefix}{key}:\n{_indent(json.dumps(value, indent=2), prefix + '    ')}"
    return f"{prefix}{key}: {json.dumps(value)}"


def _render_resource(r: Registration, children: dict[str, list[Registration]], depth: int) -> list[str]:
    prefix = "  " * depth
    flags = [flag for flag, on in (("kept on destroy", r.retain_on_delete), ("protected", r.protect)) if on]
    lines = [f"{prefix}+ {r.type}  {r.name}" + (f"  [{', '.join(flags)}]" if flags else "")]
    if r.custom:
        lines.append(f"{prefix}    (id: {r.id})")
    for key, value in sorted(_plain(r.inputs).items()):
        lines.append(_render_value(key, value, prefix + "    "))
    for child in children.get(r.urn, []):
        lines.extend(_render_resource(child, children, depth + 1))
    return lines


def _render_read(read: Read) -> list[str]:
    lines = [f"  = {read.token}  {json.dumps(_plain(read.args), sort_keys=True)}"]
    if read.token in EXISTING_STORAGE:
        lines.append(f"      {EXISTING_STORAGE[read.token]}")
    return lines


def render_text(stack: str, run: ProgramRun, stack_file: str) -> str:
    """The plan for a human reviewer."""
    children: dict[str, list[Registration]] = {}
    for r in run.registrations:
        children.setdefault(r.parent, []).append(r)
    urns = {r.urn for r in run.registrations}
    roots = [r for r in run.registrations if r.parent not in urns]

    lines = [f"Plan for stack '{stack}' ({stack_file}), offline on Pulumi's mock engine.", PLACEHOLDER_NOTE]
    # First, so storage the stack does not manage is the first thing a reviewer reads.
    if run.reads:
        lines += ["", "Read from the cloud, not managed by this stack (nothing there is created, changed or deleted):"]
        for read in run.reads:
            lines.extend(_render_read(read))
    lines += ["", f"Resources ({len(run.registrations)}):"]
    for root in roots:
        lines.extend(_render_resource(root, children, 1))
    lines += ["", "Outputs:"]
    for name, value in _plain(run.outputs).items():
        lines.append(_render_value(name, value, "  "))
    lines += ["", "Deploy with: pulumi up -s " + stack]
    return "\n".join(lines)

"""The plan as one JSON-able object (`plan --json`, and what the text is rendered from), with the notes it
carries on storage that already exists and on the mocks' stand-in ids.
"""

from __future__ import annotations

import json
from typing import Any, Mapping, Optional

from tavus_recording.mock_engine import PLACEHOLDER_NOTE, ProgramRun
from tavus_recording.plan.order import ordered
from tavus_recording.plan.placeholders import placeholders
from tavus_recording.plan.replacement import compare_with_previous, replaced_if_changed
from tavus_recording.plan.summary import summary
from tavus_recording.plan.values import decoded_inputs, plain

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

MOCK_ID_NOTE = (
    "A 'mock id' is the mock engine's stand-in for a resource whose id it cannot shape; it says nothing about the "
    "id the cloud will give. Other ids have the provider's form, with <...> where a part is not known yet."
)


def plan_document(
    stack: str,
    run: ProgramRun,
    stack_file: str,
    previous: Optional[Mapping[str, Any]] = None,
    previous_file: str = "",
    project: str = "tavus-recording",
) -> dict[str, Any]:
    """The plan as one JSON-able object: `resources` (each with `type` and `name`) and `outputs`, typed as exported."""
    resources = [
        {
            "type": r.type,
            "name": r.name,
            "parent": r.parent,
            "retain_on_delete": r.retain_on_delete,
            "protect": r.protect,
            "depends_on": sorted(r.depends_on),
            "id": r.id if r.custom else None,
            "id_is_mock": r.mock_id,
            "inputs": plain(r.inputs),
            "decoded_inputs": decoded_inputs(r.inputs),
            "replaced_if_changed": replaced_if_changed(r),
        }
        for r in ordered(run.registrations)
    ]
    reads = sorted(
        ({"token": read.token, "args": plain(read.args), "note": EXISTING_STORAGE.get(read.token)} for read in run.reads),
        key=lambda read: (read["token"], json.dumps(read["args"], sort_keys=True)),
    )
    outputs = {name: plain(value) for name, value in run.outputs.items()}
    document: dict[str, Any] = {
        "project": project,
        "stack": stack,
        "stack_file": stack_file,
        "note": PLACEHOLDER_NOTE,
        "mock_id_note": MOCK_ID_NOTE,
        "summary": plain(summary(run)),
        "warnings": [],
        "placeholders": placeholders([resources, reads, outputs]),
        "resources": resources,
        "reads": reads,
        "outputs": outputs,
    }
    if previous is not None:
        document["warnings"] = compare_with_previous(document, previous, previous_file)
    return document


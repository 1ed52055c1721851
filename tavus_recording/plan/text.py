"""The plan as text, for a human reviewer: warnings, summary, placeholders, what is read from the cloud,
the resources as a tree, and the outputs.
"""

from __future__ import annotations

import json
from typing import Any, Mapping, Optional

from tavus_recording.mock_engine import PLACEHOLDER_NOTE, ProgramRun, Registration
from tavus_recording.plan.document import MOCK_ID_NOTE, plan_document
from tavus_recording.plan.order import ordered
from tavus_recording.plan.values import decoded, plain


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
        lines.append(f"{prefix}    ({'mock id' if r.mock_id else 'id'}: {r.id})")
    inputs = plain(r.inputs)
    for key, value in inputs.items():
        document = decoded(value)
        if document is not None:
            # Policy documents are JSON strings; shown decoded, which is how a reviewer reads them.
            lines.append(_render_value(f"{key} (a JSON string, shown decoded)", document, prefix + "    "))
        else:
            lines.append(_render_value(key, value, prefix + "    "))
    for child in children.get(r.urn, []):
        lines.extend(_render_resource(child, children, depth + 1))
    return lines


def _render_read(read: Mapping[str, Any]) -> list[str]:
    lines = [f"  = {read['token']}  {json.dumps(read['args'], sort_keys=True)}"]
    if read["note"]:
        lines.append(f"      {read['note']}")
    return lines


def _render_warnings(warnings: list[dict[str, Any]], previous_file: str) -> list[str]:
    lines = [
        "",
        f"WARNING: compared with {previous_file}, this change replaces storage that is kept on destroy "
        "(advice: the plan still runs):",
    ]
    for warning in warnings:
        lines.append(f"  ! {warning['says']}.")
        lines.append(f"    Do: {warning['do']}.")
    return lines


def render_text(
    stack: str,
    run: ProgramRun,
    stack_file: str,
    previous: Optional[Mapping[str, Any]] = None,
    previous_file: str = "",
    project: str = "tavus-recording",
) -> str:
    """The plan for a human reviewer."""
    document = plan_document(stack, run, stack_file, previous, previous_file, project)
    registrations = ordered(run.registrations)
    children: dict[str, list[Registration]] = {}
    for r in registrations:
        children.setdefault(r.parent, []).append(r)
    urns = {r.urn for r in registrations}
    roots = [r for r in registrations if r.parent not in urns]

    lines = [f"Plan for stack '{stack}' ({stack_file}), offline on Pulumi's mock engine.", PLACEHOLDER_NOTE]
    if document["warnings"]:
        lines += _render_warnings(document["warnings"], previous_file)
    lines += ["", "Summary:"] + [f"  {line}" for line in document["summary"]["lines"]]
    lines += ["", "Placeholders in this plan:"]
    for p in document["placeholders"]:
        lines.append(f"  {p['placeholder']}  ({p['kind']}) {p['stands_for']}")
    if any(r.mock_id for r in registrations):
        lines.append(f"  {MOCK_ID_NOTE}")
    # Before the resources, so storage the stack does not manage is among the first things a reviewer reads.
    if document["reads"]:
        lines += ["", "Read from the cloud, not managed by this stack (nothing there is created, changed or deleted):"]
        for read in document["reads"]:
            lines.extend(_render_read(read))
    lines += ["", f"Resources ({len(registrations)}):"]
    for root in roots:
        lines.extend(_render_resource(root, children, 1))
    lines += ["", "Outputs:"]
    for name, value in document["outputs"].items():
        lines.append(_render_value(name, value, "  "))
    lines += ["", "Deploy with: pulumi up -s " + stack]
    return "\n".join(lines)

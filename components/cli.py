"""`python -m components.cli plan [--stack NAME] [--json]`: what a stack will create, offline.

Runs the real program for a stack file on Pulumi's mock engine and shows every resource with its
settings (trust and permission documents in full) and the stack outputs.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import pulumi
import typer

from components.mock_engine import PLACEHOLDER_NOTE, ProgramRun, Registration, run_program
from components.stack_files import PROJECT_DIR, StackFileError, load_stack_config

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Offline tools for the tavus-recording Pulumi project.",
)


@app.callback()
def main() -> None:
    """Offline tools for the tavus-recording Pulumi project."""


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


def render_text(stack: str, run: ProgramRun, stack_file: str) -> str:
    """The plan for a human reviewer."""
    children: dict[str, list[Registration]] = {}
    for r in run.registrations:
        children.setdefault(r.parent, []).append(r)
    urns = {r.urn for r in run.registrations}
    roots = [r for r in run.registrations if r.parent not in urns]

    lines = [
        f"Plan for stack '{stack}' ({stack_file}), offline on Pulumi's mock engine.",
        PLACEHOLDER_NOTE,
        "",
        f"Resources ({len(run.registrations)}):",
    ]
    for root in roots:
        lines.extend(_render_resource(root, children, 1))
    lines += ["", "Outputs:"]
    for name, value in _plain(run.outputs).items():
        lines.append(_render_value(name, value, "  "))
    lines += ["", "Deploy with: pulumi up -s " + stack]
    return "\n".join(lines)


@app.command()
def plan(
    stack: Annotated[str, typer.Option("--stack", "-s", help="Stack to plan: stacks/Pulumi.<stack>.yaml.")] = "dev",
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object with `resources` and `outputs`.")] = False,
    project_dir: Annotated[Path, typer.Option(help="The project (Pulumi.yaml, __main__.py).")] = PROJECT_DIR,
) -> None:
    """Show every resource, document and output a stack would create, with no cloud account."""
    try:
        stack_config = load_stack_config(stack, project_dir)
        run = run_program(
            stack_config.config, stack=stack, project=stack_config.project, program=project_dir / "__main__.py"
        )
    except (StackFileError, pulumi.RunError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=1) from None
    stack_file = str(stack_config.path.relative_to(project_dir))
    if as_json:
        typer.echo(json.dumps(plan_document(stack, run, stack_file), indent=2))
    else:
        typer.echo(render_text(stack, run, stack_file))


if __name__ == "__main__":
    sys.exit(app())

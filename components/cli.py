"""The kit's verbs.

`plan [--stack NAME] [--json]`: what a stack will create, offline. Runs the real program for a stack
file on Pulumi's mock engine and shows every resource with its settings (trust and permission
documents in full) and the stack outputs.

`verify [--stack NAME | --outputs FILE] [--json] [--tavus] [--replica-id ID]`: whether Tavus can write
to a deployed destination right now, checked against the live cloud (and the Tavus API).

`schema`: the Pulumi package schema the component plugin (provider/) serves to the Pulumi CLI.

`init NAME --provider P [--region R] [--project ID] [--set key=value ...]`: a new stack file,
stacks/Pulumi.NAME.yaml, validated like `plan` reads it before it is written.
"""

from __future__ import annotations

import json
import os
import sys
from importlib import import_module
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from components.stack_files import PROJECT_DIR
from components.tavus import Provider
from components.verify.outputs import OutputsError, read_outputs, recording_storage
from components.verify.report import Report

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="The tavus-recording kit: plan a stack offline, verify a deployed one, start a new one.",
)


@app.callback()
def main() -> None:
    """The tavus-recording kit: plan a stack offline, verify a deployed one, start a new one."""


@app.command()
def plan(
    stack: Annotated[str, typer.Option("--stack", "-s", help="Stack to plan: stacks/Pulumi.<stack>.yaml.")] = "dev",
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object with `resources` and `outputs`.")] = False,
    project_dir: Annotated[Path, typer.Option(help="The project (Pulumi.yaml, __main__.py).")] = PROJECT_DIR,
) -> None:
    """Show every resource, document and output a stack would create, with no cloud account."""
    # Imported here so `verify` does not pay for loading the Pulumi SDK.
    import pulumi

    from components.mock_engine import run_program
    from components.plan import plan_document, render_text
    from components.stack_files import StackFileError, load_stack_config

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


@app.command()
def schema() -> None:
    """Print the package schema that `pulumi package add` reads from the plugin in provider/."""
    # Imported here: hosting loads every cloud's SDK.
    from components.package import schema_json

    typer.echo(schema_json())


# Each provider's checks, and the pip extra that brings its cloud's client.
VERIFIERS = {"s3": ("components.verify.aws", "aws"), "gcs": ("components.verify.gcp", "gcp"), "azure_blob": ("components.verify.azure", "azure")}
# verify's exit codes: every check holds / one fails or is unknown / verify could not run.
EXIT_OK, EXIT_FAILED, EXIT_CANNOT_RUN = 0, 1, 2


def _cannot_run(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code=EXIT_CANNOT_RUN)


def _subject(storage: Any) -> str:
    """Which destination the report is about, in the provider's own terms."""
    if storage.provider == "s3":
        return f"bucket {storage.bucket_name} ({storage.bucket_region}), role {storage.assume_role_arn}"
    if storage.provider == "gcs":
        return f"bucket {storage.bucket_name} (project {storage.project_id}), writer {storage.service_account_email}"
    return f"container {storage.container} in account {storage.storage_account}, client {storage.client_id}"


@app.command()
def verify(
    stack: Annotated[Optional[str], typer.Option("--stack", "-s", help="Deployed stack whose outputs to check (default dev).")] = None,
    outputs_file: Annotated[
        Optional[Path], typer.Option("--outputs", help="Outputs as `pulumi stack output --json --show-secrets` prints them.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help='Print one JSON object: {"provider", "ok", "checks"}.')] = False,
    with_tavus: Annotated[
        bool, typer.Option("--tavus", help="Also ask the Tavus API to accept the destination (test mode; needs TAVUS_API_KEY).")
    ] = False,
    replica_id: Annotated[Optional[str], typer.Option("--replica-id", help="Replica for --tavus (default $TAVUS_REPLICA_ID).")] = None,
    project_dir: Annotated[Path, typer.Option(help="The project, where `pulumi stack output` runs.")] = PROJECT_DIR,
) -> None:
    """Check a deployed destination against the live cloud: exit 0 if Tavus can write there, 1 if not, 2 if verify could not run."""
    if stack and outputs_file:
        raise _cannot_run("give --stack or --outputs, not both")
    api_key = os.environ.get("TAVUS_API_KEY", "")
    replica_id = replica_id or os.environ.get("TAVUS_REPLICA_ID", "")
    if with_tavus and not api_key:
        raise _cannot_run("--tavus needs a Tavus API key in TAVUS_API_KEY (Developer Portal > API Keys)")
    if with_tavus and not replica_id:
        raise _cannot_run("--tavus needs a replica: pass --replica-id ID or set TAVUS_REPLICA_ID")
    try:
        outputs = read_outputs(stack or "dev", outputs_file, cwd=project_dir)
        storage = recording_storage(outputs, str(outputs_file) if outputs_file else f"stack {stack or 'dev'}")
    except OutputsError as exc:
        raise _cannot_run(str(exc)) from None

    module_name, extra = VERIFIERS[storage.provider]
    try:
        checks = import_module(module_name).verify(storage, outputs)
    except ModuleNotFoundError as missing:
        raise _cannot_run(
            f"verifying {storage.provider} needs the {missing.name} package: run `make setup CLOUDS={extra}` "
            f"(or pip install -e '.[{extra}]')"
        ) from None
    except OutputsError as exc:
        raise _cannot_run(str(exc)) from None
    if with_tavus:
        from components.verify.tavus_api import handshake

        properties = outputs.get("conversation_properties") or {"recording_storage": storage.model_dump()}
        checks.append(
            handshake(properties, api_key=api_key, replica_id=replica_id, api_url=os.environ.get("TAVUS_API_URL"))
        )

    report = Report(provider=storage.provider, subject=_subject(storage), checks=checks)
    typer.echo(json.dumps(report.as_json(), indent=2) if as_json else report.render())
    raise typer.Exit(code=EXIT_OK if report.ok else EXIT_FAILED)


def _stdin_is_terminal() -> bool:
    """Whether a person can answer prompts (CI and pipes get errors, never a hung question)."""
    return sys.stdin.isatty()


@app.command()
def init(
    stack: Annotated[str, typer.Argument(metavar="NAME", help="The new stack's name: writes stacks/Pulumi.<NAME>.yaml.")],
    provider: Annotated[Optional[Provider], typer.Option(help="Where recordings go.")] = None,
    region: Annotated[
        Optional[str],
        typer.Option(help="Where the storage lives: aws:region (s3), location (gcs, default US), azure-native:location (azure_blob)."),
    ] = None,
    project: Annotated[Optional[str], typer.Option("--project", help="gcs: the Google Cloud project id (gcp:project).")] = None,
    assignments: Annotated[
        Optional[list[str]],
        typer.Option("--set", help="Any other setting as key=value (repeatable); a bare key is a tavus-recording: key."),
    ] = None,
    interactive: Annotated[
        Optional[bool],
        typer.Option("--interactive/--non-interactive", help="Ask for missing values (default: when stdin is a terminal)."),
    ] = None,
    project_dir: Annotated[Path, typer.Option(help="The project (Pulumi.yaml) whose stacks/ gets the file.")] = PROJECT_DIR,
) -> None:
    """Write a new stack file, after checking it as `plan` will read it; exit 2, writing nothing, if it is not valid."""
    import pulumi

    from components import stack_init
    from components.stack_files import StackFileError, read_project, stack_file

    problem = stack_init.stack_name_problem(stack)
    if problem:
        raise _cannot_run(problem)
    try:
        project_file = read_project(project_dir)
    except StackFileError as exc:
        raise _cannot_run(str(exc)) from None
    path = stack_file(project_file, project_dir, stack)
    shown = path.relative_to(project_dir)
    exists = f"{shown} already exists; init never overwrites a stack file: edit it, or choose another name"
    if path.exists():
        raise _cannot_run(exists)

    ask = _stdin_is_terminal() if interactive is None else interactive
    questions = stack_init.prompts(project_file)
    if provider is None:
        if not ask:
            raise _cannot_run(f"{stack_init.PROVIDER_KEY} is required: pass --provider s3, gcs or azure_blob")
        text, default = questions[stack_init.PROVIDER_KEY]
        chosen: str = typer.prompt(text, default=default, type=Provider)
    else:
        chosen = provider
    try:
        given = stack_init.parse_assignments(
            assignments or [], stack_init.integer_keys(project_file), stack_init.object_keys(project_file)
        )
        values = stack_init.stack_values(chosen, region, project, given)
    except stack_init.InitError as exc:
        raise _cannot_run(str(exc)) from None
    if ask:
        for key in stack_init.missing_keys(values):
            text, default = questions[key]
            values[key] = typer.prompt(text, default=default)

    content = stack_init.render(stack, values)
    try:
        stack_init.check(content, project_file)
    except pulumi.RunError as exc:
        lines = "\n".join(stack_init.problem_lines(exc))
        raise _cannot_run(
            f"invalid stack configuration, so {shown} was not written:\n{lines}\n"
            "Give the value with --region, --project or --set key=value and run init again."
        ) from None
    except StackFileError as exc:
        raise _cannot_run(str(exc)) from None
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with path.open("x") as out:  # "x": never replace a file that appeared meanwhile
            out.write(content)
    except FileExistsError:
        raise _cannot_run(exists) from None
    typer.echo(f"Wrote {shown} (provider {chosen}). Preview it offline: make plan STACK={stack}")


if __name__ == "__main__":
    sys.exit(app())

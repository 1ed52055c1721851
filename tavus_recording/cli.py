"""The `tavus-recording` command and its verbs.

`plan [--stack NAME] [--json]`: what a stack will create, offline. Runs the real program for a stack
file on Pulumi's mock engine and shows every resource with its settings (trust and permission
documents in full) and the stack outputs.

`verify [--stack NAME | --outputs FILE] [--json] [--tavus] [--replica-id ID]`: whether Tavus can write
to a deployed destination right now, checked against the live cloud (and the Tavus API).

`init NAME --provider P [--region R] [--project ID] [--set key=value ...]`: a new stack file,
stacks/Pulumi.NAME.yaml, validated like `plan` reads it before it is written.

`schema`: the Pulumi package schema the component plugin (provider/) serves to the Pulumi CLI.

Each verb imports what it needs when it runs: `--help` and `--version` load no Pulumi or cloud SDK.
"""

from __future__ import annotations

import json
import os
import sys
from importlib import import_module
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from tavus_recording import collector, installed_version
from tavus_recording.extras import EXTRAS, Provider, make_plan

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    # Plain help, wrapped to the terminal (80 columns in most), with no boxes to break in a CI log.
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)

# Exit codes every verb keeps: success / a check failed (verify) or the plan's program refused the
# stack (plan) / the command could not run (bad flags, files or environment).
EXIT_OK, EXIT_FAILED, EXIT_CANNOT_RUN = 0, 1, 2

ProjectDir = Annotated[
    Optional[Path],
    typer.Option(
        "--project-dir",
        metavar="DIR",
        help="The project (Pulumi.yaml, __main__.py, stacks/). Default: the nearest Pulumi.yaml at or above the working directory.",
        show_default=False,
    ),
]


# An error's lines: each cut to this many characters, and at most this many of them.
MAX_ERROR_LINE, MAX_ERROR_LINES = 1000, 40


def _error_lines(*lines: str) -> str:
    """`lines` as printed after `error: `: each its own line whatever it holds (a newline, an escape
    sequence or the API key in any spelling inside a file or key name is shown escaped or masked, never
    sent), each cut, and at most MAX_ERROR_LINES of them."""
    from tavus_recording.verify.redact import excerpt

    secret = os.environ.get("TAVUS_API_KEY", "")
    shown = [excerpt(line, secret, MAX_ERROR_LINE) for line in lines[:MAX_ERROR_LINES]]
    if len(lines) > MAX_ERROR_LINES:
        shown.append(f"... and {len(lines) - MAX_ERROR_LINES} more lines")
    return "\n".join(shown)


def _cannot_run(*lines: str) -> typer.Exit:
    """Exit 2 ("could not run") after printing `lines` on stderr: one, or a heading and one per problem."""
    typer.echo(f"error: {_error_lines(*lines)}", err=True)
    return typer.Exit(code=EXIT_CANNOT_RUN)


def _stack_name(stack: str, qualified: bool = False) -> str:
    """`stack` if it can be a Pulumi stack name (`qualified`: also `org/project/name`, as `pulumi stack
    output --stack` takes it), else exit 2: it is printed, and passed to the Pulumi CLI."""
    from tavus_recording.new_stack import stack_name_problem

    parts = stack.split("/") if qualified and stack.count("/") <= 2 else [stack]
    problem = next(filter(None, map(stack_name_problem, parts)), None)
    if problem:
        raise _cannot_run(problem)
    return stack


def _project(project_dir: Optional[Path]) -> Path:
    """The project a verb works on, or exit 2 saying where none was found."""
    from tavus_recording.stack_files import StackFileError, find_project_dir

    try:
        return find_project_dir(project_dir)
    except StackFileError as exc:
        raise _cannot_run(str(exc)) from None


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"tavus-recording {installed_version()}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_print_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """The tavus-recording kit: plan a stack offline, verify a deployed one, start a new one.

    Exit codes: 0 done (verify: every check holds); 1 verify found a check that fails or could not
    be read, or plan's program refused the stack; 2 the command could not run.
    """


@app.command(short_help="Show what a stack would create, offline.")
def plan(
    stack: Annotated[str, typer.Option("--stack", "-s", metavar="NAME", help="Stack to plan: stacks/Pulumi.<NAME>.yaml.")] = "dev",
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object with `resources` and `outputs`.")] = False,
    previous_file: Annotated[
        Optional[Path],
        typer.Option(
            "--previous",
            metavar="FILE",
            help="An earlier `plan --json` of this stack: warn when a change would replace storage kept on destroy.",
        ),
    ] = None,
    project_dir: ProjectDir = None,
) -> None:
    """Show every resource, document and output a stack would create, with no cloud account.

    Exit 1 if the program refuses the stack's configuration, 2 if the stack file or the --previous
    plan cannot be read. A --previous warning is advice: the exit code stays 0.
    """
    _stack_name(stack)
    project = _project(project_dir)
    # Imported here so the other verbs do not pay for loading the Pulumi SDK.
    import pulumi

    from tavus_recording.input_files import MAX_JSON_BYTES, InputFileError, read_text_file
    from tavus_recording.mock_engine import close_event_loop, run_program
    from tavus_recording.plan import PreviousPlanError, plan_document, read_previous, render_text
    from tavus_recording.stack_files import StackFileError, load_stack_config, shown_path

    collector.freeze_imports()

    previous = None
    if previous_file is not None:
        # Through the bounded reader: a regular file of at most MAX_JSON_BYTES of UTF-8 (no FIFO, no device).
        try:
            previous = read_previous(read_text_file(previous_file, MAX_JSON_BYTES), str(previous_file))
        except (InputFileError, PreviousPlanError) as exc:
            raise _cannot_run(f"--previous {exc}") from None
    try:
        stack_config = load_stack_config(stack, project)
    except StackFileError as exc:
        raise _cannot_run(str(exc)) from None
    try:
        try:
            run = run_program(stack_config.config, stack=stack, project=stack_config.project, program=project / "__main__.py")
        except pulumi.RunError as exc:
            typer.echo(f"error: {_error_lines(*str(exc).splitlines())}", err=True)
            raise typer.Exit(code=EXIT_FAILED) from None
    finally:
        # Nothing runs after the plan: end the run's event loop here rather than at interpreter exit.
        close_event_loop()
    stack_file = shown_path(stack_config.path, project)
    compared = str(previous_file or "")
    if as_json:
        document = plan_document(stack, run, stack_file, previous, compared, project=stack_config.project)
        typer.echo(json.dumps(document, indent=2))
    else:
        typer.echo(render_text(stack, run, stack_file, previous, compared, project=stack_config.project))


# How many times an interactive init asks again for an answer the settings refuse.
ASK_AGAIN_LIMIT = 3
# Each provider's live checks.
VERIFIERS = {"s3": "tavus_recording.verify.aws", "gcs": "tavus_recording.verify.gcp", "azure_blob": "tavus_recording.verify.azure"}


def _subject(storage: Any) -> str:
    """Which destination the report is about, in the provider's own terms."""
    if storage.provider == "s3":
        return f"bucket {storage.bucket_name} ({storage.bucket_region}), role {storage.assume_role_arn}"
    if storage.provider == "gcs":
        return f"bucket {storage.bucket_name} (project {storage.project_id}), writer {storage.service_account_email}"
    return f"container {storage.container} in account {storage.storage_account}, client {storage.client_id}"


@app.command(short_help="Check a deployed destination, live.")
def verify(
    stack: Annotated[
        Optional[str], typer.Option("--stack", "-s", metavar="NAME", help="Deployed stack whose outputs to check (default dev).")
    ] = None,
    outputs_file: Annotated[
        Optional[Path],
        typer.Option("--outputs", metavar="FILE", help="Outputs as `pulumi stack output --json --show-secrets` prints them."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help='Print one JSON object: {"provider", "ok", "checks"}.')] = False,
    with_tavus: Annotated[
        bool, typer.Option("--tavus", help="Also ask the Tavus API to accept the destination (test mode; needs TAVUS_API_KEY).")
    ] = False,
    replica_id: Annotated[
        Optional[str], typer.Option("--replica-id", metavar="ID", help="Replica for --tavus (default $TAVUS_REPLICA_ID).")
    ] = None,
    project_dir: ProjectDir = None,
) -> None:
    """Check a deployed destination against the live cloud (and Tavus).

    Exit 0 if every check holds, 1 if one fails or could not be read, 2 if verify could not run.
    """
    from tavus_recording.verify.outputs import OutputsError, read_outputs, recording_storage, tavus_properties
    from tavus_recording.verify.report import CannotVerify, Report

    if stack and outputs_file:
        raise _cannot_run("give --stack or --outputs, not both")
    if stack:
        _stack_name(stack, qualified=True)
    api_key = os.environ.get("TAVUS_API_KEY", "")
    replica_id = replica_id or os.environ.get("TAVUS_REPLICA_ID", "")
    if with_tavus:
        # The key, the replica and TAVUS_API_URL, each refused in one line before anything runs.
        from tavus_recording.verify.tavus_settings import settings_problem

        problem = settings_problem(api_key, replica_id, os.environ.get("TAVUS_API_URL"))
        if problem:
            raise _cannot_run(problem)
    # `pulumi stack output` runs in the project; an outputs file needs none.
    cwd = _project(project_dir) if outputs_file is None else project_dir
    try:
        source = str(outputs_file) if outputs_file else f"stack {stack or 'dev'}"
        outputs = read_outputs(stack or "dev", outputs_file, cwd=cwd)
        if with_tavus and outputs.get("tavus_access") == "revoked":
            # Nothing to ask Tavus: the stack exports no destination, and Tavus must not be given one.
            raise OutputsError(f"{source} has tavus_access: revoked: it exports no recording_storage to hand Tavus, so --tavus has "
                               "nothing to ask; run verify without --tavus to check that nothing lets Tavus in")
        storage = recording_storage(outputs, source)
        # What --tavus sends is the storage the cloud checks read; copies that disagree stop verify here.
        properties = tavus_properties(outputs, storage, source)
    except OutputsError as exc:
        raise _cannot_run(str(exc)) from None

    extra = EXTRAS[storage.provider]
    try:
        verifier = import_module(VERIFIERS[storage.provider])
        collector.freeze_imports()
        checks = verifier.verify(storage, outputs)
    except ModuleNotFoundError as missing:
        raise _cannot_run(
            f"verifying {storage.provider} needs the {missing.name} package: run `make setup CLOUDS={extra}` "
            f"(or pip install -e '.[{extra}]')"
        ) from None
    except (OutputsError, CannotVerify) as exc:
        raise _cannot_run(str(exc)) from None
    if with_tavus:
        from tavus_recording.verify.tavus_api import handshake

        # `properties`: built from the checked storage above, never the outputs' own copy.
        checks.append(
            handshake(properties, api_key=api_key, replica_id=replica_id, api_url=os.environ.get("TAVUS_API_URL"))
        )

    report = Report(provider=storage.provider, subject=_subject(storage), checks=checks)
    typer.echo(json.dumps(report.as_json(), indent=2) if as_json else report.render())
    raise typer.Exit(code=EXIT_OK if report.ok else EXIT_FAILED)


def _prompt(key: str, text: str, default: Optional[str], kind: Any = None) -> Any:
    """typer.prompt, but the end of input (Ctrl-D, a closed pipe) is exit 2 naming the key, not click's `Aborted!` and exit 1."""
    try:
        return typer.prompt(text, default=default, type=kind)
    except typer.Abort:
        raise _cannot_run(f"no answer for {key}: the input ended; give it with --provider, --region, --project or --set") from None


def _stdin_is_terminal() -> bool:
    """Whether a person can answer prompts (CI and pipes get errors, never a hung question)."""
    return sys.stdin.isatty()


@app.command(short_help="Write a new, validated stack file.")
def init(
    name: Annotated[str, typer.Argument(metavar="NAME", help="The new stack's name: writes stacks/Pulumi.<NAME>.yaml.", show_default=False)],
    provider: Annotated[Optional[Provider], typer.Option(help="Where recordings go.")] = None,
    region: Annotated[
        Optional[str],
        typer.Option(metavar="REGION", help="Where the storage lives: aws:region (s3), location (gcs, default US), azure-native:location (azure_blob)."),
    ] = None,
    gcp_project: Annotated[Optional[str], typer.Option("--project", metavar="ID", help="gcs: the Google Cloud project id (gcp:project).")] = None,
    assignments: Annotated[
        Optional[list[str]],
        typer.Option("--set", metavar="KEY=VALUE", help="Any other setting as key=value (repeatable); a bare key is a tavus-recording: key."),
    ] = None,
    interactive: Annotated[
        Optional[bool],
        typer.Option("--interactive/--non-interactive", help="Ask for missing values (default: when stdin is a terminal)."),
    ] = None,
    random_external_id: Annotated[
        bool,
        typer.Option("--random-external-id", help="s3: require a random ExternalId of this stack's own instead of the shared `tavus`."),
    ] = False,
    project_dir: ProjectDir = None,
) -> None:
    """Write a new stack file, after checking it as `plan` will read it; exit 2, writing nothing, if it is not valid."""
    import pulumi

    from tavus_recording import new_stack
    from tavus_recording.stack_files import StackFileError, read_project, shown_path, stack_file

    problem = new_stack.stack_name_problem(name)
    if problem:
        raise _cannot_run(problem)
    project = _project(project_dir)
    try:
        project_file = read_project(project)
    except StackFileError as exc:
        raise _cannot_run(str(exc)) from None
    path = stack_file(project_file, project, name)
    shown = shown_path(path, project)
    exists = f"{shown} already exists; init never overwrites a stack file: edit it, or choose another name"
    if path.exists():
        raise _cannot_run(exists)

    ask = _stdin_is_terminal() if interactive is None else interactive
    questions = new_stack.prompts(project_file)
    if provider is None:
        if not ask:
            raise _cannot_run(f"{new_stack.PROVIDER_KEY} is required: pass --provider s3, gcs or azure_blob")
        text, default = questions[new_stack.PROVIDER_KEY]
        chosen: str = _prompt(new_stack.PROVIDER_KEY, text, default, Provider)
    else:
        chosen = provider
    try:
        given = new_stack.parse_assignments(
            assignments or [], new_stack.integer_keys(project_file), new_stack.object_keys(project_file)
        )
        values = new_stack.stack_values(chosen, region, gcp_project, given)
        if random_external_id:
            values = new_stack.with_random_external_id(values)
    except new_stack.InitError as exc:
        raise _cannot_run(str(exc)) from None

    def answer(key: str) -> str:
        """What the person types for `key`; an answer with a control character is asked again, like a wrong one."""
        text, default = questions[key]
        problem = None
        for _ in range(ASK_AGAIN_LIMIT):
            if problem:
                typer.echo(problem, err=True)
            given = str(_prompt(key, text, default))
            problem = new_stack.text_problem(f"the answer for {key}", given)
            if problem is None:
                return given
        raise _cannot_run(f"{problem}; {shown} was not written")

    asked = new_stack.missing_keys(values) if ask else []
    for key in asked:
        values[key] = answer(key)

    for attempt in range(1, ASK_AGAIN_LIMIT + 1):
        try:
            content = new_stack.render(name, values)
            new_stack.check(content, project_file)
            break
        except pulumi.RunError as exc:
            problems = new_stack.problem_lines(exc)
            wrong = new_stack.answered_wrong(problems, asked)
            if not wrong or attempt == ASK_AGAIN_LIMIT:
                raise _cannot_run(
                    f"invalid stack configuration, so {shown} was not written:",
                    *problems,
                    "Give the value with --region, --project or --set key=value and run init again.",
                ) from None
            # An answer typed at the prompt is asked again, with what was wrong with it.
            for key, problem in wrong.items():
                typer.echo(problem.strip(), err=True)
                values[key] = answer(key)
        except (new_stack.InitError, StackFileError) as exc:
            raise _cannot_run(str(exc)) from None
    else:  # the last attempt breaks or exits above; this only tells the type checker `content` is set
        raise _cannot_run(f"{shown} was not written")
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # UTF-8 whatever the locale: values may hold any letter; "x": never replace a file that appeared meanwhile.
        with path.open("x", encoding="utf-8") as out:
            out.write(content)
    except FileExistsError:
        raise _cannot_run(exists) from None
    typer.echo(f"Wrote {shown} (provider {chosen}). Preview it offline: {make_plan(name, chosen)}")
    if random_external_id:
        typer.echo(new_stack.RANDOM_EXTERNAL_ID_NOTE)


@app.command(short_help="Print the component package's schema.")
def schema() -> None:
    """Print the package schema that `pulumi package add` reads from the plugin in provider/."""
    # Imported here: hosting loads every cloud's SDK.
    from tavus_recording.package import schema_json

    typer.echo(schema_json())


def run() -> None:
    """The console command `tavus-recording` (and `python -m tavus_recording`)."""
    try:
        # One verb, then exit: the garbage collector runs seldom (tavus_recording.collector).
        with collector.command():
            app(prog_name="tavus-recording")
    except Exception as exc:  # a bug of ours: one line, exit 2, never a traceback that could carry the key
        typer.echo(f"error: {internal_error(exc, os.environ.get('TAVUS_API_KEY', ''))}", err=True)
        sys.exit(EXIT_CANNOT_RUN)


def internal_error(exc: BaseException, secret: str) -> str:
    """The one line for an error no verb expected: its type and message, the key masked, made printable, cut."""
    from tavus_recording.verify.redact import excerpt

    return (
        f"internal error ({type(exc).__name__}: {excerpt(str(exc), secret, 300)}); this is a bug in "
        "tavus-recording: please report it with the command you ran"
    )


if __name__ == "__main__":
    run()

"""Each verb imports what it needs and no more (issue 20): the command is run in a child process, as a user's shell
runs it, and the modules it had loaded when it exited are compared with what the verb needs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import get_args

import pytest

from components import tavus
from fakes.tavus_api import PROPERTIES, S3
from tavus_recording import extras
from tavus_recording.stack_files import PROJECT_DIR

TESTS_DIR = Path(__file__).resolve().parents[1]

# Runs `argv` as the console command does (or, with a module name first, that module as __main__) and writes
# sys.modules at exit, after everything the verb did.
CHILD = """
import atexit, json, runpy, sys
modules_file, main, *argv = sys.argv[1:]

def dump():
    with open(modules_file, "w") as out:
        json.dump(sorted(sys.modules), out)

atexit.register(dump)
sys.argv = ["tavus-recording", *argv]
if main == "cli":
    from tavus_recording.cli import run
    run()
else:
    runpy.run_module(main, run_name="__main__")
"""

# What no verb but plan and init may load: the Pulumi SDK and the mock engine; and what only verify may load:
# its report and checks, and the cloud clients.
PULUMI = ("pulumi", "pulumi_aws", "pulumi_gcp", "pulumi_azure_native", "grpc", "tavus_recording.mock_engine")
VERIFY = ("tavus_recording.verify", "tavus_recording.rules", "boto3", "botocore", "google.cloud", "azure")
# What --help and --version need: typer and the command's own module, nothing that reads or checks a stack.
NOT_FOR_HELP = PULUMI + VERIFY + (
    "components", "yaml", "tavus_recording.plan", "tavus_recording.new_stack", "tavus_recording.stack_files",
    "tavus_recording.input_files", "tavus_recording.package", "rich",
)


def loaded(tmp_path: Path, *argv: str, main: str = "cli", expect: int = 0) -> set[str]:
    """The modules loaded by `tavus-recording ARGV` (or `python -m MAIN ARGV`) by the time it exited."""
    modules_file = tmp_path / "modules.json"
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(modules_file), main, *argv],
        cwd=PROJECT_DIR, capture_output=True, text=True, timeout=120,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS_DIR), os.environ.get("PYTHONPATH", "")])},
    )
    assert done.returncode == expect, done.stderr
    return set(json.loads(modules_file.read_text()))


def under(modules: set[str], packages: tuple[str, ...]) -> list[str]:
    """The modules in `modules` that are one of `packages` or inside one."""
    return sorted(name for name in modules if any(name == p or name.startswith(p + ".") for p in packages))


def test_help_loads_no_sdk_no_models_no_yaml_and_no_pydantic(tmp_path):
    modules = loaded(tmp_path, "--help")
    assert "tavus_recording.cli" in modules  # the child ran the command
    assert under(modules, NOT_FOR_HELP + ("pydantic",)) == []
    # Package metadata is read only for --version.
    assert "importlib.metadata" not in modules


@pytest.mark.parametrize("verb", ["plan", "init", "verify", "schema"])
def test_a_verbs_help_loads_no_sdk_no_models_and_no_yaml(tmp_path, verb):
    # typer itself may load pydantic (and with it importlib.metadata) for a verb's options, which it coerces
    # through TypeAdapters: not the kit's models.
    modules = loaded(tmp_path, verb, "--help")
    assert "tavus_recording.cli" in modules
    assert under(modules, NOT_FOR_HELP) == []


def test_version_reads_the_metadata_and_loads_nothing_else(tmp_path):
    modules = loaded(tmp_path, "--version")
    assert "importlib.metadata" in modules
    assert under(modules, NOT_FOR_HELP + ("pydantic",)) == []


def test_plan_loads_neither_verify_nor_another_clouds_sdk(tmp_path):
    modules = loaded(tmp_path, "plan", "--stack", "dev")
    assert {"pulumi", "pulumi_aws", "tavus_recording.mock_engine", "tavus_recording.plan", "components.aws"} <= modules
    # verify's report and checks, the cloud clients, the plugin's schema, the other clouds' SDKs and components.
    needless = VERIFY + ("tavus_recording.package", "pulumi_gcp", "pulumi_azure_native", "components.gcp", "components.azure", "rich")
    assert under(modules, needless) == []


def test_a_plan_error_loads_only_the_redaction_from_verify(tmp_path):
    # An error line goes through the redaction that verify also uses; nothing else of verify comes with it.
    modules = loaded(tmp_path, "plan", "--stack", "no-such-stack", expect=2)
    assert under(modules, VERIFY) == ["tavus_recording.verify", "tavus_recording.verify.redact"]


def test_verify_loads_no_pulumi_sdk_and_no_plan(tmp_path):
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps({"recording_storage": S3, "conversation_properties": PROPERTIES}))
    # fakes.verify_offline: the command with each cloud's live checks replaced, so no cloud is asked.
    modules = loaded(tmp_path, "verify", "--outputs", str(outputs), main="fakes.verify_offline")
    assert "tavus_recording.verify.report" in modules
    assert under(modules, PULUMI + ("tavus_recording.plan", "tavus_recording.new_stack", "yaml")) == []


def test_the_providers_init_offers_are_the_components(tmp_path):
    # extras.Provider is written out so --help need not import the models: it must name the same providers.
    assert get_args(extras.Provider) == get_args(tavus.Provider) == tuple(extras.EXTRAS)

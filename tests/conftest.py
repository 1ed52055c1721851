"""Shared fixtures: stack config maps as the Pulumi CLI would pass them."""

from __future__ import annotations

import gc

import pytest

from components.stack_files import load_stack_config


def stack_config(stack: str, **overrides: str) -> dict[str, str]:
    """A stack file's config map with keys overridden (bare names are `tavus-recording:` keys)."""
    config = dict(load_stack_config(stack).config)
    for key, value in overrides.items():
        config[key if ":" in key else f"tavus-recording:{key}"] = value
    return config


def s3_config(**overrides: str) -> dict[str, str]:
    """The `dev` stack (S3) with overrides."""
    return stack_config("dev", **overrides)


def gcs_config(**overrides: str) -> dict[str, str]:
    """The `gcs` example stack with overrides."""
    return stack_config("gcs", **overrides)


@pytest.fixture
def dev_config() -> dict[str, str]:
    return s3_config()


def azure_config(**overrides: str) -> dict[str, str]:
    """The `azure` example stack with overrides."""
    return stack_config("azure", **overrides)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Collect the tests' garbage now, before the terminal summary.

    A refused `construct` (test_package.py) leaves asyncio futures holding an exception nobody
    retrieved; collecting one logs its traceback, and 3.11's traceback carets call `ast.parse`. On
    CPython 3.11.7 a collection that runs inside another `ast.parse` (pytest rewriting Hypothesis,
    which Hypothesis's terminal-summary hook imports when no collected test has) corrupts that
    parse's recursion count: "SystemError: AST constructor recursion depth mismatch" (CPython
    gh-106905, fixed in 3.11.8). Here no parse is under way, and pytest still captures the log.
    """
    gc.collect()

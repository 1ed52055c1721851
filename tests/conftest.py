"""Shared fixtures, and the end-of-session cleanup every folder needs."""

from __future__ import annotations

import gc

import pytest

from stack_configs import s3_config


@pytest.fixture
def dev_config() -> dict[str, str]:
    return s3_config()


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Collect the tests' garbage now, before the terminal summary.

    A refused `construct` (test_package.py) leaves asyncio futures holding an exception nobody
    retrieved; collecting one logs its traceback, and 3.11's traceback carets call `ast.parse`. On
    CPython 3.11.7 a collection that runs inside another `ast.parse` (pytest rewriting Hypothesis,
    which Hypothesis's terminal-summary hook imports when no collected test has) corrupts that
    parse's recursion count: "SystemError: AST constructor recursion depth mismatch" (CPython
    gh-106905, fixed in 3.11.8). Here no parse is under way, and pytest still captures the log.
    Under pytest-xdist each worker runs this for its own tests' garbage.
    """
    gc.collect()

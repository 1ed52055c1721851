"""`tavus-recording verify` with each cloud's live checks replaced by `CHECKS`, so a test can watch what
`--tavus` (and the report around it) prints without a cloud. Run it as `python -m fakes.verify_offline
verify ...` with tests/ on the path, or point `cli.VERIFIERS` at this module in-process."""

from __future__ import annotations

from typing import Any

from tavus_recording import cli
from tavus_recording.verify.report import Check

# The checks every provider reports here: one that holds, so the report's verdict is the Tavus check's.
CHECKS: list[Check] = [Check("cloud.offline", True, "no cloud was asked (test stand-in)")]


def verify(storage: Any, outputs: Any) -> list[Check]:
    return list(CHECKS)


if __name__ == "__main__":
    cli.VERIFIERS.update({provider: "fakes.verify_offline" for provider in cli.VERIFIERS})
    cli.run()

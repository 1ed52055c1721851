"""How long `verify` takes for a healthy S3 stack, and how much of that is importing.

Serves moto on a loopback port, deploys the kit's destination into it, and times
`tavus-recording verify --outputs FILE --json` against it (AWS_ENDPOINT_URL), as a user's
shell would run it. The import share is the time a fresh interpreter needs to import the CLI and the
AWS checks (boto3 included) without checking anything. Target (issue 7): under 3 s. Exits non-zero
over the target or when the healthy stack does not verify green.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import boto3

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR / "tests"))

from fakes.aws_destination import deploy_destination, running_moto  # noqa: E402

RUNS = 7
TARGET_SECONDS = 3.0


def median_seconds(command: list[str], env: dict[str, str], expect: int = 0) -> float:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        done = subprocess.run(command, cwd=PROJECT_DIR, env=env, capture_output=True, text=True)
        times.append(time.perf_counter() - start)
        if done.returncode != expect:
            raise SystemExit(f"{' '.join(command)} exited {done.returncode}:\n{done.stdout}{done.stderr}")
    return statistics.median(times)


def main() -> int:
    with running_moto() as moto, tempfile.TemporaryDirectory() as scratch:
        env = {**os.environ, **moto.environment}
        os.environ.update(moto.environment)
        outputs = Path(scratch) / "outputs.json"
        outputs.write_text(json.dumps(deploy_destination(boto3.Session())))

        verify = [sys.executable, "-m", "tavus_recording", "verify", "--outputs", str(outputs), "--json"]
        imports = [sys.executable, "-c", "import tavus_recording.cli, tavus_recording.verify.aws"]
        subprocess.run(verify, cwd=PROJECT_DIR, env=env, capture_output=True)  # warm the disk cache
        verify_s = median_seconds(verify, env)
        import_s = median_seconds(imports, env)

    print(f"verify (healthy s3 stack, moto server)    {verify_s:6.3f} s (median of {RUNS})")
    print(f"  of which starting Python and importing   {import_s:6.3f} s ({import_s / verify_s:.0%})")
    print(f"  the checks themselves                    {verify_s - import_s:6.3f} s")
    print(f"target: under {TARGET_SECONDS} s")
    return 0 if verify_s < TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())

"""How long `make plan` takes for `dev`, against just importing what it must import.

Budget (issue 2): the plan takes at most 2.5x the time of importing `pulumi` and the AWS SDK
modules the program uses, measured in the same run. Prints both baselines: the SDK modules
loaded (`aws.s3`, `aws.iam` are lazy; touching a class loads them, as the program does) and
the lazy stubs alone. Exits non-zero if the plan is over budget against the loaded modules.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
RUNS = 7
BUDGET = 2.5

COMMANDS = {
    "import pulumi + pulumi_aws.s3/iam (loaded)": [
        sys.executable, "-c", "import pulumi, pulumi_aws as aws; aws.s3.Bucket; aws.iam.Role",
    ],
    "import pulumi + pulumi_aws.s3/iam (lazy stubs)": [
        sys.executable, "-c", "import pulumi, pulumi_aws.s3, pulumi_aws.iam",
    ],
    "plan --stack dev": [sys.executable, "-m", "tavus_recording", "plan", "--stack", "dev"],
}


def median_seconds(command: list[str]) -> float:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        subprocess.run(command, cwd=PROJECT_DIR, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    # Interleave nothing clever: warm the disk cache once, then measure each command RUNS times.
    for command in COMMANDS.values():
        subprocess.run(command, cwd=PROJECT_DIR, check=True, stdout=subprocess.DEVNULL)
    medians = {label: median_seconds(command) for label, command in COMMANDS.items()}
    for label, seconds in medians.items():
        print(f"{label:50s} {seconds:6.3f} s (median of {RUNS})")
    plan = medians["plan --stack dev"]
    loaded = plan / medians["import pulumi + pulumi_aws.s3/iam (loaded)"]
    lazy = plan / medians["import pulumi + pulumi_aws.s3/iam (lazy stubs)"]
    print(f"plan / import (loaded modules): {loaded:.2f}x   budget {BUDGET}x")
    print(f"plan / import (lazy stubs):     {lazy:.2f}x")
    return 0 if loaded <= BUDGET else 1


if __name__ == "__main__":
    sys.exit(main())

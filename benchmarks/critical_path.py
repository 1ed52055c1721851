"""How long each example stack's first `pulumi up` waits on its longest chain of creates.

For each example stack in stacks/ (and gcs with manageApis=false), the program runs on the mock engine
(tavus_recording.mock_engine, as the tests run it) and the plan's dependency graph is read from the
registrations: a resource's `depends_on` there is what the Pulumi SDK sent the engine, its explicit
dependsOn together with the resources its inputs come from (the SDK's `dependencies`, with components
expanded to their custom children). Only custom resources are timed; components take no time.

- chain: the longest path through that graph by summed latency (the graph is a DAG), the creates that
  must happen one after another however many the engine runs at once;
- estimate: that chain's seconds, from the per-type latencies in LATENCY below;
- API minimum: the same longest path when a resource waits only for its hard prerequisites, the resources
  it is created in or attached to (HARD: a bucket, role, resource group, storage account, container,
  identity, identity pool, service account) and the project services (APIs) whose endpoints it calls;
  every other ordering the kit adds (one bucket setting after another, the lifecycle after versioning)
  is dropped. It is a floor for this set of resources, not a measurement.

Creates only, from an empty stack; provider start-up, plugin download and the engine's own overhead are
not counted, and the latencies are lower bounds or estimates, not measurements.

Before and after: the same rows are computed for the kit before issue 20 (benchmarks/before.py) by running
this file against that tree (--project DIR --json), so both columns come from one run and one latency table.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Optional

BENCHMARKS = Path(__file__).resolve().parent
# The project whose program is timed: this checkout, or another tree given with --project (read before importing it).
_project = sys.argv[sys.argv.index("--project") + 1] if "--project" in sys.argv[:-1] else str(BENCHMARKS.parent)
sys.path.insert(0, _project)
sys.path.insert(1, str(BENCHMARKS))

from tavus_recording.mock_engine import run_program  # noqa: E402
from tavus_recording.stack_files import load_stack_config  # noqa: E402

if TYPE_CHECKING:
    from tavus_recording.mock_engine import Registration

# Seconds one create takes, by type token (first match wins; DEFAULT_LATENCY otherwise).
LATENCY: list[tuple[str, float, str]] = [
    # terraform-provider-aws, internal/service/s3/bucket_lifecycle_configuration.go (read at commit 01606926a0c0):
    # after the PUT, waitLifecycleConfigEquals polls with Delay 10 s, PollInterval 5 s and
    # ContinuousTargetOccurence 10 ("larger values are required in, e.g. eu-west-2"): the first read at 10 s,
    # then 10 matching reads in a row 5 s apart, so at least 10 + 9 x 5 = 55 s even when S3 agrees at once.
    ("aws:s3/bucketLifecycleConfiguration:", 55.0, "lower bound: provider waits for the rules to settle"),
    # terraform-provider-google, resource_google_project_service.go: an enable goes through the provider's
    # Service Usage request batcher, which sends a batch `send_after` after its first request; batcher.go's
    # defaultBatchSendIntervalSec = 10 (stored source; an older copy had 3). The enable's own operation
    # comes on top, so >= 10 s.
    ("gcp:projects/service:Service", 10.0, "lower bound: provider batches enables, 10 s default"),
    # azure-native storage account: the create is a long-running operation polled to completion, about 20 s
    # (estimate: no stored source gives a figure).
    ("azure-native:storage:StorageAccount", 20.0, "estimate: long-running create"),
]
# Every other resource: one or two API calls, 1-2 s (estimate); 2 s is taken, the slower end.
DEFAULT_LATENCY = 2.0

# The types a resource is created in or attached to (see the module docstring): the API refuses the create
# without them. Project services are hard prerequisites too: an API that is off refuses every call.
HARD = (
    "aws:s3/bucket:Bucket",
    "aws:iam/role:Role",
    "gcp:storage/bucket:Bucket",
    "gcp:serviceaccount/account:Account",
    "gcp:iam/workloadIdentityPool:WorkloadIdentityPool",
    "gcp:projects/service:Service",
    "azure-native:resources:ResourceGroup",
    "azure-native:storage:StorageAccount",
    "azure-native:storage:BlobContainer",
    "azure-native:managedidentity:UserAssignedIdentity",
)

# (label, stack file, config overrides): every example stack, and gcs with the APIs left to the platform team.
STACKS: list[tuple[str, str, dict[str, str]]] = [
    ("dev", "dev", {}),
    ("s3-kms", "s3-kms", {}),
    ("s3-kms immutableDays=30", "s3-kms", {"tavus-recording:immutableDays": "30"}),
    ("s3-existing", "s3-existing", {}),
    ("gcs", "gcs", {}),
    ("gcs-manageApis=false", "gcs", {"tavus-recording:manageApis": "false"}),
    ("gcs-existing", "gcs-existing", {}),
    ("azure", "azure", {}),
    ("azure-existing", "azure-existing", {}),
]


def latency(type_: str) -> float:
    for prefix, seconds, _why in LATENCY:
        if type_.startswith(prefix):
            return seconds
    return DEFAULT_LATENCY


@dataclass(frozen=True)
class CriticalPath:
    resources: int
    chain: list[Registration]
    estimate: float
    api_minimum: float


def longest_chain(registrations: list[Registration], hard_only: bool = False) -> tuple[list[Registration], float]:
    """The longest path by summed latency over the custom resources; raises ValueError on a cycle."""
    custom = {r.urn: r for r in registrations if r.custom}
    best: dict[str, tuple[float, Optional[str]]] = {}
    visiting: set[str] = set()

    def finish(urn: str) -> float:
        if urn in best:
            return best[urn][0]
        if urn in visiting:
            raise ValueError(f"dependency cycle through {urn}")
        visiting.add(urn)
        before, via = 0.0, None
        for dep in sorted(custom[urn].depends_on):  # sorted: ties go the same way every run
            if dep not in custom or (hard_only and not custom[dep].type.startswith(HARD)):
                continue
            at = finish(dep)
            if at > before:
                before, via = at, dep
        visiting.discard(urn)
        best[urn] = (before + latency(custom[urn].type), via)
        return best[urn][0]

    if not custom:
        return [], 0.0
    last = max(sorted(custom), key=finish)
    chain: list[Registration] = []
    urn: Optional[str] = last
    while urn is not None:
        chain.append(custom[urn])
        urn = best[urn][1]
    return chain[::-1], best[last][0]


def critical_path(stack: str, overrides: dict[str, str]) -> CriticalPath:
    config = {**load_stack_config(stack).config, **overrides}
    registrations = run_program(config, stack=stack).registrations
    chain, estimate = longest_chain(registrations)
    _, minimum = longest_chain(registrations, hard_only=True)
    return CriticalPath(sum(r.custom for r in registrations), chain, estimate, minimum)


def short_name(registration: Registration) -> str:
    """The resource's type name and the part of its name after the component's (`Bucket(bucket)`)."""
    kind = registration.type.split(":")[-1]
    return f"{kind}({registration.name.split('-', 2)[-1]})"


def _estimate(stack: str, overrides: dict[str, str]) -> Optional[float]:
    try:
        return critical_path(stack, overrides).estimate
    except Exception:  # noqa: BLE001 - e.g. the tree refuses a key added since; shown as "-"
        return None


def _before_estimates(labels: list[str]) -> dict[str, float]:
    """Each row's estimate for the kit before issue 20, computed by this file against that tree; {} without git."""
    from before import before_tree

    with before_tree() as tree:
        if tree is None:
            return {}
        env = {**os.environ, "PYTHONPATH": str(tree)}
        command = [sys.executable, __file__, "--project", str(tree), "--json", *[a for label in labels for a in ("--stack", label)]]
        done = subprocess.run(command, cwd=tree, env=env, capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            raise SystemExit(f"the before tree's chains could not be computed:\n{done.stderr[-2000:]}")
        return {label: seconds for label, seconds in json.loads(done.stdout.splitlines()[-1]).items() if seconds is not None}


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--stack", action="append", help="only this row's label (repeatable)")
    parser.add_argument("--project", help="time this project tree's program instead of this checkout's")
    parser.add_argument("--json", action="store_true", help="print {label: estimate seconds or null} on the last line")
    args = parser.parse_args(argv)
    rows = [row for row in STACKS if not args.stack or row[0] in args.stack]
    if args.json:  # a row this tree cannot run (a key it does not know) is null
        print(json.dumps({label: _estimate(stack, overrides) for label, stack, overrides in rows}))
        return 0
    found = {label: critical_path(stack, overrides) for label, stack, overrides in rows}
    before = _before_estimates([label for label, _, _ in rows])
    print("Longest create chain per example stack (seconds: lower bounds and estimates, see benchmarks/critical_path.py)")
    print(f"{'stack':<24}| resources | length | before s | estimate s | API minimum s | chain")
    for label, path in found.items():
        chain = " -> ".join(short_name(r) for r in path.chain)
        was = f"{before[label]:>8.0f}" if label in before else f"{'-':>8}"
        print(f"{label:<24}| {path.resources:>9} | {len(path.chain):>6} | {was} | {path.estimate:>10.0f} | "
              f"{path.api_minimum:>13.0f} | {chain}")
    print()
    print("chain: the longest path by summed latency through what each resource waits for (explicit dependsOn and")
    print("the resources its inputs come from). API minimum: the same with every ordering dropped but a resource's")
    print("hard prerequisites (what it is created in or attached to, and the project APIs it calls): a floor for")
    print("these resources. before: the same for the kit before issue 20 (- where that tree has no such key, or git cannot give it).")
    print("Latencies: " + "; ".join(f"{p.rstrip(':')} {s:.0f} s ({why})" for p, s, why in LATENCY)
          + f"; any other {DEFAULT_LATENCY:.0f} s (estimate).")
    return 0


if __name__ == "__main__":
    sys.exit(main())

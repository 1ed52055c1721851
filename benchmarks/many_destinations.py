"""Many S3 destinations in one program: the kit's component against the bare SDK, on the plan's mock engine.

"kit": one program declaring N `S3RecordingStorage` components with default arguments. "bare": the same
resources (types, names, inputs, retain-on-delete, dependencies; checked below before anything is timed)
registered directly with `pulumi_aws` classes. Both run through `tavus_recording.mock_engine.run_program`,
the engine `plan` uses, with its `PlanMocks`.

Each figure is one fresh interpreter that imports what its program needs (pulumi, the SDK classes, the
mock engine; kit: `components.aws`), runs the program once with one destination to warm up, then times one
run of the N-destination program. Imports are left out of the timing: `plan_vs_import.py` measures them,
and here they would hide how the run itself grows with N. "before" is the same programs on the code before
issue 20 (benchmarks/before.py), run with that tree first on sys.path; each child reports which files it
imported and the parent checks them.

For each round, every (tree, N, program) is run once, in an order that alternates between rounds, so the
pairs compared (kit/bare of one tree, one N, one round) ran seconds apart. Prints the ratio kit/bare at each
N and the per-destination time (run time / N) at each N, as min/median/max over the rounds, in CPU time of
the child (the run does no I/O; on a shared machine wall time measures the other processes too) and wall time.

Exit 1 if, after, the median CPU ratio at 400 is over 1.15, or the kit's median CPU time per destination at
400 is over FLAT_BOUND times that at 100 (see FLAT_BOUND).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Optional

sys.path.insert(0, str(Path(__file__).resolve().parent))
from before import before_tree  # noqa: E402
from figures import spread  # noqa: E402

PROJECT_DIR = Path(__file__).resolve().parent.parent
SIZES = (100, 400)
ROUNDS = 5
RATIO_BUDGET = 1.15
# A run whose time grows linearly with N has the same per-destination time at 100 and 400 (slightly less at
# 400, where the run's fixed cost is shared by more destinations). 1.10 leaves room for this machine's
# run-to-run noise (a few percent between medians of 5 on a shared 2-core box) and still fails growth like
# the one issue 20 measured before its changes (per-destination time up 21 % from 100 to 400).
FLAT_BOUND = 1.10
CONFIG = {"aws:region": "us-east-1", "tavus-recording:provider": "s3"}

KIT_PROGRAM = """
from components.aws import S3RecordingStorage

for index in range({n}):
    S3RecordingStorage(f"dest{{index}}", {{}})
"""

# What S3RecordingStorage registers for default arguments, written as a user of the bare SDK would: the same
# resources, inputs, options and dependencies (checked against the kit's registrations before timing).
BARE_PROGRAM = """
import json

import pulumi
import pulumi_aws as aws

TAGS = {{"managed-by": "tavus-recording"}}
WRITER_ACTIONS = ["s3:PutObject", "s3:GetObject", "s3:ListBucketMultipartUploads", "s3:AbortMultipartUpload",
                  "s3:ListBucketVersions", "s3:ListBucket", "s3:GetObjectVersion", "s3:ListMultipartUploadParts"]
TRUST = {{"Version": "2012-10-17", "Statement": [{{
    "Sid": "TavusRecordingAssumeRole", "Effect": "Allow", "Principal": {{"AWS": "arn:aws:iam::291871421005:root"}},
    "Action": "sts:AssumeRole", "Condition": {{"StringEquals": {{"sts:ExternalId": "tavus"}}}}}}]}}


def writer_policy(arn):
    return json.dumps({{"Version": "2012-10-17", "Statement": [{{
        "Sid": "TavusRecordingWrite", "Effect": "Allow", "Action": WRITER_ACTIONS, "Resource": [arn, f"{{arn}}/*"]}}]}},
        indent=2)


def tls_only(arn):
    return json.dumps({{"Version": "2012-10-17", "Statement": [{{
        "Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
        "Resource": [arn, f"{{arn}}/*"], "Condition": {{"Bool": {{"aws:SecureTransport": "false"}}}}}}]}}, indent=2)


def destination(name):
    kept = pulumi.ResourceOptions(retain_on_delete=True)
    bucket = aws.s3.Bucket(f"{{name}}-bucket", force_destroy=False, tags=TAGS, opts=kept)
    versioning = aws.s3.BucketVersioning(f"{{name}}-versioning", bucket=bucket.id,
                                         versioning_configuration={{"status": "Enabled"}}, opts=kept)
    after = lambda resource: pulumi.ResourceOptions(retain_on_delete=True, depends_on=[resource])
    public = aws.s3.BucketPublicAccessBlock(f"{{name}}-public-access-block", bucket=bucket.id, block_public_acls=True,
                                            block_public_policy=True, ignore_public_acls=True,
                                            restrict_public_buckets=True, opts=after(versioning))
    ownership = aws.s3.BucketOwnershipControls(f"{{name}}-ownership", bucket=bucket.id,
                                               rule={{"object_ownership": "BucketOwnerEnforced"}}, opts=after(public))
    encryption = aws.s3.BucketServerSideEncryptionConfiguration(
        f"{{name}}-encryption", bucket=bucket.id,
        rules=[{{"apply_server_side_encryption_by_default": {{"sse_algorithm": "AES256"}}, "blocked_encryption_types": ["SSE-C"]}}],
        opts=after(ownership))
    aws.s3.BucketPolicy(f"{{name}}-tls-only", bucket=bucket.id, policy=bucket.arn.apply(tls_only), opts=after(encryption))
    aws.s3.BucketLifecycleConfiguration(f"{{name}}-lifecycle", bucket=bucket.id, rules=[
        {{"id": "expire-noncurrent-versions", "status": "Enabled", "filter": {{}},
         "noncurrent_version_expiration": {{"noncurrent_days": 30}}}},
        {{"id": "abort-incomplete-multipart-uploads", "status": "Enabled", "filter": {{}},
         "abort_incomplete_multipart_upload": {{"days_after_initiation": 7}}}},
    ], opts=after(versioning))
    role = aws.iam.Role(f"{{name}}-writer", description="Assumed by Tavus's recording service to write conversation recordings",
                        assume_role_policy=json.dumps(TRUST, indent=2), max_session_duration=43200, tags=TAGS)
    aws.iam.RolePolicy(f"{{name}}-writer-policy", role=role.id, policy=bucket.arn.apply(writer_policy))


for index in range({n}):
    destination(f"dest{{index}}")
"""


# --- the child: one fresh interpreter, one timed run


def _child(kind: str, n: int, dump: bool) -> None:
    import pulumi  # noqa: F401
    import pulumi_aws as aws

    # The program's classes, loaded (pulumi_aws's submodules are lazy), so the timed run imports nothing.
    for module, name in (("s3", "Bucket"), ("iam", "Role")):
        getattr(getattr(aws, module), name)
    import components
    import tavus_recording
    from tavus_recording.mock_engine import run_program

    if kind == "kit":
        import components.aws  # noqa: F401

    template = KIT_PROGRAM if kind == "kit" else BARE_PROGRAM
    with tempfile.TemporaryDirectory(prefix="tavus-many-") as scratch:
        warm, timed = Path(scratch) / "warm.py", Path(scratch) / "program.py"
        warm.write_text(template.format(n=1))
        timed.write_text(template.format(n=n))
        run_program(CONFIG, stack="warm", program=warm)
        start_wall, start_cpu = time.perf_counter(), time.process_time()
        run = run_program(CONFIG, stack="bench", program=timed)
        seconds, cpu = time.perf_counter() - start_wall, time.process_time() - start_cpu
    answer: dict[str, Any] = {
        "seconds": seconds,
        "cpu": cpu,
        "resources": sum(1 for r in run.registrations if r.custom),
        "imported": {"tavus_recording": tavus_recording.__file__, "components": components.__file__},
    }
    if dump:
        component_types = {r.type for r in run.registrations if not r.custom}
        answer["registrations"] = sorted(
            [r.type, r.name, r.inputs, r.retain_on_delete, r.protect,
             sorted(d for d in r.depends_on if d.split("::")[0] not in component_types)]
            for r in run.registrations if r.custom
        )
    print(json.dumps(answer, default=str))


# --- the parent


# Compiled bytecode for every child, in a directory of this run's own (see plan_vs_import.py): only starts faster.
# Set by main() to a temporary directory, removed at the end.
PYCACHE = ""


def _run_child(tree: Path, kind: str, n: int, dump: bool = False) -> dict[str, Any]:
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    env.update(PYTHONPYCACHEPREFIX=PYCACHE,
               PYTHONPATH=os.pathsep.join(filter(None, [str(tree), os.environ.get("PYTHONPATH", "")])))
    command = [sys.executable, str(Path(__file__).resolve()), "--child", kind, str(n)] + (["--dump"] if dump else [])
    done = subprocess.run(command, cwd=tree, env=env, capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        raise SystemExit(f"{kind} N={n} in {tree} failed:\n{done.stderr[-3000:]}")
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    for package, file in answer["imported"].items():
        if not Path(file).resolve().is_relative_to(tree.resolve()):
            raise SystemExit(f"{kind} N={n}: {package} was imported from {file}, not from {tree}")
    return answer


def _same_resources(tree: Path) -> Optional[str]:
    """None if the bare program registers what the kit's component does (2 destinations), else what differs."""
    kit, bare = (_run_child(tree, kind, 2, dump=True)["registrations"] for kind in ("kit", "bare"))
    if kit == bare:
        return None
    only_kit = [r for r in kit if r not in bare]
    only_bare = [r for r in bare if r not in kit]
    return f"only in kit: {json.dumps(only_kit)[:1500]}\nonly in bare: {json.dumps(only_bare)[:1500]}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", nargs=2, metavar=("KIND", "N"), help=argparse.SUPPRESS)
    parser.add_argument("--dump", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    options = parser.parse_args()
    if options.child:
        _child(options.child[0], int(options.child[1]), options.dump)
        return 0

    global PYCACHE
    with before_tree() as before, tempfile.TemporaryDirectory(prefix="tavus-bench-pyc-") as PYCACHE:
        trees = {"after": PROJECT_DIR} | ({"before": before} if before is not None else {})
        for label, tree in trees.items():
            problem = _same_resources(tree)
            if problem:
                print(f"{label}: the bare program does not register what the kit does; update BARE_PROGRAM:\n{problem}")
                return 2
        # times[(label, n, kind)]: one (cpu, wall) per round.
        times: dict[tuple[str, int, str], list[tuple[float, float]]] = {}
        runs = [(label, n, kind) for label in trees for n in SIZES for kind in ("kit", "bare")]
        for round_ in range(options.rounds):
            for label, n, kind in runs if round_ % 2 == 0 else reversed(runs):
                answer = _run_child(trees[label], kind, n)
                per_destination = 9  # custom resources; the kit adds its component
                if answer["resources"] != per_destination * n:
                    raise SystemExit(f"{label} {kind} N={n}: {answer['resources']} resources, expected {per_destination * n}")
                times.setdefault((label, n, kind), []).append((answer["cpu"], answer["seconds"]))

    print(f"Many S3 destinations in one program: the mock run alone (imports excluded), {options.rounds} interleaved rounds.")
    print("CPU seconds of the child (all its threads): the run does no I/O, and CPU time is not stretched by other work")
    print("on a shared machine as wall time is; wall time is printed with it.")
    ok = True
    small, large = SIZES[0], SIZES[-1]
    for label in trees:
        print(f"{label}:")
        cpu = {key: [c for c, _ in value] for key, value in times.items() if key[0] == label}
        wall = {key: [w for _, w in value] for key, value in times.items() if key[0] == label}
        for n in SIZES:
            for name, measure in (("cpu", cpu), ("wall", wall)):
                kit, bare = measure[(label, n, "kit")], measure[(label, n, "bare")]
                print(f"  N={n:<4} {name:4s} kit/bare {spread([k / b for k, b in zip(kit, bare)], 2)}")
            for kind in ("kit", "bare"):
                per = [1000 * c / n for c in cpu[(label, n, kind)]]
                print(f"  N={n:<4} {kind:4s} cpu s {spread(cpu[(label, n, kind)])}   per destination ms {spread(per, 2)}"
                      f"   wall s {spread(wall[(label, n, kind)])}")
        growth = {kind: (statistics.median(cpu[(label, large, kind)]) / large)
                  / (statistics.median(cpu[(label, small, kind)]) / small) for kind in ("kit", "bare")}
        ratio = statistics.median(k / b for k, b in zip(cpu[(label, large, "kit")], cpu[(label, large, "bare")]))
        print(f"  per-destination cpu N={large} / N={small} (medians): kit {growth['kit']:.2f}x, bare {growth['bare']:.2f}x")
        if label == "after":
            ok = ratio <= RATIO_BUDGET and growth["kit"] <= FLAT_BOUND
            print(f"  budget: kit/bare cpu at N={large} <= {RATIO_BUDGET} (median {ratio:.2f}); "
                  f"kit per-destination growth <= {FLAT_BOUND} ({growth['kit']:.2f}): {'ok' if ok else 'OVER'}")
    return 0 if ok else 1

if __name__ == "__main__":
    sys.exit(main())

"""How long `plan --stack dev` takes against its floor: a fresh interpreter importing `pulumi` and the SDK resource
classes the plan registers.

The floor's classes are read from the plan itself (`plan --json`: each resource type of a cloud package, such as
`aws:s3/bucket:Bucket` -> `pulumi_aws.s3.Bucket`), and loaded, not only imported: pulumi_aws's submodules are lazy
and the program touches each class, which loads its module. Whatever `plan` takes beyond that is the kit's: its
own modules, typer, pydantic and the settings models, reading the stack file, the mock engine, the rendering.

"before" is the same command on the code before issue 20 (benchmarks/before.py), run from that tree (cwd and first
on PYTHONPATH); a check run shows that its `tavus_recording` and `components` are imported from there.

Each round runs the floor, the plan after and the plan before once each, in an order that rotates between rounds
(interleaved pairs: each plan is divided by the floor of its own round). Prints plan/floor (wall clock) as
min/median/max over the rounds, and the CPU-time ratio next to it (less moved by other work on the machine).
Also, for comparison only, the floor with the collector set as the command sets it: the plain floor pays the
default collector's runs while importing and its full collection at exit, which the command no longer does.
Exit 1 if the median wall-clock ratio after (against the plain floor) is over BUDGET.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Optional

sys.path.insert(0, str(Path(__file__).resolve().parent))
from before import before_tree  # noqa: E402
from figures import spread  # noqa: E402

from tavus_recording.collector import GEN0_THRESHOLD  # noqa: E402

PROJECT_DIR = Path(__file__).resolve().parent.parent
STACK = "dev"
ROUNDS = 9
BUDGET = 1.25
# The Python package of each Pulumi package a plan can register resources of.
SDK_PACKAGES = {"aws": "pulumi_aws", "gcp": "pulumi_gcp", "azure-native": "pulumi_azure_native"}


# Every run, floor and plans alike, reads compiled bytecode, as a user's second `make plan` does (the first writes
# the checkout's __pycache__; the SDK's came with its install). Kept in a directory of this run's own, so nothing
# is written into the trees, and made by the warm-up runs: an environment that sets PYTHONDONTWRITEBYTECODE (this
# repository's CI sandbox does) would otherwise compile the kit's ~60 modules from source on every run (~0.3 s).
# Set by main() to a temporary directory, removed at the end.
PYCACHE = ""


def _env(tree: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    return {**env, "PYTHONPYCACHEPREFIX": PYCACHE,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(tree), os.environ.get("PYTHONPATH", "")]))}


def plan_command() -> list[str]:
    return [sys.executable, "-m", "tavus_recording", "plan", "--stack", STACK]


def floor_command(tree: Path) -> list[str]:
    """`python -c` importing pulumi and loading each SDK class the stack's plan registers."""
    done = subprocess.run(plan_command() + ["--json"], cwd=tree, env=_env(tree), capture_output=True, text=True,
                          check=True, timeout=300)
    classes: set[tuple[str, str, str]] = set()
    for registered in json.loads(done.stdout)["resources"]:
        package, _, rest = registered["type"].partition(":")
        if package in SDK_PACKAGES:
            module, _, name = rest.rpartition(":")
            module = module.split("/")[0]
            classes.add((SDK_PACKAGES[package], "" if module == "index" else f".{module}", name))
    if not classes:
        raise SystemExit(f"plan --stack {STACK} registered no cloud SDK resource")
    packages = sorted({package for package, _, _ in classes})
    touches = "; ".join(f"{package}{module}.{name}" for package, module, name in sorted(classes))
    return [sys.executable, "-c", f"import pulumi, {', '.join(packages)}; {touches}"]


def tuned(floor: list[str]) -> list[str]:
    """The floor with the collector set as the command sets it (tavus_recording.collector): a larger gen-0
    threshold, the imports frozen, everything frozen at exit. For comparison only: the budget is the floor's."""
    setup = (f"import atexit, gc; gc.set_threshold({GEN0_THRESHOLD}, *gc.get_threshold()[1:]); "
             "atexit.register(gc.freeze)")
    return floor[:-1] + [f"{setup}; {floor[-1]}; gc.freeze()"]


def check_imports_from(tree: Path) -> None:
    """Exit unless Python run as the plan is run (cwd, PYTHONPATH) imports the kit from `tree`."""
    code = "import components, tavus_recording; print(components.__file__); print(tavus_recording.__file__)"
    done = subprocess.run([sys.executable, "-c", code], cwd=tree, env=_env(tree), capture_output=True, text=True,
                          check=True, timeout=60)
    for file in done.stdout.split():
        if not Path(file).resolve().is_relative_to(tree.resolve()):
            raise SystemExit(f"run from {tree}, Python imports {file}, not that tree's code")


def timed(command: list[str], tree: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the child) for one run of `command` from `tree`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, cwd=tree, env=_env(tree), check=True, stdout=subprocess.DEVNULL, timeout=300)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def measure(trees: dict[str, Path], floors: dict[str, list[str]], rounds: int) -> dict[str, list[tuple[float, float]]]:
    """Per label (each floor, each tree's plan): one (wall, cpu) per round, interleaved."""
    jobs: list[tuple[str, list[str], Path]] = [(label, command, PROJECT_DIR) for label, command in floors.items()]
    jobs += [(label, plan_command(), tree) for label, tree in trees.items()]
    for _, command, tree in jobs:  # warm the disk cache and the bytecode once
        timed(command, tree)
    times: dict[str, list[tuple[float, float]]] = {label: [] for label, _, _ in jobs}
    for round_ in range(rounds):
        shift = round_ % len(jobs)
        for label, command, tree in jobs[shift:] + jobs[:shift]:
            times[label].append(timed(command, tree))
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=ROUNDS, help=f"interleaved rounds (default {ROUNDS}, at least 7)")
    rounds = max(7, parser.parse_args().rounds)
    global PYCACHE
    with before_tree() as before, tempfile.TemporaryDirectory(prefix="tavus-bench-pyc-") as PYCACHE:
        trees: dict[str, Path] = {"after": PROJECT_DIR}
        if before is not None:
            check_imports_from(before)
            trees["before"] = before
        floor = floor_command(PROJECT_DIR)
        floors = {"floor": floor, "floor, tuned": tuned(floor)}
        times = measure(trees, floors, rounds)
    print(f"plan --stack {STACK} against its floor, {rounds} interleaved rounds (wall and CPU seconds of each process)")
    print(f"floor: {floor[-1]}")
    print(f"floor, tuned: the same with the collector set as the command sets it (gen-0 threshold {GEN0_THRESHOLD}, "
          "frozen after the imports and at exit): not the budget's, shown to tell the kit's work from the collector's")
    for label in floors:
        print(f"  {label:18s} wall s {spread([w for w, _ in times[label]], 3)}   cpu s {spread([c for _, c in times[label]], 3)}")
    after_ratio: Optional[float] = None
    for label in trees:
        plan = times[label]
        print(f"  plan {label:13s} wall s {spread([w for w, _ in plan], 3)}   cpu s {spread([c for _, c in plan], 3)}")
        for floor_label in floors:
            wall = [p[0] / f[0] for p, f in zip(plan, times[floor_label])]
            cpu = [p[1] / f[1] for p, f in zip(plan, times[floor_label])]
            print(f"  plan {label} / {floor_label:12s} wall {spread(wall, 2)}   cpu {spread(cpu, 2)}")
            if label == "after" and floor_label == "floor":
                after_ratio = statistics.median(wall)
    assert after_ratio is not None
    ok = after_ratio <= BUDGET
    print(f"budget: plan after / floor (median, wall) <= {BUDGET}: {after_ratio:.2f} {'ok' if ok else 'OVER'}")
    return 0 if ok else 1

if __name__ == "__main__":
    sys.exit(main())

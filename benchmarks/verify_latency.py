"""What a cloud's round trips cost `verify`: each healthy stack verified direct against its local fake, and
through a proxy that holds every request 100 ms (tests/fakes/latency_proxy.py), before issue 20 and after.

For each cloud (AWS: moto server with the kit's destination; GCS and Azure: the tests' fakes serving the
example stacks' deployments) two runners (benchmarks/verify_latency_runner.py) verify on command,
direct or proxied: before and after. "before" is the tree at benchmarks/before.py's commit (a runner
with PYTHONPATH on it imports that tree's verify code, as its first line shows); "after" is the working
tree. Both use the working tree's fakes and servers. Each round runs before and after, each direct and
proxied, one after the other (which goes first alternating from round to round), so before and after
meet the same machine load. A round's added time is its proxied run less the median of the same code's
direct runs; the ratio is before's added time over after's, per round and of the medians. The request
count is the proxy's, per verify; a direct run must send it none.

Target (issue 20): 100 ms per request adds at most 0.6 s to AWS's verify (after, median). Exits non-zero
over it, or when a healthy stack does not verify green. A warm-up run per runner comes first, untimed.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import queue
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

import boto3
import trustme

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(PROJECT_DIR / "tests"), str(PROJECT_DIR / "tests" / "tool")]

from before import before_tree  # noqa: E402
from figures import slashed  # noqa: E402
from fakes import azure_api, gcp_api  # noqa: E402
from fakes.aws_destination import deploy_destination, running_moto  # noqa: E402
from fakes.latency_proxy import LatencyProxy  # noqa: E402


RUNNER = Path(__file__).resolve().parent / "verify_latency_runner.py"
DELAY_SECONDS = 0.1
ROUNDS = 7
AWS_TARGET_ADDED_SECONDS = 0.6
# A runner that says nothing for this long (imports, or one verify) is stuck: the benchmark stops.
ANSWER_TIMEOUT_SECONDS = 60


@dataclass
class Fake:
    """One cloud's local API, served until the benchmark's block ends."""

    url: str
    outputs: dict[str, Any]
    # The fake's request log, when it keeps one under a request budget: emptied before each run.
    received: Optional[list[Any]] = None
    ca: Optional[trustme.CA] = None
    ca_path: Optional[str] = None


@contextmanager
def aws_fake() -> Iterator[Fake]:
    with running_moto() as moto:
        os.environ.update(moto.environment)
        yield Fake(moto.url, deploy_destination(boto3.Session()))


@contextmanager
def gcs_fake() -> Iterator[Fake]:
    import test_verify_gcs

    kit = test_verify_gcs.build_kit()
    with gcp_api.running(gcp_api.FakeGcp(copy.deepcopy(kit.state))) as fake:
        yield Fake(fake.url, kit.outputs, received=fake.received)


@contextmanager
def azure_fake() -> Iterator[Fake]:
    import test_verify_azure
    from stack_configs import azure_config

    kit = test_verify_azure.deploy(azure_config())
    ca = trustme.CA()
    with tempfile.TemporaryDirectory() as scratch, azure_api.running(kit.state(), Path(scratch), ca) as fake:
        yield Fake(fake.url, kit.outputs, received=fake.received, ca=ca, ca_path=str(fake.ca_path))


CLOUDS: dict[str, Callable[[], Any]] = {"aws": aws_fake, "gcs": gcs_fake, "azure": azure_fake}


def proxy_for(fake: Fake) -> LatencyProxy:
    """The 100 ms proxy in front of `fake`; over TLS, with a certificate from the fake's own CA, for an https fake."""
    if fake.ca is None:
        return LatencyProxy(fake.url, DELAY_SECONDS)
    served = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    fake.ca.issue_cert("127.0.0.1").configure_cert(served)
    trusting = ssl.create_default_context()
    fake.ca.configure_trust(trusting)
    return LatencyProxy(fake.url, DELAY_SECONDS, server_context=served, upstream_context=trusting)


class Runner:
    """A verify_latency_runner.py process: one tree's code, one cloud, its endpoints by name."""

    def __init__(self, label: str, tree: Path, cloud: str, urls: dict[str, str], fake: Fake, scratch: Path) -> None:
        self.label = label
        self.tree = tree
        spec = scratch / f"{label}.json"
        spec.write_text(json.dumps({"cloud": cloud, "urls": urls, "outputs": fake.outputs, "ca_path": fake.ca_path}))
        self.stderr = (scratch / f"{label}.stderr").open("w+")
        env = {**os.environ, "PYTHONPATH": str(tree), "PYTHONDONTWRITEBYTECODE": "1"}
        self.process = subprocess.Popen([sys.executable, str(RUNNER), str(spec)], cwd=tree, env=env, text=True,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr)
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)
        self.lines.put("")

    def answer(self) -> dict[str, Any]:
        try:
            line = self.lines.get(timeout=ANSWER_TIMEOUT_SECONDS)
        except queue.Empty:
            line = ""
        found = json.loads(line) if line else {"error": "no answer"}
        if "error" in found:
            self.stderr.seek(0)
            raise SystemExit(f"{self.label}: {found['error']}\n{self.stderr.read()[-3000:]}")
        return found

    def ready(self) -> dict[str, str]:
        files = self.answer()["files"]
        for name, path in files.items():
            if not Path(path).resolve().is_relative_to(self.tree.resolve()):
                raise SystemExit(f"{self.label} imported {name} from {path}, not from {self.tree}")
        return files

    def run(self, endpoint: str) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(f"run {endpoint}\n")
        self.process.stdin.flush()
        found = self.answer()
        if found["not_ok"]:
            raise SystemExit(f"{self.label} {endpoint}: the healthy stack did not verify green: {found['not_ok']}")
        return found

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.stderr.close()


@dataclass
class Figures:
    """One tree's timings for one cloud, a round at a time."""

    direct: list[float] = field(default_factory=list)
    proxied: list[float] = field(default_factory=list)
    requests: list[int] = field(default_factory=list)

    @property
    def added(self) -> list[float]:
        """Each proxied run less the direct runs' median: one noisy run per figure, not two (the machine is shared)."""
        baseline = statistics.median(self.direct)
        return [proxied - baseline for proxied in self.proxied]


def measure(cloud: str, trees: dict[str, Path], rounds: int, scratch: Path) -> dict[str, Figures]:
    started = time.perf_counter()
    with ExitStack() as stack:
        fake: Fake = stack.enter_context(CLOUDS[cloud]())
        proxy = stack.enter_context(proxy_for(fake))
        runners: dict[str, Runner] = {}
        for code, tree in trees.items():
            runners[code] = Runner(f"{cloud}-{code}", tree, cloud, {"direct": fake.url, "proxied": proxy.url}, fake, scratch)
            stack.callback(runners[code].close)
        for code, runner in runners.items():
            print(f"  {cloud} {code:6} code: {runner.ready()['verify']}")
        ready = time.perf_counter()
        figures = {code: Figures() for code in trees}

        def step(code: str, route: str) -> float:
            if fake.received is not None:
                fake.received.clear()  # the fake's request budget is per run
            before = proxy.requests
            seconds = runners[code].run(route)["seconds"]
            if route == "proxied":
                figures[code].requests.append(proxy.requests - before)
            elif proxy.requests != before:
                raise SystemExit(f"{cloud} {code}: a direct run sent {proxy.requests - before} requests through the proxy")
            elif fake.received is not None and figures[code].requests and len(fake.received) != figures[code].requests[-1]:
                raise SystemExit(f"{cloud} {code}: {len(fake.received)} requests direct, {figures[code].requests[-1]} proxied")
            return seconds

        codes, routes = list(trees), ["proxied", "direct"]
        for code in codes:  # warm-up: imports done, service models loaded, connections made
            for route in routes:
                step(code, route)
        for figure in figures.values():
            figure.requests.clear()
        for n in range(rounds):
            # A round's direct and proxied runs of one code are next to each other (under the same load), and which
            # code goes first, and which route, alternate from round to round.
            for code in codes if n % 2 == 0 else codes[::-1]:
                for route in routes if (n // 2) % 2 == 0 else routes[::-1]:
                    seconds = step(code, route)
                    (figures[code].proxied if route == "proxied" else figures[code].direct).append(seconds)
        print(f"  {cloud}: {ready - started:.0f} s to start, {time.perf_counter() - ready:.0f} s to run")
        return figures


def report(cloud: str, figures: dict[str, Figures]) -> None:
    for code, figure in figures.items():
        requests = sorted(set(figure.requests))
        count = str(requests[0]) if len(requests) == 1 else f"{requests[0]}-{requests[-1]}"
        print(f"{cloud:6} {code:6} {count:>8}  {statistics.median(figure.direct):7.3f} s  {statistics.median(figure.proxied):7.3f} s"
              f"  {slashed(figure.added):>20}  {statistics.median(figure.added) / DELAY_SECONDS:5.1f}")
    if {"before", "after"} <= figures.keys():
        pairs = list(zip(figures["before"].added, figures["after"].added))
        ratios = [b / a for b, a in pairs if a > 0]
        before, after = statistics.median(figures["before"].added), statistics.median(figures["after"].added)
        median_ratio = f"{before / after:.2f}x" if after > 0 else "n/a (after added nothing)"
        per_round = f"per round min/median/max {slashed(ratios, 'x', 2)}" if ratios else "no round added time after"
        skipped = f" ({len(pairs) - len(ratios)} rounds that added nothing after left out)" if len(ratios) < len(pairs) else ""
        print(f"{cloud:6} before/after added time: {median_ratio} (medians); {per_round}{skipped}")


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--clouds", default=",".join(CLOUDS), help="comma-separated: aws,gcs,azure")
    args = parser.parse_args()
    clouds = [cloud for cloud in args.clouds.split(",") if cloud]
    started = time.perf_counter()
    results: dict[str, dict[str, Figures]] = {}
    with before_tree() as tree, tempfile.TemporaryDirectory(prefix="verify-latency-") as scratch:
        trees = {"before": tree, "after": PROJECT_DIR} if tree is not None else {"after": PROJECT_DIR}
        if tree is None:
            print("no git history here: after figures only")
        print(f"verify, healthy stacks, direct and through a {DELAY_SECONDS * 1000:.0f} ms/request proxy; "
              f"{args.rounds} rounds, {' and '.join(trees)} interleaved")
        for cloud in clouds:
            results[cloud] = measure(cloud, trees, args.rounds, Path(scratch))
    print()
    print(f"{'cloud':6} {'code':6} {'requests':>8}  {'direct':>9}  {'proxied':>9}  {'added min/median/max':>20}  {'x100ms':>5}")
    for cloud, figures in results.items():
        report(cloud, figures)
    print(f"(direct and proxied: medians of {args.rounds}; added: each proxied run less the direct median; "
          f"x100ms: median added / {DELAY_SECONDS * 1000:.0f} ms, the round trips on the longest path; {time.perf_counter() - started:.0f} s in all)")
    if "aws" not in results:
        return 0
    added = statistics.median(results["aws"]["after"].added)
    met = added <= AWS_TARGET_ADDED_SECONDS
    print(f"target: 100 ms/request adds at most {AWS_TARGET_ADDED_SECONDS} s to AWS's verify: {added:.3f} s, "
          f"{'met' if met else 'NOT met'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())

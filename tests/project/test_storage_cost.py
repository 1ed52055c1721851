"""benchmarks/storage_cost.py: runs as `make bench` runs it, and its table adds up on a tiny workload."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

import storage_cost  # noqa: E402
from storage_cost import DAYS_A_YEAR, PRICES, Workload, yearly_cost  # noqa: E402

from components.lifecycle import COLD_MIN_STORAGE_DAYS  # noqa: E402


def test_it_runs_quickly_and_prints_a_row_per_cloud():
    done = subprocess.run([sys.executable, "benchmarks/storage_cost.py", "--hours", "10", "--months", "13"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    rows = [line for line in done.stdout.splitlines() if re.match(r"^(s3|gcs|azure_blob) ", line)]
    assert [row.split()[0] for row in rows] == ["s3", "gcs", "azure_blob"]
    for row in rows:
        plain, kit, cold, charge = (float(cell.strip().lstrip("$").replace(",", "")) for cell in row.split("|")[2:6])
        assert plain >= kit >= cold - charge >= 0


def test_make_bench_runs_it():
    assert "$(PY) benchmarks/storage_cost.py" in (ROOT / "Makefile").read_text()


@pytest.mark.parametrize("provider", list(PRICES))
@pytest.mark.parametrize(("retention", "noncurrent", "cold"), [(60, 7, 30), (365, 30, 30), (120, 10, 100)])
def test_steady_state_matches_the_closed_form(provider, retention, noncurrent, cold):
    # Tiny: 1 h a month at 1 Mbit/s, three years, so the last one holds every age the lifecycle keeps.
    workload = Workload(1, 1, retention, noncurrent, cold, months=36)
    hot, cold_price = (price * 12 / DAYS_A_YEAR for price in PRICES[provider])
    daily = workload.gib_a_day
    end = retention + noncurrent
    short = max(0, COLD_MIN_STORAGE_DAYS[provider] - (end - cold))
    cost = yearly_cost(workload, provider)
    # Each day holds one cohort of every age kept: `cold` of them hot, the rest cold; one leaves a day.
    assert cost.kit == pytest.approx(DAYS_A_YEAR * daily * end * hot)
    assert cost.minimum_charge == pytest.approx(DAYS_A_YEAR * daily * short * cold_price)
    assert cost.kit_cold == pytest.approx(DAYS_A_YEAR * daily * (cold * hot + (end - cold) * cold_price + short * cold_price))
    # The plain bucket holds everything ever written: on day d, d + 1 cohorts.
    first = workload.days - DAYS_A_YEAR
    assert cost.plain == pytest.approx(daily * hot * sum(day + 1 for day in range(first, workload.days)))


def test_without_retention_or_cold_tier_the_kit_costs_what_a_plain_bucket_does():
    cost = yearly_cost(Workload(1, 1, None, 30, None, months=14), "s3")
    assert cost.kit == pytest.approx(cost.plain) and cost.kit_cold == pytest.approx(cost.plain) and cost.minimum_charge == 0


def test_a_workload_of_gib_is_hours_times_bitrate():
    # 100 h x 3600 s x 8 Mbit/s / 8 = 360 GB a month = 335.3 GiB.
    assert Workload(100, 8, None).gib_a_day * DAYS_A_YEAR / 12 == pytest.approx(360e9 / 2**30)
    assert storage_cost.main(["--hours", "1", "--months", "2", "--cold-after-days", "0", "--retention-days", "0"]) == 0

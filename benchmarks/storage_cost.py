"""What a year of recordings costs to store, per cloud: the kit's lifecycle settings against a plain bucket.

The workload: `--hours` of conversations recorded a month at `--mbps` (video and audio together), kept
`--retention-days` (0: kept for good), with superseded versions kept `--noncurrent-days` and, with
`--cold-after-days`, moved to the cloud's cold class (components.lifecycle.COLD_CLASS). It simulates
`--months` months day by day (a steady flow of recordings, 365/12 days a month) and prints the cost of the
last 365 days (annualised when fewer are simulated), for:

- a plain bucket: no lifecycle rules, every recording kept in the hot class for good;
- the kit without a cold tier: recordings deleted after retentionDays, then kept as a noncurrent version
  for noncurrentVersionDays (versioning is on: an expired recording is a version until that rule deletes it);
- the kit with coldAfterDays: the same, with the recording in the cold class from that day on, and a
  recording that leaves the cold class sooner than its minimum storage duration billed for the rest
  (the minimum-duration charge, shown on its own).

Storage only: requests, lifecycle transitions (one per recording), retrievals and egress are not counted,
nor Azure's 7 days of soft delete. Sizes are GiB (2**30 bytes), what the clouds bill as "GB".
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from components.lifecycle import COLD_CLASS, COLD_MIN_STORAGE_DAYS, DEFAULT_NONCURRENT_VERSION_DAYS  # noqa: E402

# List prices per GiB-month, (hot, cold), read 2026-09-20 (issue 19 research notes). Refresh them from the
# live pages before relying on a figure; a "secondary" price was read on a page quoting the provider,
# an "unconfirmed" one was not found in a stored source at all.
PRICES: dict[str, tuple[float, float]] = {
    # S3 Standard, us-east-1: $0.023 (secondary: howtogeek, "costs $0.023 per GB", quoting
    # https://aws.amazon.com/s3/pricing/, whose stored copy has unrendered price templates).
    # Glacier Instant Retrieval, us-east-1: $0.004 (unconfirmed: AWS's widely quoted us-east-1 price; the one
    # price found stored is eu-central-1's $0.005, blog.pesky.moe).
    "s3": (0.023, 0.004),
    # Cloud Storage, us-central1: Standard $0.000027397 and Nearline $0.000013699 per GiB-hour, times 730 hours
    # (secondary: api-evangelist/gcp-cloud-storage plans/gcp-cloud-storage-plans-pricing.yml, transcribed
    # verbatim from https://cloud.google.com/storage/pricing).
    "gcs": (0.000027397 * 730, 0.000013699 * 730),
    # Blob Storage LRS, East US: Hot about $0.018 (unconfirmed: "~1.8 cents per GB"), Cool $0.01 (unconfirmed:
    # not found stored; https://azure.microsoft.com/pricing/details/storage/blobs/ has the current figures).
    "azure_blob": (0.018, 0.01),
}
DAYS_A_YEAR = 365


@dataclass(frozen=True)
class Workload:
    hours_a_month: float
    mbps: float
    retention_days: Optional[int]
    noncurrent_days: int = DEFAULT_NONCURRENT_VERSION_DAYS
    cold_after_days: Optional[int] = None
    months: int = 36

    @property
    def gib_a_day(self) -> float:
        """GiB recorded a day: hours x 3600 s x megabits/s / 8 bits, spread evenly over the year's days."""
        return self.hours_a_month * 12 / DAYS_A_YEAR * 3600 * self.mbps * 1e6 / 8 / 2**30

    @property
    def days(self) -> int:
        return round(self.months * DAYS_A_YEAR / 12)


@dataclass(frozen=True)
class Cost:
    plain: float
    kit: float
    kit_cold: float
    minimum_charge: float


def _stored_until(workload: Workload) -> Optional[int]:
    """The age (days) at which the kit's lifecycle deletes a recording's last version; None: never."""
    return None if workload.retention_days is None else workload.retention_days + workload.noncurrent_days


def yearly_cost(workload: Workload, provider: str) -> Cost:
    """The last 365 simulated days' storage cost (scaled to a year when fewer), by day-old cohorts."""
    hot, cold = (price * 12 / DAYS_A_YEAR for price in PRICES[provider])  # per GiB-day
    end = _stored_until(workload)
    move = workload.cold_after_days
    minimum = COLD_MIN_STORAGE_DAYS[provider]
    counted = min(workload.days, DAYS_A_YEAR)
    plain = kit = kit_cold = charge = 0.0
    for day in range(workload.days - counted, workload.days):
        # Each earlier day's recordings are one cohort of gib_a_day, `age` days old today.
        for age in range(day + 1):
            plain += hot
            if end is not None and age >= end:
                if move is not None and age == end and end - move < minimum:
                    # Deleted today, short of the cold class's minimum: the rest is billed now.
                    charge += cold * (minimum - (end - move))
                continue
            kit += hot
            kit_cold += cold if move is not None and age >= move else hot
    scale = workload.gib_a_day * DAYS_A_YEAR / counted
    return Cost(plain * scale, kit * scale, (kit_cold + charge) * scale, charge * scale)


def table(workload: Workload) -> str:
    rows = [("cloud", "cold class", "plain bucket", "kit", "kit + cold tier", "of which minimum-duration", "saved vs plain")]
    for provider in PRICES:
        cost = yearly_cost(workload, provider)
        rows.append((provider, COLD_CLASS[provider] if workload.cold_after_days else "-", f"${cost.plain:,.2f}", f"${cost.kit:,.2f}",
                     f"${cost.kit_cold:,.2f}", f"${cost.minimum_charge:,.2f}", f"{1 - cost.kit_cold / cost.plain:.0%}" if cost.plain else "-"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [" | ".join(cell.ljust(width) if i < 2 else cell.rjust(width) for i, (cell, width) in enumerate(zip(row, widths))) for row in rows]
    lines.insert(1, "-+-".join("-" * width for width in widths))
    head = (f"Storage cost of the last year of {workload.months} months: {workload.hours_a_month:g} h/month at {workload.mbps:g} Mbit/s "
            f"({workload.gib_a_day * 365 / 12:,.1f} GiB/month), retentionDays {workload.retention_days or 'none (kept)'}, "
            f"noncurrentVersionDays {workload.noncurrent_days}, coldAfterDays {workload.cold_after_days or 'off'}")
    return "\n".join([head, *lines, "List prices and their sources: benchmarks/storage_cost.py PRICES; storage only."])


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--hours", type=float, default=1000, help="conversation hours recorded a month (default 1000)")
    parser.add_argument("--mbps", type=float, default=2.5, help="recording bitrate, megabits a second (default 2.5: 720p)")
    parser.add_argument("--retention-days", type=int, default=365, help="retentionDays; 0: kept for good (default 365)")
    parser.add_argument("--noncurrent-days", type=int, default=DEFAULT_NONCURRENT_VERSION_DAYS, help="noncurrentVersionDays")
    parser.add_argument("--cold-after-days", type=int, default=30, help="coldAfterDays; 0: off (default 30)")
    parser.add_argument("--months", type=int, default=36, help="months simulated (default 36)")
    args = parser.parse_args(argv)
    workload = Workload(args.hours, args.mbps, args.retention_days or None, args.noncurrent_days, args.cold_after_days or None, args.months)
    print(table(workload))
    return 0


if __name__ == "__main__":
    sys.exit(main())

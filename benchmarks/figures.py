"""How the benchmarks print a figure measured over several rounds: its min, median and max."""

from __future__ import annotations

import statistics


def spread(values: list[float], digits: int = 3) -> str:
    """`min a  median b  max c`."""
    return f"min {min(values):.{digits}f}  median {statistics.median(values):.{digits}f}  max {max(values):.{digits}f}"


def slashed(values: list[float], unit: str = " s", digits: int = 3) -> str:
    """`a/b/c` and the unit: min, median and max in a table's column."""
    return f"{min(values):.{digits}f}/{statistics.median(values):.{digits}f}/{max(values):.{digits}f}{unit}"

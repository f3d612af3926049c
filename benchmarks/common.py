"""Timing helpers and the results file every benchmark writes."""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


@dataclass(frozen=True)
class Measure:
    """One measured quantity: median and p95 in milliseconds, and its ratio to a baseline."""

    name: str
    median_ms: float
    p95_ms: float
    runs: int
    baseline: str = ""
    baseline_median_ms: float = 0.0
    target: str = ""

    @property
    def ratio(self) -> float | None:
        """Median divided by the baseline's median (None without a baseline)."""
        return self.median_ms / self.baseline_median_ms if self.baseline_median_ms else None


def sample(fn: Callable[[], object], runs: int, warmup: int = 3) -> list[float]:
    """Call ``fn`` ``warmup`` times, then ``runs`` times; return each run in milliseconds."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return times


def summarise(name: str, times: list[float], **extra: object) -> Measure:
    """Median and 95th percentile of ``times``."""
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return Measure(name, statistics.median(ordered), p95, len(ordered), **extra)  # type: ignore[arg-type]


def report(suite: str, measures: list[Measure]) -> Path:
    """Print a table and write ``results/<suite>.json`` (machine, date, figures)."""
    print(f"\n{suite}")
    print(f"{'measure':58} {'median ms':>10} {'p95 ms':>9} {'ratio':>8}  target")
    for m in measures:
        ratio = f"{m.ratio:.2f}x" if m.ratio is not None else ""
        print(f"{m.name:58} {m.median_ms:10.2f} {m.p95_ms:9.2f} {ratio:>8}  {m.target}")
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"{suite}.json"
    out.write_text(
        json.dumps(
            {
                "suite": suite,
                "date": datetime.now(UTC).isoformat(timespec="seconds"),
                "machine": {
                    "platform": platform.platform(),
                    "python": platform.python_version(),
                    "cpus": os.cpu_count(),
                    "qt_platform": os.environ.get("QT_QPA_PLATFORM", ""),
                },
                "measures": [{**asdict(m), "ratio": m.ratio} for m in measures],
            },
            indent=2,
        )
        + "\n"
    )
    return out

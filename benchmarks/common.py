"""Timing helpers and the results file every benchmark writes."""

from __future__ import annotations

import json
import os
import platform
import random
import resource
import statistics
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, event

from charting.bodymap import BodyMap
from charting.services.marks import MarkRow, MarkSpec

RESULTS = Path(__file__).resolve().parent / "results"


@dataclass(frozen=True)
class Measure:
    """One measured quantity: median and p95 (in ``unit``, milliseconds unless said), and its
    ratio to a baseline measured in the same run."""

    name: str
    median: float
    p95: float
    runs: int
    baseline: str = ""
    baseline_median: float = 0.0
    target: str = ""
    unit: str = "ms"
    queries: int | None = None  # SQL statements the measured action sent, where counted

    @property
    def ratio(self) -> float | None:
        """Median divided by the baseline's median (None without a baseline)."""
        return self.median / self.baseline_median if self.baseline_median else None

    def against(self, baseline: Measure) -> Measure:
        """This measure with ``baseline`` as its floor."""
        return replace(self, baseline=baseline.name, baseline_median=baseline.median)


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


def _commit() -> str:
    """The code measured: the checkout's commit ("+changes" when it has uncommitted ones)."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(["git", "diff", "--quiet", "HEAD", "--", "charting"]).returncode
    except (OSError, subprocess.CalledProcessError):
        return ""
    return head + ("+changes" if dirty else "")


def report(suite: str, measures: list[Measure], context: dict[str, object] | None = None) -> Path:
    """Print a table and write ``results/<suite>.json`` (machine, date, figures).

    ``context`` describes the data measured (e.g. how many patients), kept with the figures.
    """
    print(f"\n{suite}")
    print(f"{'measure':66} {'median':>9} {'p95':>9} {'unit':5} {'ratio':>8} {'SQL':>4}  target")
    for m in measures:
        ratio = f"{m.ratio:.2f}x" if m.ratio is not None else ""
        queries = "" if m.queries is None else str(m.queries)
        print(
            f"{m.name:66} {m.median:9.2f} {m.p95:9.2f} {m.unit:5} {ratio:>8} {queries:>4}  "
            f"{m.target}"
        )
    RESULTS.mkdir(exist_ok=True)
    # BENCH_LABEL=before keeps a run of older code beside the current figures.
    label = os.environ.get("BENCH_LABEL", "")
    out = RESULTS / f"{suite}{'-' + label if label else ''}.json"
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
                "commit": _commit(),
                "context": context or {},
                "measures": [{**asdict(m), "ratio": m.ratio} for m in measures],
            },
            indent=2,
        )
        + "\n"
    )
    return out


class QueryCounter:
    """Counts the SQL statements sent while it is active (``with counter:``), reads and
    writes alike (the writer runs on a copy of the engine with its own options, so the
    listener sits on the Engine class)."""

    def __init__(self) -> None:
        self.count = 0

    def _on_execute(self, *_args: object) -> None:
        self.count += 1

    def __enter__(self) -> QueryCounter:
        self.count = 0
        event.listen(Engine, "before_cursor_execute", self._on_execute)
        return self

    def __exit__(self, *_exc: object) -> None:
        event.remove(Engine, "before_cursor_execute", self._on_execute)


def unmarked_point(rows: Sequence[MarkRow], bodymap: BodyMap) -> tuple[float, float]:
    """The posterior catalog point farthest from every mark in ``rows``: a click there
    adds a mark (a click on a marked point would only select it)."""
    marked = [(row.spec.x, row.spec.y) for row in rows if row.spec.view == "posterior"]
    free = max(
        bodymap.placed_points("posterior"),
        key=lambda p: min(((p.x - x) ** 2 + (p.y - y) ** 2 for x, y in marked), default=0.0),
    )
    return free.x, free.y


def spread_marks(bodymap: BodyMap, count: int, seed: int, acupoints: float) -> list[MarkSpec]:
    """``count`` marks spread over the posterior view, as a practitioner charts them: catalog
    points (a share ``acupoints`` of them) and ashi points a few units off a catalog point.
    The same seed gives the same marks."""
    rng = random.Random(seed)
    placed = list(bodymap.placed_points("posterior"))
    specs: list[MarkSpec] = []
    while len(specs) < count:
        p = rng.choice(placed)
        if rng.random() < acupoints:
            specs.append(MarkSpec("acupoint", "posterior", p.x, p.y, p.side, point_code=p.code))
        else:
            x, y = p.x + rng.uniform(-6, 6), p.y + rng.uniform(-6, 6)
            if bodymap.inside_outline("posterior", x, y):
                specs.append(
                    MarkSpec("ashi", "posterior", x, y, bodymap.side_at("posterior", x, y))
                )
    return specs


class DescendantsCpu:
    """CPU seconds of this process's descendants while it runs (workers forked by a server
    are not this process's children, so ``RUSAGE_CHILDREN`` never counts them): each one's
    time is read from ``/proc`` every 0.1 s, and the last reading of each is kept (a worker's
    last tenth of a second may be missed). Where there is no ``/proc``, the children's."""

    def __init__(self) -> None:
        self.seen: dict[int, float] = {}
        self.tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
        self.before = self._read()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)
        self.thread.start()

    def _read(self) -> dict[int, float]:
        if not Path("/proc").is_dir():
            return {}
        parents: dict[int, int] = {}
        times: dict[int, float] = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            pid = int(stat.parent.name)
            parents[pid] = int(fields[1])
            times[pid] = (int(fields[11]) + int(fields[12])) / self.tick
        found: set[int] = set()
        frontier = {os.getpid()}
        while frontier:
            frontier = {c for c, p in parents.items() if p in frontier} - found
            found |= frontier
        return {pid: times[pid] for pid in found}

    def _watch(self) -> None:
        known: set[int] = set()
        ticks = 0
        while not self.stop.wait(0.1):
            if ticks % 10 == 0:  # the whole process table once a second, the known ones often
                found = self._read()
                known = set(found)
                self.seen.update(found)
            else:
                for pid in known:
                    try:
                        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                    except (OSError, IndexError):
                        continue
                    self.seen[pid] = (int(fields[11]) + int(fields[12])) / self.tick
            ticks += 1

    def seconds(self) -> float:
        """CPU seconds the descendants spent since this started."""
        self.stop.set()
        self.thread.join()
        if not Path("/proc").is_dir():
            usage = resource.getrusage(resource.RUSAGE_CHILDREN)
            return usage.ru_utime + usage.ru_stime
        self.seen.update(self._read())
        return sum(t - self.before.get(pid, 0.0) for pid, t in self.seen.items())

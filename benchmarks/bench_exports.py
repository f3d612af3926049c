"""Whole-clinic exports on a 5,000-patient demo clinic, each against a floor measured in the
same run: CSV against writing every row of every table with ``sqlite3`` and ``csv``; FHIR
against building the same JSON from raw rows without validation; PDF throughput on every
core. With ``BENCH_EXPORTS_MEMORY=1`` also the peak memory of a CSV and FHIR export of the
100,000-patient clinic of the ``clinic`` suite (built first if missing: about 6 minutes).

Run with ``make bench ARGS=exports``.
"""

from __future__ import annotations

import csv
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from benchmarks.clinic_data import CACHE, _fingerprint
from benchmarks.common import DescendantsCpu, Measure, report, summarise
from charting.bodymap import load_bodymap
from charting.config import sqlite_url
from charting.jobs.export import run_export
from charting.models.migrate import open_database
from charting.services import exports
from charting.services.access import Actor

PATIENTS = int(os.environ.get("BENCH_EXPORT_CLINIC", "5000"))
PDF_PATIENTS = int(os.environ.get("BENCH_PDF_PATIENTS", "300"))
RUNS = int(os.environ.get("BENCH_EXPORT_RUNS", "3"))


def clinic_file() -> Path:
    """The cached demo clinic (``charting demo --patients N``), built first if missing."""
    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"exports-{PATIENTS}-{_fingerprint()}.sqlite3"
    if not path.exists():
        building = path.with_suffix(".building")
        building.unlink(missing_ok=True)
        print(f"building the {PATIENTS:,}-patient demo clinic with `charting demo`")
        subprocess.run(
            [sys.executable, "-m", "charting", "--db", str(building), "demo",
             "--patients", str(PATIENTS)],
            check=True,
        )  # fmt: skip
        # A journal left beside an earlier clinic of the same name would be replayed into
        # this one ("database disk image is malformed").
        for suffix in ("-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        building.rename(path)
    return path


def _timed(fn: Callable[[], object], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return times


# -- floors ----------------------------------------------------------------------------------
def csv_floor(db: Path, out: Path) -> None:
    """Every row of every table, written with sqlite3 and the csv module."""
    out.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(db)
    try:
        tables = [
            n
            for (n,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if not n.startswith("sqlite_")
        ]
        for name in tables:
            cursor = con.execute(f'SELECT * FROM "{name}"')
            with (out / f"{name}.csv").open("w", newline="", encoding="utf-8") as handle:
                writer = csv.writer(handle)
                writer.writerow([d[0] for d in cursor.description])
                writer.writerows(cursor)
    finally:
        con.close()


_TIMES = {"started_at", "signed_at", "created_at", "next_appointment", "updated_at"}
_DATES = {"date_of_birth", "pregnancy_due_date", "needle_expiry"}
_JSON = {"icd10_codes", "psfs", "red_flags", "tcm_patterns", "home_advice"}


def _row(cursor: sqlite3.Cursor, values: tuple[Any, ...]) -> SimpleNamespace:
    row = {}
    for (name, *_), value in zip(cursor.description, values, strict=True):
        if value is not None and name in _TIMES:
            value = datetime.fromisoformat(value).replace(tzinfo=UTC)
        elif value is not None and name in _DATES:
            value = date.fromisoformat(value)
        elif value is not None and name in _JSON:
            value = json.loads(value)
        row[name] = value
    return SimpleNamespace(**row)


def fhir_floor(db: Path, out: Path) -> None:
    """The same bundles built from raw sqlite3 rows (whole tables read at once), written as
    the same JSON, without validation."""
    out.mkdir(parents=True, exist_ok=True)
    bodymap = load_bodymap()
    con = sqlite3.connect(db)
    con.row_factory = _row

    def grouped(sql: str, key: str) -> dict[int, list[Any]]:
        groups: dict[int, list[Any]] = {}
        for row in con.execute(sql):
            groups.setdefault(getattr(row, key), []).append(row)
        return groups

    try:
        practitioners = {p.id: p for p in con.execute("SELECT * FROM practitioner")}
        visits = grouped("SELECT * FROM visit ORDER BY patient_id, number", "patient_id")
        marks = grouped("SELECT * FROM mark ORDER BY visit_id, id", "visit_id")
        pairs = grouped("SELECT * FROM ea_pair ORDER BY visit_id, id", "visit_id")
        events = grouped("SELECT * FROM adverse_event ORDER BY visit_id, id", "visit_id")
        patients = con.execute(
            "SELECT * FROM patient WHERE deleted_at IS NULL ORDER BY chart_number"
        )
        for patient in patients:
            bundle = exports._bundle(
                patient, visits.get(patient.id, []), marks, pairs, events, practitioners, bodymap
            )
            (out / f"{patient.chart_number}.fhir.json").write_text(
                exports.bundle_text(bundle), encoding="utf-8"
            )
    finally:
        con.close()


# -- the suite -------------------------------------------------------------------------------
def run() -> None:
    """Measure the exports and write results/exports.json."""
    path = clinic_file()
    url = sqlite_url(path)
    database = open_database(url).database
    database.actor = Actor.system("benchmark")
    with database.read() as session:
        ids = exports.select_patient_ids(session)
    measures: list[Measure] = []
    size_mb = path.stat().st_size / 1e6
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        counter = iter(range(1_000_000))

        def fresh() -> Path:
            return out / str(next(counter))

        floor = summarise(
            "CSV floor: every table with sqlite3 + csv",
            _timed(lambda: csv_floor(path, fresh()), RUNS),
            unit="ms",
        )
        ours = summarise(
            f"CSV export, {len(ids):,} patients (whole job)",
            _timed(lambda: run_export(database, ids, fresh(), ["csv"]), RUNS),
            target="<= 2x floor",
        ).against(floor)
        measures += [floor, ours]

        floor = summarise(
            "FHIR floor: same JSON from raw rows, no validation",
            _timed(lambda: fhir_floor(path, fresh()), RUNS),
        )
        ours = summarise(
            f"FHIR export, {len(ids):,} patients, validated on every core",
            _timed(lambda: run_export(database, ids, fresh(), ["fhir"]), max(1, RUNS - 1)),
            target="<= 3x floor",
        ).against(floor)
        measures += [floor, ours]

        sample = ids[:PDF_PATIENTS]
        cpu = DescendantsCpu()
        start = time.perf_counter()
        run_export(database, sample, fresh(), ["pdf"])
        wall = time.perf_counter() - start
        cpus = cpu.seconds() / wall if wall else 0.0
        per_patient = wall * 1000 / len(sample)
        measures.append(
            Measure(
                f"PDF export, {len(sample)} patients on {os.cpu_count()} cores (ms per patient; "
                f"{len(sample) / wall:.1f} patients/s, {cpus:.2f} cores busy)",
                per_patient,
                per_patient,
                1,
                target="<= 39.7 ms (3x the 119 ms of issue 21)",
            )
        )
    context: dict[str, object] = {
        "clinic": f"charting demo --patients {PATIENTS}",
        "patients": len(ids),
        "database_mb": round(size_mb, 1),
    }
    report("exports", measures, context)
    database.dispose()
    if os.environ.get("BENCH_EXPORTS_MEMORY"):
        report("exports-memory", [], peak_memory())


PEAK_SCRIPT = """
import sys, threading, time
from pathlib import Path
from charting.jobs.export import run_export
from charting.models.migrate import open_database
from charting.services.access import Actor
from charting.services.exports import select_patient_ids

def hwm(pid):
    # VmHWM: the peak resident memory of this process image (ru_maxrss would include the
    # parent's memory at fork time).
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0

def children(pid):
    # Every descendant: workers may be forked by a server the export started.
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            pass
    found, frontier = set(), {pid}
    while frontier:
        frontier = {c for c, p in parents.items() if p in frontier} - found
        found |= frontier
    return sorted(found)

if __name__ == "__main__":
    database = open_database(sys.argv[1]).database
    database.actor = Actor.system("benchmark")
    with database.read() as session:
        ids = select_patient_ids(session)
    if int(sys.argv[4]):
        ids = ids[: int(sys.argv[4])]
    workers = {}
    def sample():
        while True:
            for child in children(os.getpid()):
                workers[child] = max(workers.get(child, 0.0), hwm(child))
            time.sleep(1)
    import os
    threading.Thread(target=sample, daemon=True).start()
    seen = []
    def progress(p):
        if not seen or p.done - seen[-1] >= max(1, p.total // 10) or p.done == p.total:
            left = "" if p.remaining_s is None else f", {p.remaining_s:.0f} s left"
            seen.append(p.done)
            print(f"  {p.done:,}/{p.total:,} {p.stage}{left}", flush=True)
    start = time.perf_counter()
    run_export(database, ids, Path(sys.argv[2]), sys.argv[3].split(","), progress)
    seconds = time.perf_counter() - start
    kid = max(workers.values(), default=0.0)
    print(f"RESULT {len(ids)} {seconds:.1f} {hwm('self'):.0f} {kid:.0f}", flush=True)
"""


#: Patients of the 100,000-patient clinic in the FHIR memory run (validation makes all of
#: them take hours on two shared cores; the export streams 500 patients at a time, so its
#: memory does not grow with the count). 0 exports every patient.
FHIR_MEMORY_PATIENTS = int(os.environ.get("BENCH_FHIR_MEMORY_PATIENTS", "6000"))


def peak_memory() -> dict[str, object]:
    """Peak resident memory of exporting the 100,000-patient clinic: CSV whole, FHIR for
    the first ``FHIR_MEMORY_PATIENTS`` patients."""
    from benchmarks.clinic_data import sqlite_clinic

    clinic = sqlite_clinic()
    figures: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "peak.py"
        script.write_text(PEAK_SCRIPT)
        for formats in ("csv", "fhir"):
            limit = str(FHIR_MEMORY_PATIENTS if formats == "fhir" else 0)
            result = subprocess.run(
                [sys.executable, str(script), clinic.url, tmp, formats, limit],
                capture_output=True, text=True, check=True,
            )  # fmt: skip
            print(result.stdout, flush=True)
            line = next(x for x in result.stdout.splitlines() if x.startswith("RESULT"))
            _, patients, seconds, own, kids = line.split()
            figures[f"{formats}_100k"] = {
                "patients": int(patients),
                "seconds": float(seconds),
                "peak_rss_mb_export_process": float(own),
                "peak_rss_mb_largest_worker": float(kids),
            }
    return figures

"""A whole export run for the admin dialog and the command line: staged, cancellable, with
progress, and spread over the CPU cores for the PDFs.

Everything is written into a hidden staging folder inside the chosen folder and renamed into
place only when the whole run succeeded, so a cancelled or failed export leaves nothing
half-written behind.
"""

from __future__ import annotations

import contextlib
import gc
import json
import logging
import multiprocessing
import os
import shutil
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

from charting.bodymap import BodyMap
from charting.config import data_dir
from charting.jobs import workers as in_worker
from charting.models.db import Database
from charting.services import audit, audit_keys, csv_tables, exports
from charting.services.access import Actor, Permission, require
from charting.services.custom_points import clinic_bodymap
from charting.services.errors import ServiceError, ValidationError
from charting.services.report_data import course_report

FORMATS = exports.FORMATS
#: The CSV export's files (its tables, then the data dictionary): one progress step each.
CSV_FILES = tuple(exports.CSV_TABLES)
#: Below this many patients the PDFs are built in this process (starting workers costs more).
PARALLEL_FROM = 8
#: From this many chunks of checks (see csv_tables.CHECK_CHUNK) a CSV export starts a worker
#: for them; fewer are checked here sooner than a worker process starts.
CSV_WORKER_FROM = 4

log = logging.getLogger(__name__)


class ExportCancelled(ServiceError):  # noqa: N818 - reads as an event, like KeyboardInterrupt
    """The user cancelled the export; nothing was left behind."""


@dataclass(frozen=True)
class Progress:
    """How far an export has got."""

    done: int
    total: int
    elapsed_s: float
    stage: str

    @property
    def remaining_s(self) -> float | None:
        """Estimated seconds left (None until something is done)."""
        if not self.done or self.done >= self.total:
            return None if not self.done else 0.0
        return self.elapsed_s / self.done * (self.total - self.done)


@dataclass(frozen=True)
class ExportResult:
    """What an export wrote."""

    folder: Path
    files: tuple[Path, ...]
    patients: int
    seconds: float


def check_folder(folder: Path) -> Path:
    """The export folder, created if needed; refuse one that cannot be written.

    Raises:
        ValidationError: the folder cannot be created or written to.
    """
    folder = Path(folder).expanduser()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ValidationError({"out": f"Cannot create {folder}: {exc.strerror}"}) from None
    if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        raise ValidationError({"out": f"Cannot write to {folder}."})
    return folder


def _pdf_name(chart_number: str) -> str:
    return f"{chart_number}.pdf"


#: Exports under way on this computer (their staging folders), so that what a killed export
#: left behind is found and removed at the next start.
PENDING_FILE = "exports-in-progress.json"


def _pending_path() -> Path:
    return data_dir() / PENDING_FILE


def _read_pending() -> list[str]:
    try:
        data = json.loads(_pending_path().read_text(encoding="utf-8"))
        return [str(p) for p in data] if isinstance(data, list) else []
    except (OSError, ValueError):
        return []


def _write_pending(paths: list[str]) -> None:
    target = _pending_path()
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, json.dumps(paths).encode("utf-8"))
    finally:
        os.close(fd)
    os.replace(tmp, target)


def _remember_staging(staging: Path, add: bool) -> None:
    paths = [p for p in _read_pending() if p != str(staging)]
    if add:
        paths.append(str(staging))
    _write_pending(paths)


def cleanup_interrupted_exports(database: Database) -> list[Path]:
    """Remove what exports killed half-way left behind (hidden staging folders of patient
    data), and log each removal; returns the folders removed.

    Exports still running in another Charting on this computer are not touched: their
    staging folder is younger than a day and its owner process still runs.
    """
    removed: list[Path] = []
    keep: list[str] = []
    for text in _read_pending():
        staging = Path(text)
        owner = _staging_owner(staging)
        if owner is not None and owner != os.getpid() and in_worker.alive(owner):
            keep.append(text)
            continue
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
            removed.append(staging)
            audit.record_separately(
                database,
                Actor.system("export cleanup"),
                "export.cleanup",
                f"removed {staging}, left by an export that did not finish",
            )
    _write_pending(keep)
    return removed


def _staging_owner(staging: Path) -> int | None:
    try:
        return int((staging / OWNER_FILE).read_text().strip())
    except (OSError, ValueError):
        return None


OWNER_FILE = ".owner"


def unchecked_graphics() -> None:
    """Turn off ReportLab's checks of every attribute set on a graphics shape in this
    process (an export worker's): the same drawings are built with the checks on in the app
    and the tests; the workers only repeat them.

    ``shapeChecking = 0`` stops the checking, but ReportLab decides at import whether shapes
    and widgets route every attribute set through the checker (they were imported before
    this runs), so those routes are removed as they would be had the setting been made
    first: half a million calls for a 40-patient export, about 4% of its time.
    """
    from reportlab import rl_config
    from reportlab.graphics import shapes, widgetbase

    rl_config.shapeChecking = 0
    for cls in (shapes.Shape, widgetbase.PropHolder):
        if "__setattr__" in cls.__dict__:
            delattr(cls, "__setattr__")


def lock_down(folder: Path) -> None:
    """Make ``folder`` and everything in it readable by its owner only (0700 / 0600).

    Every exported file goes through here before the export is renamed into place, whatever
    wrote it (ReportLab writes PDFs with the process umask, usually 0644).
    """
    folder.chmod(0o700)
    for path in folder.rglob("*"):
        if path.is_symlink():
            continue
        path.chmod(0o700 if path.is_dir() else 0o600)


def sync_to_disk(folder: Path) -> None:
    """Make sure every file in ``folder`` is on disk before the export is renamed into place
    (bundles and PDFs are written without a sync each: one per file cost ~4 ms, over a
    minute for a large clinic). One system-wide sync where there is one, else a sync per
    file."""
    if hasattr(os, "sync"):
        os.sync()
        return
    for path in folder.rglob("*"):
        if path.is_file():
            with path.open("rb+") as handle:
                os.fsync(handle.fileno())


def _build_pdf(url: str, actor: Actor, patient_id: int, staging: str) -> str:
    """Build one patient's PDF in a worker process (its own engine and session), as the
    account that started the export."""
    _pdf_worker_ready()
    database = in_worker.worker_database(url).acting_as(actor)
    with database.read() as session:
        bodymap = clinic_bodymap(session)
        report = course_report(session, patient_id, bodymap)
    target = Path(staging) / _pdf_name(report.patient.chart_number)
    from charting.reports.course_report import build_course_report

    build_course_report(report, bodymap, str(target), with_visits=True)
    return str(target)


@cache
def _pdf_worker_ready() -> None:
    """Once per worker that builds PDFs. ReportLab is imported by the PDF tasks only: a CSV
    or FHIR worker starts about a fifth of a second sooner without it."""
    unchecked_graphics()
    in_worker.collect_less(in_worker.PDF_COLLECTIONS)


def run_export(
    database: Database,
    patient_ids: Sequence[int],
    folder: Path,
    formats: Sequence[str],
    progress: Callable[[Progress], None] | None = None,
    cancelled: Callable[[], bool] = lambda: False,
    workers: int | None = None,
    bodymap: BodyMap | None = None,
) -> ExportResult:
    """Export the patients in the chosen formats into a new dated folder inside ``folder``.

    Raises:
        ValidationError: no patients, an unknown format, or an unwritable folder.
        ExportCancelled: ``cancelled()`` became true; nothing was left behind.
        ServiceError: an export failed (e.g. an invalid FHIR bundle); nothing was left behind.
    """
    wanted = [f for f in FORMATS if f in formats]
    unknown = sorted(set(formats) - set(FORMATS))
    if unknown or not wanted:
        raise ValidationError(
            {
                "format": "Choose from pdf, csv and fhir."
                if not unknown
                else f"Unknown format: {', '.join(unknown)}"
            }
        )
    if not patient_ids:
        raise ValidationError({"patients": "No patients match the selection."})
    if len(patient_ids) >= PARALLEL_FROM and (workers or os.cpu_count() or 1) > 1:
        prepare_workers()  # the workers get ready while this process starts on its share
    with database.read() as session:
        actor = require(session, Permission.EXPORT)
        # The clinic's custom points with the catalog: exported marks of them say so.
        bodymap = bodymap or clinic_bodymap(session)
    folder = check_folder(folder)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    final = folder / f"charting-export-{stamp}"
    n = 1
    while final.exists():
        n += 1
        final = folder / f"charting-export-{stamp}-{n}"
    staging = folder / f".{final.name}.partial"
    staging.mkdir(mode=0o700)
    (staging / OWNER_FILE).write_text(str(os.getpid()))
    _remember_staging(staging, True)
    started = time.perf_counter()
    total = (
        len(patient_ids) * (1 if "pdf" in wanted else 0)
        + (exports.csv_steps(patient_ids) if "csv" in wanted else 0)
        + (len(patient_ids) if "fhir" in wanted else 0)
    )
    done = 0

    def tick(stage: str, step: int = 1) -> None:
        nonlocal done
        done += step
        if progress:
            progress(Progress(done, total, time.perf_counter() - started, stage))
        if cancelled():
            raise ExportCancelled("Export cancelled; nothing was written.")

    try:
        if "pdf" in wanted:
            _export_pdfs(database, patient_ids, staging, tick, cancelled, workers)
        if "csv" in wanted:
            _export_csv(database, patient_ids, staging / "csv", bodymap, tick, workers)
        if "fhir" in wanted:
            _export_fhir(database, patient_ids, staging / "fhir", bodymap, tick, workers)
        exports.write_export_readme(staging, wanted)
        with database.read() as session:
            head = audit.anchor(session)
        anchor = None
        if head is not None:
            # The audit log's head as it stood at export: evidence outside the database,
            # both as a file `audit verify --anchor` reads and in the manifest.
            audit_keys.write_anchor_file(staging / "audit-anchor.json", head)
            anchor = head.to_json()
        (staging / OWNER_FILE).unlink()
        exports.write_manifest(staging, wanted, len(patient_ids), anchor)
        lock_down(staging)
        sync_to_disk(staging)
        staging.rename(final)
        _remember_staging(staging, False)
    except BaseException as exc:
        shutil.rmtree(staging, ignore_errors=True)
        _remember_staging(staging, False)
        outcome = "denied" if isinstance(exc, ExportCancelled) else "failed"
        _audit(database, actor, patient_ids, wanted, f"{exc or type(exc).__name__}", outcome)
        raise
    _audit(database, actor, patient_ids, wanted, str(final), "ok")
    files = tuple(sorted(p for p in final.rglob("*") if p.is_file()))
    return ExportResult(final, files, len(patient_ids), time.perf_counter() - started)


def _audit(
    database: Database,
    actor: Actor,
    patient_ids: Sequence[int],
    formats: Sequence[str],
    detail: str,
    outcome: str,
) -> None:
    audit.record_separately(
        database,
        actor,
        "export",
        f"{len(patient_ids)} patient(s), {', '.join(formats)}: {detail}",
        patient_ids[0] if len(patient_ids) == 1 else None,
        outcome=outcome,
    )


def _export_pdfs(
    database: Database,
    patient_ids: Sequence[int],
    staging: Path,
    tick: Callable[[str], None],
    cancelled: Callable[[], bool],
    workers: int | None,
) -> None:
    workers = workers or os.cpu_count() or 1
    url = database.engine.url.render_as_string(hide_password=False)
    actor = database.actor
    if len(patient_ids) < PARALLEL_FROM or workers == 1:
        for pid in patient_ids:
            _build_pdf_here(database, pid, staging)
            tick("PDF documents")
        return
    with _pool(workers) as pool:
        pending: set[Future[str]] = set()
        queue = list(patient_ids)
        try:
            while queue or pending:
                while queue and len(pending) < workers * 2:
                    pending.add(pool.submit(_build_pdf, url, actor, queue.pop(0), str(staging)))
                finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    future.result()
                    tick("PDF documents")
        except BaseException:
            for future in pending:
                future.cancel()
            raise
        if cancelled():
            raise ExportCancelled("Export cancelled; nothing was written.")


def _pool(workers: int) -> ProcessPoolExecutor:
    """Worker processes for an export, each ending when this process does."""
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=worker_context(),
        initializer=in_worker.worker_init,
        initargs=(os.getpid(),),
    )


def worker_context() -> multiprocessing.context.BaseContext:
    """How export workers start: forked from a fork server where there is one, else spawned.

    Either way a worker starts clean, with no database connection, thread or Qt state of this
    process. A spawned worker imports the export job, ReportLab and the FHIR models itself,
    most of a second before its first task on every export. The fork server is started once
    (at the first export, or again if it has gone) in a clean interpreter that imports them
    once (:mod:`charting.jobs.warm`); each worker is a fork of it, ready at once. The server
    ends with this process, and its workers with it (see :func:`in_worker.worker_init`). A
    frozen bundle spawns (its executable cannot run the server's start-up code), and so does
    a process where the server could not start (it is logged once).
    """
    global _server_failed
    if (
        sys.platform.startswith("linux")
        and not getattr(sys, "frozen", False)
        and not (_server_failed)
    ):
        from multiprocessing import forkserver

        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["charting.jobs.warm"])
        try:
            forkserver.ensure_running()  # at once if it runs; it loads in the background
        except OSError:
            log.warning("export workers: no fork server, spawning them instead", exc_info=True)
            _server_failed = True
        else:
            return context
    return multiprocessing.get_context("spawn")


#: The fork server could not be started in this process (see :func:`worker_context`).
_server_failed = False


def prepare_workers() -> None:
    """Get the export workers' fork server going (see :func:`worker_context`) without
    waiting for it, so that it has loaded what workers need by the time an export starts:
    the export dialog calls this as it opens. Nothing happens where workers are spawned, or
    once the server runs."""
    worker_context()


def _export_csv(
    database: Database,
    patient_ids: Sequence[int],
    folder: Path,
    bodymap: BodyMap,
    tick: Callable[[str], None],
    workers: int | None,
) -> None:
    """Write the CSV files here while a worker makes the visits file's chunks of patients,
    each signed visit checked against its signature (the ``signature`` column), which
    otherwise takes as long as writing all the other files.

    The worker takes the chunks from the last one back and writes each as CSV text into
    the staging folder; this process writes the visits file last, from the first chunk on,
    and makes itself each chunk the worker has not started, so the two meet in the middle
    whatever the machine's load.
    """
    workers = workers or os.cpu_count() or 1

    def write(premade: Callable[[str, int], csv_tables.MadeChunk | None] | None) -> None:
        with _fewer_collections(), database.read() as session:
            exports.write_csv(
                session,
                patient_ids,
                folder,
                bodymap,
                lambda file: tick(f"CSV tables ({file})"),
                premade,
                durable=False,  # the staging folder is synced once, before it is renamed
            )

    chunked = {t.file: csv_tables.chunks(t, patient_ids) for t in csv_tables.TABLES if t.checks}
    if sum(map(len, chunked.values())) < CSV_WORKER_FROM or workers == 1:
        write(None)
        return
    url = database.engine.url.render_as_string(hide_password=False)
    actor = database.actor
    # Every chunk of the files with checks, in the order this process writes them.
    order = [(file, i) for file, chunks in chunked.items() for i in range(len(chunks))]
    position = {key: p for p, key in enumerate(order)}
    lock = threading.Lock()
    reached = [-1]  # the last position this process has taken
    handed: dict[int, Future[csv_tables.MadeChunk]] = {}
    pool = _pool(1)

    def feed() -> None:
        # One chunk at a time, from the last back, until the worker meets this process. A
        # pool queues a task ahead and marks it running, so handing over every chunk at once
        # left the next chunk this process reached waiting for the worker to make it.
        for p in reversed(range(len(order))):
            file, i = order[p]
            try:
                with lock:
                    if p <= reached[0]:
                        return
                    task = (url, actor, file, chunked[file][i], str(_part(folder, file, i)))
                    future = handed[p] = pool.submit(in_worker.make_csv_chunk, *task)
                if future.exception() is not None:
                    return  # a worker that failed: this process makes the rest
            except BaseException:  # the pool was shut down (the export ended or failed)
                return

    feeder = threading.Thread(target=feed, name="export-csv-feeder", daemon=True)
    failed: list[str] = []

    def premade(file: str, index: int) -> csv_tables.MadeChunk | None:
        with lock:
            reached[0] = position[file, index]
            future = handed.get(reached[0])
        if future is None:
            return None  # not handed to the worker: made here
        try:
            return future.result()  # waits for a chunk the worker is making
        except Exception:  # a worker that failed: the chunk is made here instead
            if not failed:  # once: a broken pool fails every chunk the same way
                log.warning("export: chunks of %s made here", file, exc_info=True)
            failed.append(file)
            _part(folder, file, index).unlink(missing_ok=True)
            return None

    try:
        feeder.start()
        write(premade)
    finally:
        with lock:
            reached[0] = len(order)
        pool.shutdown(wait=False, cancel_futures=True)
        # A chunk the worker is still making (the export failed) ends before the staging
        # folder can be removed.
        feeder.join(timeout=60)


def _part(folder: Path, file: str, index: int) -> Path:
    """Where the worker writes a chunk of ``file`` (hidden; removed once it is used)."""
    return folder / f".{file}.{index:05d}.part"


#: Patients per FHIR task of a worker: read with one statement per table, and few enough that
#: the workers finish together (a task is a fraction of a second of work).
FHIR_TASK = 25


@cache
def _fhir_worker_ready() -> None:
    """Once per worker: load fhir.resources, then spare its import from the garbage collector
    (see :func:`in_worker.collect_less`): validation allocates hundreds of models per bundle,
    and the worker validates about 8% faster."""
    import fhir.resources.R4B.bundle  # noqa: F401 - imported before the freeze on purpose

    in_worker.collect_less()


@contextlib.contextmanager
def _fewer_collections() -> Iterator[None]:
    """Collect less often for a while in this process (see :func:`in_worker.collect_less`); the
    settings are put back after, as this may be the app's own process."""
    before = gc.get_threshold()
    gc.set_threshold(*in_worker.FEWER_COLLECTIONS)
    try:
        yield
    finally:
        gc.set_threshold(*before)


def _write_fhir_part(url: str, actor: Actor, patient_ids: list[int], folder: str) -> int:
    """In a worker process: read, build, validate and write the bundles of a few patients
    (its own engine and session, as the account that started the export); return how many."""
    _fhir_worker_ready()
    database = in_worker.worker_database(url).acting_as(actor)
    with database.read() as session:
        return exports.write_valid_bundles(
            session, patient_ids, Path(folder), clinic_bodymap(session)
        )


def _export_fhir(
    database: Database,
    patient_ids: Sequence[int],
    folder: Path,
    bodymap: BodyMap,
    tick: Callable[[str, int], None],
    workers: int | None,
) -> None:
    """Each worker reads, builds, validates and writes the bundles of a few patients at a
    time, so every step runs on every core. (Building the bundles here and sending them to
    the workers kept this process busy serialising 47 KB texts and left the cores idle
    while the workers started.) A small export runs here, with ``bodymap``; the workers
    use the clinic's body map, as ``run_export`` does unless told otherwise."""
    workers = workers or os.cpu_count() or 1
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    if len(patient_ids) < PARALLEL_FROM or workers == 1:
        with database.read() as session:
            exports.write_valid_bundles(
                session, patient_ids, folder, bodymap, lambda: tick("FHIR bundles", 1)
            )
        return
    url = database.engine.url.render_as_string(hide_password=False)
    size = max(1, min(FHIR_TASK, len(patient_ids) // (workers * 4)))
    parts = deque(list(patient_ids[i : i + size]) for i in range(0, len(patient_ids), size))
    with _pool(workers) as pool:
        pending: dict[Future[int], int] = {}
        try:
            while parts or pending:
                # Two tasks per worker in flight: one running, one waiting for it.
                while parts and len(pending) < workers * 2:
                    part = parts.popleft()
                    future = pool.submit(_write_fhir_part, url, database.actor, part, str(folder))
                    pending[future] = len(part)
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    future.result()
                    tick("FHIR bundles", pending.pop(future))
        except BaseException:
            for future in pending:
                future.cancel()
            raise


def _build_pdf_here(database: Database, patient_id: int, staging: Path) -> None:
    from charting.reports.course_report import build_course_report

    with database.read() as session:
        bodymap = clinic_bodymap(session)
        report = course_report(session, patient_id, bodymap)
    build_course_report(
        report, bodymap, str(staging / _pdf_name(report.patient.chart_number)), with_visits=True
    )

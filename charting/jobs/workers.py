"""What every export worker process runs, kept light: a worker imports this module (and what
its task needs) rather than the whole export job with ReportLab and the FHIR models."""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import gc
import os
import signal
import sys
import threading
import time
from collections.abc import Sequence
from functools import cache
from pathlib import Path

from charting.models.db import Database, make_engine
from charting.services import csv_tables
from charting.services.access import Actor

#: Collector thresholds while an export allocates (Python's default is 700, 10, 10).
FEWER_COLLECTIONS = (20_000, 50, 100)

#: The same for a worker that builds PDFs. A ReportLab document is full of reference cycles
#: (canvas, frames, flowables), so its garbage waits for a full collection: at
#: :data:`FEWER_COLLECTIONS` a worker grew to about 250 MB over 200 patients, at these about
#: 170 MB (Python's default: 160 MB) for about a tenth less CPU per patient than the default.
PDF_COLLECTIONS = (20_000, 10, 5)


def worker_init(parent_pid: int) -> None:
    """In each export worker: end with the process that started the export (a killed export
    must not leave workers running).

    A spawned worker is the export process's child; a forked one is the fork server's, which
    ends when the export process does. Linux asks the kernel to signal the worker when its
    parent ends; everywhere, a watch thread ends it once its parent is gone (it is handed to
    another) or the export process is.
    """
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    parent = os.getppid()
    if not alive(parent_pid):
        os._exit(1)

    def watch() -> None:
        while True:
            time.sleep(1.0)
            if os.getppid() != parent or not alive(parent_pid):
                os._exit(1)

    threading.Thread(target=watch, name="export-parent-watch", daemon=True).start()
    atexit.register(_exit_now)


def alive(pid: int) -> bool:
    """Whether process ``pid`` is running (an ended one not yet reaped counts as ended)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # Linux: a zombie has ended though its entry remains until it is reaped.
    with contextlib.suppress(OSError, ValueError, IndexError):
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    return True


def _exit_now() -> None:
    """End a worker without tearing its interpreter down.

    A worker exits when its export is done, and the export waits for it. Freeing every module
    and object one by one took a quarter of a second at the end of each export; the worker has
    nothing left to save (every result has gone back through the pool's queue, and its files
    are closed), so its database connections are closed and the process ends here.
    """
    for database in _databases.values():
        with contextlib.suppress(Exception):
            database.engine.dispose()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(0)


_databases: dict[str, Database] = {}


def worker_database(url: str) -> Database:
    """The worker's own engine on the export's database (one per worker process)."""
    if url not in _databases:
        _databases[url] = Database(make_engine(url))
    return _databases[url]


@cache
def collect_less(thresholds: tuple[int, int, int] = FEWER_COLLECTIONS) -> None:
    """Once per worker: take what is loaded out of the garbage collector's walks
    (``gc.freeze``) and collect less often.

    An export allocates rows, dicts and models by the hundred thousand, which set the
    collector off every 700 allocations to walk every object of the process, the libraries'
    thousands of classes included. Reference counting still frees them (they hold no
    cycles); a worker lives for one export.
    """
    gc.freeze()
    gc.set_threshold(*thresholds)


def make_csv_chunk(
    url: str, actor: Actor, file: str, chunk: Sequence[int] | None, path: str
) -> csv_tables.MadeChunk:
    """Make one chunk of a CSV file with checks in a worker process (its own session)."""
    collect_less()
    database = worker_database(url).acting_as(actor)
    with database.read() as session:
        return csv_tables.make_chunk(session, csv_tables.table(file), chunk, Path(path))

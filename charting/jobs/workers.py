"""What every export worker process runs, kept light: a worker imports this module (and what
its task needs) rather than the whole export job with ReportLab and the FHIR models."""

from __future__ import annotations

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


def worker_init(parent_pid: int) -> None:
    """In each export worker: end with the process that started it (a killed export must not
    leave workers running). Linux asks the kernel to signal the worker; everywhere, a watch
    thread ends it once its parent is gone."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent_pid:
        os._exit(1)

    def watch() -> None:
        while True:
            time.sleep(1.0)
            if os.getppid() != parent_pid:
                os._exit(1)

    threading.Thread(target=watch, name="export-parent-watch", daemon=True).start()


@cache
def worker_database(url: str) -> Database:
    """The worker's own engine on the export's database (one per worker process)."""
    return Database(make_engine(url))


@cache
def collect_less() -> None:
    """Once per worker: take what is loaded out of the garbage collector's walks
    (``gc.freeze``) and collect less often.

    An export allocates rows, dicts and models by the hundred thousand, which set the
    collector off every 700 allocations to walk every object of the process, the libraries'
    thousands of classes included. Reference counting still frees them (they hold no
    cycles); a worker lives for one export.
    """
    gc.freeze()
    gc.set_threshold(*FEWER_COLLECTIONS)


def make_csv_chunk(
    url: str, actor: Actor, file: str, chunk: Sequence[int] | None, path: str
) -> csv_tables.MadeChunk:
    """Make one chunk of a CSV file with checks in a worker process (its own session)."""
    collect_less()
    database = worker_database(url).acting_as(actor)
    with database.read() as session:
        return csv_tables.make_chunk(session, csv_tables.table(file), chunk, Path(path))

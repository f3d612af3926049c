"""Killing Charting (SIGKILL) while it charts never loses a saved mark or damages the file.

A "zygote" process imports Charting once and forks a fresh writer for every run; the writer
opens its own connection and adds marks through the real marks service, one transaction per
mark, and acknowledges each mark id (``os.write`` to a file) only after its commit returned,
just as the map shows a mark only once it is saved. The test kills the writer with SIGKILL at
seeded random moments and checks what a practitioner reopening the chart would see.
"""

from __future__ import annotations

import os
import random
import re
import select
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

import pytest

from charting.bodymap import load_bodymap
from charting.models.db import Database
from charting.services.marks import list_marks
from charting.services.visits import start_visit

pytestmark = [
    pytest.mark.sqlite_only,
    pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork() and SIGKILL (POSIX)"),
]

ROOT = Path(__file__).resolve().parents[2]
RUNS = 60
SEED = 20_260_517
# Generous limit for one answer from the zygote: only reached if something hangs.
STUCK_S = 60.0
NOTE = re.compile(r"^run (\d+) #(\d+)$")


class Zygote:
    """The forking writer server (tests/proof/writer_process.py, mode ``zygote``)."""

    def __init__(self, db_path: Path, log: IO[bytes]) -> None:
        self.log = log
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.proof.writer_process", "zygote", str(db_path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            cwd=ROOT,
        )
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.stdin = self.proc.stdin
        self.fd = self.proc.stdout.fileno()
        self.buffer = b""
        assert self.line() == "ready", self.stderr()

    def stderr(self) -> str:
        """Whatever the zygote and its children printed to stderr."""
        self.log.flush()
        return Path(self.log.name).read_text(errors="replace")

    def has_line(self, wait_s: float) -> bool:
        """Whether a line arrived (waiting at most ``wait_s``)."""
        deadline = time.monotonic() + wait_s
        while b"\n" not in self.buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            ready, _, _ = select.select([self.fd], [], [], remaining)
            if ready:
                chunk = os.read(self.fd, 4096)
                assert chunk, f"the zygote died:\n{self.stderr()}"
                self.buffer += chunk
        return True

    def line(self) -> str:
        """The next line the zygote printed."""
        while b"\n" not in self.buffer:
            assert self.has_line(STUCK_S), f"the zygote stopped answering:\n{self.stderr()}"
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line.decode()

    def start_writer(self, run: int, visit_id: int, ack: Path) -> int:
        """Fork a writer; return its pid."""
        self.stdin.write(f"run {run} {visit_id} {ack}\n".encode())
        self.stdin.flush()
        kind, pid = self.line().split()
        assert kind == "pid"
        return int(pid)

    def reap(self, pid: int) -> int:
        """Wait for the zygote to report the writer's end; return its wait status."""
        kind, done_pid, status = self.line().split()
        assert (kind, int(done_pid)) == ("done", pid)
        return int(status)

    def close(self) -> None:
        """Let the zygote finish (end of its input) and wait for it."""
        self.stdin.close()
        self.proc.wait(timeout=STUCK_S)
        assert self.proc.stdout is not None
        self.proc.stdout.close()


def _acked(ack: Path) -> list[int]:
    """Mark ids the writer acknowledged (complete lines only)."""
    if not ack.exists():
        return []
    text = ack.read_bytes().decode()
    return [int(line) for line in text.split("\n")[:-1]]


def _wait_for_acks(zygote: Zygote, ack: Path, wanted: int) -> None:
    """Return once the writer has acknowledged ``wanted`` marks (it never stops by itself)."""
    while len(_acked(ack)) < wanted:
        assert not zygote.has_line(0.002), f"the writer died by itself:\n{zygote.stderr()}"


def _stored_by_run(db_path: Path, visit_id: int) -> dict[int, dict[int, int]]:
    """{run: {mark id: n}} from the file, after SQLite's own crash recovery."""
    conn = sqlite3.connect(db_path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        rows = conn.execute("SELECT id, note FROM mark WHERE visit_id = ?", (visit_id,)).fetchall()
    finally:
        conn.close()
    stored: dict[int, dict[int, int]] = {}
    for mark_id, note in rows:
        match = NOTE.match(note)
        assert match, f"mark {mark_id} has a note no writer wrote: {note!r}"
        stored.setdefault(int(match[1]), {})[mark_id] = int(match[2])
    return stored


def _check_run(stored: dict[int, int], acked: list[int], run: int) -> None:
    """Every acknowledged mark is there; at most the one being saved when killed is extra."""
    missing = set(acked) - set(stored)
    assert not missing, f"run {run}: acknowledged marks {sorted(missing)} were lost"
    extra = set(stored) - set(acked)
    assert len(extra) <= 1, f"run {run}: marks {sorted(extra)} appeared without being saved"
    assert all(e > max(acked, default=0) for e in extra), f"run {run}: an old mark reappeared"
    # The marks of a run are the writer's 1st, 2nd, ... mark: none is missing in between.
    assert sorted(stored.values()) == list(range(1, len(stored) + 1))


def test_sigkill_while_charting_never_loses_a_saved_mark(
    database: Database,
    make_patient: Callable[..., int],
    practitioner_id: int,
    db_path: Path,
    tmp_path: Path,
) -> None:
    """After 60 random SIGKILLs mid-charting, every saved mark is there and the file is sound."""
    with database.write() as session:
        visit_id, _ = start_visit(session, make_patient(), practitioner_id)
    database.dispose()
    rng = random.Random(SEED)
    acked: dict[int, list[int]] = {}
    unchecked: list[int] = []
    with (tmp_path / "writers.log").open("w+b") as log:
        zygote = Zygote(db_path, log)
        try:
            for run in range(RUNS):
                ack = tmp_path / f"ack-{run}"
                pid = zygote.start_writer(run, visit_id, ack)
                if rng.random() < 0.15:
                    # Sometimes while it is still opening the database (or just after).
                    assert not zygote.has_line(rng.uniform(0, 0.08)), zygote.stderr()
                else:
                    # Usually in the middle of charting: after a few saved marks, then a
                    # random instant inside the next transaction or its commit.
                    _wait_for_acks(zygote, ack, rng.randint(1, 25))
                    assert not zygote.has_line(rng.uniform(0, 0.004)), zygote.stderr()
                os.kill(pid, signal.SIGKILL)
                status = zygote.reap(pid)
                assert os.WIFSIGNALED(status), f"run {run}: the writer ended by itself"
                assert os.WTERMSIG(status) == signal.SIGKILL, zygote.stderr()
                acked[run] = _acked(ack)
                unchecked.append(run)
                # Every other run, leave the hot -wal for the next writer: Charting itself
                # then opens a file just after a crash, as when a practitioner restarts it.
                if run % 2 == 1 or run == RUNS - 1:
                    stored = _stored_by_run(db_path, visit_id)
                    for r in unchecked:
                        _check_run(stored.get(r, {}), acked[r], r)
                    unchecked.clear()
        finally:
            zygote.close()

    total_acked = sum(len(ids) for ids in acked.values())
    killed_mid_charting = sum(1 for ids in acked.values() if ids)
    assert killed_mid_charting >= RUNS // 2
    # Reopened through the app, the chart shows every saved mark.
    with database.read() as session:
        shown = {row.id for row in list_marks(session, visit_id, load_bodymap())}
    assert shown >= {i for ids in acked.values() for i in ids}
    assert len(shown) - total_acked <= RUNS

"""Backups of the SQLite file: daily and before migrations, rotated, checked, and restored safely.

Copies are made with SQLite's online backup API, never a file copy, so a backup taken while
someone is charting is still a consistent database (SQLite's online backup API). Every copy is
checked with ``PRAGMA integrity_check`` before it counts as a backup. A restore first backs up
the database as it is, then copies the chosen backup in with the same API: that copy is one
transaction on the destination, so a failure (or a crash) mid-way leaves the database as it
was, never half-restored.

A clinic on PostgreSQL backs up its server with the server's own tools (pg_dump); these
functions refuse a server database with a message saying so.
"""

from __future__ import annotations

import os
import re
import secrets
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import text

from charting.models import utcnow
from charting.models.db import GENERATION_COUNTER, Database
from charting.models.migrate import (
    DatabaseFileError,
    head_revision,
    inspect_sqlite_file,
    upgrade_to_head,
)
from charting.services import audit, audit_keys
from charting.services.access import Actor, Permission, PermissionDeniedError
from charting.services.errors import ServiceError

SUFFIX = ".sqlite3"
# <database stem>-<kind>-<UTC stamp>[-n].sqlite3, as written by make_copy.
_NAME = re.compile(
    r"^(?P<stem>.+)-(?P<kind>daily|pre-\w+|manual|pre-restore)-(?P<stamp>\d{8}T\d{6}Z)"
)
# Kinds that rotate; copies an admin made on purpose are theirs to delete.
ROTATED_KINDS = ("daily", "pre-")
Progress = Callable[[int, int], None]


class BackupError(ServiceError):
    """A backup or restore could not be done; the database is as it was."""


@dataclass(frozen=True)
class BackupInfo:
    """One backup file in the backup folder."""

    path: Path
    kind: str  # "daily", "manual", "pre-restore" or "pre-<schema revision>"
    taken_at: datetime
    size: int

    @property
    def label(self) -> str:
        """The kind in words."""
        if self.kind == "daily":
            return "Daily"
        if self.kind == "manual":
            return "Backed up by hand"
        if self.kind == "pre-restore":
            return "Before a restore"
        return f"Before upgrade to schema {self.kind.removeprefix('pre-')}"


@dataclass(frozen=True)
class RestoreResult:
    """What a restore did."""

    restored_from: Path
    saved_current_as: Path
    upgraded_from: str | None  # the backup's schema revision, if it had to be upgraded


def _sqlite_path(database: Database) -> Path:
    path = database.sqlite_path
    if not path:
        raise BackupError(
            "This clinic's database is on a PostgreSQL server; back it up with the server's "
            "own tools (pg_dump), as the README describes."
        )
    return Path(path)


def _require_backup(database: Database) -> Actor:
    actor = database.actor
    if not isinstance(actor, Actor):
        raise PermissionDeniedError("Please sign in first.")
    if not actor.can(Permission.BACKUP):
        audit.record_separately(
            database, actor, "denied.backup", "backup or restore", None, "", "denied"
        )
        raise PermissionDeniedError(
            f"Your account ({actor.roles_label}) cannot back up or restore the database "
            "(a clinic admin can)."
        )
    return actor


def integrity_problem(path: Path) -> str:
    """Run ``PRAGMA integrity_check`` on a file, read-only; return "" if it is sound."""
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        return f"SQLite cannot open it ({exc})"
    try:
        rows = [r[0] for r in conn.execute("PRAGMA integrity_check").fetchall()]
    except sqlite3.DatabaseError as exc:
        return f"it is damaged ({exc})"
    finally:
        conn.close()
    return "" if rows == ["ok"] else "; ".join(rows[:5])


def _copy(
    source: sqlite3.Connection, target: sqlite3.Connection, progress: Progress | None
) -> None:
    def report(_status: int, remaining: int, total: int) -> None:
        if progress is not None:
            progress(total - remaining, total)

    # All pages in one step: the destination is written in a single transaction.
    source.backup(target, pages=-1, progress=report)


def make_copy(
    path: Path,
    folder: Path,
    kind: str,
    *,
    out: Path | None = None,
    progress: Progress | None = None,
) -> Path:
    """Copy the SQLite file at ``path`` into ``folder`` (or to ``out``) and check the copy.

    Raises:
        BackupError: the copy failed or did not pass its integrity check (it is removed).
    """
    if out is None:
        try:
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            raise BackupError(f"The backup folder {folder} cannot be used: {exc}") from None
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        out = folder / f"{backup_stem(path)}-{kind}-{stamp}{SUFFIX}"
        n = 1
        while out.exists():
            n += 1
            out = folder / f"{backup_stem(path)}-{kind}-{stamp}-{n}{SUFFIX}"
    elif out.exists():
        raise BackupError(f"{out} already exists; choose a new file name.")
    partial = out.with_name(out.name + ".partial")
    try:
        # Owner-only from the first byte: the copy holds every patient's record.
        partial.unlink(missing_ok=True)
        os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        src = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
        dst = sqlite3.connect(partial)
        try:
            _copy(src, dst, progress)
            # A backup file is one self-contained file, with no -wal beside it.
            dst.execute("PRAGMA journal_mode=DELETE")
        finally:
            dst.close()
            src.close()
        partial.chmod(0o600)
        problem = integrity_problem(partial)
        if problem:
            raise BackupError(f"The backup failed its integrity check ({problem}).")
        partial.replace(out)
    except (sqlite3.Error, OSError) as exc:
        raise BackupError(f"The backup could not be written to {out}: {exc}") from None
    finally:
        partial.unlink(missing_ok=True)
    return out


def file_anchor(path: Path) -> audit_keys.Anchor | None:
    """The audit log's newest entry in the SQLite file at ``path`` (None if it logs nothing)."""
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            cid = conn.execute(
                "SELECT value FROM clinic_setting WHERE key = ?", (audit_keys.CLINIC_ID_SETTING,)
            ).fetchone()
            head = conn.execute(
                "SELECT seq, hash FROM audit_event ORDER BY seq DESC LIMIT 1"
            ).fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        return None
    if cid is None or head is None:
        return None
    return audit_keys.anchor_now(cid[0], int(head[0]), str(head[1]))


def anchor_path(copy: Path) -> Path:
    """The anchor file kept beside a backup copy."""
    return copy.with_name(copy.name + ".anchor.json")


def _new_generation(database: Database) -> None:
    """Give the restored database a new generation, which every other process open on it
    notices before its next write (it then stops writing, see ``Database.write``)."""
    value = secrets.randbelow(2**31 - 1) + 1
    with database.engine.begin() as conn:
        done = conn.execute(
            text("UPDATE counter SET value = :v WHERE name = :n"),
            {"v": value, "n": GENERATION_COUNTER},
        ).rowcount
        if not done:
            conn.execute(
                text("INSERT INTO counter (name, value) VALUES (:n, :v)"),
                {"v": value, "n": GENERATION_COUNTER},
            )
    database.adopt_generation(value)


def _restart_checkpoint(path: Path) -> None:
    """After a restore the log legitimately continues from the backup's newest entry: this
    computer's checkpoint is moved back to it (the restore entry that follows is logged)."""
    head = file_anchor(path)
    if head is not None:
        audit_keys.reset_checkpoint(replace(head, database=f"sqlite:///{path}"))


def back_up(
    database: Database,
    folder: Path,
    *,
    out: Path | None = None,
    kind: str = "manual",
    progress: Progress | None = None,
) -> Path:
    """Back up the database now (clinic admins, or Charting's own scheduled tasks).

    Raises:
        PermissionDeniedError: the signed-in account is not an admin.
        BackupError: the database is not a local file, or the copy failed.
    """
    actor = _require_backup(database)
    path = _sqlite_path(database)
    try:
        copy = make_copy(path, folder, kind, out=out, progress=progress)
    except BackupError as exc:
        audit.record_separately(database, actor, "backup.create", str(exc), outcome="failed")
        raise
    # The audit log's head as the copy holds it, kept beside it: evidence outside the
    # database that the log reached that far (see audit_keys).
    head = file_anchor(copy)
    if head is not None:
        audit_keys.write_anchor_file(anchor_path(copy), head)
    audit.record_separately(database, actor, "backup.create", f"{kind}: {copy}")
    return copy


#: Longest database name kept in a backup's file name: file systems allow 255 bytes per name,
#: and the kind, the time and the suffix take about 45 of them.
STEM_CHARS = 120


def backup_stem(path: Path) -> str:
    """The database's name as its backups start with (shortened, so a long database name
    still gives a backup file name the file system accepts)."""
    return path.stem[:STEM_CHARS]


def list_backups(folder: Path, stem: str | None = None) -> list[BackupInfo]:
    """The backups in ``folder`` (optionally of one database file), newest first."""
    found: list[BackupInfo] = []
    if not folder.is_dir():
        return found
    for path in folder.glob(f"*{SUFFIX}"):
        match = _NAME.match(path.name)
        if not match or (stem is not None and match["stem"] != stem):
            continue
        taken = datetime.strptime(match["stamp"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        found.append(BackupInfo(path, match["kind"], taken, path.stat().st_size))
    found.sort(key=lambda b: (b.taken_at, b.path.name), reverse=True)
    return found


def rotate(folder: Path, stem: str, keep: int) -> list[Path]:
    """Delete the oldest automatic backups beyond the newest ``keep``; return what went."""
    automatic = [
        b for b in list_backups(folder, stem) if b.kind == "daily" or b.kind.startswith("pre-")
    ]
    removed = []
    for old in automatic[max(keep, 1) :]:
        old.path.unlink(missing_ok=True)
        removed.append(old.path)
    return removed


def daily_backup_if_due(
    database: Database, folder: Path, keep: int, today: date | None = None
) -> Path | None:
    """On the first start of each (UTC) day, back up the file and rotate old backups.

    Runs as Charting's own task, whoever is signing in. Returns the new backup, or None when
    today's exists already or the database is on a server.
    """
    path = database.sqlite_path
    if not path:
        return None
    stem = backup_stem(Path(path))
    day = today or utcnow().date()
    if any(b.kind == "daily" and b.taken_at.date() == day for b in list_backups(folder, stem)):
        return None
    copy = back_up(database.acting_as(Actor.system("daily backup")), folder, kind="daily")
    rotate(folder, stem, keep)
    return copy


def check_backup_file(path: Path) -> str | None:
    """Check a file offered for restore; return its schema revision.

    Raises:
        BackupError: the file is not a sound Charting database this version can open.
    """
    try:
        revision = inspect_sqlite_file(path)
    except DatabaseFileError as exc:
        raise BackupError(f"{path} cannot be restored: {exc.problem}.") from None
    if not path.exists() or revision is None:
        raise BackupError(f"{path} cannot be restored: it holds no Charting records.")
    problem = integrity_problem(path)
    if problem:
        raise BackupError(f"{path} cannot be restored: it is damaged ({problem}).")
    return revision


def restore(
    database: Database, source: Path, folder: Path, *, progress: Progress | None = None
) -> RestoreResult:
    """Replace the database's contents with a backup (clinic admins only).

    The current contents are backed up first ("pre-restore"). The copy is a single
    transaction on the live file, so other connections see either the old records or the
    restored ones. An older backup is brought up to the current schema afterwards.

    Raises:
        PermissionDeniedError: the signed-in account is not an admin.
        BackupError: the backup is unusable or the copy failed; nothing was changed.
    """
    actor = _require_backup(database)
    path = _sqlite_path(database)
    source = source.expanduser()
    if source.resolve() == path.resolve():
        raise BackupError("That is the database in use; choose a backup file.")
    revision = check_backup_file(source)
    saved = make_copy(path, folder, "pre-restore")
    database.dispose()  # no pooled connection keeps a view of the old pages
    try:
        src = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
        dst = sqlite3.connect(path, timeout=30)
        try:
            _copy(src, dst, progress)
        finally:
            dst.close()
            src.close()
    except sqlite3.Error as exc:
        audit.record_separately(database, actor, "backup.restore", str(exc), outcome="failed")
        raise BackupError(f"The restore failed and nothing was changed: {exc}") from None
    database.dispose()
    upgraded = None
    if revision != head_revision():
        upgrade_to_head(database.engine)
        upgraded = revision
    _new_generation(database)
    audit_keys.forget_cached_keys()
    _restart_checkpoint(path)
    audit.record_separately(
        database,
        actor,
        "backup.restore",
        f"restored {source}; the database as it was is saved as {saved}",
    )
    return RestoreResult(source, saved, upgraded)


__all__ = [
    "BackupError",
    "BackupInfo",
    "RestoreResult",
    "back_up",
    "check_backup_file",
    "daily_backup_if_due",
    "integrity_problem",
    "list_backups",
    "make_copy",
    "restore",
    "rotate",
]


def restore_over_unreadable(
    path: Path,
    source: Path,
    folder: Path,
    authorise: Callable[[Database], Actor],
    open_database: Callable[[str], Database],
) -> RestoreResult:
    """Put a backup in place of a database file that Charting cannot open any more.

    The backup is copied to a new file beside the damaged one and opened first; ``authorise``
    must sign in there (as an admin of the backup's accounts) before anything is moved. Then
    the damaged file (with any -wal/-shm) is moved into ``folder``, never deleted, and the
    copy is renamed into its place.

    Raises:
        BackupError: the backup is unusable; nothing was moved.
        PermissionDeniedError: the sign-in does not have the backup permission.
    """
    revision = check_backup_file(source)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    incoming = path.with_name(f".{path.name}.restoring")
    incoming.unlink(missing_ok=True)
    make_copy(source, folder, "restore", out=incoming)
    database = open_database(f"sqlite:///{incoming}")
    try:
        actor = authorise(database)
        if not actor.can(Permission.BACKUP):
            raise PermissionDeniedError(
                "Only a clinic admin can restore the database (signed in to the backup's accounts)."
            )
    except BaseException:
        database.dispose()
        incoming.unlink(missing_ok=True)
        raise
    database.dispose()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    # Never over an earlier one: two restores within a second keep both damaged files.
    saved = folder / f"{backup_stem(path)}-unreadable-{stamp}{SUFFIX}"
    n = 1
    while saved.exists() or Path(f"{saved}-wal").exists():
        n += 1
        saved = folder / f"{backup_stem(path)}-unreadable-{stamp}-{n}{SUFFIX}"
    for suffix in ("-wal", "-shm"):
        extra = Path(f"{path}{suffix}")
        if extra.exists():
            extra.replace(Path(f"{saved}{suffix}"))
    if path.exists():
        path.replace(saved)
    incoming.replace(path)
    restored = open_database(f"sqlite:///{path}").acting_as(actor)
    _new_generation(restored)
    audit_keys.forget_cached_keys()
    _restart_checkpoint(path)
    try:
        audit.record_separately(
            restored,
            actor,
            "backup.restore",
            f"restored {source} over an unreadable database, which was moved to {saved}",
        )
    finally:
        restored.dispose()
    return RestoreResult(source, saved, revision if revision != head_revision() else None)

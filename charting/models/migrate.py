"""Opening a database safely: check the file, back it up, bring the schema to head."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import stat
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from charting.models.db import (
    CheckInterruptedError,
    Database,
    DatabaseError,
    DatabaseFileError,
    IntegrityCheck,
    check_pragmas,
    make_engine,
    one_line,
    parse_url,
)
from charting.models.file_checks import FileCheckRecords

if TYPE_CHECKING:
    from alembic.config import Config

SQLITE_HEADER = b"SQLite format 3\x00"
MIGRATIONS = str(Path(__file__).with_name("migrations"))
# PostgreSQL advisory lock key ("Chart") held while one workstation migrates a shared database.
PG_MIGRATION_LOCK = 0x4368617274
# The newest migration in migrations/versions. Opening a database that is already at this
# revision (every start but the first after an update) then needs no Alembic import, which
# costs about 90 ms of start-up; a test checks it against Alembic's own head.
SCHEMA_HEAD = "0060"


def alembic_config(url: str | None = None) -> Config:
    """Alembic configuration pointing at the migrations shipped inside the package."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", MIGRATIONS)
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def head_revision() -> str:
    """The newest schema revision this version of Charting knows (asks Alembic)."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "the package ships no migrations"
    return head


def known_revisions() -> set[str]:
    """Every schema revision this version of Charting knows."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config())
    return {rev.revision for rev in script.walk_revisions()}


@dataclass(frozen=True)
class OpenResult:
    """What :func:`open_database` did, for the status bar and the log."""

    database: Database
    migrated_from: str | None  # revision before the upgrade; None if none was needed
    backup: Path | None  # the pre-migration copy, if one was made


def _connect_read_only(path: Path, shared: bool = False) -> sqlite3.Connection:
    # With no -wal file beside it nobody is writing, so open it as immutable: SQLite then
    # creates no -wal/-shm files next to a file we may be about to refuse. ``shared``: the
    # app may write while this connection reads, so it must see a consistent snapshot.
    immutable = not shared and not Path(f"{path}-wal").exists()
    flags = "mode=ro&immutable=1" if immutable else "mode=ro"
    try:
        return sqlite3.connect(f"{path.resolve().as_uri()}?{flags}", uri=True, timeout=10)
    except sqlite3.Error as exc:
        raise DatabaseFileError(path, f"SQLite cannot open it ({exc})") from None


def quick_check_problem(
    path: Path, shared: bool = False, opened: Callable[[sqlite3.Connection], None] | None = None
) -> str | None:
    """Run SQLite's quick_check on the file, read-only; the problem in words, or None.

    It reads every page: about 0.6 s for 300 MB; for a 2 GB clinic, 5 s in the disk cache
    and 30 s from a cold disk.
    ``shared``: the app has the file open and may write while the check runs. ``opened``
    receives the check's connection (to interrupt it from another thread).

    Raises:
        CheckInterruptedError: the connection was interrupted before the check finished.
    """
    conn = _connect_read_only(path, shared)
    try:
        if opened is not None:
            opened(conn)
        # The first problem is enough to refuse the file; SQLite may report it as several
        # lines ("*** in database main ***", then the page), which would not fit a message.
        check = conn.execute("PRAGMA quick_check(1)").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        if getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_INTERRUPT:
            raise CheckInterruptedError from None
        return f"the file is damaged or not a database ({exc})"
    finally:
        conn.close()
    if check == "ok":
        return None
    detail = " ".join(ln for ln in check.splitlines() if not ln.startswith("***"))
    return f"the file is damaged (integrity check: {detail})"


class _BackgroundQuickCheck:
    """``quick_check_problem`` for an :class:`IntegrityCheck`, which can interrupt it."""

    def __init__(self, path: Path, shared: bool) -> None:
        self.path = path
        self.shared = shared
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._interrupted = False

    def _opened(self, conn: sqlite3.Connection) -> None:
        with self._lock:
            self._conn = conn
            if self._interrupted:
                raise CheckInterruptedError

    def run(self) -> str | None:
        try:
            return quick_check_problem(self.path, self.shared, self._opened)
        finally:
            with self._lock:
                self._conn = None

    def interrupt(self) -> None:
        with self._lock:
            self._interrupted = True
            if self._conn is not None:
                # The check may have just finished and closed its connection.
                with contextlib.suppress(sqlite3.ProgrammingError):
                    self._conn.interrupt()


def inspect_sqlite_file(path: Path, full_check: bool = True) -> str | None:
    """Check an existing SQLite file without modifying it; return its schema revision.

    Returns None for a file that does not exist yet (a new database will be created).
    ``full_check=False`` leaves out the page-by-page quick_check (the caller runs it in
    the background instead).

    Raises:
        DatabaseFileError: the file is unreadable, not SQLite, corrupt, not a Charting
            database, or from a newer version of Charting.
    """
    try:
        found = path.stat()
    except FileNotFoundError:
        found = None
    except OSError as exc:  # a name too long, a path through a file...
        raise DatabaseFileError(path, f"the path cannot be used ({exc.strerror})") from None
    if found is None:
        try:
            if not path.parent.is_dir():
                raise DatabaseFileError(path, "its folder does not exist")
        except OSError as exc:
            raise DatabaseFileError(path, f"the path cannot be used ({exc.strerror})") from None
        return None
    if stat.S_ISDIR(found.st_mode):
        raise DatabaseFileError(path, "it is a folder, not a database file")
    if not stat.S_ISREG(found.st_mode):
        # Reading a named pipe would wait forever for a writer; a device is no database.
        raise DatabaseFileError(path, "it is not a regular file (a pipe, device or socket)")
    try:
        with path.open("rb") as handle:
            header = handle.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise DatabaseFileError(path, f"the file cannot be read ({exc.strerror})") from None
    if not header:
        raise DatabaseFileError(path, "the file is empty, so it is not a Charting database")
    if header != SQLITE_HEADER:
        raise DatabaseFileError(path, "it is not an SQLite database file")
    if full_check:
        problem = quick_check_problem(path)
        if problem is not None:
            raise DatabaseFileError(path, problem)
    conn = _connect_read_only(path)
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "alembic_version" not in tables:
            if tables:
                raise DatabaseFileError(path, "it is an SQLite file but not a Charting database")
            return None
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.DatabaseError as exc:
        raise DatabaseFileError(path, f"the file is damaged or not a database ({exc})") from None
    finally:
        conn.close()
    revision = row[0] if row else None
    if revision is not None and revision != SCHEMA_HEAD and revision not in known_revisions():
        raise DatabaseFileError(
            path,
            f"it was written by a newer version of Charting (schema {revision}); "
            "update Charting to open it",
        )
    return revision


def backup_sqlite(path: Path, folder: Path, label: str) -> Path:
    """Copy a live SQLite file with SQLite's online backup API (never a plain file copy)."""
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = folder / f"{path.stem}-{label}-{stamp}.sqlite3"
    n = 1
    while target.exists():
        n += 1
        target = folder / f"{path.stem}-{label}-{stamp}-{n}.sqlite3"
    # Created owner-only before SQLite writes patient data into it (and its journal, which
    # SQLite gives the same mode).
    os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    src = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
        # A backup counts only once it passes the full check.
        check = [row[0] for row in dst.execute("PRAGMA integrity_check").fetchall()]
    finally:
        dst.close()
        src.close()
    target.chmod(0o600)
    if check != ["ok"]:
        raise DatabaseError(
            f"the backup {target} failed its integrity check ({'; '.join(check[:3])}); "
            "the database was not changed"
        )
    return target


def current_revision(engine: Engine) -> str | None:
    """Schema revision recorded in the database, or None for an empty database."""
    with engine.connect() as conn:
        if not engine.dialect.has_table(conn, "alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def upgrade_to_head(engine: Engine) -> None:
    """Run every pending migration in one transaction.

    On SQLite, foreign keys are switched off for the duration (batch migrations recreate
    tables) and ``PRAGMA foreign_key_check`` must come back empty before the commit. On
    PostgreSQL, workstations that start together migrate one after the other: the others
    wait for the first, then find the schema already at head.
    """
    from alembic import command

    cfg = alembic_config()
    with engine.connect() as conn:
        sqlite = engine.dialect.name == "sqlite"
        if sqlite:
            # Must run outside a transaction, so on the raw driver connection.
            conn.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")  # type: ignore[union-attr]
        try:
            with conn.begin():
                if engine.dialect.name == "postgresql":
                    # Held to the end of this transaction; Alembic reads the revision after it.
                    conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({PG_MIGRATION_LOCK})")
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
                if sqlite:
                    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise DatabaseError(
                            f"the migration left {len(broken)} rows with broken references"
                        )
        finally:
            if sqlite:
                conn.connection.driver_connection.execute("PRAGMA foreign_keys=ON")  # type: ignore[union-attr]


def open_database(
    url: str,
    backup_folder: Path | None = None,
    check_in_background: bool = False,
    records: FileCheckRecords | None = None,
) -> OpenResult:
    """Open (creating if needed) the database at ``url`` and bring its schema to head.

    An existing SQLite file is checked read-only first, and is backed up with the online
    backup API before any migration touches it. With ``check_in_background`` (the app's
    start-up), the page-by-page check of a file already at the newest schema runs in a
    background thread instead: reading starts at once, and the first write waits for the
    check's verdict (``Database.integrity_check``), unless ``records`` shows the file
    exactly as Charting left it after a passed check (``charting.models.file_checks``).

    Raises:
        DatabaseError: a readable explanation; an existing file is left as it was.
    """
    parsed = parse_url(url)
    path: Path | None = None
    revision: str | None = None
    existed = False
    trusted_since = None
    if parsed.get_backend_name() == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            raise DatabaseError("an in-memory database would lose every record; use a file")
        path = Path(parsed.database)
        revision = inspect_sqlite_file(path, full_check=not check_in_background)
        existed = path.exists()
        if check_in_background and records is not None and existed:
            # Read before anything opens the file (opening creates its write-ahead log).
            trusted_since = records.trusted_since(path)
        if check_in_background and existed and revision != SCHEMA_HEAD:
            # A migration is about to write: check the file first, here and now.
            problem = quick_check_problem(path)
            if problem is not None:
                raise DatabaseFileError(path, problem)
        if path.exists() and not _writable(path):
            raise DatabaseFileError(path, "the file (or its folder) is read-only")
    engine = make_engine(url)
    try:
        check_pragmas(engine)
        if path is None:
            revision = current_revision(engine)
            if revision not in (None, SCHEMA_HEAD) and revision not in known_revisions():
                raise DatabaseError(
                    f"the database {engine.url.render_as_string(hide_password=True)} was "
                    f"written by a newer version of Charting (schema {revision})"
                )
        head = SCHEMA_HEAD
        backup = None
        if revision != head:
            if path is not None and existed:
                backup = backup_sqlite(path, backup_folder or path.parent, f"pre-{head}")
            upgrade_to_head(engine)
        if path is not None:
            _make_private(path)
        database = Database(engine)
        if path is not None and check_in_background and existed and revision == head:
            # On a trusted start the app writes while the check reads: a shared connection.
            quick = _BackgroundQuickCheck(path, shared=trusted_since is not None)
            database.integrity_check = IntegrityCheck(
                str(path), quick.run, trusted_since, quick.interrupt
            )
        return OpenResult(database, revision if revision != head else None, backup)
    except OperationalError as exc:
        engine.dispose()
        raise DatabaseError(f"the database cannot be used: {one_line(exc.orig)}") from None
    except (SQLAlchemyError, UnicodeError, ValueError) as exc:
        # ValueError: the driver refuses a connection parameter (e.g. a NUL in the host).
        engine.dispose()
        raise DatabaseError(f"the database cannot be used: {one_line(exc)}") from None
    except BaseException:
        engine.dispose()
        raise


def _writable(path: Path) -> bool:
    # A file with no write bit at all was made read-only on purpose; os.access alone would
    # let root (and Windows administrators) write to it anyway.
    if not path.stat().st_mode & 0o222:
        return False
    return os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)


def _make_private(path: Path) -> None:
    """Owner-only permissions on the database file and its -wal/-shm companions.

    SQLite gives the -wal and -shm files the mode the database file had when they were
    created (before this chmod, for a new database), and they hold patient data too.
    """
    for file in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        if file.exists():
            file.chmod(0o600)


__all__ = [
    "DatabaseFileError",
    "OpenResult",
    "alembic_config",
    "backup_sqlite",
    "head_revision",
    "inspect_sqlite_file",
    "open_database",
    "quick_check_problem",
]

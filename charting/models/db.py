"""Engine and session factory, with the SQLite safety pragmas on every connection."""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Engine,
    String,
    any_,
    bindparam,
    create_engine,
    event,
    func,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import (
    ArgumentError,
    InterfaceError,
    NoSuchModuleError,
    OperationalError,
)
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from charting.config import SUPPORTED_BACKENDS
from charting.models.file_checks import FileCheckRecords

# Seconds a connection waits for another writer before "database is locked".
BUSY_TIMEOUT_S = 10

# Every SQLite connection runs these, in this order, outside any transaction
# (SQLite's documentation: WAL + synchronous=FULL survives a power cut; foreign keys are off
# in SQLite unless each connection switches them on).
SQLITE_PRAGMAS = (
    "journal_mode=WAL",
    "synchronous=FULL",
    "foreign_keys=ON",
    f"busy_timeout={BUSY_TIMEOUT_S * 1000}",
)


class DatabaseError(Exception):
    """A database that cannot be opened or used; the message is meant for a person."""


class BadDatabaseUrlError(DatabaseError):
    """The configured URL is malformed or names a driver that is not installed."""


class DatabaseFileError(DatabaseError):
    """An existing SQLite file that cannot be used; it has not been modified."""

    def __init__(self, path: str | Path, problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"Cannot open the database {self.path}: {problem}")


class DatabaseBusyError(DatabaseError):
    """Another program (or workstation) held the database past the wait; nothing was stored,
    and the same change can be tried again."""


class DatabaseUnreachableError(DatabaseError):
    """The database server could not be reached (network, server stopped); nothing was
    stored, and the same change can be tried again."""


class ConcurrentChangeError(DatabaseError):
    """A row changed underneath the change being stored (another workstation saved it first);
    nothing was stored. Read it again before changing it."""


class DatabaseRestoredError(DatabaseError):
    """The database was restored from a backup since this Charting opened it: what it holds
    in memory (ids, versions, the open visit) belongs to the records before. Nothing is
    written until Charting is started again."""


#: ``counter`` row whose value a restore changes (see :meth:`Database.write`).
GENERATION_COUNTER = "generation"

#: Errors after which the very same change may succeed if tried again later.
RETRYABLE_ERRORS = (DatabaseBusyError, DatabaseUnreachableError)


def translate_error(exc: BaseException) -> DatabaseError | None:
    """The readable error for a driver or ORM error met while using the database, or None
    when it is not one of those (a programming error is left to surface as it is)."""
    if isinstance(exc, StaleDataError):
        return ConcurrentChangeError(
            "Another workstation changed this record at the same moment, so this change was "
            "not saved. What is stored is shown again."
        )
    if isinstance(exc, OperationalError | InterfaceError):
        text = str(getattr(exc, "orig", exc)).lower()
        if "locked" in text or "busy" in text or "could not obtain lock" in text:
            return DatabaseBusyError(
                "The database is busy: another program is writing to it. Nothing was lost; "
                "Charting tries again."
            )
        if exc.connection_invalidated or any(
            word in text
            for word in ("connection", "server closed", "terminating", "timeout", "network")
        ):
            return DatabaseUnreachableError(
                "The database server cannot be reached. Nothing was lost; Charting tries "
                "again when it is back."
            )
        return DatabaseError(f"The database refused the change: {getattr(exc, 'orig', exc)}")
    return None


class CheckInterruptedError(Exception):
    """Raised by an integrity check's ``run`` when ``interrupt`` stopped it (no verdict)."""


class IntegrityCheck:
    """A check of the file running in a background thread; writes wait for its verdict.

    ``run`` returns None when the file is sound, else the problem in words; ``interrupt``
    (called from another thread) makes a running ``run`` raise :class:`CheckInterruptedError`.

    ``trusted_since`` is set when the file is exactly as Charting left it after a passed
    check (``charting.models.file_checks``): writes then go ahead while the check runs, and
    only a bad verdict stops them.
    """

    def __init__(
        self,
        path: str,
        run: Callable[[], str | None],
        trusted_since: datetime | None = None,
        interrupt: Callable[[], None] | None = None,
    ) -> None:
        self.path = path
        self.trusted_since = trusted_since
        self._run = run
        self._interrupt = interrupt
        self._done = threading.Event()
        self._interrupted = False
        self._problem: str | None = None
        self._passed_at: datetime | None = None
        self._thread = threading.Thread(target=self._work, name="integrity-check", daemon=True)
        self._thread.start()

    def _work(self) -> None:
        try:
            self._problem = self._run()
        except CheckInterruptedError:
            self._interrupted = True  # no verdict: neither sound nor damaged
        except Exception as exc:
            self._problem = f"the file could not be checked ({exc})"
        finally:
            if self._problem is None and not self._interrupted:
                self._passed_at = datetime.now(UTC)
            self._done.set()

    @property
    def finished(self) -> bool:
        """Whether the verdict is in."""
        return self._done.is_set()

    @property
    def problem(self) -> str | None:
        """The problem found, once the verdict is in (None while running or when sound)."""
        return self._problem if self._done.is_set() else None

    def wait(self, timeout: float) -> bool:
        """Wait at most ``timeout`` seconds; whether the verdict is in."""
        return self._done.wait(timeout)

    def verdict(self, timeout: float | None = None) -> str | None:
        """Wait for the check (at most ``timeout`` seconds); the problem, or None if sound.

        Raises:
            TimeoutError: the check did not finish in time.
        """
        if not self._done.wait(timeout):
            raise TimeoutError("the integrity check is still running")
        return self._problem

    def require_sound(self) -> None:
        """Before a write: wait for the verdict (unless the file is trusted, see above);
        raise DatabaseFileError if the file is damaged."""
        problem = self.problem if self.trusted_since is not None else self.verdict()
        if problem is not None:
            raise DatabaseFileError(self.path, problem)

    def stop(self, timeout: float = 10.0) -> None:
        """Interrupt a check still running (Charting is closing) and wait for its thread."""
        if self._done.is_set():
            return
        if self._interrupt is not None:
            self._interrupt()
        self._done.wait(timeout)

    def sound_as_of(self) -> datetime | None:
        """When the file was last known sound: this check's pass, or (if it did not get
        to finish) the earlier pass the start trusted; None when it failed or is unknown."""
        if self._passed_at is not None:
            return self._passed_at
        if self._interrupted or not self._done.is_set():
            return self.trusted_since
        return None


def one_line(text: object) -> str:
    """``text`` on one line, for messages (a driver's message may span several)."""
    return " ".join(str(text).split())


def parse_url(url: str) -> URL:
    """Parse a SQLAlchemy URL, raising :class:`BadDatabaseUrlError` with a readable message."""
    shown = one_line(url)
    try:
        parsed = make_url(url)
        port = parsed.port  # "host:abc" fails only when the port is read
    except (ArgumentError, ValueError, TypeError):
        raise BadDatabaseUrlError(f"'{shown}' is not a valid database URL") from None
    if port is not None and not 0 < port < 65536:
        raise BadDatabaseUrlError(f"'{shown}' names port {port}; a port is 1 to 65535")
    for part, value in (
        ("host", parsed.host),
        ("user", parsed.username),
        ("database", parsed.database),
    ):
        if value and any(ord(c) < 32 or 0xD800 <= ord(c) <= 0xDFFF for c in value):
            raise BadDatabaseUrlError(
                f"the database URL's {part} holds characters that are not text"
            )
    if parsed.get_backend_name() not in SUPPORTED_BACKENDS:
        raise BadDatabaseUrlError(
            f"'{parsed.get_backend_name()}' databases are not supported; "
            "use sqlite:///FILE or postgresql+psycopg://USER@HOST/DBNAME"
        )
    return parsed


def _set_sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # Python's sqlite3 manages transactions itself unless isolation_level is None; we take
    # control (and emit BEGIN ourselves below) so pragmas run outside a transaction and
    # writes can use BEGIN IMMEDIATE. The `autocommit` attribute exists only on 3.12+,
    # which is why SQLAlchemy's documented recipe fails on 3.11 (DESIGN.md, known traps).
    dbapi_conn.isolation_level = None
    cursor = dbapi_conn.cursor()
    try:
        for pragma in SQLITE_PRAGMAS:
            cursor.execute("PRAGMA " + pragma)
    finally:
        cursor.close()
    _record.info["busy_timeout_ms"] = BUSY_TIMEOUT_S * 1000


def _begin_sqlite(conn: Connection) -> None:
    options = conn.get_execution_options()
    # How long this transaction waits for another writer: the default, or less where the
    # caller would rather try again later than keep the screen waiting (autosave).
    wait_ms = int(options.get("busy_timeout_ms") or BUSY_TIMEOUT_S * 1000)
    # Set only when it changes on this connection (a statement per write counts on a click).
    if conn.info.get("busy_timeout_ms") != wait_ms:
        conn.exec_driver_sql(f"PRAGMA busy_timeout={wait_ms}")
        conn.info["busy_timeout_ms"] = wait_ms
    mode = "IMMEDIATE" if options.get("sqlite_immediate") else "DEFERRED"
    conn.exec_driver_sql(f"BEGIN {mode}")


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create the engine for ``url`` with the project's connection settings.

    Raises:
        BadDatabaseUrlError: the URL cannot be parsed or its driver is missing.
    """
    parsed = parse_url(url)
    try:
        if parsed.get_backend_name() == "sqlite":
            engine = create_engine(parsed, connect_args={"timeout": BUSY_TIMEOUT_S}, **kwargs)
            event.listen(engine, "connect", _set_sqlite_pragmas)
            event.listen(engine, "begin", _begin_sqlite)
        else:
            engine = create_engine(parsed, pool_pre_ping=True, **kwargs)
    except (NoSuchModuleError, ModuleNotFoundError) as exc:
        raise BadDatabaseUrlError(
            f"the database driver for '{parsed.drivername}' is missing: {exc}"
        ) from None
    return engine


def batches(connection: Connection, statement: Any, size: int) -> Iterator[Sequence[Any]]:
    """The rows of ``statement`` in lists of up to ``size``, as plain tuples.

    On SQLite, when no column of the statement needs converting on the way out (times,
    booleans and JSON do), the rows come straight from the driver's cursor, inside the same
    transaction: the result objects of SQLAlchemy cost as much as SQLite's own reading when
    an export streams half a million rows. Otherwise SQLAlchemy reads them as usual.
    """
    dialect = connection.dialect
    if dialect.name == "sqlite" and not any(
        column.type.dialect_impl(dialect).result_processor(dialect, None) is not None
        for column in statement.selected_columns
    ):
        # SQLAlchemy compiles the statement (once: its cache knows the shape again the next
        # chunk) and binds the parameters; the rows are then taken from the driver's cursor.
        result = connection.execute(statement)
        cursor = result.cursor
        try:
            while rows := cursor.fetchmany(size):
                yield rows
        finally:
            result.close()
        return
    # Options of this statement only: on the connection they would outlive it (a server-side
    # cursor for the session's next UPDATE, on PostgreSQL).
    result = connection.execute(statement, execution_options={"yield_per": size})
    yield from result.partitions()


def among(column: Any, values: Sequence[Any], dialect: str) -> Any:
    """``column IN values`` for a long list of ids or codes, with the list as one parameter.

    SQLAlchemy coerces each value of a plain ``in_`` into its own bound parameter, and an
    export's or a check's thousands of ids per statement made that a tenth of their time. On
    SQLite the list goes in as one JSON array (``json_each``), on PostgreSQL as one array
    (``= ANY``); the database walks the column's index either way.
    """
    items = list(values)
    if dialect == "sqlite":
        each = func.json_each(bindparam(None, json.dumps(items), type_=String())).table_valued(
            "value"
        )
        return column.in_(select(each.c.value))
    if dialect == "postgresql":
        return column == any_(bindparam(None, items, type_=ARRAY(column.type)))
    return column.in_(items)


def read_pragmas(conn: Connection) -> dict[str, Any]:
    """Return the safety pragmas as the connection really has them."""
    return {
        name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
        for name in ("foreign_keys", "journal_mode", "synchronous", "busy_timeout")
    }


def check_pragmas(engine: Engine) -> None:
    """Refuse an SQLite database whose safety pragmas did not take (e.g. a read-only folder)."""
    if engine.dialect.name != "sqlite":
        return
    with engine.connect() as conn:
        got = read_pragmas(conn)
    if (got["foreign_keys"], str(got["journal_mode"]).lower(), got["synchronous"]) != (
        1,
        "wal",
        2,
    ) or got["busy_timeout"] < 5000:
        raise DatabaseError(
            "the database could not be switched to its safe settings "
            f"(foreign keys, WAL journal, full sync): got {got}"
        )


class Database:
    """The engine and session factory for one configured database.

    Made once at start-up. Each user action runs in its own short session:
    :meth:`write` for changes (one transaction, committed on success) and :meth:`read`
    for queries.

    ``actor`` is whoever is signed in (an ``Actor`` from ``charting.services.access``);
    every session carries it in ``session.info["actor"]`` so the services can check what
    it may do and write it into the audit log. A session may also register callbacks in
    ``session.info["on_failure"]``: they run with this database after the session's
    transaction has been rolled back (used to record refused actions in the audit log,
    which cannot share the refused transaction).
    """

    def __init__(self, engine: Engine, actor: Any = None) -> None:
        self.engine = engine
        self.url = engine.url
        self.actor = actor
        self._reader = sessionmaker(engine, expire_on_commit=False)
        writer_bind = (
            engine.execution_options(sqlite_immediate=True)
            if engine.dialect.name == "sqlite"
            else engine
        )
        self._writer_bind = writer_bind
        self._writer = sessionmaker(writer_bind, expire_on_commit=False)
        event.listen(self._writer, "after_begin", self._check_generation)
        # Set by open_database when the file's check runs in the background: nothing is
        # written to a file before the check has passed.
        self.integrity_check: IntegrityCheck | None = None
        # The database's generation as this process first saw it; a restore changes it, and
        # a process that sees it change stops writing (its ids and copies are from before).
        self.generation: list[int | None] = []

    def acting_as(self, actor: Any) -> Database:
        """This database (same engine and pool) with another actor signed in."""
        clone = copy.copy(self)
        clone.actor = actor
        return clone

    @property
    def is_sqlite(self) -> bool:
        """Whether this is a local SQLite file (rather than a shared server)."""
        return self.engine.dialect.name == "sqlite"

    @property
    def sqlite_path(self) -> str | None:
        """The SQLite file's path, or None for a server database."""
        return self.url.database if self.is_sqlite else None

    @contextmanager
    def write(self, busy_timeout_ms: int | None = None) -> Iterator[Session]:
        """A session whose transaction takes the write lock at once and commits on success.

        ``busy_timeout_ms`` shortens how long an SQLite write waits for another writer
        (the default is ``BUSY_TIMEOUT_S``): autosave would rather try again later.

        Raises:
            DatabaseFileError: the file's integrity check (still running at start-up, then
                waited for here) found it damaged; nothing is written.
            DatabaseBusyError, DatabaseUnreachableError, ConcurrentChangeError, DatabaseError:
                the database could not take the change (never a raw driver error).
        """
        if self.integrity_check is not None:
            self.integrity_check.require_sound()
        info = {"actor": self.actor, "writer": True}
        if busy_timeout_ms is not None and self.is_sqlite:
            bind = self._writer_bind.execution_options(busy_timeout_ms=busy_timeout_ms)
            session = self._writer(bind=bind, info=info)
        else:
            session = self._writer(info=info)
        try:
            with session, session.begin():
                yield session
        except BaseException as exc:
            self._run_failure_hooks(session)
            readable = translate_error(exc)
            if readable is not None:
                raise readable from exc
            raise

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for queries; nothing is committed."""
        session = self._reader(info={"actor": self.actor, "writer": False})
        try:
            with session:
                yield session
        except BaseException as exc:
            self._run_failure_hooks(session)
            readable = translate_error(exc)
            if readable is not None:
                raise readable from exc
            raise

    def _check_generation(self, _session: Session, _transaction: Any, conn: Connection) -> None:
        """Refuse to write into a database that was restored since this process saw it
        (checked as each write transaction starts, on its own connection)."""
        current = conn.execute(
            text("SELECT value FROM counter WHERE name = :name"), {"name": GENERATION_COUNTER}
        ).scalar()
        if not self.generation:
            self.generation.append(current)
        elif current != self.generation[0]:
            raise DatabaseRestoredError(
                "The database was restored from a backup while Charting was open, so nothing "
                "more is written from this window (it still shows the records from before). "
                "Close Charting and start it again to work on the restored records."
            )

    def adopt_generation(self, generation: int) -> None:
        """Take ``generation`` as the database's own (the restore that set it was ours)."""
        self.generation[:] = [generation]

    def _run_failure_hooks(self, session: Session) -> None:
        hooks: list[Callable[[Database], None]] = session.info.pop("on_failure", [])
        for hook in hooks:
            hook(self)

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()

    def close(self, records: FileCheckRecords | None = None) -> None:
        """Close at the end of a clean session: stop the file's background check, close
        every connection, and remember an SQLite file as sound in ``records`` when it was
        checked (or trusted) this session, so the next start need not wait for a check."""
        check = self.integrity_check
        if check is not None:
            check.stop()
        self.engine.dispose()
        path = self.sqlite_path
        sound_as_of = check.sound_as_of() if check is not None else None
        if records is not None and path and check is not None:
            records.record(Path(path), sound_as_of)

"""Engine and session factory, with the SQLite safety pragmas on every connection."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.orm import Session, sessionmaker

# Seconds a connection waits for another writer before "database is locked".
BUSY_TIMEOUT_S = 10

# Every SQLite connection runs these, in this order, outside any transaction
# (reliability.md §1.6: WAL + synchronous=FULL survives a power cut; foreign keys are off
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


def parse_url(url: str) -> URL:
    """Parse a SQLAlchemy URL, raising :class:`BadDatabaseUrlError` with a readable message."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise BadDatabaseUrlError(f"'{url}' is not a valid database URL") from None
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
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


def _begin_sqlite(conn: Connection) -> None:
    mode = "IMMEDIATE" if conn.get_execution_options().get("sqlite_immediate") else "DEFERRED"
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
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.url = engine.url
        self._reader = sessionmaker(engine, expire_on_commit=False)
        writer_bind = (
            engine.execution_options(sqlite_immediate=True)
            if engine.dialect.name == "sqlite"
            else engine
        )
        self._writer = sessionmaker(writer_bind, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        """Whether this is a local SQLite file (rather than a shared server)."""
        return self.engine.dialect.name == "sqlite"

    @property
    def sqlite_path(self) -> str | None:
        """The SQLite file's path, or None for a server database."""
        return self.url.database if self.is_sqlite else None

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A session whose transaction takes the write lock at once and commits on success."""
        with self._writer() as session, session.begin():
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for queries; nothing is committed."""
        with self._reader() as session:
            yield session

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()

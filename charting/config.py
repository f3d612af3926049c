"""Where Charting keeps its files, and which database it opens."""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from platformdirs import PlatformDirs

APP_NAME = "Charting"
APP_AUTHOR = "Charting"
DATABASE_ENV = "CHARTING_DATABASE_URL"
DATA_DIR_ENV = "CHARTING_DATA_DIR"
DATABASE_FILENAME = "charting.sqlite3"
#: The demo clinic's own file, beside the clinic's (never the same database).
DEMO_FILENAME = "demo.sqlite3"
SUPPORTED_BACKENDS = ("sqlite", "postgresql")


class ConfigError(ValueError):
    """A configuration value (such as a database URL) that cannot be used."""


def data_dir(environ: Mapping[str, str] | None = None) -> Path:
    """Return the user data folder, created readable by its owner only.

    ``CHARTING_DATA_DIR`` overrides the platform folder (used by tests and portable installs).
    """
    env = os.environ if environ is None else environ
    override = env.get(DATA_DIR_ENV)
    path = Path(override) if override else Path(PlatformDirs(APP_NAME, APP_AUTHOR).user_data_dir)
    ensure_private_dir(path)
    return path


def ensure_private_dir(path: Path) -> None:
    """Create ``path`` (and parents) if needed, with owner-only permissions on the leaf."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    if os.name == "posix" and stat.S_IMODE(path.stat().st_mode) & 0o077:
        path.chmod(0o700)


def backup_dir(environ: Mapping[str, str] | None = None) -> Path:
    """Folder that holds automatic database backups."""
    path = data_dir(environ) / "backups"
    ensure_private_dir(path)
    return path


def default_database_path(environ: Mapping[str, str] | None = None) -> Path:
    """The SQLite file used when no other database is configured."""
    return data_dir(environ) / DATABASE_FILENAME


def demo_database_path(environ: Mapping[str, str] | None = None) -> Path:
    """The SQLite file of the fictional demo clinic (``charting --demo``)."""
    return data_dir(environ) / DEMO_FILENAME


@dataclass(frozen=True)
class DatabaseChoice:
    """The database to open and where the choice came from (for messages)."""

    url: str
    source: str  # "--db", "CHARTING_DATABASE_URL" or "default"


def resolve_database_url(
    cli_url: str | None, environ: Mapping[str, str] | None = None
) -> DatabaseChoice:
    """Pick the database URL: ``--db`` first, then the environment, then the default file.

    A bare filesystem path is accepted too and taken as an SQLite file.
    """
    env = os.environ if environ is None else environ
    if cli_url:
        return DatabaseChoice(normalise_url(cli_url), "--db")
    if env.get(DATABASE_ENV):
        return DatabaseChoice(normalise_url(env[DATABASE_ENV]), DATABASE_ENV)
    return DatabaseChoice(sqlite_url(default_database_path(env)), "default")


def sqlite_url(path: Path) -> str:
    """SQLAlchemy URL of an SQLite file."""
    return f"sqlite:///{path}"


def normalise_url(text: str) -> str:
    """Accept a SQLAlchemy URL or a plain path to an SQLite file.

    Raises:
        ConfigError: the text is empty or is neither a URL nor a path.
    """
    text = text.strip()
    if not text:
        raise ConfigError("the database URL is empty")
    if "://" in text:
        backend = text.split("://", 1)[0].split("+", 1)[0].lower()
        if backend not in SUPPORTED_BACKENDS:
            raise ConfigError(
                f"'{backend}' databases are not supported; "
                "use sqlite:///FILE or postgresql+psycopg://USER@HOST/DBNAME"
            )
        return text
    if text.endswith((".sqlite", ".sqlite3", ".db")) or os.sep in text or "/" in text:
        try:
            return sqlite_url(Path(text).expanduser().resolve())
        except (RuntimeError, OSError) as exc:  # "~nobody/x.db": no such home folder
            raise ConfigError(f"'{text}' is not a usable path ({exc})") from None
    raise ConfigError(
        f"'{text}' is not a database URL; use e.g. sqlite:///path/to/file.sqlite3 "
        "or postgresql+psycopg://user@host/dbname"
    )

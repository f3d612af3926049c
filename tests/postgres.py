"""A private, throwaway PostgreSQL cluster for the test session (a pytest plugin).

``CHARTING_TEST_DATABASE=postgresql`` runs the suite on PostgreSQL instead of SQLite. The
session then starts its own cluster with Debian's server binaries
(``bash tools/system-packages.sh postgres``): trust authentication, a unix socket in a
temporary folder and no TCP port, fsync off. The app's migrations run once into a template
database; each test gets ``CREATE DATABASE ... TEMPLATE`` (a file copy: about 15 ms, as the
cluster lives in RAM when /dev/shm has room) and the database is dropped afterwards. The
cluster is stopped and deleted at the end of the session, or by the next session if this one
was killed.
"""

from __future__ import annotations

import contextlib
import glob
import itertools
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

BACKEND_ENV = "CHARTING_TEST_DATABASE"
BACKENDS = ("sqlite", "postgresql")
TEMPLATE = "charting_template"
SUPERUSER = "postgres"
FOLDER_PREFIX = "charting-pg-"
OWNER_FILE = "owner.pid"  # the test process a cluster belongs to
# Not UTC on purpose: a clinic's server may run in any time zone, and timestamps must come
# back the same whatever the server's zone is.
SERVER_TIMEZONE = "America/Denver"
SETTINGS = {
    "listen_addresses": "''",  # unix socket only: nothing else on the machine can connect
    "fsync": "off",  # a throwaway cluster need not survive a power cut
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "timezone": f"'{SERVER_TIMEZONE}'",
    "max_connections": "200",
}


def backend() -> str:
    """The database the suite runs on: ``sqlite`` (the default) or ``postgresql``."""
    chosen = os.environ.get(BACKEND_ENV, "").strip().lower() or "sqlite"
    if chosen not in BACKENDS:
        raise pytest.UsageError(f"{BACKEND_ENV}={chosen!r}: use one of {', '.join(BACKENDS)}")
    return chosen


ON_POSTGRES = backend() == "postgresql"


def _cluster_parents() -> list[Path]:
    """Where clusters may live, best first: RAM, when there is room, then the temp folder.

    Copying the template on a tmpfs takes about 15 ms; on this kind of virtual disk, 200 ms.
    """
    places = [Path(tempfile.gettempdir())]
    shm = Path("/dev/shm")
    try:
        stat = os.statvfs(shm)
        if stat.f_bavail * stat.f_frsize >= 1 << 30 and os.access(shm, os.W_OK):
            places.insert(0, shm)
    except OSError:
        pass  # no /dev/shm (macOS) or a small one (a container's default 64 MB)
    return places


def _server_bindir() -> Path:
    """The newest installed server's bin folder (Debian: /usr/lib/postgresql/VERSION/bin)."""
    found = glob.glob("/usr/lib/postgresql/*/bin/initdb")
    if found:
        newest = max(found, key=lambda p: int(Path(p).parts[-3].split(".")[0]))
        return Path(newest).parent
    on_path = shutil.which("initdb") or shutil.which("pg_ctl")
    if on_path:
        return Path(on_path).resolve().parent
    raise pytest.UsageError(
        f"{BACKEND_ENV}=postgresql needs the PostgreSQL server: "
        "bash tools/system-packages.sh postgres"
    )


class PostgresCluster:
    """One private PostgreSQL cluster in a temporary folder, reached by its unix socket."""

    def __init__(self, folder: Path) -> None:
        self.bindir = _server_bindir()
        # initdb refuses to run as root, so root runs the server as the `postgres` user.
        self.as_root = os.geteuid() == 0
        self.folder = folder
        self.data = folder / "data"
        self.log = folder / "server.log"
        self._admin: psycopg.Connection[tuple[object, ...]] | None = None

    @classmethod
    def create(cls) -> PostgresCluster:
        """A new, empty folder for this test process's cluster."""
        folder = Path(tempfile.mkdtemp(prefix=FOLDER_PREFIX, dir=_cluster_parents()[0]))
        (folder / OWNER_FILE).write_text(str(os.getpid()))
        cluster = cls(folder)
        if cluster.as_root:
            # The server's user must own its folder (pytest's tmp folders are private to root).
            try:
                shutil.chown(folder, SUPERUSER, SUPERUSER)
            except LookupError:
                shutil.rmtree(folder)
                raise pytest.UsageError(
                    "running as root needs the `postgres` user that Debian's postgresql "
                    "package creates: bash tools/system-packages.sh postgres"
                ) from None
        return cluster

    def _run(self, tool: str, *args: str) -> None:
        command = [str(self.bindir / tool), *args]
        if self.as_root:
            command = ["runuser", "-u", SUPERUSER, "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            log = self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""
            raise RuntimeError(
                f"{tool} failed ({result.returncode}):\n{result.stdout}{result.stderr}{log}"
            )

    def start(self) -> None:
        """Create the cluster (unless its data folder holds one already) and start it."""
        if not (self.data / "PG_VERSION").exists():
            self._run(
                "initdb",
                *("-D", str(self.data), "-U", SUPERUSER, "-A", "trust"),
                *("-E", "UTF8", "--locale=C.UTF-8", "--no-sync"),
            )
            with (self.data / "postgresql.conf").open("a", encoding="utf-8") as conf:
                conf.write(f"unix_socket_directories = '{self.folder}'\n")
                conf.writelines(f"{name} = {value}\n" for name, value in SETTINGS.items())
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "start")
        self._admin = psycopg.connect(
            host=str(self.folder), user=SUPERUSER, dbname="postgres", autocommit=True
        )

    def stop(self, keep: bool = False) -> None:
        """Stop the server and delete the folder; or, with ``keep``, shut it down cleanly
        and keep its data for the next start (the benchmarks' cached clinic)."""
        try:
            if self._admin is not None:
                self._admin.close()
                self._admin = None
            if (self.data / "postmaster.pid").exists():
                mode = "fast" if keep else "immediate"
                self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")
        finally:
            if not keep:
                shutil.rmtree(self.folder, ignore_errors=True)

    def url(self, dbname: str) -> str:
        """The app's URL form for one database of this cluster."""
        return f"postgresql+psycopg://{SUPERUSER}@/{dbname}?host={self.folder}"

    def execute(self, sql: str) -> None:
        """Run one administrative statement (CREATE/DROP DATABASE) outside a transaction."""
        assert self._admin is not None, "the cluster is not running"
        self._admin.execute(sql.encode())

    def version(self) -> str:
        """The server's version, for the report header."""
        assert self._admin is not None
        row = self._admin.execute("SHOW server_version").fetchone()
        return str(row[0]) if row else "?"


def _remove_stale_clusters() -> None:
    """Stop and delete the clusters of test runs that died without cleaning up (a crash, kill)."""
    for folder in (f for place in _cluster_parents() for f in place.glob(f"{FOLDER_PREFIX}*")):
        try:
            owner = int((folder / OWNER_FILE).read_text())
            os.kill(owner, 0)
            continue  # its test run is still going
        except ProcessLookupError:
            pass
        except (OSError, ValueError):
            continue  # not ours to judge (being set up, or another user's)
        # stop() deletes the folder even when pg_ctl fails (it says why in its message).
        with contextlib.suppress(RuntimeError):
            PostgresCluster(folder).stop()


_names = itertools.count(1)


@pytest.fixture(scope="session")
def database_backend() -> str:
    """``sqlite`` or ``postgresql``: what the ``database`` fixture opens."""
    return backend()


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    """The session's private PostgreSQL server (started on first use, stopped at the end)."""
    _remove_stale_clusters()
    cluster = PostgresCluster.create()
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def postgres_template(postgres_cluster: PostgresCluster) -> str:
    """A database brought to head by the app's own start-up path, copied for every test."""
    from charting.models.migrate import open_database

    postgres_cluster.execute(f"CREATE DATABASE {TEMPLATE}")
    # Disposed at once: a database is copied only while nobody is connected to it.
    open_database(postgres_cluster.url(TEMPLATE)).database.dispose()
    postgres_cluster.execute(f"ALTER DATABASE {TEMPLATE} WITH IS_TEMPLATE true")
    return TEMPLATE


def _throwaway_database(cluster: PostgresCluster, template: str) -> Iterator[str]:
    name = f"test_{next(_names)}"
    cluster.execute(f"CREATE DATABASE {name} TEMPLATE {template}")
    try:
        yield cluster.url(name)
    finally:
        # FORCE ends connections a test left behind (an undisposed engine, a killed child).
        cluster.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def postgres_url(postgres_cluster: PostgresCluster, postgres_template: str) -> Iterator[str]:
    """URL of a fresh database at the newest schema, dropped after the test."""
    yield from _throwaway_database(postgres_cluster, postgres_template)


@pytest.fixture
def postgres_empty_url(postgres_cluster: PostgresCluster) -> Iterator[str]:
    """URL of a fresh, empty database (no schema at all), dropped after the test."""
    yield from _throwaway_database(postgres_cluster, "template0")


def pytest_report_header(config: pytest.Config) -> str:
    """Say which database the suite runs on."""
    if ON_POSTGRES:
        return f"database: postgresql (private cluster, {_server_bindir()})"
    return f"database: sqlite ({BACKEND_ENV}=postgresql runs the suite on PostgreSQL)"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On PostgreSQL, skip the tests about the SQLite file itself.

    They are marked ``sqlite_only``; a test that asks for ``db_path`` (the SQLite file) is
    marked so automatically.
    """
    for item in items:
        if "db_path" in getattr(item, "fixturenames", ()) and not item.get_closest_marker(
            "sqlite_only"
        ):
            item.add_marker(pytest.mark.sqlite_only)
        if ON_POSTGRES and item.get_closest_marker("sqlite_only"):
            item.add_marker(
                pytest.mark.skip(reason="about the SQLite file itself (database: postgresql)")
            )

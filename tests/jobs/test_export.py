"""Whole export runs: the folder they leave, progress, cancel and failure leave nothing behind."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import select, update

from charting.jobs.export import CSV_FILES, ExportCancelled, Progress, run_export
from charting.models import Patient, Visit
from charting.models.db import Database
from charting.services import csv_tables
from charting.services.demo import create_demo_clinic
from charting.services.errors import ServiceError, ValidationError
from charting.services.exports import read_csv_rows, select_patient_ids
from tests.factories import TEST_PASSWORD, TEST_USERNAME


@pytest.fixture
def out(tmp_path: Path) -> Path:
    """An empty folder to export into."""
    folder = tmp_path / "exports"
    folder.mkdir()
    return folder


@pytest.fixture
def clinic(database: Database) -> list[int]:
    """Ten fictional patients with visits."""
    with database.write() as session:
        create_demo_clinic(session, 10, 3)
    with database.read() as session:
        return select_patient_ids(session)


def test_export_writes_every_format_and_a_readme(
    database: Database, clinic: list[int], out: Path
) -> None:
    """PDF per patient, the CSV tables, FHIR bundles and a README land in one dated folder."""
    seen: list[Progress] = []
    result = run_export(database, clinic[:3], out, ["pdf", "csv", "fhir"], seen.append, workers=1)
    names = {p.relative_to(result.folder).as_posix() for p in result.files}
    assert {
        "000001.pdf",
        "000002.pdf",
        "000003.pdf",
        "README.txt",
        "csv/visits.csv",
        "csv/data_dictionary.csv",
        "fhir/000001.fhir.json",
    } <= names
    # One step per PDF, per CSV file (the tables and the data dictionary), per FHIR bundle.
    assert seen[-1].done == seen[-1].total == 3 + len(CSV_FILES) + 3
    assert "CSV tables (patients.csv)" in {p.stage for p in seen}
    text = PdfReader(result.folder / "000001.pdf").pages[0].extract_text()
    assert "Course report" in text
    readme = (result.folder / "README.txt").read_text()
    assert "PDF documents" in readme and "FHIR" in readme
    assert [p.name for p in out.iterdir()] == [result.folder.name]


def test_parallel_pdfs_match_the_patients(database: Database, clinic: list[int], out: Path) -> None:
    """With two worker processes every patient still gets exactly one PDF."""
    result = run_export(database, clinic, out, ["pdf"], workers=2)
    assert sorted(p.name for p in result.files if p.suffix == ".pdf") == [
        f"{n:06d}.pdf" for n in range(1, 11)
    ]


def test_signatures_checked_by_a_worker_give_the_same_files(
    database: Database, clinic: list[int], out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A CSV export on two cores has a worker make the visits file's chunks (each signature
    checked) while it writes the other files; every file is the same as when one process
    does it all, a visit altered after signing included, and no worker file is left."""
    with database.read() as session:
        signed = session.scalars(
            select(Visit.id).where(Visit.status == "signed").order_by(Visit.id)
        ).all()
    assert len(signed) > 3
    with database.engine.begin() as conn:
        conn.exec_driver_sql(f"UPDATE visit SET pain_now = 9 WHERE id = {signed[1]}")
    made_ahead: list[object] = []
    real = csv_tables.stream_blocks

    def spy(session, item, ids, bodymap=None, premade=None, *rest):  # type: ignore[no-untyped-def]
        def recording(index: int) -> object:
            made_ahead.append(result := premade(index))
            return result

        mine = recording if premade is not None and item.checks else premade
        return real(session, item, ids, bodymap, mine, *rest)

    monkeypatch.setattr(csv_tables, "stream_blocks", spy)
    monkeypatch.setattr(csv_tables, "CHECK_CHUNK", 2)  # five chunks of visits, not one
    one = run_export(database, clinic, out, ["csv"], workers=1).folder / "csv"
    two = run_export(database, clinic, out, ["csv"], workers=2).folder / "csv"
    # The worker made the last chunks at least (they were queued for it at once).
    assert len(made_ahead) == 5
    assert isinstance(made_ahead[-1], csv_tables.MadeChunk)
    for name in CSV_FILES:
        assert (one / name).read_bytes() == (two / name).read_bytes(), name
    assert sorted(p.name for p in two.iterdir()) == sorted(p.name for p in one.iterdir())
    words = {int(r["visit_id"]): r["signature"] for r in read_csv_rows(two / "visits.csv")}
    assert words[signed[1]].startswith("ALTERED AFTER SIGNING")
    assert [words[v] for v in signed if v != signed[1]] == ["valid"] * (len(signed) - 1)


def test_visit_chunks_a_worker_could_not_make_are_made_here(
    database: Database,
    clinic: list[int],
    out: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """When the worker cannot write its chunks of visits.csv, the export makes them itself:
    the files are the same as a one-process export's, and the failure is logged."""
    from charting.jobs import export

    monkeypatch.setattr(csv_tables, "CHECK_CHUNK", 2)
    one = run_export(database, clinic, out, ["csv"], workers=1).folder / "csv"
    monkeypatch.setattr(export, "_part", lambda folder, file, i: out / "gone" / f"{file}.{i}")
    two = run_export(database, clinic, out, ["csv"], workers=2).folder / "csv"
    for name in CSV_FILES:
        assert (one / name).read_bytes() == (two / name).read_bytes(), name
    assert "made here" in caplog.text
    assert not (out / "gone").exists()


def test_csv_progress_moves_within_the_big_files(
    database: Database, clinic: list[int], out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A CSV export reports each chunk of patients inside each file, so a large clinic's
    export never sits on one step while its big files are written, and it ends on the last
    step."""
    monkeypatch.setattr(csv_tables, "CHUNK", 3)
    monkeypatch.setattr(csv_tables, "CHECK_CHUNK", 3)
    seen: list[Progress] = []
    run_export(database, clinic, out, ["csv"], seen.append, workers=1)
    stages = [p.stage for p in seen]
    # Ten patients in chunks of three.
    assert stages.count("CSV tables (marks.csv)") == stages.count("CSV tables (visits.csv)") == 4
    assert stages.count("CSV tables (practitioners.csv)") == 1  # the clinic's, not per patient
    assert [p.done for p in seen] == list(range(1, len(seen) + 1))
    assert seen[-1].done == seen[-1].total and seen[-1].remaining_s == 0


def test_parallel_fhir_bundles_match_those_built_in_one_process(
    database: Database, clinic: list[int], tmp_path: Path
) -> None:
    """Workers that read, build, validate and write the bundles write the same bytes as one
    process does, one bundle per patient."""
    one = run_export(database, clinic, tmp_path / "one", ["fhir"], workers=1)
    two = run_export(database, clinic, tmp_path / "two", ["fhir"], workers=2)
    names = [f"{n:06d}.fhir.json" for n in range(1, 11)]
    assert sorted(p.name for p in (one.folder / "fhir").iterdir()) == names
    for name in names:
        assert (two.folder / "fhir" / name).read_bytes() == (
            one.folder / "fhir" / name
        ).read_bytes()


def test_parallel_fhir_export_refuses_an_invalid_bundle(
    database: Database, clinic: list[int], out: Path
) -> None:
    """A visit holding the deleted M54.5 (legacy data) stops a two-worker FHIR export with the
    chart and the problem named, and leaves nothing behind."""
    visits = Visit.__table__
    with database.engine.begin() as connection:  # as an old version might have stored it
        connection.execute(
            update(visits).where(visits.c.patient_id == clinic[6]).values(icd10_codes=["M54.5"])
        )
    with database.read() as session:
        chart = session.scalars(select(Patient.chart_number).where(Patient.id == clinic[6])).one()
    with pytest.raises(ServiceError) as info:
        run_export(database, clinic, out, ["fhir"], workers=2)
    assert f"chart {chart} is not valid" in str(info.value)
    assert "M54.5 is a deleted code" in str(info.value)
    assert list(out.iterdir()) == []


def test_the_export_is_on_disk_before_it_is_renamed_into_place(
    database: Database, clinic: list[int], out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bundles and PDFs are written without a sync each, so the whole staging folder is
    synced once, with every file of the export in it, before it takes its final name."""
    import charting.jobs.export as job

    synced: list[set[str]] = []
    real = job.sync_to_disk

    def spy(folder: Path) -> None:
        assert folder.name.endswith(".partial")
        synced.append({p.relative_to(folder).as_posix() for p in folder.rglob("*.*")})
        real(folder)

    monkeypatch.setattr(job, "sync_to_disk", spy)
    result = run_export(database, clinic, out, ["pdf", "fhir"], workers=2)
    assert len(synced) == 1
    assert synced[0] == {p.relative_to(result.folder).as_posix() for p in result.files}


def test_cancel_leaves_nothing_behind(database: Database, clinic: list[int], out: Path) -> None:
    """Cancelling part-way raises and removes the staging folder: the folder stays empty."""
    calls = []

    def cancel_after_two() -> bool:
        calls.append(1)
        return len(calls) >= 2

    with pytest.raises(ExportCancelled):
        run_export(database, clinic, out, ["pdf", "csv"], cancelled=cancel_after_two, workers=1)
    assert list(out.iterdir()) == []


def test_failure_leaves_nothing_behind(
    database: Database, clinic: list[int], out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A crash in the middle (here: the CSV writer) leaves no partial export."""
    import charting.jobs.export as job

    def boom(*_a: object, **_k: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(job.exports, "write_csv", boom)
    with pytest.raises(OSError, match="disk full"):
        run_export(database, clinic[:2], out, ["pdf", "csv"], workers=1)
    assert list(out.iterdir()) == []


def test_bad_selection_and_folder_are_refused(
    database: Database, clinic: list[int], out: Path
) -> None:
    """No patients, an unknown format or an unwritable folder give a clear refusal."""
    with pytest.raises(ValidationError, match="No patients"):
        run_export(database, [], out, ["pdf"])
    with pytest.raises(ValidationError, match="Unknown format"):
        run_export(database, clinic, out, ["xls"])
    blocker = out / "file"
    blocker.write_text("x")
    with pytest.raises(ValidationError, match="Cannot"):
        run_export(database, clinic, blocker / "sub", ["csv"])


def _charting(*args: str, signed_in: bool = True) -> subprocess.CompletedProcess[str]:
    """Run the ``charting`` command line in a child process, as the test admin by default."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHARTING_USER")}
    env.pop("CHARTING_PASSWORD", None)
    if signed_in:
        env |= {"CHARTING_USER": TEST_USERNAME, "CHARTING_PASSWORD": TEST_PASSWORD}
    return subprocess.run(
        [sys.executable, "-m", "charting", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        stdin=subprocess.DEVNULL,
    )


def test_command_line_export_needs_an_admin_sign_in(
    database: Database, clinic: list[int], database_url: str, tmp_path: Path
) -> None:
    """Without a sign-in, or with a wrong password, the export refuses in one line."""
    out = tmp_path / "out"
    args = ("export", "--out", str(out), "--db", database_url)
    anonymous = _charting(*args, signed_in=False)
    assert anonymous.returncode == 2
    assert "sign in with --user NAME" in anonymous.stderr
    wrong = subprocess.run(
        [sys.executable, "-m", "charting", "--user", TEST_USERNAME, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "CHARTING_PASSWORD": "not the password"},
        stdin=subprocess.DEVNULL,
    )
    assert wrong.returncode == 1
    assert "username or password is wrong" in wrong.stderr
    assert "Traceback" not in anonymous.stderr + wrong.stderr
    assert not out.exists() or not any(out.iterdir())


def test_command_line_export(
    database: Database, clinic: list[int], database_url: str, tmp_path: Path
) -> None:
    """`charting export --patient 2 --format csv,fhir` exports that patient and says where."""
    out = tmp_path / "out"
    result = _charting(
        "export", "--out", str(out), "--patient", "2", "--format", "csv,fhir", "--db", database_url
    )
    assert result.returncode == 0, result.stderr
    assert "Exported 1 patient (csv, fhir)" in result.stdout
    (folder,) = out.iterdir()
    assert (folder / "fhir" / "000002.fhir.json").exists()
    assert not (folder / "000002.pdf").exists()


@pytest.mark.parametrize(
    ("args", "code", "fragment"),
    [
        (["--patient", "424242"], 2, "No patient has chart number 424242"),
        (["--since", "yesterday"], 2, "is not a date"),
        (["--format", "docx"], 2, "unknown format"),
    ],
)
def test_command_line_export_errors(
    database: Database,
    clinic: list[int],
    database_url: str,
    tmp_path: Path,
    args: list[str],
    code: int,
    fragment: str,
) -> None:
    """Bad export arguments exit non-zero with one readable line."""
    result = _charting("export", "--out", str(tmp_path / "o"), "--db", database_url, *args)
    assert result.returncode == code
    assert fragment in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_command_line_export_unwritable_folder(
    database: Database, database_url: str, tmp_path: Path
) -> None:
    """An export folder that cannot be created is refused with exit code 1."""
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with database.write() as session:
        create_demo_clinic(session, 1, 1)
    result = _charting("export", "--out", str(blocker / "sub"), "--db", database_url)
    assert result.returncode == 1
    assert "Cannot create" in result.stderr


# -- trust at rest: modes, leftovers, orphaned workers -------------------------------------------
def test_every_exported_file_is_owner_only(
    database: Database, clinic: list[int], out: Path
) -> None:
    """PDFs, CSV and FHIR files are 0600 and every folder 0700, whatever the umask."""
    old = os.umask(0o022)
    try:
        result = run_export(database, clinic, out, ["pdf", "csv", "fhir"], workers=2)
    finally:
        os.umask(old)
    paths = [result.folder, *result.folder.rglob("*")]
    assert any(p.suffix == ".pdf" for p in paths) and any(p.is_dir() for p in paths[1:])
    loose = {str(p.relative_to(out)): oct(p.stat().st_mode & 0o777) for p in paths
             if p.stat().st_mode & 0o077}  # fmt: skip
    assert loose == {}


_KILLED_EXPORT = """
import sys
from pathlib import Path
from charting.config import sqlite_url
from charting.jobs.export import run_export
from charting.models.migrate import open_database
from charting.services.access import Actor
from charting.models import Visit
from charting.services import csv_tables
from charting.services.exports import read_csv_rows, select_patient_ids

if __name__ == "__main__":
    database = open_database(sqlite_url(Path(sys.argv[1])), Path(sys.argv[2])).database
    database.actor = Actor.system("test export")
    with database.read() as session:
        ids = select_patient_ids(session)
    print("started", flush=True)
    run_export(database, ids * 20, Path(sys.argv[3]), ["pdf"], workers=2)
"""


def _descendants(pid: int) -> set[int]:
    """Every process started by ``pid``, its children's children included (workers may be
    forked by a server the export started)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


@pytest.mark.sqlite_only
@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads the process table from /proc")
def test_a_killed_export_leaves_no_workers_and_its_leftovers_go_at_the_next_start(
    database: Database, clinic: list[int], out: Path, db_path: Path, tmp_path: Path
) -> None:
    """Killing an export mid-way ends its worker processes too (none keeps running), and the
    hidden folder of patient data it left is removed, and logged, when Charting next starts."""
    import signal
    import time

    from charting.jobs.export import cleanup_interrupted_exports
    from charting.services import audit

    script = tmp_path / "export_run.py"
    script.write_text(_KILLED_EXPORT)
    proc = subprocess.Popen(
        [sys.executable, str(script), str(db_path), str(tmp_path / "b"), str(out)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.getcwd()},
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "started"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any(out.glob(".*.partial/*.pdf")):
            time.sleep(0.1)
        workers = _descendants(proc.pid)
        assert len(workers) >= 2, "the export's workers did not start"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(Path(f"/proc/{w}").exists() for w in workers):
            time.sleep(0.1)
        alive = [w for w in workers if Path(f"/proc/{w}/stat").exists()]
        zombies = [w for w in alive if ") Z" in Path(f"/proc/{w}/stat").read_text()]
        assert set(alive) == set(zombies), f"workers still running: {alive}"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        if proc.stdout is not None:
            proc.stdout.close()
    left = list(out.glob(".*.partial"))
    assert left, "the killed export should have left its staging folder"
    removed = cleanup_interrupted_exports(database)
    assert removed == left and not any(out.iterdir())
    with database.read() as session:
        (entry,) = audit.search(session, action="export.cleanup")
    assert str(left[0]) in entry.detail


def test_manifest_lists_every_file_with_its_hash(
    database: Database, clinic: list[int], out: Path
) -> None:
    """manifest.json names every exported file with its size and SHA-256, and has the place
    for the audit log's anchor."""
    import hashlib
    import json

    result = run_export(database, clinic[:2], out, ["csv", "fhir"])
    manifest = json.loads((result.folder / "manifest.json").read_text())
    listed = {f["path"]: f for f in manifest["files"]}
    on_disk = {p.relative_to(result.folder).as_posix() for p in result.files}
    assert set(listed) == on_disk - {"manifest.json"}
    patients = listed["csv/patients.csv"]
    data = (result.folder / "csv" / "patients.csv").read_bytes()
    assert patients["sha256"] == hashlib.sha256(data).hexdigest()
    assert patients["bytes"] == len(data)
    assert manifest["patients"] == 2
    # The audit log's head at export, the same as the anchor file `audit verify` reads.
    anchor = json.loads((result.folder / "audit-anchor.json").read_text())
    assert manifest["audit_anchor"] == anchor and anchor["seq"] >= 1


def test_a_csv_export_puts_the_apps_collector_settings_back(
    database: Database, clinic: list[int], out: Path
) -> None:
    """The CSV export collects garbage less often while it runs (it allocates rows by the
    hundred thousand) and leaves the app's own settings as they were, after a failure too."""
    import gc

    before = gc.get_threshold()
    run_export(database, clinic, out, ["csv"], workers=1)
    assert gc.get_threshold() == before
    with pytest.raises(ExportCancelled):
        run_export(database, clinic, out, ["csv"], cancelled=lambda: True, workers=1)
    assert gc.get_threshold() == before


def test_an_export_spawns_its_workers_when_the_fork_server_cannot_start(
    database: Database,
    clinic: list[int],
    out: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Where the workers' fork server cannot be started (no room for its socket, say), the
    export dialog still opens and the export still runs on both cores, with spawned workers;
    the reason is logged."""
    import multiprocessing.forkserver

    from charting.jobs import export

    def no_server() -> None:
        raise OSError("no room for the server's socket")

    monkeypatch.setattr(multiprocessing.forkserver, "ensure_running", no_server)
    monkeypatch.setattr(export, "_server_failed", False)
    export.prepare_workers()  # what the export dialog does as it opens
    result = run_export(database, clinic, out, ["pdf"], workers=2)
    assert len([f for f in result.files if f.suffix == ".pdf"]) == len(clinic)
    if sys.platform.startswith("linux"):
        assert "spawning them instead" in caplog.text
        assert export.worker_context().get_start_method() == "spawn"

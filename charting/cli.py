"""Command line: with no subcommand it opens the app; subcommands serve clinic admins."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from charting import __version__
from charting.config import ConfigError, backup_dir, resolve_database_url

if TYPE_CHECKING:
    from charting.services.importer import CheckedRow

PROG = "charting"


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one clear line and exit code 2, no usage dump."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def _positive_int(text: str) -> int:
    try:
        value = int(text.replace("_", "").replace(",", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    if value > 1_000_000:
        raise argparse.ArgumentTypeError("at most 1,000,000")
    return value


def _non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None
    if not 0 <= value <= 200:
        raise argparse.ArgumentTypeError("must be between 0 and 200")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The ``charting`` argument parser."""
    parser = _Parser(
        prog=PROG,
        description="Charting: acupuncture charting for back and leg pain. "
        "With no command, opens the app.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--self-check",
        action="store_true",
        help="check this installation (temporary database, body map, PDFs, window) and exit",
    )
    parser.add_argument(
        "--db",
        metavar="URL",
        help="database to use: sqlite:///FILE, a path to an SQLite file, or "
        "postgresql+psycopg://USER@HOST/DB (default: CHARTING_DATABASE_URL, "
        "else charting.sqlite3 in your data folder)",
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        help="open the app on the fictional demo clinic (its own file, demo.sqlite3 in your "
        "data folder, made on first use); your clinic's records are not touched",
    )
    parser.add_argument(
        "--user",
        metavar="NAME",
        help="account to sign in as for admin commands (default: CHARTING_USER); the "
        "password is asked for, or read from CHARTING_PASSWORD",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    demo = commands.add_parser(
        "demo",
        help="fill a database with a fictional demo clinic",
        description=(
            "Add realistic, clearly fictional patients and visits (for trying the app "
            "and for benchmarks)."
        ),
    )
    demo.add_argument("--patients", type=_positive_int, default=200, metavar="N")
    demo.add_argument(
        "--visits-per-patient",
        type=_non_negative_float,
        default=6.0,
        metavar="AVG",
        help="average visits per patient (default 6)",
    )
    demo.add_argument(
        "--marks-per-visit",
        type=_non_negative_float,
        default=8.0,
        metavar="AVG",
        help="average body-map marks per visit (default 8)",
    )
    demo.add_argument("--seed", type=int, default=2026, help=argparse.SUPPRESS)
    _after_command(demo)
    export = commands.add_parser(
        "export",
        help="export patient records (PDF, CSV, FHIR) for other systems or archives",
        description="Export patient records into a new dated folder inside --out. "
        "Runs in the foreground with a progress bar; suitable for scheduled jobs.",
    )
    export.add_argument("--out", required=True, metavar="DIR", help="folder to export into")
    export.add_argument(
        "--patient",
        action="append",
        default=[],
        metavar="CHART_NO",
        help="a patient's chart number (repeat for several; default: every patient)",
    )
    export.add_argument(
        "--since",
        type=_iso_date,
        metavar="DATE",
        help="only patients with a visit on or after DATE (YYYY-MM-DD)",
    )
    export.add_argument(
        "--until",
        type=_iso_date,
        metavar="DATE",
        help="only patients with a visit on or before DATE (YYYY-MM-DD)",
    )
    export.add_argument(
        "--format",
        type=_formats,
        default="pdf,csv,fhir",
        metavar="LIST",
        help="comma-separated: pdf, csv, fhir (default: all three)",
    )
    _after_command(export)
    recall = commands.add_parser(
        "recall",
        help="list every visit and patient treated with a recalled needle lot (CSV)",
        description="Find every visit treated with a needle lot (or brand and size) for a "
        "manufacturer's recall and write them, with the patients' contact details, to a CSV "
        "file readable by its owner only. The search is written to the audit log.",
    )
    recall.add_argument("--lot", default="", metavar="LOT", help="the recalled lot number")
    recall.add_argument("--brand", default="", metavar="BRAND", help="needle brand")
    recall.add_argument("--size", default="", metavar="SIZE", help="gauge x length, e.g. 0.25x40")
    recall.add_argument("--since", type=_iso_date, metavar="DATE", help="visits on or after DATE")
    recall.add_argument("--until", type=_iso_date, metavar="DATE", help="visits on or before DATE")
    recall.add_argument("--out", required=True, metavar="FILE.csv", help="the CSV file to write")
    _after_command(recall)
    backup = commands.add_parser(
        "backup",
        help="back up the database now (SQLite's online backup API, checked afterwards)",
        description="Copy the database safely, even while Charting is open, and check the "
        "copy with an integrity check. Without --out the copy goes to the backups folder.",
    )
    backup.add_argument("--out", metavar="FILE", type=Path, help="where to write the copy")
    _after_command(backup)
    restore = commands.add_parser(
        "restore",
        help="replace the database with a backup (the current one is backed up first)",
        description="Check FILE, back up the current database, then copy FILE in as one "
        "transaction: the database is never left half-restored. A database that cannot be "
        "opened any more is moved into the backups folder, not deleted.",
    )
    restore.add_argument("file", metavar="FILE", type=Path, help="the backup to restore")
    _after_command(restore)
    audit = commands.add_parser("audit", help="check the audit log")
    audit_commands = audit.add_subparsers(
        dest="audit_command", metavar="ACTION", parser_class=_Parser, required=True
    )
    verify = audit_commands.add_parser(
        "verify",
        help="recompute the audit log's hash chain; exit 1 at the first broken entry",
    )
    _after_command(verify)
    verify.add_argument(
        "--anchor",
        action="append",
        default=[],
        metavar="FILE",
        help="an anchor kept outside the database (audit-anchor.json of an export, or "
        "BACKUP.anchor.json beside a backup): the log must still reach it unchanged",
    )
    imports = commands.add_parser("import", help="bring patients in from another system")
    import_commands = imports.add_subparsers(
        dest="import_command", metavar="WHAT", parser_class=_Parser, required=True
    )
    patients = import_commands.add_parser(
        "patients",
        help="import a patient list (CSV or FHIR JSON) or a Charting CSV export",
        description="Import patients from FILE: a CSV (UTF-8, Windows cp1252 or UTF-16; comma, "
        "semicolon or tab), a FHIR Patient bundle (JSON), or a Charting export (its folder "
        "or any file of it: the whole record). Rows with problems are skipped and listed; "
        "likely duplicates (same name and date of birth) are skipped unless "
        "--import-duplicates, and an export whose patients are already here is refused "
        "unless it. All or nothing: a failure stores no row.",
    )
    patients.add_argument("file", metavar="FILE", type=Path, help="the file (or export folder)")
    patients.add_argument(
        "--map",
        metavar="PAIRS",
        help='column mapping, e.g. "Surname=family_name,DOB=date_of_birth" (default: the '
        "mapping remembered from the last import, else suggested from the header names); "
        "fields: " + ", ".join(_import_fields()),
    )
    patients.add_argument(
        "--dry-run", action="store_true", help="check and list the problems; store nothing"
    )
    patients.add_argument(
        "--import-duplicates",
        action="store_true",
        help="also import rows that look like patients already registered",
    )
    _after_command(patients)
    return parser


def _after_command(command: argparse.ArgumentParser) -> None:
    """``--db`` and ``--user`` are also taken after the command's name, where people type
    them (``charting import patients FILE --user ana``)."""
    command.add_argument("--db", metavar="URL", dest="sub_db", help="as the top-level --db")
    command.add_argument("--user", metavar="NAME", dest="sub_user", help="as the top-level --user")


def _import_fields() -> list[str]:
    # The field names, without importing the services for `--help`.
    return [
        "family_name", "given_name", "preferred_name", "full_name", "date_of_birth", "sex",
        "phone", "email", "address", "emergency_contact", "emergency_phone",
        "medical_history", "medications", "ignore",
    ]  # fmt: skip


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date (YYYY-MM-DD)") from None


def _formats(text: str) -> list[str]:
    wanted = [f.strip().lower() for f in text.split(",") if f.strip()]
    unknown = [f for f in wanted if f not in ("pdf", "csv", "fhir")]
    if unknown or not wanted:
        raise argparse.ArgumentTypeError(
            f"unknown format '{', '.join(unknown) or text}'; choose from pdf, csv, fhir"
        )
    return wanted


def _fail(message: str, code: int = 1) -> int:
    # A message may quote typed text that is not valid Unicode (a lone surrogate from the
    # command line): shown escaped rather than failing to print.
    text = f"{PROG}: error: {message}".encode("utf-8", "backslashreplace").decode("utf-8")
    print(text, file=sys.stderr)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the process exit code."""
    args = build_parser().parse_args(argv)
    if args.self_check:
        from charting.selfcheck import run_self_check

        return run_self_check()
    if args.demo:
        if args.command is not None or args.db:
            return _fail(
                "--demo opens the app on the demo clinic's own file; to fill another file "
                "with demo patients use: charting demo --db FILE",
                2,
            )
        from charting.ui.app import run_demo_app

        return run_demo_app()
    try:
        choice = resolve_database_url(getattr(args, "sub_db", None) or args.db)
    except ConfigError as exc:
        return _fail(str(exc), 2)

    if args.command is None:
        # The app loads the database layer behind its first window (and checks the URL).
        from charting.ui.app import run_app

        return run_app(choice)
    # Deferred imports keep `charting --help` instant.
    from charting.models.db import BadDatabaseUrlError, DatabaseError, parse_url
    from charting.models.migrate import open_database
    from charting.services.errors import ServiceError

    try:
        parse_url(choice.url)
    except BadDatabaseUrlError as exc:
        return _fail(str(exc), 2)
    if args.command == "restore":
        return _run_restore(choice.url, args)
    try:
        opened = open_database(choice.url, backup_dir())
    except DatabaseError as exc:
        return _fail(str(exc))
    try:
        opened.database.actor = _sign_in(opened.database, args)
        if args.command == "demo":
            return _run_demo(opened.database, args)
        if args.command == "export":
            from charting.jobs.export import cleanup_interrupted_exports

            for left in cleanup_interrupted_exports(opened.database):
                print(f"Removed {left}, left by an export that did not finish.", file=sys.stderr)
            return _run_export(opened.database, args)
        if args.command == "backup":
            return _run_backup(opened.database, args)
        if args.command == "recall":
            return _run_recall(opened.database, args)
        if args.command == "audit":
            return _run_audit_verify(opened.database, args.anchor)
        if args.command == "import":
            return _run_import(opened.database, args)
    except _RefusedError as exc:
        return _fail(str(exc), exc.code)
    except (ServiceError, DatabaseError) as exc:
        # Every command's refusals and database problems end in one line, never a traceback.
        return _fail(str(exc))
    finally:
        opened.database.dispose()
    return _fail(f"unknown command {args.command}", 2)  # pragma: no cover - argparse guards


class _RefusedError(Exception):
    """A command that cannot go on; the message is printed as one line."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def _sign_in(database: object, args: argparse.Namespace) -> object:
    """Sign in for an admin command; a database with no accounts yet runs as Charting itself."""
    import getpass
    import os

    from charting.models.db import Database
    from charting.services.access import Actor
    from charting.services.accounts import SignInError, has_accounts, sign_in

    assert isinstance(database, Database)
    with database.read() as session:
        if not has_accounts(session):
            return Actor.system(f"command line {args.command}")
    user = getattr(args, "sub_user", None) or args.user or os.environ.get("CHARTING_USER")
    if not user:
        raise _RefusedError(
            "this database has accounts: sign in with --user NAME (the password is asked "
            "for, or read from CHARTING_PASSWORD)",
            2,
        )
    if not _is_text(user):
        raise _RefusedError("the user name holds bytes that are not text (UTF-8)", 2)
    password = os.environ.get("CHARTING_PASSWORD")
    if password is None:
        if not sys.stdin.isatty():
            raise _RefusedError("no password: run in a terminal or set CHARTING_PASSWORD", 2)
        password = getpass.getpass(f"Password for {user}: ")
    if not _is_text(password):
        raise _RefusedError("the password holds bytes that are not text (UTF-8)", 2)
    try:
        return sign_in(database, user, password)
    except SignInError as exc:
        raise _RefusedError(str(exc)) from None


def _split_size(size: str) -> tuple[str, str]:
    """ "0.25x40" or "0.25 x 40 mm" -> ("0.25", "40 mm"-ish parts as typed)."""
    for sep in ("\u00d7", "x", "X", "*"):
        if sep in size:
            gauge, length = size.split(sep, 1)
            return gauge.strip(), length.strip()
    return size.strip(), ""


def _run_recall(database: object, args: argparse.Namespace) -> int:
    from pathlib import Path

    from charting.models.db import Database
    from charting.services.errors import ServiceError
    from charting.services.recall import RecallQuery, find, write_csv

    assert isinstance(database, Database)
    out = Path(args.out)
    if not out.parent.is_dir():
        return _fail(f"the folder {out.parent} does not exist")
    if out.exists():
        return _fail(f"{out} exists already; choose a new file name")
    gauge, length = _split_size(args.size)
    query = RecallQuery(args.lot, args.brand, gauge, length, args.since, args.until)
    try:
        with database.write() as session:
            rows = find(session, query)
            write_csv(session, rows, out, query)
    except ServiceError as exc:
        return _fail(str(exc))
    except OSError as exc:
        return _fail(f"cannot write {out}: {exc.strerror}")
    patients = len({r.patient_id for r in rows})
    print(f"{len(rows)} visits of {patients} patients ({query.describe()}) written to {out}")
    return 0


def _is_text(value: str) -> bool:
    """Whether ``value`` is real text (an argument of non-UTF-8 bytes arrives with lone
    surrogates, which no database or password hash can take)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in value


def _run_backup(database: object, args: argparse.Namespace) -> int:
    from charting.models.db import Database
    from charting.services.backup import back_up
    from charting.services.errors import ServiceError

    assert isinstance(database, Database)
    out = args.out.expanduser().resolve() if args.out else None
    try:
        copy = back_up(database, backup_dir(), out=out)
    except ServiceError as exc:
        return _fail(str(exc))
    print(f"Backed up to {copy} (integrity check passed).")
    return 0


def _run_restore(url: str, args: argparse.Namespace) -> int:
    from charting.models.db import DatabaseError
    from charting.models.migrate import DatabaseFileError, open_database
    from charting.services.backup import restore, restore_over_unreadable
    from charting.services.errors import ServiceError

    source = args.file.expanduser()
    folder = backup_dir()
    unreadable = ""
    try:
        try:
            opened = open_database(url, folder)
        except DatabaseFileError as exc:
            try:
                present = Path(exc.path).is_file()
            except OSError:  # e.g. a name longer than the file system allows
                present = False
            if not present:
                raise
            unreadable = f" (it could not be opened: {exc.problem}; it is kept untouched)"
            result = restore_over_unreadable(
                Path(exc.path),
                source,
                folder,
                lambda db: _sign_in(db, args),  # type: ignore[arg-type,return-value]
                lambda u: open_database(u, folder).database,
            )
        else:
            try:
                opened.database.actor = _sign_in(opened.database, args)
                result = restore(opened.database, source, folder)
            finally:
                opened.database.dispose()
    except _RefusedError as exc:
        return _fail(str(exc), exc.code)
    except (ServiceError, DatabaseError) as exc:
        return _fail(str(exc))
    upgraded = f"; upgraded from schema {result.upgraded_from}" if result.upgraded_from else ""
    print(
        f"Restored {result.restored_from}{upgraded}. The database as it was is saved as "
        f"{result.saved_current_as}{unreadable}."
    )
    return 0


def _run_audit_verify(database: object, anchor_files: Sequence[str] = ()) -> int:
    from charting.models.db import Database
    from charting.services.audit import verify_chain
    from charting.services.audit_keys import read_anchor
    from charting.services.errors import ServiceError
    from charting.services.signatures import check_all

    assert isinstance(database, Database)
    anchors = []
    for name in anchor_files:
        anchor = read_anchor(Path(name))
        if anchor is None:
            return _fail(f"{name} is not an audit anchor file Charting can read", 2)
        anchors.append(anchor)
    try:
        with database.read() as session:
            report = verify_chain(session, anchors)
            altered = list(check_all(session))
    except ServiceError as exc:
        return _fail(str(exc))
    failed = False
    if report.ok:
        print(
            f"Audit log intact: {report.checked:,} entries, each chained to the one before "
            f"and reaching every anchor ({len(anchors)} given, and this computer's "
            f"checkpoint). Newest hash: {report.head_hash}"
        )
    else:
        failed = True
        _fail(
            f"audit log broken at entry {report.first_bad_seq}: {report.problem} "
            f"({report.checked:,} entries before it are intact)"
        )
    for visit in altered:
        failed = True
        _fail(
            f"signed visit {visit.number} of chart {visit.chart_number} "
            f"(visit id {visit.visit_id}): {visit.problem}"
        )
    if not altered:
        print("Signed visits: every one matches its signature.")
    return 1 if failed else 0


def _run_demo(database: object, args: argparse.Namespace) -> int:
    from charting.models.db import Database
    from charting.services.demo import create_demo_clinic

    assert isinstance(database, Database)
    started = time.perf_counter()
    tty = sys.stderr.isatty()

    def progress(done: int, total: int) -> None:
        if tty:
            print(f"\r  {done:,} / {total:,} patients", end="", file=sys.stderr, flush=True)

    from charting.services.errors import ServiceError

    try:
        with database.write() as session:
            patients, visits, _ = create_demo_clinic(
                session,
                args.patients,
                args.visits_per_patient,
                args.seed,
                progress,
                marks_per_visit=args.marks_per_visit,
            )
    except ServiceError as exc:  # e.g. an account that cannot register or chart patients
        if tty:
            print(file=sys.stderr)
        return _fail(str(exc))
    if tty:
        print(file=sys.stderr)
    where = database.url.render_as_string(hide_password=True)
    print(
        f"Added {patients:,} fictional patients and {visits:,} visits to {where} "
        f"in {time.perf_counter() - started:.1f} s."
    )
    return 0


def _run_export(database: object, args: argparse.Namespace) -> int:
    from charting.jobs.export import Progress, run_export
    from charting.models.db import Database
    from charting.services.errors import ServiceError, ValidationError
    from charting.services.exports import select_patient_ids

    assert isinstance(database, Database)
    tty = sys.stderr.isatty()

    def progress(p: Progress) -> None:
        if not tty:
            return
        width = 30
        filled = int(width * p.done / max(1, p.total))
        left = f", {p.remaining_s:.0f} s left" if p.remaining_s else ""
        bar = "#" * filled + "." * (width - filled)
        print(
            f"\r  [{bar}] {p.done}/{p.total} {p.stage}{left}   ",
            end="",
            file=sys.stderr,
            flush=True,
        )

    try:
        with database.read() as session:
            ids = select_patient_ids(
                session, chart_numbers=args.patient, since=args.since, until=args.until
            )
        result = run_export(database, ids, Path(args.out), args.format, progress)
    except ValidationError as exc:
        return _fail("; ".join(exc.errors.values()), 2 if "out" not in exc.errors else 1)
    except ServiceError as exc:
        return _fail(str(exc))
    except KeyboardInterrupt:
        return _fail("export interrupted; nothing was written", 130)
    finally:
        if tty:
            print(file=sys.stderr)
    print(
        f"Exported {result.patients:,} patient{'s' if result.patients != 1 else ''} "
        f"({', '.join(args.format)}) to {result.folder} in {result.seconds:.1f} s."
    )
    return 0


class _DryRunError(Exception):
    """Raised inside a write transaction to roll a dry run back."""


def _run_import(database: object, args: argparse.Namespace) -> int:
    from charting.models.db import Database
    from charting.services import importer
    from charting.services.errors import ServiceError, ValidationError

    assert isinstance(database, Database)
    path = args.file.expanduser()
    try:
        folder = importer.is_charting_export(path)
        if folder is not None:
            if args.map:
                return _fail("--map is for patient lists: an export's columns are its own", 2)
            try:
                with database.write() as session:
                    record = importer.import_export(
                        session, folder, import_duplicates=args.import_duplicates
                    )
                    if args.dry_run:
                        raise _DryRunError(record.text)  # rolls the transaction back
            except _DryRunError as dry:
                print(f"Dry run: would import {dry}. Nothing was stored.")
                return 0
            print(f"Imported the Charting export in {folder}: {record.text}.")
            return 0
        source = importer.open_source(path)
        with database.read() as session:
            remembered = importer.remembered_mapping(session)
        mapping = (
            importer.parse_mapping(args.map, source.headers)
            if args.map
            else importer.suggest_mapping(source.headers, remembered)
        )
        problems = importer.check_mapping(mapping)
        if problems:
            used = ", ".join(f"{h}={f or 'ignore'}" for h, f in mapping.items())
            return _fail(f"{' '.join(problems)} (mapping: {used}; set it with --map)", 2)
        print(f"Reading {path.name} ({source.description}).")
        counts = {"ok": 0, "bad": 0, "dup": 0}
        what = "imported" if args.import_duplicates else "skipped"

        def listed(rows: Iterable[CheckedRow]) -> Iterator[CheckedRow]:
            """The rows, each problem and likely duplicate printed as it passes."""
            for row in rows:
                if row.problems:
                    counts["bad"] += 1
                    for name, message in row.problems.items():
                        label = importer.FIELD_LABELS.get(name, name)
                        print(f"  line {row.line}, {label}: {message} (skipped)")
                elif row.duplicate_of:
                    counts["dup"] += 1
                    print(f"  line {row.line}: likely duplicate of {row.duplicate_of} ({what})")
                else:
                    counts["ok"] += 1
                yield row

        if args.dry_run:
            with database.read() as session:
                for _row in listed(importer.check_rows(session, source.rows(), mapping)):
                    pass
            ready = counts["ok"] + (counts["dup"] if args.import_duplicates else 0)
            print(
                f"Dry run: {ready:,} row(s) would be imported, {counts['bad']:,} with problems, "
                f"{counts['dup']:,} likely duplicate(s) {what}. Nothing was stored."
            )
            return 0
        with database.write() as session:
            summary = importer.import_patients(
                session,
                listed(importer.check_rows(session, source.rows(), mapping)),
                import_duplicates=args.import_duplicates,
                source=path.name,
                mapping=mapping,
            )
    except ValidationError as exc:
        return _fail("; ".join(exc.errors.values()))
    except ServiceError as exc:
        return _fail(str(exc))
    except (OSError, UnicodeDecodeError) as exc:
        return _fail(f"cannot read {path}: {exc}")
    print(f"Imported from {path.name}: {summary.text}.")
    return 0

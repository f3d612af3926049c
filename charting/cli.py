"""Command line: with no subcommand it opens the app; subcommands serve clinic admins."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import NoReturn

from charting import __version__
from charting.config import ConfigError, backup_dir, resolve_database_url

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
    demo.add_argument("--seed", type=int, default=2026, help=argparse.SUPPRESS)
    demo.add_argument("--db", metavar="URL", dest="sub_db", help="as the top-level --db")
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
    export.add_argument("--db", metavar="URL", dest="sub_db", help="as the top-level --db")
    return parser


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
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the process exit code."""
    args = build_parser().parse_args(argv)
    if args.self_check:
        from charting.selfcheck import run_self_check

        return run_self_check()
    try:
        choice = resolve_database_url(getattr(args, "sub_db", None) or args.db)
    except ConfigError as exc:
        return _fail(str(exc), 2)

    # Deferred imports keep `charting --help` instant and the GUI start-up lean.
    from charting.models.db import BadDatabaseUrlError, DatabaseError, parse_url
    from charting.models.migrate import open_database

    try:
        parse_url(choice.url)
    except BadDatabaseUrlError as exc:
        return _fail(str(exc), 2)
    if args.command is None:
        from charting.ui.app import run_app

        return run_app(choice)
    try:
        opened = open_database(choice.url, backup_dir())
    except DatabaseError as exc:
        return _fail(str(exc))
    try:
        if args.command == "demo":
            return _run_demo(opened.database, args)
        if args.command == "export":
            return _run_export(opened.database, args)
    finally:
        opened.database.dispose()
    return _fail(f"unknown command {args.command}", 2)  # pragma: no cover - argparse guards


def _run_demo(database: object, args: argparse.Namespace) -> int:
    from charting.models.db import Database
    from charting.services.demo import create_demo_clinic

    assert isinstance(database, Database)
    started = time.perf_counter()
    tty = sys.stderr.isatty()

    def progress(done: int, total: int) -> None:
        if tty:
            print(f"\r  {done:,} / {total:,} patients", end="", file=sys.stderr, flush=True)

    with database.write() as session:
        patients, visits, _ = create_demo_clinic(
            session, args.patients, args.visits_per_patient, args.seed, progress
        )
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

"""``charting --self-check``: prove an installation works, without touching the user's data.

Creates a fresh database in a temporary folder, runs every migration, loads the body map,
charts a visit, renders a visit summary and an aftercare handout, and opens the main window
offscreen. Prints each check; any failure exits non-zero with the reason.
"""

from __future__ import annotations

import io
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any


def run_self_check(out: Any = None) -> int:
    """Run the checks; return 0 when all pass."""
    out = out or sys.stdout
    state: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="charting-self-check-") as tmp:
        os.environ["CHARTING_DATA_DIR"] = str(Path(tmp) / "data")
        checks: list[tuple[str, Callable[[], str]]] = [
            ("database created and migrated", lambda: _database(state, Path(tmp))),
            ("account created and signed in", lambda: _account(state)),
            ("body map loaded", lambda: _bodymap(state)),
            ("visit charted", lambda: _chart(state)),
            ("visit summary rendered", lambda: _pdf(state, "summary")),
            ("aftercare handout rendered", lambda: _pdf(state, "handout")),
            ("main window opened offscreen", lambda: _window(state)),
        ]
        for name, check in checks:
            started = time.perf_counter()
            try:
                detail = check()
            except Exception as exc:  # the reason is the point of a self-check
                print(f"FAIL  {name}: {type(exc).__name__}: {exc}", file=out)
                traceback.print_exc(file=sys.stderr)
                _cleanup(state)
                return 1
            ms = (time.perf_counter() - started) * 1000
            print(f"ok    {name} ({detail}; {ms:.0f} ms)", file=out)
        _cleanup(state)
    print("Self-check passed.", file=out)
    return 0


def _database(state: dict[str, Any], tmp: Path) -> str:
    from charting.config import sqlite_url
    from charting.models.migrate import head_revision, open_database

    opened = open_database(sqlite_url(tmp / "self-check.sqlite3"))
    state["db"] = opened.database
    return f"schema {head_revision()}"


def _account(state: dict[str, Any]) -> str:
    from charting.models import Role
    from charting.services.accounts import AccountInput, create_first_admin, sign_in

    password = "self-check passphrase"
    with state["db"].write() as session:
        create_first_admin(
            session,
            AccountInput(
                "selfcheck", "Self-check", {Role.PRACTITIONER}, password, credentials="L.Ac."
            ),
        )
    actor = sign_in(state["db"], "selfcheck", password)
    state["db"].actor = actor
    return f"Argon2id, roles: {actor.roles_label}"


def _bodymap(state: dict[str, Any]) -> str:
    from charting.bodymap import load_bodymap

    bodymap = load_bodymap()
    state["bodymap"] = bodymap
    return (
        f"{len(bodymap.points)} points, {len(bodymap.muscles)} muscles, {len(bodymap.views)} views"
    )


def _chart(state: dict[str, Any]) -> str:
    from charting.services.marks import MarkSpec, add_marks
    from charting.services.patients import PatientInput, create_patient
    from charting.services.visit_record import update_fields
    from charting.services.visits import start_visit

    bodymap = state["bodymap"]
    with state["db"].write() as session:
        pid, _ = create_patient(
            session,
            PatientInput(
                family_name="Self-check", given_name="Zoë 小明", date_of_birth=date(1980, 1, 1)
            ),
        )
        vid, _ = start_visit(
            session, pid, state["db"].actor.practitioner_id, chief_complaint="Low back pain"
        )
        specs = []
        for code, side in (("BL23", "L"), ("BL23", "R"), ("GV4", "M")):
            x, y = bodymap.position(code, side, "posterior")
            specs.append(MarkSpec("acupoint", "posterior", x, y, side, point_code=code))
        add_marks(session, bodymap, vid, specs)
        update_fields(session, vid, {"pain_now": 6, "pain_after": 3, "retention_minutes": 20})
    state["visit"] = vid
    return "3 marks"


def _pdf(state: dict[str, Any], kind: str) -> str:
    from charting.reports.handout import build_handout
    from charting.reports.visit_summary import build_visit_summary
    from charting.services.report_data import visit_report

    with state["db"].read() as session:
        report = visit_report(session, state["visit"], state["bodymap"])
    buffer = io.BytesIO()
    build = build_visit_summary if kind == "summary" else build_handout
    build(report, state["bodymap"], buffer)
    data = buffer.getvalue()
    if not data.startswith(b"%PDF") or len(data) < 2_000:
        raise RuntimeError(f"the {kind} PDF is not valid ({len(data)} bytes)")
    return f"{len(data) // 1024} KiB"


def _window(state: dict[str, Any]) -> str:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from charting.ui.selfcheck import open_main_window

    return open_main_window(state["db"], state["visit"], Path(os.environ["CHARTING_DATA_DIR"]))


def _cleanup(state: dict[str, Any]) -> None:
    database = state.get("db")
    if database is not None:
        database.dispose()

"""Take the README's screenshots of the real app, offscreen, on a fresh demo database.

Usage: ``QT_QPA_PLATFORM=offscreen .venv/bin/python tools/screenshots.py [OUT_DIR]``
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
if os.environ["QT_QPA_PLATFORM"] == "offscreen":
    # A desktop monitor's screen (the offscreen one is 800x800), so that windows open at the
    # size they take on a desktop; the three-size shots set their sizes themselves.
    _SCREEN = Path(tempfile.mkdtemp()) / "screen.json"
    _SCREEN.write_text(
        '{"screens": [{"name": "desktop", "x": 0, "y": 0, "width": 1920, "height": 1080, '
        '"logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}]}'
    )
    os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={_SCREEN}"

from PySide6.QtCore import QSettings
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from sqlalchemy import select

from charting.bodymap import BodyMap, load_bodymap
from charting.config import sqlite_url
from charting.models import Mark, Patient, Practitioner, Role, Visit
from charting.models.db import Database
from charting.models.migrate import open_database
from charting.services.accounts import AccountInput, create_account, create_first_admin
from charting.services.demo import create_demo_clinic
from charting.services.marks import MarkSpec, add_marks
from charting.services.visit_fields import PHASES
from charting.services.visit_record import update_fields
from charting.services.visits import start_visit
from charting.ui.app import make_application
from charting.ui.course_view import CourseDialog
from charting.ui.main_window import MainWindow

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tools.custom_point_screens import custom_point_screens  # noqa: E402
from tools.day_screens import day_screens  # noqa: E402 (needs the project root on the path)
from tools.pain_screens import pain_screens  # noqa: E402


def main() -> int:
    """Write PNG screenshots of the main screens into docs/screenshots (or OUT_DIR)."""
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    app = make_application()
    with tempfile.TemporaryDirectory() as tmp:
        settings = QSettings(str(Path(tmp) / "s.ini"), QSettings.Format.IniFormat)
        empty = open_database(sqlite_url(Path(tmp) / "empty.sqlite3")).database
        _first_admin_screen(app, empty, out)
        _sign_in_first_admin(empty)
        window = MainWindow(empty, settings)
        window.resize(1280, 800)
        window.show()
        app.processEvents()
        window.grab().save(str(out / "welcome.png"))
        window.close()
        empty.dispose()

        db = open_database(sqlite_url(Path(tmp) / "demo.sqlite3")).database
        _sign_in_first_admin(db)
        _colleagues(db)
        with db.write() as session:
            create_demo_clinic(session, 400)
        for size in ((1024, 768), (1280, 800), (1920, 1080)):
            window = MainWindow(db, settings)
            window.resize(*size)
            window.show()
            window.search.setText("ko")
            window.patient_search.apply_search()
            flagged = next(
                (
                    window.patient_model.patient_id(r)
                    for r in range(window.patient_model.rowCount())
                    if window.patient_model.index(r, 4).data()
                ),
                window.patient_model.patient_id(0),
            )
            window.select_patient(flagged)
            app.processEvents()
            window.grab().save(str(out / f"main-window-{size[0]}x{size[1]}.png"))
            window.close()
        _visit_screens(app, db, settings, out)
        day_screens(app, db, settings, out)
        pain_screens(app, out, Path(tmp))
        anterior_screens(app, db, settings, out)
        custom_point_screens(app, db, settings, out)
        _dialog_screens(app, db, out)
        _import_screens(app, db, out, Path(tmp))
        _security_screens(app, db, settings, Path(tmp) / "backups", out)
        db.dispose()
    print(f"Screenshots written to {out}")
    return 0


def _sign_in_first_admin(db: Database) -> None:
    """Create the clinic's first account (an admin who treats) and sign it in."""
    with db.write() as session:
        db.actor = create_first_admin(
            session,
            AccountInput(
                username="ana",
                display_name="Ana Ruiz",
                roles={Role.ADMIN, Role.PRACTITIONER},
                password="lumbar-spring-2026",
                credentials="L.Ac.",
                licence_number="AC-1234",
            ),
        )


def _colleagues(db: Database) -> None:
    """A second practitioner, a front-desk account and a former colleague."""
    people = (
        ("grace", "Grace Okonkwo", {Role.PRACTITIONER}, "Dipl. Ac. (NCCAOM)", True),
        ("bea", "Bea Lindgren", {Role.FRONT_DESK}, "", True),
        ("tom", "Tom Becker", {Role.PRACTITIONER}, "L.Ac.", False),
    )
    with db.write() as session:
        for username, name, roles, credentials, active in people:
            create_account(
                session,
                AccountInput(
                    username=username,
                    display_name=name,
                    roles=roles,
                    password="a-long-password-1",
                    active=active,
                    credentials=credentials,
                ),
            )


def _first_admin_screen(app: QApplication, db: Database, out: Path) -> None:
    """The first start of a clinic: the admin account form, partly filled in."""
    from charting.ui.login_dialog import FirstAdminDialog

    dialog = FirstAdminDialog(db)
    dialog.display_name.setText("Ana Ruiz")
    dialog.username_edit.setText("ana")
    dialog.password.setText("lumbar-spring")
    dialog.confirm.setText("lumbar-sprin")
    dialog.credentials.setText("L.Ac.")
    dialog.show()
    dialog._on_buttons_accepted()  # shows the field messages as a person would see them
    app.processEvents()
    dialog.grab().save(str(out / "first-admin.png"))
    # done() rather than close(): closing is a Cancel, which asks (modally) before leaving.
    dialog.done(0)


def _security_screens(
    app: QApplication, db: Database, settings: QSettings, folder: Path, out: Path
) -> None:
    """Sign-in, the lock page, accounts, the audit log and backups."""
    from charting.services.backup import back_up, daily_backup_if_due
    from charting.services.settings import ClinicSettings, save_settings
    from charting.ui.accounts_dialog import AccountFormDialog, AccountsDialog
    from charting.ui.audit_viewer import AuditViewer
    from charting.ui.backup_dialog import BackupDialog
    from charting.ui.login_dialog import LoginDialog

    with db.write() as session:
        save_settings(session, ClinicSettings(clinic_name="Cedar Street Acupuncture"))
    login = LoginDialog(db, None, "ana")
    login.password.setText("wrong password")
    login.show()
    login._on_buttons_accepted()
    app.processEvents()
    login.grab().save(str(out / "login.png"))
    login.close()

    window = MainWindow(db, settings)
    window.resize(1280, 800)
    window.show()
    window.select_patient(window.patient_model.patient_id(3))
    window.lock("on request")
    app.processEvents()
    window.grab().save(str(out / "lock-page-1280x800.png"))
    window.close()

    accounts = AccountsDialog(db)
    accounts.show()
    app.processEvents()
    accounts.grab().save(str(out / "accounts.png"))
    grace = next(
        accounts.model.account_id(r)
        for r in range(accounts.model.rowCount())
        if accounts.model.index(r, 1).data() == "grace"
    )
    accounts.close()
    form = AccountFormDialog(db, grace)
    form.show()
    app.processEvents()
    form.grab().save(str(out / "account-form.png"))
    form.close()

    viewer = AuditViewer(db)
    viewer.show()
    app.processEvents()
    viewer.grab().save(str(out / "audit-viewer.png"))
    viewer.verify()
    app.processEvents()
    viewer.grab().save(str(out / "audit-viewer-verified.png"))
    viewer.close()

    daily_backup_if_due(db, folder, 14)
    back_up(db, folder)
    backups = BackupDialog(db, folder)
    backups.show()
    app.processEvents()
    backups.grab().save(str(out / "backups.png"))
    backups.close()


def _spec(bodymap: BodyMap, code: str, side: str, view: str = "posterior") -> MarkSpec:
    x, y = bodymap.position(code, side, view)  # type: ignore[arg-type, misc]
    return MarkSpec("acupoint", view, x, y, side, point_code=code)


def _settle(app: QApplication) -> None:
    """Let the screen settle as it does for a person: the map lays its labels out (and
    paints its figure crisp) a moment after a zoom, a view change or new marks."""
    app.processEvents()
    QTest.qWait(120)


def _visit_screens(app: QApplication, db: Database, settings: QSettings, out: Path) -> None:
    """The body map of a charted visit: each view, with last visit's marks faded."""
    bodymap = load_bodymap()
    with db.write() as session:
        pid = session.scalar(select(Patient.id).where(Patient.anticoagulant.is_(True)).limit(1))
        prac = session.scalar(select(Practitioner.id).limit(1))
        first, _ = start_visit(session, pid, prac, chief_complaint="Low back pain, left sciatica")
        add_marks(
            session,
            bodymap,
            first,
            [_spec(bodymap, c, s) for c, s in (("BL23", "L"), ("BL23", "R"), ("BL40", "L"))],
        )
        vid, _ = start_visit(session, pid, prac, chief_complaint="Low back pain, left sciatica")
        ql = bodymap.muscle("quadratus_lumborum")
        tx, ty = bodymap.trigger_point_position(ql.id, ql.trigger_points[0].id, "L")
        specs = [
            _spec(bodymap, c, s)
            for c, s in (
                ("BL23", "L"),
                ("BL23", "R"),
                ("BL25", "L"),
                ("BL25", "R"),
                ("GV4", "M"),
                ("GB30", "L"),
                ("BL40", "L"),
                ("BL40", "R"),
                ("BL57", "L"),
            )
        ]
        specs.append(MarkSpec("trigger_point", "posterior", tx, ty, "L", muscle_id=ql.id))
        specs.append(MarkSpec("cupping", "posterior", 395, 560, "L"))
        specs += [
            _spec(bodymap, "GB34", "L", "lateral_leg"),
            _spec(bodymap, "GB39", "L", "lateral_leg"),
            _spec(bodymap, "ST36", "L", "anterior"),
            _spec(bodymap, "KI3", "L", "medial_leg"),
            _spec(bodymap, "SP6", "L", "medial_leg"),
            _spec(bodymap, "SP6", "R", "medial_leg"),
        ]
        add_marks(session, bodymap, vid, specs)
    _course_history(db, pid, bodymap)
    for size in ((1024, 768), (1280, 800), (1920, 1080)):
        window = MainWindow(db, settings)
        window.resize(*size)
        window.show()
        window.select_patient(pid)
        if size == (1280, 800):
            course = CourseDialog(window.ops, pid, window.patient_panel.title.text(), window)
            course.show()
            _settle(app)
            course.grab().save(str(out / "course-view.png"))
            course.close()
        window.open_visit(vid)
        chart = window.visit_chart
        assert chart is not None
        chart.map.select_marks([chart._rows[0].id])
        _settle(app)
        tag = f"{size[0]}x{size[1]}"
        # The record's phases (Alt+1 ... Alt+5), the map framed on the low back beside them.
        for phase, _title in PHASES[:5]:
            chart.form.show_phase(phase)
            _settle(app)
            window.grab().save(str(out / f"visit-{phase}-{tag}.png"))
        chart.form.show_phase("consultation")
        for view in ("posterior", "lateral_leg", "medial_leg"):
            if size[0] != 1920 and view != "posterior":
                continue
            chart.set_view(view)
            _settle(app)
            suffix = "" if view == "posterior" else f"-{view.replace('_', '-')}"
            window.grab().save(str(out / f"visit-body-map-{tag}{suffix}.png"))
        chart.set_view("posterior")
        chart.map_panel.zoom_to("whole")
        _settle(app)
        window.grab().save(str(out / f"visit-whole-view-{tag}.png"))
        window.close()


IMPORT_SAMPLE = """\
Nachname;Vorname;Geburtsdatum;Geschlecht;E-Mail;Telefon;Adresse
Schneider;Katrin;14.03.1979;w;k.schneider@example.org;+49 30 5550 1234;Lindenstr. 4, 10115 Berlin
Okafor;Chidi;1975-03-31;m;;+49 170 555 0199;
Nguyen;Lan;30.02.1986;w;lan.nguyen@example.org;;Hauptstr. 12, 80331 München
;Jonas;1990-11-02;m;;;
Petrovic;Ana;1988-07-19;w;ana(at)example;;
Weber;Ole;1965/05/05;m;;030 555 0142;
Braun;Mia;2001-09-23;x;mia.braun@example.org;;
Koch;Lukas;1983-12-01;q;;;
Fischer;Lea;1995-04-17;w;lea@example.org;+49 89 555 0107;Am Ring 2, 50667 Köln
Becker;Paul;1958-01-28;m;;;
Wagner;Emma;1992-06-30;w;emma.wagner@example.org;;
Hoffmann;Ben;1987-10-10;m;;+49 40 555 0163;
"""


def _import_screens(app: QApplication, db: Database, out: Path, tmp: Path) -> None:
    """File > Import patients…: a German practice's list, with problems, at three sizes."""
    from charting.ui.import_dialog import ImportDialog
    from charting.ui.ops import OpRunner

    sample = tmp / "Patientenliste.csv"
    sample.write_bytes(IMPORT_SAMPLE.encode("cp1252"))
    ops = OpRunner(db)
    for width, height in ((1024, 768), (1280, 800), (1920, 1080)):
        dialog = ImportDialog(ops)
        dialog.load(sample)
        dialog.resize(width, height)
        dialog.show()
        app.processEvents()
        dialog.grab().save(str(out / f"import-dialog-{width}x{height}.png"))
        dialog.close()


def anterior_screens(app: QApplication, db: Database, settings: QSettings, out: Path) -> None:
    """The anterior view of a visit charted on the front of the legs, at the three sizes."""
    bodymap = load_bodymap()
    with db.write() as session:
        prac = session.scalar(select(Practitioner.id).limit(1))
        pid = session.scalar(select(Patient.id).limit(1))
        vid, _ = start_visit(session, pid, prac, chief_complaint="Knee and lateral leg pain")
        specs = [
            _spec(bodymap, code, side, "anterior")
            for code, side in (
                ("ST36", "L"),
                ("ST36", "R"),
                ("ST35", "L"),
                ("EX-LE4", "L"),
                ("SP9", "L"),
                ("SP10", "L"),
                ("ST40", "R"),
                ("LR3", "L"),
                ("LR3", "R"),
            )
        ]
        add_marks(session, bodymap, vid, specs)
    for size in ((1024, 768), (1280, 800), (1920, 1080)):
        window = MainWindow(db, settings)
        window.resize(*size)
        window.show()
        window.select_patient(pid)
        window.open_visit(vid)
        chart = window.visit_chart
        assert chart is not None
        chart.set_view("anterior")
        chart.map.select_marks([chart._rows[0].id])
        _settle(app)
        window.grab().save(str(out / f"visit-body-map-{size[0]}x{size[1]}-anterior.png"))
        window.close()


def _dialog_screens(app: QApplication, db: Database, out: Path) -> None:
    """The export dialog and the clinic settings dialog."""
    from charting.services.settings import ClinicSettings
    from charting.ui.export_dialog import ExportDialog
    from charting.ui.settings_dialog import ClinicSettingsDialog

    export = ExportDialog(db, "ko")
    export.show()
    app.processEvents()
    export.grab().save(str(out / "export-dialog.png"))
    export.close()
    clinic = ClinicSettingsDialog(ClinicSettings(clinic_name="Cedar Street Acupuncture"))
    clinic.show()
    app.processEvents()
    clinic.grab().save(str(out / "clinic-settings.png"))
    clinic.close()


def _course_history(db: Database, pid: int, bodymap: BodyMap) -> None:
    """Give the patient's earlier visits pain scores, outcomes and marks (a realistic course)."""
    with db.write() as session:
        visits = session.scalars(
            select(Visit).where(Visit.patient_id == pid).order_by(Visit.number)
        ).all()
        for i, visit in enumerate(visits[:-1]):
            if visit.status != "draft" or visit.practitioner_id != db.actor.practitioner_id:
                # Signed visits never change and colleagues' drafts are theirs (the write
                # guard refuses both); the demo clinic already gave them scores and marks.
                continue
            before = max(2, 8 - i)
            values = {"pain_now": before, "pain_after": max(0, before - 3)}
            if i % 3 == 0:
                values["odi_percent"] = max(12, 46 - 4 * i)
                values["rmdq_score"] = max(3, 15 - i)
            update_fields(session, visit.id, values)
            if i and not session.scalar(select(Mark.id).where(Mark.visit_id == visit.id)):
                codes = (("BL23", "L"), ("BL23", "R"), ("BL25", "L"), ("GB30", "L"))
                for code, side in codes[: 2 + i % 3]:
                    x, y = bodymap.position(code, side, "posterior")  # type: ignore[arg-type, misc]
                    session.add(
                        Mark(
                            visit_id=visit.id,
                            kind="acupoint",
                            point_code=code,
                            side=side,
                            view="posterior",
                            x=x,
                            y=y,
                            technique="manual",
                        )
                    )


if __name__ == "__main__":
    raise SystemExit(main())

"""Screenshots of the clinic's day: today's list, the book's week and day views, consent and
billing, at 1024x768, 1280x800 and 1920x1080 (called by tools/screenshots.py)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QDate, QSettings
from PySide6.QtWidgets import QApplication
from sqlalchemy import func, select

from charting.models import Appointment, Visit, VisitBilling
from charting.models.db import Database
from charting.services.access import Actor
from charting.services.demo import prepare_demo
from charting.ui.billing_dialog import BillingDialog
from charting.ui.consent_dialog import ConsentDialog
from charting.ui.main_window import MainWindow

SIZES = ((1024, 768), (1280, 800), (1920, 1080))


def day_screens(app: QApplication, db: Database, settings: QSettings, out: Path) -> None:
    """Write day-list-*, book-week-*, book-day-*, consent-* and billing-* PNGs into ``out``.

    The day is seen as the demo's first fictional practitioner sees it (their book, their
    visits), so the screens show a full day; the caller's account is signed in again after.
    """
    signed_in = db.actor
    with db.write() as session:
        actor = prepare_demo(session)
    db.actor = actor
    try:
        _day_screens(app, db, settings, out, actor)
    finally:
        db.actor = signed_in


def _day_screens(
    app: QApplication, db: Database, settings: QSettings, out: Path, actor: Actor
) -> None:
    """The screens, taken while ``actor`` is signed in."""
    with db.read() as session:
        busiest = session.scalar(select(func.min(Appointment.starts_at)))
        visit_id, patient_id = session.execute(
            select(Visit.id, Visit.patient_id)
            .join(VisitBilling, VisitBilling.visit_id == Visit.id)
            .where(
                VisitBilling.confirmed_at.is_not(None),
                Visit.practitioner_id == actor.practitioner_id,
            )
            .order_by(Visit.started_at.desc())
            .limit(1)
        ).one()
    for width, height in SIZES:
        suffix = f"{width}x{height}"
        window = MainWindow(db, settings)
        window.resize(width, height)
        window.show()
        window.clinic_day.show_today()
        app.processEvents()
        window.grab().save(str(out / f"day-list-{suffix}.png"))

        dialog = window.clinic_day.make_book()
        dialog.resize(width, height)
        dialog.show()
        if busiest is not None:
            local = busiest.astimezone().date()
            dialog.book.show_week(actor.practitioner_id, local)
            app.processEvents()
            dialog.book.select_appointment(
                dialog.book.model.all_rows()[len(dialog.book.model.all_rows()) // 2].id
            )
        app.processEvents()
        dialog.grab().save(str(out / f"book-week-{suffix}.png"))
        today = QDate.currentDate().toPython()
        dialog.book.show_day(today)  # type: ignore[arg-type]
        app.processEvents()
        dialog.grab().save(str(out / f"book-day-{suffix}.png"))
        dialog.close()

        window.select_patient(patient_id)
        consent = ConsentDialog(
            window.ops, db, patient_id, window.patient_panel.title.text(), can_record=True
        )
        consent.resize(min(width - 60, 1000), min(height - 60, 760))
        consent.show()
        for key in ("acupuncture", "electroacupuncture"):
            consent.treatment_boxes[key].setChecked(True)
        consent.course.setText("Low back pain, from December 2026")
        app.processEvents()
        consent.grab().save(str(out / f"consent-{suffix}.png"))
        consent.close()

        billing = BillingDialog(window.ops, db, visit_id, "Visit", can_confirm=True)
        billing.resize(min(width - 60, 1000), min(height - 60, 640))
        billing.show()
        app.processEvents()
        billing.grab().save(str(out / f"billing-{suffix}.png"))
        billing.close()
        window.close()

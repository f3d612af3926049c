"""The visit screen walkthroughs of issue 17: the action counts meet their targets and the
whole record is stored."""

from __future__ import annotations

import json
import os
from pathlib import Path

from PySide6.QtPrintSupport import QPrinter
from PySide6.QtWidgets import QDialog, QPushButton, QVBoxLayout

from benchmarks import walkthrough
from charting.bodymap import load_bodymap
from charting.models import Visit
from charting.services.handouts import handout_issues
from charting.services.marks import list_marks
from charting.services.visit_record import ea_pairs, record

BM = load_bodymap()


class _PrintDialog(QDialog):
    """The system print dialog, standing in offscreen: Print (the default button) prints
    to a PDF file."""

    target: Path

    def __init__(self, printer: QPrinter, parent: object) -> None:
        super().__init__(parent)  # type: ignore[arg-type]
        printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
        printer.setOutputFileName(str(self.target))
        button = QPushButton("Print", self)
        button.setDefault(True)
        button.clicked.connect(self.accept)
        QVBoxLayout(self).addWidget(button)


def _marks(database, visit_id: int) -> list[str]:  # type: ignore[no-untyped-def]
    with database.read() as session:
        rows = list_marks(session, visit_id, BM)
    return sorted(
        f"{r.spec.kind}:{r.spec.point_code or r.spec.muscle_id or ''}:{r.spec.side}" for r in rows
    )


def test_first_visit_and_follow_up_meet_their_action_targets(  # type: ignore[no-untyped-def]
    qtbot, window, database, make_patient, practitioner_id, monkeypatch, tmp_path: Path
) -> None:
    """The first visit takes <= 60 actions and the follow-up <= 15, each storing the whole
    record (marks, EA pair, needles, pain, signature, handout given)."""
    from charting.ui import documents

    _PrintDialog.target = tmp_path / "handout.pdf"
    monkeypatch.setattr(documents, "QPrintDialog", _PrintDialog)
    pid = make_patient()
    window.resize(1280, 800)
    window.activateWindow()
    qtbot.waitActive(window)
    window.select_patient(pid)

    first = walkthrough.first_visit(qtbot, window, BM)
    vid = window.visit_chart.visit_id
    assert _marks(database, vid) == sorted(
        [f"acupoint:{c}:{s}" for c in ("BL23", "BL25", "BL40") for s in "LR"]
        + ["acupoint:GB30:R", "trigger_point:quadratus_lumborum:L"]
        + [f"cupping::{_cup_side(database, vid)}"]
    )
    with database.read() as session:
        visit = session.get(Visit, vid)
        assert visit is not None and visit.status == "signed"
        stored = record(session, vid)
        (pair,) = ea_pairs(session, vid)
        given = handout_issues(session, vid)
    assert (stored["pain_now"], stored["pain_after"]) == (7, 3)
    assert (stored["needle_brand"], stored["needle_gauge"], stored["needle_length"]) == (
        "Seirin J-type",
        "0.20",
        "30 mm",
    )
    assert (stored["needle_lot"], stored["retention_minutes"], stored["needles_out"]) == (
        "L2291",
        20,
        8,  # 3 points both sides, GB30 R and the trigger point (the cup is no needle)
    )
    assert (pair.waveform, pair.frequency_hz, pair.frequency2_hz, pair.minutes) == (
        "Dense-disperse",
        2,
        100,
        20,
    )
    assert [g.how for g in given] == ["printed"]
    assert _PrintDialog.target.exists()
    _PrintDialog.target.unlink()

    window.close_visit()
    follow = walkthrough.follow_up(qtbot, window, BM)
    vid2 = window.visit_chart.visit_id
    assert vid2 != vid
    expected = [m for m in _marks(database, vid) if m != "acupoint:BL40:R"]
    assert _marks(database, vid2) == sorted([*expected, "acupoint:GB34:L", "acupoint:GB34:R"])
    with database.read() as session:
        visit = session.get(Visit, vid2)
        assert visit is not None and visit.status == "signed"
        stored = record(session, vid2)
        (pair2,) = ea_pairs(session, vid2)
        given = handout_issues(session, vid2)
    assert (stored["pain_now"], stored["pain_after"]) == (5, 2)
    # Carried forward from the first visit: the needles and the retention.
    assert (stored["needle_brand"], stored["needle_lot"], stored["retention_minutes"]) == (
        "Seirin J-type",
        "L2291",
        20,
    )
    assert (pair2.waveform, pair2.frequency_hz, pair2.frequency2_hz, pair2.minutes) == (
        "Dense-disperse",
        2,
        100,
        20,
    )
    assert [g.how for g in given] == ["printed"]

    assert first.actions <= walkthrough.FIRST_VISIT_TARGET, first.steps
    assert follow.actions <= walkthrough.FOLLOW_UP_TARGET, follow.steps
    out = os.environ.get("CHARTING_WALKTHROUGH_RESULTS")
    if out:
        Path(out).write_text(
            json.dumps({"first_visit": first.as_dict(), "follow_up": follow.as_dict()}, indent=2)
        )


def _cup_side(database, visit_id: int) -> str:  # type: ignore[no-untyped-def]
    with database.read() as session:
        return next(
            r.spec.side for r in list_marks(session, visit_id, BM) if r.spec.kind == "cupping"
        )

"""Signed visits are checked against their signature when opened, printed, exported and by
`charting audit verify`, whatever way the record was changed."""

from __future__ import annotations

import io
import os
import subprocess
import sys

import pytest
from pypdf import PdfReader

from charting.bodymap import load_bodymap
from charting.models import Visit
from charting.models.db import Database
from charting.reports.visit_summary import build_visit_summary
from charting.services import signatures
from charting.services.marks import add_marks
from charting.services.report_data import visit_report
from charting.services.visits import start_visit, visit_access
from tests.factories import TEST_PASSWORD, TEST_USERNAME, make_visit, point_spec

BM = load_bodymap()


@pytest.fixture
def signed(database: Database, make_patient, practitioner_id: int) -> int:  # type: ignore[no-untyped-def]
    """A signed visit: pain 7, BL23 on both sides."""
    points = [("BL23", "L"), ("BL23", "R")]
    made = make_visit(database, points=points, cupping=(), ea=None, pain_after=None, signed=True)
    return made.visit_id


def _sql(database: Database, statement: str) -> None:
    """Change the file behind Charting's back (as any SQL tool could)."""
    with database.engine.begin() as conn:
        conn.exec_driver_sql(statement)


def _problem(database: Database, vid: int) -> str | None:
    with database.read() as session:
        return signatures.signature_problem(session, vid)


def _summary_text(database: Database, vid: int) -> str:
    with database.read() as session:
        report = visit_report(session, vid, BM)
    out = io.BytesIO()
    build_visit_summary(report, BM, out, invariant=True)
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(out.getvalue())).pages)


def test_an_untouched_signed_visit_checks_out(database: Database, signed: int) -> None:
    """A signed visit matches its signature and prints its hash."""
    assert _problem(database, signed) is None
    with database.read() as session:
        stored = session.get_one(Visit, signed).content_hash
    text = _summary_text(database, signed)
    assert stored in text.replace("\n", "") and "ALTERED" not in text


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE visit SET pain_now = 2 WHERE id = {vid}",
        "UPDATE mark SET side = 'L' WHERE visit_id = {vid}",
        "DELETE FROM mark WHERE visit_id = {vid} AND side = 'R'",
        "UPDATE visit SET chief_complaint = 'Neck pain' WHERE id = {vid}",
    ],
)
def test_a_direct_sql_edit_is_found_and_never_printed_as_signed(
    database: Database, signed: int, statement: str
) -> None:
    """Editing a signed visit or its marks with SQL makes it 'altered': the PDF says so and
    carries no valid-looking hash; opening it says so."""
    with database.read() as session:
        stored = session.get_one(Visit, signed).content_hash
    _sql(database, statement.format(vid=signed))
    assert "changed after it was signed" in (_problem(database, signed) or "")
    text = _summary_text(database, signed)
    assert "ALTERED" in text and "does not match its signature" in text
    assert stored not in text.replace("\n", "")
    with database.read() as session:
        assert "changed after it was signed" in (
            visit_access(session, signed).signature_problem or ""
        )


def test_rewriting_the_stored_hash_too_is_caught_by_the_audit_log(
    database: Database, signed: int
) -> None:
    """Someone who edits the record and recomputes the stored hash still disagrees with the
    hash the audit log recorded at signing."""
    _sql(database, f"UPDATE visit SET pain_now = 2 WHERE id = {signed}")
    with database.read() as session:
        forged = signatures.content_hash(session, signed)
    _sql(database, f"UPDATE visit SET content_hash = '{forged}' WHERE id = {signed}")
    assert "not the one the audit log recorded" in (_problem(database, signed) or "")


def test_a_signed_visit_set_back_to_draft_is_found(database: Database, signed: int) -> None:
    """Unsigning a visit with SQL (to edit it as a draft) is reported by the full check."""
    _sql(database, f"UPDATE visit SET status = 'draft' WHERE id = {signed}")
    with database.read() as session:
        found = list(signatures.check_all(session))
    assert [(v.visit_id, v.number) for v in found] == [(signed, 1)]
    assert "set back to a draft" in found[0].problem


def test_a_visit_signed_in_the_first_layout_still_checks_out(
    database: Database, make_patient, practitioner_id: int
) -> None:
    """Visits signed before the layout changed keep their format and their signature holds;
    a later edit of one is still found."""
    with database.write() as session:
        vid, _ = start_visit(session, make_patient(), practitioner_id)
        add_marks(session, BM, vid, [point_spec("BL40", "R")])
    with database.read() as session:
        old_hash = signatures.content_hash(session, vid, 1)
    _sql(
        database,
        f"UPDATE visit SET status = 'signed', signature_format = 1, content_hash = '{old_hash}', "
        f"signed_at = started_at, signed_by_id = practitioner_id WHERE id = {vid}",
    )
    assert _problem(database, vid) is None
    _sql(database, f"UPDATE mark SET depth_mm = 60 WHERE visit_id = {vid}")
    assert _problem(database, vid) is not None


def test_audit_verify_names_each_altered_visit(
    database: Database, signed: int, database_url: str, make_patient, practitioner_id: int
) -> None:
    """`charting audit verify` exits 1 and names every altered signed visit; 0 when none."""
    other = make_visit(database, patient={"family_name": "Okafor"}, bare=True, signed=True).visit_id

    def verify() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "charting", "audit", "verify", "--db", database_url],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "CHARTING_USER": TEST_USERNAME, "CHARTING_PASSWORD": TEST_PASSWORD},
            stdin=subprocess.DEVNULL,
        )

    clean = verify()
    assert clean.returncode == 0, clean.stderr
    assert "every one matches its signature" in clean.stdout
    _sql(database, f"UPDATE visit SET pain_now = 1 WHERE id IN ({signed}, {other})")
    broken = verify()
    assert broken.returncode == 1
    named = [line for line in broken.stderr.splitlines() if "signed visit" in line]
    assert len(named) == 2
    assert all("changed after it was signed" in line for line in named)
    assert "Traceback" not in broken.stderr

"""What the printed documents are built from: a course read at once says what its visits'
own summaries say."""

from __future__ import annotations

from sqlalchemy import event, select

from charting.bodymap import load_bodymap
from charting.models import Patient, Visit
from charting.models.db import Database
from charting.services.demo import create_demo_clinic
from charting.services.report_data import course_report, visit_report


def test_each_visit_of_a_course_report_holds_what_its_own_summary_reads(
    database: Database,
) -> None:
    """The course report reads its visits' marks, EA pairs, handouts, pain drawings, events,
    amendments and warnings table by table for all visits at once; every visit still gets
    exactly its own rows, the same as its treatment summary reads them."""
    bodymap = load_bodymap()
    with database.write() as session:
        create_demo_clinic(session, 6, 5)
    with database.read() as session:
        patients = list(session.scalars(select(Patient.id)))
        compared = []
        for pid in patients:
            for visit in course_report(session, pid, bodymap).visits:
                assert visit == visit_report(session, visit.id, bodymap).visit
                compared.append(visit)
        assert len(compared) == session.query(Visit).count()
        assert any(v.marks and v.ea_pairs and v.handouts for v in compared)
        assert any(v.pain_areas for v in compared)


def test_a_course_report_reads_its_visits_in_a_few_statements(database: Database) -> None:
    """Reading a course for its PDF takes the same few statements however many visits it
    has: no table (warnings, acknowledgements, consents, next appointment included) is read
    visit by visit (a whole-clinic export reads thousands of courses)."""
    bodymap = load_bodymap()
    with database.write() as session:
        create_demo_clinic(session, 2)
    with database.read() as session:
        pid = session.scalars(select(Patient.id)).first()
        assert pid is not None
        statements: list[str] = []

        def count(*args: object) -> None:
            statements.append(str(args[2]))

        event.listen(database.engine, "before_cursor_execute", count)
        try:
            course = course_report(session, pid, bodymap)
        finally:
            event.remove(database.engine, "before_cursor_execute", count)
    visits = len(course.visits)
    assert visits >= 5
    assert len(statements) <= 30

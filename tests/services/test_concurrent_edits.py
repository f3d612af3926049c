"""Two workstations editing one visit: the second writer is told, never silently overwrites."""

from __future__ import annotations

import pytest
from sqlalchemy.orm.exc import StaleDataError

from charting.models import Visit
from charting.models.db import Database
from charting.models.migrate import open_database
from charting.services.patients import create_patient
from charting.services.visit_record import (
    ConcurrentEditError,
    current_version,
    record,
    update_fields,
)
from charting.services.visits import start_visit
from tests.factories import patient_input


@pytest.fixture
def workstations(database: Database, database_url: str, tmp_path) -> tuple[Database, Database]:  # type: ignore[no-untyped-def]
    """Two separately opened handles on one database, the practitioner signed in on both (a
    draft is written by its own practitioner only; they may chart from two rooms)."""
    other = open_database(database_url, tmp_path / "backups").database
    other.actor = database.actor
    yield database, other
    other.dispose()


@pytest.fixture
def visit_id(database: Database, practitioner_id: int) -> int:
    """A draft visit."""
    with database.write() as session:
        patient_id, _ = create_patient(session, patient_input())
        vid, _ = start_visit(session, patient_id, practitioner_id)
    return vid


def test_a_save_from_a_stale_copy_is_refused_and_names_who_changed_it(
    workstations: tuple[Database, Database], visit_id: int
) -> None:
    """A reads the visit, B saves, A saves: A is told and B's text stays."""
    a, b = workstations
    with a.read() as session:
        seen_by_a = current_version(session, visit_id)
    with b.read() as session:
        seen_by_b = current_version(session, visit_id)
    with b.write() as session:
        update_fields(session, visit_id, {"palpation": "B: tender L5"}, expected_version=seen_by_b)
    stale = pytest.raises(ConcurrentEditError, match="changed on another workstation")
    with stale as caught, a.write() as session:
        update_fields(session, visit_id, {"palpation": "A: tender L4"}, expected_version=seen_by_a)
    assert "was not saved" in str(caught.value)
    with a.read() as session:
        assert record(session, visit_id)["palpation"] == "B: tender L5"
        fresh = current_version(session, visit_id)
    with a.write() as session:  # after reloading, A can save again
        update_fields(session, visit_id, {"palpation": "A: tender L4-L5"}, expected_version=fresh)
    with b.read() as session:
        assert record(session, visit_id)["palpation"] == "A: tender L4-L5"


def test_each_save_moves_the_version_on(database: Database, visit_id: int) -> None:
    """One workstation saving field after field keeps its own version up to date."""
    version = None
    for n in range(3):
        with database.write() as session:
            if version is None:
                version = current_version(session, visit_id)
            update_fields(session, visit_id, {"posture": f"take {n}"}, expected_version=version)
            new = current_version(session, visit_id)
        assert new == version + 1
        version = new


def test_the_orm_refuses_an_update_of_a_row_changed_underneath_it(
    workstations: tuple[Database, Database], visit_id: int
) -> None:
    """The version column also guards the ORM: a flush against a changed row raises."""
    a, b = workstations
    with a.write() as session_a:
        visit = session_a.get(Visit, visit_id)
        assert visit is not None
        # Another workstation commits while A holds a loaded copy (simulated on one
        # connection by bumping the version the way B's save would; on the raw connection,
        # which the record guard does not see).
        session_a.connection().execute(
            Visit.__table__.update()  # type: ignore[attr-defined]
            .where(Visit.__table__.c.id == visit_id)  # type: ignore[attr-defined]
            .values(version=Visit.__table__.c.version + 1)  # type: ignore[attr-defined]
        )
        visit.posture = "A's stale change"
        with pytest.raises(StaleDataError):
            session_a.flush()
        session_a.rollback()
    with b.read() as session:
        assert record(session, visit_id)["posture"] == ""


def test_a_mark_and_an_ea_pair_edited_from_a_stale_copy_are_refused(
    workstations: tuple[Database, Database], visit_id: int
) -> None:
    """Two workstations on one mark (and one EA pair): the second save, made from the copy
    read before the first, is refused and the first one's values stay."""
    from charting.bodymap import load_bodymap
    from charting.services.marks import MarkDetails, add_marks, list_marks, update_details
    from charting.services.visit_record import EASettings, add_ea_pair, ea_pairs, update_ea_pair
    from tests.factories import point_spec

    a, b = workstations
    with a.write() as session:
        (m1, m2), _ = add_marks(
            session, load_bodymap(), visit_id, [point_spec("BL23", "L"), point_spec("BL25", "L")]
        )
        pair_id, _ = add_ea_pair(session, visit_id, m1, m2, EASettings(minutes=20))
    with a.read() as session:
        seen_mark = list_marks(session, visit_id)[0].version
        seen_pair = ea_pairs(session, visit_id)[0].version
    with b.write() as session:
        update_details(session, m1, MarkDetails("manual", 25.0, note="B"), seen_mark)
        update_ea_pair(session, pair_id, EASettings(minutes=30), seen_pair)
    with pytest.raises(ConcurrentEditError, match="This mark was changed"), a.write() as s:
        update_details(s, m1, MarkDetails("manual", 15.0, note="A"), seen_mark)
    with pytest.raises(ConcurrentEditError, match="This EA pair was changed"), a.write() as s:
        update_ea_pair(s, pair_id, EASettings(minutes=10), seen_pair)
    with a.read() as session:
        assert list_marks(session, visit_id)[0].spec.note == "B"
        assert ea_pairs(session, visit_id)[0].minutes == 30

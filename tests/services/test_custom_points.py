"""The clinic's custom points: validation, permissions, audit, retire, and what a signed visit
keeps when one is edited or retired later."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from sqlalchemy import select

from charting.bodymap import load_bodymap
from charting.models import AuditEvent, CustomPoint, Role, Visit
from charting.models.db import Database
from charting.reports.course_report import build_course_report
from charting.reports.visit_summary import build_visit_summary
from charting.services import custom_points as cp
from charting.services.access import PermissionDeniedError
from charting.services.custom_points import CustomPointInput
from charting.services.errors import ValidationError
from charting.services.exports import (
    ACUPOINT_SYSTEM,
    CUSTOM_POINT_SYSTEM,
    patient_bundle,
    validate_bundle,
    write_csv,
)
from charting.services.marks import MarkSpec, add_marks, list_marks, repeat_visit, retired_points
from charting.services.report_data import course_report, visit_report
from charting.services.signatures import problems
from charting.services.visit_record import sign_visit
from charting.services.visits import start_visit
from tests.factories import add_account, count_needles_out, point_spec

BM = load_bodymap()


def _spot(code: str = "BL57", side: str = "L", dx: float = -12.0, dy: float = 8.0) -> tuple:
    """A spot on the posterior view a little away from a catalog point."""
    pos = BM.position(code, side, "posterior")  # type: ignore[arg-type]
    assert pos is not None
    return pos[0] + dx, pos[1] + dy


def _entry(**overrides: object) -> CustomPointInput:
    x, y = _spot()
    values: dict[str, object] = {
        "code": "C-CALF",
        "name": "Calf knot point",
        "view": "posterior",
        "x": x,
        "y": y,
        "location": "Belly of the calf, a finger lateral to BL57",
        "cautions": "Press first; needle shallow.",
        "safe_depth_mm": 25.0,
    }
    values.update(overrides)
    return CustomPointInput(**values)  # type: ignore[arg-type]


def _add(database: Database, **overrides: object) -> int:
    with database.write() as session:
        point_id, changes = cp.add_custom_point(session, _entry(**overrides))
    assert point_id in changes.custom_points
    return point_id


def _errors(database: Database, **overrides: object) -> dict[str, str]:
    with pytest.raises(ValidationError) as caught, database.write() as session:
        cp.add_custom_point(session, _entry(**overrides))
    return caught.value.errors


def _charted(database: Database, make_patient, practitioner_id: int, sign: bool = False) -> int:  # type: ignore[no-untyped-def]
    """A visit with the custom point C-CALF (added here) on the left and BL23 on the right."""
    _add(database)
    patient_id = make_patient()
    with database.write() as session:
        bodymap = cp.clinic_bodymap(session)
        vid, _ = start_visit(session, patient_id, practitioner_id)
        pos = bodymap.position("C-CALF", "L", "posterior")
        assert pos is not None
        spec = MarkSpec("acupoint", "posterior", *pos, "L", point_code="C-CALF")
        add_marks(session, bodymap, vid, [spec, point_spec("BL23", "R")])
        if sign:
            count_needles_out(session, vid)
            sign_visit(session, vid, practitioner_id)
    return vid


def test_a_custom_point_is_stored_in_model_units_and_joins_the_clinic_map(
    database: Database,
) -> None:
    """The stored point keeps its view and position; the clinic's map places, finds and
    hit-tests it on both sides, marked custom."""
    _add(database)
    with database.read() as session:
        (row,) = cp.list_custom_points(session)
        bodymap = cp.clinic_bodymap(session)
    assert (row.code, row.view, (row.x, row.y), row.laterality) == (
        "C-CALF",
        "posterior",
        _spot(),
        "bilateral",
    )
    assert row.added_by == "Ana Ruiz" and row.uses == 0
    point = bodymap.point("C-CALF")
    assert point.custom and point.flags == frozenset()
    assert bodymap.search("calf knot")[0].code == "C-CALF"
    right = bodymap.position("C-CALF", "R", "posterior")
    assert right is not None
    hit = bodymap.nearest_point("posterior", *right)
    assert hit is not None and (hit.point.code, hit.side) == ("C-CALF", "R")
    assert not load_bodymap().is_custom("C-CALF")  # the shared catalog is untouched


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"name": "  "}, "name", "Give the point a name"),
        ({"code": ""}, "code", "short code"),
        ({"code": "bl23"}, "code", "BL23 is a catalog point"),
        ({"code": "1ABC"}, "code", "starting with a letter"),
        ({"view": "dorsal"}, "view", "Unknown body-map view"),
        ({"x": 2.0, "y": 2.0}, "position", "off the body"),
        ({"x": 99_999.0}, "position", "outside the Posterior view"),
        ({"safe_depth_mm": 0.0}, "safe_depth_mm", "between 0 and 150 mm"),
    ],
)
def test_bad_custom_points_are_refused_in_words(
    database: Database, overrides: dict[str, object], field: str, words: str
) -> None:
    """An empty name or code, a catalog code, an unknown view, a spot off the body or outside
    the view, a zero safe depth: each refused with a readable message on its field."""
    errors = _errors(database, **overrides)
    assert words in errors[field]
    with database.read() as session:
        assert cp.list_custom_points(session) == []


def test_a_code_cannot_be_used_twice(database: Database) -> None:
    """A second custom point with the same code (any case) is refused, naming the first."""
    _add(database)
    errors = _errors(database, code="c-calf", name="Other")
    assert "already the clinic's custom point 'Calf knot point'" in errors["code"]


def test_front_desk_may_not_add_custom_points(database: Database) -> None:
    """Front desk is refused in words; practitioners and clinic admins may add."""
    desk = database.acting_as(add_account(database, "desk", Role.FRONT_DESK))
    with pytest.raises(PermissionDeniedError, match="practitioners and clinic admins"):
        _add(desk)
    admin = database.acting_as(add_account(database, "boss", Role.ADMIN))
    _add(admin, code="C-ADMIN")
    point_id = _add(database)
    with pytest.raises(PermissionDeniedError), desk.write() as session:
        cp.retire_custom_point(session, point_id)


def test_adding_editing_and_retiring_are_audited(database: Database) -> None:
    """Each change of a custom point is in the audit log under the account that made it."""
    point_id = _add(database)
    with database.write() as session:
        cp.update_custom_point(session, point_id, _entry(name="Calf point"))
    with database.write() as session:
        cp.retire_custom_point(session, point_id)
    with database.read() as session:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.action.like("custom_point.%"))
        ).all()
    assert [e.action for e in events] == [
        "custom_point.add",
        "custom_point.update",
        "custom_point.update",
    ]
    assert all(e.username == "ana" for e in events)
    assert "C-CALF" in events[0].detail and "retired" in events[2].detail


def test_a_retired_point_is_not_offered_but_old_marks_still_read(
    database: Database, make_patient, practitioner_id: int
) -> None:  # type: ignore[no-untyped-def]
    """Retired: not drawn, hit or searched; the visits that used it still name it."""
    vid = _charted(database, make_patient, practitioner_id)
    with database.read() as session:
        (row,) = cp.list_custom_points(session)
    with database.write() as session:
        cp.retire_custom_point(session, row.id)
    with database.read() as session:
        bodymap = cp.clinic_bodymap(session)
        marks = list_marks(session, vid, bodymap)
    assert bodymap.search("C-CALF") == []
    assert bodymap.nearest_point("posterior", *_spot()) is None or (
        bodymap.nearest_point("posterior", *_spot()).point.code != "C-CALF"  # type: ignore[union-attr]
    )
    assert bodymap.point("C-CALF").retired
    assert [m.custom for m in marks] == [True, False]


def test_a_retired_point_is_not_charted_anew_and_repeat_last_visit_leaves_it_out(
    database: Database, make_patient, practitioner_id: int
) -> None:  # type: ignore[no-untyped-def]
    """Once retired, a custom point cannot be marked on a new visit (in words, whatever the
    path), and repeating a visit that used it copies the other marks only."""
    first = _charted(database, make_patient, practitioner_id, sign=True)
    with database.read() as session:
        (row,) = cp.list_custom_points(session)
    with database.write() as session:
        cp.retire_custom_point(session, row.id)
    with database.write() as session:
        bodymap = cp.clinic_bodymap(session)
        patient_id = session.get(Visit, first).patient_id  # type: ignore[union-attr]
        second, _ = start_visit(session, patient_id, practitioner_id)
    pos = bodymap.position("C-CALF", "L", "posterior")
    assert pos is not None
    with pytest.raises(ValidationError) as caught, database.write() as session:
        spec = MarkSpec("acupoint", "posterior", *pos, "L", point_code="C-CALF")
        add_marks(session, bodymap, second, [spec])
    assert "retired custom point" in caught.value.errors["point_code"]
    with database.write() as session:
        previous = list_marks(session, first, bodymap)
        assert retired_points(bodymap, previous) == ["C-CALF"]
        repeat_visit(session, bodymap, second, first)
    with database.read() as session:
        copied = list_marks(session, second)
    assert [m.spec.point_code for m in copied] == ["BL23"]


def test_a_used_point_keeps_its_code_name_and_position_and_cannot_be_deleted(
    database: Database, make_patient, practitioner_id: int
) -> None:  # type: ignore[no-untyped-def]
    """Once marked, changing the name, position or cautions is refused in words, deleting
    too; the location text can still change."""
    _charted(database, make_patient, practitioner_id)
    with database.read() as session:
        (row,) = cp.list_custom_points(session)
    assert row.uses == 1
    with pytest.raises(ValidationError) as caught, database.write() as session:
        cp.update_custom_point(
            session, row.id, _entry(name="Renamed", x=row.x + 5, cautions="Other")
        )
    assert set(caught.value.errors) == {"name", "position", "cautions"}
    assert "used in charted visits" in caught.value.errors["name"]
    with pytest.raises(ValidationError, match="retire it instead"), database.write() as session:
        cp.delete_custom_point(session, row.id)
    with database.write() as session:
        cp.update_custom_point(session, row.id, _entry(location="Two fingers below BL57"))
    with database.read() as session:
        assert cp.list_custom_points(session)[0].location == "Two fingers below BL57"


def test_an_unused_point_can_be_deleted(database: Database) -> None:
    """A point no mark uses is deleted outright."""
    point_id = _add(database)
    with database.write() as session:
        cp.delete_custom_point(session, point_id)
    with database.read() as session:
        assert session.scalars(select(CustomPoint)).all() == []


def test_a_signed_visit_reads_the_same_after_its_custom_point_changes(
    database: Database, make_patient, practitioner_id: int, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """Editing the location text and retiring the point leave the signature valid and the
    printed summary's text unchanged."""
    from pypdf import PdfReader

    vid = _charted(database, make_patient, practitioner_id, sign=True)

    def summary_text(name: str) -> str:
        with database.read() as session:
            report = visit_report(session, vid, cp.clinic_bodymap(session))
            bodymap = cp.clinic_bodymap(session)
        target = tmp_path / name
        build_visit_summary(report, bodymap, str(target), invariant=True)
        return "".join(page.extract_text() for page in PdfReader(target).pages)

    before = summary_text("before.pdf")
    with database.read() as session:
        (row,) = cp.list_custom_points(session)
    with database.write() as session:
        cp.update_custom_point(session, row.id, _entry(location="Changed later."))
    with database.write() as session:
        cp.retire_custom_point(session, row.id)
    with database.read() as session:
        assert problems(session, [vid]) == {vid: None}
    assert summary_text("after.pdf") == before
    assert "C-CALF" in before and "custom point of this clinic" in before


def test_the_course_report_stars_custom_points(
    database: Database, make_patient, practitioner_id: int, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """The course report lists C-CALF* and explains the star as a custom point."""
    from pypdf import PdfReader

    vid = _charted(database, make_patient, practitioner_id)
    with database.read() as session:
        bodymap = cp.clinic_bodymap(session)
        from charting.models import Visit

        pid = session.get(Visit, vid).patient_id  # type: ignore[union-attr]
        report = course_report(session, pid, bodymap)
    build_course_report(report, bodymap, str(tmp_path / "course.pdf"))
    text = "".join(p.extract_text() for p in PdfReader(tmp_path / "course.pdf").pages)
    assert "C-CALF*" in text and "custom point of this clinic" in text


def test_csv_and_fhir_carry_custom_points_as_custom(
    database: Database, make_patient, practitioner_id: int, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """marks.csv flags the mark, custom_points.csv lists the point (in the data dictionary),
    and FHIR codes it in the clinic's own system, never the standard one."""
    vid = _charted(database, make_patient, practitioner_id)
    with database.read() as session:
        bodymap = cp.clinic_bodymap(session)
        from charting.models import Visit

        pid = session.get(Visit, vid).patient_id  # type: ignore[union-attr]
    admin = database.acting_as(add_account(database, "boss", Role.ADMIN))
    with admin.read() as session:
        write_csv(session, [pid], tmp_path)
        bundle = patient_bundle(session, pid, bodymap)
    with (tmp_path / "marks.csv").open(encoding="utf-8-sig") as handle:
        marks = {r["point_code"]: r for r in csv.DictReader(handle)}
    assert marks["C-CALF"]["custom_point"] == "yes" and marks["BL23"]["custom_point"] == ""
    assert marks["C-CALF"]["pinyin"] == "Calf knot point"
    with (tmp_path / "custom_points.csv").open(encoding="utf-8-sig") as handle:
        (point,) = list(csv.DictReader(handle))
    assert (point["code"], point["name"], point["view"]) == (
        "C-CALF",
        "Calf knot point",
        "posterior",
    )
    dictionary = (tmp_path / "data_dictionary.csv").read_text(encoding="utf-8-sig")
    assert "custom_points.csv" in dictionary
    sites = [
        coding
        for entry in bundle["entry"]
        if entry["resource"]["resourceType"] == "Procedure"
        for site in entry["resource"].get("bodySite", [])
        for coding in site["coding"]
    ]
    custom = [c for c in sites if c["code"] == "C-CALF"]
    assert custom and all(c["system"] == CUSTOM_POINT_SYSTEM for c in custom)
    assert "custom point" in custom[0]["display"]
    assert all(c["system"] == ACUPOINT_SYSTEM for c in sites if c["code"] == "BL23")
    assert validate_bundle(json.loads(json.dumps(bundle)), load_bodymap()) == []


def test_a_custom_code_in_the_standard_system_is_refused(
    database: Database, make_patient, practitioner_id: int
) -> None:  # type: ignore[no-untyped-def]
    """A custom point passed off as a WHO code (standard system) fails validation."""
    vid = _charted(database, make_patient, practitioner_id)
    with database.read() as session:
        bodymap = cp.clinic_bodymap(session)
        from charting.models import Visit

        pid = session.get(Visit, vid).patient_id  # type: ignore[union-attr]
        bundle = patient_bundle(session, pid, bodymap)
    for entry in bundle["entry"]:
        for site in entry["resource"].get("bodySite", []):
            for coding in site["coding"]:
                coding["system"] = ACUPOINT_SYSTEM
    assert any("C-CALF is not an acupoint" in p for p in validate_bundle(bundle, load_bodymap()))


def test_custom_points_survive_a_csv_export_and_import(
    database: Database, make_patient, practitioner_id: int, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """Exported and imported into an empty database, the custom point comes back, its signed
    visit still verifies, and the new clinic's map knows the mark as custom; an export made
    before custom points existed (no custom_points.csv) still imports."""
    from charting.config import sqlite_url
    from charting.models.migrate import open_database
    from charting.services.exports import select_patient_ids
    from charting.services.importer import import_export
    from charting.services.visit_record import verify_signature
    from tests.factories import sign_in_test_user

    vid = _charted(database, make_patient, practitioner_id, sign=True)
    admin = database.acting_as(add_account(database, "boss", Role.ADMIN))
    with admin.read() as session:
        write_csv(session, select_patient_ids(session), tmp_path / "csv")
        (before,) = cp.list_custom_points(session)
    empty = open_database(sqlite_url(tmp_path / "empty.sqlite3"), tmp_path / "b2").database
    empty.actor = sign_in_test_user(empty)
    with empty.write() as session:
        summary = import_export(session, tmp_path / "csv")
    assert summary.counts["custom_points.csv"] == 1
    with empty.read() as session:
        (after,) = cp.list_custom_points(session)
        assert verify_signature(session, vid)
        marks = list_marks(session, vid, cp.clinic_bodymap(session))
    keep = ("code", "name", "view", "x", "y", "laterality", "location", "cautions")
    assert [getattr(after, k) for k in keep] == [getattr(before, k) for k in keep]
    assert after.safe_depth_mm == before.safe_depth_mm and after.uses == 1
    assert [m.custom for m in marks] == [True, False]
    empty.dispose()
    (tmp_path / "csv" / "custom_points.csv").unlink()
    older = open_database(sqlite_url(tmp_path / "older.sqlite3"), tmp_path / "b3").database
    older.actor = sign_in_test_user(older)
    with older.write() as session:
        assert "custom_points.csv" not in import_export(session, tmp_path / "csv").counts
    older.dispose()


def test_the_handout_says_which_points_are_the_clinics_own(
    database: Database, make_patient, practitioner_id: int
) -> None:  # type: ignore[no-untyped-def]
    """The aftercare handout's words say some points are the clinic's own, not standard."""
    from charting.reports.handout import what_was_done

    vid = _charted(database, make_patient, practitioner_id)
    with database.read() as session:
        report = visit_report(session, vid, cp.clinic_bodymap(session))
    assert "our clinic's own points, not standard acupuncture points" in what_was_done(report)
    with database.read() as session:
        catalog_only = visit_report(session, vid, load_bodymap())
    assert "clinic's own" not in what_was_done(catalog_only)

"""Marks service: what gets stored for each kind of mark, and what is refused."""

from __future__ import annotations

import pytest

from charting.bodymap import load_bodymap
from charting.models import Visit
from charting.models.db import Database
from charting.services.errors import ValidationError
from charting.services.marks import (
    MarkDetails,
    MarkSpec,
    SignedVisitError,
    add_marks,
    as_specs,
    delete_marks,
    delete_protocol,
    list_marks,
    list_protocols,
    move_mark,
    previous_marks,
    protocol_specs,
    restore_marks,
    save_protocol,
    update_details,
)
from charting.services.visits import start_visit
from tests.factories import point_spec

BM = load_bodymap()


@pytest.fixture
def visit_id(database: Database, make_patient, practitioner_id: int) -> int:  # type: ignore[no-untyped-def]
    """A draft visit of a fresh patient."""
    with database.write() as session:
        vid, _ = start_visit(session, make_patient(), practitioner_id)
    return vid


def test_acupoint_mark_stores_code_side_view_position(database: Database, visit_id: int) -> None:
    """BL23 on the left is stored with its code, side, view, position and default technique."""
    spec = point_spec("BL23", "L")
    with database.write() as session:
        (mid,), changes = add_marks(session, BM, visit_id, [spec])
    assert changes.marks == {mid} and changes.visits == {visit_id}
    with database.read() as session:
        (row,) = list_marks(session, visit_id, BM)
    assert (row.spec.point_code, row.spec.side, row.spec.view) == ("BL23", "L", "posterior")
    assert (row.spec.x, row.spec.y) == (spec.x, spec.y)
    assert row.spec.technique == "manual"
    assert row.label == "BL23 L"
    assert "KIDNEY" in row.flags


def test_trigger_point_keeps_muscle_and_exact_position(database: Database, visit_id: int) -> None:
    """A trigger point is stored with its muscle and the exact clicked position."""
    muscle = BM.muscle("quadratus_lumborum")
    x, y = BM.trigger_point_position(muscle.id, muscle.trigger_points[0].id, "R")
    spec = MarkSpec("trigger_point", "posterior", x + 0.37, y, "R", muscle_id=muscle.id)
    with database.write() as session:
        add_marks(session, BM, visit_id, [spec])
    with database.read() as session:
        (row,) = list_marks(session, visit_id)
    assert row.spec.muscle_id == "quadratus_lumborum"
    assert row.spec.x == pytest.approx(x + 0.37)
    assert row.spec.technique == "trigger_point"
    assert row.label.endswith(" R")


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        (MarkSpec("acupoint", "posterior", 430, 900, "L", point_code="XX99"), "point_code"),
        (MarkSpec("acupoint", "posterior", 430, 900, "L", point_code="GV4"), "side"),
        (MarkSpec("ashi", "posterior", 2, 2, "L"), "position"),
        (MarkSpec("ashi", "front", 430, 900, "L"), "view"),
        (MarkSpec("ashi", "posterior", 430, 900, "L", depth_mm=-3), "depth_mm"),
        (MarkSpec("ashi", "posterior", float("nan"), 900, "L"), "position"),
    ],
)
def test_bad_marks_are_refused_and_nothing_is_stored(
    database: Database, visit_id: int, spec: MarkSpec, field: str
) -> None:
    """Unknown points, wrong sides, off-body or absurd values are refused with a reason."""
    with pytest.raises(ValidationError) as info, database.write() as session:
        add_marks(session, BM, visit_id, [point_spec("BL23", "R"), spec])
    assert field in info.value.errors
    with database.read() as session:
        assert list_marks(session, visit_id) == []


def test_move_edit_delete_and_restore(database: Database, visit_id: int) -> None:
    """A mark can be moved, given details, deleted and restored with the same id."""
    with database.write() as session:
        (mid,), _ = add_marks(session, BM, visit_id, [point_spec("BL40", "R")])
    row = point_spec("BL40", "R")
    with database.write() as session:
        move_mark(session, BM, mid, row.x + 4, row.y - 3)
        update_details(session, mid, MarkDetails("electro", 25.0, "de_qi", "Strong de qi"))
    with database.read() as session:
        (moved,) = list_marks(session, visit_id)
    assert (moved.spec.x, moved.spec.y) == (row.x + 4, row.y - 3)
    assert (moved.spec.technique, moved.spec.depth_mm, moved.spec.response) == (
        "electro",
        25.0,
        "de_qi",
    )
    with database.write() as session:
        removed, _ = delete_marks(session, [mid])
    with database.read() as session:
        assert list_marks(session, visit_id) == []
    with database.write() as session:
        restore_marks(session, removed)
    with database.read() as session:
        assert list_marks(session, visit_id) == [moved]


def test_signed_visit_marks_cannot_change(database: Database, visit_id: int) -> None:
    """Once a visit is signed the service refuses to add, move or delete its marks."""
    with database.write() as session:
        (mid,), _ = add_marks(session, BM, visit_id, [point_spec("GV4", "M")])
        session.get(Visit, visit_id).status = "signed"  # type: ignore[union-attr]
    for action in (
        lambda s: add_marks(s, BM, visit_id, [point_spec("GV3", "M")]),
        lambda s: move_mark(s, BM, mid, 430, 1000),
        lambda s: delete_marks(s, [mid]),
    ):
        with pytest.raises(SignedVisitError), database.write() as session:
            action(session)


def test_previous_visit_marks_and_protocols(
    database: Database,
    make_patient,
    practitioner_id: int,  # type: ignore[no-untyped-def]
) -> None:
    """The previous visit's marks are found, and a protocol saves and re-applies marks."""
    pid = make_patient()
    with database.write() as session:
        first, _ = start_visit(session, pid, practitioner_id)
        add_marks(session, BM, first, [point_spec("BL23", "L"), point_spec("BL23", "R")])
        second, _ = start_visit(session, pid, practitioner_id)
    with database.read() as session:
        prev = previous_marks(session, second)
        assert [r.label for r in prev] == ["BL23 L", "BL23 R"]
        assert previous_marks(session, first) == []
    with database.write() as session:
        proto, _ = save_protocol(session, "  Acute   low back pain ", as_specs(prev))
        save_protocol(session, "acute low back pain", as_specs(prev[:1]))  # replaces
    with database.read() as session:
        assert list_protocols(session) == [(proto, "acute low back pain", 1)]
        specs = protocol_specs(session, proto)
    with database.write() as session:
        add_marks(session, BM, second, specs)
        delete_protocol(session, proto)
    with database.read() as session:
        assert [r.label for r in list_marks(session, second)] == ["BL23 L"]
        assert list_protocols(session) == []


def test_every_catalog_muscle_has_a_short_map_label() -> None:
    """Trigger-point labels stay compact: "TrP QL L", never the full muscle name."""
    from charting.services.marks import MUSCLE_ABBREVIATIONS, mark_label

    assert {m.id for m in BM.muscles} <= MUSCLE_ABBREVIATIONS.keys()
    spec = MarkSpec("trigger_point", "posterior", 0, 0, "L", muscle_id="quadratus_lumborum")
    assert mark_label(spec) == "TrP QL L"

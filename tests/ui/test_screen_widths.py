"""No screen forces the window wider than a 1024-pixel laptop screen can show."""

from __future__ import annotations

from charting.services.visits import start_visit

LONG_NAME = "Wolfeschlegelsteinhausen-Bergerdorff, Maximiliana Theodora Konstantina"


def test_opening_a_visit_and_returning_keeps_the_minimum_width_under_1000(
    qtbot, window, make_patient, practitioner_id
) -> None:  # type: ignore[no-untyped-def]
    """At 1024x768 a visit (long name and complaint) and the chart after it need <= 1000 px."""
    family, given = LONG_NAME.split(", ")
    pid = make_patient(family_name=family, given_name=given)
    with window.database.write() as session:
        vid, _ = start_visit(
            session,
            pid,
            practitioner_id,
            chief_complaint="Low back pain radiating to the left buttock and lateral calf, "
            "worse sitting, after lifting a suitcase three weeks ago",
        )
    window.resize(1024, 768)
    window.select_patient(pid)
    widths = {"chart": window.minimumSizeHint().width()}
    assert window.open_visit(vid)
    qtbot.wait(10)
    widths["visit"] = window.minimumSizeHint().width()
    window.visit_chart.pain_button.click()
    qtbot.wait(10)
    widths["pain drawing"] = window.minimumSizeHint().width()
    window.visit_chart.pain_button.click()
    window.close_visit()
    qtbot.wait(10)
    widths["back"] = window.minimumSizeHint().width()
    assert window.open_visit(vid)
    qtbot.wait(10)
    widths["visit again"] = window.minimumSizeHint().width()
    assert max(widths.values()) <= 1000, widths
    assert window.width() <= 1024
    window.close_visit()
    qtbot.wait(10)
    # Back on the chart the patient list has room for its columns (no "…" names).
    assert window.patient_list.isVisible()
    assert window.patient_list.width() >= 300


def test_names_in_the_patient_list_stay_readable_beside_the_day_list(
    qtbot, window, make_patient
) -> None:  # type: ignore[no-untyped-def]
    """At 1024x768 beside today's list, and narrowed by hand, every name has >= 150 px."""
    make_patient(family_name="Castellanos", given_name="Mira")
    window.resize(1024, 768)
    window.show()
    window.clinic_day.show_today()
    qtbot.wait(10)
    table = window.patient_list
    assert table.columnWidth(1) >= 150
    window.splitter.setSizes([260, 764])
    qtbot.wait(10)
    assert table.columnWidth(1) >= 150
    assert not table.isColumnHidden(2), "the date of birth always stays"
    window.splitter.setSizes([600, 424])
    qtbot.wait(10)
    assert not any(table.isColumnHidden(c) for c in range(5)), "room again: all columns back"

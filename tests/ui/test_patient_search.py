"""The patient list pane on its own: typing filters, Enter picks, a click picks a patient."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from charting.models.db import Database
from charting.ui.patient_search import PatientSearch


@pytest.fixture
def pane(qtbot, database: Database, make_patient) -> PatientSearch:  # type: ignore[no-untyped-def]
    """The pane, shown, listing three patients."""
    make_patient(family_name="Silva", given_name="João")
    make_patient(family_name="Santos", given_name="Ana")
    make_patient(family_name="Okafor", given_name="Chidi")
    made = PatientSearch(database)
    qtbot.addWidget(made)
    made.model.refresh()
    made.update_count()
    made.show()
    qtbot.waitExposed(made)
    return made


def _names(pane: PatientSearch) -> list[str]:
    return [pane.model.index(row, 1).data() for row in range(pane.model.rowCount())]


def test_typing_filters_the_list_after_a_pause_and_counts_the_matches(
    qtbot, pane: PatientSearch
) -> None:  # type: ignore[no-untyped-def]
    """Typing "s" lists the two names with an S and says how many match; clearing lists all."""
    assert pane.result_count.text() == "3 patients"
    with qtbot.waitSignal(pane.patient_chosen, timeout=2000) as chosen:
        qtbot.keyClicks(pane.search, "s")
    assert chosen.args == [None]  # two matches: nobody is chosen for the person
    assert sorted(_names(pane)) == ["Santos, Ana", "Silva, João"]
    pane.update_count()
    assert pane.result_count.text() == "2 patients matching \u201cs\u201d"

    pane.clear_search()
    assert pane.model.rowCount() == 3 and pane.search.text() == ""


def test_the_only_match_is_chosen_and_a_shown_patient_filtered_out_is_dropped(
    qtbot, pane: PatientSearch
) -> None:  # type: ignore[no-untyped-def]
    """A search with one result chooses that patient; a search that no longer lists the
    shown patient chooses nobody; one that still lists them keeps them."""
    with qtbot.waitSignal(pane.patient_chosen, timeout=2000) as chosen:
        qtbot.keyClicks(pane.search, "okaf")
    okafor = chosen.args[0]
    assert okafor is not None and _names(pane) == ["Okafor, Chidi"]

    pane.show_patient(okafor)
    assert pane.list.currentIndex().row() == 0
    pane.search.setText("si")
    with qtbot.waitSignal(pane.patient_chosen, timeout=2000) as chosen:
        pane.apply_search()
    assert chosen.args == [pane.model.patient_id(0)]  # Silva is the only match

    pane.show_patient(okafor)
    pane.search.setText("")
    with qtbot.waitSignal(pane.patient_chosen, timeout=2000) as chosen:
        pane.apply_search()
    assert chosen.args == [okafor]  # still listed: still shown

    pane.search.setText("santos")
    with qtbot.waitSignal(pane.patient_chosen, timeout=2000) as chosen:
        pane.apply_search()
    assert chosen.args[0] != okafor


def test_enter_picks_the_first_match_and_moves_to_the_list(qtbot, pane: PatientSearch) -> None:  # type: ignore[no-untyped-def]
    """Enter right after typing searches at once, chooses the first match and focuses the
    list, so the arrow keys go on from there."""
    chosen: list[object] = []
    pane.patient_chosen.connect(chosen.append)
    pane.search.setFocus()
    qtbot.keyClicks(pane.search, "s")
    qtbot.keyClick(pane.search, Qt.Key.Key_Return)
    assert chosen and chosen[-1] == pane.model.patient_id(0)
    assert pane.list.hasFocus()


def test_clicking_a_row_picks_that_patient_once(qtbot, pane: PatientSearch) -> None:  # type: ignore[no-untyped-def]
    """A click on a row says which patient was picked; clicking the same row again does not
    pick them twice, and showing a patient from elsewhere selects its row silently."""
    picked: list[int] = []
    pane.patient_picked.connect(picked.append)
    rect = pane.list.visualRect(pane.model.index(2, 1))
    qtbot.mouseClick(pane.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    third = pane.model.patient_id(2)
    assert picked == [third] and pane.shown_patient == third
    qtbot.mouseClick(pane.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert picked == [third]

    first = pane.model.patient_id(0)
    assert first is not None
    pane.show_patient(first)
    assert pane.list.currentIndex().row() == 0 and picked == [third]


def test_reset_forgets_the_search_the_list_and_the_shown_patient(
    qtbot, pane: PatientSearch
) -> None:  # type: ignore[no-untyped-def]
    """After a sign-out the pane keeps nothing of the last person's search."""
    chosen: list[object] = []
    pane.patient_chosen.connect(chosen.append)
    qtbot.keyClicks(pane.search, "silva")
    pane.show_patient(pane.model.patient_id(0))
    pane.reset()
    qtbot.wait(2 * 120 + 50)  # longer than the typing pause: no late search comes
    assert pane.search.text() == "" and pane.model.rowCount() == 0
    assert pane.shown_patient is None and chosen == []

"""The ICD-10-CM list: the back-pain codes offered, and picking them by typing."""

from __future__ import annotations

import pytest

from charting.services import clinical_lists as lists


def test_the_added_codes_are_offered() -> None:
    """Chronic pain, sacrococcygeal, sacroiliitis, sciatic nerve, segmental dysfunction,
    other dorsalgia and lumbosacral stenosis codes are on the list; deleted codes are not."""
    offered = lists.ids(lists.ICD10_CODES)
    for code in ("G89.29", "G89.4", "M53.3", "M46.1", "G57.01", "G57.02", "M99.03", "M99.04"):
        assert code in offered, code
    assert {"M54.89", "M48.07"} <= offered
    assert not offered & lists.DELETED_ICD10


@pytest.mark.parametrize(
    ("typed", "first", "only"),
    [
        ("g5702", "G57.02", True),
        ("G57.0", "G57.01", False),
        ("m54.4", "M54.40", False),
        ("sacroiliitis", "M46.1", True),
        ("coccyg", "M53.3", True),
        ("chronic pain", "G89.29", False),
        ("left sciatic", "M54.32", False),
    ],
)
def test_typing_part_of_a_code_or_its_words_finds_it(typed: str, first: str, only: bool) -> None:
    """A code typed in part (with or without its dot) or title words in any order find the
    code, code matches first."""
    found = [c.id for c in lists.match_codes(typed)]
    assert found[0] == first
    assert (len(found) == 1) == only


def test_nothing_typed_offers_everything_and_nonsense_nothing() -> None:
    """A blank search lists every code; words in no title find none."""
    assert lists.match_codes("  ") == list(lists.ICD10_CODES)
    assert lists.match_codes("zebra") == []

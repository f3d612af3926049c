"""Red flags need a recorded referral decision: signing refuses without one, and the summary
prints it; the decision is covered by the signature (format 4) without changing older ones."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader
from sqlalchemy import text

from charting.bodymap import load_bodymap
from charting.models import Visit, VisitStatus
from charting.models.db import Database
from charting.reports.visit_summary import build_visit_summary
from charting.services import clinical_lists as lists
from charting.services import signatures
from charting.services.errors import ValidationError
from charting.services.red_flags import ReferralDecisionError
from charting.services.report_data import visit_report
from charting.services.visit_record import sign_visit, update_fields
from charting.services.visits import start_visit
from tests.factories import count_needles_out

BM = load_bodymap()


@pytest.fixture
def visit_id(database: Database, make_patient, practitioner_id: int) -> int:  # type: ignore[no-untyped-def]
    """A draft visit whose needles are counted (so only the red flags can stop signing)."""
    with database.write() as session:
        vid, _ = start_visit(session, make_patient(), practitioner_id)
        count_needles_out(session, vid)
    return vid


def _set(database: Database, vid: int, **values: object) -> None:
    with database.write() as session:
        update_fields(session, vid, values)


def _sign(database: Database, vid: int, practitioner_id: int) -> None:
    with database.write() as session:
        sign_visit(session, vid, practitioner_id)


def _status(database: Database, vid: int) -> str:
    with database.read() as session:
        return session.get_one(Visit, vid).status


def _summary(database: Database, vid: int) -> str:
    with database.read() as session:
        report = visit_report(session, vid, BM)
    out = io.BytesIO()
    build_visit_summary(report, BM, out, invariant=True)
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(out.getvalue())).pages)


def test_the_red_flag_list_covers_the_referral_guidance() -> None:
    """The intake list has the flags guidance names that were missing: no improvement after a
    month, recent infection or wound, gait disturbance, inflammatory disease, cough/sneeze."""
    labels = {c.id: c.label.lower() for c in lists.RED_FLAGS}
    assert "month" in labels["no_improvement"]
    assert "infection" in labels["recent_infection"] and "wound" in labels["recent_infection"]
    assert "gait" in labels["gait"]
    assert "inflammatory" in labels["inflammatory"]
    assert "coughing" in labels["cough_sneeze"] and "sneezing" in labels["cough_sneeze"]


@pytest.mark.parametrize("flag", sorted(lists.ids(lists.RED_FLAGS)))
def test_any_ticked_flag_stops_signing_until_a_decision_is_recorded(
    database: Database, visit_id: int, practitioner_id: int, flag: str
) -> None:
    """Each red flag on its own refuses signing with a message naming it; the visit stays a
    draft; an urgent referral then lets it sign."""
    _set(database, visit_id, red_flags=[flag])
    with pytest.raises(ReferralDecisionError) as refused:
        _sign(database, visit_id, practitioner_id)
    label = next(c.label for c in lists.RED_FLAGS if c.id == flag)
    assert label in str(refused.value) and "referral decision" in str(refused.value)
    assert _status(database, visit_id) == VisitStatus.DRAFT.value
    _set(database, visit_id, referral_outcome="urgent")
    _sign(database, visit_id, practitioner_id)
    assert _status(database, visit_id) == VisitStatus.SIGNED.value


def test_not_referring_needs_a_reason(
    database: Database, visit_id: int, practitioner_id: int
) -> None:
    """ "Considered, not referred" is refused without a written reason and signs with one."""
    _set(database, visit_id, red_flags=["cancer_age"], referral_outcome="not_referred")
    with pytest.raises(ReferralDecisionError, match="write the reason"):
        _sign(database, visit_id, practitioner_id)
    _set(database, visit_id, referral_decision="Age 52, pain mechanical, eases with movement.")
    _sign(database, visit_id, practitioner_id)
    assert _status(database, visit_id) == VisitStatus.SIGNED.value


def test_a_visit_without_red_flags_signs_without_a_decision(
    database: Database, visit_id: int, practitioner_id: int
) -> None:
    """No ticked flag, no decision asked for."""
    _sign(database, visit_id, practitioner_id)
    assert _status(database, visit_id) == VisitStatus.SIGNED.value


def test_an_unknown_decision_is_refused(database: Database, visit_id: int) -> None:
    """Only the offered decisions can be stored."""
    with pytest.raises(ValidationError, match="Referral decision"):
        _set(database, visit_id, referral_outcome="maybe later")


def test_the_summary_prints_the_decision_or_its_absence(
    database: Database, visit_id: int, practitioner_id: int
) -> None:
    """A draft with a flag and no decision says so on paper; once decided, the summary
    prints the decision and its details."""
    _set(database, visit_id, red_flags=["night_pain"])
    assert "NOT RECORDED (required before signing)" in _summary(database, visit_id)
    _set(
        database,
        visit_id,
        referral_outcome="routine",
        referral_decision="Letter to GP for review of night pain",
    )
    _sign(database, visit_id, practitioner_id)
    text_ = " ".join(_summary(database, visit_id).split())
    assert "Routine referral (GP / physician)" in text_
    assert "Letter to GP for review of night pain" in text_


def test_the_decision_is_signed_and_older_layouts_hash_as_before(
    database: Database, visit_id: int, practitioner_id: int
) -> None:
    """A signed decision changed by SQL breaks the signature (format 4); a visit signed in
    format 3 does not cover the new column, so its signature still holds."""
    _set(database, visit_id, red_flags=["fever"], referral_outcome="urgent")
    with database.read() as session:
        rows = signatures.load_rows(session, [visit_id])[visit_id]
    assert "referral_outcome" in signatures.content_of(rows, 4)["record"]
    assert "referral_outcome" not in signatures.content_of(rows, 3)["record"]
    assert "referral_outcome" not in signatures.content_of(rows, 1)["record"]
    _sign(database, visit_id, practitioner_id)
    with database.write() as session:
        session.execute(
            text(f"UPDATE visit SET referral_outcome = 'routine' WHERE id = {visit_id}")
        )
    with database.read() as session:
        assert "changed after it was signed" in (
            signatures.signature_problem(session, visit_id) or ""
        )
        old = signatures.content_hash(session, visit_id, 3)
    with database.write() as session:
        session.execute(
            text(
                f"UPDATE visit SET signature_format = 3, content_hash = '{old}' "
                f"WHERE id = {visit_id}"
            )
        )
        session.execute(text("DELETE FROM audit_event WHERE action = 'visit.signed'"))
    with database.write() as session:
        session.execute(text(f"UPDATE visit SET referral_outcome = 'urgent' WHERE id = {visit_id}"))
    with database.read() as session:
        assert signatures.signature_problem(session, visit_id) is None

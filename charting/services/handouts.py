"""Aftercare handouts given to patients: events beside the visit, never part of its record.

Giving a handout is something that happens to a visit, often after it is signed (the
practitioner signs, then prints the handout at the desk). So it is stored as its own event
(who, when, how) and allowed whatever the visit's state; the signed record does not change.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from charting.models import HandoutIssue, Visit
from charting.services.access import Permission, require
from charting.services.changes import Changes
from charting.services.errors import NotFoundError, ValidationError

#: How a handout reached the patient.
HOW = {
    "printed": "printed",
    "saved": "saved as PDF",
    "opened": "opened as PDF",
    "by_hand": "given by hand",
    "recorded": "recorded as given",  # ticked before handouts became events
}


@dataclass(frozen=True)
class Issue:
    """One handout given: when, by whom, how."""

    at: datetime
    by: str
    how: str

    @property
    def text(self) -> str:
        """ "2026-12-04 10:31, printed by Ana Ruiz" (local time)."""
        who = f" by {self.by}" if self.by else ""
        return f"{self.at.astimezone():%Y-%m-%d %H:%M}, {HOW.get(self.how, self.how)}{who}"


def record_handout(session: Session, visit_id: int, how: str) -> Changes:
    """Record that the visit's aftercare handout was given (printed, saved, opened or by hand).

    Allowed on signed visits too; audited as ``handout_issue.add``.

    Raises:
        PermissionDeniedError: the account may not read clinical notes.
        NotFoundError: the visit does not exist.
        ValidationError: ``how`` is not one of :data:`HOW`.
    """
    actor = require(session, Permission.VIEW_CLINICAL, target=f"visit {visit_id}")
    visit = session.get(Visit, visit_id)
    if visit is None:
        raise NotFoundError("That visit no longer exists.")
    if how not in HOW or how == "recorded":
        raise ValidationError({"how": "Say how the handout was given."})
    # Audited by the write guard like every row (action "handout_issue.add").
    session.add(HandoutIssue(visit_id=visit_id, how=how, issued_by=actor.display_name))
    session.flush()
    return Changes(visits=frozenset({visit_id}))


def handout_issues(session: Session, visit_id: int) -> list[Issue]:
    """The handouts given for a visit, oldest first."""
    require(session, Permission.VIEW_CLINICAL)
    rows = session.execute(
        select(HandoutIssue.issued_at, HandoutIssue.issued_by, HandoutIssue.how)
        .where(HandoutIssue.visit_id == visit_id)
        .order_by(HandoutIssue.id)
    )
    return [Issue(*row) for row in rows]


def handout_issues_of(session: Session, visit_ids: Sequence[int]) -> dict[int, list[Issue]]:
    """Several visits' handouts given, each visit's oldest first (one statement)."""
    require(session, Permission.VIEW_CLINICAL)
    rows = session.execute(
        select(
            HandoutIssue.visit_id, HandoutIssue.issued_at, HandoutIssue.issued_by, HandoutIssue.how
        )
        .where(HandoutIssue.visit_id.in_(list(visit_ids)))
        .order_by(HandoutIssue.id)
    )
    out: dict[int, list[Issue]] = {vid: [] for vid in visit_ids}
    for vid, at, by, how in rows:
        out[vid].append(Issue(at, by, how))
    return out

"""Who may change a visit's record, checked where every write passes.

Two rules, written once here and applied by the flush listener in
:mod:`charting.services.audit` (every ORM change) and by the statement listener below (bulk
``insert()``/``update()``/``delete()`` statements), so no service, script or future path can
skip them:

* **A signed visit is closed.** Nothing of it changes: not the visit row, not its marks, EA
  pairs, adverse events or safety decisions. Corrections are amendments, kept beside it.
* **A draft belongs to its practitioner.** Only the visit's own practitioner writes to it;
  a colleague sees it read-only, and may take it over explicitly (the practitioner column
  changes to the colleague's own, and the audit log says so). Booking the next appointment
  is front-desk work and stays open to anyone allowed to book.

Charting's own system tasks (the demo generator, a restore) are not practitioners and are
exempt from the second rule, never from the first.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Table, event, inspect
from sqlalchemy.orm import ORMExecuteState, Session

from charting.models import (
    AdverseEvent,
    EAPair,
    Mark,
    NeedleCountResolution,
    PainArea,
    SafetyAcknowledgement,
    Visit,
    VisitStatus,
)
from charting.services.access import Actor, Permission, PermissionDeniedError, deny, require
from charting.services.errors import ServiceError

#: Rows that belong to a visit's record (a signature covers them).
VISIT_ROWS: tuple[type, ...] = (
    Mark,
    EAPair,
    AdverseEvent,
    SafetyAcknowledgement,
    NeedleCountResolution,
    PainArea,
)
#: Visit columns anyone allowed to book may set on a colleague's draft.
BOOKING_COLUMNS = frozenset({"next_appointment"})
#: ``session.info`` key: visits the take-over service is handing to the actor in this session.
TAKING_OVER = "taking_over"
_GUARDED_TABLES = frozenset({"visit", *(cls.__tablename__ for cls in VISIT_ROWS)})  # type: ignore[attr-defined]


class SignedVisitError(ServiceError):
    """The visit is signed; its record can no longer change (corrections are amendments)."""


class NotYourDraftError(PermissionDeniedError):
    """The draft belongs to another practitioner (it can be taken over explicitly)."""


def is_system(actor: Actor) -> bool:
    """Whether ``actor`` is Charting itself (a named system task) rather than a person."""
    return actor.user_id is None


@contextmanager
def system_task(session: Session, name: str) -> Iterator[None]:
    """Run a block of ``session`` as Charting's own task ``name`` (bulk writes allowed), then
    give the session back to the person it was acting for.

    For services that write many records at once after checking the person's permission and
    before auditing under their name (a whole-record import), where one-at-a-time checks
    would refuse rows the import must keep as they were (signed visits and their rows).
    """
    before = session.info.get("actor")
    session.info["actor"] = Actor.system(name)
    try:
        yield
    finally:
        session.info["actor"] = before


def _original(obj: Any, column: str) -> Any:
    """A column's value as loaded from the database, before this flush changed it."""
    history = inspect(obj).attrs[column].history
    if history.deleted:
        return history.deleted[0]
    if history.unchanged:
        return history.unchanged[0]
    return getattr(obj, column)


def draft_problem(actor: Actor, practitioner_id: int, practitioner_name: str = "") -> str | None:
    """Why ``actor`` may not write to a draft of ``practitioner_id``, or None if they may."""
    if is_system(actor) or actor.practitioner_id == practitioner_id:
        return None
    whose = f"{practitioner_name}'s" if practitioner_name else "another practitioner's"
    return (
        f"This draft is {whose} visit: it is shown read-only. Take it over first if you are "
        "continuing the treatment."
    )


def signed_problem() -> str:
    """What to tell someone who tries to change a signed visit."""
    return "This visit is signed and can no longer be changed; add an amendment instead."


def check_editable(session: Session, visit: Visit, *, booking_only: bool = False) -> None:
    """Refuse early, with the same words as the flush guard, when the session's actor may
    not write to ``visit`` (signed, or a colleague's draft). Services call this before they
    change anything; the guard itself still checks every row at flush.

    Raises:
        SignedVisitError: the visit is signed.
        NotYourDraftError: the draft is a colleague's.
    """
    actor = require(
        session,
        Permission.BOOK if booking_only else Permission.CHART,
        patient_id=visit.patient_id,
        target=f"visit {visit.id}",
    )
    if visit.status == VisitStatus.SIGNED.value:
        raise SignedVisitError(signed_problem())
    if not booking_only and draft_problem(actor, visit.practitioner_id) is not None:
        # The owner's name is read only to say whose draft it is (not on every click).
        name = visit.practitioner.name if visit.practitioner is not None else ""
        raise NotYourDraftError(draft_problem(actor, visit.practitioner_id, name) or "")


def _refuse(
    session: Session, actor: Actor, error: type[ServiceError], message: str, visit: Any, what: str
) -> None:
    target = f"visit {visit.id}" if getattr(visit, "id", None) is not None else ""
    deny(session, actor, what, message, getattr(visit, "patient_id", None), target)
    raise error(message)


def check_change(
    session: Session, actor: Actor, obj: object, verb: str, changed: list[str]
) -> None:
    """Refuse ``verb`` ("add", "update", "delete") of ``obj`` if the rules above forbid it.

    Called by the flush listener for every changed row of the record.

    Raises:
        SignedVisitError: the visit is signed.
        NotYourDraftError: the draft is a colleague's, or a visit is given to someone else.
    """
    if isinstance(obj, Visit):
        _check_visit(session, actor, obj, verb, changed)
    elif isinstance(obj, VISIT_ROWS):
        visit_ids = {getattr(obj, "visit_id", None)}
        if verb == "update" and "visit_id" in changed:
            visit_ids.add(_original(obj, "visit_id"))
        for visit_id in visit_ids - {None}:
            visit = session.get(Visit, visit_id)
            if visit is not None:
                _check_row_of(session, actor, visit, obj)


def _check_visit(
    session: Session, actor: Actor, visit: Visit, verb: str, changed: list[str]
) -> None:
    if verb == "add":
        if visit.status != VisitStatus.DRAFT.value and not is_system(actor):
            _refuse(
                session,
                actor,
                SignedVisitError,
                "A visit starts as a draft.",
                visit,
                "denied.visit.add",
            )
        if draft_problem(actor, visit.practitioner_id) is not None:
            _refuse(
                session,
                actor,
                NotYourDraftError,
                "A visit is started in your own name only.",
                visit,
                "denied.visit.add",
            )
        return
    if _original(visit, "status") == VisitStatus.SIGNED.value:
        _refuse(session, actor, SignedVisitError, signed_problem(), visit, f"denied.visit.{verb}")
    owner = _original(visit, "practitioner_id")
    if verb == "update" and "practitioner_id" in changed:
        # The one way a draft changes hands: a practitioner takes it over for themselves,
        # through the take-over service (which says so in the session and the audit log).
        if is_system(actor) or (
            visit.id in session.info.get(TAKING_OVER, ())
            and visit.practitioner_id == actor.practitioner_id
            and set(changed) <= {"practitioner_id"}
        ):
            return
        _refuse(
            session,
            actor,
            NotYourDraftError,
            "A visit's practitioner cannot be changed; a colleague's draft can only be taken "
            "over by the practitioner continuing it, for themselves.",
            visit,
            "denied.visit.reassign",
        )
    if verb == "update" and set(changed) <= BOOKING_COLUMNS:
        return
    if (problem := draft_problem(actor, owner)) is not None:
        _refuse(session, actor, NotYourDraftError, problem, visit, f"denied.visit.{verb}")


def _check_row_of(session: Session, actor: Actor, visit: Visit, row: object) -> None:
    noun = type(row).__tablename__  # type: ignore[attr-defined]
    if _original(visit, "status") == VisitStatus.SIGNED.value:
        _refuse(session, actor, SignedVisitError, signed_problem(), visit, f"denied.{noun}")
    if (problem := draft_problem(actor, visit.practitioner_id)) is not None:
        _refuse(session, actor, NotYourDraftError, problem, visit, f"denied.{noun}")


def _on_statement(state: ORMExecuteState) -> None:
    """Bulk statements skip the flush: refuse them on the record unless Charting runs them."""
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    session = state.session
    if "writer" not in session.info:
        return  # not one of Charting's sessions
    table = getattr(state.statement, "table", None)
    if not isinstance(table, Table) or table.name not in _GUARDED_TABLES:
        return
    actor = session.info.get("actor")
    if isinstance(actor, Actor) and is_system(actor):
        return
    raise PermissionDeniedError(
        f"Changes to the clinical record ({table.name}) go through Charting's services, "
        "one record at a time, so that each one is checked and audited."
    )


event.listen(Session, "do_orm_execute", _on_statement)

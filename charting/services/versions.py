"""Version checks for rows two workstations may edit at once (visits, marks, EA pairs,
adverse events): a change made from a stale copy is refused, naming who changed it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from charting.models import AuditEvent
from charting.services.access import actor_of
from charting.services.errors import ServiceError


class ConcurrentEditError(ServiceError):
    """The record changed (on another workstation) since the caller last read it."""


def last_change_by_other(session: Session, target: str) -> str:
    """Who last changed ``target`` ("visit 12", "mark 40"), in words for a message."""
    actor = actor_of(session)
    row = session.execute(
        select(AuditEvent.username, AuditEvent.at)
        .where(AuditEvent.target == target, AuditEvent.action.like("%.update"))
        .order_by(AuditEvent.seq.desc())
        .limit(1)
    ).first()
    if row is None or row.username == actor.username:
        return "on another workstation"
    return f"by {row.username} at {row.at.astimezone().strftime('%H:%M')}"


def check_version(session: Session, row: Any, expected: int | None, what: str) -> None:
    """Refuse to change ``row`` when its version is no longer ``expected`` (None: no check).

    Raises:
        ConcurrentEditError: the row changed since the caller read it.
    """
    if expected is None or row.version == expected:
        return
    table = inspect(row).mapper.local_table.name
    noun = "ea_pair" if table == "ea_pair" else table
    who = last_change_by_other(session, f"{noun} {row.id}")
    raise ConcurrentEditError(
        f"{what} was changed {who} after you opened it, so your change was not saved. "
        "Their version is shown now."
    )

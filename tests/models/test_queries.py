"""Query helpers shared by the services: long id lists as one parameter."""

from __future__ import annotations

from sqlalchemy import select

from charting.models import AuditEvent, Patient
from charting.models.db import Database, among


def test_among_finds_exactly_the_listed_ids_and_codes(database: Database, make_patient) -> None:  # type: ignore[no-untyped-def]
    """``among`` selects the rows whose column is in a list (ints or text), none for an empty
    list, and thousands of values pass as one parameter on either database."""
    ids = [make_patient(family_name=f"Among{i}") for i in range(4)]
    with database.read() as session:
        dialect = session.connection().dialect.name

        def found(values: list[int]) -> list[int]:
            query = select(Patient.id).where(among(Patient.id, values, dialect))
            return sorted(session.scalars(query))

        assert found([ids[1], ids[3], 10**9]) == [ids[1], ids[3]]
        assert found([]) == []
        assert found([*list(range(-5000, 0)), ids[0]]) == [ids[0]]
        logged = sorted(set(session.scalars(select(AuditEvent.target))) - {None})
        assert len(logged) >= 2
        targets = [logged[0], logged[-1], "no such target"]
        query = select(AuditEvent.target).where(among(AuditEvent.target, targets, dialect))
        assert set(session.scalars(query)) == set(targets[:2])

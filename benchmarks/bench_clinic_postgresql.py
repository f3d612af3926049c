"""The clinic benchmark's search, chart-open and visit-open measures on PostgreSQL.

The same 100,000-patient clinic, on a private server kept in ``benchmarks/.cache`` (unix
socket, fsync off: the measures read). The floor is the same hand-written SQL through bare
psycopg; the query counts show whether a screen's queries grow with the data (N+1).
"""

from __future__ import annotations

import psycopg

from benchmarks.bench_clinic import RawReader, screens
from benchmarks.clinic_data import BENCH_PASSWORD, BENCH_USER, postgresql_clinic
from benchmarks.common import report
from charting.models.migrate import open_database
from charting.services.accounts import sign_in
from tests.postgres import SUPERUSER


def run() -> None:
    """Measure and report."""
    cluster, clinic = postgresql_clinic()
    try:
        print(
            f"clinic on PostgreSQL {cluster.version()}: {clinic.patients:,} patients, "
            f"{clinic.visits:,} visits, {clinic.marks:,} marks"
        )
        database = open_database(clinic.url).database
        database.actor = sign_in(database, BENCH_USER, BENCH_PASSWORD)
        raw = RawReader(
            lambda: psycopg.connect(host=str(cluster.folder), user=SUPERUSER, dbname="clinic"),
            "%s",
        )
        try:
            measures = screens(database, clinic, raw)
        finally:
            raw.conn.close()
            database.dispose()
        report(
            "clinic_postgresql",
            measures,
            context={
                "backend": f"PostgreSQL {cluster.version()}",
                "patients": clinic.patients,
                "visits": clinic.visits,
                "marks": clinic.marks,
            },
        )
    finally:
        cluster.stop(keep=True)

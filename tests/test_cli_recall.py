"""The recall command: finds a lot's visits, writes the CSV, refuses bad input in one line."""

from __future__ import annotations

import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from charting.cli import main
from charting.models.db import Database
from charting.services.exports import read_csv_rows
from charting.services.visit_record import update_fields
from charting.services.visits import start_visit
from tests.factories import TEST_PASSWORD


def test_recall_writes_the_lot_visits_with_contact_details(
    database: Database,
    database_url: str,
    make_patient,  # type: ignore[no-untyped-def]
    practitioner_id: int,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`charting recall --lot L2291 --since DATE --out FILE` lists that lot's visits since DATE."""
    pid = make_patient(phone="555 0199")
    with database.write() as session:
        for lot, day in (("L2291", 3), ("L2291", 20), ("L9", 21)):
            vid, _ = start_visit(
                session, pid, practitioner_id, datetime(2026, 11, day, 15, tzinfo=UTC)
            )
            update_fields(session, vid, {"needle_lot": lot})
    monkeypatch.setenv("CHARTING_PASSWORD", TEST_PASSWORD)
    out = tmp_path / "recall.csv"
    code = main(
        [
            "--user",
            "ana",
            "recall",
            "--db",
            database_url,
            "--lot",
            "L2291",
            "--since",
            "2026-11-10",
            "--out",
            str(out),
        ]
    )
    assert code == 0, capsys.readouterr().err
    assert "1 visits of 1 patients (lot L2291, from 2026-11-10)" in capsys.readouterr().out
    rows = read_csv_rows(out)
    assert [(r["visit_date"], r["needle_lot"], r["phone"]) for r in rows] == [
        ("2026-11-20", "L2291", "555 0199")
    ]
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert (
        main(["--user", "ana", "recall", "--db", database_url, "--lot", "L2291", "--out", str(out)])
        == 1
    )
    assert "exists already" in capsys.readouterr().err
    assert (
        main(["--user", "ana", "recall", "--db", database_url, "--out", str(tmp_path / "n.csv")])
        == 1
    )
    assert "Give the lot number" in capsys.readouterr().err

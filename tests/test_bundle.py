"""The double-clickable bundle: PyInstaller builds it and its self-check passes."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from charting.selfcheck import run_self_check

ROOT = Path(__file__).resolve().parents[1]


def test_self_check_passes_from_source() -> None:
    """`charting --self-check` checks database, body map, PDFs and window, and exits 0."""
    out = io.StringIO()
    assert run_self_check(out) == 0
    text = out.getvalue()
    for check in (
        "database created and migrated",
        "body map loaded",
        "visit summary rendered",
        "aftercare handout rendered",
        "main window opened offscreen",
        "Self-check passed.",
    ):
        assert check in text


def test_self_check_reports_a_failure_with_its_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    """A broken part makes the self-check say what failed and return non-zero."""
    import charting.bodymap

    def broken() -> None:
        raise FileNotFoundError("acupoints.json is missing")

    monkeypatch.setattr(charting.bodymap, "load_bodymap", broken)
    out = io.StringIO()
    assert run_self_check(out) == 1
    assert "FAIL  body map loaded: FileNotFoundError: acupoints.json is missing" in out.getvalue()


@pytest.mark.slow
def test_bundle_builds_and_passes_its_self_check(tmp_path: Path) -> None:
    """build.spec makes a one-folder app whose --self-check passes offscreen."""
    pyinstaller = Path(sys.executable).with_name("pyinstaller")
    if not pyinstaller.exists():
        pytest.skip(
            "PyInstaller is not installed (it comes with the dist extra: pip install -e .[dist])"
        )
    build = subprocess.run(
        [
            str(pyinstaller),
            "--noconfirm",
            "--distpath",
            str(tmp_path / "dist"),
            "--workpath",
            str(tmp_path / "build"),
            str(ROOT / "build.spec"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    app = tmp_path / "dist" / "charting" / "charting"
    assert app.exists()
    for data in (
        "resources/bodymap/acupoints.json",
        "resources/fonts/DejaVuSans.ttf",
        "charting/models/migrations/env.py",
    ):
        assert list((tmp_path / "dist" / "charting").rglob(Path(data).name)), data
    # The PostgreSQL driver, for a clinic sharing one server (SQLAlchemy imports it by name).
    assert list((tmp_path / "dist" / "charting").rglob("psycopg_binary")), "psycopg is missing"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["QT_QPA_PLATFORM"] = "offscreen"
    check = subprocess.run(
        [str(app), "--self-check"],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=tmp_path,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert "Self-check passed." in check.stdout
    shutil.rmtree(tmp_path / "build", ignore_errors=True)

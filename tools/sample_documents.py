"""Build sample documents (visit summary, handout, course report) from a fictional patient and
render their pages to PNG under docs/samples/ for review.

Usage: ``.venv/bin/python tools/sample_documents.py [OUT_DIR]`` (needs pdftoppm).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from charting.bodymap import load_bodymap
from charting.config import sqlite_url
from charting.models import Role
from charting.models.migrate import open_database
from charting.reports.course_report import build_course_report
from charting.reports.handout import build_handout
from charting.reports.visit_summary import build_visit_summary
from charting.services.accounts import AccountInput, create_first_admin
from charting.services.custom_points import CustomPointInput, add_custom_point, clinic_bodymap
from charting.services.marks import MarkSpec, add_marks
from charting.services.pain_drawings import add_area
from charting.services.pain_measures import AreaShape
from charting.services.patients import PatientInput, create_patient
from charting.services.report_data import course_report, visit_report
from charting.services.settings import ClinicSettings, save_settings
from charting.services.visit_record import EASettings, add_adverse_event, add_ea_pair, update_fields
from charting.services.visits import start_visit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tools.day_samples import day_documents  # noqa: E402 (needs the project root on the path)


def main() -> int:
    """Write sample PDFs and PNG pages."""
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "samples"
    out.mkdir(parents=True, exist_ok=True)
    bm = load_bodymap()

    def spec(code: str, side: str, view: str = "posterior", **kw: object) -> MarkSpec:
        x, y = bm.position(code, side, view)  # type: ignore[arg-type, misc]
        return MarkSpec("acupoint", view, x, y, side, point_code=code, **kw)  # type: ignore[arg-type]

    with tempfile.TemporaryDirectory() as tmp:
        db = open_database(sqlite_url(Path(tmp) / "s.sqlite3")).database
        with db.write() as s:
            # Every write is made by a signed-in account; the practitioner is the clinic's
            # first account (an admin who treats).
            db.actor = create_first_admin(
                s,
                AccountInput(
                    username="mira",
                    display_name="Dr. Mira Castellanos",
                    roles={Role.ADMIN, Role.PRACTITIONER},
                    password="sample-documents-2026",
                    credentials="DAOM, L.Ac.",
                    licence_number="AC-004211",
                ),
            )
        prac = db.actor.practitioner_id
        assert prac is not None
        with db.write() as s:
            save_settings(
                s,
                ClinicSettings(
                    clinic_name="Cedar Street Acupuncture (fictional)",
                    clinic_address="12 Cedar Street, Springfield",
                    clinic_phone="+1 555 0100",
                    clinic_email="desk@example.org",
                ),
            )
            pid, _ = create_patient(
                s,
                PatientInput(
                    family_name="Nakamura",
                    given_name="Aiko",
                    date_of_birth=datetime(1979, 4, 26).date(),
                    sex="female",
                    anticoagulant=True,
                ),
            )
            # The clinic's own point beside the catalog's (charted and printed as custom).
            gb30 = bm.position("GB30", "L", "posterior")
            assert gb30 is not None
            add_custom_point(
                s,
                CustomPointInput(
                    "C-PIRI",
                    "Piriformis release point",
                    "posterior",
                    gb30[0] + 22,
                    gb30[1] - 14,
                    location="Midway between GB30 and the sacral border",
                    cautions="Sciatic nerve lies deep here.",
                    safe_depth_mm=50.0,
                ),
            )
            bm = clinic_bodymap(s)
            start = datetime(2026, 9, 7, 15, tzinfo=UTC)
            for i in range(8):
                vid, _ = start_visit(
                    s, pid, prac, start + timedelta(days=7 * i), "Low back pain with left sciatica"
                )
                ql = bm.muscle("quadratus_lumborum")
                tx, ty = bm.trigger_point_position(ql.id, ql.trigger_points[0].id, "L")
                ids, _ = add_marks(
                    s,
                    bm,
                    vid,
                    [
                        spec("BL23", "L", depth_mm=25),
                        spec("BL23", "R", depth_mm=25),
                        spec("BL25", "L", depth_mm=30, response="de_qi"),
                        spec("GB30", "L", depth_mm=50),
                        spec("C-PIRI", "L", depth_mm=35),
                        spec("BL40", "L", depth_mm=20),
                        spec("BL57", "L"),
                        spec("GB34", "L", "lateral_leg"),
                        spec("KI3", "L", "medial_leg"),
                        spec("ST36", "L", "anterior"),
                        spec("LR3", "R", "anterior"),
                        MarkSpec(
                            "trigger_point",
                            "posterior",
                            tx,
                            ty,
                            "L",
                            muscle_id=ql.id,
                            response="twitch",
                        ),
                        MarkSpec(
                            "cupping",
                            "posterior",
                            395,
                            620,
                            "L",
                            cup_type="dry",
                            cup_count=4,
                            cup_minutes=8,
                            skin_response="light redness",
                        ),
                    ],
                )
                add_ea_pair(
                    s,
                    vid,
                    ids[0],
                    ids[2],
                    EASettings("Dense-disperse", 2, 1.5, 20, "ITO ES-160", frequency2_hz=100),
                )
                update_fields(
                    s,
                    vid,
                    {
                        "pain_now": 8 - i // 2,
                        "pain_after": max(1, 5 - i // 2),
                        "odi_percent": 44 - 3 * i if i % 2 == 0 else None,
                        "retention_minutes": 25,
                        "needle_brand": "Seirin J",
                        "needle_gauge": "0.25 mm",
                        "needle_length": "60 mm",
                        "needle_lot": "L2291",
                        "needles_out": 12,
                        "icd10_codes": ["M54.42"],
                        "tcm_patterns": ["Qi and Blood stagnation"],
                        "home_advice": ["heat", "walking"],
                        "onset": "3 weeks ago, lifting a suitcase",
                        "radiation": "left buttock to calf",
                        "next_appointment": start + timedelta(days=7 * i + 7, hours=1),
                    },
                )
                # The pain drawing: low back and a band down the left leg that pulls back
                # towards the buttock as the course goes on (centralising).
                route = [("BL25", "L"), ("GB30", "L"), ("BL36", "L"), ("BL40", "L"), ("BL57", "L")]
                reach = route[: max(2, len(route) - i // 2)]
                line = tuple(bm.position(c, side, "posterior") for c, side in reach)  # type: ignore[misc]
                for area in (
                    AreaShape("posterior", "region", "patient", region="low_back", side="L",
                              quality="aching", intensity=8 - i // 2),
                    AreaShape("posterior", "stroke", "patient", line, 28.0, quality="burning",
                              intensity=6 - i // 2),
                ):  # fmt: skip
                    add_area(s, bm, vid, area)
                if i == 7:
                    update_fields(
                        s,
                        vid,
                        {
                            "red_flags": ["night_pain"],
                            "referral_outcome": "routine",
                            "referral_decision": "Letter to her GP about the night pain",
                        },
                    )
            add_adverse_event(s, vid, "bruising", "mild", "Pressure applied for 2 minutes")
        with db.read() as s:
            single = visit_report(s, vid, bm)
            course = course_report(s, pid, bm)
        created = datetime(2026, 11, 21, 9, 30, tzinfo=UTC)
        docs = {
            "visit-summary": lambda t: build_visit_summary(single, bm, t, created),
            "aftercare-handout": lambda t: build_handout(single, bm, t, created),
            "course-report": lambda t: build_course_report(course, bm, t, created),
            **day_documents(created),
        }
        for name, build in docs.items():
            pdf = out / f"{name}.pdf"
            build(str(pdf))
            subprocess.run(["pdftoppm", "-png", "-r", "70", str(pdf), str(out / name)], check=True)
            pdf.unlink()
        db.dispose()
    print(f"Samples written to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

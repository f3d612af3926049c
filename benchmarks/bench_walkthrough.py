"""Actions of the visit screen's walkthroughs (issue 17): ``python -m benchmarks walkthrough``.

Runs the walkthrough test (tests/ui/test_walkthrough.py, which drives the screen and asserts
what was stored) and writes its counts to ``benchmarks/results/walkthrough.json``. Counts
are exact (not timed), so the targets are asserted in the test itself.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pytest

from benchmarks.common import RESULTS
from benchmarks.walkthrough import FIRST_VISIT_TARGET, FOLLOW_UP_TARGET


def run() -> None:
    """Run the walkthroughs and write their counts."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "counts.json"
        os.environ["CHARTING_WALKTHROUGH_RESULTS"] = str(out)
        try:
            code = pytest.main(
                ["-q", "-p", "no:cacheprovider", "tests/ui/test_walkthrough.py"],
            )
        finally:
            del os.environ["CHARTING_WALKTHROUGH_RESULTS"]
        if code != 0 or not out.exists():
            raise SystemExit(f"walkthrough failed (pytest exit code {int(code)})")
        counts = json.loads(out.read_text())
    counts["first_visit"]["target"] = f"<= {FIRST_VISIT_TARGET} actions"
    counts["follow_up"]["target"] = f"<= {FOLLOW_UP_TARGET} actions"
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "walkthrough.json").write_text(json.dumps(counts, indent=2) + "\n")
    for name, c in counts.items():
        print(
            f"{name}: {c['actions']} actions ({c['clicks']} clicks, {c['chords']} key chords, "
            f"{c['wheel_steps']} wheel steps) + {c['characters']} typed characters "
            f"[{c['target']}]"
        )

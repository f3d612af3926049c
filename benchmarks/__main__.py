"""Run the benchmarks: ``python -m benchmarks [SUITE ...]`` (default: all)."""

from __future__ import annotations

import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# The benchmark clinics' audit keys and checkpoints live beside the cached clinics (so a
# cached clinic keeps its key), not in the user's own data folder.
os.environ.setdefault(
    "CHARTING_DATA_DIR", os.path.join(os.path.dirname(os.path.abspath(__file__)), ".cache", "data")
)

SUITES = ("bodymap", "pain", "reports", "clinic", "clinic_postgresql", "exports", "walkthrough")


def main(argv: list[str]) -> int:
    """Run the named suites (or all) and write their results under benchmarks/results/."""
    wanted = argv or list(SUITES)
    unknown = [s for s in wanted if s not in SUITES]
    if unknown:
        print(f"unknown suite(s): {', '.join(unknown)}; choose from {', '.join(SUITES)}")
        return 2
    for suite in wanted:
        module = __import__(f"benchmarks.bench_{suite}", fromlist=["run"])
        module.run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

"""Regenerate the body-map SVG artwork in resources/bodymap from the proportional model.

Usage: ``python tools/generate_bodymap.py [output_dir]`` (default: resources/bodymap).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from charting.bodymap.model import build_views
from charting.bodymap.resources import resource_path
from charting.bodymap.svg import render_svg


def generate(out_dir: Path) -> list[Path]:
    """Write one SVG per view into ``out_dir`` and return the paths written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for view_id, view in build_views().items():
        path = out_dir / f"{view_id}.svg"
        path.write_text(render_svg(view), encoding="utf-8")
        written.append(path)
    return written


def main(argv: list[str]) -> int:
    """Command-line entry point."""
    out_dir = Path(argv[1]) if len(argv) > 1 else resource_path("bodymap")
    for path in generate(out_dir):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))

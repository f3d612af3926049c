"""Find resource files (body-map artwork and catalogs, fonts, icons) the same way in the source
tree and in the PyInstaller bundle."""

from __future__ import annotations

import sys
from pathlib import Path


def resource_root() -> Path:
    """The ``resources`` folder: under ``sys._MEIPASS`` when frozen, else the repository root."""
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle) / "resources"
    return Path(__file__).resolve().parents[1] / "resources"


def resource_path(*parts: str) -> Path:
    """Path of a resource file, e.g. ``resource_path("bodymap", "acupoints.json")``."""
    return resource_root().joinpath(*parts)

"""Tests of the generated SVG artwork and the resource helper."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from charting.bodymap import VIEW_IDS, load_bodymap, resource_path
from charting.bodymap.resources import resource_root

TOOL = Path(__file__).resolve().parents[2] / "tools" / "generate_bodymap.py"


def _generate(out_dir: Path) -> None:
    spec = importlib.util.spec_from_file_location("generate_bodymap", TOOL)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.generate(out_dir)


@pytest.mark.parametrize("view_id", VIEW_IDS)
def test_committed_svgs_are_up_to_date(tmp_path: Path, view_id: str) -> None:
    """Regenerating the SVGs from the model reproduces the committed files exactly."""
    _generate(tmp_path)
    fresh = (tmp_path / f"{view_id}.svg").read_text("utf-8")
    assert fresh == resource_path("bodymap", f"{view_id}.svg").read_text("utf-8")


def test_svg_viewbox_is_the_model_extent() -> None:
    """Each SVG's viewBox equals the view's width and height in model units."""
    bm = load_bodymap()
    for view_id, view in bm.views.items():
        text = bm.svg_path(view_id).read_text("utf-8")
        assert f'viewBox="0 0 {view.width:g} {view.height:g}"' in text


def test_svgs_contain_no_acupoints() -> None:
    """The artwork holds no point codes: the app draws points itself."""
    for view_id in VIEW_IDS:
        text = resource_path("bodymap", f"{view_id}.svg").read_text("utf-8")
        assert "BL23" not in text and "GB30" not in text


def test_resource_path_uses_meipass_when_frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    """When frozen by PyInstaller, resources are found under sys._MEIPASS."""
    monkeypatch.setattr(sys, "_MEIPASS", "/bundle", raising=False)
    assert resource_root() == Path("/bundle") / "resources"
    monkeypatch.delattr(sys, "_MEIPASS")
    assert resource_path("bodymap", "acupoints.json").is_file()


def test_bodymap_does_not_import_qt() -> None:
    """Loading the body map in a fresh interpreter imports no Qt module."""
    code = (
        "import sys; from charting.bodymap import load_bodymap; load_bodymap(); "
        "print(any(m.startswith(('PySide6', 'shiboken6')) for m in sys.modules))"
    )
    root = str(Path(__file__).resolve().parents[2])
    env = {**os.environ, "PYTHONPATH": root}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert result.stdout.strip() == "False"

"""The interactive body map: graphics items, one scene per view, and the widget around them.

- :mod:`~charting.ui.bodymap.items`: how the artwork, points, marks and labels are painted;
- :mod:`~charting.ui.bodymap.scene`: one view's scene (marks in step with the visit, overlays,
  label layout);
- :mod:`~charting.ui.bodymap.view`: the widget (clicks, taps, drags, keys, wheel, pinch, zoom
  and region presets, the shared selection);
- :mod:`~charting.ui.bodymap.marks_model`: the marks as a list model the map and list share.

What a click places, the symbols' style, label placement and region presets are Qt-free and
live in :mod:`charting.bodymap`.
"""

from charting.ui.bodymap.marks_model import MarkIdRole, MarkListModel
from charting.ui.bodymap.view import BodyMapView

__all__ = ["BodyMapView", "MarkIdRole", "MarkListModel"]

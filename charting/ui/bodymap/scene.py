"""One view of the body map as a scene: its artwork, the visit's marks, overlays and labels."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence

from PySide6.QtCore import QObject, QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFontMetricsF, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem, QGraphicsScene

from charting.bodymap import BodyMap
from charting.bodymap.labels import Box, LabelRequest, keep_clear, leader_line, place_labels
from charting.bodymap.style import ALERT_COLOUR, EA_COLOUR
from charting.services.marks import MarkRow
from charting.ui.app_rules import plain_tooltip
from charting.ui.bodymap.items import (
    REFERRAL_COLOR,
    Z_EA,
    Z_REFERRAL,
    ArtworkItem,
    GuideTextItem,
    HoverMarker,
    MarkItem,
    PointsLayer,
    PregnancyLayer,
    polygon_path,
    qcolor,
    ui_font,
)
from charting.ui.pain.layer import PainLayer


class MapScene(QGraphicsScene):
    """The scene of one view, and the items the map keeps track of in it.

    Marks are synchronised by id (added, moved, relabelled or removed), the overlays that
    follow marks (EA leads, safety rings) are redrawn from the marks, and labels are laid out
    for a zoom with :func:`charting.bodymap.labels.place_labels`.
    """

    def __init__(self, bodymap: BodyMap, view_id: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.bodymap = bodymap
        self.view = view = bodymap.views[view_id]
        # Room around the figure, so zooming keeps the spot under the cursor and panning
        # can bring any part of the body to the middle.
        room = max(view.width, view.height)
        self.setSceneRect(QRectF(0, 0, view.width, view.height).adjusted(-room, -room, room, room))
        self.setBackgroundBrush(QColor("#ffffff"))
        self.artwork = ArtworkItem(view)
        self.addItem(self.artwork)
        self.guide_text = GuideTextItem(view)
        self.addItem(self.guide_text)
        self.points_layer = PointsLayer(bodymap, view)
        self.addItem(self.points_layer)
        self.pregnancy = PregnancyLayer(bodymap, view)
        self.addItem(self.pregnancy)
        # The visit's pain drawing under the marks: hidden until asked for, dimmed by default
        # so the points stay readable over it.
        self.pain = PainLayer(bodymap, view_id)
        self.pain.setVisible(False)
        self.pain.set_dimmed(True)
        self.addItem(self.pain)
        self.hover = HoverMarker()
        self.addItem(self.hover)
        self.marks: dict[int, MarkItem] = {}
        self.ghosts: dict[int, MarkItem] = {}
        self.referral: list[QGraphicsItem] = []
        self.referral_key: tuple[str, str] | None = None
        self.ea_lines: list[QGraphicsItem] = []
        # Safety rings by mark id, with the (x, y, title) they were drawn for.
        self.alerts: dict[int, tuple[tuple[float, float, str], QGraphicsItem]] = {}
        self._guide_boxes: tuple[float, list[tuple[float, float, float, float]]] | None = None
        self.laid_out_scale = 0.0

    # --- marks ------------------------------------------------------------------------------

    def caution(self, row: MarkRow) -> bool:
        """Whether a mark carries the depth-caution badge (over the lung)."""
        flags = set(row.flags)
        if row.kind == "acupoint" and row.spec.point_code:
            with contextlib.suppress(KeyError):
                flags |= self.bodymap.point(row.spec.point_code).flags
        return "LUNG" in flags

    def sync(
        self,
        items: dict[int, MarkItem],
        old: Mapping[int, MarkRow],
        new: Mapping[int, MarkRow],
        ghost: bool,
        ghosts_visible: bool = True,
    ) -> bool:
        """Bring ``items`` (marks or ghosts) in line with ``new``; True if anything changed."""
        view_id = self.view.id
        changed = False
        for mark_id in [i for i in items if i not in new or new[i].spec.view != view_id]:
            self.removeItem(items.pop(mark_id))
            changed = True
        for mark_id, row in new.items():
            if row.spec.view != view_id:
                continue
            item = items.get(mark_id)
            before = old.get(mark_id)
            if item is not None and (before is row or before == row):
                continue
            changed = True
            upc = self.bodymap.units_per_cun(view_id, row.spec.x, row.spec.y)
            caution = self.caution(row) and not ghost
            if item is None:
                item = MarkItem(row, upc, ghost, caution)
                if ghost:
                    item.setVisible(ghosts_visible)
                items[mark_id] = item
                self.addItem(item)
            else:
                item.set_row(row, upc, caution)
        if changed:
            self.laid_out_scale = 0.0
        return changed

    def draw_overlays(
        self,
        rows: Mapping[int, MarkRow],
        alerts: Mapping[int, str],
        ea_pairs: Sequence[tuple[int, int, str]],
    ) -> None:
        """Redraw the overlays that follow marks: EA leads and safety rings.

        Rings are kept for marks whose position and warning did not change (a visit with
        hundreds of cautioned marks would otherwise rebuild them all on every click).
        """
        view_id = self.view.id
        wanted: dict[int, tuple[float, float, str]] = {}
        for mark_id, title in alerts.items():
            row = rows.get(mark_id)
            if row is not None and row.spec.view == view_id:
                wanted[mark_id] = (row.spec.x, row.spec.y, title)
        for mark_id in [m for m, (key, _) in self.alerts.items() if wanted.get(m) != key]:
            self.removeItem(self.alerts.pop(mark_id)[1])
        for mark_id, key in wanted.items():
            if mark_id in self.alerts:
                continue
            x, y, title = key
            r = 0.9 * self.bodymap.units_per_cun(view_id, x, y)
            pen = QPen(QColor(ALERT_COLOUR), 2.4)
            pen.setCosmetic(True)
            ring = self.addEllipse(x - r, y - r, 2 * r, 2 * r, pen)
            ring.setZValue(Z_EA)
            ring.setToolTip(plain_tooltip(f"Safety: {title}"))
            self.alerts[mark_id] = (key, ring)
        for item in self.ea_lines:
            self.removeItem(item)
        self.ea_lines = []
        for a, b, label in ea_pairs:
            row_a, row_b = rows.get(a), rows.get(b)
            if row_a is None or row_b is None or row_a.spec.view != view_id:
                continue
            if row_b.spec.view != view_id:
                continue
            pen = QPen(QColor(EA_COLOUR), 2.2)
            pen.setCosmetic(True)
            pen.setStyle(Qt.PenStyle.DashLine)
            line = self.addLine(row_a.spec.x, row_a.spec.y, row_b.spec.x, row_b.spec.y, pen)
            line.setZValue(Z_EA)
            line.setToolTip(plain_tooltip(f"Electroacupuncture: {label}"))
            self.ea_lines.append(line)

    # --- labels -----------------------------------------------------------------------------

    def guide_label_boxes(self, scale: float) -> list[tuple[float, float, float, float]]:
        """Boxes of the artwork's guide and panel labels at ``scale``, in scene pixels."""
        if self._guide_boxes is not None and self._guide_boxes[0] == scale:
            return self._guide_boxes[1]
        boxes = []
        for shape in self.guide_text.texts:
            size_px = round(max((shape.size or 8.0) * scale, GuideTextItem.min_text_px(shape.role)))
            metrics = QFontMetricsF(ui_font(size_px))
            w = metrics.horizontalAdvance(shape.text or "")
            x, y = shape.points[0][0] * scale, shape.points[0][1] * scale
            dx = {"start": 0.0, "middle": -w / 2, "end": -w}.get(shape.anchor, -w / 2)
            boxes.append((x + dx - 1, y - metrics.ascent() - 1, x + dx + w + 1, y + 2))
        self._guide_boxes = (scale, boxes)
        return boxes

    def layout_labels(self, scale: float, visible: QRectF) -> None:
        """Place the labels of the marks in ``visible`` (scene units) for ``scale`` (pixels
        per model unit): none covers another label, a mark or a guide label; a label that
        had to move away from its mark gets a leader line; one with no room is hidden."""
        requests: list[LabelRequest] = []
        obstacles: list[Box] = []
        items = [
            item
            for item in self.marks.values()
            if item.isVisible() and visible.contains(QPointF(item.row.spec.x, item.row.spec.y))
        ]
        for item in self.marks.values():
            if item not in items:
                item.label.place(None, None)
        for item in items:
            x, y = item.row.spec.x * scale, item.row.spec.y * scale
            extent = item.extent() * scale
            w, h = item.label.size
            requests.append(LabelRequest(item.mark_id, x, y, extent, w, h, item.anchor()))
            if item.row.kind == "cupping":
                # A cup's ring is big and mostly skin: only its centre must stay clear.
                core = 0.4 * extent
                obstacles.append(Box(x - core, y - core, x + core, y + core))
            else:
                obstacles.append(Box(x - extent, y - extent, x + extent, y + extent))
        # The artwork's words stay where they are, each shown only when it covers no mark
        # and no word shown before it; the marks' labels then keep clear of those shown.
        guides = [Box(*b) for b in self.guide_label_boxes(scale)]
        kept = keep_clear(guides, obstacles)
        self.guide_text.set_shown(kept)
        obstacles += [guides[i] for i in kept]
        vx0, vy0 = visible.left() * scale, visible.top() * scale
        bounds = Box(vx0, vy0, visible.right() * scale, visible.bottom() * scale)
        placed = place_labels(requests, obstacles, bounds, gap=3.0)
        for item in items:
            spot = placed.get(item.mark_id)
            if spot is None:
                item.label.place(None, None)
                continue
            x, y = item.row.spec.x * scale, item.row.spec.y * scale
            b = spot.box
            box = QRectF(b.x0 - x, b.y0 - y, b.x1 - b.x0, b.y1 - b.y0)
            leader = None
            if spot.leader:
                x0, y0, x1, y1 = leader_line(x, y, item.extent() * scale, b)
                leader = (QPointF(x0 - x, y0 - y), QPointF(x1 - x, y1 - y))
            item.label.place(box, leader)
        self.laid_out_scale = scale

    # --- muscles' referral patterns -----------------------------------------------------------

    def show_referral(self, muscle_id: str, side: str) -> None:
        """Show a muscle's outline and its trigger points' referral zones on ``side``."""
        key = (muscle_id, side)
        if self.referral_key == key:
            return
        self.hide_referral()
        self.referral_key = key
        view_id = self.view.id
        bm = self.bodymap
        items: list[QGraphicsItem] = []
        region = QPainterPath()
        for poly in bm.muscle_regions(muscle_id, view_id, side):  # type: ignore[arg-type]
            region.addPath(polygon_path(poly, True))
        if not region.isEmpty():
            pen = QPen(qcolor("#8e1820", 0.8), 1.3)
            pen.setCosmetic(True)
            pen.setStyle(Qt.PenStyle.DashLine)
            item = QGraphicsPathItem(region)
            item.setPen(pen)
            item.setBrush(qcolor("#8e1820", 0.10))
            items.append(item)
        for zone in bm.muscle(muscle_id).referral_zones:
            polys = bm.referral_polygons(muscle_id, zone.id, view_id, side)  # type: ignore[arg-type]
            if not polys:
                continue
            path = QPainterPath()
            for poly in polys:
                path.addPath(polygon_path(poly, True))
            item = QGraphicsPathItem(path)
            pen = QPen(qcolor(REFERRAL_COLOR, 0.7), 1.0)
            pen.setCosmetic(True)
            item.setPen(pen)
            if zone.intensity == "essential":
                item.setBrush(qcolor(REFERRAL_COLOR, 0.38))
            else:
                item.setBrush(QBrush(qcolor(REFERRAL_COLOR, 0.6), Qt.BrushStyle.Dense5Pattern))
            item.setToolTip(zone.label)
            items.append(item)
        for overlay in items:
            overlay.setZValue(Z_REFERRAL)
            overlay.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
            self.addItem(overlay)
        self.referral = items

    def hide_referral(self) -> None:
        """Remove the referral overlay."""
        for item in self.referral:
            self.removeItem(item)
        self.referral = []
        self.referral_key = None

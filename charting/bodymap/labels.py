"""Where mark labels go: beside their mark, never on another label, a mark or a guide label.

Qt-free and unit-free: the screen places labels in pixels (its labels keep one size on screen,
so they are placed again when the zoom changes), paper places them in printed points. Both
call :func:`place_labels` with the marks, the label sizes and what must stay readable.

Each label is tried at its preferred side of the mark (away from the midline, so a left and a
right mark never collide), then further up and down that side, then on the other side and
above or below, each displaced spot with a leader line back to its mark. A label with no free
spot is left out on screen (the mark still says what it is on hover and in the list; zooming
in makes room) and, on paper, put where it overlaps least.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Box:
    """An axis-aligned rectangle (any unit, any y direction)."""

    x0: float
    y0: float
    x1: float
    y1: float

    def overlap(self, other: Box) -> float:
        """Area shared with ``other``."""
        w = min(self.x1, other.x1) - max(self.x0, other.x0)
        h = min(self.y1, other.y1) - max(self.y0, other.y0)
        return w * h if w > 0 and h > 0 else 0.0

    def intersects(self, other: Box) -> bool:
        """Whether the two rectangles share any area."""
        return (
            self.x0 < other.x1 and other.x0 < self.x1 and self.y0 < other.y1 and other.y0 < self.y1
        )

    def outside(self, bounds: Box) -> float:
        """How far the box sticks out of ``bounds``."""
        return (
            max(0.0, bounds.x0 - self.x0)
            + max(0.0, self.x1 - bounds.x1)
            + max(0.0, bounds.y0 - self.y0)
            + max(0.0, self.y1 - bounds.y1)
        )

    @property
    def centre(self) -> tuple[float, float]:
        """The rectangle's centre."""
        return (self.x0 + self.x1) / 2, (self.y0 + self.y1) / 2


@dataclass(frozen=True)
class LabelRequest:
    """A label to place.

    Attributes:
        key: Whatever names the label for the caller (a mark id).
        x: The mark's centre.
        y: The mark's centre.
        extent: How far the mark's symbol reaches from its centre.
        width: The label's width.
        height: The label's height.
        anchor: The preferred side: "end" (left of the mark), "start" (right of it) or
            "below" (centred under it, for midline marks).
    """

    key: int
    x: float
    y: float
    extent: float
    width: float
    height: float
    anchor: str


@dataclass(frozen=True)
class LabelPlace:
    """Where a label went; ``leader`` when it sits away from its mark (draw a line)."""

    key: int
    box: Box
    leader: bool


class _Grid:
    """Boxes bucketed by cell, so a test against hundreds of boxes looks at a handful."""

    def __init__(self, cell: float) -> None:
        self.cell = max(cell, 1e-6)
        self.cells: dict[tuple[int, int], list[Box]] = {}

    def _keys(self, box: Box) -> Iterable[tuple[int, int]]:
        c = self.cell
        for i in range(int(box.x0 // c), int(box.x1 // c) + 1):
            for j in range(int(box.y0 // c), int(box.y1 // c) + 1):
                yield i, j

    def add(self, box: Box) -> None:
        for key in self._keys(box):
            self.cells.setdefault(key, []).append(box)

    def hits(self, box: Box) -> bool:
        for key in self._keys(box):
            for other in self.cells.get(key, ()):
                if box.intersects(other):
                    return True
        return False

    def overlap(self, box: Box) -> float:
        seen: set[int] = set()
        total = 0.0
        for key in self._keys(box):
            for other in self.cells.get(key, ()):
                if id(other) not in seen:
                    seen.add(id(other))
                    total += box.overlap(other)
        return total


#: How far up and down its side a label may slide, in label heights, nearest first.
_STEPS = (0, 1, -1, 2, -2, 3, -3, 4, -4)


def candidates(req: LabelRequest, gap: float, y_down: bool = True) -> list[tuple[Box, bool]]:
    """Places for a label, best first; the flag says whether it needs a leader line."""
    x, y, e, w, h = req.x, req.y, req.extent, req.width, req.height
    out: list[tuple[Box, bool]] = []

    def beside(side: str) -> list[tuple[Box, bool]]:
        x0 = x - e - gap - w if side == "end" else x + e + gap
        return [
            (Box(x0, y - h / 2 + k * (h + 1), x0 + w, y + h / 2 + k * (h + 1)), k != 0)
            for k in _STEPS
        ]

    def under_over() -> list[tuple[Box, bool]]:
        found = []
        for k in _STEPS[:5]:
            dx = k * 0.55 * w
            low = Box(x - w / 2 + dx, y + e + gap, x + w / 2 + dx, y + e + gap + h)
            high = Box(x - w / 2 + dx, y - e - gap - h, x + w / 2 + dx, y - e - gap)
            # "Below" as the reader sees it: larger y on screen, smaller y on paper.
            first, second = (low, high) if y_down else (high, low)
            found += [(first, k != 0), (second, k != 0)]
        return found

    if req.anchor == "below":
        out += under_over()
        out += beside("end")[:5] + beside("start")[:5]
    else:
        other = "start" if req.anchor == "end" else "end"
        out += beside(req.anchor) + beside(other) + under_over()
    # Further out, with a leader line: a crowded spot still finds room nearby.
    for ring in (2.5, 4.0):
        for dx, dy in ((-1, 0), (1, 0), (0, 1), (0, -1), (-1, 1), (1, 1), (-1, -1), (1, -1)):
            cx = x + dx * (e + gap + ring * w / 2)
            cy = y + dy * (e + gap + ring * h)
            out.append((Box(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2), True))
    return out


def place_labels(
    requests: Sequence[LabelRequest],
    obstacles: Iterable[Box] = (),
    bounds: Box | None = None,
    gap: float = 3.0,
    y_down: bool = True,
    leave_out_crowded: bool = True,
) -> dict[int, LabelPlace]:
    """Place every label that fits (see the module's description).

    Args:
        requests: The labels, each with its mark.
        obstacles: What labels must not cover besides each other: the marks' symbols and
            the artwork's guide labels.
        bounds: Labels stay inside this rectangle (None: anywhere).
        gap: Space between a mark and its label.
        y_down: Whether y grows downwards (screen) or upwards (paper).
        leave_out_crowded: Leave out a label with no free spot (screen); otherwise put it
            where it overlaps least (paper).

    Returns:
        The placed labels by key (labels left out are missing).
    """
    sizes = [max(r.width, r.height) for r in requests]
    grid = _Grid(max(sizes) if sizes else 16.0)
    for box in obstacles:
        grid.add(box)
    placed: dict[int, LabelPlace] = {}
    # Top to bottom on screen (bottom to top on paper), then left to right: a stable order,
    # so a click that adds one mark moves few labels.
    order = sorted(requests, key=lambda r: ((r.y if y_down else -r.y), r.x, r.key))
    for req in order:
        best: tuple[float, Box, bool] | None = None
        for rank, (box, leader) in enumerate(candidates(req, gap, y_down)):
            if bounds is not None and box.outside(bounds) > 0:
                if leave_out_crowded:
                    continue
                cost = 50 * box.outside(bounds) + grid.overlap(box)
            elif not grid.hits(box):
                best = (0.0, box, leader)
                break
            elif leave_out_crowded:
                continue
            else:
                cost = grid.overlap(box)
            cost += rank * 0.01
            if best is None or cost < best[0]:
                best = (cost, box, leader)
        if best is None:
            continue
        _, box, leader = best
        grid.add(box)
        placed[req.key] = LabelPlace(req.key, box, leader)
    return placed


def keep_clear(boxes: Sequence[Box], obstacles: Iterable[Box] = ()) -> list[int]:
    """Labels that cannot move (the artwork's guide words, fixed beside what they name):
    the indices of those kept, each clear of ``obstacles`` and of every label kept before
    it (so ``boxes`` go in order of importance). A label that would cover one is left out
    at this scale; zooming in makes room for it."""
    sizes = [max(b.x1 - b.x0, b.y1 - b.y0) for b in boxes]
    grid = _Grid(max(sizes) if sizes else 16.0)
    for box in obstacles:
        grid.add(box)
    kept = []
    for i, box in enumerate(boxes):
        if not grid.hits(box):
            grid.add(box)
            kept.append(i)
    return kept


def leader_line(x: float, y: float, extent: float, box: Box) -> tuple[float, float, float, float]:
    """A leader from a mark's edge (centre ``(x, y)``) to the nearest point of its label."""
    tx = min(max(x, box.x0), box.x1)
    ty = min(max(y, box.y0), box.y1)
    dx, dy = tx - x, ty - y
    dist = (dx * dx + dy * dy) ** 0.5 or 1.0
    return x + dx * extent / dist, y + dy * extent / dist, tx, ty

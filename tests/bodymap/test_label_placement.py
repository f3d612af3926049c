"""Label placement without collisions (Qt-free): mark labels and the artwork's fixed words."""

from __future__ import annotations

import itertools

from charting.bodymap.labels import Box, LabelRequest, keep_clear, place_labels


def test_fixed_words_are_kept_by_importance_clear_of_marks_and_each_other() -> None:
    """Words that cannot move are shown only where they cover no mark and no word kept
    before them; the first in the list wins a clash."""
    words = [
        Box(0, 0, 40, 10),  # a side label: kept
        Box(30, 5, 70, 15),  # clashes with the first: left out
        Box(100, 0, 130, 10),  # covers the mark at 110: left out
        Box(0, 40, 20, 50),  # free: kept
    ]
    mark = Box(105, 2, 115, 8)
    assert keep_clear(words, [mark]) == [0, 3]


def test_mark_labels_keep_clear_of_the_words_kept() -> None:
    """Placed mark labels never intersect each other, the marks or the kept words."""
    words = [Box(x, 100, x + 30, 110) for x in range(0, 300, 20)]
    marks = [LabelRequest(i, 20.0 + 25 * i, 105.0, 4.0, 28.0, 12.0, "start") for i in range(10)]
    symbols = [Box(r.x - 4, r.y - 4, r.x + 4, r.y + 4) for r in marks]
    kept = [words[i] for i in keep_clear(words, symbols)]
    placed = place_labels(marks, symbols + kept, Box(0, 0, 400, 300))
    boxes = [p.box for p in placed.values()] + kept
    assert len(placed) == len(marks)
    for a, b in itertools.combinations(boxes, 2):
        assert not a.intersects(b)
    for box in (p.box for p in placed.values()):
        assert not any(box.intersects(s) for s in symbols)

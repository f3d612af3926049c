"""Text folding and ranking for acupoint look-up by code or pinyin (tone marks optional)."""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


def fold(text: str) -> str:
    """Lower-case ASCII letters and digits only: "Shènshū" -> "shenshu", "BL 23" -> "bl23"."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed.lower() if ch.isascii() and ch.isalnum())


@dataclass(frozen=True)
class SearchKey:
    """Folded keys of one catalog entry."""

    code: str
    pinyin: str
    label: str
    words: tuple[str, ...]


def make_key(code: str, pinyin: str, label: str, english: str) -> SearchKey:
    """Build the folded keys of an entry."""
    words = tuple(fold(w) for w in english.replace("-", " ").split() if fold(w))
    return SearchKey(fold(code), fold(pinyin), fold(label), words)


def tier(key: SearchKey, query: str) -> int | None:
    """Rank of a match (lower is better) or ``None`` when the entry does not match."""
    checks: Sequence[bool] = (
        key.code == query,
        key.pinyin == query,
        key.code.startswith(query),
        key.pinyin.startswith(query),
        key.label.startswith(query) or any(w.startswith(query) for w in key.words),
        query in key.code or query in key.pinyin,
    )
    return next((i for i, ok in enumerate(checks) if ok), None)


def rank(keys: Iterable[SearchKey], text: str, limit: int) -> list[int]:
    """Indices of the best matches for ``text``: by tier, then catalog order."""
    query = fold(text)
    if not query:
        return []
    scored = [(t, i) for i, k in enumerate(keys) if (t := tier(k, query)) is not None]
    return [i for _, i in sorted(scored)[:limit]]


#: Points per channel in the WHO standard acupuncture point locations (2008) [WHO08]: a typed
#: code beyond its channel's last point is no acupoint at all.
CHANNEL_POINTS: dict[str, tuple[str, int]] = {
    "lu": ("Lung", 11),
    "li": ("Large Intestine", 20),
    "st": ("Stomach", 45),
    "sp": ("Spleen", 21),
    "ht": ("Heart", 9),
    "si": ("Small Intestine", 19),
    "bl": ("Bladder", 67),
    "ki": ("Kidney", 27),
    "pc": ("Pericardium", 9),
    "te": ("Triple Energizer", 23),
    "sj": ("Triple Energizer", 23),
    "gb": ("Gallbladder", 44),
    "lr": ("Liver", 14),
    "liv": ("Liver", 14),
    "gv": ("Governor Vessel", 29),
    "cv": ("Conception Vessel", 24),
}
_CODE = re.compile(r"^(?P<channel>[a-z]+)(?P<number>\d+)$")


def why_unknown(text: str, known_channels: Iterable[str]) -> str:
    """Why ``text`` names no point of the catalog, in words."""
    query = fold(text)
    match = _CODE.match(query)
    if match is None:
        return f"\u201c{text}\u201d is neither a point code (like BL23) nor a point's pinyin name."
    channel, number = match["channel"], int(match["number"])
    if channel not in CHANNEL_POINTS:
        return f"\u201c{channel.upper()}\u201d is not a channel's abbreviation."
    name, last = CHANNEL_POINTS[channel]
    if not 1 <= number <= last:
        return f"The {name} channel has points 1 to {last}: there is no {channel.upper()}{number}."
    if channel not in {fold(c) for c in known_channels}:
        return f"Charting's map has no {name} channel points."
    return f"{channel.upper()}{number} is not on Charting's back-and-leg map."


def nearest(keys: Sequence[SearchKey], text: str, limit: int = 5) -> list[int]:
    """Indices of the entries whose code or pinyin is most like ``text`` (a typing slip)."""
    query = fold(text)
    if not query:
        return []
    scored = []
    for i, key in enumerate(keys):
        score = max(
            difflib.SequenceMatcher(None, query, key.code).ratio(),
            difflib.SequenceMatcher(None, query, key.pinyin).ratio(),
        )
        if key.code[:2] == query[:2]:
            score += 0.15  # the same channel: most slips are in the number
        scored.append((-score, i))
    return [i for _, i in sorted(scored)[:limit]]

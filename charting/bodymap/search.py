"""Text folding and ranking for acupoint look-up by code or pinyin (tone marks optional)."""

from __future__ import annotations

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

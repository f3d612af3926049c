"""Embedded fonts: DejaVu Sans for Latin text (diacritics, pinyin tone marks) and WenQuanYi
Micro Hei for Chinese characters, so any name the app accepts prints correctly."""

from __future__ import annotations

import re
from functools import cache
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib.fonts import addMapping
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from charting.resources import resource_path

SANS = "CSans"
SANS_BOLD = "CSans-Bold"
SANS_ITALIC = "CSans-Italic"
CJK = "CJK"

# CJK ideographs, symbols/punctuation, kana and Hangul, full-width forms: runs of these are
# set in the CJK font, the rest in DejaVu Sans (ReportLab does not fall back per glyph).
_CJK_RUN = re.compile(
    "([\u2e80-\u2fdf\u3000-\u30ff\u3100-\u31ef\u3400-\u4dbf\u4e00-\u9fff"
    "\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]+)"
)


class _TTFont(TTFont):
    """A TrueType font that remembers, per document, how each text it set splits into the
    document's font subsets.

    ReportLab maps every character of every string drawn onto a subset code again, one
    character at a time (a tenth of the time to make a course report, whose labels, headings
    and values repeat visit after visit). Once a text has been set in a document its
    characters have their codes there for good, so the same text splits the same way again.
    """

    def splitString(
        self, text: str | bytes, doc: Any, encoding: str = "utf-8"
    ) -> list[tuple[int, bytes]]:
        state = self.state.get(doc)
        known: dict[str, list[tuple[int, bytes]]] | None = (
            getattr(state, "charting_splits", None) if state is not None else None
        )
        if known is not None and isinstance(text, str):
            split = known.get(text)
            if split is not None:
                return split
        split = super().splitString(text, doc, encoding)
        if isinstance(text, str) and len(text) <= 200:
            if known is None:
                known = {}
                self.state[doc].charting_splits = known
            known[text] = split
        return split


@cache
def register_fonts() -> None:
    """Register the embedded fonts with ReportLab (once per process)."""
    folder = resource_path("fonts")
    pdfmetrics.registerFont(_TTFont(SANS, str(folder / "DejaVuSans.ttf")))
    pdfmetrics.registerFont(_TTFont(SANS_BOLD, str(folder / "DejaVuSans-Bold.ttf")))
    pdfmetrics.registerFont(_TTFont(SANS_ITALIC, str(folder / "DejaVuSans-Oblique.ttf")))
    pdfmetrics.registerFont(_TTFont(CJK, str(folder / "wqy-microhei.ttc"), subfontIndex=0))
    addMapping(SANS, 0, 0, SANS)
    addMapping(SANS, 1, 0, SANS_BOLD)
    addMapping(SANS, 0, 1, SANS_ITALIC)
    addMapping(SANS, 1, 1, SANS_BOLD)


def para(text: str) -> str:
    """Escape ``text`` for a Paragraph and set any Chinese/Japanese/Korean runs in the CJK font."""
    register_fonts()
    return _CJK_RUN.sub(lambda m: f'<font name="{CJK}">{m.group(1)}</font>', escape(text))


def has_cjk(text: str) -> bool:
    """Whether ``text`` contains characters that need the CJK font."""
    return bool(_CJK_RUN.search(text))

"""The one stylesheet of every document, and the large-type styles of patient handouts."""

from __future__ import annotations

from functools import cache

from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.styles import ParagraphStyle, StyleSheet1

from charting.reports.fonts import SANS, SANS_BOLD, register_fonts

INK = colors.HexColor("#1d2733")
MUTED = colors.HexColor("#5b6670")
ACCENT = colors.HexColor("#1f5f8b")
RULE = colors.HexColor("#c9d3dc")
SHADE = colors.HexColor("#eef3f7")
WARN = colors.HexColor("#8c1d18")
WARN_BG = colors.HexColor("#fde7e9")
OK = colors.HexColor("#1e6b34")


@cache
def stylesheet() -> StyleSheet1:
    """Styles of clinical documents (summary, course report)."""
    register_fonts()
    sheet = StyleSheet1()
    base = ParagraphStyle("body", fontName=SANS, fontSize=9, leading=12, textColor=INK)
    sheet.add(base)
    sheet.add(ParagraphStyle("small", parent=base, fontSize=7.5, leading=9.5, textColor=MUTED))
    sheet.add(
        ParagraphStyle(
            "title", parent=base, fontName=SANS_BOLD, fontSize=15, leading=19, spaceAfter=2
        )
    )
    sheet.add(
        ParagraphStyle(
            "subtitle", parent=base, fontSize=9.5, leading=12.5, textColor=MUTED, spaceAfter=6
        )
    )
    sheet.add(
        ParagraphStyle(
            "h2",
            parent=base,
            fontName=SANS_BOLD,
            fontSize=11,
            leading=14,
            textColor=ACCENT,
            spaceBefore=9,
            spaceAfter=3,
        )
    )
    sheet.add(
        ParagraphStyle(
            "h3",
            parent=base,
            fontName=SANS_BOLD,
            fontSize=9.5,
            leading=12,
            spaceBefore=5,
            spaceAfter=2,
        )
    )
    sheet.add(ParagraphStyle("cell", parent=base, fontSize=8.5, leading=10.5))
    sheet.add(
        ParagraphStyle("cellbold", parent=base, fontName=SANS_BOLD, fontSize=8.5, leading=10.5)
    )
    sheet.add(ParagraphStyle("warn", parent=base, textColor=WARN))
    sheet.add(
        ParagraphStyle(
            "warning",
            parent=base,
            fontName=SANS_BOLD,
            fontSize=10.5,
            leading=14,
            textColor=WARN,
            backColor=WARN_BG,
            borderColor=WARN,
            borderWidth=0.8,
            borderPadding=5,
            spaceBefore=4,
            spaceAfter=10,
        )
    )
    return sheet


@cache
def handout_styles() -> StyleSheet1:
    """Large, plain styles for patients (14 pt body, generous spacing)."""
    register_fonts()
    sheet = StyleSheet1()
    base = ParagraphStyle(
        "body",
        fontName=SANS,
        fontSize=14,
        leading=20,
        textColor=INK,
        alignment=TA_LEFT,
        spaceAfter=6,
    )
    sheet.add(base)
    sheet.add(
        ParagraphStyle(
            "title", parent=base, fontName=SANS_BOLD, fontSize=22, leading=28, spaceAfter=4
        )
    )
    sheet.add(
        ParagraphStyle(
            "h2",
            parent=base,
            fontName=SANS_BOLD,
            fontSize=17,
            leading=22,
            textColor=ACCENT,
            spaceBefore=12,
            spaceAfter=4,
            # A heading never ends a page alone: it goes with the text after it.
            keepWithNext=1,
        )
    )
    sheet.add(ParagraphStyle("bullet", parent=base, leftIndent=18, bulletIndent=4, spaceAfter=3))
    sheet.add(ParagraphStyle("urgent", parent=base, fontName=SANS_BOLD, textColor=WARN))
    sheet.add(ParagraphStyle("small", parent=base, fontSize=11, leading=15, textColor=MUTED))
    return sheet

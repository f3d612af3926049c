"""The one document template: letterhead, running header, "page X of Y", creation time,
content hash of signed visits, and a DRAFT watermark."""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfdoc
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import BaseDocTemplate, Frame, PageTemplate

from charting.reports.fonts import CJK as CJK_FONT
from charting.reports.fonts import SANS, SANS_BOLD, has_cjk, register_fonts
from charting.reports.styles import ACCENT, INK, MUTED, RULE, WARN
from charting.services.settings import ClinicSettings

MARGIN = 16 * mm
LETTERHEAD = 24 * mm
HEADER = 11 * mm
FOOTER = 11 * mm


@dataclass(frozen=True)
class PageDecor:
    """What every page carries besides the story."""

    clinic: ClinicSettings
    running_header: str
    created_at: datetime
    content_hash: str = ""
    draft: bool = False
    large: bool = False  # handouts: larger footer text, no hash
    # A signed record that no longer matches its signature: an "ALTERED" watermark, and the
    # footer says the signature does not match instead of printing the hash as valid.
    altered: bool = False


def _font_for(text: str, font: str) -> str:
    return CJK_FONT if has_cjk(text) else font


#: zlib level of the documents' streams: pages, forms and embedded font subsets. ReportLab
#: compresses at zlib's default (6); level 1 took a course report's compression from about 6
#: to 2.7 ms per patient (a twentieth of its time) for page streams about a tenth larger (some
#: 5% more per file), and its font subsets' from about 2 to 0.6 ms.
PAGE_COMPRESSION_LEVEL = 1


class _FastFlate:
    """The FlateDecode filter at :data:`PAGE_COMPRESSION_LEVEL` (ReportLab's own filter takes
    no level)."""

    pdfname = "FlateDecode"

    def encode(self, text: str | bytes) -> bytes:
        data = text.encode("utf8") if isinstance(text, str) else text
        return zlib.compress(data, PAGE_COMPRESSION_LEVEL)

    def decode(self, encoded: bytes) -> bytes:
        return zlib.decompress(encoded)


_FAST_FLATE = _FastFlate()


#: Characters that PDFDocEncoding writes as their own code: ASCII, less 0x18 to 0x1F (which
#: that encoding gives to accents, and Unicode to control characters).
_NOT_AS_ASCII = re.compile("[^\x00-\x17\x20-\x7f]")
_pdfdoc_encoded = pdfdoc.pdfdocEnc


def _pdfdoc_encode(x: Any) -> Any:
    """ReportLab's ``pdfdocEnc`` with a short way for the ASCII text of nearly all of a file:
    every name, number, operator and reference of the objects is encoded through it when a
    document is written, and its charmap codec was a quarter of that time. The bytes are
    the same: PDFDocEncoding is ASCII for these characters; anything else takes the codec."""
    if isinstance(x, str) and _NOT_AS_ASCII.search(x) is None:
        return x.encode("latin-1")
    return _pdfdoc_encoded(x)


pdfdoc.pdfdocEnc = _pdfdoc_encode


# Every stream ReportLab compresses (it looks the filter up by this name each time).
pdfdoc.PDFZCompress = _FAST_FLATE


class _NumberedCanvas(Canvas):
    """A canvas that knows the page count when it saves, for "page X of Y"."""

    decor: PageDecor

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pages: list[dict[str, Any]] = []

    def showPage(self) -> None:
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._pages)
        for state in self._pages:
            self.__dict__.update(state)
            _draw_footer(self, self.decor, self._pageNumber, total)
            super().showPage()
        super().save()


def _draw_footer(canvas: Canvas, decor: PageDecor, page: int, total: int) -> None:
    width, _height = canvas._pagesize
    size = 9 if decor.large else 7
    canvas.saveState()
    canvas.setStrokeColor(RULE)
    canvas.line(MARGIN, FOOTER, width - MARGIN, FOOTER)
    canvas.setFillColor(MUTED)
    canvas.setFont(SANS, size)
    created = decor.created_at.astimezone().strftime("%Y-%m-%d %H:%M")
    left = f"Created {created}"
    if decor.altered:
        left += "  \u00b7  ALTERED AFTER SIGNING: this record does not match its signature"
    elif decor.content_hash:
        left += f"  \u00b7  Signed content SHA-256 {decor.content_hash}"
    canvas.drawString(MARGIN, FOOTER - 4 * mm, left)
    canvas.drawRightString(width - MARGIN, FOOTER - 4 * mm, f"Page {page} of {total}")
    canvas.restoreState()


def _draw_page(canvas: Canvas, doc: ChartingDoc) -> None:
    decor = doc.decor
    width, height = canvas._pagesize
    canvas.saveState()
    if canvas.getPageNumber() == 1:
        _letterhead(canvas, decor, width, height)
    else:
        canvas.setFont(_font_for(decor.running_header, SANS), 8)
        canvas.setFillColor(MUTED)
        canvas.drawString(MARGIN, height - MARGIN + 2 * mm, decor.running_header)
        canvas.drawRightString(width - MARGIN, height - MARGIN + 2 * mm, decor.clinic.clinic_name)
        canvas.setStrokeColor(RULE)
        canvas.line(MARGIN, height - MARGIN, width - MARGIN, height - MARGIN)
    if decor.clinic.demo:
        # A demo clinic's printouts say so on every page: its records are fictional.
        canvas.setFont(SANS_BOLD, 9)
        canvas.setFillColor(WARN)
        canvas.drawCentredString(
            width / 2,
            FOOTER + 2 * mm,
            "DEMO CLINIC \u2014 FICTIONAL PATIENTS, NOT A MEDICAL RECORD",
        )
    watermark = (
        "ALTERED"
        if decor.altered
        else "DRAFT"
        if decor.draft
        else "DEMO"
        if decor.clinic.demo
        else ""
    )
    if watermark:
        canvas.setFont(SANS_BOLD, 96)
        canvas.setFillColor(WARN, alpha=0.2 if decor.altered else 0.09)
        canvas.translate(width / 2, height / 2)
        canvas.rotate(40)
        canvas.drawCentredString(0, -30, watermark)
    canvas.restoreState()


def _letterhead(canvas: Canvas, decor: PageDecor, width: float, height: float) -> None:
    clinic = decor.clinic
    top = height - MARGIN
    x = MARGIN
    logo = Path(clinic.logo_path) if clinic.logo_path else None
    if logo is not None and logo.is_file():
        try:
            canvas.drawImage(
                str(logo),
                x,
                top - 16 * mm,
                width=16 * mm,
                height=16 * mm,
                preserveAspectRatio=True,
                mask="auto",
            )
            x += 19 * mm
        except OSError:
            pass  # an unreadable logo must not stop a clinical document
    canvas.setFillColor(ACCENT)
    canvas.setFont(_font_for(clinic.clinic_name, SANS_BOLD), 14)
    canvas.drawString(x, top - 5 * mm, clinic.clinic_name)
    canvas.setFillColor(INK)
    canvas.setFont(SANS, 8)
    lines = [line for line in clinic.clinic_address.splitlines() if line.strip()]
    if clinic.contact_line:
        lines.append(clinic.contact_line)
    for i, line in enumerate(lines[:3]):
        canvas.setFont(_font_for(line, SANS), 8)
        canvas.drawString(x, top - 10 * mm - i * 3.6 * mm, line)
    canvas.setFont(_font_for(decor.running_header, SANS), 8)
    canvas.setFillColor(MUTED)
    canvas.drawRightString(width - MARGIN, top - 5 * mm, decor.running_header)
    canvas.setStrokeColor(RULE)
    canvas.line(MARGIN, top - LETTERHEAD + 4 * mm, width - MARGIN, top - LETTERHEAD + 4 * mm)


class ChartingDoc(BaseDocTemplate):
    """A document with the clinic's letterhead on page 1 and a running header after it, on
    the clinic's paper (A4 or US Letter)."""

    def __init__(
        self, target: str | Path | IO[bytes], decor: PageDecor, title: str, **kwargs: Any
    ) -> None:
        register_fonts()
        paper = LETTER if decor.clinic.paper_size == "Letter" else A4
        super().__init__(
            str(target) if isinstance(target, Path) else target,
            pagesize=paper,
            leftMargin=MARGIN,
            rightMargin=MARGIN,
            topMargin=MARGIN,
            bottomMargin=FOOTER + 4 * mm,
            title=title,
            author=decor.clinic.clinic_name,
            creator="Charting",
            **kwargs,
        )
        self.decor = decor
        width, height = paper
        body_w = width - 2 * MARGIN
        bottom = FOOTER + 4 * mm
        first = Frame(
            MARGIN,
            bottom,
            body_w,
            height - MARGIN - LETTERHEAD - bottom,
            id="first",
            leftPadding=0,
            rightPadding=0,
            topPadding=0,
            bottomPadding=0,
        )
        later = Frame(
            MARGIN,
            bottom,
            body_w,
            height - MARGIN - HEADER - bottom,
            id="later",
            leftPadding=0,
            rightPadding=0,
            topPadding=0,
            bottomPadding=0,
        )
        self.addPageTemplates(
            [
                PageTemplate("first", [first], onPage=_draw_page, autoNextPageTemplate="later"),
                PageTemplate("later", [later], onPage=_draw_page),
            ]
        )

    @property
    def body_width(self) -> float:
        """Usable width of the page, in points."""
        return float(self.width)

    def build_story(self, story: list[Any]) -> None:
        """Lay out ``story`` with page numbers "page X of Y"."""
        decor = self.decor

        class _Canvas(_NumberedCanvas):
            pass

        _Canvas.decor = decor
        self.build(story, canvasmaker=_Canvas)

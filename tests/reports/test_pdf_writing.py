"""How the documents' PDF files are written: the same bytes as ReportLab's own writing."""

from __future__ import annotations

from reportlab.pdfbase import pdfdoc

from charting.reports import template


def test_pdfdoc_text_is_encoded_as_reportlab_encodes_it() -> None:
    """The short way for ASCII text writes every character as PDFDocEncoding does, and a
    character that encoding cannot write still fails the same way (nothing is written
    silently wrong in a file)."""
    assert pdfdoc.pdfdocEnc is template._pdfdoc_encode
    codec = template._pdfdoc_encoded
    for code in range(0x3000):
        char = chr(code)
        try:
            expected: object = codec(char)
        except UnicodeEncodeError:
            expected = UnicodeEncodeError
        try:
            got: object = template._pdfdoc_encode(char)
        except UnicodeEncodeError:
            got = UnicodeEncodeError
        assert got == expected, f"U+{code:04X}"
    for text in ("/Type /Page", "12 0 obj\n", "caf\u00e9 \u2013 \u2022", b"raw"):
        assert template._pdfdoc_encode(text) == codec(text)

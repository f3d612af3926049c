"""Charting: desktop charting for acupuncture practitioners who treat back and leg pain."""

__version__ = "0.1.0"

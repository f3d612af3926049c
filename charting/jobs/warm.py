"""What an export's worker processes need, loaded once: the module the fork server imports
before it forks any worker (see :func:`charting.jobs.export.worker_context`).

Importing this loads the export job, ReportLab with the documents and their fonts, and the
FHIR models, so that a worker forked from the server starts its first task at once instead of
spending most of a second importing them (on every export, in every worker).
"""

from __future__ import annotations

import fhir.resources.R4B.bundle  # noqa: F401 - loaded here on purpose

import charting.reports.course_report  # noqa: F401 - loaded here on purpose
from charting.jobs import export
from charting.reports.fonts import register_fonts

export.unchecked_graphics()
register_fonts()

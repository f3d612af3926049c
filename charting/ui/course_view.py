"""The course of treatment: pain trend, outcome scores, the plan against sessions done, and
how often each point was used."""

from __future__ import annotations

from html import escape

from PySide6.QtCore import QPointF, QRectF, Qt, Slot
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPaintEvent, QPen
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from charting.bodymap import load_bodymap
from charting.bodymap.regions import EXTENT_LABELS
from charting.services import outcomes, pain_drawings
from charting.services.custom_points import clinic_bodymap
from charting.services.report_data import course_report
from charting.ui.documents import Build, DocumentAudit, open_document, save_document
from charting.ui.forms import resize_within_screen
from charting.ui.ops import OpRunner
from charting.ui.pain.canvas import PainCanvas

BEFORE_COLOUR = "#c0392b"
AFTER_COLOUR = "#1e8449"
BAR = "\u2588"


class PainTrendChart(QWidget):
    """Pain (0-10) before and after treatment at each visit of the course."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("painTrend")
        self.setMinimumSize(420, 220)
        self.points: list[outcomes.CoursePoint] = []

    def set_points(self, points: list[outcomes.CoursePoint]) -> None:
        """Plot these visits."""
        self.points = list(points)
        self.update()

    def series(self) -> dict[str, list[tuple[int, int]]]:
        """(visit number, pain) for each series, as drawn."""
        return {
            "before": [(p.number, p.pain_before) for p in self.points if p.pain_before is not None],
            "after": [(p.number, p.pain_after) for p in self.points if p.pain_after is not None],
        }

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), QColor("#ffffff"))
        plot = QRectF(44, 14, self.width() - 60, self.height() - 54)
        grid = QPen(QColor("#e3e3e3"), 1)
        painter.setPen(QColor("#555"))
        for pain in range(0, 11, 2):
            y = plot.bottom() - plot.height() * pain / 10
            painter.setPen(grid)
            painter.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
            painter.setPen(QColor("#555"))
            painter.drawText(QRectF(0, y - 8, 36, 16), Qt.AlignmentFlag.AlignRight, str(pain))
        numbers = [p.number for p in self.points] or [1]
        first, last = min(numbers), max(max(numbers), min(numbers) + 1)

        def at(number: int, pain: int) -> QPointF:
            x = plot.left() + plot.width() * (number - first) / (last - first)
            return QPointF(x, plot.bottom() - plot.height() * pain / 10)

        step = max(1, (last - first) // 12)
        for number in range(first, last + 1, step):
            x = at(number, 0).x()
            painter.drawText(
                QRectF(x - 20, plot.bottom() + 4, 40, 16),
                Qt.AlignmentFlag.AlignHCenter,
                str(number),
            )
        painter.drawText(
            QRectF(plot.left(), plot.bottom() + 20, plot.width(), 16),
            Qt.AlignmentFlag.AlignHCenter,
            "Visit",
        )
        for name, colour in (("before", BEFORE_COLOUR), ("after", AFTER_COLOUR)):
            values = self.series()[name]
            if not values:
                continue
            pen = QPen(QColor(colour), 2.2)
            painter.setPen(pen)
            path = QPainterPath(at(*values[0]))
            for point in values[1:]:
                path.lineTo(at(*point))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawPath(path)
            painter.setBrush(QColor(colour))
            for point in values:
                painter.drawEllipse(at(*point), 3.5, 3.5)
        painter.setPen(QColor(BEFORE_COLOUR))
        painter.drawText(QPointF(plot.right() - 170, plot.top() + 12), "\u25cf before treatment")
        painter.setPen(QColor(AFTER_COLOUR))
        painter.drawText(QPointF(plot.right() - 170, plot.top() + 28), "\u25cf after treatment")
        if not self.points:
            painter.setPen(QColor("#888"))
            painter.drawText(plot, Qt.AlignmentFlag.AlignCenter, "No pain scores recorded yet")
        painter.end()


class CourseDialog(QDialog):
    """The course of one patient."""

    def __init__(self, ops: OpRunner, patient_id: int, title: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("courseView")
        self.setWindowTitle(f"Course \u2014 {title}")
        self.ops = ops
        self.patient_id = patient_id
        self.chart = PainTrendChart()
        self.outcome_table = QLabel()
        self.outcome_table.setObjectName("outcomeTable")
        self.outcome_table.setTextFormat(Qt.TextFormat.RichText)
        self.plan_text = QLabel()
        self.plan_text.setObjectName("planText")
        self.plan_sessions = QSpinBox()
        self.plan_sessions.setObjectName("planSessions")
        self.plan_sessions.setRange(0, 100)
        self.plan_sessions.setSpecialValueText("no plan")
        self.plan_sessions.setSuffix(" sessions")
        self.plan_sessions.setMinimumWidth(140)
        self.plan_frequency = QLineEdit()
        self.plan_frequency.setObjectName("planFrequency")
        self.plan_frequency.setPlaceholderText("e.g. 2 per week")
        save_plan = QPushButton("Save plan")
        save_plan.setObjectName("savePlan")
        save_plan.clicked.connect(self._on_save_plan_clicked)
        self.usage = QLabel()
        self.usage.setObjectName("pointUsage")
        self.usage.setTextFormat(Qt.TextFormat.RichText)
        self.usage.setAlignment(Qt.AlignmentFlag.AlignTop)

        trend = QGroupBox("Pain before and after each visit (NRS 0\u201310)")
        QVBoxLayout(trend).addWidget(self.chart)
        scores = QGroupBox("Outcomes: change from baseline")
        QVBoxLayout(scores).addWidget(self.outcome_table)
        plan_box = QGroupBox("Treatment plan")
        plan_layout = QGridLayout(plan_box)
        plan_layout.addWidget(self.plan_text, 0, 0, 1, 3)
        plan_layout.addWidget(self.plan_sessions, 1, 0)
        plan_layout.addWidget(self.plan_frequency, 1, 1)
        plan_layout.addWidget(save_plan, 1, 2)
        usage_box = QGroupBox("Points used (number of visits)")
        QVBoxLayout(usage_box).addWidget(self.usage)
        # Pain drawings over the course: extent and how far down each leg, per visit, and
        # the first and latest drawings side by side.
        self.pain_trend = QLabel("No pain drawings yet.")
        self.pain_trend.setObjectName("painTrendText")
        self.pain_trend.setWordWrap(True)
        bodymap = load_bodymap()
        self.first_drawing = PainCanvas(bodymap, "posterior")
        self.latest_drawing = PainCanvas(bodymap, "posterior")
        for canvas in (self.first_drawing, self.latest_drawing):
            canvas.read_only = True
            canvas.setMinimumSize(120, 200)
        self.first_caption = QLabel("First")
        self.latest_caption = QLabel("Latest")
        drawings = QGridLayout()
        drawings.addWidget(self.first_caption, 0, 0)
        drawings.addWidget(self.latest_caption, 0, 1)
        drawings.addWidget(self.first_drawing, 1, 0)
        drawings.addWidget(self.latest_drawing, 1, 1)
        pain_box = QGroupBox("Pain drawings")
        pain_layout = QVBoxLayout(pain_box)
        pain_layout.addWidget(self.pain_trend)
        pain_layout.addLayout(drawings, 1)
        right = QVBoxLayout()
        right.addWidget(usage_box, 1)
        right.addWidget(pain_box, 2)
        left = QVBoxLayout()
        left.addWidget(trend, 2)
        left.addWidget(scores)
        left.addWidget(plan_box)
        columns = QHBoxLayout()
        columns.addLayout(left, 3)
        columns.addLayout(right, 2)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        save_pdf = buttons.addButton(
            "Save course report PDF\u2026", QDialogButtonBox.ButtonRole.ActionRole
        )
        save_pdf.setObjectName("saveCourseReport")
        save_pdf.clicked.connect(
            lambda: save_document(self, "course-report", self.builder(), self.document_audit())
        )
        open_pdf = buttons.addButton("Open course report", QDialogButtonBox.ButtonRole.ActionRole)
        open_pdf.clicked.connect(
            lambda: open_document(self, "course-report", self.builder(), self.document_audit())
        )
        layout = QVBoxLayout(self)
        layout.addLayout(columns)
        layout.addWidget(buttons)
        resize_within_screen(self, 1000, 680)
        self.reload()

    def _show_pain(self) -> None:
        pid = self.patient_id
        drawn = self.ops.read(lambda session: pain_drawings.course_drawings(session, pid))
        if not drawn:
            self.pain_trend.setText("No pain drawings yet.")
            for canvas in (self.first_drawing, self.latest_drawing):
                canvas.set_areas([])
            return
        lines = []
        for number, m, _areas in drawn:
            legs = ", ".join(
                f"{side} {EXTENT_LABELS[m.furthest.get(side, 'none')].lower()}"
                for side in ("L", "R")
            )
            change = f" \u2014 {m.since_previous}" if m.since_previous else ""
            lines.append(f"Visit {number}: {m.extent_percent:.1f}% ({legs}){change}")
        self.pain_trend.setText("\n".join(lines))
        first, latest = drawn[0], drawn[-1]
        self.first_caption.setText(f"First drawing (visit {first[0]})")
        self.latest_caption.setText(f"Latest drawing (visit {latest[0]})")
        self.first_drawing.set_areas(first[2])
        self.latest_drawing.set_areas(latest[2])

    def reload(self) -> None:
        """Read the course again and redraw everything."""
        pid = self.patient_id
        points = self.ops.read(lambda s: outcomes.course(s, pid))
        usage = self.ops.read(lambda s: outcomes.point_usage(s, pid))
        plan = self.ops.read(lambda s: outcomes.plan(s, pid))
        self.chart.set_points(points)
        self._show_pain()
        self.outcome_table.setText(_outcome_html(outcomes.changes_from_baseline(points)))
        self.plan_text.setText(plan.text)
        self.plan_sessions.setValue(plan.sessions or 0)
        self.plan_frequency.setText(plan.frequency)
        top = usage[0][1] if usage else 1
        self.usage.setText(
            "<table cellspacing=3>"
            + "".join(
                f"<tr><td><b>{escape(code)}</b></td><td>"
                f"<span style='color:#1f6fb2'>{BAR * max(1, round(12 * n / top))}</span>"
                f" {n}</td></tr>"
                for code, n in usage[:25]
            )
            + "</table>"
            if usage
            else "No points charted yet."
        )

    def builder(self) -> Build:
        """A function that writes this patient's course report PDF."""
        pid = self.patient_id
        bodymap, report = self.ops.read(
            lambda s: (clinic_bodymap(s), course_report(s, pid, clinic_bodymap(s)))
        )
        from charting.reports.course_report import build_course_report

        def build(target: object) -> None:
            build_course_report(report, bodymap, target)  # type: ignore[arg-type]

        return build

    def document_audit(self) -> DocumentAudit:
        """What the audit log records when the course report leaves the app."""
        return DocumentAudit(self.ops.database, self.patient_id, "Course report")

    @Slot()
    def _on_save_plan_clicked(self) -> None:
        sessions = self.plan_sessions.value() or None
        if self.ops.run(
            self, outcomes.set_plan, self.patient_id, sessions, self.plan_frequency.text()
        ):
            self.reload()


def _outcome_html(changes: list[outcomes.Change]) -> str:
    if not changes:
        return "Record a measure at two or more visits to see the change from baseline."
    rows = []
    for c in changes:
        pct = f"{c.percent:+.0f}%" if c.percent is not None else "\u2013"
        verdict = (
            "<b style='color:#1e8449'>\u2713 meaningful improvement</b>"
            if c.meaningful
            else ("improved" if c.improved else "no improvement")
        )
        rows.append(
            f"<tr><td>{escape(c.measure.label)}</td><td align=right>{c.baseline:g}</td>"
            f"<td align=right>{c.latest:g}</td><td align=right>{c.points:+g}</td>"
            f"<td align=right>{pct}</td><td>{verdict}</td></tr>"
        )
    head = (
        "<tr><th align=left>Measure</th><th>Baseline</th><th>Latest</th><th>Change</th>"
        "<th>%</th><th align=left></th></tr>"
    )
    return f"<table cellspacing=6>{head}{''.join(rows)}</table>"

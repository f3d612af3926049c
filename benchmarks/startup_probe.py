"""One start-up, in its own process, for the clinic benchmark's cold-start measure.

``python -m benchmarks.startup_probe bare``
    A bare PySide6 QMainWindow, shown: the floor.
``python -m benchmarks.startup_probe app URL USER PATIENT VISIT [typed]``
    Charting's own start-up (``charting --db URL``): the sign-in window is answered as soon
    as it shows, then the main window comes up on the large clinic. Afterwards the probe
    opens PATIENT's chart and VISIT on the body map and scrolls the whole patient list, for
    the peak-memory figure. With ``typed``, the robot clicks "Sign in" only once the
    database has opened behind the window, as it has by the time a person has typed a
    password; ``clicked`` is when it did.

Both print one JSON line: wall-clock times (``time.time()``) at which each window was
shown, and the peak resident memory in MB. The parent takes its own
``time.time()`` just before starting the process, so interpreter start-up is included.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bare() -> int:
    """The floor: import PySide6, make the application and show an empty main window."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMainWindow

    app = QApplication(sys.argv[:1])
    window = QMainWindow()
    window.resize(1280, 800)
    window.show()
    shown = {"main": time.time()}
    QTimer.singleShot(0, app.quit)
    app.exec()
    print(json.dumps({**shown, "peak_mb": _peak_mb()}))
    return 0


def app(url: str, user: str, patient: int, visit: int, typed: bool = False) -> int:
    """Charting's start-up, with a robot at the sign-in window."""
    from PySide6.QtCore import QEvent, QObject, QTimer

    from charting.cli import main
    from charting.ui.app import make_application

    qt_app = make_application()
    shown: dict[str, float] = {}

    def signed_in(dialog: object) -> None:
        source = dialog._source  # type: ignore[attr-defined]
        if typed and not getattr(source, "done", True):
            QTimer.singleShot(20, lambda: signed_in(dialog))
            return
        dialog.username.setText(user)  # type: ignore[attr-defined]
        dialog.password.setText(os.environ["CHARTING_PASSWORD"])  # type: ignore[attr-defined]
        shown["clicked"] = time.time()
        dialog.sign_in_button.click()  # type: ignore[attr-defined]

    def main_shown(window: object) -> None:
        shown["main_mb"] = _peak_mb()
        window.select_patient(patient)  # type: ignore[attr-defined]
        window.open_visit(visit)  # type: ignore[attr-defined]
        view = window.patient_list  # type: ignore[attr-defined]
        bar = view.verticalScrollBar()
        for value in range(0, bar.maximum() + 1, max(1, bar.maximum() // 50)):
            bar.setValue(value)
            view.viewport().repaint()
        window.daily_backup.wait(900_000)  # type: ignore[attr-defined]
        qt_app.quit()

    class Watcher(QObject):
        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Show:
                kind = type(watched).__name__
                if kind == "LoginDialog" and "login" not in shown:
                    shown["login"] = time.time()
                    QTimer.singleShot(0, lambda: signed_in(watched))
                elif kind == "MainWindow" and "main" not in shown:
                    shown["main"] = time.time()
                    QTimer.singleShot(0, lambda: main_shown(watched))
            return False

    watcher = Watcher()
    qt_app.installEventFilter(watcher)
    code = main(["--db", url])
    print(json.dumps({**shown, "peak_mb": _peak_mb(), "exit": code}))
    return 0


if __name__ == "__main__":
    if sys.argv[1] == "bare":
        raise SystemExit(bare())
    typed = sys.argv[6:] == ["typed"]
    raise SystemExit(app(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), typed))

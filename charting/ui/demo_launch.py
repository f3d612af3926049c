"""Opening the demo clinic in its own window: a second Charting, on the demo's own file."""

from __future__ import annotations

import sys

from PySide6.QtCore import QProcess
from PySide6.QtWidgets import QMessageBox, QWidget


def demo_command() -> tuple[str, list[str]]:
    """The program and arguments that start Charting on the demo clinic."""
    if getattr(sys, "frozen", False):  # the bundled app: its executable is Charting itself
        return sys.executable, ["--demo"]
    return sys.executable, ["-m", "charting", "--demo"]


def launch_demo(parent: QWidget | None) -> bool:
    """Start the demo clinic as its own process (it never shares this clinic's database);
    whether it started. A failure is explained to the person."""
    program, arguments = demo_command()
    started, _pid = QProcess.startDetached(program, arguments)
    if not started:
        QMessageBox.warning(
            parent,
            "Demo clinic",
            "The demo clinic could not be started. From a terminal: charting --demo",
        )
    return bool(started)

"""The screen lock: a page that hides everything until the password is typed, and an idle timer."""

from __future__ import annotations

import time

from PySide6.QtCore import (
    QCoreApplication,
    QEvent,
    QObject,
    QPointF,
    QRectF,
    Qt,
    QTimer,
    Signal,
    Slot,
)
from PySide6.QtGui import QColor, QPainter, QPen, QPixmap
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from charting.models.db import Database
from charting.services.access import Actor
from charting.services.accounts import SignInError
from charting.ui.login_dialog import (
    WaitCountdown,
    check_credentials,
    message_label,
    password_line,
    show_message,
)

#: What counts as someone using the computer.
INPUT_EVENTS = frozenset(
    {
        QEvent.Type.KeyPress,
        QEvent.Type.KeyRelease,
        QEvent.Type.MouseButtonPress,
        QEvent.Type.MouseButtonRelease,
        QEvent.Type.MouseButtonDblClick,
        QEvent.Type.MouseMove,
        QEvent.Type.Wheel,
        QEvent.Type.TouchBegin,
        QEvent.Type.TouchUpdate,
        QEvent.Type.TabletPress,
        QEvent.Type.InputMethod,
    }
)


class IdleWatcher(QObject):
    """Announces when nobody has typed, clicked or moved the mouse in any window for a while.

    Input is noticed by an event filter on the application, installed only while counting.
    The filter only notes the time (it runs for every event, so it does as little as
    possible); the timer checks that time when it fires and waits again for the rest of the
    interval if there was input meanwhile.

    Signals:
        idled(): the interval passed without input (the watcher then stops until started).
    """

    idled = Signal()

    def __init__(self, interval_ms: int, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._interval_ms = max(1, int(interval_ms))
        self._last_input = time.monotonic()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._on_timer_timeout)

    @property
    def interval_ms(self) -> int:
        """How long without input before ``idled``."""
        return self._interval_ms

    def set_interval_ms(self, interval_ms: int) -> None:
        """Change the interval (counting from the last input)."""
        self._interval_ms = max(1, int(interval_ms))
        if self._timer.isActive():
            self._schedule()

    def is_running(self) -> bool:
        """Whether the watcher is counting."""
        return self._timer.isActive()

    def start(self) -> None:
        """Start counting from now."""
        self._last_input = time.monotonic()
        app = QCoreApplication.instance()
        if app is not None:
            app.installEventFilter(self)  # once: installing again only moves it first
        self._timer.start(self._interval_ms)

    def stop(self) -> None:
        """Stop counting (while locked, signed out or closed); input is no longer watched."""
        self._timer.stop()
        app = QCoreApplication.instance()
        if app is not None:
            app.removeEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in INPUT_EVENTS:
            self._last_input = time.monotonic()
        return False

    def _schedule(self) -> None:
        idle_ms = (time.monotonic() - self._last_input) * 1000
        self._timer.start(max(1, round(self._interval_ms - idle_ms)))

    @Slot()
    def _on_timer_timeout(self) -> None:
        idle_ms = (time.monotonic() - self._last_input) * 1000
        if idle_ms + 1 >= self._interval_ms:
            self.stop()
            self.idled.emit()
        else:
            self._schedule()


def padlock_pixmap(size: int, ratio: float = 1.0) -> QPixmap:
    """A closed padlock, drawn (no emoji font is needed)."""
    pixmap = QPixmap(round(size * ratio), round(size * ratio))
    pixmap.setDevicePixelRatio(ratio)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    colour = QColor("#44515e")
    pen = QPen(colour, size * 0.11)
    pen.setCapStyle(Qt.PenCapStyle.FlatCap)
    painter.setPen(pen)
    shackle = QRectF(size * 0.27, size * 0.08, size * 0.46, size * 0.5)
    painter.drawArc(shackle, 0, 180 * 16)
    painter.drawLine(
        QPointF(shackle.left(), shackle.center().y()), QPointF(shackle.left(), size * 0.46)
    )
    painter.drawLine(
        QPointF(shackle.right(), shackle.center().y()), QPointF(shackle.right(), size * 0.46)
    )
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(colour)
    painter.drawRoundedRect(QRectF(size * 0.14, size * 0.42, size * 0.72, size * 0.52), 6, 6)
    painter.setBrush(QColor("#ffffff"))
    painter.drawEllipse(QPointF(size * 0.5, size * 0.62), size * 0.06, size * 0.06)
    painter.drawRect(QRectF(size * 0.475, size * 0.62, size * 0.05, size * 0.16))
    painter.end()
    return pixmap


class LockPage(QWidget):
    """Covers the window while it is locked or nobody is signed in.

    Locked, it names who is signed in and asks for their password; signed out, it offers
    to sign in. It shows nothing of any patient.

    Signals:
        unlocked(object): the right password was typed; carries the (fresh) Actor.
        switch_user_requested(): "Sign in as someone else" was clicked.
        sign_in_requested(): "Sign in…" was clicked on the signed-out page.
        quit_requested(): "Quit" was clicked on the signed-out page.
    """

    unlocked = Signal(object)
    switch_user_requested = Signal()
    sign_in_requested = Signal()
    quit_requested = Signal()

    def __init__(self, database: Database, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("lockPage")
        self.database = database
        self.actor: Actor | None = None
        #: A line added to the explanation (the demo clinic shows its published password).
        self.hint = ""

        icon = QLabel()
        icon.setPixmap(padlock_pixmap(56, self.devicePixelRatioF()))
        icon.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.title = QLabel()
        self.title.setObjectName("lockTitle")
        self.title.setStyleSheet("font-size: 20pt; font-weight: 600;")
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.explanation = QLabel()
        self.explanation.setObjectName("lockExplanation")
        self.explanation.setStyleSheet("color: #555;")
        self.explanation.setWordWrap(True)
        self.explanation.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.password = password_line("Your password")
        self.password.setObjectName("unlockPassword")
        self.password.setMinimumHeight(30)
        self.message = message_label("unlockMessage")
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.unlock_button = QPushButton("&Unlock")
        self.unlock_button.setObjectName("unlockButton")
        self.unlock_button.setDefault(True)
        self.unlock_button.setMinimumHeight(32)
        self.switch_button = QPushButton("Sign in as someone else")
        self.switch_button.setObjectName("switchUserButton")
        self.switch_button.setFlat(True)
        self.switch_button.setStyleSheet("color: #1a5fb4; text-decoration: underline;")
        self.sign_in_button = QPushButton("&Sign in\u2026")
        self.sign_in_button.setObjectName("signInAgainButton")
        self.sign_in_button.setMinimumHeight(32)
        self.quit_button = QPushButton("&Quit Charting")
        self.quit_button.setObjectName("lockQuitButton")
        self.quit_button.setMinimumHeight(32)
        self.countdown = WaitCountdown(self.unlock_button, self)

        signed_out_row = QHBoxLayout()
        signed_out_row.addWidget(self.sign_in_button, 1)
        signed_out_row.addWidget(self.quit_button, 1)
        box = QVBoxLayout()
        box.setSpacing(10)
        box.addWidget(icon)
        box.addWidget(self.title)
        box.addWidget(self.explanation)
        box.addSpacing(8)
        box.addWidget(self.password)
        box.addWidget(self.message)
        box.addWidget(self.unlock_button)
        box.addLayout(signed_out_row)
        box.addWidget(self.switch_button, 0, Qt.AlignmentFlag.AlignHCenter)
        holder = QWidget()
        holder.setLayout(box)
        holder.setFixedWidth(400)
        outer = QVBoxLayout(self)
        outer.addStretch(2)
        outer.addWidget(holder, 0, Qt.AlignmentFlag.AlignHCenter)
        outer.addStretch(3)

        self.password.returnPressed.connect(self._on_unlock_button_clicked)
        self.unlock_button.clicked.connect(self._on_unlock_button_clicked)
        self.switch_button.clicked.connect(self.switch_user_requested)
        self.sign_in_button.clicked.connect(self.sign_in_requested)
        self.quit_button.clicked.connect(self.quit_requested)

    @property
    def is_signed_out(self) -> bool:
        """Whether the page offers to sign in (nobody is signed in)."""
        return self.actor is None

    def show_locked(self, actor: Actor, reason: str) -> None:
        """Ask ``actor`` for their password to unlock."""
        self.actor = actor
        self.title.setText(f"Locked \u2013 {actor.display_name}")
        self.explanation.setText(
            "Charting locked itself after a while without use. "
            if reason == "idle"
            else "Charting is locked. "
        )
        self.explanation.setText(
            self.explanation.text()
            + f"Type {actor.display_name}\u2019s password to carry on where you left off."
            + (f"\n{self.hint}" if self.hint else "")
        )
        self._set_signed_out(False)
        self.password.clear()
        show_message(self.message, "")
        self.password.setFocus()

    def show_signed_out(self) -> None:
        """Nobody is signed in: offer to sign in or quit."""
        self.actor = None
        self.countdown.stop()
        self.title.setText("Signed out")
        self.explanation.setText("Nobody is signed in on this computer.")
        self._set_signed_out(True)
        self.password.clear()
        show_message(self.message, "")
        self.sign_in_button.setFocus()

    def _set_signed_out(self, signed_out: bool) -> None:
        for widget in (self.password, self.unlock_button, self.switch_button):
            widget.setVisible(not signed_out)
        for widget in (self.sign_in_button, self.quit_button):
            widget.setVisible(signed_out)

    @Slot()
    def _on_unlock_button_clicked(self) -> None:
        if self.actor is None or self.countdown.seconds_left:
            return
        try:
            actor = check_credentials(
                self.database, self.actor.username, self.password.text(), action="unlock"
            )
        except SignInError as exc:
            show_message(self.message, str(exc))
            self.password.clear()
            self.password.setFocus()
            self.countdown.start(exc.wait_seconds)
            return
        self.password.clear()
        show_message(self.message, "")
        self.unlocked.emit(actor)

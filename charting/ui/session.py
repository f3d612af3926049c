"""Who is signed in: signing in and out, the idle lock and the lock page's requests.

The main window owns the widgets; this object owns the session's state and says when it
changes, so the window only covers or uncovers itself and drops or reloads what it shows.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QApplication, QDialog, QWidget
from sqlalchemy.exc import SQLAlchemyError

from charting.models.db import Database, DatabaseError
from charting.services import accounts as account_service
from charting.services.access import Actor
from charting.services.errors import ServiceError
from charting.services.settings import SecuritySettings, load_security
from charting.ui.lock import IdleWatcher, LockPage
from charting.ui.login_dialog import LoginDialog

MINUTE_MS = 60_000


class SessionState(Enum):
    """Where the session is: someone works, the screen is locked, or nobody is signed in."""

    OPEN = "open"
    LOCKED = "locked"
    SIGNED_OUT = "signed out"


def close_open_dialogs(owner: QWidget) -> None:
    """Cancel dialogs and menus left open over ``owner`` (they may show a patient's details)."""
    for _ in range(20):
        popup = QApplication.activePopupWidget()
        if popup is not None:
            popup.close()
            continue
        modal = QApplication.activeModalWidget()
        if modal is None or modal is owner:
            return
        if isinstance(modal, QDialog):
            modal.reject()
        else:
            modal.close()
        if modal.isVisible():
            return  # it refuses to close while it works (a backup); it shows no patient


class Session(QObject):
    """The signed-in account of one window, its idle lock and its lock page.

    ``database.actor`` is whoever is signed in. The session locks after the clinic's idle
    time (``idle_lock_ms`` overrides it; tests use a short one), logs locks and sign-outs,
    and answers the lock page (unlock, sign in as someone else, sign in).

    ``may_sign_out`` is asked before a sign-out (the window saves and closes an open visit,
    and answers False when the person chose to stay with unsaved typing).

    Signals:
        covered_changed(bool): the window must now be covered (locked or signed out) or not.
        locking(str): about to lock for a reason ("idle" or "on request"): save the typing.
        locked(str): the lock page now covers the window.
        unlocked(object): the password was typed again; carries the fresh Actor.
        started(object): someone signed in (a new session); carries the Actor.
        signed_out(): the session ended; drop whatever was shown.
        message_posted(str, int): a status-bar message and how long to show it (ms).
    """

    covered_changed = Signal(bool)
    locking = Signal(str)
    locked = Signal(str)
    unlocked = Signal(object)
    started = Signal(object)
    signed_out = Signal()
    message_posted = Signal(str, int)

    def __init__(
        self,
        database: Database,
        lock_page: LockPage,
        *,
        owner: QWidget,
        may_sign_out: Callable[[], bool] = lambda: True,
        idle_lock_ms: int | None = None,
    ) -> None:
        super().__init__(owner)
        self.database = database
        self.lock_page = lock_page
        self._owner = owner
        self._may_sign_out = may_sign_out
        self._idle_lock_ms = idle_lock_ms
        self._state = SessionState.OPEN if self.actor is not None else SessionState.SIGNED_OUT
        self.idle = IdleWatcher(self._idle_interval_ms(), self)
        self.idle.idled.connect(self._on_idle_idled)
        lock_page.unlocked.connect(self._on_lock_page_unlocked)
        lock_page.switch_user_requested.connect(self._on_lock_page_switch_user_requested)
        lock_page.sign_in_requested.connect(self._on_lock_page_sign_in_requested)

    # -- state -------------------------------------------------------------------------------
    @property
    def actor(self) -> Actor | None:
        """Whoever is signed in (None while signed out)."""
        actor = self.database.actor
        return actor if isinstance(actor, Actor) else None

    @property
    def state(self) -> SessionState:
        """Open, locked or signed out."""
        return self._state

    @property
    def is_covered(self) -> bool:
        """Whether the lock page (locked or signed out) covers the window."""
        return self._state is not SessionState.OPEN

    def begin(self) -> None:
        """Show the state the window starts in: the sign-in page, or count idle time."""
        if self._state is SessionState.OPEN:
            self.idle.start()
        else:
            self._set_state(SessionState.SIGNED_OUT)
            self.lock_page.show_signed_out()

    def stop(self) -> None:
        """Stop counting idle time (the window closes)."""
        self.idle.stop()

    def set_idle_minutes(self, minutes: int) -> None:
        """The clinic changed its idle-lock time (ignored when a fixed one was given)."""
        if self._idle_lock_ms is None:
            self.idle.set_interval_ms(minutes * MINUTE_MS)

    def _idle_interval_ms(self) -> int:
        if self._idle_lock_ms is not None:
            return self._idle_lock_ms
        try:
            with self.database.read() as session:
                return load_security(session).idle_lock_minutes * MINUTE_MS
        except (DatabaseError, SQLAlchemyError):
            return SecuritySettings().idle_lock_minutes * MINUTE_MS

    def _set_state(self, state: SessionState) -> None:
        self._state = state
        if state is SessionState.OPEN:
            self.covered_changed.emit(False)
            self.idle.start()
        else:
            self.idle.stop()
            self.covered_changed.emit(True)

    # -- what the window asks ----------------------------------------------------------------
    def lock(self, reason: str = "on request") -> bool:
        """Save what is being typed and cover the window until the password is typed again.

        ``reason`` is "idle" or "on request" (it goes into the audit log). False when nobody
        is signed in or the window is covered already.
        """
        actor = self.actor
        if actor is None or self.is_covered:
            return False
        self.locking.emit(reason)
        if reason == "idle":
            close_open_dialogs(self._owner)
        self._set_state(SessionState.LOCKED)
        self.lock_page.show_locked(actor, reason)
        self.locked.emit(reason)
        try:
            account_service.record_lock(self.database, actor, reason)
        except (ServiceError, DatabaseError, SQLAlchemyError) as exc:
            self.message_posted.emit(f"The lock could not be logged: {exc}", 10_000)
        return True

    def sign_out(self) -> bool:
        """Log the sign-out and show the signed-out page; False if nobody was signed in or
        the window kept the session (unsaved typing the person chose to stay with)."""
        actor = self.actor
        if actor is None or not self._may_sign_out():
            return False
        try:
            account_service.record_sign_out(self.database, actor)
        except (ServiceError, DatabaseError, SQLAlchemyError) as exc:
            self.message_posted.emit(f"The sign-out could not be logged: {exc}", 10_000)
        self.database.actor = None
        self._set_state(SessionState.SIGNED_OUT)
        self.lock_page.show_signed_out()
        self.signed_out.emit()
        return True

    def sign_in(self) -> bool:
        """Ask who is signing in and start their session; False if cancelled."""
        actor = LoginDialog.ask(self._owner, self.database)
        if actor is None:
            return False
        self.start(actor)
        return True

    def start(self, actor: Actor) -> None:
        """Start a session for ``actor`` (after a sign-in)."""
        self.database.actor = actor
        self.idle.set_interval_ms(self._idle_interval_ms())
        self._set_state(SessionState.OPEN)
        self.started.emit(actor)

    def switch_user(self) -> None:
        """Sign out and ask who signs in next (nothing, when the sign-out was refused)."""
        if self.sign_out():
            self.sign_in()

    # -- slots -------------------------------------------------------------------------------
    @Slot()
    def _on_idle_idled(self) -> None:
        self.lock("idle")

    @Slot(object)
    def _on_lock_page_unlocked(self, actor: Actor) -> None:
        self.database.actor = actor
        self._set_state(SessionState.OPEN)
        self.unlocked.emit(actor)

    @Slot()
    def _on_lock_page_switch_user_requested(self) -> None:
        self.switch_user()

    @Slot()
    def _on_lock_page_sign_in_requested(self) -> None:
        self.sign_in()

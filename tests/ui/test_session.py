"""The session on its own: the idle lock on a fake clock, unlocking, signing out and in."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit, QVBoxLayout, QWidget

from charting.models import Role
from charting.models.db import Database
from charting.services import audit
from charting.services.access import Actor
from charting.ui import lock
from charting.ui.lock import LockPage
from charting.ui.login_dialog import LoginDialog
from charting.ui.session import Session, SessionState
from tests.factories import TEST_PASSWORD

ADMIN = Actor(1, "ana", "Ana Ruiz", frozenset({Role.ADMIN}))


class FakeClock:
    """A monotonic clock that moves only when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """The idle watcher's clock, under the test's control."""
    fake = FakeClock()
    monkeypatch.setattr(lock.time, "monotonic", fake)
    return fake


class Host:
    """A window-like owner with a field to type in, the lock page and a session."""

    def __init__(self, qtbot, database: Database, **options: object) -> None:  # type: ignore[no-untyped-def]
        self.widget = QWidget()
        qtbot.addWidget(self.widget)
        self.field = QLineEdit()
        self.page = LockPage(database)
        layout = QVBoxLayout(self.widget)
        layout.addWidget(self.field)
        layout.addWidget(self.page)
        self.session = Session(database, self.page, owner=self.widget, **options)  # type: ignore[arg-type]
        # The handlers hold the lists, not the host: no reference cycle through Qt.
        self.covered: list[bool] = []
        self.events: list[str] = []
        events = self.events
        self.session.covered_changed.connect(self.covered.append)
        self.session.locking.connect(lambda reason: events.append(f"locking {reason}"))
        self.session.locked.connect(lambda reason: events.append(f"locked {reason}"))
        self.session.signed_out.connect(lambda: events.append("signed out"))
        self.session.started.connect(lambda a: events.append(f"started {a.username}"))
        self.session.unlocked.connect(lambda a: events.append(f"unlocked {a.username}"))
        self.widget.show()
        qtbot.waitExposed(self.widget)


@pytest.fixture(autouse=True)
def _collect_here(qapp) -> Iterator[None]:  # type: ignore[no-untyped-def]
    """Free each test's widgets on the GUI thread, when the test ends.

    Left to the cyclic garbage collector they could be freed later on whatever thread
    happens to run it (a later test's database thread), which Qt widgets do not survive.
    """
    yield
    qapp.processEvents()
    gc.collect()


@pytest.fixture
def host(qtbot, database: Database) -> Iterator[Host]:  # type: ignore[no-untyped-def]
    """A signed-in session whose idle timer checks the (fake) clock every 50 ms."""
    made = Host(qtbot, database, idle_lock_ms=50)
    yield made
    made.session.stop()


def _entries(database: Database, action: str) -> list[audit.Entry]:
    with database.acting_as(ADMIN).read() as session:
        return audit.search(session, action=action)


def test_the_idle_lock_fires_only_once_the_idle_time_has_passed_on_the_clock(
    qtbot, clock: FakeClock, database: Database
) -> None:  # type: ignore[no-untyped-def]
    """Timer ticks alone never lock: the session locks when the clock says the idle time
    passed without input, and typing starts the count again."""
    # The watcher's timer is real: it looks at the clock at most every 100 ms.
    host = Host(qtbot, database, idle_lock_ms=100)
    host.session.begin()
    assert host.session.idle.is_running()
    qtbot.wait(250)
    assert host.session.state is SessionState.OPEN  # the clock has not moved

    clock.advance(0.060)
    qtbot.keyClicks(host.field, "x")  # input after 60 ms: the count starts again
    clock.advance(0.060)  # 120 ms since the start, 60 since the input
    qtbot.wait(250)
    assert host.session.state is SessionState.OPEN

    with qtbot.waitSignal(host.session.locked, timeout=5000) as locked:
        clock.advance(0.040)
    assert locked.args == ["idle"]
    assert host.session.state is SessionState.LOCKED
    assert host.covered == [True]
    assert host.events == ["locking idle", "locked idle"]
    assert host.page.title.text() == "Locked \u2013 Ana Ruiz"
    assert not host.session.idle.is_running()
    assert _entries(database, "lock")[0].detail == "idle"
    host.session.stop()


def test_a_lock_on_request_is_undone_by_the_right_password_only(
    qtbot, host: Host, database: Database
) -> None:  # type: ignore[no-untyped-def]
    """Locking covers the window and logs it; a wrong password keeps it covered; the right
    one uncovers it, counts idle time again and says who came back."""
    host.session.begin()
    assert host.session.lock("on request")
    assert not host.session.lock("on request")  # locked already
    assert host.session.is_covered and host.covered == [True]

    for password in ("not the password", TEST_PASSWORD):
        host.page.password.clear()
        qtbot.keyClicks(host.page.password, password)
        qtbot.keyClick(host.page.password, Qt.Key.Key_Return)
        if password != TEST_PASSWORD:
            assert host.session.is_covered

    assert host.session.state is SessionState.OPEN
    assert host.covered == [True, False]
    assert host.events[-1] == "unlocked ana"
    assert host.session.idle.is_running()
    assert [e.outcome for e in _entries(database, "unlock")][:2] == ["ok", "failed"]


def test_signing_out_drops_the_session_and_logs_it(qtbot, host: Host, database: Database) -> None:  # type: ignore[no-untyped-def]
    """After a sign-out nobody is signed in, the signed-out page covers the window, the idle
    count stops and the audit log has the sign-out."""
    host.session.begin()
    assert host.session.sign_out()
    assert database.actor is None and host.session.actor is None
    assert host.session.state is SessionState.SIGNED_OUT
    assert host.page.is_signed_out and host.page.sign_in_button.isVisible()
    assert host.covered == [True] and host.events == ["signed out"]
    assert not host.session.idle.is_running()
    assert [e.username for e in _entries(database, "logout")] == ["ana"]
    assert not host.session.lock("idle")  # nobody to lock for
    assert not host.session.sign_out()


def test_a_refused_sign_out_keeps_the_session_and_asks_nobody_to_sign_in(
    qtbot, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """When the window keeps the session (unsaved typing the person stays with), "Sign in as
    someone else" neither signs out nor opens the sign-in dialog."""
    asked: list[object] = []
    monkeypatch.setattr(LoginDialog, "ask", staticmethod(lambda *a: asked.append(a)))
    host = Host(qtbot, database, idle_lock_ms=60_000, may_sign_out=lambda: False)
    host.session.begin()
    host.session.lock()
    qtbot.mouseClick(host.page.switch_button, Qt.MouseButton.LeftButton)
    assert asked == []
    assert host.session.actor is not None and host.session.state is SessionState.LOCKED
    assert _entries(database, "logout") == []
    host.session.stop()


def test_a_session_begun_with_nobody_signed_in_shows_the_sign_in_page_and_starts_on_sign_in(
    qtbot, database: Database, when_modal
) -> None:  # type: ignore[no-untyped-def]
    """Nobody signed in: the page offers to sign in; signing in through the dialog starts a
    session for that account with the clinic's idle time."""
    actor = database.actor
    database.actor = None
    host = Host(qtbot, database)
    host.session.begin()
    assert host.session.state is SessionState.SIGNED_OUT and host.page.is_signed_out

    def sign_in_as_ana(dialog: LoginDialog) -> None:
        qtbot.keyClicks(dialog.username, "ana")
        qtbot.keyClicks(dialog.password, TEST_PASSWORD)
        qtbot.keyClick(dialog.password, Qt.Key.Key_Return)

    when_modal(sign_in_as_ana)
    qtbot.mouseClick(host.page.sign_in_button, Qt.MouseButton.LeftButton)
    assert host.session.actor is not None and host.session.actor.username == actor.username
    assert host.session.state is SessionState.OPEN
    assert host.events == ["started ana"] and host.covered == [True, False]
    assert host.session.idle.interval_ms == 10 * 60_000  # the clinic's default
    host.session.stop()

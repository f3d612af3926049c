"""One place where the UI runs a service: a short write session, errors shown, one signal."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QMessageBox, QWidget
from sqlalchemy.orm import Session

from charting.models.db import (
    ConcurrentChangeError,
    Database,
    DatabaseError,
    DatabaseFileError,
)
from charting.services.changes import Changes
from charting.services.errors import ServiceError

T = TypeVar("T")


class OpRunner(QObject):
    """Runs mutating services in their own transaction and announces what changed.

    Every write the UI makes goes through :meth:`run` (which tells the person when it is
    refused) or :meth:`attempt` (for a caller that handles refusals itself, such as autosave,
    which keeps typing the database could not take and tries again).

    Signals:
        changes_applied(Changes): after every successful operation, with what it changed;
            ``Changes.origin`` names the object that asked for it (``origin=`` of run or
            attempt), so it can skip redrawing its own change.
        operation_failed(str): an operation was refused or failed (nothing was stored); the
            message says why. Screens re-read what they show, so none keeps showing a value
            the record does not hold.
    """

    changes_applied = Signal(object)
    operation_failed = Signal(str)

    def __init__(self, database: Database, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.database = database

    def run(
        self,
        parent: QWidget | None,
        service: Callable[..., Any],
        *args: Any,
        origin: object = None,
        **kwargs: Any,
    ) -> Any | None:
        """Call ``service(session, *args, **kwargs)`` in one write transaction.

        The service returns ``Changes`` or a tuple whose last item is ``Changes``; the
        result is returned to the caller. On a service or database error the user sees a
        message, nothing is committed, and None is returned. ``origin`` is passed on in
        ``changes_applied``.
        """
        try:
            with self.database.write() as session:
                result = service(session, *args, **kwargs)
        except ServiceError as exc:
            QMessageBox.warning(parent, "Not saved", str(exc))
            self.operation_failed.emit(str(exc))
            return None
        except DatabaseFileError as exc:
            message = f"The change was not saved. {exc}"
            QMessageBox.critical(parent, "Database problem", message)
            self.operation_failed.emit(message)
            return None
        except ConcurrentChangeError as exc:
            QMessageBox.warning(parent, "Not saved", str(exc))
            self.operation_failed.emit(str(exc))
            return None
        except DatabaseError as exc:
            message = f"The change was not saved. {exc}"
            QMessageBox.critical(parent, "Database problem", message)
            self.operation_failed.emit(message)
            return None
        self._announce(result, origin)
        return result

    def attempt(
        self,
        service: Callable[..., Any],
        *args: Any,
        origin: object = None,
        busy_timeout_ms: int | None = None,
        **kwargs: Any,
    ) -> Any:
        """Like :meth:`run`, but a refusal or database error is raised to the caller (who
        says it in its own way) instead of shown; ``operation_failed`` is not emitted.

        Args:
            service: Called as ``service(session, *args, **kwargs)``.
            origin: Passed on in ``changes_applied``.
            busy_timeout_ms: Wait at most this long for another writer (SQLite).
        """
        with self.database.write(busy_timeout_ms=busy_timeout_ms) as session:
            result = service(session, *args, **kwargs)
        self._announce(result, origin)
        return result

    def _announce(self, result: Any, origin: object) -> None:
        changes = result[-1] if isinstance(result, tuple) else result
        if isinstance(changes, Changes):
            if origin is not None:
                changes = dataclasses.replace(changes, origin=origin)
            self.changes_applied.emit(changes)

    def read(self, query: Callable[[Session], T], autocommit: bool = False) -> T:
        """Run a read-only query in its own session.

        With ``autocommit`` the statements run outside a transaction, which on PostgreSQL
        spares the BEGIN and ROLLBACK round trips (two of the seven a click's refresh
        makes). Only for short reads: each statement then sees what is committed when it
        starts, which is all a READ COMMITTED transaction gives anyway, but a server-side
        cursor (``yield_per``) cannot be held open. SQLite reads are unchanged.
        """
        with self.database.read() as session:
            if autocommit:
                session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
            return query(session)

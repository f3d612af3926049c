"""One place where the UI runs a service: a short write session, errors shown, one signal."""

from __future__ import annotations

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

    Signals:
        changes_applied(Changes): after every successful operation, with what it changed.
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
        **kwargs: Any,
    ) -> Any | None:
        """Call ``service(session, *args, **kwargs)`` in one write transaction.

        The service returns ``Changes`` or a tuple whose last item is ``Changes``; the
        result is returned to the caller. On a service or database error the user sees a
        message, nothing is committed, and None is returned.
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
        changes = result[-1] if isinstance(result, tuple) else result
        if isinstance(changes, Changes):
            self.changes_applied.emit(changes)
        return result

    def read(self, query: Callable[[Session], T]) -> T:
        """Run a read-only query in its own session."""
        with self.database.read() as session:
            return query(session)

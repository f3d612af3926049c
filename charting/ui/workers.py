"""Background tasks (backups, restores) in a QThread: they report by signals, touch no widget."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot
from sqlalchemy.exc import SQLAlchemyError

from charting.models.db import DatabaseError
from charting.services.errors import ServiceError

#: A task is handed a progress callback ``(done, total)`` and returns its result.
Task = Callable[[Callable[[int, int], None]], Any]


class TaskWorker(QObject):
    """Runs one task in the thread it was moved to.

    Signals:
        progressed(int, int): done and total, as the task reports them.
        finished(object): the task's result.
        failed(str): why the task stopped, in words (never a traceback).
    """

    progressed = Signal(int, int)
    finished = Signal(object)
    failed = Signal(str)

    def __init__(self, task: Task) -> None:
        super().__init__()
        self._task = task

    @Slot()
    def run(self) -> None:
        """Run the task; report the outcome by signals."""
        try:
            result = self._task(self._progress)
        except ServiceError as exc:
            self.failed.emit(str(exc))
        except (DatabaseError, SQLAlchemyError) as exc:
            self.failed.emit(f"Database problem: {getattr(exc, 'orig', None) or exc}")
        except OSError as exc:
            self.failed.emit(f"File problem: {exc}")
        except Exception as exc:  # a background task must end with a message, not a traceback
            self.failed.emit(f"Unexpected problem ({type(exc).__name__}): {exc}")
        else:
            self.finished.emit(result)

    def _progress(self, done: int, total: int) -> None:
        self.progressed.emit(int(done), int(total))


class TaskRunner(QObject):
    """Owns the thread of at most one running task.

    Signals:
        progressed(int, int): the running task's progress.
        finished(object): the task's result (in the thread that owns the runner).
        failed(str): the task's failure message.
    """

    progressed = Signal(int, int)
    finished = Signal(object)
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread: QThread | None = None
        self._worker: TaskWorker | None = None

    def is_running(self) -> bool:
        """Whether a task is under way."""
        return self._thread is not None and self._thread.isRunning()

    def start(self, task: Task) -> None:
        """Run ``task`` in a new thread (one task at a time)."""
        if self.is_running():
            raise RuntimeError("a task is already running")
        self.wait()
        thread = QThread(self)
        worker = TaskWorker(task)
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        # Quit the thread from the worker's side at once, so the handlers below (queued to
        # this thread) find it ending and can wait for it.
        worker.finished.connect(thread.quit, Qt.ConnectionType.DirectConnection)
        worker.failed.connect(thread.quit, Qt.ConnectionType.DirectConnection)
        worker.progressed.connect(self.progressed)
        worker.finished.connect(self._on_worker_finished)
        worker.failed.connect(self._on_worker_failed)
        self._thread, self._worker = thread, worker
        thread.start()

    def wait(self, timeout_ms: int = 120_000) -> bool:
        """Block until the task's thread has ended (used when closing)."""
        if self._thread is None:
            return True
        return self._thread.wait(timeout_ms)

    @Slot(object)
    def _on_worker_finished(self, result: Any) -> None:
        self.wait()
        self.finished.emit(result)

    @Slot(str)
    def _on_worker_failed(self, message: str) -> None:
        self.wait()
        self.failed.emit(message)

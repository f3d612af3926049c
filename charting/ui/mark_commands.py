"""Undoable map edits: each command calls a marks service through the shared op runner."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtGui import QUndoCommand
from PySide6.QtWidgets import QWidget

from charting.bodymap import BodyMap
from charting.services import marks as mark_service
from charting.services.marks import MarkDetails, MarkRow, MarkSpec
from charting.ui.ops import OpRunner

Run = Callable[..., Any]


class _MarkCommand(QUndoCommand):
    """Base: runs services via ``ops``; a command whose first run fails removes itself."""

    def __init__(self, ops: OpRunner, bodymap: BodyMap, text: str) -> None:
        super().__init__(text)
        self.ops = ops
        self.bodymap = bodymap
        self.parent_widget: QWidget | None = None

    def _run(self, service: Run, *args: Any) -> Any | None:
        result = self.ops.run(self.parent_widget, service, *args)
        if result is None:
            # Nothing was changed; drop the command so undo does not replay a failure.
            self.setObsolete(True)
        return result


class AddMarksCommand(_MarkCommand):
    """Add one or more marks (a click, a typed point, a protocol, a repeated visit)."""

    def __init__(
        self, ops: OpRunner, bodymap: BodyMap, visit_id: int, specs: Sequence[MarkSpec], text: str
    ) -> None:
        super().__init__(ops, bodymap, text)
        self.visit_id = visit_id
        self.specs = list(specs)
        self.ids: list[int] = []
        self._removed: list[MarkRow] = []

    def redo(self) -> None:
        if self._removed:
            self._run(mark_service.restore_marks, self._removed)
            return
        result = self._run(mark_service.add_marks, self.bodymap, self.visit_id, self.specs)
        if result is not None:
            self.ids = result[0]

    def undo(self) -> None:
        result = self._run(mark_service.delete_marks, self.ids)
        if result is not None:
            self._removed = result[0]


class DeleteMarksCommand(_MarkCommand):
    """Delete marks; undo restores them with their ids and details."""

    def __init__(self, ops: OpRunner, bodymap: BodyMap, ids: Sequence[int], text: str) -> None:
        super().__init__(ops, bodymap, text)
        self.ids = list(ids)
        self._removed: list[MarkRow] = []

    def redo(self) -> None:
        result = self._run(mark_service.delete_marks, self.ids)
        if result is not None:
            self._removed = result[0]

    def undo(self) -> None:
        self._run(mark_service.restore_marks, self._removed)


class MoveMarkCommand(_MarkCommand):
    """Move a mark to where it was really needled."""

    def __init__(
        self,
        ops: OpRunner,
        bodymap: BodyMap,
        mark_id: int,
        old: tuple[float, float],
        new: tuple[float, float],
    ) -> None:
        super().__init__(ops, bodymap, "Move mark")
        self.mark_id, self.old, self.new = mark_id, old, new

    def redo(self) -> None:
        self._run(mark_service.move_mark, self.bodymap, self.mark_id, *self.new)

    def undo(self) -> None:
        self._run(mark_service.move_mark, self.bodymap, self.mark_id, *self.old)


class EditDetailsCommand(_MarkCommand):
    """Change a mark's technique, depth, response or note; quick successive edits merge."""

    MERGE_ID = 4201

    def __init__(
        self, ops: OpRunner, bodymap: BodyMap, mark_id: int, old: MarkDetails, new: MarkDetails
    ) -> None:
        super().__init__(ops, bodymap, "Edit mark details")
        self.mark_id, self.old, self.new = mark_id, old, new

    def id(self) -> int:
        return self.MERGE_ID

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, EditDetailsCommand) or other.mark_id != self.mark_id:
            return False
        self.new = other.new
        return True

    def redo(self) -> None:
        self._run(mark_service.update_details, self.mark_id, self.new)

    def undo(self) -> None:
        self._run(mark_service.update_details, self.mark_id, self.old)

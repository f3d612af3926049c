"""Undoable map edits: each command calls a marks service through the shared op runner."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtGui import QUndoCommand
from PySide6.QtWidgets import QMessageBox, QWidget

from charting.bodymap import BodyMap
from charting.services import marks as mark_service
from charting.services import visit_record, visit_templates
from charting.services.marks import MarkDetails, MarkSpec, RemovedMarks
from charting.ui.ops import OpRunner

Run = Callable[..., Any]
log = logging.getLogger(__name__)


def _guarded(step: Callable[[Any], None]) -> Callable[[Any], None]:
    """Wrap a command's redo or undo: an exception must not escape into Qt, which calls
    these from C++ (an escaping exception there ends the program)."""

    @functools.wraps(step)
    def run(command: Any) -> None:
        try:
            step(command)
        except Exception as exc:
            log.exception("%s failed", command.text())
            command.setObsolete(True)
            QMessageBox.critical(
                command.parent_widget,
                "Not saved",
                f"\u201c{command.text()}\u201d could not be completed ({exc}). "
                "The map shows what is stored.",
            )

    return run


class _MarkCommand(QUndoCommand):
    """Base: runs services via ``ops``; a command whose first run fails removes itself."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name in ("redo", "undo"):
            if name in cls.__dict__:
                setattr(cls, name, _guarded(cls.__dict__[name]))

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
    """Add one or more marks (a click, a typed point, a protocol)."""

    def __init__(
        self, ops: OpRunner, bodymap: BodyMap, visit_id: int, specs: Sequence[MarkSpec], text: str
    ) -> None:
        super().__init__(ops, bodymap, text)
        self.visit_id = visit_id
        self.specs = list(specs)
        self.ids: list[int] = []
        self._removed: RemovedMarks | None = None

    def _first(self) -> Any | None:
        return self._run(mark_service.add_marks, self.bodymap, self.visit_id, self.specs)

    def redo(self) -> None:
        if self._removed is not None:
            self._run(mark_service.restore_marks, self._removed)
            return
        result = self._first()
        if result is not None:
            self.ids = result[0]

    def undo(self) -> None:
        result = self._run(mark_service.delete_marks, self.ids)
        if result is not None:
            self._removed = result[0]


class RepeatVisitCommand(AddMarksCommand):
    """Copy another visit's marks and EA pairs (with their settings) as one step; undo takes
    all of them off, redo puts all of them back."""

    def __init__(
        self, ops: OpRunner, bodymap: BodyMap, visit_id: int, source_visit_id: int, text: str
    ) -> None:
        super().__init__(ops, bodymap, visit_id, [], text)
        self.source_visit_id = source_visit_id

    def _first(self) -> Any | None:
        return self._run(
            mark_service.repeat_visit, self.bodymap, self.visit_id, self.source_visit_id
        )


class ApplyTemplateCommand(_MarkCommand):
    """Apply a visit template (points, EA pairs, cupping, plan fields) as one step; undo takes
    its marks off and puts the plan fields back."""

    def __init__(
        self, ops: OpRunner, bodymap: BodyMap, visit_id: int, template_id: str, text: str
    ) -> None:
        super().__init__(ops, bodymap, text)
        self.visit_id, self.template_id = visit_id, template_id
        self.applied: visit_templates.AppliedTemplate | None = None

    def redo(self) -> None:
        result = self._run(
            visit_templates.apply_template, self.bodymap, self.visit_id, self.template_id
        )
        if result is not None:
            self.applied = result[0]

    def undo(self) -> None:
        if self.applied is not None:
            self._run(visit_templates.undo_template, self.applied)


class DeleteMarksCommand(_MarkCommand):
    """Delete marks; undo restores them with their ids, details and EA pairs."""

    def __init__(self, ops: OpRunner, bodymap: BodyMap, ids: Sequence[int], text: str) -> None:
        super().__init__(ops, bodymap, text)
        self.ids = list(ids)
        self._removed: RemovedMarks | None = None

    def redo(self) -> None:
        result = self._run(mark_service.delete_marks, self.ids)
        if result is not None:
            self._removed = result[0]

    def undo(self) -> None:
        if self._removed is not None:
            self._run(mark_service.restore_marks, self._removed)


class _VersionedCommand(_MarkCommand):
    """A change to one row that carries the row's version from step to step, so an undo or
    redo never overwrites what another workstation changed meanwhile (it is refused)."""

    version: int | None = None

    def _step(self, service: Run, *args: Any) -> None:
        result = self._run(service, *args, self.version)
        if result is not None:
            self.version = result[0]


class MoveMarkCommand(_VersionedCommand):
    """Move a mark to where it was really needled."""

    def __init__(
        self,
        ops: OpRunner,
        bodymap: BodyMap,
        mark_id: int,
        old: tuple[float, float],
        new: tuple[float, float],
        version: int | None = None,
    ) -> None:
        super().__init__(ops, bodymap, "Move mark")
        self.mark_id, self.old, self.new, self.version = mark_id, old, new, version

    def redo(self) -> None:
        self._step(mark_service.move_mark, self.bodymap, self.mark_id, *self.new)

    def undo(self) -> None:
        self._step(mark_service.move_mark, self.bodymap, self.mark_id, *self.old)


class EditDetailsCommand(_VersionedCommand):
    """Change a mark's technique, depth, response or note; quick successive edits merge."""

    MERGE_ID = 4201

    def __init__(
        self,
        ops: OpRunner,
        bodymap: BodyMap,
        mark_id: int,
        old: MarkDetails,
        new: MarkDetails,
        version: int | None = None,
    ) -> None:
        super().__init__(ops, bodymap, "Edit mark details")
        self.mark_id, self.old, self.new, self.version = mark_id, old, new, version

    def id(self) -> int:
        return self.MERGE_ID

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, EditDetailsCommand) or other.mark_id != self.mark_id:
            return False
        self.new = other.new
        self.version = other.version
        return True

    def redo(self) -> None:
        self._step(mark_service.update_details, self.mark_id, self.new)

    def undo(self) -> None:
        self._step(mark_service.update_details, self.mark_id, self.old)


class AddEAPairCommand(_MarkCommand):
    """Join two needles with an EA lead; undo removes the pair, redo puts the same pair back."""

    def __init__(
        self,
        ops: OpRunner,
        bodymap: BodyMap,
        visit_id: int,
        marks: tuple[int, int],
        settings: visit_record.EASettings,
    ) -> None:
        super().__init__(ops, bodymap, "Pair needles for EA")
        self.visit_id, self.marks, self.settings = visit_id, marks, settings
        self.pair_id: int | None = None
        self._removed: dict[str, Any] | None = None

    def redo(self) -> None:
        if self._removed is not None:
            self._run(visit_record.restore_ea_pair, self._removed)
            return
        result = self._run(visit_record.add_ea_pair, self.visit_id, *self.marks, self.settings)
        if result is not None:
            self.pair_id = result[0]

    def undo(self) -> None:
        result = self._run(visit_record.delete_ea_pair, self.pair_id)
        if result is not None:
            self._removed = result[0]


class DeleteEAPairCommand(_MarkCommand):
    """Remove an EA pair (the needles stay); undo restores it with its settings."""

    def __init__(self, ops: OpRunner, bodymap: BodyMap, pair_id: int) -> None:
        super().__init__(ops, bodymap, "Remove EA pair")
        self.pair_id = pair_id
        self._removed: dict[str, Any] | None = None

    def redo(self) -> None:
        result = self._run(visit_record.delete_ea_pair, self.pair_id)
        if result is not None:
            self._removed = result[0]

    def undo(self) -> None:
        if self._removed is not None:
            self._run(visit_record.restore_ea_pair, self._removed)


class EditEAPairCommand(_VersionedCommand):
    """Change an EA pair's stimulation settings; quick successive edits of one pair merge."""

    MERGE_ID = 4202

    def __init__(
        self,
        ops: OpRunner,
        bodymap: BodyMap,
        pair_id: int,
        old: visit_record.EASettings,
        new: visit_record.EASettings,
        version: int | None = None,
    ) -> None:
        super().__init__(ops, bodymap, "Edit EA settings")
        self.pair_id, self.old, self.new, self.version = pair_id, old, new, version

    def id(self) -> int:
        return self.MERGE_ID

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, EditEAPairCommand) or other.pair_id != self.pair_id:
            return False
        self.new = other.new
        self.version = other.version
        return True

    def redo(self) -> None:
        self._step(visit_record.update_ea_pair, self.pair_id, self.new)

    def undo(self) -> None:
        self._step(visit_record.update_ea_pair, self.pair_id, self.old)

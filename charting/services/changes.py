"""The change summary every mutating service returns, so each screen can refresh what it shows."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Changes:
    """Which records an operation created, changed or removed."""

    patients: frozenset[int] = field(default_factory=frozenset)
    visits: frozenset[int] = field(default_factory=frozenset)
    practitioners: frozenset[int] = field(default_factory=frozenset)
    marks: frozenset[int] = field(default_factory=frozenset)
    protocols: frozenset[int] = field(default_factory=frozenset)
    #: The clinic's custom points (the body map every screen reads changes with them).
    custom_points: frozenset[int] = field(default_factory=frozenset)
    #: Who asked for the change (the screen part that made it), set by the UI's op runner so
    #: that part does not redraw what it already shows; None when not said.
    origin: object = field(default=None, compare=False)

    def __or__(self, other: Changes) -> Changes:
        return Changes(
            self.patients | other.patients,
            self.visits | other.visits,
            self.practitioners | other.practitioners,
            self.marks | other.marks,
            self.protocols | other.protocols,
            self.custom_points | other.custom_points,
            self.origin if self.origin is not None else other.origin,
        )

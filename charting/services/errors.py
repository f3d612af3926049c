"""Exceptions raised by services, with messages meant for the person using the app."""

from __future__ import annotations

from collections.abc import Mapping


class ServiceError(Exception):
    """Something the user asked for cannot be done; ``str()`` explains why."""


class NotFoundError(ServiceError):
    """The record asked for does not exist (or was deleted)."""


class ValidationError(ServiceError):
    """Input that fails validation; ``errors`` maps each bad field to its message."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        # The messages are written for the person (each names its field in words); the keys
        # are field names for the code and stay out of what is shown.
        super().__init__("; ".join(self.errors.values()))

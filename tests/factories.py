"""Factories for valid test data."""

from __future__ import annotations

from datetime import date

from charting.bodymap import load_bodymap
from charting.services.marks import MarkSpec
from charting.services.patients import PatientInput


def patient_input(**overrides: object) -> PatientInput:
    """A valid patient form, with ``overrides`` applied."""
    data = PatientInput(
        family_name="Lindqvist",
        given_name="Maja",
        date_of_birth=date(1978, 5, 17),
        sex="female",
        phone="+1 555 0147",
        email="maja.lindqvist@example.org",
    )
    for key, value in overrides.items():
        setattr(data, key, value)
    return data


def point_spec(code: str, side: str, view: str = "posterior", **details: object) -> MarkSpec:
    """An acupoint mark exactly at the catalog position of ``code`` on ``side``."""
    position = load_bodymap().position(code, side, view)  # type: ignore[arg-type]
    assert position is not None, f"{code} {side} is not on the {view} view"
    return MarkSpec("acupoint", view, position[0], position[1], side, point_code=code, **details)  # type: ignore[arg-type]

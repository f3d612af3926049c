"""Factories for valid test data."""

from __future__ import annotations

from datetime import date

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

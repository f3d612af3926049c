"""Red flags and the referral decision they require before a visit can be signed.

Red flags have high false-positive rates and poor accuracy on their own; guidance asks for
clinical reasoning and a documented decision, not automatic referral or imaging (GCARE,
PHYSIO-RF in docs/sources.md). So a ticked flag never blocks treatment, but the visit cannot
be signed until the practitioner has recorded what they decided: an urgent referral, a
routine referral, or considered and not referred, with the reason.
"""

from __future__ import annotations

from collections.abc import Iterable

from charting.services import clinical_lists as lists
from charting.services.errors import ServiceError

#: Fewest characters a "not referred" reason must have to count as a reason.
MIN_REASON = 10
_FLAG_LABELS = {c.id: c.label for c in lists.RED_FLAGS}
_OUTCOME_LABELS = {c.id: c.label for c in lists.REFERRAL_OUTCOMES}


class ReferralDecisionError(ServiceError):
    """A positive red flag has no recorded referral decision (or no reason for not referring)."""


def flag_labels(flags: Iterable[str]) -> list[str]:
    """The readable labels of red-flag ids, in the list's order."""
    ticked = set(flags)
    return [c.label for c in lists.RED_FLAGS if c.id in ticked] + sorted(
        f for f in ticked if f not in _FLAG_LABELS
    )


def outcome_label(outcome: str) -> str:
    """The readable label of a referral outcome id ("" when none was recorded)."""
    return _OUTCOME_LABELS.get(outcome, outcome)


def referral_problem(flags: Iterable[str], outcome: str, details: str) -> str | None:
    """Why a visit with these red flags and this decision cannot be signed, or None."""
    ticked = flag_labels(flags)
    if not ticked:
        return None
    named = "; ".join(ticked)
    if not outcome:
        return (
            f"Red flags are ticked ({named}). Record a referral decision (urgent referral, "
            "routine referral, or considered and not referred with the reason) before signing."
        )
    if outcome == "not_referred" and len(details.strip()) < MIN_REASON:
        return (
            f"Red flags are ticked ({named}) and the decision is not to refer: write the reason "
            "in the referral details before signing."
        )
    return None


def check_referral(flags: Iterable[str], outcome: str, details: str) -> None:
    """Raise :class:`ReferralDecisionError` when :func:`referral_problem` finds one."""
    if (problem := referral_problem(flags, outcome, details)) is not None:
        raise ReferralDecisionError(problem)

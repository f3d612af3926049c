"""Who is acting, and what each role may do: checked here, in the services, on every path.

The UI hides what a role cannot use, but that is a courtesy; the rule lives here, so a
command-line call, a background job or a bug in a screen meets the same refusal.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy.orm import Session

from charting.models import Role
from charting.services.errors import ServiceError


class Permission(StrEnum):
    """Things an account may be allowed to do."""

    VIEW_PATIENTS = "view_patients"  # find patients, see demographics and the visit list
    EDIT_PATIENTS = "edit_patients"  # register and update patients
    DELETE_PATIENTS = "delete_patients"
    BOOK = "book"  # set a visit's next appointment
    VIEW_CLINICAL = "view_clinical"  # notes, marks, pain scores, reports
    CHART = "chart"  # start visits and write clinical notes and marks
    SIGN = "sign"  # sign own visits and amend signed ones
    EXPORT = "export"  # PDFs and data files for other systems, one patient or all
    IMPORT = "import"  # bring patients (or a whole Charting export) in from a file
    MANAGE_ACCOUNTS = "manage_accounts"
    VIEW_AUDIT = "view_audit"
    BACKUP = "backup"  # back up and restore the database
    CLINIC_SETTINGS = "clinic_settings"
    CUSTOM_POINTS = "custom_points"  # add, edit and retire the clinic's own body-map points


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.PRACTITIONER: frozenset(
        {
            Permission.VIEW_PATIENTS,
            Permission.EDIT_PATIENTS,
            Permission.BOOK,
            Permission.VIEW_CLINICAL,
            Permission.CHART,
            Permission.SIGN,
            Permission.CUSTOM_POINTS,
        }
    ),
    Role.FRONT_DESK: frozenset(
        {Permission.VIEW_PATIENTS, Permission.EDIT_PATIENTS, Permission.BOOK}
    ),
    Role.ADMIN: frozenset(
        {
            Permission.VIEW_PATIENTS,
            Permission.EDIT_PATIENTS,
            Permission.DELETE_PATIENTS,
            Permission.BOOK,
            # Exports carry the clinical record, so whoever exports can read it.
            Permission.VIEW_CLINICAL,
            Permission.EXPORT,
            Permission.IMPORT,
            Permission.MANAGE_ACCOUNTS,
            Permission.VIEW_AUDIT,
            Permission.BACKUP,
            Permission.CLINIC_SETTINGS,
            Permission.CUSTOM_POINTS,
        }
    ),
}

ROLE_LABELS = {
    Role.PRACTITIONER: "Practitioner",
    Role.FRONT_DESK: "Front desk",
    Role.ADMIN: "Clinic admin",
}

# Said to the person refused, in words that name the role that can do it.
_REFUSALS = {
    Permission.VIEW_PATIENTS: "look up patients",
    Permission.EDIT_PATIENTS: "register or change patients",
    Permission.DELETE_PATIENTS: "delete patients (a clinic admin can)",
    Permission.BOOK: "book appointments",
    Permission.VIEW_CLINICAL: "read clinical notes (practitioners and clinic admins can)",
    Permission.CHART: "chart treatments (practitioners can)",
    Permission.SIGN: "sign or amend visits (practitioners can)",
    Permission.EXPORT: "export records (a clinic admin can)",
    Permission.IMPORT: "import patients (a clinic admin can)",
    Permission.MANAGE_ACCOUNTS: "manage accounts (a clinic admin can)",
    Permission.VIEW_AUDIT: "see the audit log (a clinic admin can)",
    Permission.BACKUP: "back up or restore the database (a clinic admin can)",
    Permission.CLINIC_SETTINGS: "change the clinic's settings (a clinic admin can)",
    Permission.CUSTOM_POINTS: (
        "add or change the clinic's custom points (practitioners and clinic admins can)"
    ),
}


class NotSignedInError(ServiceError):
    """Nobody is signed in on this database handle."""


class PermissionDeniedError(ServiceError):
    """The signed-in account's roles do not allow the action."""


@dataclass(frozen=True)
class Actor:
    """Whoever is acting: a signed-in account, or a named system task.

    ``user_id`` is None for system tasks (the demo generator, automatic backups); those are
    made explicitly by the code that runs them, never as a fallback for a missing login.
    """

    user_id: int | None
    username: str
    display_name: str
    roles: frozenset[Role]
    practitioner_id: int | None = None

    @classmethod
    def system(cls, task: str, roles: frozenset[Role] | None = None) -> Actor:
        """An actor for work Charting does by itself, named for the audit log."""
        return cls(None, f"system:{task}", f"Charting ({task})", roles or frozenset(Role))

    @property
    def permissions(self) -> frozenset[Permission]:
        """Everything this actor's roles allow together."""
        allowed: set[Permission] = set()
        for role in self.roles:
            allowed |= ROLE_PERMISSIONS[role]
        return frozenset(allowed)

    def can(self, permission: Permission) -> bool:
        """Whether this actor may do ``permission``."""
        return permission in self.permissions

    @property
    def roles_label(self) -> str:
        """The roles in words ("Practitioner, Clinic admin")."""
        return ", ".join(ROLE_LABELS[r] for r in Role if r in self.roles)


def actor_of(session: Session) -> Actor:
    """The actor a session was opened for.

    Raises:
        NotSignedInError: the database handle has nobody signed in.
    """
    actor = session.info.get("actor")
    if not isinstance(actor, Actor):
        raise NotSignedInError("Please sign in first.")
    return actor


def require(
    session: Session, permission: Permission, *, patient_id: int | None = None, target: str = ""
) -> Actor:
    """Return the session's actor if it may do ``permission``; refuse (and log it) otherwise.

    The refusal is written to the audit log after the refused transaction has rolled back.

    Raises:
        NotSignedInError: nobody is signed in.
        PermissionDeniedError: the actor's roles do not allow it.
    """
    actor = actor_of(session)
    if actor.can(permission):
        return actor
    deny(session, actor, f"denied.{permission.value}", _REFUSALS[permission], patient_id, target)
    raise PermissionDeniedError(refusal(actor, permission))


def refusal(actor: Actor, permission: Permission) -> str:
    """What to tell ``actor`` when ``permission`` is refused."""
    return f"Your account ({actor.roles_label or 'no role'}) cannot {_REFUSALS[permission]}."


def deny(
    session: Session,
    actor: Actor,
    action: str,
    detail: str,
    patient_id: int | None = None,
    target: str = "",
) -> None:
    """Arrange for a refused action to be audited once its transaction has rolled back."""
    from charting.services import audit  # audit imports this module

    def record(database: object) -> None:
        audit.record_separately(database, actor, action, detail, patient_id, target, "denied")

    session.info.setdefault("on_failure", []).append(record)

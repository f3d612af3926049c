"""Accounts: Argon2id passwords, signing in with a back-off, the first admin, and roles.

Passwords are hashed with argon2-cffi's ``PasswordHasher``, whose defaults follow RFC 9106's
low-memory recommendation (Argon2id, t=3, m=64 MiB, p=4), above OWASP's minimum of
m=19 MiB, t=2 (OWASP Password Storage Cheat Sheet). When those parameters are raised, a
stored hash is re-hashed the next time its owner signs in.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from charting.models import Practitioner, Role, UserAccount, utcnow
from charting.policy import MAX_PASSWORD, MIN_PASSWORD
from charting.services import audit
from charting.services.access import Actor, Permission, require
from charting.services.changes import Changes
from charting.services.errors import NotFoundError, ServiceError, ValidationError
from charting.services.validation import check_name


def production_hasher() -> PasswordHasher:
    """The hasher real passwords use (argon2-cffi's current recommended profile)."""
    return PasswordHasher()


HASHER = production_hasher()
# Back-off: the fifth wrong password in a row locks the account for 30 s, and each further
# one doubles the wait, up to 15 minutes (OWASP Authentication Cheat Sheet: throttle, do not
# lock out for good, or anyone could lock a colleague out).
FREE_ATTEMPTS = 5
FIRST_WAIT_S = 30
LONGEST_WAIT_S = 15 * 60
USERNAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789._-")


@cache
def _dummy_hash() -> str:
    # Checked against, so a wrong username takes as long as a wrong password.
    return HASHER.hash("not a real password")


class SignInError(ServiceError):
    """Signing in failed; the message is safe to show (it does not say which part was wrong)."""

    def __init__(self, message: str, wait_seconds: int = 0) -> None:
        super().__init__(message)
        self.wait_seconds = wait_seconds


@dataclass
class AccountInput:
    """The account form."""

    username: str = ""
    display_name: str = ""
    roles: set[Role] = field(default_factory=set)
    password: str = ""  # required for a new account; blank on edit keeps the password
    active: bool = True
    # Practitioner profile for accounts with the practitioner role.
    credentials: str = ""
    licence_number: str = ""


@dataclass(frozen=True)
class AccountRow:
    """One account as the accounts screen lists it."""

    id: int
    username: str
    display_name: str
    roles: frozenset[Role]
    active: bool
    practitioner_id: int | None
    last_login_at: datetime | None
    locked_until: datetime | None


def normalise_username(text: str) -> str:
    """Usernames are compared folded to lower case, without surrounding spaces."""
    return unicodedata.normalize("NFKC", text).strip().lower()


def check_password(password: str, username: str = "") -> str:
    """Return a message if ``password`` is not acceptable, else "".

    Length is what makes a password strong (NIST SP 800-63B): no composition rules.
    """
    if len(password) < MIN_PASSWORD:
        return f"Use at least {MIN_PASSWORD} characters (a short phrase is easy to remember)."
    if len(password) > MAX_PASSWORD:
        return f"Use at most {MAX_PASSWORD} characters."
    if username and normalise_username(password) == normalise_username(username):
        return "The password cannot be the username."
    if len(set(password)) < 3:
        return "Use more than one or two different characters."
    return ""


def validate_account(data: AccountInput, *, new: bool) -> dict[str, str]:
    """Check an account form; return ``{field: message}`` for every problem."""
    errors: dict[str, str] = {}
    username = normalise_username(data.username)
    if not username:
        errors["username"] = "Enter a username."
    elif len(username) > 60 or not set(username) <= USERNAME_CHARS:
        errors["username"] = "Use up to 60 letters a-z, digits, dots, dashes or underscores."
    name_problem = check_name(data.display_name, "Name", max_len=200)
    if name_problem:
        errors["display_name"] = name_problem
    if not data.roles:
        errors["roles"] = "Choose at least one role."
    elif not set(data.roles) <= set(Role):
        errors["roles"] = "Unknown role."
    if new or data.password:
        problem = check_password(data.password, username)
        if problem:
            errors["password"] = problem
    return errors


def actor_for(account: UserAccount) -> Actor:
    """The actor a signed-in account acts as."""
    return Actor(
        account.id,
        account.username,
        account.display_name,
        frozenset(Role(r) for r in account.roles),
        account.practitioner_id,
    )


def has_accounts(session: Session) -> bool:
    """Whether any account exists (if none, the first start creates the admin)."""
    return bool(session.scalar(select(func.count(UserAccount.id))))


def _link_practitioner(session: Session, account: UserAccount, data: AccountInput) -> None:
    if Role.PRACTITIONER not in data.roles:
        return
    profile = (
        session.get(Practitioner, account.practitioner_id) if account.practitioner_id else None
    )
    if profile is None:
        profile = _unclaimed_profile(session, data.display_name)
    if profile is None:
        profile = Practitioner(name=data.display_name.strip())
        session.add(profile)
    profile.name = data.display_name.strip()
    profile.credentials = data.credentials.strip()
    profile.licence_number = data.licence_number.strip()
    profile.active = data.active
    session.flush()
    account.practitioner_id = profile.id


def _unclaimed_profile(session: Session, name: str) -> Practitioner | None:
    # A database from before accounts existed has practitioner profiles with visits; the
    # account of the same name takes that profile over, so its visits stay its own.
    claimed = select(UserAccount.practitioner_id).where(UserAccount.practitioner_id.is_not(None))
    candidates = session.scalars(
        select(Practitioner).where(Practitioner.id.not_in(claimed)).order_by(Practitioner.id)
    )
    wanted = normalise_username(name)
    return next((p for p in candidates if normalise_username(p.name) == wanted), None)


def _taken(session: Session, username: str, except_id: int | None = None) -> bool:
    query = select(UserAccount.id).where(UserAccount.username == username)
    if except_id is not None:
        query = query.where(UserAccount.id != except_id)
    return session.scalar(query) is not None


def create_first_admin(session: Session, data: AccountInput) -> Actor:
    """Create the clinic's first account (an admin) on a database that has none.

    Raises:
        ServiceError: accounts already exist.
        ValidationError: the form has problems.
    """
    if has_accounts(session):
        raise ServiceError("This clinic already has accounts; ask its admin to add yours.")
    data.roles = set(data.roles) | {Role.ADMIN}
    errors = validate_account(data, new=True)
    if errors:
        raise ValidationError(errors)
    session.info["actor"] = Actor.system("setup")
    account = _new_account(session, data)
    actor = actor_for(account)
    session.info["actor"] = actor
    audit.record(session, "account.first_admin", target=f"account {account.id}")
    return actor


def _new_account(session: Session, data: AccountInput) -> UserAccount:
    username = normalise_username(data.username)
    if _taken(session, username):
        raise ValidationError({"username": "That username is taken."})
    account = UserAccount(
        username=username,
        display_name=data.display_name.strip(),
        password_hash=HASHER.hash(data.password),
        roles=sorted(r.value for r in data.roles),
        active=data.active,
    )
    session.add(account)
    session.flush()
    _link_practitioner(session, account, data)
    session.flush()
    return account


def create_account(session: Session, data: AccountInput) -> tuple[int, Changes]:
    """Add an account (admins only).

    Raises:
        PermissionDeniedError: the actor is not an admin.
        ValidationError: the form has problems.
    """
    require(session, Permission.MANAGE_ACCOUNTS)
    errors = validate_account(data, new=True)
    if errors:
        raise ValidationError(errors)
    account = _new_account(session, data)
    return account.id, Changes(practitioners=frozenset(filter(None, [account.practitioner_id])))


def update_account(session: Session, account_id: int, data: AccountInput) -> Changes:
    """Change an account's name, roles, status or (when given) password (admins only).

    Raises:
        PermissionDeniedError: the actor is not an admin.
        ValidationError: the form has problems, or the change would leave no active admin.
    """
    actor = require(session, Permission.MANAGE_ACCOUNTS)
    account = session.get(UserAccount, account_id)
    if account is None:
        raise NotFoundError("That account no longer exists.")
    errors = validate_account(data, new=False)
    username = normalise_username(data.username)
    if not errors and _taken(session, username, account_id):
        errors["username"] = "That username is taken."
    if errors:
        raise ValidationError(errors)
    removing_admin = Role.ADMIN.value in account.roles and (
        Role.ADMIN not in data.roles or not data.active
    )
    if removing_admin and _active_admins(session) <= 1:
        raise ValidationError(
            {"roles": "The clinic needs at least one active admin; add another admin first."}
        )
    if account.id == actor.user_id and not data.active:
        raise ValidationError({"active": "You cannot deactivate your own account."})
    account.username = username
    account.display_name = data.display_name.strip()
    account.roles = sorted(r.value for r in data.roles)
    account.active = data.active
    if data.password:
        account.password_hash = HASHER.hash(data.password)
        account.password_changed_at = utcnow()
        account.failed_logins = 0
        account.locked_until = None
    _link_practitioner(session, account, data)
    if Role.PRACTITIONER not in data.roles and account.practitioner_id:
        profile = session.get(Practitioner, account.practitioner_id)
        if profile is not None:
            profile.active = False
    return Changes(practitioners=frozenset(filter(None, [account.practitioner_id])))


def _active_admins(session: Session) -> int:
    accounts = session.scalars(select(UserAccount).where(UserAccount.active.is_(True)))
    return sum(Role.ADMIN.value in a.roles for a in accounts)


def change_own_password(session: Session, current: str, new: str) -> None:
    """Change the signed-in account's password after checking the current one.

    Raises:
        ValidationError: the current password is wrong or the new one is not acceptable.
    """
    actor = require(session, Permission.VIEW_PATIENTS)
    account = session.get(UserAccount, actor.user_id) if actor.user_id else None
    if account is None:
        raise NotFoundError("Your account no longer exists.")
    if not _verify(account.password_hash, current):
        raise ValidationError({"current": "That is not your current password."})
    problem = check_password(new, account.username)
    if problem:
        raise ValidationError({"password": problem})
    account.password_hash = HASHER.hash(new)
    account.password_changed_at = utcnow()
    audit.record(session, "account.password_changed", target=f"account {account.id}")


def list_accounts(session: Session) -> list[AccountRow]:
    """Every account, active first, then by name (admins only)."""
    require(session, Permission.MANAGE_ACCOUNTS)
    accounts = session.scalars(
        select(UserAccount).order_by(UserAccount.active.desc(), UserAccount.display_name)
    )
    return [
        AccountRow(
            a.id,
            a.username,
            a.display_name,
            frozenset(Role(r) for r in a.roles),
            a.active,
            a.practitioner_id,
            a.last_login_at,
            a.locked_until,
        )
        for a in accounts
    ]


def account_form(session: Session, account_id: int) -> AccountInput:
    """An account as its edit form starts (admins only)."""
    require(session, Permission.MANAGE_ACCOUNTS)
    account = session.get(UserAccount, account_id)
    if account is None:
        raise NotFoundError("That account no longer exists.")
    profile = (
        session.get(Practitioner, account.practitioner_id) if account.practitioner_id else None
    )
    return AccountInput(
        username=account.username,
        display_name=account.display_name,
        roles={Role(r) for r in account.roles},
        active=account.active,
        credentials=profile.credentials if profile else "",
        licence_number=profile.licence_number if profile else "",
    )


def _verify(stored: str, password: str) -> bool:
    try:
        return HASHER.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _wait_after(failures: int) -> int:
    if failures < FREE_ATTEMPTS:
        return 0
    return min(LONGEST_WAIT_S, FIRST_WAIT_S * 2 ** (failures - FREE_ATTEMPTS))


def sign_in(database: Any, username: str, password: str, *, action: str = "login") -> Actor:
    """Check a username and password; return the actor to sign in as.

    Every attempt is audited (``login`` / ``login.failed``; ``unlock`` for the idle lock).
    Five wrong passwords in a row make the account wait before the next try.

    Raises:
        SignInError: wrong username or password, a deactivated account, or a wait is on.
    """
    name = normalise_username(username)
    attempt = Actor(None, name[:60] or "(blank)", name, frozenset())
    now = utcnow()
    with database.write() as session:
        session.info["actor"] = attempt
        account = session.scalar(select(UserAccount).where(UserAccount.username == name))
        if account is None or not account.active:
            _verify(_dummy_hash(), password)  # same time as a wrong password
            audit.record(
                session, f"{action}.failed", outcome="failed", detail="unknown or inactive"
            )
            failure = SignInError("The username or password is wrong.")
        else:
            attempt = Actor(account.id, account.username, account.display_name, frozenset())
            session.info["actor"] = attempt
            target = f"account {account.id}"
            if account.locked_until is not None and account.locked_until > now:
                wait = math.ceil((account.locked_until - now).total_seconds())
                audit.record(
                    session, f"{action}.failed", target=target, outcome="denied", detail="waiting"
                )
                failure = SignInError(
                    f"Too many wrong passwords. Try again in {_wait_words(wait)}.", wait
                )
            elif not _verify(account.password_hash, password):
                account.failed_logins += 1
                wait = _wait_after(account.failed_logins)
                account.locked_until = now + timedelta(seconds=wait) if wait else None
                audit.record(
                    session,
                    f"{action}.failed",
                    target=target,
                    outcome="failed",
                    detail=f"wrong password ({account.failed_logins} in a row)",
                )
                message = "The username or password is wrong."
                if wait:
                    message += f" Too many tries: wait {_wait_words(wait)} before the next."
                failure = SignInError(message, wait)
            else:
                if HASHER.check_needs_rehash(account.password_hash):
                    account.password_hash = HASHER.hash(password)
                account.failed_logins = 0
                account.locked_until = None
                account.last_login_at = now
                actor = actor_for(account)
                session.info["actor"] = actor
                audit.record(session, action, target=target)
                return actor
    raise failure


def _wait_words(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} seconds"
    return f"{math.ceil(seconds / 60)} minutes"


def record_lock(database: Any, actor: Actor, reason: str) -> None:
    """Audit that the screen was locked (``idle`` or ``on request``)."""
    audit.record_separately(database, actor, "lock", detail=reason)


def record_sign_out(database: Any, actor: Actor) -> None:
    """Audit a sign-out."""
    audit.record_separately(database, actor, "logout")

"""Accounts: Argon2id hashes, signing in with a back-off, and roles enforced by the services."""

from __future__ import annotations

from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select, update

from charting.bodymap import load_bodymap
from charting.models import AuditEvent, Role, UserAccount, utcnow
from charting.models.db import Database
from charting.services import accounts, audit
from charting.services.access import Actor, NotSignedInError, PermissionDeniedError
from charting.services.accounts import (
    AccountInput,
    SignInError,
    create_account,
    sign_in,
    update_account,
)
from charting.services.errors import ValidationError
from charting.services.marks import add_marks, list_marks
from charting.services.patients import create_patient, delete_patient, search_patient_ids
from charting.services.visit_record import record, sign_visit, update_fields
from charting.services.visits import start_visit
from tests.factories import (
    TEST_PASSWORD,
    TEST_USERNAME,
    account_input,
    add_account,
    count_needles_out,
    patient_input,
    point_spec,
)


def _actions(database: Database) -> list[tuple[str, str, str]]:
    with database.read() as session:
        rows = session.execute(
            select(AuditEvent.username, AuditEvent.action, AuditEvent.outcome).order_by(
                AuditEvent.seq
            )
        )
        return [tuple(r) for r in rows]  # type: ignore[misc]


def test_production_hashes_are_argon2id_at_or_above_owasp() -> None:
    """Real password hashes are Argon2id with at least 19 MiB and t=2 (OWASP's minimum)."""
    hasher = accounts.production_hasher()
    assert hasher.type.name == "ID"
    assert hasher.memory_cost >= 19 * 1024
    assert hasher.time_cost >= 2 or hasher.memory_cost >= 46 * 1024
    assert hasher.hash("a long passphrase").startswith("$argon2id$")


def test_stored_passwords_are_hashes_not_text(database: Database) -> None:
    """The account row holds an Argon2id hash; the password itself is nowhere in it."""
    with database.read() as session:
        stored = session.scalar(select(UserAccount.password_hash))
    assert stored is not None and stored.startswith("$argon2id$")
    assert TEST_PASSWORD not in stored


def test_sign_in_returns_the_account_and_logs_it(database: Database) -> None:
    """The right password signs in as the account, with its roles, and is audited."""
    actor = sign_in(database, "  ANA ", TEST_PASSWORD)
    assert (actor.username, actor.display_name) == (TEST_USERNAME, "Ana Ruiz")
    assert actor.roles == {Role.ADMIN, Role.PRACTITIONER}
    assert ("ana", "login", "ok") in _actions(database)


def test_wrong_password_and_unknown_user_get_the_same_message(database: Database) -> None:
    """Neither a wrong password nor an unknown name says which part was wrong; both are logged."""
    messages = []
    for name, password in ((TEST_USERNAME, "wrong password!"), ("nobody", TEST_PASSWORD)):
        with pytest.raises(SignInError) as caught:
            sign_in(database, name, password)
        messages.append(str(caught.value))
    assert messages[0] == messages[1] == "The username or password is wrong."
    failed = [a for a in _actions(database) if a[1] == "login.failed"]
    assert [(u, o) for u, _, o in failed] == [("ana", "failed"), ("nobody", "failed")]


def test_five_wrong_passwords_make_the_account_wait(database: Database) -> None:
    """After five wrong passwords even the right one is refused until the wait is over."""
    for attempt in range(1, 6):
        with pytest.raises(SignInError) as caught:
            sign_in(database, TEST_USERNAME, f"wrong {attempt} password")
    assert caught.value.wait_seconds == accounts.FIRST_WAIT_S
    assert "wait 30 seconds" in str(caught.value)
    with pytest.raises(SignInError, match="Too many wrong passwords"):
        sign_in(database, TEST_USERNAME, TEST_PASSWORD)
    # The wait doubles with each further wrong password, up to a ceiling.
    assert accounts._wait_after(6) == 60
    assert accounts._wait_after(30) == accounts.LONGEST_WAIT_S
    with database.write() as session:
        session.execute(update(UserAccount).values(locked_until=utcnow() - timedelta(seconds=1)))
    assert sign_in(database, TEST_USERNAME, TEST_PASSWORD).username == TEST_USERNAME
    with database.read() as session:
        assert session.scalar(select(UserAccount.failed_logins)) == 0


def test_weaker_hashes_are_upgraded_at_the_next_sign_in(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the hashing parameters are raised, signing in re-hashes the password with them."""
    stronger = PasswordHasher(time_cost=2, memory_cost=128, parallelism=1)
    monkeypatch.setattr(accounts, "HASHER", stronger)
    with database.read() as session:
        before = session.scalar(select(UserAccount.password_hash))
    assert before is not None and stronger.check_needs_rehash(before)
    sign_in(database, TEST_USERNAME, TEST_PASSWORD)
    with database.read() as session:
        after = session.scalar(select(UserAccount.password_hash))
    assert after is not None and after != before and not stronger.check_needs_rehash(after)
    assert "t=2" in after
    sign_in(database, TEST_USERNAME, TEST_PASSWORD)  # and the new hash still matches


def test_deactivated_accounts_cannot_sign_in(database: Database) -> None:
    """An admin deactivates an account; its password no longer works."""
    bob = add_account(database, "bob", Role.FRONT_DESK)
    with database.write() as session:
        form = AccountInput("bob", "Bob", {Role.FRONT_DESK}, active=False)
        update_account(session, bob.user_id or 0, form)
    with pytest.raises(SignInError):
        sign_in(database, "bob", TEST_PASSWORD)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("password", "short", "at least 10"),
        ("password", "aaaaaaaaaaaa", "more than one or two"),
        ("username", "Ana Ruiz!", "letters a-z"),
        ("roles", set(), "at least one role"),
    ],
)
def test_account_form_problems_are_named(
    database: Database, field: str, value: object, message: str
) -> None:
    """Bad account forms are refused with a message under the field that is wrong."""
    with database.write() as session, pytest.raises(ValidationError) as caught:
        create_account(session, account_input(**{"username": "newbie", field: value}))
    assert message in caught.value.errors[field]


def test_the_last_admin_cannot_be_removed(database: Database) -> None:
    """Taking the admin role from the only admin is refused, so the clinic is never locked out."""
    actor = database.actor
    with database.write() as session, pytest.raises(ValidationError, match="at least one"):
        update_account(session, actor.user_id, account_input(roles={Role.PRACTITIONER}))


def test_front_desk_registers_patients_but_reads_no_notes(
    database: Database, practitioner_id: int
) -> None:
    """Front desk finds and registers patients; notes, marks and charting are refused."""
    with database.write() as session:
        patient_id, _ = create_patient(session, patient_input())
        visit_id, _ = start_visit(session, patient_id, practitioner_id)
        update_fields(session, visit_id, {"palpation": "Tender L4-L5"})
    desk = database.acting_as(add_account(database, "bob", Role.FRONT_DESK))
    with desk.write() as session:
        create_patient(session, patient_input(family_name="Okafor"))
    with desk.read() as session:
        assert len(search_patient_ids(session, "okafor")) == 1
    refusals = [
        lambda s: record(s, visit_id),
        lambda s: list_marks(s, visit_id),
        lambda s: update_fields(s, visit_id, {"palpation": "changed"}),
        lambda s: start_visit(s, patient_id, practitioner_id),
        lambda s: delete_patient(s, patient_id),
    ]
    for call in refusals:
        denied = pytest.raises(PermissionDeniedError, match=r"Your account \(Front desk\) cannot")
        with denied, desk.write() as session:
            call(session)
    with database.read() as session:
        assert record(session, visit_id)["palpation"] == "Tender L4-L5"
    denied = [a for a in _actions(database) if a[2] == "denied"]
    assert len(denied) == len(refusals)
    assert all(user == "bob" for user, _, _ in denied)


def test_front_desk_may_book_the_next_appointment(database: Database, practitioner_id: int) -> None:
    """The one visit field front desk may change is the next appointment."""
    with database.write() as session:
        patient_id, _ = create_patient(session, patient_input())
        visit_id, _ = start_visit(session, patient_id, practitioner_id)
    desk = database.acting_as(add_account(database, "bob", Role.FRONT_DESK))
    when = utcnow().replace(microsecond=0) + timedelta(days=7)
    with desk.write() as session:
        update_fields(session, visit_id, {"next_appointment": when})
    with database.read() as session:
        assert record(session, visit_id)["next_appointment"] == when


def test_practitioners_sign_only_their_own_visits(database: Database, practitioner_id: int) -> None:
    """Another practitioner cannot sign Ana's visit, whatever practitioner id they pass."""
    with database.write() as session:
        patient_id, _ = create_patient(session, patient_input())
        visit_id, _ = start_visit(session, patient_id, practitioner_id)
        add_marks(session, load_bodymap(), visit_id, [point_spec("BL23", "L")])
    lee = database.acting_as(add_account(database, "lee", Role.PRACTITIONER, name="Lee Chen"))
    for claimed in (practitioner_id, lee.actor.practitioner_id):
        with pytest.raises(PermissionDeniedError, match="own practitioner"), lee.write() as s:
            sign_visit(s, visit_id, claimed or 0)
    with database.write() as session:
        count_needles_out(session, visit_id)
        sign_visit(session, visit_id, practitioner_id)


def test_admin_without_practitioner_role_cannot_chart(database: Database) -> None:
    """A clinic admin who does not treat can export and manage, but not chart."""
    office = database.acting_as(add_account(database, "office", Role.ADMIN))
    with office.write() as session:
        patient_id, _ = create_patient(session, patient_input())
    with pytest.raises(PermissionDeniedError, match="chart treatments"), office.write() as s:
        start_visit(s, patient_id, database.actor.practitioner_id)


def test_nobody_signed_in_can_do_nothing(database: Database) -> None:
    """A database handle with nobody signed in refuses reads and writes alike."""
    anonymous = database.acting_as(None)
    with pytest.raises(NotSignedInError), anonymous.read() as session:
        search_patient_ids(session, "lind")
    with pytest.raises(NotSignedInError), anonymous.write() as session:
        session.add(UserAccount(username="x", display_name="x", password_hash="x"))


def test_role_changes_are_audited_as_privilege_changes(database: Database) -> None:
    """Giving an account a new role writes an 'account.roles_changed' entry naming the roles."""
    bob = add_account(database, "bob", Role.FRONT_DESK)
    with database.write() as session:
        update_account(
            session,
            bob.user_id or 0,
            AccountInput("bob", "Bob", {Role.FRONT_DESK, Role.ADMIN}),
        )
    with database.read() as session:
        entries = audit.search(session, action="account.roles_changed")
    assert len(entries) == 1
    assert "admin" in entries[0].detail and entries[0].username == TEST_USERNAME


def test_system_actors_are_named_in_the_log(database: Database) -> None:
    """Work Charting does by itself is logged under its task's name, not a person's."""
    task = database.acting_as(Actor.system("import"))
    with task.write() as session:
        create_patient(session, patient_input())
    assert ("system:import", "patient.add", "ok") in _actions(database)


def test_an_account_takes_over_the_profile_of_the_same_name(database: Database) -> None:
    """After an upgrade, the account named like an existing profile charts as that profile."""
    from charting.models import Practitioner

    with database.write() as session:
        old = Practitioner(name="Grace Okonkwo", credentials="L.Ac.")
        session.add(old)
        session.flush()
        old_id = old.id
    grace = add_account(database, "grace", Role.PRACTITIONER, name="Grace Okonkwo")
    assert grace.practitioner_id == old_id
    other = add_account(database, "grace2", Role.PRACTITIONER, name="Grace Okonkwo")
    assert other.practitioner_id not in (None, old_id)

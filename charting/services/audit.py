"""The append-only, hash-chained audit log, and the guard every write to the record passes.

Two kinds of entry are written:

* explicit ones for things that leave no row behind (signing in, a failed sign-in, viewing
  a chart, printing, exporting, backups, refusals), through :func:`record`;
* one for every row of the clinical record that is added, changed or deleted, written by a
  flush listener, so no service (or a future one) can change the record unseen. The same
  listener refuses the change when the actor's roles do not allow it.

Each entry stores ``hash = sha256(prev_hash + entry)``; ``seq`` runs without gaps, and the
``audit`` counter holds the last ``seq``. Editing an entry breaks its hash, deleting one
leaves a gap (or a counter ahead of the log), and :func:`verify_chain` names the first
entry where the chain breaks (a hash chain catches deletion and
reordering, not only edits).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, event, insert, inspect, select, update
from sqlalchemy.orm import Session

from charting.models import (
    AdverseEvent,
    Amendment,
    Appointment,
    AuditEvent,
    ClinicSetting,
    Consent,
    Counter,
    CustomPoint,
    EAPair,
    HandoutIssue,
    Mark,
    NeedleCountResolution,
    PainArea,
    Patient,
    Practitioner,
    Protocol,
    SafetyAcknowledgement,
    StandingDecision,
    UserAccount,
    Visit,
    VisitBilling,
    utcnow,
)
from charting.services import audit_keys, guard
from charting.services.access import (
    Actor,
    Permission,
    PermissionDeniedError,
    actor_of,
    deny,
    refusal,
    require,
)
from charting.services.errors import ServiceError

AUDIT_COUNTER = "audit"
GENESIS = "0" * 64
OUTCOMES = ("ok", "denied", "failed")

# Columns that change as a side effect and say nothing about what a person did.
_BOOKKEEPING = frozenset({"updated_at", "version", "family_key", "search_key"})
# Sign-in bookkeeping on an account: written by the sign-in service, audited explicitly.
_LOGIN_COLUMNS = frozenset({"failed_logins", "locked_until", "last_login_at", "password_hash"})


class AuditError(ServiceError):
    """The audit log cannot be written or read as asked."""


@dataclass(frozen=True)
class Entry:
    """One audit entry as the viewer and the command line show it."""

    seq: int
    at: datetime
    user_id: int | None
    username: str
    action: str
    patient_id: int | None
    target: str
    outcome: str
    detail: str


@dataclass(frozen=True)
class ChainReport:
    """What :func:`verify_chain` found."""

    checked: int
    first_bad_seq: int | None
    problem: str
    head_hash: str

    @property
    def ok(self) -> bool:
        """Whether every entry is intact and in place."""
        return self.first_bad_seq is None and not self.problem


def entry_hash(prev_hash: str, entry: Entry, key: bytes | None = None) -> str:
    """The chained hash of ``entry`` after the entry whose hash is ``prev_hash``: an
    HMAC-SHA-256 with the clinic's ``key`` (entries written before keys: plain SHA-256)."""
    payload = json.dumps(
        [
            entry.seq,
            entry.at.isoformat(timespec="microseconds"),
            entry.user_id,
            entry.username,
            entry.action,
            entry.patient_id,
            entry.target,
            entry.outcome,
            entry.detail,
        ],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    message = (prev_hash + payload).encode("utf-8")
    if key is not None:
        return hmac.new(key, message, hashlib.sha256).hexdigest()
    return hashlib.sha256(message).hexdigest()


def _next_link(session: Session) -> tuple[int, str]:
    """The next entry's ``seq`` and the hash it chains onto.

    Never fails because the log was tampered with: a deleted or edited entry must not stop
    the clinic from working. The new entry chains onto the newest entry present, so the
    damage stays visible to :func:`verify_chain`.
    """
    # The counter row is the chain's lock: on PostgreSQL the UPDATE holds its row lock until
    # commit, so two workstations append one after the other; SQLite writers already hold
    # the database's write lock (BEGIN IMMEDIATE).
    table = cast(Table, Counter.__table__)
    bumped = session.execute(
        update(table)
        .where(table.c.name == AUDIT_COUNTER)
        .values(value=table.c.value + 1)
        .returning(table.c.value)
    ).scalar()
    pending = session.info.get("audit_last")  # added in this transaction, maybe not flushed
    if pending is not None and bumped == pending[0] + 1:
        return int(bumped), str(pending[1])
    newest = session.execute(
        select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
    ).first()
    if pending is not None and (newest is None or pending[0] > newest.seq):
        newest = pending
    last_seq, last_hash = (int(newest[0]), str(newest[1])) if newest else (0, GENESIS)
    seq = max(int(bumped or 0), last_seq + 1)
    if bumped is None:
        session.execute(insert(table).values(name=AUDIT_COUNTER, value=seq))
    elif seq != bumped:
        session.execute(update(table).where(table.c.name == AUDIT_COUNTER).values(value=seq))
    return seq, last_hash


def _append(
    session: Session,
    actor: Actor,
    action: str,
    *,
    patient_id: int | None = None,
    target: str = "",
    detail: str = "",
    outcome: str = "ok",
) -> None:
    if not session.info.get("writer"):
        raise AuditError("audit entries can only be written in a write session")
    seq, prev_hash = _next_link(session)
    entry = Entry(
        seq=seq,
        at=utcnow(),
        user_id=actor.user_id,
        username=actor.username[:60],
        action=action[:60],
        patient_id=patient_id,
        target=target[:100],
        outcome=outcome,
        detail=detail,
    )
    key = audit_keys.key_for_append(session, seq)
    digest = entry_hash(prev_hash, entry, key.secret if seq >= key.keyed_from else None)
    session.add(AuditEvent(**entry.__dict__, prev_hash=prev_hash, hash=digest))
    session.info["audit_last"] = (seq, digest)
    session.info["audit_clinic"] = key.clinic_id


def record(
    session: Session,
    action: str,
    *,
    patient_id: int | None = None,
    target: str = "",
    detail: str = "",
    outcome: str = "ok",
) -> None:
    """Append an entry for the session's actor, committed with the session's transaction."""
    _append(
        session,
        actor_of(session),
        action,
        patient_id=patient_id,
        target=target,
        detail=detail,
        outcome=outcome,
    )


def record_separately(
    database: Any,
    actor: Actor,
    action: str,
    detail: str = "",
    patient_id: int | None = None,
    target: str = "",
    outcome: str = "ok",
) -> None:
    """Append an entry in its own transaction (for failures, whose own transaction is gone)."""
    with database.write() as session:
        session.info["actor"] = actor
        _append(
            session,
            actor,
            action,
            patient_id=patient_id,
            target=target,
            detail=detail,
            outcome=outcome,
        )


# --- The guard on every write ----------------------------------------------------------


def _patient_of(session: Session, obj: object) -> int | None:
    if isinstance(obj, Patient):
        return obj.id
    if isinstance(obj, (Visit, Appointment, Consent, StandingDecision)):
        return obj.patient_id
    visit_id = getattr(obj, "visit_id", None)
    if visit_id is None:
        return None
    visit = session.get(Visit, visit_id)
    return visit.patient_id if visit is not None else None


def _changed(obj: object) -> list[str]:
    state = inspect(obj)
    return [
        attr.key
        for attr in state.mapper.column_attrs
        if attr.key not in _BOOKKEEPING and state.attrs[attr.key].history.has_changes()
    ]


def _describe(obj: object) -> str:
    if isinstance(obj, Mark):
        what = obj.point_code or obj.muscle_id or obj.kind
        return f"{what} {obj.side}".strip()
    if isinstance(obj, UserAccount):
        return f"{obj.username} ({', '.join(sorted(obj.roles))})"
    if isinstance(obj, ClinicSetting):
        return obj.key
    if isinstance(obj, CustomPoint):
        return f"{obj.code} {obj.name} on the {obj.view} view"
    if isinstance(obj, HandoutIssue):
        return obj.how
    if isinstance(obj, Visit) and obj.status == "signed" and obj.content_hash:
        # The hash signed, kept in the (keyed, anchored) log too: a record whose content
        # and stored hash were both rewritten still disagrees with the log.
        return f"content SHA-256 {obj.content_hash}"
    if isinstance(obj, NeedleCountResolution):
        return f"{obj.needles_in} in, {obj.needles_out} out: {obj.outcome}"
    if isinstance(obj, PainArea):
        what = obj.region.replace("_", " ") if obj.kind == "region" else obj.kind
        return f"{what} on the {obj.view} view, drawn by the {obj.drawn_by}"
    return ""


_NOUNS: dict[type, str] = {
    Patient: "patient",
    Visit: "visit",
    Mark: "mark",
    EAPair: "ea_pair",
    AdverseEvent: "adverse_event",
    SafetyAcknowledgement: "safety_ack",
    StandingDecision: "standing_decision",
    Amendment: "amendment",
    HandoutIssue: "handout_issue",
    NeedleCountResolution: "needle_resolution",
    PainArea: "pain_area",
    Protocol: "protocol",
    Practitioner: "practitioner",
    UserAccount: "account",
    ClinicSetting: "setting",
    Appointment: "appointment",
    Consent: "consent",
    VisitBilling: "billing",
    CustomPoint: "custom_point",
}


def _permission_for(actor: Actor, obj: object, verb: str, changed: Sequence[str]) -> Permission:
    """The permission a change needs (the single place that maps rows to roles)."""
    if isinstance(obj, Patient):
        if verb == "update" and "deleted_at" in changed:
            return Permission.DELETE_PATIENTS
        return Permission.EDIT_PATIENTS
    if isinstance(obj, Visit):
        if verb == "update" and set(changed) <= {"next_appointment"}:
            return Permission.BOOK
        if verb == "update" and {"status", "signed_at", "signed_by_id"} & set(changed):
            return Permission.SIGN
        return Permission.CHART
    if isinstance(obj, Amendment):
        return Permission.SIGN
    if isinstance(obj, HandoutIssue):
        return Permission.VIEW_CLINICAL  # whoever may read the visit may give its handout
    if isinstance(obj, Appointment):
        return Permission.BOOK
    if isinstance(
        obj,
        (
            Mark,
            EAPair,
            AdverseEvent,
            SafetyAcknowledgement,
            StandingDecision,
            NeedleCountResolution,
            PainArea,
            Protocol,
            Consent,
            VisitBilling,
        ),
    ):
        return Permission.CHART
    if isinstance(obj, ClinicSetting):
        return Permission.CLINIC_SETTINGS
    if isinstance(obj, CustomPoint):
        return Permission.CUSTOM_POINTS
    return Permission.MANAGE_ACCOUNTS


def _allowed_without_permission(
    actor: Actor, obj: object, verb: str, changed: Sequence[str]
) -> bool:
    # Signing in updates an account's own bookkeeping; a practitioner keeps their own
    # profile and password up to date.
    if isinstance(obj, UserAccount) and verb == "update":
        if set(changed) <= _LOGIN_COLUMNS:
            return True
        own = obj.id == actor.user_id
        return own and set(changed) <= _LOGIN_COLUMNS | {"password_changed_at", "display_name"}
    if isinstance(obj, Practitioner) and verb == "update":
        return obj.id == actor.practitioner_id and "active" not in changed
    return False


def signed_how_late(started_at: datetime, signed_at: datetime) -> str:
    """How long after the visit it was signed, in local calendar days ("signed 4 days after
    the visit"), so the log shows late signing without anyone working it out."""
    days = (signed_at.astimezone().date() - started_at.astimezone().date()).days
    if days <= 0:
        return "signed on the day of the visit"
    return f"signed {days} day{'s' if days != 1 else ''} after the visit"


def _audit_changes(session: Session, _context: object) -> None:
    if "writer" not in session.info:
        return  # not one of Charting's sessions
    items: list[tuple[str, object]] = [
        *(("add", o) for o in session.new),
        *(("update", o) for o in session.dirty if session.is_modified(o)),
        *(("delete", o) for o in session.deleted),
    ]
    for verb, obj in items:
        if isinstance(obj, AuditEvent):
            if verb != "add":
                raise AuditError("the audit log is append-only")
            continue
        noun = _NOUNS.get(type(obj))
        if noun is None:
            continue
        changed = _changed(obj) if verb == "update" else []
        if verb == "update" and not changed:
            continue
        actor = actor_of(session)
        patient_id = _patient_of(session, obj)
        target = f"{noun} {inspect(obj).identity[0] if inspect(obj).identity else ''}".strip()
        if not actor.can(
            permission := _permission_for(actor, obj, verb, changed)
        ) and not _allowed_without_permission(actor, obj, verb, changed):
            deny(session, actor, f"denied.{noun}.{verb}", permission.value, patient_id, target)
            raise PermissionDeniedError(refusal(actor, permission))
        guard.check_change(session, actor, obj, verb, changed)
        if isinstance(obj, UserAccount) and set(changed) <= _LOGIN_COLUMNS:
            continue  # audited as sign-in events
        detail = _describe(obj)
        if changed:
            detail = f"{detail}: {', '.join(changed)}" if detail else ", ".join(changed)
        action = f"{noun}.{verb}"
        if isinstance(obj, Patient) and "deleted_at" in changed:
            action = "patient.delete" if obj.deleted_at is not None else "patient.restore"
        if isinstance(obj, Visit) and "status" in changed:
            action = f"visit.{obj.status}"  # visit.signed
            if obj.signed_at is not None:
                detail = f"{detail}; {signed_how_late(obj.started_at, obj.signed_at)}"
        if isinstance(obj, UserAccount) and "roles" in changed:
            action = "account.roles_changed"
        _append(session, actor, action, patient_id=patient_id, target=target, detail=detail)


event.listen(Session, "after_flush", _audit_changes)


def _move_checkpoint(session: Session) -> None:
    """After a commit that logged something, this computer's checkpoint of the log moves to
    the newest entry (an anchor outside the database; see ``audit_keys``)."""
    last = session.info.pop("audit_last", None)
    clinic = session.info.pop("audit_clinic", None)
    if last is None or clinic is None:
        return
    # The checkpoint is a second line of evidence: if it cannot be written, the commit stands.
    with contextlib.suppress(OSError):
        where = audit_keys.database_identity(session)
        audit_keys.write_checkpoint(
            audit_keys.anchor_now(clinic, int(last[0]), str(last[1]), where)
        )


def _forget_link(session: Session) -> None:
    session.info.pop("audit_last", None)
    session.info.pop("audit_clinic", None)


event.listen(Session, "after_commit", _move_checkpoint)
event.listen(Session, "after_rollback", _forget_link)


# --- Reading and checking the log -----------------------------------------------------


def verify_chain(session: Session, anchors: Sequence[audit_keys.Anchor] = ()) -> ChainReport:
    """Recompute the chain; report the first entry that was changed, removed or reordered,
    or a head that no longer reaches an anchor kept outside the database.

    Raises:
        PermissionDeniedError: the actor may not see the audit log.
    """
    require(session, Permission.VIEW_AUDIT)
    return check_chain(session, anchors)


_CHAIN_COLUMNS = (
    AuditEvent.seq,
    AuditEvent.at,
    AuditEvent.user_id,
    AuditEvent.username,
    AuditEvent.action,
    AuditEvent.patient_id,
    AuditEvent.target,
    AuditEvent.outcome,
    AuditEvent.detail,
    AuditEvent.prev_hash,
    AuditEvent.hash,
)


def check_chain(session: Session, anchors: Sequence[audit_keys.Anchor] = ()) -> ChainReport:
    """:func:`verify_chain` without the permission check (for the command line's own login).

    ``anchors`` are sightings of the log's head kept outside the database (this computer's
    checkpoint is always added): an entry they saw must still be there, with the same hash.
    """
    cid = audit_keys.clinic_id(session)
    key: audit_keys.AuditKey | None = None
    key_problem = ""
    if cid is not None:
        try:
            key = audit_keys.load_key(cid)
        except audit_keys.AuditKeyError as exc:
            key_problem = str(exc)
    seen = list(anchors)
    if cid is not None:
        local = audit_keys.read_anchor(audit_keys.checkpoint_path(cid))
        if local is not None:
            seen.append(replace(local, where="this computer's checkpoint"))
    for known in audit_keys.checkpoints_of(audit_keys.database_identity(session)):
        if known.clinic_id != cid:
            # This computer saw a keyed log in this very database under another clinic id:
            # the id was removed or replaced to pass the log off as another.
            return ChainReport(
                0,
                1,
                f"this computer's checkpoint saw this database's audit log under clinic id "
                f"{known.clinic_id} (entry {known.seq} on {known.at}), but the database now "
                f"names {cid or 'none'}: the log's identity was changed",
                GENESIS,
            )
    wanted = {a.seq for a in seen if cid is None or a.clinic_id == cid}
    rows = session.execute(
        select(*_CHAIN_COLUMNS).order_by(AuditEvent.seq).execution_options(yield_per=2000)
    )
    hashes: dict[int, str] = {}
    try:
        report = _walk(rows, key, key_problem, wanted, hashes)
    finally:
        rows.close()  # a report can come early; the streaming cursor must not stay open
    if report.problem:
        return report
    counted = session.scalar(select(Counter.value).where(Counter.name == AUDIT_COUNTER)) or 0
    if counted > report.checked:
        return ChainReport(
            report.checked,
            report.checked + 1,
            f"entries {report.checked + 1} to {counted} are missing "
            "(deleted from the end of the log)",
            report.head_hash,
        )
    for anchor in sorted(seen, key=lambda a: a.seq):
        if cid is not None and anchor.clinic_id != cid:
            continue
        where = anchor.where or "an anchor"
        if anchor.seq > report.checked:
            return ChainReport(
                report.checked,
                report.checked + 1,
                f"the log ends at entry {report.checked}, but {where} saw entry {anchor.seq} "
                f"on {anchor.at}: the newest entries were removed (the log was cut back or "
                "wiped)",
                report.head_hash,
            )
        if hashes.get(anchor.seq) != anchor.hash:
            return ChainReport(
                report.checked,
                anchor.seq,
                f"entry {anchor.seq} is not the one {where} saw on {anchor.at}: the log was "
                "rewritten",
                report.head_hash,
            )
    return report


def _walk(
    rows: Iterable[Any],
    key: audit_keys.AuditKey | None,
    key_problem: str,
    wanted: set[int],
    hashes: dict[int, str],
) -> ChainReport:
    prev = GENESIS
    checked = 0
    for row in rows:
        entry = Entry(*row[:9])
        expected = checked + 1
        problem = ""
        keyed = key is not None and entry.seq >= key.keyed_from
        if entry.seq != expected:
            problem = f"entry {expected} is missing (deleted); the log jumps to entry {entry.seq}"
        elif row.prev_hash != prev:
            problem = (
                f"entry {entry.seq} does not follow entry {entry.seq - 1}: "
                "an earlier entry was changed or replaced"
            )
        elif key_problem and entry.seq >= 1:
            return ChainReport(checked, expected, f"the log cannot be checked: {key_problem}", prev)
        elif entry_hash(prev, entry, key.secret if keyed and key else None) != row.hash:
            problem = f"entry {entry.seq} was changed after it was written"
        if problem:
            return ChainReport(checked, expected, problem, prev)
        if entry.seq in wanted:
            hashes[entry.seq] = row.hash
        prev = row.hash
        checked += 1
    return ChainReport(checked, None, "", prev)


def anchor(session: Session) -> audit_keys.Anchor | None:
    """The log's newest entry as an anchor to keep outside the database (beside a backup, in
    an export), or None when nothing has been logged yet."""
    cid = audit_keys.clinic_id(session)
    newest = session.execute(
        select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
    ).first()
    if cid is None or newest is None:
        return None
    return audit_keys.anchor_now(cid, int(newest.seq), str(newest.hash))


def search(
    session: Session,
    *,
    username: str | None = None,
    patient_id: int | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 500,
    offset: int = 0,
) -> list[Entry]:
    """Entries matching every filter given, newest first.

    ``action`` matches a whole action ("visit.signed") or a family ("visit").

    Raises:
        PermissionDeniedError: the actor may not see the audit log.
    """
    require(session, Permission.VIEW_AUDIT)
    query = select(AuditEvent)
    if username:
        query = query.where(AuditEvent.username == username)
    if patient_id is not None:
        query = query.where(AuditEvent.patient_id == patient_id)
    if action:
        query = query.where(
            (AuditEvent.action == action)
            | AuditEvent.action.startswith(f"{action}.", autoescape=True)
        )
    if since is not None:
        query = query.where(AuditEvent.at >= since)
    if until is not None:
        query = query.where(AuditEvent.at < until)
    query = query.order_by(AuditEvent.seq.desc()).limit(limit).offset(offset)
    return [_entry(row) for row in session.scalars(query)]


def _entry(row: AuditEvent) -> Entry:
    return Entry(
        row.seq,
        row.at,
        row.user_id,
        row.username,
        row.action,
        row.patient_id,
        row.target,
        row.outcome,
        row.detail,
    )


def usernames(session: Session) -> list[str]:
    """Every name that appears in the log, for the viewer's filter."""
    require(session, Permission.VIEW_AUDIT)
    return list(
        session.scalars(select(AuditEvent.username).distinct().order_by(AuditEvent.username))
    )


def action_families(session: Session) -> list[str]:
    """The action families in the log ("patient", "visit", "login"...), for the viewer."""
    require(session, Permission.VIEW_AUDIT)
    actions: Iterable[str] = session.scalars(select(AuditEvent.action).distinct())
    return sorted({a.split(".", 1)[0] for a in actions})


def record_view(session: Session, patient_id: int, visit_id: int | None = None) -> None:
    """Log that the signed-in account opened a patient's chart (or one of its visits).

    Raises:
        PermissionDeniedError: the account may not see patients (or, for a visit, notes).
    """
    if visit_id is None:
        require(session, Permission.VIEW_PATIENTS, patient_id=patient_id)
        record(session, "patient.view", patient_id=patient_id, target=f"patient {patient_id}")
    else:
        require(
            session, Permission.VIEW_CLINICAL, patient_id=patient_id, target=f"visit {visit_id}"
        )
        record(session, "visit.view", patient_id=patient_id, target=f"visit {visit_id}")


def record_document(session: Session, how: str, document: str, patient_id: int | None) -> None:
    """Log that a document was printed or saved (``how`` is "print" or "save")."""
    record(session, f"document.{how}", patient_id=patient_id, detail=document)

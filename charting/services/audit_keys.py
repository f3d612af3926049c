"""The clinic's audit key and the anchors of its audit log, kept outside the database.

A hash chain alone stops nobody who can write the database: they can edit an entry and
recompute every hash after it, or cut the newest entries off and fix the counter. So:

* **The chain is keyed** (HMAC-SHA-256) with a secret key that is not in the database: one
  key per clinic database, in a file of its own (``audit-keys/<clinic id>.key`` in the data
  folder, readable by its owner only; ``CHARTING_AUDIT_KEY_DIR`` moves the folder, e.g. to
  where every workstation of a shared PostgreSQL clinic finds the same key). Without the key,
  a rewritten entry cannot be given a hash that checks.
* **The head of the chain is anchored outside the database**: every commit that logs
  something updates a checkpoint file on this computer (``audit-anchors/<clinic id>.json``),
  every backup carries one beside it, and every export folder one in it. A log cut back past
  an anchor, or wiped, no longer reaches the entry the anchor saw.

The key file also records the first entry it keyed: entries written before this version of
Charting (plain SHA-256) keep their old hashes, and cannot be passed off as old ones later.
"""

from __future__ import annotations

import json
import os
import secrets
import stat
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from charting.config import data_dir, ensure_private_dir
from charting.models import ClinicSetting
from charting.services.errors import ServiceError

CLINIC_ID_SETTING = "audit_clinic_id"
KEY_DIR_ENV = "CHARTING_AUDIT_KEY_DIR"


class AuditKeyError(ServiceError):
    """The clinic's audit key is missing or unreadable on this computer."""


@dataclass(frozen=True)
class AuditKey:
    """The secret of one clinic's audit chain."""

    clinic_id: str
    secret: bytes
    keyed_from: int  # the first entry hashed with this key


@dataclass(frozen=True)
class Anchor:
    """The newest entry of the log as seen from outside the database at some moment."""

    clinic_id: str
    seq: int
    hash: str
    at: str
    where: str = ""
    #: Which database it was seen in (a file's path, a server's URL without password).
    database: str = ""

    def to_json(self) -> dict[str, Any]:
        """As written into an anchor file."""
        return {
            "clinic_id": self.clinic_id,
            "seq": self.seq,
            "hash": self.hash,
            "at": self.at,
            "database": self.database,
        }


def key_dir() -> Path:
    """Where the audit keys live (owner-only)."""
    override = os.environ.get(KEY_DIR_ENV)
    path = Path(override) if override else data_dir() / "audit-keys"
    ensure_private_dir(path)
    return path


def anchor_dir() -> Path:
    """Where this computer's checkpoints of each clinic's log live (owner-only)."""
    path = data_dir() / "audit-anchors"
    ensure_private_dir(path)
    return path


_lock = threading.Lock()
_keys: dict[str, AuditKey] = {}
# The clinic id each database (by where it is) was last seen with: looked up once per process
# for appending (a statement per click counts), read afresh when the log is checked.
_clinic_of: dict[str, str] = {}


def clinic_id(session: Session) -> str | None:
    """The database's clinic id (made with its audit key), or None before the first entry."""
    return session.scalar(select(ClinicSetting.value).where(ClinicSetting.key == CLINIC_ID_SETTING))


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically, readable by its owner only."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, text.encode("utf-8"))
    finally:
        os.close(fd)
    os.replace(tmp, path)


def _read_small_file(path: Path) -> str:
    """A small text file's content; a named pipe or device is refused rather than waited on.

    Raises:
        OSError: the file is missing, unreadable, or not a regular file.
    """
    if not stat.S_ISREG(path.stat().st_mode):
        raise OSError(f"{path} is not a regular file")
    with path.open(encoding="utf-8") as handle:
        return handle.read(1_000_000)


def load_key(cid: str) -> AuditKey:
    """The key of clinic ``cid`` on this computer.

    Raises:
        AuditKeyError: it is missing or unreadable (the message says where it was looked for).
    """
    with _lock:
        cached = _keys.get(cid)
        if cached is not None:
            return cached
        path = key_dir() / f"{cid}.key"
        try:
            data = json.loads(_read_small_file(path))
            key = AuditKey(cid, bytes.fromhex(data["secret"]), int(data["keyed_from"]))
        except FileNotFoundError:
            raise AuditKeyError(
                f"This clinic's audit key is not on this computer ({path}). Copy it from the "
                f"workstation where the clinic was set up (or set {KEY_DIR_ENV} to the folder "
                "that holds it); without it nothing can be recorded or the log checked."
            ) from None
        except (OSError, ValueError, KeyError, TypeError, UnicodeError) as exc:
            raise AuditKeyError(f"The audit key {path} cannot be read ({exc}).") from None
        _keys[cid] = key
        return key


def key_for_append(session: Session, next_seq: int) -> AuditKey:
    """The key the next entry (``next_seq``) is hashed with; made on the database's first
    keyed entry (a new clinic id in the database, a new key file on this computer)."""
    where = database_identity(session)
    cid = _clinic_of.get(where) or clinic_id(session)
    if cid is not None:
        _clinic_of[where] = cid
        return load_key(cid)
    cid = str(uuid.uuid4())
    secret = secrets.token_bytes(32)
    record = {"clinic_id": cid, "secret": secret.hex(), "keyed_from": next_seq}
    _write_private(key_dir() / f"{cid}.key", json.dumps(record))
    session.add(ClinicSetting(key=CLINIC_ID_SETTING, value=cid))
    key = AuditKey(cid, secret, next_seq)
    with _lock:
        _keys[cid] = key
    return key


def forget_cached_keys() -> None:
    """Read keys and clinic ids afresh (after a restore, or in tests)."""
    with _lock:
        _keys.clear()
        _clinic_of.clear()


# -- anchors -----------------------------------------------------------------------------------
def anchor_now(cid: str, seq: int, digest: str, database: str = "") -> Anchor:
    """An anchor of entry ``seq`` with hash ``digest``, timed now."""
    when = datetime.now(UTC).isoformat(timespec="seconds")
    return Anchor(cid, seq, digest, when, database=database)


def database_identity(session: Session) -> str:
    """Where the session's database is (an SQLite file's path, a server URL, no password)."""
    return session.get_bind().engine.url.render_as_string(hide_password=True)


def checkpoints_of(database: str) -> list[Anchor]:
    """This computer's checkpoints seen in ``database`` (whatever clinic id they name)."""
    found = []
    for path in sorted(anchor_dir().glob("*.json")):
        anchor = read_anchor(path)
        if anchor is not None and anchor.database == database:
            found.append(anchor)
    return found


def checkpoint_path(cid: str) -> Path:
    """This computer's checkpoint file for clinic ``cid``."""
    return anchor_dir() / f"{cid}.json"


def write_checkpoint(anchor: Anchor) -> None:
    """Move this computer's checkpoint forward (never back) to ``anchor``."""
    path = checkpoint_path(anchor.clinic_id)
    current = read_anchor(path)
    if current is not None and current.seq >= anchor.seq:
        return
    _write_private(path, json.dumps(anchor.to_json()))


def reset_checkpoint(anchor: Anchor) -> None:
    """Set this computer's checkpoint to ``anchor`` even if it is older (after a restore, the
    log legitimately continues from the backup's newest entry)."""
    _write_private(checkpoint_path(anchor.clinic_id), json.dumps(anchor.to_json()))


def write_anchor_file(path: Path, anchor: Anchor) -> Path:
    """Write ``anchor`` to ``path`` (beside a backup, inside an export)."""
    _write_private(path, json.dumps(anchor.to_json(), indent=2) + "\n")
    return path


def read_anchor(path: Path) -> Anchor | None:
    """The anchor in ``path`` (None when there is none or it is unreadable)."""
    try:
        data = json.loads(_read_small_file(Path(path)))
        return Anchor(
            str(data["clinic_id"]),
            int(data["seq"]),
            str(data["hash"]),
            str(data["at"]),
            str(path),
            str(data.get("database", "")),
        )
    except (OSError, ValueError, KeyError, TypeError, UnicodeError):
        return None

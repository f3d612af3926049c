"""When a database file may be used at start-up before its page-by-page check has finished.

``PRAGMA quick_check`` reads every page of the file: 0.6 s for 300 MB, and for a 2 GB
clinic about 5 s in the disk cache, 30 s from a cold disk (measured on the benchmark clinic).
At start-up it runs in the background, and until it has passed nothing is written, so a
person who signs in quickly waits for it.

The rule that lets them skip that wait: **the file is exactly as Charting left it when it
last closed cleanly, having checked it in that session.** "Exactly as left" means the same
size, modification time (to the nanosecond), inode and device, and no write-ahead log
waiting beside it. Anything else that touched the file (another program, a copy, a restore,
a crash before the log was folded in, a second Charting still open) changes one of those,
and the start waits for the check as before. The record of a passed check is carried from
one clean close to the next only while it is younger than :data:`MAX_AGE`; after that the
start waits for a full check again.

What the rule cannot see is damage that leaves the file's metadata alone (a failing disk).
So a trusted start still runs the check in the background; the first write after a bad
verdict is refused, and the window says why. The only writes that can reach such a file
before the verdict are the few rows of a sign-in.

The records live in a small JSON file in the user's data folder, keyed by the database's
resolved path. An unreadable record file is treated as empty: the start waits for the check,
and the next clean close writes a fresh file.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

log = logging.getLogger(__name__)

#: A passed check is relied on for this long, through any number of clean closes.
MAX_AGE = timedelta(days=7)
RECORDS_FILENAME = "file-checks.json"


@dataclass(frozen=True)
class FileState:
    """What identifies one version of a database file without reading it."""

    size: int
    mtime_ns: int
    inode: int
    device: int

    @classmethod
    def of(cls, path: Path) -> FileState | None:
        """The file's state, or None when it cannot be vouched for: missing, or with a
        write-ahead log holding changes not yet folded into it."""
        try:
            wal = Path(f"{path}-wal")
            if wal.exists() and wal.stat().st_size:
                return None
            st = path.stat()
        except OSError:
            return None
        return cls(st.st_size, st.st_mtime_ns, st.st_ino, st.st_dev)


class FileCheckRecords:
    """The JSON file of database files closed cleanly after a passed check."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _load(self) -> dict[str, dict[str, object]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            log.warning("ignoring unreadable file-check records %s (%s)", self.path, exc)
            return {}
        return data if isinstance(data, dict) else {}

    def trusted_since(self, database: Path, now: datetime | None = None) -> datetime | None:
        """When ``database`` last passed its full check, if it is exactly as Charting left
        it since and that check is recent enough to rely on; else None."""
        entry = self._load().get(str(database.resolve()))
        state = FileState.of(database)
        if not isinstance(entry, dict) or state is None:
            return None
        try:
            recorded = FileState(
                int(entry["size"]),  # type: ignore[call-overload]
                int(entry["mtime_ns"]),  # type: ignore[call-overload]
                int(entry["inode"]),  # type: ignore[call-overload]
                int(entry["device"]),  # type: ignore[call-overload]
            )
            checked = datetime.fromisoformat(str(entry["checked_at"]))
        except (KeyError, TypeError, ValueError):
            return None
        if checked.tzinfo is None or recorded != state:
            return None
        age = (now or datetime.now(UTC)) - checked
        return checked if timedelta(0) <= age <= MAX_AGE else None

    def record(self, database: Path, checked_at: datetime | None) -> bool:
        """Remember ``database`` as it is now, last found sound at ``checked_at`` (None:
        not known sound, so forget it); whether it could be vouched for (no pending
        write-ahead log) and the record was written."""
        state = FileState.of(database) if checked_at is not None else None
        records = self._load()
        key = str(database.resolve())
        if state is None or checked_at is None:
            records.pop(key, None)
        else:
            records[key] = {**asdict(state), "checked_at": checked_at.isoformat()}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            partial = self.path.with_name(f"{self.path.name}.partial")
            partial.write_text(json.dumps(records, indent=1), encoding="utf-8")
            os.replace(partial, self.path)
        except OSError as exc:
            log.warning("could not save file-check records %s (%s)", self.path, exc)
            return False
        return state is not None

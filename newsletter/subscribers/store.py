"""The subscriber store: SQLite in a git-ignored folder, with consent proof and suppression.

Who is on the list, since when and on whose request. A subscriber's status is
decided by their latest request by Date (ties by order of arrival). Forgetting an
address erases every record of it and keeps only a salted hash, so old mail read
again cannot bring it back; a newer subscribe request can.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .. import clock
from ..errors import display_path
from ..source.models import Subscriber
from ..sqlite_tx import DatabaseBusy, immediate, use_wal
from .addresses import address_key
from .gitguard import check_file_not_in_git as check_file_not_in_git  # emit/run.py imports it
from .gitguard import check_not_in_git
from .preference import COLUMNS as PREFERENCE_COLUMNS
from .preference import ORDER as PREFERENCE_ORDER
from .preference import Change, replay
from .schema import (
    BOUNCING,
    DB_FILE,
    DEFAULT_FOLDER,
    STORE_ENV,
    SUBSCRIBED,
    SWITCH,
    UNSUBSCRIBED,
    StoreError,
    migrate,
    store_error,
)


@dataclass(frozen=True)
class Record:
    address: str
    name: str
    status: str
    decided_at: str | None
    consent_message_id: str | None
    consent_date: str | None
    consent_subject: str | None
    flags: str
    discreet: bool = False  # neutral From name and subject (mail/discreet.py)


def store_folder(project_root: Path) -> Path:
    """Where the store lives: $NEWSLETTER_STORE, else .subscribers/ in the project."""
    configured = os.environ.get(STORE_ENV)
    return Path(configured).expanduser() if configured else project_root / DEFAULT_FOLDER


# How long to wait for another process (an import) holding the store's write lock.
BUSY_TIMEOUT = 60


class SubscriberStore:
    """One open store. `with open_store(root) as store:`; writes go in `store.transaction()`."""

    def __init__(self, folder: Path) -> None:
        check_not_in_git(folder)
        self.folder = folder
        self.path = folder / DB_FILE
        try:
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            new = not self.path.exists()
            if new:  # created 0600 before SQLite writes anything into it
                os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
            os.chmod(self.path, 0o600)
            self.db = sqlite3.connect(self.path, isolation_level=None, timeout=BUSY_TIMEOUT)
            use_wal(self.db, BUSY_TIMEOUT)
            self.db.execute("PRAGMA synchronous=FULL")
            self.db.execute("PRAGMA foreign_keys=ON")
            migrate(self.db, self.path, self.transaction)
        except OSError as exc:
            raise StoreError(f"cannot open the subscriber store {display_path(self.path)}: {exc}",
                             "check the folder's permissions, or set NEWSLETTER_STORE") from None
        except sqlite3.Error as exc:
            with contextlib.suppress(AttributeError, sqlite3.Error):
                self.db.close()
            raise store_error(self.path, exc) from None

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> SubscriberStore:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: object) -> None:
        self.close()
        if isinstance(exc, sqlite3.Error):
            raise store_error(self.path, exc) from None

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """All or nothing: a crash or kill inside leaves the store as it was before."""
        try:
            with immediate(self.db):
                yield
        except DatabaseBusy as exc:
            raise StoreError(f"the subscriber store is busy: {exc}",
                             "another import is running; wait for it and try again") from None

    # Reading

    def active(self) -> Iterator[Subscriber]:
        """Everyone to send to: subscribed, not bouncing, in the order they joined."""
        rows = self.db.execute("SELECT address, name, discreet FROM subscribers WHERE status = ? "
                               "ORDER BY consent_date, address_key", (SUBSCRIBED,))
        for address, name, discreet in rows:
            yield Subscriber(address, name, bool(discreet))

    def records(self) -> list[Record]:
        rows = self.db.execute(f"SELECT {_RECORD_COLUMNS} FROM subscribers ORDER BY address_key")
        return [_record(row) for row in rows]

    def record(self, address: str) -> Record | None:
        row = self.db.execute(f"SELECT {_RECORD_COLUMNS} FROM subscribers WHERE address_key = ?",
                              (address_key(address),)).fetchone()
        return _record(row) if row else None

    def history(self, address: str) -> list[tuple[str, str | None, str | None, str, int]]:
        """(kind, date, message id, subject, arrival) of every request of this address, oldest
        first; a subscribe that asked for the discreet version is 'subscribe-discreetly'."""
        return [(f"{kind}-discreetly" if discreet else kind, date, message_id, subject, arrival)
                for kind, date, message_id, subject, arrival, discreet in self.db.execute(
                    "SELECT kind, date, message_id, subject, arrival, discreet FROM requests "
                    "WHERE address_key = ? ORDER BY arrival", (address_key(address),))]

    def preference_changes(self, address: str) -> list[Change]:
        """The requests that changed the discreet preference, by Date (preference.py)."""
        return self._changes(address_key(address))

    def _changes(self, key: str) -> list[Change]:
        return replay(self.db.execute(f"SELECT {PREFERENCE_COLUMNS} FROM requests WHERE "
                                      f"address_key = ? {PREFERENCE_ORDER}", (key,)))

    def is_forgotten(self, address: str) -> bool:
        return self._suppressed_at(address_key(address)) is not None

    def count(self, status: str | None = None) -> int:
        if status is None:
            return self.db.execute("SELECT count(*) FROM subscribers").fetchone()[0]
        return self.db.execute("SELECT count(*) FROM subscribers WHERE status = ?",
                               (status,)).fetchone()[0]

    def discreet_count(self) -> int:
        """Subscribed addresses that asked for the discreet version."""
        return self.db.execute("SELECT count(*) FROM subscribers WHERE status = ? AND discreet",
                               (SUBSCRIBED,)).fetchone()[0]

    def processed_state(self, message_key: str) -> str:
        """'read' (this message was read before), 'reused' (its Message-ID was, on a
        different message) or 'new'. Keys are "Message-ID\ndigest"; stores written
        before the digest was added hold the bare Message-ID."""
        if self._has_processed(message_key):
            return "read"
        message_id, newline, _ = message_key.partition("\n")
        if not newline:
            return "new"
        if self._has_processed(message_id):
            return "read"
        reused = self.db.execute("SELECT 1 FROM processed WHERE substr(message_key, 1, ?) = ?",
                                 (len(message_id) + 1, message_id + "\n")).fetchone()
        return "reused" if reused else "new"

    def _has_processed(self, message_key: str) -> bool:
        return self.db.execute("SELECT 1 FROM processed WHERE message_key = ?",
                               (message_key,)).fetchone() is not None

    def sync_state(self, source: str) -> tuple[int | None, int]:
        row = self.db.execute("SELECT uidvalidity, last_uid FROM sync_state WHERE source = ?",
                              (source,)).fetchone()
        return (row[0], row[1]) if row else (None, 0)

    # Writing (inside a transaction)

    def mark_processed(self, message_key: str, outcome: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO processed VALUES (?, ?)", (message_key, outcome))

    def set_sync_state(self, source: str, uidvalidity: int, last_uid: int) -> None:
        self.db.execute("INSERT OR REPLACE INTO sync_state VALUES (?, ?, ?)",
                        (source, uidvalidity, last_uid))

    def apply(self, *, kind: str, address: str, name: str, date: dt.datetime | None,
              message_id: str | None, subject: str, flags: tuple[str, ...] = (),
              message_key: str | None = None, discreet: bool = False) -> str:
        """Record one request and update the subscriber if it is their latest.

        `kind` is 'subscribe' (with `discreet`: asking for the discreet version),
        'unsubscribe', 'bounce' or 'switch' (of someone in the store; it never adds anyone).
        Returns what changed: 'new', 'resubscribed', 'unsubscribed', 'bouncing',
        'switched' (only the discreet preference), 'unchanged' (an older or repeated
        request), or 'suppressed' (a forgotten address whose request was read before the
        forgetting, or is not newer than it).
        """
        key = address_key(address)
        when = date.astimezone(dt.UTC).isoformat() if date else None
        suppressed_at = self._suppressed_at(key)
        if suppressed_at is not None:
            if (kind != "subscribe" or when is None or when <= suppressed_at
                    or (message_key is not None and self.read_before_forget(message_key))):
                return "suppressed"
            self.db.execute("DELETE FROM suppressed WHERE address_hash = ?", (self._hash(key),))
        row = self.db.execute("SELECT status, decided_at, decided_order, name, consent_message_id "
                              "FROM subscribers WHERE address_key = ?", (key,)).fetchone()
        if kind == SWITCH and row is None:
            return "unchanged"  # nobody to switch: the intake holds it for the editor
        self.db.execute("INSERT INTO requests (address_key, kind, message_id, date, subject, "
                        "message_key, discreet) VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (key, kind, message_id, when, subject, message_key,
                         int(discreet and kind == "subscribe")))
        arrival = self.db.execute("SELECT last_insert_rowid()").fetchone()[0]
        outcome = "unchanged" if kind == SWITCH else self._decide(
            row, kind=kind, key=key, address=address, name=name, when=when, arrival=arrival,
            consent=(message_id, when, subject) if kind == "subscribe" else None,
            flag_text="; ".join(flags))
        if self._settle_preference(key) and outcome == "unchanged":
            return "switched"
        return outcome

    def _decide(self, row: tuple | None, *, kind: str, key: str, address: str, name: str,
                when: str | None, arrival: int, consent: tuple | None, flag_text: str) -> str:
        """The status after a subscribe, unsubscribe or bounce just recorded."""
        status = {"subscribe": SUBSCRIBED, "unsubscribe": UNSUBSCRIBED, "bounce": BOUNCING}[kind]
        if row is None:
            # An unsubscribe or bounce for someone not on the list is remembered too, so an
            # older subscribe request read later does not win over it.
            self._insert(key, address, name, status, when, arrival, consent, flag_text)
            return "new" if kind == "subscribe" else "unchanged"
        old_status, decided_at, decided_order, old_name, old_consent = row
        # Latest by Date wins, ties by arrival; a request without a Date counts as oldest.
        if (when or "", arrival) <= (decided_at or "", decided_order):
            return "unchanged"
        self.db.execute(
            "UPDATE subscribers SET address = ?, name = ?, status = ?, decided_at = ?, "
            "decided_order = ?, flags = ?"
            + (", consent_message_id = ?, consent_date = ?, consent_subject = ?" if consent else "")
            + " WHERE address_key = ?",
            (address, name or old_name, status, when, arrival, flag_text, *(consent or ()), key))
        if status == old_status:
            return "unchanged"
        if status == SUBSCRIBED:
            return "resubscribed" if old_consent else "new"
        return status

    def _settle_preference(self, key: str) -> bool:
        """Work the discreet preference out again from every request (preference.py); whether
        it changed."""
        changes = self._changes(key)
        discreet = int(changes[-1].discreet) if changes else 0
        return self.db.execute("UPDATE subscribers SET discreet = ? WHERE address_key = ? AND "
                               "discreet != ?", (discreet, key, discreet)).rowcount > 0

    def forget(self, address: str) -> bool:
        """Erase every record of `address`; keep a salted hash so old mail cannot re-add it."""
        key = address_key(address)
        # Deleted rows are overwritten with zeros, not only unlinked from the b-tree.
        self.db.execute("PRAGMA secure_delete = ON")
        with self.transaction():
            message_ids = [row[0] for row in self.db.execute(
                "SELECT message_id FROM requests WHERE address_key = ? AND message_id IS NOT NULL",
                (key,))]
            # Every message of theirs read so far (applied or held), whatever its Date: a
            # future-dated or undated one read again would otherwise look newer than this.
            read = {row[0] for row in self.db.execute(
                "SELECT message_key FROM requests WHERE address_key = ? AND message_key IS NOT "
                "NULL UNION SELECT message_key FROM queue WHERE address_key = ?", (key, key))}
            # Requests recorded before message_key was kept (schema 1) are found by the
            # Message-ID their message's key starts with.
            for k in message_ids:
                read.update(row[0] for row in self.db.execute(
                    "SELECT message_key FROM processed WHERE message_key = ? OR "
                    "substr(message_key, 1, ?) = ?", (k, len(k) + 1, k + "\n")))
            found = self.db.execute("DELETE FROM subscribers WHERE address_key = ?",
                                    (key,)).rowcount
            found += self.db.execute("DELETE FROM requests WHERE address_key = ?", (key,)).rowcount
            found += self.db.execute("DELETE FROM queue WHERE address_key = ?", (key,)).rowcount
            # Their messages may be read again later; the suppression decides then.
            self.db.executemany("DELETE FROM processed WHERE message_key = ? OR "
                                "substr(message_key, 1, ?) = ?",
                                [(k, len(k) + 1, k + "\n") for k in message_ids])
            self.db.executemany("DELETE FROM processed WHERE message_key = ?",
                                [(k,) for k in read])
            now = clock.now().isoformat()
            self.db.execute("INSERT OR REPLACE INTO suppressed VALUES (?, ?)",
                            (self._hash(key), now))
            self.db.executemany("INSERT OR IGNORE INTO suppressed_messages VALUES (?, ?)",
                                [(self._hash(k), now) for k in sorted(read)])
        self.db.execute("VACUUM")  # the erased rows leave no trace in the file's free pages
        # In WAL mode the deleting and the VACUUM went to the -wal file first: copy them
        # into the database and empty the -wal, so no old page with the address stays.
        self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return found > 0

    def _insert(self, key: str, address: str, name: str, status: str, when: str | None,
                arrival: int, consent: tuple | None, flags: str) -> None:
        self.db.execute(
            "INSERT INTO subscribers (address_key, address, name, status, decided_at, "
            "decided_order, consent_message_id, consent_date, consent_subject, flags) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (key, address, name, status, when, arrival, *(consent or (None, None, None)), flags))

    def _salt(self) -> str:
        return self.db.execute("SELECT value FROM meta WHERE key = 'salt'").fetchone()[0]

    def _hash(self, key: str) -> str:
        return hashlib.sha256((self._salt() + key).encode("utf-8")).hexdigest()

    def read_before_forget(self, message_key: str) -> bool:
        """Whether this message was read before its sender was forgotten (by salted hash)."""
        return self.db.execute("SELECT 1 FROM suppressed_messages WHERE message_hash = ?",
                               (self._hash(message_key),)).fetchone() is not None

    def _suppressed_at(self, key: str) -> str | None:
        row = self.db.execute("SELECT forgotten_at FROM suppressed WHERE address_hash = ?",
                              (self._hash(key),)).fetchone()
        return row[0] if row else None


_RECORD_COLUMNS = ("address, name, status, decided_at, consent_message_id, consent_date, "
                   "consent_subject, flags, discreet")


def _record(row: tuple) -> Record:
    return Record(*row[:-1], discreet=bool(row[-1]))


def open_store(project_root: Path) -> SubscriberStore:
    """The project's store, created (0700 folder, 0600 file) on first use."""
    return SubscriberStore(store_folder(project_root))


def open_existing_store(project_root: Path) -> SubscriberStore:
    """The project's store for reading: no store yet is an error that says how to make one."""
    folder = store_folder(project_root)
    if not (folder / DB_FILE).exists():
        raise StoreError(f"there is no subscriber store yet ({display_path(folder)}/)",
                         "import the signup mailbox first (send.py subscribers import SOURCE), "
                         "or pass --subscribers FILE.csv")
    return SubscriberStore(folder)

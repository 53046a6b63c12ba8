"""The store on disk: where it lives, its tables, and the migrations between versions.

The file carries its schema version (SQLite's user_version); a store newer than this
code is refused, an older one is brought up to date one migration at a time.
"""

from __future__ import annotations

import contextlib
import secrets
import sqlite3
from collections.abc import Callable
from pathlib import Path

from ..errors import NewsletterError, display_path

STORE_ENV = "NEWSLETTER_STORE"
DEFAULT_FOLDER = ".subscribers"
DB_FILE = "subscribers.sqlite3"
SUBSCRIBED, UNSUBSCRIBED, BOUNCING = "subscribed", "unsubscribed", "bouncing"
SWITCH = "switch"  # a request kind that changes the discreet preference, not the status

# Each migration takes the store from version N to N+1; never edit one that has shipped.
MIGRATIONS = [
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE subscribers (
        address_key     TEXT PRIMARY KEY,
        address         TEXT NOT NULL,
        name            TEXT NOT NULL DEFAULT '',
        status          TEXT NOT NULL CHECK (status IN ('subscribed', 'unsubscribed', 'bouncing')),
        decided_at      TEXT,            -- the Date of the request that set the status
        decided_order   INTEGER NOT NULL, -- its order of arrival, for ties
        consent_message_id TEXT,         -- proof of consent: the subscribe request
        consent_date    TEXT,
        consent_subject TEXT,
        flags           TEXT NOT NULL DEFAULT ''
    );
    CREATE TABLE requests (             -- every request read, for the record
        arrival     INTEGER PRIMARY KEY,
        address_key TEXT NOT NULL,
        kind        TEXT NOT NULL,
        message_id  TEXT,
        date        TEXT,
        subject     TEXT NOT NULL
    );
    CREATE INDEX requests_address ON requests (address_key);
    CREATE TABLE processed (            -- messages already read: re-imports are idempotent
        message_key TEXT PRIMARY KEY,
        outcome     TEXT NOT NULL
    );
    CREATE TABLE sync_state (           -- IMAP: what was fetched from which mailbox
        source      TEXT PRIMARY KEY,
        uidvalidity INTEGER NOT NULL,
        last_uid    INTEGER NOT NULL
    );
    CREATE TABLE suppressed (           -- forgotten addresses, as salted hashes only
        address_hash TEXT PRIMARY KEY,
        forgotten_at TEXT NOT NULL
    );
    """,
    # 2: the review queue (queue.py), and what forget keeps so old mail stays forgotten
    # whatever its Date: the salted hashes of the messages read before (store.forget).
    """
    ALTER TABLE requests ADD COLUMN message_key TEXT;
    CREATE TABLE queue (                -- messages held for the editor, until decided
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        message_key TEXT NOT NULL UNIQUE,
        address_key TEXT,                -- the From address, when there is one
        address     TEXT,
        name        TEXT NOT NULL DEFAULT '',
        wanted      TEXT NOT NULL DEFAULT '', -- what it would have been: subscribe, unsubscribe
        message_id  TEXT,
        date        TEXT,
        date_trusted INTEGER NOT NULL DEFAULT 1, -- 0: accept dates it by the decision
        subject     TEXT NOT NULL,
        reason      TEXT NOT NULL,
        excerpt     TEXT NOT NULL DEFAULT '', -- the first lines of the writer's own text
        named       TEXT NOT NULL DEFAULT '', -- addresses the text names, one a line
        source      TEXT NOT NULL DEFAULT '', -- where it was read: "signups.mbox #5", "UID 7"
        queued_at   TEXT NOT NULL
    );
    CREATE TABLE suppressed_messages (  -- messages read before a forget, as salted hashes only
        message_hash TEXT PRIMARY KEY,
        forgotten_at TEXT NOT NULL
    );
    """,
    # 3: discreet mode (mail/discreet.py): whether a subscriber gets neutral headers, and on
    # each subscribe whether it asked for that. A switch is a request of kind 'switch'. The
    # preference is worked out from the requests by Date (store.preference), like the status.
    """
    ALTER TABLE subscribers ADD COLUMN discreet INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE requests ADD COLUMN discreet INTEGER NOT NULL DEFAULT 0;
    """,
]


class StoreError(NewsletterError):
    """The store cannot be used safely (tracked by git, unreadable, newer than this code)."""


def migrate(db: sqlite3.Connection, path: Path,
            transaction: Callable[[], contextlib.AbstractContextManager[None]]) -> None:
    """Bring the store at `path` to the latest version, each migration in a `transaction()`."""
    version = _version(db, path)
    for number in range(version, len(MIGRATIONS)):
        with transaction():
            # Another process may have migrated between our read and BEGIN IMMEDIATE
            # (two first imports at once): read again under the write lock.
            if _version(db, path) > number:
                continue
            for statement in _statements(MIGRATIONS[number]):
                db.execute(statement)
            if number == 0:
                db.execute("INSERT INTO meta VALUES ('salt', ?)", (secrets.token_hex(16),))
            db.execute(f"PRAGMA user_version = {number + 1}")


def _version(db: sqlite3.Connection, path: Path) -> int:
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version > len(MIGRATIONS):
        raise StoreError(f"{display_path(path)} was written by a newer version "
                         f"(schema {version})", "update this checkout before using it")
    return version


def _statements(script: str) -> list[str]:
    """Split a migration into statements (sqlite3 runs one per execute() in a transaction)."""
    return [part.strip() for part in sqlite3_split(script) if part.strip()]


def sqlite3_split(script: str) -> list[str]:
    statements, current = [], ""
    for line in script.splitlines(keepends=True):
        current += line.split("--", 1)[0] + ("\n" if "--" in line else "")
        if sqlite3.complete_statement(current):
            statements.append(current)
            current = ""
    return statements


def store_error(path: Path, exc: sqlite3.Error) -> StoreError:
    """An SQLite failure as the editor can act on it: what failed, and a hint."""
    said = str(exc)
    if "locked" in said or "busy" in said:
        hint = "another import is running; wait for it and try again"
    elif "readonly" in said or "unable to open" in said or "disk I/O" in said:
        hint = "check the permissions of the store's folder and files, and the free disk space"
    elif "malformed" in said or "not a database" in said:
        hint = ("the file is damaged: restore it from a backup, or move it away and import "
                "the signup mailbox again")
    else:
        hint = "run the command again; if it keeps failing, report it with this message"
    return StoreError(f"the subscriber store {display_path(path)} failed: {said}", hint)

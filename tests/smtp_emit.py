"""What the `emit --mode smtp` tests share: a project pointed at a test server, a list, the
ledger read back, and the message our engine builds for a subscriber."""

from __future__ import annotations

import csv
import re
import sqlite3
from pathlib import Path

import pytest

ISSUE_DIR = "002-parts-that-help"


def use_server(project, host: str, port: int, security: str, username: str | None = None,
               **limits: int) -> None:
    """Append an smtp: section for this server to the project's newsletter.yaml."""
    lines = ["smtp:", f"  host: {host}", f"  port: {port}", f"  security: {security}"]
    if username:
        lines.append(f"  username: {username}")
    lines += [f"  {key}: {value}" for key, value in {"per_minute": 100000, **limits}.items()]
    config = project.root / "newsletter.yaml"
    config.write_text(config.read_text(encoding="utf-8") + "\n".join(lines) + "\n",
                      encoding="utf-8")


def readers(n: int, domain: str = "example.org") -> list[str]:
    return [f"reader{i:03d}@{domain}" for i in range(n)]


def write_list(path: Path, addresses: list[str]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["email", "name"])
        writer.writerows((address, f"Reader {n}") for n, address in enumerate(addresses))
    return path


def ledger(project) -> dict[str, tuple[str, str | None, str | None]]:
    """address -> (state, message_id, reply)."""
    db = sqlite3.connect(project.out / ISSUE_DIR / "ledger.sqlite3")
    try:
        return {address: (state, message_id, reply) for address, state, message_id, reply in
                db.execute("SELECT address, state, message_id, reply FROM emitted")}
    finally:
        db.close()


def states(project) -> dict[str, str]:
    return {address: row[0] for address, row in ledger(project).items()}


def header(data: bytes, name: str) -> str | None:
    found = re.search(rb"^" + name.encode() + rb": ([^\r\n]*(?:\r?\n[ \t][^\r\n]*)*)", data,
                      re.MULTILINE | re.IGNORECASE)
    return found[1].decode() if found else None


def built_for(project, address: str, name: str, data: bytes) -> bytes:
    """What the draft engine builds for this subscriber (draft headers off), with the
    Date, boundary and Message-ID of `data`, the message as sent."""
    import datetime as dt
    from email.utils import parsedate_to_datetime

    from newsletter.mail import smtp_settings  # noqa: F401  declares smtp:
    from newsletter.mail.mailto import unsubscribe_link
    from newsletter.mail.message import MessageFactory
    from newsletter.render.renderer import Renderer
    from newsletter.source.compose import find_issue
    from newsletter.source.project import load_project

    loaded = load_project(project.root)
    rendered = Renderer(loaded.root, loaded.config).render(find_issue(loaded.issues, "2"))
    boundary = re.search(rb'boundary="([^"]+)"', data)[1].decode()
    date: dt.datetime = parsedate_to_datetime(header(data, "Date"))
    factory = MessageFactory(loaded.config, rendered, date=date, boundary=boundary, draft=False)
    return factory.message(to=[(name, address)], message_id=header(data, "Message-ID"),
                           unsubscribe_url=unsubscribe_link(loaded.config, address))


@pytest.fixture(autouse=True)
def short_smtp_waits(monkeypatch):
    """Retries wait 10 ms, not seconds: autouse in every module that imports it."""
    monkeypatch.setenv("NEWSLETTER_SMTP_RETRY_WAIT", "0.01")
    monkeypatch.setenv("NEWSLETTER_SMTP_TIMEOUT", "10")

"""The review queue (issue 14, items 2 and 4): held messages wait in the store for the editor.

`subscribers pending` lists them, `accept ID --as ...` applies one with the message as the
proof, `dismiss ID` drops one; importing again never duplicates or forgets one, and a kill
mid-import leaves the queue as it was. Dates that cannot be true are held, and `forget`
holds for every message read before it, whatever its Date.
"""

from __future__ import annotations

import datetime as dt
import signal
import time

import signup_mail as mail
from test_subscribers import import_mbox, run_import, statuses, store_db, write_locked

UNCLEAR = mail.iphone_plain("uli@example.de", "Uli", day=6,
                            subject="Anmeldung \u2013 subscribe",
                            body="bitte nehmt mich in den Verteiler auf. / Please subscribe me.")


def dated(data: bytes, date: str, day: int = 2) -> bytes:
    return data.replace(mail.when(day).encode(), date.encode())


def test_an_unclear_subscribe_waits_in_the_queue_across_imports(project):
    first = import_mbox(project, [UNCLEAR])
    assert "0 new, 0 unsubscribed, 0 bouncing, 1 not understood." in first.stdout
    assert ("  #1  signups.mbox #1  2026-11-06 09:00  Anmeldung \u2013 subscribe  "
            "(no subscribe or unsubscribe words)") in first.stdout.splitlines()
    again = import_mbox(project, [mail.iphone_plain(day=2)])  # the same mbox, one more message
    assert "Held for review" not in again.stdout
    pending = project.run("subscribers", "pending")
    assert pending.exit_code == 0, pending.stderr
    assert pending.stdout.splitlines() == [
        "1 message(s) wait for you: send.py subscribers accept ID --as subscribe|unsubscribe, "
        "or dismiss ID.",
        "#1  uli@example.de  2026-11-06 09:00  Anmeldung \u2013 subscribe",
        "    why: no subscribe or unsubscribe words",
        "    > bitte nehmt mich in den Verteiler auf. / Please subscribe me."]
    assert statuses(project) == {"ann@example.com": "subscribed"}
    status = project.run("status")
    assert "Held for review: 1 message(s) (send.py subscribers pending)." in status.stdout


def test_accept_applies_the_message_as_the_proof_of_consent(project):
    import_mbox(project, [UNCLEAR])
    accepted = project.run("subscribers", "accept", "1", "--as", "subscribe")
    assert accepted.exit_code == 0, accepted.stderr
    assert accepted.stdout == "Accepted #1 as subscribe for uli@example.de: subscribed.\n"
    shown = project.run("subscribers", "show", "uli@example.de").stdout
    assert "consent: 'Anmeldung \u2013 subscribe', 2026-11-06T09:00:00+00:00, Message-ID " \
           "<uli-6@icloud.example>" in shown
    assert "accepted by the editor as subscribe: no subscribe or unsubscribe words" in shown
    assert project.run("subscribers", "pending").stdout == "Nothing waits for review.\n"
    import_mbox(project, [])  # read again: neither queued again nor applied twice
    assert project.run("subscribers", "pending").stdout == "Nothing waits for review.\n"
    assert statuses(project) == {"uli@example.de": "subscribed"}


def test_dismiss_drops_it_and_reimporting_does_not_bring_it_back(project):
    import_mbox(project, [UNCLEAR])
    dismissed = project.run("subscribers", "dismiss", "1")
    assert dismissed.exit_code == 0, dismissed.stderr
    assert dismissed.stdout == ("Dismissed #1 (uli@example.de, Anmeldung \u2013 subscribe): "
                                "nothing changed.\n")
    import_mbox(project, [])
    assert project.run("subscribers", "pending").stdout == "Nothing waits for review.\n"
    assert statuses(project) == {}


def test_an_unknown_id_is_one_error_line(project):
    import_mbox(project, [UNCLEAR])
    for args in (("accept", "7", "--as", "subscribe"), ("dismiss", "7")):
        result = project.run("subscribers", *args)
        assert result.exit_code == 1
        assert result.errors[0].startswith("Error: nothing waits for review as #7 (hint: ")
    assert project.run("subscribers", "accept", "1").exit_code == 2  # --as is required


def test_the_queue_keeps_one_entry_per_message_even_if_read_again(project):
    import_mbox(project, [UNCLEAR])
    import sqlite3
    db = sqlite3.connect(store_db(project))
    db.execute("DELETE FROM processed")  # as if the read marks were lost
    db.commit()
    db.close()
    import_mbox(project, [])
    assert project.run("subscribers", "pending").stdout.count("#1  uli@") == 1
    assert "#2" not in project.run("subscribers", "pending").stdout


def test_the_writers_text_is_shown_escaped(project):
    data = mail.iphone_plain(subject="hi", body="\x1b]0;pwned\x07 hello \u202eevil").replace(
        b"charset=us-ascii", b"charset=utf-8")
    import_mbox(project, [data])
    shown = project.run("subscribers", "pending").stdout
    assert "    > \\x1b]0;pwned\\x07 hello \\u202eevil" in shown
    assert "\x1b" not in shown and "\u202e" not in shown


def test_an_import_killed_part_way_leaves_the_queue_as_it_was(project):
    import_mbox(project, [UNCLEAR])
    source = mail.write_mbox(project.root / "big.mbox", [
        mail.iphone_plain(f"r{n}@example.com", "R", subject=f"question {n}", body="Hello?",
                          message_id=f"<q{n}@example.com>") for n in range(4000)])
    process = run_import(project, source)
    deadline = time.monotonic() + 60
    while not write_locked(store_db(project)):
        assert process.poll() is None, "the import ended before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.005)
    time.sleep(0.2)
    assert process.poll() is None
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=30)
    assert project.run("subscribers", "pending").stdout.startswith("1 message(s) wait")
    done = run_import(project, source)
    _, stderr = done.communicate(timeout=300)
    assert done.returncode == 0, stderr
    assert project.run("subscribers", "pending").stdout.startswith("4001 message(s) wait")


# Dates (item 4)


def test_an_unsubscribe_dated_1970_is_held_not_ignored(project):
    import_mbox(project, [mail.iphone_plain(day=2)])
    old = dated(mail.iphone_plain(day=2, subject=mail.UNSUBSCRIBE, body="", message_id="<u@x>"),
                "Thu, 01 Jan 1970 00:00:00 +0000")
    result = import_mbox(project, [old])
    assert "requests that changed nothing" not in result.stdout
    assert ("(Date 1970-01-01 is before the list could exist (2025-11-17))"
            in result.stdout)
    accepted = project.run("subscribers", "accept", "1", "--as", "unsubscribe")
    assert accepted.stdout == "Accepted #1 as unsubscribe for ann@example.com: unsubscribed.\n"
    assert statuses(project) == {"ann@example.com": "unsubscribed"}


def test_a_year_0000_or_1900_is_held(project):
    zero = dated(mail.iphone_plain(day=2), "Mon, 01 Jan 0000 09:00:00 +0000")
    nineteen = dated(mail.iphone_plain("bo@example.com", day=2), "Mon, 01 Jan 1900 09:00:00 +0000")
    result = import_mbox(project, [zero, nineteen])
    assert "Date has the year 0000, read as 2000: not a real date" in result.stdout
    assert "Date 1900-01-01 is before the list could exist (2025-11-17)" in result.stdout
    assert statuses(project) == {}


def test_signup_start_moves_the_earliest_date(project):
    config = project.root / "newsletter.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace(
        "signup:\n", "signup:\n  start: 2026-11-03\n"), encoding="utf-8")
    result = import_mbox(project, [mail.iphone_plain(day=2), mail.iphone_plain("bo@x.org", day=4)])
    assert "Date 2026-11-02 is before the list could exist (2026-11-03)" in result.stdout
    assert statuses(project) == {"bo@x.org": "subscribed"}


def test_a_date_just_ahead_of_now_is_a_clock_off_by_hours_not_held(project, clock):
    clock.set(dt.datetime(2026, 11, 2, 0, 0, tzinfo=dt.UTC))  # 9 hours before the Date
    import_mbox(project, [mail.iphone_plain(day=2)])
    assert statuses(project) == {"ann@example.com": "subscribed"}


# forget holds for every message read before it, whatever its Date


def test_forget_then_reimport_of_undated_mail_does_not_bring_it_back(project, clock):
    undated = mail.iphone_plain(day=2).replace(f"Date: {mail.when(2)}\r\n".encode(), b"")
    eml = project.root / "undated.eml"
    eml.write_bytes(undated)
    project.run("subscribers", "import", str(eml))  # dated by the import: now
    assert statuses(project) == {"ann@example.com": "subscribed"}
    assert project.run("subscribers", "forget", "ann@example.com").exit_code == 0
    clock.advance(days=3)  # the next import's "now" is later than the forget
    result = project.run("subscribers", "import", str(eml))
    assert "1 requests from forgotten addresses ignored." in result.stdout
    assert statuses(project) == {}


def test_forget_then_reimport_of_accepted_future_dated_mail(project, clock):
    future = dated(mail.iphone_plain(day=2), "Mon, 01 Jan 2035 09:00:00 +0000")
    import_mbox(project, [future])
    project.run("subscribers", "accept", "1", "--as", "subscribe")
    assert project.run("subscribers", "forget", "ann@example.com").exit_code == 0
    assert project.run("subscribers", "pending").stdout == "Nothing waits for review.\n"
    clock.advance(days=1)
    result = import_mbox(project, [])
    assert "1 requests from forgotten addresses ignored." in result.stdout
    assert project.run("subscribers", "pending").stdout == "Nothing waits for review.\n"
    assert statuses(project) == {}


def test_forget_erases_held_mail_too_and_it_is_not_held_again(project):
    old = dated(mail.iphone_plain(day=2), "Thu, 01 Jan 1970 00:00:00 +0000")
    import_mbox(project, [old])
    project.run("subscribers", "forget", "ann@example.com")
    assert project.run("subscribers", "pending").stdout == "Nothing waits for review.\n"
    import_mbox(project, [])
    assert project.run("subscribers", "pending").stdout == "Nothing waits for review.\n"


def test_a_subscribe_never_read_before_the_forget_is_a_new_consent(project, clock):
    import_mbox(project, [mail.iphone_plain(day=2)])
    project.run("subscribers", "forget", "ann@example.com")
    clock.advance(days=2)
    newer = dated(mail.iphone_plain(day=2, message_id="<again@x>"),
                  "Thu, 17 Dec 2026 09:00:00 +0000")
    result = import_mbox(project, [newer])
    assert "1 new," in result.stdout
    assert statuses(project) == {"ann@example.com": "subscribed"}


def test_forget_holds_for_undated_mail_read_before_the_store_kept_message_keys(project, clock):
    # A store from before the queue (schema 1) has requests without message_key: the
    # messages read then must stay forgotten too, found by their Message-ID.
    import sqlite3

    undated = mail.iphone_plain(day=2).replace(f"Date: {mail.when(2)}\r\n".encode(), b"")
    eml = project.root / "undated.eml"
    eml.write_bytes(undated)
    project.run("subscribers", "import", str(eml))
    with sqlite3.connect(store_db(project)) as db:
        db.execute("UPDATE requests SET message_key = NULL")
    assert project.run("subscribers", "forget", "ann@example.com").exit_code == 0
    clock.advance(days=3)
    result = project.run("subscribers", "import", str(eml))
    assert "1 requests from forgotten addresses ignored." in result.stdout
    assert statuses(project) == {}

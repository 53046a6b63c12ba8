"""Discreet mode, the subscriber side (issue 15, part 1): the preference read from signup mail,
kept in the store by Date like the status, shown by `subscribers list/show`, and offered by
`signup`.

Mail is real mbox, Maildir and IMAP (the Dovecot server the tests start), built as readers'
mail apps write it (signup_mail.py).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
from pathlib import Path

import pytest
import signup_mail as mail
from imap_server import imap_server_fixture  # noqa: F401 - the fixture, used by name
from test_signup import Snippet, decode
from test_subscribers import import_mbox, statuses, store_db

from newsletter.source.config import load_config
from newsletter.subscribers import schema
from newsletter.subscribers.csvfile import read_csv
from newsletter.subscribers.lists import CsvList, StoreList
from newsletter.subscribers.store import open_store
from newsletter.web.signup import discreet_links, signup_html


def discreet(project) -> dict[str, str]:
    """{email: "yes"/"no"} for everyone in the store, as `subscribers list` shows it."""
    result = project.run("subscribers", "list", "--format", "json")
    assert result.exit_code == 0, result.stderr
    return {row["email"]: row["discreet"] for row in json.loads(result.stdout)}


def without_discreet_section(project) -> None:
    path = project.root / "newsletter.yaml"
    text, count = re.subn(r"(?m)^discreet:\n(?:  .*\n)+\n?", "", path.read_text("utf-8"))
    assert count == 1
    path.write_text(text, encoding="utf-8")


# The subscriber CSV's discreet column


def test_the_csv_discreet_column_is_yes_or_no_and_anything_else_refuses_the_row(tmp_path):
    path = tmp_path / "list.csv"
    path.write_text("email,name,discreet\nann@example.com,Ann,yes\nbob@example.org,Bob,no\n"
                    "cy@example.org,Cy,\ndee@example.org,Dee,maybe\nEd@example.org,Ed, YES \n",
                    encoding="utf-8")
    rows = list(read_csv(path))
    assert [(r.line, r.subscriber.email, r.subscriber.discreet) for r in rows if r.subscriber] \
        == [(2, "ann@example.com", True), (3, "bob@example.org", False),
            (4, "cy@example.org", False), (6, "Ed@example.org", True)]
    [refused] = [r for r in rows if r.subscriber is None]
    assert (refused.line, refused.problem.line, refused.problem.field) == (5, 5, "discreet")
    assert str(refused.problem.path) == str(path)
    assert "must be yes or no, got 'maybe'" in refused.problem.message


def test_a_csv_without_the_column_is_the_usual_version_for_everyone(tmp_path):
    path = tmp_path / "list.csv"
    path.write_text("email,name\nann@example.com,Ann\n", encoding="utf-8")
    assert [r.subscriber.discreet for r in read_csv(path)] == [False]


# The store: schema 3


def schema_2_store(project) -> Path:
    """A store as the code before discreet mode left it: schema 2, one subscriber."""
    path = store_db(project)
    path.parent.mkdir(mode=0o700)
    db = sqlite3.connect(path, isolation_level=None)
    for number in range(2):
        for statement in schema._statements(schema.MIGRATIONS[number]):
            db.execute(statement)
    db.execute("INSERT INTO meta VALUES ('salt', 'abc')")
    db.execute("INSERT INTO subscribers (address_key, address, name, status, decided_at, "
               "decided_order, consent_message_id, consent_date, consent_subject) VALUES "
               "('ann@example.com', 'ann@example.com', 'Ann', 'subscribed', "
               "'2026-11-02T09:00:00+00:00', 1, '<ann-2@x>', '2026-11-02T09:00:00+00:00', "
               "'Subscribe to the Mindshape newsletter')")
    db.execute("INSERT INTO requests (address_key, kind, message_id, date, subject) VALUES "
               "('ann@example.com', 'subscribe', '<ann-2@x>', '2026-11-02T09:00:00+00:00', "
               "'Subscribe to the Mindshape newsletter')")
    db.execute("PRAGMA user_version = 2")
    db.close()
    return path


def test_an_existing_store_is_upgraded_in_place_everyone_on_the_usual_version(project):
    path = schema_2_store(project)
    with open_store(project.root) as store:
        assert [(s.email, s.discreet) for s in store.active()] == [("ann@example.com", False)]
        assert store.record("ann@example.com").discreet is False
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == len(schema.MIGRATIONS) == 3
    result = import_mbox(project, [mail.switch(day=5)])
    assert "1 switched between the discreet and the usual version." in result.stdout
    assert discreet(project) == {"ann@example.com": "yes"}


def test_a_migration_that_fails_leaves_the_store_as_it_was(project, monkeypatch):
    path = schema_2_store(project)
    broken = schema.MIGRATIONS[2] + "\nALTER TABLE nowhere ADD COLUMN x INTEGER;\n"
    monkeypatch.setattr(schema, "MIGRATIONS", [*schema.MIGRATIONS[:2], broken])
    result = project.run("subscribers", "list")
    assert result.exit_code == 1
    assert result.errors[0].startswith("Error: the subscriber store ")
    assert "no such table: nowhere" in result.errors[0]
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 2
        columns = [row[1] for row in db.execute("PRAGMA table_info(subscribers)")]
    assert "discreet" not in columns
    monkeypatch.undo()
    assert discreet(project) == {"ann@example.com": "no"}


def test_the_store_hands_emit_the_preference(project):
    with open_store(project.root) as store, store.transaction():
        for address, asked in (("ann@example.com", True), ("bob@example.org", False)):
            store.apply(kind="subscribe", address=address, name="", subject="Subscribe",
                        date=dt.datetime(2026, 11, 1, tzinfo=dt.UTC), message_id=None,
                        discreet=asked)
    with open_store(project.root) as store:
        assert sorted((s.email, s.discreet) for s in store.active()) == [
            ("ann@example.com", True), ("bob@example.org", False)]
        # emit looks for discreet subscribers only in a list that may hold one
        assert StoreList(store).may_be_discreet()


def test_only_a_list_that_can_hold_a_discreet_subscriber_is_read_for_one(project, tmp_path):
    plain, marked = tmp_path / "plain.csv", tmp_path / "marked.csv"
    plain.write_text("email,name\nann@example.com,Ann\n", encoding="utf-8")
    marked.write_text("Email, Discreet \nann@example.com,no\n", encoding="utf-8")
    assert not CsvList(plain).may_be_discreet()
    assert CsvList(marked).may_be_discreet()
    with open_store(project.root) as store, store.transaction():
        store.apply(kind="subscribe", address="bob@example.org", name="", subject="Subscribe",
                    date=dt.datetime(2026, 11, 1, tzinfo=dt.UTC), message_id=None)
    with open_store(project.root) as store:
        assert not StoreList(store).may_be_discreet()


# Intake: subscribe discreetly


def test_a_discreet_subscribe_subscribes_with_the_preference(project):
    result = import_mbox(project, [mail.discreet_subscribe(day=2), mail.iphone_plain(
        "bob@example.org", "Bob", day=3)])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[1:3] == [
        "2 new, 0 unsubscribed, 0 bouncing, 0 not understood.",
        "1 of the new or returning subscribers asked for the discreet version (a neutral sender "
        "name and subject)."]
    assert statuses(project) == {"ann@example.com": "subscribed", "bob@example.org": "subscribed"}
    assert discreet(project) == {"ann@example.com": "yes", "bob@example.org": "no"}


@pytest.mark.parametrize("subject, body", [
    ("Re: subscribe,  DISCREET version", "hello"),
    ("AW: Subscribe, discreet version!", ""),
    ("Hi there", mail.DISCREET_SUBSCRIBE_BODY),
    (mail.SUBSCRIBE, f"{mail.DISCREET_SUBSCRIBE_BODY}\nThanks"),  # the usual subject, discreet text
])
def test_a_discreet_subscribe_is_recognised_as_the_usual_one_is(project, subject, body):
    import_mbox(project, [mail.iphone_plain(subject=subject, body=body)])
    assert discreet(project) == {"ann@example.com": "yes"}


def test_quoted_discreet_words_are_not_the_writers_own(project):
    quoted = ("Thanks, this helped.\n\nOn Tue, 17 Nov 2026 at 07:30, MS Notes "
              "<team@mindshape.io> wrote:\n> " + mail.DISCREET_SUBSCRIBE_BODY + "\n> "
              + mail.SWITCH_BODY)
    result = import_mbox(project, [mail.iphone_plain(subject="Re: Notes · 2", body=quoted)])
    assert "1 not understood." in result.stdout
    assert statuses(project) == {}


def test_a_discreet_subject_over_words_that_ask_to_leave_is_held_in_every_language(project):
    # Neither a subscribe nor an unsubscribe: the editor decides (English and German alike).
    import_mbox(project, [mail.iphone_plain(day=1, message_id="<first@x>")])
    result = import_mbox(project, [mail.iphone_plain(subject=mail.DISCREET_SUBSCRIBE,
                                                     body="Actually, please unsubscribe me.")])
    assert statuses(project) == {"ann@example.com": "subscribed"}
    assert discreet(project) == {"ann@example.com": "no"}
    assert "asked to leave in their own words" not in result.stdout
    assert "the subject says subscribe but the text says 'unsubscribe'" in result.stdout
    held = import_mbox(project, [mail.iphone_plain(
        "uli@example.de", "Uli", day=6, subject=mail.DISCREET_SUBSCRIBE, body="Bitte abmelden.")])
    assert "the subject says subscribe but the text says 'abmelden'" in held.stdout
    assert "uli@example.de" not in statuses(project)


@pytest.mark.parametrize(("subject", "body", "reason"), [
    (mail.SWITCH, "Please switch me, and please stop sending the usual one.",
     "the subject says switch but the text says 'stop sending'"),
    (mail.SWITCH, "Bitte abmelden.", "the subject says switch but the text says 'abmelden'"),
    (mail.DISCREET_SUBSCRIBE, "Send me the quiet one and stop sending the usual one.",
     "the subject says subscribe but the text says 'stop sending'"),
    ("Hello", f"{mail.SWITCH_BODY}\nAnd stop sending the usual one.",
     "the text asks to switch but also says 'stop sending'"),
    ("Hello", f"{mail.DISCREET_SUBSCRIBE_BODY}\nPlease remove me from the other list.",
     "the text asks to subscribe but also says 'remove me'"),
])
def test_a_switch_or_discreet_subscribe_with_leave_words_waits_and_unsubscribes_no_one(
        project, subject, body, reason):
    import_mbox(project, [mail.iphone_plain(day=1, message_id="<first@x>")])
    result = import_mbox(project, [mail.iphone_plain(day=4, subject=subject, body=body)])
    assert result.exit_code == 0, result.stderr
    assert statuses(project) == {"ann@example.com": "subscribed"}
    assert discreet(project) == {"ann@example.com": "no"}
    assert "asked to leave in their own words" not in result.stdout
    assert reason in result.stdout
    pending = project.run("subscribers", "pending").stdout
    assert pending.startswith("1 message(s) wait"), pending
    assert reason in pending


def test_both_discreet_bodies_and_leave_words_wait_rather_than_unsubscribe(project):
    import_mbox(project, [mail.iphone_plain(day=1, message_id="<first@x>")])
    body = f"{mail.DISCREET_SUBSCRIBE_BODY}\n{mail.SWITCH_BODY}\nBitte abmelden."
    result = import_mbox(project, [mail.iphone_plain(day=4, subject="Hello", body=body)])
    assert statuses(project) == {"ann@example.com": "subscribed"}
    assert "the text has both the subscribe-discreetly and the switch words" in result.stdout


def test_an_existing_subscriber_who_subscribes_discreetly_becomes_discreet(project):
    import_mbox(project, [mail.iphone_plain(day=2)])
    result = import_mbox(project, [mail.discreet_subscribe(day=4)])
    assert "1 switched between the discreet and the usual version." in result.stdout
    assert "changed nothing" not in result.stdout
    assert discreet(project) == {"ann@example.com": "yes"}
    again = import_mbox(project, [mail.iphone_plain(day=6, message_id="<again@x>")])
    assert "1 requests that changed nothing" in again.stdout  # the usual link clicked again
    assert discreet(project) == {"ann@example.com": "yes"}


def test_a_resubscribe_after_unsubscribing_works_as_the_usual_one(project):
    leave = mail.iphone_plain(day=4, subject=mail.UNSUBSCRIBE, body=mail.UNSUBSCRIBE_BODY)
    import_mbox(project, [mail.iphone_plain(day=2), leave])
    result = import_mbox(project, [mail.discreet_subscribe(day=6)])
    assert "1 subscribed again." in result.stdout
    assert "1 of the new or returning subscribers asked for the discreet version" in result.stdout
    assert statuses(project) == {"ann@example.com": "subscribed"}
    assert discreet(project) == {"ann@example.com": "yes"}
    # Leaving again and coming back through the usual link: the usual version, as asked.
    import_mbox(project, [mail.iphone_plain(day=8, subject=mail.UNSUBSCRIBE,
                                            body=mail.UNSUBSCRIBE_BODY, message_id="<l8@x>"),
                          mail.iphone_plain(day=10, message_id="<s10@x>")])
    assert discreet(project) == {"ann@example.com": "no"}


def test_an_older_discreet_subscribe_read_after_an_unsubscribe_does_not_subscribe(project):
    leave = mail.iphone_plain(day=9, subject=mail.UNSUBSCRIBE, body=mail.UNSUBSCRIBE_BODY)
    import_mbox(project, [leave, mail.discreet_subscribe(day=3)])
    assert statuses(project) == {"ann@example.com": "unsubscribed"}


def test_without_the_discreet_section_a_discreet_subscribe_waits_for_the_editor(project):
    without_discreet_section(project)
    result = import_mbox(project, [mail.discreet_subscribe(day=2), mail.switch(day=5)])
    assert result.exit_code == 0, result.stderr
    assert "0 new, 0 unsubscribed, 0 bouncing, 2 not understood." in result.stdout
    assert statuses(project) == {}
    pending = project.run("subscribers", "pending").stdout
    assert "why: no subscribe or unsubscribe words" in pending
    assert "Subscribe, discreet version" in pending and "Switch my email version" in pending


# Intake: the switch


def test_two_switches_give_back_the_original_whichever_is_read_first(project):
    import_mbox(project, [mail.iphone_plain(day=2)])
    result = import_mbox(project, [mail.switch(day=9), mail.switch(day=5)])
    assert "2 switched between the discreet and the usual version." in result.stdout
    assert discreet(project) == {"ann@example.com": "no"}
    import_mbox(project, [mail.switch(day=12)])
    assert discreet(project) == {"ann@example.com": "yes"}
    import_mbox(project, [])  # read again: nothing switched twice
    assert discreet(project) == {"ann@example.com": "yes"}


def test_an_older_request_read_late_is_replayed_in_date_order(project):
    import_mbox(project, [mail.iphone_plain(day=2)])
    # Read in this order: the switch (day 10) turns ann discreet; the discreet subscribe of
    # day 4, delivered late, comes before it: by Date she asked for discreet, then switched.
    import_mbox(project, [mail.switch(day=10), mail.discreet_subscribe(day=4)])
    assert discreet(project) == {"ann@example.com": "no"}


def test_a_switch_from_someone_not_subscribed_waits_and_subscribes_no_one(project):
    result = import_mbox(project, [mail.switch("kim@example.com", "Kim", day=5)])
    assert "0 new, 0 unsubscribed, 0 bouncing, 0 not understood." in result.stdout
    assert "1 request(s) held for you to decide." in result.stdout
    assert ("(a switch between the discreet and the usual version from kim@example.com, who "
            "is not in the store: nothing was switched)") in result.stdout
    assert statuses(project) == {}
    pending = project.run("subscribers", "pending").stdout
    assert "(it asks to switch)" in pending
    assert pending.splitlines()[0] == ("1 message(s) wait for you: send.py subscribers accept ID "
                                       "--as subscribe|subscribe-discreetly|unsubscribe|switch, "
                                       "or dismiss ID.")
    refused = project.run("subscribers", "accept", "1", "--as", "switch")
    assert refused.exit_code == 1
    assert refused.errors == ["Error: kim@example.com is not subscribed: there is nothing to "
                              "switch (hint: accept their subscribe first, or dismiss it: "
                              "send.py subscribers dismiss 1)"]
    import_mbox(project, [mail.iphone_plain("kim@example.com", "Kim", day=3)])
    accepted = project.run("subscribers", "accept", "1", "--as", "switch")
    assert accepted.stdout == ("Accepted #1 as switch for kim@example.com: switched between "
                               "the discreet and the usual version: now the discreet version.\n")
    assert discreet(project) == {"kim@example.com": "yes"}


def test_a_switch_from_someone_who_unsubscribed_switches_nothing(project):
    leave = mail.iphone_plain(day=4, subject=mail.UNSUBSCRIBE, body=mail.UNSUBSCRIBE_BODY)
    import_mbox(project, [mail.iphone_plain(day=2), leave])
    result = import_mbox(project, [mail.switch(day=6)])
    assert "who is unsubscribed: nothing was switched" in result.stdout
    assert statuses(project) == {"ann@example.com": "unsubscribed"}
    assert discreet(project) == {"ann@example.com": "no"}


def test_a_switch_is_checked_for_its_sender_like_any_request(project):
    import_mbox(project, [mail.iphone_plain(day=2)])
    path = project.root / "newsletter.yaml"
    path.write_text(path.read_text("utf-8").replace(
        "signup:\n", "signup:\n  authserv_ids: [mx.google.com]\n", 1), encoding="utf-8")
    result = import_mbox(project, [mail.switch(day=5)])
    assert "no Authentication-Results from mx.google.com: the sender is not verified" \
        in result.stdout
    assert discreet(project) == {"ann@example.com": "no"}


def test_a_held_discreet_subscribe_keeps_its_preference_when_accepted(project):
    old = mail.discreet_subscribe(day=2).replace(mail.when(2).encode(),
                                                 b"Thu, 01 Jan 1970 00:00:00 +0000")
    import_mbox(project, [old])
    assert "(it asks to subscribe-discreetly)" in project.run("subscribers", "pending").stdout
    accepted = project.run("subscribers", "accept", "1", "--as", "subscribe")
    assert accepted.stdout == ("Accepted #1 as subscribe for ann@example.com: subscribed: now "
                               "the discreet version.\n")
    assert discreet(project) == {"ann@example.com": "yes"}


def test_a_maildir_is_read_the_same(project):
    import_mbox(project, [mail.iphone_plain(day=2)])
    box = mail.write_maildir(project.root / "Maildir",
                             [mail.switch(day=5), mail.discreet_subscribe("kim@example.com")])
    result = project.run("subscribers", "import", str(box))
    assert result.exit_code == 0, result.stderr
    assert discreet(project) == {"ann@example.com": "yes", "kim@example.com": "yes"}


def test_forget_erases_the_preference_and_its_requests(project):
    import_mbox(project, [mail.discreet_subscribe(day=2), mail.switch(day=5)])
    assert project.run("subscribers", "forget", "ann@example.com").exit_code == 0
    again = import_mbox(project, [])
    assert statuses(project) == {}
    assert "requests from forgotten addresses ignored" in again.stdout
    with sqlite3.connect(store_db(project)) as db:
        assert db.execute("SELECT count(*) FROM requests").fetchone()[0] == 0


def test_over_imap_a_discreet_subscribe_and_a_switch(project, imap_server, monkeypatch):
    for name, value in imap_server.env().items():
        monkeypatch.setenv(name, value)
    folder = "Signups-discreet"
    imap_server.create_folder(folder)
    imap_server.append(folder, mail.discreet_subscribe(day=2), mail.iphone_plain(
        "bob@example.org", "Bob", day=3))
    url = imap_server.url(folder)
    first = project.run("subscribers", "import", url)
    assert first.exit_code == 0, first.stderr
    assert discreet(project) == {"ann@example.com": "yes", "bob@example.org": "no"}
    imap_server.append(folder, mail.switch("bob@example.org", "Bob", day=6))
    second = project.run("subscribers", "import", url)
    assert second.stdout.splitlines()[0] == f"Read 1 message(s) from {url}."
    assert discreet(project) == {"ann@example.com": "yes", "bob@example.org": "yes"}


# The commands


def test_list_shows_the_preference_in_every_format(project):
    import_mbox(project, [mail.discreet_subscribe(day=2), mail.iphone_plain(
        "bob@example.org", "Bob", day=3)])
    table = project.run("subscribers", "list").stdout.splitlines()
    assert table[0].split() == ["email", "name", "status", "discreet", "since"]
    assert table[1].split()[-3:] == ["subscribed", "yes", "2026-11-02"]
    assert table[2].split()[-3:] == ["subscribed", "no", "2026-11-03"]
    assert table[-1] == "2 subscribed (1 discreet)"
    csv_lines = project.run("subscribers", "list", "--format", "csv").stdout.splitlines()
    assert csv_lines[0].startswith("email,name,status,discreet,since,")
    assert csv_lines[1].startswith("ann@example.com,Ann Lee,subscribed,yes,")


def test_an_export_is_a_list_emit_can_read_with_the_preference(project):
    import_mbox(project, [mail.discreet_subscribe(day=2), mail.iphone_plain(
        "bob@example.org", "Bob", day=3)])
    path = project.root.parent / "export.csv"
    assert project.run("subscribers", "export", str(path)).exit_code == 0
    assert [(r.subscriber.email, r.subscriber.discreet) for r in read_csv(path)] == [
        ("ann@example.com", True), ("bob@example.org", False)]


# Ann's requests as `subscribers show` lists them: by Date, whatever order they were read in.
ANN_HISTORY = [
    "  2026-11-02T09:00:00+00:00  subscribe    'Subscribe to the Mindshape newsletter'  "
    "<ann-2@icloud.example>",
    "  2026-11-05T09:00:00+00:00  switch       'Switch my email version'  "
    "<ann-s5@icloud.example>  -> discreet",
    "  2026-11-07T09:00:00+00:00  switch       'Switch my email version'  "
    "<ann-s7@icloud.example>  -> usual version"]


def test_show_says_the_preference_and_which_request_set_it(project):
    import_mbox(project, [mail.iphone_plain(day=2), mail.switch(day=5), mail.switch(day=7)])
    shown = project.run("subscribers", "show", "ann@example.com")
    assert shown.exit_code == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[3] == ("discreet: no (the usual sender name and subject) since "
                        "2026-11-07T09:00:00+00:00 (switch, Message-ID <ann-s7@icloud.example>)")
    assert lines[-3:] == ANN_HISTORY
    import_mbox(project, [mail.discreet_subscribe("kim@example.com", "Kim", day=3)])
    kim = project.run("subscribers", "show", "kim@example.com").stdout.splitlines()
    assert kim[3] == ("discreet: yes (a neutral sender name and subject) since "
                      "2026-11-03T09:00:00+00:00 (subscribe, Message-ID <kim-d3@icloud.example>)")
    assert kim[-1].startswith("  2026-11-03T09:00:00+00:00  subscribe-discreetly  "
                              "'Subscribe, discreet version'")
    assert kim[-1].endswith("-> discreet")


def test_show_lists_the_requests_by_date_so_the_markers_read_in_order(project):
    # The later switch is read first: shown by Date, the markers follow the preference's replay.
    import_mbox(project, [mail.iphone_plain(day=2), mail.switch(day=7)])
    import_mbox(project, [mail.switch(day=5)])
    lines = project.run("subscribers", "show", "ann@example.com").stdout.splitlines()
    assert lines[-3:] == ANN_HISTORY
    assert discreet(project) == {"ann@example.com": "no"}


def test_show_of_someone_who_never_changed_it(project):
    import_mbox(project, [mail.iphone_plain(day=2)])
    shown = project.run("subscribers", "show", "ann@example.com").stdout.splitlines()
    assert shown[3] == "discreet: no (the usual sender name and subject)"


# Signup


def test_signup_offers_the_discreet_links_with_honest_words(project):
    config = load_config(project.root)
    subscribe, switch = discreet_links(config)
    assert decode(subscribe) == ("team@mindshape.io", {"subject": mail.DISCREET_SUBSCRIBE,
                                                       "body": mail.DISCREET_SUBSCRIBE_BODY})
    assert decode(switch) == ("team@mindshape.io", {"subject": mail.SWITCH,
                                                    "body": mail.SWITCH_BODY})
    snippet = Snippet(signup_html(config))
    assert [href for _, href in snippet.links][1:3] == [subscribe, switch]
    assert ("Subscribe discreetly" in snippet.words and "MS Notes" in snippet.words
            and "still come from team@mindshape.io" in snippet.words)
    result = project.run("signup")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[-4:] == [
        "Subscribe discreetly link (a neutral sender name and subject, from the same address):",
        subscribe,
        "Switch link (between the discreet and the usual version; also in every discreet email):",
        switch]


def test_signup_without_the_discreet_section_prints_what_it_printed_before(project):
    with_section = project.run("signup").stdout
    without_discreet_section(project)
    config = load_config(project.root)
    assert discreet_links(config) is None
    result = project.run("signup")
    assert result.exit_code == 0, result.stderr
    assert "discreet" not in result.stdout.lower()
    assert result.stdout.splitlines()[-1].startswith("mailto:team@mindshape.io?subject=Unsub")
    assert len(result.stdout) < len(with_section)

"""Discreet mode, the message side: a discreet subscriber's inbox line says nothing of what the
email is about, in every mode; everyone else's message is as it was.

Each message is read by Python's email package and by Node's mailparser (no shared code), and
its From name, Subject, List-Id phrase, hidden preheader and <title> are held to the discreet
words and to a list of the words that give the newsletter away, written out here on purpose
rather than taken from the library that is under test.
"""

from __future__ import annotations

import datetime as dt
import functools
import html as html_lib
import re
import urllib.parse
from html.parser import HTMLParser
from pathlib import Path
from typing import ClassVar

import pytest
from conftest import REPO
from helpers import lf, mailparser_many, parse_eml, parts
from smtp_emit import use_server
from smtp_faults import fault_server_fixture, make_fault_server_fixture, smtp_test_ca_fixture

from newsletter.emit import modes
from newsletter.emit.context import BaseMode
from newsletter.mail import sections  # noqa: F401  declares mail's newsletter.yaml sections
from newsletter.mail.discreet import revealing_word
from newsletter.source.models import Subscriber
from newsletter.source.project import load_project
from newsletter.subscribers.store import open_store

__all__ = ["fault_server_fixture", "make_fault_server_fixture", "smtp_test_ca_fixture"]

ISSUE = "002-parts-that-help"
USUAL_SUBJECT = "The parts of you that are trying to help"
USUAL_PREHEADER = "Anxious attachment as a strategy"  # its start
SENDER_NAME = "MS Notes"
SUBJECT = "Notes · 2"
PREHEADER = "A few pages to read when you have a quiet moment."
SWITCH_SUBJECT = "Switch my email version"
SWITCH_BODY = "Please switch my emails between the discreet and the usual version."
# What a discreet inbox line must never show: the names, what the newsletter covers, the
# alarming words check refuses in any subject, and the issue's own subject.
GIVEAWAYS = ("mindshape", "newsletter", "attach", "anxi", "mental", "therap", "crisis",
             "suicid", "self-harm", "abuse", "parts of you", "protector")

LIST = ("email,name,discreet\n"
        "ann@example.com,Ann Example,no\n"
        "kim@example.org,Kim Lee,yes\n"
        "jose@example.org,José Müller,\n"
        "bo@example.net,,yes\n")
DISCREET = ["bo@example.net", "kim@example.org"]
USUAL = ["ann@example.com", "jose@example.org"]


def emit(project, mode: str, *extra: str, rows: str = LIST):
    project.write("list.csv", rows)
    return project.run("emit", "2", "--subscribers", str(project.root / "list.csv"),
                       "--mode", mode, *extra)


def outbox(project, folder: str = ISSUE) -> list[Path]:
    return sorted((project.out / folder / "outbox").glob("*.eml"))


def recipients_of(message) -> list[str]:
    found = [a.addr_spec for field in ("To", "Bcc") if message[field]
             for a in message[field].addresses if a.addr_spec != "team@mindshape.io"]
    return sorted(found)


def title(html: str) -> str:
    (found,) = re.findall(r"<title>(.*?)</title>", html, flags=re.DOTALL)
    return html_lib.unescape(found).strip()


def preheader(html: str) -> str:
    found = re.search(r'<div class="ms-preheader"[^>]*>(.*?)</div>', html, flags=re.DOTALL)
    assert found, "no hidden preheader"
    return html_lib.unescape(found.group(1)).replace("\u00ad", "").replace("\u00a0", "").strip()


@functools.cache
def _config():
    return load_project(REPO).config


def assert_nothing_given_away(*shown: str) -> None:
    for text in shown:
        assert revealing_word(text, _config()) is None, text
        for word in GIVEAWAYS:
            assert word not in text.lower(), (word, text)


class _ReadingOrder(HTMLParser):
    """The text of an HTML part in reading order, as a preview generator takes it (the
    head, styles and the <title> left out); independent of the renderer's own check."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.skip, self.pieces = 0, []

    def handle_starttag(self, tag, attrs):
        self.skip += tag in ("head", "style", "title")

    def handle_endtag(self, tag):
        self.skip -= tag in ("head", "style", "title") and self.skip > 0

    def handle_data(self, data):
        if not self.skip:
            self.pieces.append(data)


def first_shown(text: str, *, html: bool = False, count: int = 250) -> str:
    """What a preview of a few lines shows: the first `count` visible characters."""
    if html:
        reader = _ReadingOrder()
        reader.feed(text)
        text = " ".join(reader.pieces)
    return " ".join(text.replace("\u00ad", "").split())[:count]


def switch_links(text: str) -> list[dict[str, list[str]]]:
    links = re.findall(r"mailto:team@mindshape\.io\?subject=Switch[^\s>\"]*", text)
    return [urllib.parse.parse_qs(urllib.parse.urlsplit(html_lib.unescape(link)).query)
            for link in links]


def assert_discreet_message(message, theirs: dict, *, subject: str = SUBJECT,
                            body_title: str = USUAL_SUBJECT) -> None:
    """Both parsers read the neutral inbox line; the footer says how to switch back."""
    text, html = parts(message)
    assert message["From"].addresses[0].display_name == SENDER_NAME
    assert message["From"].addresses[0].addr_spec == "team@mindshape.io"  # the address stays
    assert theirs["from"] == [{"name": SENDER_NAME, "address": "team@mindshape.io"}]
    assert message["Subject"] == theirs["subject"] == subject
    assert str(message["List-Id"]) == theirs["listId"] == f"{SENDER_NAME} <newsletter.mindshape.io>"
    assert title(html) == title(lf(theirs["html"])) == subject
    assert preheader(html) == preheader(lf(theirs["html"])) == PREHEADER
    assert text.splitlines()[0] == lf(theirs["text"]).splitlines()[0] == PREHEADER
    assert_nothing_given_away(message["From"].addresses[0].display_name, message["Subject"],
                              str(message["List-Id"]).split("<")[0], title(html),
                              preheader(html), text.splitlines()[0], theirs["subject"],
                              theirs["from"][0]["name"], theirs["listId"].split("<")[0])
    # A notification or an inbox list shows a few lines of the email too (the text part's,
    # in a client that previews it): none may say what it is.
    previews = [first_shown(text), first_shown(lf(theirs["text"])), first_shown(html, html=True),
                first_shown(lf(theirs["html"]), html=True)]
    assert_nothing_given_away(*previews)
    assert all(body_title not in preview for preview in previews)
    assert all(preview.startswith(PREHEADER) for preview in previews)
    for part in (text, html):
        assert "You get the discreet version of these emails" in " ".join(part.split())
        (link,) = switch_links(part)
        assert link == {"subject": [SWITCH_SUBJECT], "body": [SWITCH_BODY]}
    assert body_title in text and body_title in html  # the body is the issue's own


def assert_usual_message(message, theirs: dict) -> None:
    text, html = parts(message)
    assert message["From"].addresses[0].display_name == theirs["from"][0]["name"] == "Mindshape"
    assert message["Subject"] == theirs["subject"] == USUAL_SUBJECT
    assert theirs["listId"] == "Mindshape newsletter <newsletter.mindshape.io>"
    assert title(html) == USUAL_SUBJECT and preheader(html).startswith(USUAL_PREHEADER)
    assert "discreet" not in text + html and switch_links(text + html) == []


def scrubbed(data: bytes) -> bytes:
    """A draft without what differs between two runs: its Message-ID and boundary."""
    data = re.sub(rb"<[0-9a-f]{32}@", b"<ID@", data)
    return re.sub(rb"=_[0-9a-f]{32}", b"=_BOUNDARY", data)


def test_eml_drafts_give_each_subscriber_their_version(sample_project, tmp_path):
    result = emit(sample_project, "eml")
    assert result.exit_code == 0, result.stderr
    assert "to 4 subscriber(s) (eml)" in result.stdout
    files = outbox(sample_project)
    by_address = {}
    for path, theirs in zip(files, mailparser_many(files), strict=True):
        message = parse_eml(path)
        assert message.defects == [] and all(p.defects == [] for p in message.walk())
        (address,) = recipients_of(message)
        assert [a["address"] for a in theirs["to"]] == [address]
        by_address[address] = path
        if address in DISCREET:
            assert_discreet_message(message, theirs)
        else:
            assert_usual_message(message, theirs)
    assert sorted(by_address) == sorted(DISCREET + USUAL)

    # The usual drafts are byte for byte what a list without discreet subscribers gets.
    other = tmp_path / "usual-only"
    result = sample_project.run("emit", "2", "--subscribers", str(sample_project.write(
        "usual.csv", "email,name\nann@example.com,Ann Example\njose@example.org,José Müller\n")),
        "--out", str(other))
    assert result.exit_code == 0, result.stderr
    for address in USUAL:
        alone = [p for p in sorted((other / ISSUE / "outbox").glob("*.eml"))
                 if address in recipients_of(parse_eml(p))]
        assert scrubbed(by_address[address].read_bytes()) == scrubbed(alone[0].read_bytes())


def test_bcc_batches_never_mix_the_versions(sample_project):
    result = emit(sample_project, "bcc", "--batch-size", "50")
    assert result.exit_code == 0, result.stderr
    files = outbox(sample_project)
    assert [p.name for p in files] == ["bcc-0001.eml", "bcc-0002-discreet.eml"]
    usual, discreet = (parse_eml(p) for p in files)
    theirs = mailparser_many(files)
    assert recipients_of(usual) == sorted(USUAL) and recipients_of(discreet) == DISCREET
    assert_usual_message(usual, theirs[0])
    assert_discreet_message(discreet, theirs[1])
    # To: the sender, under the neutral name: a Bcc recipient sees the To line.
    assert theirs[1]["to"] == [{"name": SENDER_NAME, "address": "team@mindshape.io"}]
    assert [(a["name"], a["address"]) for a in theirs[1]["bcc"]] == [
        ("Kim Lee", "kim@example.org"), ("", "bo@example.net")]

    # A later run numbers on, and a new discreet subscriber gets a discreet batch of their own.
    again = emit(sample_project, "bcc", rows=LIST + "cy@example.net,,yes\ndee@example.net,,no\n")
    assert again.exit_code == 0, again.stderr
    assert "4 subscriber(s) already had this issue" in again.stdout
    names = [p.name for p in outbox(sample_project)]
    assert names[2:] == ["bcc-0003.eml", "bcc-0004-discreet.eml"]
    assert recipients_of(parse_eml(outbox(sample_project)[3])) == ["cy@example.net"]


def test_bcc_batches_of_one_size_each_hold_one_version(sample_project):
    rows = "email,discreet\n" + "".join(f"r{i}@example.org,{'yes' if i % 2 else 'no'}\n"
                                        for i in range(7))
    result = emit(sample_project, "bcc", "--batch-size", "2", rows=rows)
    assert result.exit_code == 0, result.stderr
    seen = []
    for path in outbox(sample_project):
        message = parse_eml(path)
        people = recipients_of(message)
        odd = {int(a[1]) % 2 for a in people}
        assert len(odd) == 1 and 1 <= len(people) <= 2, (path.name, people)
        assert path.name.endswith("-discreet.eml") == (odd == {1})
        assert (message["Subject"] == SUBJECT) == (odd == {1})
        seen += people
    assert sorted(seen) == sorted(f"r{i}@example.org" for i in range(7))


def test_mailto_links_keep_the_discreet_batches_apart(sample_project):
    result = emit(sample_project, "mailto")
    assert result.exit_code == 0, result.stderr
    folder = sample_project.out / ISSUE
    links = (folder / "mailto.txt").read_text(encoding="utf-8").splitlines()
    assert len(links) == 2
    decoded = [urllib.parse.parse_qs(urllib.parse.urlsplit(link).query) for link in links]
    assert sorted(decoded[0]["bcc"][0].split(",")) == sorted(USUAL)
    assert decoded[0]["subject"] == [USUAL_SUBJECT]
    assert sorted(decoded[1]["bcc"][0].split(",")) == DISCREET
    assert decoded[1]["subject"] == [SUBJECT]
    body = decoded[1]["body"][0]
    assert body.splitlines()[0] == PREHEADER  # what a text-only inbox previews
    assert f'"{SWITCH_SUBJECT}"' in body and "988 (US/CA)" in body
    assert_nothing_given_away(decoded[1]["subject"][0], first_shown(body))
    assert USUAL_SUBJECT not in first_shown(body) and USUAL_SUBJECT in body
    assert all(len(link) <= 2000 for link in links)
    page = (folder / "mailto.html").read_text(encoding="utf-8")
    items = re.findall(r'<li id="batch-\d+".*?</li>\n', page, flags=re.DOTALL)
    assert ["discreet version" in item for item in items] == [False, True]
    assert "send these from a mail identity named\n  &#8220;MS Notes&#8221;" in page
    assert 'identity named "MS Notes"' in result.stdout


@pytest.mark.parametrize("mode", ["eml", "bcc", "mailto"])
def test_without_the_section_a_discreet_subscriber_stops_the_run(sample_project, mode):
    config = sample_project.root / "newsletter.yaml"
    text = config.read_text(encoding="utf-8")
    start, end = text.index("discreet:\n"), text.index("# The site promises")
    config.write_text(text[:start] + text[end:], encoding="utf-8")
    result = emit(sample_project, mode)
    assert result.exit_code == 1
    assert result.errors == [
        f"Error: {sample_project.root / 'list.csv'}:3: 2 subscriber(s) asked for the discreet "
        "version, and newsletter.yaml has no discreet: section; nothing was emitted (hint: add a "
        "discreet: section to newsletter.yaml (README, \"Discreet mode\"): they must never get "
        "the usual version, whose inbox line says what it is)"]
    assert not sample_project.out.exists()
    # The same list without them goes out as before.
    assert emit(sample_project, mode, rows=LIST.replace(",yes\n", ",no\n")).exit_code == 0


class PlainOnly(BaseMode):
    """A mode that knows nothing of versions (EmitMode.versions left False)."""

    name = "plain-only"
    help = "sends the usual version only"
    given: ClassVar[list[Subscriber]] = []

    def add(self, subscribers: list[Subscriber]) -> None:
        PlainOnly.given += subscribers

    def close(self) -> list[str]:
        return []


def test_a_mode_that_cannot_send_the_discreet_version_is_refused_for_them(sample_project):
    modes.register(PlainOnly)
    try:
        PlainOnly.given = []
        result = emit(sample_project, "plain-only")
        assert result.exit_code == 1 and PlainOnly.given == []
        assert result.errors[0].startswith(
            f"Error: {sample_project.root / 'list.csv'}:3: 2 subscriber(s) asked for the discreet "
            "version, which --mode plain-only cannot send yet; nothing was emitted (hint: emit "
            "to them with --mode eml, bcc, mailto")
        assert not sample_project.out.exists()
        usual_only = LIST.replace(",yes\n", ",no\n")
        result = emit(sample_project, "plain-only", rows=usual_only)
        assert result.exit_code == 0, result.stderr
        assert len(PlainOnly.given) == 4
    finally:
        del modes.MODES[PlainOnly.name]


def test_a_rerun_and_force_give_each_subscriber_the_same_version(sample_project):
    assert emit(sample_project, "eml").exit_code == 0
    again = emit(sample_project, "eml", "--force")
    assert again.exit_code == 0, again.stderr
    for path in outbox(sample_project):
        message = parse_eml(path)
        (address,) = recipients_of(message)
        assert (message["Subject"] == SUBJECT) == (address in DISCREET)


def test_a_changed_discreet_version_is_not_sent_to_the_rest_without_force(sample_project):
    assert emit(sample_project, "eml", rows="email,discreet\nkim@example.org,yes\n").exit_code == 0
    config = sample_project.root / "newsletter.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace(
        PREHEADER, "Some pages for a quiet evening."), encoding="utf-8")
    result = emit(sample_project, "eml")
    assert result.exit_code == 1
    assert result.errors == [
        "Error: the issue's discreet version changed since it was emitted to 1 subscriber(s) "
        "(hint: undo the change, or run with --force to emit the new version to everyone)"]


def set_discreet(project, **values: str) -> list[str]:
    """Replace keys of newsletter.yaml's discreet: section; returns the file's lines."""
    config = project.root / "newsletter.yaml"
    text = config.read_text(encoding="utf-8")
    for key, value in values.items():
        text, count = re.subn(rf"(?m)^  {key}: .*$", f"  {key}: {value}", text)
        if not count:  # an optional key the sample leaves out
            text = text.replace("\ndiscreet:\n", f"\ndiscreet:\n  {key}: {value}\n", 1)
    config.write_text(text, encoding="utf-8")
    return text.splitlines()


def line_of(lines: list[str], key: str) -> int:
    return next(n for n, line in enumerate(lines, 1) if line.startswith(f"  {key}: "))


@pytest.mark.parametrize(("key", "value", "shown", "word"), [
    ("sender_name", "Mindshape Notes", "'Mindshape Notes'", "Mindshape"),
    ("subject", '"Notes on attachment · {{ issue.number }}"',
     "'Notes on attachment · 1' (as rendered for issue 1)", "attachment"),
    ("preheader", "Pages for anxious evenings.", "'Pages for anxious evenings.'", "anxious"),
    ("preheader", "Pages for calm evenings.", "'Pages for calm evenings.'", "evenings"),
])
def test_check_refuses_a_revealing_discreet_word(project, key, value, shown, word):
    lines = set_discreet(project, **{key: value}, words="[evenings]")  # the project's own
    result = project.run("check")
    assert result.exit_code == 1
    expected = (f"error: {project.root / 'newsletter.yaml'}:{line_of(lines, key)}: discreet.{key}: "
                f"{shown} shows '{word}', which tells whoever sees a discreet subscriber's "
                "screen what the email is about (hint: use neutral words, as in \"Notes · {{ "
                "issue.number }}\": not the newsletter's or the sender's name, nothing about "
                "what it covers, none of discreet.words)")
    assert expected in result.stdout.splitlines()
    assert len(re.findall(r": discreet\.\w+: ", result.stdout)) == 1
    # build's preflight and emit refuse it too, before writing anything.
    build = project.run("build")
    assert build.exit_code == 1 and f"discreet.{key}: {shown} shows '{word}'" in build.stderr
    project.write("list.csv", "email,discreet\nkim@example.org,yes\n")
    emitted = project.run("emit", "1", "--subscribers", str(project.root / "list.csv"))
    assert emitted.exit_code == 1 and f"discreet.{key}: {shown} shows" in emitted.stderr
    assert not project.out.exists()


def test_check_says_nothing_of_a_clean_or_missing_section(project):
    assert "discreet" not in project.run("check").stdout
    config = project.root / "newsletter.yaml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text[:text.index("discreet:\n")] + text[text.index("# The site promises"):],
                      encoding="utf-8")
    result = project.run("check")
    assert "discreet" not in result.stdout and result.exit_code == 0, result.stdout


def test_check_refuses_a_template_whose_title_is_still_the_subject(project):
    template = project.root / "templates" / "digest.mjml.j2"
    template.write_text(template.read_text(encoding="utf-8").replace(
        "<mj-title>{{ inbox.subject }}</mj-title>", "<mj-title>{{ issue.subject }}</mj-title>"),
        encoding="utf-8")
    result = project.run("check")
    assert result.exit_code == 1
    (line,) = [line for line in result.stdout.splitlines() if "discreet version" in line]
    assert line.startswith("error: templates/digest.mjml.j2: the discreet version's <title> is")
    assert "use {{ inbox.subject }} in <mj-title>" in line


def test_the_welcome_has_a_discreet_version(sample_project):
    with open_store(sample_project.root) as store, store.transaction():
        for address, discreet in (("ann@example.com", False), ("kim@example.org", True)):
            store.apply(kind="subscribe", address=address, name="", subject="Subscribe",
                        date=dt.datetime(2026, 11, 1, tzinfo=dt.UTC), message_id=None,
                        discreet=discreet)
    result = sample_project.run("welcome")
    assert result.exit_code == 0, result.stderr
    files = outbox(sample_project, "welcome")
    for path, theirs in zip(files, mailparser_many(files), strict=True):
        message = parse_eml(path)
        (address,) = recipients_of(message)
        if address == "kim@example.org":
            assert_discreet_message(message, theirs, subject="Welcome",
                                    body_title="Thank you for signing up.")
        else:
            assert message["Subject"] == "Welcome to the Mindshape newsletter"
            assert message["From"].addresses[0].display_name == "Mindshape"
            assert "discreet" not in parts(message)[0]
    other = sample_project.root / "b"
    bcc = sample_project.run("welcome", "--mode", "bcc", "--force", "--out", str(other))
    assert bcc.exit_code == 0, bcc.stderr
    names = sorted(p.name for p in (other / "welcome" / "outbox").glob("*.eml"))
    assert names == ["bcc-0001.eml", "bcc-0002-discreet.eml"]
    check = sample_project.run("check", "welcome")
    assert "discreet" not in check.stdout
    set_discreet(sample_project, welcome_subject="Welcome to Mindshape")
    check = sample_project.run("check", "welcome")
    assert check.exit_code == 1
    assert "discreet.welcome_subject: 'Welcome to Mindshape' shows 'Mindshape'" in check.stdout


def test_smtp_sends_each_subscriber_their_version(sample_project, fault_server, monkeypatch):
    monkeypatch.setenv("NEWSLETTER_SMTP_RETRY_WAIT", "0.01")
    use_server(sample_project, fault_server.host, fault_server.port, "none")
    result = emit(sample_project, "smtp")
    assert result.exit_code == 0, result.stderr
    assert fault_server.delivered() == {a: 1 for a in DISCREET + USUAL}
    folder = sample_project.root / "received"
    folder.mkdir()
    paths = []
    for n, transaction in enumerate(fault_server.accepted):
        paths.append(folder / f"{n}.eml")
        paths[-1].write_bytes(transaction.data)
    for path, theirs in zip(paths, mailparser_many(paths), strict=True):
        message = parse_eml(path)
        (address,) = recipients_of(message)
        if address in DISCREET:
            assert_discreet_message(message, theirs)
        else:
            assert_usual_message(message, theirs)


@pytest.mark.parametrize(("key", "value", "usual"), [
    ("subscribe_subject", "subscribe to  the MINDSHAPE newsletter", "signup.subscribe_subject"),
    ("switch_subject", "Unsubscribe from the Mindshape newsletter",
     "signup.unsubscribe_subject"),
])
def test_a_discreet_subject_equal_to_a_usual_one_is_refused(project, key, value, usual):
    # The import would read such a mail as the usual request: a discreet subscriber would get
    # the usual version, or a reader switching would be unsubscribed.
    lines = set_discreet(project, **{key: value})
    result = project.run("build")
    assert result.exit_code == 1
    start = lines.index("discreet:")
    line = start + line_of(lines[start:], key)
    assert (f"newsletter.yaml:{line}: discreet.{key}: is the same as {usual}: "
            "the import could not tell the two requests apart") in result.stderr
    assert not (project.root / "out").exists()


def test_a_discreet_body_holding_a_usual_one_is_refused(project):
    lines = set_discreet(project, switch_body='"Please remove me from the Mindshape newsletter. '
                                              'Or switch."')
    result = project.run("build")
    assert result.exit_code == 1
    assert (f"newsletter.yaml:{line_of(lines, 'switch_body')}: discreet.switch_body: holds "
            "signup.unsubscribe_body, or is held in it") in result.stderr

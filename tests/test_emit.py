"""`send.py emit`: drafts a mail app opens ready to send, to each subscriber exactly once."""

from __future__ import annotations

import csv
import re
from pathlib import Path
from urllib.parse import unquote

import pytest
from helpers import lf, mailparser_many, parse_eml, parts

from newsletter.emit.ledger import LEDGER_FILE

ISSUE_DIR = "002-parts-that-help"


def write_csv(path: Path, rows: list[tuple[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["email", "name"])
        writer.writerows(rows)
    return path


def many(n: int, domain: str = "example.org") -> list[tuple[str, str]]:
    return [(f"reader{i}@{domain}", f"Reader {i}") for i in range(n)]


def outbox(project) -> list[Path]:
    return sorted((project.out / ISSUE_DIR / "outbox").glob("*.eml"))


def emit(project, csv_path: Path, *args: str):
    return project.run("emit", "2", "--subscribers", str(csv_path), *args)


def recipients_of(messages: list[dict]) -> list[str]:
    return [ascii_address(a["address"]) for m in messages for field in ("to", "cc", "bcc")
            for a in m[field]]


def ascii_address(address: str) -> str:
    """mailparser shows IDN domains decoded (münchen.de); headers carry them as punycode."""
    local, domain = address.rsplit("@", 1)
    return f"{local}@{domain.encode('idna').decode('ascii')}"


HEADERS_EML = ["from", "to", "reply-to", "subject", "date", "message-id", "list-id",
               "list-unsubscribe", "x-unsent", "mime-version", "content-type"]


def test_one_draft_per_subscriber_to_them_with_their_own_unsubscribe(sample_project, tmp_path):
    rows = [("ann@example.com", "Ann O'Neil"), ("bob@example.com", "Bob")]
    result = emit(sample_project, write_csv(tmp_path / "s.csv", rows))
    assert result.exit_code == 0, result.stderr
    assert "Emitted issue 002-parts-that-help to 2 subscriber(s) (eml)" in result.stdout
    files = outbox(sample_project)
    assert len(files) == 2
    seen = {}
    for path in files:
        message = parse_eml(path)
        address = message["To"].addresses[0].addr_spec
        seen[address] = message["To"].addresses[0].display_name
        assert message["X-Unsent"] == "1"
        assert str(message["From"]) == "Mindshape <team@mindshape.io>"
        link = message["List-Unsubscribe"].strip("<>")
        assert link.startswith("mailto:team@mindshape.io?subject=Unsubscribe")
        assert unquote(link.split("body=", 1)[1]).endswith(address)
        text, html = parts(message)
        assert f"<{link}>" in text
        assert f'href="{link.replace("&", "&amp;")}"' in html
    assert seen == {"ann@example.com": "Ann O'Neil", "bob@example.com": "Bob"}


def test_every_draft_parses_cleanly_and_both_parsers_agree(sample_project, tmp_path):
    rows = [("zoe@münchen.de", "Zoë 日本 🌿"), ("sam@example.com", "Sam, \"the\" Reader"),
            ("plain@example.com", "")] + many(20)
    assert emit(sample_project, write_csv(tmp_path / "s.csv", rows)).exit_code == 0
    files = outbox(sample_project)
    theirs = mailparser_many(files)
    ids = set()
    for path, other in zip(files, theirs, strict=True):
        data = path.read_bytes()
        assert re.search(rb"(?<!\r)\n", data) is None and data.isascii()
        header, body = data.split(b"\r\n\r\n", 1)
        assert max(len(line) for line in header.split(b"\r\n")) <= 998
        assert max(len(line) for line in body.split(b"\r\n")) <= 76
        message = parse_eml(path)
        assert message.defects == [] and all(p.defects == [] for p in message.walk())
        text, html = parts(message)
        assert other["subject"] == message["Subject"] == "The parts of you that are trying to help"
        assert other["from"] == [{"name": "Mindshape", "address": "team@mindshape.io"}]
        assert recipients_of([other]) == [message["To"].addresses[0].addr_spec]
        assert other["to"][0]["name"] == message["To"].addresses[0].display_name
        assert other["cc"] == [] and other["bcc"] == []
        assert other["headerNames"] == HEADERS_EML
        assert lf(other["text"]).rstrip("\n") == text.rstrip("\n")
        assert lf(other["html"]).rstrip("\n") == html.rstrip("\n")
        assert "988 (US/CA)" in text and "Educational, not diagnostic." in text
        assert re.fullmatch(r"<[0-9a-f]{32}@mindshape\.io>", message["Message-ID"])
        ids.add(message["Message-ID"])
    assert len(ids) == len(files)
    names = {ascii_address(m["to"][0]["address"]): m["to"][0]["name"] for m in theirs}
    assert names["zoe@xn--mnchen-3ya.de"] == "Zoë 日本 🌿"
    assert names["sam@example.com"] == 'Sam, "the" Reader'


HOSTILE_NAMES = [
    "Eve\r\nBcc: mallory@evil.example",
    "Eve\nCc: mallory@evil.example",
    "Eve\u2028Bcc: mallory@evil.example",
    "=?utf-8?q?Eve=0D=0ABcc:_mallory@evil.example?=",
    "=?utf-8?b?RXZlDQpCY2M6IG1hbGxvcnlAZXZpbC5leGFtcGxl?=",
    "Eve %0D%0ABcc: mallory@evil.example",
    "w" * 1000,
    "\u202eevil.example\u202c <mallory@evil.example>",
    "مرحبا بالعالم",
    "😀" * 40,
    'Eve" <mallory@evil.example>, "x',
    "Eve, mallory@evil.example",
]


def test_hostile_names_never_add_a_header_or_a_recipient(sample_project, tmp_path):
    rows = [(f"target{i}@example.com", name) for i, name in enumerate(HOSTILE_NAMES)]
    assert emit(sample_project, write_csv(tmp_path / "s.csv", rows)).exit_code == 0
    files = outbox(sample_project)
    assert len(files) == len(HOSTILE_NAMES)
    theirs = mailparser_many(files)
    for path, other in zip(files, theirs, strict=True):
        message = parse_eml(path)
        assert [name.lower() for name in message] == HEADERS_EML
        assert other["headerNames"] == HEADERS_EML
        ours = [a.addr_spec for field in ("To", "Cc", "Bcc") if message[field]
                for a in message[field].addresses]
        assert ours == recipients_of([other])
        assert len(ours) == 1 and ours[0].startswith("target")
        assert "evil.example" not in " ".join(ours)
        assert message.defects == []


def test_rtl_and_control_characters_are_dropped_from_display_names(sample_project, tmp_path):
    rows = [("a@example.com", "\u202eevil\u202c Name"), ("b@example.com", "Two\r\nLines")]
    emit(sample_project, write_csv(tmp_path / "s.csv", rows))
    names = sorted(m["to"][0]["name"] for m in mailparser_many(outbox(sample_project)))
    assert names == ["Two Lines", "evil Name"]


def test_invalid_and_duplicate_addresses_are_reported_and_skipped(sample_project, tmp_path):
    rows = [("ann@example.com", "Ann"), ("ANN@Example.com", "Ann again"), ("nope", "x"),
            ("", "no address"), ("bob@example.com", "Bob")]
    result = emit(sample_project, write_csv(tmp_path / "s.csv", rows))
    assert result.exit_code == 0
    assert len(outbox(sample_project)) == 2
    skipped = [line for line in result.stderr.splitlines() if line.startswith("Skipped: ")]
    assert len(skipped) == 3
    assert re.search(r"s\.csv:3: email: ANN@example\.com is listed twice", skipped[0])
    assert re.search(r"s\.csv:4: email: 'nope' is not a valid address", skipped[1])
    assert re.search(r"s\.csv:5: email: is empty", skipped[2])
    assert "3 row(s) skipped, listed above." in result.stdout


def test_a_list_where_nothing_can_be_emitted_fails(sample_project, tmp_path):
    result = emit(sample_project, write_csv(tmp_path / "s.csv", [("nope", "x"), ("a@b", "y")]))
    assert result.exit_code == 1
    assert result.errors[-1].startswith("Error: nothing emitted: all 2 row(s)")
    assert outbox(sample_project) == []


def test_a_list_without_an_email_column_is_one_error(sample_project, tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("mail,name\na@example.com,A\n", encoding="utf-8")
    result = emit(sample_project, path)
    assert result.exit_code == 1
    assert re.fullmatch(r"Error: .*s\.csv:1: no 'email' column \(found mail, name\) "
                        r"\(hint: .*\)", result.errors[0])


def test_emitting_again_needs_force(sample_project, tmp_path):
    csv_path = write_csv(tmp_path / "s.csv", many(3))
    assert emit(sample_project, csv_path).exit_code == 0
    first = {p.name: p.read_bytes() for p in outbox(sample_project)}
    again = emit(sample_project, csv_path)
    assert again.exit_code == 0
    assert "to 0 subscriber(s)" in again.stdout
    assert "3 subscriber(s) already had this issue" in again.stdout
    assert {p.name: p.read_bytes() for p in outbox(sample_project)} == first
    forced = emit(sample_project, csv_path, "--force")
    assert forced.exit_code == 0 and "to 3 subscriber(s)" in forced.stdout
    moved = list((sample_project.out / ISSUE_DIR).glob("replaced-*"))
    assert len(moved) == 1 and sorted(p.name for p in moved[0].iterdir()) == sorted(first)
    assert len(outbox(sample_project)) == 3


def test_a_new_subscriber_gets_the_issue_on_the_next_run(sample_project, tmp_path):
    assert emit(sample_project, write_csv(tmp_path / "a.csv", many(2))).exit_code == 0
    result = emit(sample_project, write_csv(tmp_path / "b.csv", many(3)))
    assert "to 1 subscriber(s)" in result.stdout
    assert len(outbox(sample_project)) == 3


@pytest.mark.parametrize(("count", "size"), [(7, 3), (50, 50), (51, 50), (1, 50)])
def test_bcc_drafts_hold_at_most_n_and_never_expose_a_subscriber(sample_project, tmp_path,
                                                                  count, size):
    csv_path = write_csv(tmp_path / "s.csv", many(count))
    result = emit(sample_project, csv_path, "--mode", "bcc", "--batch-size", str(size))
    assert result.exit_code == 0, result.stderr
    files = outbox(sample_project)
    assert len(files) == -(-count // size)
    assert [p.name for p in files] == [f"bcc-{n:04d}.eml" for n in range(1, len(files) + 1)]
    theirs = mailparser_many(files)
    everyone = []
    for path, other in zip(files, theirs, strict=True):
        message = parse_eml(path)
        assert [a.addr_spec for a in message["To"].addresses] == ["team@mindshape.io"]
        assert message["Cc"] is None and other["cc"] == []
        assert [a["address"] for a in other["to"]] == ["team@mindshape.io"]
        bcc = [a.addr_spec for a in message["Bcc"].addresses]
        assert bcc == [a["address"] for a in other["bcc"]]
        assert 1 <= len(bcc) <= size
        assert message["X-Unsent"] == "1"
        everyone += bcc
        # The shared draft carries the general unsubscribe link, naming nobody.
        assert "reader" not in message["List-Unsubscribe"]
    assert sorted(everyone) == sorted(address for address, _ in many(count))


def test_unknown_mode_and_bad_batch_size_are_refused_by_the_cli(sample_project, tmp_path):
    csv_path = write_csv(tmp_path / "s.csv", many(1))
    # A bad value is one Error: line and exit 1 (commands/base.py), not click's usage text.
    for bad in (("--mode", "fax"), ("--batch-size", "0")):
        result = emit(sample_project, csv_path, *bad)
        assert result.exit_code == 1 and len(result.errors) == 1, result.stderr
        assert result.errors[0].startswith(f"Error: {bad[0]}: ")
    assert not (sample_project.out / ISSUE_DIR / "outbox").exists()


def test_without_a_list_or_a_store_the_hint_says_what_to_do(sample_project):
    result = sample_project.run("emit", "2")
    assert result.exit_code == 1
    assert len(result.errors) == 1
    assert re.fullmatch(r"Error: there is no subscriber store yet \(.*\.subscribers/\) \(hint: "
                        r"import the signup mailbox first \(send\.py subscribers import SOURCE\), "
                        r"or pass --subscribers FILE\.csv\)", result.errors[0])
    assert not (sample_project.root / ".subscribers").exists()


def test_the_ledger_records_who_got_what(sample_project, tmp_path):
    import sqlite3

    emit(sample_project, write_csv(tmp_path / "s.csv", many(3)))
    db = sqlite3.connect(sample_project.out / ISSUE_DIR / LEDGER_FILE)
    rows = db.execute("SELECT address, mode, file, state FROM emitted ORDER BY address").fetchall()
    assert [r[0] for r in rows] == [f"reader{i}@example.org" for i in range(3)]
    assert {r[1] for r in rows} == {"eml"} and {r[3] for r in rows} == {"done"}
    for _, _, file, _ in rows:
        assert (sample_project.out / ISSUE_DIR / file).exists()


def test_mailto_mode_writes_the_links_and_the_page(sample_project, tmp_path):
    result = emit(sample_project, write_csv(tmp_path / "s.csv", many(10)), "--mode", "mailto")
    assert result.exit_code == 0, result.stderr
    folder = sample_project.out / ISSUE_DIR
    links = (folder / "mailto.txt").read_text(encoding="utf-8").splitlines()
    assert links and all(len(link) <= 2000 for link in links)
    bcc_lists = [unquote(link.split("bcc=")[1].split("&")[0]) for link in links]
    everyone = [address for bcc in bcc_lists for address in bcc.split(",")]
    assert sorted(everyone) == sorted(address for address, _ in many(10))
    assert (folder / "mailto.html").exists()
    assert "short body" in result.stdout
    assert f"{len(links)} link(s): open mailto.html and click them in order" in result.stdout


def test_mailto_run_for_new_subscribers_keeps_the_earlier_links(sample_project, tmp_path):
    emit(sample_project, write_csv(tmp_path / "a.csv", many(2)), "--mode", "mailto")
    first = (sample_project.out / ISSUE_DIR / "mailto.txt").read_text(encoding="utf-8")
    again = emit(sample_project, write_csv(tmp_path / "a.csv", many(2)), "--mode", "mailto")
    assert "to 0 subscriber(s)" in again.stdout
    assert (sample_project.out / ISSUE_DIR / "mailto.txt").read_text(encoding="utf-8") == first
    emit(sample_project, write_csv(tmp_path / "b.csv", many(3)), "--mode", "mailto")
    kept = list((sample_project.out / ISSUE_DIR).glob("mailto-until-*.txt"))
    assert len(kept) == 1 and kept[0].read_text(encoding="utf-8") == first
    newest = (sample_project.out / ISSUE_DIR / "mailto.txt").read_text(encoding="utf-8")
    assert "reader2%40example.org" in newest or "reader2@example.org" in newest
    assert "reader0@example.org" not in newest


def test_signup_prints_the_box_and_the_unsubscribe_link_from_the_config(project):
    result = project.run("signup")
    assert result.exit_code == 0
    assert ('href="mailto:team@mindshape.io?subject=Subscribe%20to%20the%20Mindshape%20'
            'newsletter&amp;body=Please%20add%20me%20to%20the%20Mindshape%20newsletter."'
            in result.stdout)
    # A line of its own (the discreet links follow it when newsletter.yaml has discreet:).
    assert ("mailto:team@mindshape.io?subject=Unsubscribe%20from%20the%20Mindshape%20newsletter"
            "&body=Please%20remove%20me%20from%20the%20Mindshape%20newsletter."
            in result.stdout.splitlines())


def all_recipients(project) -> list[str]:
    """Everyone in every draft of the issue folder, outbox and moved-aside folders alike."""
    found = []
    for path in sorted((project.out / ISSUE_DIR).rglob("*.eml")):
        message = parse_eml(path)
        for field in ("To", "Bcc"):
            if message[field]:
                found += [a.addr_spec for a in message[field].addresses
                          if a.addr_spec != "team@mindshape.io"]
    return found


def test_force_with_part_of_the_list_redoes_only_that_part(sample_project, tmp_path):
    everyone = write_csv(tmp_path / "all.csv", many(5))
    assert emit(sample_project, everyone).exit_code == 0
    one = write_csv(tmp_path / "one.csv", many(1))
    forced = emit(sample_project, one, "--force")
    assert "to 1 subscriber(s)" in forced.stdout
    again = emit(sample_project, everyone)
    assert "to 0 subscriber(s)" in again.stdout
    outbox_recipients = [parse_eml(p)["To"].addresses[0].addr_spec for p in outbox(sample_project)]
    assert sorted(outbox_recipients) == sorted(a for a, _ in many(5))


def test_force_twice_in_the_same_second_keeps_every_earlier_draft(sample_project, tmp_path):
    csv_path = write_csv(tmp_path / "s.csv", many(2))
    for _ in range(3):
        assert emit(sample_project, csv_path, "--force").exit_code == 0
    assert len(all_recipients(sample_project)) == 6  # 2 in outbox, 4 moved aside
    assert len(outbox(sample_project)) == 2


def test_quick_mailto_runs_keep_every_link(sample_project, tmp_path):
    for count in (1, 2, 3):
        emit(sample_project, write_csv(tmp_path / f"{count}.csv", many(count)), "--mode", "mailto")
    folder = sample_project.out / ISSUE_DIR
    links = [line for path in folder.glob("mailto*.txt")
             for line in path.read_text(encoding="utf-8").splitlines()]
    bcc = [unquote(link.split("bcc=")[1].split("&")[0]) for link in links]
    assert sorted(bcc) == ["reader0@example.org", "reader1@example.org", "reader2@example.org"]
    assert len(list(folder.glob("mailto*.html"))) == 3


def test_a_changed_issue_is_not_emitted_to_the_rest_of_the_list(sample_project, tmp_path):
    emit(sample_project, write_csv(tmp_path / "a.csv", many(1)))
    issue = sample_project.root / "digests" / "002-parts-that-help.yaml"
    issue.write_text(issue.read_text(encoding="utf-8").replace(
        "The parts of you that are trying to help", "A new subject"), encoding="utf-8")
    result = emit(sample_project, write_csv(tmp_path / "b.csv", many(2)))
    assert result.exit_code == 1
    assert result.errors == ["Error: the issue changed since it was emitted to 1 subscriber(s) "
                             "(hint: undo the change, or run with --force to emit the new "
                             "version to everyone)"]
    assert emit(sample_project, write_csv(tmp_path / "b.csv", many(2)), "--force").exit_code == 0
    assert {parse_eml(p)["Subject"] for p in outbox(sample_project)} == {"A new subject"}


def test_addresses_that_look_like_encoded_words_are_refused(sample_project, tmp_path):
    rows = [("=?utf-8?q?evil=40evil.example?=@example.com", "x"), ("ok@example.com", "Ok")]
    result = emit(sample_project, write_csv(tmp_path / "s.csv", rows))
    assert result.exit_code == 0
    assert "looks like an encoded mail header word" in result.stderr
    assert all_recipients(sample_project) == ["ok@example.com"]


def test_a_long_address_fits_its_unsubscribe_link(sample_project, tmp_path):
    address = "a" * 64 + "@" + ".".join(["b" * 59] * 3) + ".example"  # 252 characters
    result = emit(sample_project, write_csv(tmp_path / "s.csv", [(address, "Long")]))
    assert result.exit_code == 0, result.stderr
    [draft] = outbox(sample_project)
    assert parse_eml(draft)["List-Unsubscribe"].endswith(address + ">")


def test_hostile_names_are_cleaned_and_the_row_is_named(sample_project, tmp_path):
    result = emit(sample_project, write_csv(tmp_path / "s.csv", [("a@example.com", "A\r\nBcc: b")]))
    assert result.exit_code == 0
    assert re.search(r"Cleaned: .*s\.csv:2: name: had line breaks, control or direction "
                     r"characters; written as 'A Bcc: b'", result.stderr)


def test_nothing_emitted_lists_every_refused_row(sample_project, tmp_path):
    result = emit(sample_project, write_csv(tmp_path / "s.csv", [("nope", "x"), ("a@b", "y")]))
    assert result.exit_code == 1
    assert len(result.errors) == 3
    assert re.search(r"s\.csv:2: email: 'nope' is not a valid address", result.errors[0])
    assert re.search(r"s\.csv:3: email: 'a@b' is not a valid address", result.errors[1])


def test_an_empty_list_is_an_error(sample_project, tmp_path):
    result = emit(sample_project, write_csv(tmp_path / "s.csv", []))
    assert result.exit_code == 1
    assert result.errors[-1].startswith("Error: nothing emitted: ")
    assert "has no subscribers" in result.errors[-1]


LONG_NAMES = ["Zoë Müller-Montagne-Fitzgerald Jr the Third of Somewhere Very Long Indeed",
              "山田 太郎 " * 6, "Ünïcödé " * 12, "😀" * 40]


def test_long_non_ascii_names_read_the_same_in_both_parsers(sample_project, tmp_path):
    rows = [(f"n{i}@example.com", name.strip()) for i, name in enumerate(LONG_NAMES)]
    emit(sample_project, write_csv(tmp_path / "s.csv", rows))
    files = outbox(sample_project)
    theirs = {m["to"][0]["address"]: m["to"][0]["name"] for m in mailparser_many(files)}
    for address, name in rows:
        assert theirs[address] == name
    for path in files:
        header = path.read_bytes().split(b"\r\n\r\n", 1)[0]
        assert max(len(line) for line in header.split(b"\r\n")
                   if not line.startswith(b"List-Unsubscribe")) <= 78
        ours = parse_eml(path)["To"].addresses[0]
        # Python puts a space between adjacent encoded words; compare the words.
        expected = dict(rows)[ours.addr_spec]
        assert ours.display_name.split() == expected.split() or "😀" in expected


def test_the_editor_is_told_to_publish_the_issues_web_page_until_it_is_built(sample_project,
                                                                              tmp_path):
    """Every email links to its web page: a reader must not land on a missing page."""
    csv_path = write_csv(tmp_path / "s.csv", [("ann@example.com", "Ann")])
    result = emit(sample_project, csv_path)
    assert result.exit_code == 0, result.stderr
    url = "https://mindshape.io/newsletter/002-parts-that-help/"
    html, text = parts(parse_eml(outbox(sample_project)[0]))
    assert url in text and url in html
    assert (f"The email links to its web page, {url}: publish it before sending "
            "(`send.py archive` on or after 2026-11-17, then upload site/).") in result.stdout
    assert sample_project.run("archive", "--today", "2026-11-28").exit_code == 0
    again = emit(sample_project, csv_path, "--force")
    assert again.exit_code == 0, again.stderr
    assert "publish it" not in again.stdout

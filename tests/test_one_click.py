"""unsubscribe.one_click_url: RFC 8058's two headers in every message to one subscriber, read
by Python's email package and Node's mailparser; the bulk-sender warnings of `emit --mode
smtp` and `check` at 5,001 subscribers and not at 5,000."""

from __future__ import annotations

import datetime as dt
import json
import subprocess

import pytest
from helpers import JS_DIR, mailparser, parse_eml
from smtp_emit import (
    header,
    readers,
    short_smtp_waits,  # noqa: F401  (autouse: retries wait 10 ms)
    use_server,
    write_list,
)
from smtp_faults import fault_server_fixture, make_fault_server_fixture, smtp_test_ca_fixture

import newsletter.checks.bulk_sender  # noqa: F401  registers the rule (checks/run.py names it soon)
from newsletter.subscribers.store import open_store

__all__ = ["fault_server_fixture", "make_fault_server_fixture", "smtp_test_ca_fixture"]

ENDPOINT = "https://mindshape.io/api/unsubscribe"
MAILTO_START = "<mailto:team@mindshape.io?subject=Unsubscribe%20from%20the%20Mindshape%20"



def one_click(project, url: str = ENDPOINT) -> None:
    config = project.root / "newsletter.yaml"
    config.write_text(config.read_text("utf-8") + f"unsubscribe:\n  one_click_url: {url}\n",
                      encoding="utf-8")


def drafts(project):
    return sorted((project.out / "002-parts-that-help" / "outbox").glob("*.eml"))


def node_headers(paths) -> list[dict]:
    """The List-* headers as mailparser reads them into its own map: {"unsubscribe": {"url",
    "mail"}, "unsubscribe-post": {"name"}}."""
    script = (
        "import { createRequire } from 'node:module'; import { readFile } from 'node:fs/promises';"
        f"const require = createRequire({json.dumps(str(JS_DIR / 'x.js'))});"
        "const { simpleParser } = require('mailparser'); const out = [];"
        "for (const p of process.argv.slice(1)) { const m = await simpleParser(await readFile(p));"
        " out.push(m.headers.get('list') ?? null); }"
        "process.stdout.write(JSON.stringify(out));")
    done = subprocess.run(["node", "--input-type=module", "-e", script, *map(str, paths)],
                          capture_output=True, text=True, timeout=60, check=True)
    return json.loads(done.stdout)


def test_without_the_setting_there_is_only_the_mailto_link(sample_project, tmp_path):
    listed = write_list(tmp_path / "list.csv", ["ann@example.org"])
    assert sample_project.run("emit", "2", "--subscribers", str(listed)).exit_code == 0
    [path] = drafts(sample_project)
    message = parse_eml(path)
    assert message["List-Unsubscribe"].startswith(MAILTO_START)
    assert "https" not in message["List-Unsubscribe"]
    assert message["List-Unsubscribe-Post"] is None
    assert b"List-Unsubscribe-Post" not in path.read_bytes()


def test_eml_drafts_carry_both_headers_with_the_address_percent_encoded(sample_project,
                                                                        tmp_path):
    one_click(sample_project)
    address = "ann+news@example.org"
    listed = write_list(tmp_path / "list.csv", [address])
    result = sample_project.run("emit", "2", "--subscribers", str(listed))
    assert result.exit_code == 0, result.stderr
    [path] = drafts(sample_project)
    data = path.read_bytes()
    https = f"{ENDPOINT}?email=ann%2Bnews%40example.org"
    # Folded once, after the comma, and nowhere else: the bytes a DKIM signature covers.
    assert f"\r\nList-Unsubscribe: <{https}>,\r\n <mailto:".encode() in data
    assert b"\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n" in data
    message = parse_eml(path)
    assert len(message.get_all("List-Unsubscribe")) == 1
    assert message["List-Unsubscribe"].startswith(f"<{https}>, {MAILTO_START}")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert len(message.get_all("List-Unsubscribe-Post")) == 1
    node = mailparser(path)
    assert node["listUnsubscribe"].startswith(f"<{https}>, {MAILTO_START}")
    assert node["headerNames"].count("list-unsubscribe-post") == 1
    [read] = node_headers([path])
    assert read["unsubscribe-post"] == {"name": "List-Unsubscribe=One-Click"}
    assert read["unsubscribe"]["url"] == https
    assert read["unsubscribe"]["mail"].startswith("team@mindshape.io?subject=Unsubscribe")
    assert max(len(line) for line in data.split(b"\r\n")[:20]) <= 998


def test_an_endpoint_with_a_query_gets_the_address_after_an_ampersand(sample_project,
                                                                      tmp_path):
    one_click(sample_project, f"{ENDPOINT}?list=mindshape")
    listed = write_list(tmp_path / "list.csv", ["ann@example.org"])
    assert sample_project.run("emit", "2", "--subscribers", str(listed)).exit_code == 0
    [path] = drafts(sample_project)
    assert parse_eml(path)["List-Unsubscribe"].startswith(
        f"<{ENDPOINT}?list=mindshape&email=ann%40example.org>, {MAILTO_START}")


def test_bcc_drafts_offer_no_one_click_url_that_names_nobody(sample_project, tmp_path):
    one_click(sample_project)
    listed = write_list(tmp_path / "list.csv", readers(3))
    assert sample_project.run("emit", "2", "--mode", "bcc", "--subscribers",
                              str(listed)).exit_code == 0
    [path] = drafts(sample_project)
    message = parse_eml(path)
    assert message["List-Unsubscribe"].startswith(MAILTO_START)
    assert message["List-Unsubscribe-Post"] is None


def test_smtp_messages_carry_both_headers(sample_project, fault_server, tmp_path):
    one_click(sample_project)
    use_server(sample_project, fault_server.host, fault_server.port, "none")
    listed = write_list(tmp_path / "list.csv", readers(2))
    result = sample_project.run("emit", "2", "--mode", "smtp", "--subscribers", str(listed))
    assert result.exit_code == 0, result.stderr
    assert "Warning" not in result.stdout
    for sent in fault_server.accepted:
        encoded = sent.rcpt_tos[0].replace("@", "%40")
        assert header(sent.data, "List-Unsubscribe").startswith(
            f"<{ENDPOINT}?email={encoded}>,\r\n <mailto:")
        assert header(sent.data, "List-Unsubscribe-Post") == "List-Unsubscribe=One-Click"


@pytest.mark.parametrize("url, message", [
    ("http://mindshape.io/u", "must be an absolute https:// address"),
    (f"{ENDPOINT}#top", "has a fragment (#top)"),
    (f"{ENDPOINT}?a=1,2", "contains a comma"),
    ("https://mindshape.io/" + "u" * 200, "is 221 characters, over 200"),
])
def test_a_bad_endpoint_is_refused_with_its_line(project, url, message):
    one_click(project, url)
    result = project.run("build")
    assert result.exit_code == 1
    assert any("newsletter.yaml:" in line and "unsubscribe.one_click_url" in line
               and message in line for line in result.errors), result.errors


def smtp_run(project, fault_server, tmp_path, count: int):
    """A run over `count` subscribers that sends one (per_day: 1) and leaves the rest."""
    use_server(project, fault_server.host, fault_server.port, "none", per_day=1)
    listed = write_list(tmp_path / "list.csv", readers(count))
    result = project.run("emit", "2", "--mode", "smtp", "--subscribers", str(listed))
    assert result.exit_code == 0, result.stderr
    return result


BULK = ("Warning: the list has 5,001 subscribers, over the 5,000 a day at which Gmail treats a "
        "sender as a bulk sender, which must offer one-click unsubscribe (RFC 8058); "
        "newsletter.yaml sets no unsubscribe.one_click_url, so the messages offer only the "
        "mailto: link (hint: run an https endpoint")


def test_emit_smtp_warns_over_5000_subscribers_without_an_endpoint(sample_project,
                                                                    fault_server, tmp_path):
    result = smtp_run(sample_project, fault_server, tmp_path, 5001)
    assert len(fault_server.accepted) == 1
    assert any(line.startswith(BULK) for line in result.stdout.splitlines()), result.stdout


def test_emit_smtp_says_nothing_at_5000(sample_project, fault_server, tmp_path):
    result = smtp_run(sample_project, fault_server, tmp_path, 5000)
    assert "bulk sender" not in result.stdout


def test_emit_smtp_says_nothing_over_5000_with_an_endpoint(sample_project, fault_server,
                                                            tmp_path):
    one_click(sample_project)
    result = smtp_run(sample_project, fault_server, tmp_path, 5001)
    assert "bulk sender" not in result.stdout


def fill_store(project, subscribed: int, unsubscribed: int = 0) -> None:
    with open_store(project.root) as store, store.transaction():
        for n in range(subscribed + unsubscribed):
            address = f"reader{n:05d}@example.org"
            store.apply(kind="subscribe", address=address, name="", subject="Subscribe",
                        date=dt.datetime(2026, 11, 1, tzinfo=dt.UTC), message_id=None)
            if n >= subscribed:
                store.apply(kind="unsubscribe", address=address, name="", subject="Leave",
                            date=dt.datetime(2026, 11, 2, tzinfo=dt.UTC), message_id=None)


def bulk_findings(project) -> list[str]:
    result = project.run("check", "2")
    return [line for line in result.stdout.splitlines() if "bulk sender" in line]


def test_check_warns_over_5000_subscribed_in_the_store(sample_project):
    assert bulk_findings(sample_project) == []  # no store yet
    fill_store(sample_project, 5001)
    [line] = bulk_findings(sample_project)
    assert line.startswith("warning: newsletter.yaml: the list has 5,001 subscribers, over the "
                           "5,000 a day at which Gmail treats a sender as a bulk sender")
    one_click(sample_project)
    assert bulk_findings(sample_project) == []


def test_check_counts_only_subscribed_and_not_at_5000(sample_project):
    fill_store(sample_project, 5000, unsubscribed=3)
    assert bulk_findings(sample_project) == []

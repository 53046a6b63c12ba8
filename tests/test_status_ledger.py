"""`status`, `new` and `subscribers show` read what went out from ledgers made by real runs
(eml drafts, and SMTP through the fault server), with the suite's fixed clock."""

from __future__ import annotations

import datetime as dt
import re

from conftest import chunk_file
from smtp_emit import (
    ISSUE_DIR,
    readers,
    short_smtp_waits,  # noqa: F401  (autouse: retries wait 10 ms)
    states,
    use_server,
    write_list,
)
from smtp_faults import (
    FaultPlan,
    fault_server_fixture,
    make_fault_server_fixture,
    smtp_test_ca_fixture,
)

from newsletter.subscribers.store import open_store

__all__ = ["fault_server_fixture", "make_fault_server_fixture", "smtp_test_ca_fixture"]



def lines_after(stdout: str, start: str) -> list[str]:
    lines = stdout.splitlines()
    index = next(n for n, line in enumerate(lines) if line.startswith(start))
    return lines[index:]


def test_before_anything_is_emitted_the_cadence_counts_from_the_issues_date(sample_project):
    result = sample_project.run("status")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == ("Last issue: 2 (002-parts-that-help), dated 2026-11-17, 28 day(s) ago.")
    assert lines[1] == "Next issue: due now: from 2026-12-01 to 2026-12-15."
    assert lines[2] == ("The cadence is counted from issue 2's date (2026-11-17): no issue has "
                        "been sent or emitted in full yet.")
    assert lines[3] == ("Issue 2: nothing emitted yet (no ledger in "
                        f"{sample_project.out / ISSUE_DIR}/).")
    assert not (sample_project.out / ISSUE_DIR).exists()  # status created nothing


def test_drafts_emitted_in_full_move_the_cadence_to_the_day_they_were_made(sample_project,
                                                                          tmp_path, clock):
    listed = write_list(tmp_path / "list.csv", readers(3))
    assert sample_project.run("emit", "2", "--subscribers", str(listed)).exit_code == 0
    clock.set(dt.datetime(2026, 12, 20, 9, 0, tzinfo=dt.UTC))
    result = sample_project.run("status")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[1] == "Next issue: too early: the next issue is due from 2026-12-29 to 2027-01-12."
    assert lines[2] == ("The cadence is counted from issue 2, emitted in full on 2026-12-15.")
    assert lines[3:5] == [
        f"Issue 2, from its ledger ({sample_project.out / ISSUE_DIR / 'ledger.sqlite3'}):",
        "  eml: 3 emitted, 0 still pending"]
    # `new` counts from the same day: 2026-12-20 is too soon after 2026-12-15.
    refused = sample_project.run("new", "--date", "2026-12-20")
    assert refused.exit_code == 1
    assert refused.errors[0].startswith(
        "Error: 2026-12-20 is 5 day(s) after issue 2 was emitted in full (2026-12-15); the "
        "site promises at least 14 days between issues (hint: the next issue is due from "
        "2026-12-29 to 2027-01-12")


def test_an_issue_written_but_not_out_is_due_from_the_last_one_that_went_out(sample_project,
                                                                             tmp_path, clock):
    """Issue 3 is written; the window still counts from issue 2's emission, and a second
    `new` counts from issue 3's date, since issue 3 is the one the next comes after."""
    listed = write_list(tmp_path / "list.csv", readers(2))
    assert sample_project.run("emit", "2", "--subscribers", str(listed)).exit_code == 0
    sample_project.write("content/zz-new.md", _chunk("zz-new", "2026-12-30"))
    sample_project.write("content/zz-newer.md", _chunk("zz-newer", "2027-01-01"))
    clock.set(dt.datetime(2027, 1, 2, 9, 0, tzinfo=dt.UTC))
    assert sample_project.run("new", "--date", "2026-12-30").exit_code == 0
    lines = sample_project.run("status").stdout.splitlines()
    assert lines[0].startswith("Last issue: 3 (003-")
    assert lines[1] == "Next issue: due now: from 2026-12-29 to 2027-01-12."
    assert lines[2] == "The cadence is counted from issue 2, emitted in full on 2026-12-15."
    assert re.fullmatch(r"Issue 3: nothing emitted yet \(no ledger in .*/out/003-[a-z-]+/\)\.",
                        lines[3])
    again = sample_project.run("new", "--date", "2027-01-02", "--force")
    assert again.exit_code == 0  # forced: 3 day(s) after issue 3's date
    too_soon = sample_project.run("new", "--date", "2027-01-05")
    assert too_soon.errors[0].startswith("Error: 2027-01-05 is 3 day(s) after issue 4 "
                                         "(2027-01-02)")


def _chunk(chunk_id: str, date: str) -> str:
    return chunk_file(chunk_id).replace("date: 2026-11-01", f"date: {date}")


def test_smtp_sent_failed_uncertain_and_pending_by_mode_and_the_cadence_from_the_send(
        sample_project, fault_server, tmp_path, clock):
    addresses = readers(5)
    use_server(sample_project, fault_server.host, fault_server.port, "none", per_day=4)
    fault_server.plan = FaultPlan(rcpt_replies={addresses[1]: "550 5.1.1 No such user here"},
                                  drop_after_dot={2})
    listed = write_list(tmp_path / "list.csv", addresses)
    sent = sample_project.run("emit", "2", "--mode", "smtp", "--subscribers", str(listed))
    assert sent.exit_code == 0, sent.stderr
    got = states(sample_project)
    assert got == {addresses[0]: "sent", addresses[1]: "failed", addresses[2]: "sending",
                   addresses[3]: "sent", addresses[4]: "pending"}, got
    clock.set(dt.datetime(2026, 12, 16, 8, 0, tzinfo=dt.UTC))
    result = sample_project.run("status")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "Last issue: 2 (002-parts-that-help), dated 2026-11-17, 29 day(s) ago."
    assert lines[1] == "Next issue: too early: the next issue is due from 2026-12-29 to 2027-01-12."
    assert lines[2] == "The cadence is counted from issue 2, sent on 2026-12-15."
    assert lines[3:8] == [
        f"Issue 2, from its ledger ({sample_project.out / ISSUE_DIR / 'ledger.sqlite3'}):",
        "  smtp: 2 sent, 1 failed, 1 uncertain, 1 still pending",
        f"  failed: {addresses[1]}: 550 5.1.1 No such user here",
        f"  uncertain: {addresses[2]}, sent at 2026-12-15T12:00:00+00:00 (emit --mode smtp "
        "--resend-uncertain sends it again)",
        "  Pending ones go out when the same emit command is run again."]


def test_a_run_that_sent_nothing_leaves_the_cadence_on_the_issues_date(sample_project,
                                                                       fault_server, tmp_path):
    use_server(sample_project, fault_server.host, fault_server.port, "none")
    fault_server.plan = FaultPlan(greeting="421 4.3.2 Service not available")
    listed = write_list(tmp_path / "list.csv", readers(2))
    assert sample_project.run("emit", "2", "--mode", "smtp", "--subscribers",
                              str(listed)).exit_code == 0
    lines = sample_project.run("status").stdout.splitlines()
    assert lines[1] == "Next issue: due now: from 2026-12-01 to 2026-12-15."
    assert lines[2].startswith("The cadence is counted from issue 2's date (2026-11-17)")
    assert lines[4] == "  smtp: 0 sent, 0 failed, 0 uncertain, 2 still pending"


def test_subscribers_show_names_a_failed_delivery_with_the_servers_reason(sample_project,
                                                                          fault_server):
    with open_store(sample_project.root) as store, store.transaction():
        for address in ("ann@example.org", "bob@example.org"):
            store.apply(kind="subscribe", address=address, name="", subject="Subscribe",
                        date=dt.datetime(2026, 11, 1, tzinfo=dt.UTC), message_id=None)
    use_server(sample_project, fault_server.host, fault_server.port, "none")
    fault_server.plan = FaultPlan(rcpt_replies={"bob@example.org": "550 5.1.1 Mailbox gone"})
    assert sample_project.run("emit", "2", "--mode", "smtp").exit_code == 0
    shown = sample_project.run("subscribers", "show", "BOB@example.org")
    assert shown.exit_code == 0, shown.stderr
    assert shown.stdout.splitlines()[-1] == (
        "delivery failed: issue 002-parts-that-help: the server answered 550 5.1.1 "
        "Mailbox gone (emit --mode smtp --force tries again)")
    fine = sample_project.run("subscribers", "show", "ann@example.org").stdout
    assert "delivery failed" not in fine

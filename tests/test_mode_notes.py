"""The draft and link modes say what mail apps do to them, and that --mode smtp does not."""

from __future__ import annotations

import pytest
from smtp_emit import readers, write_list

from newsletter.emit.drafts import MAIL_APPS_NOTE

NOTE = ("Mail apps change a draft when they send it: Thunderbird drops List-Unsubscribe and "
        "List-Id, replaces the text part with its own and strips the dark-mode and phone "
        "styles; Mutt sends the text part only; Claws Mail re-wraps the text and attaches the "
        "HTML as a file. `--mode smtp` delivers the email as built.")


@pytest.mark.parametrize("mode", ["eml", "bcc"])
def test_eml_and_bcc_runs_end_with_what_mail_apps_change(sample_project, tmp_path, mode):
    listed = write_list(tmp_path / "list.csv", readers(3))
    result = sample_project.run("emit", "2", "--mode", mode, "--subscribers", str(listed))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[-1] == NOTE == MAIL_APPS_NOTE
    again = sample_project.run("emit", "2", "--mode", mode, "--subscribers", str(listed))
    assert NOTE not in again.stdout  # no new drafts: nothing to send from a mail app


def test_the_mailto_page_asks_for_the_bcc_field_and_mutts_mailto_allow(sample_project,
                                                                        tmp_path):
    listed = write_list(tmp_path / "list.csv", readers(3))
    result = sample_project.run("emit", "2", "--mode", "mailto", "--subscribers", str(listed))
    assert result.exit_code == 0, result.stderr
    assert NOTE not in result.stdout
    page = (sample_project.out / "002-parts-that-help" / "mailto.html").read_text("utf-8")
    assert "<strong>Before pressing Send, check that the Bcc field is filled</strong>" in page
    assert ('<code>set mailto_allow = "subject body cc bcc in-reply-to references"</code> to '
            "your\n  <code>.muttrc</code>") in page

"""Replies and forwards that ask to leave are honoured (issue 14, item 1); quotes never count.

Every client and style in signup_mail.REPLIES (Apple Mail, Gmail, Outlook HTML and plain,
Thunderbird plain and HTML bottom-posted, K-9 top and bottom, Gmail and Apple forwards, in
eight languages) unsubscribes its sender; the same mail saying only thanks does not.
"""

from __future__ import annotations

import pytest
import signup_mail as mail
from test_subscribers import import_mbox, statuses

SUBSCRIBED = mail.iphone_plain(day=2)


@pytest.mark.parametrize("what,data,words", mail.REPLIES, ids=[r[0] for r in mail.REPLIES])
def test_a_reply_or_forward_asking_to_leave_unsubscribes_its_sender(project, what, data, words):
    import_mbox(project, [SUBSCRIBED])
    result = import_mbox(project, [data])
    assert statuses(project) == {"ann@example.com": "unsubscribed"}, result.stdout
    assert "0 new, 1 unsubscribed, 0 bouncing, 0 not understood." in result.stdout
    assert any(line.startswith("Flagged: ann@example.com: asked to leave in their own words")
               for line in result.stdout.splitlines())


THANKS = [mail.apple_reply("Thank you, this helped."), mail.gmail_reply("Danke!", "de"),
          mail.outlook_html_reply("Merci beaucoup.", "fr"), mail.outlook_plain_reply("Thanks."),
          mail.thunderbird_bottom_reply("Thank you.", "de"),
          mail.thunderbird_html_bottom_reply("Lovely issue."), mail.k9_reply("Thanks"),
          mail.k9_reply("Thanks", bottom=True), mail.gmail_forward("Look at this one"),
          mail.apple_forward("For you")]


@pytest.mark.parametrize("data", THANKS)
def test_the_quoted_footer_of_a_digest_never_counts_as_the_writers_words(project, data):
    import_mbox(project, [SUBSCRIBED])
    result = import_mbox(project, [data])
    assert statuses(project) == {"ann@example.com": "subscribed"}
    assert "1 not understood." in result.stdout


@pytest.mark.parametrize("words", ["unsubscribe", "please stop sending these", "remove me",
                                   "UNSUBSCRIBE", "Stop", "opt out please", "No more emails."])
def test_the_issues_words_over_a_quoted_digest(project, words):
    import_mbox(project, [SUBSCRIBED])
    import_mbox(project, [mail.gmail_reply(words)])
    assert statuses(project) == {"ann@example.com": "unsubscribed"}


def test_a_forward_with_unsubscribe_please_above_it(project):
    import_mbox(project, [SUBSCRIBED])
    result = import_mbox(project, [mail.gmail_forward("unsubscribe please")])
    assert "a forwarded message" not in result.stdout
    assert statuses(project) == {"ann@example.com": "unsubscribed"}


def test_our_footer_pasted_unquoted_is_not_the_writers_words(project):
    import_mbox(project, [SUBSCRIBED])
    body = ("I loved the part about protectors.\n\n"
            "Unsubscribe in one step: send the message this link opens to\nteam@mindshape.io.\n"
            "<mailto:team@mindshape.io?subject=Unsubscribe%20from%20the%20Mindshape%20newsletter>")
    import_mbox(project, [mail.iphone_plain(subject="The parts of you", body=body, day=18)])
    assert statuses(project) == {"ann@example.com": "subscribed"}


@pytest.mark.parametrize("words", ["Please don't unsubscribe me, I love these",
                                   "I do not want to unsubscribe", "Bitte nicht abmelden!"])
def test_leave_words_with_a_not_before_them_wait_for_the_editor(project, words):
    import_mbox(project, [SUBSCRIBED])
    result = import_mbox(project, [mail.gmail_reply(words)])
    assert statuses(project) == {"ann@example.com": "subscribed"}
    assert "but with a not before it" in result.stdout
    assert project.run("subscribers", "pending").stdout.startswith("1 message(s) wait")


def test_thank_you_words_that_contain_stop_are_not_leave_words(project):
    import_mbox(project, [SUBSCRIBED])
    import_mbox(project, [mail.gmail_reply("I can't stop thinking about this one. Thank you!")])
    assert statuses(project) == {"ann@example.com": "subscribed"}


# Raw 8-bit headers (item 7)


def raw_from(name: bytes, charset: bytes = b"us-ascii") -> bytes:
    return mail.iphone_plain().replace(b"From: Ann Lee <", b"From: " + name + b" <").replace(
        b"charset=us-ascii", b"charset=" + charset)


@pytest.mark.parametrize("name,charset,flag", [
    ("Renée".encode(), b"us-ascii", None),
    ("Renée".encode("latin-1"), b"us-ascii", "read as latin-1"),
    ("Renée".encode("latin-1"), b"iso-8859-1", "read as iso-8859-1"),
    ("Zofia Łęcka".encode("iso-8859-2"), b"iso-8859-2", "read as iso-8859-2")])
def test_a_raw_8bit_name_is_decoded_and_a_guess_flagged(project, name, charset, flag):
    result = import_mbox(project, [raw_from(name, charset)])
    shown = project.run("subscribers", "list").stdout
    expected = name.decode("utf-8" if flag is None else charset.decode()
                           if charset != b"us-ascii" else "latin-1")
    assert expected in shown and "\ufffd" not in shown
    flags = [line for line in result.stdout.splitlines() if "raw 8-bit" in line]
    if flag is None:
        assert flags == []
    else:
        assert flags == [f"Flagged: ann@example.com: From had raw 8-bit bytes, not UTF-8: {flag}"]


@pytest.mark.parametrize("words", ["Stop.", "please stop", "STOP!", "stop please", "Stop stop",
                                   "Please, stop."])
@pytest.mark.parametrize("builder", [mail.gmail_reply, mail.apple_reply, mail.outlook_html_reply])
def test_a_reply_that_says_only_stop_with_a_please_or_a_full_stop(project, words, builder):
    import_mbox(project, [SUBSCRIBED])
    result = import_mbox(project, [builder(words)])
    assert statuses(project) == {"ann@example.com": "unsubscribed"}, result.stdout


@pytest.mark.parametrize("words", ["I never signed up for this. Unsubscribe.",
                                   "I did not ask for this, unsubscribe me",
                                   "Never subscribed! Remove me.",
                                   "I did not sign up. Stop sending these."])
def test_a_not_in_an_earlier_sentence_does_not_negate_the_request(project, words):
    # What a reader of a forged signup writes, as the welcome asks them to.
    import_mbox(project, [SUBSCRIBED])
    result = import_mbox(project, [mail.gmail_reply(words)])
    assert statuses(project) == {"ann@example.com": "unsubscribed"}, result.stdout


@pytest.mark.parametrize("words", ["Bitte abbestellen, ich will das nicht mehr.",
                                   "Retirez-moi de la liste, merci.", "No more emails please.",
                                   "Take me off this list", "Stop."])
def test_a_subscribe_subject_over_words_that_ask_to_leave_waits(project, words):
    # The subscribe link clicked by mistake by someone who wants to leave: never a subscribe.
    result = import_mbox(project, [mail.iphone_plain(address="cy@example.com", body=words)])
    assert statuses(project) == {}, result.stdout
    assert project.run("subscribers", "pending").stdout.startswith("1 message(s) wait")


@pytest.mark.parametrize("subject", ["Unsubscribe me", "STOP", "Remove me", "Please unsubscribe",
                                     "Abbestellen"])
def test_a_subject_that_asks_to_leave_over_an_empty_body(project, subject):
    import_mbox(project, [SUBSCRIBED])
    data = mail.iphone_plain(subject=subject, body="", day=5, message_id="<leave@x>")
    result = import_mbox(project, [data])
    assert statuses(project) == {"ann@example.com": "unsubscribed"}, result.stdout


def test_a_reply_subject_is_the_issues_title_not_the_writers_words(project):
    import_mbox(project, [SUBSCRIBED])
    data = mail.iphone_plain(subject="Re: Stop sending yourself mean messages",
                             body="Thank you for this one.", day=5, message_id="<thanks@x>")
    import_mbox(project, [data])
    assert statuses(project) == {"ann@example.com": "subscribed"}


@pytest.mark.parametrize("words", ["I no longer wish to receive these emails.",
                                   "I no longer want to get this newsletter",
                                   "Please don't email me again.", "Do not contact me."])
def test_common_english_ways_to_ask_to_leave(project, words):
    import_mbox(project, [SUBSCRIBED])
    result = import_mbox(project, [mail.gmail_reply(words)])
    assert statuses(project) == {"ann@example.com": "unsubscribed"}, result.stdout


def test_unsubscribe_instructions_in_the_writers_own_signature_are_not_a_request(project):
    import_mbox(project, [SUBSCRIBED])
    body = ("Thanks, lovely.\n\nAnn Lee\nCounsellor\nIf you received this in error please "
            "delete it. To unsubscribe from our practice updates reply STOP.")
    import_mbox(project, [mail.iphone_plain(subject="Re: The parts of you", body=body, day=18)])
    assert statuses(project) == {"ann@example.com": "subscribed"}

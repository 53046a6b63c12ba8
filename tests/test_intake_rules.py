"""The intake's seams: a rule or a handler added from outside the core runs in an import.

The review queue, the Authentication-Results check and unsubscribe words in replies will
be modules that add themselves to intake.RULES and intake.HANDLERS; this test is one.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
import signup_mail as mail
from conftest import NOW

from newsletter.mail.mailto import CONFIG_CHECKS
from newsletter.source.config import load_config
from newsletter.subscribers.importer import import_local
from newsletter.subscribers.intake import (
    HANDLERS,
    NOT_UNDERSTOOD,
    RULES,
    SUBSCRIBE,
    Handlers,
    Rules,
)
from newsletter.subscribers.signup_requests import classify
from newsletter.subscribers.store import open_store

REVIEW = "fake-review"  # the real queue (subscribers/queue.py) is "review"


def review_quiet_pleas(message, request):
    """A fake add-on rule: a reply that asks nothing we know goes to a review queue."""
    if request is not None and request.kind == NOT_UNDERSTOOD and "?" in message.own:
        return replace(request, kind=REVIEW, reason="asks a question")
    return request


def queue_for_review(store, summary, raw, request):
    """A fake add-on handler: counts and lists, the store untouched."""
    summary.counts["queued"] += 1
    summary.flagged.append((raw.where, f"queued for review: {request.reason}"))


@pytest.fixture
def review_addon():
    RULES.add(priority=55)(review_quiet_pleas)
    HANDLERS.add(REVIEW)(queue_for_review)
    yield
    RULES.remove(review_quiet_pleas)
    HANDLERS.remove(REVIEW)


def test_the_built_in_rules_run_in_the_documented_order():
    assert [rule.__name__ for rule in RULES] == [
        "delivery_report", "auto_reply", "forwarded", "discreet_asks", "asks", "leave_words",
        "from_sender",
        "own_address", "authenticated",
        "date_flags", "plausible_date", "reply_to_differs", "unsubscribe_names", "one_address",
        "held_for_the_editor"]


def test_an_added_rule_and_handler_run_in_an_import(project, review_addon):
    messages = [mail.iphone_plain(),
                mail.iphone_plain("bob@example.com", "Bob", day=3, subject="hello",
                                  body="How do I change my address?")]
    path = mail.write_mbox(project.root / "signups.mbox", messages)
    config = load_config(project.root, CONFIG_CHECKS)
    with open_store(project.root) as store:
        summary = import_local(store, path, config)
        assert store.record("bob@example.com") is None
        assert store.record("ann@example.com").status == "subscribed"
    assert summary.counts["read"] == 2
    assert summary.counts["new"] == 1
    assert summary.counts["queued"] == 1
    assert summary.flagged == [("signups.mbox #2", "queued for review: asks a question")]
    assert summary.not_understood == []


def test_without_the_fake_addon_a_message_no_rule_reads_waits_for_the_editor(project):
    data = mail.iphone_plain("bob@example.com", "Bob", subject="hello", body="How are you?")
    config = load_config(project.root, CONFIG_CHECKS)
    request = classify(data, config, "key", now=NOW)
    assert (request.kind, request.reason) == ("review", "no subscribe or unsubscribe words")


def test_a_rule_that_drops_the_request_leaves_it_for_the_editor(project):
    def drop_everything(message, request):
        return None

    RULES.add(priority=-100)(drop_everything)
    try:
        request = classify(mail.iphone_plain(), load_config(project.root, CONFIG_CHECKS),
                           "key", now=NOW)
    finally:
        RULES.remove(drop_everything)
    assert (request.kind, request.reason) == (NOT_UNDERSTOOD, "no rule read it")


def test_equal_priorities_run_in_the_order_added_and_higher_first():
    rules, seen = Rules(), []
    for name, priority in (("b", 0), ("c", 0), ("a", 10)):
        rules.add(priority)(lambda message, request, name=name: seen.append(name) or request)
    rules.run(None)
    assert seen == ["a", "b", "c"]


def test_a_kind_has_one_handler():
    handlers = Handlers()
    handlers.add(SUBSCRIBE)(queue_for_review)
    with pytest.raises(ValueError, match="already has a handler for 'subscribe'"):
        handlers.add(SUBSCRIBE)(queue_for_review)
    with pytest.raises(KeyError, match="no intake handler for requests of kind 'fake-review'"):
        handlers[REVIEW]

"""The intake's seams: ordered rules say what a message asks, a handler per kind applies it.

As MkDocs runs plugin events (mkdocs/plugins.py `event_priority`, `run_event`), every
rule sees the message and the request so far, highest priority first, equal priorities in
the order added, and returns the request unchanged, a replacement, or None (nothing
decided yet; from a later rule, "drop what was decided"). A request none of them makes
is not understood. The importer then calls the one handler registered for its kind.

A new rule or handler is a new module that adds itself here and is named in
intake_addons.py; nothing in the core changes. The built-in rules (signup_requests.py):

    90 delivery_report   a delivery report: a bounce, or not understood
    80 auto_reply        an out-of-office or other automatic reply
    70 forwarded         a forward: who is asking is not clear
    60 asks              the signup words: subscribe, unsubscribe, or not understood
    50 from_sender       a subscribe or unsubscribe is for the one From address
    45 own_address       ... unless that is the newsletter's own: ignored
    40 date_flags        ... flagged when its Date was missing or in the future
    35 reply_to_differs  ... flagged when Reply-To names someone else
    30 named_addresses   an unsubscribe names addresses in its text (an issue's link adds them)
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from functools import cached_property
from typing import TYPE_CHECKING

from ..source.config import Config
from .addresses import address_key
from .mailparts import own_text, split_prefixes
from .mailsource import RawMessage

if TYPE_CHECKING:
    from .store import SubscriberStore

SUBSCRIBE, UNSUBSCRIBE, BOUNCE, AUTO_REPLY, NOT_UNDERSTOOD, MALFORMED, OWN, REVIEW = (
    "subscribe", "unsubscribe", "bounce", "auto-reply", "not-understood", "malformed", "own",
    "review")
# Discreet mode (discreet_requests.py): a switch between the discreet and the usual version;
# a subscribe asking for the discreet version is a SUBSCRIBE with `discreet`, held as
# wanting DISCREET_SUBSCRIBE.
SWITCH, DISCREET_SUBSCRIBE = "switch", "subscribe-discreetly"
# What a subscriber asks for themselves: each is checked for its sender, authentication, Date.
ASKING = (SUBSCRIBE, UNSUBSCRIBE, SWITCH)


@dataclass(frozen=True)
class Request:
    """What one message asks, with the proof of it (Message-ID, date, subject)."""

    kind: str
    message_key: str                   # see message_key(): what makes a message "read before"
    subject: str
    date: dt.datetime | None
    address: str | None = None         # the subscriber (From); for a bounce, the failed address
    name: str = ""
    message_id: str | None = None
    bounced: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()
    reason: str = ""                   # for malformed / not understood
    named: tuple[str, ...] = ()        # addresses the writer's own text names (unsubscribe)
    wanted: str = ""                   # held for review: what it would have been, if anything
    excerpt: str = ""                  # held for review: the first lines of the writer's text
    discreet: bool = False             # a subscribe asking for the discreet version

    @property
    def key(self) -> str | None:
        return address_key(self.address) if self.address else None


@dataclass
class SignupMail:
    """One parsed message as the rules see it; the costly readings are made once, if asked."""

    message: EmailMessage
    config: Config
    message_key: str
    subject: str
    date: dt.datetime
    message_id: str | None
    date_flags: tuple[str, ...] = ()   # why `date` is not the Date header's, if it is not
    now: dt.datetime | None = None     # the time of the import
    earliest: dt.datetime | None = None  # no request can be older (dates.py)

    def request(self, kind: str, **fields) -> Request:
        """A request of `kind` carrying this message's proof (key, subject, date, Message-ID)."""
        return Request(kind, self.message_key, self.subject, self.date,
                       message_id=self.message_id, **fields)

    @cached_property
    def prefixes(self) -> set[str]:
        """The subject's reply and forward prefixes, lower case: {'re', 'fwd'}."""
        return split_prefixes(self.subject)[0]

    @cached_property
    def bare_subject(self) -> str:
        return split_prefixes(self.subject)[1]

    @cached_property
    def own(self) -> str:
        """The writer's own text, quoted replies and signature removed."""
        return own_text(self.message)


Rule = Callable[[SignupMail, Request | None], Request | None]


class Rules:
    """The intake rules, run highest priority first; equal priorities in the order added."""

    def __init__(self) -> None:
        self._rules: list[tuple[int, int, Rule]] = []
        self._order = itertools.count()

    def add(self, priority: int) -> Callable[[Rule], Rule]:
        """`@RULES.add(priority=55)` over a rule: registers it and returns it unchanged."""
        def register(rule: Rule) -> Rule:
            self._rules.append((-priority, next(self._order), rule))
            return rule
        return register

    def remove(self, rule: Rule) -> None:
        self._rules = [entry for entry in self._rules if entry[2] is not rule]

    def __iter__(self) -> Iterator[Rule]:
        return iter([rule for _, _, rule in sorted(self._rules, key=lambda e: e[:2])])

    def run(self, mail: SignupMail) -> Request | None:
        request = None
        for rule in self:
            request = rule(mail, request)
        return request


@dataclass
class ImportSummary:
    """What an import did, for the editor. `counts` holds the store's outcomes ('new',
    'resubscribed', 'unsubscribed', 'bouncing', 'unchanged', 'suppressed') and 'read',
    'already_read', 'auto_replies'; a handler may count more."""

    counts: Counter[str] = field(default_factory=Counter)
    # where, subject, date, why
    not_understood: list[tuple[str, str, str, str]] = field(default_factory=list)
    malformed: list[tuple[str, str]] = field(default_factory=list)          # where, reason
    flagged: list[tuple[str, str]] = field(default_factory=list)            # address, flag
    # held for the editor (queue.py): queue id, where, subject, date, why
    held: list[tuple[int, str, str, str, str]] = field(default_factory=list)


Handler = Callable[["SubscriberStore", ImportSummary, RawMessage, Request], None]


class Handlers:
    """One handler per request kind: what that kind does to the store and the summary."""

    def __init__(self) -> None:
        self._handlers: dict[str, Handler] = {}

    def add(self, *kinds: str) -> Callable[[Handler], Handler]:
        """`@HANDLERS.add("review")` over a handler; a kind already handled is a mistake."""
        def register(handler: Handler) -> Handler:
            for kind in kinds:
                if kind in self._handlers:
                    raise ValueError(f"the intake already has a handler for {kind!r}")
                self._handlers[kind] = handler
            return handler
        return register

    def remove(self, kind: str) -> None:
        self._handlers.pop(kind, None)

    def __getitem__(self, kind: str) -> Handler:
        try:
            return self._handlers[kind]
        except KeyError:
            raise KeyError(f"no intake handler for requests of kind {kind!r}: "
                           "add one with @HANDLERS.add") from None

    def __contains__(self, kind: str) -> bool:
        return kind in self._handlers


RULES = Rules()
HANDLERS = Handlers()

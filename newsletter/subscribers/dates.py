"""Date plausibility: a request dated before the list could exist, or far ahead, is held.

A Date is the sender's clock, and the latest request by Date decides a status, so a
wrong one is never used as it is nor silently replaced: the request waits for the
editor (queue.py), who accepts it dated by the decision. "Before the list could exist"
is before `signup.start` in newsletter.yaml when it is set, else a year before the
first issue's date (the signup box opens before issue 1; every sample mailbox has
readers who joined then). A year written other than in four digits (`01 Jan 0000`,
which Python reads as 2000) is no date either. Far ahead is more than a day after the
import's now (clocks and time zones are off by hours, not days).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import replace

import yaml

from ..source.config import Config
from .intake import ASKING, RULES, Request, SignupMail
from .queue import hold  # every reason here starts with queue.UNTRUSTED_DATE

FUTURE_SLACK = dt.timedelta(days=1)
BEFORE_THE_FIRST_ISSUE = dt.timedelta(days=365)
_YEAR = re.compile(r"\b\d{1,2}\s+[A-Za-z]{3}\s+(\d+)\b")


def earliest(config: Config) -> dt.datetime | None:
    """No request can be older than this: signup.start, else a year before the first issue."""
    if config.signup.start is not None:
        return dt.datetime.combine(config.signup.start, dt.time(), dt.UTC)
    first = min(_issue_dates(config), default=None)
    if first is None:
        return None
    return dt.datetime.combine(first, dt.time(), dt.UTC) - BEFORE_THE_FIRST_ISSUE


def _issue_dates(config: Config) -> list[dt.date]:
    """The `date:` of every issue file; a broken one is `check`'s to report, not ours."""
    dates = []
    for path in sorted((config.path.parent / "digests").glob("*.yaml")):
        try:
            value = yaml.safe_load(path.read_text(encoding="utf-8")).get("date")
        except (OSError, UnicodeError, yaml.YAMLError, AttributeError):
            continue
        if isinstance(value, dt.datetime):
            value = value.date()
        if isinstance(value, dt.date):
            dates.append(value)
    return dates


def implausible(mail: SignupMail) -> str | None:
    """Why the message's Date cannot be true, or None."""
    if mail.date_flags:  # no usable Date: dated by its arrival or the import, flagged
        return None
    # The Date as written: policy.default's header object rewrites the year it read.
    raw = next((str(v) for n, v in mail.message.raw_items() if n.lower() == "date"), "")
    written = _YEAR.search(raw)
    if written and len(written[1]) != 2 and int(written[1]) != mail.date.year:
        return (f"Date has the year {written[1]}, read as {mail.date.year}: not a real date")
    if mail.earliest is not None and mail.date < mail.earliest:
        return (f"Date {mail.date:%Y-%m-%d} is before the list could exist "
                f"({mail.earliest:%Y-%m-%d})")
    if mail.now is not None and mail.date > mail.now + FUTURE_SLACK:
        return f"Date {mail.date:%Y-%m-%d} is in the future"
    return None


@RULES.add(priority=38)
def plausible_date(mail: SignupMail, request: Request | None) -> Request | None:
    if request is None or request.kind not in ASKING:
        return request
    why = implausible(mail)
    if why is None:
        return request
    held = hold(request, why)
    return replace(held, flags=(*held.flags, why))


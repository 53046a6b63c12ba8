"""The one place the library reads the clock, so tests (and a moved-clock CI run) can set it.

`NEWSLETTER_NOW` (an ISO 8601 time, e.g. `2026-11-20T09:00:00+00:00`; a bare date means its
midnight UTC) stands in for the real time in every command. Nothing else in the package calls
`datetime.now()` or `date.today()`: a test of the clock-dependent parts sets this variable, and
the moved-clock CI run proves none was missed.
"""

from __future__ import annotations

import datetime as dt
import os

from .errors import NewsletterError

ENV = "NEWSLETTER_NOW"


def now() -> dt.datetime:
    """The current time, aware, in UTC."""
    fixed = os.environ.get(ENV)
    if not fixed:
        return dt.datetime.now(dt.UTC)
    return _parse(fixed)


def local_now() -> dt.datetime:
    """The current time in this computer's time zone (for dates shown to the editor)."""
    return now().astimezone()


def today() -> dt.date:
    """The editor's date today (local time zone)."""
    return local_now().date()


def _parse(text: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise NewsletterError(f"{ENV}={text!r} is not an ISO 8601 time",
                              hint="write it as 2026-11-20T09:00:00+00:00, or unset it") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)

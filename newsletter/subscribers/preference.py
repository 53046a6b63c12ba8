"""The discreet preference, worked out from an address's requests in Date order.

Like the status (the latest request by Date wins, ties by order of arrival; an undated one
counts as the oldest), the preference never depends on the order mail happens to be read in:
it is the requests replayed by Date, every time one is recorded.

- a subscribe that asked for the discreet version makes it discreet;
- a plain subscribe that starts a subscription (the first, or one after an unsubscribe or a
  bounce) makes it the usual version; one while subscribed (the usual link clicked again)
  changes nothing. Only the switch mail turns discreet off: the newsletter's name on a
  shared screen is the worse error for these readers;
- a switch flips it, if its sender was subscribed at its Date; otherwise it changes nothing;
- an unsubscribe or a bounce leaves it as it was.

So two switches give back the preference from before them, whichever is read first.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .schema import SWITCH


@dataclass(frozen=True)
class Change:
    """A request that changed the preference: to what, when, by which message."""

    discreet: bool
    kind: str                # 'subscribe' or 'switch'
    date: str | None
    message_id: str | None
    arrival: int


# Columns of requests, in the order the rows below are read.
COLUMNS = "arrival, kind, discreet, date, message_id"
ORDER = "ORDER BY coalesce(date, ''), arrival"


def replay(rows: Iterable[tuple[int, str, int, str | None, str | None]]) -> list[Change]:
    """The changes of the preference, oldest first, from requests in Date order (ORDER);
    the last one's `discreet` is the preference now (none: the usual version)."""
    subscribed, discreet = False, False
    changes: list[Change] = []
    for arrival, kind, asked_discreet, date, message_id in rows:
        wanted = discreet
        if kind == "subscribe":
            if asked_discreet:
                wanted = True
            elif not subscribed:
                wanted = False
            subscribed = True
        elif kind == SWITCH:
            if subscribed:
                wanted = not discreet
        else:  # unsubscribe, bounce
            subscribed = False
        if wanted != discreet:
            changes.append(Change(wanted, kind, date, message_id, arrival))
        discreet = wanted
    return changes

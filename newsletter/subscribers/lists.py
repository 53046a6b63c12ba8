"""Where `emit` reads its recipients: a CSV given on the command line, or the subscriber store."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ..errors import Problem, display_path
from ..source.fields import Invalid
from ..source.models import Subscriber
from .addresses import normalise_address
from .csvfile import Row, check_readable, has_column, read_csv
from .store import SUBSCRIBED, SubscriberStore


class RecipientList(Protocol):
    """What `emit` needs of a list: `check` reads it all (so an unreadable list stops the
    run before the first draft) and counts the rows; `rows` reads it again, lazily."""

    @property
    def label(self) -> str: ...

    def check(self) -> int: ...

    def rows(self) -> Iterator[Row]: ...

    def may_be_discreet(self) -> bool:
        """False when no row can ask for the discreet version, read without a pass over the
        list: emit then skips the pass that looks for one (emit/versions.py)."""
        ...


@dataclass(frozen=True)
class CsvList:
    """A CSV with the columns email,name (and discreet, yes or no): rows may be invalid or
    repeated, and are reported."""

    path: Path

    @property
    def label(self) -> str:
        return display_path(self.path)

    def check(self) -> int:
        """Rows in the list, all read: one that cannot be read raises here."""
        return check_readable(self.path)

    def rows(self) -> Iterator[Row]:
        return read_csv(self.path)

    def may_be_discreet(self) -> bool:
        return has_column(self.path, "discreet")


@dataclass(frozen=True)
class StoreList:
    """Everyone the store has as subscribed (not unsubscribed, not bouncing)."""

    store: SubscriberStore

    @property
    def label(self) -> str:
        return "the subscriber store"

    def check(self) -> int:
        return self.store.count(SUBSCRIBED)

    def may_be_discreet(self) -> bool:
        return self.store.discreet_count() > 0

    def rows(self) -> Iterator[Row]:
        for number, subscriber in enumerate(self.store.active(), 1):
            yield self._checked(number, subscriber)

    def _checked(self, number: int, subscriber: Subscriber) -> Row:
        """An address stored before a rule was added (a local part over 64) is checked
        again, and refused the way a CSV row would be."""
        try:
            normalise_address(subscriber.email)
        except Invalid as exc:
            hint = "`send.py subscribers forget ADDRESS` removes it from the store"
            return Row(number, None, Problem(self.label, None, "email", exc.message, hint))
        return Row(number, subscriber)

"""Where `emit` reads its recipients: a CSV given on the command line, or the subscriber store."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..errors import display_path
from .csvfile import Row, count_rows, read_csv
from .store import SUBSCRIBED, SubscriberStore


@dataclass(frozen=True)
class CsvList:
    """A CSV with the columns email,name: rows may be invalid or repeated, and are reported."""

    path: Path

    @property
    def label(self) -> str:
        return display_path(self.path)

    def count(self) -> int:
        return count_rows(self.path)

    def rows(self) -> Iterator[Row]:
        return read_csv(self.path)


@dataclass(frozen=True)
class StoreList:
    """Everyone the store has as subscribed (not unsubscribed, not bouncing)."""

    store: SubscriberStore

    @property
    def label(self) -> str:
        return "the subscriber store"

    def count(self) -> int:
        return self.store.count(SUBSCRIBED)

    def rows(self) -> Iterator[Row]:
        for number, subscriber in enumerate(self.store.active(), 1):
            yield Row(number, subscriber)

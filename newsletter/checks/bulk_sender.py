"""Gmail's bulk-sender rule: a list over 5,000 needs RFC 8058 one-click unsubscribe."""

from __future__ import annotations

from ..mail.unsubscribe_settings import BULK_SENDER_HINT, bulk_sender_warning
from ..subscribers.store import DB_FILE, SUBSCRIBED, SubscriberStore, store_folder
from .findings import Finding, finding
from .registry import CHECK, CheckContext, rule


def subscribed_count(context: CheckContext) -> int:
    """Subscribed addresses in the project's store; 0 when there is no store yet."""
    folder = store_folder(context.project.root)
    if not (folder / DB_FILE).exists():
        return 0
    with SubscriberStore(folder) as store:
        return store.count(SUBSCRIBED)


@rule("bulk-sender", stages=(CHECK,), order=125)
def _bulk_sender(context: CheckContext) -> list[Finding]:
    warning = bulk_sender_warning(subscribed_count(context), context.project.config)
    if warning is None:
        return []
    return [finding("warning", "newsletter.yaml", warning, BULK_SENDER_HINT, "bulk-sender")]

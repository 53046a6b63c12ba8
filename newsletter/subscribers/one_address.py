"""One address per unsubscribe: an unsubscribe naming several, or a stranger's, waits.

Every issue's unsubscribe link puts exactly one address in the body, the reader's own.
An unsubscribe that names more than one (ours aside) is held for the editor, and so is
one naming an address other than its sender's when the sender is not subscribed (the
handler checks that against the store): a stranger cannot unsubscribe people by naming
them. The editor can accept it for a named address (`accept ID --for EMAIL`).
"""

from __future__ import annotations

from dataclasses import replace

from .addresses import address_key
from .intake import RULES, UNSUBSCRIBE, Request, SignupMail
from .queue import hold


@RULES.add(priority=25)
def one_address(mail: SignupMail, request: Request | None) -> Request | None:
    if request is None or request.kind != UNSUBSCRIBE:
        return request
    ours = {address_key(mail.config.sender.email), address_key(mail.config.reply_to)}
    named = tuple(a for a in request.named if address_key(a) not in ours)
    request = replace(request, named=named)
    if len(named) > 1:
        return hold(request, f"an unsubscribe naming {len(named)} addresses "
                             f"({', '.join(named)}): the link names one")
    return request

"""mailto: links (RFC 6068), the same mechanism as the site's signup box."""

from __future__ import annotations

import re
from urllib.parse import quote

# The longest link we write into a header (List-Unsubscribe), unfolded: with the
# header's name it stays well inside RFC 5322's 998-octet line limit.
MAX_HEADER_URL = 900


def mailto_link(to: str, subject: str, body: str | None = None) -> str:
    """A mailto: URL whose subject and body decode back exactly.

    Everything outside RFC 3986's unreserved set is percent-encoded (so a space
    is %20, never '+'), and line breaks become %0D%0A as RFC 6068 asks.
    """
    query = [f"subject={_encode(subject)}"]
    if body is not None:
        query.append(f"body={_encode(body)}")
    return f"mailto:{quote(to, safe='@')}?{'&'.join(query)}"


def _encode(value: str) -> str:
    value = re.sub(r"\r\n|\r|\n", "\r\n", value)
    return quote(value, safe="")

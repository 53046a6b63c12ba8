"""newsletter.yaml's optional `unsubscribe:` section: the RFC 8058 one-click endpoint, if any.

Google treats a domain that sends about 5,000 messages a day to Gmail as a bulk sender, which
must offer one-click unsubscribe: an https URI in List-Unsubscribe that takes a POST, named
by `List-Unsubscribe-Post: List-Unsubscribe=One-Click`. A mailto: link alone is accepted
below that (and by Yahoo). The static site cannot answer a POST, so the endpoint is run
elsewhere and named here; each message's URL carries its subscriber's address as `email=`.
Declared in mail/ (like smtp:) because the message engine reads it and checks/ loads it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlsplit

from ..source import fields as f
from ..source.config import Config
from ..source.schema import Section, optional
from ..source.sections import declare_section

SECTION = "unsubscribe"
# Google's figure: "about 5,000" a day to Gmail. A list over it, mailed in a day, is one.
BULK_SENDER_LIST = 5000
POST_VALUE = "List-Unsubscribe=One-Click"  # RFC 8058 3.1: the header's only value
# With the longest address percent-encoded (254 x 3) and "List-Unsubscribe: <...>," the
# header's first line stays within RFC 5322's 998 octets.
MAX_ONE_CLICK_URL = 200


def _build(*, one_click_url: str | None) -> str | None:
    return one_click_url


def _url_fits(values: dict[str, Any]) -> list:
    url = values["one_click_url"]
    if url is None:
        return []
    parts = urlsplit(url)
    if parts.fragment or url.endswith("#"):
        return [(("one_click_url",), f"has a fragment (#{parts.fragment}): the subscriber's "
                 "address is added as a query parameter, which must come before it",
                 "remove the # part")]
    if "," in url:
        return [(("one_click_url",), "contains a comma, which separates the URLs of a "
                 "List-Unsubscribe header", "write it as %2C")]
    if len(url) > MAX_ONE_CLICK_URL:
        return [(("one_click_url",), f"is {len(url)} characters, over {MAX_ONE_CLICK_URL}: with "
                 "a subscriber's address added it must fit in the List-Unsubscribe header",
                 "use a shorter address for the endpoint")]
    return []


UNSUBSCRIBE_SECTION = Section({
    "one_click_url": optional(f.https_url),
}, _build, checks=(_url_fits,), required=False)

declare_section(SECTION, UNSUBSCRIBE_SECTION, owner=__name__)


def one_click_url(config: Config) -> str | None:
    """unsubscribe.one_click_url, or None when newsletter.yaml does not set it."""
    return config.sections.get(SECTION)


def one_click_link(base: str, address: str) -> str:
    """The endpoint's URL for one subscriber: `email=` with the address percent-encoded
    (everything but letters, digits and `-._~`, so `@` is %40 and `+` is %2B)."""
    joiner = "&" if urlsplit(base).query else ("" if base.endswith("?") else "?")
    return f"{base}{joiner}email={quote(address, safe='')}"


def bulk_sender_warning(subscribers: int, config: Config) -> str | None:
    """The warning for a list over Google's bulk-sender figure without a one-click endpoint."""
    if subscribers <= BULK_SENDER_LIST or one_click_url(config) is not None:
        return None
    return (f"the list has {subscribers:,} subscribers, over the {BULK_SENDER_LIST:,} a day at "
            "which Gmail treats a sender as a bulk sender, which must offer one-click "
            "unsubscribe (RFC 8058); newsletter.yaml sets no unsubscribe.one_click_url, so the "
            "messages offer only the mailto: link")


BULK_SENDER_HINT = ("run an https endpoint that unsubscribes the address in its `email` "
                    "parameter on a POST and set unsubscribe.one_click_url to it (README, "
                    "'One-click unsubscribe'), or send fewer than 5,000 a day to Gmail")

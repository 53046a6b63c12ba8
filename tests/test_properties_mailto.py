"""mailto: links for generated subjects, bodies and recipients: a mail app reads back exactly
the fields given (RFC 6068), the link holds nothing a browser or mail app would cut or
change, and the planner's links stay within 2,000 characters."""

from __future__ import annotations

import dataclasses
import re
from urllib.parse import parse_qsl, unquote, urlsplit

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from newsletter.emit.mailto_links import MAX_LINK, MailtoError, body_text, plan_mailto
from newsletter.mail.mailto import mailto_link, unsubscribe_link
from newsletter.render.renderer import Renderer
from newsletter.source.models import Subscriber
from newsletter.source.project import load_project

# What breaks a link: the query's own delimiters, "%" and "+", line breaks of every kind,
# spaces, quotes, and characters that take several bytes.
_CHAR = st.one_of(st.characters(exclude_categories=("Cs",)),
                  st.sampled_from(["\r", "\n", "\r\n", "&", "=", "?", "#", "%", "%0D%0A", "+", " ",
                                   "\t", "'", '"', "<", ">", "&body=", "?cc=x@evil.example",
                                   "é", "🌿", "\u2028", "\x00"]))
TEXT = st.lists(_CHAR, max_size=120).map("".join)
_ASCII = [chr(n) for n in range(32, 127)]
# A normalised address as the subscriber reader hands it over: RFC 5322 atext before the @
# (& ? = % # + ' / among it, each a query delimiter if left raw), an ASCII domain.
_LOCAL = st.text(st.sampled_from("abcXYZ019!#$%&'*+/=?^_`{|}~-"), min_size=1, max_size=20)
ADDRESSES = st.builds(
    lambda atoms, domain: f"{'.'.join(atoms)}@{domain}",
    st.lists(_LOCAL, min_size=1, max_size=3),
    st.from_regex(r"[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?(?:\.[a-z0-9]{1,20}){1,3}", fullmatch=True),
)
# RFC 6068 qchar less "+" (some apps read it as a space): unreserved, some-delims, %XX.
QCHAR = r"(?:[A-Za-z0-9._~!$()*,;:@-]|%[0-9A-F]{2})"
LINK = re.compile(rf"mailto:{QCHAR}+\?(?:bcc=(?:{QCHAR})+&)?subject={QCHAR}*(?:&body={QCHAR}*)?")


def crlf(text: str) -> str:
    """RFC 6068 6.1: a line break in a value is written, and so read, as CRLF."""
    return re.sub(r"\r\n|\r|\n", "\r\n", text)


def read(url: str) -> tuple[str, list[tuple[str, str]]]:
    """(to, [(field, value), ...]) as RFC 6068 says to read a link: split at "&", each
    hfield at its one "=", then percent-decode (UTF-8, strictly)."""
    assert url.isascii() and LINK.fullmatch(url), url
    assert not re.search(r"[\s#+]", url), "a raw space, line break, '#' or '+'"
    parts = urlsplit(url)
    assert (parts.scheme, parts.fragment) == ("mailto", "")
    fields = []
    for hfield in parts.query.split("&"):
        name, value = hfield.split("=")  # a second raw "=" would fail here
        fields.append((name, unquote(value, errors="strict")))
    # urllib's form decoder reads the same (it would take a raw "+" for a space).
    assert parse_qsl(parts.query, keep_blank_values=True, strict_parsing=True,
                     errors="strict") == fields
    return unquote(parts.path, errors="strict"), fields


@settings(max_examples=400, deadline=None)
@given(ADDRESSES, TEXT, st.none() | TEXT, st.none() | st.lists(ADDRESSES, max_size=5))
@example("team@mindshape.io", "Tips & tricks?cc=evil@x.example#top", "a\nb & c\r\n",
         ["a&cc=evil@x.example", "b?to=evil@x.example", "c%0D%0Abcc=d@x.example"])
@example("t@x.io", "Ends in CR\r", "Mixed\r\nbreaks\rhere\n\n", ["e#frag@x.example"])
@example("t@x.io", "", "", [])
def test_a_link_reads_back_as_exactly_the_fields_given(to, subject, body, bcc):
    url = mailto_link(to, subject, body, bcc=bcc)
    address, fields = read(url)
    assert address == to
    expected = [("bcc", ",".join(bcc))] if bcc else []
    expected.append(("subject", crlf(subject)))
    if body is not None:
        expected.append(("body", crlf(body)))
    assert fields == expected
    if bcc:
        assert fields[0][1].split(",") == bcc, "an address split in two or two joined"


def sized(collection, elements, maximum, minimum=0, **kwargs):
    """A collection whose size is drawn evenly: left alone, Hypothesis keeps them short."""
    return st.integers(minimum, maximum).flatmap(
        lambda n: collection(elements, min_size=n, max_size=n, **kwargs))


@pytest.fixture
def issue(project):
    """The minimal project's config and its issue, rendered once."""
    loaded = load_project(project.root)
    return loaded.config, Renderer(project.root, loaded.config).render(loaded.issues[0])


def test_an_unsubscribe_link_is_the_link_of_its_body_with_the_address_below(issue):
    """The start is encoded once per config and the address appended: the same link as
    encoding the whole body each time, whatever the configured body and the address."""
    config, _ = issue

    @settings(max_examples=300, deadline=None, database=None)
    @given(TEXT, TEXT, st.one_of(ADDRESSES, TEXT.filter(bool)))
    @example("Please remove me.", "Unsubscribe", "\nleading@x.example")
    @example("Ends in CR\r", "Unsubscribe", "\r\n@x.example")
    def check(body, subject, address):
        ours = dataclasses.replace(config, signup=dataclasses.replace(
            config.signup, unsubscribe_body=body, unsubscribe_subject=subject))
        link = unsubscribe_link(ours, address)
        assert link == mailto_link(ours.sender.email, subject, f"{body}\n\n{address}")
        assert dict(read(link)[1])["body"] == crlf(f"{body}\n\n{address}")
        assert unsubscribe_link(ours) == mailto_link(ours.sender.email, subject, body)

    check()


def test_every_planned_link_is_within_2000_and_reads_back_as_its_batch(issue):
    """For generated subjects, lists and batch sizes: everyone in exactly one batch, in
    order; batches within the size, closed early only when the next address would pass
    2,000; every link reads back as the sender, the batch, the subject and one body for all.
    Or, when one address alone does not fit, a refusal that says so."""
    config, rendered = issue

    @settings(max_examples=60, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(st.one_of(sized(st.lists, st.sampled_from(_ASCII), 250), sized(st.lists, _CHAR, 150))
           .map(lambda s: " ".join("".join(s).split())),
           sized(st.lists, ADDRESSES, 100, minimum=1, unique_by=str.lower),
           st.integers(1, 60))
    @example("A calm subject line", ["a" * 64 + "@" + "d" * 60 + ".example"], 1)
    @example("%" * 185, ["a@x.io"], 1)  # the minimal body ("%" is 6 characters of the link)
    @example("%" * 200, ["a@x.io"], 1)  # not even that
    @example("Zoë & 🌿 100%", [f"r{n}&x=y@x.example" for n in range(70)], 50)
    def check(subject, emails, batch_size):
        ours = dataclasses.replace(rendered, subject=subject)
        people = [Subscriber(email) for email in emails]
        try:
            plan = plan_mailto(config, ours, people, batch_size)
        except MailtoError as exc:
            event("refused: one address alone does not fit")
            assert "even the minimal body" in exc.message
            longest = max(emails, key=len)
            minimal = body_text(config, ours, "minimal")
            assert len(mailto_link(config.sender.email, subject, minimal, bcc=[longest])) > MAX_LINK
            return
        event(f"{plan.batches[0].body} body, {'one link' if len(plan.batches) == 1 else 'links'}")
        event("a batch closed by the limit" if plan.notes and "Batches hold" in plan.notes[-1]
              else "batches closed by the size only")
        assert [s for b in plan.batches for s in b.recipients] == people
        assert len({b.body for b in plan.batches}) == 1, "every reader gets the same email"
        body = crlf(body_text(config, ours, plan.batches[0].body))
        for batch, following in zip(plan.batches, [*plan.batches[1:], None], strict=True):
            assert len(batch.url) <= MAX_LINK
            assert 1 <= len(batch.recipients) <= batch_size
            to, fields = read(batch.url)
            assert to == config.sender.email
            assert fields == [("bcc", ",".join(s.email for s in batch.recipients)),
                              ("subject", subject), ("body", body)]
            if following is not None and len(batch.recipients) < batch_size:
                longer = mailto_link(config.sender.email, subject, body_text(
                    config, ours, batch.body), bcc=[s.email for s in
                                                    (*batch.recipients, following.recipients[0])])
                assert len(longer) > MAX_LINK, "a batch closed early without need"

    check()

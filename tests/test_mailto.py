"""The mailto mode: links that decode back exactly, stay openable, and a page that leaks nothing."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import unquote, urlsplit

import pytest

from newsletter.emit.mailto_links import MAX_LINK, MailtoError, body_text, mailto_files, plan_mailto
from newsletter.emit.welcome import render_welcome
from newsletter.mail.mailto import mailto_link, unsubscribe_link
from newsletter.render.renderer import Renderer
from newsletter.source.models import Subscriber
from newsletter.source.project import load_project
from newsletter.subscribers.addresses import normalise_address

# Valid addresses (RFC 5322 allows & ? = % # + ' / in the local part) that would add a
# field or a recipient to a link that left them unencoded.
HOSTILE_ADDRESSES = ["a&cc=evil@x.example", "b?to=evil@x.example", "c%0D%0Abcc=d@x.example",
                     "e#frag@x.example", "f+g@x.example", "o'brien@x.example",
                     "x/y=z&body=spam@x.example"]
HOSTILE_NAMES = ['<script>alert("name")</script>', "Ann\r\nBcc: evil@x.example",
                 "Zoë \"the\" O'Brien & co", "مريم 🙂"]
HOSTILE_SUBJECT = ("Tips & tricks?cc=evil@x.example&to=evil@x.example#top <script>alert(1)"
                   "</script> 'quoted' %0D%0ABcc: more@x.example")


def rendered(root, issue_id=None):
    project = load_project(root)
    issue = next(i for i in project.issues if issue_id in (None, i.id))
    return project.config, Renderer(root, project.config).render(issue)


def readers(count: int, domain: str = "example.com") -> list[Subscriber]:
    return [Subscriber(f"reader{i:04d}@{domain}", f"Reader {i}") for i in range(count)]


def decode(url: str) -> tuple[str, list[tuple[str, str]]]:
    """(to, [(field, value), ...]) as a mail app reads the link."""
    parts = urlsplit(url)
    assert parts.scheme == "mailto"
    assert parts.fragment == "", "a raw '#' would cut the link short"
    pairs = [pair.split("=") for pair in parts.query.split("&")]
    assert all(len(pair) == 2 for pair in pairs), "a raw '=' inside a value"
    return unquote(parts.path), [(name, unquote(value, errors="strict")) for name, value in pairs]


def crlf(text: str) -> str:
    return text.replace("\n", "\r\n")


def batch_fields(config, batch) -> dict[str, str]:
    """The link's fields, having checked it goes to the sender with exactly bcc, subject and
    body, and bcc lists exactly the batch's recipients."""
    to, fields = decode(batch.url)
    assert to == config.sender.email
    assert [name for name, _ in fields] == ["bcc", "subject", "body"]
    values = dict(fields)
    assert values["bcc"].split(",") == [s.email for s in batch.recipients]
    return values


@pytest.fixture
def small(project):
    """A one-chunk issue with a terse crisis intro: its full text fits in a link with a few
    recipients."""
    config = project.root / "newsletter.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace(
        'crisis_intro: "In crisis? You deserve help right now:"', 'crisis_intro: "In crisis?"'),
        encoding="utf-8")
    return rendered(project.root)


@pytest.fixture
def sample(sample_project):
    """The sample issue 002, whose full text is far over the limit."""
    return rendered(sample_project.root, "002-parts-that-help")


# -- every link decodes to what was meant ------------------------------------------------------

@pytest.mark.parametrize("count", [1, 2, 120])
def test_every_link_decodes_to_the_exact_subject_body_and_bcc(small, sample, count):
    for config, issue in (small, sample):
        plan = plan_mailto(config, issue, readers(count), 50)
        for batch in plan.batches:
            values = batch_fields(config, batch)
            assert values["subject"] == issue.subject
            assert values["body"] == crlf(body_text(config, issue, batch.body))


@pytest.mark.parametrize(("count", "batch_size"), [(1, 50), (49, 7), (120, 50), (300, 1),
                                                   (1000, 500)])
def test_links_stay_within_2000_batches_within_n_everyone_exactly_once(sample, count, batch_size):
    config, issue = sample
    people = readers(count, "a-rather-long-domain-name-for-testing.example.org")
    plan = plan_mailto(config, issue, people, batch_size)
    assert all(len(b.url) <= MAX_LINK for b in plan.batches)
    assert all(1 <= len(b.recipients) <= batch_size for b in plan.batches)
    assert [s for b in plan.batches for s in b.recipients] == people  # once each, in order
    assert [b.number for b in plan.batches] == list(range(1, len(plan.batches) + 1))
    assert len({b.body for b in plan.batches}) == 1, "every reader gets the same email"


def test_batches_are_cut_short_only_to_stay_within_the_limit_and_the_run_says_so(small):
    config, issue = small
    plan = plan_mailto(config, issue, readers(120), 50)
    sizes = [len(b.recipients) for b in plan.batches]
    assert max(sizes) < 50
    for batch, following in zip(plan.batches, plan.batches[1:], strict=False):
        # the next address would not have fitted: batches are filled greedily
        longer = mailto_link(config.sender.email, issue.subject, body_text(config, issue, "short"),
                             bcc=[s.email for s in (*batch.recipients, following.recipients[0])])
        assert len(longer) > MAX_LINK
    assert f"Batches hold at most {max(sizes)} recipients, not 50," in " ".join(plan.notes)


# -- which body -------------------------------------------------------------------------------

@pytest.mark.parametrize("count", [1, 2])
def test_the_full_text_is_used_when_it_fits(small, count):
    config, issue = small
    plan = plan_mailto(config, issue, readers(count), 50)
    assert [b.body for b in plan.batches] == ["full"]
    assert plan.notes == []
    body = dict(decode(plan.batches[0].url)[1])["body"]
    assert body == crlf(issue.parts(unsubscribe_link(config))[1])


def test_a_short_body_replaces_a_full_text_that_would_be_over_2000_and_the_run_says_why(small):
    config, issue = small
    plan = plan_mailto(config, issue, readers(50), 50)
    assert {b.body for b in plan.batches} == {"short"}
    assert any("full text makes a link of" in n and "short body" in n for n in plan.notes)
    body = dict(decode(plan.batches[0].url)[1])["body"]
    assert "Hello from the editors." in body
    for entry in issue.issue.entries:
        assert entry.chunk.title in body and entry.chunk.url in body
    assert config.web_url(issue.issue.id) in body


def test_the_sample_issue_gets_the_short_body_with_what_the_issue_holds(sample):
    config, issue = sample
    plan = plan_mailto(config, issue, readers(10), 50)
    assert {b.body for b in plan.batches} == {"short"}
    assert any("short body" in note for note in plan.notes)
    body = dict(decode(plan.batches[0].url)[1])["body"]
    assert body.startswith(issue.subject) and config.web_url(issue.issue.id) in body
    for entry in issue.issue.entries:
        assert f"- {entry.chunk.title}: {entry.chunk.url}" in body


def test_a_long_first_paragraph_falls_back_to_the_minimal_body(project):
    project.write("digests/001-first.yaml", project.root.joinpath(
        "digests/001-first.yaml").read_text().replace(
            "Hello from the editors.", "Hello from the editors, at length. " * 60))
    config, issue = rendered(project.root)
    assert len(mailto_link(config.sender.email, issue.subject,
                           body_text(config, issue, "short"))) > MAX_LINK
    plan = plan_mailto(config, issue, readers(10), 50)
    assert {b.body for b in plan.batches} == {"minimal"}
    assert any("minimal body" in note for note in plan.notes)
    body = dict(decode(plan.batches[0].url)[1])["body"]
    assert body.startswith(issue.subject) and config.web_url(issue.issue.id) in body


@pytest.mark.parametrize("kind", ["full", "short", "minimal"])
def test_every_body_carries_the_crisis_lines_the_disclaimer_and_how_to_unsubscribe(sample, kind):
    config, issue = sample
    body = body_text(config, issue, kind)
    for line in config.footer.crisis_lines:
        assert line.label in body and line.where in body
    assert config.footer.helpline_directory.url in body
    assert " ".join(config.footer.disclaimer.split()) in " ".join(body.split())
    if kind == "full":
        assert unsubscribe_link(config) in body
    else:
        assert (f"send a message to {config.sender.email} with the subject "
                f"\"{config.signup.unsubscribe_subject}\"") in body


# -- RFC 6068 and hostile input ---------------------------------------------------------------

# RFC 6068 qchar: unreserved, some-delims (less "+", which some apps read as a space), %XX.
QCHAR = r"(?:[A-Za-z0-9._~!$()*,;:@-]|%[0-9A-F]{2})"


def test_links_use_only_what_rfc_6068_allows(small, sample):
    for config, issue in (small, sample):
        for count in (1, 60):
            for batch in plan_mailto(config, issue, readers(count), 50).batches:
                url = batch.url
                assert not re.search(r"[\s+]", url), "a raw space, line break or '+'"
                assert re.fullmatch(rf"mailto:{QCHAR}+@{QCHAR}+\?bcc=(?:{QCHAR}|[@,])+"
                                    rf"&subject={QCHAR}*&body={QCHAR}*", url), url
                body = url.split("&body=")[1]
                assert "%0D%0A" in body
                assert "%20" in body
                assert not re.search(r"(?<!%0D)%0A|%0D(?!%0A)", body), "a lone CR or LF"


def test_hostile_addresses_names_and_subject_add_no_field_and_no_recipient(project):
    project.write("digests/001-first.yaml", project.root.joinpath(
        "digests/001-first.yaml").read_text().replace("A calm subject line", HOSTILE_SUBJECT))
    config, issue = rendered(project.root)
    assert issue.subject == HOSTILE_SUBJECT
    people = [Subscriber(normalise_address(address), name)
              for address, name in zip(HOSTILE_ADDRESSES, HOSTILE_NAMES * 2, strict=False)]
    for batch_size in (1, 3, 50):
        plan = plan_mailto(config, issue, people, batch_size)
        assert [s for b in plan.batches for s in b.recipients] == people
        for batch in plan.batches:
            values = batch_fields(config, batch)
            assert values["subject"] == HOSTILE_SUBJECT
            assert "\r" not in values["subject"] and "\n" not in values["subject"]
            query = urlsplit(batch.url).query
            assert query.count("&") == 2 and "?" not in query


@pytest.mark.parametrize("address", ["two@x.example,three@x.example", "spaced out@x.example",
                                     "<angle@x.example>", "line\r\nbreak@x.example", ""])
def test_an_address_that_could_split_the_bcc_list_is_refused(small, address):
    config, issue = small
    with pytest.raises(MailtoError, match="cannot go in a mailto: link"):
        plan_mailto(config, issue, [*readers(2), Subscriber(address)], 50)


def test_a_batch_size_below_one_is_refused(small):
    config, issue = small
    with pytest.raises(MailtoError, match="batch size"):
        plan_mailto(config, issue, readers(2), 0)


def test_mailto_link_without_bcc_is_unchanged_and_bcc_encodes_all_but_the_at_sign():
    assert (mailto_link("team@mindshape.io", "Hi there", "a\nb & c")
            == "mailto:team@mindshape.io?subject=Hi%20there&body=a%0D%0Ab%20%26%20c")
    assert mailto_link("team@mindshape.io", "Hi", bcc=[]) == "mailto:team@mindshape.io?subject=Hi"
    assert (mailto_link("t@x.io", "S", "B", bcc=["a+b@x.io", "c,d&e=f@x.io"])
            == "mailto:t@x.io?bcc=a%2Bb@x.io,c%2Cd%26e%3Df@x.io&subject=S&body=B")


# -- the files --------------------------------------------------------------------------------

class PageReader(HTMLParser):
    """What a browser makes of the page: links, script elements, visible text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.scripts = 0
        self.loads: list[str] = []
        self.text: list[str] = []
        self.title = ""
        self._in: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and "open" in (attrs.get("class") or "").split():
            self.links.append(attrs["href"])
        self.scripts += tag == "script"
        self.loads += [attrs[a] for a in ("src", "srcset", "data", "poster") if a in attrs]
        if tag == "link":
            self.loads.append(attrs.get("href", ""))
        self._in.append(tag)

    def handle_endtag(self, tag):
        if tag in self._in:
            del self._in[len(self._in) - 1 - self._in[::-1].index(tag):]

    def handle_data(self, data):
        if "title" in self._in:
            self.title += data
        elif "script" not in self._in and "style" not in self._in:
            self.text.append(data)


def page_of(config, issue, people, batch_size=50):
    plan = plan_mailto(config, issue, people, batch_size)
    files = mailto_files(plan, config, issue)
    reader = PageReader()
    reader.feed(files["mailto.html"].decode("utf-8"))
    return plan, files, reader


def test_mailto_txt_holds_the_links_one_per_line_in_order(sample):
    plan, files, _ = page_of(*sample, readers(120))
    assert set(files) == {"mailto.txt", "mailto.html"}
    assert files["mailto.txt"].decode("ascii").splitlines() == [b.url for b in plan.batches]
    assert files["mailto.txt"].endswith(b"\n")


def test_the_page_links_are_the_exact_links_numbered_in_order(sample):
    plan, files, page = page_of(*sample, readers(120))
    assert page.links == files["mailto.txt"].decode().splitlines()
    text = " ".join(" ".join(page.text).split())
    for batch in plan.batches:
        assert f"{batch.number}. Open draft for {len(batch.recipients)} recipients" in text
    assert "contains subscribers' email addresses" in text
    assert "short" in text  # which body the drafts carry
    assert page.loads == [] and page.scripts == 1


def test_hostile_names_and_subject_are_shown_as_text_never_run(project):
    project.write("digests/001-first.yaml", project.root.joinpath(
        "digests/001-first.yaml").read_text().replace("A calm subject line", HOSTILE_SUBJECT))
    config, issue = rendered(project.root)
    people = [Subscriber(normalise_address(a), n)
              for a, n in zip(HOSTILE_ADDRESSES, HOSTILE_NAMES * 2, strict=False)]
    plan, files, page = page_of(config, issue, people, 3)
    html = files["mailto.html"].decode()
    assert page.scripts == 1 and html.count("<script") == 1, "only the page's own script"
    assert page.links == [b.url for b in plan.batches]
    assert HOSTILE_SUBJECT in page.title
    shown = "".join(page.text)
    assert HOSTILE_SUBJECT in shown
    for person in people:
        assert person.email in shown
        assert " ".join(person.name.split()) in " ".join(shown.split())
    assert "alert(" not in html.split("<script>")[1]


def test_marks_are_keyed_by_issue_batch_and_content(sample):
    config, issue = sample
    first, second = (page_of(config, issue, people)[1]["mailto.html"].decode()
                     for people in (readers(3), readers(3, "example.org")))
    keys = [re.findall(r'data-key="([^"]+)"', page) for page in (first, second)]
    assert keys[0][0].startswith("mindshape-mailto:002-parts-that-help:1:")
    assert keys[0] != keys[1], "a later run's batch 1 must not show as already done"


# -- in a browser -----------------------------------------------------------------------------

# Runs before the page's script; stops mailto: links from leaving the page, nothing else.
NO_MAIL_APP = """window.addEventListener("click", (event) => {
  const link = event.target.closest("a[href^='mailto:']");
  if (link) { event.preventDefault(); window.__opened = (window.__opened || []).concat(link.href); }
}, true);"""


def test_clicking_marks_a_batch_done_and_a_reload_keeps_it(sample, tmp_path, browser):
    plan, files, _ = page_of(*sample, readers(120))
    path = tmp_path / "mailto.html"
    path.write_bytes(files["mailto.html"])
    page = browser.new_page()
    errors: list[str] = []
    requested: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.route("**/*", lambda route: (requested.append(route.request.url),
                                      route.continue_() if route.request.url.startswith(
                                          "file:") else route.abort()))
    page.add_init_script(NO_MAIL_APP)
    page.goto(path.as_uri())
    items = page.locator("li[data-key]")
    assert items.count() == len(plan.batches)
    items.nth(0).locator("a.open").click()
    assert page.evaluate("window.__opened") == [plan.batches[0].url]
    items.nth(2).locator("input[type=checkbox]").check()
    page.reload()
    done = [("done" in (items.nth(i).get_attribute("class") or "")) for i in
            range(items.count())]
    assert done == [i in (0, 2) for i in range(len(plan.batches))]
    assert items.nth(0).locator("input[type=checkbox]").is_checked()
    assert page.locator("#progress").inner_text().startswith(f"2 of {len(plan.batches)}")
    items.nth(0).locator("input[type=checkbox]").uncheck()  # the draft was not sent
    page.reload()
    assert "done" not in (items.nth(0).get_attribute("class") or "")
    assert page.url == path.as_uri()
    assert errors == [], errors  # the script ran under the page's CSP
    assert requested == [path.as_uri()] * 3


@pytest.mark.parametrize("body", ["Please remove me.", "Line one\nline two\n", "Ends in CR\r",
                                  "Ends in CRLF\r\n", "Mixed\r\nbreaks\rhere\n", "Zoë & 🌿 100%"])
def test_an_unsubscribe_link_is_the_link_of_the_body_with_the_address_below_it(project, body):
    """The constant start is encoded once per config; the result must not differ from
    encoding the whole body with the address each time."""
    import dataclasses
    import random

    config = load_project(project.root).config
    config = dataclasses.replace(config, signup=dataclasses.replace(
        config.signup, unsubscribe_body=body))
    alphabet = "abcXYZ019.-_+=&?%#'/!$*{}|~^`\n\r"
    generator = random.Random(6068)
    addresses = [*HOSTILE_ADDRESSES, "\nleading@x.example", "\r\n@x.example"] + [
        "".join(generator.choices(alphabet, k=generator.randint(1, 30))) + "@x.example"
        for _ in range(2000)]
    for address in addresses:
        assert unsubscribe_link(config, address) == mailto_link(
            config.sender.email, config.signup.unsubscribe_subject, f"{body}\n\n{address}")
    assert unsubscribe_link(config) == mailto_link(
        config.sender.email, config.signup.unsubscribe_subject, body)


def test_values_are_encoded_as_quote_encodes_them_with_crlf_line_breaks():
    """_encode skips quote() for text it would leave unchanged: the result must not differ."""
    import random
    from urllib.parse import quote

    from newsletter.mail.mailto import _RAW_IN_VALUE, _encode

    generator = random.Random(3986)
    alphabet = [chr(n) for n in range(32, 127)] + ["\r", "\n", "\r\n", "é", "🌿", "\x00", "\t"]
    values = ["", "reader1@example.org", "a+b@x.example"] + [
        "".join(generator.choices(alphabet, k=generator.randint(0, 12))) for _ in range(20_000)]
    for value in values:
        expected = quote(value.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\r\n"),
                         safe=_RAW_IN_VALUE)
        assert _encode(value) == expected, value


def test_the_welcomes_short_body_lists_no_empty_in_this_issue(sample_project):
    # The welcome has no pieces: its short body said "In this issue:" over nothing.
    project = load_project(sample_project.root)
    welcome = render_welcome(project)
    body = body_text(project.config, welcome, "short")
    assert "In this issue" not in body
    assert body.startswith(welcome.issue.subject) and "Educational, not diagnostic." in body
    issue = rendered(sample_project.root, "002-parts-that-help")
    assert "In this issue:\n- " in body_text(*issue, "short")

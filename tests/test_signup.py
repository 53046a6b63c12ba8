"""The site's signup snippet comes from newsletter.yaml, so the site and the pipeline agree."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import unquote, urlsplit

from newsletter.mail.mailto import unsubscribe_link
from newsletter.source.config import load_config
from newsletter.web.signup import signup_html, subscribe_link


def decode(url: str) -> tuple[str, dict[str, str]]:
    parts = urlsplit(url)
    assert parts.scheme == "mailto" and not parts.fragment
    pairs = [pair.split("=") for pair in parts.query.split("&")]
    assert all(len(pair) == 2 for pair in pairs)
    return unquote(parts.path), {name: unquote(value) for name, value in pairs}


class Snippet(HTMLParser):
    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[tuple[str, str]] = []  # (class, href)
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a":
            self.links.append((attrs.get("class") or "", attrs["href"]))
        assert tag not in ("script", "img", "link", "iframe", "form")

    def handle_data(self, data):
        self.text.append(data)

    @property
    def words(self) -> str:
        return " ".join("".join(self.text).split())


def test_the_subscribe_link_opens_a_message_to_the_sender_with_the_configured_words(project):
    config = load_config(project.root)
    to, fields = decode(subscribe_link(config))
    assert to == config.sender.email == "team@mindshape.io"
    assert fields == {"subject": config.signup.subscribe_subject,
                      "body": config.signup.subscribe_body}


def test_the_snippet_links_subscribe_and_unsubscribe_and_says_what_clicking_does(project):
    config = load_config(project.root)
    snippet = Snippet(signup_html(config))
    hrefs = [href for _, href in snippet.links]
    assert (hrefs[0], hrefs[-1]) == (subscribe_link(config), unsubscribe_link(config))
    assert ("Clicking opens your email app with a pre-filled message to team@mindshape.io. "
            "Just hit Send.") in snippet.words
    assert "Unsubscribe" in snippet.words


def test_the_snippet_follows_the_config(project):
    before = signup_html(load_config(project.root))
    path = project.root / "newsletter.yaml"
    text = path.read_text(encoding="utf-8")
    for old, new in (("email: team@mindshape.io", "email: hello@mindshape.example"),
                     ("subscribe_subject: Subscribe to the Mindshape newsletter",
                      'subscribe_subject: "Sign me up: <news> & \'more\' #1 ?cc=x@y.example"'),
                     ("subscribe_body: Please add me to the Mindshape newsletter.",
                      'subscribe_body: "Add me, please.\\nThanks & bye"')):
        assert old in text
        text = text.replace(old, new)
    path.write_text(text, encoding="utf-8")
    config = load_config(project.root)
    html = signup_html(config)
    assert html != before
    snippet = Snippet(html)
    to, fields = decode(snippet.links[0][1])
    assert to == "hello@mindshape.example"
    assert fields == {"subject": "Sign me up: <news> & 'more' #1 ?cc=x@y.example",
                      "body": "Add me, please.\r\nThanks & bye"}
    assert "pre-filled message to hello@mindshape.example. Just hit Send." in snippet.words
    assert decode(snippet.links[1][1])[0] == "hello@mindshape.example"

"""The review .eml: a message any mail program reads the same way."""

from __future__ import annotations

import re

import pytest
from conftest import chunk_file, issue_file
from helpers import lf, mailparser, parse_eml, parts


@pytest.fixture
def eml(sample_project):
    result = sample_project.run("build", "2")
    assert result.exit_code == 0, result.stderr
    return sample_project.out / "002-parts-that-help" / "email.eml"


def test_parses_with_the_standard_library_without_defects(eml):
    message = parse_eml(eml)
    assert message.defects == []
    for part in message.walk():
        assert part.defects == [], part.get_content_type()


def test_is_multipart_alternative_with_text_first_then_html_both_utf8(eml):
    message = parse_eml(eml)
    assert message.get_content_type() == "multipart/alternative"
    kinds = [(p.get_content_type(), p.get_content_charset()) for p in message.iter_parts()]
    assert kinds == [("text/plain", "utf-8"), ("text/html", "utf-8")]


def test_parts_are_exactly_the_files_written(eml):
    text, html = parts(parse_eml(eml))
    assert text == (eml.parent / "email.txt").read_text(encoding="utf-8")
    assert html == (eml.parent / "email.html").read_text(encoding="utf-8")


def test_review_copy_goes_from_the_sender_to_the_sender(eml):
    message = parse_eml(eml)
    assert str(message["From"]) == "Mindshape <team@mindshape.io>"
    assert str(message["To"]) == "team@mindshape.io"
    assert str(message["Reply-To"]) == "team@mindshape.io"
    assert message["Subject"] == "The parts of you that are trying to help"


def test_list_headers(eml):
    message = parse_eml(eml)
    assert message["List-Id"] == "Mindshape newsletter <newsletter.mindshape.io>"
    assert message["List-Unsubscribe"] == (
        "<mailto:team@mindshape.io?subject=Unsubscribe%20from%20the%20Mindshape%20newsletter"
        "&body=Please%20remove%20me%20from%20the%20Mindshape%20newsletter.>")


def test_message_id_is_on_the_sender_domain_and_unique_per_build(sample_project, eml):
    first = parse_eml(eml)["Message-ID"]
    assert re.fullmatch(r"<[0-9a-f]{32}@mindshape\.io>", first)
    sample_project.run("build", "2")
    assert parse_eml(eml)["Message-ID"] != first


def test_wire_format_crlf_and_short_lines(eml):
    data = eml.read_bytes()
    assert b"\r\n" in data
    assert re.search(rb"(?<!\r)\n", data) is None, "bare LF"
    lines = data.split(b"\r\n")
    assert max(len(line) for line in lines) <= 998
    body = data.split(b"\r\n\r\n", 1)[1]
    # Quoted-printable bodies: RFC 2045's 76 characters.
    assert max(len(line) for line in body.split(b"\r\n")) <= 76
    assert data.isascii()


def test_independent_parser_agrees_with_the_standard_library(eml):
    ours = parse_eml(eml)
    theirs = mailparser(eml)
    text, html = parts(ours)
    assert theirs["subject"] == ours["Subject"]
    assert theirs["from"] == [{"name": "Mindshape", "address": "team@mindshape.io"}]
    assert [a["address"] for a in theirs["to"]] == ["team@mindshape.io"]
    assert theirs["cc"] == [] and theirs["bcc"] == []
    assert theirs["messageId"] == ours["Message-ID"]
    assert theirs["listUnsubscribe"] == ours["List-Unsubscribe"]
    assert theirs["attachments"] == 0
    assert lf(theirs["text"]).rstrip("\n") == text.rstrip("\n")
    assert lf(theirs["html"]).rstrip("\n") == html.rstrip("\n")


def test_unicode_subject_is_encoded_and_decodes_the_same_in_both_parsers(project):
    subject = "Café, 日本語 and a seedling 🌱"
    project.write("digests/001-first.yaml", issue_file(subject=subject))
    project.write("content/alpha.md", chunk_file("alpha", title="Résumé 日本語 🌿"))
    assert project.run("build").exit_code == 0
    eml = project.out / "001-first" / "email.eml"
    raw_headers = eml.read_bytes().split(b"\r\n\r\n", 1)[0]
    assert b"=?utf-8?" in raw_headers, "non-ASCII subject must be RFC 2047 encoded"
    message = parse_eml(eml)
    theirs = mailparser(eml)
    assert message["Subject"] == subject == theirs["subject"]
    text, html = parts(message)
    assert "Résumé 日本語 🌿" in text and "Résumé 日本語 🌿" in html
    assert "Résumé 日本語 🌿" in theirs["text"] and "Résumé 日本語 🌿" in theirs["html"]


def test_hostile_subject_adds_no_header(project):
    subject = "Hi <b>there</b> Bcc: x@evil.example"
    project.write("digests/001-first.yaml", issue_file(subject=subject))
    assert project.run("build").exit_code == 0
    eml = project.out / "001-first" / "email.eml"
    message = parse_eml(eml)
    theirs = mailparser(eml)
    assert "Bcc" not in message and theirs["bcc"] == []
    assert message["Subject"] == subject == theirs["subject"]
    assert theirs["headerNames"] == ["from", "to", "reply-to", "subject", "date", "message-id",
                                     "list-id", "list-unsubscribe", "mime-version", "content-type"]


def test_same_envelope_gives_the_same_bytes(sample_project):
    from conftest import FIXED_DATE

    from newsletter.mail.build import build_issue
    from newsletter.mail.message import Envelope
    from newsletter.source.project import load_project

    envelope = Envelope("team@mindshape.io", FIXED_DATE, "<fixed@mindshape.io>", "=_b")
    project = load_project(sample_project.root)
    first = build_issue(project, "2", sample_project.root / "a", envelope=envelope)
    second = build_issue(project, "2", sample_project.root / "b", envelope=envelope)
    for (path_a, _), (path_b, _) in zip(first.files, second.files, strict=True):
        assert path_a.read_bytes() == path_b.read_bytes()


def test_non_ascii_and_punctuated_sender_name_reads_the_same_in_both_parsers(project):
    config = project.root / "newsletter.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace(
        "sender:\n  name: Mindshape", 'sender:\n  name: "Mindshape, Café “Team”"'),
        encoding="utf-8")
    assert project.run("build").exit_code == 0
    eml = project.out / "001-first" / "email.eml"
    message = parse_eml(eml)
    theirs = mailparser(eml)
    assert message["From"].addresses[0].display_name == "Mindshape, Café “Team”"
    assert theirs["from"] == [{"name": "Mindshape, Café “Team”", "address": "team@mindshape.io"}]
    assert [a["address"] for a in theirs["to"]] == ["team@mindshape.io"]


@pytest.mark.parametrize("subject", [
    "Hello\r\nBcc: victim@example.com",
    "Hello\nX-Injected: yes",
    "Hello\u2028Bcc: victim@example.com",
    "Hello\x85Bcc: victim@example.com",
])
def test_a_line_break_in_the_subject_never_reaches_the_wire(project, subject):
    """Issue files refuse these; the message layer refuses them too, whatever the caller."""
    from conftest import FIXED_DATE

    from newsletter.errors import RenderError
    from newsletter.mail.mailto import unsubscribe_link
    from newsletter.mail.message import MessageFactory
    from newsletter.render.renderer import UNSUBSCRIBE_SLOT, RenderedIssue
    from newsletter.source.project import load_project

    project_data = load_project(project.root)
    config = project_data.config
    rendered = RenderedIssue(project_data.issues[0], subject, "preheader",
                             f"<a href='{UNSUBSCRIBE_SLOT}'>x</a>\n", f"{UNSUBSCRIBE_SLOT}\n")
    with pytest.raises(RenderError, match="line break"):
        MessageFactory(config, rendered, date=FIXED_DATE, boundary="=_b", draft=False).message(
            to=[("", "team@mindshape.io")], message_id="<x@mindshape.io>",
            unsubscribe_url=unsubscribe_link(config))


@pytest.fixture
def factory(sample_project):
    from conftest import FIXED_DATE

    from newsletter.mail.message import MessageFactory
    from newsletter.render.renderer import Renderer
    from newsletter.source.project import load_project

    project = load_project(sample_project.root)
    rendered = Renderer(project.root, project.config).render(project.issues[-1])
    return MessageFactory(project.config, rendered, date=FIXED_DATE, boundary="=_b", draft=True)


def test_message_pieces_are_the_message_and_share_what_every_message_has(factory):
    """Drafts are written from the pieces: the bodies must not be copied per message."""
    from newsletter.mail.mailto import unsubscribe_link

    built = []
    for address in ("ann@example.com", "bob@example.org"):
        kwargs = {"to": [("Ann", address)], "message_id": "<x@mindshape.io>",
                  "unsubscribe_url": unsubscribe_link(factory.config, address)}
        pieces = factory.message_pieces(**kwargs)
        assert b"".join(pieces) == factory.message(**kwargs)
        built.append(pieces)
    shared = [a for a, b in zip(*built, strict=True) if a is b]
    assert sum(map(len, shared)) > 0.9 * sum(map(len, built[0]))


LINK_STARTS = [
    "mailto:team@mindshape.io?subject=Unsubscribe&body=Please%20remove%20me.%0D%0A%0D%0A",
    "", "x", "=" * 80, "a" * 73 + "=b" + "c" * 74 + "=", "a&b<c>" * 40, "with spaces & tabs\t" * 9,
]


@pytest.mark.parametrize("start", LINK_STARTS)
def test_links_are_encoded_as_if_whole_though_their_start_is_encoded_once(start):
    """Every alignment of the per-subscriber tail against the start's lines, "=3D" cut
    points included: the result is the encoding of the whole link."""
    import html
    import random

    from newsletter.mail import qp
    from newsletter.mail.message import LinkEncoder

    generator = random.Random(2045)
    tails = ["", "=", "a@b.example"] + [
        "".join(generator.choices("ab=%.@&<", k=generator.randint(1, 160))) for _ in range(1500)]
    for escape in (html.escape, lambda text: text):
        encoder = LinkEncoder(start, escape)
        for url in [start + tail for tail in tails] + tails[3:50]:
            assert encoder.encode(url) == qp.encode(escape(url), soft_end=True), url


def test_the_real_unsubscribe_links_are_encoded_as_if_whole(factory):
    import html

    from newsletter.mail import qp
    from newsletter.mail.mailto import unsubscribe_link

    for n in range(1, 200):
        url = unsubscribe_link(factory.config, f"{'r' * n}=x@example.org")
        pieces = factory.message_pieces(to=[("", "team@mindshape.io")],
                                        message_id="<x@mindshape.io>", unsubscribe_url=url)
        assert qp.encode(url, soft_end=True) in pieces
        assert qp.encode(html.escape(url), soft_end=True) in pieces


NAME_PARTS = ["Ann", "O'Neil", "Lee-Smith", "Dr.", "Jr", "a", "x" * 20, "=?", "?=", "=?utf-8?q?x?=",
              '"', "\\", ",", ";", "<", ">", "(", ")", ":", "@", "[", "]", "!#$%&*+/=?^_`{|}~",
              "Zoë", "日本", "😀", "\t", "\r\n", "\u202e", "\x00", "\x7f", "\u00a0", " ", "  "]


def test_a_plain_name_on_one_line_gives_the_bytes_the_folding_path_gives():
    """address_header's fast path for 'To: Ann Lee <ann@example.com>' against the general
    path, on names and addresses around every limit (60-character names, 78 columns)."""
    import random

    from newsletter.mail import headers

    generator = random.Random(5322)
    fast = 0
    for _ in range(20_000):
        name = " ".join(generator.choices(NAME_PARTS[:7] * 6 + NAME_PARTS,
                                          k=generator.randint(0, 12)))[:generator.randint(0, 80)]
        local = "".join(generator.choices("abc.+=-_", k=generator.randint(1, 40)))
        address = generator.choice([f"{local}@example.com", f"{local}@x.io", "a@x.io",
                                    f"{local}<@x.io", 'a"b@x.io', "no-at-sign", "a b@x.io"])
        field = generator.choice(["To", "From", "Bcc", "Reply-To"])
        ours = _header_or_error(headers.address_header, field, [(name, address)])
        assert ours == _header_or_error(headers._folded_address_header, field, [(name, address)])
        fast += isinstance(ours, bytes) and headers._one_line(field, name, address) == ours
    assert fast > 2000  # the fast path well exercised
    for length in range(50, 80):  # and at its limits
        for name in ("x" * length, ("Ann O'Neil " * 8)[:length].strip()):
            for address in ("a@x.io", "ann@example.com"):
                assert headers.address_header("To", [(name, address)]) == \
                    headers._folded_address_header("To", [(name, address)])


def _header_or_error(make, *args) -> bytes | str:
    from newsletter.errors import RenderError

    try:
        return make(*args)
    except RenderError as exc:
        return str(exc)

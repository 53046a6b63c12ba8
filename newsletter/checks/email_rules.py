"""Rules on an issue and the email it renders to: links, images, subject, size, footer."""

from __future__ import annotations

import html as html_lib
import re
from dataclasses import replace
from urllib.parse import urlsplit

from ..errors import display_path
from ..mail.inbox_words import ALARMING
from ..source.compose import intro_line
from ..source.content import body_link_problems, link_problems
from ..source.fields import SHORTENERS
from ..source.models import Issue
from ..source.project import Project
from ..source.schedule import INTRO_PLACEHOLDER  # what `new` leaves for the editor
from ..source.yamlsource import dotted, load_yaml
from .findings import Finding, finding
from .registry import ARCHIVE, CHECK, PREFLIGHT, CheckContext, rule

GMAIL_CLIP_BYTES = 102_000
MAX_MAILTO = 2000
SUBJECT_MAX = 60

SELF_HARM = re.compile(r"(?i)\b(suicid\w*|self[- ]?harm\w*|harm(ing)? (yourself|myself|themselves)"
                       r"|kill(ing)? (yourself|myself|themselves)|end(ing)? (your|my|their) life"
                       r"|overdos\w*|cutting (yourself|myself))\b")


def check_links_and_images(html: str) -> list[Finding]:
    """Links and images in the rendered email. Those from the input files were checked with
    their file and line when read (fields.https_url, content.link_problems): what is found
    here comes from a template, and is reported once however often it is repeated."""
    findings: list[Finding] = []
    for href in _attribute_values(html, "a", "href"):
        scheme = urlsplit(href).scheme.lower()
        host = (urlsplit(href).hostname or "").lower() if scheme in ("http", "https") else ""
        if scheme in ("mailto", "tel", "sms"):
            if scheme == "mailto" and len(href) > MAX_MAILTO:
                findings.append(finding("error", "email", f"a mailto: link of {len(href):,} "
                                        f"characters, over {MAX_MAILTO:,} ({href[:40]}...)",
                                        "many mail apps cut longer links: shorten its body",
                                        "mailto-length"))
        elif scheme == "javascript":
            findings.append(finding("error", "email", f"a javascript: link ({href[:60]})",
                                    "mail apps block scripts: link to a page instead", "links"))
        elif scheme != "https":
            findings.append(finding("error", "email", f"the link {href[:80]!r} is not https",
                                    "link to the full https:// address", "links"))
        elif host in SHORTENERS:
            findings.append(finding("error", "email", f"the link {href[:80]!r} goes through the "
                                    f"URL shortener {host}", "link to the page itself: "
                                    "shorteners hide where a link goes and look like spam",
                                    "links"))
    for tag in re.findall(r"<img\b[^>]*>", html, re.IGNORECASE):
        src = _attribute(tag, "src") or ""
        alt = _attribute(tag, "alt")
        if not src.startswith("https://"):
            findings.append(finding("error", "email", f"the image {src[:80]!r} is not https",
                                    "use the image's https:// address", "images"))
        if alt is None or not alt.strip():
            findings.append(finding("error", "email", f"the image {src[:80]!r} has no alt text",
                                    "say what it shows in the chunk's image.alt", "images"))
    return list(dict.fromkeys(findings))  # a repeated link or image: one finding


def check_markdown_links(issue: Issue) -> list[Finding]:
    """Links in the intro that markdown-it leaves as text (javascript:, vbscript:, data:), and
    every link in a chunk's body that is not https or mailto (bodies are not validated when
    read, as no template of ours shows them), each at its line."""
    doc, _ = load_yaml(issue.path.read_text(encoding="utf-8"), issue.path)
    problems = link_problems(issue.intro, issue.path, intro_line(doc), "intro",
                             include="refused") if doc else []
    for entry in issue.entries:
        problems += body_link_problems(entry.chunk)
    return [replace(p, severity="error", rule="links") for p in problems]


def check_subject(issue: Issue) -> list[Finding]:
    subject = issue.subject.strip()
    found: list[tuple[str, str, str, str, str]] = []  # key, severity, message, hint, rule
    if not subject:
        found.append(("subject", "error", "the subject is empty", "write a subject", "subject"))
    if len(subject) > SUBJECT_MAX:
        found.append(("subject", "warning", f"the subject is {len(subject)} characters; phones "
                      f"show about {SUBJECT_MAX}", "shorten it", "subject"))
    letters = [c for c in subject if c.isalpha()]
    if len(letters) >= 4 and all(c.isupper() for c in letters):
        found.append(("subject", "warning", "the subject is in capitals",
                      "write it in sentence case: capitals read as shouting", "subject"))
    alarming = ALARMING.search(subject)
    if alarming:
        found.append(("subject", "warning", f"the subject says {alarming.group(0)!r}",
                      "keep the subject gentle: crisis words belong in the body, behind a "
                      "content warning, not in an inbox list", "gentle-subject"))
    if "!!" in subject or subject.count("!") > 1:
        found.append(("subject", "warning", "the subject has several exclamation marks",
                      "one at most, or none", "subject"))
    preheader = issue.preheader.strip()
    alarming = ALARMING.search(preheader)
    if alarming:
        found.append(("preheader", "warning", f"the preheader says {alarming.group(0)!r}",
                      "keep it gentle: the inbox list shows it beside the subject, before any "
                      "content warning", "gentle-subject"))
    if not preheader:
        found.append(("preheader", "warning", "the preheader is empty", "write one line that "
                      "follows the subject in the inbox list", "preheader"))
    elif subject and (_same(preheader, subject) or _same(preheader[:len(subject)], subject)):
        found.append(("preheader", "warning", "the preheader repeats the subject",
                      "say something the subject does not", "preheader"))
    # The issue file is read for line numbers only when there is something to point at.
    return [finding(severity, _where(issue, (key,)), message, hint, rule)
            for key, severity, message, hint, rule in found]


def check_intro(issue: Issue) -> list[Finding]:
    if INTRO_PLACEHOLDER.lower() in issue.intro.lower():
        return [finding("error", _where(issue, ("intro",)), "the intro is still the placeholder "
                        "`new` wrote", "write the intro", "intro")]
    return []


def check_sent_before(project: Project, issue: Issue) -> list[Finding]:
    findings = []
    earlier = {entry.chunk.id: other for other in project.issues if other.number < issue.number
               for entry in other.entries}
    for index, entry in enumerate(issue.entries):
        if entry.chunk.id in earlier:
            other = earlier[entry.chunk.id]
            findings.append(finding("warning", _where(issue, ("chunks", index)),
                                    f"{entry.chunk.id!r} was already in issue {other.number} "
                                    f"({other.id})", "pick an unsent chunk, or say in its note "
                                    "why it is here again", "sent-before"))
    return findings


def check_content_warnings(issue: Issue) -> list[Finding]:
    """Self-harm or suicide mentioned where no content warning comes first: a chunk without
    one, the issue's intro, an editor's note on a chunk without one."""
    findings = []
    for key, text in [(("intro",), issue.intro)] + [
            (("chunks", index, "note"), entry.note)
            for index, entry in enumerate(issue.entries)
            if entry.note and not entry.chunk.content_warning]:  # shown after its warning
        found = SELF_HARM.search(text)
        if found:
            findings.append(finding(
                "warning", _where(issue, key), f"{dotted(key)} speaks of {found.group(0)!r}, "
                "and nothing warns the reader first", "say it gently, or leave it to a chunk "
                "with a content_warning", "content-warning"))
    for entry in issue.entries:
        chunk = entry.chunk
        if chunk.content_warning:
            continue
        text = "\n".join((chunk.title, chunk.summary, chunk.body))
        found = SELF_HARM.search(text)
        if found:
            line = _line_in_file(chunk.path, found.group(0))
            findings.append(finding("warning", f"{_shown(chunk.path)}:{line}",
                                    f"speaks of {found.group(0)!r} without a content_warning",
                                    "add content_warning: \"Mentions ...\" to its front matter",
                                    "content-warning"))
    return findings


def check_size(html: str) -> list[Finding]:
    """Gmail's clipping. (Third-party resources need no rule here: the renderer refuses an
    email that would load any, so check reports that as its one error.)"""
    size = len(html.encode("utf-8"))
    if size <= GMAIL_CLIP_BYTES:
        return []
    # A warning, as `build` gives it: the files are fine, but Gmail hides the footer.
    return [finding("warning", "email", f"the HTML is {size / 1000:.1f} KB; Gmail clips over "
                    "102 KB and hides the rest, footer included",
                    "drop a chunk or shorten the intro", "size")]


def check_crisis_lines(project: Project, html: str, text: str) -> list[Finding]:
    """Every crisis line of newsletter.yaml and the helpline directory, in both parts."""
    footer = project.config.footer
    needed = [(f"the crisis line {line.label}", line.label) for line in footer.crisis_lines]
    needed.append(("the helpline directory", footer.helpline_directory.url.split("//")[1]))
    return _missing(needed, html, text, "crisis-line")


def check_disclaimer(project: Project, html: str, text: str) -> list[Finding]:
    disclaimer = " ".join(project.config.footer.disclaimer.split())
    return _missing([("the disclaimer", disclaimer)], html, text, "disclaimer")


def check_unsubscribe(html: str, text: str, unsubscribe_url: str) -> list[Finding]:
    findings = []
    if f'href="{html_lib.escape(unsubscribe_url)}"' not in html:
        findings.append(finding("error", "email (HTML part)", "the unsubscribe link is missing",
                                "keep {{ unsubscribe_url }} in the template", "unsubscribe"))
    if unsubscribe_url not in text:
        findings.append(finding("error", "email (text part)", "the unsubscribe link is missing",
                                "keep {{ unsubscribe_url }} in the template", "unsubscribe"))
    return findings


def _missing(needed: list[tuple[str, str]], html: str, text: str, rule_id: str) -> list[Finding]:
    """An error for each (what, words) whose words the HTML or the text part lacks."""
    shown = " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", html)).split())
    flat_text = " ".join(text.split())
    return [finding("error", f"email ({part} part)", f"{what} is missing",
                    "keep the footer partial in the template", rule_id)
            for what, words in needed
            for part, content in (("HTML", shown), ("text", flat_text)) if words not in content]


def _attribute_values(html: str, tag: str, name: str) -> list[str]:
    return [html_lib.unescape(value) for match in re.finditer(rf"<{tag}\b[^>]*>", html, re.I)
            if (value := _attribute(match.group(0), name, raw=True)) is not None]


def _attribute(tag: str, name: str, raw: bool = False) -> str | None:
    match = re.search(rf'\s{name}\s*=\s*("([^"]*)"|\'([^\']*)\')', tag, re.IGNORECASE)
    if not match:
        return None
    value = match.group(2) if match.group(2) is not None else match.group(3)
    return value if raw else html_lib.unescape(value)


def _where(issue: Issue, key: tuple) -> str:
    doc, _ = load_yaml(issue.path.read_text(encoding="utf-8"), issue.path)
    line = doc.line_of(key) if doc else 1
    return f"{_shown(issue.path)}:{line}"


def _line_in_file(path, words: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if words.lower() in line.lower():
            return number
    return 1


def _shown(path) -> str:
    return display_path(path)


def _same(a: str, b: str) -> bool:
    return " ".join(a.casefold().split()).strip(" .!?") == " ".join(b.casefold().split()).strip(
        " .!?")


# The rules, in the order their findings are shown. The footer's are errors whatever a
# setting says: every email carries the crisis lines, the disclaimer and the unsubscribe link.
QUICK = (PREFLIGHT, CHECK)


@rule("links", stages=QUICK, order=10, needs_email=True)
def _links(context: CheckContext) -> list[Finding]:
    return check_links_and_images(context.html)


@rule("subject", stages=(PREFLIGHT, CHECK, ARCHIVE), order=20)
def _subject(context: CheckContext) -> list[Finding]:
    return check_subject(context.issue)


@rule("intro", stages=(PREFLIGHT, CHECK, ARCHIVE), order=30)
def _intro(context: CheckContext) -> list[Finding]:
    return check_intro(context.issue)


@rule("size", stages=QUICK, order=40, needs_email=True)
def _size(context: CheckContext) -> list[Finding]:
    return check_size(context.html)


@rule("crisis-line", stages=QUICK, order=50, needs_email=True, severity="error")
def _crisis_lines(context: CheckContext) -> list[Finding]:
    return check_crisis_lines(context.project, context.html, context.text)


@rule("disclaimer", stages=QUICK, order=60, needs_email=True, severity="error")
def _disclaimer(context: CheckContext) -> list[Finding]:
    return check_disclaimer(context.project, context.html, context.text)


@rule("unsubscribe", stages=QUICK, order=70, needs_email=True, severity="error")
def _unsubscribe(context: CheckContext) -> list[Finding]:
    return check_unsubscribe(context.html, context.text, context.unsubscribe_url)


# contrast.py: 80


@rule("markdown-links", stages=(CHECK,), order=90)
def _markdown_links(context: CheckContext) -> list[Finding]:
    return check_markdown_links(context.issue)


@rule("sent-before", stages=(CHECK,), order=100)
def _sent_before(context: CheckContext) -> list[Finding]:
    return check_sent_before(context.project, context.issue)


@rule("content-warning", stages=(CHECK,), order=110)
def _content_warnings(context: CheckContext) -> list[Finding]:
    return check_content_warnings(context.issue)

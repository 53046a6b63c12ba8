"""Issue -> MJML -> HTML, and the plain-text twin from the same data through its own template."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import html as html_lib
import re
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import jinja2
from mjml import mjml2html

from ..errors import NewsletterError, Problem, RenderError, ValidationError, display_path
from ..source.config import Config
from ..source.inputs import TEMPLATES_DIR, link_out_of_project
from ..source.models import Issue
from .inbox import DiscreetVariant, Inbox, check_discreet
from .markup import TEXT_WIDTH, markdown_to_html, markdown_to_text, underline, wrap

# Compiled templates, kept between runs; safe to delete.
CACHE_DIR = ".cache"

# Rendered into both parts where the unsubscribe link goes, so an issue is
# rendered once and each recipient costs only a string replacement.
UNSUBSCRIBE_SLOT = "x-mindshape-unsubscribe-slot"


@dataclass(frozen=True)
class RenderedIssue:
    """An issue rendered once; `parts()` fills in the one thing that differs per recipient.

    `discreet`: set in the discreet variant (render/inbox.py), whose `subject` and
    `preheader` are the neutral ones; the message engine takes its From name from it."""

    issue: Issue
    subject: str
    preheader: str
    html_with_slot: str
    text_with_slot: str
    discreet: DiscreetVariant | None = None

    def parts(self, unsubscribe_url: str) -> tuple[str, str]:
        """(html, text) with this recipient's unsubscribe link."""
        return (self.html_with_slot.replace(UNSUBSCRIBE_SLOT, html_lib.escape(unsubscribe_url)),
                self.text_with_slot.replace(UNSUBSCRIBE_SLOT, unsubscribe_url))


# The welcome new subscribers get once (emit/welcome.py): its words are in its templates;
# these are what an inbox list shows and what a short mailto: body starts with.
WELCOME = "welcome"
WELCOME_SUBJECT = "Welcome to the {name} newsletter"
WELCOME_PREHEADER = "What you signed up for, how often it comes, and how to leave in one step."
# The short body of a mailto: link starts with the intro's first paragraph: this one.
WELCOME_INTRO = ("Thank you for signing up: long-form attachment content, once every {weeks} "
                 "weeks at most. Did not ask for this? One reply with \"unsubscribe\" ends it, "
                 "and nothing more will come.")


@dataclass(frozen=True)
class Welcome:
    """What templates/welcome.*.j2 see as `welcome`."""

    subject: str
    preheader: str
    latest: Issue | None


class Renderer:
    """Renders issues with the templates in one folder; build it once, render many."""

    def __init__(self, root: Path, config: Config) -> None:
        self.config = config
        self.folder = root / TEMPLATES_DIR
        loader = _ProjectTemplates(root, self.folder)
        # The MJML templates produce markup: every value is escaped unless marked safe.
        self.html_env = _environment(root, "html", loader, autoescape=True)
        # The text templates produce plain text, where HTML escaping would show as '&amp;'.
        # Values are still data, never template code: Jinja does not evaluate them.
        self.text_env = _environment(root, "text", loader, autoescape=False, trim_blocks=True,
                                     lstrip_blocks=True, keep_trailing_newline=True)
        for env in (self.html_env, self.text_env):
            env.filters.update(longdate=_long_date, monthyear=month_year,
                               host=lambda url: urlsplit(url).hostname or url)
        self.html_env.filters["markdown"] = markdown_to_html
        self.text_env.filters.update(markdown_text=markdown_to_text, wrap=_wrap_filter,
                                     underline=underline)

    def render(self, issue: Issue, discreet: DiscreetVariant | None = None) -> RenderedIssue:
        """The issue; with `discreet`, its discreet variant (render once per variant)."""
        inbox = discreet.inbox if discreet else Inbox(issue.subject, issue.preheader)
        context = {"issue": issue, "config": self.config, "unsubscribe_url": UNSUBSCRIBE_SLOT,
                   "inbox": inbox, "discreet": discreet}
        html, text = self._render_pair(issue.template, context)
        if discreet:
            check_discreet(issue.template, discreet, html, text,
                           (issue.subject, issue.preheader), (self.config.name,))
        return RenderedIssue(issue, inbox.subject, inbox.preheader, html, text, discreet)

    def render_welcome(self, issues: Sequence[Issue], today: dt.date,
                       discreet: DiscreetVariant | None = None) -> RenderedIssue:
        """The welcome (templates/welcome.*.j2), which is not an issue: it sees `config`,
        `unsubscribe_url` and `welcome` (`subject`, `preheader`, `latest`: the newest issue
        dated by `today`, whose page is on the web archive, or None).

        What stands for it where an issue is expected (RenderedIssue.issue, read by the
        emit modes) carries the latest issue's id and number, so any "on the web" link a
        mode writes points at the page the welcome links to, and no chunks. With `discreet`,
        the welcome's discreet variant (its subject is discreet.welcome_subject)."""
        published = [issue for issue in issues if issue.date <= today]
        latest = max(published, key=lambda issue: issue.number, default=None)
        subject = WELCOME_SUBJECT.format(name=self.config.name)
        cadence = self.config.cadence
        weeks = f"{cadence.min_days // 7}-{cadence.max_days // 7}"
        welcome = Welcome(subject, WELCOME_PREHEADER, latest)
        carrier = Issue(latest.id if latest else WELCOME, self.folder / f"{WELCOME}.mjml.j2",
                        latest.number if latest else 0, latest.date if latest else today,
                        subject, WELCOME_PREHEADER, WELCOME_INTRO.format(weeks=weeks), (),
                        WELCOME)
        inbox = discreet.inbox if discreet else Inbox(subject, WELCOME_PREHEADER)
        context = {"welcome": welcome, "config": self.config, "unsubscribe_url": UNSUBSCRIBE_SLOT,
                   "inbox": inbox, "discreet": discreet}
        html, text = self._render_pair(WELCOME, context)
        if discreet:
            check_discreet(WELCOME, discreet, html, text, (subject, WELCOME_PREHEADER),
                           (self.config.name,))
        return RenderedIssue(carrier, inbox.subject, inbox.preheader, html, text, discreet)

    def _render_pair(self, template: str, context: dict) -> tuple[str, str]:
        """(html, text) of templates/TEMPLATE.mjml.j2 and TEMPLATE.txt.j2."""
        mjml_source = self._render_template(self.html_env, f"{template}.mjml.j2", context)
        text = _tidy_text(self._render_template(self.text_env, f"{template}.txt.j2", context))
        where = display_path(self.folder / f"{template}.mjml.j2")
        try:
            # fonts={}: MRML would otherwise add Google Fonts links for some font names.
            html = mjml2html(escape_for_mrml(mjml_source), fonts={})
        except (ValueError, RuntimeError) as exc:
            raise RenderError(f"{where}: MJML did not compile: {exc}",
                              "check that every MJML tag is closed and every attribute has a "
                              "quoted value") from None
        site = urlsplit(self.config.site_url).hostname or ""
        remote = third_party_resources(html, site)
        if remote:
            raise RenderError(f"{where}: opening the email would load from {', '.join(remote)}",
                              f"load nothing from outside {site}: no web fonts, no remote "
                              "images or stylesheets")
        # Ends in a newline as the .eml's part will: the file and the part stay identical.
        html = html.rstrip("\n") + "\n"
        return html, text

    def _render_template(self, env: jinja2.Environment, name: str, context: dict) -> str:
        where = display_path(self.folder / name)
        try:
            return env.get_template(name).render(context)
        except jinja2.TemplateNotFound as exc:
            raise RenderError(f"{where}: template {exc.name!r} not found",
                              "each template needs NAME.mjml.j2 and NAME.txt.j2") from None
        except jinja2.TemplateSyntaxError as exc:
            file = display_path(exc.filename) if exc.filename else where
            raise RenderError(f"{file}:{exc.lineno}: template syntax error: {exc.message}",
                              "fix the {{ }} or {% %} tag on that line") from None
        except jinja2.UndefinedError as exc:
            raise RenderError(f"{_template_place(exc, where)}: {exc.message}",
                              "use only the names README lists for templates") from None
        except UnicodeDecodeError:
            raise RenderError(f"{where}: a template is not UTF-8 text",
                              "save the templates as UTF-8") from None
        except NewsletterError:  # a template reached through a link out of the project
            raise
        except Exception as exc:  # any error raised inside a template is the template's to fix
            raise RenderError(f"{_template_place(exc, where)}: {type(exc).__name__}: {exc}",
                              "fix the expression on that line of the template") from None


# MRML (mjml-python 1.4.2) writes every attribute value through Rust's `{:?}`: a
# character Rust would escape comes out as `\u{fe0f}`, `\\` or `\n`, and a reader's
# mail app shows (or links to) that text. Measured over every code point, in `alt`,
# `href`, `title` and `aria-label` alike: the backslash, tab, CR, LF, DEL, every C1
# control, every space but U+0020 (U+00A0 too), line and paragraph separators, all
# format characters (U+200B, U+200D, U+FEFF, bidi controls), private-use and
# unassigned code points, and every grapheme extender (combining marks such as U+0308,
# variation selectors such as U+FE0F, some spacing marks such as U+09BE, U+FF9E)
# - over 950,000 code points. Other C0 controls and U+FFFE/U+FFFF stop it compiling.
# A numeric character reference (`&#xfe0f;`) passes through MRML unchanged, and
# browsers and mail apps decode it back to the character.
_MANGLED = re.compile(r'[^\x20-\x21\x23-\x5b\x5d-\x7e]')
# A start tag, its quoted attribute values (which may hold '>'), and the text of
# <mj-title>: MRML copies it into the body's aria-label, the one text it moves into an
# attribute (mj-preview, mj-text, mj-button, mj-raw, mj-table, mj-navbar-link,
# mj-social-element and the accordion keep their text as text).
_START_TAG = re.compile(r"""<[A-Za-z][^\s/>"']*(?:[^>"']|"[^"]*"|'[^']*')*>""")
_QUOTED_VALUE = re.compile(r"""(=\s*)(?:"([^"]*)"|'([^']*)')""")
_MJ_TITLE = re.compile(r"(<mj-title\b[^>]*>)(.*?)(</mj-title\s*>)", re.IGNORECASE | re.DOTALL)


def escape_for_mrml(mjml_source: str) -> str:
    """`mjml_source` with every character MRML would mangle in an attribute written as a
    numeric character reference: in every quoted attribute value and in <mj-title>.

    Applied once to the whole source, between Jinja and MJML, so it covers values from
    the data, literals in a template and the HTML the `markdown` filter makes alike.
    Every character outside printable ASCII is escaped, and the backslash and double
    quote in it, rather than only the ones MRML was measured to mangle: that set is
    Rust's own tables of printable and grapheme-extending characters, which Python's
    unicodedata neither exposes nor keeps in step with (a letter new to Python's
    Unicode version and not yet to Rust's would be mangled). The cost is a few bytes
    per such character, in attributes only; text between tags is left as written.
    """
    def references(text: str) -> str:
        return _MANGLED.sub(lambda char: f"&#x{ord(char.group(0)):x};", text)

    def value(match: re.Match[str]) -> str:
        equals, double, single = match.groups()
        if double is not None:
            return f'{equals}"{references(double)}"'
        return f"{equals}'{references(single)}'"

    escaped = _START_TAG.sub(lambda tag: _QUOTED_VALUE.sub(value, tag.group(0)), mjml_source)
    return _MJ_TITLE.sub(lambda title: title.group(1) + references(title.group(2))
                         + title.group(3), escaped)


class _ProjectTemplates(jinja2.FileSystemLoader):
    """The project's templates/, where a template reached through a link out of the
    project (templates/ itself, a partials folder, a file) is an input error: a
    FileSystemLoader would follow it, and what it points at would be mailed."""

    def __init__(self, root: Path, folder: Path) -> None:
        super().__init__(folder)
        self.root, self.folder = root, folder

    def get_source(self, environment: jinja2.Environment,
                   template: str) -> tuple[str, str | None, Callable[[], bool] | None]:
        path = self.folder.joinpath(*jinja2.loaders.split_template_path(template))
        problems: list[Problem] = []
        if link_out_of_project(path, self.root, problems):
            raise ValidationError(problems)
        return super().get_source(environment, template)


class _TemplateCache(jinja2.FileSystemBytecodeCache):
    """Jinja's bytecode cache, where a file that cannot be read or written (a full disk,
    a folder left by another user) means compiling again, never a failed render."""

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        with contextlib.suppress(OSError):
            super().load_bytecode(bucket)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        with contextlib.suppress(OSError):
            super().dump_bytecode(bucket)


def _environment(root: Path, kind: str, loader: jinja2.BaseLoader,
                 **options: bool) -> jinja2.Environment:
    """A strict Environment whose compiled templates are kept in the project's .cache/.

    Compiling the templates is most of a first render (about 30 ms of a 40 ms build
    step); the cache is checked against each template's source, so an edit recompiles.
    Its key is the template's file only, so each set of options gets its own folder.
    """
    settings = repr((jinja2.__version__, sorted(options.items()))).encode()
    folder = root / CACHE_DIR / f"templates-{kind}-{hashlib.sha256(settings).hexdigest()[:12]}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        cache = _TemplateCache(str(folder))
    except OSError:  # a read-only project still renders, compiling every time
        cache = None
    return jinja2.Environment(loader=loader, undefined=jinja2.StrictUndefined,
                              bytecode_cache=cache, **options)


def _template_place(exc: BaseException, fallback: str) -> str:
    """'templates/x.j2:12' from the innermost template frame of a traceback (Jinja maps them)."""
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if frame.filename.endswith(".j2"):
            return f"{display_path(frame.filename)}:{frame.lineno}"
    return fallback


# Where a mail client fetches something on opening: a tag attribute that loads a
# resource, and CSS (in <style> blocks and style attributes) url() and @import.
# <a href> is left out: it loads only on a click. Text between tags is never read.
_TAG = re.compile(r"<(?!!--)[^>]+>")
_STYLE_BLOCK = re.compile(r"<style\b[^>]*>(.*?)</style>", re.IGNORECASE | re.DOTALL)
_LOADING_ATTRIBUTE = re.compile(
    r"\b(?:src|srcset|background|href|poster|data)\s*=\s*([\"'])(.*?)\1", re.IGNORECASE)
_CSS_LOAD = re.compile(r"url\(\s*[\"']?([^)\"']*)|@import\s+(?:url\(\s*)?[\"']?([^;\"'\s)]*)",
                       re.IGNORECASE)
_LINK_TAG = re.compile(r"<a[\s>]", re.IGNORECASE)  # a link loads nothing until clicked
_STYLE_ATTRIBUTE = re.compile(r"\bstyle\s*=\s*([\"'])(.*?)\1", re.IGNORECASE | re.DOTALL)
_REMOTE = re.compile(r"^\s*(?:[a-z][a-z0-9+.-]*:)?//([^/\"'\s)>?#]+)", re.IGNORECASE)


def third_party_resources(html: str, site_host: str) -> list[str]:
    """Hosts other than `site_host` (or its subdomains) that opening `html` would contact."""
    addresses = []
    for block in _STYLE_BLOCK.finditer(html):
        addresses += [a or b for a, b in _CSS_LOAD.findall(block.group(1))]
    for tag in _TAG.finditer(html):
        tag_text = tag.group(0)
        # An attribute's character references are decoded before its value is a URL or
        # CSS: 'https&#x3a;//elsewhere' loads from elsewhere (escape_for_mrml writes them).
        if not _LINK_TAG.match(tag_text):
            addresses += [html_lib.unescape(value)
                          for _, value in _LOADING_ATTRIBUTE.findall(tag_text)]
        for _, style in _STYLE_ATTRIBUTE.findall(tag_text):
            addresses += [a or b for a, b in _CSS_LOAD.findall(html_lib.unescape(style))]
    found: list[str] = []
    for address in addresses:
        remote = _REMOTE.match(address)
        if remote:
            host = remote.group(1).rsplit("@", 1)[-1].split(":")[0].lower()
            if host != site_host and not host.endswith("." + site_host) and host not in found:
                found.append(host)
    return found


def _long_date(value: dt.date) -> str:
    return f"{value.day} {value:%B %Y}"


def month_year(value: dt.date) -> str:
    """'May 2026', in English whatever the machine's locale."""
    return f"{_MONTHS[value.month - 1]} {value.year}"


_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")


def _wrap_filter(value: str, indent: str = "", first: str | None = None) -> str:
    """Wrapped at TEXT_WIDTH, every line after `indent`; the first after `first` if given
    (a list item's '  - ')."""
    return wrap(value, TEXT_WIDTH, indent if first is None else first, indent)


def _tidy_text(text: str) -> str:
    """No trailing spaces, at most one blank line in a row, one final newline."""
    lines = [line.rstrip() for line in text.splitlines()]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines))
    return text.strip("\n") + "\n"

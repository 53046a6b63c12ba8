"""Typed reading of YAML mappings that collects every problem instead of stopping at the first."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable, Iterable
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

from ..errors import Problem
from .yamlsource import Key, YamlDocument, dotted

T = TypeVar("T")

_MISSING = object()


class Invalid(Exception):
    """Raised by a converter: what is wrong with a value, and how to fix it."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class FieldReader:
    """Reads the keys of one mapping in a YAML document, recording problems with their lines."""

    def __init__(self, doc: YamlDocument, problems: list[Problem], prefix: Key = (),
                 data: Any = _MISSING) -> None:
        self.doc = doc
        self.problems = problems
        self.prefix = prefix
        self.data = doc.data if data is _MISSING else data
        # Not a mapping: that one problem is reported, and nothing more about its keys.
        self.broken = not isinstance(self.data, dict)
        if self.broken:
            self.fail((), f"must be a mapping of 'key: value' lines, got {_describe(self.data)}",
                      "see README for the expected keys")
            self.data = {}

    def fail(self, key: Key, message: str, hint: str = "") -> None:
        full = self.prefix + key
        self.problems.append(Problem(self.doc.path, self.doc.line_of(full),
                                     dotted(full) or None, message, hint))

    def required(self, key: str, convert: Callable[[Any], T]) -> T | None:
        if self.broken:
            return None
        if key not in self.data:
            self.fail((key,), "is required", f"add a line '{key}: ...'")
            return None
        if self.data[key] is None:
            self._fail_empty(key)
            return None
        return self._convert(key, convert)

    def optional(self, key: str, convert: Callable[[Any], T], default: T | None = None) -> T | None:
        if key not in self.data:
            return default
        if self.data[key] is None:
            # Present but empty is a slip, not an absence: a 'content_warning:' left
            # blank must not send the piece out without its warning.
            self._fail_empty(key)
            return None
        return self._convert(key, convert)

    def _fail_empty(self, key: str) -> None:
        self.fail((key,), "is empty",
                  f"write a value after '{key}:', or remove the line if it is optional; "
                  "a value starting with # needs quotes, or YAML reads it as a comment")

    def _convert(self, key: str, convert: Callable[[Any], T]) -> T | None:
        try:
            return convert(self.data[key])
        except Invalid as exc:
            self.fail((key,), exc.message, exc.hint)
            return None

    def section(self, key: str, required: bool = True) -> FieldReader | None:
        """A reader for a nested mapping, or None (with a problem if it was required)."""
        if self.broken:
            return None
        value = self.data.get(key)
        if value is None:
            if key in self.data:
                self._fail_empty(key)
            elif required:
                self.fail((key,), "is required", f"add a section '{key}:' with its keys indented")
            return None
        if not isinstance(value, dict):
            self.fail((key,), f"must be a mapping of 'key: value' lines, got {_describe(value)}",
                      "indent its keys under it")
            return None
        return FieldReader(self.doc, self.problems, self.prefix + (key,), value)

    def reject_unknown(self, known: Iterable[str]) -> None:
        known = list(known)
        for key in self.data:
            if key not in known:
                self.fail((str(key),), "is not a known field",
                          "remove it or fix its spelling; known fields: " + ", ".join(known))


# Converters: each takes a raw YAML value and returns a typed one or raises Invalid.

_LINE_BREAKS = re.compile(r"[\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")


def _no_control_characters(value: str, *, multiline: bool) -> None:
    for char in value:
        if char in "\n\t" and multiline:
            continue
        if unicodedata.category(char) == "Cc" or (not multiline and _LINE_BREAKS.match(char)) \
                or char in "\u2028\u2029":
            raise Invalid(f"contains a control character or line break ({char!r})",
                          "remove it; write the value on one line" if not multiline
                          else "remove the invisible character")


def text(max_length: int | None = None, multiline: bool = False) -> Callable[[Any], str]:
    """A non-empty string (YAML numbers and dates are refused, not silently stringified)."""

    def convert(value: Any) -> str:
        if not isinstance(value, str):
            raise Invalid(f"must be text, got {_describe(value)}", "put the value in quotes")
        value = value.strip()
        if not value:
            raise Invalid("is empty", "write a value or remove the line")
        _no_control_characters(value, multiline=multiline)
        if max_length is not None and len(value) > max_length:
            raise Invalid(f"is {len(value)} characters long, over the limit of {max_length}",
                          "shorten it")
        return value

    return convert


# Characters that change what a reader sees without being seen: direction controls (a
# subject "\u202egnp.exe" reads "exe.png") and invisible ones. Joiners (U+200C, U+200D)
# are left alone: scripts and emoji need them. Refused in every value that becomes a
# header or an inbox line, so mail/headers.py's own guard never fires for validated input.
_HIDDEN = re.compile("[\u061c\u180e\u200b\u200e\u200f\u202a-\u202e\u2060-\u2064"
                     "\u2066-\u2069\ufeff]")
_BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def char_name(char: str) -> str:
    """'U+202E RIGHT-TO-LEFT OVERRIDE': a character an editor cannot see, named."""
    name = unicodedata.name(char, "")
    return f"U+{ord(char):04X}" + (f" {name}" if name else "")


def _hidden_character(char: str, position: int) -> Invalid:
    what = ("a direction control: the text after it is shown in another order than it is "
            "written" if _BIDI.match(char) else "an invisible character")
    return Invalid(f"contains {char_name(char)} at character {position}, {what}",
                   "delete it: it is invisible in most editors, so retype the text around "
                   "it if unsure")


def inbox_text(max_length: int | None = None) -> Callable[[Any], str]:
    """One line an inbox list shows (a subject, a preheader, a sender name): nothing hidden."""
    base = text(max_length)

    def convert(value: Any) -> str:
        value = base(value)
        hidden = _HIDDEN.search(value)
        if hidden:
            raise _hidden_character(hidden.group(0), hidden.start() + 1)
        return value

    return convert


def header_text(max_length: int | None = None, phrase: bool = False) -> Callable[[Any], str]:
    """Text that ends up in a mail header: one line, and nothing a mail reader would decode.

    A backslash is refused too: mail headers and MJML's title attribute both treat
    it as an escape. With `phrase`, the text stands before an <address> (List-Id),
    so the characters that would start another address or a comment are refused.
    """
    base = inbox_text(max_length)

    def convert(value: Any) -> str:
        value = base(value)
        if re.search(r"=\?[^?]*\?[bBqQ]\?", value):
            raise Invalid("contains '=?...?' which mail programs decode as an encoded word",
                          "rephrase without the '=?' sequence")
        if "\\" in value:
            raise Invalid("contains a backslash", "use a slash or rephrase")
        if phrase and re.search(r'[<>()",;:@\[\]]', value):
            raise Invalid("may not contain < > ( ) \" , ; : @ [ ]",
                          "use letters, digits, spaces, hyphens and full stops")
        return value

    return convert


# Hosts whose links hide where they go (and read as spam): refused in every URL field
# and Markdown link; `check` also reports them in links a template adds.
SHORTENERS = {"bit.ly", "t.co", "tinyurl.com", "goo.gl", "ow.ly", "buff.ly", "is.gd",
              "rebrand.ly", "lnkd.in", "cutt.ly", "shorturl.at", "tiny.cc", "rb.gy", "t.ly",
              "s.id", "v.gd", "bl.ink", "short.io", "soo.gd", "clck.ru", "trib.al", "dlvr.it"}
# What RFC 3986 allows in a URL as written; outside ASCII, only visible text is allowed.
_URL_ASCII = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
                       "-._~:/?#[]@!$&'()*+,;=%")


def https_url(value: Any) -> str:
    """An absolute https:// address; the one URL type of every input file.

    A character a link cannot carry as written is refused, never repaired: the text
    part shows the URL as <URL>, and a space, a bracket or an invisible character
    pasted with it would break the link or hide where it goes.
    """
    value = text()(value)
    for position, char in enumerate(value, 1):
        if char not in _URL_ASCII and (char.isascii()
                                       or unicodedata.category(char)[0] in "CZ"):
            raise _url_character(char, position)
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError:
        raise Invalid(f"is not a valid address: {value!r}",
                      "check the brackets and the host name") from None
    if parts.scheme != "https" or not host:
        raise Invalid(f"must be an absolute https:// address, got {value!r}",
                      "use the full address, starting with https://")
    if host.removeprefix("www.") in SHORTENERS:
        raise Invalid(f"goes through the URL shortener {host}",
                      "link to the page itself: shorteners hide where a link goes and look "
                      "like spam")
    return value


def _url_character(char: str, position: int) -> Invalid:
    where = f"at character {position}"
    if char == " ":
        return Invalid(f"contains a space {where}", "percent-encode spaces as %20")
    if not char.isascii():
        return Invalid(f"contains {char_name(char)} {where}, which a link cannot carry",
                       "delete it: it came with a pasted address and is invisible in most "
                       "editors; or type the address again")
    if char in "<>":
        return Invalid(f"contains {char!r} {where}",
                       "write the bare address, without angle brackets")
    encoded = f"%{ord(char):02X}"
    if char in "{}":
        return Invalid(f"contains {char!r} {where}",
                       f"write the real address in place of the placeholder; a {char!r} that "
                       f"belongs there is written {encoded}")
    return Invalid(f"contains {char!r} {where}", f"percent-encode it as {encoded}")


def iso_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise Invalid(f"must be a date as YYYY-MM-DD, got {_shown(value)}", "for example 2026-11-17")


def choice(options: Iterable[str]) -> Callable[[Any], str]:
    options = tuple(options)

    def convert(value: Any) -> str:
        if not isinstance(value, str) or value not in options:
            raise Invalid(f"must be one of {', '.join(options)}; got {_shown(value)}",
                          "pick one of the listed values")
        return value

    return convert


def text_list(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise Invalid(f"must be a list, got {_describe(value)}",
                      "write it as [a, b] or as '- a' lines")
    items = []
    for number, item in enumerate(value, 1):
        try:
            items.append(text()(item))
        except Invalid as exc:
            raise Invalid(f"item {number} {exc.message}", exc.hint) from None
    return tuple(items)


def positive_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise Invalid(f"must be a whole number of at least 1, got {_shown(value)}", "for example 3")
    return value


_ADDRESS = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
                      r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$")


def email_address(value: Any) -> str:
    value = text()(value)
    if not _ADDRESS.match(value):
        raise Invalid(f"must be a plain address like team@mindshape.io, got {value!r}",
                      "write only the address; the display name has its own field")
    return value


def matching(pattern: str, what: str, example: str, max_length: int = 200) -> Callable[[Any], str]:
    """Text that must match `pattern` entirely; `what` and `example` explain it to the editor."""
    compiled = re.compile(pattern)

    def convert(value: Any) -> str:
        value = text(max_length)(value)
        if not compiled.fullmatch(value):
            raise Invalid(f"must be {what}, got {value!r}", f"for example {example}")
        return value

    return convert


colour = matching(r"#[0-9a-fA-F]{6}", "a colour as #rrggbb", "#5b4b8a", 7)


def _shown(value: Any) -> str:
    """A value as the editor wrote it: text quoted, anything else described."""
    return repr(value) if isinstance(value, (str, int, float)) and not isinstance(value, bool) \
        else _describe(value)


def _describe(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (dt.date, dt.datetime)):
        return f"a date ({value})"
    if isinstance(value, (int, float)):
        return f"a number ({value})"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


# Crossref's pattern for the DOIs it has registered (74.4M of 74.9M match): "10.", a
# registrant of 4-9 digits, "/", a suffix of these characters; letters in any case.
_DOI = re.compile(r"10\.\d{4,9}/[-._;()/:A-Z0-9]+", re.IGNORECASE)
_DOI_PREFIX = re.compile(r"(?i)doi:\s*|https?://(?:dx\.)?doi\.org/")


def doi(value: Any) -> str:
    """A DOI as Crossref's pattern has it, written bare, as 'doi:10...' or as a doi.org
    link (https://doi.org/, http://dx.doi.org/); kept bare, shown as https://doi.org/<doi>."""
    written = text(300)(value)
    prefix = _DOI_PREFIX.match(written)
    bare = written[prefix.end():] if prefix else written
    if prefix and prefix.group(0).lower().startswith("http"):
        bare = unquote(bare)  # a doi.org link may carry the DOI percent-encoded
    if not prefix and "://" in written:
        host = urlsplit(written).hostname or "?"
        raise Invalid(f"is a link to {host}, not a DOI: {written!r}",
                      "write the DOI itself (10.xxxx/...), or put the link in the source's url")
    if _DOI.fullmatch(bare):
        return bare
    if not bare:
        raise Invalid(f"has nothing after {written!r}", "write the DOI, for example "
                      "10.1016/j.biopsycho.2006.06.009")
    if not bare.startswith("10."):
        raise Invalid(f"must start with '10.', got {written!r}",
                      "a DOI looks like 10.1016/j.biopsycho.2006.06.009")
    registrant, _, suffix = bare[3:].partition("/")
    if not (registrant.isascii() and registrant.isdigit() and 4 <= len(registrant) <= 9):
        raise Invalid(f"must have 4 to 9 digits between '10.' and '/', got {written!r}",
                      "copy the DOI from the article's page or its doi.org link")
    if not suffix:
        raise Invalid(f"has no suffix after '10.{registrant}/', got {written!r}",
                      "copy the whole DOI, the part after the '/' included")
    for position, char in enumerate(suffix, len(registrant) + 5):
        if not re.fullmatch(r"[-._;()/:A-Za-z0-9]", char):
            shown = char_name(char) if not char.isprintable() or char == " " else repr(char)
            raise Invalid(f"contains {shown}, which Crossref's DOIs do not have (character "
                          f"{position} of {bare!r})",
                          "copy the DOI again from the article's page; if it really has this "
                          "character, give the source a url instead")
    raise Invalid(f"is not a DOI: {written!r}", "a DOI looks like 10.1016/j.biopsycho.2006.06.009")


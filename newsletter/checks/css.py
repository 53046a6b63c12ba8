"""CSS in the templates that Gmail, Outlook for Windows or Apple Mail ignore, from caniemail's data.

The data (newsletter/data/caniemail-css.json) is read from the package, never fetched.
Only a feature whose newest test says "n" for a client is reported: "a" (partial) on
caniemail.com usually means "works, with caveats".
"""

from __future__ import annotations

import bisect
import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from .findings import Finding, finding
from .registry import CHECK, CheckContext, rule

DATA_FILE = "caniemail-css.json"

# Jinja tags, comments and expressions, and HTML comments (not conditional ones): blanked
# out before reading CSS, so '{{ light.accent }}' is no value and '}}' closes no block.
_MASKED = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}|<!--(?!\[if).*?-->", re.DOTALL)
_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
_CSS_STRING = re.compile(r"\"(?:[^\"\\\n]|\\.)*\"|'(?:[^'\\\n]|\\.)*'")
_STYLE_BLOCK = re.compile(r"(<(?:mj-)?style\b[^>]*>)(.*?)</(?:mj-)?style>", re.DOTALL | re.I)
_STYLE_ATTRIBUTE = re.compile(r"\sstyle\s*=\s*(?:\"([^\"]*)\"|'([^']*)')", re.I)
_MJML_TAG = re.compile(r"<mj-[a-z-]+\s[^>]*>", re.I)
_ATTRIBUTE = re.compile(r"\s([a-z-]+)\s*=\s*(?:\"[^\"]*\"|'[^']*')", re.I)
_PROPERTY = re.compile(r"-?-?[a-z][a-z0-9-]*")
_IMPORTANT = re.compile(r"!\s*important", re.I)

# MJML attributes that MJML writes out as the CSS property of the same name (or the one
# given). width, height and align are left out: MJML also turns them into HTML attributes.
_MJML_CSS = {name: name for name in (
    "background-color", "background-position", "background-repeat", "background-size",
    "border", "border-bottom", "border-left", "border-right", "border-top", "border-radius",
    "color", "direction", "font-family", "font-size", "font-style", "font-weight",
    "letter-spacing", "line-height", "padding", "padding-bottom", "padding-left",
    "padding-right", "padding-top", "text-decoration", "text-transform", "vertical-align")}
_MJML_CSS.update({"container-background-color": "background-color",
                  "background-url": "background-image", "inner-border-radius": "border-radius"})

# Properties caniemail files under another feature's slug (css-<property> is tried first).
_ALIASES = (
    (r"border-(top|bottom)-(left|right)-radius", "css-border-radius"),
    (r"border-(start|end)-(start|end)-radius", "css-border-radius-logical"),
    (r"border-(inline|block)", "css-border-inline-block"),
    (r"border-(inline|block)-(start|end|color|style|width)",
     "css-border-inline-block-individual"),
    (r"border-(inline|block)-(start|end)-(color|style|width)", "css-border-inline-block-longhand"),
    (r"border(-(top|right|bottom|left))?(-(width|style|color))?", "css-border"),
    (r"(margin|padding)-(top|right|bottom|left)", r"css-\1"),
    (r"(margin|padding)-(inline|block)", r"css-\1-inline-block"),
    (r"(margin|padding)-(inline|block)-(start|end)", r"css-\1-\2-start-end"),
    (r"top|right|bottom|left", "css-left-right-top-bottom"),
    (r"inset-.*", "css-inset"),
    (r"block-size", "css-block-inline-size"),
    (r"(row|column)-gap", "css-gap"),
    (r"columns|column-.*", "css-column-layout-properties"),
    (r"grid-template-.*", "css-grid-template"),
    (r"overflow-.*", "css-overflow"),
)
_DISPLAY = {"flex": "css-display-flex", "inline-flex": "css-display-flex",
            "grid": "css-display-grid", "inline-grid": "css-display-grid",
            "none": "css-display-none"}
_AT_RULES = {"import": "css-at-import", "font-face": "css-at-font-face",
             "supports": "css-at-supports", "keyframes": "css-at-keyframes"}
_MEDIA_FEATURES = (
    (r"prefers-color-scheme", "css-at-media-prefers-color-scheme"),
    (r"prefers-reduced-motion", "css-at-media-prefers-reduced-motion"),
    (r"orientation", "css-at-media-orientation"),
    (r"\bhover|any-hover", "css-at-media-hover"),
    (r"device-pixel-ratio", "css-at-media-device-pixel-ratio"),
)

# What a reader sees where a feature is ignored.
_DEGRADES = {
    "css-at-media": "the rules inside being ignored: narrow screens get the wide layout's "
                    "spacing",
    "css-at-media-prefers-color-scheme": "the light colours in dark mode (some clients "
                                         "invert them on their own)",
    "css-at-font-face": "the next font in the font stack",
    "css-at-import": "the imported styles not loading",
    "css-border-radius": "square corners",
    "css-box-shadow": "no shadow",
    "css-text-shadow": "no shadow",
    "css-background-image": "the background colour alone",
    "css-display-flex": "boxes stacked one under another",
    "css-display-grid": "boxes stacked one under another",
    "css-opacity": "fully opaque elements",
    "css-variables": "the declaration being dropped",
}
_DEGRADES_OTHERWISE = "the client's default look (the declaration is dropped)"


@dataclass(frozen=True)
class CssUse:
    """One use of a feature: its slug, how the template spells it, where, inside which @-rules."""

    slug: str
    name: str
    offset: int
    inside: tuple[str, ...] = ()


@cache
def caniemail() -> dict:
    """The extracted caniemail data: source, clients, features (slug -> title, support)."""
    text = resources.files("newsletter").joinpath("data", DATA_FILE).read_text("utf-8")
    return json.loads(text)


def check_template_css(templates_dir: Path, accepted: dict[str, str]) -> list[Finding]:
    """One warning per (feature, file) that a major client lacks, unless `accepted`."""
    data = caniemail()
    features = data["features"]
    findings: list[Finding] = []
    needed: set[str] = set()
    for path in sorted(templates_dir.rglob("*.j2")):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue  # rendering reports it, with the reason
        lines = [0] + [m.end() for m in re.finditer(r"\n", text)]
        where = f"{templates_dir.name}/{path.relative_to(templates_dir).as_posix()}"
        first: dict[str, tuple[int, str, list[str]]] = {}
        for use in template_css(text):
            clients = _lacking(features, use)
            if not clients:
                continue
            needed.add(use.slug)
            if use.slug in accepted:
                continue
            line = bisect.bisect_right(lines, use.offset)
            if use.slug not in first:
                first[use.slug] = (line, use.name, clients)
            else:
                first[use.slug][2].extend(c for c in clients if c not in first[use.slug][2])
        for slug, (line, name, clients) in sorted(first.items(), key=lambda item: item[1][0]):
            findings.append(_finding(data, slug, name, f"{where}:{line}", clients))
    findings += _stale_acceptances(features, accepted, needed)
    return findings


def template_css(text: str) -> list[CssUse]:
    """Every CSS feature a template uses: <mj-style>/<style> rules, style="", MJML attributes."""
    text = _MASKED.sub(_blank, text)
    uses: list[CssUse] = []
    for block in _STYLE_BLOCK.finditer(text):
        uses += _stylesheet(block.group(2), block.start(2))
    for attribute in _STYLE_ATTRIBUTE.finditer(text):
        group = 1 if attribute.group(1) is not None else 2
        for declaration in re.finditer(r"[^;]+", attribute.group(group)):
            uses += _declaration(declaration.group(0), attribute.start(group) + declaration.start(),
                                 ())
    for tag in _MJML_TAG.finditer(text):
        for attribute in _ATTRIBUTE.finditer(tag.group(0)):
            name = attribute.group(1).lower()
            slug = _property_slug(_MJML_CSS.get(name, ""), "")
            if slug:
                uses.append(CssUse(slug, _MJML_CSS[name], tag.start() + attribute.start(1)))
    return sorted(uses, key=lambda use: use.offset)


def _stylesheet(css: str, base: int) -> list[CssUse]:
    """Walk a stylesheet's blocks; declarations remember the @-rules they sit in."""
    css = _CSS_STRING.sub(_blank_inside, _CSS_COMMENT.sub(_blank, css))
    uses: list[CssUse] = []
    stack: list[tuple[str, tuple[str, ...]]] = []  # ("at" | "rule", @-rule slugs around it)
    start = 0
    for mark in re.finditer(r"[{};]", css):
        segment = css[start:mark.start()]
        offset = base + start + len(segment) - len(segment.lstrip())
        inside = stack[-1][1] if stack else ()
        in_rule = bool(stack) and stack[-1][0] == "rule"
        if mark.group(0) == "{" and segment.strip().startswith("@"):
            slugs = _at_rule_slugs(segment.strip())
            uses += [CssUse(slug, caniemail()["features"][slug]["title"], offset, inside)
                     for slug in slugs]
            declarations = segment.strip().lower().startswith(("@font-face", "@page"))
            stack.append(("rule" if declarations else "at", inside + tuple(slugs)))
        elif mark.group(0) == "{":
            stack.append(("rule", inside))
        elif segment.strip().startswith("@"):  # a statement: @import url(...);
            uses += [CssUse(slug, caniemail()["features"][slug]["title"], offset, inside)
                     for slug in _at_rule_slugs(segment.strip())]
        elif in_rule and segment.strip():
            uses += _declaration(segment.strip(), offset, inside)
        if mark.group(0) == "}" and stack:
            stack.pop()
        start = mark.end()
    return uses


def _declaration(text: str, offset: int, inside: tuple[str, ...]) -> list[CssUse]:
    """`property: value` -> the property's feature, and !important's."""
    offset += len(text) - len(text.lstrip())
    prop, colon, value = text.strip().partition(":")
    prop = prop.strip().lower()
    if not colon or not _PROPERTY.fullmatch(prop):
        return []
    uses = []
    slug = _property_slug(prop, value)
    if slug:
        name = f"{prop}:{value.strip().split()[0].lower()}" if slug in _DISPLAY.values() else prop
        uses.append(CssUse(slug, name, offset, inside))
    if _IMPORTANT.search(value):
        uses.append(CssUse("css-important", "!important", offset, inside))
    return uses


def _property_slug(prop: str, value: str) -> str | None:
    """The caniemail slug of a property (vendor prefix dropped), or None if it has none."""
    features = caniemail()["features"]
    if prop.startswith("--"):
        return "css-variables"
    prop = re.sub(r"^-(webkit|moz|ms|o)-", "", prop)
    if prop == "display":
        words = value.strip().lower().split()
        return _DISPLAY.get(words[0] if words else "", "css-display")
    if prop and f"css-{prop}" in features:
        return f"css-{prop}"
    for pattern, slug in _ALIASES:
        match = re.fullmatch(pattern, prop)
        if match:
            return match.expand(slug) if match.expand(slug) in features else None
    return None


def _at_rule_slugs(prelude: str) -> list[str]:
    name = re.match(r"@(?:-[a-z]+-)?([a-z-]*)", prelude.lower()).group(1)
    if name == "media":
        return ["css-at-media"] + [slug for pattern, slug in _MEDIA_FEATURES
                                   if re.search(pattern, prelude, re.I)]
    return [_AT_RULES[name]] if name in _AT_RULES else []


def _lacking(features: dict, use: CssUse) -> list[str]:
    """Clients whose newest test says "n", except where an @-rule around it is "n" already."""
    support = features.get(use.slug, {}).get("support", {})
    clients = []
    for client, (_, result) in support.items():
        ignored_around = any(features.get(outer, {}).get("support", {}).get(client, ["", ""])[1]
                             .startswith("n") for outer in use.inside)
        if result.startswith("n") and not ignored_around:
            clients.append(client)
    return clients


def _finding(data: dict, slug: str, name: str, where: str, clients: list[str]) -> Finding:
    order = list(data["clients"])
    names = [data["clients"][c] for c in sorted(clients, key=order.index)]
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    date = data["source"]["data_date"][:10]
    return finding(
        "warning", where,
        f"CSS '{name}' is not supported by {listed} (caniemail, data of {date})",
        f"where it is not supported it degrades to {_DEGRADES.get(slug, _DEGRADES_OTHERWISE)}; "
        f"accept it in newsletter.yaml under check.accepted_css as {slug} if that is fine",
        "css-support")


def _stale_acceptances(features: dict, accepted: dict[str, str],
                       needed: set[str]) -> list[Finding]:
    """An accepted slug that is misspelt (a warning) or that nothing needs any more (a note)."""
    findings = []
    for slug in sorted(accepted):
        if slug not in features:
            findings.append(finding(
                "warning", "newsletter.yaml",
                f"check.accepted_css: '{slug}' is not a caniemail CSS feature",
                "use a slug from the check's own warnings, such as css-border-radius",
                "css-support"))
        elif slug not in needed:
            findings.append(finding(
                "note", "newsletter.yaml",
                f"check.accepted_css: '{slug}' is accepted, but no template needs it any more",
                "remove the entry, so a new use of it is reported again", "css-support"))
    return findings


def _blank(match: re.Match) -> str:
    """Spaces in place of the match, newlines kept, so offsets and lines stay true."""
    return re.sub(r"[^\n]", " ", match.group(0))


def _blank_inside(match: re.Match) -> str:
    """A quoted string with its content blanked: ';' or '{' inside it ends nothing."""
    text = match.group(0)
    return text[0] + re.sub(r"[^\n]", "x", text[1:-1]) + text[-1]


@rule("css-support", stages=(CHECK,), order=130)
def _css_support(context: CheckContext) -> list[Finding]:
    return check_template_css(context.templates, context.project.config.check.accepted_css)

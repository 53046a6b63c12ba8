"""Markdown -> email HTML and -> plain text, from the same markdown-it token stream."""

from __future__ import annotations

import re
import textwrap
import unicodedata
from functools import lru_cache

from markdown_it import MarkdownIt
from markdown_it.token import Token
from markupsafe import Markup

# The text part's width: Claws Mail and others re-wrap at 72, which would cut a longer line
# (and an editor's-note bar) in two; within 72, a re-wrap finds nothing to change.
TEXT_WIDTH = 72


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    # Raw HTML off: content must never be able to add markup or script to an email.
    # Images off: an image in Markdown would be fetched from wherever it points when
    # the email opens; chunk images go through front matter, where their host is checked.
    # xhtmlOut: MRML parses the result as XML, so void tags must self-close.
    md = MarkdownIt("commonmark", {"html": False, "xhtmlOut": True, "breaks": False})
    return md.disable("image")


def markdown_links(source: str) -> list[tuple[str, int]]:
    """Every link target in `source` with its 0-based line, for validating before rendering."""
    links = []
    for block in _parser().parse(source):
        for token in block.children or []:
            if token.type == "link_open":
                links.append((str(token.attrGet("href") or ""), block.map[0] if block.map else 0))
    return links


def markdown_to_html(source: str, link_class: str = "ms-link") -> Markup:
    """Render Markdown to HTML safe to place inside an MJML <mj-text>."""
    md = _parser()
    tokens = md.parse(source)
    for token in _walk(tokens):
        if token.type == "link_open":
            token.attrSet("class", link_class)
    return Markup(md.renderer.render(tokens, md.options, {}))


def markdown_to_text(source: str, width: int = TEXT_WIDTH) -> str:
    """Render Markdown as readable plain text: links shown as URLs, wrapped at `width`."""
    blocks: list[str] = []
    list_stack: list[list] = []  # [ordered?, next number, items so far]
    quote_depth = 0
    tight = False  # inside a paragraph of a tight list: items follow each other line by line
    for token in _parser().parse(source):
        if token.type == "paragraph_open":
            tight = token.hidden
        elif token.type in ("bullet_list_open", "ordered_list_open"):
            list_stack.append([token.type == "ordered_list_open", int(token.attrGet("start") or 1),
                               0])
        elif token.type in ("bullet_list_close", "ordered_list_close"):
            list_stack.pop()
        elif token.type == "blockquote_open":
            quote_depth += 1
        elif token.type == "blockquote_close":
            quote_depth -= 1
        elif token.type == "hr":
            blocks.append("-" * 20)
        elif token.type in ("code_block", "fence"):
            blocks.append(textwrap.indent(token.content.rstrip("\n"), "    "))
        elif token.type == "inline":
            block = _wrap_block(inline_text(token.children or []), list_stack, quote_depth, width)
            if tight and blocks and list_stack and (list_stack[-1][2] > 1 or len(list_stack) > 1):
                blocks[-1] += "\n" + block
            else:
                blocks.append(block)
            tight = False
        elif token.type == "heading_close" and blocks:
            blocks[-1] = underline(blocks[-1], "=" if token.tag in ("h1", "h2") else "-", width)
    return "\n\n".join(block for block in blocks if block) + "\n"


def underline(heading: str, rule: str, width: int = TEXT_WIDTH) -> str:
    """A heading as its text underlined, so it reads as a heading in any font."""
    if not heading.strip():
        return heading
    longest = max(display_width(line) for line in heading.splitlines())
    return heading + "\n" + rule * min(width, longest)


def _wrap_block(text: str, list_stack: list[list], quote_depth: int, width: int) -> str:
    prefix = "> " * quote_depth
    if list_stack:
        ordered, number, _ = list_stack[-1]
        marker = f"{number}. " if ordered else "- "
        list_stack[-1][1] += 1
        list_stack[-1][2] += 1
        indent = "  " * (len(list_stack) - 1)
        return wrap(text, width, prefix + indent + marker, prefix + indent + " " * len(marker))
    return wrap(text, width, prefix, prefix)


def inline_text(children: list[Token]) -> str:
    """Flatten inline tokens to text; a link reads 'label <url>' unless the label is the URL."""
    out: list[str] = []
    link_stack: list[tuple[str, int]] = []
    for child in children:
        if child.type in ("text", "code_inline", "html_inline"):
            out.append(child.content)
        elif child.type in ("softbreak",):
            out.append(" ")
        elif child.type == "hardbreak":
            out.append("\n")
        elif child.type == "link_open":
            link_stack.append((str(child.attrGet("href") or ""), len(out)))
        elif child.type == "link_close" and link_stack:
            href, start = link_stack.pop()
            label = "".join(out[start:]).strip()
            if href and href not in (label, f"mailto:{label}"):
                out.append(f" <{href}>")
        elif child.type == "image":
            alt = "".join(c.content for c in child.children or [])
            out.append(f"[{alt}]" if alt else "")
    return "".join(out)


def wrap(text: str, width: int = TEXT_WIDTH, initial: str = "", subsequent: str = "") -> str:
    """Wrap text at `width` screen columns, greedily, never breaking a URL.

    Columns, not characters: CJK characters take two columns and may break
    between any two of them. A word longer than a whole line is cut where the line
    ends, so a line stays within `width`; a URL or address longer than a line is
    never cut (the link would break) and gets a line of its own. Lines break at
    ASCII white space only, as textwrap and mail apps do: a no-break space holds.
    Greedy filling is what a mail app's re-wrap does, so within `width` it finds
    nothing to change.
    """
    lines = []
    for paragraph in text.split("\n"):
        line, used, empty = initial, display_width(initial), True
        for separator, piece in _pieces(paragraph):
            piece_width = display_width(piece)
            if not empty and used + len(separator) + piece_width > width:
                lines.append(line.rstrip())
                line, used, empty, separator = subsequent, display_width(subsequent), True, ""
            if empty:
                separator = ""
            while empty and used + piece_width > width and used < width and not _is_link(piece):
                head, piece = _cut(piece, width - used)
                lines.append((line + head).rstrip())
                line, used = subsequent, display_width(subsequent)
                piece_width = display_width(piece)
            line += separator + piece
            used += len(separator) + piece_width
            empty = False
        lines.append(line.rstrip())
        initial = subsequent
    return "\n".join(lines)


# What must never be cut in two: a link or an address, bracketed or bare.
_LINK = re.compile(r"(?i)<|[a-z][a-z0-9+.-]*:|www\.|\S*@")


def _is_link(piece: str) -> bool:
    return bool(_LINK.match(piece))


def _cut(piece: str, columns: int) -> tuple[str, str]:
    """The longest start of `piece` within `columns` (at least one character, combining
    marks kept with their letter), and the rest."""
    used = 0
    for index, char in enumerate(piece):
        char_width = display_width(char)
        if used + char_width > columns and index:
            return piece[:index], piece[index:]
        used += char_width
    return piece, ""


def _pieces(paragraph: str):
    """(separator, piece) pairs: words joined by a space; wide characters one by one, unjoined."""
    for word in re.split(r"[ \t\r\f\v]+", paragraph):
        if not word:
            continue
        separator = " "
        for piece in re.findall(r"[^\u1100-\uffff]+|.", word) if _has_wide(word) else [word]:
            yield separator, piece
            separator = ""


def _has_wide(text: str) -> bool:
    return any(unicodedata.east_asian_width(char) in "WF" for char in text)


def display_width(text: str) -> int:
    """Columns `text` takes in a monospaced font."""
    return sum(0 if unicodedata.combining(char) else
               2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def _walk(tokens: list[Token]):
    for token in tokens:
        yield token
        if token.children:
            yield from _walk(token.children)

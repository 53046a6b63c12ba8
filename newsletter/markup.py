"""Markdown -> email HTML and -> plain text, from the same markdown-it token stream."""

from __future__ import annotations

import textwrap
from functools import lru_cache

from markdown_it import MarkdownIt
from markdown_it.token import Token
from markupsafe import Markup

TEXT_WIDTH = 78


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    # Raw HTML off: content must never be able to add markup or script to an email.
    # xhtmlOut: MRML parses the result as XML, so void tags must self-close.
    return MarkdownIt("commonmark", {"html": False, "xhtmlOut": True, "breaks": False})


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
            blocks[-1] = _underline(blocks[-1], "=" if token.tag in ("h1", "h2") else "-", width)
    return "\n\n".join(block for block in blocks if block) + "\n"


def _underline(heading: str, rule: str, width: int) -> str:
    """A heading as its text underlined, so it reads as a heading in any font."""
    return heading + "\n" + rule * min(width, max(len(line) for line in heading.splitlines()))


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
    """Wrap text at `width`, never breaking a word or URL (a longer URL gets its own line)."""
    lines = []
    for paragraph in text.split("\n"):
        lines.extend(textwrap.wrap(paragraph, width, initial_indent=initial,
                                   subsequent_indent=subsequent, break_long_words=False,
                                   break_on_hyphens=False) or [initial.rstrip()])
        initial = subsequent
    return "\n".join(lines)


def _walk(tokens: list[Token]):
    for token in tokens:
        yield token
        if token.children:
            yield from _walk(token.children)

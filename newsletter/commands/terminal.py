"""The one way commands print: characters that steer a terminal are shown escaped, never sent.

Whatever a command prints can carry text from outside: a signup mail's subject, a name in a CSV,
a content file, newsletter.yaml, a path. An ESC or a C1 control there can retitle the terminal,
move the cursor or hide a line; a bidi control (RLO, U+202E) can show `moc.elpmaxe@` for
`example.com`. So every character in C0 (tab, CR and newline included), DEL, C1 and the bidi
controls is printed as a Python-style escape (`\\x1b`, `\\t`, `\\u202e`); everything else,
é, CJK and emoji included, prints as it is. A backslash already in the text is left alone:
escaping it would double every one in a Windows path, and a value can only fake an escape,
not steer the terminal.

One call of `echo` is one line: a newline inside the text is escaped too, so a value can never
start a line of its own that looks like ours. `echo_lines` prints several lines built by us.
Data meant for a program (`subscribers list --format json|csv`) has its own rules, below.
"""

from __future__ import annotations

import re
import sys

import click

# C0 (with tab, newline, CR), DEL, C1, and the bidi controls: embeddings and overrides
# (U+202A-U+202E), isolates (U+2066-U+2069), the marks LRM, RLM and ALM.
UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _escape_one(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def escape(text: str) -> str:
    """TEXT with every unsafe character (see the module docstring) as a visible escape."""
    return UNSAFE.sub(_escape_one, text)


def echo(text: str = "", *, err: bool = False) -> None:
    """Print TEXT as one line, escaped; to stderr with ERR."""
    click.echo(escape(text), err=err)


def echo_lines(text: str, *, err: bool = False) -> None:
    """Print TEXT, several lines we built (a table, a record, HTML), each line escaped."""
    for line in _lines(text):
        echo(line, err=err)


def echo_json(text: str) -> None:
    """JSON for a program: unsafe characters as `\\uXXXX` escapes, which decode to the same value.

    json.dumps escapes C0 itself (a newline left is the layout's) but leaves DEL, C1 and the
    bidi controls raw; they can only be inside strings, where `\\u202e` is the same character,
    so the data is unchanged.
    """
    click.echo(_JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text), nl=False)


def echo_csv(text: str) -> None:
    """CSV for a program: as it is into a file or a pipe, escaped like the rest on a terminal.

    CSV has no escapes of its own, and a name with an RLO is still a valid name: a program reading
    the CSV gets the value unchanged. A terminal would obey it, so there (and only there) each
    line is escaped; a newline quoted inside a field then shows as the row's next line.
    """
    if _is_terminal():
        echo_lines(text)
    else:
        click.echo(text, nl=False)


def _lines(text: str) -> list[str]:
    # Only at newlines: str.splitlines() also splits at CR, VT, FF, U+0085, U+2028..., which
    # must be shown escaped, not taken as line ends.
    lines = text.split("\n")
    return lines[:-1] if lines and lines[-1] == "" else lines


def _is_terminal() -> bool:
    return sys.stdout.isatty()
